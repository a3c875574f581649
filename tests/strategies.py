"""Hypothesis strategies for layer configurations (kept in one module, as attrs does)."""

from __future__ import annotations

from hypothesis import strategies as st

import layercalc as lc


@st.composite
def conv_cases(draw, ndim: int | None = None, max_size: int = 9):
    ndim = ndim or draw(st.integers(1, 3))
    groups = draw(st.integers(1, 3))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    ks = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    pad = tuple(draw(st.integers(0, 2)) for _ in range(ndim))
    dil = tuple(draw(st.integers(1, 2)) for _ in range(ndim))
    spatial = tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), max_size))
        for k, p, d in zip(ks, pad, dil)
    )
    if ndim == 3:  # keep the brute force small
        spatial = tuple(min(n, max(1, d * (k - 1) + 1 - 2 * p) + 2)
                        for n, k, p, d in zip(spatial, ks, pad, dil))
    bias = draw(st.booleans())
    cls = {1: lc.Conv1d, 2: lc.Conv2d, 3: lc.Conv3d}[ndim]
    layer = cls(cin, cout, ks, stride, pad, dil, groups, bias)
    return layer, (cin, *spatial)


@st.composite
def conv_transpose_cases(draw, ndim: int | None = None, max_size: int = 6):
    ndim = ndim or draw(st.integers(1, 2))
    groups = draw(st.integers(1, 2))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    ks = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    dil = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    out_pad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dil))
    pad = tuple(draw(st.integers(0, 2)) for _ in range(ndim))
    spatial = tuple(draw(st.integers(1, max_size)) for _ in range(ndim))
    # keep only configurations whose output is non-empty
    for n, k, s, p, d, op in zip(spatial, ks, stride, pad, dil, out_pad):
        if (n - 1) * s - 2 * p + d * (k - 1) + op + 1 < 1:
            pad = tuple(0 for _ in pad)
            break
    bias = draw(st.booleans())
    cls = {1: lc.ConvTranspose1d, 2: lc.ConvTranspose2d}[ndim]
    layer = cls(cin, cout, ks, stride, pad, out_pad, groups, bias, dil)
    return layer, (cin, *spatial)


# -- issue 14: generic strategies for every registered layer ---------------------------------
# The fuzz test (tests/test_fuzz.py) builds every layer in ``layercalc.LAYERS`` from its
# dataclass fields alone: the metadata `dim()`, `dims()`, `choice()`, `flag()`, `real()` and
# `probability()` record (``kind``, ``minimum``, ``optional``, ``options`` ...), the defaults and
# the type hints. So a layer another engineer adds is fuzzed without an edit here. Only layers
# whose constructor is not their dataclass fields need an entry in `STRUCTURED`.
import dataclasses  # noqa: E402
import inspect  # noqa: E402
import math  # noqa: E402

import sympy as sp  # noqa: E402

H, W, C = lc.symbols("H W C")
SYMBOLIC = [H, W, C, H + 1, 2 * C, sp.ceiling(H / 2), sp.floor((W - 1) / 3) + 1]
HUGE = [2**31, 2**40, 2**62, 10**18, 10**29, 10**30]
#: values no size may take: each must be rejected with a LayerCalcError
JUNK = [0, -1, -7, 2.0, 2.5, float("nan"), float("inf"), 1j, "3", b"3", "x", True, False,
        None, [2], (), {}, object(), sp.Rational(1, 2), sp.pi, sp.oo, sp.zoo, sp.nan,
        sp.Float(2.0), -H, H - H - 1, sp.sin(H), sp.Eq(H, 2), 10**31, 10**5000]


def small_sizes(minimum: int = 1):
    return st.integers(minimum, minimum + 7)


def size_values(minimum: int | None = 1, junk: float = 0.15):
    """Mostly small valid sizes, some symbols and huge values, and `junk` of junk."""
    valid = st.one_of(small_sizes(minimum if minimum is not None else 1),
                      st.sampled_from(SYMBOLIC), st.sampled_from(HUGE))
    if minimum is None:
        valid = st.one_of(valid, st.integers(-4, 4))
    return st.one_of(valid, valid, valid, st.sampled_from(JUNK)) if junk else valid


