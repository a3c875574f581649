"""Transformer blocks: PyTorch's ``nn.TransformerEncoderLayer``, ``TransformerDecoderLayer``,
``TransformerEncoder``, ``TransformerDecoder`` and ``Transformer``, and the blocks of GPT-2,
BERT, Llama and torchvision's ViT.

As in `layercalc.blocks`, every block is a composite of catalog layers with no formula of its
own, so its cost is the sum of its rows. Shapes exclude the batch: a block takes and returns
``(L, d_model)``. Child names follow the source implementation, so report paths read like
``named_modules()``: ``layers.0.self_attn``, ``h.0.attn.c_attn``, ``layers.0.mlp.gate_proj``.
A residual ``x + f(x)`` is an `Add` row named ``add1``, ``add2``, ``add3`` in block order
(``attention.output.add`` and ``output.add`` in BERT, whose modules own the add and the
LayerNorm). Dropout is the identity at inference and costs nothing.

Attention written with separate projections (GPT-2's fused ``c_attn``, BERT's ``query`` /
``key`` / ``value``, Llama's ``q_proj`` / ``k_proj`` / ``v_proj`` with grouped KV heads) gives
one row per projection, a `ScaledDotProductAttention` row named ``sdpa`` (the
``softmax(Q K^T / sqrt(d)) V`` that Hugging Face computes in its attention function), and the
output projection. PyTorch's and torchvision's blocks keep one `MultiheadAttention` row, as
their ``nn.MultiheadAttention`` module.

The mask counts: causal attention computes only the visible scores (a fused kernel's count,
see `ScaledDotProductAttention`), so its ``QK^T`` and ``PV`` MACs are ``d_model*L(L+1)/2``
each instead of ``d_model*L^2``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from .dims import Dim, as_dim, divides, exact_div, require
from .errors import LayerSpecError
from .layers import (
    GELU,
    Add,
    Dropout,
    Layer,
    LayerNorm,
    Linear,
    MultiheadAttention,
    ReLU,
    RMSNorm,
    RotaryEmbedding,
    ScaledDotProductAttention,
    SiLU,
    Tanh,
)
from .network import Functional, Node, Parallel, Sequential, _Container

__all__ = [
    "TransformerEncoderLayer",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerDecoder",
    "Transformer",
    "GPT2Block",
    "BertLayer",
    "LlamaDecoderLayer",
    "ViTEncoderBlock",
]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and name else (path or name)


# -- containers --------------------------------------------------------------------------------
class _Res(_Container):
    """``x + body(x)``: the body's rows sit directly under the block, the add is row `add`."""

    def __init__(self, body: Node, add: str = "add") -> None:
        self.body, self.add = body, add

    def children(self) -> list[tuple[str, Node]]:
        return [("", self.body)]

    def __repr__(self) -> str:
        return f"_Res({self.body!r}, add={self.add!r})"

    def _walk(self, tracer, x, src, path):
        y, ys = tracer.walk(self.body, x, src, path)
        return tracer.leaf(Add(), [x, y], [src, ys], _join(path, self.add), call="operator")


class _CrossAttention(_Container):
    """A `MultiheadAttention` whose keys and values are a memory of `memory_len` tokens
    (``None``: as many as the queries), produced by `memory` (a path, for error messages)."""

    def __init__(self, attn: MultiheadAttention, memory_len: Dim | None,
                 memory: str = "memory") -> None:
        self.attn, self.memory_len, self.memory = attn, memory_len, memory

    def __repr__(self) -> str:
        return f"_CrossAttention({self.attn!r}, memory_len={self.memory_len!r})"

    def _walk(self, tracer, x, src, path):
        s = x[0] if self.memory_len is None else self.memory_len
        key, value = (s, self.attn.kdim), (s, self.attn.vdim)
        return tracer.leaf(self.attn, [x, key, value], [src, self.memory, self.memory], path)


