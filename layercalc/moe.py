"""Mixture of experts: `MoE`, a container routing each token to ``top_k`` of ``num_experts``
copies of an expert (Shazeer et al. 2017; Mixtral, Jiang et al. 2024), with optional
always-active shared experts (DeepSeek-MoE, Dai et al. 2024; Qwen2-MoE), `active_params`,
and `MixtralDecoderLayer`.

**How the experts appear in a report.** An ``MoE`` holds ``num_experts`` identical experts.
Its report shows the expert's rows once, under ``<experts>.0`` (``block_sparse_moe.experts.0.w1``,
as Mixtral's checkpoint names them), and each of those rows stands for all experts:

* ``params``: every expert, ``num_experts`` x the expert's parameters;
* work and activation traffic: ``top_k`` expert passes per token (``top_k / num_experts``
  of the tokens for each expert). Every token is sent to exactly ``top_k`` experts, so the
  *total* is exact for any routing; only how it splits between experts is data dependent
  (the balanced expectation is ``tokens * top_k / num_experts`` each);
* weight reads: the experts that receive at least one token read their weights once per
  batch. With balanced routing that is ``min(num_experts, tokens * top_k)`` experts (one token
  at batch 1 reads ``top_k`` experts' weights, a large batch reads them all). Uniform random
  routing touches ``E * (1 - (1 - k/E)^tokens)`` in expectation, which lies between the two;
  the balanced count is the one used.

``capacity_factor`` (Switch Transformer, GShard) gives each expert a buffer of
``C = ceil(capacity_factor * tokens * top_k / num_experts)`` token slots, computed whether
filled or not (a padded dispatch): the expert work becomes ``num_experts * C`` passes, every
expert reads its weights, and no routing can do more work than that. ``tokens`` is the tokens
of the whole batch (sequence length x batch).

The rows are wrappers (`_Routed`, `_Replicated`) around the expert's layers: their ``kind``,
shapes and attributes are the layer's, so conventions and reports treat them as the layer.
Tool conventions (`layercalc.peers`) read shapes and so count one expert pass per token.

Around the experts: the router (default ``Linear(d, num_experts, bias=False)``, row
``<router_name>``), a `TopKRouting` row ``routing`` (softmax, top-k, renormalisation) and an
`ExpertCombine` row ``combine`` (the weighted sum, plus the shared experts' outputs).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import sympy as sp

from .cost import Cost
from .dims import Dim, as_count, as_dim, cdiv, ge, prod, require, smin, to_expr
from .errors import LayerSpecError
from .layers import (
    ExpertCombine, Layer, Linear, RMSNorm, RotaryEmbedding, ScaledDotProductAttention,
    TopKRouting,
)
from .network import Node, Parallel, Sequential, _Container
from .transformer import _Attention, _heads, _hf_activation, _Res

__all__ = ["MoE", "active_params", "MixtralDecoderLayer"]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and name else (path or name)


def _exact_number(owner: str, name: str, value: Any) -> Any:
    """A positive number kept exact (floats become rationals from their decimal repr)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, sp.Basic)):
        raise LayerSpecError(owner, f"{name} (={value!r}) must be a positive number")
    v = sp.Rational(repr(value)) if isinstance(value, float) else to_expr(value)
    require(v > 0, owner, f"{name} (={value}) must be positive")
    return as_count(v)


@dataclass(frozen=True)
class _Wrapped(Layer):
    """A layer seen through an MoE: same kind, shapes and attributes; a scaled cost."""

    layer: Layer

    @property
    def kind(self) -> str:
        return self.layer.kind

    def __getattr__(self, name: str) -> Any:  # in_features, num_heads ... of the layer
        if name == "layer" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.layer, name)

    def output_shape(self, *xs: Any) -> tuple:
        return self.layer.output_shape(*xs)

    def cost(self, *xs: Any) -> Cost:  # pragma: no cover - overridden
        raise NotImplementedError


