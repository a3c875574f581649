"""The zoo's graph models against their published figures (tests/golden/zoo_graph.toml):
torchvision 0.29.1's weights metadata for inception_v3 and googlenet (``num_params`` exact,
``_ops`` to every printed digit at the weights' crop size), Ronneberger et al. 2015 for the
U-Net."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

import pytest

import layercalc as lc
from layercalc.zoo import DEFAULT_INPUTS, MODELS

ROWS = tomllib.loads((Path(__file__).parent / "golden" / "zoo_graph.toml").read_text())["model"]


@lru_cache(maxsize=None)
def _report(name: str, shape: tuple):
    return lc.analyze(MODELS[name](), shape)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r['name']}-{r['quantity']}")
def test_torchvision_0_29_1_and_paper_figures(row):
    """Each golden row, exactly: params equal, `_ops` equal when rounded to the printed
    digits, shapes equal."""
    r = _report(row["name"], tuple(row["input"]))
    if row["quantity"] == "params":
        assert r.total.params == row["value"]
    elif row["quantity"] == "gflops_torchvision":
        assert round(r.flops(row["convention"]) / 1e9, 3) == row["value"]
    else:
        assert list(r.output_shape) == row["value"]


def test_registered_and_declared_inputs(capsys):
    """Listed by `layercalc list models`; each declares its input (the CLI's default)."""
    from layercalc.cli import main

    assert main(["list", "models"]) == 0
    listed = capsys.readouterr().out.split()
    for name, shape in (("inception_v3", (3, 299, 299)), ("googlenet", (3, 224, 224)),
                        ("unet", (1, 572, 572))):
        assert name in MODELS and name in listed and name not in DEFAULT_INPUTS
        assert MODELS[name]().input_shape == shape
    assert main(["summary", "unet", "--depth", "1"]) == 0
    assert "unet: input (1, 572, 572), batch 1" in capsys.readouterr().out


def test_aux_heads_are_side_outputs():
    """inception_v3's AuxLogits and googlenet's aux1/aux2: parameters counted, work not; the
    aux-free models have the same MACs."""
    inc = _report("inception_v3", (3, 299, 299))
    side = [row for row in inc.rows if row.side]
    assert {row.path.split(".")[0] for row in side} == {"AuxLogits"}
    assert sum(row.cost.params for row in side) == 3_326_696  # torchvision's AuxLogits
    assert all(row.cost.macs == 0 and row.cost.writes == 0 for row in side)
    plain = lc.analyze(lc.zoo.inception_v3(aux_logits=False), (3, 299, 299))
    assert plain.total.params == 27_161_264 - 3_326_696 and plain.total.macs == inc.total.macs
    g = lc.analyze(lc.zoo.googlenet(aux_logits=True), (3, 224, 224))
    assert g.total.params == 13_004_888  # torchvision googlenet(aux_logits=True)
    assert g.total.macs == _report("googlenet", (3, 224, 224)).total.macs
    assert any("aux1, aux2" in n for n in g.notes)


def test_unet_symbolic_and_the_573_failure():
    """The symbolic U-Net equals the numeric one at 572 and fails at 573 as the numeric one
    does (issue 12)."""
    H = lc.symbols("H")
    s = lc.analyze(lc.zoo.unet(), (1, H, H))
    assert lc.evaluate(s, H=572).total == _report("unet", (1, 572, 572)).total
    with pytest.raises(lc.ShapeError, match="^cat1 .Concat.: input shapes .64, 393, 393. and "
                       ".64, 392, 392."):
        lc.analyze(lc.zoo.unet(), (1, 573, 573))
    with pytest.raises(lc.ShapeError, match="^cat1 .Concat.: input shapes .64, 393, 393. and "
                       ".64, 392, 392.* false at H=573"):
        lc.evaluate(s, H=573)


def test_inception_v3_min_size_with_its_aux_head():
    """torchvision's ``min_size`` (75, 75): inference runs there although the aux head could
    not; its rows are reported at the built sizes for their parameters, and a note says so."""
    r = lc.analyze(lc.zoo.inception_v3(), (3, 75, 75))
    assert r.total.params == 27_161_264 and r.output_shape == (1000,)
    assert r.notes[0].startswith("AuxLogits: the side output cannot run at these sizes "
                                 "(AuxLogits.avg_pool2d (AvgPool2d): output size along height "
                                 "would be 0 for input size 3")
    with pytest.raises(lc.ShapeError, match="^Mixed_7a.branch3x3_2.conv"):
        lc.analyze(lc.zoo.inception_v3(), (3, 74, 80))
