"""What the command line prints: --version, `list hardware`, the default convention in every
header, --depth validated and honoured by every format, --full, and each --format."""

from __future__ import annotations

import csv
import io
import json

import pytest

import layercalc as lc
from layercalc.cli import main


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"layercalc {lc.__version__}"


def test_help_exits_0(capsys):
    assert main(["summary", "--help"]) == 0
    assert "--full" in capsys.readouterr().out


def test_list_hardware(capsys):
    """Every preset with its dense peak per dtype and its bandwidth, as the API gives them."""
    assert main(["list", "hardware"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {ln.split()[0]: ln for ln in lines if ln.split() and ln.split()[0] in
            lc.HARDWARE_PRESETS}
    assert set(rows) == set(lc.HARDWARE_PRESETS)
    a100 = rows["a100-sxm4-80gb"]
    assert "fp16 312 T" in a100 and "int8 624 T" in a100 and a100.endswith("2.04 TB/s")
    assert rows["hi3519av100"].endswith("-")  # bandwidth not documented
    assert rows["t4"].split("  ")[-1].strip() == lc.format.rate(
        lc.get_hardware("t4").mem_bytes_per_s, "B/s")


@pytest.mark.parametrize("command", [["summary", "resnet18"], ["compare", "resnet18"],
                                     ["roofline", "resnet18", "--hardware", "t4"]])
def test_every_output_states_the_default_convention(capsys, command):
    assert main(command) == 0
    out = capsys.readouterr().out
    assert "'exact'" in out or "FLOPs: exact convention (every multiply, add" in out


@pytest.mark.parametrize("flag", ["0", "-1"])
@pytest.mark.parametrize("command", [["summary", "resnet18"],
                                     ["roofline", "resnet18", "--hardware", "t4"]])
def test_depth_must_be_positive(capsys, command, flag):
    assert main([*command, "--depth", flag]) == 2
    err = capsys.readouterr().err
    assert err == f"layercalc: error: argument --depth: '{flag}' is not a positive integer\n"


@pytest.mark.parametrize("fmt", ["text", "md", "csv", "json", "latex", "html"])
def test_every_format_honours_depth_and_by_kind(capsys, fmt):
    """resnet50 at depth 1 has 11 lines (7 layers, layer1..4), by kind 8 (its layer kinds)."""
    r = lc.analyze(lc.zoo.resnet50(), (3, 224, 224))
    for extra, n in ((["--depth", "1"], 11), (["--by-kind"], len(r.by_kind()))):
        assert main(["summary", "resnet50", "--format", fmt, *extra]) == 0
        out = capsys.readouterr().out
        if fmt == "json":
            assert len(json.loads(out)["rows"]) == n
        elif fmt == "csv":
            assert len(list(csv.reader(io.StringIO(out)))) == n + 2  # header, rows, total
        elif fmt == "md":
            assert len([ln for ln in out.splitlines() if ln.startswith("| ")]) == n + 2
        elif fmt == "latex":
            assert out.count(r"\\") - out.count(r"\\ ") == n + 2  # head, rows, total
        elif fmt == "html":
            assert out.count("<tr>") == n + 1
        else:
            assert len([ln for ln in out.splitlines()
                        if ln and ln[0] not in "-" and "  " in ln]) >= n


def test_csv_and_json_keep_exact_totals(capsys):
    assert main(["summary", "resnet50", "--format", "csv", "--by-kind"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    total = rows[-1]
    assert total["path"] == "Total" and int(total["params"]) == 25_557_032
    assert sum(int(r["layers"]) for r in rows[:-1]) == int(total["layers"]) == 175
    assert sum(int(r["flops[exact]"]) for r in rows[:-1]) == int(total["flops[exact]"])


def test_full_prints_formulas_whole(capsys):
    """`--input 3xHxW` lines were 976 characters; now formulas are abbreviated, and --full
    prints the exact closed forms."""
    assert main(["summary", "resnet50", "--input", "3xHxW", "--depth", "1"]) == 0
    short = capsys.readouterr().out
    assert max(len(ln) for ln in short.splitlines()) < 200 and "… marks" in short
    assert main(["summary", "resnet50", "--input", "3xHxW", "--depth", "1", "--full"]) == 0
    full = capsys.readouterr().out
    H, W = lc.symbols("H W")
    macs = lc.analyze(lc.zoo.resnet50(), (3, H, W)).total.macs
    assert f"MACs: {macs}\n" in full and "…" not in full


def test_macs_convention_shows_one_column(capsys):
    assert main(["summary", "resnet18", "--convention", "macs", "--depth", "1"]) == 0
    head = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("Layer")][0]
    assert head.split()[-4:] == ["Params", "MACs", "%", "MACs"] and "FLOPs" not in head


def test_rich_format(capsys):
    pytest.importorskip("rich", reason="rich is an optional extra: pip install 'layercalc[rich]'")
    assert main(["summary", "resnet18", "--format", "rich", "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert "layer4" in out and "11.7M" in out and "─" in out  # rich's rule


def test_compare_formats(capsys):
    assert main(["compare", "resnet18", "--conventions", "fvcore", "--format", "md"]) == 0
    md = capsys.readouterr().out
    assert "| fvcore | 1,819,065,856 |" in md and "fvcore - torchvision = 4,992,512" in md
    assert main(["compare", "resnet18", "--conventions", "fvcore", "--format", "html"]) == 0
    assert "<details><summary>By layer kind</summary>" in capsys.readouterr().out


def test_a_closed_pipe_is_not_an_error():
    """`layercalc summary resnet152 --format json | head -1`: no traceback when the reader
    stops early (the document is far larger than a pipe's buffer)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-m", "layercalc", "summary", "resnet152",
                             "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=root,
                            env={**os.environ, "PYTHONPATH": str(root)})
    first = proc.stdout.readline()
    proc.stdout.close()  # as head does after one line
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0
    assert first == b"{\n" and b"Traceback" not in err
