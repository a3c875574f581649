"""Mixture of experts and Mamba against plain-PyTorch twins (``torch_moe_ssm.py``) and against
``transformers`` models built on the meta device.

* MoE: a real top-2 softmax router in PyTorch routes random tokens; the MACs its forward
  really performs (every ``nn.Linear`` call, on the tokens each expert receives) equal
  layercalc's count exactly, for any routing: every token reaches exactly ``top_k`` experts.
  With a router forced to balance the tokens, the experts that receive tokens number
  ``min(E, T*k)``, layercalc's weight-read count.
* Mamba: the twin mixer's parameters, output shape and brute-force MACs (linear calls, the
  kept conv taps, the scan's contraction with C) equal `MambaMixer`'s.
* Published configurations: ``MixtralForCausalLM``, ``MambaForCausalLM`` and
  ``Qwen2MoeForCausalLM`` from ``transformers`` (``AutoModelForCausalLM.from_config`` on the
  meta device) have exactly the zoo models' parameter counts.
"""

from __future__ import annotations

import pytest

from oracle_support import require_torch

torch = require_torch()

import torch_moe_ssm as tm  # noqa: E402

import layercalc as lc  # noqa: E402
from layercalc import analyze, zoo  # noqa: E402


def _lc_moe(d, inner, E, k, shared=0, norm=True):
    expert = lc.moe._gated_mlp(d, inner, lc.SiLU(), "w1", "w3", "w2")
    return lc.MoE(expert, E, k, lc.Linear(d, E, bias=False), shared_experts=shared,
                  norm_topk_prob=norm)


@pytest.mark.parametrize("T, d, inner, E, k, shared", [
    (7, 16, 24, 8, 2, 0), (13, 12, 20, 4, 1, 0), (5, 8, 16, 6, 3, 2), (1, 16, 32, 8, 2, 1),
])
def test_moe_macs_equal_a_real_router(T, d, inner, E, k, shared):
    torch.manual_seed(T * 100 + E)
    twin = tm.SparseMoe(d, inner, E, k, shared).eval()
    counter = tm.MacCounter(twin)
    x = torch.randn(T, d)
    with torch.no_grad():
        y = twin(x)
    counter.close()
    report = analyze(_lc_moe(d, inner, E, k, shared), (T, d))
    assert report.total.macs == counter.macs
    assert tuple(y.shape) == (T, *report.output_shape[1:]) == (T, d)
    # per role: router d*E per token; k expert passes of 3*d*inner per token
    assert counter.calls["gate"] == T * d * E == report.rows[0].cost.macs
    routed = sum(v for n, v in counter.calls.items() if n.startswith("experts."))
    assert routed == T * k * 3 * d * inner
    assert tm.count_params(twin) == report.total.params


def test_moe_balanced_routing_reads_min_experts_tokens_k():
    """Token t is sent to experts 2t and 2t+1 (mod E): balanced routing, as layercalc
    assumes; the experts that receive a token number min(E, T*k)."""
    d, inner, E, k = 16, 8, 8, 2
    for T in (1, 2, 3, 4, 6):
        twin = tm.SparseMoe(d, inner, E, k).eval()
        with torch.no_grad():
            twin.gate.weight.zero_()
            for t in range(T):
                twin.gate.weight[(2 * t) % E, t] = 10.0
                twin.gate.weight[(2 * t + 1) % E, t] = 9.0
            twin(torch.eye(T, d))
        assert len(twin.experts_hit) == min(E, T * k)
        rows = [r for r in analyze(_lc_moe(d, inner, E, k), (T, d)).rows
                if r.path.startswith("experts.0.w")]
        per_expert = d * inner
        assert {r.cost.weight_reads for r in rows} == {per_expert * min(E, T * k)}


def test_mamba_mixer_equals_the_twin():
    for d_model, n, conv, L in ((16, 4, 4, 5), (32, 16, 3, 9), (24, 8, 4, 1)):
        torch.manual_seed(d_model + L)
        twin = tm.MambaMixer(d_model, n, conv).eval()
        counter = tm.MacCounter(twin)
        with torch.no_grad():
            y = twin(torch.randn(L, d_model))
        counter.close()
        report = analyze(lc.MambaMixer(d_model, n, conv), (L, d_model))
        assert tm.count_params(twin) == report.total.params
        assert tuple(y.shape) == report.output_shape == (L, d_model)
        assert counter.macs == report.total.macs


transformers = pytest.importorskip("transformers", reason="the transformers oracle needs "
                                   "pip install -e '.[oracle]'")


def _hf_params(cfg) -> int:
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(cfg)
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("preset", list(zoo.MIXTRAL_PRESETS))
def test_mixtral_presets_equal_transformers(preset):
    cfg = transformers.MixtralConfig(**zoo.MIXTRAL_PRESETS[preset])
    assert analyze(zoo.mixtral(preset), (8,)).total.params == _hf_params(cfg)


@pytest.mark.parametrize("preset", list(zoo.MAMBA_PRESETS))
def test_mamba_presets_equal_transformers(preset):
    cfg = transformers.MambaConfig(**zoo.MAMBA_PRESETS[preset])
    assert analyze(zoo.mamba(preset), (8,)).total.params == _hf_params(cfg)


def test_qwen_moe_preset_equals_transformers():
    cfg = transformers.Qwen2MoeConfig(**zoo.QWEN2_MOE_PRESETS["qwen1.5-moe-a2.7b"])
    r = analyze(zoo.qwen2_moe("qwen1.5-moe-a2.7b"), (8,))
    assert r.total.params == _hf_params(cfg) == 14_315_784_192


def test_builders_take_a_transformers_config_dict():
    """``zoo.mixtral(**config.to_dict())``: every key is known or ignored, and a small
    config gives transformers' count; an unknown key is named."""
    for cfg, build in (
        (transformers.MixtralConfig(hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                    num_attention_heads=4, num_key_value_heads=2,
                                    vocab_size=128, num_local_experts=4), zoo.mixtral),
        (transformers.MambaConfig(hidden_size=32, num_hidden_layers=2, vocab_size=96,
                                  state_size=8), zoo.mamba),
        (transformers.LlamaConfig(hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                  num_attention_heads=4, num_key_value_heads=2,
                                  vocab_size=128), zoo.llama),
        (transformers.Qwen2MoeConfig(hidden_size=64, intermediate_size=96,
                                     moe_intermediate_size=32,
                                     shared_expert_intermediate_size=48, num_hidden_layers=3,
                                     num_attention_heads=4, num_key_value_heads=2,
                                     vocab_size=128, num_experts=6, num_experts_per_tok=2,
                                     decoder_sparse_step=2), zoo.qwen2_moe),
    ):
        assert analyze(build(**cfg.to_dict()), (8,)).total.params == _hf_params(cfg)
    with pytest.raises(lc.LayerSpecError, match="unknown configuration field 'hidden_sise'"):
        zoo.mixtral(hidden_sise=64)
