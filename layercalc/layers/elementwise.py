"""Structural layers: Identity, Dropout, Flatten, Reshape, broadcasting Add/Mul/Sub/Div, Concat,
Upsample and zero/constant padding.

Multi-input layers (`Add`, `Mul`, `Concat`) are variadic: ``output_shape(*shapes)`` and
``cost(*shapes)`` take two or more batch-free input shapes, one per input tensor, as
`layercalc.network` calls them for residual adds and `Parallel` merges.

Views (Identity, Dropout in eval mode, Flatten, Reshape) do no arithmetic and move no data: the
consumer reads the same elements. Layers that materialise a new tensor (Add, Mul, Concat,
Upsample, padding) read each input element once and write each output element once.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field
from fractions import Fraction
from typing import Any, ClassVar

import sympy as sp

from ..cost import Cost
from ..dims import (
    MAX_SIZE, Dim, as_count, as_dim, as_index, as_real, eq, exact_div, fdiv, fmt, ge, prod,
    require, show, smax, to_expr, truth,
)
from ..errors import LayerSpecError, ShapeError
from ._base import AXIS_NAMES, Layer, choice, flag, probability, real
from .structure import broadcast_assumption, equality_assumptions

__all__ = [
    "Identity", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "Flatten", "Reshape",
    "Add", "Mul", "Sub", "Div", "Concat", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d",
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
]


# -- no-ops ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Identity(Layer):
    """``torch.nn.Identity``: returns its input. No ops, no traffic.

    >>> Identity().cost((64, 56, 56))
    Cost()
    """

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        return self._input(x)

    def cost(self, x: Any) -> Cost:
        self.output_shape(x)
        return Cost()


@dataclass(frozen=True)
class Dropout(Identity):
    """``torch.nn.Dropout(p)`` at inference (eval mode), where it is the identity: no ops, no
    reads, no writes. (Training-mode masking is not modelled: costs are of a forward pass in
    eval mode.) ``p`` must lie in ``[0, 1]``.

    >>> Dropout(0.2).cost((4096,))
    Cost()
    """

    p: float = probability(0.5)
    inplace: bool = flag(False)


@dataclass(frozen=True)
class Dropout1d(Dropout):
    """``torch.nn.Dropout1d``: identity at inference, as `Dropout`."""


@dataclass(frozen=True)
class Dropout2d(Dropout):
    """``torch.nn.Dropout2d``: identity at inference, as `Dropout`."""


@dataclass(frozen=True)
class Dropout3d(Dropout):
    """``torch.nn.Dropout3d``: identity at inference, as `Dropout`."""


@dataclass(frozen=True)
class StochasticDepth(Identity):
    """``torchvision.ops.StochasticDepth(p, mode)`` (Huang et al. 2016, "Deep Networks with
    Stochastic Depth"; torchvision's EfficientNet, ConvNeXt, Swin, MaxViT) at inference
    (eval mode), where it is the identity: no ops, no reads, no writes.

    In training it multiplies its input by a per-sample ("row") or per-batch ("batch")
    Bernoulli mask scaled by ``1/(1 - p)``: one multiply per element. That is training-mode
    work and is not part of an eval forward pass; a training analysis counts it (with its
    mask). ``p`` must lie in ``[0, 1]``, ``mode`` is ``"row"`` or ``"batch"``.

    >>> StochasticDepth(0.1, "row").cost((96, 56, 56))
    Cost()
    """

    p: float = probability(MISSING)
    mode: str = choice(MISSING, ("row", "batch"))


# -- views -------------------------------------------------------------------------------------
def _int_field(name: str, value: Any, kind: str) -> int:
    return as_index(value, kind, name)


@dataclass(frozen=True)
class Flatten(Layer):
    """``torch.nn.Flatten(start_dim, end_dim)``: merges axes ``start_dim..end_dim``. A view: no
    ops, no traffic.

    The dims are PyTorch's, which count the batch as dim 0. Shapes here exclude the batch, so
    ``start_dim=1`` (the default) is the *first* axis of the batch-free shape, and
    ``Flatten()`` turns ``(C, H, W)`` into ``(C*H*W,)``. Negative dims count from the end as
    usual. ``start_dim=0`` would merge the batch into the features and is rejected.

    >>> Flatten().output_shape((512, 7, 7))
    (25088,)
    >>> Flatten(2).output_shape((8, 4, 4))
    (8, 16)
    """

    start_dim: int = 1
    end_dim: int = -1

    def check(self) -> None:
        for name in ("start_dim", "end_dim"):
            v = _int_field(name, getattr(self, name), self.kind)
            object.__setattr__(self, name, v)
            if v == 0:
                raise LayerSpecError(
                    self.kind, f"{name} (=0) is the batch axis; shapes here exclude the batch",
                    "start_dim=1 is the first axis of the batch-free shape.")

    def _axis(self, name: str, d: int, shape: tuple[Dim, ...]) -> int:
        r = len(shape)
        if not -r <= d <= r:
            raise ShapeError(self.kind, f"{name} (={d}) is out of range for input shape "
                             f"{fmt(shape)} (batch excluded); valid: 1..{r} or -{r}..-1")
        return d - 1 if d > 0 else r + d

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, min_rank=1)
        s = self._axis("start_dim", self.start_dim, shape)
        e = self._axis("end_dim", self.end_dim, shape)
        if s > e:
            raise ShapeError(self.kind, f"start_dim (={self.start_dim}) comes after end_dim "
                             f"(={self.end_dim}) for input shape {fmt(shape)}")
        return (*shape[:s], prod(shape[s:e + 1]), *shape[e + 1:])

    def cost(self, x: Any) -> Cost:
        self.output_shape(x)
        return Cost()


@dataclass(frozen=True, init=False)
class Reshape(Layer):
    """``x.reshape(batch, *shape)``: a view with a new batch-free shape; one entry may be -1
    (inferred). No ops, no traffic (as ``torch.reshape`` of a contiguous tensor).

    ``Reshape(4, -1)`` and ``Reshape((4, -1))`` are the same layer. The element count must be
    preserved (checked when it is decidable).

    >>> Reshape(-1, 49).output_shape((512, 7, 7))
    (512, 49)
    """

    shape: tuple = ()

    def __init__(self, *shape: Any) -> None:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        object.__setattr__(self, "shape", tuple(shape))
        self.__post_init__()

    def check(self) -> None:
        if not self.shape:
            raise LayerSpecError(self.kind, "shape must have at least one entry")
        out = []
        for v in self.shape:
            if type(v) is int and v == -1:
                out.append(-1)
            else:
                out.append(as_dim(v, self.kind, "shape entry"))
        if out.count(-1) > 1:
            raise LayerSpecError(self.kind, f"only one entry of shape (={fmt(self.shape)}) "
                                 "may be -1")
        object.__setattr__(self, "shape", tuple(out))

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x)
        n = prod(shape)
        known = prod(v for v in self.shape if not (type(v) is int and v == -1))
        if -1 in [v for v in self.shape if type(v) is int]:
            fill = exact_div(n, known)
            ok = not (isinstance(fill, sp.Basic) and fill.is_integer is False)
            require(ok, self.kind,
                    f"cannot reshape input shape {fmt(shape)} ({n} elements) into "
                    f"{fmt(self.shape)}: {n} is not divisible by {known}", error=ShapeError)
            return tuple(fill if (type(v) is int and v == -1) else v for v in self.shape)
        require(eq(n, known), self.kind,
                f"cannot reshape input shape {fmt(shape)} ({n} elements) into "
                f"{fmt(self.shape)} ({known} elements)", error=ShapeError)
        return self.shape

    def cost(self, x: Any) -> Cost:
        self.output_shape(x)
        return Cost()


# -- multi-input -------------------------------------------------------------------------------
class _MultiInput(Layer):
    """Shared input handling of the variadic layers."""

    def _inputs(self, shapes: tuple) -> list[tuple[Dim, ...]]:
        if len(shapes) < 2:
            raise ShapeError(self.kind, f"needs at least 2 input shapes, got {len(shapes)}",
                             "Pass one shape per input: layer.cost(shape_a, shape_b, ...).")
        return [self._input(s) for s in shapes]


def broadcast_shapes(kind: str, shapes: list[tuple[Dim, ...]]) -> tuple[Dim, ...]:
    """NumPy/PyTorch broadcasting of batch-free shapes (right-aligned; a size-1 axis
    broadcasts). Sizes that are undecided symbols are assumed compatible and give
    ``Max(a, b)``, which is right whether they are equal or one of them is 1."""
    r = max(len(s) for s in shapes)
    out: list[Dim] = []
    for i in range(1, r + 1):
        size: Dim = 1
        owner: tuple[Dim, ...] | None = None
        for s in shapes:
            if len(s) < i:
                continue
            v = s[-i]
            if type(v) is int and v == 1:
                continue
            if owner is None or (type(size) is int and size == 1):
                size, owner = v, s
                continue
            same = truth(eq(size, v))
            if same is True:
                continue
            if same is False and not (isinstance(v, sp.Basic) or isinstance(size, sp.Basic)):
                raise ShapeError(kind, f"input shapes {fmt(owner)} and {fmt(s)} cannot be "
                                 f"broadcast: sizes {size} and {v} at axis -{i}")
            if same is False and truth(eq(v, 1)) is False and truth(eq(size, 1)) is False:
                raise ShapeError(kind, f"input shapes {fmt(owner)} and {fmt(s)} cannot be "
                                 f"broadcast: sizes {size} and {v} at axis -{i}")
            size = smax(size, v)
        out.append(size)
    return tuple(reversed(out))


@dataclass(frozen=True)
class _Broadcasting(_MultiInput):
    op: ClassVar[str] = "add"

    def output_shape(self, *shapes: Any) -> tuple[Dim, ...]:
        return broadcast_shapes(self.kind, self._inputs(shapes))

    def cost(self, *shapes: Any) -> Cost:
        ins = self._inputs(shapes)
        y = broadcast_shapes(self.kind, ins)
        n = prod(y)
        k = len(ins)
        return Cost(
            ops={self.op: (k - 1) * n},
            act_reads=as_count(sum(prod(s) for s in ins)),
            writes=n,
            tap_reads=k * n,  # without reuse, each output reads one element of every input
        )

    def assumptions(self, *shapes: Any) -> tuple:
        """The broadcasting condition ``Eq(a, b) | Eq(a, 1) | Eq(b, 1)`` of every axis whose
        sizes are undecided (the output size there is ``Max(a, b)``)."""
        ins = self._inputs(shapes)
        out: list = []
        for s in ins[1:]:
            for i in range(1, min(len(ins[0]), len(s)) + 1):
                for rel in broadcast_assumption(ins[0][-i], s[-i]):
                    if rel not in out:
                        out.append(rel)
        return tuple(out)


@dataclass(frozen=True)
class Add(_Broadcasting):
    """Elementwise sum of ``k >= 2`` inputs with NumPy/PyTorch broadcasting (``a + b + ...``):
    ``output_shape(*shapes)``, ``cost(*shapes)``.

    Counts: ``(k - 1) * prod(out)`` adds. Memory: ``act_reads`` = the sum of the input sizes
    (each read once; a broadcast input is read once, not once per use), ``writes`` =
    ``prod(out)``; ``tap_reads = k * prod(out)`` (no reuse).

    References
    ==========
    .. [1] NumPy, "Broadcasting" (general broadcasting rules); PyTorch, "Broadcasting
       semantics".

    >>> Add().cost((64, 56, 56), (64, 56, 56)).ops["add"]  # a ResNet shortcut
    200704
    >>> Add().output_shape((3, 1, 5), (4, 1))
    (3, 4, 5)
    """

    op = "add"


@dataclass(frozen=True)
class Mul(_Broadcasting):
    """Elementwise product of ``k >= 2`` inputs with broadcasting, as `Add` but with
    ``(k - 1) * prod(out)`` muls. Squeeze-and-excitation scales ``(C, H, W)`` by ``(C, 1, 1)``.

    >>> c = Mul().cost((64, 1, 1), (64, 56, 56))
    >>> c.ops["mul"], c.act_reads, c.writes
    (200704, 200768, 200704)
    """

    op = "mul"


@dataclass(frozen=True)
class Sub(_Broadcasting):
    """``a - b`` with broadcasting, as `Add` (a subtraction counts as an ``add`` op):
    ``(k - 1) * prod(out)`` adds for ``a - b - ...``.

    >>> Sub().cost((8, 4, 4), (8, 1, 1)).ops["add"]
    128
    """

    op = "add"


@dataclass(frozen=True)
class Div(_Broadcasting):
    """``a / b`` with broadcasting, as `Mul` but with ``(k - 1) * prod(out)`` divides.

    >>> Div().cost((8, 4, 4), (8, 4, 4)).ops["div"]
    128
    """

    op = "div"


@dataclass(frozen=True)
class Concat(_MultiInput):
    """``torch.cat`` of ``k >= 2`` inputs along `dim`: ``output_shape(*shapes)``,
    ``cost(*shapes)``.

    `dim` indexes the *batch-free* shape: the default ``dim=0`` is the channel axis (PyTorch's
    ``dim=1`` on a batched tensor, as in Inception and DenseNet). Negative values count from
    the end. All inputs have the same rank and agree on every other axis.

    No arithmetic; the result is a new tensor, so every input element is read once and every
    output element written once (a copy).

    >>> c = Concat().cost((64, 28, 28), (32, 28, 28))
    >>> Concat().output_shape((64, 28, 28), (32, 28, 28)), c.act_reads, c.writes
    ((96, 28, 28), 75264, 75264)
    """

    dim: int = 0

    def check(self) -> None:
        object.__setattr__(self, "dim", _int_field("dim", self.dim, self.kind))

    def output_shape(self, *shapes: Any) -> tuple[Dim, ...]:
        ins = self._inputs(shapes)
        first = ins[0]
        r = len(first)
        for s in ins[1:]:
            if len(s) != r:
                raise ShapeError(self.kind, f"input shapes {fmt(first)} and {fmt(s)} have "
                                 "different ranks")
        if not -r <= self.dim < r:
            raise ShapeError(self.kind, f"dim (={self.dim}) is out of range for input shape "
                             f"{fmt(first)} (batch excluded); valid: 0..{r - 1} or -{r}..-1")
        ax = self.dim % r
        for s in ins[1:]:
            for i in range(r):
                if i != ax:
                    require(eq(first[i], s[i]), self.kind,
                            f"input shapes {fmt(first)} and {fmt(s)} differ at axis {i} "
                            f"(concatenating along axis {ax})", error=ShapeError)
        total = as_count(sum(s[ax] for s in ins))
        return (*first[:ax], total, *first[ax + 1:])

    def cost(self, *shapes: Any) -> Cost:
        y = self.output_shape(*shapes)
        return Cost(act_reads=as_count(sum(prod(self._input(s)) for s in shapes)),
                    writes=prod(y))

    def assumptions(self, *shapes: Any) -> tuple:
        """``Eq(a, b)`` for every axis but `dim` whose sizes are undecided."""
        ins = self._inputs(shapes)
        return equality_assumptions(ins, self.dim % len(ins[0]))


# -- upsampling --------------------------------------------------------------------------------
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear")
#: spatial rank each interpolating mode needs
_MODE_NDIM = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _interp_ops(mode: str, nsp: int) -> tuple[dict[str, int], int]:
    """Ops and taps (input elements combined) per output element."""
    if mode in ("nearest", "nearest-exact"):
        return {}, 1
    if mode == "bicubic":  # 4 row cubics + 1 column cubic, each a 4-term weighted sum
        return {"mul": 20, "add": 15}, 16
    taps = 2 ** nsp  # d-linear as a weighted sum over the 2^d corners, PyTorch's form
    return {"mul": 2 * (taps - 1), "add": taps - 1}, taps


def _scale(value: Any, kind: str) -> Any:
    """A scale factor: a finite positive real (`as_real`), floats converted exactly."""
    value = as_real(value, kind, "scale_factor")
    if isinstance(value, sp.Basic) and not value.is_number:  # symbolic: no sin(H), no floats
        value = as_dim(value, kind, "scale_factor", minimum=None, integer=False)
    if isinstance(value, float):
        value = Fraction(value)  # exact: a float is a binary fraction
    if isinstance(value, Fraction):
        value = sp.Rational(value.numerator, value.denominator)
    if truth(to_expr(value) > 0) is False:
        raise LayerSpecError(kind, f"scale_factor (={value}) must be positive")
    if truth(to_expr(value) > MAX_SIZE) is True:
        raise LayerSpecError(kind, f"scale_factor (={show(value)}) must be at most 10**30")
    return value


@dataclass(frozen=True)
class _Resize(Layer):
    """Shared logic of `Upsample` and its fixed-mode aliases."""

    fixed_ndim: ClassVar[int | None] = None

    @property
    def _mode(self) -> str:
        return self.mode  # type: ignore[attr-defined]

    def check(self) -> None:
        size, scale = self.size, self.scale_factor  # type: ignore[attr-defined]
        if (size is None) == (scale is None):
            raise LayerSpecError(
                self.kind, "exactly one of size and scale_factor must be given, got "
                + ("both" if size is not None else "neither"))
        if size is not None:
            vals = size if isinstance(size, (tuple, list)) else (size,)
            object.__setattr__(self, "size", tuple(as_dim(v, self.kind, "size") for v in vals)
                               if isinstance(size, (tuple, list)) else as_dim(size, self.kind,
                                                                               "size"))
        else:
            object.__setattr__(self, "scale_factor",
                               tuple(_scale(v, self.kind) for v in scale)
                               if isinstance(scale, (tuple, list)) else _scale(scale, self.kind))

    def _per_axis(self, value: Any, nsp: int, name: str, shape: tuple) -> tuple:
        if not isinstance(value, tuple):
            return (value,) * nsp
        if len(value) != nsp:
            raise ShapeError(self.kind, f"{name} has {len(value)} values but input shape "
                             f"{fmt(shape)} has {nsp} spatial axes")
        return value

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        mode = self._mode
        if self.fixed_ndim is not None:
            shape = self._input(x, self.fixed_ndim + 1,
                                layout={2: "(C, H, W)"}.get(self.fixed_ndim, ""))
        elif mode in _MODE_NDIM:
            nd = _MODE_NDIM[mode]
            shape = self._input(x, nd + 1, layout=f"for mode={mode!r}")
        else:
            shape = self._input(x, min_rank=2)
            if len(shape) > 4:
                raise ShapeError(self.kind, f"expected 1 to 3 spatial axes after the channels, "
                                 f"got input shape {fmt(shape)}")
        nsp = len(shape) - 1
        if self.size is not None:  # type: ignore[attr-defined]
            out = self._per_axis(self.size, nsp, "size", shape)  # type: ignore[attr-defined]
        else:
            scales = self._per_axis(self.scale_factor, nsp, "scale_factor", shape)  # type: ignore
            out = tuple(fdiv_scale(n, s) for n, s in zip(shape[1:], scales))
            for axis, n, o in zip(AXIS_NAMES[nsp], shape[1:], out):
                require(ge(o, 1), self.kind, lambda: f"output size along {axis} would be "
                        f"{fmt(o)} for input size {fmt(n)}", error=ShapeError)
        return (shape[0], *out)

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        ops, taps = _interp_ops(self._mode, len(y) - 1)
        n = prod(y)
        return Cost(ops={k: v * n for k, v in ops.items()}, act_reads=prod(self._input(x)),
                    writes=n, tap_reads=taps * n)


def fdiv_scale(n: Dim, s: Any) -> Dim:
    """``floor(n * s)`` exactly, for an integer or rational scale."""
    if type(n) is int and type(s) is int:
        return n * s
    if isinstance(s, sp.Rational) and type(n) is int:
        return fdiv(n * int(s.p), int(s.q))
    return as_count(sp.floor(to_expr(n) * s))


@dataclass(frozen=True)
class Upsample(_Resize):
    """``torch.nn.Upsample``: input ``(C, *spatial)`` with 1 to 3 spatial axes; exactly one of
    ``size`` and ``scale_factor`` (a number or one per spatial axis). Output size per axis is
    ``size``, or ``floor(n * scale_factor)`` (PyTorch; floats are converted exactly).

    Ops per output element (computing source coordinates and weights is not counted; it is
    per axis, not per element):

    - ``nearest``, ``nearest-exact``: none (a gather), 1 input read.
    - ``linear`` / ``bilinear`` / ``trilinear`` (1, 2, 3 spatial axes): a weighted sum over
      the ``2^d`` corners, nested as PyTorch computes it (bilinear:
      ``h0*(w0*a + w1*b) + h1*(w0*c + w1*d)``): **2(2^d - 1) mul, 2^d - 1 add** (linear 2 mul
      1 add; bilinear 6 mul 3 add; trilinear 14 mul 7 add). The lerp form ``a + w*(b - a)``
      swaps the two counts; the total is the same.
    - ``bicubic``: four 4-tap cubics along the width, then one along the height: **20 mul,
      15 add**.

    Memory: ``act_reads`` = input elements, ``writes`` = output elements; ``tap_reads`` =
    corners per output times outputs.

    References
    ==========
    .. [1] PyTorch, ``torch.nn.Upsample`` documentation (output size ``floor(n * scale)``).
    .. [2] PyTorch, ``aten/src/ATen/native/UpSampleBilinear2d.cpp``.

    >>> Upsample(scale_factor=2, mode="bilinear").cost((256, 13, 13)).ops["mul"]
    1038336
    >>> Upsample(size=(5, 7)).output_shape((3, 2, 2))
    (3, 5, 7)
    >>> Upsample(scale_factor=1.5).output_shape((3, 5, 5))
    (3, 7, 7)
    """

    size: Any = None
    scale_factor: Any = None
    mode: str = choice("nearest", _MODES)
    align_corners: Any = flag(None, optional=True)
    recompute_scale_factor: Any = flag(None, optional=True)

    def check(self) -> None:
        if self.align_corners is not None and self.mode not in _MODE_NDIM:
            raise LayerSpecError(self.kind, f"align_corners (={self.align_corners!r}) needs "
                                 "mode 'linear', 'bilinear', 'bicubic' or 'trilinear'")
        super().check()


@dataclass(frozen=True)
class UpsamplingNearest2d(_Resize):
    """``torch.nn.UpsamplingNearest2d``: `Upsample` with ``mode='nearest'`` on ``(C, H, W)``.

    >>> UpsamplingNearest2d(scale_factor=2).cost((3, 4, 4)).writes
    192
    """

    size: Any = None
    scale_factor: Any = None
    fixed_ndim = 2

    @property
    def _mode(self) -> str:
        return "nearest"


@dataclass(frozen=True)
class UpsamplingBilinear2d(_Resize):
    """``torch.nn.UpsamplingBilinear2d``: `Upsample` with ``mode='bilinear',
    align_corners=True`` on ``(C, H, W)`` (6 mul, 3 add per output element).

    >>> UpsamplingBilinear2d(scale_factor=2).cost((1, 2, 2)).ops["add"]
    48
    """

    size: Any = None
    scale_factor: Any = None
    fixed_ndim = 2

    @property
    def _mode(self) -> str:
        return "bilinear"


# -- padding -----------------------------------------------------------------------------------
def _pad_field() -> Any:
    def convert(layer: Layer, name: str, value: Any) -> tuple[Dim, ...]:
        n = 2 * layer.ndim
        vals = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
        if len(vals) != n:
            raise LayerSpecError(layer.kind, f"padding must be one value or {n} values "
                                 f"(left, right{', top, bottom' if n > 2 else ''}"
                                 f"{', front, back' if n > 4 else ''}), got {fmt(vals)}")
        return tuple(as_dim(v, layer.kind, name, minimum=-(2 ** 62)) for v in vals)

    return field(metadata={"convert": convert, "kind": "dims", "minimum": None,
                           "per_axis": 2})


@dataclass(frozen=True)
class _PadNd(Layer):
    """Constant padding of the last ``ndim`` axes, PyTorch semantics.

    ``padding`` is one value or ``2*ndim`` values in PyTorch's order ``(left, right, top,
    bottom, front, back)``: the first pair pads the *last* axis (width), the next pair the one
    before (height), then depth. Negative padding crops. Input ``(C, *spatial)``.

    No arithmetic; the padded tensor is a new one: ``act_reads`` = input elements, ``writes``
    = output elements (the constant is written, not read).

    References
    ==========
    .. [1] PyTorch, ``torch.nn.ZeroPad2d`` and ``torch.nn.functional.pad`` documentation.
    """

    padding: Any = _pad_field()

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        layout = {1: "(C, L)", 2: "(C, H, W)", 3: "(C, D, H, W)"}[self.ndim]
        shape = self._input(x, self.ndim + 1, layout=layout)
        out = list(shape)
        for j in range(self.ndim):
            i = len(shape) - 1 - j
            o = as_count(shape[i] + self.padding[2 * j] + self.padding[2 * j + 1])
            axis = AXIS_NAMES[self.ndim][self.ndim - 1 - j]
            require(ge(o, 1), self.kind, f"output size along {axis} would be {o} for input "
                    f"size {shape[i]}", error=ShapeError)
            out[i] = o
        return tuple(out)

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        return Cost(act_reads=prod(self._input(x)), writes=prod(y))


@dataclass(frozen=True)
class ZeroPad1d(_PadNd):
    """``torch.nn.ZeroPad1d``: padding ``(left, right)`` of ``(C, L)``; as `_PadNd`.

    >>> ZeroPad1d((1, 2)).output_shape((4, 10))
    (4, 13)
    """

    ndim = 1


@dataclass(frozen=True)
class ZeroPad2d(_PadNd):
    """``torch.nn.ZeroPad2d``: padding ``(left, right, top, bottom)`` of ``(C, H, W)``; as
    `_PadNd`.

    >>> ZeroPad2d((1, 1, 2, 0)).output_shape((1, 3, 3))  # PyTorch docs example
    (1, 5, 5)
    >>> ZeroPad2d((0, 1, 0, 1)).cost((3, 4, 4))
    Cost(act_reads=48, writes=75, tap_reads=48)
    """

    ndim = 2


@dataclass(frozen=True)
class ZeroPad3d(_PadNd):
    """``torch.nn.ZeroPad3d``: padding ``(left, right, top, bottom, front, back)`` of
    ``(C, D, H, W)``; as `_PadNd`."""

    ndim = 3


@dataclass(frozen=True)
class ConstantPad1d(_PadNd):
    """``torch.nn.ConstantPad1d(padding, value)``: as `ZeroPad1d`, any constant."""

    value: float = real(allow_inf=True, allow_nan=True)
    ndim = 1


@dataclass(frozen=True)
class ConstantPad2d(_PadNd):
    """``torch.nn.ConstantPad2d(padding, value)``: as `ZeroPad2d`, any constant.

    >>> ConstantPad2d(2, 3.5).output_shape((1, 2, 2))
    (1, 6, 6)
    """

    value: float = real(allow_inf=True, allow_nan=True)
    ndim = 2


@dataclass(frozen=True)
class ConstantPad3d(_PadNd):
    """``torch.nn.ConstantPad3d(padding, value)``: as `ZeroPad3d`, any constant."""

    value: float = real(allow_inf=True, allow_nan=True)
    ndim = 3
