"""The `Layer` base class, its field converters and the layer registry.

A layer is a frozen dataclass with PyTorch's class name, argument names and argument order.
Fields are declared with `dim()` / `dims()` / `choice()` so that every value is validated and
normalised exactly once, in ``__post_init__``: ints stay ints, SymPy expressions stay
expressions, per-axis values become tuples of length ``ndim``. Relations between fields go in
`Layer.check`, through `require`, which raises only when a condition is provably false.
"""

from __future__ import annotations

import abc
import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import MISSING, field, fields
from types import MappingProxyType
from typing import Any, ClassVar

import sympy as sp

from ..cost import Cost
from ..dims import MAX_SIZE, Dim, as_count, as_dim, as_real, eq, fmt, ge, require, show
from ..errors import GraphError, LayerSpecError, ShapeError, lookup

__all__ = ["Layer", "LAYERS", "get_layer", "dim", "dims", "choice", "flag", "real",
           "probability", "AXIS_NAMES", "check_window_fits", "per_axis", "dispatch_call"]

_LAYERS: dict[str, type[Layer]] = {}
#: Every public layer class by name (read-only view).
LAYERS = MappingProxyType(_LAYERS)

#: How error messages name spatial axes.
AXIS_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def get_layer(name: str) -> type[Layer]:
    """The layer class called `name`, with "did you mean" on a typo."""
    return lookup(_LAYERS, "layer", name)


# -- field declarations --------------------------------------------------------------------
# Every helper below records what it accepts in the field's metadata (``kind`` and its
# parameters) next to the converter, so that tools can read a layer's fields generically: the
# fuzz test (tests/test_fuzz.py) generates valid and invalid values for every registered layer
# from this metadata alone. Keys: ``kind`` ("dim", "dims", "choice", "flag", "real"),
# ``minimum`` (dim/dims/real; None: no bound), ``maximum``/``allow_inf``/``allow_nan`` (real),
# ``optional`` (None accepted), ``options`` (choice; also strings a dims field accepts, such as
# padding="same"), ``per_axis`` (dims: values per spatial axis, 2 for (left, right) padding;
# None: any number, as normalized_shape). A custom converter should set them too.
def _convert_dim(minimum: int, optional: bool) -> Callable[[Layer, str, Any], Dim]:
    def convert(layer: Layer, name: str, value: Any) -> Dim:
        if optional and value is None:
            return None
        return as_dim(value, layer.kind, name, minimum=minimum)

    return convert


def per_axis(layer: Layer, name: str, value: Any) -> tuple[Any, ...]:
    """Broadcast one value, or check ``ndim`` values, for a per-axis field (unconverted)."""
    n = layer.ndim
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = tuple(value) * n
        if len(value) != n:
            expected = "one value" + (f" or {n} values" if n > 1 else "")
            raise LayerSpecError(layer.kind, f"{name} must be {expected}, got {fmt(tuple(value))}")
        return tuple(value)
    return (value,) * n


def _convert_dims(minimum: int) -> Callable[[Layer, str, Any], tuple[Dim, ...]]:
    def convert(layer: Layer, name: str, value: Any) -> tuple[Dim, ...]:
        vals = per_axis(layer, name, value)
        try:
            return tuple(as_dim(v, layer.kind, name, minimum=minimum) for v in vals)
        except LayerSpecError as e:  # report the field as the user wrote it
            if isinstance(value, (list, tuple)):
                raise LayerSpecError(layer.kind, e.problem.replace(
                    f"{name} (=", f"{name} (={fmt(tuple(value))}; entry ", 1), e.hint) from None
            raise

    return convert


def dim(default: Any = MISSING, *, minimum: int = 1, optional: bool = False) -> Any:
    """A scalar integer field (int or SymPy expression), ``>= minimum`` unless symbolic;
    ``optional=True`` also accepts ``None`` (kept as None)."""
    return field(default=default, metadata={
        "convert": _convert_dim(minimum, optional), "kind": "dim", "minimum": minimum,
        "optional": optional})


def dims(default: Any = MISSING, *, minimum: int = 1) -> Any:
    """A per-axis field: one value or ``ndim`` values, stored as a tuple of length ``ndim``."""
    return field(default=default, metadata={"convert": _convert_dims(minimum), "kind": "dims",
                                            "minimum": minimum})


def choice(default: Any, options: Sequence[Any]) -> Any:
    """A field restricted to `options` (strings such as ``padding_mode``)."""
    options = tuple(options)

    def convert(layer: Layer, name: str, value: Any) -> Any:
        for o in options:  # identity or same-type equality: no array or SymPy comparison
            if value is o or (type(value) is type(o) and value == o):
                return o
        allowed = ", ".join(repr(o) for o in options)
        raise LayerSpecError(layer.kind, f"{name} (={show(value)}) must be one of {allowed}")

    return field(default=default, metadata={"convert": convert, "kind": "choice",
                                            "options": options})


