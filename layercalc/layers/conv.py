"""Convolutions: Conv1d/2d/3d and ConvTranspose1d/2d/3d, PyTorch semantics.

One dimension-generic formula per family; the 1d/2d/3d classes differ only in ``ndim``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from ..cost import Cost
from ..dims import (
    Dim, as_count, as_dim, cdiv, divides, eq, exact_div, fmt, ge, prod, require, truth,
)
from ..errors import LayerSpecError, LimitError, ShapeError
from ..shapes import (
    conv_out,
    conv_transpose_out,
    same_padding,
    tf_same_padding,
    transposed_covered,
    transposed_products,
)
from ._base import AXIS_NAMES, Layer, check_window_fits, choice, dim, dims, flag

__all__ = [
    "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
#: What ``padding='same'`` means: PyTorch's (stride 1 only) or TensorFlow/Keras's (any stride).
PADDING_RULES = ("torch", "tf")


def _padding_field(default: Any = 0) -> Any:
    """``padding``: ints per axis, or PyTorch's strings ``'same'`` and ``'valid'``."""

    def convert(layer: Layer, name: str, value: Any) -> Any:
        if isinstance(value, str):
            if value == "same":
                return "same"
            if value == "valid":
                return (0,) * layer.ndim
            raise LayerSpecError(
                layer.kind,
                f"padding (={value!r}) must be 'same', 'valid', or one or {layer.ndim} "
                "non-negative integers",
            )
        if isinstance(value, (list, tuple)):
            if len(value) == 1:
                value = tuple(value) * layer.ndim
            if len(value) != layer.ndim:
                raise LayerSpecError(
                    layer.kind,
                    f"padding must be one value or {layer.ndim} values, got {fmt(tuple(value))}",
                )
            return tuple(as_dim(v, layer.kind, name, minimum=0) for v in value)
        return (as_dim(value, layer.kind, name, minimum=0),) * layer.ndim

    return field(default=default, metadata={"convert": convert, "kind": "dims", "minimum": 0,
                                            "options": ("same", "valid")})


