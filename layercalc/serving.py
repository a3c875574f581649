"""LLM inference on the roofline: prefill and decode, the KV cache, quantised weights.

``inference(model, prompt_len=P, gen_len=G, batch=B, hardware=...)`` serves a decoder
language model (a zoo name such as ``"llama-3-8b"``, or a builder's output: `zoo.gpt2`,
`zoo.llama`, `zoo.mixtral`, `zoo.qwen2_moe`, `zoo.mamba`) and returns an `InferenceReport`:

* **prefill**: the model on the ``P`` prompt tokens of each of ``B`` sequences, with causal
  attention, the keys and values written to the KV cache (an SSM writes its final state),
  and the logits of the last position only (what a server samples from; ``prefill_logits=
  "all"`` for every position, as a plain ``forward``).
* **decode**: ``G`` steps of one token each. Step ``i`` (``1..G``) attends to ``s_i = P + i``
  keys (the prompt, the ``i - 1`` tokens decoded before, itself), capped at the sliding
  window ``w``: ``min(P + i, w)``. Every count of a step is linear in ``s``, so the *mean* step
  is the step at the mean context, exactly::

      mean(s) = P + (G + 1)/2                        (sum_{i=1}^{G} (P + i) = G P + G(G+1)/2)
      mean(min(s, w)) = (F(P + G) - F(P)) / G,       F(n) = sum_{a=1}^{n} min(a, w)
                                                           = T(min(n, w)) + (n - min(n, w)) w,
                                                     T(m) = m (m + 1)/2

  ``.decode`` is that mean step. Its time (``tpot``) is the roofline time of the mean step:
  per row ``max(FLOPs/pi, bytes/beta)`` is convex in ``s``, so this never exceeds the mean
  of the per-step bounds, and equals it when no row changes bound between the first and the
  last step (``decode.exact_average``).

Bytes are split into weight reads, activation reads and writes, and KV-cache reads and
writes (`Traffic`): the ``k``/``v`` projections' outputs are KV writes, attention's keys and
values KV reads; an SSM's recurrent state (convolution window and SSM state) is its KV
cache. Weights are priced in their storage format (`layercalc.quant`: scales and zero
points included), activations in ``act_dtype``, the cache in ``kv_dtype``.

Profiles name *how* a stage is counted: ``"layercalc"`` (default) counts the layers exactly
(FLOPs under a named convention, default `DEFAULT_CONVENTION`, ``"exact"``; each tensor moved
once); ``"llm-viewer"``
reproduces LLM-Viewer's per-stage figures (hahnyuan/LLM-Viewer ``model_analyzer.py``, read at
commit 472f71f) for Llama models; docs/inference.md lists each difference.

An `InferenceReport` renders through the table model (`layercalc.table`): ``to_text``,
``to_markdown``, ``to_html``, ``to_latex``, ``to_csv`` print the two stages and the serving
figures (``depth=N``: also every layer, grouped by path prefix), ``to_json`` the document of
schema ``layercalc.inference/1`` (docs/json-schema.md); ``repr`` is one line and Jupyter shows
each stage's layers with a depth control. `InferenceReport.batch_table` puts several reports
(batch sizes) in one table, as ``layercalc serve --batch 1,8,64`` prints them.
"""

from __future__ import annotations

import copy
import fnmatch
import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import sympy as sp

from . import format as fmt
from ._version import __version__
from .conventions import DEFAULT_CONVENTION, Convention
from .registry import convention_note, get_convention
from .cost import Cost
from .dims import Dim, as_count, as_dim, prod, smax, smin, truth, to_expr
from .errors import LayerCalcError, UnknownNameError
from .hardware import Hardware, get_hardware
from .layers import (
    Add, CausalConv1d, Embedding, KVCacheDecode, Layer, Linear, Mul, RMSNorm, RotaryEmbedding,
    ScaledDotProductAttention, SelectiveScan, SiLU,
)
from .layers.attention import _clamped_sum
from .memory import DTYPE_BYTES
from .moe import MoE, _Routed, _Wrapped
from .network import Functional, Parallel, Residual, Sequential, Tied, _Container, analyze
from .quant import WeightFormat, get_weight_format, matrix_bytes
from .roofline import _bound, _div
from .ssm import _MambaMixer
from .table import Column, Table, TableRenderers, html_levels, latex_formulas
from .transformer import _Attention, _Res
from . import zoo

__all__ = ["inference", "InferenceReport", "Stage", "StageRow", "Traffic", "kv_cache_bytes",
           "INFERENCE_PROFILES", "INFERENCE_SCHEMA"]

#: The schema id of `InferenceReport.to_dict` / `to_json` (docs/json-schema.md).
INFERENCE_SCHEMA = "layercalc.inference/1"

#: The two ways of counting a stage (see the module docstring and docs/inference.md).
INFERENCE_PROFILES: Mapping[str, str] = MappingProxyType({
    "layercalc": "every layer counted exactly: FLOPs under the chosen convention (default "
                 f"'{DEFAULT_CONVENTION}'), each tensor moved once, weights in their storage "
                 "format",
    "llm-viewer": "LLM-Viewer's rules (hahnyuan/LLM-Viewer model_analyzer.py, commit "
                  "472f71f), Llama models only",
})

#: Hardware peak used when activations are stored in each dtype.
_COMPUTE = {"fp32": "fp32", "tf32": "tf32", "fp16": "fp16", "bf16": "bf16", "fp8": "fp8",
            "fp8-e4m3": "fp8", "fp8-e5m2": "fp8", "int8": "int8", "int4": "int4"}


# -- traffic ------------------------------------------------------------------------------------
def _add(*xs: Any) -> Dim:
    if all(type(x) is int for x in xs):
        return sum(xs)
    return as_count(sp.Add(*xs))


@dataclass(frozen=True)
class Traffic(TableRenderers):
    """Bytes a stage (or one layer of it) moves, by kind. ``total`` is their sum."""

    weight_reads: Dim = 0
    act_reads: Dim = 0
    act_writes: Dim = 0
    kv_reads: Dim = 0
    kv_writes: Dim = 0

    @property
    def reads(self) -> Dim:
        return _add(self.weight_reads, self.act_reads, self.kv_reads)

    @property
    def writes(self) -> Dim:
        return _add(self.act_writes, self.kv_writes)

    @property
    def total(self) -> Dim:
        return _add(self.weight_reads, self.act_reads, self.act_writes, self.kv_reads,
                    self.kv_writes)

    def map(self, fn: Callable[[Any], Any]) -> Traffic:
        return Traffic(*(fn(v) for v in self._values()))

    def _values(self) -> tuple:
        return (self.weight_reads, self.act_reads, self.act_writes, self.kv_reads,
                self.kv_writes)

    def __add__(self, other: Traffic) -> Traffic:
        return Traffic(*(_add(a, b) for a, b in zip(self._values(), other._values())))

    @classmethod
    def sum(cls, items: list[Traffic]) -> Traffic:
        cols = list(zip(*(t._values() for t in items))) if items else [()] * 5
        return cls(*(_add(*c) for c in cols))

    def table(self, *, full: bool = False) -> Table:
        """Bytes by kind (exact and rounded) and their total."""
        cols = [Column("kind", "Traffic"), Column("bytes", "Bytes", "exact"),
                Column("size", "Size", "bytes")]
        rows = [(label, v, v) for label, v in zip(_TRAFFIC_LABELS, self._values())]
        return Table(cols, rows, ("Total", self.total, self.total), "Bytes moved")

    def _record(self) -> dict:
        return {**{k: fmt.plain(v) for k, v in zip(_TRAFFIC_KEYS, self._values())},
                "total": fmt.plain(self.total)}

    def __repr__(self) -> str:
        parts = [f"{label} {fmt.nbytes(v, width=40)}" for label, v in
                 zip(_TRAFFIC_LABELS, self._values()) if not (type(v) is int and v == 0)]
        return fmt.brief("Traffic", "", [f"{fmt.nbytes(self.total, width=60)}"
                                         + (" = " + " + ".join(parts) if parts else "")])


