"""CI runs the README's test command: `.ci/run` installs the heavy extras, then runs exactly
the command README.md's "Tests" section gives (so the oracle tests run in CI while the
README's route stays the light one)."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_test_command() -> str:
    """The first fenced bash block of README.md's "## Tests" section (one command)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Tests\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)\n```", section, re.S)
    assert block, "README.md's Tests section has no ```bash block"
    lines = [ln for ln in block.group(1).splitlines() if ln.strip()]
    assert len(lines) == 1, f"the test command should be one line, got {lines}"
    return lines[0].strip()


def test_readme_command_is_the_light_one():
    assert readme_test_command() == 'pip install -e ".[dev]" && python -m pytest'


def test_ci_installs_the_extras_then_runs_the_readme_command():
    run = ROOT / ".ci" / "run"
    assert os.access(run, os.X_OK), ".ci/run must be executable"
    commands = [ln.strip() for ln in run.read_text(encoding="utf-8").splitlines()
                if ln.strip() and not ln.lstrip().startswith("#")]
    assert commands[-1] == readme_test_command()
    assert 'pip install -e ".[test]"' in commands[:-1]  # the oracle extra and the rest first
    assert not any("download.pytorch.org" in c for c in commands)  # no network dependency


def test_the_test_extra_has_every_heavy_extra():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    test = re.search(r'^test = \["layercalc\[(.*?)\]"\]', pyproject, re.M)
    assert test and set(test.group(1).split(",")) >= {
        "dev", "oracle", "notebooks", "pandas", "plot", "rich", "docs"}
