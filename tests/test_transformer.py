"""Transformer blocks (layercalc.transformer) and token-sequence layers (layers/tokens.py):
PyTorch's parameter tensors, brute-force counts, report paths, symbolic lengths, errors."""

from __future__ import annotations

import math

import pytest
import sympy as sp
from hypothesis import example, given
from hypothesis import strategies as st

import layercalc as lc
from layercalc import (
    BertLayer, ClassToken, GPT2Block, LayerSpecError, LlamaDecoderLayer, MultiheadAttention,
    PositionalEmbedding, RotaryEmbedding, Select, ShapeError, Transformer, TransformerDecoder,
    TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer, Transpose,
    ViTEncoderBlock, analyze, symbols,
)
from brute import transformer_block_counts


# -- parameter tensors, as the sources register them ----------------------------------------
# PyTorch: torch/nn/modules/transformer.py (TransformerEncoderLayer.__init__: self_attn =
# MultiheadAttention(d_model, nhead, dropout, bias=bias, ...), linear1 = Linear(d_model,
# dim_feedforward, bias=bias), linear2 = Linear(dim_feedforward, d_model, bias=bias), norm1/norm2
# = LayerNorm(d_model, eps, bias=bias); the decoder adds multihead_attn and norm3) and
# torch/nn/modules/activation.py (MultiheadAttention: in_proj_weight (3E, E), in_proj_bias (3E)
# if bias, out_proj = Linear(E, E, bias=bias)). Read from pytorch/pytorch commit 00ac522b7bb6.
def _mha(prefix, E, bias):
    out = {f"{prefix}.in_proj_weight": (3 * E, E), f"{prefix}.out_proj.weight": (E, E)}
    if bias:
        out |= {f"{prefix}.in_proj_bias": (3 * E,), f"{prefix}.out_proj.bias": (E,)}
    return out


def _linear(prefix, fin, fout, bias):  # torch.nn.Linear: weight (out, in), bias (out)
    return {f"{prefix}.weight": (fout, fin), **({f"{prefix}.bias": (fout,)} if bias else {})}


def _norm(prefix, E, bias=True):  # torch.nn.LayerNorm(E, bias=bias)
    return {f"{prefix}.weight": (E,), **({f"{prefix}.bias": (E,)} if bias else {})}


def torch_encoder_layer(E, F, bias=True):
    return (_mha("self_attn", E, bias) | _linear("linear1", E, F, bias)
            | _linear("linear2", F, E, bias) | _norm("norm1", E, bias) | _norm("norm2", E, bias))


def torch_decoder_layer(E, F, bias=True):
    return (torch_encoder_layer(E, F, bias) | _mha("multihead_attn", E, bias)
            | _norm("norm3", E, bias))


def hf_gpt2_block(E, inner):
    # transformers models/gpt2/modeling_gpt2.py: Conv1D(nf, nx) has weight (nx, nf), bias (nf)
    def conv1d(prefix, nx, nf):
        return {f"{prefix}.weight": (nx, nf), f"{prefix}.bias": (nf,)}

    return (_norm("ln_1", E) | conv1d("attn.c_attn", E, 3 * E) | conv1d("attn.c_proj", E, E)
            | _norm("ln_2", E) | conv1d("mlp.c_fc", E, inner) | conv1d("mlp.c_proj", inner, E))


def hf_llama_layer(E, H, kv, d, inter):
    # transformers models/llama/modeling_llama.py: bias-free projections, LlamaRMSNorm weight
    return ({"input_layernorm.weight": (E,), "post_attention_layernorm.weight": (E,)}
            | _linear("self_attn.q_proj", E, H * d, False)
            | _linear("self_attn.k_proj", E, kv * d, False)
            | _linear("self_attn.v_proj", E, kv * d, False)
            | _linear("self_attn.o_proj", H * d, E, False)
            | _linear("mlp.gate_proj", E, inter, False) | _linear("mlp.up_proj", E, inter, False)
            | _linear("mlp.down_proj", inter, E, False))


