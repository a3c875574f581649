"""Composition, shape propagation, batch scaling and error context."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import sympy as sp

import layercalc as lc


def basic_block(cin, cout, stride=1):
    body = lc.Sequential(OrderedDict(
        conv1=lc.Conv2d(cin, cout, 3, stride, 1, bias=False), bn1=lc.BatchNorm2d(cout),
        relu1=lc.ReLU(), conv2=lc.Conv2d(cout, cout, 3, 1, 1, bias=False),
        bn2=lc.BatchNorm2d(cout)))
    short = None
    if stride != 1 or cin != cout:
        short = lc.Sequential(lc.Conv2d(cin, cout, 1, stride, bias=False), lc.BatchNorm2d(cout))
    return lc.Residual(body, short, activation=lc.ReLU())


def tiny_resnet(c2=64):
    return lc.Sequential(OrderedDict(
        layer1=lc.Sequential(basic_block(64, 64), basic_block(64, 64)),
        layer2=lc.Sequential(basic_block(c2, 128, 2)),
    ))


def test_paths_follow_pytorch_names():
    report = lc.analyze(tiny_resnet(), (64, 56, 56))
    paths = [r.path for r in report.rows]
    assert paths[:7] == ["layer1.0.conv1", "layer1.0.bn1", "layer1.0.relu1", "layer1.0.conv2",
                         "layer1.0.bn2", "layer1.0.add", "layer1.0.relu"]
    assert "layer2.0.downsample.0" in paths and "layer2.0.downsample.1" in paths
    assert report.output_shape == (128, 28, 28)


def test_shape_error_names_the_path_and_the_producer():
    """The issue's example: a channel mismatch names both layers and shapes."""
    with pytest.raises(lc.ShapeError) as info:
        lc.analyze(tiny_resnet(c2=32), (64, 56, 56))
    assert str(info.value) == (
        "layer2.0.conv1 (Conv2d): expected 32 input channels, got input shape (64, 56, 56) "
        "from layer1.1.relu.")


def test_total_is_sum_of_rows_and_groupings():
    report = lc.analyze(tiny_resnet(), (64, 56, 56))
    assert report.total == sum((r.cost for r in report.rows), lc.Cost())
    assert sum(report.by_kind().values(), lc.Cost()) == report.total
    assert sum(report.by_depth(1).values(), lc.Cost()) == report.total
    assert list(report.by_depth(1)) == ["layer1", "layer2"]


def test_batch_scales_work_and_activations_not_weights():
    one = lc.analyze(tiny_resnet(), (64, 56, 56)).total
    eight = lc.analyze(tiny_resnet(), (64, 56, 56), batch=8).total
    assert eight.macs == 8 * one.macs and eight.act_reads == 8 * one.act_reads
    assert eight.writes == 8 * one.writes and dict(eight.ops) == {k: 8 * v for k, v in one.ops.items()}
    assert (eight.params, eight.buffers, eight.weight_reads) == (one.params, one.buffers,
                                                                  one.weight_reads)
    B = lc.symbols("B")
    sym = lc.analyze(tiny_resnet(), (64, 56, 56), batch=B).total
    assert sp.expand(sym.macs - B * one.macs) == 0 and sym.params == one.params


def test_symbolic_report_substitutes_to_numeric():
    H, W = lc.symbols("H W")
    sym = lc.analyze(tiny_resnet(), (64, H, W))
    num = lc.analyze(tiny_resnet(), (64, 56, 56))
    sub = sym.subs({H: 56, W: 56})
    assert sub.total == num.total
    assert [r.output_shape for r in sub.rows] == [r.output_shape for r in num.rows]


def test_residual_add_counts_one_add_per_element():
    r = lc.analyze(lc.Residual(lc.Conv2d(8, 8, 3, padding=1)), (8, 10, 10))
    add = [row for row in r.rows if row.path == "add"][0]
    assert add.cost.ops == {"add": 800}


def test_parallel_concat_and_se_mul():
    inception = lc.Parallel(lc.Conv2d(16, 8, 1), lc.Conv2d(16, 24, 3, padding=1))
    assert lc.analyze(inception, (16, 7, 7)).output_shape == (32, 7, 7)
    se = lc.Sequential(lc.AdaptiveAvgPool2d(1), lc.Conv2d(16, 4, 1), lc.ReLU(),
                       lc.Conv2d(4, 16, 1), lc.Sigmoid())
    r = lc.analyze(lc.Parallel(lc.Identity(), se, merge="mul"), (16, 7, 7))
    assert r.output_shape == (16, 7, 7)
    assert r.rows[-1].path == "mul" and r.rows[-1].cost.ops == {"mul": 16 * 49}


