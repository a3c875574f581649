"""The function-style layers a graph needs: Slice (axis-general), Getitem, Split, Chunk,
Stack, MatMul, Mean, Sub, Div. Shapes against NumPy's indexing and Python's slicing, counts
against brute-force loops, symbols substituted against numbers, exact error messages, and
the assumptions merges record."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import layercalc as lc
from brute import matmul_counts, mean_counts

H, W, C = lc.symbols("H W C")


# -- slicing and indexing against NumPy ----------------------------------------------------------
_bound = st.one_of(st.none(), st.integers(-7, 7))


@st.composite
def _slices(draw):
    rank = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 6)) for _ in range(rank))
    key = []
    for n in shape[: draw(st.integers(1, rank))]:
        if draw(st.booleans()):
            key.append(draw(st.integers(-n - 1, n)))
        else:
            key.append(slice(draw(_bound), draw(_bound), draw(st.one_of(st.none(),
                                                                       st.integers(1, 3)))))
    return shape, tuple(key)


@settings(max_examples=300)
@given(_slices())
def test_getitem_shape_matches_numpy(case):
    """Getitem gives NumPy's shape, or raises ShapeError exactly where NumPy gives an empty
    axis, an out-of-range index, or a stop past the end (PyTorch would clamp)."""
    shape, key = case
    arr = np.empty(shape)
    try:
        want = arr[key].shape
        ok = 0 not in want
    except IndexError:
        ok = False
    clamps = any(isinstance(k, slice) and k.stop is not None and abs(k.stop) > n
                 or isinstance(k, slice) and k.start is not None and (k.start >= n or -k.start > n)
                 for k, n in zip(key, shape))
    if ok and not clamps:
        assert lc.Getitem(key).output_shape(shape) == want
        assert lc.Getitem(key).cost(shape) == lc.Cost()
    else:
        with pytest.raises(lc.ShapeError):
            lc.Getitem(key).output_shape(shape)


@settings(max_examples=200)
@given(st.integers(1, 9), _bound, _bound, st.integers(1, 3), st.integers(0, 2))
def test_slice_matches_python_range(n, start, stop, step, dim):
    """Slice along `dim` has the length of ``range(n)[start:stop:step]``; symbolic sizes
    substituted give the same length when the bounds are in range."""
    shape = tuple(n if i == dim else 2 for i in range(3))
    if start is not None and stop is not None and (start < 0) == (stop < 0) and stop <= start:
        with pytest.raises(lc.LayerSpecError, match="must be greater than start"):
            lc.Slice(start, stop, step, dim)
        return
    layer = lc.Slice(start, stop, step, dim)
    want = len(range(n)[slice(start, stop, step)])
    inside = all(v is None or (v < n if v >= 0 else -v <= n) for v in (start,)) and (
        stop is None or (stop <= n if stop >= 0 else -stop <= n))
    if want >= 1 and inside:
        assert layer.output_shape(shape)[dim] == want
        sym = tuple(H if i == dim else 2 for i in range(3))
        got = layer.output_shape(sym)[dim]
        if n >= max(abs(v) for v in (start or 0, stop or 0, 1)):
            assert sp.sympify(got).subs(H, n) == want
    else:
        with pytest.raises(lc.ShapeError):
            layer.output_shape(shape)


def test_slice_keeps_channel_form_and_errors():
    assert lc.Slice(0, 58).output_shape((116, 28, 28)) == (58, 28, 28)
    assert lc.Slice(88, -88, dim=1).output_shape((64, H, W)) == (64, H - 176, W)
    with pytest.raises(lc.ShapeError) as e:
        lc.Slice(0, 58).output_shape((32, 28, 28))
    assert str(e.value) == ("Slice: slice 0:58 is out of range for size 32 along axis 0 of "
                            "input shape (32, 28, 28).")
    with pytest.raises(lc.ShapeError) as e:
        lc.Slice(0, 2, dim=3).output_shape((4, 5, 6))
    assert str(e.value) == ("Slice: dim (=3) is out of range for an input of rank 3 (batch "
                            "excluded; dim 0 is the first axis, the channels); valid: 0..2 or "
                            "-3..-1.")
    with pytest.raises(lc.LayerSpecError, match=r"stop \(=2\) must be greater than start"):
        lc.Slice(4, 2)


# -- split and chunk ----------------------------------------------------------------------------
def _py_chunk(n: int, chunks: int) -> list[int]:
    """torch.chunk's sizes, from its documentation: pieces of ceil(n / chunks)."""
    c = -(-n // chunks)
    return [len(range(n)[i:i + c]) for i in range(0, n, c)]


@given(st.integers(1, 40), st.integers(1, 9))
def test_chunk_and_split_sizes(n, k):
    """Chunk's and Split's pieces are PyTorch's (fewer chunks than asked when it says so)."""
    got = [s[0] for s in lc.Chunk(k).output_shape((n, 3))]
    assert got == _py_chunk(n, k)
    got = [s[1] for s in lc.Split(k, dim=1).output_shape((2, n))]
    assert got == [len(range(n)[i:i + k]) for i in range(0, n, k)]
    assert lc.Chunk(k).cost((n, 3)) == lc.Cost()


def test_split_sections_and_symbols():
    assert lc.Split([16, 48]).output_shape((64, 7, 7)) == ((16, 7, 7), (48, 7, 7))
    with pytest.raises(lc.ShapeError) as e:
        lc.Split([16, 40]).output_shape((64, 7, 7))
    assert str(e.value) == ("Split: split sizes (16, 40) add up to 56, not to the size 64 of "
                            "axis 0 of input shape (64, 7, 7).")
    with pytest.raises(lc.ShapeError, match="depends on the symbols"):
        lc.Split(2).output_shape((C, 7))
    assert lc.Split([C, C]).assumptions((2 * C, 7)) == ()  # decided: 2C == 2C
    assert lc.Split([C, 3]).assumptions((H, 7)) == (sp.Eq(C + 3, H),)
    c = sp.ceiling(H / 4)
    assert lc.Chunk(4).output_shape((H,)) == ((c,), (c,), (c,), (H - 3 * c,))
    (rel,) = lc.Chunk(4).assumptions((H,))  # H - 3c >= 1, in whichever form
    assert isinstance(rel, sp.GreaterThan) and sp.expand(rel.lhs - rel.rhs - (H - 3 * c - 1)) == 0


# -- stack --------------------------------------------------------------------------------------
def test_stack():
    assert lc.Stack(dim=1).output_shape((3, 4), (3, 4), (3, 4)) == (3, 3, 4)
    assert lc.Stack(dim=-1).output_shape((3, 4), (3, 4)) == (3, 4, 2)
    c = lc.Stack().cost((3, 4), (3, 4))
    assert (c.act_reads, c.writes, c.macs) == (24, 24, 0)
    with pytest.raises(lc.ShapeError) as e:
        lc.Stack().output_shape((3, 4), (3, 5))
    assert str(e.value) == ("Stack: input shapes (3, 4) and (3, 5) differ at axis 1 (stacked "
                            "tensors must have one shape).")
    assert lc.Stack().assumptions((3, H), (3, W)) == (sp.Eq(H, W),)


# -- matmul -------------------------------------------------------------------------------------
@st.composite
def _matmul_shapes(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2))))
    bb = tuple(draw(st.sampled_from([1, b])) for b in batch)
    ba = tuple(draw(st.sampled_from([1, b])) for b in batch)
    a = draw(st.sampled_from([(k,), (*ba, n, k)]))
    b = draw(st.sampled_from([(k,), (*bb[draw(st.integers(0, len(bb))):], k, m)]))
    return a, b


