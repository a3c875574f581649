"""Permute, Roll and StochasticDepth: shapes by brute force (NumPy moving real elements), costs
by counting the elements a copy touches, and exact error messages."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import layercalc as lc


@st.composite
def permutations(draw):
    rank = draw(st.integers(1, 4))
    shape = tuple(draw(st.integers(1, 5)) for _ in range(rank))
    perm = draw(st.permutations(range(1, rank + 1)))
    return shape, [0, *perm]


@given(permutations())
def test_permute_shape_equals_numpy_transpose(case):
    """Permute's output shape is the shape NumPy's transpose gives the batched array, batch
    removed, and it is a view (nothing computed, nothing moved)."""
    shape, dims = case
    batched = np.zeros((2, *shape))
    expected = np.transpose(batched, dims).shape[1:]
    layer = lc.Permute(dims)
    assert layer.output_shape(shape) == expected
    assert layer.cost(shape) == lc.Cost()


def test_permute_convnext_block():
    """torchvision's ConvNeXt CNBlock: Permute([0, 2, 3, 1]) to channels-last, then back."""
    x = (96, 56, 56)
    y = lc.Permute([0, 2, 3, 1]).output_shape(x)
    assert y == (56, 56, 96)
    assert lc.Permute([0, 3, 1, 2]).output_shape(y) == x


def test_permute_symbolic():
    C, H, W = lc.symbols("C H W")
    assert lc.Permute((0, 2, 3, 1)).output_shape((C, H, W)) == (H, W, C)


@st.composite
def rolls(draw):
    rank = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 5)) for _ in range(rank))
    k = draw(st.integers(1, rank))
    dims = draw(st.permutations(range(1, rank + 1)))[:k]
    shifts = [draw(st.integers(-7, 7)) for _ in dims]
    return shape, shifts, dims


@given(rolls())
def test_roll_moves_every_element_once(case):
    """Roll keeps the shape and is a copy: counting the elements NumPy's roll moves (every one,
    read once and written once) gives act_reads and writes."""
    shape, shifts, dims = case
    batched = np.arange(2 * int(np.prod(shape))).reshape((2, *shape))
    rolled = np.roll(batched, shifts, axis=dims)
    layer = lc.Roll(tuple(shifts), tuple(dims))
    assert layer.output_shape(shape) == rolled.shape[1:]
    moved = sorted(rolled[0].ravel().tolist())  # the same elements, each exactly once
    assert moved == sorted(batched[0].ravel().tolist())
    cost = layer.cost(shape)
    assert (cost.act_reads, cost.writes, cost.macs, dict(cost.ops)) == (len(moved), len(moved),
                                                                        0, {})


def test_roll_swin_shift_symbolic():
    """Swin's cyclic shift by half a window, any size."""
    H, W = lc.symbols("H W")
    c = lc.Roll((-3, -3), (1, 2)).cost((H, W, 96))
    assert c.writes == 96 * H * W


def test_stochastic_depth_is_identity_at_inference():
    """torchvision.ops.StochasticDepth in eval mode returns its input: no cost."""
    for mode in ("row", "batch"):
        layer = lc.StochasticDepth(0.2, mode)
        assert layer.output_shape((8, 4, 4)) == (8, 4, 4)
        assert layer.cost((8, 4, 4)) == lc.Cost()


@pytest.mark.parametrize("make, message", [
    (lambda: lc.Permute([0, 0, 1]), "Permute: dims (=(0, 0, 1)) must be a permutation of 0..2."),
    (lambda: lc.Permute([2, 0, 1]), "Permute: dims (=(2, 0, 1)) moves the batch axis; shapes "
     "here exclude the batch. Keep dim 0 (the batch) first."),
    (lambda: lc.Permute([0, 1.5]), "Permute: dims (=[0, 1.5]) must be an integer or a sequence "
     "of integers."),
    (lambda: lc.Roll(1), "Roll: dims (=None) rolls the flattened batched tensor, mixing "
     "samples; per-sample costs need explicit dims. Give the axes, e.g. dims=(1, 2) for H and W "
     "of (B, H, W, C)."),
    (lambda: lc.Roll((1, 2), (1,)), "Roll: shifts (=(1, 2)) and dims (=(1,)) must have the same "
     "length."),
    (lambda: lc.Roll(1, 0).output_shape((3, 4)), "Roll: dims (=(0,)) moves the batch axis; "
     "shapes here exclude the batch. Keep dim 0 (the batch) first."),
    (lambda: lc.Roll(1, 3).output_shape((3, 4)), "Roll: dims (=(3,)) is out of range for an "
     "input of rank 2 (batch excluded); valid: 1..2 or -2..-1."),
    (lambda: lc.Permute([0, 2, 1]).output_shape((3, 4, 5)), "Permute: expected an input of "
     "rank 2 (permuting 3 batched axes) (batch excluded), got (3, 4, 5)."),
    (lambda: lc.StochasticDepth(1.5, "row"), "StochasticDepth: p (=1.5) must be a probability "
     "in [0, 1]."),
    (lambda: lc.StochasticDepth(0.1, "col"), "StochasticDepth: mode (='col') must be one of "
     "'row', 'batch'."),
])
def test_errors(make, message):
    with pytest.raises(lc.LayerCalcError) as e:
        make()
    assert str(e.value) == message


def test_permute_all_small_permutations_match_numpy():
    """Every permutation of a rank-3 sample, exhaustively."""
    shape = (2, 3, 5)
    for perm in itertools.permutations((1, 2, 3)):
        dims = (0, *perm)
        assert lc.Permute(dims).output_shape(shape) == np.zeros((1, *shape)).transpose(dims).shape[1:]