@dataclass(frozen=True)
class _Routed(_Wrapped):
    """One of an expert's layers, standing for all ``num_experts`` experts of an `MoE` fed
    ``tokens`` tokens (the whole batch): params x num_experts, work ``passes / tokens`` x the
    layer's per-token work, weight reads x the experts touched (see the module docstring)."""

    num_experts: Dim = 1
    top_k: Dim = 1
    tokens: Dim = 1
    capacity_factor: Any = None

    @property
    def capacity(self) -> Dim | None:
        """Token slots per expert, ``ceil(capacity_factor * tokens * top_k / num_experts)``
        (None without a capacity factor)."""
        if self.capacity_factor is None:
            return None
        return cdiv(as_count(self.capacity_factor * self.tokens * self.top_k), self.num_experts)

    @property
    def passes(self) -> Dim:
        """Expert passes over the batch: ``tokens * top_k``, or ``num_experts * capacity``."""
        c = self.capacity
        if c is None:
            return as_count(self.tokens * self.top_k)
        return as_count(self.num_experts * c)

    @property
    def touched(self) -> Dim:
        """Experts whose weights are read: ``min(num_experts, tokens * top_k)`` (balanced
        routing), or all of them with a capacity factor (every buffer is computed)."""
        if self.capacity_factor is not None:
            return self.num_experts
        return smin(self.num_experts, as_count(self.tokens * self.top_k))

    def cost(self, *xs: Any) -> Cost:
        c = self.layer.cost(*xs)
        share = self.passes / to_expr(self.tokens)
        e = self.num_experts
        note = (f"MoE: each expert row stands for {e} experts (params x{e}); work is "
                f"{self.top_k} expert passes per token, exact for any routing"
                + ("" if self.capacity_factor is None else
                   f", padded to capacity factor {self.capacity_factor}")
                + "; weights read from min(experts, tokens*top_k) experts (balanced routing)")
        scaled = c.scaled(as_count(share))
        return replace(scaled, params=as_count(c.params * e), buffers=as_count(c.buffers * e),
                       weight_reads=as_count(c.weight_reads * self.touched),
                       notes=(*c.notes, note))


@dataclass(frozen=True)
class _Replicated(_Wrapped):
    """One of an expert's layers standing for ``copies`` always-active copies (shared
    experts): everything times ``copies``."""

    copies: Dim = 1

    def cost(self, *xs: Any) -> Cost:
        c = self.layer.cost(*xs)
        n = self.copies
        return replace(c.batched(n), params=as_count(c.params * n),
                       buffers=as_count(c.buffers * n),
                       weight_reads=as_count(c.weight_reads * n),
                       notes=(*c.notes, f"MoE: shared-expert rows stand for {n} copies"))


class _WrapTracer:
    """The tracer of `analyze`, wrapping every leaf layer it is given."""

    def __init__(self, tracer: Any, wrap: Callable[[Layer], Layer]) -> None:
        self._tracer, self._wrap = tracer, wrap

    def __getattr__(self, name: str) -> Any:  # batch, tied, ...
        return getattr(self._tracer, name)

    def walk(self, node: Node, x: tuple, src: str, path: str) -> tuple[tuple, str]:
        if isinstance(node, Layer):
            return self.leaf(node, [x], [src], path)
        return node._walk(self, x, src, path)

    def leaf(self, layer: Layer, xs: list, srcs: list, path: str, count_params: bool = True,
             call: str = "module") -> tuple[tuple, str]:
        return self._tracer.leaf(self._wrap(layer), xs, srcs, path, count_params, call)


def _check_node(owner: str, name: str, node: Any) -> None:
    if not isinstance(node, (Layer, _Container)):
        raise LayerSpecError(owner, f"{name} (={node!r}) must be a layer or a container")


