"""Pooling: MaxPool, AvgPool, AdaptiveAvgPool, AdaptiveMaxPool (1d/2d/3d), PyTorch semantics,
and `Mean`, the ``torch.mean`` reduction (ShuffleNetV2's and MNASNet's ``x.mean([2, 3])``).

Exact counts follow the taps that really take part: a window that covers ``v`` input elements
(taps on padding or past the end of the input excluded) needs ``v - 1`` compares (max) or
``v - 1`` adds and one divide (average). Validity is separable across axes, so the total number
of valid taps is ``C * prod(per-axis valid taps)`` (`layercalc.shapes.valid_taps`,
`~layercalc.shapes.adaptive_window_sum`). No reuse (seed 004): one read per valid tap,
``tap_reads``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from ..cost import Cost
from ..dims import Dim, as_count, as_dim, cdiv, fmt, ge, prod, require, to_expr, truth
from ..errors import LayerSpecError, LimitError, ShapeError
from ..shapes import (
    SMALL_KERNEL, adaptive_window_sum, pool_last_start, pool_out, tf_same_padding, valid_taps,
)
from ._base import AXIS_NAMES, Layer, check_window_fits, choice, dims, flag, per_axis
from .structure import _int_tuple, _torch_dims

__all__ = [
    "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "Mean",
]

_LAYOUT = {1: "(C, L)", 2: "(C, H, W)", 3: "(C, D, H, W)"}


def _pool_padding_field() -> Any:
    """``padding``: non-negative ints per axis (PyTorch), or, with ``padding_rule='tf'``, the
    strings ``'same'`` and ``'valid'`` of TensorFlow/Keras pooling."""
    plain = dims(0, minimum=0)

    def convert(layer: Layer, name: str, value: Any) -> Any:
        if value == "same" and isinstance(value, str):
            return "same"
        if value == "valid" and isinstance(value, str):
            return (0,) * layer.ndim
        if isinstance(value, str):
            raise LayerSpecError(layer.kind, f"padding (={value!r}) must be one or "
                                 f"{layer.ndim} non-negative integers, or 'same'/'valid' "
                                 "with padding_rule='tf'")
        return plain.metadata["convert"](layer, name, value)

    return field(default=0, metadata={"convert": convert})


def _stride_field() -> Any:
    """``stride``: per-axis values; ``None`` (PyTorch's default) means ``kernel_size``."""
    plain = dims()

    def convert(layer: Layer, name: str, value: Any) -> tuple[Dim, ...]:
        if value is None:
            return layer.kernel_size  # type: ignore[attr-defined]  # converted before stride
        return plain.metadata["convert"](layer, name, value)

    return field(default=None, metadata={"convert": convert, "kind": "dims", "minimum": 1,
                                         "optional": True})


@dataclass(frozen=True)
class _WindowPoolNd(Layer):
    """Shared body of MaxPool and AvgPool: fixed windows, PyTorch's output-size rule."""

    def _dilation(self) -> tuple[Dim, ...]:
        return (1,) * self.ndim

    def check(self) -> None:
        ks, pad = self.kernel_size, self.padding  # type: ignore[attr-defined]
        if pad == "same":
            require(self.padding_rule == "tf", self.kind,  # type: ignore[attr-defined]
                    "padding='same' needs padding_rule='tf' (PyTorch pools have no 'same')")
            require(not self.ceil_mode, self.kind,  # type: ignore[attr-defined]
                    "ceil_mode=True has no meaning with padding='same' (TensorFlow's output "
                    "size is ceil(n/stride) already)")
            return
        for k, p in zip(ks, pad):
            require(ge(k, 2 * p), self.kind,
                    f"padding (={fmt(pad)}) must be at most half of kernel_size (={fmt(ks)}) "
                    "along each axis")

    def _axes(self, x: Any) -> tuple[tuple[Dim, ...], list[tuple[Dim, ...]]]:
        shape = self._input(x, self.ndim + 1, layout=_LAYOUT[self.ndim])
        pads = self.padding  # type: ignore[attr-defined]
        if pads == "same":  # the padding before each axis (the extra one goes after)
            pads = tuple(tf_same_padding(n, k, s, d)[0] for n, k, s, d in zip(
                shape[1:], self.kernel_size, self.stride,  # type: ignore[attr-defined]
                self._dilation()))
        axes = list(zip(shape[1:], self.kernel_size, self.stride,  # type: ignore[attr-defined]
                        pads, self._dilation()))
        return shape, axes

    def _same(self) -> bool:
        return self.padding == "same"  # type: ignore[attr-defined]

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape, axes = self._axes(x)
        ceil = self.ceil_mode  # type: ignore[attr-defined]
        out = []
        for axis, (n, k, s, p, d) in zip(AXIS_NAMES[self.ndim], axes):
            if self._same():  # TensorFlow 'SAME': ceil(n/s) windows, never empty
                out.append(cdiv(n, s))
                continue
            o = pool_out(n, k, s, p, d, ceil)
            check_window_fits(self, axis, n, o, k, p, d)
            out.append(o)
        return (shape[0], *out)

    def _taps(self, x: Any) -> tuple[tuple[Dim, ...], tuple[Dim, ...], Dim, Dim, Dim, tuple]:
        """(input shape, output shape, outputs, valid taps over all windows, windows holding
        at least one valid tap, notes)."""
        y = self.output_shape(x)
        shape, axes = self._axes(x)
        taps: Dim = shape[0]
        hit: Dim = shape[0]
        notes = []
        for (n, k, s, p, d), o in zip(axes, y[1:]):
            if self._same():  # windows j = 0 .. o - 1 start at j*s - p
                last = as_count((o - 1) * s)
            else:
                last = pool_last_start(n, k, s, p, d, self.ceil_mode)  # type: ignore[attr-defined]
            try:
                taps = taps * valid_taps(n, k, s, p, d, last)
                h, note = _windows_hit(n, k, s, p, d, o, last)
            except LimitError as e:
                raise LimitError(self.kind, e.problem, e.hint) from None
            hit = hit * h
            if note:
                notes.append(f"{self.kind}: {note}")
        return shape, y, prod(y), as_count(taps), as_count(hit), tuple(dict.fromkeys(notes))


def _windows_hit(n: Dim, k: Dim, s: Dim, p: Dim, d: Dim, o: Dim, last: Dim) -> tuple[Dim, str]:
    """Windows of one axis with at least one tap inside the input, and a note ('' if exact).

    Every window starts before the end of the input and ends at or after its start (padding is
    at most half the kernel), so when ``d <= n`` the taps, ``d`` apart, cannot skip the input:
    all ``o`` windows hit it. Only a dilation larger than the input can leave a window on
    padding alone (PyTorch outputs -inf there, with no compare). Then (``n <= d``) no window
    holds two valid taps, so the windows hit are the valid taps (`valid_taps`), a closed form.
    """
    if truth(ge(n, d)):
        return o, ""
    if all(type(v) is int for v in (n, k, s, p, d)):
        return valid_taps(n, k, s, p, d, last), ""
    if type(d) is int and all(type(v) is int for v in (k, s, p)) and type(n) is not int:
        if d > SMALL_KERNEL:  # one closed form for the small sizes instead of d - 1 cases
            return sp.Piecewise((valid_taps(n, k, s, p, d, last), sp.Lt(n, d)), (o, True)), ""
        cases = []
        for m in range(1, d):
            om = as_count(to_expr(o).subs(n, m))
            if type(om) is int and om >= 1:
                lm = as_count(to_expr(last).subs(n, m))
                hm = valid_taps(m, k, s, p, d, lm)
                if hm != om:
                    cases.append((hm, sp.Eq(n, m)))
        if not cases:
            return o, ""
        return sp.Piecewise(*cases, (o, True)), ""
    return o, "compares assume every window holds an input element (dilation may exceed input)"


@dataclass(frozen=True)
class _MaxPoolNd(_WindowPoolNd):
    """Max pooling, like ``torch.nn.MaxPool2d``: input ``(C, *n)``, output ``(C, *o)`` with
    ``o = floor((n + 2p - d(k-1) - 1)/s) + 1`` (rounded up with ``ceil_mode``, dropping a last
    window that would start in the right padding); ``stride`` defaults to ``kernel_size``;
    ``padding`` must be at most half of ``kernel_size``.

    Counts: padding is ``-inf`` and never compared, so a window with ``v >= 1`` taps inside
    the input needs ``v - 1`` compares::

        cmp = (valid taps over all windows) - C*prod(o)

    except that a window whose taps all miss the input (possible only when the dilation
    exceeds the input size) needs none and is not subtracted.

    No params. Memory: input read once, output written once (``return_indices=True`` also
    writes one index per output, counted in ``writes``); ``tap_reads`` = valid taps.

    ``padding='same'`` with ``padding_rule='tf'`` (not PyTorch arguments) is TensorFlow/Keras's
    ``MaxPooling2D(padding="same")``: ``o = ceil(n/s)``, padded as
    `layercalc.shapes.tf_same_padding` (odd element at the end); padding is never compared.

    References
    ==========
    .. [1] PyTorch, ``torch.nn.MaxPool2d`` documentation (shape formula, ceil_mode).
    .. [2] Krizhevsky et al., "ImageNet Classification with Deep CNNs", 2012 (overlapping
       pooling, k=3, s=2: 55 -> 27).
    """

    kernel_size: Any = dims()
    stride: Any = _stride_field()
    padding: Any = _pool_padding_field()
    dilation: Any = dims(1)
    return_indices: bool = flag(False)
    ceil_mode: bool = flag(False)
    padding_rule: str = choice("torch", ("torch", "tf"))

    def _dilation(self) -> tuple[Dim, ...]:
        return self.dilation

    def cost(self, x: Any) -> Cost:
        shape, _, outputs, taps, hit, notes = self._taps(x)
        if self.return_indices:
            notes += (f"{self.kind}: return_indices writes one index per output element",)
        return Cost(
            ops={"cmp": as_count(taps - hit)},
            act_reads=prod(shape),
            writes=as_count(2 * outputs) if self.return_indices else outputs,
            tap_reads=taps,
            notes=notes,
        )


@dataclass(frozen=True)
class MaxPool1d(_MaxPoolNd):
    """As `_MaxPoolNd` with one spatial axis, like ``torch.nn.MaxPool1d``: input ``(C, L)``.

    >>> MaxPool1d(2).cost((4, 9)).ops  # 4 windows of 2 per channel, last element dropped
    mappingproxy({'cmp': 16})
    """

    ndim = 1


@dataclass(frozen=True)
class MaxPool2d(_MaxPoolNd):
    """As `_MaxPoolNd` with two spatial axes, like ``torch.nn.MaxPool2d``.

    >>> stem = MaxPool2d(3, stride=2, padding=1)  # ResNet stem, 112 -> 56
    >>> stem.output_shape((64, 112, 112))
    (64, 56, 56)
    >>> MaxPool2d(3, 2).output_shape((96, 55, 55))  # AlexNet, 55 -> 27
    (96, 27, 27)
    >>> MaxPool2d(2).cost((1, 4, 4)).ops["cmp"]  # 4 windows of 4: 3 compares each
    12
    """

    ndim = 2


@dataclass(frozen=True)
class MaxPool3d(_MaxPoolNd):
    """As `_MaxPoolNd` with three spatial axes, like ``torch.nn.MaxPool3d``."""

    ndim = 3


def _divisor_field() -> Any:
    def convert(layer: Layer, name: str, value: Any) -> Any:
        return None if value is None else as_dim(value, layer.kind, name)

    return field(default=None, metadata={"convert": convert, "kind": "dim", "minimum": 1,
                                         "optional": True})


@dataclass(frozen=True)
class _AvgPoolNd(_WindowPoolNd):
    """Average pooling, like ``torch.nn.AvgPool2d``; output size as `_MaxPoolNd` (no dilation).

    Counts: padding taps are zeros and are not added, so a window with ``v`` taps inside the
    input needs ``v - 1`` adds and one divide::

        add = (valid taps over all windows) - C*prod(o),   div = C*prod(o)

    ``count_include_pad`` and ``divisor_override`` change only the divisor, not the counts.
    No params. ``tap_reads`` = valid taps. ``padding='same'`` with ``padding_rule='tf'`` is
    Keras's ``AveragePooling2D(padding="same")`` (as for max pooling; TensorFlow divides by the
    input elements of each window, so it needs ``count_include_pad=False``).

    References
    ==========
    .. [1] PyTorch, ``torch.nn.AvgPool2d`` documentation.
    """

    kernel_size: Any = dims()
    stride: Any = _stride_field()
    padding: Any = _pool_padding_field()
    ceil_mode: bool = flag(False)
    count_include_pad: bool = flag(True)
    divisor_override: Any = _divisor_field()
    padding_rule: str = choice("torch", ("torch", "tf"))

    def check(self) -> None:
        super().check()
        if self.padding == "same":
            require(not self.count_include_pad, self.kind,
                    "count_include_pad=True is not what TensorFlow does with padding='same' "
                    "(it averages over the input elements of each window only)",
                    hint="Pass count_include_pad=False.")

    def cost(self, x: Any) -> Cost:
        shape, _, outputs, taps, _, _ = self._taps(x)  # no dilation: every window hits
        return Cost(
            ops={"add": as_count(taps - outputs), "div": outputs},
            act_reads=prod(shape),
            writes=outputs,
            tap_reads=taps,
        )


@dataclass(frozen=True)
class AvgPool1d(_AvgPoolNd):
    """As `_AvgPoolNd` with one spatial axis, like ``torch.nn.AvgPool1d``: input ``(C, L)``.

    >>> dict(AvgPool1d(3, stride=2, padding=1).cost((1, 5)).ops)  # windows 2, 3, 2 taps
    {'add': 4, 'div': 3}
    """

    ndim = 1


@dataclass(frozen=True)
class AvgPool2d(_AvgPoolNd):
    """As `_AvgPoolNd` with two spatial axes, like ``torch.nn.AvgPool2d``.

    >>> AvgPool2d(2).output_shape((256, 14, 14))
    (256, 7, 7)
    """

    ndim = 2


@dataclass(frozen=True)
class AvgPool3d(_AvgPoolNd):
    """As `_AvgPoolNd` with three spatial axes, like ``torch.nn.AvgPool3d``.

    PyTorch's ``avg_pool3d`` also requires the input itself (before padding) to be at least
    the kernel along every axis (``RuntimeError: input image ... smaller than kernel size``),
    even where padding or ``ceil_mode`` would give an output; layercalc checks the same.
    (AvgPool1d/2d and the max pools have no such rule.)

    >>> AvgPool3d(3, padding=1).output_shape((1, 2, 5, 5))
    Traceback (most recent call last):
    ...
    layercalc.errors.ShapeError: AvgPool3d: input size along depth (=2) must be at least kernel_size (=3), as PyTorch's avg_pool3d requires.
    """

    ndim = 3

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, 4, layout=_LAYOUT[3])
        for axis, n, k in zip(AXIS_NAMES[3], shape[1:], self.kernel_size):
            require(ge(n, k), self.kind,
                    lambda: f"input size along {axis} (={fmt(n)}) must be at least "
                    f"kernel_size (={fmt(k)}), as PyTorch's avg_pool3d requires",
                    error=ShapeError)
        return super().output_shape(shape)


