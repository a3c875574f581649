"""One model under every convention, side by side, with each difference explained by layer kind.

"Why does tool A say 4.09 G and tool B 4.13 G?" Every convention is a sum over the same report
rows, so the difference between two conventions is a sum over layer kinds. `compare` computes
that sum and, where it can, names it in the units people reason in: "BatchNorm2d: 2 x its input
elements", "Linear: 1 x bias adds".

>>> from layercalc import analyze, zoo
>>> c = compare(analyze(zoo.resnet50(), (3, 224, 224)))
>>> c.totals["fvcore"] - c.totals["torchvision"]
22328320
>>> print(c.explain("fvcore", "torchvision"))
fvcore - torchvision = 22,328,320
  BatchNorm2d: +22,227,968 = 2 x input elements
  AdaptiveAvgPool2d: +100,352 = 1 x input elements
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from .conventions import CONVENTIONS, ToolConvention, get_convention
from .dims import Dim, as_count, prod, to_expr
from .report import Report, _plain, human

__all__ = ["compare", "Comparison"]


def _exact(v: Any) -> str:
    return f"{v:,}" if type(v) is int else str(v)


def _signed(v: Any) -> str:
    return (f"+{v:,}" if v > 0 else f"{v:,}") if type(v) is int else f"+({v})"


def _numel(shape: tuple) -> Dim:
    if shape and isinstance(shape[0], tuple):
        shape = shape[0]
    return prod(shape)


@dataclass(frozen=True)
class Comparison:
    """A report's totals under several conventions and their breakdown by layer kind.

    ``totals[name]`` is the total under convention ``name``; ``by_kind[kind][name]`` the part
    of it that layers of ``kind`` contribute (the kinds sum to the total, for every name).
    """

    report: Report
    names: tuple[str, ...]
    totals: dict[str, Dim] = field(init=False)
    by_kind: dict[str, dict[str, Dim]] = field(init=False)

    def __post_init__(self) -> None:
        totals: dict[str, Dim] = {}
        by_kind: dict[str, dict[str, list]] = {}
        for name in self.names:
            values = self.report.row_flops(name)
            totals[name] = as_count(sum(values))
            for row, v in zip(self.report.rows, values):
                by_kind.setdefault(row.kind, {}).setdefault(name, []).append(v)
        object.__setattr__(self, "totals", totals)
        object.__setattr__(self, "by_kind", {
            k: {n: as_count(sum(vs)) for n, vs in d.items()} for k, d in by_kind.items()})

    # -- explanations ----------------------------------------------------------------------------
    def difference(self, a: str, b: str) -> dict[str, Dim]:
        """Per layer kind, convention `a` minus convention `b` (non-zero entries only)."""
        a, b = get_convention(a).name, get_convention(b).name
        out = {}
        for kind, d in self.by_kind.items():
            diff = as_count(d[a] - d[b])
            if not (type(diff) is int and diff == 0) and sp.simplify(diff) != 0:
                out[kind] = diff
        return out

    def _units(self, kind: str) -> list[tuple[str, Dim]]:
        rows = [r for r in self.report.rows if r.kind == kind]
        batch = self.report.batch
        macs = as_count(sum(r.cost.macs for r in rows))
        n_in = as_count(sum(_numel(r.input_shape) for r in rows) * batch)
        n_out = as_count(sum(_numel(r.output_shape) for r in rows) * batch)
        units = [
            ("MACs", macs),
            ("bias adds", as_count(sum(r.cost.bias_adds for r in rows))),
            ("input elements", n_in),
            ("output elements", n_out),
            ("(input + output elements)", as_count(n_in + n_out)),
        ]
        return [(u, n) for u, n in units if not (type(n) is int and n == 0)]

    def _name_multiple(self, kind: str, diff: Dim) -> str:
        for unit, n in self._units(kind):
            q = (sp.cancel(to_expr(diff) / n) if type(n) is not int or n else None)
            if q is not None and q.is_Rational and q != 0 and q.q <= 2 and abs(q) <= 8:
                return f"{q} x {unit}"
        return ""

    def explain(self, a: str, b: str) -> str:
        """Why `a` and `b` differ: the total difference, then each layer kind's share, named
        as a multiple of that kind's MACs, input or output elements or bias adds when it is
        one.

        >>> from layercalc import analyze, zoo
        >>> print(compare(analyze(zoo.vgg11(), (3, 224, 224))).explain("ptflops", "macs"))
        ptflops - macs = 34,596,840
          Conv2d: +7,426,048 = 1 x bias adds
          ReLU: +14,868,480 = 2 x input elements
          MaxPool2d: +12,242,944 = 2 x input elements
          AdaptiveAvgPool2d: +50,176 = 2 x input elements
          Linear: +9,192 = 1 x bias adds
        """
        a, b = get_convention(a).name, get_convention(b).name
        lines = [f"{a} - {b} = {_exact(as_count(self.totals[a] - self.totals[b]))}"]
        for kind, diff in self.difference(a, b).items():
            named = self._name_multiple(kind, diff)
            lines.append(f"  {kind}: {_signed(diff)}" + (f" = {named}" if named else ""))
        if len(lines) == 1:
            lines.append("  (no difference)")
        return "\n".join(lines)

    # -- renderings ------------------------------------------------------------------------------
    def to_text(self, baseline: str | None = None) -> str:
        """Totals (exact and human), each convention's unit, then the per-kind table; with a
        `baseline`, every other convention's difference from it explained by kind."""
        r = self.report
        head = f"{r.name or 'model'}: input {r.input_shape}, batch {r.batch}"
        width = max(len(n) for n in self.names)
        lines = [head, "", f"{'convention':<{width}}  {'total':>18}  {'':>7}  counts"]
        for n in self.names:
            conv = get_convention(n)
            unit = conv.unit if isinstance(conv, ToolConvention) else (conv.description
                                                                       .split(";")[0])
            lines.append(f"{n:<{width}}  {_exact(self.totals[n]):>18}  "
                         f"{human(self.totals[n]):>7}  {unit}")
        kinds = list(self.by_kind)
        lines += ["", "By layer kind:"]
        kw = max(len(k) for k in kinds) if kinds else 4
        cols = [f"{n:>{max(len(n), 8)}}" for n in self.names]
        lines.append(f"{'kind':<{kw}}  " + "  ".join(cols))
        for k in kinds:
            cells = [f"{human(self.by_kind[k][n]):>{max(len(n), 8)}}" for n in self.names]
            lines.append(f"{k:<{kw}}  " + "  ".join(cells))
        if baseline is not None:
            base = get_convention(baseline).name
            for n in self.names:
                if n != base:
                    lines += ["", self.explain(n, base)]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def to_dict(self) -> dict:
        return {
            "model": self.report.name,
            "input_shape": [_plain(v) for v in self.report.input_shape],
            "batch": _plain(self.report.batch),
            "totals": {n: _plain(v) for n, v in self.totals.items()},
            "by_kind": {k: {n: _plain(v) for n, v in d.items()}
                        for k, d in self.by_kind.items()},
        }

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def compare(report: Report, conventions: Any = None) -> Comparison:
    """`report` under each of `conventions` (default: every registered one), side by side.

    Returns a `Comparison`: ``totals``, ``by_kind``, ``difference(a, b)``, ``explain(a, b)``,
    ``to_text(baseline=...)``, ``to_dict()``.
    """
    if not isinstance(report, Report):
        from .errors import LayerSpecError

        raise LayerSpecError("compare", f"report must be a Report (from analyze), got "
                             f"{type(report).__name__}")
    names = tuple(CONVENTIONS) if conventions is None else tuple(
        get_convention(c).name for c in conventions)
    return Comparison(report, names)
