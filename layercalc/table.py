"""The table model: one description of a table, rendered as plain text, rich (terminal),
Markdown, CSV, JSON, LaTeX and HTML.

A `Table` holds *raw* values (ints, SymPy expressions, strings, None) in typed `Column` s; each
renderer formats them with `layercalc.format` according to the column's ``kind``, so every
output rounds, abbreviates and labels units the same way. Machine formats (CSV, JSON) carry
the exact values (`layercalc.format.plain`), human formats the rounded ones.

==========  ==================================================  ==========  =================
kind        a value is                                          aligned     printed by
==========  ==================================================  ==========  =================
``text``    a string (None prints ``-``)                        left        as is
``shape``   a tuple of dims                                     left        `format.shape`
``count``   MACs, FLOPs, elements, a ratio                      right       `format.count`
``params``  a parameter count (``B`` for billions)              right       `format.params`
``bytes``   bytes                                               right       `format.nbytes`
``seconds`` a time in seconds                                   right       `format.seconds`
``rate``    a rate in ``Column.unit`` per second                right       `format.rate`
``percent`` a fraction (0.5 prints ``50.0%``)                   right       `format.percent`
``exact``   an exact integer (thousands separators) or formula  right       `format.exact`
==========  ==================================================  ==========  =================

A table has a ``title`` (the first line), ``header`` lines (what the numbers mean: the FLOPs
convention, the memory model), ``rows``, an optional ``total`` row (set apart by a rule, bold
in HTML/Markdown/LaTeX/rich) and ``footer`` lines (exact totals, work a convention does not
count, notes). Formulas longer than ``width`` characters are abbreviated with ``…`` unless
``full=True``, and the table then says so in its last line.

How a report type uses it
=========================

Give the report a ``table(...)`` method that returns a `Table`, and inherit the renderers from
`TableRenderers`; the report then has ``to_text``, ``to_markdown``, ``to_csv``, ``to_json``,
``to_latex``, ``to_html``, ``_repr_html_`` (Jupyter) and ``__str__``, each passing its arguments
on to ``table()``::

    from .conventions import DEFAULT_CONVENTION
    from .registry import convention_note, get_convention
    from .format import brief, params
    from .table import Column, Table, TableRenderers

    @dataclass(frozen=True)
    class TrainingReport(TableRenderers):
        name: str
        rows: tuple[TrainingRow, ...]
        ...

        def table(self, convention=DEFAULT_CONVENTION, *, full=False) -> Table:
            conv = get_convention(convention)
            return Table(
                columns=[Column("path", "Layer"), Column("params", "Params", "params"),
                         Column("forward", "Forward FLOPs", "count"),
                         Column("backward", "Backward FLOPs", "count"),
                         Column("memory", "Memory", "bytes")],
                rows=[(r.path, r.params, r.forward, r.backward, r.memory) for r in self.rows],
                total=("Total", self.params, self.forward, self.backward, self.memory),
                title=f"{self.name}: one training step, batch {self.batch}",
                header=[convention_note(conv)],
                footer=[f"Optimizer state: {self.optimizer}"],
            )

        def __repr__(self) -> str:   # compact: under 2,000 characters whatever the model
            return brief("TrainingReport", self.name, [f"{len(self.rows)} rows",
                                                       f"{params(self.params)} params"])

``report.to_text()``, ``report.to_markdown(full=True)``, ``report.to_csv()`` and ``report`` in
a notebook then all work. A renderer can also be called on the table itself
(``report.table().to_latex()``), and ``Table.render(fmt)`` picks one by name (`FORMATS`), as
the command line does. Keep machine-readable output stable: the CSV header is the column
``key`` s, and `Table.to_dict` is versioned (``"schema": "layercalc.table/1"``); a report with
its own JSON layout overrides ``to_dict``/``to_json`` and documents its schema in
docs/json-schema.md.

A report that shows more than one table (a training step: its layers, then the memory per
device and the collectives) also overrides ``tables(...)``, the list of tables the human
formats print one after the other (default ``[self.table(...)]``); CSV and JSON keep to
``table()`` and ``to_dict()``. Two helpers serve Jupyter displays: `html_levels` (the rows
grouped by top-level path, every finer grouping folded below: the depth control) and
`latex_formulas` (a report's symbolic totals as aligned formulas, for ``_repr_latex_``).
"""

from __future__ import annotations