class MoE(_Container):
    """A sparse mixture-of-experts layer: every token goes to ``top_k`` of ``num_experts``
    copies of `expert` chosen by `router`, plus ``shared_experts`` always-active ones.

    Parameters
    ==========
    expert : the expert, a node taking and returning ``(T, d)`` (a SwiGLU MLP for Mixtral).
    num_experts, top_k : ``E`` experts, ``k`` per token (``k <= E``; symbols allowed).
    router : a layer giving ``(T, E)`` logits; default ``Linear(d, E, bias=False)``.
    shared_experts : ``n`` always-active copies of `expert` (DeepSeek-MoE; their rows stand for
        the ``n`` copies, under ``shared_name``), or a node run on every token as is
        (Qwen2-MoE's gated shared expert).
    capacity_factor : None, or a positive number: each expert computes
        ``ceil(capacity_factor * tokens * k / E)`` token slots (see the module docstring).
    norm_topk_prob : renormalise the chosen weights (Mixtral: True; Qwen2-MoE: False).
    router_name, experts_name, shared_name : row names (``gate``, ``experts``,
        ``shared_experts``); experts' rows sit under ``<experts_name>.0``.

    Per token (balanced routing; the pass count is exact for any routing)::

        params = router + E * expert + shared
        MACs   = router + k * expert + shared    (+ routing and combine ops, no MACs)

    Routing is data dependent: which experts a token uses, and so which weights a batch
    reads, is not known before the forward pass. The count is the balanced expectation;
    `capacity_factor` bounds the work.

    >>> from layercalc import Linear, analyze
    >>> moe = MoE(Linear(16, 16, bias=False), num_experts=8, top_k=2)
    >>> r = analyze(moe, (10, 16))
    >>> [row.path for row in r.rows]
    ['gate', 'routing', 'experts.0', 'combine']
    >>> r.total.params, r.rows[2].cost.macs  # 8 experts of 256 + the router's 128; 10 tokens x 2
    (2176, 5120)
    >>> active_params(r)
    640
    """

    def __init__(self, expert: Node, num_experts: Any, top_k: Any, router: Layer | None = None,
                 shared_experts: Any = 0, capacity_factor: Any = None, *,
                 norm_topk_prob: bool = True, router_name: str = "gate",
                 experts_name: str = "experts", shared_name: str = "shared_experts") -> None:
        owner = "MoE"
        _check_node(owner, "expert", expert)
        e = as_dim(num_experts, owner, "num_experts")
        k = as_dim(top_k, owner, "top_k")
        require(ge(e, k), owner, f"top_k (={k}) must be at most num_experts (={e})")
        if router is not None and not isinstance(router, Layer):
            raise LayerSpecError(owner, f"router (={router!r}) must be a layer (default: "
                                 "Linear(d, num_experts, bias=False))")
        if isinstance(shared_experts, (Layer, _Container)):
            shared: Any = shared_experts
        else:
            shared = as_dim(shared_experts, owner, "shared_experts", minimum=0)
        cf = None if capacity_factor is None else _exact_number(owner, "capacity_factor",
                                                                 capacity_factor)
        if not isinstance(norm_topk_prob, bool):
            raise LayerSpecError(owner, f"norm_topk_prob (={norm_topk_prob!r}) must be True "
                                 "or False")
        self.expert, self.num_experts, self.top_k, self.router = expert, e, k, router
        self.shared_experts, self.capacity_factor = shared, cf
        self.norm_topk_prob = norm_topk_prob
        self.router_name, self.experts_name, self.shared_name = (router_name, experts_name,
                                                                 shared_name)

    def children(self) -> list[tuple[str, Node]]:
        out: list[tuple[str, Node]] = []
        if self.router is not None:
            out.append((self.router_name, self.router))
        out.append((f"{self.experts_name}.0", self.expert))
        if isinstance(self.shared_experts, (Layer, _Container)):
            out.append((self.shared_name, self.shared_experts))
        return out

    def __repr__(self) -> str:
        return (f"MoE({self.expert!r}, num_experts={self.num_experts}, top_k={self.top_k}, "
                f"shared_experts={self.shared_experts!r})")

    def _walk(self, tracer, x, src, path):
        e, k, cf = self.num_experts, self.top_k, self.capacity_factor
        tokens = as_count(prod(x[:-1]) * tracer.batch)
        router = self.router if self.router is not None else Linear(x[-1], e, bias=False)
        logits, ls = tracer.walk(router, x, src, _join(path, self.router_name))
        tracer.leaf(TopKRouting(e, k, self.norm_topk_prob), [logits], [ls],
                    _join(path, "routing"), call="functional")
        routed = _WrapTracer(tracer, lambda layer: _Routed(layer, e, k, tokens, cf))
        y, ys = routed.walk(self.expert, x, src, _join(path, f"{self.experts_name}.0"))
        terms: Dim = 0
        shared = self.shared_experts
        if isinstance(shared, (Layer, _Container)):
            tracer.walk(shared, x, src, _join(path, self.shared_name))
            terms = 1
        elif not (type(shared) is int and shared == 0):
            rep = _WrapTracer(tracer, lambda layer: _Replicated(layer, shared))
            rep.walk(self.expert, x, src, _join(path, self.shared_name))
            terms = shared
        return tracer.leaf(ExpertCombine(k, terms), [y], [ys], _join(path, "combine"),
                           call="functional")