class _Attention(_Container):
    """Self-attention from separate rows: the projections (one fused ``(q|k|v)`` Linear, or
    three), an optional `RotaryEmbedding` on queries and keys, `ScaledDotProductAttention`,
    then the `post` rows (the output projection and its dropout)."""

    def __init__(self, projections: list[tuple[str, Linear]], sdpa: ScaledDotProductAttention,
                 post: list[tuple[str, Node]] = (), rotary: RotaryEmbedding | None = None,
                 rotary_name: str = "rotary_emb", sdpa_name: str = "sdpa") -> None:
        self.projections, self.sdpa, self.post = list(projections), sdpa, list(post)
        self.rotary, self.rotary_name, self.sdpa_name = rotary, rotary_name, sdpa_name

    def children(self) -> list[tuple[str, Node]]:
        return [*self.projections, (self.sdpa_name, self.sdpa), *self.post]

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={node!r}" for n, node in self.children())
        return f"_Attention({inner})"

    def _walk(self, tracer, x, src, path):
        a = self.sdpa
        q_features = a.num_heads * a.head_dim
        kv_features = a.num_kv_heads * a.head_dim
        if len(self.projections) == 1:  # fused: split (L, (H + 2 H_kv) d) into q, k, v views
            name, layer = self.projections[0]
            y, ys = tracer.walk(layer, x, src, _join(path, name))
            q, k, qs, ks = (y[0], q_features), (y[0], kv_features), ys, ys
        else:
            (q, qs), (k, ks), _v = [tracer.walk(layer, x, src, _join(path, name))
                                    for name, layer in self.projections]
        if self.rotary is not None:
            tracer.leaf(self.rotary, [q, k], [qs, ks], _join(path, self.rotary_name),
                        call="functional")
        y, ys = tracer.leaf(a, [q, k], [qs, ks], _join(path, self.sdpa_name), call="functional")
        for name, node in self.post:
            y, ys = tracer.walk(node, y, ys, _join(path, name))
        return y, ys


class _EncoderDecoder(_Container):
    """``nn.Transformer``: the encoder runs on the input (the source), the decoder on a target
    of `tgt_len` tokens (``None``: as long as the source) against the encoder's output."""

    def __init__(self, encoder: Node, decoder: Any, tgt_len: Dim | None, d_model: Dim) -> None:
        self.encoder, self.make_decoder, self.tgt_len, self.d_model = (
            encoder, decoder, tgt_len, d_model)

    def __repr__(self) -> str:
        return f"Transformer(encoder={self.encoder!r}, tgt_len={self.tgt_len!r})"

    def _walk(self, tracer, x, src, path):
        m, ms = tracer.walk(self.encoder, x, src, _join(path, "encoder"))
        decoder = self.make_decoder(m[0], ms or "the input")
        t = x[0] if self.tgt_len is None else self.tgt_len
        return tracer.walk(decoder, (t, self.d_model), "tgt", _join(path, "decoder"))


# -- validation helpers ------------------------------------------------------------------------
def _heads(owner: str, width: Any, width_name: str, heads: Any, heads_name: str) -> Dim:
    """``width / heads``, checking (when decidable) that `heads` divides `width`."""
    width = as_dim(width, owner, width_name)
    heads = as_dim(heads, owner, heads_name)
    require(divides(heads, width), owner, lambda: f"{width_name} (={width}) must be divisible by {heads_name} "
            f"(={heads})")
    return exact_div(width, heads)


def _layers_count(owner: str, num_layers: Any) -> int:
    if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 0:
        raise LayerSpecError(owner, f"num_layers (={num_layers!r}) must be a non-negative "
                             "integer", "A network holds a whole number of layers; for a "
                             "symbolic depth, analyze one layer and multiply its cost.")
    return num_layers


_TORCH_ACTIVATIONS = {"relu": ReLU, "gelu": GELU}


