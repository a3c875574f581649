"""LLM inference (`layercalc.inference`): the KV cache (GQA, MQA, sliding windows, SSM state),
prefill compute-bound and decode memory-bound, TPOT >= weights / bandwidth, the exact decode
average against stepping one token at a time, everything symbolic in the prompt length,
quantised weights, the critical batch, MoE decode, errors and rendering."""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

import pytest
import sympy as sp

import layercalc as lc
from layercalc import (
    LayerCalcError, UnknownNameError, inference, kv_cache_bytes, matrix_bytes, symbols, zoo,
)

GOLDEN = Path(__file__).parent / "golden" / "inference.toml"
A100 = "a100-sxm4-80gb"
TINY = dict(vocab_size=512, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
            num_attention_heads=8, num_key_value_heads=2)
#: Llama-3-8B's widths with 2 layers and a small vocabulary: real intensities, fast to count.
SMALL = dict(vocab_size=1000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=2,
             num_attention_heads=32, num_key_value_heads=8)


@functools.lru_cache(maxsize=None)
def golden(name: str, quantity: str) -> int:
    with GOLDEN.open("rb") as f:
        rows = tomllib.load(f)["model"]
    return next(r for r in rows if r["name"] == name and r["quantity"] == quantity)["value"]


# -- the KV cache ----------------------------------------------------------------------------------
def test_llama2_70b_kv_cache_4096_tokens():
    value = golden("llama-2-70b", "kv_cache_bytes")
    assert kv_cache_bytes("llama-2-70b", 4096) == value == 1_342_177_280
    assert kv_cache_bytes(zoo.llama2_70b(), 4096, dtype="fp16") == value
    r = inference("llama-2-70b", prompt_len=2048, gen_len=2048, hardware=A100)
    assert r.kv_cache_bytes == value  # after the last step the cache holds 4096 tokens
    assert kv_cache_bytes("llama2_70b", 4096, batch=8, dtype="int8") == 4 * value


def test_kv_cache_gqa_mqa_and_windows():
    base = dict(TINY, num_key_value_heads=8)
    for kv in (8, 2, 1):  # MHA, GQA, MQA
        model = zoo.llama(**dict(base, num_key_value_heads=kv))
        assert kv_cache_bytes(model, 100) == 2 * 2 * kv * 8 * 100 * 2
    windowed = zoo.llama(**TINY, sliding_window=32)
    assert kv_cache_bytes(windowed, 20) == kv_cache_bytes(zoo.llama(**TINY), 20)
    assert kv_cache_bytes(windowed, 1000) == kv_cache_bytes(windowed, 32) \
        == kv_cache_bytes(zoo.llama(**TINY), 32)
    r = inference(windowed, prompt_len=100, gen_len=50, hardware=A100)
    assert r.kv_cache_bytes == kv_cache_bytes(windowed, 150) == kv_cache_bytes(windowed, 32)


def test_mamba_state_is_its_cache():
    m = zoo.mamba_130m()
    state = 24 * 1536 * (4 + 16) * 2
    assert kv_cache_bytes(m, 10) == kv_cache_bytes(m, 10**6) == state
    a = inference(m, prompt_len=128, gen_len=8, hardware=A100)
    b = inference(m, prompt_len=4096, gen_len=8, hardware=A100)
    assert a.kv_cache_bytes == state and a.decode.flops == b.decode.flops
    assert a.decode.bytes.kv_reads == a.decode.bytes.kv_writes == state
    assert a.prefill.bytes.kv_writes == state and a.prefill.bytes.kv_reads == 0


# -- the roofline ------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["llama2_7b", "mixtral_8x7b", "gpt2_xl", "mamba_2_8b"])
def test_prefill_compute_bound_decode_memory_bound(model):
    r = inference(model, prompt_len=1024, gen_len=64, hardware=A100)
    assert (r.prefill.bound, r.decode.bound) == ("compute", "memory")
    # TPOT is at least the time to read the weights the step reads
    assert r.tpot >= sp.Rational(r.decode.bytes.weight_reads, r.decode.bandwidth)
    dense = model != "mixtral_8x7b"
    if dense:
        assert r.decode.bytes.weight_reads <= r.weight_bytes  # an embedding table is gathered
        assert r.tpot >= sp.Rational(r.weight_bytes - _embedding_bytes(model), r.decode.bandwidth)
    assert r.ttft >= sp.Rational(r.prefill.flops, r.prefill.peak)


def _embedding_bytes(name):
    r = lc.analyze(zoo.MODELS[name](), (8,))
    return sum(row.cost.params for row in r.rows if row.kind in ("Embedding",
                                                                 "PositionalEmbedding")) * 2


def test_tpot_at_least_weights_over_bandwidth_for_every_format():
    model = zoo.llama(**SMALL)
    for w in ("fp16", "int8", "int4", "int4-awq", "nf4", "fp8"):
        r = inference(model, prompt_len=512, gen_len=16, hardware="h100-sxm", weight_dtype=w)
        read = r.weight_bytes - 1000 * 4096 * 2  # the fp16 embedding table is gathered
        assert r.decode.bytes.weight_reads == read
        assert r.tpot >= sp.Rational(read, r.decode.bandwidth)