@dataclass(frozen=True)
class _ConvNd(Layer):
    """N-d convolution, PyTorch semantics: channels-first input, zero padding.

    For an input ``(C_in, *n)`` and output ``(C_out, *o)``, per spatial axis
    ``o = floor((n + 2p - d(k - 1) - 1)/s) + 1`` (``o = n`` for ``padding='same'``).

    Counts (every kernel tap is counted, including taps that land on padding)::

        params = C_out * (C_in/g) * prod(k)  (+ C_out with bias)
        MACs   = C_out * prod(o) * (C_in/g) * prod(k)
        dots   = C_out * prod(o)           one dot product per output element
        bias adds = C_out * prod(o)        with bias

    So under the ``exact`` convention FLOPs are ``(2*(C_in/g)*prod(k) - 1)*C_out*prod(o)``
    without bias and ``2*(C_in/g)*prod(k)*C_out*prod(o)`` with bias (seed 000, seed 003), and
    MACs are ``C_in*K^2*H_out*W_out*C_out/g`` (seed 001, seed 004; Howard et al. 2017 eq. 1).

    Memory (elements, compulsory: each tensor moved once): weight reads = params, activation
    reads = ``C_in*prod(n)``, writes = ``C_out*prod(o)``. Without reuse every MAC
    reads its input element: ``tap_reads = MACs`` (the ``no_reuse`` memory model; BY J's
    formula, ``C_in*prod(n)*prod(k)*C_out/g`` on the input grid, is ``filter_rereads``; the
    two agree at stride 1 with 'same' padding).

    ``padding_mode`` changes what is padded, not the count. Fields hold normalised tuples
    after construction.

    ``padding_rule`` (not a PyTorch argument) says what ``padding='same'`` means:
    ``"torch"`` (default) is PyTorch's, stride 1 only, total ``d(k - 1)``;
    ``"tf"`` is TensorFlow/Keras's ``padding="same"`` for any stride: ``o = ceil(n/s)``,
    padded by ``max((ceil(n/s) - 1)s + d(k - 1) + 1 - n, 0)`` with the odd element at the end
    (`layercalc.shapes.tf_same_padding`). Both rules agree at stride 1. Explicit integer
    padding is symmetric under either rule (Keras's ``ZeroPadding2D(((0, 1), (0, 1)))`` is
    ``ZeroPad2d((0, 1, 0, 1))`` followed by a ``'valid'`` convolution).

    References
    ==========
    .. [1] PyTorch, ``torch.nn.Conv2d`` documentation (shape formula, groups, 'same').
    .. [2] Howard et al., "MobileNets", 2017, https://arxiv.org/abs/1704.04861, section 3.1.
    """

    in_channels: Dim = dim()
    out_channels: Dim = dim()
    kernel_size: Any = dims()
    stride: Any = dims(1)
    padding: Any = _padding_field(0)
    dilation: Any = dims(1)
    groups: Dim = dim(1)
    bias: bool = flag(True)
    padding_mode: str = choice("zeros", _PADDING_MODES)
    padding_rule: str = choice("torch", PADDING_RULES)

    def check(self) -> None:
        g = self.groups
        require(
            divides(g, self.in_channels), self.kind,
            f"in_channels (={self.in_channels}) must be divisible by groups (={g})",
            hint="For a depthwise convolution, set groups=in_channels.",
        )
        require(
            divides(g, self.out_channels), self.kind,
            f"out_channels (={self.out_channels}) must be divisible by groups (={g})",
            hint="A depthwise convolution with channel multiplier m has "
            "out_channels = m*in_channels.",
        )
        if self.padding == "same" and self.padding_rule == "torch":
            require(
                not any(truth(eq(s, 1)) is False for s in self.stride), self.kind,
                f"padding='same' needs stride 1, got stride (={fmt(self.stride)})",
                hint="PyTorch does not support 'same' for strided convolutions; give the "
                "padding explicitly.",
            )

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, self.ndim + 1, layout=_layout(self.ndim))
        self._channels(shape, self.in_channels)
        return (self.out_channels, *self._spatial_out(shape[1:]))

    def _check_padding_mode(self, spatial: tuple[Dim, ...]) -> None:
        """PyTorch pads 'reflect' by mirroring, so each side's padding must be smaller than the
        input along its axis; 'circular' wraps, so at most the input."""
        mode = self.padding_mode
        if mode not in ("reflect", "circular"):
            return
        if self.padding == "same":
            pads = [self._same_pads(n, k, s, d)[1] for n, k, s, d in
                    zip(spatial, self.kernel_size, self.stride, self.dilation)]
        else:
            pads = list(self.padding)
        for axis, n, p in zip(AXIS_NAMES[self.ndim], spatial, pads):
            ok = ge(n, as_count(p + 1)) if mode == "reflect" else ge(n, p)
            require(ok, self.kind,
                    lambda: f"padding (={fmt(p)}) along {axis} must be "
                    f"{'smaller than' if mode == 'reflect' else 'at most'} the input size "
                    f"(={fmt(n)}) with padding_mode={mode!r}",
                    error=ShapeError)

    def _same_pads(self, n: Dim, k: Dim, s: Dim, d: Dim) -> tuple[Dim, Dim]:
        """(before, after) padding of one axis under ``padding='same'`` and `padding_rule`."""
        if self.padding_rule == "tf":
            return tf_same_padding(n, k, s, d)
        return same_padding(k, d)

    def _spatial_out(self, spatial: tuple[Dim, ...]) -> tuple[Dim, ...]:
        self._check_padding_mode(spatial)
        if self.padding == "same":
            if self.padding_rule == "tf":
                return tuple(cdiv(n, s) for n, s in zip(spatial, self.stride))
            return spatial
        out = []
        for axis, n, k, s, p, d in zip(
            AXIS_NAMES[self.ndim], spatial, self.kernel_size, self.stride, self.padding,
            self.dilation,
        ):
            o = conv_out(n, k, s, p, d)
            check_window_fits(self, axis, n, o, k, p, d)
            out.append(o)
        return tuple(out)

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        taps = exact_div(self.in_channels, self.groups) * prod(self.kernel_size)
        outputs = prod(y)
        weights = as_count(self.out_channels * taps)
        params = weights + (self.out_channels if self.bias else 0)
        macs = as_count(outputs * taps)
        return Cost(
            params=params,
            macs=macs,
            dots=outputs,
            bias_adds=outputs if self.bias else 0,
            weight_reads=params,
            act_reads=prod(self._input(x, self.ndim + 1)),
            writes=outputs,
            tap_reads=macs,  # no reuse: each MAC reads its input element (seed 004)
        )


