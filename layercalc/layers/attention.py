"""Attention: scaled dot-product attention (with causal / sliding-window masks and grouped
KV heads), a KV-cache decode step, and ``torch.nn.MultiheadAttention``.

Shapes exclude the batch: queries ``(L, num_heads*head_dim)``, keys and values
``(S, num_kv_heads*head_dim)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..cost import Cost
from ..dims import Dim, as_count, as_dim, divides, eq, exact_div, fmt, require, smax, smin
from ..errors import LayerSpecError, ShapeError
from ._base import Layer, dim, flag, probability
from .linear import Linear

__all__ = ["ScaledDotProductAttention", "KVCacheDecode", "MultiheadAttention",
           "visible_scores"]


def _tri(n: Dim) -> Dim:
    return exact_div(as_count(n * (n + 1)), 2)


def _clamped_sum(n: Dim, w: Dim | None) -> Dim:
    """``sum_{a=1}^{n} min(a, w)`` for ``n >= 0`` (``w = None``: no clamp)."""
    if w is None:
        return _tri(n)
    m = smin(n, w)
    return as_count(_tri(m) + (n - m) * w)


def visible_scores(L: Dim, S: Dim, causal: bool = False,
                   window: Dim | None = None) -> tuple[Dim, Dim]:
    """(visible query-key pairs, rows with at least one visible key) for one head.

    Query ``i`` (0-based) sees key ``j`` when ``j <= i + (S - L)`` (causal, aligned bottom-right
    as in a KV cache) and ``j > i + (S - L) - window`` (sliding window). So query ``i`` sees
    ``clamp(i + S - L + 1, 0, window)`` keys, and the total is
    ``F(S) - F(max(0, S - L))`` with ``F(n) = sum_{a=1}^{n} min(a, window)``.

    >>> visible_scores(4, 4, causal=True), visible_scores(2, 5, causal=True)
    ((10, 4), (9, 2))
    >>> visible_scores(6, 6, causal=True, window=3)
    (15, 6)
    """
    if not causal:
        return as_count(L * S), L
    lo = smax(0, as_count(S - L))
    total = as_count(_clamped_sum(S, window) - _clamped_sum(lo, window))
    return total, smin(L, S)


def _opt_dim(layer: Layer, name: str, value: Any, default: Dim) -> Dim:
    """Normalise an optional size field (``None`` means `default`) in place."""
    out = default if value is None else as_dim(value, layer.kind, name)
    object.__setattr__(layer, name, out)
    return out


@dataclass(frozen=True)
class ScaledDotProductAttention(Layer):
    """``softmax(Q K^T / sqrt(d) + mask) V`` per head, like
    ``torch.nn.functional.scaled_dot_product_attention``, with ``H = num_heads`` query heads
    of size ``d = head_dim`` and ``H_kv = num_kv_heads`` key/value heads (grouped-query
    attention; ``H_kv = 1`` is multi-query; default ``H_kv = H``).

    ``cost(q_shape, kv_shape=None)``: queries ``(L, H*d)``, keys and values each
    ``(S, H_kv*d)``; ``kv_shape=None`` is self-attention (``S = L``). Output ``(L, H*d)``.

    With ``V`` the visible (unmasked) query-key pairs and ``R`` the rows with at least one
    visible key (see `visible_scores`), per head::

        scores  Q K^T : MACs V*d, dots V         (masked-out scores are not computed)
        scale 1/sqrt(d): V mul                   (1 mul per visible score)
        softmax over each row's n visible keys:  (n-1) cmp, (2n-1) add, n exp, n div
                        i.e. V - R cmp, 2V - R add, V exp, V div   (as `Softmax`)
        P V     : MACs V*d, dots R*d

    times ``H``. Unmasked: ``V = L*S``, ``R = L``. ``causal=True``: query ``i`` sees keys
    ``j <= i + (S - L)`` (bottom-right alignment, as flash-attention and a KV cache; with
    ``L == S`` this is ``V = L(L+1)/2``). Note PyTorch's ``is_causal`` aligns top-left
    (``j <= i``), which differs only when ``L != S``. ``window=w`` (needs ``causal``) keeps
    only the last ``w`` keys a query may see (sliding-window attention, e.g. Mistral).
    Grouped KV heads change K/V sizes and memory, not score MACs.

    Memory (elements, compulsory): ``L*H*d`` query + ``2*S*H_kv*d`` key/value reads,
    ``L*H*d`` writes; the score matrix stays on chip (a fused kernel). No reuse:
    ``tap_reads = MACs``.

    References
    ==========
    .. [1] Vaswani et al., "Attention Is All You Need", 2017, https://arxiv.org/abs/1706.03762,
       eq. 1.
    .. [2] PyTorch, ``torch.nn.functional.scaled_dot_product_attention`` documentation.
    .. [3] Ainslie et al., "GQA", 2023, https://arxiv.org/abs/2305.13245.

    >>> a = ScaledDotProductAttention(12, 64)
    >>> a.cost((197, 768)).macs  # ViT-B/16: 2 * 12 * 197 * 197 * 64
    59610624
    >>> ScaledDotProductAttention(1, 8, causal=True).cost((4, 8)).macs  # 10 scores
    160
    """

    num_heads: Dim = dim()
    head_dim: Dim = dim()
    num_kv_heads: Any = None
    causal: bool = flag(False)
    window: Any = None

    def check(self) -> None:
        h = self.num_heads
        kv = _opt_dim(self, "num_kv_heads", self.num_kv_heads, h)
        require(divides(kv, h), self.kind,
                lambda: f"num_heads (={h}) must be divisible by num_kv_heads (={kv})")
        if self.window is not None:
            _opt_dim(self, "window", self.window, None)
            if not self.causal:
                raise LayerSpecError(self.kind, f"window (={self.window}) needs causal=True")

    def _shapes(self, x: Any, kv: Any) -> tuple[tuple[Dim, ...], tuple[Dim, ...]]:
        h, d, hk = self.num_heads, self.head_dim, self.num_kv_heads
        q = self._input(x, 2, layout="(L, num_heads*head_dim)")
        e = as_count(h * d)
        if not (type(q[1]) is int and q[1] == e):
            require(eq(q[1], e), self.kind,
                    lambda: f"expected query shape (L, {e}) (num_heads*head_dim), got {fmt(q)}",
                    error=ShapeError)
        if kv is None:
            k = (q[0], as_count(hk * d))
        else:
            k = self._input(kv, 2, layout="(S, num_kv_heads*head_dim)")
            ek = as_count(hk * d)
            require(eq(k[1], ek), self.kind,
                    lambda: f"expected key/value shape (S, {ek}) (num_kv_heads*head_dim), "
                    f"got {fmt(k)}", error=ShapeError)
        return q, k

    def output_shape(self, x: Any, kv: Any = None) -> tuple[Dim, ...]:
        return self._shapes(x, kv)[0]

    def cost(self, x: Any, kv: Any = None) -> Cost:
        q, k = self._shapes(x, kv)
        L, S = q[0], k[0]
        h, d = self.num_heads, self.head_dim
        v, r = visible_scores(L, S, self.causal, self.window)
        macs = as_count(2 * h * v * d)
        return Cost(
            macs=macs,
            dots=as_count(h * (v + r * d)),
            ops={"mul": h * v, "cmp": h * (v - r), "add": h * (2 * v - r), "exp": h * v,
                 "div": h * v},
            act_reads=as_count(L * q[1] + 2 * S * k[1]),
            writes=as_count(L * q[1]),
            tap_reads=macs,
            notes=("attention: the 1/sqrt(d) scale is 1 mul per visible score",
                   "attention: masked-out scores are not computed; scores stay on chip"),
        )


@dataclass(frozen=True)
class KVCacheDecode(Layer):
    """One autoregressive decode step: a single new query attends to ``cache_len = S`` cached
    keys and values (the new token's own key included), i.e. `ScaledDotProductAttention`
    with ``L = 1``, ``causal=True``. Input: the query ``(1, num_heads*head_dim)``.

    ``MACs = 2*S*head_dim*num_heads`` (``S -> min(S, window)`` with a sliding window); the
    projections are separate `Linear` layers. Memory: reading the cache is
    ``2*S*num_kv_heads*head_dim`` elements (``S -> min(S, window)``) plus the query; the
    dtype is applied later by the memory module.

    >>> c = KVCacheDecode(32, 128, 4096, num_kv_heads=8).cost((1, 4096))
    >>> c.macs, c.act_reads
    (33554432, 8392704)
    """

    num_heads: Dim = dim()
    head_dim: Dim = dim()
    cache_len: Dim = dim()
    num_kv_heads: Any = None
    window: Any = None

    def _sdpa(self) -> ScaledDotProductAttention:
        return ScaledDotProductAttention(self.num_heads, self.head_dim, self.num_kv_heads,
                                         causal=True, window=self.window)

    def check(self) -> None:
        a = self._sdpa()
        object.__setattr__(self, "num_kv_heads", a.num_kv_heads)
        object.__setattr__(self, "window", a.window)

    def _kv(self) -> tuple[Dim, Dim]:
        return self.cache_len, as_count(self.num_kv_heads * self.head_dim)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        q = self._input(x, 2, layout="(1, num_heads*head_dim)")
        require(eq(q[0], 1), self.kind,
                lambda: f"a decode step has one query, got input shape {fmt(q)}",
                error=ShapeError)
        return self._sdpa().output_shape(q, self._kv())

    def cost(self, x: Any) -> Cost:
        q = self.output_shape(x)
        c = self._sdpa().cost(q, self._kv())
        s = self.cache_len if self.window is None else smin(self.cache_len, self.window)
        reads = as_count(q[1] + 2 * s * self.num_kv_heads * self.head_dim)
        return Cost(macs=c.macs, dots=c.dots, ops=c.ops, act_reads=reads, writes=c.writes,
                    tap_reads=c.tap_reads,
                    notes=c.notes + ("KV cache: elements, dtype applied by the memory model",))


@dataclass(frozen=True)
class MultiheadAttention(Layer):
    """Multi-head attention, like ``torch.nn.MultiheadAttention``: query/key/value
    projections, `ScaledDotProductAttention` with ``num_heads`` heads of
    ``embed_dim/num_heads``, and the output projection::

        params = E*(E + kdim + vdim) + 3E (in_proj bias) + E*E + E (out_proj)
                 (+ 2E with add_bias_kv); = 4E^2 + 4E by default
        cost   = Linear(E, E)(q) + Linear(kdim, E)(k) + Linear(vdim, E)(v)
                 + SDPA + Linear(E, E)(out)

    ``cost(x, key=None, value=None, causal=None)``: ``x`` is ``(L, E)``; ``key`` ``(S,
    kdim)`` and ``value`` ``(S, vdim)`` default to ``x`` (self-attention). ``add_bias_kv``
    and ``add_zero_attn`` each append one key/value position (``S + 1``). Dropout is not
    counted (inference), but ``dropout`` must be a probability in [0, 1], as everywhere in
    layercalc (stricter than PyTorch, which checks it only when training).

    ``causal`` (a field after PyTorch's arguments; not a ``torch.nn.MultiheadAttention``
    constructor argument) stands for the causal mask PyTorch takes at call time
    (``attn_mask``/``is_causal``), so a network traced by `analyze`, which calls
    ``cost(x)``, can hold causal self-attention. ``cost(..., causal=None)`` uses the field.

    References
    ==========
    .. [1] PyTorch, ``torch.nn.MultiheadAttention`` documentation and
       ``torch/nn/modules/activation.py`` (``in_proj_weight (3E, E)``, ``out_proj``).

    >>> m = MultiheadAttention(512, 8)
    >>> m.cost((10, 512)).params  # 4*512**2 + 4*512
    1050624
    """

    embed_dim: Dim = dim()
    num_heads: Dim = dim()
    dropout: float = probability(0.0)
    bias: bool = flag(True)
    add_bias_kv: bool = flag(False)
    add_zero_attn: bool = flag(False)
    kdim: Any = None
    vdim: Any = None
    batch_first: bool = flag(False)
    causal: bool = flag(False)

    def check(self) -> None:
        e, h = self.embed_dim, self.num_heads
        require(divides(h, e), self.kind,
                lambda: f"embed_dim (={e}) must be divisible by num_heads (={h})")
        _opt_dim(self, "kdim", self.kdim, e)
        _opt_dim(self, "vdim", self.vdim, e)

    @property
    def head_dim(self) -> Dim:
        return exact_div(self.embed_dim, self.num_heads)

    def _shapes(self, x: Any, key: Any, value: Any) -> tuple[tuple, tuple, tuple]:
        e = self.embed_dim
        q = self._input(x, 2, layout="(L, embed_dim)")
        require(eq(q[1], e), self.kind,
                lambda: f"expected {e} query features, got input shape {fmt(q)}",
                error=ShapeError)
        k = q if key is None else self._input(key, 2, layout="(S, kdim)")
        v = k if value is None else self._input(value, 2, layout="(S, vdim)")
        require(eq(k[1], self.kdim), self.kind,
                lambda: f"expected {self.kdim} key features (kdim), got key shape {fmt(k)}",
                error=ShapeError)
        require(eq(v[1], self.vdim), self.kind,
                lambda: f"expected {self.vdim} value features (vdim), got value shape "
                f"{fmt(v)}", error=ShapeError)
        require(eq(k[0], v[0]), self.kind,
                lambda: f"key and value lengths differ: {fmt(k)} and {fmt(v)}",
                error=ShapeError)
        return q, k, v

    def output_shape(self, x: Any, key: Any = None, value: Any = None) -> tuple[Dim, ...]:
        return self._shapes(x, key, value)[0]

    def cost(self, x: Any, key: Any = None, value: Any = None,
             causal: bool | None = None) -> Cost:
        q, k, v = self._shapes(x, key, value)
        if causal is None:
            causal = self.causal
        e, b = self.embed_dim, self.bias
        s = as_count(k[0] + int(self.add_bias_kv) + int(self.add_zero_attn))
        sdpa = ScaledDotProductAttention(self.num_heads, self.head_dim, causal=causal)
        extra = as_count(2 * e) if self.add_bias_kv else 0
        return Cost.sum([
            Linear(e, e, b).cost(q),
            Linear(self.kdim, e, b).cost(k),
            Linear(self.vdim, e, b).cost(v),
            sdpa.cost((q[0], e), (s, e)),
            Linear(e, e, b).cost((q[0], e)),
            Cost(params=extra, weight_reads=extra),
        ])