import csv
import html
import io
import json
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sympy as sp

from . import format as fmt
from .dims import to_expr
from .errors import MissingDependencyError, ParseError

__all__ = ["Column", "Table", "TableRenderers", "KINDS", "FORMATS", "TABLE_SCHEMA",
           "rich_available", "html_levels", "latex_formulas"]

#: Column kinds and their default alignment.
KINDS = {"text": "left", "shape": "left", "count": "right", "params": "right",
         "bytes": "right", "seconds": "right", "rate": "right", "percent": "right",
         "exact": "right"}
#: Names `Table.render` accepts (``table``: rich on a terminal when installed, else text).
FORMATS = ("table", "text", "rich", "md", "markdown", "csv", "json", "latex", "html")
#: The schema id of `Table.to_dict`.
TABLE_SCHEMA = "layercalc.table/1"

_ABBREVIATED = (f"{fmt.ELLIPSIS} marks an abbreviated formula; full=True (command line: "
                "--full) prints it whole.")


def rich_available() -> bool:
    """True when the optional ``rich`` extra is installed."""
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Column:
    """One column: ``key`` (CSV/JSON name), ``title`` (header shown; default the key),
    ``kind`` (how values are formatted, see `KINDS`), ``align`` (``"left"`` or ``"right"``;
    default by kind) and ``unit`` (of a ``rate`` column, e.g. ``"B/s"``)."""

    key: str
    title: str = ""
    kind: str = "text"
    align: str = ""
    unit: str = "FLOP/s"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Column {self.key!r}: kind (={self.kind!r}) must be one of "
                             f"{', '.join(KINDS)}")
        if self.align not in ("", "left", "right"):
            raise ValueError(f"Column {self.key!r}: align (={self.align!r}) must be 'left' or "
                             "'right'")
        if not self.title:
            object.__setattr__(self, "title", self.key)
        if not self.align:
            object.__setattr__(self, "align", KINDS[self.kind])

    def format(self, value: Any, *, full: bool = False, width: int = fmt.EXPR_WIDTH) -> str:
        """`value` as this column prints it in a human format."""
        kw = {"full": full, "width": width}
        k = self.kind
        if k == "text":
            return "-" if value is None else str(value)
        if k == "shape":
            return fmt.shape(value, **kw)
        if isinstance(value, str):
            return value
        if k == "count":
            return fmt.count(value, **kw)
        if k == "params":
            return fmt.params(value, **kw)
        if k == "bytes":
            return fmt.nbytes(value, **kw)
        if k == "seconds":
            return fmt.seconds(value, **kw)
        if k == "rate":
            return fmt.rate(value, self.unit, **kw)
        if k == "percent":
            return fmt.percent(value)
        return fmt.exact(value, **kw)


def _tuple(rows: Iterable[Sequence[Any]]) -> tuple[tuple[Any, ...], ...]:
    return tuple(tuple(r) for r in rows)


