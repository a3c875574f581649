"""Memory traffic in bytes: how many bytes a layer or a network moves to and from main memory.

A `Cost` counts *elements* (``weight_reads``, ``act_reads``, ``writes``, ``tap_reads``). This
module turns them into bytes with a data type (`DTYPE_BYTES`) and a named `MemoryModel` that
says which element counts are read:

=========== ============================================ =========================================
model        reads                                        source
=========== ============================================ =========================================
compulsory   weight_reads + act_reads (each input once)   seed 000 ("MAC = ddr_read + ddr_write",
                                                          input + K*K*Cin*Cout + bias + output);
                                                          seed 002 (1x1 conv: h*w*(c1+c2) + c1*c2);
                                                          torchstat ``MemR+W``
no_reuse     weight_reads + tap_reads (one input read     after BY J's formula (below), counted on
             per multiply-accumulate or window tap)       the output grid: equal to it for
                                                          stride-1 'same' convolutions
filter_      conv/linear: each input element read         BY J, 深度学习模型性能影响分析 (after
rereads      ``K*K*C_out/g`` times at the *input*         machinethink.net): "input = Hin x Win x
             resolution; pads absorbed; other layers as   Cin x K x K x Cout", output, weights =
             compulsory (needs the rows: a Report/Row)    K x K x Cin x Cout + Cout
=========== ============================================ =========================================

Every model writes every output element once (``writes``) and reads every weight once per
batch. ``no_reuse`` and ``filter_rereads`` agree on stride-1 convolutions with 'same'
padding; on a stride-2 conv ``filter_rereads`` reads the (four times larger) input grid, as
the post's formula does, and ``no_reuse`` reads one element per MAC.

torchstat: ``compulsory`` in fp32 over the rows of ``analyze(seed_alexnet(), (3, 224, 224))``
gives exactly torchstat 0.0.7's 255,998,656 bytes ("Total MemR+W: 244.14MB", MiB): torchstat
sums (input + params) * 4 read and output * 4 written over every leaf module, and reports 0 for
Dropout ("not supported"), as layercalc's zero-cost Flatten/Dropout rows do. No separate model
is needed.

KV caches (`layercalc.KVCacheDecode`) may have their own dtype: ``memory(report,
kv_dtype="int8")`` prices the cache reads of every decode row in `kv_dtype` and the rest of the
row (the query read, the output written) in the activation dtype. A decode step's Cost adds the
cache to ``act_reads``; the split is recovered from the Row (the query has the output's size),
so it needs a `Report` or a `Row`, not a bare `Cost`.

`peak_memory` is the other kind of memory: the bytes alive at once during a forward pass
(activations by liveness, plus resident weights and KV caches), not the bytes moved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import sympy as sp

from .cost import Cost
from .dims import Dim, as_count, as_dim, exact_div, prod, show, smax, to_expr, truth
from .errors import ArgumentError, LayerCalcError, UnknownNameError, lookup
from .layers import KVCacheDecode, Layer
from .network import Functional, Parallel, Residual, Sequential, Tied, analyze

__all__ = [
    "DTYPE_BYTES",
    "MemoryModel",
    "MEMORY_MODELS",
    "MemoryTraffic",
    "PeakMemory",
    "dtype_bytes",
    "get_memory_model",
    "memory",
    "model_size",
    "peak_memory",
]

#: Bytes per element of each data type. ``int4`` and ``nf4`` pack two elements per byte;
#: ``fp8`` is ``fp8-e4m3``. Elements only: the scales and zero points a quantised weight
#: stores beside them are counted by `layercalc.quant` (`layercalc.WEIGHT_FORMATS`).
DTYPE_BYTES: Mapping[str, Dim] = MappingProxyType({
    "fp64": 8, "fp32": 4, "tf32": 4, "fp16": 2, "bf16": 2, "fp8": 1, "fp8-e4m3": 1,
    "fp8-e5m2": 1, "int8": 1, "int4": sp.Rational(1, 2), "nf4": sp.Rational(1, 2),
})


def dtype_bytes(dtype: str | int | sp.Expr) -> Dim:
    """Bytes per element of `dtype` (a name in `DTYPE_BYTES`, or a number/SymPy expression of
    bytes passed through).

    >>> dtype_bytes("fp16"), dtype_bytes("int4"), dtype_bytes(3)
    (2, 1/2, 3)
    >>> dtype_bytes("fp31")
    Traceback (most recent call last):
    ...
    layercalc.errors.UnknownNameError: unknown dtype 'fp31'; did you mean 'fp32' or 'fp16'?
    """
    if isinstance(dtype, str):
        try:
            return DTYPE_BYTES[dtype]
        except KeyError:
            raise UnknownNameError("dtype", dtype, DTYPE_BYTES) from None
    if isinstance(dtype, bool) or not isinstance(dtype, (int, sp.Basic)):
        raise UnknownNameError("dtype", show(dtype), DTYPE_BYTES)
    n = as_dim(dtype, "dtype_bytes", "dtype", minimum=None, integer=False, error=ArgumentError)
    if truth(to_expr(n) > 0) is False:
        raise ArgumentError("dtype_bytes", f"dtype (={show(n)}) must be a positive number of "
                            "bytes")
    return n


@dataclass(frozen=True)
class MemoryModel:
    """Which element counts of a `Cost` are read and written from main memory.

    ``weight_reads``, ``act_reads`` and ``writes`` are functions of a Cost returning element
    counts. ``description`` and ``source`` say what is assumed and who counts this way.
    ``row``, when set, replaces the three for report rows: a function of a `Row` returning
    ``(weight reads, activation reads, writes)`` in elements, for a model that needs the
    layer and its input shape (`filter_rereads`); such a model cannot price a bare Cost.
    """

    name: str
    weight_reads: Callable[[Cost], Dim]
    act_reads: Callable[[Cost], Dim]
    writes: Callable[[Cost], Dim]
    description: str = ""
    source: str = ""
    row: Callable[[Any], tuple[Dim, Dim, Dim]] | None = None


def _weights(c: Cost) -> Dim:
    return c.weight_reads


def _writes(c: Cost) -> Dim:
    return c.writes


_CONVS = ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
_PADS = ("ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d",
         "ConstantPad3d")


def _filter_rereads(row: Any) -> tuple[Dim, Dim, Dim]:
    """BY J's per-layer formula (深度学习模型性能影响分析, after machinethink.net's "How fast
    is my model?"): a convolution reads its input ``K*K*C_out`` times, once per tap of every
    filter, at the input resolution (a depthwise conv: ``K*K``, each channel feeding its own
    filter, so ``K*K*C_out/groups``), writes its output once and reads its weights once::

        input   = H_in * W_in * C_in * K * K * C_out / groups
        output  = H_out * W_out * C_out
        weights = K * K * C_in/groups * C_out (+ C_out with a bias)

    A fully connected layer is the ``K = 1`` case (each input read once per output feature).
    An explicit zero padding row moves nothing: the convolution that follows reads the padded
    input (its ``H_in, W_in``), so counting the pad's copy too would count that input twice.
    Every other row (activations, norms, pools, adds) reads its input once and writes its
    output once (``compulsory``, the post's ReLU: 401,408 + 401,408 = 802,816)."""
    layer, c = row.layer, row.cost
    kind = layer.kind
    if kind in _CONVS:
        x = row.input_shape
        per = as_count(prod(layer.kernel_size) * exact_div(layer.out_channels, layer.groups))
        return c.weight_reads, as_count(prod(x) * per), c.writes
    if kind == "Linear":
        return c.weight_reads, as_count(prod(row.input_shape) * layer.out_features), c.writes
    if kind in _PADS:
        return 0, 0, 0
    return c.weight_reads, c.act_reads, c.writes


def _needs_rows(name: str) -> Callable[[Cost], Dim]:
    def fail(c: Cost) -> Dim:
        raise LayerCalcError(
            f"memory model '{name}' reads each layer's kernel and input shape, which a bare "
            "Cost does not record: pass a Report (analyze(model, shape)) or one of its rows")
    return fail


MEMORY_MODELS: Mapping[str, MemoryModel] = MappingProxyType({
    m.name: m for m in (
        MemoryModel(
            "compulsory", _weights, lambda c: c.act_reads, _writes,
            description="every input element, weight and buffer read once, every output "
            "element written once (infinite on-chip reuse within a layer, none across layers)",
            source="seed 000: ddr_read = input + weights, ddr_write = output; seed 002: 1x1 conv "
            "MAC = h*w*(c1+c2) + c1*c2; torchstat MemR+W",
        ),
        MemoryModel(
            "no_reuse", _weights, lambda c: c.tap_reads, _writes,
            description="one activation read per multiply-accumulate or window tap (nothing "
            "reused between outputs); weights read once, outputs written once",
            source="after BY J, 深度学习模型性能影响分析 (machinethink.net 'How fast is my model?'), "
            "whose input = Hin*Win*Cin*K*K*Cout it equals on stride-1 'same' convolutions (the "
            "post's worked examples); on strided layers the post's formula is 'filter_rereads'",
        ),
        MemoryModel(
            "filter_rereads", _needs_rows("filter_rereads"), _needs_rows("filter_rereads"),
            _needs_rows("filter_rereads"), row=_filter_rereads,
            description="convolution and linear layers read each input element once per "
            "filter tap of every output channel (K*K*C_out/groups times) at the input "
            "resolution; explicit padding is absorbed by the next conv; other layers read "
            "their input once; outputs written once, weights read once",
            source="BY J, 深度学习模型性能影响分析 (after machinethink.net 'How fast is my "
            "model?'): input = Hin x Win x Cin x K x K x Cout, output = Hout x Wout x Cout, "
            "weights = K x K x Cin x Cout + Cout",
        ),
    )
})


def get_memory_model(name: str | MemoryModel) -> MemoryModel:
    """The registered model `name` (a `MemoryModel` passes through).

    >>> get_memory_model("no-reuse")
    Traceback (most recent call last):
    ...
    layercalc.errors.UnknownNameError: unknown memory model 'no-reuse'; did you mean 'no_reuse'?
    """
    if isinstance(name, MemoryModel):
        return name
    return lookup(MEMORY_MODELS, "memory model", name)


@dataclass(frozen=True)
class MemoryTraffic:
    """Bytes moved: ``reads`` (weights plus activations) and ``writes``; ``weight_reads`` is the
    part of ``reads`` that is weights and buffers, ``kv_reads`` the part that is KV cache (known
    for Reports and Rows, 0 for a bare Cost). Exact ints, or SymPy when symbolic."""

    reads: Dim
    writes: Dim
    weight_reads: Dim = 0
    kv_reads: Dim = 0

    @property
    def act_reads(self) -> Dim:
        """Activation bytes read (KV cache included): ``reads - weight_reads``."""
        return as_count(self.reads - self.weight_reads)

    @property
    def total(self) -> Dim:
        """``reads + writes`` (seed 000's MAC, seed 004's "memory accesses")."""
        return as_count(self.reads + self.writes)

    def __add__(self, other: MemoryTraffic) -> MemoryTraffic:
        if not isinstance(other, MemoryTraffic):
            if isinstance(other, int) and other == 0:
                return self
            return NotImplemented
        return MemoryTraffic(as_count(self.reads + other.reads),
                             as_count(self.writes + other.writes),
                             as_count(self.weight_reads + other.weight_reads),
                             as_count(self.kv_reads + other.kv_reads))

    __radd__ = __add__


def _cost_of(x: Any) -> Cost:
    if isinstance(x, Cost):
        return x
    total = getattr(x, "total", None)  # a Report
    if isinstance(total, Cost):
        return total
    cost = getattr(x, "cost", None)  # a Row
    if isinstance(cost, Cost):
        return cost
    raise TypeError(f"expected a Cost, a Report or a Row, not {type(x).__name__}")


def _rows_of(x: Any) -> tuple | None:
    """The rows of a Report, ``(row,)`` for a Row, None for a Cost."""
    if isinstance(x, Cost):
        return None
    rows = getattr(x, "rows", None)
    if rows is not None and isinstance(getattr(x, "total", None), Cost):
        return tuple(rows)
    if isinstance(getattr(x, "cost", None), Cost) and hasattr(x, "layer"):
        return (x,)
    return None


def _is_kv(row: Any) -> bool:
    return isinstance(row.layer, KVCacheDecode)


def _kv_elements(row: Any, m: MemoryModel) -> Dim:
    """KV-cache elements a `KVCacheDecode` row reads under `m`: the model's activation reads
    minus the query, whose size is the output's (``writes``). Compulsory: ``2*S*H_kv*d`` per
    sample (``S -> min(S, window)``)."""
    return as_count(m.act_reads(row.cost) - row.cost.writes)


def _traffic(c: Cost, m: MemoryModel, wb: Dim, ab: Dim) -> MemoryTraffic:
    w = as_count(m.weight_reads(c) * wb)
    return MemoryTraffic(reads=as_count(w + m.act_reads(c) * ab),
                         writes=as_count(m.writes(c) * ab), weight_reads=w)


def memory(x: Any, model: str | MemoryModel = "compulsory", dtype: Any = "fp32", *,
           weight_dtype: Any = None, act_dtype: Any = None,
           kv_dtype: Any = None) -> MemoryTraffic:
    """Bytes a `Cost`, `Report` (its total, already batched) or Row moves under `model`.

    ``reads = weight_reads(c) * wb + act_reads(c) * ab``, ``writes = writes(c) * ab``, where
    ``wb``/``ab`` are the bytes per element of `weight_dtype`/`act_dtype` (both default to
    `dtype`). Source: seed 000 (MAC = input + K*K*Cin*Cout + bias + output, "x4" for float32,
    1 byte for int8), BY J's 深度学习模型性能影响分析 (no_reuse, filter_rereads).

    KV cache: for every `KVCacheDecode` row of a Report (or a Row), the cache elements
    ``act_reads(c) - writes(c)`` (all activation reads but the query) are priced at
    `kv_dtype` (default: the activation dtype) and reported in ``kv_reads``. A bare Cost does
    not separate them, so `kv_dtype` with a decode step's Cost raises `LayerCalcError`.

    Seed 004's 3x3 conv, 256 -> 512 channels on 28x28, counted in 1-byte elements:

    >>> from layercalc import Conv2d
    >>> c = Conv2d(256, 512, 3, padding=1).cost((256, 28, 28))
    >>> memory(c, "no_reuse", "int8").total
    926425600
    >>> m = memory(c, "compulsory", "fp32"); (m.reads, m.writes, m.weight_reads)
    (5523456, 1605632, 4720640)
    >>> memory(c, dtype="fp16", weight_dtype="int4").total
    1794304

    A decode step of a Llama-like layer (32 heads of 128, 8 KV heads, 4096 cached tokens) with
    an int8 cache and fp16 activations: 2*4096*8*128 = 8,388,608 cache bytes, plus the 4096
    query elements read and 4096 written at 2 bytes:

    >>> from layercalc import KVCacheDecode, analyze
    >>> r = analyze(KVCacheDecode(32, 128, 4096, num_kv_heads=8), (1, 4096))
    >>> m = memory(r, dtype="fp16", kv_dtype="int8"); (m.kv_reads, m.reads, m.writes)
    (8388608, 8396800, 8192)
    """
    m = get_memory_model(model)
    wb = dtype_bytes(dtype if weight_dtype is None else weight_dtype)
    ab = dtype_bytes(dtype if act_dtype is None else act_dtype)
    kb = ab if kv_dtype is None else dtype_bytes(kv_dtype)
    rows = _rows_of(x)
    if m.row is not None:
        if rows is None:
            _needs_rows(m.name)(_cost_of(x))
        comp = MEMORY_MODELS["compulsory"]
        out = MemoryTraffic(0, 0)
        for r in rows:
            if _is_kv(r):  # a decode step: its cache as under compulsory
                out = out + memory(r, comp, dtype, weight_dtype=weight_dtype,
                                   act_dtype=act_dtype, kv_dtype=kv_dtype)
                continue
            w, a, wr = m.row(r)
            w = as_count(w * wb)
            out = out + MemoryTraffic(as_count(w + a * ab), as_count(wr * ab), w)
        return out
    if rows is None:
        c = _cost_of(x)
        if kv_dtype is not None and any(n.startswith("KV cache") for n in c.notes):
            raise LayerCalcError(
                "memory: kv_dtype needs a Report or a Row; a Cost adds the KV-cache reads of "
                "a decode step to act_reads (pass analyze(layer, shape) instead)")
        return _traffic(c, m, wb, ab)
    kv_rows = [r for r in rows if _is_kv(r)]
    if not kv_rows:
        return _traffic(_cost_of(x), m, wb, ab)
    out = _traffic(Cost.sum(r.cost for r in rows if not _is_kv(r)), m, wb, ab)
    for r in kv_rows:
        t = _traffic(r.cost, m, wb, ab)
        cache = _kv_elements(r, m)
        kv = as_count(cache * kb)
        out = out + MemoryTraffic(as_count(t.reads - cache * ab + kv), t.writes, t.weight_reads,
                                  kv)
    return out


def model_size(x: Any, dtype: Any = "fp32") -> Dim:
    """Bytes to store the model: ``(params + buffers) * bytes(dtype)`` (seed 000: "模型大小是参数
    数量的 4 倍" in float32). `x` is a Cost, a Report or a Row.

    >>> from layercalc import analyze, zoo
    >>> model_size(analyze(zoo.seed_alexnet(), (3, 224, 224)))  # 61,264,904 params x 4
    245059616
    >>> model_size(analyze(zoo.seed_alexnet(), (3, 224, 224)), "int4")
    30632452
    """
    c = _cost_of(x)
    return as_count((c.params + c.buffers) * dtype_bytes(dtype))


# -- peak activation memory -----------------------------------------------------------------------
@dataclass(frozen=True)
class PeakMemory:
    """The result of `peak_memory`, in bytes.

    ``activations``: the peak of live activation tensors; ``weights``: params and buffers
    (resident for the whole pass, in the weight dtype); ``kv_cache``: the KV caches that
    `KVCacheDecode` layers read (resident, in the KV dtype); ``total`` is their sum.
    ``path`` is the first layer at which the activation peak is reached (None when it depends
    on symbols, or when no layer runs); ``steps`` gives ``(path, live bytes)`` for every layer in
    execution order.
    """

    activations: Dim
    weights: Dim
    kv_cache: Dim
    path: str | None
    steps: tuple[tuple[str, Dim], ...]

    @property
    def total(self) -> Dim:
        return as_count(self.activations + self.weights + self.kv_cache)

    def __repr__(self) -> str:  # one line: ``steps`` has a row per layer (read it directly)
        return (f"PeakMemory(activations={self.activations}, weights={self.weights}, "
                f"kv_cache={self.kv_cache}, path={self.path!r}, steps=<{len(self.steps)} steps>)")


def _sum(values: list) -> Dim:
    if all(type(v) is int for v in values):
        return sum(values)
    return as_count(sp.Add(*values))


def _liveness(report: Any, nbytes: Dim, kv_bytes: Dim) -> tuple[Dim, list, list]:
    """Live bytes at every row of `report`, from the dataflow of its rows (`Row.sources` and
    `Row.ports`): (input bytes, [(path, live bytes)] per row that runs, [KV-cache bytes]).

    A tensor is identified by ``(row, port)`` (``(None, k)`` for model input ``k``) and lives
    in a storage; a row that writes nothing and reads one tensor (a view) gives its outputs its
    input's storage. A storage is allocated when its row runs and freed after the last row
    reading any tensor of it; the model's outputs live to the end."""
    rows = report.rows
    storage: dict = {}  # tensor -> storage id
    size: dict = {}  # storage id -> bytes
    born: dict = {}  # storage id -> step allocated (-1: before the first row)
    inputs = report.input_shape
    shapes = inputs if inputs and isinstance(inputs[0], tuple) else (inputs,)
    for k, shp in enumerate(shapes):
        sid = ("in", k)
        storage[(None, k)], size[sid], born[sid] = sid, as_count(prod(shp) * nbytes), -1
    run = [i for i, r in enumerate(rows) if not r.side]
    step_of = {i: n for n, i in enumerate(run)}
    last: dict = {}
    kv: list = []
    for i in run:
        r = rows[i]
        ins = [storage.get((src, r.port(j)), storage.get((None, 0)))
               for j, src in enumerate(r.sources)]
        for sid in ins:
            last[sid] = step_of[i]
        outs = r.output_shape if r.output_shape and isinstance(r.output_shape[0], tuple) \
            else (r.output_shape,)
        c = r.cost
        view = type(c.writes) is int and c.writes == 0 and len(ins) == 1
        for k, shp in enumerate(outs):
            if view:
                storage[(i, k)] = ins[0]
            else:
                sid = (i, k)
                storage[(i, k)], size[sid], born[sid] = sid, as_count(prod(shp) * nbytes), \
                    step_of[i]
                last.setdefault(sid, step_of[i])  # never read: freed once written
        if _is_kv(r):
            kv.append(as_count(_kv_elements(r, MEMORY_MODELS["compulsory"]) * kv_bytes))
    end = len(run)
    outputs = report.output_sources or (((run[-1] if run else None), 0),)
    for src, port in outputs:
        sid = storage.get((src, port))
        if sid is not None:
            last[sid] = end
    by_birth: dict = {}
    for sid, b in born.items():
        by_birth.setdefault(b, []).append(sid)
    by_death: dict = {}
    for sid in size:
        by_death.setdefault(last.get(sid, born[sid]), []).append(sid)
    alive: dict = {sid: size[sid] for sid in by_birth.get(-1, ())}
    for sid in by_death.get(-1, ()):
        alive.pop(sid, None)
    steps = []
    for n, i in enumerate(run):
        for sid in by_birth.get(n, ()):
            alive[sid] = size[sid]
        steps.append((rows[i].path, _sum(list(alive.values()))))
        for sid in by_death.get(n, ()):
            alive.pop(sid, None)
    return size[("in", 0)] if len(shapes) == 1 else _sum(
        [size[("in", k)] for k in range(len(shapes))]), steps, kv


def peak_memory(model: Any, input_shape: Any, dtype: Any = "fp32", batch: Dim = 1, *,
                weight_dtype: Any = None, act_dtype: Any = None,
                kv_dtype: Any = None) -> PeakMemory:
    """Peak memory of one forward pass (inference): the most activation bytes alive at once,
    plus the resident weights and KV caches.

    The model (Sandler et al., "MobileNetV2", 2018, https://arxiv.org/abs/1801.04381, Sec. 5.1:
    "the amount of memory is simply the maximum total size of combined inputs and outputs
    across all operations", for a fixed schedule):

    * Layers run in `analyze`'s order (the report's rows): a Sequential's children in order; a
      Residual's body, then its shortcut, then the add, then its activation; a Parallel's
      branches in order, then the merge; a Graph's nodes in call order. Rows of a Graph's side
      outputs do not run.
    * A tensor is allocated when its producer runs and freed right after its last consumer
      has run, read from the rows' dataflow (`Row.sources`), so every container and Graph is
      covered. In a Sequential a tensor dies once the next child has run; a Residual keeps
      its input alive through the body (the shortcut or the add needs it) and the body's output
      alive through the shortcut; a Parallel keeps its input until the last branch has run and
      every branch output until the merge. A tensor nothing reads is freed once written; the
      model's outputs live to the end.
    * While a layer runs, its inputs and its output are alive, and so is every tensor a later
      layer still needs: ``live(step) = sum of the sizes of those tensors``, and
      ``activations = max(input, max over steps of live(step))``.
    * A layer that writes nothing (Identity, Dropout at inference, Flatten, Reshape, Slice,
      and an activation fused by `layercalc.fuse`) returns a view: its output shares its
      input's storage, which lives while any view does.
      No layer works in place (``inplace=True`` is ignored), so with in-place activations
      PyTorch can need less.
    * Weights (``params + buffers``, `model_size`) and KV caches are resident for the whole
      pass and reported apart: ``total = activations + weights + kv_cache``.
    * Not modelled: workspaces (im2col, cuDNN), allocator rounding and fragmentation, autograd
      (inference only).

    Sizes are ``elements * batch * bytes(dtype)``; `act_dtype`, `weight_dtype`, `kv_dtype`
    default to `dtype` (`kv_dtype` to the activation dtype). Exact ints, and a SymPy ``Max``
    when the sizes are symbolic.

    A ResNet-style block by hand (fp32, 4 bytes): conv0 needs its input and output (192 + 512
    elements); in the block the input (512) stays alive, and the ReLU and conv2 steps hold
    three 512-element tensors: 1536 elements = 6144 bytes.

    >>> from layercalc import Conv2d, ReLU, Residual, Sequential
    >>> block = Residual(Sequential(Conv2d(8, 8, 3, padding=1), ReLU(),
    ...                             Conv2d(8, 8, 3, padding=1)), activation=ReLU())
    >>> p = peak_memory(Sequential(Conv2d(3, 8, 3, padding=1), ReLU(), block), (3, 8, 8))
    >>> [live // 4 for _, live in p.steps]
    [704, 1024, 1024, 1536, 1536, 1536, 1024]
    >>> p.activations, p.path, p.weights  # weights: 224 + 2 * 584 params
    (6144, '2.1', 5568)
    """
    ab = dtype_bytes(dtype if act_dtype is None else act_dtype)
    wb = dtype_bytes(dtype if weight_dtype is None else weight_dtype)
    kb = ab if kv_dtype is None else dtype_bytes(kv_dtype)
    report = analyze(model, input_shape, batch=batch)
    batch = report.batch
    nbytes = as_count(batch * ab)
    first, steps, kv = _liveness(report, nbytes, kb)
    values = [first] + [v for _, v in steps]
    peak = smax(*dict.fromkeys(values))
    path = None
    if not isinstance(peak, sp.Max):
        path = next((p for p, v in steps if v == peak), None)
    return PeakMemory(activations=peak, weights=model_size(report, wb),
                      kv_cache=_sum(kv), path=path, steps=tuple(steps))
