"""Roofline estimates: is a layer (or a network) limited by compute or by memory bandwidth?

Seed 000 (Williams et al.'s roofline model, as explained there): a platform has a peak
``pi`` (FLOP/s) and a bandwidth ``beta`` (bytes/s); their ratio ``I_max = pi / beta`` is the
ridge point. A model with intensity ``I = FLOPs / bytes`` attains at most
``min(pi, beta * I)`` FLOP/s: below the ridge it is memory-bound, above it compute-bound.

FLOPs come from a `Convention` (default `DEFAULT_CONVENTION`, ``"exact"``: every multiply
and add counted, as everywhere in layercalc), bytes from `layercalc.memory.memory` (default
``"compulsory"``). Time per layer is ``max(FLOPs / pi, bytes / beta) / efficiency`` and
the network's time is the sum over layers. This is a *lower bound on time* (an upper bound on
speed): real kernels also pay launch overheads, imperfect overlap of compute and memory,
cache misses and tiling losses that the roofline does not model.

`critical_batch`, `critical_resolution` and the general `critical_value` solve for the size at
which a workload crosses the ridge: an exact integer with numeric hardware, an exact formula
when ``pi`` and ``beta`` are symbols.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp

from . import format as fmt
from ._version import __version__
from .conventions import DEFAULT_CONVENTION, Convention
from .registry import convention_note, get_convention
from .cost import Cost
from .dims import Dim, as_count, as_dim, as_real, show, to_expr, truth
from .errors import ArgumentError, LayerCalcError, ShapeError
from .hardware import Hardware, get_hardware
from .memory import MemoryModel, memory
from .network import analyze
from .symbolic import assume_divisible
from .symbols import symbols
from .table import Column, Table, TableRenderers

__all__ = ["RooflinePoint", "Roofline", "roofline", "utilization", "critical_batch",
           "critical_value", "critical_resolution", "ROOFLINE_SCHEMA"]

#: The schema id of `Roofline.to_dict` / `Roofline.to_json` (docs/json-schema.md).
ROOFLINE_SCHEMA = "layercalc.roofline/1"


def _div(a: Any, b: Any) -> Any:
    """Exact ``a / b``: a Python int when integral, a SymPy Rational/expression otherwise."""
    if isinstance(a, float) or isinstance(b, float):
        a = as_count(sp.Rational(repr(a))) if isinstance(a, float) else a
        b = as_count(sp.Rational(repr(b))) if isinstance(b, float) else b
    return as_count(to_expr(a) / b)


def _bound(intensity: Any, ridge: Any) -> str | None:
    if intensity is None:
        return None
    t = truth(to_expr(intensity) >= ridge)
    return None if t is None else ("compute" if t else "memory")


@dataclass(frozen=True)
class RooflinePoint:
    """One layer (or the total) on the roofline.

    ``intensity`` = flops / bytes (None when nothing is moved); ``attainable`` =
    ``Min(pi, beta * intensity)`` FLOP/s; ``bound`` is ``"memory"``, ``"compute"``, or None when
    it depends on symbols (or the row moves no bytes); ``time`` = ``max(flops / pi,
    bytes / beta) / efficiency`` seconds.
    """

    name: str
    flops: Dim
    bytes: Dim
    intensity: Any
    attainable: Any
    bound: str | None
    time: Any
    kind: str = ""

    def __repr__(self) -> str:
        return fmt.brief("RooflinePoint", self.name, [
            f"{fmt.count(self.flops)} FLOPs", fmt.nbytes(self.bytes),
            f"{fmt.count(self.intensity)} FLOP/byte" if self.intensity is not None else "",
            f"{self.bound}-bound" if self.bound else "", fmt.seconds(self.time)])


@dataclass(frozen=True)
class Roofline(TableRenderers):
    """Per-row points, the network total and the platform numbers (``peak`` = pi,
    ``bandwidth`` = beta, ``ridge`` = pi / beta). ``time`` is the sum of per-row times (a lower
    bound on wall time); ``total.time`` treats the network as one kernel, which is never more.
    ``name`` and ``batch`` are the report's. Renders as a table (`table`: every row, the
    slowest ``top`` or rows grouped by path ``depth``); ``repr`` is one line.
    """

    hardware: Hardware
    dtype: str
    convention: Convention
    memory_model: str
    efficiency: Any
    peak: Any
    bandwidth: Any
    ridge: Any
    points: tuple[RooflinePoint, ...]
    total: RooflinePoint
    time: Any
    name: str = ""
    batch: Any = 1

    # -- renderings ----------------------------------------------------------------------------
    def header_lines(self) -> list[str]:
        """What the numbers mean: platform, ridge, FLOPs convention, memory model."""
        return [f"{self.name or 'model'} on {self.hardware.name}, {self.dtype}: "
                + self._platform(),
                convention_note(self.convention),
                f"Bytes: {self.memory_model} memory model, {self.dtype}"
                + ("" if type(self.efficiency) is int and self.efficiency == 1
                   else f"; efficiency {self.efficiency}")]

    def _platform(self) -> str:
        return (f"peak {fmt.rate(self.peak)}, bandwidth {fmt.rate(self.bandwidth, 'B/s')}, "
                f"ridge {fmt.count(self.ridge)} FLOP/byte")

    @staticmethod
    def footer_lines() -> list[str]:
        return ["Time: sum over layers of max(FLOPs/peak, bytes/bandwidth), a lower bound."]

    def _rows(self, top: int | None, depth: int | None) -> list[tuple]:
        for what, v in (("top", top), ("depth", depth)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise LayerCalcError(f"Roofline: {what} (={v!r}) must be a positive integer "
                                     "or None")
        if depth is not None:
            acc: dict[str, list[RooflinePoint]] = {}
            for p in self.points:
                acc.setdefault(".".join(p.name.split(".")[:depth]), []).append(p)
            out = []
            for key, ps in acc.items():
                f = as_count(sp.Add(*[p.flops for p in ps]))
                m = as_count(sp.Add(*[p.bytes for p in ps]))
                bounds = {p.bound for p in ps if p.intensity is not None}
                bound = "mixed" if len(bounds) > 1 else (bounds.pop() if bounds else None)
                out.append((key, f, m, _div(f, m) if not (type(m) is int and m == 0) else None,
                            bound, as_count(sp.Add(*[p.time for p in ps]))))
            return out
        points = list(self.points)
        if top is not None:
            points = sorted(points, reverse=True, key=lambda p: (
                float(p.time) if to_expr(p.time).is_number else 0))[:top]
        return [(p.name, p.flops, p.bytes, p.intensity, p.bound, p.time) for p in points]

    def table(self, top: int | None = None, depth: int | None = None, *, full: bool = False,
              rows: bool = True, caption: bool = True, title: str | None = None) -> Table:
        """Layer, FLOPs, bytes, intensity, bound and time per row (``top``: the slowest N;
        ``depth``: grouped by path prefix; ``rows=False``: the total only), then the total.
        ``caption=False`` leaves out the header and footer lines (the command line prints
        them once for several batch sizes)."""
        cols = [Column("layer", "Layer"), Column("flops", "FLOPs", "count"),
                Column("bytes", "Bytes", "bytes"), Column("intensity", "FLOP/byte", "count"),
                Column("bound", "Bound"), Column("time", "Time", "seconds")]
        body = self._rows(top, depth) if rows else []
        t = self.total
        total = ("Total", t.flops, t.bytes, t.intensity, t.bound or "?", self.time)
        if not caption:
            return Table(cols, body, total, title or "")
        head = self.header_lines()
        head[0] = self._platform()
        if title is None:
            title = (f"{self.name or 'model'} on {self.hardware.name}, {self.dtype}, batch "
                     f"{self.batch}")
        return Table(cols, body, total, title, head, self.footer_lines())

    def __repr__(self) -> str:
        t = self.total
        return fmt.brief("Roofline", self.name, [
            f"{self.hardware.name} {self.dtype}", f"batch {fmt.count(self.batch)}",
            f"{len(self.points)} rows", f"{fmt.count(t.flops)} FLOPs ({self.convention.name})",
            fmt.nbytes(t.bytes), f"{t.bound}-bound" if t.bound else "",
            f"time {fmt.seconds(self.time)}"])

    def _repr_html_(self) -> str:
        """The 10 slowest rows (or every row of a small model), the others folded below."""
        if len(self.points) <= 12:
            return self.table().to_html()
        main = self.table(top=10, title=f"batch {self.batch}: the 10 slowest of "
                                        f"{len(self.points)} rows").to_html()
        rest = self.table(caption=False).to_html()
        return (f'<div class="layercalc-roofline">\n{main}\n<details><summary>Every row '
                f"({len(self.points)})</summary>\n{rest}\n</details>\n</div>")

    def _repr_latex_(self) -> str | None:
        """The total's formulas when sizes or the platform are symbolic (None otherwise)."""
        t = self.total
        values = [(r"\text{FLOPs}", t.flops), (r"\text{bytes}", t.bytes),
                  (r"I", t.intensity), (r"t", self.time)]
        if not any(fmt.is_symbolic(to_expr(v)) for _, v in values if v is not None):
            return None
        body = r" \\ ".join(f"{k} &= {sp.latex(to_expr(v))}" for k, v in values
                             if v is not None)
        return rf"$\displaystyle \begin{{aligned}} {body} \end{{aligned}}$"

    def to_dict(self, top: int | None = None, depth: int | None = None) -> dict:
        """JSON-safe, schema ``layercalc.roofline/1`` (docs/json-schema.md): platform,
        convention, memory model, the rows (as `table`) and the total, exact values."""
        def record(r: tuple) -> dict:
            keys = ("path", "flops", "bytes", "intensity", "bound", "time")
            return {k: fmt.plain(v) for k, v in zip(keys, r)}

        t = self.total
        return {
            "schema": ROOFLINE_SCHEMA,
            "layercalc": __version__,
            "model": self.name,
            "batch": fmt.plain(self.batch),
            "hardware": self.hardware.name,
            "dtype": self.dtype,
            "peak": fmt.plain(self.peak),
            "bandwidth": fmt.plain(self.bandwidth),
            "ridge": fmt.plain(self.ridge),
            "convention": self.convention.name,
            "memory_model": self.memory_model,
            "efficiency": fmt.plain(self.efficiency),
            "time": fmt.plain(self.time),
            "total": record((None, t.flops, t.bytes, t.intensity, t.bound, t.time)),
            "rows": [record(r) for r in self._rows(top, depth)],
        }