# -- adaptive pooling ----------------------------------------------------------------------
def _output_size_field() -> Any:
    """``output_size``: one value or ``ndim`` values, each a size or ``None`` (keep the input
    size along that axis; 2d and 3d only: PyTorch's ``adaptive_avg_pool1d`` takes ints)."""

    def convert(layer: Layer, name: str, value: Any) -> tuple[Any, ...]:
        vals = per_axis(layer, name, value)
        if layer.ndim == 1 and None in vals:
            raise LayerSpecError(layer.kind, f"{name} (={fmt(value)}) must be a size; None "
                                 "(keep the input size) is for the 2d and 3d pools, as in "
                                 "PyTorch")
        return tuple(None if v is None else as_dim(v, layer.kind, name) for v in vals)

    return field(metadata={"convert": convert, "kind": "dims", "minimum": 1,
                           "optional": True})


@dataclass(frozen=True)
class _AdaptivePoolNd(Layer):
    """Shared body of the adaptive pools: PyTorch's windows
    ``[floor(o*n/m), ceil((o+1)*n/m))`` for output index ``o`` of ``m`` along an axis of ``n``.
    """

    output_size: Any = _output_size_field()

    def _sizes(self, x: Any) -> tuple[tuple[Dim, ...], tuple[Dim, ...], Dim]:
        shape = self._input(x, self.ndim + 1, layout=_LAYOUT[self.ndim])
        out = []
        taps: Dim = shape[0]
        for n, m in zip(shape[1:], self.output_size):
            if m is None:  # identity along this axis: windows of one
                out.append(n)
                taps = taps * n
            else:
                out.append(m)
                try:
                    taps = taps * adaptive_window_sum(n, m)
                except LimitError as e:
                    raise LimitError(self.kind, e.problem, e.hint) from None
        return shape, (shape[0], *out), as_count(taps)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        return self._sizes(x)[1]


