"""`layercalc train`: a table per layer and a memory breakdown that agree with the API."""

from __future__ import annotations

import re

import pytest

import layercalc as lc
from layercalc.cli import main


def test_train_gpt2_matches_the_api(capsys):
    """The brief's command line: the step's FLOPs, every memory line and the communication
    equal `training()` on the same report."""
    args = ["train", "gpt2", "--input", "128", "--batch", "8", "--optimizer", "adamw",
            "--precision", "bf16-mixed", "--recompute", "selective", "--tp", "2", "--zero",
            "1", "--hardware", "h100-sxm", "--depth", "3"]
    assert main(args) == 0
    out = capsys.readouterr().out
    t = lc.training(lc.analyze(lc.zoo.gpt2(), (128,), batch=8, name="gpt2"),
                    optimizer="adamw", precision="bf16-mixed", recompute="selective",
                    parallel=lc.Parallelism(tp=2, zero=1))
    assert out.startswith("gpt2 training step: input (128,), batch 8, adamw, bf16-mixed, "
                          "recompute selective, activations pytorch, dp=1, tp=2, pp=1, zero=1\n"
                          + lc.convention_note(lc.DEFAULT_CONVENTION))
    assert f"FLOPs (exact) per step: {t.flops('exact'):,} =" in out
    m = t.memory
    lines = out.splitlines()
    memory = lines[lines.index("Memory per device"):]  # the memory table and what follows
    for label, v in (("weights", m.weights), ("gradients", m.gradients),
                     ("optimizer states", m.optimizer_states),
                     ("activations", m.activations), ("Total", m.total)):
        line = next(x for x in memory if x.startswith(label + " "))
        assert re.split(r"\s{2,}", line) == [label, f"{v:,}", lc.format.nbytes(v)]
    line = next(x for x in out.splitlines() if x.startswith("all-reduce"))
    b = t.communication.all_reduce  # one all-reduce over tp=2: a ring sends the buffer
    assert re.split(r"\s{2,}", line) == ["all-reduce", f"{b:,}", lc.format.nbytes(b),
                                          lc.format.nbytes(b)]
    assert "Step time on h100-sxm (bf16" in out
    assert [x.split()[0] for x in out.splitlines() if x.startswith("transformer.h.")] == [
        f"transformer.h.{i}" for i in range(12)]


def test_train_per_layer_rows(capsys):
    assert main(["train", "resnet18", "--input", "3x32x32", "--batch", "2"]) == 0
    out = capsys.readouterr().out
    assert "layer1.0.conv1" in out and "Backward not counted" not in out


@pytest.mark.parametrize("args, message", [
    (["--optimizer", "adan"], "unknown optimizer 'adan'; did you mean 'adam'"),
    (["--sp"], "Parallelism: sp=True needs tp > 1"),
    (["--recompute", "layer9"], "unknown layer path (recompute) 'layer9'"),
    (["--depth", "0"], "argument --depth: '0' is not a positive integer"),
])
def test_train_errors_are_one_line(capsys, args, message):
    assert main(["train", "resnet18", "--input", "3x32x32", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("layercalc: error: ") and message in err and err.count("\n") == 1
