"""Inference-time fusion: BatchNorm folded into the preceding conv or linear layer, and
elementwise activations merged into the layer that produces their input.

`fuse(model)` returns a new model of the same containers and child names, so every report
path that survives is unchanged:

1. **BatchNorm folding** (seed 004, "conv, batch norm, ReLU"): a ``BatchNorm{1,2,3}d`` with
   running statistics that directly follows a convolution (or transposed convolution) or a
   `Linear` in the same `Sequential` is removed, and the producer gains a bias::

       W' = W * gamma / sqrt(var + eps)
       b' = (b - mean) * gamma / sqrt(var + eps) + beta

   (`fold_batchnorm` computes it). The BN's ``2C`` parameters, ``2C`` buffers and every op
   disappear; the producer gains ``C`` bias parameters and one bias add per output. Its row
   disappears from the report; the producer keeps its path. A second BatchNorm right after
   folds too (BN after BN is still one affine map per channel).
2. **Activation fusion** (seed 004, "Fusion": ReLU on 28x28x512 moves 802,816 elements that
   fusing it into the conv saves): an elementwise activation (ReLU, ReLU6, LeakyReLU, PReLU,
   ELU, Sigmoid, Tanh, GELU, SiLU, Hardswish, Hardsigmoid) whose producer is the previous
   sibling in a `Sequential` (views such as Dropout or Flatten in between are skipped), or the
   add of a `Residual`, is wrapped in `FusedActivation`: same kind, same path, same ops (the
   producer's kernel still computes them), but no activation reads or writes (tap reads
   included). A PReLU still reads its slopes.

Inside a `layercalc.Graph` the same two rules follow the dataflow: a BatchNorm folds into the
conv/linear node whose output only it reads, an activation fuses into the node whose output
only it reads; the graph is rebuilt with the same node names, so paths are kept. A layer
called several times (shared weights) is neither folded nor fused.

Not fused (left as they are): a BatchNorm without running statistics or not directly after a
conv/linear sibling (pre-activation blocks), an activation that is the first child of its
`Sequential` (its producer lives in another container), Softmax (a reduction), and anything
inside a container other than Sequential, Residual, Parallel and Graph (its dataflow is not
public; `fuse_report` lists such containers in ``skipped``, never silently).
`fuse_report` analyses both models and compares params, MACs, FLOPs, memory traffic per
memory model and peak memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import sympy as sp

from . import format as fmt
from .conventions import DEFAULT_CONVENTION, Convention
from .registry import get_convention
from .cost import Cost
from .dims import Dim, as_count, eq, truth
from .layers import (
    ELU, GELU, BatchNorm1d, BatchNorm2d, BatchNorm3d, Conv1d, Conv2d, Conv3d,
    ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, Flatten, Hardsigmoid, Hardswish,
    Getitem, Identity, Layer, LeakyReLU, Linear, Permute, PReLU, ReLU, ReLU6, Reshape, Sigmoid,
    SiLU, Slice, Tanh,
)
from .graph import Graph, Input, apply
from .memory import MemoryModel, get_memory_model, memory, model_size, peak_memory
from .network import Functional, Parallel, Residual, Sequential, Tied, analyze
from .report import Report
from .table import Column, Table, TableRenderers

__all__ = ["fuse", "fuse_report", "FuseReport", "FusedActivation", "fold_batchnorm",
           "FOLDABLE", "FUSABLE_ACTIVATIONS"]

#: Layers a following BatchNorm folds into (per output channel: the channel axis of the output).
FOLDABLE = (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, Linear)
_BATCHNORMS = (BatchNorm1d, BatchNorm2d, BatchNorm3d)
#: Elementwise activations that fuse into their producer.
FUSABLE_ACTIVATIONS = (ReLU, ReLU6, LeakyReLU, PReLU, ELU, Sigmoid, Tanh, GELU, SiLU,
                       Hardswish, Hardsigmoid)
_VIEWS = (Identity, Flatten, Reshape, Slice, Getitem, Permute)  # Identity: Dropout* too


def fold_batchnorm(weight: Any, bias: Any, gamma: Any, beta: Any, mean: Any, var: Any,
                   eps: Any) -> tuple[Any, Any]:
    """Fold an inference BatchNorm into the preceding layer, for one output channel.

    ``W' = W * gamma / sqrt(var + eps)``, ``b' = (b - mean) * gamma / sqrt(var + eps) +
    beta`` (seed 004, from ``z = gamma * ((sum_i x_i w_i + b) - mean) / sqrt(var + eps) +
    beta``; valid for conv or linear -> BN, not BN -> conv). `weight` is the channel's weights
    (a number, a SymPy expression, or an array); ``bias=0`` for a layer without bias. Works on
    numbers (``** 0.5``) and SymPy (``sqrt``).

    >>> import sympy as sp
    >>> w, b, g, be, m, v, e, x = sp.symbols("w b gamma beta mu sigma2 epsilon x")
    >>> fold_batchnorm(w, b, g, be, m, v, e)
    (gamma*w/sqrt(epsilon + sigma2), beta + gamma*(b - mu)/sqrt(epsilon + sigma2))
    >>> fold_batchnorm(2.0, 0.0, 1.0, 0.5, 1.0, 3.0, 1.0)
    (1.0, 0.0)
    """
    denom = var + eps
    root = sp.sqrt(denom) if isinstance(denom, sp.Basic) else denom ** 0.5
    scale = gamma / root
    return weight * scale, (bias - mean) * scale + beta


@dataclass(frozen=True)
class _FusedActivation(Layer):
    """An elementwise activation fused into its producer: the activation's ops, none of its
    activation traffic (its input never leaves the producer's kernel; the producer writes
    the activated output). ``kind`` is the wrapped layer's, so report paths and kinds are
    unchanged; ``into`` names the producer's path (for reports).

    >>> c = FusedActivation(ReLU()).cost((512, 28, 28))
    >>> c.ops["cmp"], c.act_reads, c.writes
    (401408, 0, 0)
    """

    layer: Layer
    into: str = ""

    @property
    def kind(self) -> str:
        return self.layer.kind

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        return self.layer.output_shape(x)

    def cost(self, x: Any) -> Cost:
        c = self.layer.cost(x)
        note = f"{self.kind} fused into its producer: its reads and writes are not counted"
        return replace(c, act_reads=0, writes=0, tap_reads=0, notes=(*c.notes, note))


#: Public name of the fused wrapper (kept out of the layer registry: it is not a PyTorch layer).
FusedActivation = _FusedActivation


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and name else (path or name)


def _sequential(items: list[tuple[str, Any]]) -> Sequential:
    names = [n for n, _ in items]
    if len(set(names)) == len(names):
        return Sequential(OrderedDict(items))
    return Sequential(items)  # a repeated name: one module called twice (torchvision's relu)


def _channels(layer: Layer) -> Any:
    return layer.out_features if isinstance(layer, Linear) else layer.out_channels


class _Fuser:
    def __init__(self) -> None:
        self.folded: list[tuple[str, str]] = []
        self.fused: list[tuple[str, str]] = []
        self.skipped: list[str] = []

    def last_op(self, node: Any, path: str) -> str | None:
        """Path of the leaf that writes `node`'s output, or None if that is a view or unknown."""
        if isinstance(node, Layer):
            return None if isinstance(node, _VIEWS) else (path or node.kind.lower())
        if isinstance(node, (Tied, Functional)):
            return None if isinstance(node.layer, _VIEWS) else (path or node.layer.kind.lower())
        if isinstance(node, Sequential):
            for name, child in reversed(node.children()):
                if not isinstance(child, _VIEWS):
                    return self.last_op(child, _join(path, name))
            return None
        if isinstance(node, Residual):
            if node.activation is not None:
                return _join(path, node.activation.kind.lower())
            return _join(path, "add")
        if isinstance(node, Parallel):
            items = node.children()
            if len(items) > 1:
                return _join(path, {"concat": "cat", "add": "add", "mul": "mul"}[node.merge])
            return self.last_op(items[0][1], _join(path, items[0][0]))
        return None

    def activation(self, act: Any, producer: str | None, path: str) -> Any:
        if producer is None or type(act) not in FUSABLE_ACTIVATIONS:
            return act
        self.fused.append((path, producer))
        return _FusedActivation(act, producer)

    def walk(self, node: Any, path: str) -> Any:
        if isinstance(node, (Layer, Tied, Functional)):
            return node
        if isinstance(node, Sequential):
            out: list[tuple[str, Any]] = []
            for name, child in node.children():
                child = self.walk(child, _join(path, name))
                here = _join(path, name)
                prev = out[-1][1] if out else None
                if (isinstance(child, _BATCHNORMS) and child.track_running_stats
                        and type(prev) in FOLDABLE
                        and truth(eq(_channels(prev), child.num_features)) is not False):
                    pname = out[-1][0]
                    out[-1] = (pname, replace(prev, bias=True))
                    self.folded.append((_join(path, pname), here))
                    continue
                if type(child) in FUSABLE_ACTIVATIONS:
                    producer = None
                    for pname, p in reversed(out):
                        if not isinstance(p, _VIEWS):
                            producer = self.last_op(p, _join(path, pname))
                            break
                    child = self.activation(child, producer, here)
                out.append((name, child))
            new = _sequential(out)
            if hasattr(node, "name"):
                new.name = node.name  # type: ignore[attr-defined]
            return new
        if isinstance(node, Residual):
            body = self.walk(node.body, path)
            short = (None if node.shortcut is None
                     else self.walk(node.shortcut, _join(path, node.shortcut_name)))
            act = node.activation
            if act is not None:
                act = self.activation(act, _join(path, "add"),
                                      _join(path, act.kind.lower()))
            return Residual(body, short, activation=act, shortcut_name=node.shortcut_name)
        if isinstance(node, Parallel):
            items = [(name, self.walk(b, _join(path, name))) for name, b in node.children()]
            return Parallel(items, merge=node.merge)  # names may repeat (Fire)
        if isinstance(node, Graph):
            return self.graph(node, path)
        self.skipped.append(path or type(node).__name__)  # unknown structure: left as is
        return node

    def graph(self, g: Graph, path: str) -> Graph:
        """The graph rebuilt node by node with the same names (so the same paths), folding a
        BatchNorm into the conv/linear whose output only it reads, and fusing an activation
        into the producer whose output only it reads (the Sequential rules, on the dataflow).
        A layer called several times (shared) is neither folded into nor fused into."""
        nodes = g._records
        readers: dict[int, int] = {}  # id(producer node) -> how many inputs read it
        calls: dict[int, int] = {}  # id(op) -> how many calls
        for rec in nodes:
            calls[id(rec.node.op)] = calls.get(id(rec.node.op), 0) + 1
            for t in rec.node.inputs:
                readers[id(t.node)] = readers.get(id(t.node), 0) + 1
        for t in (*g.outputs, *g.side_outputs.values()):
            readers[id(t.node)] = readers.get(id(t.node), 0) + 2  # an output is read outside
        rec_of = {id(r.node): r for r in nodes}
        fold: dict[int, Any] = {}  # id(BN node) -> the record of the layer it folds into
        for rec in nodes:
            op, node = rec.node.op, rec.node
            if not (isinstance(op, _BATCHNORMS) and op.track_running_stats
                    and calls[id(op)] == 1 and len(node.inputs) == 1):
                continue
            src = node.inputs[0]
            p = rec_of.get(id(src.node))
            if (p is not None and src.index == 0 and readers.get(id(src.node), 0) == 1
                    and type(p.node.op) in FOLDABLE and calls[id(p.node.op)] == 1
                    and truth(eq(_channels(p.node.op), op.num_features)) is not False):
                fold[id(node)] = p
        folds_into = {id(p.node) for p in fold.values()}
        tensors: dict = {}  # (id(old node), index) -> new tensor
        for t, name in zip(g.inputs, g.input_names):
            tensors[(id(t.node), 0)] = Input(t.shape, name=name)
        ops: dict[int, Any] = {}  # id(old op) -> new op (keeps shared layers shared)
        made: dict[int, Any] = {}  # id(old node) -> its new op
        pname: dict[int, str] = {}  # id(folded BN node) -> the name of the layer it folded into
        for rec in nodes:
            node, here = rec.node, _join(path, rec.name)
            op = node.op
            if id(node) in fold:  # the BN disappears; its readers read the producer
                p = fold[id(node)]
                self.folded.append((_join(path, p.name), here))
                tensors[(id(node), 0)] = tensors[(id(p.node), 0)]
                made[id(node)] = made[id(p.node)]
                pname[id(node)] = p.name
                continue
            src = node.inputs[0] if len(node.inputs) == 1 else None
            prod_rec = rec_of.get(id(src.node)) if src is not None else None
            alone = (prod_rec is not None and readers.get(id(src.node), 0) == 1
                     and calls.get(id(prod_rec.node.op), 0) == 1 and src.index == 0)
            new_op = ops.get(id(op))
            if new_op is None:
                if id(node) in folds_into:
                    new_op = replace(op, bias=True)
                elif isinstance(op, Layer):
                    new_op = op
                    if (alone and type(op) in FUSABLE_ACTIVATIONS and calls[id(op)] == 1):
                        # skip back over views read by nothing else (Dropout, Flatten ...)
                        p_rec, p_src = prod_rec, src
                        while (isinstance(made.get(id(p_src.node), p_rec.node.op), _VIEWS)
                               and len(p_rec.node.inputs) == 1):
                            up = p_rec.node.inputs[0]
                            up_rec = rec_of.get(id(up.node))
                            if up_rec is None or readers.get(id(up.node), 0) != 1 or up.index:
                                break
                            p_rec, p_src = up_rec, up
                        p_op = made.get(id(p_src.node), p_rec.node.op)
                        p_path = _join(path, pname.get(id(p_src.node), p_rec.name))
                        producer = (None if isinstance(p_op, _VIEWS) else p_path
                                    if isinstance(p_op, Layer) else self.last_op(p_op, p_path))
                        new_op = self.activation(op, producer, here)
                else:
                    new_op = self.walk(op, here)
                ops[id(op)] = new_op
            out = apply(new_op, *[tensors[(id(t.node), t.index)] for t in node.inputs],
                        name=rec.name, call=node.call)
            made[id(node)] = new_op
            for k, t in enumerate(out if isinstance(out, tuple) else (out,)):
                tensors[(id(node), k)] = t
        new_inputs = [tensors[(id(t.node), 0)] for t in g.inputs]
        outs = [tensors[(id(t.node), t.index)] for t in g.outputs]
        side = {k: tensors[(id(t.node), t.index)] for k, t in g.side_outputs.items()}
        return Graph(new_inputs, outs, g.name or None, side_outputs=side or None)