def real_values(meta: dict):
    lo = meta.get("minimum")
    hi = meta.get("maximum")
    lo_f = float(lo) if lo is not None else -10.0
    hi_f = float(hi) if hi is not None else 10.0
    valid = st.one_of(st.floats(lo_f, hi_f), st.integers(int(math.ceil(lo_f)), int(hi_f)))
    junk = st.sampled_from(["0.1", None, True, 1j, float("nan"), float("inf"), [0.1],
                            sp.Symbol("e"), lo_f - 1, hi_f + 1, object()])
    return st.one_of(valid, valid, valid, junk)


def field_values(f: dataclasses.Field, ndim: int):
    """A strategy of values for dataclass field `f` of a layer with `ndim` spatial axes."""
    meta = dict(f.metadata)
    kind = meta.get("kind")
    extra = []
    if meta.get("optional"):
        extra.append(st.none())
    if meta.get("options") and kind != "choice":
        extra.append(st.sampled_from(meta["options"]))
    if kind == "dim":
        base = size_values(meta.get("minimum", 1))
    elif kind == "dims":
        one = size_values(meta.get("minimum", 1))
        per = meta.get("per_axis", 1)
        n = max(1, ndim) * per if per is not None else None
        lengths = st.integers(1, 4) if n is None else st.sampled_from([n, n, n, 1, n + 1])
        base = st.one_of(one, lengths.flatmap(lambda k: st.tuples(*[one] * k)))
    elif kind == "choice":
        base = st.one_of(st.sampled_from(meta["options"]), st.sampled_from(meta["options"]),
                         st.sampled_from(["nope", None, 1, 1.5]))
    elif kind == "flag":
        base = st.one_of(st.booleans(), st.booleans(), st.booleans(),
                         st.sampled_from([0.5, "False", 2, [True]]))
    elif kind == "real":
        base = real_values(meta)
    else:  # no metadata: perturb the default, guided by the type hint
        default = f.default if f.default is not dataclasses.MISSING else None
        hint = str(f.type)
        if hint in ("int", "Dim") or type(default) is int:
            base = st.one_of(st.just(default), st.integers(-4, 4), st.sampled_from(JUNK))
        elif hint == "float" or isinstance(default, float):
            base = st.one_of(st.just(default), st.floats(-2, 2), st.sampled_from(JUNK))
        elif hint == "bool" or isinstance(default, bool):
            base = st.one_of(st.booleans(), st.sampled_from(JUNK))
        elif hint == "str" or isinstance(default, str):
            base = st.one_of(st.just(default), st.sampled_from(["", "nope", None, 3]))
        else:
            base = st.one_of(st.just(default), st.integers(-4, 8), st.sampled_from(SYMBOLIC),
                             st.sampled_from(JUNK))
    return st.one_of(base, *extra) if extra else base


@st.composite
def reshape_layers(draw):
    entries = st.one_of(st.integers(1, 8), st.just(-1), st.sampled_from(SYMBOLIC),
                        st.sampled_from(JUNK))
    return lc.Reshape(*draw(st.lists(entries, min_size=0, max_size=4)))


@st.composite
def resize_layers(draw, cls):
    """Upsample and its aliases: exactly one of size and scale_factor (or a junk mix)."""
    scale = st.one_of(st.integers(1, 3), st.sampled_from([0.5, 1.5, 2.0, sp.Rational(3, 2)]),
                      st.sampled_from(JUNK))
    which = draw(st.sampled_from(["size", "scale", "both", "neither"]))
    kw = {}
    if which in ("size", "both"):
        kw["size"] = draw(st.one_of(size_values(), st.tuples(size_values(), size_values())))
    if which in ("scale", "both"):
        kw["scale_factor"] = draw(st.one_of(scale, st.tuples(scale, scale)))
    if cls is lc.Upsample:
        kw["mode"] = draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear",
                                           "bicubic", "trilinear", "area"]))
        kw["align_corners"] = draw(st.sampled_from([None, None, True, False, "a"]))
    return cls(**kw)