def _torch_activation(owner: str, activation: Any) -> Node:
    """PyTorch's ``activation``: ``"relu"``/``"gelu"`` become ``F.relu``/``F.gelu`` (a
    functional call), a layer instance or class is a module."""
    if isinstance(activation, str):
        if activation not in _TORCH_ACTIVATIONS:
            raise LayerSpecError(owner, f"activation (={activation!r}) must be 'relu', 'gelu' "
                                 "or a layer")
        return Functional(_TORCH_ACTIVATIONS[activation]())
    if isinstance(activation, Layer):
        return activation
    if isinstance(activation, type) and issubclass(activation, Layer):
        return activation()
    raise LayerSpecError(owner, f"activation (={activation!r}) must be 'relu', 'gelu' or a "
                         "layer")


#: Hugging Face ``ACT2FN`` names used by the configs here, as layers.
_HF_ACTIVATIONS = {
    "gelu": lambda: GELU(),  # GELUActivation: exact erf form
    "gelu_new": lambda: GELU("tanh"),  # NewGELUActivation (GPT-2): tanh approximation
    "gelu_pytorch_tanh": lambda: GELU("tanh"),
    "relu": lambda: ReLU(),
    "silu": lambda: SiLU(),
    "swish": lambda: SiLU(),
    "tanh": lambda: Tanh(),
}


def _hf_activation(owner: str, name: str) -> Layer:
    if name not in _HF_ACTIVATIONS:
        raise LayerSpecError(owner, f"activation (={name!r}) must be one of "
                             + ", ".join(repr(k) for k in _HF_ACTIVATIONS))
    return _HF_ACTIVATIONS[name]()


# -- PyTorch -----------------------------------------------------------------------------------
def _encoder_parts(owner: str, d_model: Any, nhead: Any, dim_feedforward: Any, dropout: float,
                   activation: Any, layer_norm_eps: float, batch_first: bool, bias: bool,
                   causal: bool, n_dropouts: int) -> dict[str, Any]:
    _heads(owner, d_model, "d_model", nhead, "nhead")
    return dict(
        self_attn=MultiheadAttention(d_model, nhead, dropout, bias=bias, batch_first=batch_first,
                                     causal=causal),
        linear1=Linear(d_model, dim_feedforward, bias),
        dropout=Dropout(dropout),
        linear2=Linear(dim_feedforward, d_model, bias),
        norms=[LayerNorm(d_model, layer_norm_eps, bias=bias) for _ in range(n_dropouts)],
        dropouts=[Dropout(dropout) for _ in range(n_dropouts)],
        activation=_torch_activation(owner, activation),
    )


def _ff(p: dict[str, Any], last_dropout: str) -> Sequential:
    return Sequential(OrderedDict([("linear1", p["linear1"]), ("activation", p["activation"]),
                                   ("dropout", p["dropout"]), ("linear2", p["linear2"]),
                                   (last_dropout, p["dropouts"][-1])]))


def _sublayers(norm_first: bool, parts: list[tuple[str, Layer, Node]]) -> Sequential:
    """``x = x + f(norm(x))`` (pre-norm) or ``x = norm(x + f(x))`` (post-norm) for each
    ``(norm name, norm, f)``, adds named ``add1, add2, ...``."""
    items: list[tuple[str, Node]] = []
    for i, (norm_name, norm, f) in enumerate(parts, 1):
        if norm_first:
            items.append(("", _Res(Sequential([(norm_name, norm), ("", f)]), f"add{i}")))
        else:
            items += [("", _Res(f, f"add{i}")), (norm_name, norm)]
    return Sequential(items)


