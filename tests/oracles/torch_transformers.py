"""Plain-PyTorch twins of the zoo's transformer models, used as oracles.

Written from the papers and the structure of Hugging Face's ``modeling_gpt2.py``,
``modeling_bert.py``, ``modeling_llama.py`` and torchvision's ``vision_transformer.py``,
*without* importing ``transformers`` or ``torchvision``. Module paths follow those sources
(``transformer.h.0.attn.c_attn``, ``encoder.layer.0.attention.self.query``,
``model.layers.0.self_attn.q_proj``, ``encoder.layers.encoder_layer_0.self_attention``).

* `GPT2LMHeadModel`: GPT-2 with ``lm_head`` tied to ``transformer.wte`` (HF's ``Conv1D`` is a
  Linear with a transposed weight, so ``nn.Linear`` has the same counts). Input ``(B, T)``
  ids, output logits ``(B, T, vocab)``.
* `BertModel`: BERT with its pooler; output the pooled first token ``(B, H)``.
* `VisionTransformer`: torchvision's ViT; input ``(B, 3, S, S)``, output ``(B, classes)``.
* `LlamaForCausalLM`: Llama with grouped-query attention, RMSNorm, SwiGLU, rotary position
  embeddings (no parameters) and an untied ``lm_head``; output ``(B, T, vocab)``.

`MODEL_BUILDERS` maps each zoo name to a zero-argument builder. Build big ones under
``torch.device("meta")``: parameter counts depend only on sizes.

Importing this module requires torch; under pytest it skips cleanly when torch is missing.
"""

from __future__ import annotations

import math
import sys
from collections import OrderedDict
from functools import partial
from typing import Callable, Dict, Optional

try:
    import torch
    import torch.nn.functional as F
    from torch import Tensor, nn
except ImportError:  # pragma: no cover - depends on the environment
    if "pytest" in sys.modules:
        import pytest

        pytest.skip("torch not installed: pip install -e '.[oracle]' (torch==2.13.0 CPU) to "
                    "run the PyTorch oracle tests", allow_module_level=True)
    raise

__all__ = ["GPT2LMHeadModel", "BertModel", "VisionTransformer", "LlamaForCausalLM",
           "MODEL_BUILDERS", "count_params"]


def count_params(model: nn.Module) -> int:
    """Number of parameter elements (shared tensors counted once)."""
    return sum(p.numel() for p in model.parameters())


