"""`lc.from_hf_config` without transformers: loading, validation and errors (the parameter
counts against transformers are in tests/oracles/test_from_hf_vs_transformers.py)."""

from __future__ import annotations

import json

import pytest

import layercalc as lc


def test_errors_name_the_key():
    with pytest.raises(lc.LayerSpecError, match="'n_experts'"):
        lc.from_hf_config({"model_type": "gpt2", "n_experts": 8})
    with pytest.raises(lc.LayerSpecError, match="add_cross_attention"):
        lc.from_hf_config({"model_type": "gpt2", "add_cross_attention": True})
    with pytest.raises(lc.LayerSpecError, match="'moe_layers'"):
        lc.from_hf_config({"model_type": "llama", "moe_layers": 3})
    with pytest.raises(lc.UnknownNameError, match="BertForMaskedLM"):
        lc.from_hf_config({"model_type": "bert", "architectures": ["BertForMaskedLM"]})
    with pytest.raises(lc.UnknownNameError, match="'t5'"):
        lc.from_hf_config({"model_type": "t5"})
    with pytest.raises(lc.LayerSpecError, match="hidden_size"):
        lc.from_hf_config({"model_type": "bert", "hidden_size": -3})
    # the builders' own keywords are not configuration keys (a file cannot pick a preset)
    for key, value in (("lm_head", 1), ("preset", "llama-2-7b"), ("rotary", False)):
        with pytest.raises(lc.LayerSpecError, match=f"'{key}'"):
            lc.from_hf_config({"model_type": "mixtral", key: value})
        with pytest.raises(lc.LayerSpecError, match=f"'{key}'"):
            lc.from_hf_config({"model_type": "llama", key: value})
    m = lc.from_hf_config({"model_type": "llama"})
    assert m.hf_notes == ("no 'architectures' in the config: built the base model LlamaModel",)


def test_config_files_are_parsed_not_evaluated(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{'model_type': __import__('os')}")
    with pytest.raises(lc.ParseError, match="not a JSON file"):
        lc.from_hf_config(bad)
    arr = tmp_path / "arr.json"
    arr.write_text("[1, 2]")
    with pytest.raises(lc.ParseError, match="JSON list, not an object"):
        lc.from_hf_config(arr)
    with pytest.raises(lc.ParseError, match="does not exist"):
        lc.from_hf_config(tmp_path / "missing.json")
    with pytest.raises(lc.LayerSpecError, match="hidden_size"):
        lc.from_hf_config({"model_type": "llama", "hidden_size": "4096*2"})
    with pytest.raises(lc.ArgumentError, match="must be a dict"):
        lc.from_hf_config(42)
    ok = tmp_path / "config.json"
    ok.write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"],
                              "hidden_dropout_prob": 0.1}))
    m = lc.from_hf_config(ok)
    assert lc.analyze(m, (128,)).total.params == 109_482_240  # bert-base-uncased, published
    assert m.hf_ignored == ("architectures", "hidden_dropout_prob", "model_type")


def test_symbolic_sizes_pass_through():
    d = lc.symbols("d")
    m = lc.from_hf_config({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
                           "n_embd": 64 * d, "n_head": d, "n_layer": 1})
    p = lc.analyze(m, (8,)).total.params
    # V*n + P*n + (12 n^2 + 13 n) + 2n with n = 64 d (zoo.gpt2's docstring)
    n = 64 * d
    assert (p - (50257 * n + 1024 * n + 12 * n**2 + 13 * n + 2 * n)).expand() == 0


def test_cli_summary_of_a_config_json(tmp_path, capsys):
    from layercalc.cli import main

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
                                "n_positions": 1024}))
    assert main(["summary", str(path), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["input_shape"] == [1024] and doc["total"]["counts"]["params"] == 124_439_808
    assert main(["summary", str(path), "--input", "T", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["input_shape"] == ["T"]
    assert main(["summary", str(path), "--input", "2048"]) == 2  # past the 1024 positions
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "1024 learned positions" in err
    (tmp_path / "t5.json").write_text('{"model_type": "t5"}')
    assert main(["summary", str(tmp_path / "t5.json")]) == 2
    assert "unknown Hugging Face model_type 't5'" in capsys.readouterr().err


def test_zoo_gpt2_takes_a_config_dict():
    # the keys of openai-community/gpt2's config.json (its sizes are GPT2Config's defaults)
    cfg = {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
           "attn_pdrop": 0.1, "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256,
           "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2",
           "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12, "n_positions": 1024,
           "resid_pdrop": 0.1, "summary_activation": None, "summary_first_dropout": 0.1,
           "summary_proj_to_labels": True, "summary_type": "cls_index",
           "summary_use_proj": True, "task_specific_params": {"text-generation": {}},
           "vocab_size": 50257}
    assert lc.analyze(lc.zoo.gpt2(**cfg), (1024,)).total.params == 124_439_808
    with pytest.raises(lc.LayerSpecError, match="'n_experts'"):
        lc.zoo.gpt2(n_experts=8)
    with pytest.raises(lc.LayerSpecError, match="tie_word_embeddings"):
        lc.zoo.gpt2(tie_word_embeddings=False)
