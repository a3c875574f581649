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

from . import format as fmt
from ._version import __version__
from .conventions import DEFAULT_CONVENTION
from .dims import Dim, as_count, prod, to_expr
from .errors import LayerSpecError
from .peers import ToolConvention
from .registry import CONVENTIONS, get_convention
from .report import Report
from .table import Column, Table, TableRenderers

__all__ = ["compare", "Comparison", "COMPARISON_SCHEMA"]

#: The schema id of `Comparison.to_dict` / `Comparison.to_json` (docs/json-schema.md).
COMPARISON_SCHEMA = "layercalc.comparison/1"
_WIDTH = 100  # characters of a formula in an explanation before it is abbreviated


def _signed(v: Any, full: bool = False) -> str:
    if type(v) is int:
        return f"+{v:,}" if v > 0 else f"{v:,}"
    return f"+({fmt.expr(v, _WIDTH, full=full)})"


def _unit(conv: Any) -> str:
    return conv.unit if isinstance(conv, ToolConvention) else conv.description.split(";")[0]


def _numel(shape: tuple) -> Dim:
    if shape and isinstance(shape[0], tuple):
        shape = shape[0]
    return prod(shape)


@dataclass(frozen=True)
class Comparison(TableRenderers):
    """A report's totals under several conventions and their breakdown by layer kind.

    ``totals[name]`` is the total under convention ``name``; ``by_kind[kind][name]`` the part
    of it that layers of ``kind`` contribute (the kinds sum to the total, for every name).
    ``repr`` is one line, ``str`` the text tables, and Jupyter shows the totals as an HTML
    table with the per-kind table folded below.
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

    def explain(self, a: str, b: str, *, full: bool = False) -> str:
        """Why `a` and `b` differ: the total difference, then each layer kind's share, named
        as a multiple of that kind's MACs, input or output elements or bias adds when it is
        one. Formulas longer than 100 characters are abbreviated unless `full`.

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
        total = as_count(self.totals[a] - self.totals[b])
        lines = [f"{a} - {b} = {fmt.exact(total, width=_WIDTH, full=full)}"]
        for kind, diff in self.difference(a, b).items():
            named = self._name_multiple(kind, diff)
            lines.append(f"  {kind}: {_signed(diff, full)}" + (f" = {named}" if named else ""))
        if len(lines) == 1:
            lines.append("  (no difference)")
        return "\n".join(lines)

    # -- the table model -------------------------------------------------------------------------
    def title(self) -> str:
        r = self.report
        return f"{r.name or 'model'}: input {fmt.shape(r.input_shape)}, batch {r.batch}"

    def table(self, by_kind: bool = False, *, full: bool = False) -> Table:
        """The totals (convention, exact total, rounded, what it counts) as a
        `layercalc.table.Table`; ``by_kind=True``: one row per layer kind, one column per
        convention."""
        default = get_convention(DEFAULT_CONVENTION).name
        if by_kind:
            cols = [Column("kind", "Kind"), *(Column(n, n, "count") for n in self.names)]
            rows = [(k, *(self.by_kind[k][n] for n in self.names)) for k in self.by_kind]
            total = ("Total", *(self.totals[n] for n in self.names))
            return Table(cols, rows, total, "By layer kind")
        cols = [Column("convention", "Convention"), Column("total", "FLOPs", "exact"),
                Column("rounded", "Rounded", "count"), Column("counts", "Counts")]
        rows = [(n + (" (default)" if n == default else ""), self.totals[n], self.totals[n],
                 _unit(get_convention(n))) for n in self.names]
        n = len(self.names)
        header = [f"FLOPs under {n} convention{'s' if n != 1 else ''} (`layercalc list "
                  "conventions`); "
                  f"every other output uses '{default}' unless told otherwise"]
        return Table(cols, rows, None, self.title(), header)

    def to_text(self, baseline: str | None = None, *, full: bool = False) -> str:
        """Totals (exact and rounded), each convention's unit, then the per-kind table; with
        a `baseline`, every other convention's difference from it explained by kind."""
        parts = [self.table(full=full).to_text(full=full),
                 self.table(by_kind=True, full=full).to_text(full=full)]
        parts += self._explanations(baseline, full)
        return "\n\n".join(parts)

    def _explanations(self, baseline: str | None, full: bool) -> list[str]:
        if baseline is None:
            return []
        base = get_convention(baseline).name
        return [self.explain(n, base, full=full) for n in self.names if n != base]

    def to_markdown(self, baseline: str | None = None, *, full: bool = False) -> str:
        parts = [self.table(full=full).to_markdown(full=full),
                 self.table(by_kind=True, full=full).to_markdown(full=full)]
        parts += [f"```\n{e}\n```" for e in self._explanations(baseline, full)]
        return "\n\n".join(parts)

    def to_html(self, baseline: str | None = None, *, full: bool = False) -> str:
        """The totals table, then the per-kind table (and the explanations against
        `baseline`) in collapsed ``<details>``."""
        import html

        parts = [self.table(full=full).to_html(full=full),
                 "<details><summary>By layer kind</summary>\n"
                 + self.table(by_kind=True, full=full).to_html(full=full) + "\n</details>"]
        explanations = self._explanations(baseline, full)
        if explanations:
            parts.append(f"<details><summary>Differences from {html.escape(str(baseline))}"
                         "</summary><pre>" + html.escape("\n\n".join(explanations))
                         + "</pre></details>")
        return '<div class="layercalc-comparison">\n' + "\n".join(parts) + "\n</div>"

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        r = self.report
        numeric = {n: v for n, v in self.totals.items() if type(v) is int}
        parts = [f"{len(self.names)} conventions"]
        if numeric:
            lo = min(numeric, key=numeric.__getitem__)
            hi = max(numeric, key=numeric.__getitem__)
            parts.append(f"{fmt.count(numeric[lo])} ({lo}) to {fmt.count(numeric[hi])} ({hi})")
        return fmt.brief("Comparison", r.name, parts)

    def _repr_latex_(self) -> str | None:
        """Each convention's total as a formula when the sizes are symbolic (None otherwise)."""
        if not any(fmt.is_symbolic(v) for v in self.totals.values()):
            return None
        body = r" \\ ".join(rf"\text{{{n}}} &= {sp.latex(to_expr(v))}"
                             for n, v in self.totals.items())
        return rf"$\displaystyle \begin{{aligned}} {body} \end{{aligned}}$"

    def to_dict(self) -> dict:
        """JSON-safe, schema ``layercalc.comparison/1`` (docs/json-schema.md)."""
        return {
            "schema": COMPARISON_SCHEMA,
            "layercalc": __version__,
            "model": self.report.name,
            "input_shape": [fmt.plain(v) for v in self.report.input_shape],
            "batch": fmt.plain(self.report.batch),
            "default_convention": get_convention(DEFAULT_CONVENTION).name,
            "units": {n: _unit(get_convention(n)) for n in self.names},
            "totals": {n: fmt.plain(v) for n, v in self.totals.items()},
            "by_kind": {k: {n: fmt.plain(v) for n, v in d.items()}
                        for k, d in self.by_kind.items()},
        }

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def compare(report: Report, conventions: Any = None) -> Comparison:
    """`report` under each of `conventions` (default: every registered one), side by side.

    Returns a `Comparison`: ``totals``, ``by_kind``, ``difference(a, b)``, ``explain(a, b)``,
    ``to_text(baseline=...)``, ``to_dict()``.
    """
    if not isinstance(report, Report):
        raise LayerSpecError("compare", f"report must be a Report (from analyze), got "
                             f"{type(report).__name__}")
    names = tuple(CONVENTIONS) if conventions is None else tuple(
        get_convention(c).name for c in conventions)
    return Comparison(report, names)
