"""The graph's tensor operations against PyTorch on real (batched) tensors: each layer's
per-sample shape is PyTorch's shape without the batch, with dims shifted by one (the dim
rule: function-style layers index the batch-free shape). MatMul's MACs against
FlopCounterMode, which the torchvision and flopcountermode conventions follow."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from oracle_support import require_torch

torch = require_torch()

import layercalc as lc  # noqa: E402

B = 2  # a batch, so that PyTorch's dims and ours differ by one


def _shape(data, rank_min=1, rank_max=3, size=4):
    rank = data.draw(st.integers(rank_min, rank_max))
    return tuple(data.draw(st.integers(1, size)) for _ in range(rank))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_split_chunk_stack_mean_getitem_match_torch(data):
    shape = _shape(data)
    x = torch.zeros(B, *shape)
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    td = d + 1 if d >= 0 else d
    k = data.draw(st.integers(1, 5))
    assert lc.Chunk(k, d).output_shape(shape) == tuple(t.shape[1:] for t in torch.chunk(x, k, td))
    assert lc.Split(k, d).output_shape(shape) == tuple(t.shape[1:] for t in torch.split(x, k, td))
    ds = data.draw(st.integers(-len(shape) - 1, len(shape)))
    tds = ds + 1 if ds >= 0 else ds
    assert lc.Stack(ds).output_shape(shape, shape) == tuple(torch.stack([x, x], tds).shape[1:])
    axes = tuple(sorted(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    keep = data.draw(st.booleans())
    want = x.mean(dim=tuple(a + 1 for a in axes), keepdim=keep).shape[1:]
    # lc.Mean mirrors torch.mean: PyTorch's dims, the batch being dim 0
    assert lc.Mean(tuple(a + 1 for a in axes), keep).output_shape(shape) == tuple(want)
    key = tuple(slice(data.draw(st.integers(0, n - 1)), None) if data.draw(st.booleans())
                else data.draw(st.integers(-n, n - 1)) for n in shape[:2])
    assert lc.Getitem(key).output_shape(shape) == tuple(x[(slice(None), *key)].shape[1:])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_matmul_shapes_and_flopcountermode(data):
    n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    batch = _shape(data, 0, 2, 3)
    a = data.draw(st.sampled_from([(k,), (*batch, n, k)]))
    b = data.draw(st.sampled_from([(k,), (*batch[len(batch) // 2:], k, m), (k, m)]))
    ta, tb = torch.zeros(B, *a), torch.zeros(B, *b)
    # per sample, as torch.vmap(torch.matmul)
    y = torch.vmap(torch.matmul)(ta, tb)
    assert lc.MatMul().output_shape(a, b) == tuple(y.shape[1:])
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as fc:
        torch.matmul(torch.zeros(*a), torch.zeros(*b))
    x1, x2 = lc.Input(a), lc.Input(b)
    r = lc.analyze(lc.Graph([x1, x2], x1 @ x2))
    assert r.flops("flopcountermode") == fc.get_total_flops()
    # torch.matmul with a 1-D second operand is aten.dot / aten.mv: not counted, and listed
    mm = fc.get_total_flops() > 0
    assert r.flops("torchvision") == (r.total.macs if mm else 0)
    assert ("MatMul" in r.uncounted("flopcountermode")) == (not mm)