def TransformerEncoderLayer(d_model: int, nhead: int, dim_feedforward: int = 2048,
                            dropout: float = 0.1, activation: Any = "relu",
                            layer_norm_eps: float = 1e-5, batch_first: bool = False,
                            norm_first: bool = False, bias: bool = True, *,
                            causal: bool = False) -> Sequential:
    """``torch.nn.TransformerEncoderLayer``, same arguments and defaults; input ``(L, d_model)``.

    Source: torch/nn/modules/transformer.py. Modules ``self_attn`` (`MultiheadAttention`),
    ``linear1``, ``dropout``, ``linear2``, ``norm1``, ``norm2``, ``dropout1``, ``dropout2``,
    ``activation``; forward::

        norm_first=False:  x = norm1(x + dropout1(self_attn(x)))
                           x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))
        norm_first=True:   x = x + dropout1(self_attn(norm1(x)));  x = x + ... (norm2(x))

    params, with ``E = d_model``, ``F = dim_feedforward`` and ``b = 1`` with bias::

        4E^2 + 4bE (self_attn) + EF + bF (linear1) + FE + bE (linear2) + 2(E + bE) (norms)
        = 4E^2 + 2EF + 2E + b(7E + F)

    ``activation="relu"``/``"gelu"`` is PyTorch's ``F.relu``/``F.gelu`` (a functional call,
    row ``activation``); a layer is a module. ``causal=True`` stands for the ``src_mask``
    PyTorch takes at call time (a causal mask). ``batch_first`` changes nothing per sample.

    >>> from layercalc import analyze
    >>> r = analyze(TransformerEncoderLayer(512, 8), (10, 512))
    >>> r.total.params, [row.path for row in r.rows][:4]
    (3152384, ['self_attn', 'dropout1', 'add1', 'norm1'])
    """
    p = _encoder_parts("TransformerEncoderLayer", d_model, nhead, dim_feedforward, dropout,
                       activation, layer_norm_eps, batch_first, bias, causal, 2)
    sa = Sequential(OrderedDict(self_attn=p["self_attn"], dropout1=p["dropouts"][0]))
    return _sublayers(norm_first, [("norm1", p["norms"][0], sa),
                                   ("norm2", p["norms"][1], _ff(p, "dropout2"))])


def _decoder_layer(d_model: Any, nhead: Any, dim_feedforward: Any, dropout: float,
                   activation: Any, layer_norm_eps: float, batch_first: bool, norm_first: bool,
                   bias: bool, memory_len: Any, causal: bool, memory: str) -> Sequential:
    owner = "TransformerDecoderLayer"
    p = _encoder_parts(owner, d_model, nhead, dim_feedforward, dropout, activation,
                       layer_norm_eps, batch_first, bias, causal, 3)
    if memory_len is not None:
        memory_len = as_dim(memory_len, owner, "memory_len")
    cross = MultiheadAttention(d_model, nhead, dropout, bias=bias, batch_first=batch_first)
    sa = Sequential(OrderedDict(self_attn=p["self_attn"], dropout1=p["dropouts"][0]))
    mha = Sequential(OrderedDict(multihead_attn=_CrossAttention(cross, memory_len, memory),
                                 dropout2=p["dropouts"][1]))
    return _sublayers(norm_first, [("norm1", p["norms"][0], sa), ("norm2", p["norms"][1], mha),
                                   ("norm3", p["norms"][2], _ff(p, "dropout3"))])


