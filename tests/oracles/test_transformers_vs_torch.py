"""Every transformer zoo model against its plain-PyTorch twin in ``torch_transformers.py``.

* Parameter counts: the twin, built on the meta device (no memory, no initialisation), has
  exactly ``analyze(zoo_model, DEFAULT_INPUTS[name]).total.params`` parameters (GPT-2's tied
  ``lm_head`` counted once, as ``parameters()`` does).
* Output shapes: for the small models a real CPU forward (batch 2, ``T=8`` tokens, or a
  224x224 image) gives layercalc's per-sample output shape; likewise a tiny Llama
  configuration (grouped-query attention) built through ``layercalc.zoo.llama``'s keywords.
"""

from __future__ import annotations

import pytest

from oracle_support import fast_build, require_torch

torch = require_torch()

import torch_transformers as tt  # noqa: E402

from layercalc import analyze  # noqa: E402
from layercalc.zoo import DEFAULT_INPUTS, MODELS, llama  # noqa: E402

NAMES = list(tt.MODEL_BUILDERS)
#: Models small enough for a real forward pass in well under a second each.
FORWARD = ["gpt2", "bert_base", "vit_b_32"]
T = 8


#: Zoo language models whose oracle is ``transformers`` itself, built on the meta device
#: (test_moe_ssm_vs_torch.py), rather than a twin here.
HF_ORACLE = {"mixtral_8x7b", "mixtral_8x22b", "qwen1_5_moe_a2_7b", "mamba_130m", "mamba_370m",
             "mamba_790m", "mamba_1_4b", "mamba_2_8b"}


def test_twins_cover_the_transformer_zoo():
    assert set(NAMES) <= set(MODELS)
    # every model with a default input has a twin here, in twins_vit.py (Swin V2, MaxViT), or
    # is checked against transformers (HF_ORACLE)
    import twins_vit

    assert not set(NAMES) & HF_ORACLE
    assert set(NAMES) | HF_ORACLE <= set(DEFAULT_INPUTS)
    assert set(DEFAULT_INPUTS) <= set(NAMES) | HF_ORACLE | set(twins_vit.MODEL_BUILDERS)


@pytest.mark.parametrize("name", NAMES)
def test_params(name):
    with torch.device("meta"):
        twin = tt.MODEL_BUILDERS[name]()
    expected = analyze(MODELS[name](), DEFAULT_INPUTS[name]).total.params
    assert tt.count_params(twin) == expected


def _input(name, batch=2):
    shape = DEFAULT_INPUTS[name]
    if len(shape) == 1:  # token ids
        return (T,), torch.randint(0, 1000, (batch, T))
    return shape, torch.randn(batch, *shape)


@pytest.mark.parametrize("name", FORWARD)
def test_forward_shape(name):
    twin = fast_build(tt.MODEL_BUILDERS[name])
    if hasattr(twin, "tie_weights"):
        twin.tie_weights()  # to_empty() gives lm_head its own tensor
    shape, x = _input(name)
    with torch.no_grad():
        y = twin(x)
    assert y.shape[0] == x.shape[0]
    assert tuple(y.shape[1:]) == analyze(MODELS[name](), shape).output_shape


def test_gpt2_lm_head_is_tied():
    with torch.device("meta"):
        twin = tt.MODEL_BUILDERS["gpt2"]()
    assert twin.lm_head.weight is twin.transformer.wte.weight


def test_tiny_llama_gqa_forward():
    cfg = dict(vocab_size=512, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
               num_attention_heads=8, num_key_value_heads=2, rms_norm_eps=1e-5)
    twin = tt.LlamaForCausalLM(**cfg).eval()
    report = analyze(llama(**cfg), (T,))
    assert tt.count_params(twin) == report.total.params
    with torch.no_grad():
        y = twin(torch.randint(0, 512, (2, T)))
    assert tuple(y.shape[1:]) == report.output_shape
