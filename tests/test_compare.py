"""`compare` and ``layercalc compare``: every convention side by side, differences by kind."""

from __future__ import annotations

import json

import pytest

import layercalc as lc
from layercalc import analyze, compare, zoo
from layercalc.cli import main


@pytest.fixture(scope="module")
def resnet50():
    return compare(analyze(zoo.resnet50(), (3, 224, 224), name="resnet50"))


def test_totals_are_the_reports_totals(resnet50):
    r = resnet50.report
    assert set(resnet50.totals) == set(lc.CONVENTIONS)
    for name, total in resnet50.totals.items():
        assert total == r.flops(name)
        assert sum(d[name] for d in resnet50.by_kind.values()) == total


def test_fvcore_minus_torchvision_is_batchnorm_and_adaptive_pool(resnet50):
    """The issue's example: fvcore - torchvision = BatchNorm 2n + adaptive pool. ResNet-50 at
    224: BN inputs sum to 11,113,984 elements; the final pool reads 2048 x 7 x 7 = 100,352."""
    bn_in = sum(row.input_shape[0] * row.input_shape[1] * row.input_shape[2]
                for row in resnet50.report.rows if row.kind == "BatchNorm2d")
    assert bn_in == 11_113_984
    assert resnet50.difference("fvcore", "torchvision") == {
        "BatchNorm2d": 2 * bn_in, "AdaptiveAvgPool2d": 2048 * 7 * 7}
    text = resnet50.explain("fvcore", "torchvision")
    assert "BatchNorm2d: +22,227,968 = 2 x input elements" in text
    assert "AdaptiveAvgPool2d: +100,352 = 1 x input elements" in text


def test_identical_conventions_have_no_difference(resnet50):
    assert resnet50.difference("macs", "torchvision") == {}
    assert "(no difference)" in resnet50.explain("macs", "torchvision")


def test_subset_and_json():
    c = compare(analyze(zoo.mobilenet_v2(), (3, 224, 224)), ["thop", "ptflops"])
    assert c.names == ("thop", "ptflops")
    d = json.loads(c.to_json())
    assert d["totals"] == {"thop": 327486720, "ptflops": 320300008}  # peer_numbers.json


def test_compare_rejects_a_non_report():
    with pytest.raises(lc.LayerSpecError, match="compare: report must be a Report"):
        compare(zoo.resnet18())


def test_cli_compare(capsys):
    assert main(["compare", "resnet18", "--conventions", "fvcore,thop"]) == 0
    out = capsys.readouterr().out
    assert "1,819,065,856" in out and "1,824,033,792" in out  # fvcore, thop (peer_numbers)
    assert "fvcore - torchvision = " in out


def test_cli_compare_json_and_errors(capsys):
    assert main(["compare", "alexnet", "--format", "json", "--baseline", "none",
                 "--conventions", "ptflops"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"] == {"ptflops": 716441128}
    assert main(["compare", "alexnet", "--conventions", "fvcre"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean 'fvcore'" in err