def hf_bert_layer(E, inter):
    # transformers models/bert/modeling_bert.py: BertSelfAttention query/key/value, BertSelfOutput
    # dense + LayerNorm, BertIntermediate dense, BertOutput dense + LayerNorm
    return (_linear("attention.self.query", E, E, True) | _linear("attention.self.key", E, E, True)
            | _linear("attention.self.value", E, E, True)
            | _linear("attention.output.dense", E, E, True)
            | _norm("attention.output.LayerNorm", E)
            | _linear("intermediate.dense", E, inter, True)
            | _linear("output.dense", inter, E, True)
            | _norm("output.LayerNorm", E))


def numel(tensors):
    return sum(math.prod(s) for s in tensors.values())


def assert_rows_own_tensors(report, tensors):
    """Each tensor belongs to the row whose path is the longest prefix of its name (``self_attn``
    owns ``self_attn.out_proj.weight``); every row's params are the sum of its tensors."""
    paths = [r.path for r in report.rows]
    owned = dict.fromkeys(paths, 0)
    for name, shape in tensors.items():
        owners = [p for p in paths if name.startswith(p + ".")]
        assert owners, f"no row owns {name}"
        owned[max(owners, key=len)] += math.prod(shape)
    for r in report.rows:
        assert r.cost.params == owned[r.path], r.path


# -- PyTorch: golden values ------------------------------------------------------------------
def test_torch_encoder_decoder_params_golden():
    """d_model=512, nhead=8, dim_feedforward=2048 (PyTorch's defaults): the parameter tensors
    listed from torch/nn/modules/transformer.py sum to 3,152,384 (encoder layer), 4,204,032
    (decoder layer) and 44,140,544 (nn.Transformer(): 6 + 6 layers, two final LayerNorms)."""
    enc, dec = torch_encoder_layer(512, 2048), torch_decoder_layer(512, 2048)
    assert numel(enc) == 3_152_384 and numel(dec) == 4_204_032
    assert analyze(TransformerEncoderLayer(512, 8), (10, 512)).total.params == 3_152_384
    assert analyze(TransformerDecoderLayer(512, 8), (10, 512)).total.params == 4_204_032
    assert 6 * numel(enc) + 6 * numel(dec) + 2 * 2 * 512 == 44_140_544
    assert analyze(Transformer(), (10, 512)).total.params == 44_140_544


def test_torch_closed_forms():
    """The docstrings' closed forms, symbolically: 4E^2 + 2EF + 2E + b(7E + F) and
    8E^2 + 2EF + 3E + b(12E + F)."""
    E, F, L = symbols("E_m F L")  # "E" is reserved: it prints as Euler's number
    for b in (0, 1):
        enc = analyze(TransformerEncoderLayer(E, 1, F, bias=bool(b)), (L, E)).total.params
        dec = analyze(TransformerDecoderLayer(E, 1, F, bias=bool(b)), (L, E)).total.params
        assert sp.expand(enc - (4 * E**2 + 2 * E * F + 2 * E + b * (7 * E + F))) == 0
        assert sp.expand(dec - (8 * E**2 + 2 * E * F + 3 * E + b * (12 * E + F))) == 0


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("norm_first", [False, True])
def test_torch_rows_own_their_tensors(bias, norm_first):
    """Report paths are PyTorch's module names: every tensor of the state dict lands on its row."""
    r = analyze(TransformerEncoderLayer(16, 4, 24, bias=bias, norm_first=norm_first), (5, 16))
    assert_rows_own_tensors(r, torch_encoder_layer(16, 24, bias))
    r = analyze(TransformerDecoderLayer(16, 4, 24, bias=bias, norm_first=norm_first,
                                        memory_len=7), (5, 16))
    assert_rows_own_tensors(r, torch_decoder_layer(16, 24, bias))


def test_hf_and_torchvision_rows_own_their_tensors():
    assert_rows_own_tensors(analyze(GPT2Block(12, 3), (4, 12)), hf_gpt2_block(12, 48))
    assert_rows_own_tensors(analyze(LlamaDecoderLayer(16, 4, 40, 2), (4, 16)),
                            hf_llama_layer(16, 4, 2, 4, 40))
    assert_rows_own_tensors(analyze(BertLayer(12, 3, 20), (4, 12)), hf_bert_layer(12, 20))
    vit = (_norm("ln_1", 12) | _mha("self_attention", 12, True) | _norm("ln_2", 12)
           | _linear("mlp.0", 12, 20, True) | _linear("mlp.3", 20, 12, True))
    assert_rows_own_tensors(analyze(ViTEncoderBlock(3, 12, 20), (4, 12)), vit)


