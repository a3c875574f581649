"""GPT-2 (Hugging Face ``GPT2LMHeadModel``), and Kaplan et al.'s forward-pass FLOPs per token
derived from its layers.

Kaplan et al. 2020 ("Scaling Laws for Neural Language Models", arXiv:2001.08361, Sec. 2.1,
Table 1) count a decoder-only transformer's forward pass per token as

    C_forward = 2N + 2 n_layer n_ctx d_attn,    N = 2 d_model n_layer (2 d_attn + d_ff)

(``N`` = non-embedding parameters of the weight matrices; ``12 n_layer d_model^2`` when
``d_attn = d_ff/4 = d_model``). The layers here give, under the ``2*macs`` convention (2 FLOPs
per multiply-accumulate, nothing else), for `gpt2` with ``n_layer`` blocks, ``n_ctx`` tokens of
context (causal attention) and a vocabulary of ``n_vocab``, per token (total / ``n_ctx``)::

    qkv, output projection, MLP:  2 * n_layer * (3 + 1 + 8) d_model^2 = 2N      (exactly)
    QK^T and PV (causal):         2 * n_layer * d_model * (n_ctx + 1)
    lm_head (de-embedding):       2 * d_model * n_vocab

so ``C_layers - C_forward = 2 d_model n_vocab + 2 n_layer d_model`` exactly. The differences:

- Kaplan's Table 1 lists the de-embedding (``2 d_model n_vocab``) but leaves it out of
  ``C_forward``, as it leaves embeddings out of ``N``.
- The context term: query ``i`` of a causal model sees ``i + 1`` keys, so ``QK^T`` and ``PV``
  are ``d_model (n_ctx + 1)/2`` MACs each per token on average; together, at 2 FLOPs per MAC,
  ``2 d_model (n_ctx + 1)``: Kaplan's ``2 n_ctx d_attn`` plus the diagonal. Without the mask
  (``causal=False``, every query sees ``n_ctx`` keys) the term doubles to
  ``4 n_layer n_ctx d_model``: Kaplan's single "Attention: Mask" row is the causal count.
- Not counted by ``2*macs`` (nor by Kaplan): biases, LayerNorms, GELU, softmax, the scale
  ``1/sqrt(d)``, the residual and positional adds (Kaplan's Embed row, ``4 d_model``).

Training compute ``C ~= 6ND`` (Kaplan Sec. 2.1; Chinchilla, Hoffmann et al. 2022, Sec. 3.3)
is this ``2N`` per token for the forward pass plus ``4N`` for the backward pass (gradients
with respect to activations and to weights, one matmul of the forward's size each), times
``D`` training tokens. `layercalc.training` counts the backward from the layers: under
``2*macs`` the blocks' Linear rows give ``6N`` per token exactly, and the whole causal model
``6 d_model (n_vocab + n_layer (n_ctx + 1))`` more (docs/training.md).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ..errors import LayerSpecError
from ._config import HF_IGNORED
from ..layers import Dropout, Embedding, LayerNorm, Linear, PositionalEmbedding
from ..network import Sequential, Tied
from ..transformer import GPT2Block

__all__ = ["gpt2", "gpt2_medium", "gpt2_large", "gpt2_xl", "GPT2_SIZES", "GPT2_HF_IGNORED",
           "kaplan_forward_flops"]

#: Radford et al. 2019 Table 2 / HF configs of openai-community/gpt2{,-medium,-large,-xl}:
#: (n_layer, n_embd, n_head).
#: ``GPT2Config`` keys that change no count (dropout, the sequence-summary head's settings,
#: attention scaling switches); `gpt2` accepts and ignores them, so ``gpt2(**config)`` works.
GPT2_HF_IGNORED = frozenset({
    "n_ctx", "resid_pdrop", "embd_pdrop", "attn_pdrop", "summary_type", "summary_use_proj",
    "summary_activation", "summary_proj_to_labels", "summary_first_dropout",
    "scale_attn_weights", "scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn",
    "task_specific_params",
})

GPT2_SIZES = {"small": (12, 768, 12), "medium": (24, 1024, 16), "large": (36, 1280, 20),
              "xl": (48, 1600, 25)}


def gpt2(size: str = "small", *, vocab_size: Any = 50257, n_positions: Any = 1024,
         n_layer: int | None = None, n_embd: Any = None, n_head: Any = None,
         n_inner: Any = None, layer_norm_epsilon: float = 1e-5,
         activation_function: str = "gelu_new", causal: bool = True,
         lm_head: bool = True, **config: Any) -> Sequential:
    """GPT-2 with its language-model head, as Hugging Face's ``GPT2LMHeadModel``
    (``models/gpt2/modeling_gpt2.py``; Radford et al. 2019). Input: token ids ``(T,)``,
    ``T <= n_positions`` (a symbol is fine); output logits ``(T, vocab_size)``.

    `size` picks ``n_layer, n_embd, n_head`` from `GPT2_SIZES`; keyword arguments (HF
    ``GPT2Config`` names) override them. Paths: ``transformer.wte`` (token `Embedding`),
    ``transformer.wpe`` (learned positions, added: `PositionalEmbedding`),
    ``transformer.drop``, ``transformer.h.0`` ... (`GPT2Block`), ``transformer.ln_f``,
    ``lm_head`` (``Linear(n_embd, vocab_size, bias=False)``, tied to ``wte``: its weights are
    counted once, at ``wte``). ``lm_head=False`` gives ``GPT2Model`` (hidden states out).

    params ``= V*d + P*d + n_layer*(12 d^2 + 13 d) + 2d`` (``V`` vocabulary, ``P``
    positions): 124,439,808 / 354,823,168 / 774,030,080 / 1,557,611,200 for small / medium /
    large / xl, without the ``attn.bias`` mask buffers some checkpoints store.

    Other ``GPT2Config`` keys are accepted when they change no count (`GPT2_HF_IGNORED` and
    the keys every config has, ``zoo._config.HF_IGNORED``), so ``gpt2(**config.to_dict())``
    works; ``tie_word_embeddings`` must be true and ``add_cross_attention`` false (what is
    modelled), and any other key raises `LayerSpecError` naming it.

    >>> from layercalc import analyze, flops, symbols
    >>> analyze(gpt2(), (1024,)).total.params
    124439808
    >>> T = symbols("T")
    >>> flops(analyze(gpt2(), (T,)), "2*macs")  # T tokens: causal attention, then 2N + de-embedding
    18432*T*(T + 1) + 247064064*T
    """
    unknown = sorted(set(config) - HF_IGNORED - GPT2_HF_IGNORED - {
        "tie_word_embeddings", "add_cross_attention"})
    if unknown:
        raise LayerSpecError("gpt2", f"unknown configuration field {unknown[0]!r}; known: "
                             "vocab_size, n_positions, n_layer, n_embd, n_head, n_inner, "
                             "layer_norm_epsilon, activation_function, and the ignored keys "
                             "of zoo.gpt2.GPT2_HF_IGNORED")
    for key, modelled in (("tie_word_embeddings", True), ("add_cross_attention", False)):
        if config.get(key, modelled) not in (modelled, None):
            raise LayerSpecError("gpt2", f"{key} (={config[key]!r}) is not supported: only "
                                 f"{key}={modelled} is modelled")
    if size not in GPT2_SIZES:
        raise LayerSpecError("gpt2", f"size (={size!r}) must be one of "
                             + ", ".join(repr(s) for s in GPT2_SIZES))
    layers, embd, head = GPT2_SIZES[size]
    n_layer = layers if n_layer is None else n_layer
    n_embd = embd if n_embd is None else n_embd
    n_head = head if n_head is None else n_head
    if isinstance(n_layer, bool) or not isinstance(n_layer, int) or n_layer < 0:
        raise LayerSpecError("gpt2", f"n_layer (={n_layer!r}) must be a non-negative integer",
                             "For a symbolic depth, analyze one block and multiply.")
    block = GPT2Block(n_embd, n_head, n_inner, layer_norm_epsilon, activation_function,
                      causal=causal)
    transformer = Sequential(OrderedDict([
        ("wte", Tied("wte", Embedding(vocab_size, n_embd))),
        ("wpe", PositionalEmbedding(n_positions, n_embd)),
        ("drop", Dropout(0.1)),
        ("h", Sequential(*[block] * n_layer)),
        ("ln_f", LayerNorm(n_embd, layer_norm_epsilon)),
    ]))
    items: list = [("transformer", transformer)]
    if lm_head:
        items.append(("lm_head", Tied("wte", Linear(n_embd, vocab_size, bias=False))))
    return Sequential(OrderedDict(items))


def gpt2_medium(**kwargs: Any) -> Sequential:
    """GPT-2 medium (24 layers, 1024 wide, 16 heads); see `gpt2`."""
    return gpt2("medium", **kwargs)


def gpt2_large(**kwargs: Any) -> Sequential:
    """GPT-2 large (36 layers, 1280 wide, 20 heads); see `gpt2`."""
    return gpt2("large", **kwargs)


def gpt2_xl(**kwargs: Any) -> Sequential:
    """GPT-2 XL (48 layers, 1600 wide, 25 heads); see `gpt2`."""
    return gpt2("xl", **kwargs)


def kaplan_forward_flops(n_layer: Any, d_model: Any, n_ctx: Any, d_attn: Any = None,
                         d_ff: Any = None) -> Any:
    """Kaplan et al. 2020's forward-pass FLOPs per token, Table 1 "Total (Non-Embedding)"::

        C_forward = 2N + 2 n_layer n_ctx d_attn,   N = 2 d_model n_layer (2 d_attn + d_ff)

    with ``d_attn = d_model`` and ``d_ff = 4 d_model`` by default. How this follows from the
    layers, and the exact difference (``2 d_model n_vocab + 2 n_layer d_model`` for a causal
    GPT under ``2*macs``), is in this module's docstring.

    >>> kaplan_forward_flops(12, 768, 1024)  # GPT-2 small: 2 * 84,934,656 + 18,874,368
    188743680
    >>> from layercalc import analyze, flops
    >>> flops(analyze(gpt2(), (1024,)), "2*macs") // 1024 - kaplan_forward_flops(12, 768, 1024)
    77213184
    >>> 2 * 768 * 50257 + 2 * 12 * 768  # de-embedding + the causal diagonal
    77213184
    """
    d_attn = d_model if d_attn is None else d_attn
    d_ff = 4 * d_model if d_ff is None else d_ff
    n = 2 * d_model * n_layer * (2 * d_attn + d_ff)
    return 2 * n + 2 * n_layer * n_ctx * d_attn
