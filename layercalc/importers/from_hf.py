"""`from_hf_config`: a Hugging Face ``config.json`` as a layercalc model.

A configuration names the architecture (``model_type``), its sizes and the head
(``architectures``: ``LlamaForCausalLM``, ``BertModel`` ...). The sizes go to the zoo's
builders under Hugging Face's own names, so the model is the one ``transformers`` builds from
the same configuration, parameter for parameter (``tests/oracles/test_from_hf_vs_transformers.py`` builds each
in ``transformers`` on the meta device and compares ``num_parameters()``).

Supported here: ``llama``, ``mistral`` (``zoo.llama`` with Mistral's defaults and sliding
window), ``mixtral`` (``zoo.mixtral``), ``gpt2`` (``zoo.gpt2``) and ``bert`` (``zoo.bert``,
the ``BertModel`` encoder and pooler). Any other ``model_type`` or head is an
`UnknownNameError` listing what is supported.

A config file is untrusted input: it is read with `json`, nothing in it is evaluated, and
every size goes through the builders' field validation. Keys that change no count (token
ids, dropout rates, initialisation, rope settings: `layercalc.zoo._config.HF_IGNORED` and the
per-type lists below) are ignored and listed in ``model.hf_ignored``; any other key, or a
value that changes the architecture in a way layercalc does not model (``add_cross_attention:
true``), raises a `LayerSpecError` naming it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import zoo
from ..dims import as_dim
from ..errors import ArgumentError, LayerSpecError, ParseError, UnknownNameError
from ..zoo._config import HF_IGNORED
from ..zoo.gpt2 import GPT2_HF_IGNORED

__all__ = ["from_hf_config", "HF_MODEL_TYPES"]

#: ``MistralConfig()``'s defaults where they differ from ``LlamaConfig()``'s.
_MISTRAL = dict(intermediate_size=14336, num_key_value_heads=8, rms_norm_eps=1e-5,
                sliding_window=4096)

#: Per-type keys that change no parameter or operation count.
_GPT2_IGNORED = GPT2_HF_IGNORED | {"tie_word_embeddings", "add_cross_attention"}
_BERT_IGNORED = frozenset({
    "hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout",
    "position_embedding_type", "gradient_checkpointing", "is_decoder", "add_cross_attention",
    "tie_word_embeddings",
})

#: model_type -> the heads (``architectures`` entries) layercalc builds, with what each is.
HF_MODEL_TYPES: Mapping[str, Mapping[str, str]] = {
    "llama": {"LlamaForCausalLM": "decoder + lm_head", "LlamaModel": "decoder"},
    "mistral": {"MistralForCausalLM": "decoder + lm_head", "MistralModel": "decoder"},
    "mixtral": {"MixtralForCausalLM": "decoder + lm_head", "MixtralModel": "decoder"},
    "gpt2": {"GPT2LMHeadModel": "decoder + tied lm_head", "GPT2Model": "decoder"},
    "bert": {"BertModel": "encoder + pooler"},
}


def _load(config: Any) -> dict[str, Any]:
    if isinstance(config, (str, Path)):
        path = Path(config)
        if not path.is_file():
            raise ParseError(f"from_hf_config: config file {str(path)!r} does not exist")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ParseError(f"from_hf_config: {str(path)!r} is not a JSON file ({e})") from None
        if not isinstance(data, dict):
            raise ParseError(f"from_hf_config: {str(path)!r} holds a JSON "
                             f"{type(data).__name__}, not an object of configuration keys")
        return data
    if isinstance(config, Mapping):
        return dict(config)
    to_dict = getattr(config, "to_dict", None)
    if callable(to_dict):  # a transformers.PretrainedConfig (duck-typed: no import needed)
        data = to_dict()
        if isinstance(data, Mapping):
            return dict(data)
    raise ArgumentError("from_hf_config", f"config (={type(config).__name__}) must be a dict, "
                        "a path to config.json or a transformers.PretrainedConfig")


#: Size fields: each a positive integer (or a SymPy expression), checked under its HF name.
_SIZES = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
          "num_attention_heads", "num_key_value_heads", "head_dim", "n_positions", "n_layer",
          "n_embd", "n_head", "n_inner", "max_position_embeddings", "type_vocab_size",
          "num_local_experts", "num_experts_per_tok", "sliding_window")


def _check_sizes(cfg: dict[str, Any]) -> None:
    for key in _SIZES:
        if cfg.get(key) is not None:
            cfg[key] = as_dim(cfg[key], "from_hf_config", key)


def _head(cfg: Mapping[str, Any], model_type: str) -> tuple[str, list[str]]:
    heads = HF_MODEL_TYPES[model_type]
    arch = cfg.get("architectures")
    notes: list[str] = []
    if arch is None or arch == []:
        base = next(h for h in heads if not h.endswith(("ForCausalLM", "LMHeadModel")))
        notes.append(f"no 'architectures' in the config: built the base model {base}")
        return base, notes
    if not (isinstance(arch, list) and all(isinstance(a, str) for a in arch)):
        raise LayerSpecError("from_hf_config", f"architectures (={arch!r}) must be a list of "
                             "class names")
    if len(arch) != 1:
        raise LayerSpecError("from_hf_config", f"architectures (={arch!r}) must name one "
                             "class")
    if arch[0] not in heads:
        raise UnknownNameError(f"{model_type} architecture", arch[0], heads)
    return arch[0], notes


def _reject(cfg: Mapping[str, Any], key: str, allowed: Any, why: str) -> None:
    if key in cfg and cfg[key] not in (allowed, None):
        raise LayerSpecError("from_hf_config", f"{key} (={cfg[key]!r}) is not supported: {why}")


def _known(cfg: Mapping[str, Any], known: set[str], ignored: frozenset[str],
           model_type: str) -> tuple[dict[str, Any], list[str]]:
    unknown = sorted(set(cfg) - known - ignored - HF_IGNORED)
    if unknown:
        raise LayerSpecError("from_hf_config", f"unknown {model_type} configuration field "
                             f"{unknown[0]!r} (it may change the architecture); known: "
                             + ", ".join(sorted(known)))
    used = {k: v for k, v in cfg.items() if k in known}
    return used, sorted(set(cfg) - known)


def from_hf_config(config: Any) -> Any:
    """The layercalc model of a Hugging Face configuration: `config` is a dict, a path to a
    ``config.json``, or a ``transformers.PretrainedConfig``. Its input is token ids ``(T,)``
    (the sequence length, a symbol if you like), as the zoo's language models take.

    ``model.hf_ignored`` lists the keys read and ignored (they change no count);
    ``model.hf_notes`` says which head was built when the config names none; ``model.hf_input``
    is the input the command line uses without ``--input``: token ids at the context length
    the config declares, at most 2048.

    Published sizes, exact: Llama-2-7B 6,738,415,616; Llama-3-8B 8,030,261,248; Mistral-7B
    7,241,732,096; GPT-2 124,439,808; BERT-base ``BertModel`` 109,482,240.

    >>> from layercalc import analyze
    >>> m = from_hf_config({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
    ...                     "n_ctx": 1024, "resid_pdrop": 0.1})
    >>> analyze(m, (1024,)).total.params, m.hf_ignored
    (124439808, ('architectures', 'model_type', 'n_ctx', 'resid_pdrop'))
    """
    cfg = _load(config)
    model_type = cfg.get("model_type")
    if not isinstance(model_type, str):
        raise LayerSpecError("from_hf_config", f"model_type (={model_type!r}) must be a "
                             "string naming the architecture")
    if model_type not in HF_MODEL_TYPES:
        raise UnknownNameError("Hugging Face model_type", model_type, HF_MODEL_TYPES)
    head, notes = _head(cfg, model_type)
    _check_sizes(cfg)
    lm_head = head.endswith(("ForCausalLM", "LMHeadModel"))
    if model_type in ("llama", "mistral", "mixtral"):
        builder = zoo.mixtral if model_type == "mixtral" else zoo.llama
        defaults = dict(_MISTRAL) if model_type == "mistral" else {}
        if model_type == "llama":
            _reject(cfg, "sliding_window", None, "Llama has no sliding window")
        # the builders validate every key themselves (unknown keys raise, naming them); their
        # own keyword parameters are not configuration fields and must not come from a file
        own = sorted(set(cfg) & {"preset", "rotary", "lm_head"})
        if own:
            raise LayerSpecError("from_hf_config", f"unknown {model_type} configuration field "
                                 f"{own[0]!r}: it is not a Hugging Face configuration key")
        sizes = {k: v for k, v in cfg.items() if k not in HF_IGNORED}
        model = builder(lm_head=lm_head, **{**defaults, **sizes})
        ignored = sorted(k for k in cfg if k in HF_IGNORED)
    elif model_type == "gpt2":
        _reject(cfg, "add_cross_attention", False, "GPT-2 with cross-attention is not modelled")
        _reject(cfg, "tie_word_embeddings", True, "zoo.gpt2 ties lm_head to wte, as GPT-2 does")
        known = {"vocab_size", "n_positions", "n_layer", "n_embd", "n_head", "n_inner",
                 "layer_norm_epsilon", "activation_function"}
        used, ignored = _known(cfg, known, _GPT2_IGNORED, model_type)
        model = zoo.gpt2(lm_head=lm_head, **used)
    else:  # bert
        _reject(cfg, "add_cross_attention", False, "BERT with cross-attention is not modelled")
        _reject(cfg, "is_decoder", False, "BERT as a decoder is not modelled")
        _reject(cfg, "position_embedding_type", "absolute", "only absolute position "
                "embeddings are modelled")
        known = {"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                 "intermediate_size", "hidden_act", "max_position_embeddings",
                 "type_vocab_size", "layer_norm_eps"}
        used, ignored = _known(cfg, known, _BERT_IGNORED, model_type)
        model = zoo.bert(**used)
    ctx = cfg.get("n_positions", cfg.get("max_position_embeddings"))
    # the CLI's default input: token ids at the context length the config declares (2048
    # when it declares none, or a symbol)
    model.hf_input = (min(ctx, 2048) if type(ctx) is int and ctx >= 1 else 2048,)
    model.hf_ignored = tuple(ignored)
    model.hf_notes = tuple(notes)
    return model