def test_shufflenet_v2_unit_with_slice_and_shuffle():
    """ShuffleNet V2 basic unit (Ma et al. 2018, Fig. 3c): split, branch, concat, shuffle."""
    c = 116
    branch = lc.Sequential(lc.Slice(c // 2, c), lc.Conv2d(58, 58, 1, bias=False),
                           lc.Conv2d(58, 58, 3, padding=1, groups=58, bias=False),
                           lc.Conv2d(58, 58, 1, bias=False))
    unit = lc.Sequential(lc.Parallel(lc.Slice(0, c // 2), branch), lc.ChannelShuffle(2))
    r = lc.analyze(unit, (c, 28, 28))
    assert r.output_shape == (116, 28, 28)
    assert r.total.macs == 28 * 28 * 58 * (58 + 9 + 58)


def test_tied_weights_count_once():
    """GPT-2's tied token embedding and LM head: parameters counted once, declared by key."""
    emb = lc.Embedding(100, 16)
    head = lc.Linear(16, 100, bias=False)
    model = lc.Sequential(lc.Tied("wte", emb), lc.Tied("wte", head))
    r = lc.analyze(model, (5,))
    assert r.total.params == 1600
    assert r.rows[1].cost.params == 0 and r.rows[1].cost.macs == 5 * 16 * 100


def test_flops_accepts_a_report():
    r = lc.analyze(tiny_resnet(), (64, 56, 56))
    assert lc.flops(r, "macs") == r.total.macs == r.flops("macs")


def test_bad_children_and_merge():
    with pytest.raises(lc.LayerSpecError) as info:
        lc.Parallel(lc.ReLU(), merge="max")
    assert str(info.value) == "Parallel: merge (='max') must be one of 'concat', 'add', 'mul'."
    with pytest.raises(lc.LayerSpecError) as info:
        lc.Sequential(lc.ReLU(), 3)
    assert str(info.value) == "Sequential: children must be layers or containers, got 3."


def test_row_sources_record_the_dataflow():
    """Row.sources names the producing row of each input: a bottleneck's add reads bn3 and
    the block's input (no row), the attention core reads the fused projection twice."""
    r = lc.analyze(lc.blocks.Bottleneck(256, 64), (256, 56, 56))
    paths = [row.path for row in r.rows]
    add = r.rows[paths.index("add")]
    assert add.sources == (paths.index("bn3"), None)
    relus = [i for i, p in enumerate(paths) if p == "relu"]  # one module, three calls
    assert [r.rows[i].sources for i in relus] == [(relus[0] - 1,), (relus[1] - 1,),
                                                  (paths.index("add"),)]
    g = lc.analyze(lc.GPT2Block(64, 4), (8, 64))
    gp = [row.path for row in g.rows]
    assert g.rows[gp.index("attn.sdpa")].sources == (gp.index("attn.c_attn"),) * 2
    assert g.rows[gp.index("add2")].sources == (gp.index("add1"), gp.index("mlp.dropout"))
    # every source precedes its consumer
    for rep in (r, g, lc.analyze(lc.zoo.resnet18(), (3, 64, 64))):
        for i, row in enumerate(rep.rows):
            assert all(s is None or 0 <= s < i for s in row.sources)
            assert len(row.sources) == (len(row.input_shape)
                                        if row.input_shape and isinstance(row.input_shape[0],
                                                                          tuple) else 1)


def test_sequential_slices_keep_names():
    feats = lc.zoo.mobilenet_v2()["features"]
    head = feats[:3]
    assert [n for n, _ in head.children()] == ["0", "1", "2"]
    assert feats[-1] is feats[len(feats) - 1]
    with pytest.raises(lc.LayerCalcError, match=r"Sequential: index \(=40\) is out of range for "
                       r"19 children; valid: -19\.\.18\."):
        feats[40]
    with pytest.raises(lc.UnknownNameError, match="unknown child of this Sequential 'featurs'; "
                       "did you mean 'features'"):
        lc.zoo.mobilenet_v2()["featurs"]


def test_analyze_up_to_cuts_inclusively():
    """up_to keeps every row of the named layer or block and nothing after it."""
    full = lc.analyze(lc.zoo.resnet18(), (3, 224, 224))
    cut = lc.analyze(lc.zoo.resnet18(), (3, 224, 224), up_to="layer2")
    n = max(i for i, r in enumerate(full.rows) if r.path.startswith("layer2.")) + 1
    assert [r.path for r in cut.rows] == [r.path for r in full.rows[:n]]
    assert cut.output_shape == (128, 28, 28)
    assert cut.total.macs == sum(r.cost.macs for r in full.rows[:n])
    one = lc.analyze(lc.zoo.resnet18(), (3, 224, 224), up_to="layer1.0.conv1")
    assert one.rows[-1].path == "layer1.0.conv1"
    with pytest.raises(lc.UnknownNameError, match="unknown layer path \\(up_to\\) 'layer9'"):
        lc.analyze(lc.zoo.resnet18(), (3, 224, 224), up_to="layer9")


def test_slice_of_a_zoo_model_analyzes_alone():
    """A slice is a model of its own: MobileNetV2's first 14 feature blocks at 224x224."""
    feats = lc.zoo.mobilenet_v2()["features"]
    sliced = lc.analyze(feats[:14], (3, 224, 224))
    cut = lc.analyze(lc.zoo.mobilenet_v2(), (3, 224, 224), up_to="features.13")
    assert sliced.total.macs == cut.total.macs and sliced.output_shape == cut.output_shape
