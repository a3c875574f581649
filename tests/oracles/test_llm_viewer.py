"""The ``llm-viewer`` profile of `layercalc.inference` against LLM-Viewer's own figures.

``llm_viewer_numbers.json`` holds LLM-Viewer's outputs (hahnyuan/LLM-Viewer, commit 472f71f,
``ModelAnalyzer.analyze`` and ``analyze_generate_task``), recorded by
``generate_llm_viewer_numbers.py`` (its docstring has the command). For Llama-2-7B and 13B on
its A100 entries (``nvidia_A100`` = 1555 GB/s and 312 TFLOP/s, layercalc's
``a100-sxm4-40gb``; ``nvidia_A100_80G`` = 2039 GB/s, ``a100-sxm4-80gb``), at its CLI defaults
(sequence 1024, batch 1, 16-bit weights, activations and cache) and at batch 8, sequence 2048,
4-bit weights and an 8-bit cache, the profile reproduces every per-stage total (OPs, memory
access, weight / activation / KV loads and stores, inference time) to float precision,
per-layer figures of one decoder layer, and the end-to-end time of a generation.
LLM-Viewer computes in floats; layercalc's values are exact rationals.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from layercalc import inference, zoo

DATA = json.loads((Path(__file__).parent / "llm_viewer_numbers.json").read_text())
HARDWARE = {"nvidia_A100": "a100-sxm4-40gb", "nvidia_A100_80G": "a100-sxm4-80gb"}
WEIGHTS = {16: "fp16", 8: "int8", 4: "int4"}
ACTS = {16: "fp16", 8: "int8"}
STAGES = [r for r in DATA["records"] if "generate" not in r]
GENERATE = [r for r in DATA["records"] if "generate" in r]


def _close(a, b) -> bool:
    return math.isclose(float(a), b, rel_tol=1e-12, abs_tol=0)


def _report(rec):
    return inference(zoo.llama(**rec["config"]), prompt_len=rec["seqlen"], gen_len=1,
                     batch=rec["batchsize"], hardware=HARDWARE[rec["hardware"]],
                     weight_dtype=WEIGHTS[rec["w_bit"]], act_dtype=ACTS[rec["a_bit"]],
                     kv_dtype=ACTS[rec["kv_bit"]], profile="llm-viewer")


def _ids(recs):
    return [f"{r['model_id'].split('/')[-1]}-{r['hardware']}-s{r.get('seqlen')}-"
            f"b{r.get('batchsize')}-w{r.get('w_bit')}" for r in recs]


def test_fixture_covers_two_models():
    assert {r["model_id"] for r in STAGES} == {"meta-llama/Llama-2-7b-hf",
                                                 "meta-llama/Llama-2-13b-hf"}
    assert any(r["seqlen"] == 1024 and r["batchsize"] == 1 and r["w_bit"] == 16
               and r["hardware"] == "nvidia_A100" for r in STAGES)  # analyze_cli defaults


@pytest.mark.parametrize("rec", STAGES, ids=_ids(STAGES))
def test_stage_totals(rec):
    r = _report(rec)
    for name, stage in (("prefill", r.prefill), ("decode", r.decode)):
        want = rec["total"][name]
        got = {"OPs": stage.flops, "memory_access": stage.bytes.total,
               "load_weight": stage.bytes.weight_reads, "load_act": stage.bytes.act_reads,
               "store_act": stage.bytes.act_writes, "load_kv_cache": stage.bytes.kv_reads,
               "store_kv_cache": stage.bytes.kv_writes, "inference_time": stage.time}
        for key, value in got.items():
            assert _close(value, want[key]), (name, key, float(value), want[key])
        assert stage.flops == int(want["OPs"])  # integers in LLM-Viewer's floats: exact


# LLM-Viewer's layer names -> layercalc rows of decoder layer 0 (``:`` kernels of the sdpa row)
LAYERS = {"attn_norm": "input_layernorm", "q_proj": "self_attn.q_proj",
          "k_proj": "self_attn.k_proj", "v_proj": "self_attn.v_proj",
          "out_proj": "self_attn.o_proj", "attn_add": "add1",
          "mlp_norm": "post_attention_layernorm", "gate_proj": "mlp.gate_proj",
          "up_proj": "mlp.up_proj", "mlp_act": "mlp.mul", "down_proj": "mlp.down_proj",
          "mlp_add": "add2"}


@pytest.mark.parametrize("rec", STAGES[:1], ids=_ids(STAGES[:1]))
def test_one_decoder_layer(rec):
    r = _report(rec)
    for name, stage in (("prefill", r.prefill), ("decode", r.decode)):
        rows = {row.path: row for row in stage.rows}
        for lv, ours in LAYERS.items():
            row, want = rows[f"model.layers.0.{ours}"], rec["layers"][name][lv]
            assert _close(row.flops, want["OPs"]), (name, lv)
            assert _close(row.bytes.total, want["memory_access"]), (name, lv)
            assert _close(row.time, want["inference_time"]), (name, lv)
            assert row.bound == want["bound"], (name, lv)
        attention = rows["model.layers.0.self_attn.sdpa"]
        parts = [rec["layers"][name][k] for k in ("qk_matmul", "sv_matmul", "softmax")]
        assert _close(attention.flops, sum(p["OPs"] for p in parts))
        assert _close(attention.time, sum(p["inference_time"] for p in parts))
        lm = rows["lm_head"]
        assert _close(lm.flops, rec["layers"][name]["lm_head"]["OPs"])


@pytest.mark.parametrize("rec", GENERATE, ids=[r["model_id"] for r in GENERATE])
def test_generation_time(rec):
    """analyze_generate_task: prefill + decode steps seeing P .. P+G-1 keys; layercalc's
    latency = TTFT + G * TPOT of the mean step, equal here (no layer changes bound)."""
    g = rec["generate"]
    r = inference(zoo.llama(**rec["config"]), prompt_len=g["prompt_len"],
                  gen_len=g["gen_len"], batch=g["batchsize"],
                  hardware=HARDWARE[rec["hardware"]], profile="llm-viewer")
    assert r.decode.exact_average is True
    assert _close(r.latency, rec["inference_time"])
