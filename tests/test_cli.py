"""The command line: exit codes, one-line errors, and output snapshots with invariants."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import layercalc as lc
from layercalc.cli import main
from golden_files import check_snapshot


def test_summary_resnet50_table(request, capsys):
    assert main(["summary", "resnet50", "--depth", "1"]) == 0
    out = capsys.readouterr().out
    check_snapshot(request, "cli_resnet50_depth1", out.rstrip("\n"))
    assert "25,557,032" in out  # torchvision resnet50 num_params


def test_summary_json_totals_equal_sum_of_rows(capsys):
    assert main(["summary", "resnet18", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "layercalc.report/1"
    assert sum(r["counts"]["macs"] for r in data["rows"]) == data["total"]["counts"]["macs"]
    assert data["total"]["counts"]["params"] == 11_689_512


def test_symbolic_input_prints_formulas(capsys):
    assert main(["summary", "seed_alexnet", "--input", "3xHxW", "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert "floor(" in out and "H" in out


@pytest.mark.parametrize("argv, message", [
    (["summary", "resnet5"], "layercalc: error: unknown model 'resnet5'; did you mean "),
    (["summary", "resnet50", "--input", "3x22a4"],
     "layercalc: error: --input '3x22a4': unexpected 'a4' after a complete size; expected an "
     "operator (+ - * /) or the end of the entry (at character 5)"),
    (["summary", "resnet50", "--convention", "exat"],
     "layercalc: error: unknown convention 'exat'; did you mean 'exact'?"),
    (["summary", "resnet50", "--input", "4x224x224"],
     "layercalc: error: conv1 (Conv2d): expected 3 input channels, got input shape "
     "(4, 224, 224) from the input."),
    (["frobnicate"], "layercalc: error: argument command: invalid choice: 'frobnicate'"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(message)


def test_list(capsys):
    assert main(["list", "conventions"]) == 0
    assert capsys.readouterr().out.split()[0] == "exact"
    assert main(["list", "layers"]) == 0
    assert "Conv2d" in capsys.readouterr().out.split()
    assert main(["list", "models"]) == 0
    assert "resnet50" in capsys.readouterr().out.split()


def test_model_from_file(tmp_path, capsys):
    f = tmp_path / "net.py"
    f.write_text("import layercalc as lc\n"
                 "def build():\n    return lc.Sequential(lc.Conv2d(3, 8, 3), lc.ReLU())\n")
    assert main(["summary", f"{f}:build", "--input", "3x32x32", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("Total,")


def test_python_m_layercalc_runs():
    proc = subprocess.run([sys.executable, "-m", "layercalc", "list", "conventions"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "exact" in proc.stdout
    assert lc.__version__


def test_symbolic_resnet50_prints_closed_forms(capsys):
    """`--input 3xHxW` prints closed forms: stacked strides become ceiling(H/2^k)."""
    assert main(["summary", "resnet50", "--input", "3xHxW", "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert "(2048, ceiling(H/32), ceiling(W/32))" in out
    assert "MACs: 14417920*ceiling(H/32)*ceiling(W/32) + 7471104*ceiling(H/16)*ceiling(W/16)" in out
    macs_line = [ln for ln in out.splitlines() if ln.startswith("Params:")][0]
    assert "floor(" not in macs_line  # (max-pool's valid-tap count keeps a genuine floor)


def test_language_models_default_to_their_context_length(capsys):
    """Without --input, gpt2 is analyzed on 1024 token ids (zoo.DEFAULT_INPUTS), not on an
    image; its parameter count is the released checkpoint's 124,439,808 (values.toml)."""
    assert main(["summary", "gpt2", "--format", "json"]) == 0
    import json

    d = json.loads(capsys.readouterr().out)
    assert d["input_shape"] == [1024] and d["total"]["counts"]["params"] == 124439808
