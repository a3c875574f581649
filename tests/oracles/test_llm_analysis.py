"""layercalc's training step against llm-analysis 0.2.2 (Cheng Li; closed formulas for one
decoder architecture, from Korthikanti et al. 2022 and the ZeRO paper), on two configs.

Every difference is computed exactly and named (docs/training.md, "llm-analysis"): none is
absorbed by a tolerance. llm-analysis cannot be an extra (its pins conflict with
transformers 5): ``.ci/run`` installs it with ``pip install --no-deps llm-analysis==0.2.2
fire``; without it this module skips.
"""

from __future__ import annotations

import logging

import pytest
import sympy as sp

la_mod = pytest.importorskip(
    "llm_analysis.analysis",
    reason="llm-analysis not installed: pip install --no-deps llm-analysis==0.2.2 fire")
from llm_analysis.config import (  # noqa: E402
    ParallelismConfig, get_dtype_config_by_name, get_gpu_config_by_name, get_model_config_by_name,
)

import layercalc as lc  # noqa: E402


def run_llm_analysis(model: str, tp: int, dp: int, batch: int, seq: int, zero, recompute):
    logging.disable(logging.CRITICAL)
    try:
        a = la_mod.LLMAnalysis(get_model_config_by_name(model),
                               get_gpu_config_by_name("a100-sxm-80gb"),
                               get_dtype_config_by_name("w16a16e16"),
                               ParallelismConfig(tp_size=tp, dp_size=dp))
        return a.training(batch_size_per_gpu=batch, seq_len=seq, ds_zero=zero,
                          gradient_accumulation_steps=1, activation_recomputation=recompute)
    finally:
        logging.disable(logging.NOTSET)


def exact(v: float) -> int:
    assert float(v).is_integer(), v
    return int(v)


def test_gpt2_small_one_gpu():
    """GPT-2 small, batch 4, 1024 tokens, bf16 mixed precision Adam, one GPU, nothing
    recomputed; layercalc with activations="pytorch" (CUDA kernels, flash attention)."""
    L, h, a, V, P, b, s = 12, 768, 12, 50257, 1024, 4, 1024
    out = run_llm_analysis("gpt2", 1, 1, b, s, la_mod.DSZeRO.NONE,
                           la_mod.ActivationRecomputation.NONE)
    t = lc.training(lc.analyze(lc.zoo.gpt2(), (s,), batch=b), optimizer="adam",
                    precision="bf16-mixed")
    ours = lc.analyze(lc.zoo.gpt2(), (s,)).total.params
    la_params = exact(out["num_params_total"])
    # parameters: llm-analysis leaves out the learned positions and every bias
    biases = L * (3 * h + h + 4 * h + h) + L * 2 * h + h  # linears, LayerNorm betas, ln_f
    assert ours - la_params == P * h + biases
    # model states: 16-bit weights; llm-analysis keeps fp32 gradients (it upcasts them to
    # the master weights' dtype), the ZeRO paper 16-bit ones; Adam's 12 bytes a parameter
    # and torch.optim's fp32 step per tensor (148 tensors)
    m = t.memory
    assert exact(out["weight_memory_per_gpu"]) == 2 * la_params
    assert m.weights == 2 * ours
    assert exact(out["gradient_memory_per_gpu"]) == 4 * la_params and m.gradients == 2 * ours
    assert m.optimizer_states - exact(out["optimizer_state_memory_per_gpu"]) == \
        12 * (ours - la_params) + 4 * 148
    # FLOPs: both count matmuls, 2 per multiply-accumulate, backward twice the forward;
    # llm-analysis lets every query see all s keys, the causal model sees i + 1
    assert exact(out["num_flops_total_per_micro_batch"]) - t.flops("2*macs") == \
        3 * L * (4 * b * s * s * h - 2 * b * h * s * (s + 1))
    # activations, per layer (sbh = s*b*h):
    #   attention: llm-analysis adds flash attention's output again (2sbh bytes) and 4asb
    #   16-bit statistics where PyTorch keeps one fp32 log-sum-exp (4asb): +4sbh + 4asb
    #   MLP: llm-analysis has no dropout mask after the MLP (with_dropout=False): -sbh
    #   LayerNorm: llm-analysis stores both inputs in fp32 (+2 x 2sbh), not PyTorch's mean
    #   and rstd (fp32, 2 x 8sb)
    sbh = s * b * h
    per_layer = (4 * sbh + 4 * a * s * b) - sbh + (4 * sbh - 16 * s * b)
    # outside the layers: llm-analysis counts the 16-bit logits (the loss's input here) and
    # the final LayerNorm's fp32 input; layercalc the token ids (int64), the position ids
    # (int64), the embedding dropout's mask, ln_f's 16-bit input and statistics, and
    # lm_head's input
    outside = (2 * b * s * V + 4 * sbh) - (8 * b * s + 8 * s + sbh + 2 * sbh + 8 * s * b
                                            + 2 * sbh)
    assert exact(out["activation_memory_per_gpu"]) - m.activations == L * per_layer + outside