@st.composite
def opaque_layers(draw):
    """Opaque: an op name and one output shape or several (or junk in either)."""
    entry = st.one_of(st.integers(1, 9), st.sampled_from(SYMBOLIC), st.sampled_from(JUNK))
    shape = st.lists(entry, min_size=0, max_size=3).map(tuple)
    out = draw(st.one_of(shape, shape, st.lists(shape, min_size=1, max_size=3).map(tuple),
                         st.sampled_from(JUNK)))
    op = draw(st.sampled_from(["torch.fft.rfft2", "onnx::DFT", "", None, 3, "a\nb"]))
    kw = {} if draw(st.booleans()) else {"params": draw(entry)}
    return lc.Opaque(op, out, **kw)


#: Layers whose constructor arguments are not just their dataclass fields.
STRUCTURED = {
    "Opaque": opaque_layers(),
    "Reshape": reshape_layers(),
    "Upsample": resize_layers(lc.Upsample),
    "UpsamplingNearest2d": resize_layers(lc.UpsamplingNearest2d),
    "UpsamplingBilinear2d": resize_layers(lc.UpsamplingBilinear2d),
}


@st.composite
def any_layer(draw, name: str):
    """``(layer, None)`` or ``(None, the LayerCalcError raised constructing it)`` for the
    registered layer `name`, from generated keyword arguments."""
    cls = lc.LAYERS[name]
    if name in STRUCTURED:
        try:
            return draw(STRUCTURED[name]), None
        except lc.LayerCalcError as e:
            return None, e
    kw = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required or draw(st.integers(0, 2)) == 0:  # keep most defaults: valid layers
            kw[f.name] = draw(field_values(f, getattr(cls, "ndim", 0)))
    try:
        return cls(**kw), None
    except lc.LayerCalcError as e:
        return None, e


def _pool(layer) -> list:
    """Sizes an input may take: the layer's own size fields (so channel checks pass often),
    small numbers and symbols."""
    own = []
    for f in dataclasses.fields(layer):
        v = getattr(layer, f.name)
        for x in (v if isinstance(v, tuple) else (v,)):
            if (type(x) is int and 1 <= x <= 10**6) or isinstance(x, sp.Expr):
                own.append(x)
    return own


@st.composite
def input_shapes(draw, layer):
    """One or more input shapes for `layer`: as many as its ``cost`` signature takes."""
    own = _pool(layer)
    entry = st.one_of(st.integers(1, 9), st.integers(1, 9), st.sampled_from(SYMBOLIC[:4]),
                      st.sampled_from(HUGE), st.sampled_from(JUNK),
                      *([st.sampled_from(own)] * 3 if own else []))
    ndim = getattr(layer, "ndim", 0) or draw(st.integers(0, 3))
    rank = draw(st.sampled_from([ndim + 1, ndim + 1, ndim + 1, 1, 2, ndim + 2, 0]))

    def shape():
        s = tuple(draw(entry) for _ in range(rank))
        if draw(st.integers(0, 9)) == 0:
            return draw(st.sampled_from([None, "3x224x224", 3, [3, 4], (3, (4, 5)), 2.0]))
        return s

    params = list(inspect.signature(layer.cost).parameters.values())
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        count = draw(st.sampled_from([2, 2, 3, 1]))
        return [shape() for _ in range(count)]
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in params if p.default is p.empty and p.kind in positional]
    optional = [p for p in params[1:] if p.default is None and p.kind is p.POSITIONAL_OR_KEYWORD
                and "bool" not in str(p.annotation)]
    return [shape() for _ in range(max(1, len(required)) + draw(st.integers(0, len(optional))))]
