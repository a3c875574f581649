"""The torchvision CNN families of issue 12, exact against torchvision 0.29.1's published
figures, plus their builders' keywords, paths and symbolic forms.

Golden values: ``tests/golden/zoo_cnn.toml``, one row per published weights of DenseNet,
ShuffleNet V2, SqueezeNet, RegNet X/Y, MNASNet, EfficientNet B0-B7 and V2, wide ResNet and
ResNeXt: ``meta["num_params"]`` and ``meta["_ops"]`` (GFLOPS: conv + linear MACs, bias
excluded, torchvision's FlopCounterMode total / 2 rounded to 3 decimals) at the weights'
``transforms`` crop size (EfficientNet-B7 at 600, RegNetY-128GF's SWAG E2E weights at 384 and
its SWAG linear ones at 224, ...). Each row names its source and variant. Module-by-module
checks against PyTorch twins are in ``tests/oracles/test_zoo_cnn_vs_torch.py``.
"""

from __future__ import annotations

import tomllib
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import pytest
import sympy as sp

import layercalc as lc
from layercalc import LayerSpecError, analyze, zoo
from layercalc.cli import main

TORCHVISION_VERSION = "0.29.1"
GOLDEN = Path(__file__).parent / "golden" / "zoo_cnn.toml"
with GOLDEN.open("rb") as _f:
    ROWS = tomllib.load(_f)["model"]

#: every model of the families this file covers, in torchvision's naming
FAMILIES = {
    "densenet": ["densenet121", "densenet161", "densenet169", "densenet201"],
    "shufflenet_v2": ["shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5",
                      "shufflenet_v2_x2_0"],
    "squeezenet": ["squeezenet1_0", "squeezenet1_1"],
    "regnet_x": [f"regnet_x_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf",
                                           "32gf")],
    "regnet_y": [f"regnet_y_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf",
                                           "32gf", "128gf")],
    "mnasnet": ["mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"],
    "efficientnet": [f"efficientnet_b{i}" for i in range(8)],
    "efficientnet_v2": ["efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"],
    "wide_resnet": ["wide_resnet50_2", "wide_resnet101_2"],
    "resnext": ["resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d"],
}
ALL = [n for names in FAMILIES.values() for n in names]


@lru_cache(maxsize=None)
def _total(name: str, shape: tuple):
    report = analyze(zoo.get_model(name)(), shape)
    return report.total, report.flops("torchvision")


def _id(row):
    return f"{row['name']}@{row['input'][1]}:{row['weights'].split('.')[1]}"


def test_golden_rows_cover_every_model_and_every_published_weights():
    assert sorted({r["name"] for r in ROWS}) == sorted(ALL)
    assert set(ALL) <= set(zoo.MODELS)
    for r in ROWS:
        assert r["source"].startswith(f"torchvision {TORCHVISION_VERSION}, ")
        assert r["weights"] in r["source"] and r["variant"]
    # one default weights per model; 16GF/32GF/128GF have SWAG weights at 384 besides
    assert sorted(r["name"] for r in ROWS if r["default"]) == sorted(ALL)
    at_384 = {r["name"] for r in ROWS if r["name"].startswith("regnet") and r["input"][1] == 384}
    assert at_384 == {"regnet_y_16gf", "regnet_y_32gf", "regnet_y_128gf"}


@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_torchvision_0_29_1_num_params(row):
    total, _ = _total(row["name"], tuple(row["input"]))
    assert total.params == row["num_params"]


@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_torchvision_0_29_1_ops_gflops_at_the_weights_crop(row):
    """torchvision rounds to 3 decimals and prints without trailing zeros (0.8 is 0.800): the
    MACs must round to the published value at 3 decimals, every printed digit and the
    implied zeros."""
    total, tv = _total(row["name"], tuple(row["input"]))
    assert tv == total.macs  # conv + linear MACs are the torchvision convention
    assert round(total.macs / 1e9, 3) == pytest.approx(row["gflops"], abs=1e-9)


def test_weights_inputs_are_the_default_weights_crops():
    for r in ROWS:
        if r["default"]:
            assert zoo.WEIGHTS_INPUTS.get(r["name"], (3, 224, 224)) == tuple(r["input"])
    assert set(zoo.WEIGHTS_INPUTS) <= set(ALL)
    assert not set(zoo.WEIGHTS_INPUTS) & set(zoo.DEFAULT_INPUTS)


def test_layercalc_list_models_shows_every_family(capsys):
    assert main(["list", "models"]) == 0
    listed = set(capsys.readouterr().out.split())
    assert set(ALL) <= listed