_TRAFFIC_KEYS = ("weight_reads", "act_reads", "act_writes", "kv_reads", "kv_writes")
_TRAFFIC_LABELS = ("weight reads", "activation reads", "activation writes", "KV reads",
                   "KV writes")
_TRAFFIC_TITLES = ("W read", "Act read", "Act write", "KV read", "KV write")

@dataclass(frozen=True)
class StageRow:
    """One layer of a stage: FLOPs, bytes by kind, and its roofline."""

    path: str
    kind: str
    flops: Dim
    bytes: Traffic
    intensity: Any
    bound: str | None
    time: Any

    def __repr__(self) -> str:
        return fmt.brief("StageRow", self.path, [
            self.kind, f"{fmt.count(self.flops, width=60)} FLOPs",
            fmt.nbytes(self.bytes.total, width=60),
            f"{self.bound}-bound" if self.bound else "", fmt.seconds(self.time, width=60)])


@dataclass(frozen=True)
class Stage(TableRenderers):
    """Prefill, or the mean decode step, on the roofline.

    ``flops``, ``bytes`` (a `Traffic`; ``bytes.total`` the number), ``intensity`` =
    flops / bytes.total, ``bound`` (``"compute"``, ``"memory"``, or None when it depends on
    symbols) and ``time`` (the sum of the per-row roofline times, a lower bound) for the whole
    batch. ``rows`` gives every layer. For decode, ``steps`` is ``gen_len``, ``context`` the
    mean context (keys a step attends to) and ``exact_average`` whether ``time`` equals the
    mean of the per-step times (None when symbols decide it).
    """

    name: str
    flops: Dim
    bytes: Traffic
    intensity: Any
    bound: str | None
    time: Any
    rows: tuple[StageRow, ...]
    peak: Any
    bandwidth: Any
    ridge: Any
    steps: Any = 1
    context: Any = None
    exact_average: bool | None = True

    def title(self) -> str:
        """``prefill``, or ``decode: the mean of 256 steps (mean context 2176.5 keys)``."""
        if self.name != "decode":
            return self.name
        ctx = self.context
        ctx = ", ".join(fmt.exact(c) for c in ctx) if isinstance(ctx, tuple) else (
            fmt.exact(ctx) if ctx is not None else "")
        return (f"decode: the mean of {fmt.size(self.steps)} step"
                f"{'' if self.steps == 1 else 's'}" + (f" (mean context {ctx} keys)" if ctx
                                                       else ""))

    def platform(self) -> str:
        """``peak 312 TFLOP/s, bandwidth 2.04 TB/s, ridge 153 FLOP/byte``."""
        return (f"Platform: peak {fmt.rate(self.peak)}, bandwidth "
                f"{fmt.rate(self.bandwidth, 'B/s')}, ridge {fmt.count(self.ridge)} FLOP/byte")

    def _groups(self, depth: int | None, top: int | None = None) -> list[tuple]:
        """Rows (or groups of path prefixes of `depth` segments, or the `top` slowest) as
        ``(path, kind, flops, traffic, intensity, bound, time, layers)``."""
        for what, v in (("top", top), ("depth", depth)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise LayerCalcError(f"Stage: {what} (={v!r}) must be a positive integer or "
                                     "None")
        if depth is None:
            rows = list(self.rows)
            if top is not None:
                rows = sorted(rows, reverse=True, key=lambda r: (
                    float(r.time) if to_expr(r.time).is_number else 0))[:top]
            return [(r.path, r.kind, r.flops, r.bytes, r.intensity, r.bound, r.time, 1)
                    for r in rows]
        acc: dict[str, list[StageRow]] = {}
        for r in self.rows:
            acc.setdefault(".".join(r.path.split(".")[:depth]), []).append(r)
        out = []
        for key, rs in acc.items():
            f = _add(*[r.flops for r in rs])
            tr = Traffic.sum([r.bytes for r in rs])
            kinds = {r.kind for r in rs}
            bounds = {r.bound for r in rs if r.intensity is not None}
            bound = "mixed" if len(bounds) > 1 else (bounds.pop() if bounds else None)
            inten = None if type(tr.total) is int and tr.total == 0 else _div(f, tr.total)
            out.append((key, kinds.pop() if len(kinds) == 1 else "", f, tr, inten, bound,
                        _add(*[r.time for r in rs]), len(rs)))
        return out

    def table(self, depth: int | None = None, top: int | None = None, *,
              full: bool = False) -> Table:
        """Every layer (or the `top` slowest, or groups of path prefixes of `depth` segments):
        FLOPs, bytes by kind, FLOP/byte, bound and roofline time; then the stage's total."""
        cols = _stage_columns(layers=True)
        rows = [(p, k, f, *t._values(), i, b or "", tm)
                for p, k, f, t, i, b, tm, _ in self._groups(depth, top)]
        total = ("Total", "", self.flops, *self.bytes._values(), self.intensity,
                 self.bound or "?", self.time)
        header = [self.platform()]
        if depth is not None:
            header.append(f"Rows: path prefixes of depth {depth} ({len(self.rows)} layers)")
        elif top is not None:
            header.append(f"Rows: the {min(top, len(self.rows))} slowest of {len(self.rows)}")
        return Table(cols, rows, total, self.title(), header, self._footer())

    def _footer(self) -> list[str]:
        out = ["Time: the sum over layers of max(FLOPs/peak, bytes/bandwidth), a lower bound."]
        if self.name == "decode" and self.exact_average is False:
            out.append("A layer changes bound between the first and the last step: the time of "
                       "the mean step is a lower bound on the mean step time.")
        return out

    def _record(self, depth: int | None = None, rows: bool = True) -> dict:
        def row(g: tuple) -> dict:
            p, k, f, t, i, b, tm, n = g
            return {"path": p, "kind": k or None, "layers": n, "flops": fmt.plain(f),
                    "bytes": t._record(), "intensity": fmt.plain(i), "bound": b,
                    "time": fmt.plain(tm)}

        return {"flops": fmt.plain(self.flops), "bytes": self.bytes._record(),
                "intensity": fmt.plain(self.intensity), "bound": self.bound,
                "time": fmt.plain(self.time), "steps": fmt.plain(self.steps),
                "context": fmt.plain(self.context), "exact_average": self.exact_average,
                "rows": [row(g) for g in self._groups(depth)] if rows else []}

    def __repr__(self) -> str:
        return fmt.brief("Stage", self.name, [
            f"{fmt.count(self.flops, width=60)} FLOPs", fmt.nbytes(self.bytes.total, width=60),
            f"{self.bound}-bound" if self.bound else "", fmt.seconds(self.time, width=60),
            f"{len(self.rows)} rows"])

    def _repr_html_(self) -> str:
        """The layers grouped by top-level path, the finer groupings folded below."""
        return html_levels(lambda d: self.table(d), [r.path for r in self.rows],
                           css="layercalc-stage", max_rows=_HTML_ROWS)

    def _repr_latex_(self) -> str | None:
        """FLOPs, bytes and time as formulas when sizes are symbolic (None otherwise)."""
        return latex_formulas([(r"\text{FLOPs}", self.flops),
                               (r"\text{bytes}", self.bytes.total), ("t", self.time)])


def _stage_columns(layers: bool) -> list[Column]:
    head = ([Column("path", "Layer"), Column("kind", "Kind")] if layers
            else [Column("stage", "Stage")])
    return [*head, Column("flops", "FLOPs", "count"),
            *(Column(k, t, "bytes") for k, t in zip(_TRAFFIC_KEYS, _TRAFFIC_TITLES)),
            Column("intensity", "FLOP/byte", "count"), Column("bound", "Bound"),
            Column("time", "Time", "seconds")]


# -- model resolution ---------------------------------------------------------------------------
def _norm(name: str) -> str:
    return re.sub(r"[-_.\s]", "", name.lower())


def _resolve(model: Any) -> tuple[Any, str]:
    """A zoo name (``llama3_8b``), a preset (``llama-3-8b``, ``mixtral-8x7b``) or a dashed
    alias of either, or a model node."""
    if isinstance(model, (Layer, _Container)):
        return model, getattr(model, "name", "") or "model"
    if not isinstance(model, str):
        raise LayerCalcError(f"inference: model (={model!r}) must be a zoo name or a model "
                             "(zoo.llama(...), zoo.mixtral(...), ...)")
    families = ((zoo.LLAMA_PRESETS, zoo.llama), (zoo.MIXTRAL_PRESETS, zoo.mixtral),
                (zoo.QWEN2_MOE_PRESETS, zoo.qwen2_moe), (zoo.MAMBA_PRESETS, zoo.mamba))
    builders: dict[str, Callable] = dict(zoo.MODELS)
    for presets, fn in families:
        for p in presets:
            builders.setdefault(p, lambda fn=fn, p=p: fn(p))
    if model in builders:
        return builders[model](), model
    by_key = {_norm(k): k for k in builders}
    if _norm(model) in by_key:
        name = by_key[_norm(model)]
        return builders[name](), name
    raise UnknownNameError("model", model, sorted(builders))


# -- rewriting a model for a stage --------------------------------------------------------------
@dataclass(frozen=True)
class _Cache(_Wrapped):
    """A layer whose output partly goes to the KV cache (``kv_features`` of each output row:
    the k/v projections) or whose key/value inputs come from it (``kv_read``: attention)."""

    kv_features: Dim = 0
    kv_read: bool = False

    def cost(self, *xs: Any) -> Cost:
        return self.layer.cost(*xs)

    def cache_io(self, *xs: Any) -> tuple[Dim, Dim]:
        reads: Dim = prod(xs[1]) * 2 if self.kv_read else 0  # keys and values, (S, H_kv*d)
        writes: Dim = 0
        if not (type(self.kv_features) is int and self.kv_features == 0):
            y = self.layer.output_shape(*xs)
            writes = as_count(prod(y[:-1]) * self.kv_features)
        return as_count(reads), writes


class _CachedAttention(_Container):
    """`_Attention` with a KV cache: prefill (``context=None``) writes the keys and values and
    reads them back in attention; decode (``context``: keys per step) runs one query against
    the cache (`KVCacheDecode`)."""

    def __init__(self, attn: _Attention, context: Dim | None) -> None:
        self.attn, self.context = attn, context
        a = attn.sdpa
        kvf = as_count(a.num_kv_heads * a.head_dim)
        # wrappers made once, so repeated layers share them (and their counts)
        if len(attn.projections) == 1:
            self._proj = [_Cache(attn.projections[0][1], as_count(2 * kvf))]
        else:
            (_, q), (_, k), (_, v) = attn.projections
            self._proj = [q, _Cache(k, kvf), _Cache(v, kvf)]
        self._sdpa: Layer = _Cache(a, kv_read=True) if context is None else KVCacheDecode(
            a.num_heads, a.head_dim, context, a.num_kv_heads)

    def __repr__(self) -> str:
        return f"_CachedAttention({self.attn!r}, context={self.context!r})"

    def _walk(self, tracer, x, src, path):
        a, at = self.attn.sdpa, self.attn
        qf, kvf = a.num_heads * a.head_dim, a.num_kv_heads * a.head_dim

        def join(name: str) -> str:
            return f"{path}.{name}" if path and name else (path or name)

        names = [n for n, _ in at.projections]
        if len(names) == 1:
            y, ys = tracer.leaf(self._proj[0], [x], [src], join(names[0]))
            q, k, qs, ks = (y[0], qf), (y[0], kvf), ys, ys
        else:
            q, qs = tracer.leaf(self._proj[0], [x], [src], join(names[0]))
            k, ks = tracer.leaf(self._proj[1], [x], [src], join(names[1]))
            tracer.leaf(self._proj[2], [x], [src], join(names[2]))
        if at.rotary is not None:
            tracer.leaf(at.rotary, [q, k], [qs, ks], join(at.rotary_name), call="functional")
        if self.context is None:
            y, ys = tracer.leaf(self._sdpa, [q, k], [qs, ks], join(at.sdpa_name),
                                call="functional")
        else:
            y, ys = tracer.leaf(self._sdpa, [q], [qs], join(at.sdpa_name), call="functional")
        for name, node in at.post:
            y, ys = tracer.walk(node, y, ys, join(name))
        return y, ys


class _LastToken(_Container):
    """The language-model head on the last position only (prefill)."""

    def __init__(self, head: Any) -> None:
        self.head = head

    def _walk(self, tracer, x, src, path):
        return tracer.walk(self.head, (1, *x[1:]), src, path)


def _rewrite(node: Any, context: Callable[[Any], Dim] | None, memo: dict) -> Any:
    """`node` for a stage: prefill (``context=None``) or a decode step whose attention with
    window ``w`` sees ``context(w)`` keys."""
    key = id(node)
    if key in memo:
        return memo[key][1]
    if isinstance(node, (Layer, Tied, Functional)):
        out: Any = node
    elif isinstance(node, _Attention):
        out = _CachedAttention(node, None if context is None else context(node.sdpa.window))
    elif isinstance(node, _MambaMixer):
        out = node if context is None else node.decode_step()
    elif isinstance(node, _Res):
        out = _Res(_rewrite(node.body, context, memo), node.add)
    elif isinstance(node, Sequential):
        items = [(n, _rewrite(c, context, memo)) for n, c in node.children()]
        out = Sequential(items) if items else Sequential()
    elif isinstance(node, Parallel):
        out = Parallel(dict((n, _rewrite(c, context, memo)) for n, c in node.children()),
                       merge=node.merge)
    elif isinstance(node, Residual):
        out = Residual(_rewrite(node.body, context, memo),
                       None if node.shortcut is None else _rewrite(node.shortcut, context, memo),
                       activation=node.activation, shortcut_name=node.shortcut_name)
    elif isinstance(node, MoE):
        out = copy.copy(node)
        out.expert = _rewrite(node.expert, context, memo)
        if isinstance(node.shared_experts, (Layer, _Container)):
            out.shared_experts = _rewrite(node.shared_experts, context, memo)
    else:
        raise LayerCalcError(f"inference: cannot serve a model holding a "
                             f"{type(node).__name__}; supported: decoder-only language models "
                             "built from layers, Sequential, Residual, Parallel, the zoo's "
                             "attention, MoE and Mamba blocks")
    memo[key] = (node, out)  # keep `node` alive so its id is not reused
    return out


def _prefill_model(model: Any, last_logits: bool) -> Any:
    out = _rewrite(model, None, {})
    if last_logits and isinstance(out, Sequential):
        items = [(n, _LastToken(c) if n == "lm_head" else c) for n, c in out.children()]
        out = Sequential(items)
    return out


def _decode_model(model: Any, context: Callable[[Any], Dim]) -> Any:
    return _rewrite(model, context, {})


# -- per-row accounting -------------------------------------------------------------------------
def _inputs(row: Any) -> tuple:
    x = row.input_shape
    return tuple(x) if x and isinstance(x[0], tuple) else (x,)


def _unwrap(layer: Any) -> Any:
    while isinstance(layer, _Wrapped):
        layer = layer.layer
    return layer


def _cache_io(row: Any, batch: Dim, prefill: bool) -> tuple[Dim, Dim]:
    """KV-cache (or SSM state) elements a row reads and writes, for the whole batch."""
    layer = row.layer
    if isinstance(layer, KVCacheDecode):
        c = row.cost
        return as_count(c.act_reads - c.writes), 0  # everything but the query
    inner = _unwrap(layer)
    io = getattr(layer, "cache_io", None) or getattr(inner, "cache_io", None)
    if io is None:
        return 0, 0
    r, w = io(*_inputs(row))
    if prefill and isinstance(inner, (SelectiveScan, CausalConv1d)) and not inner.step:
        w = as_count(w + inner.state_elements())  # the final state, kept for decoding
    return as_count(r * batch), as_count(w * batch)


@dataclass
class _Dtypes:
    weight: WeightFormat
    dense: WeightFormat
    act: str
    kv: str
    overrides: tuple[tuple[str, WeightFormat], ...]

    @property
    def act_bytes(self) -> Dim:
        return DTYPE_BYTES[self.act]

    @property
    def kv_bytes(self) -> Dim:
        return DTYPE_BYTES[self.kv]

    def for_row(self, path: str, layer: Any, params: Dim) -> WeightFormat:
        for pattern, wf in self.overrides:
            if fnmatch.fnmatchcase(path, pattern):
                return wf
        inner = _unwrap(layer)
        if not self.weight.quantized:
            return self.weight
        if isinstance(inner, Linear) and not (type(params) is int and params == 0):
            return self.weight
        return self.dense  # embeddings, norms, SSM parameters; a tied reuse (stored elsewhere)


def _one_copy(inner: Any, xs: tuple) -> tuple[Dim, Callable[[WeightFormat, WeightFormat], Dim]]:
    """(parameters of one copy of `inner`, bytes of one copy in a format)."""
    if isinstance(inner, Linear):
        o, i = inner.out_features, inner.in_features
        bias = o if inner.bias else 0
        return as_count(o * i + bias), lambda f, d: as_count(
            matrix_bytes(o, i, f) + bias * (d.element_bytes if f.quantized else f.element_bytes))
    if isinstance(inner, Embedding):
        n, e = inner.num_embeddings, inner.embedding_dim
        return as_count(n * e), lambda f, d: matrix_bytes(n, e, f)
    p = inner.cost(*xs).params
    return p, lambda f, d: as_count(p * (d.element_bytes if f.quantized else f.element_bytes))


def _weights(row: Any, wf: WeightFormat, dense: WeightFormat, memo: dict) -> tuple[Dim, Dim]:
    """(bytes stored, bytes read) of a row's weights in `wf`."""
    inner = _unwrap(row.layer)
    key = (id(inner), row.input_shape, wf, dense)
    if key not in memo:
        p1, size = _one_copy(inner, _inputs(row))
        memo[key] = (p1, size(wf, dense), inner)
    p1, b1, _ = memo[key]
    if type(p1) is int and p1 == 0:
        return 0, 0
    c = row.cost
    stored = as_count(b1 * c.params / to_expr(p1)) if c.params != 0 else 0
    read = as_count(b1 * c.weight_reads / to_expr(p1)) if c.weight_reads != 0 else 0
    return stored, read


@dataclass(frozen=True)
class _Kernel:
    name: str
    flops: Dim
    bytes: Traffic


def _exact_kernels(row: Any, batch: Dim, prefill: bool, conv: Convention, dt: _Dtypes,
                   wmemo: dict) -> tuple[list[_Kernel], Dim]:
    """One kernel per row: the layer's exact counts. Also returns the stored weight bytes."""
    c = row.cost
    kv_r, kv_w = _cache_io(row, batch, prefill)
    extra_w = 0
    inner = _unwrap(row.layer)
    if prefill and isinstance(inner, (SelectiveScan, CausalConv1d)):
        extra_w = kv_w  # the final state is written on top of the layer's own output
    wf = dt.for_row(row.path, row.layer, c.params)
    stored, wread = _weights(row, wf, dt.dense, wmemo)
    ab, kb = dt.act_bytes, dt.kv_bytes
    act_r = as_count(c.act_reads - kv_r)
    act_w = as_count(c.writes - (kv_w - extra_w))
    t = Traffic(wread, as_count(act_r * ab), as_count(act_w * ab), as_count(kv_r * kb),
                as_count(kv_w * kb))
    return [_Kernel(row.path, conv.flops(c), t)], stored


def _llm_viewer_kernels(row: Any, batch: Dim, prefill: bool, dt: _Dtypes, hidden: Dim,
                        wmemo: dict) -> tuple[list[_Kernel], Dim]:
    """LLM-Viewer's per-layer rules (``model_analyzer.py``, ``configs/Llama.py``), applied
    to the rows of a layercalc Llama model. Byte sizes are bits / 8, without scales."""
    layer, inner, path, B = row.layer, _unwrap(row.layer), row.path, batch
    w = sp.Rational(dt.weight.bits, 8) if dt.weight.quantized else dt.weight.element_bytes
    a, kv = dt.act_bytes, dt.kv_bytes
    stored = _weights(row, dt.for_row(path, layer, row.cost.params), dt.dense, wmemo)[0]
    x = _inputs(row)[0]
    L = x[0] if isinstance(inner, (RMSNorm, Add, Mul, Linear)) else 1
    h = hidden

    def k(name: str, ops: Any, lw: Any = 0, la: Any = 0, sa: Any = 0, lkv: Any = 0,
          skv: Any = 0) -> _Kernel:
        return _Kernel(name, as_count(ops), Traffic(as_count(lw), as_count(la), as_count(sa),
                                                    as_count(lkv), as_count(skv)))

    if isinstance(inner, (Embedding, RotaryEmbedding, SiLU)):
        return [], stored  # not counted (SiLU is inside "mlp_act", see Mul)
    if isinstance(inner, RMSNorm):
        if ".layers." not in f".{path}":
            return [], stored  # the final norm is not counted
        n = B * h * L
        return [k(path, 7 * n, la=n * a, sa=n * a)], stored
    if isinstance(inner, Add):
        n = B * h * L
        return [k(path, n, la=n * a, sa=n * a)], stored
    if isinstance(inner, Mul):  # "mlp_act": 2 ops per element of hidden_size (sic)
        n = B * h * L
        return [k(path, 2 * n, la=2 * n * a, sa=n * a)], stored
    if isinstance(inner, Linear):
        ic, oc = inner.in_features, inner.out_features
        if path.split(".")[-1] == "lm_head":  # 1 OP per MAC, last token only
            return [k(path, B * ic * oc, lw=ic * oc * w, la=ic * a, sa=oc * a)], stored
        n = B * L
        if isinstance(layer, _Cache) and layer.kv_features != 0:
            return [k(path, 2 * ic * oc * n, lw=ic * oc * w, la=ic * n * a,
                      skv=oc * n * kv)], stored
        return [k(path, 2 * ic * oc * n, lw=ic * oc * w, la=ic * n * a, sa=oc * n * a)], stored
    if isinstance(inner, (ScaledDotProductAttention, KVCacheDecode)):
        H, hd, Hkv = inner.num_heads, inner.head_dim, inner.num_kv_heads
        if isinstance(inner, KVCacheDecode):
            s = inner.cache_len
            return [
                k(path + ":qk_matmul", s * hd * H * B * 2, la=hd * B * H * a, sa=s * B * H * a,
                  lkv=s * hd * B * Hkv * kv),
                k(path + ":sv_matmul", s * hd * H * B * 2, la=s * B * H * a, sa=hd * B * H * a,
                  lkv=s * hd * B * Hkv * kv),
                k(path + ":softmax", 5 * B * H * s, la=B * H * s * a, sa=B * H * s * a),
            ], stored
        S = x[0]
        return [
            k(path + ":qk_matmul", S * S * hd * H * B * 2, la=S * hd * B * Hkv * a,
              sa=S * S * B * H * a, lkv=S * hd * B * Hkv * kv),
            k(path + ":sv_matmul", S * S * hd * H * B * 2, la=S * S * B * H * a,
              sa=S * hd * B * H * a, lkv=S * hd * B * Hkv * kv),
            k(path + ":softmax", 5 * B * H * S * S, la=B * H * S * S * a, sa=B * H * S * S * a),
        ], stored
    raise LayerCalcError(f"inference: the llm-viewer profile has no rule for {inner.kind} "
                         f"(row {path!r}); LLM-Viewer's Llama config counts embeddings (0), "
                         "RMSNorm, Linear, attention, residual adds and the SwiGLU activation")


# -- a stage --------------------------------------------------------------------------------------
@dataclass
class _Platform:
    hw: Hardware
    peak: Any
    beta: Any
    ridge: Any
    efficiency: Any


def _row_points(report: Any, batch: Dim, prefill: bool, profile: str, conv: Convention,
                dt: _Dtypes, hidden: Dim) -> list[tuple[Any, list[_Kernel], Dim]]:
    """(row, kernels, stored weight bytes) per row; rows with the same layer, shapes and
    parameters are counted once."""
    memo: dict = {}
    wmemo: dict = {}
    out = []
    for row in report.rows:
        key = (id(row.layer), row.input_shape, row.path.rsplit(".", 1)[-1], row.cost.params,
               dt.for_row(row.path, row.layer, row.cost.params).name)
        if key not in memo or profile == "llm-viewer":
            if profile == "llm-viewer":
                res = _llm_viewer_kernels(row, batch, prefill, dt, hidden, wmemo)
            else:
                res = _exact_kernels(row, batch, prefill, conv, dt, wmemo)
            memo[key] = res
        ks, stored = memo[key]
        out.append((row, ks, stored))
    return out


def _time(flops: Any, nbytes: Any, plat: _Platform) -> tuple[Any, str | None, Any]:
    """(intensity, bound, time) of one kernel: ``max(flops/pi, bytes/beta) / efficiency``
    (seed 000's roofline, as `layercalc.roofline`)."""
    eff = plat.efficiency
    if type(nbytes) is int and nbytes == 0:
        t: Any = _div(flops, plat.peak)
        return None, None, t if eff == 1 else _div(t, eff)
    inten = _div(flops, nbytes)
    bound = _bound(inten, plat.ridge)
    if bound is None:  # decide flops - ridge*bytes by its sign (positive sizes)
        gap = sp.expand(to_expr(flops) - plat.ridge * to_expr(nbytes))
        bound = "compute" if gap.is_nonnegative else "memory" if gap.is_negative else None
    a, m = _div(flops, plat.peak), _div(nbytes, plat.beta)
    t = a if bound == "compute" else m if bound == "memory" else sp.Max(a, m)
    return inten, bound, t if eff == 1 else _div(t, eff)


def _totals(items: list, sub: Callable[[Any], Any]) -> tuple[Any, Any]:
    """(FLOPs, bytes) of a stage, without the per-row roofline."""
    cache: dict = {}
    fl, nb = [], []
    for _, kernels, _ in items:
        key = id(kernels)
        if key not in cache:
            cache[key] = (_add(*[k.flops for k in kernels]) if kernels else 0,
                          _add(*[k.bytes.total for k in kernels]) if kernels else 0)
        f, m = cache[key]
        fl.append(f)
        nb.append(m)
    return sub(_add(*fl)), sub(_add(*nb))


def _stage(name: str, items: list, plat: _Platform, sub: Callable[[Any], Any],
           steps: Any = 1, context: Any = None, exact_average: bool | None = True) -> Stage:
    cache: dict = {}
    rows: list[StageRow] = []
    for row, kernels, _ in items:
        key = id(kernels)
        if key not in cache:
            fl = _add(*[sub(k.flops) for k in kernels]) if kernels else 0
            tr = Traffic.sum([k.bytes.map(sub) for k in kernels])
            t = _add(*[_time(sub(k.flops), sub(k.bytes.total), plat)[2] for k in kernels]) \
                if kernels else 0
            inten, bound, _ = _time(fl, tr.total, plat)
            cache[key] = (fl, tr, inten, bound, t)
        fl, tr, inten, bound, t = cache[key]
        rows.append(StageRow(row.path, row.kind, fl, tr, inten, bound, t))
    flops = _add(*[r.flops for r in rows])
    traffic = Traffic.sum([r.bytes for r in rows])
    inten, bound, _ = _time(flops, traffic.total, plat)
    time = _add(*[r.time for r in rows])
    return Stage(name, flops, traffic, inten, bound, time, tuple(rows), plat.peak, plat.beta,
                 plat.ridge, steps, context, exact_average)


# -- the report -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class InferenceReport(TableRenderers):
    """The result of `inference`: the prefill and the mean decode step on the roofline, the KV
    cache and weights in bytes, and the serving figures derived from them.

    ``ttft`` (time to first token) = ``prefill.time``; ``tpot`` (time per output token) =
    ``decode.time``; ``tokens_per_s`` = ``batch / tpot`` (decode throughput of the batch);
    ``latency`` = ``ttft + gen_len * tpot``. All times are roofline lower bounds.
    ``kv_cache_bytes``: the cache after the last step (``P + G`` tokens per sequence, at most
    the window; for an SSM its recurrent state) for the batch. ``weight_bytes``: stored
    weights (every expert; scales included). ``activation_bytes``: the largest input plus
    output of one prefill layer, a lower bound on live activations. ``memory_bytes``: their
    sum, the memory needed to serve (workspace and allocator slack excluded).
    ``critical_batch``: the smallest decode batch at which the mean step is compute-bound
    (None if none is), or the threshold as a formula when sizes are symbols (None when it has
    no closed form, e.g. the ceilings of an MoE capacity factor).
    """

    model: str
    hardware: str
    profile: str
    convention: str
    weight_format: str
    act_dtype: str
    kv_dtype: str
    compute_dtype: str
    prompt_len: Any
    gen_len: Any
    batch: Any
    prefill: Stage
    decode: Stage
    kv_cache_bytes: Dim
    weight_bytes: Dim
    activation_bytes: Dim
    critical_batch: Any
    notes: tuple[str, ...] = field(default=())

    @property
    def ttft(self) -> Any:
        return self.prefill.time

    @property
    def tpot(self) -> Any:
        return self.decode.time

    @property
    def tokens_per_s(self) -> Any:
        return as_count(to_expr(self.batch) / self.decode.time)

    @property
    def latency(self) -> Any:
        return as_count(self.prefill.time + self.gen_len * self.decode.time)

    @property
    def memory_bytes(self) -> Dim:
        return _add(self.weight_bytes, self.kv_cache_bytes, self.activation_bytes)

    # -- the table model -------------------------------------------------------------------------
    def title(self, batch: bool = True) -> str:
        """``llama-3-8b on h100-sxm: prompt 2048, gen 256, batch 8; weights int4/g128,
        activations fp16, KV fp16, compute fp16; profile layercalc``."""
        b = f", batch {fmt.size(self.batch)}" if batch else ""
        return (f"{self.model} on {self.hardware}: prompt {fmt.size(self.prompt_len)}, gen "
                f"{fmt.size(self.gen_len)}{b}; weights {self.weight_format}, activations "
                f"{self.act_dtype}, KV {self.kv_dtype}, compute {self.compute_dtype}; profile "
                f"{self.profile}")

    def convention_note(self) -> str:
        """How the FLOPs are counted: `layercalc.conventions.convention_note` of the
        convention, or LLM-Viewer's OPs under that profile."""
        if self.profile == "llm-viewer":
            return (f"FLOPs: LLM-Viewer's OPs (profile llm-viewer: "
                    f"{INFERENCE_PROFILES['llm-viewer']}; not a layercalc convention)")
        try:
            return convention_note(self.convention)
        except UnknownNameError:
            return f"FLOPs: the custom convention '{self.convention}'"

    def table(self, depth: int | None = None, *, full: bool = False) -> Table:
        """The two stages (FLOPs, bytes by kind, FLOP/byte, bound, time) with the serving
        figures in the footer (TTFT, TPOT, latency, tokens/s, KV cache, weights,
        activations, memory to serve, the critical batch); with `depth`, instead every
        layer of both stages, grouped by path prefixes of `depth` segments."""
        header = [self.convention_note(), self.prefill.platform()]
        if depth is not None:
            cols = [Column("stage", "Stage"), *_stage_columns(layers=True)]
            rows = [(s.name, p, k, f, *t._values(), i, b or "", tm)
                    for s in (self.prefill, self.decode)
                    for p, k, f, t, i, b, tm, _ in s._groups(depth)]
            header.append(f"Rows: path prefixes of depth {depth} (prefill "
                          f"{len(self.prefill.rows)} layers, decode {len(self.decode.rows)}); "
                          "decode is the mean step")
            return Table(cols, rows, None, self.title(), header, self._footer(full))
        rows = [(s.title(), s.flops, *s.bytes._values(), s.intensity, s.bound or "?", s.time)
                for s in (self.prefill, self.decode)]
        return Table(_stage_columns(layers=False), rows, None, self.title(), header,
                     self._footer(full))

    def tables(self, depth: int | None = None, *, full: bool = False) -> list[Table]:
        """The stages table, and with `depth` the layers table (`table`)."""
        out = [self.table(full=full)]
        if depth is not None:
            layers = self.table(depth, full=full)
            out.append(Table(layers.columns, layers.rows, None,
                             f"Layers by path depth {depth}", layers.header[2:]))
        return out

    def _critical(self, full: bool = False) -> str:
        c = self.critical_batch
        if c is None:
            return "none (no batch makes the mean decode step compute-bound)"
        return fmt.exact(c, full=full, width=_FOOTER_WIDTH)

    def _footer(self, full: bool) -> list[str]:
        def t(v: Any) -> str:
            return fmt.seconds(v, full=full, width=_FOOTER_WIDTH)

        def b(v: Any) -> str:
            return fmt.nbytes(v, full=full, width=_FOOTER_WIDTH)

        out = [f"TTFT: {t(self.ttft)} (the prefill)",
               f"TPOT: {t(self.tpot)} (the mean decode step)",
               f"Latency: {t(self.latency)} (TTFT + gen x TPOT)",
               f"tokens/s: {fmt.count(self.tokens_per_s, full=full, width=_FOOTER_WIDTH)} "
               "(batch / TPOT)",
               f"KV cache: {b(self.kv_cache_bytes)} (after the last step)",
               f"Weights: {b(self.weight_bytes)}",
               f"Activations: {b(self.activation_bytes)} (the largest input + output of a "
               "prefill layer)",
               f"Memory to serve: {b(self.memory_bytes)} (weights + KV cache + activations)",
               f"Critical batch: {self._critical(full)}",
               "Times are roofline lower bounds: the sum over layers of max(FLOPs/peak, "
               "bytes/bandwidth)."]
        return out + [f"Note: {n}" for n in self.notes]

    @classmethod
    def batch_table(cls, reports: Sequence[InferenceReport], depth: int | None = None, *,
                    full: bool = False) -> Table:
        """Reports of one model at several batch sizes in one table, as ``layercalc serve
        --batch 1,8,64`` prints them: per batch TTFT, TPOT, tokens/s, KV cache, memory to
        serve and the bound of each stage; with `depth`, instead every layer of both stages
        per batch, grouped by path prefixes of `depth` segments. The title, convention,
        weights and critical batch are the first report's."""
        if not reports:
            raise LayerCalcError("InferenceReport.batch_table: needs at least one report")
        first = reports[0]
        header = [first.convention_note(), first.prefill.platform()]
        if depth is not None:
            cols = [Column("batch", "Batch", "exact"), Column("stage", "Stage"),
                    *_stage_columns(layers=True)]
            rows = [(r.batch, s.name, p, k, f, *t._values(), i, b or "", tm)
                    for r in reports for s in (r.prefill, r.decode)
                    for p, k, f, t, i, b, tm, _ in s._groups(depth)]
            header.append(f"Rows: path prefixes of depth {depth}; decode is the mean step")
            return Table(cols, rows, None, first.title(batch=False), header)
        cols = [Column("batch", "Batch", "exact"), Column("ttft", "TTFT", "seconds"),
                Column("tpot", "TPOT", "seconds"), Column("tokens_per_s", "tokens/s", "count"),
                Column("kv_cache_bytes", "KV cache", "bytes"),
                Column("memory_bytes", "Memory", "bytes"),
                Column("bound", "Bound (prefill/decode)")]
        rows = [(r.batch, r.ttft, r.tpot, r.tokens_per_s, r.kv_cache_bytes, r.memory_bytes,
                 f"{r.prefill.bound or '?'}/{r.decode.bound or '?'}") for r in reports]
        header.append(f"Weights {fmt.nbytes(first.weight_bytes, full=full)}; decode "
                      f"compute-bound from batch: {first._critical(full)}")
        return Table(cols, rows, None, first.title(batch=False), header, [
            "Times are roofline lower bounds; TPOT is the mean decode step, tokens/s = "
            "batch / TPOT; memory = weights + KV cache + activations."])

    @classmethod
    def batch_tables(cls, reports: Sequence[InferenceReport], depth: int | None = None, *,
                     full: bool = False) -> list[Table]:
        """What ``layercalc serve`` prints in a human format: `batch_table`, and with `depth`
        the layers table below it (titled by its grouping, the header said once above)."""
        out = [cls.batch_table(reports, full=full)]
        if depth is not None:
            layers = cls.batch_table(reports, depth, full=full)
            out.append(Table(layers.columns, layers.rows, None,
                             f"Layers by path depth {depth}", layers.header[2:]))
        return out

    def __repr__(self) -> str:
        return fmt.brief("InferenceReport", f"{self.model} on {self.hardware}", [
            f"prompt {fmt.size(self.prompt_len, width=30)}",
            f"gen {fmt.size(self.gen_len, width=30)}", f"batch {fmt.size(self.batch, width=30)}",
            f"weights {self.weight_format}", f"TTFT {fmt.seconds(self.ttft, width=50)}",
            f"TPOT {fmt.seconds(self.tpot, width=50)}",
            f"{fmt.count(self.tokens_per_s, width=50)} tokens/s",
            f"memory {fmt.nbytes(self.memory_bytes, width=50)}"])

    def _repr_html_(self) -> str:
        """The stages and the serving figures, then each stage's layers (grouped by
        top-level path, the finer groupings folded below) in collapsed ``<details>``."""
        parts = [self.table().to_html()]
        for s in (self.prefill, self.decode):
            parts.append(f"<details><summary>{html.escape(s.title())}: {len(s.rows)} "
                         f"layers</summary>\n{s._repr_html_()}\n</details>")
        return '<div class="layercalc-inference">\n' + "\n".join(parts) + "\n</div>"

    def _repr_latex_(self) -> str | None:
        """TTFT, TPOT, tokens/s, KV cache, memory and the critical batch as formulas when
        sizes are symbolic (None otherwise)."""
        crit = self.critical_batch
        return latex_formulas([
            (r"\text{TTFT}", self.ttft), (r"\text{TPOT}", self.tpot),
            (r"\text{tokens/s}", self.tokens_per_s),
            (r"\text{KV cache (bytes)}", self.kv_cache_bytes),
            (r"\text{memory (bytes)}", self.memory_bytes),
            (r"b^{*}", crit if fmt.is_symbolic(crit) else None)])

    # -- machine formats ------------------------------------------------------------------------
    def to_csv(self, depth: int | None = None, **kwargs: Any) -> str:
        """The stages (or, with `depth`, the layers) of `table`, exact values."""
        return self.table(depth).to_csv()

    def to_dict(self, depth: int | None = None, *, rows: bool = True) -> dict:
        """The JSON document of schema ``layercalc.inference/1`` (docs/json-schema.md): the
        configuration, the platform, the serving figures, and both stages with their layers
        (grouped by path prefixes of `depth` segments; none with ``rows=False``); exact
        values."""
        if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int)
                                  or depth < 1):
            raise LayerCalcError(f"InferenceReport: depth (={depth!r}) must be a positive "
                                 "integer or None")
        p = fmt.plain
        return {
            "schema": INFERENCE_SCHEMA,
            "layercalc": __version__,
            "model": self.model,
            "hardware": self.hardware,
            "profile": self.profile,
            "convention": self.convention,
            "weight_format": self.weight_format,
            "act_dtype": self.act_dtype,
            "kv_dtype": self.kv_dtype,
            "compute_dtype": self.compute_dtype,
            "prompt_len": p(self.prompt_len),
            "gen_len": p(self.gen_len),
            "batch": p(self.batch),
            "peak": p(self.prefill.peak),
            "bandwidth": p(self.prefill.bandwidth),
            "ridge": p(self.prefill.ridge),
            "ttft": p(self.ttft),
            "tpot": p(self.tpot),
            "latency": p(self.latency),
            "tokens_per_s": p(self.tokens_per_s),
            "kv_cache_bytes": p(self.kv_cache_bytes),
            "weight_bytes": p(self.weight_bytes),
            "activation_bytes": p(self.activation_bytes),
            "memory_bytes": p(self.memory_bytes),
            "critical_batch": p(self.critical_batch),
            "grouping": {"depth": depth},
            "prefill": self.prefill._record(depth, rows),
            "decode": self.decode._record(depth, rows),
            "notes": list(self.notes),
        }

    def to_json(self, depth: int | None = None, *, rows: bool = True, indent: int = 2,
                **kwargs: Any) -> str:
        import json

        return json.dumps(self.to_dict(depth, rows=rows), indent=indent, ensure_ascii=False)


