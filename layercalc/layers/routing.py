"""Mixture-of-experts routing: choosing ``top_k`` of ``num_experts`` per token, and combining
the chosen experts' outputs. `layercalc.MoE` puts them around the router and the experts.

Shapes exclude the batch; tokens come first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..cost import Cost
from ..dims import Dim, as_count, eq, exact_div, fmt, ge, prod, require
from ..errors import ShapeError
from ._base import Layer, dim, flag

__all__ = ["TopKRouting", "ExpertCombine"]


@dataclass(frozen=True)
class TopKRouting(Layer):
    """Top-k routing of router logits, as Mixtral's and Qwen2-MoE's routers in Hugging Face
    (``softmax`` over the experts, ``topk``, then, with ``norm_topk_prob``, the chosen weights
    renormalised to sum to 1). Input the logits ``(T, num_experts)``; output the routing
    weights ``(T, top_k)`` (the expert indices are written too).

    Per token, with ``E = num_experts`` and ``k = top_k``::

        softmax over E          E - 1 cmp, 2E - 1 add, E exp, E div   (as `Softmax`)
        top-k selection         k(E - 1) - k(k - 1)/2 cmp    (k successive maxima over
                                                              E, E - 1, ... remaining scores)
        renormalise (optional)  k - 1 add, k div

    Sorting networks or heaps select with other comparison counts; the successive-maximum
    count is the one stated here. Memory: the ``T*E`` logits read, ``T*k`` weights and ``T*k``
    indices written (elements).

    References
    ==========
    .. [1] Jiang et al., "Mixtral of Experts", 2024, https://arxiv.org/abs/2401.04088, eq. 1-2.
    .. [2] Hugging Face transformers, ``models/mixtral/modeling_mixtral.py``
       (``MixtralTopKRouter``) and ``models/qwen2_moe/modeling_qwen2_moe.py``.

    >>> dict(TopKRouting(8, 2).cost((1, 8)).ops)  # one token of Mixtral
    {'add': 16, 'cmp': 20, 'div': 10, 'exp': 8}
    """

    num_experts: Dim = dim()
    top_k: Dim = dim()
    norm_topk_prob: bool = flag(True)

    def check(self) -> None:
        require(ge(self.num_experts, self.top_k), self.kind,
                lambda: f"top_k (={self.top_k}) must be at most num_experts "
                f"(={self.num_experts})")

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, 2, layout="(T, num_experts)")
        require(eq(shape[1], self.num_experts), self.kind,
                lambda: f"expected {self.num_experts} logits per token (num_experts), got "
                f"input shape {fmt(shape)}", error=ShapeError)
        return (shape[0], self.top_k)

    def cost(self, x: Any) -> Cost:
        T, k = self.output_shape(x)
        E = self.num_experts
        select = as_count(k * (E - 1) - exact_div(as_count(k * (k - 1)), 2))
        ops = {"cmp": as_count(T * (E - 1 + select)), "add": as_count(T * (2 * E - 1)),
               "exp": as_count(T * E), "div": as_count(T * E)}
        if self.norm_topk_prob:
            ops["add"] = as_count(ops["add"] + T * (k - 1))
            ops["div"] = as_count(ops["div"] + T * k)
        return Cost(ops=ops, act_reads=as_count(T * E), writes=as_count(2 * T * k),
                    notes=("MoE routing: top-k counted as k successive maxima",))


@dataclass(frozen=True)
class ExpertCombine(Layer):
    """The output of a mixture of experts: each token's ``top_k`` expert outputs scaled by
    their routing weights and summed, plus the always-active shared experts' outputs
    (``shared`` terms, DeepSeek-MoE and Qwen2-MoE)::

        y = sum_{j<k} w_j * expert_j(x) + sum_{s<shared} shared_s(x)

    Input: the shape of one expert output ``(T, d)``. Per token: ``k*d`` mul and
    ``(k - 1 + shared)*d`` add (Hugging Face's ``index_add_`` into zeros adds ``d`` more, the
    first term onto zero, which is not counted). Memory: ``(k + shared)*T*d`` expert outputs
    and ``T*k`` weights read, ``T*d`` written.

    >>> dict(ExpertCombine(2).cost((1, 4096)).ops)  # one token of Mixtral
    {'add': 4096, 'mul': 8192}
    """

    top_k: Dim = dim()
    shared: Dim = dim(0, minimum=0)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        return self._input(x, min_rank=1)

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        n, T = prod(y), y[0]
        k, s = self.top_k, self.shared
        ops = {"mul": as_count(k * n), "add": as_count((k - 1 + s) * n)}
        return Cost(ops=ops, act_reads=as_count((k + s) * n + T * k), writes=n)