def test_post_norm_and_pre_norm_order():
    """torch's forward: post-norm adds then normalises, pre-norm normalises the branch input."""
    post = [r.path for r in analyze(TransformerEncoderLayer(8, 2, 16), (3, 8)).rows]
    assert post == ["self_attn", "dropout1", "add1", "norm1", "linear1", "activation", "dropout",
                    "linear2", "dropout2", "add2", "norm2"]
    pre = [r.path for r in analyze(TransformerEncoderLayer(8, 2, 16, norm_first=True),
                                   (3, 8)).rows]
    assert pre == ["norm1", "self_attn", "dropout1", "add1", "norm2", "linear1", "activation",
                   "dropout", "linear2", "dropout2", "add2"]
    dec = [r.path for r in analyze(TransformerDecoderLayer(8, 2, 16), (3, 8)).rows]
    assert dec[4:8] == ["multihead_attn", "dropout2", "add2", "norm2"] and dec[-2:] == [
        "add3", "norm3"]


def test_adds_and_calls():
    """Each residual is one Add of L*E elements (a Python operator); string activations are
    torch.nn.functional calls, layer activations modules."""
    r = analyze(TransformerEncoderLayer(8, 2, 16), (3, 8))
    adds = [row for row in r.rows if row.kind == "Add"]
    assert [a.cost.ops["add"] for a in adds] == [24, 24]
    assert {a.call for a in adds} == {"operator"}
    calls = {row.path: row.call for row in r.rows}
    assert calls["activation"] == "functional" and calls["linear1"] == "module"
    r = analyze(TransformerEncoderLayer(8, 2, 16, activation=lc.GELU()), (3, 8))
    assert {row.path: row.call for row in r.rows}["activation"] == "module"
    assert r.rows[5].kind == "GELU"


# -- brute force -------------------------------------------------------------------------------
def _check(report, counts):
    t = report.total
    assert t.macs == counts.mults
    assert t.macs - t.dots == counts.adds  # adds inside dot products
    assert t.bias_adds == counts.bias_adds


@given(H=st.integers(1, 3), d=st.integers(1, 3), F=st.integers(1, 6), L=st.integers(1, 5),
       causal=st.booleans(), norm_first=st.booleans(), bias=st.booleans())
@example(H=2, d=2, F=3, L=4, causal=True, norm_first=False, bias=True)
def test_encoder_layer_matches_brute_force(H, d, F, L, causal, norm_first, bias):
    E = H * d
    layer = TransformerEncoderLayer(E, H, F, 0.0, bias=bias, norm_first=norm_first,
                                    causal=causal)
    r = analyze(layer, (L, E))
    b = transformer_block_counts(L, E, H, F, causal=causal, qkv_bias=bias, out_bias=bias,
                                 ff_bias=bias)
    _check(r, b)
    assert r.total.params == numel(torch_encoder_layer(E, F, bias))
    assert r.output_shape == (L, E)


@given(H=st.integers(1, 3), d=st.integers(1, 3), F=st.integers(1, 5), L=st.integers(1, 4),
       S=st.integers(1, 5), causal=st.booleans(), bias=st.booleans())
@example(H=1, d=2, F=2, L=4, S=2, causal=True, bias=False)
def test_decoder_layer_matches_brute_force(H, d, F, L, S, causal, bias):
    E = H * d
    layer = TransformerDecoderLayer(E, H, F, bias=bias, memory_len=S, causal=causal)
    r = analyze(layer, (L, E))
    b = transformer_block_counts(L, E, H, F, causal=causal, memory=S, qkv_bias=bias,
                                 out_bias=bias, ff_bias=bias)
    _check(r, b)
    assert r.total.params == numel(torch_decoder_layer(E, F, bias))


