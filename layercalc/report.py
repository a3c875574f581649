"""Reports: one row per leaf layer, totals, grouping, and every rendering.

A `Report` is immutable; its ``total`` is the sum of its rows, and every rendering prints
totals computed from the same rows, so "total equals the sum of rows" holds by construction
(and is asserted in the tests). Renderings go through one table model (`layercalc.table`) and
one set of number formats (`layercalc.format`): ``to_text``, ``to_markdown``, ``to_latex``,
``to_html`` and Jupyter's display round to 3 significant figures and abbreviate long formulas
(``full=True`` prints them whole); ``to_csv``, ``to_json`` and ``to_dict`` carry exact values.
Every rendering takes ``convention`` (default `DEFAULT_CONVENTION`, ``"exact"``, and says so
in its header), ``depth`` (group rows by path prefix) and ``by_kind`` (one row per layer
kind). The JSON layout is versioned: ``"schema": "layercalc.report/1"`` (docs/json-schema.md).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import sympy as sp

from . import format as fmt
from ._version import __version__
from .conventions import DEFAULT_CONVENTION, Convention
from .cost import Cost
from .dims import Dim, as_count, subs_pairs, to_expr, truth
from .dims import fmt as show_shape
from .errors import LayerCalcError, MissingDependencyError, ShapeError, _LayerError
from .peers import ToolConvention
from .registry import convention_note, get_convention
from .table import Column, Table, TableRenderers, html_levels

__all__ = ["Row", "Report", "Assumption", "REPORT_SCHEMA", "human"]

#: The schema id of `Report.to_dict` / `Report.to_json` (docs/json-schema.md).
REPORT_SCHEMA = "layercalc.report/1"

#: ``human(x)`` is `layercalc.format.count` (kept for code written before the format module).
human = fmt.count
_plain = fmt.plain  # kept for code written before the format module

_FOOTER_WIDTH = 100  # characters of a formula in a footer line before it is abbreviated


def _shape_str(shape: Any) -> str:
    return fmt.shape(shape, full=True)


@dataclass(frozen=True)
class Row:
    """One leaf layer in a traced network: its path, the layer, shapes, and its cost (already
    scaled by the report's batch).

    ``call`` says how PyTorch would run it: ``"module"`` (an ``nn.Module`` call, the default),
    ``"functional"`` (``F.*`` / ``torch.*`` function, see `layercalc.Functional`) or
    ``"operator"`` (a Python operator such as the residual ``+``). It never changes the cost;
    it lets tool-named conventions reproduce tools that only see some of these.

    ``sources`` is the dataflow: one entry per input tensor of the row (in the order of the
    layer's inputs), the index in ``Report.rows`` of the row that produced it, or ``None`` for
    a tensor that comes from outside the report (the model's input, or a memory passed in).
    Paths need not be unique (one PyTorch module called several times keeps one path), row
    indices are. Liveness (`layercalc.peak_memory`), saved activations and fusion read it.

    ``once`` marks work done once per forward pass rather than once per sample (a bias table
    or mask shared by the whole batch, as in Swin): its cost is not scaled by the batch.

    ``ports`` completes ``sources``, entry by entry: which output of the producing row the
    tensor is (a multi-output row such as `Split` has ``output_shape`` a tuple of shapes, one
    per output), or, where the source is ``None``, which model input (0 for the first). Empty
    means every port is 0.

    ``side`` marks a row that only feeds a side output of a `layercalc.Graph` (Inception's
    auxiliary classifier): its parameters and buffers count, its work does not (it does not
    run at inference), so its cost holds ``params`` and ``buffers`` only.
    """

    path: str
    layer: Any
    input_shape: tuple
    output_shape: tuple
    cost: Cost
    call: str = "module"
    sources: tuple = ()
    once: bool = False
    ports: tuple = ()
    side: bool = False

    @property
    def kind(self) -> str:
        return self.layer.kind

    def port(self, i: int) -> int:
        """The port of input `i` (see ``ports``)."""
        return self.ports[i] if i < len(self.ports) else 0

    @classmethod
    def _of(cls, path: str, layer: Any, input_shape: tuple, output_shape: tuple, cost: Cost,
            call: str, sources: tuple, ports: tuple, side: bool, once: bool = False) -> Row:
        """``Row(...)`` with every field given, without the frozen dataclass's per-field
        ``object.__setattr__`` calls (the tracer makes one row per leaf: a quarter of a
        numeric ResNet-50 analysis went into them). Same object, same equality."""
        row = object.__new__(cls)
        row.__dict__.update(path=path, layer=layer, input_shape=input_shape,
                            output_shape=output_shape, cost=cost, call=call, sources=sources,
                            ports=ports, side=side, once=once)
        return row


class Assumption(NamedTuple):
    """A relation between sizes that a symbolic analysis could not decide and went on
    assuming: ``relation`` (SymPy) at the row ``path`` (index ``row``), whose inputs came from
    ``producers``. `Report.subs` checks it when values are substituted."""

    path: str
    relation: Any
    row: int
    producers: tuple = ()

    def __str__(self) -> str:
        return f"{self.path}: assumes {self.relation} (inputs from {' and '.join(self.producers)})"


@dataclass(frozen=True)
class _Group:
    """Rows summed for one line of a rendering: a leaf, a path prefix or a layer kind."""

    path: str | None
    kind: str | None
    layers: int
    input_shape: Any
    output_shape: Any
    cost: Cost
    flops: dict[str, Any]
    layer: Any = None


@dataclass(frozen=True)
class Report(TableRenderers):
    """The result of `layercalc.analyze`: rows, totals and renderings.

    ``total`` is a `Cost`; ``layercalc.flops(report, convention)`` works as on a Cost.
    ``repr(report)`` is one line; ``str(report)`` the text table; in Jupyter a report shows
    as an HTML table grouped by top-level path, with the finer levels folded below it.
    """

    rows: tuple[Row, ...]
    input_shape: tuple
    output_shape: tuple
    batch: Dim = 1
    name: str = ""
    total: Cost = field(init=False)
    #: relations between sizes the analysis assumed (symbolic merges), see `Assumption`
    assumptions: tuple = ()
    #: notes made by the trace itself (side outputs skipped at inference ...)
    trace_notes: tuple = ()
    #: per model output, ``(row index or None, port)`` of the tensor (as `Row.sources`/`ports`)
    output_sources: tuple = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", Cost.sum(r.cost for r in self.rows))

    @property
    def notes(self) -> tuple[str, ...]:
        """Everything the numbers depend on, as text: the layers' modelling notes (the total's),
        the trace's notes (side outputs) and every assumption of a symbolic analysis."""
        return (*self.total.notes, *self.trace_notes, *(str(a) for a in self.assumptions))

    # -- numbers -------------------------------------------------------------------------------
    def __flops__(self, convention: Convention | ToolConvention) -> Dim:
        if isinstance(convention, ToolConvention):
            return convention.report_flops(self)
        return convention.flops(self.total)

    def flops(self, convention: str | Convention | ToolConvention = DEFAULT_CONVENTION) -> Dim:
        """Total FLOPs under `convention`: a definition (``"exact"``, ``"macs"`` ...) or a tool's
        rules (``"fvcore"``, ``"ptflops"`` ...; see `layercalc.peers`)."""
        return self.__flops__(get_convention(convention))

    def row_flops(self, convention: str | Convention | ToolConvention = DEFAULT_CONVENTION
                  ) -> list[Dim]:
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
        ``sympy.Expr.subs``, checked by `layercalc.dims.subs_pairs` (no strings).

        Every `Assumption` is checked: one that becomes false raises the `ShapeError` the
        numeric analysis raises at those values (naming the row's path and the producers of
        its inputs); an undecided one is kept, substituted; a true one is dropped."""
        pairs = subs_pairs("Report.subs", args)
        args = (pairs,)

        def sub(v: Any) -> Any:
            return v if type(v) is int else to_expr(v).subs(*args, **kwargs)

        def sub_shape(s: tuple) -> tuple:
            if s and isinstance(s[0], tuple):
                return tuple(sub_shape(t) for t in s)
            return tuple(_int(sub(v)) for v in s)

        rows = tuple(
            replace(r, input_shape=sub_shape(r.input_shape),
                    output_shape=sub_shape(r.output_shape),
                    cost=r.cost.subs(*args, **kwargs).map(_int))
            for r in self.rows
        )
        kept = []
        for a in self.assumptions:
            rel = a.relation.subs(*args, **kwargs)
            t = truth(rel)
            if t is False:
                self._violated(a, rows[a.row], rel, args, kwargs)
            if t is None:
                kept.append(a._replace(relation=rel))
        return Report(rows, sub_shape(self.input_shape), sub_shape(self.output_shape),
                      _int(sub(self.batch)), self.name, assumptions=tuple(kept),
                      trace_notes=self.trace_notes, output_sources=self.output_sources)

    @staticmethod
    def _violated(a: Assumption, row: Row, rel: Any, args: tuple, kwargs: dict) -> None:
        values = kwargs or (args[0] if len(args) == 1 and isinstance(args[0], dict) else args)
        if isinstance(values, dict):
            at = ", ".join(f"{k}={v}" for k, v in values.items())
        else:
            at = show_shape(tuple(values))
        where = f"{a.path} ({row.kind})"
        frm = " from " + " and ".join(a.producers)
        hint = (f"The symbolic analysis assumed {a.relation}, which is false at {at}; "
                "the numeric analysis at these sizes fails the same way.")
        ins = row.input_shape if row.input_shape and isinstance(row.input_shape[0], tuple) \
            else (row.input_shape,)
        try:
            row.layer.output_shape(*ins)
        except _LayerError as e:
            raise type(e)(where, e.problem + frm, hint) from None
        shown = " and ".join(show_shape(s) for s in ins)
        raise ShapeError(where, f"input shapes {shown}{frm} do not fit: {rel} is false", hint)

    @property
    def symbolic(self) -> bool:
        return bool(self.total.free_symbols)


    # -- grouping ------------------------------------------------------------------------------
    def _groups(self, conventions: list[Any], depth: int | None = None,
                by_kind: bool = False) -> list[_Group]:
        """Rows summed per line: each leaf (default), each path prefix of `depth` segments,
        or each layer kind; with each convention's FLOPs (keyed by name)."""
        if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int)
                                  or depth < 1):
            raise LayerCalcError(f"Report: depth (={depth!r}) must be a positive integer or "
                                 "None")
        values = {c.name: self.row_flops(c) for c in conventions}
        if depth is None and not by_kind:
            return [_Group(r.path, r.kind, 1, r.input_shape, r.output_shape, r.cost,
                           {n: v[i] for n, v in values.items()}, r.layer)
                    for i, r in enumerate(self.rows)]
        order: dict[str, list[int]] = {}
        for i, r in enumerate(self.rows):
            key = r.kind if by_kind else ".".join(r.path.split(".")[:depth])
            order.setdefault(key, []).append(i)
        out = []
        for key, idx in order.items():
            rows = [self.rows[i] for i in idx]
            kinds = {r.kind for r in rows}
            cost = rows[0].cost if len(rows) == 1 else Cost.sum(r.cost for r in rows)
            flops = {n: as_count(sum(v[i] for i in idx)) for n, v in values.items()}
            out.append(_Group(
                None if by_kind else key, kinds.pop() if len(kinds) == 1 else None, len(rows),
                rows[0].input_shape, rows[-1].output_shape, cost, flops,
                rows[0].layer if len(rows) == 1 and not by_kind else None))
        return out

    # -- the table model -----------------------------------------------------------------------
    def title(self) -> str:
        """``resnet50: input (3, 224, 224), batch 1``."""
        return f"{self.name or 'model'}: input {fmt.shape(self.input_shape)}, batch {self.batch}"

    def table(self, convention: str | Convention | ToolConvention = DEFAULT_CONVENTION,
              depth: int | None = None, by_kind: bool = False, *, full: bool = False) -> Table:
        """The report as a `layercalc.table.Table`: one line per row (or per path prefix of
        `depth` segments, or per layer kind), params, MACs and FLOPs under `convention` with
        their shares, the total, and a footer with the exact totals, memory traffic and the
        work `convention` does not count. When FLOPs equal MACs in every line (``"macs"``,
        ``"torchvision"`` on a conv net) one column shows both."""
        conv = get_convention(convention)
        groups = self._groups([conv], depth, by_kind)
        tp, tm, tf = self.total.params, self.total.macs, self.__flops__(conv)
        merged = _same(tm, tf) and all(_same(g.cost.macs, g.flops[conv.name]) for g in groups)
        numeric = not self.symbolic
        cols = [Column("path", "Layer"), Column("kind", "Kind"),
                Column("output_shape", "Output shape", "shape"),
                Column("params", "Params", "params")]
        if numeric:
            cols.append(Column("params_pct", "% Params", "percent"))
        cols.append(Column("macs", "MACs", "count"))
        if merged and numeric:
            cols.append(Column("macs_pct", "% MACs", "percent"))
        if not merged:
            cols.append(Column("flops", f"FLOPs ({conv.name})", "count"))
            if numeric:
                cols.append(Column("flops_pct", "% FLOPs", "percent"))

        def line(label: Any, kind: Any, shape: Any, cost: Cost, f: Any) -> tuple:
            out: list[Any] = [label, kind, shape, cost.params]
            if numeric:
                out.append(_fraction(cost.params, tp))
            out.append(cost.macs)
            if merged and numeric:
                out.append(_fraction(cost.macs, tm))
            if not merged:
                out.append(f)
                if numeric:
                    out.append(_fraction(f, tf))
            return tuple(out)

        rows = [line(f"{g.layers} x" if by_kind else g.path, g.kind or "", g.output_shape,
                     g.cost, g.flops[conv.name]) for g in groups]
        total = line("Total", "", self.output_shape, self.total, tf)
        header = [convention_note(conv)]
        if merged:
            header[0] += "; FLOPs equal MACs in every row, so one column shows both"
        if by_kind:
            header.append(f"Rows: one per layer kind ({len(self.rows)} layers)")
        elif depth is not None:
            header.append(f"Rows: path prefixes of depth {depth} ({len(self.rows)} layers)")
        return Table(cols, rows, total, self.title(), header, self._footer(conv, full))

    def _footer(self, conv: Any, full: bool = False) -> list[str]:
        def ex(v: Any) -> str:
            return fmt.exact(v, full=full, width=_FOOTER_WIDTH)

        t = self.total
        totals = [f"Params: {ex(t.params)}", f"Buffers: {ex(t.buffers)}", f"MACs: {ex(t.macs)}",
                  f"FLOPs ({conv.name}): {ex(self.__flops__(conv))}"]
        lines = ["   ".join(totals)] if not self.symbolic else totals
        if self.symbolic:
            lines += [f"Memory reads (elements, compulsory): {ex(t.reads)}",
                      f"Memory writes (elements, compulsory): {ex(t.writes)}"]
        else:
            lines.append(f"Memory traffic (elements, compulsory): reads {ex(t.reads)}, "
                         f"writes {ex(t.writes)}")
        short = {"full": full}
        if isinstance(conv, ToolConvention):
            missed = conv.uncounted(self)
            if missed:
                lines.append(f"Counted as 0 by '{conv.name}' (exact FLOPs of that work): "
                             + "; ".join(f"{k} {fmt.count(v, **short)}"
                                         for k, v in missed.items()))
        else:
            missed = conv.uncounted(t)
            if missed:
                parts = []
                for k, v in missed.items():
                    owners = sorted({r.kind for r in self.rows if (
                        r.cost.ops.get(k) if k != "bias_adds" else r.cost.bias_adds)})
                    parts.append(f"{k} {fmt.count(v, **short)} ({', '.join(owners)})")
                lines.append(f"Not counted under '{conv.name}': " + "; ".join(parts))
        return lines + [f"Note: {n}" for n in self.notes]

    # -- human renderings (to_text, to_markdown, to_latex, to_html come from TableRenderers) --
    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        t = self.total
        return fmt.brief("Report", self.name, [
            f"input {fmt.shape(self.input_shape, width=30)}",
            f"batch {fmt.count(self.batch, width=20)}" if self.batch != 1 else "",
            f"{len(self.rows)} rows", f"{fmt.params(t.params, width=60)} params",
            f"{fmt.count(t.macs, width=60)} MACs"])

    def _repr_html_(self) -> str:
        return self.to_html(levels=True)

    def to_html(self, convention: str | Convention | ToolConvention = DEFAULT_CONVENTION,
                depth: int | None = None, by_kind: bool = False, *, full: bool = False,
                levels: bool = False) -> str:
        """An HTML table with caption, totals and footer. With ``levels=True`` (Jupyter's
        display) and no `depth`, the visible table groups rows by top-level path (``layer1``
        ...) and the other groupings (by layer kind, each finer depth, every layer) follow in
        collapsed ``<details>`` elements."""
        if not levels or depth is not None or by_kind:
            return self.table(convention, depth, by_kind, full=full).to_html(full=full)
        return html_levels(lambda d: self.table(convention, d, full=full),
                           [r.path for r in self.rows], full=full,
                           folds=[("By layer kind", self.table(convention, by_kind=True,
                                                               full=full))])

    def _repr_latex_(self) -> str | None:
        """The symbolic totals as formulas (None for a numeric report: the HTML table shows
        it)."""
        if not self.symbolic:
            return None
        conv = get_convention(DEFAULT_CONVENTION)
        t = self.total
        lines = [(r"\text{params}", t.params), (r"\text{MACs}", t.macs),
                 (rf"\text{{FLOPs}}_\text{{{conv.name}}}", self.__flops__(conv)),
                 (r"\text{memory (elements)}", t.reads + t.writes)]
        body = r" \\ ".join(f"{name} &= {sp.latex(to_expr(v))}" for name, v in lines)
        return rf"$\displaystyle \begin{{aligned}} {body} \end{{aligned}}$"

    # -- machine renderings --------------------------------------------------------------------
    def _columns(self) -> list[str]:
        kinds = sorted({k for r in self.rows for k in r.cost.ops})
        return ["params", "buffers", "macs", "dots", "bias_adds", "weight_reads", "act_reads",
                "writes", "tap_reads", *[f"ops.{k}" for k in kinds]]

    def to_csv(self, convention: str | Convention | ToolConvention = DEFAULT_CONVENTION,
               depth: int | None = None, by_kind: bool = False) -> str:
        """One line per row (or group, as `table`), every count exact, FLOPs under
        `convention` in the column ``flops[<name>]``, and a ``Total`` line; ``layers`` is the
        number of leaf layers a line sums."""
        conv = get_convention(convention)
        cols = self._columns()
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["path", "kind", "layers", "input_shape", "output_shape", *cols,
                    f"flops[{conv.name}]"])
        for g in self._groups([conv], depth, by_kind):
            counts = g.cost.counts()
            w.writerow([g.path or "", g.kind or "", g.layers,
                        _shape_str(g.input_shape), _shape_str(g.output_shape),
                        *[fmt.plain(counts.get(c, 0)) for c in cols],
                        fmt.plain(g.flops[conv.name])])
        counts = self.total.counts()
        w.writerow(["Total", "", len(self.rows), _shape_str(self.input_shape),
                    _shape_str(self.output_shape), *[fmt.plain(counts.get(c, 0)) for c in cols],
                    fmt.plain(self.__flops__(conv))])
        return buf.getvalue()

    def to_dict(self, conventions: Any = (DEFAULT_CONVENTION, "macs", "2*macs"),
                depth: int | None = None, by_kind: bool = False) -> dict:
        """The JSON document of schema ``layercalc.report/1`` (docs/json-schema.md): what
        reproduces the report (model, input shape, batch, conventions with their definitions),
        the rows (or groups) and the total in the same shape (``counts`` and ``flops`` per
        convention), and the work each convention does not count. The first of
        `conventions` is the report's ``convention``."""
        if isinstance(conventions, (str, Convention, ToolConvention)):
            conventions = (conventions,)
        convs = list({get_convention(c).name: get_convention(c) for c in conventions}.values())

        def describe(c: Any) -> dict:
            if isinstance(c, ToolConvention):
                return {"tool": c.tool, "unit": c.unit, "batch": c.batch}
            return {"mac": c.mac, "dot": c.dot, "bias": c.bias, "ops": dict(c.ops)}

        def record(g: _Group) -> dict:
            return {
                "path": g.path,
                "kind": g.kind,
                "layer": repr(g.layer) if g.layer is not None else None,
                "layers": g.layers,
                "input_shape": _shape_json(g.input_shape),
                "output_shape": _shape_json(g.output_shape),
                "counts": {k: fmt.plain(v) for k, v in g.cost.counts().items()},
                "flops": {n: fmt.plain(v) for n, v in g.flops.items()},
            }

        total = _Group(None, None, len(self.rows), self.input_shape, self.output_shape,
                       self.total, {c.name: self.__flops__(c) for c in convs})
        return {
            "schema": REPORT_SCHEMA,
            "layercalc": __version__,
            "model": self.name,
            "input_shape": _shape_json(self.input_shape),
            "output_shape": _shape_json(self.output_shape),
            "batch": fmt.plain(self.batch),
            "convention": convs[0].name,
            "conventions": {c.name: describe(c) for c in convs},
            "grouping": {"depth": depth, "by_kind": bool(by_kind)},
            "total": record(total),
            "uncounted": {c.name: {k: fmt.plain(v) for k, v in self.uncounted(c).items()}
                          for c in convs},
            "notes": list(self.notes),
            "assumptions": [{"path": a.path, "relation": str(a.relation),
                             "producers": list(a.producers)} for a in self.assumptions],
            "rows": [record(g) for g in self._groups(convs, depth, by_kind)],
        }

    def to_json(self, conventions: Any = (DEFAULT_CONVENTION, "macs", "2*macs"),
                indent: int = 2, depth: int | None = None, by_kind: bool = False) -> str:
        """`to_dict` as JSON: input shape, batch and conventions, so a result can be
        reproduced; exact integers, formulas as strings."""
        return json.dumps(self.to_dict(conventions, depth, by_kind), indent=indent,
                          ensure_ascii=False)

    def to_dataframe(self, convention: str | Convention | ToolConvention = DEFAULT_CONVENTION,
                     depth: int | None = None, by_kind: bool = False):
        """The rows (or groups) as a pandas DataFrame, exact values (needs the ``pandas``
        extra)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise MissingDependencyError(
                "to_dataframe() needs pandas: pip install 'layercalc[pandas]'") from None
        conv = get_convention(convention)
        cols = self._columns()
        records = []
        for g in self._groups([conv], depth, by_kind):
            counts = g.cost.counts()
            rec = {"path": g.path, "kind": g.kind, "layers": g.layers,
                   "input_shape": g.input_shape, "output_shape": g.output_shape}
            rec.update({c: counts.get(c, 0) for c in cols})
            rec[f"flops[{conv.name}]"] = g.flops[conv.name]
            records.append(rec)
        return pd.DataFrame.from_records(records)


def _int(v: Any) -> Any:
    if isinstance(v, sp.Basic) and v.is_Integer:
        return int(v)
    return v


def _same(a: Any, b: Any) -> bool:
    if type(a) is int and type(b) is int:
        return a == b
    if type(a) is int or type(b) is int:
        return False if (type(a) is int) != (type(b) is int) and not (
            isinstance(a, sp.Basic) and a.is_number or isinstance(b, sp.Basic) and b.is_number
        ) else to_expr(a) == to_expr(b)
    return sp.expand(to_expr(a) - to_expr(b)) == 0


def _fraction(part: Any, whole: Any) -> Any:
    """``part / whole`` as a float for the % columns (None when not both numbers)."""
    if type(part) is int and type(whole) is int:
        return 0.0 if whole == 0 else part / whole
    return None


def _shape_json(s: Any) -> Any:
    if s and isinstance(s[0], tuple):
        return [_shape_json(t) for t in s]
    return [fmt.plain(v) for v in s]