def _layout(ndim: int) -> str:
    return {1: "(C, L)", 2: "(C, H, W)", 3: "(C, D, H, W)"}[ndim]


@dataclass(frozen=True)
class Conv1d(_ConvNd):
    """As `_ConvNd` with one spatial axis, like ``torch.nn.Conv1d``: input ``(C, L)``.

    >>> Conv1d(16, 32, 3, padding=1).cost((16, 100)).macs
    153600
    """

    ndim = 1


@dataclass(frozen=True)
class Conv2d(_ConvNd):
    """As `_ConvNd` with two spatial axes, like ``torch.nn.Conv2d``: input ``(C, H, W)``.

    >>> stem = Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
    >>> stem.output_shape((3, 224, 224))
    (64, 112, 112)
    >>> stem.cost((3, 224, 224)).params, stem.cost((3, 224, 224)).macs
    (9408, 118013952)
    >>> from layercalc import symbols
    >>> C, H, W = symbols("C H W")
    >>> Conv2d(C, 2*C, 3).cost((C, H, W)).macs
    18*C**2*(H - 2)*(W - 2)
    """

    ndim = 2


@dataclass(frozen=True)
class Conv3d(_ConvNd):
    """As `_ConvNd` with three spatial axes, like ``torch.nn.Conv3d``: input ``(C, D, H, W)``.

    >>> Conv3d(3, 8, 3).output_shape((3, 16, 32, 32))
    (8, 14, 30, 30)
    """

    ndim = 3