@given(kv=st.sampled_from([1, 2, 4]), d=st.sampled_from([2, 4]), inter=st.integers(1, 6),
       L=st.integers(1, 5), rotary=st.booleans())
def test_llama_layer_matches_brute_force(kv, d, inter, L, rotary):
    """GQA: 4 query heads share `kv` key/value heads; no biases; SwiGLU's two up projections."""
    H, E = 4, 4 * d
    r = analyze(LlamaDecoderLayer(E, H, inter, kv, rotary=rotary), (L, E))
    b = transformer_block_counts(L, E, H, inter, kv_heads=kv, causal=True, gated=True,
                                 qkv_bias=False, out_bias=False, ff_bias=False)
    _check(r, b)
    assert r.total.params == numel(hf_llama_layer(E, H, kv, d, inter))
    rope = [row for row in r.rows if row.kind == "RotaryEmbedding"]
    assert len(rope) == int(rotary)
    if rotary:  # 2 mul + 1 add per element of q (L*H*d) and k (L*kv*d)
        assert dict(rope[0].cost.ops) == {"mul": 2 * L * (H + kv) * d, "add": L * (H + kv) * d}


@given(H=st.integers(1, 3), d=st.integers(1, 3), L=st.integers(1, 5))
def test_gpt2_and_bert_blocks_match_brute_force(H, d, L):
    """GPT-2's fused c_attn (E -> 3E) multiplies as much as three E -> E projections."""
    E = H * d
    _check(analyze(GPT2Block(E, H), (L, E)),
           transformer_block_counts(L, E, H, 4 * E, causal=True))
    _check(analyze(BertLayer(E, H, 2 * E + 1), (L, E)),
           transformer_block_counts(L, E, H, 2 * E + 1))
    _check(analyze(ViTEncoderBlock(H, E, 3), (L, E)), transformer_block_counts(L, E, H, 3))


# -- symbolic ----------------------------------------------------------------------------------
def test_symbolic_sequence_length():
    """Encoder-layer MACs are 4LE^2 + 2LEF (projections, MLP) + 2L^2E (QK^T and PV); causal
    makes the last 2E*L(L+1)/2; substituting L gives the numeric count."""
    L = symbols("L")
    E, H, F = 64, 4, 256
    full = analyze(TransformerEncoderLayer(E, H, F), (L, E)).total
    assert sp.expand(full.macs - (4 * L * E**2 + 2 * L * E * F + 2 * L**2 * E)) == 0
    causal = analyze(TransformerEncoderLayer(E, H, F, causal=True), (L, E)).total
    assert sp.expand(causal.macs - (4 * L * E**2 + 2 * L * E * F + E * L * (L + 1))) == 0
    assert sp.Poly(causal.macs, L).degree() == 2
    for n in (1, 7, 33):
        num = analyze(TransformerEncoderLayer(E, H, F, causal=True), (n, E)).total
        assert causal.subs(L, n).counts() == num.counts()


def test_symbolic_memory_length_and_batch():
    """Cross-attention costs 2SE^2 (keys and values of the memory) + 2LSE (scores and sum)
    beyond the query and output projections; batch scales work, not parameters."""
    L, S, B = symbols("L S B")
    E, H, F = 32, 4, 64
    with_mem = analyze(TransformerDecoderLayer(E, H, F, memory_len=S), (L, E)).total
    enc = analyze(TransformerEncoderLayer(E, H, F), (L, E)).total
    assert sp.expand(with_mem.macs - enc.macs - (2 * L * E**2 + 2 * S * E**2 + 2 * L * S * E)) == 0
    batched = analyze(TransformerDecoderLayer(E, H, F, memory_len=S), (L, E), batch=B).total
    assert sp.expand(batched.macs - B * with_mem.macs) == 0 and batched.params == with_mem.params
    assert with_mem.subs({L: 3, S: 5}).counts() == analyze(
        TransformerDecoderLayer(E, H, F, memory_len=5), (3, E)).total.counts()