def TransformerDecoderLayer(d_model: int, nhead: int, dim_feedforward: int = 2048,
                            dropout: float = 0.1, activation: Any = "relu",
                            layer_norm_eps: float = 1e-5, batch_first: bool = False,
                            norm_first: bool = False, bias: bool = True, *,
                            memory_len: Any = None, causal: bool = False) -> Sequential:
    """``torch.nn.TransformerDecoderLayer``, same arguments and defaults; input (the target)
    ``(L, d_model)``, attending to a memory of ``memory_len`` tokens (``S``; ``None``: as many
    as the target; a symbol is fine).

    Source: torch/nn/modules/transformer.py. As `TransformerEncoderLayer` plus
    ``multihead_attn`` (cross-attention: queries from the target, keys and values from the
    memory), ``norm3`` and ``dropout3``; forward (post-norm)::

        x = norm1(x + dropout1(self_attn(x)))
        x = norm2(x + dropout2(multihead_attn(x, memory, memory)))
        x = norm3(x + dropout3(linear2(dropout(activation(linear1(x))))))

    params = ``8E^2 + 2EF + 3E + b(12E + F)``. The cross-attention's key and value projections
    run on the ``S`` memory tokens (``2*S*E^2`` MACs), its scores on ``L*S`` pairs.
    ``causal=True`` stands for a causal ``tgt_mask`` on the self-attention.

    >>> from layercalc import analyze, symbols
    >>> analyze(TransformerDecoderLayer(512, 8), (10, 512)).total.params
    4204032
    >>> L, S = symbols("L S")
    >>> row = analyze(TransformerDecoderLayer(512, 8, memory_len=S), (L, 512)).rows[4]
    >>> row.path, row.input_shape
    ('multihead_attn', ((L, 512), (S, 512), (S, 512)))
    """
    return _decoder_layer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                          batch_first, norm_first, bias, memory_len, causal, "memory")


def TransformerEncoder(encoder_layer: Node, num_layers: int, norm: Layer | None = None,
                       enable_nested_tensor: bool = True, mask_check: bool = True) -> Sequential:
    """``torch.nn.TransformerEncoder``: `num_layers` copies of `encoder_layer` (``layers.0``,
    ``layers.1``, ...), then `norm` if given (``norm``). The last two arguments change nothing
    per sample.

    >>> from layercalc import analyze
    >>> enc = TransformerEncoder(TransformerEncoderLayer(512, 8), 6)
    >>> analyze(enc, (10, 512)).total.params  # 6 * 3152384
    18914304
    """
    n = _layers_count("TransformerEncoder", num_layers)
    items: list[tuple[str, Node]] = [("layers", Sequential(*[encoder_layer] * n))]
    if norm is not None:
        items.append(("norm", norm))
    return Sequential(items)


def TransformerDecoder(decoder_layer: Node, num_layers: int,
                       norm: Layer | None = None) -> Sequential:
    """``torch.nn.TransformerDecoder``: `num_layers` copies of `decoder_layer` (a
    `TransformerDecoderLayer`, which holds the memory length), then `norm` if given."""
    n = _layers_count("TransformerDecoder", num_layers)
    items: list[tuple[str, Node]] = [("layers", Sequential(*[decoder_layer] * n))]
    if norm is not None:
        items.append(("norm", norm))
    return Sequential(items)


def Transformer(d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                activation: Any = "relu", custom_encoder: Node | None = None,
                custom_decoder: Any = None, layer_norm_eps: float = 1e-5,
                batch_first: bool = False, norm_first: bool = False, bias: bool = True, *,
                tgt_len: Any = None, causal: bool = False) -> _EncoderDecoder:
    """``torch.nn.Transformer``: the input is the source ``(S, d_model)``; the decoder runs on
    a target of ``tgt_len`` tokens (``None``: ``S``) against the encoder's output. Paths
    ``encoder.layers.0.self_attn`` ... ``encoder.norm``, ``decoder.layers.0.multihead_attn``
    ... ``decoder.norm``; the output is the decoder's, ``(tgt_len, d_model)``.
    ``causal=True`` puts a causal ``tgt_mask`` on the decoder's self-attention.

    Source: torch/nn/modules/transformer.py (encoder and decoder end with a LayerNorm).
    ``custom_encoder`` may be any node; ``custom_decoder`` is not supported (the decoder must
    know the memory length: build it with `TransformerDecoderLayer(memory_len=...)`).

    >>> from layercalc import analyze
    >>> analyze(Transformer(), (10, 512)).total.params  # torch.nn.Transformer() defaults
    44140544
    """
    if custom_decoder is not None:
        raise LayerSpecError("Transformer", f"custom_decoder (={custom_decoder!r}) is not "
                             "supported", "Analyze the encoder and a TransformerDecoder built "
                             "with TransformerDecoderLayer(memory_len=...) separately.")
    if tgt_len is not None:
        tgt_len = as_dim(tgt_len, "Transformer", "tgt_len")
    if custom_encoder is not None:
        encoder = custom_encoder
    else:
        encoder = TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                    layer_norm_eps, batch_first, norm_first, bias),
            num_encoder_layers, LayerNorm(d_model, layer_norm_eps, bias=bias))
    _layers_count("Transformer", num_decoder_layers)
    _decoder_layer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                   batch_first, norm_first, bias, None, causal, "")  # validate now

    def decoder(memory_len: Dim, memory: str) -> Sequential:
        layer = _decoder_layer(d_model, nhead, dim_feedforward, dropout, activation,
                               layer_norm_eps, batch_first, norm_first, bias, memory_len,
                               causal, memory)
        return TransformerDecoder(layer, num_decoder_layers,
                                  LayerNorm(d_model, layer_norm_eps, bias=bias))

    return _EncoderDecoder(encoder, decoder, tgt_len, d_model)