def test_llama2_7b_tp2_dp4_zero1_selective():
    """Llama-2-7B, batch 1, 4096 tokens, tp=2 (llm-analysis assumes sequence parallelism:
    sp_size = tp_size), dp=4, ZeRO-1, selective recomputation."""
    L, h, V, b, s, t_ = 32, 4096, 32000, 1, 4096, 2
    ff, la_ff = 11008, 16384  # the model's SwiGLU width; llm-analysis's config says 4h
    out = run_llm_analysis("NousResearch_Llama-2-7b-hf", t_, 4, b, s, la_mod.DSZeRO.STAGE_1,
                           la_mod.ActivationRecomputation.SELECTIVE)
    model = lc.zoo.llama2_7b()
    ours = lc.analyze(model, (s,)).total.params
    t = lc.training(lc.analyze(model, (s,), batch=b), optimizer="adam", precision="bf16-mixed",
                    recompute="selective",
                    parallel=lc.Parallelism(tp=t_, dp=4, sp=True, zero=1))
    la_params = exact(out["num_params_total"])
    # parameters: llm-analysis's MLP is two matrices of width 4h where SwiGLU has three of
    # 11008, and it ties lm_head to the embedding (Llama 2 does not)
    assert ours - la_params == L * (3 * h * ff - 2 * h * la_ff) + V * h
    norms = (2 * L + 1) * h
    # per device: llm-analysis divides every weight (RMSNorm weights too) by tp; Megatron
    # replicates the norms
    m = t.memory
    assert m.weights == 2 * ((ours - norms) // t_ + norms)
    assert exact(out["weight_memory_per_gpu"]) == 2 * la_params // t_
    assert exact(out["gradient_memory_per_gpu"]) == 4 * la_params // t_  # fp32 gradients
    assert m.gradients == 2 * ((ours - norms) // t_ + norms)
    assert m.optimizer_states == 12 * ((ours - norms) // t_ + norms) // 4 + 4
    assert exact(out["optimizer_state_memory_per_gpu"]) == 12 * la_params // t_ // 4
    # FLOPs per replica: the MLP as 16bsh^2 (two 4h matrices) vs SwiGLU's 6bsh*ff, and
    # unmasked attention (forward, backward and the selective recomputation) vs causal
    mlp = 3 * L * (16 * b * s * h * h - 6 * b * s * h * ff)
    attn = 4 * L * (4 * b * s * s * h - 2 * b * h * s * (s + 1))
    assert exact(out["num_flops_total_per_micro_batch"]) - t.flops("2*macs") == mlp + attn
    # activations per layer, sequence parallel over t (sbh = s*b*h bytes in 16 bits, /t):
    #   attention: both keep the QKV input and Q, K, V, O (5sbh); llm-analysis adds an
    #   attention-output dropout mask (1 byte an element) Llama does not have: +sbh/t
    #   RMSNorm: llm-analysis one fp32 input per norm; PyTorch's composite RMSNorm keeps the
    #   16-bit input, the 16-bit x*rsqrt(...) (for the weight gradient) and rsqrt per token:
    #   the same sbh bytes, -2 x 2sb/t
    #   MLP: llm-analysis the first linear's input and the GELU and second linear inputs of
    #   width 4h (2sbh/t + 16sbh/t); SwiGLU keeps the gate/up input, SiLU's input, both
    #   inputs of the product and down_proj's input (2sbh/t + 4 x 2sb*ff/t)
    sbh = s * b * h
    per_layer = sp.Rational(sbh, t_) - sp.Rational(4 * s * b, t_) + (
        sp.Rational(16 * sbh, t_) - sp.Rational(8 * s * b * ff, t_))
    # outside the layers: llm-analysis the 16-bit logits over tp and the final norm's fp32
    # input; layercalc the token ids (int64, not sharded), the final RMSNorm (as above),
    # lm_head's input, and RoPE's cos and sin tables (s x head_dim each, shared by the
    # layers), which llm-analysis leaves out
    rope = 2 * sp.Rational(2 * s * (h // 32), t_)
    outside = (sp.Rational(2 * b * s * V, t_) + sp.Rational(4 * sbh, t_)) - (
        8 * b * s + sp.Rational(4 * sbh + 2 * s * b, t_) + sp.Rational(2 * sbh, t_) + rope)
    # and at batch_size_per_gpu = 1 llm-analysis adds the logits and the final norm twice
    # (training(): activation_memory_batch_size_1 already holds them, then both are added
    # to it again)
    twice = sp.Rational(2 * b * s * V, t_) + sp.Rational(4 * sbh, t_)
    assert exact(out["activation_memory_per_gpu"]) - m.activations == \
        L * per_layer + outside + twice