# -- the decode average ------------------------------------------------------------------------
@pytest.mark.parametrize("config", [TINY, dict(TINY, sliding_window=6)])
def test_decode_average_equals_stepping(config):
    """The mean step equals the average of G single steps, step i attending to P + i keys."""
    model = zoo.llama(**config)
    P, G, B = 5, 7, 3
    r = inference(model, prompt_len=P, gen_len=G, batch=B, hardware=A100)
    steps = [inference(model, prompt_len=P + i - 1, gen_len=1, batch=B, hardware=A100).decode
             for i in range(1, G + 1)]
    assert r.decode.flops == sp.Rational(sum(s.flops for s in steps), G)
    assert r.decode.bytes.total == sp.Rational(sum(s.bytes.total for s in steps), G)
    assert r.decode.bytes.kv_reads == sp.Rational(sum(s.bytes.kv_reads for s in steps), G)
    assert r.decode.exact_average is True
    assert r.tpot == sp.Rational(sum(s.time for s in steps), G)
    assert r.latency == r.ttft + G * r.tpot


def test_decode_closed_form():
    """mean context P + (G + 1)/2; with a window w: (F(P + G) - F(P)) / G."""
    P, G = symbols("P G")
    r = inference(zoo.llama(**TINY), prompt_len=P, gen_len=G, hardware=A100)
    assert sp.simplify(r.decode.context - (P + (G + 1) / sp.Integer(2))) == 0
    w = inference(zoo.llama(**TINY, sliding_window=6), prompt_len=10, gen_len=4, hardware=A100)
    assert w.decode.context == 6
    w = inference(zoo.llama(**TINY, sliding_window=6), prompt_len=2, gen_len=6, hardware=A100)
    assert w.decode.context == sp.Rational(3 + 4 + 5 + 6 + 6 + 6, 6)


def test_everything_symbolic_in_prompt_length():
    P, G, B = symbols("P G B")
    model = zoo.llama(**TINY)
    r = inference(model, prompt_len=P, gen_len=G, batch=B, hardware=A100)
    for p, g, b in ((16, 8, 1), (100, 3, 4)):
        n = inference(model, prompt_len=p, gen_len=g, batch=b, hardware=A100)
        at = {P: p, G: g, B: b}
        for sym, num in ((r.prefill.flops, n.prefill.flops), (r.decode.flops, n.decode.flops),
                         (r.prefill.bytes.total, n.prefill.bytes.total),
                         (r.decode.bytes.total, n.decode.bytes.total),
                         (r.kv_cache_bytes, n.kv_cache_bytes), (r.ttft, n.ttft),
                         (r.tpot, n.tpot), (r.weight_bytes, n.weight_bytes)):
            assert sp.simplify(sp.sympify(sym).subs(at) - num) == 0
    assert r.kv_cache_bytes == 2 * 2 * 2 * 8 * (P + G) * B * 2
    big = inference("llama-3-8b", prompt_len=P, gen_len=G, hardware=A100)
    assert big.decode.bound == "memory" and sp.degree(big.decode.flops, P) == 1


# -- quantisation -------------------------------------------------------------------------------
def test_quantised_weight_bytes_and_overrides():
    model = zoo.llama(**SMALL)
    r = inference(model, prompt_len=16, hardware=A100, weight_dtype="int4")
    d, I, V, kv = 4096, 14336, 1000, 1024
    layer = 2 * matrix_bytes(d, d, "int4") + 2 * matrix_bytes(kv, d, "int4") \
        + 2 * matrix_bytes(I, d, "int4") + matrix_bytes(d, I, "int4") + 2 * d * 2
    expected = 2 * layer + V * d * 2 + d * 2 + matrix_bytes(V, d, "int4")
    assert r.weight_bytes == expected
    keep = inference(model, prompt_len=16, hardware=A100, weight_dtype="int4",
                     overrides={"lm_head": "fp16"})
    assert keep.weight_bytes - r.weight_bytes == V * d * 2 - matrix_bytes(V, d, "int4")
    g64 = inference(model, prompt_len=16, hardware=A100, weight_dtype="int4", group_size=64)
    assert g64.weight_bytes > r.weight_bytes and g64.weight_format == "int4/g64"
    w8a8 = inference(model, prompt_len=16, hardware=A100, weight_dtype="int8",
                     act_dtype="int8")
    assert w8a8.compute_dtype == "int8" and w8a8.prefill.peak == 624 * 10**12
    fp8 = inference(model, prompt_len=16, hardware="h100-sxm", weight_dtype="fp8",
                    act_dtype="fp8", kv_dtype="fp8")
    assert fp8.prefill.peak == 1979 * 10**12 and fp8.kv_cache_bytes * 2 == \
        inference(model, prompt_len=16, hardware="h100-sxm").kv_cache_bytes


