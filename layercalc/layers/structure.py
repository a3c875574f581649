"""Channel slicing and channel shuffle: the two layers ShuffleNet units need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..cost import Cost
from ..dims import Dim, as_count, divides, fmt, ge, prod, require
from ..errors import ShapeError
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


