"""Channel slicing and shuffle (ShuffleNet), axis permutation and cyclic shifts (ConvNeXt,
Swin): layers that move data without arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..cost import Cost
from ..dims import Dim, as_count, divides, fmt, ge, prod, require
from ..errors import LayerSpecError, ShapeError
from ._base import Layer, dim


@dataclass(frozen=True)
class Slice(Layer):
    """Channels ``start:stop`` of a channel-first input, as ``x[:, start:stop]`` in PyTorch.

    A view: no arithmetic and no memory traffic (the consumer reads the slice).

    >>> Slice(0, 58).output_shape((116, 28, 28))
    (58, 28, 28)
    """

    start: Dim = dim(minimum=0)
    stop: Dim = dim()

    def check(self) -> None:
        require(ge(self.stop, self.start + 1), self.kind,
                f"stop (={self.stop}) must be greater than start (={self.start})")

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, min_rank=1)
        require(ge(shape[0], self.stop), self.kind,
                f"stop (={self.stop}) exceeds the {shape[0]} channels of input shape "
                f"{fmt(shape)}", error=ShapeError)
        return (as_count(self.stop - self.start), *shape[1:])

    def cost(self, x: Any) -> Cost:
        self.output_shape(x)
        return Cost()


@dataclass(frozen=True)
class ChannelShuffle(Layer):
    """ShuffleNet's channel shuffle, as ``torch.nn.ChannelShuffle(groups)``: reshape to
    ``(g, C/g, ...)``, transpose, flatten. A permutation: no arithmetic; the tensor is read and
    written once (a copy, since the result is not a view).

    References
    ==========
    .. [1] Zhang et al., "ShuffleNet", 2017, https://arxiv.org/abs/1707.01083, section 3.1.

    >>> ChannelShuffle(2).cost((116, 28, 28)).writes
    90944
    """

    groups: Dim = dim()

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, min_rank=1)
        c = shape[0]
        require(divides(self.groups, c), self.kind,
                f"input channels (={c}) must be divisible by groups (={self.groups})",
                error=ShapeError)
        return shape

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        return Cost(act_reads=prod(y), writes=prod(y))




def _torch_dims(layer: Layer, name: str, dims: tuple, rank: int) -> tuple[int, ...]:
    """Batch-free axes for PyTorch dims `dims` of a batched tensor of rank ``rank + 1``
    (PyTorch counts the batch as dim 0; negative dims count from the end)."""
    out = []
    for d in dims:
        if not -(rank + 1) <= d <= rank:
            raise ShapeError(layer.kind, f"{name} (={fmt(tuple(dims))}) is out of range for an "
                             f"input of rank {rank} (batch excluded); valid: 1..{rank} or "
                             f"-{rank}..-1")
        a = d % (rank + 1)
        if a == 0:
            raise ShapeError(layer.kind, f"{name} (={fmt(tuple(dims))}) moves the batch axis; "
                             "shapes here exclude the batch", "Keep dim 0 (the batch) first.")
        out.append(a - 1)
    return tuple(out)


def _int_tuple(layer: Layer, name: str, value: Any) -> tuple[int, ...]:
    vals = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, int):
            raise LayerSpecError(layer.kind, f"{name} (={value!r}) must be an integer or a "
                                 "sequence of integers")
    return vals


@dataclass(frozen=True)
class Permute(Layer):
    """``torch.permute(x, dims)``, as ``torchvision.ops.misc.Permute(dims)`` (ConvNeXt, Swin):
    reorders the axes. A view: no arithmetic and no memory traffic (the consumer reads the
    strided view), as `Transpose`.

    `dims` are PyTorch's, for the *batched* tensor, so a line copied from torchvision means
    the same: ``Permute([0, 2, 3, 1])`` turns a channels-first ``(C, H, W)`` sample into
    channels-last ``(H, W, C)``. The batch must stay first (``dims[0] == 0``): costs are per
    sample.

    output shape: ``out[i] = x[dims[i + 1] - 1]`` for the batch-free shape ``x``.

    >>> Permute([0, 2, 3, 1]).output_shape((96, 56, 56))
    (56, 56, 96)
    >>> Permute([0, 3, 1, 2]).output_shape((56, 56, 96))
    (96, 56, 56)
    """

    dims: tuple = ()

    def check(self) -> None:
        dims = _int_tuple(self, "dims", self.dims)
        object.__setattr__(self, "dims", dims)
        n = len(dims)
        if n < 1 or sorted(d % n for d in dims) != list(range(n)):
            raise LayerSpecError(self.kind, f"dims (={fmt(dims)}) must be a permutation of "
                                 f"0..{max(n - 1, 0)}")
        if dims[0] % n != 0:
            raise LayerSpecError(self.kind, f"dims (={fmt(dims)}) moves the batch axis; shapes "
                                 "here exclude the batch", "Keep dim 0 (the batch) first.")

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, len(self.dims) - 1, layout=f"(permuting {len(self.dims)} "
                            "batched axes)")
        axes = _torch_dims(self, "dims", self.dims[1:], len(shape))
        return tuple(shape[a] for a in axes)

    def cost(self, x: Any) -> Cost:
        self.output_shape(x)
        return Cost()


@dataclass(frozen=True)
class Roll(Layer):
    """``torch.roll(x, shifts, dims)``: shifts elements cyclically along `dims` (Swin's shifted
    windows, ``torch.roll(x, shifts=(-s, -s), dims=(1, 2))`` on a channels-last
    ``(B, H, W, C)`` tensor). `dims` are PyTorch's (the batch is dim 0). ``dims=None`` is
    rejected: PyTorch then rolls the flattened *batched* tensor, which mixes samples, so it has
    no per-sample cost.

    Same shape out. No arithmetic; the result is a new tensor, so every element is read once
    and written once (a copy): ``act_reads = writes = numel``. A shift may be any integer
    (negative, larger than the axis, or a symbol): it changes values' positions, not counts.

    >>> c = Roll((-3, -3), (1, 2)).cost((56, 56, 96))
    >>> c.act_reads, c.writes, c.macs
    (301056, 301056, 0)
    """

    shifts: Any = 0
    dims: Any = None

    def check(self) -> None:
        if self.dims is None:
            raise LayerSpecError(self.kind, "dims (=None) rolls the flattened batched tensor, "
                                 "mixing samples; per-sample costs need explicit dims",
                                 "Give the axes, e.g. dims=(1, 2) for H and W of (B, H, W, C).")
        dims = _int_tuple(self, "dims", self.dims)
        vals = tuple(self.shifts) if isinstance(self.shifts, (list, tuple)) else (self.shifts,)
        shifts = tuple(as_count(v) if not isinstance(v, bool) and isinstance(v, (int, sp.Expr))
                       else _bad_shift(self, v) for v in vals)
        if len(shifts) != len(dims):
            raise LayerSpecError(self.kind, f"shifts (={fmt(shifts)}) and dims (={fmt(dims)}) "
                                 "must have the same length")
        object.__setattr__(self, "dims", dims)
        object.__setattr__(self, "shifts", shifts)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, min_rank=1)
        _torch_dims(self, "dims", self.dims, len(shape))
        return shape

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        n = prod(y)
        return Cost(act_reads=n, writes=n)


def _bad_shift(layer: Layer, v: Any) -> Any:
    raise LayerSpecError(layer.kind, f"shifts (entry {v!r}) must be an integer or a SymPy "
                         "expression")
