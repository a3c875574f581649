"""Mixtral (Hugging Face ``MixtralForCausalLM``): a Llama-style decoder whose MLPs are sparse
mixtures of experts (Jiang et al. 2024, "Mixtral of Experts", arXiv:2401.04088)."""

from __future__ import annotations

from collections import OrderedDict
from types import MappingProxyType
from typing import Any

from ..layers import Embedding, Linear, RMSNorm
from ..moe import MixtralDecoderLayer
from ..network import Sequential, Tied
from ._config import configure, num_layers

__all__ = ["mixtral", "mixtral_8x7b", "mixtral_8x22b", "MIXTRAL_PRESETS"]

#: HF ``config.json`` of mistralai/Mixtral-8x7B-v0.1 and mistralai/Mixtral-8x22B-v0.1 (the
#: fields that change a count).
MIXTRAL_PRESETS = MappingProxyType({
    "mixtral-8x7b": dict(vocab_size=32000, hidden_size=4096, intermediate_size=14336,
                         num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
                         num_local_experts=8, num_experts_per_tok=2, rms_norm_eps=1e-5),
    "mixtral-8x22b": dict(vocab_size=32768, hidden_size=6144, intermediate_size=16384,
                          num_hidden_layers=56, num_attention_heads=48, num_key_value_heads=8,
                          num_local_experts=8, num_experts_per_tok=2, rms_norm_eps=1e-5),
})

#: ``transformers.MixtralConfig()`` defaults (the fields that change a count).
_HF_DEFAULTS = dict(vocab_size=32000, hidden_size=4096, intermediate_size=14336,
                    num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
                    head_dim=None, hidden_act="silu", rms_norm_eps=1e-5,
                    tie_word_embeddings=False, sliding_window=None, num_experts_per_tok=2,
                    num_local_experts=8)


def mixtral(preset: str | None = None, *, rotary: bool = True, lm_head: bool = True,
            capacity_factor: Any = None, **config: Any) -> Sequential:
    """Mixtral with its language-model head, as Hugging Face's ``MixtralForCausalLM``, in the
    form of `layercalc.zoo.llama`. Input: token ids ``(T,)`` (a symbol is fine); output logits
    ``(T, vocab_size)``.

    The configuration is ``transformers.MixtralConfig``'s defaults, updated by `preset` (a
    key of `MIXTRAL_PRESETS`: ``"mixtral-8x7b"``, ``"mixtral-8x22b"``), then by keyword
    arguments with MixtralConfig's names (``vocab_size``, ``hidden_size``,
    ``intermediate_size``, ``num_hidden_layers``, ``num_attention_heads``,
    ``num_key_value_heads``, ``head_dim``, ``hidden_act``, ``rms_norm_eps``,
    ``tie_word_embeddings``, ``sliding_window``, ``num_experts_per_tok``,
    ``num_local_experts``). Keys that change no count (``rope_theta``,
    ``router_aux_loss_coef``, token ids ...) are accepted and ignored; any other raises
    `LayerSpecError` naming it. ``capacity_factor`` (not a MixtralConfig key) pads every
    expert to a fixed capacity (see `layercalc.MoE`).

    Paths ``model.embed_tokens``, ``model.layers.0`` ... (`MixtralDecoderLayer`:
    ``self_attn.*``, ``block_sparse_moe.gate``, ``block_sparse_moe.experts.0.w1`` ...),
    ``model.norm``, ``lm_head``.

    Mixtral-8x7B: 46,702,792,704 parameters, 12,879,925,248 active per token (two experts of
    eight); Mixtral-8x22B: 140,630,071,296 (both equal to ``MixtralForCausalLM`` built on
    the meta device, tests/oracles).

    >>> from layercalc import active_params, analyze
    >>> r = analyze(mixtral("mixtral-8x7b"), (16,))
    >>> r.total.params, active_params(r)
    (46702792704, 12879925248)
    """
    cfg = configure("mixtral", _HF_DEFAULTS, MIXTRAL_PRESETS, preset, config, family="Mixtral")
    n = num_layers("mixtral", "num_hidden_layers", cfg["num_hidden_layers"])
    d, vocab = cfg["hidden_size"], cfg["vocab_size"]
    layer = MixtralDecoderLayer(d, cfg["num_attention_heads"], cfg["intermediate_size"],
                                cfg["num_key_value_heads"], cfg["num_local_experts"],
                                cfg["num_experts_per_tok"], cfg["head_dim"],
                                cfg["rms_norm_eps"], cfg["hidden_act"], rotary=rotary,
                                sliding_window=cfg["sliding_window"],
                                capacity_factor=capacity_factor)
    tied = cfg["tie_word_embeddings"]
    embed: Any = Embedding(vocab, d)
    model = Sequential(OrderedDict([
        ("embed_tokens", Tied("embed_tokens", embed) if tied else embed),
        ("layers", Sequential(*[layer] * n)),
        ("norm", RMSNorm(d, cfg["rms_norm_eps"])),
    ]))
    items: list = [("model", model)]
    if lm_head:
        head: Any = Linear(d, vocab, bias=False)
        items.append(("lm_head", Tied("embed_tokens", head) if tied else head))
    return Sequential(OrderedDict(items))


def mixtral_8x7b(**kwargs: Any) -> Sequential:
    """Mixtral-8x7B (HF mistralai/Mixtral-8x7B-v0.1): 46,702,792,704 params, 12,879,925,248
    active. See `mixtral`."""
    return mixtral("mixtral-8x7b", **kwargs)


def mixtral_8x22b(**kwargs: Any) -> Sequential:
    """Mixtral-8x22B (HF mistralai/Mixtral-8x22B-v0.1): 140,630,071,296 params. See
    `mixtral`."""
    return mixtral("mixtral-8x22b", **kwargs)