# -- paths -------------------------------------------------------------------------------------
PATHS = {  # torchvision's named_modules() paths (torchvision 0.29.1 model sources)
    "densenet121": ["features.conv0", "features.denseblock1.denselayer1.norm1",
                    "features.denseblock1.denselayer6.conv2", "features.transition1.pool",
                    "features.denseblock4.denselayer16.conv2", "features.norm5", "classifier"],
    "shufflenet_v2_x1_0": ["conv1.0", "maxpool", "stage2.0.branch1.0", "stage2.0.branch2.7",
                           "stage2.1.branch2.0", "stage4.3.branch2.5", "conv5.1", "fc"],
    "squeezenet1_0": ["features.0", "features.3.squeeze", "features.3.expand1x1_activation",
                      "features.12.expand3x3", "classifier.1", "classifier.3"],
    "regnet_y_400mf": ["stem.0", "trunk_output.block1.block1-0.proj.0",
                       "trunk_output.block1.block1-0.f.a.0",
                       "trunk_output.block1.block1-0.f.se.fc1",
                       "trunk_output.block4.block4-5.f.c.1",
                       "trunk_output.block4.block4-5.activation", "avgpool", "fc"],
    "regnet_x_400mf": ["trunk_output.block2.block2-1.f.b.0"],
    "mnasnet1_0": ["layers.0", "layers.8.0.layers.0", "layers.13.0.layers.7", "layers.16",
                   "classifier.1"],
    "efficientnet_b4": ["features.0.0", "features.2.1.block.1.0", "features.2.1.block.2.fc1",
                        "features.2.1.stochastic_depth", "features.8.0", "classifier.1"],
    "efficientnet_v2_s": ["features.1.0.block.0.0", "features.2.0.block.1.0",
                          "features.4.0.block.2.fc2", "features.7.0", "classifier.1"],
    "wide_resnet50_2": ["layer1.0.conv2", "layer4.2.bn3", "layer1.0.downsample.0", "fc"],
    "resnext101_64x4d": ["layer3.22.conv2", "fc"],
}


@pytest.mark.parametrize("name", sorted(PATHS))
def test_report_paths_are_torchvisions(name):
    paths = {r.path for r in analyze(zoo.get_model(name)(), (3, 224, 224)).rows}
    missing = [p for p in PATHS[name] if p not in paths]
    assert not missing


def test_call_styles_follow_how_pytorch_runs_each_step():
    rows = analyze(zoo.shufflenet_v2_x0_5(), (3, 224, 224)).rows
    calls = {r.path: (r.kind, r.call) for r in rows}
    assert calls["stage2.1.chunk.0"] == ("Slice", "functional")
    assert calls["stage2.1.chunk.1"] == ("Slice", "functional")
    assert calls["stage2.1.cat"] == ("Concat", "functional")
    assert calls["stage2.1.channel_shuffle"] == ("ChannelShuffle", "functional")
    assert calls["mean"] == ("Mean", "functional")
    rows = analyze(zoo.densenet121(), (3, 224, 224)).rows
    calls = {r.path: (r.kind, r.call) for r in rows}
    assert calls["relu"] == ("ReLU", "functional")
    assert calls["avgpool"] == ("AdaptiveAvgPool2d", "functional")
    assert calls["features.denseblock1.denselayer1.cat"] == ("Concat", "functional")
    rows = analyze(zoo.regnet_x_400mf(), (3, 224, 224)).rows
    calls = {r.path: (r.kind, r.call) for r in rows}
    assert calls["trunk_output.block1.block1-0.add"] == ("Add", "operator")
    # proj(x) is evaluated before f(x), as in torchvision's forward
    order = [r.path for r in rows]
    assert order.index("trunk_output.block1.block1-0.proj.0") < order.index(
        "trunk_output.block1.block1-0.f.a.0")


def test_every_tool_preset_counts_the_new_kinds_or_lists_them():
    """Mean (x.mean), Slice (x.chunk), ChannelShuffle: every tool preset either counts them
    or, where it gives 0 to real work (Mean's adds and divides), says so in `uncounted`."""
    r = analyze(zoo.shufflenet_v2_x0_5(), (3, 64, 64))
    mean_work = lc.flops(sum((row.cost for row in r.rows if row.kind == "Mean"), lc.Cost()),
                         "exact")
    assert mean_work == 1024 * 4 - 1024 + 1024  # (1024, 2, 2): 3 adds + 1 divide per channel
    for name, tool in lc.TOOL_CONVENTIONS.items():
        values = dict(zip((row.path for row in r.rows), tool.row_values(r)))
        assert values["mean"] == 0, name  # no tool sees x.mean (checked live in the oracles)
        assert tool.uncounted(r).get("Mean") == mean_work, name
        # views and the shuffle's copy do no arithmetic: nothing to count, nothing uncounted
        assert values["stage2.1.chunk.0"] == values["stage2.1.channel_shuffle"] == 0
        assert "Slice" not in tool.uncounted(r) and "ChannelShuffle" not in tool.uncounted(r)