def _point(name: str, flops: Any, nbytes: Any, pi: Any, beta: Any, ridge: Any,
           efficiency: Any, kind: str = "") -> RooflinePoint:
    if type(nbytes) is int and nbytes == 0:
        intensity, attainable, bound = None, pi, None
        t = _div(flops, pi)
    else:
        intensity = _div(flops, nbytes)
        attainable = sp.Min(pi, beta * to_expr(intensity))
        attainable = as_count(attainable) if attainable.is_number else attainable
        bound = _bound(intensity, ridge)
        a, b = _div(flops, pi), _div(nbytes, beta)
        if bound is None:
            t = sp.Max(a, b)
        else:
            t = a if bound == "compute" else b
    if not (type(efficiency) is int and efficiency == 1):
        t = _div(t, efficiency)
    return RooflinePoint(name, flops, nbytes, intensity, attainable, bound, t, kind)


def roofline(report: Any, hardware: str | Hardware, dtype: str = "fp16",
             convention: str | Convention = DEFAULT_CONVENTION,
             memory_model: str | MemoryModel = "compulsory", efficiency: Any = 1,
             *, sparse: bool = False, weight_dtype: Any = None, act_dtype: Any = None,
             kv_dtype: Any = None) -> Roofline:
    """Place every row of `report` (a `Report`, or a single `Cost`) and the total on the
    roofline of `hardware`.

    ``I = FLOPs / bytes``, ``ridge = pi / beta``, ``attainable = Min(pi, beta * I)``, bound
    "compute" when ``I >= ridge``, ``time = max(FLOPs / pi, bytes / beta) / efficiency`` summed
    over rows. Source: seed 000 (roofline model: 算力 pi, 带宽 beta, I_max = pi / beta). Bytes
    use `dtype` for weights, activations and KV caches unless `weight_dtype`, `act_dtype` or
    `kv_dtype` say otherwise (see `layercalc.memory.memory`); the peak is `dtype`'s.

    A Linear(4096, 4096) at batch 1 in fp16 on an A100 80GB is memory-bound:

    >>> from layercalc import Linear, analyze
    >>> r = roofline(analyze(Linear(4096, 4096), (4096,)), "a100-sxm4-80gb")
    >>> r.total.flops, r.total.bytes, r.total.intensity, r.total.bound
    (33554432, 33579008, 4096/4099, 'memory')
    >>> r.time  # bytes / beta seconds
    65584/3982421875
    """
    hw = get_hardware(hardware)
    conv = get_convention(convention)
    efficiency = as_real(efficiency, "roofline", "efficiency", minimum=0, maximum=1,
                         error=ArgumentError)
    if isinstance(efficiency, float):  # keep times exact: 0.8 -> 4/5
        efficiency = as_count(sp.Rational(repr(efficiency)))
    if truth(to_expr(efficiency) > 0) is False:
        raise ArgumentError("roofline", f"efficiency (={efficiency}) must be in (0, 1]")
    pi = hw.peak(dtype, sparse=sparse)
    beta = hw.bandwidth()
    ridge = _div(pi, beta)
    mm = memory_model if isinstance(memory_model, str) else memory_model.name
    dtypes = {"weight_dtype": weight_dtype, "act_dtype": act_dtype, "kv_dtype": kv_dtype}
    rows = list(report.rows) if hasattr(report, "rows") else []
    if isinstance(report, Cost):
        rows = [report]

    def point(name: str, x: Any) -> RooflinePoint:
        c = x if isinstance(x, Cost) else getattr(x, "cost", None) or x.total
        return _point(name, conv.flops(c), memory(x, memory_model, dtype, **dtypes).total,
                      pi, beta, ridge, efficiency, getattr(x, "kind", "") if x is not report
                      else "")

    points = tuple(point(getattr(r, "path", ""), r) for r in rows)
    total = point("total", report)
    time = as_count(sp.Add(*[p.time for p in points])) if points else 0
    return Roofline(hw, dtype, conv, mm, efficiency, pi, beta, ridge, points, total, time,
                    getattr(report, "name", ""), getattr(report, "batch", 1))