def active_params(report: Any) -> Dim:
    """Parameters one token touches: every row's parameters, except that the routed
    experts of each `MoE` count ``top_k`` of their ``num_experts`` experts.

    ``active = total - sum over MoE layers of (E - k)/E * routed expert parameters``. For a
    dense model it equals ``report.total.params``. Mixtral-8x7B: 12,879,925,248 of
    46,702,792,704 (the embedding table and ``lm_head`` count in full, as in the figures
    Mistral AI publishes, "12.9B active").

    >>> from layercalc import analyze, zoo
    >>> active_params(analyze(zoo.mixtral("mixtral-8x7b"), (16,)))
    12879925248
    """
    rows = getattr(report, "rows", None)
    if rows is None:
        raise LayerSpecError("active_params", f"needs a Report (analyze(model, shape)), got "
                             f"{type(report).__name__}")
    total: list[Any] = []
    for r in rows:
        p = r.cost.params
        if isinstance(r.layer, _Routed):
            p = as_count(p * r.layer.top_k / to_expr(r.layer.num_experts))
        total.append(p)
    if all(type(v) is int for v in total):
        return sum(total)
    return as_count(sp.Add(*total))


# -- Mixtral -----------------------------------------------------------------------------------
def _gated_mlp(hidden: Any, inner: Any, act: Layer, gate: str, up: str, down: str,
               bias: bool = False) -> Sequential:
    """``down(act(gate(x)) * up(x))``: Llama's MLP, Mixtral's ``w1``/``w3``/``w2`` expert."""
    g = Sequential(OrderedDict([(gate, Linear(hidden, inner, bias)), ("act_fn", act)]))
    return Sequential([
        ("", Parallel(OrderedDict([("", g), (up, Linear(hidden, inner, bias))]), merge="mul")),
        (down, Linear(inner, hidden, bias)),
    ])


def _gqa_attention(owner: str, e: Any, h: Any, kv: Any, head_dim: Any, qkv_bias: bool,
                   o_bias: bool, rotary: bool, causal: bool, window: Any) -> _Attention:
    """Llama-style self-attention rows ``q_proj``, ``k_proj``, ``v_proj``, ``rotary_emb``,
    ``sdpa``, ``o_proj`` with grouped KV heads."""
    kv = h if kv is None else kv
    d = _heads(owner, e, "hidden_size", h, "num_attention_heads") if head_dim is None \
        else as_dim(head_dim, owner, "head_dim")
    _heads(owner, h, "num_attention_heads", kv, "num_key_value_heads")
    sdpa = ScaledDotProductAttention(h, d, kv, causal=causal, window=window)
    return _Attention([("q_proj", Linear(e, h * d, qkv_bias)),
                       ("k_proj", Linear(e, kv * d, qkv_bias)),
                       ("v_proj", Linear(e, kv * d, qkv_bias))], sdpa,
                      post=[("o_proj", Linear(h * d, e, o_bias))],
                      rotary=RotaryEmbedding(d) if rotary else None)


