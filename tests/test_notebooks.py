"""The teaching notebooks in notebooks/: committed with outputs, public API only, and they run.

Executing a notebook needs the ``notebooks`` extra (nbformat, nbclient, ipykernel; ``pip
install -e ".[notebooks]"``); without it those tests skip and say why. The other checks read
the .ipynb JSON directly and always run. Rebuild the notebooks with
``python notebooks/build.py``.
"""

from __future__ import annotations

import ast
import json
import re
import runpy
import types
from pathlib import Path

import pytest

import layercalc

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
SOURCE_DIR = NOTEBOOK_DIR / "sources"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL = "python3"
CELL_TIMEOUT = 60  # seconds per cell
MAX_BYTES = 300_000
REBUILD = "rebuild with `python notebooks/build.py`"


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def _code_cells(nb: dict) -> list[tuple[int, dict]]:
    return [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]


# -- what the notebooks may import --------------------------------------------------------------
def _public_names(module: types.ModuleType) -> set[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
    return {n for n in names if not n.startswith("_")}


def _public_module(dotted: str, problems: set[str]) -> types.ModuleType | None:
    """The module `dotted` (``layercalc`` or ``layercalc.zoo`` ...) if every step of the path
    is public, i.e. re-exported in its parent's ``__all__``; otherwise record a problem."""
    parts = dotted.split(".")
    module: types.ModuleType = layercalc
    for i, part in enumerate(parts[1:], start=1):
        child = getattr(module, part, None)
        if part not in _public_names(module) or not isinstance(child, types.ModuleType):
            problems.add(f"imports the private module {'.'.join(parts[:i + 1])}")
            return None
        module = child
    return module


def private_uses(source: str) -> list[str]:
    """Every use of a non-public part of layercalc in a code cell's `source`: a private module
    (``from layercalc.conventions import ...``), a name not in ``__all__`` (``lc._x``,
    ``lc.blocks.OrderedDict``) or any ``layercalc._`` / ``lc._`` spelling."""
    problems: set[str] = set()
    for match in re.finditer(r"\b(?:layercalc|lc)\._(?!_)\w*", source):
        problems.add(f"uses {match.group(0)}")
    code = "\n".join(line for line in source.splitlines()
                     if not line.lstrip().startswith(("%", "!")))  # IPython magics
    tree = ast.parse(code)
    aliases: dict[str, types.ModuleType] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] != "layercalc":
                    continue
                module = _public_module(alias.name, problems)
                if module is not None:
                    aliases[alias.asname or "layercalc"] = module if alias.asname else layercalc
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] == "layercalc":
            module = _public_module(node.module, problems)
            if module is None:
                continue
            for alias in node.names:
                if alias.name == "*" or alias.name not in _public_names(module):
                    problems.add(f"imports {alias.name!r} from {node.module}, which does not "
                                 "export it")
                    continue
                value = getattr(module, alias.name)
                if isinstance(value, types.ModuleType):
                    aliases[alias.asname or alias.name] = value
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain: list[str] = []
        base: ast.expr = node
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        if not (isinstance(base, ast.Name) and base.id in aliases):
            continue
        obj: object = aliases[base.id]
        path = base.id
        for attr in reversed(chain):
            if not isinstance(obj, types.ModuleType):
                break
            dunder = attr.startswith("__") and attr.endswith("__")
            if attr not in _public_names(obj) and not dunder:
                problems.add(f"uses {path}.{attr}, which {path} does not export")
                break
            obj, path = getattr(obj, attr), f"{path}.{attr}"
    return sorted(problems)


def test_private_use_checker():
    ok = ("%matplotlib inline\nimport layercalc as lc\nfrom layercalc import zoo, blocks, Conv2d\n"
          "from layercalc.zoo import resnet50\nlc.Conv2d(1, 1, 3)\nlc.zoo.mobilenet_v1()\n"
          "zoo.vgg16()\nblocks.factorized_5x5(4, 4)\nlc.CONVENTIONS.items()\n")
    assert private_uses(ok) == []
    assert private_uses("from layercalc.conventions import flops") == [
        "imports the private module layercalc.conventions"]
    assert private_uses("import layercalc.floors") == [
        "imports the private module layercalc.floors"]
    assert private_uses("import layercalc as lc\nlc.blocks.OrderedDict()") == [
        "uses lc.blocks.OrderedDict, which lc.blocks does not export"]
    assert "uses lc._x" in private_uses("import layercalc as lc\nlc._x")
    assert private_uses("import layercalc as lc\nlc.__version__") == []
    assert private_uses("from layercalc import human") == [
        "imports 'human' from layercalc, which does not export it"]


