"""The house: every intra-package import is at module level and goes one way, left to right
along the order documented in ``layercalc/README.md`` (issue 12, item 6).

Parsed with `ast`, so the test reads the code as written, not what happens to be imported.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "layercalc"

#: The documented order, left to right; a group in braces is one rank (its members import
#: none of each other). Must match layercalc/README.md (checked below).
ORDER = [
    "{_version, errors}", "dims", "format", "table", "{symbols, shapes, floors}", "parse",
    "cost", "conventions", "peers", "registry", "layers", "backward", "report", "network",
    "graph", "{compare, blocks, transformer, symbolic, evaluate, hardware, memory, printouts}",
    "vision", "{moe, ssm}", "quant", "roofline", "{fuse, plot, training, published}", "zoo",
    "importers", "serving", "cli",
]
#: modules allowed to import lazily inside functions: the CLI (it imports only what a command
#: needs, for start-up time)
LAZY_OK = {"cli"}


def _rank() -> dict[str, int]:
    out = {}
    for i, item in enumerate(ORDER):
        for name in item.strip("{}").split(","):
            out[name.strip()] = i
    return out


def _modules() -> list[tuple[str, Path]]:
    return [(".".join(p.relative_to(PKG).with_suffix("").parts), p)
            for p in sorted(PKG.rglob("*.py"))]


def _target(mod: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module (inside layercalc) a relative import names."""
    parts = mod.split(".")
    pkg = parts if path.name == "__init__.py" else parts[:-1]
    if path.name == "__init__.py":
        pkg = parts[:-1]
    base = pkg[: len(pkg) - (node.level - 1)] if node.level > 1 else pkg
    return ".".join([*base, *([node.module] if node.module else [])])


def _intra_imports(tree: ast.AST, mod: str, path: Path, *, nested: bool) -> list[tuple]:
    """(line, target) of relative imports at module level (nested=False) or inside a function
    or class body (nested=True)."""
    found = []
    top = set(map(id, tree.body))  # type: ignore[attr-defined]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            if (id(node) not in top) == nested:
                t = _target(mod, path, node)
                if node.module is None:  # ``from . import x``: the modules themselves
                    found += [(node.lineno, f"{t}.{a.name}".lstrip(".")) for a in node.names]
                else:
                    found.append((node.lineno, t))
    return found


def test_no_function_level_intra_package_imports():
    """(a) no ``from . import`` / ``from .x import`` below module level, but in the CLI."""
    bad = []
    for mod, path in _modules():
        if mod in LAZY_OK or mod.endswith("__main__"):
            continue
        tree = ast.parse(path.read_text())
        bad += [f"{mod}:{line} imports {t}" for line, t in
                _intra_imports(tree, mod, path, nested=True)]
    assert not bad, "deferred intra-package imports: " + "; ".join(bad)


def _unit(name: str) -> str:
    """The rank unit of a module: a subpackage's modules count as the subpackage."""
    return name.split(".")[0]


def _package_order(pkg: str) -> list[str]:
    """Submodules of `pkg` in the order its ``__init__`` imports them (``_base`` first)."""
    tree = ast.parse((PKG / pkg / "__init__.py").read_text())
    seen: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            for name in [node.module] if node.module else [a.name for a in node.names]:
                if name not in seen:
                    seen.append(name)
    return seen


def test_module_level_imports_go_left_to_right():
    """(b) a module imports only modules to its left in the documented order; inside
    ``layers`` and ``zoo`` a module imports only siblings its package imports before it."""
    rank = _rank()
    bad = []
    for mod, path in _modules():
        if mod == "__init__" or mod == "__main__":
            continue  # the re-exports, and ``python -m layercalc``
        tree = ast.parse(path.read_text())
        me = _unit(mod)
        assert me in rank, f"module {mod} is not in the documented import order"
        for line, target in _intra_imports(tree, mod, path, nested=False):
            unit = _unit(target)
            if unit == me:
                if path.name == "__init__.py" or "." not in mod:
                    continue
                order = _package_order(me)
                a, b = mod.split(".", 1)[1], target.split(".", 1)[1] if "." in target else ""
                if b and (b not in order or a not in order or order.index(b) >= order.index(a)):
                    bad.append(f"{mod}:{line} imports {target} (not before it in {me}/)")
                continue
            if unit not in rank:
                bad.append(f"{mod}:{line} imports {target} from the package root")
            elif rank[unit] >= rank[me]:
                bad.append(f"{mod}:{line} imports {target} (rank {rank[unit]} >= {rank[me]})")
    assert not bad, "imports against the documented order: " + "; ".join(bad)


def test_readme_documents_this_order():
    """The order above is the one layercalc/README.md states."""
    text = (PKG / "README.md").read_text()
    block = re.search(r"## The import rule\s+```\n(.*?)```", text, re.S).group(1)
    written = [s.strip() for s in re.split(r"->", " ".join(block.split()))]
    assert written == ORDER
