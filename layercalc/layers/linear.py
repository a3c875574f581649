"""Linear and Embedding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..cost import Cost
import sympy as sp

from ..dims import Dim, as_count, eq, fmt, ge, prod, require, truth
from ..errors import ShapeError
from ._base import Layer, dim, flag, real

__all__ = ["Linear", "Embedding"]


@dataclass(frozen=True)
class Linear(Layer):
    """Fully connected layer ``y = x W^T + b`` over the last axis, like ``torch.nn.Linear``.

    Input ``(*, in_features)``, output ``(*, out_features)``; with ``F = prod(*)`` leading
    positions (1 for a plain vector)::

        params = I*O (+ O with bias)
        MACs   = F*I*O,  dots = F*O,  bias adds = F*O with bias

    so exact FLOPs are ``(2I - 1)*O`` without bias and ``2I*O`` with it per position (seed 000,
    seed 003), and MACs ``F*C_in*C_out`` (seed 001).

    Memory (compulsory): weights read once, ``F*I`` read, ``F*O`` written; no reuse: one input
    read per MAC.

    >>> fc = Linear(4096, 1000)
    >>> fc.cost((4096,)).params, fc.cost((4096,)).macs
    (4097000, 4096000)
    """

    in_features: Dim = dim()
    out_features: Dim = dim()
    bias: bool = flag(True)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, min_rank=1)
        require(eq(shape[-1], self.in_features), self.kind,
                lambda: f"expected {self.in_features} input features in the last axis, got input "
                f"shape {fmt(shape)}", error=ShapeError)
        return (*shape[:-1], self.out_features)

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        outputs = prod(y)
        weights = as_count(self.in_features * self.out_features)
        params = weights + (self.out_features if self.bias else 0)
        macs = as_count(outputs * self.in_features)
        return Cost(
            params=params,
            macs=macs,
            dots=outputs,
            bias_adds=outputs if self.bias else 0,
            weight_reads=params,
            act_reads=prod(self._input(x, min_rank=1)),
            writes=outputs,
            tap_reads=macs,
        )


@dataclass(frozen=True)
class Embedding(Layer):
    """A lookup table, like ``torch.nn.Embedding``: indices ``(*)`` to ``(*, embedding_dim)``.

    params = ``num_embeddings * embedding_dim``; no arithmetic. Memory: the indices are read
    and one row is gathered per index, so the gathered rows are per-sample traffic and are
    counted in ``act_reads`` (``prod(*) * (1 + embedding_dim)``); the table is never read whole,
    so ``weight_reads`` is 0. ``max_norm`` renormalisation is not modelled.

    Validation as PyTorch's: ``padding_idx`` is ``None`` or an integer in
    ``[-num_embeddings, num_embeddings - 1]``, and a negative one is stored as
    ``padding_idx + num_embeddings`` (``Embedding(10, 3, padding_idx=-1).padding_idx == 9``);
    ``max_norm`` is ``None`` or a real number, ``norm_type`` a real number,
    ``scale_grad_by_freq`` and ``sparse`` booleans.

    >>> Embedding(50257, 768).cost((1024,)).params
    38597376
    >>> Embedding(10, 3, padding_idx=10)
    Traceback (most recent call last):
    ...
    layercalc.errors.LayerSpecError: Embedding: padding_idx (=10) must be in [-10, 9] (within num_embeddings).
    """

    num_embeddings: Dim = dim()
    embedding_dim: Dim = dim()
    padding_idx: Any = dim(None, minimum=None, optional=True)
    max_norm: Any = real(None, optional=True, allow_inf=True)
    norm_type: float = real(2.0, allow_inf=True)
    scale_grad_by_freq: bool = flag(False)
    sparse: bool = flag(False)

    def check(self) -> None:
        i, n = self.padding_idx, self.num_embeddings
        if i is None:
            return
        require(sp.And(ge(i, -n), ge(n - 1, i)) if not (type(i) is int and type(n) is int)
                else -n <= i <= n - 1, self.kind,
                lambda: f"padding_idx (={i}) must be in [{fmt(as_count(-n))}, "
                f"{fmt(as_count(n - 1))}] (within num_embeddings)")
        if type(i) is int and i < 0:
            object.__setattr__(self, "padding_idx", as_count(i + n))
        elif type(i) is not int and truth(ge(i, 0)) is False:
            object.__setattr__(self, "padding_idx", as_count(i + n))

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x)
        return (*shape, self.embedding_dim)

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        n = prod(self._input(x))
        return Cost(
            params=as_count(self.num_embeddings * self.embedding_dim),
            act_reads=as_count(n + n * self.embedding_dim),
            writes=prod(y),
        )
