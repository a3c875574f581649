"""PyTorch oracle tests: they need the ``oracle`` extra and skip, with a reason, without it.

Each test module calls ``oracle_support.require_torch()`` before importing anything that needs
torch (``torch_models.py`` skips itself the same way when pytest collects it for doctests), so
collection never errors under an interpreter without torch. This file only reports, in the
session header, whether the oracles will run.
"""

from __future__ import annotations

import importlib.util


def pytest_report_header(config):
    if importlib.util.find_spec("torch") is None:
        from oracle_support import TORCH_SKIP_REASON

        return f"oracles: skipped ({TORCH_SKIP_REASON})"
    import importlib.metadata as md

    return f"oracles: torch {md.version('torch')}"
