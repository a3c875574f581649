"""Training: forward, backward, optimizer, memory, recomputation and parallelism of one step.

`training(report, ...)` turns the `Report` of a forward pass into a `TrainingReport` for one
training step of that batch, exactly, from the layers:

- per row, the training-mode forward (`layercalc.backward`: BatchNorm's batch statistics,
  Dropout's masks), the backward split into input gradients (dgrad) and parameter gradients
  (wgrad), the gradient accumulation where a tensor is used more than once (autograd sums the
  gradients of every use: residual connections, tied weights), the recomputed forward, and
  the bytes it saves for the backward pass;
- the optimizer step and its states, the gradients and weights, by optimizer and precision;
- recomputation (``"selective"``: the attention core, as Megatron; ``"full"``: every block,
  from its saved input; or a set of paths);
- tensor, pipeline, sequence and data parallelism with ZeRO: what each device holds and
  computes, and the bytes of the collectives of one step.

The dataflow comes from ``Row.sources``. Every count is an exact int or a SymPy expression
(batch and sequence length may be symbols). FLOPs are never one hidden convention:
``flops(convention)`` names it (default `DEFAULT_CONVENTION`, ``"exact"``);
``"flopcountermode"`` reproduces PyTorch's ``FlopCounterMode`` over a forward and backward on
CPU.

A `TrainingReport` renders through the table model (`layercalc.table`): ``str(t)`` and
``to_text``, ``to_markdown``, ``to_html``, ``to_latex`` print the rows, the memory per device
and the collectives; ``to_csv`` the rows; ``to_json`` the document of schema
``layercalc.training/1`` (docs/json-schema.md); ``repr`` is one line and Jupyter shows the rows
with a depth control. Every rendering states its FLOPs convention.

See docs/training.md for every assumption and the published formulas it reproduces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import sympy as sp

from . import format as fmt
from ._version import __version__
from .backward import BackwardRule, Ctx, Grads, NotCounted, Saved, backward_rule
from .conventions import DEFAULT_CONVENTION, Convention
from .cost import Cost
from .dims import Dim, as_count, exact_div, prod, smax, to_expr, truth
from .errors import LayerCalcError, UnknownNameError, lookup
from .hardware import Hardware, get_hardware
from .memory import memory as _traffic
from .peers import ConventionError, ToolConvention, _Ctx
from .registry import convention_note, get_convention
from .report import Report, Row
from .table import Column, Table, TableRenderers, html_levels, latex_formulas

__all__ = [
    "training", "TrainingReport", "TrainingRow", "TrainingMemory", "Communication",
    "Parallelism", "StepTime", "Optimizer", "Precision", "OPTIMIZERS", "PRECISIONS",
    "ACTIVATION_MODES", "TRAINING_SCHEMA",
]

#: Activation accountings: eager PyTorch with CUDA kernels (bool dropout masks, flash
#: attention), the same on CPU (dropout masks in the input dtype; attention with dropout runs
#: the math path), and Korthikanti et al. 2022's.
ACTIVATION_MODES = ("pytorch", "pytorch-cpu", "korthikanti")


# -- precisions and optimizers ---------------------------------------------------------------------
@dataclass(frozen=True)
class Precision:
    """Bytes per element: ``weights`` and ``gradients`` as the model holds them, ``master``
    (an fp32 copy kept by the optimizer in mixed precision; 0 without), ``states`` (the
    optimizer's moments), ``activations`` (what the forward saves)."""

    name: str
    weights: int
    gradients: int
    master: int
    states: int
    activations: int
    dtype: str  # the compute dtype (hardware peak)
    description: str = ""


PRECISIONS: Mapping[str, Precision] = MappingProxyType({p.name: p for p in (
    Precision("fp32", 4, 4, 0, 4, 4, "fp32", "everything in fp32"),
    Precision("bf16-mixed", 2, 2, 4, 4, 2, "bf16",
              "bf16 weights, gradients and activations; fp32 master weights and optimizer "
              "states (Rajbhandari et al. 2020, section 3.1: 2 + 2 + 12 bytes a parameter)"),
    Precision("fp16-mixed", 2, 2, 4, 4, 2, "fp16",
              "as bf16-mixed in fp16; the loss scaler's state (8 bytes) is not counted, as "
              "Rajbhandari et al. 2020 do not"),
    Precision("bf16", 2, 2, 0, 2, 2, "bf16",
              "pure bf16: weights, gradients, activations and optimizer states"),
)})


@dataclass(frozen=True)
class Optimizer:
    """An optimizer: its per-element state tensors (``moments``, at the precision's state
    dtype), whether it keeps a float32 ``step`` tensor per parameter tensor (torch.optim),
    and the ops of its update per element."""

    name: str
    moments: int
    step_tensor: bool
    ops: Mapping[str, int]
    description: str
    factored: bool = False
    eight_bit: bool = False


OPTIMIZERS: Mapping[str, Optimizer] = MappingProxyType({o.name: o for o in (
    Optimizer("sgd", 0, False, {"mul": 1, "add": 1},
              "torch.optim.SGD(momentum=0): p -= lr*g; no state"),
    Optimizer("sgd-momentum", 1, False, {"mul": 2, "add": 2},
              "torch.optim.SGD(momentum>0): buf = m*buf + g; p -= lr*buf; one buffer"),
    Optimizer("adam", 2, True, {"mul": 5, "add": 5, "div": 2, "sqrt": 1},
              "torch.optim.Adam: exp_avg.lerp_(g, 1-b1); exp_avg_sq.mul_(b2).addcmul_(g, g, "
              "1-b2); p.addcdiv_(exp_avg, sqrt(exp_avg_sq)/bc2 + eps, -lr/bc1)"),
    Optimizer("adamw", 2, True, {"mul": 6, "add": 5, "div": 2, "sqrt": 1},
              "torch.optim.AdamW: Adam plus the decoupled weight decay p *= 1 - lr*wd"),
    Optimizer("adafactor", 0, True, {"mul": 4, "add": 3, "div": 2, "sqrt": 1}, factored=True,
              description="torch.optim.Adafactor: factored second moment (row and column "
              "variances for tensors of rank >= 2, a full variance for vectors), no first "
              "moment"),
    Optimizer("adam-8bit", 2, False, {"mul": 5, "add": 5, "div": 2, "sqrt": 1}, eight_bit=True,
              description="bitsandbytes Adam8bit (blockwise): uint8 moments with an fp32 "
              "absmax per block of 256 for tensors of >= 4096 elements (min_8bit_size), fp32 "
              "moments below; the shared quantization maps (2 x 256 fp32)"),
)})

_STATE_BLOCK = 256
_MIN_8BIT = 4096


def _optimizer_state_bytes(opt: Optimizer, prec: Precision, shapes: list[tuple],
                           flat: bool) -> dict[str, Dim]:
    """State bytes by kind for parameter tensors of `shapes` (``flat``: one flattened
    partition, as ZeRO keeps)."""
    out: dict[str, list] = {}

    def add(kind: str, v: Dim) -> None:
        out.setdefault(kind, []).append(v)

    numels = [prod(s) for s in shapes]
    total = _sum(numels)
    if prec.master:
        add("fp32 master weights", as_count(prec.master * total))
    if opt.eight_bit:
        tensors = [total] if flat else numels
        any8 = False
        for n in tensors:
            if type(n) is int and n < _MIN_8BIT:
                add("moments (fp32, tensors under 4096 elements)", 8 * n)
            else:
                any8 = True
                add("moments (uint8)", as_count(2 * n))
                add("absmax (fp32 per 256-element block)",
                    as_count(8 * sp.ceiling(to_expr(n) / _STATE_BLOCK)))
        if any8:
            add("quantization maps (2 x 256 fp32)", 2048)
    elif opt.factored:
        if flat:
            raise LayerCalcError("adafactor factors each parameter matrix; with ZeRO (zero >= 1) "
                                 "the flattened partitions cannot be factored: use zero=0")
        for s, n in zip(shapes, numels):
            if len(s) >= 2:
                add("row and column variances",
                    as_count(prec.states * (exact_div(n, s[-1]) + exact_div(n, s[-2]))))
            else:
                add("variances (vectors)", as_count(prec.states * n))
    elif opt.moments:
        add(f"{opt.moments} moment{'s' if opt.moments > 1 else ''}",
            as_count(opt.moments * prec.states * total))
    if opt.step_tensor:
        add("step counters (fp32 scalar per tensor)", 4 * (1 if flat else len(shapes)))
    return {k: _sum(v) for k, v in out.items()}


# -- parallelism -----------------------------------------------------------------------------------
def _positive_int(owner: str, name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise LayerCalcError(f"{owner}: {name} (={v!r}) must be a positive integer")
    return v


@dataclass(frozen=True)
class Parallelism:
    """How one training step is spread over devices.

    ``dp``: data-parallel replicas (each runs the report's batch: the batch is per replica);
    ``tp``: Megatron tensor parallelism (column- then row-parallel linears, attention heads,
    vocabulary-parallel embeddings; Shoeybi et al. 2019); ``pp``: pipeline stages (1F1B:
    stage ``s`` keeps ``pp - s`` microbatches in flight; Narayanan et al. 2021);
    ``sp``: sequence parallelism with ``tp`` (Korthikanti et al. 2022); ``ep``: expert
    parallelism (no layer in the catalog is an expert layer yet: it changes nothing and is
    noted); ``zero``: ZeRO stage 0-3 over ``dp`` (Rajbhandari et al. 2020: 1 partitions the
    optimizer states, 2 also the gradients, 3 also the weights); ``microbatches``: per step
    (default ``pp``).

    >>> Parallelism(dp=64, zero=3).devices
    64
    >>> Parallelism(tp=0)
    Traceback (most recent call last):
    ...
    layercalc.errors.LayerCalcError: Parallelism: tp (=0) must be a positive integer
    """

    dp: int = 1
    tp: int = 1
    pp: int = 1
    sp: bool = False
    ep: int = 1
    zero: int = 0
    microbatches: int | None = None

    def __post_init__(self) -> None:
        for name in ("dp", "tp", "pp", "ep"):
            _positive_int("Parallelism", name, getattr(self, name))
        if self.zero not in (0, 1, 2, 3) or isinstance(self.zero, bool):
            raise LayerCalcError(f"Parallelism: zero (={self.zero!r}) must be 0, 1, 2 or 3")
        if not isinstance(self.sp, bool):
            raise LayerCalcError(f"Parallelism: sp (={self.sp!r}) must be True or False")
        if self.sp and self.tp == 1:
            raise LayerCalcError("Parallelism: sp=True needs tp > 1 (sequence parallelism "
                                 "shards the tensor-parallel group's replicated activations)")
        if self.microbatches is not None:
            _positive_int("Parallelism", "microbatches", self.microbatches)
        if self.ep > 1 and self.dp % self.ep:
            raise LayerCalcError(f"Parallelism: ep (={self.ep}) must divide dp (={self.dp})")

    @property
    def devices(self) -> int:
        return self.dp * self.tp * self.pp

    def __str__(self) -> str:
        parts = [f"dp={self.dp}", f"tp={self.tp}", f"pp={self.pp}"]
        if self.sp:
            parts.append("sp")
        if self.ep > 1:
            parts.append(f"ep={self.ep}")
        parts.append(f"zero={self.zero}")
        return ", ".join(parts)


# -- results ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingRow:
    """One report row in training: ``forward`` (training mode), ``dgrad``, ``wgrad``,
    ``accumulation`` (summing the gradients of its output's several uses, and of tied
    weights), ``recompute`` (its forward again, when recomputed), ``activations`` (bytes it
    saves for the backward pass, each shared storage counted at its first saver), ``tp``
    (``"column"``, ``"row"``, ``"sharded"``, ``"replicated"`` under tensor parallelism),
    ``stage`` (pipeline stage)."""

    path: str
    kind: str
    forward: Cost
    dgrad: Cost
    wgrad: Cost
    accumulation: Cost
    recompute: Cost
    activations: Dim
    recomputed: bool = False
    tp: str = "replicated"
    stage: int = 0
    saved: tuple[tuple[str, Dim], ...] = ()
    shards: int = 1
    needs: tuple = ()
    live: bool = True

    @property
    def backward(self) -> Cost:
        return Cost.sum((self.dgrad, self.wgrad, self.accumulation))


@dataclass(frozen=True)
class TrainingMemory(TableRenderers):
    """Bytes held by one device (the heaviest pipeline stage): ``weights`` (parameters and
    buffers in the weight dtype), ``gradients``, ``optimizer_states`` (fp32 master weights in
    mixed precision, moments, step counters), ``activations`` (saved for the backward pass,
    at the end of the forward); ``total`` their sum. ``detail`` breaks the optimizer states
    down; ``recompute_peak`` is the largest recomputed segment's saved tensors, live again
    during its backward (not in ``total``)."""

    weights: Dim
    gradients: Dim
    optimizer_states: Dim
    activations: Dim
    detail: Mapping[str, Dim] = field(default_factory=dict)
    recompute_peak: Dim = 0
    stage: int = 0

    @property
    def total(self) -> Dim:
        return as_count(self.weights + self.gradients + self.optimizer_states + self.activations)

    def table(self, *, title: str | None = None, full: bool = False) -> Table:
        """The four parts (exact bytes and rounded) and their total; the footer breaks the
        optimizer states down and gives the recomputed segment's peak."""
        numeric = type(self.total) is int  # formulas: the rounded column would repeat them
        cols = [Column("part", "Part"), Column("bytes", "Bytes", "exact")]
        if numeric:
            cols.append(Column("size", "Size", "bytes"))
        rows = [(k, v, v)[:len(cols)] for k, v in self._parts()]
        footer = []
        if self.detail:
            footer.append("Optimizer states: " + "; ".join(
                f"{k} {fmt.exact(v, full=full, width=_FOOTER_WIDTH)}"
                for k, v in self.detail.items()))
        if not (type(self.recompute_peak) is int and self.recompute_peak == 0):
            footer.append("Recomputed segment, live again in its backward: "
                          f"{fmt.exact(self.recompute_peak, full=full, width=_FOOTER_WIDTH)} "
                          f"bytes ({fmt.nbytes(self.recompute_peak, full=full)}; not in the "
                          "total)")
        return Table(cols, rows, ("Total", self.total, self.total)[:len(cols)],
                     title or (f"Memory per device (pipeline stage {self.stage})" if self.stage
                               else "Memory per device"),
                     ["Bytes one device holds at the end of the forward pass"], footer)

    def _parts(self) -> list[tuple[str, Dim]]:
        return [("weights", self.weights), ("gradients", self.gradients),
                ("optimizer states", self.optimizer_states), ("activations", self.activations)]

    def _record(self) -> dict:
        return {"weights": fmt.plain(self.weights), "gradients": fmt.plain(self.gradients),
                "optimizer_states": fmt.plain(self.optimizer_states),
                "activations": fmt.plain(self.activations), "total": fmt.plain(self.total),
                "detail": {k: fmt.plain(v) for k, v in self.detail.items()},
                "recompute_peak": fmt.plain(self.recompute_peak), "stage": self.stage}

    def __repr__(self) -> str:
        return fmt.brief("TrainingMemory", "", [
            f"{fmt.nbytes(self.total, width=60)} = " + " + ".join(
                f"{k} {fmt.nbytes(v, width=40)}" for k, v in self._parts())])

    def _repr_latex_(self) -> str | None:
        """The parts and the total as formulas when sizes are symbolic (None otherwise)."""
        return latex_formulas([(rf"\text{{{k}}}", v) for k, v in self._parts()]
                              + [(r"\text{total}", self.total)])


@dataclass(frozen=True)
class Communication(TableRenderers):
    """Bytes one device passes to collectives in one step: each entry is the size of the
    whole buffer a collective works on (an all-reduce of ``n`` bytes, an all-gather producing
    ``n`` bytes, a reduce-scatter consuming ``n`` bytes). ``by_cause`` lists ``(cause, kind,
    bytes)``. `ring_bytes` gives what a ring algorithm sends per device."""

    all_reduce: Dim = 0
    all_gather: Dim = 0
    reduce_scatter: Dim = 0
    p2p: Dim = 0
    by_cause: tuple[tuple[str, str, Dim, int], ...] = ()

    @property
    def total(self) -> Dim:
        return as_count(self.all_reduce + self.all_gather + self.reduce_scatter + self.p2p)

    def ring_bytes(self) -> Dim:
        """Bytes sent per device by ring algorithms over each collective's group of ``n``
        devices: ``2(n-1)/n`` of the buffer for an all-reduce, ``(n-1)/n`` for an all-gather
        or a reduce-scatter, the buffer for a point-to-point send."""
        return self._ring()

    def _ring(self, kind: str | None = None) -> Dim:
        total: Any = 0
        for _, k, b, n in self.by_cause:
            if kind is not None and k != kind:
                continue
            f = {"all_reduce": sp.Rational(2 * (n - 1), n), "all_gather": sp.Rational(n - 1, n),
                 "reduce_scatter": sp.Rational(n - 1, n), "p2p": 1}[k]
            total = total + f * b
        return as_count(total)

    def table(self, by_cause: bool = False, *, full: bool = False) -> Table:
        """Per collective kind: the bytes of the buffers it works on and what a ring sends
        per device (`ring_bytes`), and the total; ``by_cause=True``: one row per collective
        (its cause, kind, group size and buffer bytes)."""
        title = "Communication per device per step"
        header = ["Bytes of each collective's buffer (an all-reduce of n bytes, an all-gather "
                  "producing n bytes, a reduce-scatter consuming n bytes); ring: bytes a ring "
                  "algorithm sends per device"]
        if by_cause:
            cols = [Column("cause", "Cause"), Column("collective", "Collective"),
                    Column("devices", "Devices", "exact"), Column("bytes", "Bytes", "exact"),
                    Column("size", "Size", "bytes")]
            rows = [(c, k.replace("_", "-"), n, b, b) for c, k, b, n in self.by_cause]
            return Table(cols, rows, ("Total", "", "", self.total, self.total), title,
                         header[:1])
        numeric = type(self.total) is int  # formulas: the rounded column would repeat them
        cols = [Column("collective", "Collective"), Column("bytes", "Bytes", "exact"),
                *([Column("size", "Size", "bytes")] if numeric else []),
                Column("ring", "Ring, sent", "bytes")]

        def line(label: str, v: Dim, ring: Dim) -> tuple:
            return (label, v, v, ring) if numeric else (label, v, ring)

        rows = [line(k.replace("_", "-"), getattr(self, k), self._ring(k))
                for k in _COLLECTIVES if not (type(getattr(self, k)) is int
                                              and getattr(self, k) == 0)]
        return Table(cols, rows, line("Total", self.total, self.ring_bytes()), title, header)

    def _record(self) -> dict:
        return {**{k: fmt.plain(getattr(self, k)) for k in _COLLECTIVES},
                "total": fmt.plain(self.total), "ring_bytes": fmt.plain(self.ring_bytes()),
                "by_cause": [{"cause": c, "collective": k, "devices": n, "bytes": fmt.plain(b)}
                             for c, k, b, n in self.by_cause]}

    def __repr__(self) -> str:
        parts = [f"{k.replace('_', '-')} {fmt.nbytes(getattr(self, k), width=40)}"
                 for k in _COLLECTIVES if not (type(getattr(self, k)) is int
                                               and getattr(self, k) == 0)]
        return fmt.brief("Communication", "", parts or ["none"])

    def _repr_html_(self) -> str:
        """The collectives by kind, the one-per-cause table folded below."""
        main = self.table().to_html()
        if not self.by_cause:
            return main
        detail = self.table(by_cause=True)
        return (f"{main}\n<details><summary>By cause ({len(self.by_cause)} collectives)"
                f"</summary>\n{Table(detail.columns, detail.rows, detail.total).to_html()}"
                "\n</details>")


_COLLECTIVES = ("all_reduce", "all_gather", "reduce_scatter", "p2p")


@dataclass(frozen=True)
class StepTime(TableRenderers):
    """``seconds`` per step on ``hardware`` at ``dtype``: a roofline lower bound (``method
    = "roofline"``: each kernel at most at the peak and the memory bandwidth) or
    ``flops / (mfu * peak)`` given a model FLOPs utilization. ``flops`` and ``bytes`` are per
    device under `convention`. Communication and pipeline bubbles are not in it."""

    seconds: Any
    flops: Dim
    bytes: Dim
    hardware: str
    dtype: str
    convention: str
    method: str
    mfu: Any = None

    def table(self, *, full: bool = False) -> Table:
        """One row: the time, the FLOPs and bytes per device, the method (and the MFU)."""
        cols = [Column("seconds", "Time", "seconds"),
                Column("flops", f"FLOPs ({self.convention})", "count"),
                Column("bytes", "Bytes", "bytes"), Column("method", "Method")]
        row: list[Any] = [self.seconds, self.flops, self.bytes, self.method]
        if self.mfu is not None:
            cols.append(Column("mfu", "MFU", "percent"))
            row.append(float(self.mfu) if to_expr(self.mfu).is_number else None)
        what = ("a roofline lower bound: the sum over kernels of max(FLOPs/peak, "
                "bytes/bandwidth)" if self.method == "roofline" else
                f"FLOPs / (MFU x peak), MFU {_share(self.mfu)}")
        return Table(cols, [tuple(row)], None,
                     f"Step time on {self.hardware} ({self.dtype}), per device",
                     [_note(self.convention), f"Time: {what}"],
                     ["Communication and pipeline bubbles are not included."])

    def _record(self) -> dict:
        return {"hardware": self.hardware, "dtype": self.dtype, "convention": self.convention,
                "method": self.method, "seconds": fmt.plain(self.seconds),
                "flops": fmt.plain(self.flops), "bytes": fmt.plain(self.bytes),
                "mfu": fmt.plain(self.mfu)}

    def __repr__(self) -> str:
        how = "roofline lower bound" if self.method == "roofline" else self.method
        return fmt.brief("StepTime", f"{self.hardware} {self.dtype}", [
            f"{fmt.seconds(self.seconds, width=60)} ({how})",
            f"{fmt.count(self.flops, width=60)} FLOPs/device ({self.convention})",
            fmt.nbytes(self.bytes, width=60) + "/device"])

    def _repr_latex_(self) -> str | None:
        """The time, FLOPs and bytes as formulas when sizes are symbolic (None otherwise)."""
        return latex_formulas([("t", self.seconds), (r"\text{FLOPs}", self.flops),
                               (r"\text{bytes}", self.bytes)])


def _share(x: Any) -> str:
    """A fraction as a percentage, a formula as it is."""
    return fmt.percent(x) if not fmt.is_symbolic(to_expr(x)) else fmt.expr(to_expr(x))


def _note(convention: str) -> str:
    """`convention_note` of a convention given by name (a custom one is named as such)."""
    try:
        return convention_note(convention)
    except UnknownNameError:
        return f"FLOPs: the custom convention '{convention}'"


# -- the dataflow ----------------------------------------------------------------------------------
class _Flow:
    """Tensors of one forward pass (from ``Row.sources``): who produces and uses each, which
    need a gradient, which share storage."""

    def __init__(self, report: Report, rules: list[BackwardRule | None]) -> None:
        rows = report.rows
        self.rows = rows
        self.batch = report.batch
        n = len(rows)
        self.uses: list[list[Any]] = []
        consumers: dict[Any, int] = {}
        for i, r in enumerate(rows):
            srcs = [s if s is not None else self._outside(r, k, report) for k, s in
                    enumerate(r.sources)]
            self.uses.append(srcs)
            for s in srcs:
                consumers[s] = consumers.get(s, 0) + 1
        # attention: the value's producer is not a source; RoPE replaces q and k
        for i, r in enumerate(rows):
            if type(r.layer).__name__ == "ScaledDotProductAttention" and len(self.uses[i]) == 2:
                q, k = self.uses[i]
                self.uses[i] = [q, k, self._value(i, k, consumers)]
        for i, r in enumerate(rows):
            kind = type(r.layer).__name__
            if kind == "RotaryEmbedding" and len(self.uses[i]) == 2:
                a, b = self.uses[i]
                for j in range(i + 1, n):
                    u = self.uses[j]
                    if type(rows[j].layer).__name__ == "ScaledDotProductAttention" and \
                            u[:2] == [a, b]:
                        self.uses[j] = [(i, 0), (i, 1), *u[2:]]
                        break
        self._elements: dict[Any, Dim] = {}
        self.shape: dict[Any, tuple] = {("input",): tuple(report.input_shape)}
        for i, r in enumerate(rows):
            self.shape[i] = tuple(r.output_shape)
            if type(r.layer).__name__ == "RotaryEmbedding":
                ins = r.input_shape if len(r.sources) > 1 else (r.input_shape,)
                for k, s in enumerate(ins):
                    self.shape[(i, k)] = tuple(s)
        # gradients: which tensors need one, and which rows reach the output
        self.needs: dict[Any, bool] = {}
        self.own: list[Dim] = []
        pcache: dict = {}
        for i, r in enumerate(rows):
            rule = rules[i]
            key = (id(r.layer), r.input_shape, r.output_shape)
            p = pcache.get(key)
            if p is None:
                p = pcache[key] = _own_params(r, rule, report.batch)
            self.own.append(p)
            need = not (type(p) is int and p == 0) or (
                type(r.layer).__name__ != "Embedding"
                and any(self.needs.get(s, False) for s in self.uses[i]))
            self.needs[i] = need
            if type(r.layer).__name__ == "RotaryEmbedding":
                for k, s in enumerate(self.uses[i]):
                    self.needs[(i, k)] = self.needs.get(s, False)
        live = {n - 1} if n else set()
        for i in range(n - 1, -1, -1):
            if i in live:
                for s in self.uses[i]:
                    src = s[0] if isinstance(s, tuple) and len(s) == 2 else s
                    if isinstance(src, int):
                        live.add(src)
        self.live = live

    @staticmethod
    def _outside(row: Row, k: int, report: Report) -> Any:
        shape = row.input_shape if len(row.sources) > 1 else (row.input_shape,)
        if tuple(shape[k]) == tuple(report.input_shape):
            return ("input",)
        return ("external", row.path, k)

    def _value(self, i: int, k: Any, consumers: dict) -> Any:
        """The value's producer of attention row `i` whose key comes from `k`: the same row
        when q, k, v are slices of one projection; else the first row after ``k`` with the
        key's input and shape that nothing else uses (Llama's ``v_proj``)."""
        if not isinstance(k, int):
            return k
        kr = self.rows[k]
        for j in range(k + 1, i):
            r = self.rows[j]
            if r.sources == kr.sources and r.output_shape == kr.output_shape and \
                    consumers.get(j, 0) == 0:
                return j
        return k

    def elements(self, tid: Any) -> Dim:
        v = self._elements.get(tid)
        if v is None:
            v = self._elements[tid] = as_count(self.batch * prod(self.shape.get(tid, ())))
        return v


def _own_params(row: Row, rule: BackwardRule | None, batch: Dim) -> Dim:
    """Parameter elements the row's layer owns (Tied reuses included), from the rule's shapes
    or the row's count."""
    if rule is not None:
        shapes = _rule_params(rule, row, batch)
        if shapes:
            return _sum([prod(s) for s in shapes])
    return row.cost.params


def _inputs_of(row: Row) -> tuple:
    return tuple(row.input_shape) if len(row.sources) > 1 else (tuple(row.input_shape),)


def _rule_params(rule: BackwardRule, row: Row, batch: Dim) -> tuple:
    return tuple(rule.params(Ctx(row.layer, _inputs_of(row), tuple(row.output_shape), batch)))


# -- segments for recomputation --------------------------------------------------------------------
def _block_key(path: str) -> str | None:
    """The block a row belongs to: its path up to the first numbered segment
    (``transformer.h.3``, ``layer2.1``, ``encoder.layers.encoder_layer_0``), or None."""
    parts = path.split(".")
    for i, p in enumerate(parts):
        tail = p.rsplit("_", 1)[-1]
        if p.isdigit() or (tail.isdigit() and "_" in p):
            return ".".join(parts[:i + 1])
    return None


def _segments(report: Report, recompute: Any) -> list[list[int]]:
    rows = report.rows
    if recompute is None:
        return []
    if recompute == "full":
        order: dict[str, list[int]] = {}
        for i, r in enumerate(rows):
            key = _block_key(r.path)
            if key is not None:
                order.setdefault(key, []).append(i)
        return [v for v in order.values()]
    if recompute == "selective":
        return [[i] for i, r in enumerate(rows)
                if type(r.layer).__name__ in ("ScaledDotProductAttention", "MultiheadAttention")]
    if isinstance(recompute, str):
        raise UnknownNameError("recompute", recompute, ("selective", "full"))
    paths = list(recompute)
    segs = []
    for p in paths:
        if not isinstance(p, str):
            raise LayerCalcError(f"training: recompute paths must be strings, got {p!r}")
        seg = [i for i, r in enumerate(rows) if r.path == p or r.path.startswith(p + ".")]
        if not seg:
            known = dict.fromkeys(q for r in rows for q in _prefixes(r.path))
            raise UnknownNameError("layer path (recompute)", p, known)
        segs.append(seg)
    return segs


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


# -- the main entry point --------------------------------------------------------------------------
_DTYPE_BYTES = {"fp32": 4, "int64": 8, "bool": 1}
_EMPTY = Cost()


def training(report: Report, *, optimizer: str = "adamw", precision: str = "fp32",
             recompute: Any = None, activations: str = "pytorch",
             parallel: Parallelism | None = None) -> TrainingReport:
    """One training step of the batch of `report` (see the module docstring).

    ``optimizer``: one of `OPTIMIZERS` (``sgd``, ``sgd-momentum``, ``adam``, ``adamw``,
    ``adafactor``, ``adam-8bit``). ``precision``: one of `PRECISIONS` (``fp32``,
    ``bf16-mixed``, ``fp16-mixed``, ``bf16``). ``recompute``: None, ``"selective"``,
    ``"full"`` or an iterable of row paths (each a segment recomputed from its inputs).
    ``activations``: ``"pytorch"``, ``"pytorch-cpu"`` or ``"korthikanti"``. ``parallel``: a
    `Parallelism`.

    A small convolutional net, one step of 8 images with AdamW in fp32:

    >>> import layercalc as lc
    >>> net = lc.Sequential(lc.Conv2d(3, 8, 3, padding=1), lc.BatchNorm2d(8), lc.ReLU(),
    ...                     lc.Flatten(), lc.Linear(8 * 4 * 4, 10))
    >>> t = lc.training(lc.analyze(net, (3, 4, 4), batch=8))
    >>> t.flops("2*macs") == 3 * t.forward.macs * 2 - 2 * 3 * 8 * 8 * 9 * 16  # no dgrad on data
    True
    >>> m = t.memory
    >>> m.weights, m.gradients, m.optimizer_states  # 1530 params, 16 buffers; 2 moments, 6 steps
    (6184, 6120, 12264)
    """
    if not isinstance(report, Report):
        raise TypeError(f"training() takes a Report (from layercalc.analyze), not "
                        f"{type(report).__name__}")
    opt = lookup(OPTIMIZERS, "optimizer", optimizer)
    prec = lookup(PRECISIONS, "precision", precision)
    if activations not in ACTIVATION_MODES:
        raise UnknownNameError("activations mode", activations, ACTIVATION_MODES)
    par = parallel if parallel is not None else Parallelism()
    if not isinstance(par, Parallelism):
        raise TypeError(f"parallel must be a layercalc.Parallelism, not {type(par).__name__}")
    return _Builder(report, opt, prec, recompute, activations, par).build()


class _Builder:
    def __init__(self, report: Report, opt: Optimizer, prec: Precision, recompute: Any,
                 mode: str, par: Parallelism) -> None:
        self.report, self.opt, self.prec, self.mode, self.par = report, opt, prec, mode, par
        self.recompute = recompute
        self.rows = report.rows
        self.rules = [backward_rule(r.layer) for r in self.rows]
        self.flow = _Flow(report, self.rules)
        self.notes: list[str] = []
        self.not_counted: dict[str, list[str]] = {}
        self.cache: dict = {}
        self.ctxs: dict = {}
        flow = self.flow
        self.needs_of = [tuple(flow.needs.get(u, False) for u in us) for us in flow.uses]
        # rows with the same layer object, shapes and gradient needs share every rule result
        # (the fwd result also depends on the row's own cost: equal for equal signatures)
        self.sigs = [(_layer_key(r.layer), r.input_shape, r.output_shape, self.needs_of[i],
                      r.cost.params == 0)
                     for i, r in enumerate(self.rows)]

    # -- per-row rule calls (cached: blocks repeat the same layer objects) -------------------------
    def ctx(self, i: int) -> Ctx:
        r = self.rows[i]
        return Ctx(r.layer, _inputs_of(r), tuple(r.output_shape), self.report.batch,
                   self.needs_of[i], self.mode, r.cost)

    def call(self, i: int, what: str) -> Any:
        sig = self.sigs[i]
        key = (what, sig)
        try:
            return self.cache[key]
        except KeyError:
            pass
        r, rule = self.rows[i], self.rules[i]
        c = self.ctxs.get(sig)
        if c is None:
            c = self.ctxs[sig] = self.ctx(i)
        if what == "grads":
            v = rule.grads(c)
        elif what == "fwd":
            v = rule.train_forward(c) if rule.train_forward is not None else r.cost
        elif what == "saved":
            if self.mode == "korthikanti" and rule.korthikanti is not None:
                v = tuple(rule.korthikanti(c))
            else:
                v = tuple(rule.saved(c))
        elif what == "view":
            v = rule.is_view(c)
        elif what == "params":
            v = tuple(rule.params(c))
        else:  # pragma: no cover
            raise AssertionError(what)
        self.cache[key] = v
        return v

    # -- build ------------------------------------------------------------------------------------
    def build(self) -> TrainingReport:
        rows, flow = self.rows, self.flow
        n = len(rows)
        fwd: list[Cost] = []
        grads: list[Grads] = []
        no_grads = Grads(_EMPTY, _EMPTY)
        for i, r in enumerate(rows):
            rule = self.rules[i]
            if rule is None:
                self.not_counted.setdefault(r.kind, []).append(r.path)
                fwd.append(r.cost)
                grads.append(no_grads)
                continue
            fwd.append(self.call(i, "fwd"))
            if i not in flow.live:
                grads.append(no_grads)
                continue
            g = self.call(i, "grads")
            if isinstance(g, NotCounted):
                self.not_counted.setdefault(g.reason, []).append(r.path)
                g = no_grads
            grads.append(g)
        if self.mode == "korthikanti":
            off = sorted({r.kind for i, r in enumerate(rows)
                          if self.rules[i] is not None and self.rules[i].korthikanti is None})
            if off:
                self.notes.append("not in Korthikanti et al.'s accounting, counted as "
                                  "'pytorch': " + ", ".join(off))
        accum = self._accumulation()
        # storages and saved tensors
        storage = self._storages()
        segments = _segments(self.report, self.recompute)
        seg_of = {i: k for k, seg in enumerate(segments) for i in seg}
        self.segments = segments
        tp_role, sharded = self._tensor_parallel(storage)
        stage = self._stages(segments)
        saved_rows, sizes, seg_inputs = self._saved(storage, seg_of, segments, sharded, tp_role)
        # recompute
        recomputed = [i in seg_of for i in range(n)]
        rec = [fwd[i] if recomputed[i] else _EMPTY for i in range(n)]
        # rows
        out_rows = []
        t = self.par.tp
        for i, r in enumerate(rows):
            act = _sum([b for _, b in saved_rows[i]])
            rule = self.rules[i]
            shards = 1
            if t > 1 and tp_role[i] in ("column", "row", "sharded", "attention", "vocab"):
                shards = t
            elif self.par.sp and rule is not None and rule.tp in ("pointwise", "norm"):
                shards = t  # sequence parallelism splits the replicated region's work
            needs = self.needs_of[i]
            out_rows.append(TrainingRow(
                r.path, r.kind, fwd[i], grads[i].dgrad, grads[i].wgrad, accum[i], rec[i], act,
                recomputed[i], tp_role[i], stage[i], tuple(saved_rows[i]), shards, needs,
                i in flow.live))
        mem, opt_cost = self._memory(out_rows, sizes, seg_inputs, segments, tp_role, stage)
        comm = self._communication(tp_role, stage, mem.stage)
        notes = list(dict.fromkeys(self.notes + self._standing_notes()))
        return TrainingReport(
            report=self.report, rows=tuple(out_rows), optimizer_name=self.opt.name,
            precision_name=self.prec.name, recompute_mode=self.recompute,
            activations_mode=self.mode, parallel=self.par,
            not_counted=MappingProxyType({k: tuple(v) for k, v in self.not_counted.items()}),
            notes=tuple(notes), memory=mem, optimizer=opt_cost, communication=comm)

    def _standing_notes(self) -> list[str]:
        out = ["the loss is not part of the model: its forward, backward and saved tensors "
               "are not counted; the output gradient is given"]
        if self.par.ep > 1:
            out.append(f"ep={self.par.ep}: no layer is an expert layer; expert parallelism "
                       "changes nothing here")
        if self.prec.name == "fp16-mixed":
            out.append("fp16-mixed: the loss scaler's scale and growth tracker (8 bytes) are "
                       "not counted")
        dead = [r.path for i, r in enumerate(self.rows) if i not in self.flow.live
                and self.rules[i] is not None]
        if dead:
            out.append("rows whose output does not reach the model's output get no backward: "
                       + ", ".join(dead[:5]) + (" ..." if len(dead) > 5 else ""))
        return out

    # -- gradient accumulation --------------------------------------------------------------------
    def _accumulation(self) -> list[Cost]:
        """Autograd sums the gradients of every use of a tensor: ``(uses - 1)*elements`` adds
        at its producer; a tied weight reused by a later row adds its gradient once more."""
        flow, rows = self.flow, self.rows
        uses: dict[Any, int] = {}
        for j in range(len(rows)):
            if j not in flow.live:
                continue
            rule = self.rules[j]
            seen = set()
            for s in flow.uses[j]:
                if not flow.needs.get(s, False):
                    continue
                if rule is not None and rule.merge_inputs and s in seen:
                    continue
                if type(rows[j].layer).__name__ == "Embedding":
                    continue
                seen.add(s)
                uses[s] = uses.get(s, 0) + 1
        adds: dict[int, list] = {}
        for tid, k in uses.items():
            if k > 1:
                owner = tid if isinstance(tid, int) else (tid[0] if isinstance(tid, tuple)
                                                          and isinstance(tid[0], int) else None)
                if owner is not None:
                    adds.setdefault(owner, []).append(as_count((k - 1) * flow.elements(tid)))
        for i, r in enumerate(rows):
            rule = self.rules[i]
            if rule is None or i not in flow.live:
                continue
            own = flow.own[i]
            if (type(r.cost.params) is int and r.cost.params == 0) and \
                    not (type(own) is int and own == 0):
                adds.setdefault(i, []).append(own)  # a tied weight's second gradient
        out = [_EMPTY] * len(rows)
        for i, v in adds.items():
            out[i] = Cost(ops={"add": _sum(v)})
        return out

    # -- storages ----------------------------------------------------------------------------------
    def _storages(self) -> dict[Any, Any]:
        """Storage of each tensor: a view shares its input's."""
        storage: dict[Any, Any] = {("input",): ("input",)}
        for i, r in enumerate(self.rows):
            rule = self.rules[i]
            view = rule is not None and len(self.flow.uses[i]) == 1 and self.call(i, "view")
            if view:
                src = self.flow.uses[i][0]
                storage[i] = storage.get(src, src)
            else:
                storage[i] = i
            if type(r.layer).__name__ == "RotaryEmbedding":
                for k in range(len(self.flow.uses[i])):
                    storage[(i, k)] = (i, k)
        for i in range(len(self.rows)):
            for s in self.flow.uses[i]:
                storage.setdefault(s, s)
        return storage

    def _bytes(self, dtype: str) -> int:
        if dtype == "act":
            return self.prec.activations
        if dtype == "mask":
            return 1 if self.mode != "pytorch-cpu" else self.prec.activations
        return _DTYPE_BYTES[dtype]

    def _saved(self, storage: dict, seg_of: dict, segments: list, sharded: dict,
               tp_role: list) -> tuple:
        """Bytes saved per row (each storage at its first saver), storage sizes, and each
        segment's stored inputs."""
        flow, rows = self.flow, self.rows
        t = self.par.tp
        sizes: dict[Any, Dim] = {}
        per_row_keys: list[list[tuple[Any, str]]] = []
        seg_internal: dict[int, set] = {}
        live, rules, sp_on = flow.live, self.rules, self.par.sp
        resolve, call = self._resolve, self.call
        for i in range(len(rows)):
            keys: list[tuple[Any, str]] = []
            per_row_keys.append(keys)
            if rules[i] is None or i not in live:
                continue
            for k, s in enumerate(call(i, "saved")):
                key, size, shard = resolve(i, k, s, storage, sharded)
                if key not in sizes:
                    if t > 1 and (shard or (sp_on and key != ("input",))):
                        size = exact_div(size, t)
                    sizes[key] = size
                keys.append((key, s.what or s.ref))
        # a recomputed segment keeps only its inputs; its own saved tensors come back in the
        # backward
        seg_inputs: list[set] = []
        for k, seg in enumerate(segments):
            inside = set(seg)
            ins = set()
            for i in seg:
                for s in flow.uses[i]:
                    src = s[0] if isinstance(s, tuple) and len(s) == 2 and isinstance(s[0], int) \
                        else s
                    if not (isinstance(src, int) and src in inside):
                        st = storage.get(s, s)
                        ins.add(st)
                        if st not in sizes:
                            sizes[st] = self._storage_size(st, sharded)
            seg_inputs.append(ins)
            seg_internal[k] = {key for i in seg for key, _ in per_row_keys[i]}
        stored_outside = {key for i, keys in enumerate(per_row_keys) if i not in seg_of
                          for key, _ in keys}
        kept = set(stored_outside)
        for ins in seg_inputs:
            kept |= ins
        saved_rows: list[list[tuple[str, Dim]]] = [[] for _ in rows]
        first: dict[Any, int] = {}
        for i, keys in enumerate(per_row_keys):
            for key, what in keys:
                if key in kept and key not in first:
                    first[key] = i
                    saved_rows[i].append((what, sizes[key]))
        for k, seg in enumerate(segments):
            for key in sorted(seg_inputs[k], key=str):
                if key not in first:
                    first[key] = seg[0]
                    saved_rows[seg[0]].append(("checkpointed input", sizes[key]))
        self.seg_internal = seg_internal
        return saved_rows, sizes, seg_inputs

    def _storage_size(self, st: Any, sharded: dict) -> Dim:
        flow = self.flow
        if st == ("input",):
            return as_count(flow.elements(("input",)) * self.prec.activations)
        size = as_count(flow.elements(st) * self.prec.activations)
        t = self.par.tp
        if sharded.get(st, False) or self.par.sp:
            size = exact_div(size, t)
        return size

    def _resolve(self, i: int, k: int, s: Saved, storage: dict, sharded: dict) -> tuple:
        flow = self.flow
        ref = s.ref
        if ref == "input" or ref == "output":
            if ref == "input":
                uses = flow.uses[i]
                tid = uses[s.index] if s.index < len(uses) else uses[-1]
                st = storage.get(tid, tid)
            else:
                st = storage[i]
            n = flow.elements(st) * self._bytes(s.dtype)
            return st, (n if type(n) is int else as_count(n)), sharded.get(st, False)
        key = ("global", s.key) if s.key else ("new", i, k)
        shard = sharded.get(i, False) if s.what != "transposed input copy" else False
        if type(self.rows[i].layer).__name__ == "MultiheadAttention":
            shard = s.what not in ("transposed input copy", "query copy", "key copy")
        return key, as_count(s.elements * self._bytes(s.dtype)), shard

    # -- tensor parallelism ------------------------------------------------------------------------
    def _tensor_parallel(self, storage: dict) -> tuple[list[str], dict]:
        """Megatron's plan from the dataflow: a Linear on a replicated input is column-parallel
        (its output sharded), on a sharded input row-parallel (its output all-reduced);
        attention splits by heads; pointwise layers follow their input; everything else is
        replicated."""
        t = self.par.tp
        roles: list[str] = []
        sharded: dict[Any, bool] = {}
        for i, r in enumerate(self.rows):
            rule = self.rules[i]
            tp = rule.tp if rule is not None else "replicated"
            ins = [sharded.get(s, False) for s in self.flow.uses[i]]
            if t == 1:
                role, out = "replicated", False
            elif tp == "linear":
                role, out = ("row", False) if any(ins) else ("column", True)
            elif tp == "mha":
                role, out = "attention", False
            elif tp == "heads":
                role, out = ("sharded", True) if any(ins) else ("replicated", False)
            elif tp == "pointwise":
                role, out = ("sharded", True) if any(ins) else ("replicated", False)
            elif tp == "vocab":
                role, out = "vocab", False
            else:
                role, out = "replicated", False
                if any(ins):
                    self.notes.append(f"{r.path} ({r.kind}): a tensor-parallel shard feeds a "
                                      "replicated layer (an all-gather is needed; not counted)")
            roles.append(role)
            sharded[i] = out
            if type(r.layer).__name__ == "RotaryEmbedding":
                for k, s in enumerate(self.flow.uses[i]):
                    sharded[(i, k)] = sharded.get(s, False)
        if t > 1:
            for i, r in enumerate(self.rows):
                lay = r.layer
                heads = getattr(lay, "num_heads", None)
                if roles[i] in ("sharded", "attention") and heads is not None and \
                        type(heads) is int and heads % t:
                    raise LayerCalcError(f"{r.path} ({r.kind}): num_heads (={heads}) must be "
                                         f"divisible by tp (={t})")
        # storage-level: a view of a sharded tensor is sharded
        st_sharded = {storage.get(k, k): v for k, v in sharded.items()}
        sharded.update(st_sharded)
        return roles, sharded

    # -- pipeline stages ---------------------------------------------------------------------------
    def _stages(self, segments: list) -> list[int]:
        pp = self.par.pp
        n = len(self.rows)
        if pp == 1:
            return [0] * n
        blocks: list[str] = []
        for r in self.rows:
            key = _block_key(r.path)
            if key is not None and key not in blocks:
                blocks.append(key)
        if len(blocks) < pp:
            raise LayerCalcError(f"Parallelism: pp (={pp}) exceeds the {len(blocks)} blocks of "
                                 "the model (pipeline stages split whole blocks)")
        per, extra = divmod(len(blocks), pp)
        stage_of: dict[str, int] = {}
        k = 0
        for s in range(pp):
            for _ in range(per + (1 if s < extra else 0)):
                stage_of[blocks[k]] = s
                k += 1
        out, cur = [], 0
        seen_block = False
        for r in self.rows:
            key = _block_key(r.path)
            if key is not None:
                cur = stage_of[key]
                seen_block = True
            elif seen_block:
                cur = pp - 1  # rows after the last block (final norm, head) go last
            out.append(cur)
        if per * pp != len(blocks):
            self.notes.append(f"pp={pp}: {len(blocks)} blocks split {per + 1}/{per} per stage")
        return out

    # -- memory ------------------------------------------------------------------------------------
    def _param_shards(self, tp_role: list, stage: list) -> tuple:
        """Per stage: (params, buffers, [shard shapes]) on one device under tensor
        parallelism."""
        t = self.par.tp
        pp = self.par.pp
        params = [[] for _ in range(pp)]
        buffers = [[] for _ in range(pp)]
        shapes: list[list[tuple]] = [[] for _ in range(pp)]
        cache: dict = {}
        for i, r in enumerate(self.rows):
            s = stage[i]
            if not (type(r.cost.buffers) is int and r.cost.buffers == 0):
                buffers[s].append(r.cost.buffers)
            if type(r.cost.params) is int and r.cost.params == 0:
                continue  # no parameters, or a tied weight counted at its first use
            key = (self.sigs[i], tp_role[i])
            if key in cache:
                out, n = cache[key]
                shapes[s].extend(out)
                params[s].append(n)
                continue
            rule = self.rules[i]
            shp = self.call(i, "params") if rule is not None else ()
            if not shp:
                shp = ((r.cost.params,),)
                if rule is None:
                    self.notes.append(f"{r.kind}: parameter tensor shapes unknown; counted as "
                                      "one tensor")
            role = tp_role[i]
            out = []
            for k, sh in enumerate(shp):
                if t > 1 and role in ("column", "vocab"):
                    sh = (exact_div(sh[0], t), *sh[1:])
                elif t > 1 and role == "row" and len(sh) >= 2:
                    sh = (sh[0], exact_div(sh[1], t), *sh[2:])
                elif t > 1 and role == "attention":
                    last_bias = k == len(shp) - 1 and len(sh) == 1 and r.layer.bias
                    if not last_bias and sh[0] != 1:  # bias_k/bias_v (1, 1, E): replicated
                        sh = ((exact_div(sh[0], t), *sh[1:]) if k == 0 or len(sh) == 1
                              else (sh[0], exact_div(sh[1], t), *sh[2:]))
                out.append(tuple(sh))
            n = _sum([prod(x) for x in out])
            cache[key] = (out, n)
            shapes[s].extend(out)
            params[s].append(n)
        return params, buffers, shapes

    def _memory(self, rows: list, sizes: dict, seg_inputs: list, segments: list,
                tp_role: list, stage: list) -> tuple:
        par, prec, opt = self.par, self.prec, self.opt
        pp, dp = par.pp, par.dp
        params, buffers, shapes = self._param_shards(tp_role, stage)
        self.stage_params = [_sum(ps) for ps in params]
        m = par.microbatches or pp
        best = None
        for s in range(pp):
            p = self.stage_params[s]
            bufs = _sum(buffers[s])
            w = as_count(p * prec.weights + bufs * prec.weights)
            g = as_count(p * prec.gradients)
            flat = par.zero >= 1
            detail = _optimizer_state_bytes(opt, prec, [(p,)] if flat else shapes[s], flat)
            if par.zero >= 3:
                w = as_count(exact_div(p * prec.weights, dp) + bufs * prec.weights)
            if par.zero >= 2:
                g = exact_div(g, dp)
            if par.zero >= 1:  # partitioned over dp; each rank keeps its step and the maps
                detail = {k: (v if k.startswith("step") or k.startswith("quantization")
                              else exact_div(v, dp)) for k, v in detail.items()}
            o = _sum(detail.values())
            acts = [r.activations for r in rows if r.stage == s]
            act = _sum(acts)
            if pp > 1:  # 1F1B: stage s keeps min(pp - s, m) of the m microbatches in flight
                act = as_count(act * min(pp - s, m) / sp.Integer(m))
            peak: Dim = 0
            for k, seg in enumerate(segments):
                if seg and stage[seg[0]] == s:
                    internal = [sizes[key] for key in self.seg_internal[k]
                                if key not in seg_inputs[k]]
                    if internal:
                        peak = smax(peak, _sum(internal))
            mem = TrainingMemory(w, g, o, act, MappingProxyType(detail), peak, s)
            if best is None or _greater(mem.total, best.total):
                best = mem
        return best, self._optimizer_cost()

    def _optimizer_cost(self) -> Cost:
        """The optimizer step of the whole replica: the update's ops per parameter element
        (per-tensor scalars such as bias corrections are not counted); traffic: parameters,
        gradients and states read, parameters and states written."""
        total = _sum(r.cost.params for r in self.rows)
        ops = {k: as_count(v * total) for k, v in self.opt.ops.items()}
        moments = self.opt.moments
        return Cost(ops=ops, act_reads=as_count(total * (2 + moments)),
                    writes=as_count(total * (1 + moments)),
                    notes=(f"optimizer {self.opt.name}: per-element update; per-tensor "
                           "scalars (bias corrections, step) not counted",))

    # -- communication -----------------------------------------------------------------------------
    def _communication(self, tp_role: list, stage: list, heavy: int) -> Communication:
        par, prec = self.par, self.prec
        t, dp, pp = par.tp, par.dp, par.pp
        causes: list[tuple[str, str, Dim, int]] = []
        ab = prec.activations
        flow = self.flow
        rec_rows = {i for seg in self.segments for i in seg}
        if t > 1:
            col_inputs: dict[Any, list[int]] = {}
            for i, role in enumerate(tp_role):
                if stage[i] != heavy:
                    continue
                r = self.rows[i]
                size = as_count(flow.elements(i) * ab)
                times = 2 if i in rec_rows else 1
                if role in ("row", "attention", "vocab"):
                    kind = "reduce_scatter" if par.sp else "all_reduce"
                    causes.append((f"tp forward: {r.path} output", kind, as_count(size * times), t))
                    if par.sp and role != "vocab":
                        causes.append((f"tp backward: {r.path} output gradient", "all_gather",
                                       size, t))
                if role in ("column", "attention"):
                    src = flow.uses[i][0]
                    col_inputs.setdefault(src, []).append(i)
            for src, users in col_inputs.items():
                size = as_count(flow.elements(src) * ab)
                first = self.rows[users[0]].path
                if par.sp:
                    times = 2 if users[0] in rec_rows else 1
                    causes.append((f"tp forward: all-gather of {first} input", "all_gather",
                                   as_count(size * times), t))
                if flow.needs.get(src, False):
                    kind = "reduce_scatter" if par.sp else "all_reduce"
                    causes.append((f"tp backward: {first} input gradient", kind, size, t))
        if dp > 1:
            p = self.stage_params[heavy]
            g = as_count(p * prec.gradients)
            w = as_count(p * prec.weights)
            if par.zero == 0:
                causes.append(("dp: gradients", "all_reduce", g, dp))
            else:
                causes.append(("dp: gradients (ZeRO)", "reduce_scatter", g, dp))
                if par.zero in (1, 2):
                    causes.append(("dp: updated weights (ZeRO)", "all_gather", w, dp))
                else:
                    causes.append(("dp: weights, forward (ZeRO-3)", "all_gather", w, dp))
                    causes.append(("dp: weights, backward (ZeRO-3)", "all_gather", w, dp))
        if pp > 1:
            last = max(i for i, s in enumerate(stage) if s == heavy)
            size = as_count(flow.elements(last) * ab)
            if heavy < pp - 1:
                causes.append(("pp: activations to the next stage", "p2p", size, 2))
                causes.append(("pp: gradients from the next stage", "p2p", size, 2))
        totals = {k: [] for k in ("all_reduce", "all_gather", "reduce_scatter", "p2p")}
        for _, kind, b, _ in causes:
            totals[kind].append(b)
        vals = {k: (_sum(v)) for k, v in totals.items()}
        return Communication(vals["all_reduce"], vals["all_gather"], vals["reduce_scatter"],
                             vals["p2p"], tuple(causes))


def _layer_key(layer: Any) -> Any:
    """Equal layers (frozen dataclasses) share rule results: the residual adds a network
    creates per block are equal, not the same object."""
    try:
        hash(layer)
        return layer
    except TypeError:
        return id(layer)


def _greater(a: Dim, b: Dim) -> bool:
    if type(a) is int and type(b) is int:
        return a > b
    return truth(to_expr(a) > b) is True


# -- the report ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingReport(TableRenderers):
    """The result of `training`: per-row training costs and the step's totals.

    ``forward``, ``backward`` (dgrad + wgrad + gradient accumulation), ``recompute`` and
    ``optimizer`` are `Cost`s for the whole step of one model replica; ``flops(convention)``
    is forward + backward + recompute (the optimizer apart); ``memory`` (`TrainingMemory`) and
    ``communication`` (`Communication`) are per device. ``not_counted`` lists the layer kinds
    (or configurations) whose backward has no rule, with their paths: they count 0 and say so.
    """

    report: Report
    rows: tuple[TrainingRow, ...]
    optimizer_name: str
    precision_name: str
    recompute_mode: Any
    activations_mode: str
    parallel: Parallelism
    not_counted: Mapping[str, tuple[str, ...]]
    notes: tuple[str, ...]
    memory: TrainingMemory | None = None
    optimizer: Cost | None = None
    communication: Communication | None = None

    # -- totals ------------------------------------------------------------------------------------
    @property
    def forward(self) -> Cost:
        return Cost.sum(r.forward for r in self.rows)

    @property
    def dgrad(self) -> Cost:
        return Cost.sum(r.dgrad for r in self.rows)

    @property
    def wgrad(self) -> Cost:
        return Cost.sum(r.wgrad for r in self.rows)

    @property
    def backward(self) -> Cost:
        return Cost.sum([r.dgrad for r in self.rows] + [r.wgrad for r in self.rows]
                        + [r.accumulation for r in self.rows])

    @property
    def recompute(self) -> Cost:
        return Cost.sum(r.recompute for r in self.rows)

    @property
    def precision(self) -> Precision:
        return PRECISIONS[self.precision_name]

    # -- FLOPs ------------------------------------------------------------------------------------
    def flops(self, convention: str | Convention | ToolConvention = DEFAULT_CONVENTION, *,
              per_device: bool = False) -> Dim:
        """Forward + backward + recomputed forward under `convention` (a definition such as
        ``"exact"``, the default, ``"2*macs"``, ``"macs"``, or ``"flopcountermode"``), for the
        step of one replica, or ``per_device`` (the busiest pipeline stage, its
        tensor-parallel shard)."""
        if not self.rows:
            return 0
        return _total(self.row_flops(convention, per_device=per_device))

    def row_flops(self, convention: str | Convention | ToolConvention = DEFAULT_CONVENTION, *,
                  per_device: bool = False) -> dict[str, Dim]:
        """``{"forward", "dgrad", "wgrad", "accumulation", "recompute"}`` FLOPs."""
        conv = get_convention(convention)
        rows = self._device_rows() if per_device else [(r, 1) for r in self.rows]
        values = self._row_values(conv, rows)
        return {k: _sum([v[k] for v in values]) for k in _PARTS}

    def _row_values(self, conv: Convention | ToolConvention,
                    rows: list[tuple[TrainingRow, int]]) -> list[dict[str, Dim]]:
        """Per row (each divided by its shard count), the FLOPs of `_PARTS` under `conv`."""
        if isinstance(conv, ToolConvention):
            return self._tool_values(conv, rows)
        out = []
        for r, div in rows:
            d = {}
            for k in _PARTS:
                v = conv.flops(getattr(r, k))
                d[k] = v if div == 1 else exact_div(v, div)
            out.append(d)
        return out

    def _tool_values(self, conv: ToolConvention, rows: list) -> list[dict[str, Dim]]:
        report = self.report
        out: list[dict[str, Dim]] = []
        index = {id(r): i for i, r in enumerate(self.rows)}
        for tr, div in rows:
            i = index[id(tr)]
            row = report.rows[i]
            rule = backward_rule(row.layer)
            tool = rule.tools.get(conv.name) if rule is not None else None
            if rule is not None and tool is None:
                raise ConventionError(f"convention '{conv.name}' has no backward rule for "
                                      f"{row.kind}; backward tool rules exist for: "
                                      "flopcountermode")
            ctx = Ctx(row.layer, _inputs_of(row), tuple(row.output_shape), report.batch,
                      tr.needs, self.activations_mode, row.cost)
            fwd_rule = rule.tool_forward.get(conv.name) if rule is not None else None
            if fwd_rule is not None:
                f = fwd_rule(ctx)
            else:
                base = conv.rules.get(row.kind)
                f = 0 if base is None else as_count(base(_Ctx(row)) * report.batch)
            d, w = tool(ctx) if (tool is not None and tr.live) else (0, 0)
            vals = {"forward": f, "dgrad": d, "wgrad": w, "accumulation": 0,
                    "recompute": f if tr.recomputed else 0}
            out.append({k: (v if div == 1 else exact_div(v, div)) for k, v in vals.items()})
        return out

    def _device_rows(self) -> list[tuple[TrainingRow, int]]:
        stages: dict[int, list] = {}
        for r in self.rows:
            stages.setdefault(r.stage, []).append(r)
        # the busiest stage is chosen by every op counted ("exact"), whatever the convention
        # a caller prints: which device is the bottleneck does not depend on naming
        exact = get_convention("exact")
        best, best_f = None, None
        for s, rows in stages.items():
            f = _sum([exact.flops(r.forward) + exact.flops(r.backward) for r in rows])
            if best is None or _greater(f, best_f):
                best, best_f = s, f
        return [(r, r.shards) for r in stages.get(best, [])]

    # -- time --------------------------------------------------------------------------------------
    def time(self, hardware: str | Hardware, mfu: Any = None, *, dtype: str | None = None,
             convention: str | Convention = DEFAULT_CONVENTION) -> StepTime:
        """Seconds per step on one device of `hardware`: without `mfu`, a roofline lower bound
        (every row's forward, recompute, dgrad and wgrad, and the optimizer step, each at most
        at the peak of `dtype` and the memory bandwidth: ``sum of max(FLOPs/peak,
        bytes/bandwidth)``); with `mfu` (a fraction, e.g. ``0.4``), ``FLOPs / (mfu*peak)``.
        `dtype` defaults to the precision's compute dtype; `convention` to
        `DEFAULT_CONVENTION`."""
        hw = get_hardware(hardware)
        dt = dtype or self.precision.dtype
        conv = get_convention(convention)
        if isinstance(conv, ToolConvention):
            raise ConventionError("time() needs a definition convention (exact, 2*macs ...)")
        peak = hw.peak(dt)
        flops = self.flops(conv, per_device=True)
        prec = self.precision
        rows = self._device_rows()
        nbytes: list = []
        times: list = []
        beta = hw.bandwidth()
        for r, div in rows:
            for c in (r.forward, r.recompute, r.dgrad, r.wgrad, r.accumulation):
                if not c.counts() or all(type(v) is int and v == 0 for v in c.counts().values()):
                    continue
                b = _traffic(c, "compulsory", act_dtype=prec.activations,
                             weight_dtype=prec.weights).total
                f = conv.flops(c)
                if div != 1:
                    b, f = exact_div(b, div), exact_div(f, div)
                nbytes.append(b)
                times.append(sp.Max(to_expr(f) / peak, to_expr(b) / beta))
        if self.optimizer is not None:  # this device's share of the update
            c = self.optimizer
            share = self.parallel.tp * self.parallel.pp * (
                self.parallel.dp if self.parallel.zero >= 1 else 1)
            b = exact_div((c.act_reads + c.writes) * (prec.master or prec.weights), share)
            f = exact_div(conv.flops(c), share)
            nbytes.append(b)
            times.append(sp.Max(to_expr(f) / peak, to_expr(b) / beta))
        total_bytes = _sum(nbytes)
        if mfu is not None:
            if isinstance(mfu, float):
                mfu = sp.Rational(repr(mfu))
            v = to_expr(mfu)
            if v.is_number and not (0 < v <= 1):
                raise LayerCalcError(f"time: mfu (={mfu}) must be in (0, 1]")
            secs = as_count(to_expr(flops) / (mfu * peak))
            return StepTime(secs, flops, total_bytes, hw.name, dt, conv.name, "flops/(mfu*peak)",
                            mfu)
        secs = _sum(times)
        return StepTime(secs, flops, total_bytes, hw.name, dt, conv.name, "roofline")

    def mfu(self, hardware: str | Hardware, seconds: Any, *, dtype: str | None = None,
            convention: str | Convention = DEFAULT_CONVENTION) -> Any:
        """Model FLOPs utilization of a measured step time: the step's forward and backward
        FLOPs per device (recomputation excluded, as Chowdhery et al. 2022, appendix B, define
        it; their FLOPs are ``"2*macs"``) over ``seconds * peak``."""
        hw = get_hardware(hardware)
        dt = dtype or self.precision.dtype
        parts = self.row_flops(convention, per_device=True)
        f = as_count(parts["forward"] + parts["dgrad"] + parts["wgrad"] + parts["accumulation"])
        if isinstance(seconds, float):
            seconds = sp.Rational(repr(seconds))
        return as_count(to_expr(f) / (seconds * hw.peak(dt)))

    # -- the table model -------------------------------------------------------------------------
    def title(self) -> str:
        """``gpt2 training step: input (128,), batch 8, adamw, bf16-mixed, recompute
        selective, activations pytorch, dp=1, tp=2, pp=1, zero=1``."""
        return (f"{self.report.name or 'model'} training step: input "
                f"{fmt.shape(self.report.input_shape)}, batch {fmt.size(self.report.batch)}, "
                f"{self.optimizer_name}, {self.precision_name}, recompute "
                f"{_recompute_label(self.recompute_mode)}, activations {self.activations_mode}, "
                f"{self.parallel}")

    def table(self, convention: str | Convention | ToolConvention = DEFAULT_CONVENTION,
              depth: int | None = None, *, hardware: str | Hardware | None = None,
              full: bool = False) -> Table:
        """The step per row (or per path prefix of `depth` segments) as a
        `layercalc.table.Table`: the training-mode forward, dgrad, wgrad, gradient
        accumulation and recomputed forward FLOPs under `convention`, the bytes each row saves
        for the backward pass, and the total. The footer gives the exact FLOPs of the step,
        the optimizer step, the work `convention` does not count, the rows whose backward has
        no rule (`not_counted`), the notes and, with `hardware`, the step time (`time`)."""
        conv = get_convention(convention)
        _check_depth(depth)
        values = self._row_values(conv, [(r, 1) for r in self.rows])
        groups: dict[Any, list[int]] = {}
        for i, r in enumerate(self.rows):
            key = i if depth is None else ".".join(r.path.split(".")[:depth])
            groups.setdefault(key, []).append(i)
        cols = [Column("path", "Layer"), Column("kind", "Kind"),
                Column("forward", f"Forward ({conv.name})", "count"),
                Column("dgrad", "dgrad", "count"), Column("wgrad", "wgrad", "count"),
                Column("accumulation", "Accumulation", "count"),
                Column("recompute", "Recompute", "count"),
                Column("activations", "Saved bytes", "bytes")]
        rows = []
        for key, idx in groups.items():
            kinds = {self.rows[i].kind for i in idx}
            label = self.rows[key].path if depth is None else key
            rows.append((label, kinds.pop() if len(kinds) == 1 else "",
                         *(_expanded(_sum([values[i][k] for i in idx])) for k in _PARTS),
                         _expanded(_sum([self.rows[i].activations for i in idx]))))
        parts = {k: _sum([v[k] for v in values]) for k in _PARTS}
        total = ("Total", "", *(_expanded(parts[k]) for k in _PARTS),
                 _expanded(_sum([r.activations for r in self.rows])))
        header = [convention_note(conv),
                  "FLOPs and saved bytes: the step of one model replica (its batch); memory "
                  "and communication: per device"]
        if depth is not None:
            header.append(f"Rows: path prefixes of depth {depth} ({len(self.rows)} layers)")
        return Table(cols, rows, total, self.title(), header,
                     self._footer(conv, parts, hardware, full))

    def _footer(self, conv: Any, parts: dict, hardware: Any, full: bool) -> list[str]:
        def ex(v: Any) -> str:
            return fmt.exact(v, full=full, width=_FOOTER_WIDTH)

        name = conv.name
        backward = _sum([parts["dgrad"], parts["wgrad"], parts["accumulation"]])
        step = _total(parts)
        terms = [("forward", parts["forward"]), ("backward", backward),
                 ("gradient accumulation", parts["accumulation"]),
                 ("recompute", parts["recompute"])]
        if all(type(v) is int for _, v in terms):
            lines = [f"FLOPs ({name}) per step: {ex(step)} = forward {ex(parts['forward'])} + "
                     f"backward {ex(backward)} (gradient accumulation "
                     f"{ex(parts['accumulation'])}) + recompute {ex(parts['recompute'])}"]
        else:  # formulas: one a line, expanded (shorter than the sums of rows)
            lines = [f"FLOPs ({name}) per step: {ex(step)}", *(
                f"  {k}: {ex(_expanded(v))}" + (" (in backward)" if k.startswith("gradient")
                                                else "") for k, v in terms)]
        tool = isinstance(conv, ToolConvention)
        if not tool and self.optimizer is not None:
            lines.append(f"Optimizer step ({self.optimizer_name}, {name}): "
                         f"{ex(conv.flops(self.optimizer))} (not in the FLOPs per step)")
        missed = self._uncounted(conv)
        short = {"full": full}
        if missed and tool:
            lines.append(f"Counted as 0 by '{name}' (exact FLOPs of that work): " + "; ".join(
                f"{k} {fmt.count(v, **short)}" for k, v in missed.items()))
        elif missed:
            lines.append(f"Not counted under '{name}': " + "; ".join(
                f"{k} {fmt.count(v, **short)} ({', '.join(owners)})"
                for k, (v, owners) in missed.items()))
        if self.not_counted:
            lines.append("Backward not counted (no rule: 0 FLOPs, nothing saved): " + "; ".join(
                f"{k} ({_paths(v)})" for k, v in self.not_counted.items()))
        lines += [f"Note: {n}" for n in self.notes]
        if hardware is not None:
            st = self.time(hardware, convention=name if not tool else DEFAULT_CONVENTION)
            lines.append(f"Step time on {st.hardware} ({st.dtype}, {st.convention} FLOPs per "
                         f"device {fmt.count(st.flops, **short)}): >= "
                         f"{fmt.seconds(st.seconds, **short)} (roofline lower bound; "
                         "communication and pipeline bubbles not included)")
        return lines

    def _uncounted(self, conv: Any) -> dict[str, Any]:
        """What `conv` counts as zero over the step: for a definition, by op kind with the
        layer kinds doing it (``{"cmp": (n, ["MaxPool2d"])}``); for a tool, by layer kind
        the exact FLOPs of the rows it counts as 0."""
        if isinstance(conv, ToolConvention):
            exact = get_convention(DEFAULT_CONVENTION)
            out: dict[str, list] = {}
            tool_values = self._row_values(conv, [(r, 1) for r in self.rows])
            for r, v in zip(self.rows, tool_values):
                if all(type(x) is int and x == 0 for x in v.values()):
                    work = _sum([exact.flops(getattr(r, k)) for k in _PARTS])
                    if not (type(work) is int and work == 0):
                        out.setdefault(r.kind, []).append(work)
            return {k: _sum(v) for k, v in out.items()}
        costs = [getattr(r, k) for r in self.rows for k in _PARTS]
        missed = conv.uncounted(Cost.sum(costs)) if costs else {}
        result = {}
        for k, v in missed.items():
            owners = sorted({r.kind for r in self.rows if any(
                (c.ops.get(k) if k != "bias_adds" else c.bias_adds)
                for c in (getattr(r, p) for p in _PARTS))})
            result[k] = (v, owners)
        return result

    def tables(self, convention: str | Convention | ToolConvention = DEFAULT_CONVENTION,
               depth: int | None = None, *, hardware: str | Hardware | None = None,
               full: bool = False) -> list[Table]:
        """What the human formats print: `table`, then the memory per device
        (`TrainingMemory.table`) and the collectives by kind (`Communication.table`)."""
        out = [self.table(convention, depth, hardware=hardware, full=full)]
        if self.memory is not None:
            out.append(self.memory.table(title=self._memory_title(), full=full))
        if self.communication is not None and self.communication.by_cause:
            out.append(self.communication.table(full=full))
        return out

    def _memory_title(self) -> str:
        where = (f", pipeline stage {self.memory.stage} (the heaviest of {self.parallel.pp})"
                 if self.memory is not None and self.parallel.pp > 1 else "")
        return f"Memory per device{where}"

    def __repr__(self) -> str:
        m = self.memory
        rc = self.recompute_mode
        par = self.parallel
        return fmt.brief("TrainingReport", self.report.name or "model", [
            f"batch {fmt.size(self.report.batch, width=20)}",
            f"{self.optimizer_name} {self.precision_name}",
            f"recompute {_recompute_label(rc)}" if rc is not None else "",
            str(par) if par != Parallelism() else "",
            f"{fmt.rate(self.flops(), 'FLOP/step', width=60)} ({DEFAULT_CONVENTION})",
            f"{fmt.nbytes(m.total, width=60)}/device" if m is not None else "",
            f"backward not counted: {', '.join(self.not_counted)}" if self.not_counted else ""])

    def _repr_html_(self) -> str:
        """The rows grouped by top-level path with every finer grouping folded below, the
        memory per device, and the collectives (by kind; by cause folded)."""
        parts = [html_levels(lambda d: self.table(depth=d), [r.path for r in self.rows],
                             css="layercalc-training-rows", max_rows=_HTML_ROWS)]
        if self.memory is not None:
            parts.append(self.memory.table(title=self._memory_title()).to_html())
        c = self.communication
        if c is not None and c.by_cause:
            parts.append(c._repr_html_())
        return '<div class="layercalc-training">\n' + "\n".join(parts) + "\n</div>"

    def _repr_latex_(self) -> str | None:
        """The step's FLOPs and the memory per device as formulas when sizes are symbolic
        (None otherwise)."""
        conv = get_convention(DEFAULT_CONVENTION)
        parts = self.row_flops(conv)
        sub = rf"_\text{{{conv.name}}}"
        return latex_formulas([
            (rf"\text{{FLOPs}}{sub}", self.flops(conv)),
            (rf"\text{{forward}}{sub}", parts["forward"]),
            (rf"\text{{backward}}{sub}", _sum([parts["dgrad"], parts["wgrad"],
                                                parts["accumulation"]])),
            (rf"\text{{recompute}}{sub}", parts["recompute"]),
            (r"\text{memory per device (bytes)}",
             self.memory.total if self.memory is not None else None)])

    # -- machine formats ------------------------------------------------------------------------
    def to_csv(self, convention: str | Convention | ToolConvention = DEFAULT_CONVENTION,
               depth: int | None = None, **kwargs: Any) -> str:
        """The rows (or groups) and the total of `table`, exact values."""
        return self.table(convention, depth).to_csv()

    def to_dict(self, convention: str | Convention | ToolConvention = DEFAULT_CONVENTION,
                depth: int | None = None, *, hardware: str | Hardware | None = None) -> dict:
        """The JSON document of schema ``layercalc.training/1`` (docs/json-schema.md): the
        configuration (model, input, batch, optimizer, precision, recompute, activations,
        parallelism), the FLOPs of the step under `convention`, the rows (or groups of
        `depth`) and the total in the same shape, the optimizer step, the memory and the
        collectives per device, the step time on `hardware` (or null), what is not counted
        and the notes; exact values."""
        conv = get_convention(convention)
        t = self.table(conv, depth)
        keys = [c.key for c in t.columns]

        def record(r: tuple, layers: int) -> dict:
            d = {k: fmt.plain(v) for k, v in zip(keys, r)}
            return {"path": d.pop("path"), "kind": d.pop("kind") or None, "layers": layers,
                    **d}

        counts = self._group_sizes(depth)
        total = record(t.total, len(self.rows))
        total.update(path=None, kind=None)
        tool = isinstance(conv, ToolConvention)
        par = self.parallel
        rc = self.recompute_mode
        time = None
        if hardware is not None:
            time = self.time(hardware, convention=conv.name if not tool else
                             DEFAULT_CONVENTION)._record()
        missed = self._uncounted(conv)
        return {
            "schema": TRAINING_SCHEMA,
            "layercalc": __version__,
            "model": self.report.name,
            "input_shape": fmt.plain(tuple(self.report.input_shape)),
            "batch": fmt.plain(self.report.batch),
            "optimizer": self.optimizer_name,
            "precision": self.precision_name,
            "recompute": rc if rc is None or isinstance(rc, str) else list(rc),
            "activations": self.activations_mode,
            "parallel": {"dp": par.dp, "tp": par.tp, "pp": par.pp, "sp": par.sp,
                         "ep": par.ep, "zero": par.zero, "microbatches": par.microbatches},
            "convention": conv.name,
            "grouping": {"depth": depth},
            "flops": fmt.plain(_total(dict(zip(keys[2:7], t.total[2:7])))),
            "optimizer_flops": (None if tool or self.optimizer is None
                                else fmt.plain(conv.flops(self.optimizer))),
            "total": total,
            "memory": self.memory._record() if self.memory is not None else None,
            "communication": (self.communication._record()
                              if self.communication is not None else None),
            "time": time,
            "uncounted": {k: fmt.plain(v if tool else v[0]) for k, v in missed.items()},
            "not_counted": {k: list(v) for k, v in self.not_counted.items()},
            "notes": list(self.notes),
            "rows": [record(r, n) for r, n in zip(t.rows, counts)],
        }

    def _group_sizes(self, depth: int | None) -> list[int]:
        if depth is None:
            return [1] * len(self.rows)
        n: dict[str, int] = {}
        for r in self.rows:
            key = ".".join(r.path.split(".")[:depth])
            n[key] = n.get(key, 0) + 1
        return list(n.values())


#: The schema id of `TrainingReport.to_dict` / `to_json` (docs/json-schema.md).
TRAINING_SCHEMA = "layercalc.training/1"

#: The FLOPs of a row in a training step, in table order.
_PARTS = ("forward", "dgrad", "wgrad", "accumulation", "recompute")

_FOOTER_WIDTH = 100  # characters of a formula in a footer line before it is abbreviated
_HTML_ROWS = 400  # Jupyter: groupings of more rows are left out (a 70B model has 1,200 layers)


def _check_depth(depth: Any) -> None:
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int)
                              or depth < 1):
        raise LayerCalcError(f"TrainingReport: depth (={depth!r}) must be a positive integer "
                             "or None")


def _recompute_label(rc: Any) -> str:
    if rc is None:
        return "none"
    if isinstance(rc, str):
        return rc
    paths = list(rc)
    return f"{len(paths)} path{'s' if len(paths) != 1 else ''}"


def _paths(paths: tuple[str, ...], limit: int = 3) -> str:
    n = len(paths)
    shown = ", ".join(paths[:limit]) + (f", {fmt.ELLIPSIS}" if n > limit else "")
    return f"{n} row{'s' if n != 1 else ''}: {shown}"


def _sum(values: Iterable[Dim]) -> Dim:
    vals = list(values)
    if all(type(v) is int for v in vals):
        return sum(vals)
    return as_count(sp.Add(*vals))


def _total(parts: Mapping[str, Dim]) -> Dim:
    """The step's FLOPs from `row_flops`' parts (expanded when symbolic)."""
    return _expanded(_sum(parts.values()))


def _expanded(v: Dim) -> Dim:
    return v if type(v) is int else as_count(sp.expand(v))
