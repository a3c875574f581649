"""Published closed forms for training compute and memory, as their papers state them.

Each function is the paper's formula, symbol for symbol (ints or SymPy expressions). They are
checks, not the method: `layercalc.training` derives the same numbers from the layers, and
``tests/test_published.py`` shows, symbolically, that the layers give each formula exactly
under the paper's assumptions (and what the exact, causal count adds). docs/training.md has
the derivations.

>>> narayanan_flops(1, 2048, 96, 12288, 51200) == 96 * 2048 * 96 * 12288**2 * (
...     1 + sp.Rational(2048, 6 * 12288) + sp.Rational(51200, 16 * 96 * 12288))
True
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .dims import Dim, as_count, to_expr
from .errors import LayerCalcError

__all__ = ["kaplan_flops_per_token", "chinchilla_flops", "palm_flops_per_token",
           "narayanan_flops", "korthikanti_activations", "zero_memory"]


def _q(a: Any, b: Any) -> Any:
    return as_count(to_expr(a) / b)


def kaplan_flops_per_token(n: Dim) -> Dim:
    """Kaplan et al. 2020, "Scaling Laws for Neural Language Models", section 2.1: training
    compute ``C ~= 6N`` per token, ``N`` the non-embedding parameters (biases and other
    sub-leading terms excluded): ``2N`` forward, twice that backward; the context and
    de-embedding terms are neglected.

    >>> kaplan_flops_per_token(12 * 12 * 768**2)
    509607936
    """
    return as_count(6 * n)


def chinchilla_flops(n: Dim, d: Dim) -> Dim:
    """Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models", section 3.3:
    ``C = 6ND`` for ``N`` parameters and ``D`` training tokens (Kaplan's ``6N`` per token).

    >>> chinchilla_flops(70 * 10**9, 1_400 * 10**9)  # Chinchilla itself: 5.88e23
    588000000000000000000000
    """
    return as_count(6 * n * d)


def palm_flops_per_token(n: Dim, layers: Dim, heads: Dim, head_dim: Dim, seq: Dim) -> Dim:
    """Chowdhery et al. 2022, "PaLM", appendix B: model FLOPs per token ``6N + 12LHQT``:
    ``6N`` for the matrix multiplications of ``N`` parameters (forward and backward) and
    ``12LHQT`` for self-attention (``L`` layers, ``H`` heads, ``Q`` head size, ``T``
    sequence length; every query sees all ``T`` keys).

    >>> palm_flops_per_token(10, 2, 3, 4, 5)  # 6*10 + 12*2*3*4*5
    1500
    """
    return as_count(6 * n + 12 * layers * heads * head_dim * seq)


def narayanan_flops(batch: Dim, seq: Dim, layers: Dim, hidden: Dim, vocab: Dim) -> Dim:
    """Narayanan et al. 2021, "Efficient Large-Scale Language Model Training on GPU Clusters
    Using Megatron-LM", section 5.1: FLOPs per iteration of a GPT with full activation
    recomputation, ``96 B s l h^2 (1 + s/(6h) + V/(16 l h))`` (four forward-sized passes of
    the ``24 B s h^2 + 4 B s^2 h`` matmul FLOPs per layer, unmasked attention, and three of
    the ``2 B s h V`` logit layer).

    >>> narayanan_flops(1, 1, 1, 6, 16)  # 96*36 + 16*6 + 6*6*16
    4128
    """
    h = to_expr(hidden)
    return as_count(sp.expand(96 * batch * seq * layers * h**2
                              * (1 + to_expr(seq) / (6 * h)
                                 + to_expr(vocab) / (16 * layers * h))))


def korthikanti_activations(s: Dim, b: Dim, h: Dim, a: Dim, t: Dim = 1, *,
                            sequence_parallel: bool = False,
                            recompute: str | None = None) -> Dim:
    """Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer
    Models", Table 2: activation bytes per transformer layer (16-bit activations, 1-byte
    dropout masks), sequence ``s``, micro-batch ``b``, hidden ``h``, ``a`` heads, tensor
    parallel size ``t``::

        no parallelism               sbh(34 + 5as/h)
        tensor parallel              sbh(10 + 24/t + 5as/(ht))
        tensor + sequence parallel   sbh(34/t + 5as/(ht))
        ... + selective recompute    sbh(10 + 24/t), sbh(34/t)
        full recompute               2sbh

    >>> korthikanti_activations(2048, 1, 12288, 96)  # GPT-3 175B, one layer
    2868903936
    """
    if recompute not in (None, "selective", "full"):
        raise LayerCalcError(f"korthikanti_activations: recompute (={recompute!r}) must be "
                             "None, 'selective' or 'full'")
    sbh = to_expr(s) * b * h
    if recompute == "full":
        return as_count(2 * sbh)
    core = 0 if recompute == "selective" else 5 * to_expr(a) * s / (h * t)
    if sequence_parallel:
        return as_count(sp.expand(sbh * (sp.Integer(34) / t + core)))
    return as_count(sp.expand(sbh * (10 + sp.Integer(24) / t + core)))  # t = 1: 34 + 5as/h


def zero_memory(params: Dim, dp: Dim, stage: int, k: Dim = 12) -> Dim:
    """Rajbhandari et al. 2020, "ZeRO: Memory Optimizations Toward Training Trillion
    Parameter Models", section 5.1 and Figure 1: model-state bytes per device for ``Psi``
    parameters in mixed precision (2-byte weights and gradients, ``K`` bytes of optimizer
    state a parameter: 12 for Adam's fp32 master weights, momentum and variance) over
    ``N_d = dp`` devices::

        stage 0: (2 + 2 + K) Psi     1: 2Psi + 2Psi + K Psi/N_d
        2: 2Psi + (2 + K) Psi/N_d    3: (2 + 2 + K) Psi/N_d

    The paper's example, 7.5B parameters on 64 GPUs: 120, 31.4, 16.6 and 1.9 GB.

    >>> [zero_memory(7_500_000_000, 64, z) for z in range(4)]
    [120000000000, 31406250000, 16640625000, 1875000000]
    """
    p = to_expr(params)
    forms = {0: (2 + 2 + k) * p, 1: 4 * p + k * p / dp, 2: 2 * p + (2 + k) * p / dp,
             3: (2 + 2 + k) * p / dp}
    if stage not in forms:
        raise LayerCalcError(f"zero_memory: stage (={stage!r}) must be 0, 1, 2 or 3")
    return as_count(forms[stage])
