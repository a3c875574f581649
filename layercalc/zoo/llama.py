"""Llama (Hugging Face ``LlamaForCausalLM``) with presets for Llama 2 and Llama 3."""

from __future__ import annotations

import math
from collections import OrderedDict
from types import MappingProxyType
from typing import Any

from ..errors import LayerSpecError
from ..layers import Embedding, Linear, RMSNorm
from ..network import Sequential, Tied
from ..transformer import LlamaDecoderLayer
from ._config import configure

__all__ = ["llama", "llama2_7b", "llama2_13b", "llama2_70b", "llama3_8b", "llama3_70b",
           "LLAMA_PRESETS", "llama_intermediate_size"]


def llama_intermediate_size(dim: int, multiple_of: int = 256,
                            ffn_dim_multiplier: float | None = None) -> int:
    """The SwiGLU hidden width of Meta's reference code (``FeedForward`` in the llama and
    llama-models repositories, ``model.py``)::

        hidden = int(2 * 4*dim / 3);  hidden = int(ffn_dim_multiplier * hidden) if given
        hidden = multiple_of * ceil(hidden / multiple_of)

    >>> llama_intermediate_size(4096), llama_intermediate_size(5120)  # Llama 2 7B, 13B
    (11008, 13824)
    >>> llama_intermediate_size(4096, 1024, 1.3), llama_intermediate_size(8192, 4096, 1.3)
    (14336, 28672)
    """
    hidden = int(2 * (4 * dim) / 3)
    if ffn_dim_multiplier is not None:
        hidden = int(ffn_dim_multiplier * hidden)
    return multiple_of * math.ceil(hidden / multiple_of)


#: HF ``config.json`` of each checkpoint (the fields that change a count). Llama 2:
#: meta-llama/Llama-2-{7b,13b,70b}-hf (Touvron et al. 2023, Table 1 of "Llama 2"); Llama 3:
#: meta-llama/Meta-Llama-3-{8B,70B} (Meta's llama-models ``sku_list.py``: dim, n_layers,
#: n_heads, n_kv_heads, ffn_dim_multiplier 1.3, multiple_of 1024 / 4096, vocab 128256).
LLAMA_PRESETS = MappingProxyType({
    "llama-2-7b": dict(vocab_size=32000, hidden_size=4096, intermediate_size=11008,
                       num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32,
                       rms_norm_eps=1e-5),
    "llama-2-13b": dict(vocab_size=32000, hidden_size=5120, intermediate_size=13824,
                        num_hidden_layers=40, num_attention_heads=40, num_key_value_heads=40,
                        rms_norm_eps=1e-5),
    "llama-2-70b": dict(vocab_size=32000, hidden_size=8192, intermediate_size=28672,
                        num_hidden_layers=80, num_attention_heads=64, num_key_value_heads=8,
                        rms_norm_eps=1e-5),
    "llama-3-8b": dict(vocab_size=128256, hidden_size=4096, intermediate_size=14336,
                       num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
                       rms_norm_eps=1e-5),
    "llama-3-70b": dict(vocab_size=128256, hidden_size=8192, intermediate_size=28672,
                        num_hidden_layers=80, num_attention_heads=64, num_key_value_heads=8,
                        rms_norm_eps=1e-5),
    # meta-llama/Llama-3.2-1B config.json: head_dim 64, tied input and output embeddings
    "llama-3.2-1b": dict(vocab_size=128256, hidden_size=2048, intermediate_size=8192,
                         num_hidden_layers=16, num_attention_heads=32, num_key_value_heads=8,
                         head_dim=64, rms_norm_eps=1e-5, tie_word_embeddings=True),
})

#: ``transformers.LlamaConfig()`` defaults.
_HF_DEFAULTS = dict(vocab_size=32000, hidden_size=4096, intermediate_size=11008,
                    num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=None,
                    head_dim=None, rms_norm_eps=1e-6, hidden_act="silu", attention_bias=False,
                    mlp_bias=False, tie_word_embeddings=False, sliding_window=None)