def _pre_norm_layer(e: Any, eps: float, attn: _Attention, mlp_name: str,
                    mlp: Node) -> Sequential:
    return Sequential([
        ("", _Res(Sequential(OrderedDict(input_layernorm=RMSNorm(e, eps), self_attn=attn)),
                  "add1")),
        ("", _Res(Sequential(OrderedDict([("post_attention_layernorm", RMSNorm(e, eps)),
                                          (mlp_name, mlp)])), "add2")),
    ])


def MixtralDecoderLayer(hidden_size: int, num_attention_heads: int, intermediate_size: int,
                        num_key_value_heads: int | None = None, num_local_experts: int = 8,
                        num_experts_per_tok: int = 2, head_dim: int | None = None,
                        rms_norm_eps: float = 1e-5, hidden_act: str = "silu", *,
                        rotary: bool = True, causal: bool = True,
                        sliding_window: int | None = None,
                        capacity_factor: Any = None) -> Sequential:
    """Mixtral's decoder layer, as Hugging Face's ``MixtralDecoderLayer`` (transformers 4.x
    module names, which are the checkpoint's: ``block_sparse_moe.gate``,
    ``block_sparse_moe.experts.{i}.w1/w2/w3``; transformers 5 renames the block ``mlp`` and
    stores the experts as two 3-D tensors, with the same parameter count)::

        x = x + o_proj(SDPA(rope(q_proj(n)), rope(k_proj(n)), v_proj(n))),  n = input_layernorm(x)
        x = x + block_sparse_moe(post_attention_layernorm(x))

    The attention is `LlamaDecoderLayer`'s (grouped KV heads, rotary embeddings, an optional
    sliding window). ``block_sparse_moe`` is an `MoE` of ``num_local_experts`` SwiGLU experts
    (``w2(act_fn(w1(x)) * w3(x))``, ``w1``, ``w3`` ``E -> I``, ``w2`` ``I -> E``, no biases),
    ``num_experts_per_tok`` per token, routed by ``gate`` (``Linear(E, num_local_experts)``)
    with renormalised top-k weights.

    params ``2*E*H*h + 2*E*H_kv*h + E*X + X*3*E*I + 2E`` per layer (``X`` experts, ``h``
    the head size); active per token ``X -> top_k`` in the expert term.

    >>> from layercalc import analyze
    >>> r = analyze(MixtralDecoderLayer(4096, 32, 14336, 8), (16, 4096))
    >>> r.total.params, active_params(r)
    (1451270144, 394305536)
    >>> [row.path for row in r.rows][9:14]
    ['block_sparse_moe.gate', 'block_sparse_moe.routing', 'block_sparse_moe.experts.0.w1', 'block_sparse_moe.experts.0.act_fn', 'block_sparse_moe.experts.0.w3']
    """
    owner = "MixtralDecoderLayer"
    e = hidden_size
    attn = _gqa_attention(owner, e, num_attention_heads, num_key_value_heads, head_dim,
                          False, False, rotary, causal, sliding_window)
    expert = _gated_mlp(e, intermediate_size, _hf_activation(owner, hidden_act), "w1", "w3",
                        "w2")
    moe = MoE(expert, num_local_experts, num_experts_per_tok,
              Linear(e, num_local_experts, bias=False), capacity_factor=capacity_factor)
    return _pre_norm_layer(e, rms_norm_eps, attn, "block_sparse_moe", moe)