_FOOTER_WIDTH = 100  # characters of a formula in a footer line before it is abbreviated
_HTML_ROWS = 400  # Jupyter: groupings of more rows are left out (a 70B model has 1,200 layers)


# -- the entry points -------------------------------------------------------------------------
def _dim(name: str, v: Any) -> Dim:
    return as_dim(v, "inference", name)


def _act_dtype(name: str, v: Any) -> str:
    if not isinstance(v, str) or v not in _COMPUTE:
        raise UnknownNameError(f"{name} (activation and KV dtypes)", str(v), _COMPUTE)
    return v


def _mean_context(P: Any, G: Any, w: Any, offset: int) -> Any:
    """Mean over steps ``i = 1..G`` of ``min(P + i - 1 + offset, w)`` (no cap: w None)."""
    if w is None:
        return as_count(P + offset - 1 + sp.Rational(1, 2) * (G + 1))
    lo = as_count(P + offset - 1)
    return as_count((_clamped_sum(as_count(lo + G), w) - _clamped_sum(lo, w)) / to_expr(G))


def _expand_context(items: list, syms: list) -> list:
    """Each kernel's counts as polynomials in the context symbols (``a + b*s``), checked
    linear: then the step at the mean context is the mean step."""
    done: dict = {}

    def lin(e: Any, path: str) -> Any:
        if type(e) is int or not (set(syms) & e.free_symbols):
            return e
        e = sp.expand(e)
        if any(sp.degree(e, s) > 1 for s in syms if e.has(s)):  # pragma: no cover
            raise LayerCalcError(f"inference: {path} is not linear in the context")
        return as_count(e)

    out = []
    for row, kernels, stored in items:
        key = id(kernels)
        if key not in done:
            done[key] = [_Kernel(k.name, lin(k.flops, row.path),
                                 k.bytes.map(lambda e: lin(e, row.path))) for k in kernels]
        out.append((row, done[key], stored))
    return out