@dataclass(frozen=True)
class Table:
    """Columns, rows of raw values, an optional total row, a title, header and footer lines.

    >>> t = Table([Column("layer", "Layer"), Column("macs", "MACs", "count")],
    ...           [("conv1", 118013952), ("fc", 2048000)], total=("Total", 120061952),
    ...           title="toy", header=["MACs: multiply-accumulates"])
    >>> print(t.to_text())
    toy
    MACs: multiply-accumulates
    ------------
    Layer   MACs
    ------------
    conv1   118M
    fc     2.05M
    ------------
    Total   120M
    ------------
    >>> print(t.to_csv(), end="")
    layer,macs
    conv1,118013952
    fc,2048000
    Total,120061952
    """

    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...] = ()
    total: tuple[Any, ...] | None = None
    title: str = ""
    header: tuple[str, ...] = ()
    footer: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "columns", tuple(self.columns))
        set_(self, "rows", _tuple(self.rows))
        set_(self, "header", tuple(self.header))
        set_(self, "footer", tuple(self.footer))
        if self.total is not None:
            set_(self, "total", tuple(self.total))
        n = len(self.columns)
        for i, r in enumerate([*self.rows, *([self.total] if self.total is not None else [])]):
            if len(r) != n:
                raise ValueError(f"Table row {i} has {len(r)} values for {n} columns")

    # -- cells ---------------------------------------------------------------------------------
    def _cells(self, values: tuple[Any, ...], full: bool, width: int) -> list[str]:
        return [c.format(v, full=full, width=width) for c, v in zip(self.columns, values)]

    def _formatted(self, full: bool, width: int) -> tuple[list[str], list[list[str]],
                                                          list[str] | None, list[str]]:
        head = [c.title for c in self.columns]
        body = [self._cells(r, full, width) for r in self.rows]
        total = self._cells(self.total, full, width) if self.total is not None else None
        footer = list(self.footer)
        cells = [c for r in [*body, *([total] if total else [])] for c in r]
        if not full and any(fmt.ELLIPSIS in s for s in [*cells, *footer, *self.header]):
            footer.append(_ABBREVIATED)
        return head, body, total, footer

    # -- human formats -------------------------------------------------------------------------
    def to_text(self, *, full: bool = False, width: int = fmt.EXPR_WIDTH) -> str:
        """Plain text: title and header lines, rules, left-aligned text and right-aligned
        numbers, the total after a rule, then the footer lines."""
        head, body, total, footer = self._formatted(full, width)
        every = [head, *body, *([total] if total else [])]
        widths = [max(len(r[i]) for r in every) for i in range(len(head))]

        def line(r: list[str]) -> str:
            cells = [s.ljust(w) if c.align == "left" else s.rjust(w)
                     for s, w, c in zip(r, widths, self.columns)]
            return "  ".join(cells).rstrip()

        rule = "-" * max(len(line(r)) for r in every)
        out = [x for x in (self.title, *self.header) if x]
        out += [rule, line(head), rule]
        if body:
            out += [line(r) for r in body]
        if total is not None:
            out += ([rule] if body else []) + [line(total)]
        if body or total is not None:
            out.append(rule)
        return "\n".join([*out, *footer])

    def to_markdown(self, *, full: bool = False, width: int = fmt.EXPR_WIDTH) -> str:
        """A GitHub-flavoured Markdown table: the title in bold and the header lines above,
        formulas in code spans, the total row in bold, the footer lines below."""
        head, body, total, footer = self._formatted(full, width)

        def cell(s: str, raw: Any, bold: bool = False) -> str:
            s = s.replace("|", r"\|")
            if fmt.is_symbolic(raw):
                s = f"`{s}`"
            return f"**{s}**" if bold and s else s

        align = ["---:" if c.align == "right" else ":---" for c in self.columns]
        lines = []
        if self.title:
            lines += [f"**{self.title}**", ""]
        if self.header:
            lines += ["  \n".join(self.header), ""]
        lines += ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
        for r, raw in zip(body, self.rows):
            lines.append("| " + " | ".join(cell(s, v) for s, v in zip(r, raw)) + " |")
        if total is not None:
            lines.append("| " + " | ".join(cell(s, v, True) for s, v in zip(total, self.total))
                         + " |")
        if footer:
            lines += ["", "  \n".join(footer)]
        return "\n".join(lines)

    def to_html(self, *, full: bool = False, width: int = fmt.EXPR_WIDTH) -> str:
        """An HTML table with a caption (title and header lines), the total in a bold
        ``<tfoot>`` row and the footer lines below; formulas in ``<code>``."""
        head, body, total, footer = self._formatted(full, width)
        esc = html.escape

        def align(col: Column) -> str:
            # an inline style for left (Jupyter right-aligns table cells by default), the
            # align attribute for right (kept where styles are stripped, as on GitHub)
            return ' style="text-align:left"' if col.align == "left" else ' align="right"'

        def td(s: str, raw: Any, col: Column) -> str:
            inner = f"<code>{esc(s)}</code>" if fmt.is_symbolic(raw) else esc(s)
            return f"<td{align(col)}>{inner}</td>"

        caption = "<br>".join([*(f"<b>{esc(self.title)}</b>" for _ in [0] if self.title),
                               *(esc(h) for h in self.header)])
        out = ['<table class="layercalc">']
        if caption:
            out.append(f'<caption style="caption-side:top;text-align:left">{caption}</caption>')
        out.append("<thead><tr>" + "".join(
            f"<th{align(c)}>{esc(h)}</th>" for h, c in zip(head, self.columns)) + "</tr></thead>")
        out.append("<tbody>")
        for r, raw in zip(body, self.rows):
            out.append("<tr>" + "".join(td(s, v, c) for s, v, c in zip(r, raw, self.columns))
                       + "</tr>")
        out.append("</tbody>")
        if total is not None:
            out.append('<tfoot><tr style="font-weight:bold">' + "".join(
                td(s, v, c) for s, v, c in zip(total, self.total, self.columns))
                + "</tr></tfoot>")
        out.append("</table>")
        if footer:
            out.append('<div style="font-size:smaller">' + "<br>".join(esc(f) for f in footer)
                       + "</div>")
        return "\n".join(out)

    def to_latex(self, *, full: bool = False, width: int = fmt.EXPR_WIDTH,
                 environment: bool = True) -> str:
        """A LaTeX ``tabular`` (inside a ``table`` float with a caption when `environment`):
        numbers rounded as in the text table, formulas typeset by SymPy (abbreviated with
        ``\\dots`` unless `full`), the footer lines as a small paragraph."""
        head, body, total, footer = self._formatted(full, width)

        def cell(s: str, raw: Any, bold: bool = False) -> str:
            out = _tex_formula(raw, full, width) if fmt.is_symbolic(raw) else _tex_text(s)
            return rf"\textbf{{{out}}}" if bold and out and not out.startswith("$") else out

        spec = "".join("r" if c.align == "right" else "l" for c in self.columns)
        rows = [" & ".join(cell(s, v) for s, v in zip(r, raw)) + r" \\"
                for r, raw in zip(body, self.rows)]
        lines = [rf"\begin{{tabular}}{{{spec}}}", r"\hline",
                 " & ".join(_tex_text(h) for h in head) + r" \\", r"\hline", *rows]
        if total is not None:
            lines += ([r"\hline"] if rows else []) + [
                " & ".join(cell(s, v, True) for s, v in zip(total, self.total)) + r" \\"]
        lines += [r"\hline", r"\end{tabular}"]
        if not environment:
            return "\n".join(lines)
        caption = ". ".join(_tex_text(x) for x in (self.title, *self.header) if x)
        out = [r"\begin{table}", r"\centering"]
        if caption:
            out.append(rf"\caption{{{caption}}}")
        out += lines
        if footer:
            out.append(r"\par\smallskip{\footnotesize " + r"\\ ".join(
                _tex_text(f) for f in footer) + "}")
        out.append(r"\end{table}")
        return "\n".join(out)

    def to_rich(self, *, full: bool = False, width: int = fmt.EXPR_WIDTH) -> Any:
        """A ``rich.table.Table`` (needs the ``rich`` extra): the title and header lines as
        its title, the footer lines as its caption, the total row bold after a rule."""
        try:
            from rich import box
            from rich.table import Table as RichTable
            from rich.text import Text
        except ImportError:
            raise MissingDependencyError(
                "rich output needs rich: pip install 'layercalc[rich]'") from None
        head, body, total, footer = self._formatted(full, width)
        title = "\n".join(x for x in (self.title, *self.header) if x) or None
        t = RichTable(title=Text(title) if title else None, title_justify="left",
                      caption=Text("\n".join(footer)) if footer else None,
                      caption_justify="left", box=box.SIMPLE_HEAD, title_style="bold",
                      caption_style="dim")
        for h, c in zip(head, self.columns):
            t.add_column(Text(h), justify=c.align, overflow="fold")
        for i, r in enumerate(body):
            t.add_row(*(Text(s) for s in r),
                      end_section=(i == len(body) - 1 and total is not None))
        if total is not None:
            t.add_row(*(Text(s) for s in total), style="bold")
        return t

    # -- machine formats -----------------------------------------------------------------------
    def to_csv(self) -> str:
        """CSV: a header of column keys, one line per row and the total, exact values."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([c.key for c in self.columns])
        for r in [*self.rows, *([self.total] if self.total is not None else [])]:
            w.writerow([_csv_value(v) for v in r])
        return buf.getvalue()

    def to_dict(self) -> dict:
        """``{"schema": "layercalc.table/1", "title", "header", "columns": [{"key", "title",
        "kind"}], "rows": [{key: value}], "total": {key: value} or None, "footer"}`` with exact
        values (`layercalc.format.plain`)."""
        def record(r: tuple) -> dict:
            return {c.key: fmt.plain(v) for c, v in zip(self.columns, r)}

        return {
            "schema": TABLE_SCHEMA,
            "title": self.title,
            "header": list(self.header),
            "columns": [{"key": c.key, "title": c.title, "kind": c.kind} for c in self.columns],
            "rows": [record(r) for r in self.rows],
            "total": record(self.total) if self.total is not None else None,
            "footer": list(self.footer),
        }

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    # -- by name -------------------------------------------------------------------------------
    def render(self, format: str = "text", *, full: bool = False, width: int = fmt.EXPR_WIDTH,
               color: bool | None = None, console_width: int | None = None) -> str:
        """The table in `format` (one of `FORMATS`). ``"table"`` is rich output when the
        ``rich`` extra is installed and standard output is a terminal, plain text otherwise;
        ``"rich"`` always uses rich (`color` defaults to "standard output is a terminal")."""
        f = {"markdown": "md"}.get(format, format)
        if f == "table":
            f = "rich" if rich_available() and _isatty() else "text"
        if f == "text":
            return self.to_text(full=full, width=width)
        if f == "rich":
            return _rich_string(self.to_rich(full=full, width=width), color, console_width)
        if f == "md":
            return self.to_markdown(full=full, width=width)
        if f == "csv":
            return self.to_csv().rstrip("\n")
        if f == "json":
            return self.to_json()
        if f == "latex":
            return self.to_latex(full=full, width=width)
        if f == "html":
            return self.to_html(full=full, width=width)
        raise ParseError(f"unknown table format {format!r}; known: {', '.join(FORMATS)}")


def _isatty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _rich_string(renderable: Any, color: bool | None, console_width: int | None) -> str:
    from rich.console import Console

    color = _isatty() if color is None else color
    buf = io.StringIO()
    width = console_width or shutil.get_terminal_size((120, 24)).columns
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color,
                      highlight=False, color_system="auto" if color else None)
    console.print(renderable)
    return buf.getvalue().rstrip("\n")


def _csv_value(v: Any) -> Any:
    p = fmt.plain(v)
    if isinstance(p, list):
        return fmt.shape(tuple(v), full=True)
    return "" if p is None else p


_TEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                "^": r"\textasciicircum{}", "µ": r"$\mu$", fmt.ELLIPSIS: r"\ldots{}",
                "*": r"$\ast$"}


def _tex_text(s: str) -> str:
    return "".join(_TEX_ESCAPES.get(ch, ch) for ch in s)


def _tex_formula(x: Any, full: bool, width: int) -> str:
    if full:
        return f"${sp.latex(x)}$"
    _shown, kept, left = fmt.abbreviate(x, width)
    body = sp.latex(kept[0])
    for t in kept[1:]:
        body += (" - " + sp.latex(-t)) if t.could_extract_minus_sign() else (" + " + sp.latex(t))
    if left:
        body += r" + \dots"
    return f"${body}$"


class TableRenderers:
    """Renderers for a class with a ``table(*args, full=False, **kwargs) -> Table`` method.

    Every ``to_*`` method passes its arguments on to ``table()``; ``full`` also reaches the
    renderer. The human formats (text, Markdown, HTML, LaTeX, rich) print every table of
    ``tables()`` (by default the one of ``table()``), separated by a blank line; CSV and JSON
    the one of ``table()``. ``__str__`` is the plain-text rendering and ``_repr_html_`` the
    HTML one (Jupyter).
    """

    def table(self, *args: Any, full: bool = False, **kwargs: Any) -> Table:
        raise NotImplementedError(f"{type(self).__name__} must define table()")

    def tables(self, *args: Any, full: bool = False, **kwargs: Any) -> list[Table]:
        """The tables a human rendering prints, the main one first; override to add more."""
        return [self.table(*args, full=full, **kwargs)]

    def to_text(self, *args: Any, full: bool = False, **kwargs: Any) -> str:
        return "\n\n".join(t.to_text(full=full) for t in self.tables(*args, full=full, **kwargs))

    def to_markdown(self, *args: Any, full: bool = False, **kwargs: Any) -> str:
        return "\n\n".join(t.to_markdown(full=full)
                           for t in self.tables(*args, full=full, **kwargs))

    def to_html(self, *args: Any, full: bool = False, **kwargs: Any) -> str:
        return "\n".join(t.to_html(full=full) for t in self.tables(*args, full=full, **kwargs))

    def to_latex(self, *args: Any, full: bool = False, **kwargs: Any) -> str:
        return "\n\n".join(t.to_latex(full=full) for t in self.tables(*args, full=full, **kwargs))

    def to_csv(self, *args: Any, **kwargs: Any) -> str:
        return self.table(*args, **kwargs).to_csv()

    def to_dict(self, *args: Any, **kwargs: Any) -> dict:
        return self.table(*args, **kwargs).to_dict()

    def to_json(self, *args: Any, indent: int = 2, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(*args, **kwargs), indent=indent, ensure_ascii=False)

    def render(self, format: str = "text", *args: Any, full: bool = False,
               **kwargs: Any) -> str:
        """This object in `format` (one of `FORMATS`), as the command line prints it."""
        if format == "json":
            return self.to_json(*args, **kwargs)
        if format == "csv":
            return self.to_csv(*args, **kwargs).rstrip("\n")
        sep = "\n" if format == "html" else "\n\n"
        return sep.join(t.render(format, full=full)
                        for t in self.tables(*args, full=full, **kwargs))

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()


def _prefixes(paths: Sequence[str], depth: int) -> int:
    return len(dict.fromkeys(".".join(p.split(".")[:depth]) for p in paths))


def html_levels(table_at: Callable[[int | None], Table], paths: Sequence[str], *,
                full: bool = False, folds: Sequence[tuple[str, Table]] = (),
                css: str = "layercalc-report", max_rows: int | None = None) -> str:
    """Jupyter's depth control for a table of one row per layer: the table grouped by
    top-level path (``table_at(1)``; every row when no path has a ``.``), then `folds`
    (``(summary, table)``: another grouping, e.g. by layer kind) and each finer depth that
    changes the number of rows, down to every layer (``table_at(None)``), in collapsed
    ``<details>`` (their caption, header and footer left out: the visible table has them).
    Groupings of more than `max_rows` rows are left out, and a line says so (a notebook
    stays light for a model of a thousand layers).

    >>> t = lambda d: Table([Column("layer")], [(p,) for p in (["a", "b"] if d else
    ...                                                         ["a.0", "a.1", "b"])])
    >>> html = html_levels(t, ["a.0", "a.1", "b"])
    >>> html.count("<details>"), "Every layer (3 rows)" in html
    (1, True)
    """
    deepest = max((len(p.split(".")) for p in paths), default=1)
    first = 1 if deepest > 1 else None
    parts = [table_at(first).to_html(full=full)]

    def fold(summary: str, t: Table) -> str:
        bare = replace(t, title="", header=(), footer=())
        return (f"<details><summary>{html.escape(summary)}</summary>\n"
                f"{bare.to_html(full=full)}\n</details>")

    parts += [fold(summary, t) for summary, t in folds]
    seen = {_prefixes(paths, first) if first else len(paths)}
    levels: list[tuple[int | None, int]] = []
    for d in range(2, deepest):  # the depths that change the number of rows
        n = _prefixes(paths, d)
        if n not in seen and n < len(paths):
            seen.add(n)
            levels.append((d, n))
    if first is not None:
        levels.append((None, len(paths)))
    left = [n for _, n in levels if max_rows is not None and n > max_rows]
    for d, n in levels:
        if max_rows is None or n <= max_rows:
            parts.append(fold(f"By path depth {d} ({n} rows)" if d is not None
                              else f"Every layer ({n} rows)", table_at(d)))
    if left:
        parts.append('<div style="font-size:smaller">Finer groupings left out here ('
                     f"{', '.join(map(str, left))} rows): to_html(depth=...) shows any of "
                     "them.</div>")
    return f'<div class="{css}">\n' + "\n".join(parts) + "\n</div>"


def latex_formulas(lines: Iterable[tuple[str, Any]]) -> str | None:
    """``(LaTeX name, value)`` pairs as one aligned block of formulas for ``_repr_latex_``,
    or None when no value is a formula (the HTML table shows numbers better); values that
    are None are left out.

    >>> H = sp.Symbol("H")
    >>> print(latex_formulas([("F", 2 * H), ("t", None)]))
    $\\displaystyle \\begin{aligned} F &= 2 H \\end{aligned}$
    >>> latex_formulas([("n", 3)]) is None
    True
    """
    pairs = [(k, to_expr(v)) for k, v in lines if v is not None]
    if not any(fmt.is_symbolic(v) for _, v in pairs):
        return None
    body = r" \\ ".join(f"{k} &= {sp.latex(v)}" for k, v in pairs)
    return rf"$\displaystyle \begin{{aligned}} {body} \end{{aligned}}$"