def utilization(flops: Any, seconds: Any, hardware: str | Hardware, dtype: str = "fp32",
                *, sparse: bool = False) -> Any:
    """Fraction of the peak used: ``(flops / seconds) / peak``. Source: seed 000, "mac
    utilization = used OPs/s / raw OPs/s = (FLOPs / time) / Raw_FLOPs (1.7T at 3519)".

    >>> utilization(850 * 10**9, 1, "hi3519av100", "int8")
    1/2
    """
    peak = get_hardware(hardware).peak(dtype, sparse=sparse)
    flops = as_real(flops, "utilization", "flops", minimum=0, error=ArgumentError)
    seconds = as_real(seconds, "utilization", "seconds", minimum=0, error=ArgumentError)
    if truth(to_expr(seconds) > 0) is False:
        raise ArgumentError("utilization", f"seconds (={seconds}) must be positive")
    return _div(_div(flops, seconds), peak)


def critical_batch(model: Any, input_shape: Any, hardware: str | Hardware, dtype: str = "fp16",
                   convention: str | Convention = DEFAULT_CONVENTION,
                   memory_model: str | MemoryModel = "compulsory",
                   *, sparse: bool = False,
                   analyze_fn: Callable[..., Any] | None = None) -> int | None:
    """The smallest integer batch at which the whole network is compute-bound, or None if no
    batch is (activation traffic alone exceeds the ridge).

    With a symbolic batch ``B``, FLOPs ``F(B) = a*B`` and bytes ``M(B) = w + c*B`` (weights are
    read once per batch), so ``I(B) = a*B / (w + c*B)`` rises towards ``a / c``. Solves
    ``I(B) = pi / beta`` with ``sympy.solve``, takes the ceiling, and checks it by evaluating
    ``I`` at that batch and the one before. Source: seed 000's roofline (I_max = pi / beta)
    applied to `layercalc.Cost.batched`.

    >>> from layercalc import Linear
    >>> critical_batch(Linear(4096, 4096), (4096,), "a100-sxm4-80gb")
    166
    """
    analyze_fn = analyze_fn or analyze
    hw = get_hardware(hardware)
    conv = get_convention(convention)
    ridge = to_expr(hw.ridge(dtype, sparse=sparse))
    B = sp.Symbol("B", positive=True)
    total = analyze_fn(model, input_shape, batch=B).total

    def intensity_at(b: Any) -> Any:
        c = total.subs(B, b)
        return to_expr(conv.flops(c)) / memory(c, memory_model, dtype).total

    expr = sp.together(to_expr(conv.flops(total)) / memory(total, memory_model, dtype).total)
    if truth(intensity_at(1) >= ridge):
        return 1
    sols = [s for s in sp.solve(sp.Eq(expr, ridge), B) if s.is_real and s.is_positive]
    if not sols:
        return None
    b = int(sp.ceiling(min(sols)))
    b = max(b, 1)
    # verify: the threshold batch is compute-bound, the one before is not
    if truth(intensity_at(b) >= ridge) is not True or (
            b > 1 and truth(intensity_at(b - 1) >= ridge) is not False):
        raise LayerCalcError(f"critical_batch: solution B={b} failed verification")
    return b


