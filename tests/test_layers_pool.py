"""Pooling layers: brute force, golden values, symbolic sizes, exact errors."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import layercalc as lc


# -- brute force -------------------------------------------------------------------------------
def window_starts(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> list[int]:
    """Window starts (unpadded input coordinates) along one axis, by PyTorch's rules written as
    a loop: floor mode keeps a window while its last tap is inside the padded input; ceil mode
    adds windows until the padded input is covered, then drops the last one if it starts in
    the right padding (or past it)."""
    span = d * (k - 1) + 1
    starts = []
    j = 0
    while True:
        first = j * s  # padded coordinates
        if not ceil_mode and first + span - 1 > n + 2 * p - 1:
            break
        starts.append(first - p)
        if ceil_mode and first + span - 1 >= n + 2 * p - 1:
            break
        j += 1
    if ceil_mode and starts and starts[-1] >= n:
        starts.pop()
    return starts


def brute_pool(layer, x):
    """(ops Counter, writes, tap reads, output shape), window by window, tap by tap."""
    c, spatial = x[0], x[1:]
    ops: Counter = Counter()
    taps_read = 0
    is_max = isinstance(layer, (lc.MaxPool1d, lc.MaxPool2d, lc.MaxPool3d))
    dil = layer.dilation if is_max else (1,) * len(spatial)
    per_axis = [window_starts(n, k, s, p, d, layer.ceil_mode)
                for n, k, s, p, d in zip(spatial, layer.kernel_size, layer.stride,
                                         layer.padding, dil)]
    for _ch in range(c):
        for starts in itertools.product(*per_axis):
            valid = 0
            for tap in itertools.product(*[range(k) for k in layer.kernel_size]):
                idx = [st + t * d for st, t, d in zip(starts, tap, dil)]
                if all(0 <= i < n for i, n in zip(idx, spatial)):
                    valid += 1
                    taps_read += 1
                    if valid > 1:  # the first valid tap starts the max / the sum
                        ops["cmp" if is_max else "add"] += 1
            if not is_max:
                ops["div"] += 1
    outputs = c * math.prod(len(a) for a in per_axis)
    writes = 2 * outputs if getattr(layer, "return_indices", False) else outputs
    return ops, writes, taps_read, (c, *[len(a) for a in per_axis])


def brute_adaptive(layer, x):
    c, spatial = x[0], x[1:]
    sizes = [n if m is None else m for n, m in zip(spatial, layer.output_size)]
    windows = [[range((o * n) // m, -((-(o + 1) * n) // m)) for o in range(m)]
               for n, m in zip(spatial, sizes)]
    is_max = "Max" in type(layer).__name__
    ops: Counter = Counter()
    taps_read = 0
    for _ch in range(c):
        for win in itertools.product(*windows):
            for i, _idx in enumerate(itertools.product(*win)):
                taps_read += 1
                if i > 0:
                    ops["cmp" if is_max else "add"] += 1
            if not is_max:
                ops["div"] += 1
    outputs = c * math.prod(sizes)
    writes = 2 * outputs if getattr(layer, "return_indices", False) else outputs
    return ops, writes, taps_read, (c, *sizes)


@st.composite
def pool_cases(draw):
    ndim = draw(st.integers(1, 3))
    is_max = draw(st.booleans())
    ks = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    pad = tuple(draw(st.integers(0, k // 2)) for k in ks)
    dil = tuple(draw(st.integers(1, 2)) for _ in range(ndim)) if is_max else (1,) * ndim
    ceil_mode = draw(st.booleans())
    hi = 9 if ndim < 3 else 6
    lows = [max(1, d * (k - 1) + 1 - 2 * p) for k, p, d in zip(ks, pad, dil)]
    if ndim == 3 and not is_max:  # PyTorch's avg_pool3d: the input at least the kernel
        lows = [max(lo, k) for lo, k in zip(lows, ks)]
    spatial = tuple(draw(st.integers(lo, max(lo, hi))) for lo in lows)
    c = draw(st.integers(1, 2))
    if is_max:
        cls = getattr(lc, f"MaxPool{ndim}d")
        layer = cls(ks, stride, pad, dil, draw(st.booleans()), ceil_mode)
    else:
        cls = getattr(lc, f"AvgPool{ndim}d")
        layer = cls(ks, stride, pad, ceil_mode, draw(st.booleans()))
    return layer, (c, *spatial)


@settings(max_examples=120, deadline=None)
@given(pool_cases())
@example((lc.MaxPool2d(3, 2, 1), (1, 8, 8)))  # ResNet stem shape, padding taps not compared
@example((lc.MaxPool1d(3, 2, ceil_mode=True), (1, 6)))  # ceil: a partial last window
@example((lc.MaxPool1d(2, 2, 1, ceil_mode=True), (1, 5)))  # ceil: last window dropped
@example((lc.MaxPool1d(2, 3, 1, 2, ceil_mode=True), (1, 3)))  # dilation + ceil + padding
@example((lc.AvgPool1d(4, 1, 2, ceil_mode=True), (2, 1)))  # window much larger than input
@example((lc.AvgPool2d(1), (1, 3, 2)))  # k = 1: no adds
@example((lc.MaxPool3d(2, 1, 1, ceil_mode=True), (1, 2, 2, 2)))
@example((lc.MaxPool2d((2, 1), 1, (1, 0), (2, 1)), (1, 1, 1)))  # a window of padding only
def test_pool_counts_match_brute_force(case):
    """Compares (max) or adds and divides (avg), writes, tap reads and the output shape equal
    enumerating every window position and every tap."""
    layer, x = case
    ops, writes, taps, shape = brute_pool(layer, x)
    cost = layer.cost(x)
    assert layer.output_shape(x) == shape
    assert dict(cost.ops) == dict(ops)
    assert (cost.writes, cost.tap_reads) == (writes, taps)
    assert (cost.params, cost.buffers, cost.macs, cost.act_reads) == (0, 0, 0, math.prod(x))


@st.composite
def adaptive_cases(draw):
    ndim = draw(st.integers(1, 3))
    hi = 9 if ndim < 3 else 5
    spatial = tuple(draw(st.integers(1, hi)) for _ in range(ndim))
    sizes = st.integers(1, hi) if ndim == 1 else st.one_of(st.none(), st.integers(1, hi))
    out = tuple(draw(sizes) for _ in range(ndim))  # None (keep the size): 2d and 3d only
    if ndim > 1 and draw(st.booleans()):
        out = out[0]  # one value for every axis
    c = draw(st.integers(1, 2))
    if draw(st.booleans()):
        layer = getattr(lc, f"AdaptiveMaxPool{ndim}d")(out, draw(st.booleans()))
    else:
        layer = getattr(lc, f"AdaptiveAvgPool{ndim}d")(out)
    return layer, (c, *spatial)


@settings(max_examples=80, deadline=None)
@given(adaptive_cases())
@example((lc.AdaptiveAvgPool1d(3), (1, 10)))  # overlapping windows [0,4) [3,7) [6,10)
@example((lc.AdaptiveMaxPool1d(7), (1, 3)))  # more outputs than inputs
@example((lc.AdaptiveAvgPool2d((None, 2)), (2, 3, 5)))  # None keeps the size
@example((lc.AdaptiveAvgPool2d(1), (3, 4, 4)))  # global average pool
def test_adaptive_counts_match_brute_force(case):
    layer, x = case
    ops, writes, taps, shape = brute_adaptive(layer, x)
    cost = layer.cost(x)
    assert layer.output_shape(x) == shape
    assert dict(cost.ops) == dict(ops)
    assert (cost.writes, cost.tap_reads) == (writes, taps)
    assert (cost.params, cost.buffers, cost.act_reads) == (0, 0, math.prod(x))


def test_window_starts_reference_matches_pytorch_formula():
    """The loop in `window_starts` agrees with PyTorch's documented formula (MaxPool2d docs,
    pooling_output_shape in aten Pool.h), so the brute force checks against PyTorch."""
    for n, k, s, p, d, ceil in itertools.product(range(1, 10), range(1, 5), range(1, 4),
                                                 range(3), range(1, 3), (False, True)):
        if p > k // 2 or n + 2 * p < d * (k - 1) + 1:
            continue
        num = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)
        out = num // s + 1
        if ceil and (out - 1) * s >= n + p:
            out -= 1
        assert len(window_starts(n, k, s, p, d, ceil)) == out


# -- golden values -------------------------------------------------------------------------------
def test_alexnet_and_resnet_maxpool_shapes():
    """AlexNet: 3x3/2 max pooling, 55 -> 27 (Krizhevsky et al. 2012; torchvision alexnet);
    ResNet stem: MaxPool2d(3, 2, 1), 112 -> 56 (He et al. 2016, Table 1)."""
    assert lc.MaxPool2d(3, 2).output_shape((96, 55, 55)) == (96, 27, 27)
    assert lc.MaxPool2d(kernel_size=3, stride=2, padding=1).output_shape(
        (64, 112, 112)) == (64, 56, 56)
    # ResNet stem compares: 9 taps per window minus those on padding (row/column 0 only)
    cost = lc.MaxPool2d(3, 2, 1).cost((64, 112, 112))
    per_axis = 2 + 3 * 55  # first window has 2 valid taps, the other 55 have 3
    assert cost.ops["cmp"] == 64 * per_axis**2 - 64 * 56 * 56


def test_pytorch_doc_examples():
    """Shapes from the PyTorch docs examples: MaxPool2d((3, 2), stride=(2, 1)) on 50x32;
    AvgPool1d(3, stride=2) on 7; AdaptiveAvgPool2d((5, 7)) on 8x9; (None, 7) on 10x9."""
    assert lc.MaxPool2d((3, 2), stride=(2, 1)).output_shape((16, 50, 32)) == (16, 24, 31)
    assert lc.AvgPool1d(3, stride=2).output_shape((1, 7)) == (1, 3)
    assert lc.AvgPool1d(3, stride=2).cost((1, 7)).ops == {"add": 6, "div": 3}
    assert lc.AdaptiveAvgPool2d((5, 7)).output_shape((64, 8, 9)) == (64, 5, 7)
    assert lc.AdaptiveMaxPool2d((None, 7)).output_shape((64, 10, 9)) == (64, 10, 7)
    assert lc.AdaptiveAvgPool3d((5, 7, 9)).output_shape((64, 8, 9, 10)) == (64, 5, 7, 9)


def test_global_average_pool_resnet50():
    """ResNet-50 head: 2048 channels of 7x7 averaged: 48 adds and 1 div per channel."""
    cost = lc.AdaptiveAvgPool2d(1).cost((2048, 7, 7))
    assert dict(cost.ops) == {"add": 2048 * 48, "div": 2048}
    assert lc.AvgPool2d(7).cost((2048, 7, 7)) == cost


def test_stride_defaults_to_kernel_and_signatures():
    assert lc.MaxPool2d(3).stride == (3, 3)
    assert lc.AvgPool3d(2, None).stride == (2, 2, 2)
    m = lc.MaxPool1d(3, 2, 1, 1, True, True)
    assert (m.return_indices, m.ceil_mode) == (True, True)
    a = lc.AvgPool2d(3, 2, 1, True, False, 4)
    assert (a.ceil_mode, a.count_include_pad, a.divisor_override) == (True, False, 4)
    # count_include_pad and divisor_override change only the divisor
    assert (lc.AvgPool2d(3, 2, 1).cost((1, 9, 9))
            == lc.AvgPool2d(3, 2, 1, count_include_pad=False, divisor_override=5).cost((1, 9, 9)))


def test_return_indices_counted_in_writes():
    cost = lc.MaxPool2d(2, return_indices=True).cost((1, 4, 4))
    assert cost.writes == 8
    assert cost.notes == ("MaxPool2d: return_indices writes one index per output element",)


# -- symbolic sizes --------------------------------------------------------------------------
H = lc.symbols("H")
SYMBOLIC_CASES = [
    (lc.MaxPool2d(3, 2, 1), lambda h: (2, h, h)),
    (lc.MaxPool1d(2), lambda h: (3, h + 1)),
    (lc.MaxPool1d(3, 2, ceil_mode=True), lambda h: (1, h + 2)),
    (lc.MaxPool2d(2, 3, 1, 2, ceil_mode=True), lambda h: (1, h + 1, 4)),
    (lc.MaxPool3d(2), lambda h: (1, 2, h + 1, 2)),
    (lc.MaxPool1d(2, 1, 1, 2), lambda h: (1, h)),  # h = 1: a window on padding only
    (lc.MaxPool2d(2, 2, 1, 3, ceil_mode=True), lambda h: (2, h, h + 1)),
    (lc.AvgPool1d(3, 2, 1), lambda h: (2, h)),
    (lc.AvgPool2d(2, ceil_mode=True), lambda h: (1, h + 1, h + 1)),
    (lc.AvgPool3d(3, 1, 1), lambda h: (1, h + 2, 3, 3)),
    (lc.AdaptiveAvgPool1d(3), lambda h: (2, h)),
    (lc.AdaptiveAvgPool2d((None, 2)), lambda h: (1, h, h)),
    (lc.AdaptiveAvgPool3d(1), lambda h: (1, h, 2, 2)),
    (lc.AdaptiveMaxPool1d(4), lambda h: (1, h)),
    (lc.AdaptiveMaxPool2d(2, True), lambda h: (2, h, 3)),
    (lc.AdaptiveMaxPool3d((1, None, 2)), lambda h: (1, 2, h, h)),
]


@pytest.mark.parametrize("layer, shape", SYMBOLIC_CASES)
def test_symbolic_cost_equals_numeric(layer, shape):
    sym = layer.cost(shape(H))
    out = layer.output_shape(shape(H))
    assert sym.free_symbols <= {H}
    for v in (1, 2, 3, 7, 12):
        assert sym.subs(H, v) == layer.cost(shape(v))
        assert tuple(int(e.subs(H, v)) if hasattr(e, "subs") else e for e in out) == \
            layer.output_shape(shape(v))


# -- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda: lc.MaxPool2d(3, padding=2),
     "MaxPool2d: padding (=(2, 2)) must be at most half of kernel_size (=(3, 3)) along each "
     "axis."),
    (lambda: lc.AvgPool1d(2, padding=(2,)),
     "AvgPool1d: padding (=(2,)) must be at most half of kernel_size (=(2,)) along each axis."),
    (lambda: lc.MaxPool2d((3, 3, 3)),
     "MaxPool2d: kernel_size must be one value or 2 values, got (3, 3, 3)."),
    (lambda: lc.AvgPool2d(2, divisor_override=0),
     "AvgPool2d: divisor_override (=0) must be positive."),
    (lambda: lc.AdaptiveAvgPool2d((7, 7, 7)),
     "AdaptiveAvgPool2d: output_size must be one value or 2 values, got (7, 7, 7)."),
    (lambda: lc.AdaptiveMaxPool1d(0), "AdaptiveMaxPool1d: output_size (=0) must be positive."),
])
def test_spec_errors(make, message):
    with pytest.raises(lc.LayerSpecError) as info:
        make()
    assert str(info.value) == message


@pytest.mark.parametrize("layer, x, message", [
    (lc.MaxPool2d(3), (1, 2, 5),
     "MaxPool2d: output size along height would be 0 for input size 2. The padded input (2) "
     "must be at least the effective kernel size (dilation*(kernel_size-1)+1 = 3)."),
    (lc.MaxPool3d(2, dilation=3), (1, 8, 8, 3),
     "MaxPool3d: output size along width would be 0 for input size 3. The padded input (3) "
     "must be at least the effective kernel size (dilation*(kernel_size-1)+1 = 4)."),
    (lc.AvgPool1d(5, padding=1), (1, 2),
     "AvgPool1d: output size along length would be 0 for input size 2. The padded input (4) "
     "must be at least the effective kernel size (dilation*(kernel_size-1)+1 = 5)."),
    (lc.MaxPool2d(2), (4, 4), "MaxPool2d: expected an input of rank 3 (C, H, W) (batch "
     "excluded), got (4, 4)."),
    (lc.AdaptiveAvgPool1d(1), (4, 4, 4), "AdaptiveAvgPool1d: expected an input of rank 2 "
     "(C, L) (batch excluded), got (4, 4, 4)."),
])
def test_shape_errors(layer, x, message):
    with pytest.raises(lc.ShapeError) as info:
        layer.cost(x)
    assert str(info.value) == message


def test_symbolic_dilation_window_on_padding_only():
    """A window can miss the input only when the dilation exceeds the input size: exact via a
    Piecewise for a symbolic size with numeric dilation, a note for a symbolic dilation."""
    L, D = lc.symbols("L D")
    cmp = lc.MaxPool1d(2, 1, 1, 2).cost((1, L)).ops["cmp"]
    assert [cmp.subs(L, n) for n in (1, 2, 5)] == [0, 0, 3]
    assert lc.MaxPool1d(2, 1, 1, 2).cost((1, 1)).ops == {}  # one window, taps at -1 and 1
    assert lc.MaxPool2d(3, 2, 1, D).cost((1, L, L)).notes == (
        "MaxPool2d: compares assume every window holds an input element (dilation may exceed "
        "input)",)