def _fuse(model: Any) -> tuple[Any, tuple, tuple, tuple]:
    f = _Fuser()
    return f.walk(model, ""), tuple(f.folded), tuple(f.fused), tuple(dict.fromkeys(f.skipped))


def fuse(model: Any) -> Any:
    """The inference-fused copy of `model` (see the module docstring): BatchNorms folded into
    the preceding conv/linear (which gains a bias), elementwise activations fused into their
    producer (ops kept, traffic removed). Containers and child names are kept; `model` is not
    changed.

    Conv -> BN -> ReLU (seed 004): the BN's 128 values disappear, the conv gains 32 biases,
    the ReLU keeps its compares and moves nothing.

    >>> from layercalc import BatchNorm2d, Conv2d, ReLU, Sequential, analyze
    >>> net = Sequential(Conv2d(16, 32, 3, bias=False), BatchNorm2d(32), ReLU())
    >>> [(r.path, r.kind, r.cost.params) for r in analyze(fuse(net), (16, 8, 8)).rows]
    [('0', 'Conv2d', 4640), ('2', 'ReLU', 0)]
    """
    return _fuse(model)[0]


@dataclass(frozen=True)
class FuseReport(TableRenderers):
    """`model` before and after `fuse`, analysed on the same input.

    ``before``/``after`` are the Reports; ``folded`` lists ``(producer path, BatchNorm
    path)`` pairs, ``fused`` lists ``(activation path, producer path)`` pairs, ``skipped`` the
    paths of containers of unknown structure left unfused; ``totals`` maps
    a metric name to ``(before, after)``: ``params``, ``buffers``, ``macs``, ``flops[<conv>]``
    per convention, ``memory[<model>]`` (bytes moved) per memory model, ``peak activations``
    and ``model size`` (bytes). Renders as a table (metric, before, after, change); ``repr``
    is one line.
    """

    before: Report
    after: Report
    folded: tuple[tuple[str, str], ...]
    fused: tuple[tuple[str, str], ...]
    totals: dict
    dtype: Any = "fp32"
    skipped: tuple[str, ...] = ()

    def table(self, *, full: bool = False) -> Table:
        """Metric, before, after, after - before (exact) and the change in percent."""
        cols = [Column("metric", "Metric"), Column("before", "Before", "exact"),
                Column("after", "After", "exact"), Column("change", "After - before", "exact"),
                Column("change_pct", "Change", "percent")]
        rows = []
        for k, (b, a) in self.totals.items():
            d = as_count(a - b)
            pct = (d / b if type(d) is int and type(b) is int and b else None)
            rows.append((k, b, a, d, pct))
        name = self.before.name or "model"
        header = [f"{len(self.folded)} BatchNorm folded, {len(self.fused)} activations fused"
                  + (f"; left unfused (unknown containers): {', '.join(self.skipped)}"
                     if self.skipped else ""),
                  f"Bytes (memory, peak activations, model size) in {self.dtype}; FLOPs under "
                  "the conventions named (`layercalc list conventions`)"]
        return Table(cols, rows, None,
                     f"{name}: fused, input {fmt.shape(self.before.input_shape)}, batch "
                     f"{self.before.batch}", header)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        parts = [f"{len(self.folded)} BatchNorm folded", f"{len(self.fused)} activations fused"]
        for key in ("params", *(k for k in self.totals if k.startswith("memory[")),):
            if key in self.totals:
                b, a = self.totals[key]
                show = fmt.params if key == "params" else fmt.nbytes
                parts.append(f"{key} {show(b)} -> {show(a)}")
                if key.startswith("memory["):
                    break
        return fmt.brief("FuseReport", self.before.name, parts)