@dataclass(frozen=True)
class _AdaptiveAvgPoolNd(_AdaptivePoolNd):
    """Adaptive average pooling, like ``torch.nn.AdaptiveAvgPool2d``: output ``(C, *m)``.

    Counts: ``add = C*prod(window sums) - C*prod(m)``, ``div = C*prod(m)``, where the window
    sum of an axis is `layercalc.shapes.adaptive_window_sum` (windows may overlap when ``n`` is
    not a multiple of ``m``). No params. ``tap_reads`` = one read per window tap.

    References
    ==========
    .. [1] PyTorch, ``torch.nn.AdaptiveAvgPool2d`` documentation and
       ``aten/src/ATen/native/AdaptiveAveragePooling.cpp`` (start/end index).
    """

    def cost(self, x: Any) -> Cost:
        shape, y, taps = self._sizes(x)
        outputs = prod(y)
        return Cost(ops={"add": as_count(taps - outputs), "div": outputs},
                    act_reads=prod(shape), writes=outputs, tap_reads=taps)


@dataclass(frozen=True)
class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    """Adaptive max pooling, like ``torch.nn.AdaptiveMaxPool2d``: windows as
    `_AdaptiveAvgPoolNd`, ``cmp = C*prod(window sums) - C*prod(m)``. ``return_indices=True``
    also writes one index per output (counted in ``writes``).
    """

    return_indices: bool = flag(False)

    def cost(self, x: Any) -> Cost:
        shape, y, taps = self._sizes(x)
        outputs = prod(y)
        return Cost(
            ops={"cmp": as_count(taps - outputs)},
            act_reads=prod(shape),
            writes=as_count(2 * outputs) if self.return_indices else outputs,
            tap_reads=taps,
            notes=(f"{self.kind}: return_indices writes one index per output element",)
            if self.return_indices else (),
        )


