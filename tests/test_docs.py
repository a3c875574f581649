"""The documentation site: `mkdocs build --strict` passes (with the `docs` extra), and the
examples on the user-guide pages run (doctest, always)."""

from __future__ import annotations

import doctest
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# pages whose examples are doctested (the guide pages of this repository; pages written
# elsewhere join the list when they have runnable examples)
PAGES = ["index.md", "getting-started.md", "output.md", "guide/layers.md",
         "guide/networks.md", "guide/conventions.md", "guide/symbolic.md",
         "guide/memory-roofline.md", "training.md", "inference.md", "import-hf.md"]


@pytest.mark.parametrize("page", PAGES)
def test_examples_run(page):
    result = doctest.testfile(str(DOCS / page), module_relative=False, verbose=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
                              report=False)
    assert result.attempted > 0, f"{page} has no examples"
    assert result.failed == 0, f"{page}: {result.failed} of {result.attempted} examples fail " \
        f"(run python -m doctest -o NORMALIZE_WHITESPACE -o ELLIPSIS docs/{page})"


def test_nav_lists_existing_pages_only(tmp_path):
    """The hook keeps planned pages out of the nav until they exist and adds unlisted ones."""
    spec = importlib.util.spec_from_file_location("mkdocs_hooks", ROOT / "mkdocs_hooks.py")
    if importlib.util.find_spec("griffe") is None:
        pytest.skip("the docs extra (mkdocstrings-python, griffe) is not installed: "
                    "pip install -e \".[docs]\"")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    (tmp_path / "a.md").write_text("# a")
    (tmp_path / "new.md").write_text("# new")
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "b.md").write_text("# b")
    config = {"docs_dir": str(tmp_path),
              "nav": [{"A": "a.md"}, {"Guide": [{"B": "g/b.md"}, {"Later": "later.md"}]},
                      {"Only later": [{"X": "x.md"}]}]}
    assert hooks.on_config(config)["nav"] == [{"A": "a.md"}, {"Guide": [{"B": "g/b.md"}]},
                                              {"More": ["new.md"]}]


def test_docstrings_read_as_markdown():
    pytest.importorskip("griffe", reason='the docs extra is not installed: pip install -e ".[docs]"')
    spec = importlib.util.spec_from_file_location("mkdocs_hooks", ROOT / "mkdocs_hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    text = "Title.\n\nParameters\n==========\nx : a size.\n\n>>> 1 + 1\n2\n\nEnd."
    assert hooks.readable(text) == ("Title.\n\n\n**Parameters**\n\nx : a size.\n\n\n```python\n"
                                    ">>> 1 + 1\n2\n```\n\n\nEnd.")


def test_mkdocs_build_strict(tmp_path):
    """The site builds with no warning (strict): every nav entry exists, every link resolves,
    every `::: module` renders."""
    for name in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            pytest.skip(f"{name} is not installed (the docs extra): pip install -e \".[docs]\"")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--site-dir", str(tmp_path / "site")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    site = tmp_path / "site"
    assert (site / "api" / "format" / "index.html").is_file()
    assert (site / "schemas" / "report-1.schema.json").is_file()
    html = (site / "api" / "conventions" / "index.html").read_text(encoding="utf-8")
    assert "DEFAULT_CONVENTION" in html and "<pre" in html
