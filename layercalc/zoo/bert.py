"""BERT (Hugging Face ``BertModel``, with its pooler)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ..errors import LayerSpecError
from ..layers import Dropout, Embedding, LayerNorm, Linear, PositionalEmbedding, Select, Tanh
from ..network import Sequential
from ..transformer import BertLayer

__all__ = ["bert", "bert_base", "bert_large"]


def bert(hidden_size: Any = 768, num_hidden_layers: int = 12, num_attention_heads: Any = 12,
         intermediate_size: Any = 3072, *, vocab_size: Any = 30522,
         max_position_embeddings: Any = 512, type_vocab_size: Any = 2,
         layer_norm_eps: float = 1e-12, hidden_act: str = "gelu",
         add_pooling_layer: bool = True) -> Sequential:
    """BERT's encoder, as Hugging Face's ``BertModel`` (``models/bert/modeling_bert.py``;
    Devlin et al. 2019), defaults of ``BertConfig()`` (BERT-base). Input: token ids ``(T,)``,
    ``T <= max_position_embeddings``; output: the pooled first token ``(hidden_size,)`` (or the
    hidden states ``(T, hidden_size)`` with ``add_pooling_layer=False``). No MLM/NSP head.

    Paths: ``embeddings.word_embeddings`` (`Embedding`), ``embeddings.token_type_embeddings``
    (``type_vocab_size`` rows added by token type id: a `PositionalEmbedding` with
    ``rows="ids"``), ``embeddings.position_embeddings``, ``embeddings.LayerNorm``,
    ``embeddings.dropout``, ``encoder.layer.0`` ... (`BertLayer`), then the pooler:
    ``pooler.select`` (``hidden_states[:, 0]``), ``pooler.dense``, ``pooler.activation``
    (Tanh).

    params ``= (V + P + types)*H + 2H + L*(12H^2 + 13H) + (H^2 + H)``: 109,482,240
    (`bert_base`) and 335,141,888 (`bert_large`).

    >>> from layercalc import analyze
    >>> analyze(bert(), (512,)).total.params
    109482240
    """
    if isinstance(num_hidden_layers, bool) or not isinstance(num_hidden_layers, int) \
            or num_hidden_layers < 0:
        raise LayerSpecError("bert", f"num_hidden_layers (={num_hidden_layers!r}) must be a "
                             "non-negative integer")
    h = hidden_size
    embeddings = Sequential(OrderedDict([
        ("word_embeddings", Embedding(vocab_size, h, padding_idx=0)),
        ("token_type_embeddings", PositionalEmbedding(type_vocab_size, h, rows="ids")),
        ("position_embeddings", PositionalEmbedding(max_position_embeddings, h)),
        ("LayerNorm", LayerNorm(h, layer_norm_eps)),
        ("dropout", Dropout(0.1)),
    ]))
    layer = BertLayer(h, num_attention_heads, intermediate_size, layer_norm_eps, hidden_act)
    items: list = [("embeddings", embeddings),
                   ("encoder", Sequential(OrderedDict(layer=Sequential(
                       *[layer] * num_hidden_layers))))]
    if add_pooling_layer:
        items.append(("pooler", Sequential(OrderedDict(select=Select(1, 0),
                                                       dense=Linear(h, h),
                                                       activation=Tanh()))))
    return Sequential(OrderedDict(items))


def bert_base(**kwargs: Any) -> Sequential:
    """BERT-base (L=12, H=768, A=12, FF=3072; Devlin et al. 2019): 109,482,240 params with
    the pooler. Keyword arguments as `bert`."""
    return bert(768, 12, 12, 3072, **kwargs)


def bert_large(**kwargs: Any) -> Sequential:
    """BERT-large (L=24, H=1024, A=16, FF=4096; Devlin et al. 2019): 335,141,888 params with
    the pooler. Keyword arguments as `bert`.

    >>> from layercalc import analyze
    >>> analyze(bert_large(), (512,)).total.params
    335141888
    """
    return bert(1024, 24, 16, 4096, **kwargs)