@dataclass(frozen=True)
class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """As `_AdaptiveAvgPoolNd`, like ``torch.nn.AdaptiveAvgPool1d``: input ``(C, L)``.

    >>> dict(AdaptiveAvgPool1d(3).cost((1, 10)).ops)  # windows [0,4) [3,7) [6,10)
    {'add': 9, 'div': 3}
    """

    ndim = 1


@dataclass(frozen=True)
class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """As `_AdaptiveAvgPoolNd`, like ``torch.nn.AdaptiveAvgPool2d``.

    >>> gap = AdaptiveAvgPool2d(1)  # global average pool, ResNet-50 head
    >>> gap.output_shape((2048, 7, 7)), dict(gap.cost((2048, 7, 7)).ops)
    ((2048, 1, 1), {'add': 98304, 'div': 2048})
    >>> AdaptiveAvgPool2d((None, 7)).output_shape((64, 10, 9))
    (64, 10, 7)
    """

    ndim = 2


@dataclass(frozen=True)
class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """As `_AdaptiveAvgPoolNd`, like ``torch.nn.AdaptiveAvgPool3d``."""

    ndim = 3


@dataclass(frozen=True)
class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """As `_AdaptiveMaxPoolNd`, like ``torch.nn.AdaptiveMaxPool1d``: input ``(C, L)``."""

    ndim = 1