def _as_flag(layer: Layer, name: str, value: Any, optional: bool = False) -> Any:
    if isinstance(value, bool):
        return value
    if optional and value is None:
        return None
    if type(value).__name__ == "bool_" or (type(value) is int and value in (0, 1)):
        return bool(value)  # NumPy's bool, and the ints 0 and 1
    raise LayerSpecError(layer.kind, f"{name} (={show(value)}) must be True or False"
                         + (" or None" if optional else ""))


def flag(default: Any, *, optional: bool = False) -> Any:
    """A boolean field (``bias``, ``ceil_mode`` ...): ``True``/``False`` (NumPy booleans and
    the ints 0 and 1 are converted); ``optional=True`` also accepts ``None``. Rejects anything
    else, such as 0.5 or the string ``"False"`` (which PyTorch would take as true)."""

    def convert(layer: Layer, name: str, value: Any) -> Any:
        return _as_flag(layer, name, value, optional)

    return field(default=default, metadata={"convert": convert, "kind": "flag",
                                            "optional": optional})


def real(default: Any = MISSING, *, minimum: Any = None, maximum: Any = None,
         optional: bool = False, allow_inf: bool = False, allow_nan: bool = False) -> Any:
    """A real-valued hyperparameter (``eps``, ``momentum``, ``negative_slope`` ...): a Python or
    NumPy number (``bool`` excluded), a fraction or a SymPy real, within ``[minimum, maximum]``
    when they are given; finite unless `allow_inf` / `allow_nan`; ``None`` when `optional`.
    The value is kept as given (``1e-5`` stays a float): it changes no count."""
    opts = dict(minimum=minimum, maximum=maximum, optional=optional, allow_inf=allow_inf,
                allow_nan=allow_nan)

    def convert(layer: Layer, name: str, value: Any) -> Any:
        return as_real(value, layer.kind, name, **opts)

    return field(default=default, metadata={"convert": convert, "kind": "real", **opts})


def probability(default: Any) -> Any:
    """A probability field (``dropout``, ``p``): a real number in ``[0, 1]``, as PyTorch's
    ``nn.Dropout`` and ``nn.RNN`` check."""
    return real(default, minimum=0, maximum=1)


