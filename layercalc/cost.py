"""`Cost`: what one forward pass of a layer does, before any naming convention is applied.

Counts are facts; FLOPs are a convention. Nothing here is called "FLOPs": turning counts into
FLOPs is the job of `layercalc.conventions`. Every count is an exact Python ``int`` when all
sizes are numbers, and a SymPy expression when they involve symbols.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from operator import mul
from types import MappingProxyType
from typing import Any

import sympy as sp

from .dims import MAX_NUMBER, Dim, as_count, as_dim, show, subs_pairs
from .errors import ArgumentError

__all__ = ["Cost", "OP_KINDS", "PER_SAMPLE_FIELDS"]

#: Operation kinds a layer may report besides multiply-accumulates. Conventions weight each.
OP_KINDS = ("add", "mul", "div", "cmp", "exp", "log", "sqrt", "tanh", "erf")

#: Fields that scale with the batch (work and activation traffic). ``params``, ``buffers`` and
#: ``weight_reads`` do not: weights are read once per batch.
PER_SAMPLE_FIELDS = ("macs", "dots", "bias_adds", "act_reads", "writes", "tap_reads")

_INT = frozenset({int})

_COUNT_FIELDS = (
    "params", "buffers", "macs", "dots", "bias_adds",
    "weight_reads", "act_reads", "writes", "tap_reads",
)


def _count(value: Any, name: str) -> Dim:
    """A count: a non-negative int (at most `MAX_NUMBER`) or a SymPy expression, by
    `layercalc.dims.as_dim`. Rationals are allowed: a *per-sample* count of work shared by the
    whole batch (a mixture-of-experts capacity buffer split over the batch's samples) need not
    be whole, though the batch's total is."""
    if type(value) is int and 0 <= value <= MAX_NUMBER:
        return value
    return as_dim(value, "Cost", name, minimum=0, integer=False, limit=MAX_NUMBER,
                  error=ArgumentError)


def _clean_ops(ops: Mapping[str, Any]) -> Mapping[str, Dim]:
    if not isinstance(ops, Mapping):
        raise ArgumentError("Cost", f"ops (={show(ops)}) must be a mapping of op kind to count")
    out = {}
    for kind, n in ops.items():
        if not isinstance(kind, str):
            raise ArgumentError("Cost", f"ops key (={show(kind)}) must be a string")
        n = _count(n, f"ops[{kind!r}]")
        if not (type(n) is int and n == 0):
            out[kind] = n
    return MappingProxyType(dict(sorted(out.items())))


@dataclass(frozen=True, eq=True)
class Cost:
    """Convention-free counts of one forward pass, for one sample.

    Attributes
    ==========
    params : learnable scalars (weights and biases).
    buffers : non-learnable state scalars, such as BatchNorm's running mean and variance.
    macs : multiply-accumulates ``a*b + c`` inside dot products (convolution, matmul).
    dots : the number of dot products those MACs form. A dot product of ``n`` terms is ``n``
        multiplies and ``n - 1`` adds, so exact FLOPs are ``2*macs - dots`` before bias.
    bias_adds : adds of a bias term that close a dot product. Conventions disagree on these.
    ops : every other operation, by kind (see `OP_KINDS`): ``{"cmp": n}`` for ReLU, etc.
    weight_reads : elements of parameters and buffers read (compulsory: each once).
    act_reads : activation elements read (compulsory: each input element once).
    writes : activation elements written (each output element once).
    tap_reads : activation elements read when nothing is reused between outputs: one read per
        multiply-accumulate or window tap (the "no reuse" memory model of seed 004). Defaults to
        ``act_reads`` for layers that read each input once anyway.
    notes : modelling assumptions a count depends on, stated rather than hidden.

    Every count is validated by `layercalc.dims.as_dim`: a non-negative int or an integer SymPy
    expression (``Cost(macs="3")``, ``Cost(macs=2.5)`` and ``Cost(macs=-1)`` raise
    `~layercalc.errors.ArgumentError`).

    Costs add field by field, and ``cost * n`` (or ``cost.batched(n)``) is the cost of ``n``
    samples: it scales work and activation traffic, never params, buffers or weight reads.

    >>> a = Cost(params=10, macs=9, dots=1, bias_adds=1, act_reads=9, writes=1, weight_reads=10)
    >>> (a + a).macs, (a * 4).macs, (a * 4).params
    (18, 36, 10)
    """

    params: Dim = 0
    buffers: Dim = 0
    macs: Dim = 0
    dots: Dim = 0
    bias_adds: Dim = 0
    ops: Mapping[str, Dim] = field(default_factory=dict)
    weight_reads: Dim = 0
    act_reads: Dim = 0
    writes: Dim = 0
    tap_reads: Dim | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.tap_reads is None:
            set_(self, "tap_reads", self.act_reads)
        for name in _COUNT_FIELDS:
            v = getattr(self, name)
            if not (type(v) is int and 0 <= v <= MAX_NUMBER):
                set_(self, name, _count(v, name))
        set_(self, "ops", _clean_ops(self.ops))
        if isinstance(self.notes, str) or not isinstance(self.notes, (tuple, list)) or not all(
                isinstance(n, str) for n in self.notes):
            raise ArgumentError("Cost", f"notes (={show(self.notes)}) must be a tuple of "
                                "strings")
        if not isinstance(self.notes, tuple):
            set_(self, "notes", tuple(self.notes))

    __hash__ = None  # type: ignore[assignment]  # ops is a mapping; costs are summed, not keyed

    # -- arithmetic ---------------------------------------------------------------------
    def __add__(self, other: Cost) -> Cost:
        if not isinstance(other, Cost):
            if isinstance(other, int) and other == 0:  # sum() starts from 0
                return self
            return NotImplemented
        return Cost.sum((self, other))

    __radd__ = __add__

    @classmethod
    def sum(cls, costs: Iterable[Cost]) -> Cost:
        """The sum of many costs, building one SymPy ``Add`` per field (summing pairwise
        re-flattens a growing sum each time, which is quadratic)."""
        costs = costs if isinstance(costs, (list, tuple)) else list(costs)
        # Traces share one Cost object between the rows of repeated (layer, input) pairs
        # (`layercalc.network`'s memo): integer fields sum each distinct object times its count.
        ids = list(map(id, costs))
        counts = Counter(ids)
        uniq = dict(zip(ids, costs))
        ds = [uniq[i].__dict__ for i in counts]
        ns = list(counts.values())
        total: dict[str, Any] = {}

        def add(key: str, col: list, ns: list, terms: Callable[[], list]) -> None:
            if set(map(type, col)) <= _INT:  # the integer fast path
                total[key] = sum(map(mul, col, ns))
            else:  # one SymPy Add over every row's term, in row order
                every = terms()
                total[key] = sp.Add(sum(v for v in every if type(v) is int),
                                    *(v for v in every if type(v) is not int))

        for f in _COUNT_FIELDS:
            add(f, [d[f] for d in ds], ns, lambda: [c.__dict__[f] for c in costs])
        ops: dict[str, tuple[list, list]] = {}
        notes: dict[str, None] = {}
        for d, n in zip(ds, ns):
            if d["ops"]:
                for k, v in d["ops"].items():
                    col, mult = ops.setdefault(k, ([], []))
                    col.append(v)
                    mult.append(n)
            if d["notes"]:
                notes.update(dict.fromkeys(d["notes"]))
        for k, (col, mult) in ops.items():
            add("ops." + k, col, mult, lambda: [c.ops[k] for c in costs if k in c.ops])
        return cls(
            **{f: total.get(f, 0) for f in _COUNT_FIELDS},
            ops={k[4:]: v for k, v in total.items() if k.startswith("ops.")},
            notes=tuple(notes),
        )

    def batched(self, n: Dim) -> Cost:
        """The cost of `n` samples: work and activation traffic times `n`; params, buffers and
        weight reads unchanged (weights are read once per batch). `n` is a count (`as_dim`, >= 0)."""
        if type(n) is int and n == 1:
            return self
        n = as_dim(n, "Cost.batched", "n", minimum=0, error=ArgumentError)
        return replace(
            self,
            **{f: getattr(self, f) * n for f in PER_SAMPLE_FIELDS},
            ops={k: v * n for k, v in self.ops.items()},
        )

    def scaled(self, factor: Any) -> Cost:
        """Work and activation traffic times a non-negative rational `factor` (an average
        multiplicity, such as a mixture-of-experts layer's expert passes per token, which need
        not be a whole number per sample even though it is over the batch); params, buffers
        and weight reads unchanged. Use `batched` for a number of samples."""
        if type(factor) is int and factor == 1:
            return self
        factor = as_dim(factor, "Cost.scaled", "factor", minimum=0, integer=False,
                        error=ArgumentError)
        return replace(
            self,
            **{f: getattr(self, f) * factor for f in PER_SAMPLE_FIELDS},
            ops={k: v * factor for k, v in self.ops.items()},
        )

    def __mul__(self, n: Dim) -> Cost:
        if isinstance(n, Cost):
            return NotImplemented
        return self.batched(n)

    __rmul__ = __mul__

    # -- views --------------------------------------------------------------------------
    @property
    def reads(self) -> Dim:
        """All elements read under the compulsory model: weights plus activations."""
        return as_count(self.weight_reads + self.act_reads)

    def counts(self) -> dict[str, Dim]:
        """Every count as a flat dict (``ops`` entries as ``ops.<kind>``)."""
        out = {f: getattr(self, f) for f in _COUNT_FIELDS}
        out.update({f"ops.{k}": v for k, v in self.ops.items()})
        return out

    def map(self, fn: Callable[[Dim], Any]) -> Cost:
        """Apply `fn` to every count (e.g. ``lambda e: e.subs(H, 224)``)."""
        return Cost(
            **{f: fn(getattr(self, f)) for f in _COUNT_FIELDS},
            ops={k: fn(v) for k, v in self.ops.items()},
            notes=self.notes,
        )

    def subs(self, *args: Any, **kwargs: Any) -> Cost:
        """Substitute into every count, as ``sympy.Expr.subs`` (``(old, new)``, a dict or
        pairs; checked by `layercalc.dims.subs_pairs`: no strings)."""
        pairs = subs_pairs("Cost.subs", args)
        return self.map(lambda e: e if type(e) is int else e.subs(pairs, **kwargs))

    @property
    def free_symbols(self) -> set[sp.Symbol]:
        out: set[sp.Symbol] = set()
        for v in self.counts().values():
            if isinstance(v, sp.Basic):
                out |= v.free_symbols
        return out

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "ops":
                if v:
                    parts.append(f"ops={dict(v)!r}")
            elif f.name == "notes":
                if v:
                    parts.append(f"notes={v!r}")
            elif not (type(v) is int and v == 0):
                parts.append(f"{f.name}={v}")
        return "Cost(" + ", ".join(parts) + ")"