def test_nn_transformer_memory_is_the_encoder_output():
    """nn.Transformer: the decoder's cross-attention reads the encoder's S tokens; the target
    has tgt_len tokens."""
    S, T = symbols("S T")
    r = analyze(Transformer(64, 4, 1, 1, 128, tgt_len=T), (S, 64))
    cross = [row for row in r.rows if row.path == "decoder.layers.0.multihead_attn"]
    assert cross[0].input_shape == ((T, 64), (S, 64), (S, 64))
    assert r.output_shape == (T, 64)
    assert [row.path for row in r.rows][-1] == "decoder.norm"


def test_stacks():
    layer = TransformerEncoderLayer(16, 2, 32)
    one = analyze(layer, (5, 16)).total
    six = analyze(TransformerEncoder(layer, 6, lc.LayerNorm(16)), (5, 16))
    assert six.total.params == 6 * one.params + 32
    assert six.total.macs == 6 * one.macs
    assert six.rows[0].path == "layers.0.self_attn" and six.rows[-1].path == "norm"
    dec = analyze(TransformerDecoder(TransformerDecoderLayer(16, 2, 32, memory_len=9), 2),
                  (5, 16))
    assert dec.rows[-1].path == "layers.1.norm3"


# -- MultiheadAttention's causal field ---------------------------------------------------------
def test_mha_causal_field_equals_call_time_mask():
    m, mc = MultiheadAttention(16, 4), MultiheadAttention(16, 4, causal=True)
    assert mc.cost((6, 16)).counts() == m.cost((6, 16), causal=True).counts()
    assert mc.cost((6, 16), causal=False).counts() == m.cost((6, 16)).counts()
    assert analyze(mc, (6, 16)).total.macs == 4 * 6 * 16 * 16 + 2 * 16 * 21


# -- token layers ------------------------------------------------------------------------------
@given(L=st.integers(1, 6), heads=st.integers(1, 3), kv=st.integers(1, 3),
       d=st.sampled_from([2, 4, 6]))
def test_rotary_matches_element_loop(L, heads, kv, d):
    """HF apply_rotary_pos_emb: q*cos + rotate_half(q)*sin, per element 2 mul + 1 add."""
    mul = add = 0
    for tensor_heads in (heads, kv):
        for _t in range(L):
            for _h in range(tensor_heads):
                for _f in range(d):
                    mul += 2  # x*cos, rotate_half(x)*sin (the sign flip is free)
                    add += 1
    c = RotaryEmbedding(d).cost((L, heads * d), (L, kv * d))
    assert dict(c.ops) == {"mul": mul, "add": add}
    assert c.params == 0 and c.macs == 0


def test_token_layers():
    assert ClassToken(8, 2).output_shape((5, 8)) == (7, 8)
    c = ClassToken(8).cost((5, 8))
    assert (c.params, c.act_reads, c.writes) == (8, 40, 48)
    p = PositionalEmbedding(10, 4).cost((7, 4))
    assert (p.params, dict(p.ops), p.act_reads, p.writes) == (40, {"add": 28}, 56, 28)
    assert PositionalEmbedding(2, 4, rows="ids").output_shape((9, 4)) == (9, 4)
    assert PositionalEmbedding(9, 4, rows="all").output_shape((9, 4)) == (9, 4)
    assert Select(1, -1).output_shape((5, 3)) == (3,)
    assert Select(-1, 2).output_shape((5, 3)) == (5,)
    assert Transpose(1, -1).output_shape((2, 3, 4)) == (4, 3, 2)
    assert Select(1, 0).cost((5, 3)).counts() == Transpose().cost((5, 3)).counts()
    T = symbols("T")
    assert PositionalEmbedding(1024, 768).cost((T, 768)).ops["add"] == 768 * T