# -- Hugging Face and torchvision blocks -------------------------------------------------------
def GPT2Block(n_embd: int, n_head: int, n_inner: int | None = None,
              layer_norm_epsilon: float = 1e-5, activation_function: str = "gelu_new", *,
              causal: bool = True, dropout: float = 0.1) -> Sequential:
    """GPT-2's pre-norm block, as Hugging Face's ``GPT2Block`` (``models/gpt2/
    modeling_gpt2.py``; Radford et al. 2019)::

        x = x + attn(ln_1(x))     attn: c_attn (E -> 3E, fused q|k|v), causal SDPA,
                                        c_proj (E -> E), resid_dropout
        x = x + mlp(ln_2(x))      mlp: c_fc (E -> n_inner), act, c_proj (n_inner -> E), dropout

    ``n_inner`` defaults to ``4*n_embd``; ``gelu_new`` is GELU's tanh approximation. HF's
    ``Conv1D`` is a Linear with a transposed weight: the same counts. params
    ``12E^2 + 13E`` per block (``n_inner = 4E``). The ``attn.bias`` causal-mask buffer of
    older checkpoints is not a parameter and is not counted. Paths ``ln_1``, ``attn.c_attn``,
    ``attn.sdpa``, ``attn.c_proj``, ``attn.resid_dropout``, ``add1``, ``ln_2``,
    ``mlp.c_fc``, ``mlp.act``, ``mlp.c_proj``, ``mlp.dropout``, ``add2``.

    >>> from layercalc import analyze
    >>> analyze(GPT2Block(768, 12), (1024, 768)).total.params  # 12*768**2 + 13*768
    7087872
    """
    head_dim = _heads("GPT2Block", n_embd, "n_embd", n_head, "n_head")
    inner = 4 * n_embd if n_inner is None else n_inner
    attn = _Attention([("c_attn", Linear(n_embd, 3 * n_embd))],
                      ScaledDotProductAttention(n_head, head_dim, causal=causal),
                      post=[("c_proj", Linear(n_embd, n_embd)),
                            ("resid_dropout", Dropout(dropout))])
    mlp = Sequential(OrderedDict([
        ("c_fc", Linear(n_embd, inner)),
        ("act", _hf_activation("GPT2Block", activation_function)),
        ("c_proj", Linear(inner, n_embd)),
        ("dropout", Dropout(dropout)),
    ]))
    return Sequential([
        ("", _Res(Sequential(OrderedDict(ln_1=LayerNorm(n_embd, layer_norm_epsilon),
                                         attn=attn)), "add1")),
        ("", _Res(Sequential(OrderedDict(ln_2=LayerNorm(n_embd, layer_norm_epsilon),
                                         mlp=mlp)), "add2")),
    ])