# -- the committed files ------------------------------------------------------------------------
def test_the_notebooks_exist():
    names = {p.stem for p in NOTEBOOKS}
    assert {"01_counting_a_convolution", "02_depthwise_separable",
            "03_layers_to_networks"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_committed_with_outputs(path):
    """Rendered on a code-hosting site as committed: every code cell executed, in order, in
    one kernel, with no error output, and the file small."""
    nb = _load(path)
    cells = _code_cells(nb)
    assert cells, f"{path.name} has no code cells"
    unexecuted = [i for i, c in cells if c.get("execution_count") is None]
    assert not unexecuted, f"{path.name}: cells {unexecuted} have no outputs; {REBUILD}"
    counts = [c["execution_count"] for _, c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..{len(cells)} (run top to bottom in "
        f"a fresh kernel); {REBUILD}")
    errors = [i for i, c in cells for out in c.get("outputs", []) if out["output_type"] == "error"]
    assert not errors, f"{path.name}: cells {errors} stored an error"
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is over {MAX_BYTES // 1000} KB"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_public_api_only(path):
    for i, cell in _code_cells(_load(path)):
        problems = private_uses(_text(cell["source"]))
        assert not problems, f"{path.name}, cell {i}: " + "; ".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_built_from_its_source(path):
    """Each notebook is generated from notebooks/sources/<name>.py; the committed cells must
    be the source's cells (an edit to either side without rebuilding fails here)."""
    source = SOURCE_DIR / f"{path.stem}.py"
    assert source.exists(), f"{path.name} has no source {source.relative_to(NOTEBOOK_DIR.parent)}"
    expected = [(kind, text.strip("\n")) for kind, text in runpy.run_path(str(source))["CELLS"]]
    actual = [("md" if c["cell_type"] == "markdown" else c["cell_type"], _text(c["source"]))
              for c in _load(path)["cells"]]
    assert actual == expected, f"{path.name} differs from {source.name}; {REBUILD}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_teaching_structure(path):
    """Opens with a title and its purpose, ends with exercises and their solutions."""
    cells = _load(path)["cells"]
    first = _text(cells[0]["source"])
    assert cells[0]["cell_type"] == "markdown" and first.startswith("# "), path.name
    assert "you will be able to" in first, f"{path.name}: the first cell states no purpose"
    text = "\n".join(_text(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert "## Exercises" in text and "## Solutions" in text, path.name
    assert "Can you" in text.split("## Exercises", 1)[1], path.name
    after = cells[[i for i, c in enumerate(cells) if "## Solutions" in _text(c["source"])][0]:]
    assert any(c["cell_type"] == "code" and "assert" in _text(c["source"]) for c in after), (
        f"{path.name}: the solutions assert nothing")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_solutions_are_collapsed(path):
    """Every cell after the "## Solutions" heading is collapsed in Jupyter (source hidden, and
    the outputs of code cells), every cell before it open; built so by notebooks/build.py."""
    cells = _load(path)["cells"]
    start = [i for i, c in enumerate(cells) if "## Solutions" in _text(c["source"])][0]
    for i, cell in enumerate(cells):
        jupyter = cell.get("metadata", {}).get("jupyter", {})
        if i <= start:
            assert not jupyter.get("source_hidden"), f"{path.name}, cell {i} is collapsed"
            continue
        assert jupyter.get("source_hidden") is True, f"{path.name}, cell {i}: {REBUILD}"
        if cell["cell_type"] == "code":
            assert jupyter.get("outputs_hidden") is True, f"{path.name}, cell {i}: {REBUILD}"
    assert start < len(cells) - 1, f"{path.name}: no solution cells after the heading"


# -- running them -------------------------------------------------------------------------------
def _error_report(nb, path: Path) -> str:
    """The failing cell of an executed notebook: index, source and the error, without colour."""
    ansi = re.compile(r"\x1b\[[0-9;]*m")
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                trace = ansi.sub("", "\n".join(out.get("traceback", [])))
                return (f"{path.name}, cell {i} raised {out['ename']}: {out['evalue']}\n"
                        f"--- cell source ---\n{cell.source}\n--- traceback ---\n{trace}")
    return ""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_executes(path):
    why = 'the Jupyter tooling is an extra: pip install -e ".[notebooks]"'
    nbformat = pytest.importorskip("nbformat", reason=why)
    nbclient = pytest.importorskip("nbclient", reason=why)
    pytest.importorskip("ipykernel", reason=why)
    pytest.importorskip("matplotlib", reason=why)
    pytest.importorskip("pandas", reason='the notebooks use pandas: pip install -e ".[pandas]"')
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:
        pytest.skip(f"no Jupyter kernel named {KERNEL!r}")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name=KERNEL, record_timing=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    try:
        client.execute()
    except Exception as exc:  # CellExecutionError, CellTimeoutError, DeadKernelError ...
        report = _error_report(nb, path) or f"{path.name}: {type(exc).__name__}: {exc}"
        pytest.fail(report, pytrace=False)