def fuse_report(model: Any, input_shape: Any, batch: Dim = 1, *, dtype: Any = "fp32",
                conventions: Iterable[str | Convention] = (DEFAULT_CONVENTION, "macs"),
                memory_models: Iterable[str | MemoryModel] = ("compulsory", "no_reuse"),
                name: str = "") -> FuseReport:
    """Analyse `model` and ``fuse(model)`` on `input_shape` and compare their totals (exact
    ints, or SymPy with symbolic sizes). Bytes use `dtype`.

    Seed 004's conv -> BN -> ReLU at 28x28x512 in int8 (one byte per element): the ReLU's
    802,816 accesses and the BN's 802,816 + 2048 disappear, the 512 biases are read once:

    >>> from layercalc import BatchNorm2d, Conv2d, ReLU, Sequential
    >>> net = Sequential(Conv2d(256, 512, 3, padding=1, bias=False), BatchNorm2d(512), ReLU())
    >>> r = fuse_report(net, (256, 28, 28), dtype="int8", memory_models=["compulsory"])
    >>> r.totals["params"], r.totals["memory[compulsory]"]
    ((1180672, 1180160), (3389440, 1782272))
    >>> r.folded, r.fused
    ((('0', '1'),), (('2', '0'),))
    """
    before = analyze(model, input_shape, batch=batch, name=name)
    fused, folded, acts, skipped = _fuse(model)
    after = analyze(fused, input_shape, batch=batch, name=before.name)
    totals: dict[str, tuple[Any, Any]] = {}
    for key in ("params", "buffers", "macs"):
        totals[key] = (getattr(before.total, key), getattr(after.total, key))
    for c in conventions:
        conv = get_convention(c)
        totals[f"flops[{conv.name}]"] = (before.flops(conv), after.flops(conv))
    for m in memory_models:
        mm = get_memory_model(m)
        totals[f"memory[{mm.name}]"] = (memory(before, mm, dtype).total,
                                        memory(after, mm, dtype).total)
    totals["peak activations"] = (peak_memory(model, input_shape, dtype, batch).activations,
                                  peak_memory(fused, input_shape, dtype, batch).activations)
    totals["model size"] = (model_size(before, dtype), model_size(after, dtype))
    return FuseReport(before, after, folded, acts, totals, dtype, skipped)