def _intensity_parts(x: Any, conv: Convention, memory_model: Any, dtype: str,
                     dtypes: dict) -> tuple[Any, Any]:
    c = x if isinstance(x, Cost) else x.total
    return to_expr(conv.flops(c)), to_expr(memory(x, memory_model, dtype, **dtypes).total)


_SCAN = 1024  # sizes critical_value checks one by one before searching


def critical_value(report_fn: Callable[[Any], Any], symbol: sp.Symbol,
                   hardware: str | Hardware, dtype: str = "fp16",
                   convention: str | Convention = DEFAULT_CONVENTION,
                   memory_model: str | MemoryModel = "compulsory", *, sparse: bool = False,
                   start: int = 1, upper: int = 1 << 40, divisors: dict | None = None,
                   weight_dtype: Any = None, act_dtype: Any = None,
                   kv_dtype: Any = None) -> Any:
    """Where a workload becomes compute-bound: the threshold of `symbol` (a batch size, a
    resolution, a sequence length ...) above which ``I = FLOPs / bytes >= pi / beta``.

    ``report_fn(symbol)`` returns a `Report` (or a `Cost`) whose sizes involve `symbol`, e.g.
    ``lambda R: analyze(model, (3, R, R))``. FLOPs come from `convention`, bytes from
    `layercalc.memory.memory` (`memory_model`, dtypes). Source: seed 000's roofline (the
    ridge ``I_max = pi / beta``: below it memory-bound, above it compute-bound).

    * Numbers everywhere else (hardware and other sizes): the smallest integer ``v >= start``
      with ``FLOPs(v) >= ridge * bytes(v)``, evaluated exactly (floors included): every value
      up to ``start + 1024`` is checked one by one (strided layers make the intensity
      oscillate with the size's parity), then exponential and binary search, which assume
      the intensity does not decrease in `symbol` beyond that; None if no value up to
      `upper` is compute-bound. `start` should be a size the model accepts (the symbolic
      counts are not meaningful below it; `critical_resolution` finds it).
    * Symbols elsewhere (``pi``, ``beta`` as symbols for teaching, or other sizes): the exact
      threshold, the positive root of ``FLOPs = (pi / beta) * bytes`` solved by SymPy (its
      ceiling is the first integer), or None when there is no positive root. Floors or
      ceilings in `symbol` (strided layers) need ``divisors={symbol: k}``: the form exact on
      multiples of ``k`` (`layercalc.assume_divisible`).

    >>> from layercalc import Conv2d, analyze, symbols
    >>> R = symbols("R")
    >>> conv = Conv2d(64, 64, 3, padding=1)
    >>> critical_value(lambda r: analyze(conv, (64, r, r)), R, "a100-sxm4-80gb", "fp16")
    19
    """
    if not isinstance(symbol, sp.Symbol):
        raise ArgumentError("critical_value", f"symbol (={show(symbol)}) must be a SymPy symbol")
    start = as_dim(start, "critical_value", "start", error=ArgumentError)
    upper = as_dim(upper, "critical_value", "upper", limit=1 << 128, error=ArgumentError)
    if type(start) is not int or type(upper) is not int or upper < start:
        raise ArgumentError("critical_value", f"start (={show(start)}) must be a positive "
                            f"integer and upper (={show(upper)}) an integer >= start")
    hw = get_hardware(hardware)
    conv = get_convention(convention)
    ridge = to_expr(hw.ridge(dtype, sparse=sparse))
    dtypes = {"weight_dtype": weight_dtype, "act_dtype": act_dtype, "kv_dtype": kv_dtype}
    F, M = _intensity_parts(report_fn(symbol), conv, memory_model, dtype, dtypes)
    others = (F.free_symbols | M.free_symbols | ridge.free_symbols) - {symbol}
    if others:
        return _symbolic_threshold(F, M, ridge, symbol, divisors)

    def bound(v: int) -> bool:
        at = {symbol: sp.Integer(v)}
        f, m = F.xreplace(at), M.xreplace(at)
        ok = truth(to_expr(f) >= ridge * m)
        if ok is None:  # pragma: no cover - numbers always decide
            raise LayerCalcError(f"critical_value: cannot decide the bound at {symbol}={v}")
        return ok

    scan = min(start + _SCAN, upper)
    for v in range(start, scan + 1):  # exact where floors make the intensity non-monotone
        if bound(v):
            return v
    if scan >= upper:
        return None
    return _first_true(bound, scan + 1, upper)


