"""Language and vision transformers in the zoo: published parameter counts and torchvision's
GFLOPS, Kaplan et al.'s forward FLOPs per token derived from the layers, Chinchilla's 6ND,
symbolic sequence length / vocabulary / batch, report paths and errors.

Golden values come from ``tests/golden/values.toml`` (each row's ``source`` cites where the
number was read) and are repeated here as literals, so a silently edited row fails.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

import pytest
import sympy as sp

import layercalc as lc
from layercalc import LayerSpecError, ShapeError, UnknownNameError, analyze, flops, symbols
from layercalc.zoo import (
    DEFAULT_INPUTS, GPT2_SIZES, LLAMA_PRESETS, MODELS, bert, get_model, gpt2,
    kaplan_forward_flops, llama, llama_intermediate_size,
)

VALUES = Path(__file__).parent / "golden" / "values.toml"


@functools.lru_cache(maxsize=None)
def _toml() -> dict:
    with VALUES.open("rb") as f:
        return tomllib.load(f)


def golden(name: str, quantity: str, variant_has: str = "") -> dict:
    """The values.toml row for `name` / `quantity` whose variant contains `variant_has`."""
    for row in _toml()["model"]:
        if (row["name"] == name and row["quantity"] == quantity
                and variant_has in row.get("variant", "")):
            return row
    raise AssertionError(f"values.toml has no {quantity} row for {name} ({variant_has})")


@functools.lru_cache(maxsize=None)
def total(model: str) -> lc.Cost:
    return analyze(get_model(model)(), DEFAULT_INPUTS[model]).total


# -- parameter counts --------------------------------------------------------------------------
# (values.toml name, zoo model, published params). Variants: HF GPT2LMHeadModel with tied
# lm_head and no attn.bias buffers; HF BertModel with pooler, no heads; HF LlamaForCausalLM with
# untied embed_tokens / lm_head.
LANGUAGE_MODELS = [
    ("gpt2", "gpt2", 124_439_808),
    ("gpt2-medium", "gpt2_medium", 354_823_168),
    ("gpt2-large", "gpt2_large", 774_030_080),
    ("gpt2-xl", "gpt2_xl", 1_557_611_200),
    ("bert-base-uncased", "bert_base", 109_482_240),
    ("bert-large-uncased", "bert_large", 335_141_888),
    ("llama-2-7b", "llama2_7b", 6_738_415_616),
    ("llama-2-13b", "llama2_13b", 13_015_864_320),
    ("llama-2-70b", "llama2_70b", 68_976_648_192),
    ("llama-3-8b", "llama3_8b", 8_030_261_248),
    ("llama-3-70b", "llama3_70b", 70_553_706_496),
]


@pytest.mark.parametrize("name, model, params", LANGUAGE_MODELS,
                         ids=[m for _, m, _ in LANGUAGE_MODELS])
def test_language_model_params(name, model, params):
    row = golden(name, "params")
    assert row["value"] == params and row["rel_tol"] == 0
    assert total(model).params == params


def test_gpt2_params_formula_and_checkpoint_buffers():
    """values.toml: V*d + P*d + L*(12d^2 + 13d) + 2d; the gpt2 safetensors file also stores 12
    causal-mask buffers attn.bias of 1024x1024 (137,022,720 elements), which are not
    parameters."""
    for size, (n_layer, d, _) in GPT2_SIZES.items():
        formula = 50257 * d + 1024 * d + n_layer * (12 * d * d + 13 * d) + 2 * d
        assert analyze(gpt2(size), (1024,)).total.params == formula
    buffers = golden("gpt2", "tensor_elements_in_checkpoint")["value"]
    assert total("gpt2").params + 12 * 1024 * 1024 == buffers == 137_022_720


def test_llama_presets_match_the_published_formula():
    """values.toml's formula 2*V*d + L*(2d^2 + 2*d*(d/H)*H_kv + 3*d*ff + 2d) + d, evaluated on
    the presets' configs (untied ones)."""
    for name, c in LLAMA_PRESETS.items():
        if c.get("tie_word_embeddings"):
            continue
        d, n_kv = c["hidden_size"], c["num_key_value_heads"]
        formula = (2 * c["vocab_size"] * d + c["num_hidden_layers"] * (
            2 * d * d + 2 * d * (d // c["num_attention_heads"]) * n_kv
            + 3 * d * c["intermediate_size"] + 2 * d) + d)
        assert analyze(llama(name), (8,)).total.params == formula, name


def test_llama_intermediate_sizes_follow_metas_rule():
    """values.toml comment: Meta's multiple_of / ffn_dim_multiplier rule gives 11008, 13824,
    28672 (Llama 2 7B/13B/70B) and 14336, 28672 (Llama 3 8B/70B)."""
    rule = [llama_intermediate_size(4096), llama_intermediate_size(5120),
            llama_intermediate_size(8192, 4096, 1.3), llama_intermediate_size(4096, 1024, 1.3),
            llama_intermediate_size(8192, 4096, 1.3)]
    presets = [LLAMA_PRESETS[n]["intermediate_size"] for n in (
        "llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3-8b", "llama-3-70b")]
    assert rule == presets == [11008, 13824, 28672, 14336, 28672]


def test_tied_embeddings_count_once():
    """Llama-3.2-1B ties lm_head to embed_tokens: 1,235,814,400 parameters
    (github.com/ModelCloud/GPTQModel tests/test_parameter_count.py, commit fdbd5b69:
    ``LLAMA_3_2_1B_PARAMETER_COUNT = 1235814400``; config meta-llama/Llama-3.2-1B config.json:
    hidden 2048, intermediate 8192, 16 layers, 32 heads, 8 KV heads, head_dim 64, vocab
    128256, tie_word_embeddings). The tied head still reads its weights."""
    r = analyze(llama("llama-3.2-1b"), (16,))
    assert r.total.params == 1_235_814_400
    untied = analyze(llama("llama-3.2-1b", tie_word_embeddings=False), (16,)).total.params
    assert untied - r.total.params == 128256 * 2048
    head = r.rows[-1]
    assert head.path == "lm_head" and head.cost.params == 0
    assert head.cost.weight_reads == 128256 * 2048
    gpt = analyze(gpt2(), (8,))
    assert [row.cost.params for row in gpt.rows if row.path in ("transformer.wte", "lm_head")] \
        == [50257 * 768, 0]


# -- ViT: torchvision's num_params and _ops -----------------------------------------------------
def test_vit_params_and_torchvision_gflops():
    """torchvision's ``_ops`` for ViT (values.toml: 17.564 and 4.409 GFLOPS, vision_transformer.py
    weights meta) is our ``macs`` convention: multiply-accumulates of conv_proj, every Linear
    (the MHA in/out projections, MLP, the head on the class token) AND the two attention
    matmuls ``QK^T`` and ``PV`` (``2*197^2*768`` per layer at 224/16). Softmax, LayerNorm, GELU,
    biases and the adds are not counted. That reproduces every printed digit; leaving the
    attention matmuls out gives 16.849 and 4.363, which do not."""
    for model, params, ops in (("vit_b_16", 86_567_656, 17.564), ("vit_b_32", 88_224_232, 4.409)):
        assert golden(model, "params", "torchvision ViT")["value"] == params
        assert golden(model, "gflops_torchvision")["value"] == ops
        r = analyze(get_model(model)(), (3, 224, 224))
        assert r.total.params == params
        assert round(flops(r, "macs") / 1e9, 3) == ops
        attention = sum(row.cost.macs for row in r.rows if row.kind == "MultiheadAttention") \
            - sum(4 * 768 * 768 * row.input_shape[0] for row in r.rows
                  if row.kind == "MultiheadAttention")
        assert round((r.total.macs - attention) / 1e9, 3) != ops
    sdpa = 12 * 2 * 197 * 197 * 768
    assert analyze(get_model("vit_b_16")(), (3, 224, 224)).total.macs == 17_563_828_224
    assert 17_563_828_224 - sdpa == 16_848_500_736  # conv + linear only: 16.849


# torchvision/models/vision_transformer.py weights metadata, read from github.com/pytorch/vision
# at commit 07a929e8b851242b1c75c9016ee06a8e502961d8 (the file prints _ops to one decimal there):
# (model, image size, weights, num_params, _ops).
TORCHVISION_VIT = [
    ("vit_l_16", 224, "IMAGENET1K_V1", 304_326_632, 61.6),
    ("vit_l_32", 224, "IMAGENET1K_V1", 306_535_400, 15.4),
    ("vit_h_14", 224, "IMAGENET1K_SWAG_LINEAR_V1", 632_045_800, 167.3),
    ("vit_h_14", 518, "IMAGENET1K_SWAG_E2E_V1", 633_470_440, 1016.7),
    ("vit_b_16", 384, "IMAGENET1K_SWAG_E2E_V1", 86_859_496, 55.5),
    ("vit_l_16", 512, "IMAGENET1K_SWAG_E2E_V1", 305_174_504, 362.0),
]


@pytest.mark.parametrize("model, size, weights, params, ops", TORCHVISION_VIT,
                         ids=[f"{m}-{s}" for m, s, *_ in TORCHVISION_VIT])
def test_torchvision_vit_variants(model, size, weights, params, ops):
    r = analyze(get_model(model)(image_size=size), (3, size, size))
    assert r.total.params == params
    assert round(r.total.macs / 1e9, 1) == ops


def test_vit_b_16_at_384_matches_values_toml_note():
    """values.toml vit_b_16 note: IMAGENET1K_SWAG_E2E_V1 at 384x384 is 55.484 GFLOPS."""
    assert "55.484 GFLOPS" in golden("vit_b_16", "params", "torchvision ViT")["notes"]
    r = analyze(get_model("vit_b_16")(image_size=384), (3, 384, 384))
    assert round(r.total.macs / 1e9, 3) == 55.484


# -- Kaplan et al. 2020 and Chinchilla ----------------------------------------------------------
def test_kaplan_forward_flops_follow_from_the_layers():
    """Kaplan et al. 2020 Table 1 (values.toml [[scaling_formula]]): C_forward = 2N +
    2 n_layer n_ctx d_attn with N = 2 d_model n_layer (2 d_attn + d_ff). From the layers under
    2*macs, per token of a causal GPT with n_layer blocks, width d_model, context n_ctx and
    vocabulary n_vocab, exactly:

        C_layers = C_forward + 2 d_model n_vocab (de-embedding, lm_head)
                             + 2 n_layer d_model (the causal diagonal: query i sees i + 1 keys)

    and without the mask the context term doubles to 4 n_layer n_ctx d_model."""
    n_layer, d, n_ctx, n_vocab = symbols("n_layer d_model n_ctx n_vocab")

    def per_token(blocks, causal=True):
        model = gpt2(n_layer=blocks, n_embd=d, n_head=12, vocab_size=n_vocab,
                     n_positions=n_ctx, causal=causal)
        return sp.expand(flops(analyze(model, (n_ctx,)), "2*macs") / n_ctx)

    for causal in (True, False):
        c0, c1, c2 = (per_token(n, causal) for n in (0, 1, 2))
        assert sp.expand(c2 - 2 * c1 + c0) == 0  # every block costs the same
        c = sp.expand(c0 + n_layer * (c1 - c0))  # any depth
        diff = sp.expand(c - kaplan_forward_flops(n_layer, d, n_ctx))
        if causal:
            assert diff == 2 * d * n_vocab + 2 * n_layer * d
        else:
            assert diff == 2 * d * n_vocab + 2 * n_layer * n_ctx * d
    # the parameter part: Kaplan's N is the blocks' weight matrices (no biases, no LayerNorm)
    kaplan_n = 2 * d * n_layer * (2 * d + 4 * d)
    blocks = [analyze(gpt2(n_layer=k, n_embd=d, n_head=12, vocab_size=n_vocab,
                           n_positions=n_ctx), (n_ctx,)).total.params for k in (0, 1)]
    non_embedding = sp.expand(n_layer * (blocks[1] - blocks[0]) + 2 * d)  # + ln_f
    assert sp.expand(non_embedding - kaplan_n) == 13 * n_layer * d + 2 * d
    # numerically, GPT-2 small at n_ctx = 1024
    r = analyze(gpt2(), (1024,))
    assert flops(r, "2*macs") // 1024 == kaplan_forward_flops(12, 768, 1024) + 2 * 768 * 50257 \
        + 2 * 12 * 768 == 265_956_864


def test_chinchilla_forward_is_two_flops_per_weight_per_token():
    """Chinchilla's C ~= 6ND (Hoffmann et al. 2022 Sec. 3.3, after Kaplan et al.) is 2N per token
    forward + 4N backward (assumed twice the forward: activation and weight gradients; not
    counted by layercalc). The 2N part, from the layers: every Linear row's 2*macs per token is
    exactly twice its weight count (tied lm_head included); attention adds the context term."""
    T = 1024
    r = analyze(gpt2(), (T,))
    linear = [row for row in r.rows if row.kind == "Linear"]
    weights = sum(row.layer.in_features * row.layer.out_features for row in linear)
    assert sum(flops(row.cost, "2*macs") for row in linear) == 2 * weights * T
    attention = sum(flops(row.cost, "2*macs") for row in r.rows
                    if row.kind == "ScaledDotProductAttention")
    assert attention == 2 * 12 * 768 * T * (T + 1)  # causal: 2 n_layer d n_ctx(n_ctx+1)
    assert flops(r, "2*macs") == 2 * weights * T + attention
    # 2N with N = all parameters overstates the weights by the embeddings, biases, norms
    n = r.total.params
    assert n - weights == 1024 * 768 + 12 * 13 * 768 + 2 * 768 == 907_776
    assert 6 * n * 300_000_000_000 == 3 * (2 * n * 300_000_000_000)  # 6ND: forward 2N, x3


# -- symbols -------------------------------------------------------------------------------------
@pytest.mark.parametrize("model, t2", [
    ("gpt2", 12 * 768),        # causal: n_layer*d*T(T+1) MACs
    ("bert_base", 2 * 12 * 768),  # bidirectional: 2 n_layer d T^2
    ("llama3_8b", 32 * 4096),  # causal, GQA changes K/V sizes, not score MACs
])
def test_symbolic_sequence_length(model, t2):
    T = symbols("T")
    sym = analyze(get_model(model)(), (T,))
    macs = sp.Poly(sp.expand(sym.total.macs), T)
    assert macs.degree() == 2 and macs.coeff_monomial(T**2) == t2
    for n in (1, 37, 512):
        num = analyze(get_model(model)(), (n,)).total
        assert sym.total.subs(T, n).counts() == num.counts()


def test_symbolic_vocabulary_and_batch():
    """Vocabulary V enters params (V*d, once: tied) and the lm_head MACs (T*d*V); batch B scales
    the work only."""
    T, V, B = symbols("T V B")
    r = analyze(gpt2(vocab_size=V), (T,), batch=B)
    base = analyze(gpt2(), (1024,)).total.params - 50257 * 768
    assert r.total.params == base + 768 * V
    one = analyze(gpt2(vocab_size=V), (T,)).total
    assert sp.expand(r.total.macs - B * one.macs) == 0
    assert sp.expand(sp.diff(one.macs, V)) == 768 * T
    assert r.total.subs({T: 16, V: 50257, B: 2}).counts() == \
        analyze(gpt2(), (16,), batch=2).total.counts()


def test_every_sequence_model_traces_at_its_default_input():
    assert set(DEFAULT_INPUTS) <= set(MODELS)
    for name in ("vit_b_16", "gpt2", "bert_base", "llama2_7b", "llama3_8b"):
        assert name in DEFAULT_INPUTS
    for name, shape in DEFAULT_INPUTS.items():
        if name in ("llama2_70b", "llama3_70b", "vit_h_14"):
            continue  # the same code as their smaller siblings; kept out for speed
        r = analyze(get_model(name)(), shape)
        assert r.total.macs > 0 and r.total.params > 0, name


# -- paths ---------------------------------------------------------------------------------------
def test_paths_follow_the_source_implementations():
    paths = {r.path for r in analyze(gpt2(), (8,)).rows}
    assert {"transformer.wte", "transformer.wpe", "transformer.h.0.ln_1",
            "transformer.h.0.attn.c_attn", "transformer.h.0.attn.sdpa",
            "transformer.h.11.mlp.c_proj", "transformer.ln_f", "lm_head"} <= paths
    paths = {r.path for r in analyze(bert(), (8,)).rows}
    assert {"embeddings.word_embeddings", "embeddings.token_type_embeddings",
            "encoder.layer.0.attention.self.query", "encoder.layer.0.attention.output.LayerNorm",
            "encoder.layer.11.output.dense", "pooler.dense", "pooler.activation"} <= paths
    paths = {r.path for r in analyze(get_model("llama3_8b")(), (8,)).rows}
    assert {"model.embed_tokens", "model.layers.0.self_attn.k_proj",
            "model.layers.0.self_attn.rotary_emb", "model.layers.31.mlp.gate_proj",
            "model.layers.31.mlp.mul", "model.norm", "lm_head"} <= paths
    paths = {r.path for r in analyze(get_model("vit_b_16")(), (3, 224, 224)).rows}
    assert {"conv_proj", "class_token", "encoder.pos_embedding",
            "encoder.layers.encoder_layer_11.self_attention", "encoder.ln", "heads.head"} <= paths


def test_bert_outputs():
    """The pooler works on the first token; without it the hidden states come out."""
    r = analyze(bert(), (128,))
    assert r.output_shape == (768,)
    assert [row.cost.macs for row in r.rows if row.path == "pooler.dense"] == [768 * 768]
    assert analyze(bert(add_pooling_layer=False), (128,)).output_shape == (128, 768)


# -- errors --------------------------------------------------------------------------------------
def test_errors():
    with pytest.raises(ShapeError) as e:
        analyze(gpt2(), (2048,))
    assert str(e.value) == ("transformer.wpe (PositionalEmbedding): sequence length (=2048) "
                            "exceeds the 1024 learned positions (num_embeddings) from "
                            "transformer.wte.")
    with pytest.raises(LayerSpecError) as e:
        gpt2("tiny")
    assert str(e.value) == "gpt2: size (='tiny') must be one of 'small', 'medium', 'large', 'xl'."
    with pytest.raises(UnknownNameError) as e:
        llama("llama-3-7b")
    assert str(e.value) == ("unknown Llama preset 'llama-3-7b'; did you mean 'llama-3-70b' or "
                            "'llama-3-8b' or 'llama-2-7b'?")
    with pytest.raises(LayerSpecError) as e:
        llama(hidden_sise=4096)
    assert str(e.value).startswith("llama: unknown configuration field 'hidden_sise'; known: ")
    with pytest.raises(LayerSpecError) as e:
        llama(num_hidden_layers=symbols("n"))
    assert str(e.value) == ("llama: num_hidden_layers (=n) must be a non-negative integer. For a "
                            "symbolic depth, analyze one LlamaDecoderLayer and multiply.")
    with pytest.raises(ShapeError) as e:  # torchvision asserts the image size too
        analyze(get_model("vit_b_16")(), (3, 192, 192))
    assert str(e.value) == ("encoder.pos_embedding (PositionalEmbedding): sequence length (=145) "
                            "must equal num_embeddings (=197): the whole table is added "
                            "(rows='all') from class_token.")
    with pytest.raises(LayerSpecError) as e:
        get_model("vit_b_16")(image_size=200)
    assert str(e.value) == ("VisionTransformer: image_size (=200) must be divisible by "
                            "patch_size (=16).")
