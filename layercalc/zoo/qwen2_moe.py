"""Qwen2-MoE (Hugging Face ``Qwen2MoeForCausalLM``): routed experts plus one gated shared
expert per layer (Qwen team, "Qwen1.5-MoE: Matching 7B Model Performance with 1/3 Activated
Parameters", 2024)."""

from __future__ import annotations

from collections import OrderedDict
from types import MappingProxyType
from typing import Any

from ..layers import Embedding, Linear, RMSNorm, Sigmoid
from ..moe import MoE, _gated_mlp, _gqa_attention, _pre_norm_layer
from ..network import Functional, Parallel, Sequential, Tied
from ..transformer import _hf_activation
from ._config import configure, num_layers

__all__ = ["qwen2_moe", "qwen1_5_moe_a2_7b", "QWEN2_MOE_PRESETS"]

#: HF ``config.json`` of Qwen/Qwen1.5-MoE-A2.7B (the fields that change a count). Published:
#: "14.3B parameters in total and 2.7B activated parameters during runtime" (Qwen blog,
#: 2024-03-28); exactly 14,315,784,192 and 2,689,173,504 (tests/oracles: transformers on the
#: meta device).
QWEN2_MOE_PRESETS = MappingProxyType({
    "qwen1.5-moe-a2.7b": dict(vocab_size=151936, hidden_size=2048, intermediate_size=5632,
                              num_hidden_layers=24, num_attention_heads=16,
                              num_key_value_heads=16, moe_intermediate_size=1408,
                              shared_expert_intermediate_size=5632, num_experts=60,
                              num_experts_per_tok=4, norm_topk_prob=False, rms_norm_eps=1e-6,
                              tie_word_embeddings=False),
})

#: ``transformers.Qwen2MoeConfig()`` defaults (the fields that change a count).
_HF_DEFAULTS = dict(vocab_size=151936, hidden_size=2048, intermediate_size=5632,
                    num_hidden_layers=24, num_attention_heads=16, num_key_value_heads=16,
                    hidden_act="silu", rms_norm_eps=1e-6, tie_word_embeddings=False,
                    use_sliding_window=False, sliding_window=4096, decoder_sparse_step=1,
                    moe_intermediate_size=1408, shared_expert_intermediate_size=5632,
                    num_experts_per_tok=4, num_experts=60, norm_topk_prob=False,
                    mlp_only_layers=None, qkv_bias=True)

_IGNORED = frozenset({"max_window_layers", "layer_types"})


def qwen2_moe(preset: str | None = None, *, rotary: bool = True, lm_head: bool = True,
              **config: Any) -> Sequential:
    """Qwen2-MoE with its language-model head, as Hugging Face's ``Qwen2MoeForCausalLM``.
    Input token ids ``(T,)``, output logits ``(T, vocab_size)``.

    Configuration: ``Qwen2MoeConfig``'s defaults, updated by `preset`
    (``"qwen1.5-moe-a2.7b"``) and by keyword arguments with its names. Layer ``i`` is sparse
    unless ``i`` is in ``mlp_only_layers`` or ``(i + 1) % decoder_sparse_step != 0`` (then a
    dense SwiGLU MLP of ``intermediate_size``). A sparse ``mlp`` is an `layercalc.MoE`:
    ``gate`` (router), ``experts.0.gate_proj/up_proj/down_proj`` (``moe_intermediate_size``),
    and the shared expert, ``sigmoid(shared_expert_gate(x)) * shared_expert(x)`` (rows
    ``mlp.shared_expert.*``, ``mlp.shared_expert_gate``, ``mlp.sigmoid``, ``mlp.mul``).
    Attention as Llama's with biases on ``q_proj``, ``k_proj``, ``v_proj`` (``qkv_bias``) and
    none on ``o_proj``; ``sliding_window`` applies only with ``use_sliding_window``.

    >>> from layercalc import active_params, analyze
    >>> r = analyze(qwen2_moe("qwen1.5-moe-a2.7b"), (16,))
    >>> r.total.params, active_params(r)
    (14315784192, 2689173504)
    """
    owner = "qwen2_moe"
    cfg = configure(owner, _HF_DEFAULTS, QWEN2_MOE_PRESETS, preset, config, _IGNORED,
                    family="Qwen2-MoE")
    n = num_layers(owner, "num_hidden_layers", cfg["num_hidden_layers"])
    d, vocab, eps = cfg["hidden_size"], cfg["vocab_size"], cfg["rms_norm_eps"]
    window = cfg["sliding_window"] if cfg["use_sliding_window"] else None
    attn = _gqa_attention(owner, d, cfg["num_attention_heads"], cfg["num_key_value_heads"],
                          None, cfg["qkv_bias"], False, rotary, True, window)

    def act():
        return _hf_activation(owner, cfg["hidden_act"])

    def mlp(inner):
        return _gated_mlp(d, inner, act(), "gate_proj", "up_proj", "down_proj")

    shared = Parallel(OrderedDict([
        ("shared_expert", mlp(cfg["shared_expert_intermediate_size"])),
        ("", Sequential(OrderedDict(shared_expert_gate=Linear(d, 1, bias=False),
                                    sigmoid=Functional(Sigmoid())))),
    ]), merge="mul")
    sparse = _pre_norm_layer(d, eps, attn, "mlp", MoE(
        mlp(cfg["moe_intermediate_size"]), cfg["num_experts"], cfg["num_experts_per_tok"],
        Linear(d, cfg["num_experts"], bias=False), shared_experts=shared,
        norm_topk_prob=cfg["norm_topk_prob"], shared_name=""))
    dense = _pre_norm_layer(d, eps, attn, "mlp", mlp(cfg["intermediate_size"]))
    only = set(cfg["mlp_only_layers"] or ())
    step = cfg["decoder_sparse_step"]
    layers = [sparse if (i not in only and cfg["num_experts"] > 0 and (i + 1) % step == 0)
              else dense for i in range(n)]
    tied = cfg["tie_word_embeddings"]
    embed: Any = Embedding(vocab, d)
    model = Sequential(OrderedDict([
        ("embed_tokens", Tied("embed_tokens", embed) if tied else embed),
        ("layers", Sequential(*layers)),
        ("norm", RMSNorm(d, eps)),
    ]))
    items: list = [("model", model)]
    if lm_head:
        head: Any = Linear(d, vocab, bias=False)
        items.append(("lm_head", Tied("embed_tokens", head) if tied else head))
    return Sequential(OrderedDict(items))


def qwen1_5_moe_a2_7b(**kwargs: Any) -> Sequential:
    """Qwen1.5-MoE-A2.7B (HF Qwen/Qwen1.5-MoE-A2.7B): 14,315,784,192 params, 2,689,173,504
    active. See `qwen2_moe`."""
    return qwen2_moe("qwen1.5-moe-a2.7b", **kwargs)