def _first_true(pred: Callable[[int], bool], lo: int, upper: int) -> int | None:
    """The smallest ``v`` in ``[lo, upper]`` with ``pred(v)``, for a `pred` that is false and
    then true (exponential, then binary search); None if ``pred(upper)`` is false."""
    if pred(lo):
        return lo
    hi = min(2 * lo, upper)
    while not pred(hi):
        if hi >= upper:
            return None
        lo, hi = hi, min(2 * hi, upper)
    while hi - lo > 1:  # invariant: pred(lo) false, pred(hi) true
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _symbolic_threshold(F: Any, M: Any, ridge: Any, symbol: sp.Symbol,
                        divisors: dict | None) -> Any:
    if divisors:
        F, M = to_expr(assume_divisible(F, divisors)), to_expr(assume_divisible(M, divisors))
    if any(e.has(sp.floor, sp.ceiling) and e.atoms(sp.floor, sp.ceiling) and any(
            symbol in a.free_symbols for a in e.atoms(sp.floor, sp.ceiling)) for e in (F, M)):
        raise LayerCalcError(
            f"critical_value: FLOPs or bytes have floors or ceilings in {symbol}; pass "
            f"divisors={{{symbol}: k}} for the form exact on multiples of k, or give numbers "
            "for the other symbols")
    sols = sp.solve(sp.Eq(sp.expand(F - ridge * M), 0), symbol)
    sols = [r for r in sols if r.is_real is not False and r.is_positive is not False
            and r.is_nonpositive is not True]
    if not sols:
        return None
    if len(sols) > 1:  # a +- q pair: the crossing of a rising intensity is the larger root
        sols = [r for r in sols if all(d is r or not sp.expand(r - d).could_extract_minus_sign()
                                       for d in sols)]
    if len(sols) != 1:
        raise LayerCalcError(f"critical_value: several candidate thresholds {sols}; give "
                             "numbers for some symbols")
    return sp.simplify(sols[0])