# -- builders ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL)
def test_builders_reject_unknown_keywords_naming_the_key(name):
    with pytest.raises(LayerSpecError) as info:
        zoo.get_model(name)(num_clases=10)
    msg = str(info.value)
    assert msg.startswith(f"{name}: keyword argument 'num_clases' (=10) is not accepted; ")
    assert msg.endswith("Did you mean 'num_classes'?")


@pytest.mark.parametrize("name", ALL)
def test_builders_take_num_classes(name):
    r = analyze(zoo.get_model(name)(num_classes=10), (3, 64, 64))
    assert r.output_shape == (10,)


def test_torchvision_keywords_per_family():
    dense = {r.path: r for r in analyze(zoo.densenet121(drop_rate=0.1, bn_size=2,
                                                        memory_efficient=True), (3, 64, 64)).rows}
    drop = dense["features.denseblock1.denselayer1.dropout"]
    assert (drop.kind, drop.call, drop.layer.p) == ("Dropout", "functional", 0.1)
    assert dense["features.denseblock1.denselayer1.conv1"].output_shape == (64, 16, 16)
    assert analyze(zoo.squeezenet1_1(dropout=0.2), (3, 64, 64)).rows[-5].layer.p == 0.2
    assert analyze(zoo.mnasnet0_5(dropout=0.3), (3, 64, 64)).rows[-2].layer.p == 0.3
    stem = analyze(zoo.regnet_x_400mf(stem_width=16), (3, 64, 64)).rows[0]
    assert stem.output_shape == (16, 32, 32)
    act = analyze(zoo.regnet_y_400mf(activation=lc.SiLU), (3, 64, 64)).rows
    assert {r.kind for r in act} >= {"SiLU"} and "ReLU" not in {r.kind for r in act}
    eps = analyze(zoo.efficientnet_b5(), (3, 64, 64)).rows[1].layer
    assert (eps.eps, eps.momentum) == (0.001, 0.01)
    assert analyze(zoo.efficientnet_v2_s(), (3, 64, 64)).rows[1].layer.eps == 1e-3
    with pytest.raises(LayerSpecError, match=r"^resnext50_32x4d: groups \(=16\) is fixed by "
                                             r"this model to 32\.$"):
        zoo.resnext50_32x4d(groups=16)
    assert zoo.resnext50_32x4d(groups=32) is not None  # repeating the fixed value is allowed
    with pytest.raises(LayerSpecError, match="takes keyword arguments only"):
        zoo.densenet121(1000)
    with pytest.raises(LayerSpecError, match=r"^BlockParams.from_init_params: keyword argument "
                                             r"'se_raito' \(=0.25\) is not accepted"):
        zoo.BlockParams.from_init_params(depth=16, w_0=48, w_a=27.89, w_m=2.09, group_width=8,
                                         se_raito=0.25)
    with pytest.raises(LayerSpecError, match=r"w_0 > 0 a multiple of 8"):
        zoo.BlockParams.from_init_params(depth=16, w_0=50, w_a=27.89, w_m=2.09, group_width=8)


def test_efficientnet_stochastic_depth_grows_linearly_over_blocks():
    """torchvision: block k of n gets p = stochastic_depth_prob * k / n (residual blocks
    call it; the rows are StochasticDepth, identity at inference)."""
    rows = [r for r in analyze(zoo.efficientnet_b1(stochastic_depth_prob=0.4),
                               (3, 64, 64)).rows if r.kind == "StochasticDepth"]
    n = 23  # ceil(1.1 * (1, 2, 2, 3, 3, 4, 1)) summed
    first = {r.path: r.layer.p for r in rows}
    assert first["features.1.1.stochastic_depth"] == pytest.approx(0.4 * 1 / n)
    assert first["features.7.1.stochastic_depth"] == pytest.approx(0.4 * 22 / n)
    assert all(r.cost == lc.Cost() for r in rows)


