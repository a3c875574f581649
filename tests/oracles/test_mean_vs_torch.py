"""`Mean` against ``torch.mean(x, dim, keepdim)`` on real tensors."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from oracle_support import require_torch

torch = require_torch()

import layercalc as lc  # noqa: E402


@settings(max_examples=60)
@given(st.data())
def test_mean_shape_and_reduction_size_match_torch(data):
    rank = data.draw(st.integers(1, 4))
    shape = tuple(data.draw(st.integers(1, 4)) for _ in range(rank))
    axes = data.draw(st.sets(st.integers(1, rank), min_size=1, max_size=rank))
    dims = [a if data.draw(st.booleans()) else a - rank - 1 for a in sorted(axes)]
    keepdim = data.draw(st.booleans())
    x = torch.ones(2, *shape)
    y = torch.mean(x, dims, keepdim=keepdim)
    layer = lc.Mean(dims, keepdim=keepdim)
    assert layer.output_shape(shape) == tuple(y.shape[1:])
    cost = layer.cost(shape)
    # each output averages numel(x) / numel(y) inputs: r - 1 adds and one divide each
    assert cost.writes == y[0].numel()
    assert cost.ops.get("add", 0) + cost.ops["div"] == x[0].numel()