def _attention(q: Tensor, k: Tensor, v: Tensor, n_head: int, causal: bool,
               n_kv: Optional[int] = None) -> Tensor:
    """``softmax(QK^T/sqrt(d)) V`` on ``(B, T, heads*d)`` projections; returns ``(B, T, H*d)``."""
    b, t, _ = q.shape
    n_kv = n_head if n_kv is None else n_kv
    q = q.view(b, t, n_head, -1).transpose(1, 2)
    k = k.view(b, t, n_kv, -1).transpose(1, 2)
    v = v.view(b, t, n_kv, -1).transpose(1, 2)
    if n_kv != n_head:  # grouped-query attention: repeat each KV head
        k = k.repeat_interleave(n_head // n_kv, dim=1)
        v = v.repeat_interleave(n_head // n_kv, dim=1)
    y = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    return y.transpose(1, 2).reshape(b, t, -1)


# ---------------------------------------------------------------------------------------------
# GPT-2 (HF GPT2LMHeadModel)
# ---------------------------------------------------------------------------------------------
GPT2_CONFIGS = {"gpt2": (12, 768, 12), "gpt2_medium": (24, 1024, 16),
                "gpt2_large": (36, 1280, 20), "gpt2_xl": (48, 1600, 25)}


class GPT2Attention(nn.Module):
    def __init__(self, d: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.attn_dropout = nn.Dropout(0.1)
        self.resid_dropout = nn.Dropout(0.1)

    def forward(self, x: Tensor) -> Tensor:
        q, k, v = self.c_attn(x).split(x.shape[-1], dim=-1)
        return self.resid_dropout(self.c_proj(_attention(q, k, v, self.n_head, causal=True)))


class GPT2MLP(nn.Module):
    def __init__(self, d: int, inner: int) -> None:
        super().__init__()
        self.c_fc = nn.Linear(d, inner)
        self.c_proj = nn.Linear(inner, d)
        self.act = nn.GELU(approximate="tanh")  # "gelu_new"
        self.dropout = nn.Dropout(0.1)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class GPT2Block(nn.Module):
    def __init__(self, d: int, n_head: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.attn = GPT2Attention(d, n_head)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.mlp = GPT2MLP(d, 4 * d)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT2Model(nn.Module):
    def __init__(self, n_layer: int, d: int, n_head: int, vocab_size: int = 50257,
                 n_positions: int = 1024) -> None:
        super().__init__()
        self.wte = nn.Embedding(vocab_size, d)
        self.wpe = nn.Embedding(n_positions, d)
        self.drop = nn.Dropout(0.1)
        self.h = nn.ModuleList(GPT2Block(d, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(d, eps=1e-5)

    def forward(self, ids: Tensor) -> Tensor:
        pos = torch.arange(ids.shape[1], device=ids.device)
        x = self.drop(self.wte(ids) + self.wpe(pos))
        for block in self.h:
            x = block(x)
        return self.ln_f(x)


class GPT2LMHeadModel(nn.Module):
    def __init__(self, n_layer: int = 12, d: int = 768, n_head: int = 12,
                 vocab_size: int = 50257, n_positions: int = 1024) -> None:
        super().__init__()
        self.transformer = GPT2Model(n_layer, d, n_head, vocab_size, n_positions)
        self.lm_head = nn.Linear(d, vocab_size, bias=False)
        self.tie_weights()

    def tie_weights(self) -> None:
        """Share ``lm_head.weight`` with ``transformer.wte.weight`` (again after ``to_empty``,
        which gives each module its own fresh tensor)."""
        self.lm_head.weight = self.transformer.wte.weight

    def forward(self, ids: Tensor) -> Tensor:
        return self.lm_head(self.transformer(ids))


# ---------------------------------------------------------------------------------------------
# BERT (HF BertModel with pooler)
# ---------------------------------------------------------------------------------------------
class BertEmbeddings(nn.Module):
    def __init__(self, h: int, vocab_size: int, max_pos: int, type_vocab: int,
                 eps: float) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, h, padding_idx=0)
        self.position_embeddings = nn.Embedding(max_pos, h)
        self.token_type_embeddings = nn.Embedding(type_vocab, h)
        self.LayerNorm = nn.LayerNorm(h, eps=eps)
        self.dropout = nn.Dropout(0.1)

    def forward(self, ids: Tensor) -> Tensor:
        pos = torch.arange(ids.shape[1], device=ids.device)
        x = (self.word_embeddings(ids) + self.token_type_embeddings(torch.zeros_like(ids))
             + self.position_embeddings(pos))
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, h: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.query = nn.Linear(h, h)
        self.key = nn.Linear(h, h)
        self.value = nn.Linear(h, h)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x: Tensor) -> Tensor:
        return _attention(self.query(x), self.key(x), self.value(x), self.n_head, causal=False)


class BertSelfOutput(nn.Module):
    def __init__(self, h_in: int, h: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(h_in, h)
        self.LayerNorm = nn.LayerNorm(h, eps=eps)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x: Tensor, residual: Tensor) -> Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class BertAttention(nn.Module):
    def __init__(self, h: int, n_head: int, eps: float) -> None:
        super().__init__()
        self.self = BertSelfAttention(h, n_head)
        self.output = BertSelfOutput(h, h, eps)

    def forward(self, x: Tensor) -> Tensor:
        return self.output(self.self(x), x)


class BertIntermediate(nn.Module):
    def __init__(self, h: int, inter: int) -> None:
        super().__init__()
        self.dense = nn.Linear(h, inter)
        self.intermediate_act_fn = nn.GELU()

    def forward(self, x: Tensor) -> Tensor:
        return self.intermediate_act_fn(self.dense(x))


class BertLayer(nn.Module):
    def __init__(self, h: int, n_head: int, inter: int, eps: float) -> None:
        super().__init__()
        self.attention = BertAttention(h, n_head, eps)
        self.intermediate = BertIntermediate(h, inter)
        self.output = BertSelfOutput(inter, h, eps)  # HF's BertOutput has the same layout

    def forward(self, x: Tensor) -> Tensor:
        x = self.attention(x)
        return self.output(self.intermediate(x), x)


class BertEncoder(nn.Module):
    def __init__(self, h: int, n_layer: int, n_head: int, inter: int, eps: float) -> None:
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(h, n_head, inter, eps) for _ in range(n_layer))

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layer:
            x = layer(x)
        return x


class BertPooler(nn.Module):
    def __init__(self, h: int) -> None:
        super().__init__()
        self.dense = nn.Linear(h, h)
        self.activation = nn.Tanh()

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.dense(x[:, 0]))


class BertModel(nn.Module):
    def __init__(self, hidden_size: int = 768, num_hidden_layers: int = 12,
                 num_attention_heads: int = 12, intermediate_size: int = 3072,
                 vocab_size: int = 30522, max_position_embeddings: int = 512,
                 type_vocab_size: int = 2, layer_norm_eps: float = 1e-12) -> None:
        super().__init__()
        h = hidden_size
        self.embeddings = BertEmbeddings(h, vocab_size, max_position_embeddings,
                                         type_vocab_size, layer_norm_eps)
        self.encoder = BertEncoder(h, num_hidden_layers, num_attention_heads,
                                   intermediate_size, layer_norm_eps)
        self.pooler = BertPooler(h)

    def forward(self, ids: Tensor) -> Tensor:
        return self.pooler(self.encoder(self.embeddings(ids)))


# ---------------------------------------------------------------------------------------------
# ViT (torchvision VisionTransformer)
# ---------------------------------------------------------------------------------------------
class MLPBlock(nn.Sequential):
    def __init__(self, d: int, mlp_dim: int, dropout: float) -> None:
        super().__init__(nn.Linear(d, mlp_dim), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(mlp_dim, d), nn.Dropout(dropout))


class EncoderBlock(nn.Module):
    def __init__(self, num_heads: int, d: int, mlp_dim: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(d, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(d, num_heads, dropout=attention_dropout,
                                                    batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = nn.LayerNorm(d, eps=1e-6)
        self.mlp = MLPBlock(d, mlp_dim, dropout)

    def forward(self, x: Tensor) -> Tensor:
        y = self.ln_1(x)
        y, _ = self.self_attention(y, y, y, need_weights=False)
        x = x + self.dropout(y)
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    def __init__(self, seq_length: int, num_layers: int, num_heads: int, d: int,
                 mlp_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.empty(1, seq_length, d).normal_(std=0.02))
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.Sequential(OrderedDict(
            (f"encoder_layer_{i}", EncoderBlock(num_heads, d, mlp_dim, dropout))
            for i in range(num_layers)))
        self.ln = nn.LayerNorm(d, eps=1e-6)

    def forward(self, x: Tensor) -> Tensor:
        return self.ln(self.layers(self.dropout(x + self.pos_embedding)))


class VisionTransformer(nn.Module):
    def __init__(self, image_size: int, patch_size: int, num_layers: int, num_heads: int,
                 hidden_dim: int, mlp_dim: int, num_classes: int = 1000) -> None:
        super().__init__()
        self.image_size, self.patch_size, self.hidden_dim = image_size, patch_size, hidden_dim
        self.conv_proj = nn.Conv2d(3, hidden_dim, patch_size, stride=patch_size)
        self.class_token = nn.Parameter(torch.zeros(1, 1, hidden_dim))
        seq_length = (image_size // patch_size) ** 2 + 1
        self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim)
        self.heads = nn.Sequential(OrderedDict(head=nn.Linear(hidden_dim, num_classes)))

    def forward(self, x: Tensor) -> Tensor:
        n, _, h, w = x.shape
        torch._assert(h == self.image_size and w == self.image_size, "wrong image size")
        x = self.conv_proj(x).reshape(n, self.hidden_dim, -1).permute(0, 2, 1)
        x = torch.cat([self.class_token.expand(n, -1, -1), x], dim=1)
        return self.heads(self.encoder(x)[:, 0])


VIT_CONFIGS = {  # patch, layers, heads, hidden, mlp
    "vit_b_16": (16, 12, 12, 768, 3072), "vit_b_32": (32, 12, 12, 768, 3072),
    "vit_l_16": (16, 24, 16, 1024, 4096), "vit_l_32": (32, 24, 16, 1024, 4096),
    "vit_h_14": (14, 32, 16, 1280, 5120),
}


# ---------------------------------------------------------------------------------------------
# Llama (HF LlamaForCausalLM)
# ---------------------------------------------------------------------------------------------
class LlamaRMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


def _rope(x: Tensor, base: float = 10000.0) -> Tensor:
    """Rotary position embedding (rotate-half form) on ``(B, T, heads, d)``."""
    t, d = x.shape[1], x.shape[-1]
    inv = 1.0 / base ** (torch.arange(0, d, 2, dtype=torch.float32, device=x.device) / d)
    ang = torch.outer(torch.arange(t, dtype=torch.float32, device=x.device), inv)
    ang = torch.cat([ang, ang], dim=-1)[None, :, None, :]
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return x * ang.cos() + torch.cat([-x2, x1], dim=-1) * ang.sin()


class LlamaAttention(nn.Module):
    def __init__(self, e: int, n_head: int, n_kv: int, head_dim: int) -> None:
        super().__init__()
        self.n_head, self.n_kv, self.head_dim = n_head, n_kv, head_dim
        self.q_proj = nn.Linear(e, n_head * head_dim, bias=False)
        self.k_proj = nn.Linear(e, n_kv * head_dim, bias=False)
        self.v_proj = nn.Linear(e, n_kv * head_dim, bias=False)
        self.o_proj = nn.Linear(n_head * head_dim, e, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        b, t, _ = x.shape
        q = _rope(self.q_proj(x).view(b, t, self.n_head, self.head_dim)).reshape(b, t, -1)
        k = _rope(self.k_proj(x).view(b, t, self.n_kv, self.head_dim)).reshape(b, t, -1)
        y = _attention(q, k, self.v_proj(x), self.n_head, causal=True, n_kv=self.n_kv)
        return self.o_proj(y)


class LlamaMLP(nn.Module):
    def __init__(self, e: int, inter: int) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(e, inter, bias=False)
        self.up_proj = nn.Linear(e, inter, bias=False)
        self.down_proj = nn.Linear(inter, e, bias=False)
        self.act_fn = nn.SiLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, e: int, n_head: int, n_kv: int, inter: int, eps: float) -> None:
        super().__init__()
        self.input_layernorm = LlamaRMSNorm(e, eps)
        self.self_attn = LlamaAttention(e, n_head, n_kv, e // n_head)
        self.post_attention_layernorm = LlamaRMSNorm(e, eps)
        self.mlp = LlamaMLP(e, inter)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.self_attn(self.input_layernorm(x))
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, vocab: int, e: int, inter: int, n_layer: int, n_head: int, n_kv: int,
                 eps: float) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, e)
        self.layers = nn.ModuleList(LlamaDecoderLayer(e, n_head, n_kv, inter, eps)
                                    for _ in range(n_layer))
        self.norm = LlamaRMSNorm(e, eps)

    def forward(self, ids: Tensor) -> Tensor:
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)


class LlamaForCausalLM(nn.Module):
    def __init__(self, vocab_size: int = 32000, hidden_size: int = 4096,
                 intermediate_size: int = 11008, num_hidden_layers: int = 32,
                 num_attention_heads: int = 32, num_key_value_heads: Optional[int] = None,
                 rms_norm_eps: float = 1e-6) -> None:
        super().__init__()
        kv = num_attention_heads if num_key_value_heads is None else num_key_value_heads
        self.model = LlamaModel(vocab_size, hidden_size, intermediate_size, num_hidden_layers,
                                num_attention_heads, kv, rms_norm_eps)
        self.lm_head = nn.Linear(hidden_size, vocab_size, bias=False)  # untied

    def forward(self, ids: Tensor) -> Tensor:
        return self.lm_head(self.model(ids))


#: HF config.json values (vocab, hidden, intermediate, layers, heads, kv heads), written out
#: here independently of layercalc's presets.
LLAMA_CONFIGS = {
    "llama2_7b": (32000, 4096, 11008, 32, 32, 32),
    "llama2_13b": (32000, 5120, 13824, 40, 40, 40),
    "llama2_70b": (32000, 8192, 28672, 80, 64, 8),
    "llama3_8b": (128256, 4096, 14336, 32, 32, 8),
    "llama3_70b": (128256, 8192, 28672, 80, 64, 8),
}


def _llama(cfg: tuple) -> LlamaForCausalLM:
    v, e, i, n, h, kv = cfg
    return LlamaForCausalLM(v, e, i, n, h, kv, rms_norm_eps=1e-5)


#: zoo name -> zero-argument builder of the twin.
MODEL_BUILDERS: Dict[str, Callable[[], nn.Module]] = {
    **{name: partial(GPT2LMHeadModel, *cfg) for name, cfg in GPT2_CONFIGS.items()},
    "bert_base": partial(BertModel, 768, 12, 12, 3072),
    "bert_large": partial(BertModel, 1024, 24, 16, 4096),
    **{name: partial(VisionTransformer, 224, *cfg) for name, cfg in VIT_CONFIGS.items()},
    **{name: partial(_llama, cfg) for name, cfg in LLAMA_CONFIGS.items()},
}