def _critical(F: Any, M: Any, ridge: Any, b: sp.Symbol) -> Any:
    """The smallest integer ``b`` with ``F(b) >= ridge * M(b)`` when every other size is a
    number (exponential then binary search: the decode intensity does not decrease with the
    batch), None if no ``b`` up to 2^40 is; with symbols, the threshold solving ``F = ridge *
    M`` (on each branch of an MoE's ``Min(experts, k*b)``), or None."""
    F, M = to_expr(F), to_expr(M)
    others = (F.free_symbols | M.free_symbols | to_expr(ridge).free_symbols) - {b}
    if not others:
        def ok(v: int) -> bool:
            return bool(truth(F.xreplace({b: v}) >= ridge * M.xreplace({b: v})))

        if ok(1):
            return 1
        lo, hi = 1, 2
        while not ok(hi):
            if hi > 1 << 40:
                return None
            lo, hi = hi, hi * 2
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if ok(mid) else (mid, hi)
        return hi
    mins = [m for m in (F.atoms(sp.Min) | M.atoms(sp.Min)) if b in m.free_symbols]
    branches: list[dict] = [{}] if not mins else [{mins[0]: arg} for arg in mins[0].args]
    found = []
    for rep in branches:
        f, m = F.xreplace(rep), M.xreplace(rep)
        try:
            sols = sp.solve(sp.Eq(f, ridge * m), b)
        except NotImplementedError:  # floors of a capacity factor: no closed form
            return None
        found += [r for r in sols if r.is_positive is not False]
    if len(found) == 1:
        return sp.simplify(found[0])
    return None


