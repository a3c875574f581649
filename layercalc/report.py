"""Reports: one row per leaf layer, totals, grouping, and every rendering.

Nothing else in layercalc formats numbers. A `Report` is immutable; its ``total`` is the sum
of its rows, and every rendering prints totals computed from the same rows, so "total equals
the sum of rows" holds by construction (and is asserted in the tests).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from .conventions import Convention, ToolConvention, get_convention
from .cost import Cost
from .dims import Dim, as_count, subs_pairs, to_expr

__all__ = ["Row", "Report", "human"]

_SUFFIXES = ((10**15, "P"), (10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))


def human(x: Any, digits: int = 3) -> str:
    """``1234567 -> '1.23M'``: SI suffixes (10^3 steps) for numbers, the formula for symbols.

    >>> human(61264904), human(999), human(1000), human(sp.Symbol("H") * 2)
    ('61.3M', '999', '1K', '2*H')
    """
    if isinstance(x, sp.Basic) and not x.is_number:
        return str(x)
    if isinstance(x, sp.Basic):
        x = sp.nsimplify(x) if not x.is_Rational else x
        x = int(x) if x.is_Integer else float(x)
    if isinstance(x, float) and not x.is_integer():
        v = x
    else:
        v = int(x)
        if abs(v) < 1000:
            return str(v)
    for scale, suffix in _SUFFIXES:
        if abs(v) >= scale:
            s = f"{v / scale:.{digits}g}"
            return s + suffix
    return f"{v:.{digits}g}"


def _shape_str(shape: Any) -> str:
    if shape and isinstance(shape[0], tuple):
        return " & ".join(_shape_str(s) for s in shape)
    return "(" + ", ".join(str(v) for v in shape) + ("," if len(shape) == 1 else "") + ")"


def _plain(v: Any) -> Any:
    """JSON-safe: ints stay ints, symbolic values become strings."""
    if type(v) is int:
        return v
    if isinstance(v, sp.Basic) and v.is_Integer:
        return int(v)
    return str(v)


@dataclass(frozen=True)
class Row:
    """One leaf layer in a traced network: its path, the layer, shapes, and its cost (already
    scaled by the report's batch).

    ``call`` says how PyTorch would run it: ``"module"`` (an ``nn.Module`` call, the default),
    ``"functional"`` (``F.*`` / ``torch.*`` function, see `layercalc.Functional`) or
    ``"operator"`` (a Python operator such as the residual ``+``). It never changes the cost;
    it lets tool-named conventions reproduce tools that only see some of these.
    """

    path: str
    layer: Any
    input_shape: tuple
    output_shape: tuple
    cost: Cost
    call: str = "module"

    @property
    def kind(self) -> str:
        return self.layer.kind


@dataclass(frozen=True)
class Report:
    """The result of `layercalc.analyze`: rows, totals and renderings.

    ``total`` is a `Cost`; ``layercalc.flops(report, convention)`` works as on a Cost.
    """

    rows: tuple[Row, ...]
    input_shape: tuple
    output_shape: tuple
    batch: Dim = 1
    name: str = ""
    total: Cost = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", Cost.sum(r.cost for r in self.rows))

    # -- numbers -------------------------------------------------------------------------------
    def __flops__(self, convention: Convention | ToolConvention) -> Dim:
        if isinstance(convention, ToolConvention):
            return convention.report_flops(self)
        return convention.flops(self.total)

    def flops(self, convention: str | Convention | ToolConvention = "exact") -> Dim:
        """Total FLOPs under `convention`: a definition (``"exact"``, ``"macs"`` ...) or a tool's
        rules (``"fvcore"``, ``"ptflops"`` ...; see `layercalc.peers`)."""
        return self.__flops__(get_convention(convention))

    def row_flops(self, convention: str | Convention | ToolConvention = "exact") -> list[Dim]:
        """FLOPs of each row under `convention`, in row order (they sum to `flops`)."""
        conv = get_convention(convention)
        if isinstance(conv, ToolConvention):
            return conv.row_values(self)
        return [conv.flops(r.cost) for r in self.rows]

    def uncounted(self, convention: str | Convention | ToolConvention) -> dict[str, Dim]:
        """Work that `convention` counts as zero: by op kind for a definition (``{"cmp": n}``),
        by layer kind, in exact FLOPs, for a tool (``{"MaxPool2d": n}``)."""
        conv = get_convention(convention)
        if isinstance(conv, ToolConvention):
            return conv.uncounted(self)
        return conv.uncounted(self.total)

    def by_kind(self) -> dict[str, Cost]:
        """Cost per layer kind (``Conv2d``, ``ReLU`` ...), in first-seen order."""
        out: dict[str, list[Cost]] = {}
        for r in self.rows:
            out.setdefault(r.kind, []).append(r.cost)
        return {k: Cost.sum(v) for k, v in out.items()}

    def by_depth(self, depth: int) -> dict[str, Cost]:
        """Cost per path prefix of `depth` segments (``layer1``, ``layer1.0`` ...)."""
        out: dict[str, list[Cost]] = {}
        for r in self.rows:
            out.setdefault(".".join(r.path.split(".")[:depth]), []).append(r.cost)
        return {k: Cost.sum(v) for k, v in out.items()}

    def subs(self, *args: Any, **kwargs: Any) -> Report:
        """Substitute values for symbols in every row (and shapes); arguments as
        ``sympy.Expr.subs``, checked by `layercalc.dims.subs_pairs` (no strings)."""
        pairs = subs_pairs("Report.subs", args)
        args = (pairs,)

        def sub(v: Any) -> Any:
            return v if type(v) is int else to_expr(v).subs(*args, **kwargs)

        def sub_shape(s: tuple) -> tuple:
            if s and isinstance(s[0], tuple):
                return tuple(sub_shape(t) for t in s)
            return tuple(_int(sub(v)) for v in s)

        rows = tuple(
            Row(r.path, r.layer, sub_shape(r.input_shape), sub_shape(r.output_shape),
                r.cost.subs(*args, **kwargs).map(_int), r.call)
            for r in self.rows
        )
        return Report(rows, sub_shape(self.input_shape), sub_shape(self.output_shape),
                      _int(sub(self.batch)), self.name)

    @property
    def symbolic(self) -> bool:
        return bool(self.total.free_symbols)

    # -- table model ---------------------------------------------------------------------------
    def _table(self, convention: Any, depth: int | None, by_kind: bool = False):
        """(convention, total params, total FLOPs, groups); a group is (label, kind, output
        shape, summed cost, summed FLOPs)."""
        conv = get_convention(convention)
        values = self.row_flops(conv)
        total_params, total_flops = self.total.params, self.__flops__(conv)
        groups: list[list] = []
        if by_kind:
            index: dict[str, int] = {}
            for r, f in zip(self.rows, values):
                if r.kind not in index:
                    index[r.kind] = len(groups)
                    groups.append([0, r.kind, "", [], []])
                g = groups[index[r.kind]]
                g[0] += 1
                g[3].append(r.cost)
                g[4].append(f)
            for g in groups:
                g[0] = f"{g[0]} x"
        elif depth is None:
            for r, f in zip(self.rows, values):
                groups.append([r.path, r.kind, _shape_str(r.output_shape), [r.cost], [f]])
        else:
            seen: dict[str, int] = {}
            for r, f in zip(self.rows, values):
                key = ".".join(r.path.split(".")[:depth])
                if key in seen:
                    g = groups[seen[key]]
                    g[1] = "" if g[1] != r.kind else g[1]
                    g[2] = _shape_str(r.output_shape)
                    g[3].append(r.cost)
                    g[4].append(f)
                else:
                    seen[key] = len(groups)
                    groups.append([key, r.kind, _shape_str(r.output_shape), [r.cost], [f]])
        out = [(p, k, s, Cost.sum(cs) if len(cs) > 1 else cs[0], as_count(sum(fs)))
               for p, k, s, cs, fs in groups]
        return conv, total_params, total_flops, out

    # -- renderings ----------------------------------------------------------------------------
    def to_text(self, convention: str | Convention = "macs", depth: int | None = None,
                       by_kind: bool = False) -> str:
        """A table in the style of ptflops and torchinfo: human units and % columns. `depth`
        groups rows by path prefix; ``by_kind=True`` gives one row per layer kind."""
        conv, tp, tf, groups = self._table(convention, depth, by_kind)
        symbolic = self.symbolic
        head = ["Layer", "Kind", "Output shape", "Params", "MACs", f"FLOPs ({conv.name})"]
        if not symbolic:
            head[4:4] = ["% Params"]
            head.append("% FLOPs")
        body = []
        for path, kind, shape, c, f in groups:
            row = [path, kind, shape, human(c.params), human(c.macs), human(f)]
            if not symbolic:
                row[4:4] = [_pct(c.params, tp)]
                row.append(_pct(f, tf))
            body.append(row)
        total = ["Total", "", _shape_str(self.output_shape), human(tp), human(self.total.macs),
                 human(tf)]
        if not symbolic:
            total[4:4] = ["100%"]
            total.append("100%")
        widths = [max(len(str(r[i])) for r in [head, total, *body]) for i in range(len(head))]

        def line(r: list[str]) -> str:
            cells = [str(c).ljust(w) if i < 3 else str(c).rjust(w)
                     for i, (c, w) in enumerate(zip(r, widths))]
            return "  ".join(cells).rstrip()

        rule = "-" * len(line(head))
        title = f"{self.name or 'model'}: input {_shape_str(self.input_shape)}, batch {self.batch}"
        out = [title, rule, line(head), rule, *map(line, body), rule, line(total), rule]
        out += self._footer(conv, tp)
        return "\n".join(out)

    def _footer(self, conv: Any, tp: Dim) -> list[str]:
        lines = [
            f"Params: {_exact(tp)}   Buffers: {_exact(self.total.buffers)}   "
            f"MACs: {_exact(self.total.macs)}   FLOPs ({conv.name}): "
            f"{_exact(self.__flops__(conv))}",
            f"Memory traffic (elements, compulsory): reads {_exact(self.total.reads)}, "
            f"writes {_exact(self.total.writes)}",
        ]
        if isinstance(conv, ToolConvention):
            missed = conv.uncounted(self)
            if missed:
                lines.append(f"Counted as 0 by '{conv.name}' (exact FLOPs of that work): "
                             + "; ".join(f"{k} {human(v)}" for k, v in missed.items()))
            return lines + [f"Note: {n}" for n in self.total.notes]
        missed = conv.uncounted(self.total)
        if missed:
            kinds = {}
            for k in missed:
                owners = sorted({r.kind for r in self.rows
                                 if (r.cost.ops.get(k) if k != "bias_adds" else r.cost.bias_adds)})
                kinds[k] = owners
            parts = [f"{k} {human(v)} ({', '.join(kinds[k])})" for k, v in missed.items()]
            lines.append(f"Not counted under '{conv.name}': " + "; ".join(parts))
        notes = self.total.notes
        if notes:
            lines += [f"Note: {n}" for n in notes]
        return lines

    def __str__(self) -> str:
        return self.to_text()

    def to_markdown(self, convention: str | Convention = "macs", depth: int | None = None,
                           by_kind: bool = False) -> str:
        conv, tp, tf, groups = self._table(convention, depth, by_kind)
        head = ["Layer", "Kind", "Output shape", "Params", "MACs", f"FLOPs ({conv.name})"]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for path, kind, shape, c, f in groups:
            cells = [f"`{path}`", kind, shape, _md(c.params), _md(c.macs), _md(f)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("| **Total** | | " + _shape_str(self.output_shape) + f" | {_md(tp)} | "
                     f"{_md(self.total.macs)} | {_md(tf)} |")
        return "\n".join(lines)

    def _columns(self) -> list[str]:
        kinds = sorted({k for r in self.rows for k in r.cost.ops})
        return ["params", "buffers", "macs", "dots", "bias_adds", "weight_reads", "act_reads",
                "writes", "tap_reads", *[f"ops.{k}" for k in kinds]]

    def to_csv(self, convention: str | Convention = "macs") -> str:
        conv = get_convention(convention)
        values = self.row_flops(conv)
        cols = self._columns()
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["path", "kind", "input_shape", "output_shape", *cols, f"flops[{conv.name}]"])
        for r, f in zip(self.rows, values):
            counts = r.cost.counts()
            w.writerow([r.path, r.kind, _shape_str(r.input_shape), _shape_str(r.output_shape),
                        *[_plain(counts.get(c, 0)) for c in cols], _plain(f)])
        counts = self.total.counts()
        w.writerow(["Total", "", _shape_str(self.input_shape), _shape_str(self.output_shape),
                    *[_plain(counts.get(c, 0)) for c in cols], _plain(self.__flops__(conv))])
        return buf.getvalue()

    def to_dict(self, conventions: tuple[str, ...] = ("exact", "macs", "2*macs")) -> dict:
        convs = [get_convention(c) for c in conventions]
        per_row = {c.name: self.row_flops(c) for c in convs}

        def describe(c: Any) -> dict:
            if isinstance(c, ToolConvention):
                return {"tool": c.tool, "unit": c.unit, "batch": c.batch}
            return {"mac": c.mac, "dot": c.dot, "bias": c.bias, "ops": dict(c.ops)}

        return {
            "model": self.name,
            "input_shape": [_plain(v) for v in self.input_shape],
            "output_shape": [_plain(v) for v in self.output_shape],
            "batch": _plain(self.batch),
            "conventions": {c.name: describe(c) for c in convs},
            "total": {**{k: _plain(v) for k, v in self.total.counts().items()},
                      "flops": {c.name: _plain(self.__flops__(c)) for c in convs}},
            "notes": list(self.total.notes),
            "rows": [
                {
                    "path": r.path,
                    "kind": r.kind,
                    "layer": repr(r.layer),
                    "input_shape": _shape_json(r.input_shape),
                    "output_shape": _shape_json(r.output_shape),
                    "counts": {k: _plain(v) for k, v in r.cost.counts().items()},
                    "flops": {c.name: _plain(per_row[c.name][i]) for c in convs},
                }
                for i, r in enumerate(self.rows)
            ],
        }

    def to_json(self, conventions: tuple[str, ...] = ("exact", "macs", "2*macs"),
                indent: int = 2) -> str:
        """JSON with the input shape, batch and conventions, so a result can be reproduced."""
        return json.dumps(self.to_dict(conventions), indent=indent)

    def to_latex(self, convention: str | Convention = "macs", depth: int | None = None,
                        by_kind: bool = False) -> str:
        conv, tp, tf, groups = self._table(convention, depth, by_kind)
        lines = [r"\begin{tabular}{llrrr}", r"\hline",
                 rf"Layer & Kind & Params & MACs & FLOPs ({_tex_text(conv.name)}) \\", r"\hline"]
        for path, kind, _shape, c, f in groups:
            lines.append(rf"\texttt{{{_tex_text(path)}}} & {kind} & {_tex(c.params)} & "
                         rf"{_tex(c.macs)} & {_tex(f)} \\")
        lines += [r"\hline", rf"Total & & {_tex(tp)} & {_tex(self.total.macs)} & {_tex(tf)} \\",
                  r"\hline", r"\end{tabular}"]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        conv, tp, tf, groups = self._table("macs", None)
        head = "".join(f"<th>{h}</th>" for h in
                       ["Layer", "Kind", "Output shape", "Params", "MACs", "FLOPs (macs)"])
        rows = "".join(
            f"<tr><td><code>{p}</code></td><td>{k}</td><td>{s}</td><td>{human(c.params)}</td>"
            f"<td>{human(c.macs)}</td><td>{human(f)}</td></tr>"
            for p, k, s, c, f in groups)
        total = (f"<tr><th>Total</th><td></td><td>{_shape_str(self.output_shape)}</td>"
                 f"<th>{human(tp)}</th><th>{human(self.total.macs)}</th><th>{human(tf)}</th></tr>")
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}{total}</tbody></table>"

    def to_dataframe(self, convention: str | Convention = "macs"):
        """The rows as a pandas DataFrame (needs the optional ``pandas`` extra)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("to_dataframe() needs pandas: pip install 'layercalc[pandas]'") from None
        conv = get_convention(convention)
        values = self.row_flops(conv)
        cols = self._columns()
        records = []
        for r, f in zip(self.rows, values):
            counts = r.cost.counts()
            rec = {"path": r.path, "kind": r.kind, "input_shape": r.input_shape,
                   "output_shape": r.output_shape}
            rec.update({c: counts.get(c, 0) for c in cols})
            rec[f"flops[{conv.name}]"] = f
            records.append(rec)
        return pd.DataFrame.from_records(records)


def _int(v: Any) -> Any:
    if isinstance(v, sp.Basic) and v.is_Integer:
        return int(v)
    return v


def _shape_json(s: tuple) -> Any:
    if s and isinstance(s[0], tuple):
        return [_shape_json(t) for t in s]
    return [_plain(v) for v in s]


def _pct(part: Any, whole: Any) -> str:
    if type(part) is int and type(whole) is int:
        return "0%" if whole == 0 else f"{100 * part / whole:.2f}%"
    return ""


def _exact(v: Any) -> str:
    return f"{v:,}" if type(v) is int else str(v)


def _md(v: Any) -> str:
    return human(v) if type(v) is int else f"`{v}`"


def _tex(v: Any) -> str:
    return human(v) if type(v) is int else f"${sp.latex(v)}$"


def _tex_text(s: str) -> str:
    return s.replace("_", r"\_").replace("*", r"$\ast$")