def critical_resolution(model: Any, channels: Any, hardware: str | Hardware,
                        dtype: str = "fp16", convention: str | Convention = DEFAULT_CONVENTION,
                        memory_model: str | MemoryModel = "compulsory", *, batch: Any = 1,
                        ndim: int = 2, sparse: bool = False, divisors: dict | None = None,
                        start: int | None = None, symbol: sp.Symbol | None = None,
                        **dtypes: Any) -> Any:
    """The smallest square (cubic, ``ndim=3``; length, ``ndim=1``) input resolution ``R`` at
    which `model` on ``(channels, R, ..., R)`` is compute-bound as a whole (FLOPs/bytes of the
    network total >= the ridge), by `critical_value`: an exact int for numeric hardware, the
    exact threshold expression when ``pi``/``beta`` are symbols, None if never.
    The search starts at `start`, by default the smallest resolution the model accepts (a
    VGG needs 32: five 2x2 pools).

    Worked example, a 3x3 conv 64 -> 64 with bias in fp16 on an A100 80GB (ridge
    ``312e12 / 2039e9``): ``FLOPs = 2*64*64*9*R^2 = 73728 R^2`` and ``bytes = 2*(64 R^2 +
    36928 + 64 R^2) = 256 R^2 + 73856``, so ``R^2 >= 73856 ridge / (73728 - 256 ridge) =
    327.04``, ``R >= 18.08``: 19. With ``pi`` and ``beta`` as symbols:

    >>> import sympy as sp
    >>> from layercalc import Conv2d, Hardware
    >>> conv = Conv2d(64, 64, 3, padding=1)
    >>> critical_resolution(conv, 64, "a100-sxm4-80gb", "fp16")
    19
    >>> pi, beta = sp.symbols("pi beta", positive=True)
    >>> critical_resolution(conv, 64, Hardware("teach", {"fp16": pi}, beta, "symbols"))
    sqrt(1154)*sqrt(pi)*sqrt(1/(288*beta - pi))/2
    """
    if isinstance(ndim, bool) or ndim not in (1, 2, 3):
        raise LayerCalcError(f"critical_resolution: ndim (={ndim!r}) must be 1, 2 or 3")
    R = symbol if symbol is not None else symbols("R")

    def report(r: Any) -> Any:
        return analyze(model, (channels, *([r] * ndim)), batch=batch)

    if start is None:
        start = _smallest_valid(report)
    return critical_value(report, R, hardware, dtype, convention, memory_model, sparse=sparse,
                          divisors=divisors, start=start, **dtypes)


def _smallest_valid(report: Callable[[int], Any], limit: int = 1 << 16) -> int:
    """The smallest size the model accepts (sizes are valid from some value on)."""

    def ok(v: int) -> bool:
        try:
            report(v)
        except ShapeError:
            return False
        return True

    v = _first_true(ok, 1, limit)
    if v is None:
        raise LayerCalcError(f"critical_resolution: the model accepts no size up to {limit}")
    return v
