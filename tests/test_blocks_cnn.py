"""Blocks of the issue-12 CNN families: closed-form identities, structure and exact errors."""

from __future__ import annotations

import pytest
import sympy as sp

from layercalc import LayerSpecError, analyze, symbols
from layercalc.blocks import (
    AnyStage, DenseBlock, FusedMBConv, MBConv, MNASNetInvertedResidual, MNASNetStack,
    ResBottleneckBlock, ShuffleNetV2Block, Transition,
)
from layercalc.network import Parallel, Residual

H, W = symbols("H W")


def test_shufflenet_unit_stride1_costs_two_pointwise_and_a_depthwise_on_half_the_channels():
    """Ma et al. 2018, Fig. 3c: only the right half is convolved: MACs (2 b^2 + 9 b) H W with
    b = C/2, for any size; the shuffle reads and writes the tensor once."""
    c = 116
    b = c // 2
    r = analyze(ShuffleNetV2Block(c, c, 1), (c, H, W))
    assert sp.expand(r.total.macs - (2 * b * b + 9 * b) * H * W) == 0
    shuffle = [row for row in r.rows if row.kind == "ChannelShuffle"][0].cost
    assert shuffle.act_reads == shuffle.writes == c * H * W
    assert r.output_shape == (c, H, W)


def test_shufflenet_unit_stride2_branches_agree_on_size_for_any_input():
    r = analyze(ShuffleNetV2Block(24, 116, 2), (24, H, W))
    assert r.output_shape == (116, sp.ceiling(H / 2), sp.ceiling(W / 2))
    cat = [row for row in r.rows if row.kind == "Concat"][0]
    assert cat.input_shape == ((58, sp.ceiling(H / 2), sp.ceiling(W / 2)),) * 2


def test_dense_block_grows_by_the_growth_rate_and_transition_halves():
    r = analyze(DenseBlock(4, 64, 4, 32), (64, H, W))
    assert r.output_shape == (64 + 4 * 32, H, W)
    # each layer: BN(C) + 1x1 C->4k + BN(4k) + 3x3 4k->k, C = 64 + i k
    params = sum(2 * (64 + 32 * i) + (64 + 32 * i) * 128 + 2 * 128 + 128 * 9 * 32
                 for i in range(4))
    assert r.total.params == params
    t = analyze(Transition(192, 96), (192, H, W))
    assert t.output_shape == (96, sp.floor(H / 2), sp.floor(W / 2))


def test_mbconv_residual_only_at_stride1_equal_widths():
    assert isinstance(MBConv(6, 3, 1, 24, 24), Residual)
    assert not isinstance(MBConv(6, 3, 2, 24, 24), Residual)
    assert not isinstance(MBConv(6, 3, 1, 24, 40), Residual)
    # t = 1: no expansion conv (torchvision: expanded == input)
    r = analyze(MBConv(1, 3, 1, 32, 16), (32, 8, 8))
    assert [row.path for row in r.rows][:2] == ["block.0.0", "block.0.1"]
    assert r.rows[0].layer.groups == 32


def test_fused_mbconv_without_expansion_is_one_conv():
    r = analyze(FusedMBConv(1, 3, 1, 24, 24, 0.1), (24, H, W))
    assert [row.kind for row in r.rows] == ["Conv2d", "BatchNorm2d", "SiLU", "StochasticDepth",
                                            "Add"]
    assert sp.expand(r.total.macs - 24 * 24 * 9 * H * W) == 0


def test_res_bottleneck_block_projection_and_groups():
    blk = ResBottleneckBlock(48, 104, 2, group_width=8, se_ratio=0.25)
    r = analyze(blk, (48, 56, 56))
    assert isinstance(blk[""], Parallel) and blk[""].merge == "add"
    b = {row.path: row.layer for row in r.rows}
    assert b["f.b.0"].groups == 104 // 8 and b["f.se.fc1"].out_channels == 12  # round(.25*48)
    same = ResBottleneckBlock(104, 104, 1, group_width=8)
    assert isinstance(same[""], Residual)
    s = AnyStage(48, 104, 2, 3, group_width=8, stage_index=2)
    assert [name for name, _ in s.children()] == ["block2-0", "block2-1", "block2-2"]


def test_mnasnet_residual_and_stack():
    assert isinstance(MNASNetInvertedResidual(24, 24, 3, 1, 3), Residual)
    assert not isinstance(MNASNetInvertedResidual(24, 40, 5, 2, 3), Residual)
    r = analyze(MNASNetStack(16, 24, 3, 2, 3, 3), (16, 56, 56))
    assert [row.path for row in r.rows if row.kind == "Add"] == ["1.add", "2.add"]


@pytest.mark.parametrize("make, message", [
    (lambda: ShuffleNetV2Block(100, 116, 1),
     "ShuffleNetV2Block: inp (=100) must equal 2 * (oup // 2) (=116) when stride is 1. A "
     "stride-1 unit splits its input into two halves of oup // 2."),
    (lambda: ShuffleNetV2Block(24, 48, 4), "ShuffleNetV2Block: stride (=4) must be 1, 2 or 3."),
    (lambda: MBConv(6, 3, 3, 24, 24), "MBConv: stride (=3) must be 1 or 2."),
    (lambda: FusedMBConv(4, 3, 0, 24, 24), "FusedMBConv: stride (=0) must be 1 or 2."),
    (lambda: MNASNetInvertedResidual(24, 24, 7, 1, 3),
     "MNASNetInvertedResidual: kernel_size (=7) must be 3 or 5."),
    (lambda: MNASNetStack(16, 24, 3, 2, 3, 0),
     "MNASNetStack: repeats (=0) must be a positive integer."),
])
def test_block_errors(make, message):
    with pytest.raises(LayerSpecError) as info:
        make()
    assert str(info.value) == message


def test_fire_branches_side_by_side_survive_fusion():
    """Fire's two expand branches are both named "" (torchvision's expand1x1, expand3x3 ...
    are siblings); Parallel keeps repeated names from a list of pairs, and fuse() too."""
    from layercalc import fuse
    from layercalc.blocks import Fire

    r = analyze(Fire(64, 16, 64, 64), (64, 27, 27))
    fused = analyze(fuse(Fire(64, 16, 64, 64)), (64, 27, 27))
    assert [row.path for row in r.rows] == ["squeeze", "squeeze_activation", "expand1x1",
                                            "expand1x1_activation", "expand3x3",
                                            "expand3x3_activation", "cat"]
    assert fused.output_shape == r.output_shape == (128, 27, 27)
    assert fused.total.macs == r.total.macs
    assert [row.path for row in fused.rows] == [row.path for row in r.rows]