def inference(model: Any, *, prompt_len: Any, gen_len: Any = 1, batch: Any = 1,
              hardware: str | Hardware, weight_dtype: str | WeightFormat = "fp16",
              act_dtype: str | None = None, kv_dtype: str | None = None,
              group_size: Any = None, overrides: Mapping[str, Any] | None = None,
              convention: str | Convention = DEFAULT_CONVENTION, profile: str = "layercalc",
              compute_dtype: str | None = None, efficiency: Any = 1,
              prefill_logits: str = "last") -> InferenceReport:
    """Serve `model` for ``batch`` sequences of ``prompt_len`` prompt tokens and ``gen_len``
    generated ones on `hardware`; see the module docstring for the stages and the exact
    decode average.

    Parameters
    ==========
    model : a zoo name or preset (``"llama3_8b"``, ``"llama-3-8b"``, ``"mixtral-8x7b"``,
        ``"mamba-130m"``) or a model built by the zoo's language-model builders.
    prompt_len, gen_len, batch : positive integers or SymPy symbols.
    hardware : a preset name (or unique prefix) or a `Hardware`.
    weight_dtype : a weight format (`layercalc.WEIGHT_FORMATS`: ``"fp16"``, ``"int8"``,
        ``"int4"``, ``"int4-awq"``, ``"int4-gptq"``, ``"nf4"``, ``"fp8"`` ...). A quantised
        format applies to the ``Linear`` layers; everything else stays in the activation dtype.
    act_dtype : activations (default ``"fp16"`` for quantised weights, else the weight dtype).
    kv_dtype : the KV cache (default: the activation dtype). Elements only, no scales.
    group_size : the quantisation group (block) size (int4/nf4/int8 schemes).
    overrides : ``{path pattern: dtype}`` (``fnmatch`` patterns on report paths, first match
        wins), e.g. ``{"lm_head": "fp16", "*embed_tokens": "fp16"}``.
    convention : FLOPs convention (profile ``"layercalc"``; default `DEFAULT_CONVENTION`,
        ``"exact"``).
    profile : ``"layercalc"`` or ``"llm-viewer"`` (`INFERENCE_PROFILES`).
    compute_dtype : the hardware peak used (default: the activation dtype's; LLM-Viewer's
        rule under that profile: int8 when weights, activations and cache are <= 8 bits).
    efficiency : fraction of the roofline attained, in (0, 1].
    prefill_logits : ``"last"`` (default) or ``"all"`` positions through ``lm_head``.

    Llama-2-7B on an A100 80GB in fp16, 2048 prompt and 256 generated tokens:

    >>> r = inference("llama-2-7b", prompt_len=2048, gen_len=256, hardware="a100-sxm4-80gb")
    >>> r.prefill.bound, r.decode.bound, r.kv_cache_bytes  # 2*32*4096*2304 tokens*2 bytes
    ('compute', 'memory', 1207959552)
    >>> r.tpot >= r.weight_bytes / r.decode.bandwidth
    True
    """
    if profile not in INFERENCE_PROFILES:
        raise UnknownNameError("inference profile", str(profile), INFERENCE_PROFILES)
    if prefill_logits not in ("last", "all"):
        raise LayerCalcError(f"inference: prefill_logits (={prefill_logits!r}) must be 'last' "
                             "or 'all'")
    node, name = _resolve(model)
    P, G, B = _dim("prompt_len", prompt_len), _dim("gen_len", gen_len), _dim("batch", batch)
    wfmt = get_weight_format(weight_dtype, group_size)
    act = _act_dtype("act_dtype", act_dtype if act_dtype is not None else
                     ("fp16" if wfmt.quantized else wfmt.name))
    kv = _act_dtype("kv_dtype", kv_dtype if kv_dtype is not None else act)
    dense = get_weight_format(act if act in ("fp32", "fp16", "bf16") else "fp16")
    ovr = tuple((str(p), get_weight_format(d)) for p, d in (overrides or {}).items())
    dt = _Dtypes(wfmt, dense, act, kv, ovr)
    hw = get_hardware(hardware)
    if compute_dtype is None:
        if profile == "llm-viewer":
            small = wfmt.bits <= 8 and DTYPE_BYTES[act] <= 1 and DTYPE_BYTES[kv] <= 1
            compute_dtype = "int8" if small else "fp16"
        else:
            compute_dtype = _COMPUTE[act]
    if isinstance(efficiency, float):
        efficiency = as_count(sp.Rational(repr(efficiency)))
    if truth(to_expr(efficiency) > 0) is False or truth(to_expr(efficiency) <= 1) is False:
        raise LayerCalcError(f"inference: efficiency (={efficiency}) must be in (0, 1]")
    pi = hw.peak(compute_dtype)
    beta = hw.bandwidth()
    plat = _Platform(hw, pi, beta, as_count(to_expr(pi) / beta), efficiency)
    conv = get_convention(convention)
    if not isinstance(conv, Convention):
        raise LayerCalcError(f"inference: convention {conv.name!r} is a tool's rules; use a "
                             "definition (exact, exact-no-bias, macs, 2*macs)")

    # prefill: P tokens per sequence
    pre = analyze(_prefill_model(node, prefill_logits == "last"), (P,), batch=B)
    hidden = next((r.layer.embedding_dim for r in pre.rows if isinstance(r.layer, Embedding)),
                  None)
    pre_items = _row_points(pre, B, True, profile, conv, dt, hidden)
    prefill = _stage("prefill", pre_items, plat, lambda e: e)

    # decode: one token against a cache of context symbols (one per window), symbolic batch
    offset = 0 if profile == "llm-viewer" else 1
    ctx_syms: dict = {}

    def context(w: Any) -> Dim:
        if w not in ctx_syms:
            ctx_syms[w] = sp.Dummy("s", integer=True, positive=True)
        return ctx_syms[w]

    b = sp.Dummy("b", integer=True, positive=True)
    dec = analyze(_decode_model(node, context), (1,), batch=b)
    dec_items = _row_points(dec, b, False, profile, conv, dt, hidden)
    syms = list(ctx_syms.values())
    dec_items = _expand_context(dec_items, syms)
    means = {s: _mean_context(P, G, w, offset) for w, s in ctx_syms.items()}

    def at(values: dict) -> Callable[[Any], Any]:
        return lambda e: e if type(e) is int else as_count(to_expr(e).xreplace(values))

    exact_avg: bool | None = True
    if ctx_syms:
        first = {s: smin(as_count(P + offset), w) if w is not None else as_count(P + offset)
                 for w, s in ctx_syms.items()}
        last = {s: smin(as_count(P + G - 1 + offset), w) if w is not None
                else as_count(P + G - 1 + offset) for w, s in ctx_syms.items()}
        a = _stage("decode", dec_items, plat, at({**first, b: B}))
        z = _stage("decode", dec_items, plat, at({**last, b: B}))
        pairs = [(x.bound, y.bound) for x, y in zip(a.rows, z.rows)
                 if not (x.intensity is None and y.intensity is None)]  # rows moving nothing
        if any(x is None or y is None for x, y in pairs):
            exact_avg = None
        else:
            exact_avg = all(x == y for x, y in pairs)
    mean_ctx = next(iter(means.values()), None) if len(means) == 1 else (
        tuple(means.values()) or None)
    decode = _stage("decode", dec_items, plat, at({**means, b: B}), G, mean_ctx, exact_avg)

    # critical batch of the mean step
    crit = _critical(*_totals(dec_items, at(means)), plat.ridge, b)
    if isinstance(crit, sp.Basic):
        crit = crit.xreplace({b: B})

    # cache at the end, weights, activations
    final = {s: smin(as_count(P + G), w) if w is not None else as_count(P + G)
             for w, s in ctx_syms.items()}
    kv_elems = _add(*[_cache_io(r, 1, False)[0] for r in dec.rows
                      if isinstance(r.layer, KVCacheDecode)])
    state = _add(*[_unwrap(r.layer).state_elements() for r in dec.rows
                   if isinstance(_unwrap(r.layer), (SelectiveScan, CausalConv1d))])
    kv_total = as_count(to_expr(_add(kv_elems, state)).xreplace({**final, b: 1}) * B
                        * DTYPE_BYTES[kv])
    weights = _add(*[st for _, _, st in pre_items])
    ab = DTYPE_BYTES[act]
    live = {as_count((_add(*[prod(s) for s in _inputs(r)]) + prod(r.output_shape)) * B * ab)
            for r in pre.rows}
    notes = []
    if any(isinstance(r.layer, _Routed) for r in pre.rows):
        notes.append("MoE: expert work is top_k passes per token; weights read from "
                     "min(experts, tokens*top_k) experts (balanced routing)")
    if exact_avg is False:
        notes.append("decode: a row changes bound between the first and last step, so TPOT "
                     "is a lower bound on the mean step time")
    return InferenceReport(
        model=name, hardware=hw.name, profile=profile,
        convention="llm-viewer OPs" if profile == "llm-viewer" else conv.name,
        weight_format=wfmt.name + ("" if wfmt.group_size is None else f"/g{wfmt.group_size}"),
        act_dtype=act, kv_dtype=kv, compute_dtype=compute_dtype, prompt_len=P, gen_len=G,
        batch=B, prefill=prefill, decode=decode, kv_cache_bytes=kv_total,
        weight_bytes=weights, activation_bytes=smax(*live) if live else 0,
        critical_batch=crit, notes=tuple(notes))