@dataclass(frozen=True)
class _ConvTransposeNd(Layer):
    """N-d transposed convolution, PyTorch semantics and argument order.

    Per spatial axis ``o = (n - 1)s - 2p + d(k - 1) + output_padding + 1``.

    MACs are counted on the *input* grid: every input element is multiplied by every tap of
    its ``C_out/g`` filters, ``MACs = C_in * (C_out/g) * prod(k) * prod(n)``. (Counting on the
    output grid, as if it were a convolution over the zero-upsampled input, overstates it by
    about ``prod(s)``; peer tools have shipped both.)

    Exact adds: products scatter into the output; an output that receives ``M`` products
    needs ``M - 1`` adds, products cropped by ``padding`` need none. So
    ``adds = (products inside the output) - (outputs receiving at least one product)``,
    computed per axis by `layercalc.shapes.transposed_products` and
    `~layercalc.shapes.transposed_covered`, and ``dots`` is set so that ``macs - dots`` equals
    that. A bias is one add per covered output (an output no product reaches just equals the
    bias). params = ``C_in*(C_out/g)*prod(k)`` (+ ``C_out``).

    References
    ==========
    .. [1] PyTorch, ``torch.nn.ConvTranspose2d`` documentation.
    .. [2] Dumoulin & Visin, "A guide to convolution arithmetic", 2016, section 4.
    """

    in_channels: Dim = dim()
    out_channels: Dim = dim()
    kernel_size: Any = dims()
    stride: Any = dims(1)
    padding: Any = dims(0, minimum=0)
    output_padding: Any = dims(0, minimum=0)
    groups: Dim = dim(1)
    bias: bool = flag(True)
    dilation: Any = dims(1)
    padding_mode: str = choice("zeros", ("zeros",))

    def check(self) -> None:
        g = self.groups
        require(divides(g, self.in_channels), self.kind,
                f"in_channels (={self.in_channels}) must be divisible by groups (={g})")
        require(divides(g, self.out_channels), self.kind,
                f"out_channels (={self.out_channels}) must be divisible by groups (={g})")
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if all(type(v) is int for v in (op, s, d)):
                ok: Any = op < s or op < d
            else:
                ok = sp.Or(sp.Lt(op, s), sp.Lt(op, d))
            require(
                ok, self.kind,
                f"output_padding (={fmt(self.output_padding)}) must be smaller than stride "
                f"(={fmt(self.stride)}) or dilation (={fmt(self.dilation)}) along each axis",
            )

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, self.ndim + 1, layout=_layout(self.ndim))
        self._channels(shape, self.in_channels)
        out = []
        for axis, n, k, s, p, d, op in zip(
            AXIS_NAMES[self.ndim], shape[1:], self.kernel_size, self.stride, self.padding,
            self.dilation, self.output_padding,
        ):
            o = conv_transpose_out(n, k, s, p, d, op)
            require(ge(o, 1), self.kind,
                    lambda: f"output size along {axis} would be {o} for input size {n}",
                    hint=lambda: f"padding (={p}) crops more than the transposed convolution produces.",
                    error=ShapeError)
            out.append(o)
        return (self.out_channels, *out)

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        shape = self._input(x, self.ndim + 1)
        per_in = exact_div(self.out_channels, self.groups) * prod(self.kernel_size)
        macs = as_count(self.in_channels * per_in * prod(shape[1:]))
        landed: Dim = 1
        covered: Dim = 1
        notes = []
        for n, k, s, p, d, op in zip(shape[1:], self.kernel_size, self.stride, self.padding,
                                     self.dilation, self.output_padding):
            try:
                landed = landed * transposed_products(n, k, s, p, d, op)
                c, note = transposed_covered(n, k, s, p, d, op)
            except LimitError as e:
                raise LimitError(self.kind, e.problem, e.hint) from None
            covered = covered * c
            if note:
                notes.append(note)
        products_in = as_count(exact_div(self.in_channels, self.groups) * self.out_channels
                               * landed)
        covered_outputs = as_count(self.out_channels * covered)
        weights = as_count(self.in_channels * per_in)
        params = weights + (self.out_channels if self.bias else 0)
        return Cost(
            params=params,
            macs=macs,
            # macs - dots == products_in - covered_outputs: the exact number of adds
            dots=as_count(macs - products_in + covered_outputs),
            bias_adds=covered_outputs if self.bias else 0,
            weight_reads=params,
            act_reads=prod(shape),
            writes=prod(y),
            tap_reads=macs,
            notes=tuple(dict.fromkeys(notes)),
        )


@dataclass(frozen=True)
class ConvTranspose1d(_ConvTransposeNd):
    """As `_ConvTransposeNd` with one spatial axis, like ``torch.nn.ConvTranspose1d``."""

    ndim = 1


@dataclass(frozen=True)
class ConvTranspose2d(_ConvTransposeNd):
    """As `_ConvTransposeNd` with two spatial axes, like ``torch.nn.ConvTranspose2d``.

    >>> up = ConvTranspose2d(64, 32, 4, stride=2, padding=1)
    >>> up.output_shape((64, 7, 7))
    (32, 14, 14)
    >>> up.cost((64, 7, 7)).macs  # 64 * 32 * 16 * 7 * 7, on the input grid
    1605632
    """

    ndim = 2


@dataclass(frozen=True)
class ConvTranspose3d(_ConvTransposeNd):
    """As `_ConvTransposeNd` with three spatial axes, like ``torch.nn.ConvTranspose3d``."""

    ndim = 3