def BertLayer(hidden_size: int, num_attention_heads: int, intermediate_size: int,
              layer_norm_eps: float = 1e-12, hidden_act: str = "gelu",
              hidden_dropout_prob: float = 0.1) -> Sequential:
    """BERT's post-norm encoder layer, as Hugging Face's ``BertLayer`` (``models/bert/
    modeling_bert.py``; Devlin et al. 2019)::

        x = attention.output.LayerNorm(x + attention.output.dense(attention.self(x)))
        x = output.LayerNorm(x + output.dense(intermediate_act_fn(intermediate.dense(x))))

    ``attention.self`` is ``query``, ``key``, ``value`` (each ``H -> H``) and the SDPA
    (``attention.self.sdpa``, not causal). params ``12H^2 + 13H`` (``intermediate = 4H``).

    >>> from layercalc import analyze
    >>> analyze(BertLayer(768, 12, 3072), (512, 768)).total.params
    7087872
    """
    h = hidden_size
    head_dim = _heads("BertLayer", h, "hidden_size", num_attention_heads,
                      "num_attention_heads")
    self_attn = _Attention([(n, Linear(h, h)) for n in ("query", "key", "value")],
                           ScaledDotProductAttention(num_attention_heads, head_dim))
    attention = Sequential([
        ("", _Res(Sequential(OrderedDict([
            ("self", self_attn),
            ("output", Sequential(OrderedDict(dense=Linear(h, h),
                                              dropout=Dropout(hidden_dropout_prob)))),
        ])), "output.add")),
        ("output.LayerNorm", LayerNorm(h, layer_norm_eps)),
    ])
    ff = Sequential(OrderedDict([
        ("intermediate", Sequential(OrderedDict([
            ("dense", Linear(h, intermediate_size)),
            ("intermediate_act_fn", _hf_activation("BertLayer", hidden_act)),
        ]))),
        ("output", Sequential(OrderedDict(dense=Linear(intermediate_size, h),
                                          dropout=Dropout(hidden_dropout_prob)))),
    ]))
    return Sequential([("attention", attention), ("", _Res(ff, "output.add")),
                       ("output.LayerNorm", LayerNorm(h, layer_norm_eps))])


