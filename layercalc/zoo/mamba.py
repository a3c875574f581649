"""Mamba language models (Hugging Face ``MambaForCausalLM``; Gu and Dao 2023,
arXiv:2312.00752), with the published state-spaces/mamba checkpoints as presets."""

from __future__ import annotations

from collections import OrderedDict
from types import MappingProxyType
from typing import Any

from ..layers import Embedding, Linear, RMSNorm
from ..network import Sequential, Tied
from ..ssm import MambaBlock
from ._config import configure, num_layers

__all__ = ["mamba", "mamba_130m", "mamba_370m", "mamba_790m", "mamba_1_4b", "mamba_2_8b",
           "MAMBA_PRESETS"]

#: HF ``config.json`` of state-spaces/mamba-{130m,370m,790m,1.4b,2.8b}-hf (Gu and Dao 2023,
#: Table 12: d_model and n_layer; vocabulary 50277 padded to a multiple of 8).
MAMBA_PRESETS = MappingProxyType({
    name: dict(vocab_size=50280, hidden_size=d, num_hidden_layers=n)
    for name, d, n in (("mamba-130m", 768, 24), ("mamba-370m", 1024, 48),
                       ("mamba-790m", 1536, 48), ("mamba-1.4b", 2048, 48),
                       ("mamba-2.8b", 2560, 64))
})

#: ``transformers.MambaConfig()`` defaults (the fields that change a count).
_HF_DEFAULTS = dict(vocab_size=50280, hidden_size=768, state_size=16, num_hidden_layers=32,
                    layer_norm_epsilon=1e-5, expand=2, conv_kernel=4, use_bias=False,
                    use_conv_bias=True, hidden_act="silu", time_step_rank="auto",
                    tie_word_embeddings=True, intermediate_size=None)

#: MambaConfig keys that change no count (initialisation, numerics, kernel choice).
_IGNORED = frozenset({"residual_in_fp32", "time_step_scale", "time_step_min", "time_step_max",
                      "time_step_init_scheme", "time_step_floor", "rescale_prenorm_residual",
                      "use_mambapy", "use_associative_scan"})


def mamba(preset: str | None = None, *, lm_head: bool = True, **config: Any) -> Sequential:
    """A Mamba language model, as Hugging Face's ``MambaForCausalLM``
    (``models/mamba/modeling_mamba.py``). Input token ids ``(T,)`` (a symbol is fine), output
    logits ``(T, vocab_size)``.

    The configuration is ``transformers.MambaConfig``'s defaults, updated by `preset`
    (``"mamba-130m"``, ``"mamba-370m"``, ``"mamba-790m"``, ``"mamba-1.4b"``,
    ``"mamba-2.8b"``), then by keyword arguments with MambaConfig's names (``vocab_size``,
    ``hidden_size``, ``state_size``, ``num_hidden_layers``, ``layer_norm_epsilon``,
    ``expand``, ``conv_kernel``, ``use_bias``, ``use_conv_bias``, ``hidden_act``,
    ``time_step_rank``, ``tie_word_embeddings``, ``intermediate_size``). Keys that change no
    count (``residual_in_fp32``, the ``time_step_*`` initialisation ...) are ignored; any
    other raises `LayerSpecError` naming it.

    Paths ``backbone.embeddings``, ``backbone.layers.0.norm``,
    ``backbone.layers.0.mixer.in_proj`` ... (`layercalc.MambaBlock`), ``backbone.norm_f``,
    ``lm_head`` (tied to the embeddings, counted once). ``lm_head=False`` gives
    ``MambaModel``.

    params ``= V*d + n_layer*(mixer + d) + d``: 129,135,360 (130m), 371,516,416 (370m),
    793,204,224 (790m), 1,372,178,432 (1.4b), 2,768,345,600 (2.8b), each equal to
    ``MambaForCausalLM`` built on the meta device (tests/oracles).

    >>> from layercalc import analyze
    >>> analyze(mamba("mamba-130m"), (1024,)).total.params
    129135360
    """
    cfg = configure("mamba", _HF_DEFAULTS, MAMBA_PRESETS, preset, config, _IGNORED,
                    family="Mamba")
    n = num_layers("mamba", "num_hidden_layers", cfg["num_hidden_layers"])
    d, vocab, eps = cfg["hidden_size"], cfg["vocab_size"], cfg["layer_norm_epsilon"]
    block = MambaBlock(d, cfg["state_size"], cfg["conv_kernel"], cfg["expand"],
                       cfg["time_step_rank"], cfg["use_bias"], cfg["use_conv_bias"],
                       cfg["hidden_act"], cfg["intermediate_size"], eps)
    tied = cfg["tie_word_embeddings"]
    embed: Any = Embedding(vocab, d)
    backbone = Sequential(OrderedDict([
        ("embeddings", Tied("embeddings", embed) if tied else embed),
        ("layers", Sequential(*[block] * n)),
        ("norm_f", RMSNorm(d, eps)),
    ]))
    items: list = [("backbone", backbone)]
    if lm_head:
        head: Any = Linear(d, vocab, bias=False)
        items.append(("lm_head", Tied("embeddings", head) if tied else head))
    return Sequential(OrderedDict(items))


def mamba_130m(**kwargs: Any) -> Sequential:
    """mamba-130m (state-spaces/mamba-130m-hf): 129,135,360 params. See `mamba`."""
    return mamba("mamba-130m", **kwargs)


def mamba_370m(**kwargs: Any) -> Sequential:
    """mamba-370m (state-spaces/mamba-370m-hf): 371,516,416 params. See `mamba`."""
    return mamba("mamba-370m", **kwargs)


def mamba_790m(**kwargs: Any) -> Sequential:
    """mamba-790m (state-spaces/mamba-790m-hf): 793,204,224 params. See `mamba`."""
    return mamba("mamba-790m", **kwargs)


def mamba_1_4b(**kwargs: Any) -> Sequential:
    """mamba-1.4b (state-spaces/mamba-1.4b-hf): 1,372,178,432 params. See `mamba`."""
    return mamba("mamba-1.4b", **kwargs)


def mamba_2_8b(**kwargs: Any) -> Sequential:
    """mamba-2.8b (state-spaces/mamba-2.8b-hf): 2,768,345,600 params. See `mamba`."""
    return mamba("mamba-2.8b", **kwargs)
