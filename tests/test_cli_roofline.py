"""`layercalc roofline`: a table per batch size whose total line agrees with the API."""

from __future__ import annotations

import pytest

import layercalc as lc
from layercalc import format as fmt
from layercalc.cli import main


def _sections(out: str) -> dict[str, list[str]]:
    """batch label -> the lines of its table."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in out.splitlines():
        if line.startswith("batch "):
            current = line.split(" ", 1)[1]
            sections[current] = []
        elif line.startswith(("Time:", "…")):
            current = None
        elif current is not None and line and not line.startswith("-"):
            sections[current].append(line)
    return sections


def _cells(line: str) -> list[str]:
    """A table line split on runs of two or more spaces (cells such as '58.5 MB' keep their
    unit)."""
    import re

    return re.split(r"\s{2,}", line.strip())


def test_roofline_per_batch_totals_match_the_api(capsys):
    """The CLI's defaults are the API's (the exact convention, compulsory memory): each total
    line equals `lc.roofline` with its defaults, formatted by `layercalc.format`."""
    assert main(["roofline", "resnet18", "--hardware", "a100-sxm4-80gb", "--dtype", "fp16",
                 "--batch", "1,8,64", "--input", "3,224,224"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("resnet18 on a100-sxm4-80gb, fp16: peak 312 TFLOP/s, bandwidth "
                          "2.04 TB/s, ridge 153 FLOP/byte; input 3x224x224\n"
                          "FLOPs: exact convention (every multiply, add")
    sections = _sections(out)
    assert list(sections) == ["1", "8", "64"]
    model = lc.zoo.resnet18()
    for b, lines in sections.items():
        assert _cells(lines[0]) == ["Layer", "FLOPs", "Bytes", "FLOP/byte", "Bound", "Time"]
        total = _cells(lines[-1])
        r = lc.roofline(lc.analyze(model, (3, 224, 224), batch=int(b)), "a100-sxm4-80gb",
                        "fp16")
        assert total == ["Total", fmt.count(r.total.flops), fmt.nbytes(r.total.bytes),
                         fmt.count(r.total.intensity), r.total.bound, fmt.seconds(r.time)]
        value, unit = total[5].split()
        scale = {"s": 1, "ms": 1e-3, "µs": 1e-6, "ns": 1e-9}[unit]
        assert float(value) * scale == pytest.approx(float(r.time), rel=5e-3)  # 3 digits
        assert len(lines) == 2  # no per-layer rows without --top or --depth
    assert out.rstrip().endswith("Time: sum over layers of max(FLOPs/peak, "
                                 "bytes/bandwidth), a lower bound.")
    # resnet18 at batch 1: 3.64G exact FLOPs (2 x 1.81G MACs plus BN, ReLU, pool and add work)
    assert "3.64G" in out and lc.analyze(model, (3, 224, 224)).flops() == 3_640_277_440


def test_top_and_depth_rows(capsys):
    assert main(["roofline", "seed_alexnet", "--hardware", "t4", "--batch", "2",
                 "--top", "3"]) == 0
    lines = _sections(capsys.readouterr().out)["2"]
    assert len(lines) == 5  # header, 3 layers, total
    r = lc.roofline(lc.analyze(lc.zoo.seed_alexnet(), (3, 224, 224), batch=2), "t4", "fp16")
    slowest = sorted(r.points, key=lambda p: float(p.time), reverse=True)[:3]
    assert [ln.split()[0] for ln in lines[1:4]] == [p.name for p in slowest]
    assert [_cells(ln)[5] for ln in lines[1:4]] == [fmt.seconds(p.time) for p in slowest]
    assert main(["roofline", "resnet18", "--hardware", "h100", "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert "on h100-sxm" in out
    names = [ln.split()[0] for ln in _sections(out)["1"][1:-1]]
    assert names == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3",
                     "layer4", "avgpool", "flatten", "fc"]


def test_fuse_flag_moves_fewer_bytes(capsys):
    assert main(["roofline", "resnet18", "--hardware", "t4", "--fuse"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("resnet18 (fused) on t4")
    fused = lc.roofline(lc.analyze(lc.fuse(lc.zoo.resnet18()), (3, 224, 224)), "t4", "fp16")
    assert _cells(_sections(out)["1"][-1])[2] == fmt.nbytes(fused.total.bytes)


def test_symbolic_batch_prints_formulas(capsys):
    """A symbolic batch prints formulas, readable: times as floats of 3 significant figures,
    long sums abbreviated (the total time is a sum of one Max per layer), and --full prints
    them whole."""
    assert main(["roofline", "resnet18", "--hardware", "t4", "--batch", "B"]) == 0
    out = capsys.readouterr().out
    total = _cells(_sections(out)["B"][-1])
    assert "*B" in total[1] and total[4] == "memory"  # memory-bound for every batch size
    assert total[5].startswith("0.000116*B + … (+") and total[5].endswith(" terms) s")
    assert max(len(line) for line in out.splitlines()) < 160
    assert "… marks an abbreviated formula" in out
    assert main(["roofline", "resnet18", "--hardware", "t4", "--batch", "B", "--full",
                 "--format", "text"]) == 0
    full = _cells(_sections(capsys.readouterr().out)["B"][-1])[5]
    r = lc.roofline(lc.analyze(lc.zoo.resnet18(), (3, 224, 224), batch=lc.symbols("B")), "t4")
    assert full == f"{r.time} s" and len(full) > 300  # exact fractions, every term


def test_json_per_batch(capsys):
    import json

    assert main(["roofline", "resnet18", "--hardware", "t4", "--batch", "1,2", "--top", "2",
                 "--format", "json"]) == 0
    docs = json.loads(capsys.readouterr().out)
    assert [d["schema"] for d in docs] == ["layercalc.roofline/1"] * 2
    assert [d["batch"] for d in docs] == [1, 2] and len(docs[0]["rows"]) == 2
    r = lc.roofline(lc.analyze(lc.zoo.resnet18(), (3, 224, 224), batch=2), "t4")
    assert docs[1]["total"]["flops"] == r.total.flops and docs[1]["time"] == str(r.time)


@pytest.mark.parametrize("argv, message", [
    (["--hardware", "a100"], "layercalc: error: ambiguous hardware 'a100': did you mean "
     "'a100-sxm4-40gb' or 'a100-sxm4-80gb'?"),
    (["--hardware", "tpu"], "layercalc: error: unknown hardware 'tpu'"),
    (["--hardware", "hi3519av100", "--dtype", "int8"],
     "layercalc: error: hi3519av100: memory bandwidth is not documented"),
    (["--hardware", "t4", "--dtype", "fp8"], "layercalc: error: unknown dtype for t4 'fp8'"),
    (["--hardware", "t4", "--memory-model", "no-reuse"],
     "layercalc: error: unknown memory model 'no-reuse'; did you mean 'no_reuse'?"),
    (["--hardware", "t4", "--convention", "exat"],
     "layercalc: error: unknown convention 'exat'; did you mean 'exact'?"),
    (["--hardware", "t4", "--batch", "1,0"],
     "layercalc: error: --batch '1,0': entry '0' must be positive"),
    (["--hardware", "t4", "--top", "0"],
     "layercalc: error: argument --top: '0' is not a positive integer"),
    (["--hardware", "t4", "--top", "2", "--depth", "1"],
     "layercalc: error: argument --depth: not allowed with argument --top"),
    ([], "layercalc: error: the following arguments are required: --hardware"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    assert main(["roofline", "resnet18", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(message)