@dataclass(frozen=True)
class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """As `_AdaptiveMaxPoolNd`, like ``torch.nn.AdaptiveMaxPool2d``.

    >>> AdaptiveMaxPool2d((5, 7)).output_shape((64, 8, 9))
    (64, 5, 7)
    """

    ndim = 2


@dataclass(frozen=True)
class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """As `_AdaptiveMaxPoolNd`, like ``torch.nn.AdaptiveMaxPool3d``."""

    ndim = 3


@dataclass(frozen=True)
class Mean(Layer):
    """``torch.mean(x, dim, keepdim)`` (also ``x.mean(dim)``): the average over the axes
    `dim`. torchvision's ShuffleNetV2 and MNASNet pool globally this way, ``x.mean([2, 3])``
    on a ``(B, C, H, W)`` tensor, instead of an ``AdaptiveAvgPool2d`` module.

    `dim` holds PyTorch's dims of the *batched* tensor (the batch is dim 0, negative dims
    count from the end), so a line copied from a model means the same; the batch cannot be
    reduced (costs are per sample), and ``dim=None`` (every axis, the batch included) is
    rejected for the same reason. ``keepdim=True`` keeps each reduced axis with size 1.

    Counts, for ``n`` input and ``m`` output elements (each output averages ``r = n/m``
    inputs): ``add = n - m`` (``r - 1`` per output), ``div = m``, as `AdaptiveAvgPool2d`
    counts a global pool. Memory: ``act_reads = tap_reads = n``, ``writes = m``. No params.

    References
    ==========
    .. [1] PyTorch, ``torch.mean`` documentation; torchvision/models/shufflenetv2.py
       ``ShuffleNetV2._forward_impl`` and mnasnet.py ``MNASNet.forward``.

    >>> gap = Mean([2, 3])  # ShuffleNetV2 x1.0's head: (1024, 7, 7) -> (1024,)
    >>> c = gap.cost((1024, 7, 7))
    >>> gap.output_shape((1024, 7, 7)), dict(c.ops), c.act_reads, c.writes
    ((1024,), {'add': 49152, 'div': 1024}, 50176, 1024)
    >>> Mean(-1, keepdim=True).output_shape((10, 64))
    (10, 1)
    """

    dim: Any = None
    keepdim: bool = flag(False)

    def check(self) -> None:
        if self.dim is None:
            raise LayerSpecError(self.kind, "dim (=None) averages every axis, the batch "
                                 "included, which mixes samples; per-sample costs need "
                                 "explicit dims", "Give the axes, e.g. dim=[2, 3] for H and W "
                                 "of (B, C, H, W).")
        dims_ = _int_tuple(self, "dim", self.dim)
        if not dims_:
            raise LayerSpecError(self.kind, "dim (=()) must name at least one axis")
        object.__setattr__(self, "dim", dims_)

    def _axes(self, shape: tuple[Dim, ...]) -> tuple[int, ...]:
        r = len(shape)
        if any(-(r + 1) <= d <= r and d % (r + 1) == 0 for d in self.dim):
            raise ShapeError(self.kind, f"dim (={fmt(self.dim)}) reduces the batch axis (dim 0), "
                             "which mixes samples; shapes here exclude the batch",
                             f"Reduce axes 1..{r} of the batched tensor.")
        axes = _torch_dims(self, "dim", self.dim, r)
        if len(set(axes)) != len(axes):
            raise LayerSpecError(self.kind, f"dim (={fmt(self.dim)}) names an axis more "
                                 "than once")
        return axes

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, min_rank=1)
        axes = self._axes(shape)
        if self.keepdim:
            return tuple(1 if i in axes else v for i, v in enumerate(shape))
        return tuple(v for i, v in enumerate(shape) if i not in axes)

    def cost(self, x: Any) -> Cost:
        shape = self._input(x, min_rank=1)
        y = self.output_shape(shape)
        n, m = prod(shape), prod(y)
        return Cost(ops={"add": as_count(n - m), "div": m}, act_reads=n, writes=m,
                    tap_reads=n)