def test_resnet_builder_groups_width_and_dilation():
    """zoo.resnet is torchvision's ResNet(block, layers, groups=, width_per_group=, ...)."""
    a = analyze(zoo.resnet("bottleneck", [3, 4, 6, 3], groups=32, width_per_group=4),
                (3, 224, 224)).total
    b = analyze(zoo.resnext50_32x4d(), (3, 224, 224)).total
    assert a == b
    # torchvision 0.29.1: resnet50(replace_stride_with_dilation=[False, True, True]) keeps
    # 25,557,032 params; FlopCounterMode total / 2 = 19,079,364,608 at 224 (dev-time check)
    r = analyze(zoo.resnet50(replace_stride_with_dilation=[False, True, True]), (3, 224, 224))
    assert (r.total.params, r.total.macs) == (25_557_032, 19_079_364_608)
    conv = {row.path: row.layer for row in r.rows}["layer4.1.conv2"]
    assert conv.dilation == (4, 4) and conv.padding == (4, 4)
    with pytest.raises(LayerSpecError, match="must be 1 and 64 for BasicBlock"):
        zoo.resnet("basic", [2, 2, 2, 2], groups=2)
    with pytest.raises(LayerSpecError, match=r"block \(='resnext'\) must be"):
        zoo.resnet("resnext", [2, 2, 2, 2])


# -- DenseNet's concatenations ---------------------------------------------------------------
def test_densenet_concatenation_traffic_against_eager_pytorch():
    """DenseBlock's docstring: the growing concatenation writes sum_{i=1..L} (C0 + i k) H W
    per block; eager PyTorch's torch.cat calls (one per layer over the feature list, one
    after the block) write sum_{i=0..L} (C0 + i k) H W, i.e. C0 H W more per block."""
    c0, k, layers, hw = 64, 32, 6, 56 * 56
    block = lc.blocks.DenseBlock(layers, c0, 4, k)
    r = analyze(block, (c0, 56, 56))
    cats = [row.cost for row in r.rows if row.kind == "Concat"]
    ours = sum(c.writes for c in cats)
    eager = sum((c0 + i * k) * hw for i in range(layers + 1))  # torchvision's cat calls
    assert ours == sum((c0 + i * k) * hw for i in range(1, layers + 1))
    assert eager - ours == c0 * hw
    assert sum(c.act_reads for c in cats) == ours  # a concatenation reads what it writes


# -- symbols -----------------------------------------------------------------------------------
H, W = lc.symbols("H W")
ONE_PER_FAMILY = [names[0] for names in FAMILIES.values()] + ["efficientnet_v2_s"]


@pytest.mark.parametrize("name", sorted(set(ONE_PER_FAMILY)))
def test_closed_form_equals_numeric_at_odd_sizes(name):
    """Every family traces symbolically (no size constraint beyond a minimum size: no
    divisibility, since no merge joins tensors of different strides)."""
    model = zoo.get_model(name)()
    closed = lc.closed_form(analyze(model, (3, H, W)).total)
    for h, w in [(97, 75), (224, 224)]:
        num = analyze(model, (3, h, w)).total
        for field in ("macs", "params", "act_reads", "writes"):
            assert sp.sympify(getattr(closed, field)).subs({H: h, W: w}) == getattr(num, field)


@pytest.mark.parametrize("name, smallest", [
    ("densenet121", 29), ("squeezenet1_0", 21), ("squeezenet1_1", 17),
    ("shufflenet_v2_x0_5", 1), ("regnet_y_400mf", 1), ("mnasnet0_5", 1),
    ("efficientnet_b0", 1), ("resnext50_32x4d", 1),
])
def test_smallest_input_is_torchvisions_min_size(name, smallest):
    """torchvision's weights meta ``min_size`` (1x1, or 29x29 DenseNet, 21x21 / 17x17
    SqueezeNet): the smallest square input that traces."""
    model = zoo.get_model(name)()
    analyze(model, (3, smallest, smallest))
    if smallest > 1:
        with pytest.raises(lc.ShapeError):
            analyze(model, (3, smallest - 1, smallest - 1))


# -- docs --------------------------------------------------------------------------------------
DOC = Path(__file__).parents[1] / "docs" / "zoo.md"


def test_docs_zoo_page_examples_run():
    import doctest

    result = doctest.testfile(str(DOC), module_relative=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 5 and result.failed == 0


def test_docs_zoo_tables_hold_every_golden_row():
    lines = DOC.read_text().splitlines()
    for r in ROWS:
        want = (f"| `{r['name']}` | {r['weights'].split('.')[1]}", f"{r['input'][1]}x"
                f"{r['input'][2]} | {r['num_params']:,} | {r['gflops']} | ")
        assert any(line.startswith(want[0]) and want[1] in line for line in lines), r["weights"]