# -- the base class --------------------------------------------------------------------------
class Layer(abc.ABC):
    """A frozen dataclass that knows its output shape and its cost.

    Shapes exclude the batch and are channel-first: ``(C, L)``, ``(C, H, W)``,
    ``(C, D, H, W)``; ``(*, in_features)`` for `Linear`. A cost is for one sample.
    """

    ndim: ClassVar[int] = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            old = _LAYERS.get(cls.__name__)
            if old is not None and old.__module__ != cls.__module__:
                # the same module redefining a class is a re-run notebook cell: silent; another
                # module taking a registered name shadows a layer for get_layer and the CLI
                warnings.warn(f"layer {cls.__name__!r} defined in {cls.__module__} replaces "
                              f"the one defined in {old.__module__} in layercalc.LAYERS",
                              UserWarning, stacklevel=2)
            _LAYERS[cls.__name__] = cls  # the newer definition wins

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            convert = f.metadata.get("convert")
            if convert is not None:
                object.__setattr__(self, f.name, convert(self, f.name, getattr(self, f.name)))
        self.check()

    @property
    def kind(self) -> str:
        """The layer's kind, its class name (``"Conv2d"``)."""
        return type(self).__name__

    def check(self) -> None:
        """Validate relations between fields. Override; no super() call needed."""

    @abc.abstractmethod
    def output_shape(self, x: Sequence[Dim]) -> tuple[Dim, ...]:
        """Shape of the output for an input of shape `x` (batch excluded)."""

    @abc.abstractmethod
    def cost(self, x: Sequence[Dim]) -> Cost:
        """Convention-free counts of one forward pass on one sample of shape `x`."""

    def assumptions(self, *shapes: Any) -> tuple:
        """SymPy relations between input sizes that this layer needs and that the sizes do not
        decide (symbolic merges: ``Eq(H1, H2)`` for a concat of ``(C1, H1, W)`` and ``(C2, H2,
        W)``). A provably false one raises in `output_shape` instead. `layercalc.analyze`
        records them in `Report.assumptions` and `Report.subs` checks them. Default: none.
        Override in a layer whose `check`/`output_shape` lets an undecided condition pass."""
        return ()

    def __call__(self, *inputs: Any, name: str | None = None, call: str = "module") -> Any:
        """Record this layer as a node of a graph: ``conv(x)`` on `layercalc.Tensor` inputs
        (from `layercalc.Input`) returns the output tensor (a tuple for a multi-output layer).
        `name` is the node's report path; `call` how PyTorch runs it (``"module"``,
        ``"functional"``, ``"operator"``). See `layercalc.graph`."""
        return dispatch_call(self, inputs, name, call)

    # -- helpers for subclasses ------------------------------------------------------------
    def _input(self, x: Sequence[Dim], rank: int | None = None, *, min_rank: int = 0,
               layout: str = "") -> tuple[Dim, ...]:
        """Validate an input shape (batch excluded) and normalise its entries: every entry goes
        through `layercalc.dims.as_dim` (an int or an integer SymPy expression, positive);
        one size on its own (``4096``) is the shape ``(4096,)``."""
        if type(x) is tuple and (rank is None or len(x) == rank) and len(x) >= min_rank and all(
            type(v) is int and 1 <= v <= MAX_SIZE for v in x
        ):
            return x  # the numeric fast path: nothing to convert, nothing can be wrong
        if isinstance(x, (numbers.Integral, sp.Basic)) and not isinstance(x, bool):
            x = (x,)
        if not isinstance(x, (tuple, list)):
            raise ShapeError(self.kind, f"input shape (={show(x)}) must be a tuple of sizes"
                             + (", not a string" if isinstance(x, (str, bytes)) else ""),
                             "Parse text with layercalc.parse_dims." if isinstance(
                                 x, (str, bytes)) else "")
        shape = []
        for v in x:
            try:
                shape.append(as_dim(v, self.kind, "input size", minimum=None, error=ShapeError))
            except ShapeError as e:
                raise ShapeError(self.kind, f"{e.problem}, in input shape {fmt(tuple(x))}",
                                 e.hint) from None
        shape = tuple(shape)
        if rank is not None and len(shape) != rank:
            lay = f" {layout}" if layout else ""
            raise ShapeError(
                self.kind,
                f"expected an input of rank {rank}{lay} (batch excluded), got {fmt(shape)}",
            )
        if len(shape) < min_rank:
            raise ShapeError(
                self.kind, f"expected an input of rank >= {min_rank}, got {fmt(shape)}"
            )
        for v in shape:
            require(ge(v, 1), self.kind,
                    lambda: f"input sizes must be positive, got input shape {fmt(shape)}",
                    error=ShapeError)
        return shape

    def _channels(self, shape: tuple[Dim, ...], expected: Dim) -> None:
        """Check the channel entry of a channel-first input."""
        if shape[0] is expected or (type(shape[0]) is int and shape[0] == expected):
            return
        require(eq(shape[0], expected), self.kind,
                lambda: f"expected {expected} input channels, got input shape {fmt(shape)}",
                error=ShapeError)


def dispatch_call(op: Any, inputs: tuple, name: Any, call: Any) -> Any:
    """Hand a call on graph tensors to the tensors' graph (found by duck typing: a tensor has
    ``_record``), so that layers and containers need not import the graph module."""
    for a in inputs:
        hook = getattr(a, "_record", None)
        if hook is None and isinstance(a, (tuple, list)) and a:
            hook = getattr(a[0], "_record", None)  # a multi-output tuple: the graph says so
        if hook is not None:
            return hook(op, inputs, name, call)
    kind = getattr(op, "kind", type(op).__name__)
    got = ", ".join(type(a).__name__ for a in inputs) or "nothing"
    raise GraphError(f"{kind}: calling a layer records a graph node and takes graph tensors "
                     f"(from layercalc.Input), got {got}. For a shape, use "
                     f"{kind}.output_shape(shape); for counts, {kind}.cost(shape) or "
                     "layercalc.analyze(model, shape)")


def check_window_fits(layer: Layer, axis: str, n: Dim, out: Dim, k: Dim, p: Dim, d: Dim) -> None:
    """Raise a `ShapeError` if a sliding window (conv or pool) provably leaves no output along
    `axis`; the message quotes the padded input and the effective kernel size."""
    if type(out) is int and out >= 1:
        return
    require(
        ge(out, 1), layer.kind,
        lambda: f"output size along {axis} would be {out} for input size {n}",
        hint=lambda: f"The padded input ({as_count(n + 2 * p)}) must be at least the effective "
        f"kernel size (dilation*(kernel_size-1)+1 = {as_count(d * (k - 1) + 1)}).",
        error=ShapeError,
    )
