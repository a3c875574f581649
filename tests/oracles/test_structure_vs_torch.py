"""Permute and Roll against ``torch.permute`` and ``torch.roll`` on real tensors."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from oracle_support import require_torch

torch = require_torch()

import layercalc as lc  # noqa: E402


@settings(max_examples=40)
@given(st.data())
def test_permute_and_roll_shapes_match_torch(data):
    rank = data.draw(st.integers(1, 4))
    shape = tuple(data.draw(st.integers(1, 4)) for _ in range(rank))
    x = torch.arange(2 * torch.Size(shape).numel()).reshape(2, *shape)
    dims = [0, *data.draw(st.permutations(range(1, rank + 1)))]
    assert lc.Permute(dims).output_shape(shape) == tuple(torch.permute(x, dims).shape[1:])
    rdims = tuple(data.draw(st.permutations(range(1, rank + 1))))[: data.draw(st.integers(1, rank))]
    shifts = tuple(data.draw(st.integers(-5, 5)) for _ in rdims)
    y = torch.roll(x, shifts, rdims)
    assert lc.Roll(shifts, rdims).output_shape(shape) == tuple(y.shape[1:])
    # a copy: a new tensor holding every element of the input exactly once
    assert y.data_ptr() != x.data_ptr()
    assert sorted(y[0].flatten().tolist()) == sorted(x[0].flatten().tolist())

