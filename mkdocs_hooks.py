"""Build helpers of the documentation site (mkdocs.yml: ``hooks`` and a mkdocstrings
extension). Not part of the package.

* ``on_config``: the nav in mkdocs.yml lists every planned page; pages not written yet are
  dropped (so ``mkdocs build --strict`` passes while other work adds them), and pages that
  exist but are listed nowhere are appended under "More".
* `ReadableDocstrings`: layercalc's docstrings are written for ``help()`` and doctest (SymPy's
  style: ``Parameters`` underlined with ``=``, ``>>>`` examples, reST simple tables). This
  griffe extension shows them as Markdown: examples and tables as code blocks, underlined
  headings as bold labels.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import griffe

_DOCS = Path(__file__).resolve().parent / "docs"


def _prune(items: list[Any], docs: Path, listed: set[str]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if isinstance(item, str):
            path, title = item, None
        elif isinstance(item, dict) and len(item) == 1:
            ((title, path),) = item.items()
        else:  # pragma: no cover - a shape mkdocs does not produce
            out.append(item)
            continue
        if isinstance(path, list):
            children = _prune(path, docs, listed)
            if children:
                out.append({title: children} if len(children) > 1 or title else children[0])
            continue
        if "://" in path or (docs / path).is_file():
            listed.add(path)
            out.append(item if title is None else {title: path})
    return out


def on_config(config: Any) -> Any:
    docs = Path(config["docs_dir"])
    listed: set[str] = set()
    nav = _prune(list(config["nav"] or []), docs, listed)
    extra = sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*.md")
                   if p.relative_to(docs).as_posix() not in listed)
    if extra:
        nav.append({"More": extra})
    config["nav"] = nav
    return config


_UNDERLINE = re.compile(r"^(?P<indent>\s*)(?P<title>\S[^\n]*)\n(?P=indent)(=+|-+)\s*$", re.M)


def readable(text: str) -> str:
    """A SymPy-style docstring as Markdown: ``>>>`` examples (and their output) and reST
    simple tables become fenced code blocks, ``Title\\n=====`` a bold label."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith(">>>"):
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i].strip() if lines[i].strip().startswith(
                    (">>>", "...")) else lines[i].strip())
                i += 1
            out += ["", "```python", *block, "```", ""]
            continue
        if re.fullmatch(r"=+( +=+)+", stripped):  # a reST simple table: to the closing rule
            block = [line]
            i += 1
            rules = 1
            while i < len(lines) and rules < 3:
                if re.fullmatch(r"=+( +=+)+", lines[i].strip()):
                    rules += 1
                block.append(lines[i])
                i += 1
            out += ["", "```text", *block, "```", ""]
            continue
        if i + 1 < len(lines) and stripped and re.fullmatch(r"(=+|-+)", lines[i + 1].strip()) \
                and len(lines[i + 1].strip()) >= len(stripped) - 1:
            out += ["", f"**{stripped}**", ""]
            i += 2
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


class ReadableDocstrings(griffe.Extension):
    """Rewrite every docstring with `readable` before mkdocstrings renders it."""

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = readable(obj.docstring.value)
