"""Hugging Face configuration keywords for the zoo's language models.

A builder takes the keys of its ``transformers`` config class as keyword arguments, so a
``config.json`` (or ``PretrainedConfig.to_dict()``) can be passed as ``**config``. Keys that
change no count (initialisation, dropout, rotary frequencies, token ids, output flags) are
accepted and ignored; any other key is an error naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import LayerSpecError, lookup

__all__ = ["HF_IGNORED", "configure", "num_layers"]

#: ``PretrainedConfig`` keys shared by every model, and per-model keys that change no count.
HF_IGNORED = frozenset({
    "_name_or_path", "architectures", "chunk_size_feed_forward", "dtype", "torch_dtype",
    "id2label", "label2id", "is_encoder_decoder", "model_type", "output_attentions",
    "output_hidden_states", "problem_type", "return_dict", "transformers_version",
    "bos_token_id", "eos_token_id", "pad_token_id", "use_cache", "initializer_range",
    "max_position_embeddings", "rope_theta", "rope_scaling", "rope_parameters",
    "attention_dropout", "pretraining_tp", "output_router_logits", "router_aux_loss_coef",
    "router_jitter_noise",
})


def configure(owner: str, defaults: Mapping[str, Any], presets: Mapping[str, Mapping] | None,
              preset: str | None, config: Mapping[str, Any],
              ignored: frozenset[str] = frozenset(), family: str = "") -> dict[str, Any]:
    """``defaults``, updated by ``presets[preset]`` (an unknown preset is an
    `UnknownNameError` naming the `family`) then by `config`; a key in neither
    `defaults`, `HF_IGNORED` nor `ignored` raises a `LayerSpecError` naming it.

    >>> configure("m", {"a": 1}, None, None, {"a": 2, "rope_theta": 1e4})
    {'a': 2}
    >>> configure("m", {"a": 1}, None, None, {"b": 2})
    Traceback (most recent call last):
    ...
    layercalc.errors.LayerSpecError: m: unknown configuration field 'b'; known: a.
    """
    cfg = dict(defaults)
    if preset is not None:
        cfg.update(lookup(presets or {}, f"{family or owner} preset", preset))
    unknown = sorted(set(config) - set(defaults) - HF_IGNORED - ignored, key=str)
    if unknown:
        raise LayerSpecError(owner, f"unknown configuration field {unknown[0]!r}; known: "
                             + ", ".join(sorted(defaults)))
    cfg.update({k: v for k, v in config.items() if k in defaults})
    return cfg


def num_layers(owner: str, name: str, n: Any) -> int:
    """A layer count: a non-negative Python int (a symbolic depth is not a network)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise LayerSpecError(owner, f"{name} (={n!r}) must be a non-negative integer",
                             "For a symbolic depth, analyze one layer and multiply.")
    return n