# -- critical batch, MoE -------------------------------------------------------------------------
def test_critical_batch():
    model = zoo.llama(**SMALL)
    r = inference(model, prompt_len=128, gen_len=128, hardware=A100)
    b = r.critical_batch
    assert isinstance(b, int) and b > 1
    at = inference(model, prompt_len=128, gen_len=128, batch=b, hardware=A100)
    before = inference(model, prompt_len=128, gen_len=128, batch=b - 1, hardware=A100)
    assert (at.decode.bound, before.decode.bound) == ("compute", "memory")
    P = symbols("P")
    s = inference(model, prompt_len=P, gen_len=128, hardware=A100).critical_batch
    assert sp.ceiling(s.subs(P, 128)) == b
    # a long context: the KV cache grows with the batch, decode never turns compute-bound
    assert inference(model, prompt_len=8192, hardware=A100).critical_batch is None


def test_moe_decode_reads_top_k_experts_at_batch_1():
    model = zoo.mixtral("mixtral-8x7b", num_hidden_layers=2, vocab_size=1000)
    one = inference(model, prompt_len=64, hardware=A100)
    many = inference(model, prompt_len=64, batch=16, hardware=A100)
    expert = 3 * 4096 * 14336 * 2 * 2  # one expert of each of the 2 layers, fp16
    assert many.decode.bytes.weight_reads - one.decode.bytes.weight_reads == 6 * expert
    assert any("MoE" in n for n in one.notes)
    # 64 prompt tokens give each expert 16: even the prefill is memory-bound
    assert (one.prefill.bound, one.decode.bound) == ("memory", "memory")


def test_prefill_logits_and_capacity_factor():
    last = inference("gpt2", prompt_len=64, hardware=A100)
    every = inference("gpt2", prompt_len=64, hardware=A100, prefill_logits="all")
    head = [[x.flops for x in r.prefill.rows if x.path == "lm_head"][0] for r in (last, every)]
    assert head[1] == 64 * head[0] == 64 * (2 * 768 - 1) * 50257
    padded = zoo.mixtral("mixtral-8x7b", num_hidden_layers=2, vocab_size=1000,
                         capacity_factor=1.25)
    r = inference(padded, prompt_len=64, gen_len=4, batch=3, hardware=A100)
    # one decode token per sequence: ceil(1.25 * 3 * 2 / 8) = 1 slot in each of 8 experts
    expert = 3 * 4096 * 14336 * 2 * 2
    assert r.decode.bytes.weight_reads - inference(padded, prompt_len=64, gen_len=4, batch=1,
                                                   hardware=A100).decode.bytes.weight_reads == 0
    assert r.decode.bytes.weight_reads >= 8 * expert
    assert isinstance(r.critical_batch, int)


# -- errors and rendering -----------------------------------------------------------------------
def test_errors():
    with pytest.raises(UnknownNameError) as e:
        inference("llama-3-9b", prompt_len=8, hardware=A100)
    assert str(e.value).startswith("unknown model 'llama-3-9b'; did you mean 'llama-3-8b'")
    with pytest.raises(UnknownNameError, match="inference profile"):
        inference("gpt2", prompt_len=8, hardware=A100, profile="vllm")
    with pytest.raises(LayerCalcError, match="no rule for CausalConv1d"):
        inference("mamba-130m", prompt_len=8, hardware=A100, profile="llm-viewer")
    with pytest.raises(LayerCalcError, match=r"efficiency \(=2\) must be in \(0, 1\]"):
        inference("gpt2", prompt_len=8, hardware=A100, efficiency=2)
    with pytest.raises(lc.LayerSpecError, match=r"prompt_len \(=0\) must be positive"):
        inference("gpt2", prompt_len=0, hardware=A100)
    with pytest.raises(UnknownNameError, match="unknown dtype for h100-sxm 'int4'"):
        inference("gpt2", prompt_len=8, hardware="h100-sxm", act_dtype="int4")
    with pytest.raises(LayerCalcError, match="cannot serve a model holding a _EncoderDecoder"):
        inference(lc.Transformer(64, 4, 1, 1, 128), prompt_len=8, hardware=A100)


def test_rendering():
    r = inference("gpt2", prompt_len=256, gen_len=32, batch=4, hardware=A100)
    assert r.prefill.rows[0].path == "transformer.wte"
    text = r.to_text()
    assert text.splitlines()[0].startswith("gpt2 on a100-sxm4-80gb: prompt 256, gen 32, batch 4")
    assert text.splitlines()[1] == lc.convention_note(lc.DEFAULT_CONVENTION)
    assert "TTFT:" in text and "prefill" in text
    assert len(repr(r)) < 2000 and repr(r).startswith("<InferenceReport gpt2 on a100-sxm4-80gb")
    assert "<caption" in r._repr_html_()
    P = symbols("P")
    assert len(repr(inference(zoo.llama(**SMALL), prompt_len=P, hardware=A100))) < 2000
    assert r.tokens_per_s == 4 / r.tpot
