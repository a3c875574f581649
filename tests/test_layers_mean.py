"""`Mean` (``torch.mean`` over axes): brute force, golden values, symbols, exact errors."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import layercalc as lc


def brute_mean(shape: tuple[int, ...], axes: set[int], keepdim: bool):
    """Average element by element: every output sums its inputs one add at a time (the first
    input starts the sum), then divides once. Returns (ops, reads, writes, output shape)."""
    out_axes = [i for i in range(len(shape)) if i not in axes]
    sums: dict[tuple, int] = {}
    ops: Counter = Counter()
    reads = 0
    for idx in itertools.product(*[range(n) for n in shape]):
        reads += 1
        key = tuple(idx[i] for i in out_axes)
        if key in sums:
            ops["add"] += 1
        sums[key] = sums.get(key, 0) + 1
    ops["div"] += len(sums)
    out = tuple(1 if i in axes else n for i, n in enumerate(shape)) if keepdim else \
        tuple(shape[i] for i in out_axes)
    return ops, reads, len(sums), out


@st.composite
def mean_cases(draw):
    rank = draw(st.integers(1, 4))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    axes = draw(st.sets(st.integers(0, rank - 1), min_size=1, max_size=rank))
    # PyTorch dims of the batched tensor, some written from the end
    dims = [a + 1 if draw(st.booleans()) else a - rank for a in sorted(axes)]
    return shape, axes, dims, draw(st.booleans())


@settings(max_examples=200)
@given(mean_cases())
def test_mean_counts_equal_brute_force(case):
    shape, axes, dims, keepdim = case
    layer = lc.Mean(dims, keepdim=keepdim)
    ops, reads, writes, out = brute_mean(shape, axes, keepdim)
    cost = layer.cost(shape)
    assert layer.output_shape(shape) == out
    assert {k: v for k, v in cost.ops.items() if v} == {k: v for k, v in ops.items() if v}
    assert (cost.act_reads, cost.writes, cost.tap_reads) == (reads, writes, reads)
    assert cost.params == cost.macs == 0


def test_global_mean_equals_a_global_average_pool():
    """ShuffleNetV2's x.mean([2, 3]) counts what AdaptiveAvgPool2d(1) does (a global pool)."""
    x = (1024, 7, 7)
    mean, gap = lc.Mean([2, 3]).cost(x), lc.AdaptiveAvgPool2d(1).cost(x)
    assert (mean.ops, mean.act_reads, mean.writes) == (gap.ops, gap.act_reads, gap.writes)


def test_symbolic_mean_substitutes_to_numeric():
    C, H, W = lc.symbols("C H W")
    sym = lc.Mean([2, 3]).cost((C, H, W))
    assert sym.ops["add"] == C * H * W - C
    assert sym.subs({C: 5, H: 3, W: 7}) == lc.Mean([2, 3]).cost((5, 3, 7))
    assert lc.Mean([-1], keepdim=True).output_shape((C, H, W)) == (C, H, 1)


@pytest.mark.parametrize("make, shape, error, message", [
    (lambda: lc.Mean(), (3, 4), lc.LayerSpecError,
     "Mean: dim (=None) averages every axis, the batch included, which mixes samples; "
     "per-sample costs need explicit dims. Give the axes, e.g. dim=[2, 3] for H and W of "
     "(B, C, H, W)."),
    (lambda: lc.Mean([]), (3, 4), lc.LayerSpecError,
     "Mean: dim (=()) must name at least one axis."),
    (lambda: lc.Mean(0.5), (3, 4), lc.LayerSpecError,
     "Mean: dim (=0.5) must be an integer or a sequence of integers."),
    (lambda: lc.Mean([0, 2]), (3, 4), lc.ShapeError,
     "Mean: dim (=(0, 2)) reduces the batch axis (dim 0), which mixes samples; shapes here "
     "exclude the batch. Reduce axes 1..2 of the batched tensor."),
    (lambda: lc.Mean([2, -1]), (3, 4), lc.LayerSpecError,
     "Mean: dim (=(2, -1)) names an axis more than once."),
    (lambda: lc.Mean([3]), (3, 4), lc.ShapeError,
     "Mean: dim (=(3,)) is out of range for an input of rank 2 (batch excluded); valid: 1..2 "
     "or -2..-1."),
])
def test_mean_errors(make, shape, error, message):
    with pytest.raises(error) as info:
        make().output_shape(shape)
    assert str(info.value) == message


def test_mean_row_in_a_network_names_its_path():
    net = lc.Sequential(lc.Conv2d(3, 8, 3), lc.Functional(lc.Mean([2, 3])))
    r = lc.analyze(net, (3, 9, 9))
    assert r.output_shape == (8,) and r.rows[-1].call == "functional"
    with pytest.raises(lc.ShapeError, match=r"^1 \(Mean\): dim \(=\(3,\)\)"):
        lc.analyze(lc.Sequential(lc.Linear(4, 4), lc.Functional(lc.Mean([3]))), (4,))
    assert sp.sympify(r.total.ops["div"]) == 8