def kv_cache_bytes(model: Any, tokens: Any, batch: Any = 1, dtype: str = "fp16") -> Dim:
    """Bytes of the KV cache (or an SSM's recurrent state) holding `tokens` tokens for each
    of `batch` sequences: per attention layer ``2 * min(tokens, window) * H_kv * head_dim``
    elements, per Mamba mixer ``d_inner * (conv_kernel + state_size)``, times the batch and
    the bytes of `dtype`.

    >>> kv_cache_bytes("llama-2-70b", 4096)  # 2 * 80 layers * 8 KV heads * 128 * 4096 * 2
    1342177280
    >>> kv_cache_bytes("mamba-130m", 10**6)  # 24 * 1536 * (4 + 16) * 2, whatever the length
    1474560
    """
    node, _ = _resolve(model)
    n = _dim("tokens", tokens)
    B = _dim("batch", batch)
    dtype = _act_dtype("dtype", dtype)
    dec = analyze(_decode_model(node, lambda w: n if w is None else smin(n, w)), (1,))
    kv = _add(*[_cache_io(r, 1, False)[0] for r in dec.rows if isinstance(r.layer,
                                                                        KVCacheDecode)])
    state = _add(*[_unwrap(r.layer).state_elements() for r in dec.rows
                   if isinstance(_unwrap(r.layer), (SelectiveScan, CausalConv1d))])
    return as_count(_add(kv, state) * B * DTYPE_BYTES[dtype])