def LlamaDecoderLayer(hidden_size: int, num_attention_heads: int, intermediate_size: int,
                      num_key_value_heads: int | None = None, head_dim: int | None = None,
                      rms_norm_eps: float = 1e-6, hidden_act: str = "silu",
                      attention_bias: bool = False, mlp_bias: bool = False, *,
                      rotary: bool = True, causal: bool = True,
                      sliding_window: int | None = None) -> Sequential:
    """Llama's pre-norm decoder layer, as Hugging Face's ``LlamaDecoderLayer``
    (``models/llama/modeling_llama.py``; Touvron et al. 2023)::

        n = input_layernorm(x);           x = x + o_proj(SDPA(rope(q_proj(n)), rope(k_proj(n)),
                                                              v_proj(n)))
        m = post_attention_layernorm(x);  x = x + down_proj(act_fn(gate_proj(m)) * up_proj(m))

    With ``H`` query heads, ``H_kv = num_key_value_heads`` (grouped-query attention; default
    ``H``) and ``d = head_dim`` (default ``hidden_size/H``): ``q_proj`` is ``E -> H*d``,
    ``k_proj`` and ``v_proj`` ``E -> H_kv*d``, ``o_proj`` ``H*d -> E``, no biases; the MLP is
    SwiGLU (``gate_proj``, ``up_proj`` ``E -> I``, SiLU, an elementwise `Mul` row
    ``mlp.mul``, ``down_proj`` ``I -> E``). Norms are `RMSNorm` (``E`` weights each).
    params ``2E*H*d + 2E*H_kv*d + 3E*I + 2E`` per layer.

    Rotary position embeddings have no parameters. With ``rotary=True`` (default) they are
    counted as a `RotaryEmbedding` row ``self_attn.rotary_emb`` on the queries and keys:
    2 mul and 1 add per element (no MACs, so nothing under ``macs``/``2*macs``); the cos/sin
    tables, computed once per forward pass, are not counted. ``rotary=False`` leaves the row
    out. ``sliding_window`` (Mistral) restricts each query to the last keys.

    >>> from layercalc import analyze
    >>> r = analyze(LlamaDecoderLayer(4096, 32, 14336, 8), (16, 4096))  # Llama-3-8B
    >>> r.total.params, [row.path for row in r.rows][:4]
    (218112000, ['input_layernorm', 'self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj'])
    """
    owner = "LlamaDecoderLayer"
    e, h = hidden_size, num_attention_heads
    kv = h if num_key_value_heads is None else num_key_value_heads
    d = _heads(owner, e, "hidden_size", h, "num_attention_heads") if head_dim is None \
        else as_dim(head_dim, owner, "head_dim")
    _heads(owner, h, "num_attention_heads", kv, "num_key_value_heads")
    sdpa = ScaledDotProductAttention(h, d, kv, causal=causal, window=sliding_window)
    b = attention_bias
    attn = _Attention([("q_proj", Linear(e, h * d, b)), ("k_proj", Linear(e, kv * d, b)),
                       ("v_proj", Linear(e, kv * d, b))], sdpa,
                      post=[("o_proj", Linear(h * d, e, b))],
                      rotary=RotaryEmbedding(d) if rotary else None)
    gate = Sequential(OrderedDict(gate_proj=Linear(e, intermediate_size, mlp_bias),
                                  act_fn=_hf_activation(owner, hidden_act)))
    mlp = Sequential([
        ("", Parallel(OrderedDict([("", gate),
                                   ("up_proj", Linear(e, intermediate_size, mlp_bias))]),
                      merge="mul")),
        ("down_proj", Linear(intermediate_size, e, mlp_bias)),
    ])
    return Sequential([
        ("", _Res(Sequential(OrderedDict(input_layernorm=RMSNorm(e, rms_norm_eps),
                                         self_attn=attn)), "add1")),
        ("", _Res(Sequential(OrderedDict(post_attention_layernorm=RMSNorm(e, rms_norm_eps),
                                         mlp=mlp)), "add2")),
    ])


def ViTEncoderBlock(num_heads: int, hidden_dim: int, mlp_dim: int, dropout: float = 0.0,
                    attention_dropout: float = 0.0, layer_norm_eps: float = 1e-6) -> Sequential:
    """torchvision's ViT ``EncoderBlock`` (torchvision/models/vision_transformer.py;
    Dosovitskiy et al. 2021), pre-norm::

        x = x + dropout(self_attention(ln_1(x)))     nn.MultiheadAttention, batch_first
        x = x + mlp(ln_2(x))                          mlp.0 Linear, mlp.1 GELU, mlp.2 Dropout,
                                                      mlp.3 Linear, mlp.4 Dropout

    params ``4E^2 + 4E + 2*E*M + M + E + 4E`` (``E = hidden_dim``, ``M = mlp_dim``).

    >>> from layercalc import analyze
    >>> analyze(ViTEncoderBlock(12, 768, 3072), (197, 768)).total.params
    7087872
    """
    _heads("ViTEncoderBlock", hidden_dim, "hidden_dim", num_heads, "num_heads")
    mlp = Sequential(Linear(hidden_dim, mlp_dim), GELU(), Dropout(dropout),
                     Linear(mlp_dim, hidden_dim), Dropout(dropout))
    return Sequential([
        ("", _Res(Sequential(OrderedDict([
            ("ln_1", LayerNorm(hidden_dim, layer_norm_eps)),
            ("self_attention", MultiheadAttention(hidden_dim, num_heads, attention_dropout,
                                                  batch_first=True)),
            ("dropout", Dropout(dropout)),
        ])), "add1")),
        ("", _Res(Sequential(OrderedDict(ln_2=LayerNorm(hidden_dim, layer_norm_eps), mlp=mlp)),
                  "add2")),
    ])
