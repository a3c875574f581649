"""`lc.from_hf_config` against ``transformers`` 5.23.0: the same configuration built by
transformers on the meta device has the same ``num_parameters()`` (no weights allocated), for
every supported model type and head, published configurations and Hypothesis-drawn small ones.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle_support import require_torch

torch = require_torch()
transformers = pytest.importorskip("transformers", reason="needs the oracle extra "
                                   "(pip install 'layercalc[oracle]')")

import layercalc as lc  # noqa: E402

T = 16


def _hf_params(model_type: str, arch: str, cfg: dict) -> int:
    config = transformers.AutoConfig.for_model(model_type, **cfg)
    cls = getattr(transformers, arch)
    with torch.device("meta"):
        model = cls(config)
    return model.num_parameters()


def _lc_params(model_type: str, arch: str, cfg: dict) -> int:
    m = lc.from_hf_config({"model_type": model_type, "architectures": [arch], **cfg})
    return lc.analyze(m, (T,)).total.params


# Published configurations (the Hub's config.json sizes) and their published parameter counts
PUBLISHED = [
    ("llama", "LlamaForCausalLM", dict(vocab_size=32000, hidden_size=4096,
     intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
     num_key_value_heads=32), 6_738_415_616),                        # Llama-2-7B
    ("llama", "LlamaForCausalLM", dict(vocab_size=128256, hidden_size=4096,
     intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
     num_key_value_heads=8, rope_theta=500000.0), 8_030_261_248),    # Llama-3-8B
    ("mistral", "MistralForCausalLM", dict(vocab_size=32000, hidden_size=4096,
     intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
     num_key_value_heads=8, sliding_window=4096), 7_241_732_096),    # Mistral-7B-v0.1
    ("gpt2", "GPT2LMHeadModel", dict(n_ctx=1024, n_embd=768, n_head=12, n_layer=12,
     n_positions=1024, vocab_size=50257), 124_439_808),              # openai-community/gpt2
    ("bert", "BertModel", dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
     intermediate_size=3072, vocab_size=30522), 109_482_240),        # bert-base-uncased
]


@pytest.mark.parametrize("model_type, arch, cfg, published", PUBLISHED,
                         ids=["llama2-7b", "llama3-8b", "mistral-7b", "gpt2", "bert-base"])
def test_published_sizes_and_transformers(model_type, arch, cfg, published):
    assert _lc_params(model_type, arch, cfg) == published
    assert _hf_params(model_type, arch, cfg) == published


def test_config_json_file_and_pretrained_config(tmp_path):
    cfg = transformers.MistralConfig(num_hidden_layers=2, hidden_size=64, intermediate_size=128,
                                     num_attention_heads=4, num_key_value_heads=2,
                                     vocab_size=100, architectures=["MistralForCausalLM"])
    path = tmp_path / "config.json"
    cfg.to_json_file(path)
    with torch.device("meta"):
        want = transformers.MistralForCausalLM(cfg).num_parameters()
    for source in (cfg, path, str(path), json.loads(path.read_text())):
        m = lc.from_hf_config(source)
        assert lc.analyze(m, (T,)).total.params == want
        assert "rope_parameters" in m.hf_ignored or "rope_theta" in m.hf_ignored


def _small_llama(draw, moe=False):
    heads = draw(st.sampled_from([2, 4]))
    kv = draw(st.sampled_from([h for h in (1, 2, 4) if heads % h == 0]))
    cfg = dict(vocab_size=draw(st.integers(10, 200)), hidden_size=heads * draw(
        st.sampled_from([4, 8])), intermediate_size=draw(st.integers(4, 64)),
        num_hidden_layers=draw(st.integers(1, 3)), num_attention_heads=heads,
        num_key_value_heads=kv, tie_word_embeddings=draw(st.booleans()))
    if moe:
        n = draw(st.integers(2, 4))
        cfg.update(num_local_experts=n, num_experts_per_tok=draw(st.integers(1, n)))
    return cfg


@st.composite
def configs(draw):
    kind = draw(st.sampled_from(["llama", "mistral", "mixtral", "gpt2", "bert"]))
    if kind in ("llama", "mistral", "mixtral"):
        cfg = _small_llama(draw, moe=kind == "mixtral")
        if kind == "llama":
            cfg["attention_bias"] = draw(st.booleans())
            cfg["mlp_bias"] = draw(st.booleans())
        arch = {"llama": "Llama", "mistral": "Mistral", "mixtral": "Mixtral"}[kind] + \
            draw(st.sampled_from(["ForCausalLM", "Model"]))
        return kind, arch, cfg
    if kind == "gpt2":
        h = draw(st.sampled_from([2, 4]))
        cfg = dict(vocab_size=draw(st.integers(10, 200)), n_positions=draw(st.integers(16, 64)),
                   n_embd=h * draw(st.sampled_from([4, 8])), n_head=h,
                   n_layer=draw(st.integers(1, 3)),
                   n_inner=draw(st.one_of(st.none(), st.integers(4, 64))))
        return kind, draw(st.sampled_from(["GPT2LMHeadModel", "GPT2Model"])), cfg
    h = draw(st.sampled_from([2, 4]))
    cfg = dict(vocab_size=draw(st.integers(10, 200)), hidden_size=h * draw(
        st.sampled_from([4, 8])), num_hidden_layers=draw(st.integers(1, 3)),
        num_attention_heads=h, intermediate_size=draw(st.integers(4, 64)),
        max_position_embeddings=draw(st.integers(16, 64)),
        type_vocab_size=draw(st.integers(1, 3)))
    return kind, "BertModel", cfg


@settings(max_examples=40, deadline=None)
@given(configs())
def test_small_configs_equal_transformers(case):
    model_type, arch, cfg = case
    assert _lc_params(model_type, arch, cfg) == _hf_params(model_type, arch, cfg)


def test_zoo_gpt2_of_a_transformers_config_dict():
    cfg = transformers.GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=100)
    with torch.device("meta"):
        want = transformers.GPT2LMHeadModel(cfg).num_parameters()
    assert lc.analyze(lc.zoo.gpt2(**cfg.to_dict()), (T,)).total.params == want
