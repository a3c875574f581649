"""Issue 13 (torch part): the CLI's ``pkg.module:factory`` and ``file.py:function`` returning a
torch module, imported with from_torch; failures are one line and exit 2."""

from __future__ import annotations

import contextlib
import io

import pytest

from oracle_support import require_torch

require_torch()

from layercalc.cli import main  # noqa: E402

FACTORY = '''
import torch
from helper import width

def net():
    return torch.nn.Sequential(torch.nn.Conv2d(3, width(), 3), torch.nn.ReLU())

def broken():
    raise RuntimeError("no weights here")
'''


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:
            code = e.code
    return code or 0, out.getvalue(), err.getvalue()


@pytest.fixture
def pkg(tmp_path, monkeypatch):
    (tmp_path / "helper.py").write_text("def width():\n    return 8\n")
    (tmp_path / "tnet_lc13.py").write_text(FACTORY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("spec", ["tnet_lc13:net", "tnet_lc13.py:net"])
def test_factory_returning_a_torch_module(pkg, spec):
    code, out, err = _run(["summary", spec, "--input", "3x32x32", "--format", "csv"])
    assert code == 0, err
    # Conv2d(3, 8, 3) on 32x32: 8 * 30 * 30 outputs of 27 MACs = 194400 (3*8*9 + 8 = 224 params)
    assert "194400" in out and "224" in out


@pytest.mark.parametrize("argv, message", [
    (["summary", "tnet_lc13:net"], "returned a PyTorch module (Sequential); give its "
     "batch-free input shape with --input"),
    (["summary", "tnet_lc13:broken", "--input", "3x8x8"], "tnet_lc13:broken() raised "
     "RuntimeError: no weights here"),
    (["summary", "nope_lc13.mod:net", "--input", "3x8x8"], "cannot import 'nope_lc13.mod'"),
    (["summary", "tnet_lc13:missing", "--input", "3x8x8"], "tnet_lc13 has no function"),
])
def test_failures_are_one_line_exit_2(pkg, argv, message):
    code, out, err = _run(argv)
    assert code == 2
    assert err.count("\n") == 1 and message in err, err