def llama(preset: str | None = None, *, rotary: bool = True, lm_head: bool = True,
          **config: Any) -> Sequential:
    """A Llama decoder with its language-model head, as Hugging Face's ``LlamaForCausalLM``
    (``models/llama/modeling_llama.py``). Input: token ids ``(T,)`` (a symbol is fine);
    output logits ``(T, vocab_size)``. Causal self-attention throughout.

    The configuration is ``transformers.LlamaConfig``'s defaults, updated by `preset` (a key of
    `LLAMA_PRESETS`: ``"llama-2-7b"``, ``"llama-2-13b"``, ``"llama-2-70b"``, ``"llama-3-8b"``,
    ``"llama-3-70b"``, ``"llama-3.2-1b"``), then by keyword arguments with LlamaConfig's names
    (``vocab_size``, ``hidden_size``, ``intermediate_size``, ``num_hidden_layers``,
    ``num_attention_heads``, ``num_key_value_heads``, ``head_dim``, ``rms_norm_eps``,
    ``hidden_act``, ``attention_bias``, ``mlp_bias``, ``tie_word_embeddings``, and Mistral's
    ``sliding_window``). Sizes may be symbols, except ``num_hidden_layers``. Hugging Face
    keys that change no count (``rope_theta``, ``max_position_embeddings``, token ids ...,
    `layercalc.zoo._config.HF_IGNORED`) are accepted and ignored, so ``llama(**config.json)``
    works; any other key raises `LayerSpecError` naming it.

    Paths ``model.embed_tokens``, ``model.layers.0`` ... (`LlamaDecoderLayer`), ``model.norm``
    (`RMSNorm`), ``lm_head`` (``Linear(hidden, vocab, bias=False)``; with
    ``tie_word_embeddings`` it shares ``embed_tokens``' weights, counted once). Rotary position
    embeddings have no parameters; ``rotary`` says whether their elementwise ops are counted
    (see `LlamaDecoderLayer`). ``lm_head=False`` gives ``LlamaModel`` (hidden states out).

    params ``= 2*V*d + n_layer*(2*d*H*h + 2*d*H_kv*h + 3*d*I + 2*d) + d`` (untied; ``h`` the
    head size): 6,738,415,616 (Llama-2-7B), 13,015,864,320 (13B), 68,976,648,192 (70B),
    8,030,261,248 (Llama-3-8B), 70,553,706,496 (70B); tied, ``V*d`` fewer: 1,235,814,400
    (Llama-3.2-1B).

    >>> from layercalc import analyze
    >>> analyze(llama("llama-3-8b"), (8192,)).total.params
    8030261248
    """
    cfg = configure("llama", _HF_DEFAULTS, LLAMA_PRESETS, preset, config, family="Llama")
    n = cfg["num_hidden_layers"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise LayerSpecError("llama", f"num_hidden_layers (={n!r}) must be a non-negative "
                             "integer", "For a symbolic depth, analyze one LlamaDecoderLayer "
                             "and multiply.")
    d, vocab = cfg["hidden_size"], cfg["vocab_size"]
    layer = LlamaDecoderLayer(d, cfg["num_attention_heads"], cfg["intermediate_size"],
                              cfg["num_key_value_heads"], cfg["head_dim"], cfg["rms_norm_eps"],
                              cfg["hidden_act"], cfg["attention_bias"], cfg["mlp_bias"],
                              rotary=rotary, sliding_window=cfg["sliding_window"])
    tied = cfg["tie_word_embeddings"]
    embed: Any = Embedding(vocab, d)
    model = Sequential(OrderedDict([
        ("embed_tokens", Tied("embed_tokens", embed) if tied else embed),
        ("layers", Sequential(*[layer] * n)),
        ("norm", RMSNorm(d, cfg["rms_norm_eps"])),
    ]))
    items: list = [("model", model)]
    if lm_head:
        head: Any = Linear(d, vocab, bias=False)
        items.append(("lm_head", Tied("embed_tokens", head) if tied else head))
    return Sequential(OrderedDict(items))


def llama2_7b(**kwargs: Any) -> Sequential:
    """Llama-2-7B (HF meta-llama/Llama-2-7b-hf): 6,738,415,616 params. See `llama`."""
    return llama("llama-2-7b", **kwargs)


def llama2_13b(**kwargs: Any) -> Sequential:
    """Llama-2-13B (HF meta-llama/Llama-2-13b-hf): 13,015,864,320 params. See `llama`."""
    return llama("llama-2-13b", **kwargs)


def llama2_70b(**kwargs: Any) -> Sequential:
    """Llama-2-70B (HF meta-llama/Llama-2-70b-hf, 8 KV heads): 68,976,648,192 params. See
    `llama`."""
    return llama("llama-2-70b", **kwargs)


def llama3_8b(**kwargs: Any) -> Sequential:
    """Llama-3-8B (HF meta-llama/Meta-Llama-3-8B, 8 KV heads): 8,030,261,248 params. See
    `llama`."""
    return llama("llama-3-8b", **kwargs)


def llama3_70b(**kwargs: Any) -> Sequential:
    """Llama-3-70B (HF meta-llama/Meta-Llama-3-70B, 8 KV heads): 70,553,706,496 params. See
    `llama`."""
    return llama("llama-3-70b", **kwargs)