@pytest.mark.parametrize("make, shape, message", [
    (lambda: PositionalEmbedding(16, 4), (17, 4),
     "PositionalEmbedding: sequence length (=17) exceeds the 16 learned positions "
     "(num_embeddings)."),
    (lambda: PositionalEmbedding(16, 4, rows="all"), (15, 4),
     "PositionalEmbedding: sequence length (=15) must equal num_embeddings (=16): the whole "
     "table is added (rows='all')."),
    (lambda: PositionalEmbedding(16, 4), (3, 5),
     "PositionalEmbedding: expected 4 features (embedding_dim), got input shape (3, 5)."),
    (lambda: PositionalEmbedding(16, 4), (3,),
     "PositionalEmbedding: expected an input of rank 2 (L, embedding_dim) (batch excluded), "
     "got (3,)."),
    (lambda: RotaryEmbedding(4), (3, 10),
     "RotaryEmbedding: query features (=10) must be a multiple of head_dim (=4)."),
    (lambda: Select(1, 5), (5, 3),
     "Select: index (=5) is out of range for size 5 of input shape (5, 3)."),
    (lambda: Transpose(1, 3), (5, 3),
     "Transpose: dim1 (=3) is out of range for input shape (5, 3) (batch excluded); valid: "
     "1..2 or -2..-1."),
    (lambda: ClassToken(8), (5, 7),
     "ClassToken: expected 8 features (embed_dim), got input shape (5, 7)."),
])
def test_token_layer_shape_errors(make, shape, message):
    with pytest.raises(ShapeError) as e:
        make().cost(shape)
    assert str(e.value) == message


@pytest.mark.parametrize("make, message", [
    (lambda: TransformerEncoderLayer(510, 8),
     "TransformerEncoderLayer: d_model (=510) must be divisible by nhead (=8)."),
    (lambda: TransformerDecoderLayer(64, 3),
     "TransformerDecoderLayer: d_model (=64) must be divisible by nhead (=3)."),
    (lambda: TransformerEncoderLayer(64, 4, activation="tanh"),
     "TransformerEncoderLayer: activation (='tanh') must be 'relu', 'gelu' or a layer."),
    (lambda: TransformerDecoderLayer(64, 4, memory_len=0),
     "TransformerDecoderLayer: memory_len (=0) must be positive."),
    (lambda: TransformerEncoder(TransformerEncoderLayer(64, 4), sp.Symbol("n")),
     "TransformerEncoder: num_layers (=n) must be a non-negative integer. A network holds a "
     "whole number of layers; for a symbolic depth, analyze one layer and multiply its cost."),
    (lambda: Transformer(custom_decoder=object()), None),
    (lambda: GPT2Block(770, 12), "GPT2Block: n_embd (=770) must be divisible by n_head (=12)."),
    (lambda: GPT2Block(768, 12, activation_function="gelu_fast"),
     "GPT2Block: activation (='gelu_fast') must be one of 'gelu', 'gelu_new', "
     "'gelu_pytorch_tanh', 'relu', 'silu', 'swish', 'tanh'."),
    (lambda: LlamaDecoderLayer(4096, 32, 11008, 5),
     "LlamaDecoderLayer: num_attention_heads (=32) must be divisible by num_key_value_heads "
     "(=5)."),
    (lambda: LlamaDecoderLayer(4096, 30, 11008),
     "LlamaDecoderLayer: hidden_size (=4096) must be divisible by num_attention_heads (=30)."),
    (lambda: RotaryEmbedding(5), "RotaryEmbedding: head_dim (=5) must be even (features rotate "
     "in pairs)."),
    (lambda: Select(0, 0), "Select: dim (=0) is the batch axis; shapes here exclude the batch. "
     "dim=1 is the first axis of the batch-free shape."),
])
def test_block_errors(make, message):
    with pytest.raises(LayerSpecError) as e:
        make()
    if message is not None:
        assert str(e.value) == message
    else:
        assert str(e.value).startswith("Transformer: custom_decoder (=<object object at")


def test_symbols_are_never_rejected():
    """Undecidable divisibility passes: d_model = E, nhead = h with E, h symbols."""
    E, h, L = symbols("E_m h L")
    r = analyze(TransformerEncoderLayer(E, h, 4 * E), (L, E))
    assert sp.expand(r.total.params - (12 * E**2 + 13 * E)) == 0
    assert RotaryEmbedding(2 * E).cost((L, 8 * E)).ops["add"] == 8 * E * L


def test_errors_in_a_network_name_the_path():
    with pytest.raises(ShapeError) as e:
        analyze(TransformerEncoderLayer(64, 4), (10, 32))
    assert str(e.value).startswith("self_attn (MultiheadAttention): expected 64 query features")
