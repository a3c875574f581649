"""Elementwise activations and (Log)Softmax, PyTorch semantics.

Every activation maps an input of any shape to an output of the same shape, one sample at a
time. Each class documents the *exact decomposition* it counts: the operations, by kind (see
`layercalc.cost.OP_KINDS`), one element needs. Under the ``exact`` convention each op counts 1,
so exact FLOPs per element are the number of ops listed. Rules used throughout:

- a subtraction counts as an ``add``; a negation (sign flip) is free and not counted;
- multiplying by a constant (``0.5``, ``1/sqrt(2)``) is a ``mul``; dividing by one (``/6``) is
  a ``div``, as the formula is written (and as PyTorch's kernels compute it);
- a select (``x if x > 0 else a*x``) is a ``cmp``; both branches' arithmetic is counted, as a
  branch-free vectorised kernel computes it for every element.

Memory (elements, compulsory): ``act_reads`` = input elements, ``writes`` = output elements,
``weight_reads`` = params (PReLU only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..cost import Cost
from ..dims import Dim, as_count, as_index, eq, exact_div, fmt, prod, require, truth
from ..errors import LayerSpecError, ShapeError
from ._base import Layer, choice, dim, flag, real

__all__ = [
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "Sigmoid", "Tanh", "GELU", "SiLU",
    "Hardswish", "Hardsigmoid", "Softmax", "LogSoftmax",
]


@dataclass(frozen=True)
class _Elementwise(Layer):
    """An activation applied to every element; subclasses set `per_element` (op kind -> count
    per element)."""

    per_element: ClassVar[dict[str, int]] = {}

    def _ops(self) -> dict[str, int]:
        return self.per_element

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        return self._input(x)

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        n = prod(y)
        return Cost(
            ops={k: as_count(v * n) for k, v in self._ops().items()},
            act_reads=n,
            writes=n,
        )


@dataclass(frozen=True)
class ReLU(_Elementwise):
    """``max(x, 0)``, like ``torch.nn.ReLU``: **1 cmp** per element.

    Seed 004: ReLU on a 28x28x512 activation reads 401,408 elements and writes 401,408, i.e.
    802,816 element accesses.

    >>> c = ReLU().cost((512, 28, 28))
    >>> c.ops["cmp"], c.act_reads + c.writes
    (401408, 802816)
    """

    inplace: bool = flag(False)
    per_element = {"cmp": 1}


@dataclass(frozen=True)
class ReLU6(_Elementwise):
    """``min(max(x, 0), 6)``, like ``torch.nn.ReLU6``: **2 cmp** per element.

    >>> dict(ReLU6().cost((32, 112, 112)).ops)
    {'cmp': 802816}
    """

    inplace: bool = flag(False)
    per_element = {"cmp": 2}


@dataclass(frozen=True)
class LeakyReLU(_Elementwise):
    """``x if x >= 0 else negative_slope*x``, like ``torch.nn.LeakyReLU``: **1 cmp + 1 mul**
    per element (the product is computed for every element, branch-free).

    >>> dict(LeakyReLU(0.2).cost((64, 8, 8)).ops)
    {'cmp': 4096, 'mul': 4096}
    """

    negative_slope: float = real(0.01, allow_inf=True, allow_nan=True)
    inplace: bool = flag(False)
    per_element = {"cmp": 1, "mul": 1}


@dataclass(frozen=True)
class PReLU(_Elementwise):
    """LeakyReLU with a learned slope, like ``torch.nn.PReLU``: **1 cmp + 1 mul** per element;
    ``params = num_parameters`` (one slope, or one per channel).

    ``num_parameters`` must be 1 or the number of channels, ``shape[0]`` of the batch-free
    input (PyTorch's dim 1).

    >>> c = PReLU(64).cost((64, 56, 56))
    >>> c.params, c.weight_reads, dict(c.ops)
    (64, 64, {'cmp': 200704, 'mul': 200704})
    """

    num_parameters: Dim = dim(1)
    init: float = real(0.25, allow_inf=True, allow_nan=True)
    per_element = {"cmp": 1, "mul": 1}

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        n = self.num_parameters
        if truth(eq(n, 1)) is True:
            return self._input(x)
        shape = self._input(x, min_rank=1)
        require(eq(shape[0], n), self.kind,
                f"num_parameters (={n}) must be 1 or the number of channels, got input shape "
                f"{fmt(shape)} with {shape[0]} channels", error=ShapeError)
        return shape

    def cost(self, x: Any) -> Cost:
        c = super().cost(x)
        return Cost(params=self.num_parameters, weight_reads=self.num_parameters, ops=c.ops,
                    act_reads=c.act_reads, writes=c.writes)


@dataclass(frozen=True)
class ELU(_Elementwise):
    """``x if x > 0 else alpha*(exp(x) - 1)``, like ``torch.nn.ELU``: **1 cmp, 1 exp, 1 add,
    1 mul** per element (the negative branch computed for every element).

    >>> dict(ELU().cost((10,)).ops)
    {'add': 10, 'cmp': 10, 'exp': 10, 'mul': 10}
    """

    alpha: float = real(1.0, allow_inf=True, allow_nan=True)
    inplace: bool = flag(False)
    per_element = {"cmp": 1, "exp": 1, "add": 1, "mul": 1}


@dataclass(frozen=True)
class Sigmoid(_Elementwise):
    """``1/(1 + exp(-x))``, like ``torch.nn.Sigmoid``: **1 exp, 1 add, 1 div** per element.
    The negation ``-x`` is a sign flip and is not counted.

    >>> dict(Sigmoid().cost((4, 4)).ops)
    {'add': 16, 'div': 16, 'exp': 16}
    """

    per_element = {"exp": 1, "add": 1, "div": 1}


@dataclass(frozen=True)
class Tanh(_Elementwise):
    """``tanh(x)``, like ``torch.nn.Tanh``: **1 tanh** per element.

    >>> dict(Tanh().cost((3, 5)).ops)
    {'tanh': 15}
    """

    per_element = {"tanh": 1}


_GELU_OPS = {
    # x * 0.5 * (1 + erf(x * (1/sqrt(2))))
    "none": {"mul": 3, "erf": 1, "add": 1},
    # 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3)))
    "tanh": {"mul": 6, "add": 2, "tanh": 1},
}


@dataclass(frozen=True)
class GELU(_Elementwise):
    """Gaussian error linear unit, like ``torch.nn.GELU(approximate=...)``.

    ``approximate='none'``: ``x * 0.5 * (1 + erf(x * (1/sqrt(2))))`` (PyTorch multiplies by
    the constant ``M_SQRT1_2`` rather than dividing by ``sqrt(2)``): **3 mul** (``x*(1/sqrt2)``,
    ``x*0.5``, the final product), **1 erf, 1 add** per element.

    ``approximate='tanh'``: ``0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3)))``:
    ``x**3`` is 2 mul, then ``0.044715*``, ``sqrt(2/pi)*``, ``0.5*x`` and the final product are
    4 more: **6 mul, 2 add** (``x + ...``, ``1 + ...``), **1 tanh** per element.

    References
    ==========
    .. [1] Hendrycks & Gimpel, "Gaussian Error Linear Units (GELUs)", 2016,
       https://arxiv.org/abs/1606.08415, section 2.
    .. [2] PyTorch, ``torch.nn.GELU`` documentation.

    >>> dict(GELU().cost((768,)).ops), dict(GELU('tanh').cost((768,)).ops)
    ({'add': 768, 'erf': 768, 'mul': 2304}, {'add': 1536, 'mul': 4608, 'tanh': 768})
    """

    approximate: str = choice("none", ("none", "tanh"))

    def _ops(self) -> dict[str, int]:
        return _GELU_OPS[self.approximate]


@dataclass(frozen=True)
class SiLU(_Elementwise):
    """``x * sigmoid(x)``, like ``torch.nn.SiLU`` (Swish), computed as PyTorch's kernel does,
    ``x / (1 + exp(-x))``: **1 exp, 1 add, 1 div** per element (the negation is free). Writing
    it as ``x * sigmoid(x)`` would cost one more ``mul``.

    >>> dict(SiLU().cost((8,)).ops)
    {'add': 8, 'div': 8, 'exp': 8}
    """

    inplace: bool = flag(False)
    per_element = {"exp": 1, "add": 1, "div": 1}


@dataclass(frozen=True)
class Hardswish(_Elementwise):
    """``x * relu6(x + 3) / 6``, like ``torch.nn.Hardswish``: **1 add, 2 cmp, 1 mul, 1 div**
    per element.

    References
    ==========
    .. [1] Howard et al., "Searching for MobileNetV3", 2019, https://arxiv.org/abs/1905.02244,
       section 5.2.

    >>> dict(Hardswish().cost((16, 112, 112)).ops)["cmp"]
    401408
    """

    inplace: bool = flag(False)
    per_element = {"add": 1, "cmp": 2, "mul": 1, "div": 1}


@dataclass(frozen=True)
class Hardsigmoid(_Elementwise):
    """``relu6(x + 3) / 6``, like ``torch.nn.Hardsigmoid``: **1 add, 2 cmp, 1 div** per element.

    >>> dict(Hardsigmoid().cost((5,)).ops)
    {'add': 5, 'cmp': 10, 'div': 5}
    """

    inplace: bool = flag(False)
    per_element = {"add": 1, "cmp": 2, "div": 1}


# -- softmax -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _SoftmaxBase(Layer):
    """Shared axis handling of `Softmax` and `LogSoftmax`.

    ``dim`` follows PyTorch, whose tensors carry the batch as dim 0: for the batch-free shape
    used here, ``dim=d >= 1`` is axis ``d - 1`` of the shape (``Softmax(dim=1)`` on ``(C, H,
    W)`` normalises over channels) and a negative ``dim`` counts from the end as usual
    (``dim=-1`` is the last axis). ``dim=0`` is the batch axis, which a per-sample cost cannot
    describe, so it is rejected. ``dim=None`` is PyTorch's deprecated implicit choice: dim 1
    (our axis 0) unless the batched input has rank 0, 1 or 3, where PyTorch picks the batch.
    """

    dim: Any = None

    def check(self) -> None:
        d = self.dim
        if d is None:
            return
        d = as_index(d, self.kind, "dim", optional=True)
        object.__setattr__(self, "dim", d)
        if d == 0:
            raise LayerSpecError(
                self.kind, "dim (=0) is the batch axis; shapes here exclude the batch",
                "Use dim=1 for the first axis of the batch-free shape, or dim=-1 for the last.")

    def _axis(self, shape: tuple[Dim, ...]) -> int:
        r = len(shape)
        d = self.dim
        if d is None:
            if r + 1 in (0, 1, 3):
                raise ShapeError(
                    self.kind,
                    f"dim=None makes PyTorch pick the batch axis for input shape {fmt(shape)}",
                    "Give dim explicitly (dim=-1 for the last axis).")
            return 0
        if not (-r <= d <= r):
            raise ShapeError(
                self.kind,
                f"dim (={d}) is out of range for input shape {fmt(shape)} (batch excluded); "
                f"valid: 1..{r} or -{r}..-1",
            )
        return d - 1 if d > 0 else r + d

    def _slices(self, x: Any) -> tuple[tuple[Dim, ...], Dim, Dim]:
        shape = self._input(x, min_rank=1)
        n = shape[self._axis(shape)]
        return shape, n, exact_div(prod(shape), n)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        return self._slices(x)[0]


@dataclass(frozen=True)
class Softmax(_SoftmaxBase):
    """``exp(x_i - m) / sum_j exp(x_j - m)`` over axis `dim`, like ``torch.nn.Softmax``.

    The numerically stable form PyTorch computes, with ``m`` the slice maximum. Per slice of
    ``n`` elements: **n - 1 cmp** (the max), **n add** (``x_i - m``), **n exp**, **n - 1 add**
    (the sum), **n div**; in total ``n - 1`` cmp, ``2n - 1`` add, ``n`` exp, ``n`` div, times
    the number of slices ``prod(shape)/n``. See `_SoftmaxBase` for how ``dim`` is read
    (PyTorch's indexing, which counts the batch as dim 0).

    References
    ==========
    .. [1] PyTorch, ``torch.nn.Softmax`` documentation; ``aten/src/ATen/native/cpu/
       SoftMaxKernel.cpp`` (max, subtract, exp, sum, normalise).

    >>> dict(Softmax(dim=-1).cost((12, 197, 197)).ops)  # attention scores of ViT-B/16
    {'add': 929052, 'cmp': 463344, 'div': 465708, 'exp': 465708}
    """

    def cost(self, x: Any) -> Cost:
        shape, n, slices = self._slices(x)
        total = prod(shape)
        return Cost(
            ops={"cmp": slices * (n - 1), "add": slices * (2 * n - 1), "exp": total,
                 "div": total},
            act_reads=total,
            writes=total,
        )


@dataclass(frozen=True)
class LogSoftmax(_SoftmaxBase):
    """``(x_i - m) - log(sum_j exp(x_j - m))`` over axis `dim`, like ``torch.nn.LogSoftmax``.

    Per slice of ``n`` elements: **n - 1 cmp** (the max ``m``), **n add** (``x_i - m``, reused
    twice), **n exp**, **n - 1 add** (the sum), **1 log**, **n add** (subtract the log); in
    total ``n - 1`` cmp, ``3n - 1`` add, ``n`` exp, 1 log per slice. ``dim`` as for `Softmax`.

    >>> dict(LogSoftmax(dim=1).cost((10,)).ops)
    {'add': 29, 'cmp': 9, 'exp': 10, 'log': 1}
    """

    def cost(self, x: Any) -> Cost:
        shape, n, slices = self._slices(x)
        total = prod(shape)
        return Cost(
            ops={"cmp": slices * (n - 1), "add": slices * (3 * n - 1), "exp": total,
                 "log": slices},
            act_reads=total,
            writes=total,
        )
