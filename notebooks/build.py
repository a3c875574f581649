"""Build the teaching notebooks from their Python sources and execute them in place.

Each notebook is defined in ``notebooks/sources/<name>.py`` as a list of cells::

    CELLS = [
        ("md", r'''# Title ...'''),
        ("code", r'''import layercalc as lc ...'''),
    ]

This script turns every source into ``notebooks/<name>.ipynb``, runs it top to bottom with
nbclient (kernel ``python3``, working directory ``notebooks/``) and writes it back with its
outputs, so the committed notebooks render on a code-hosting site and can be regenerated at
any time. Every cell after the one holding the ``## Solutions`` heading is collapsed
(cell metadata ``"jupyter": {"source_hidden": true}``, and ``"outputs_hidden": true`` for
code), so an exercise's solution stays hidden until the reader opens it. Nothing random or time-dependent is stored (no execution timings, fixed cell ids),
so rebuilding an unchanged source gives the same file.

Usage::

    python notebooks/build.py              # build and execute every notebook
    python notebooks/build.py 01 03        # only those whose name starts with 01 or 03
    python notebooks/build.py --check      # rebuild in memory; exit 1 if a committed file differs
    python notebooks/build.py --no-execute # write the notebooks without outputs

Needs the ``notebooks`` extra: ``pip install -e ".[notebooks]"``.
"""

from __future__ import annotations

import argparse
import runpy
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
KERNEL = "python3"
CELL_TIMEOUT = 60  # seconds, as in tests/test_notebooks.py
MAX_BYTES = 300_000  # keep each .ipynb small enough to review and render
SOLUTIONS = "## Solutions"  # the heading after which every cell is collapsed


def sources(prefixes: list[str] | None = None) -> list[Path]:
    """The notebook sources, in order, optionally only names starting with one of `prefixes`."""
    paths = sorted(p for p in SOURCES.glob("*.py") if not p.name.startswith("_"))
    if prefixes:
        paths = [p for p in paths if any(p.stem.startswith(x) for x in prefixes)]
    return paths


def make_notebook(source: Path):
    """An unexecuted notebook (nbformat 4) from a source file's ``CELLS``."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    cells = runpy.run_path(str(source))["CELLS"]
    nb = new_notebook()
    solutions = False
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": KERNEL},
        "language_info": {"name": "python"},
    }
    for i, (kind, text) in enumerate(cells, start=1):
        text = text.strip("\n")
        if kind == "md":
            cell = new_markdown_cell(text)
        elif kind == "code":
            cell = new_code_cell(text)
        else:
            raise ValueError(f"{source.name}: cell {i} has kind {kind!r}; use 'md' or 'code'")
        cell["id"] = f"{source.stem[:2]}-{i:03d}"  # fixed ids: rebuilding does not churn
        if solutions:  # collapsed until the reader opens it
            cell.metadata["jupyter"] = {"source_hidden": True}
            if kind == "code":
                cell.metadata["jupyter"]["outputs_hidden"] = True
        solutions = solutions or (kind == "md" and SOLUTIONS in text)
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def execute(nb):
    """Run `nb` in place with nbclient, from the notebooks/ directory."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name=KERNEL, record_timing=False,
        coalesce_streams=True,  # one output per stream, however the kernel split its writes
        resources={"metadata": {"path": str(HERE)}},
    )
    client.execute()
    return nb


def dumps(nb) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="build only notebooks starting with these")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if a committed notebook differs")
    parser.add_argument("--no-execute", action="store_true", help="write without outputs")
    args = parser.parse_args(argv)

    paths = sources(args.names)
    if not paths:
        print(f"no notebook sources match {args.names} in {SOURCES}", file=sys.stderr)
        return 1
    stale = []
    for src in paths:
        target = HERE / f"{src.stem}.ipynb"
        nb = make_notebook(src)
        t0 = time.perf_counter()
        if not args.no_execute:
            execute(nb)
        seconds = time.perf_counter() - t0
        text = dumps(nb)
        size = len(text.encode())
        status = f"{target.name}: {seconds:.1f} s, {size / 1000:.0f} KB"
        if size > MAX_BYTES:
            status += f"  (over the {MAX_BYTES // 1000} KB limit: shrink the plots)"
        if args.check:
            same = target.exists() and target.read_text(encoding="utf-8") == text
            status += "  up to date" if same else "  DIFFERS from the committed file"
            if not same:
                stale.append(target.name)
        else:
            target.write_text(text, encoding="utf-8")
        print(status)
    if stale:
        print(f"rebuild with `python notebooks/build.py`: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