@settings(max_examples=200)
@given(_matmul_shapes())
def test_matmul_counts_brute_force(case):
    """MACs and dot products of MatMul equal counting every term of every output element;
    the output shape is torch.matmul's (NumPy's matmul follows the same rules)."""
    a, b = case
    out, mults, dots = matmul_counts(a, b)
    layer = lc.MatMul()
    assert layer.output_shape(a, b) == out == np.matmul(np.empty(a), np.empty(b)).shape
    c = layer.cost(a, b)
    assert (c.macs, c.dots) == (mults, dots)
    assert c.act_reads == int(np.prod(a)) + int(np.prod(b)) and c.tap_reads == 2 * mults
    assert lc.flops(c, "exact") == 2 * mults - dots


def test_matmul_symbolic_and_errors():
    L, D = lc.symbols("L D")
    c = lc.MatMul().cost((12, L, D), (12, D, L))
    assert c.macs == 12 * L**2 * D and c.dots == 12 * L**2
    assert c.subs({L: 197, D: 64}).macs == lc.MatMul().cost((12, 197, 64), (12, 64, 197)).macs
    with pytest.raises(lc.ShapeError) as e:
        lc.MatMul().output_shape((3, 4), (5, 6))
    assert str(e.value) == ("MatMul: input shapes (3, 4) and (5, 6) do not fit: the first has "
                            "4 columns, the second 5 rows.")
    with pytest.raises(lc.ShapeError, match="cannot be broadcast: batch sizes 2 and 3"):
        lc.MatMul().output_shape((2, 3, 4), (3, 4, 5))
    assert lc.MatMul().assumptions((L, D), (H, W)) == (sp.Eq(D, H),)


# -- mean, sub, div -----------------------------------------------------------------------------
@settings(max_examples=100)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.data())
def test_mean_brute_force(shape, data):
    axes = data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))
    keep = data.draw(st.booleans())
    out, adds, divs = mean_counts(tuple(shape), axes, keep)
    torch_dims = tuple(a + 1 for a in axes)  # Mean takes the batched tensor's dims
    c = lc.Mean(torch_dims, keep).cost(tuple(shape))
    assert lc.Mean(torch_dims, keep).output_shape(tuple(shape)) == out
    assert (c.ops.get("add", 0), c.ops.get("div", 0)) == (adds, divs)
    assert out == np.mean(np.empty(shape), axis=tuple(axes), keepdims=keep).shape


def test_sub_div_broadcast_as_add():
    assert lc.Sub().cost((8, 4, 4), (8, 1, 1)).ops == {"add": 128}
    assert lc.Div().cost((8, 4, 4), (4,)).ops == {"div": 128}
    assert lc.Sub().output_shape((3, 1, 5), (4, 1)) == (3, 4, 5)
    rel = sp.Or(sp.Eq(H, W), sp.Eq(H, 1), sp.Eq(W, 1))
    assert lc.Div().assumptions((3, H), (3, W)) == (rel,)
