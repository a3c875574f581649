"""Normalisation layers: brute force, seed/doc golden values, symbolic sizes, exact errors."""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
from collections import Counter, defaultdict

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import layercalc as lc


# -- brute force: run the algorithm on real numbers, counting every op one at a time ----------
class Ops:
    def __init__(self) -> None:
        self.n: Counter = Counter()

    def add(self, a, b):
        self.n["add"] += 1
        return a + b

    def sub(self, a, b):  # a subtraction is an add
        self.n["add"] += 1
        return a - b

    def mul(self, a, b):
        self.n["mul"] += 1
        return a * b

    def div(self, a, b):
        self.n["div"] += 1
        return a / b

    def sqrt(self, a):
        self.n["sqrt"] += 1
        return math.sqrt(a)


def _stats_normalise(ops: Ops, xs: list[float], eps: float) -> list[float]:
    """Mean, centred values, biased variance, std, normalised values: the naive loop."""
    total = xs[0]
    for v in xs[1:]:
        total = ops.add(total, v)
    mean = ops.div(total, len(xs))
    centred = [ops.sub(v, mean) for v in xs]
    var = ops.mul(centred[0], centred[0])
    for d in centred[1:]:
        var = ops.add(var, ops.mul(d, d))
    var = ops.div(var, len(xs))
    std = ops.sqrt(ops.add(var, eps))
    return [ops.div(d, std) for d in centred]


def _elements(shape):
    rng = random.Random(0)
    return {idx: rng.uniform(-1, 1) for idx in itertools.product(*[range(n) for n in shape])}


def brute_norm(layer, shape):
    """(ops Counter, params, buffers, writes, output shape) by explicit loops."""
    ops = Ops()
    x = _elements(shape)
    params = buffers = 0
    out = {}
    eps = 1e-5
    if isinstance(layer, (lc.LayerNorm, lc.RMSNorm)):
        k = len(layer.normalized_shape)
        lead = shape[: len(shape) - k]
        assert tuple(shape[len(shape) - k:]) == tuple(layer.normalized_shape)
        affine = layer.elementwise_affine
        has_bias = isinstance(layer, lc.LayerNorm) and layer.bias
        n_norm = math.prod(layer.normalized_shape)
        weight = [1.5] * n_norm if affine else None
        bias = [0.5] * n_norm if affine and has_bias else None
        params = (len(weight) if weight else 0) + (len(bias) if bias else 0)
        for head in itertools.product(*[range(n) for n in lead]):
            keys = [head + tail for tail in itertools.product(*[range(n) for n in
                                                                 layer.normalized_shape])]
            xs = [x[kk] for kk in keys]
            if isinstance(layer, lc.LayerNorm):
                ys = _stats_normalise(ops, xs, eps)
            else:
                sq = [ops.mul(v, v) for v in xs]
                total = sq[0]
                for v in sq[1:]:
                    total = ops.add(total, v)
                ms = ops.div(total, len(xs))
                r = ops.sqrt(ops.add(ms, eps))
                ys = [ops.div(v, r) for v in xs]
            for i, (kk, yv) in enumerate(zip(keys, ys)):
                if weight:
                    yv = ops.mul(yv, weight[i])
                if bias:
                    yv = ops.add(yv, bias[i])
                out[kk] = yv
        return ops.n, params, buffers, len(out), tuple(shape)

    # channel-first layers
    c = shape[0]
    if isinstance(layer, lc.GroupNorm):
        g = layer.num_groups
        group_of = {ch: ch // (c // g) for ch in range(c)}
        affine, running = layer.affine, False
    else:
        group_of = {ch: ch for ch in range(c)}
        affine, running = layer.affine, layer.track_running_stats
    gamma = [1.5] * c if affine else None
    beta = [0.5] * c if affine else None
    params = 2 * c if affine else 0
    if running:
        running_mean, running_var = [0.1] * c, [0.9] * c
        buffers = len(running_mean) + len(running_var)
        stds = [ops.sqrt(ops.add(running_var[ch], eps)) for ch in range(c)]
        y = {kk: ops.div(ops.sub(v, running_mean[kk[0]]), stds[kk[0]]) for kk, v in x.items()}
    else:
        groups = defaultdict(list)
        for kk in x:
            groups[group_of[kk[0]]].append(kk)
        y = {}
        for keys in groups.values():
            for kk, yv in zip(keys, _stats_normalise(ops, [x[kk] for kk in keys], eps)):
                y[kk] = yv
    for kk, yv in y.items():
        if affine:
            yv = ops.add(ops.mul(yv, gamma[kk[0]]), beta[kk[0]])
        out[kk] = yv
    return ops.n, params, buffers, len(out), tuple(shape)


@st.composite
def norm_cases(draw):
    kind = draw(st.sampled_from(["bn", "in", "gn", "ln", "rms"]))
    if kind in ("bn", "in"):
        ndim = draw(st.integers(1, 3))
        c = draw(st.integers(1, 3))
        spatial = tuple(draw(st.integers(1, 4 if ndim < 3 else 2)) for _ in range(ndim))
        if kind == "bn" and ndim == 1 and draw(st.booleans()):
            spatial = ()  # BatchNorm1d on (C,)
        cls = getattr(lc, ("BatchNorm" if kind == "bn" else "InstanceNorm") + f"{ndim}d")
        layer = cls(c, affine=draw(st.booleans()), track_running_stats=draw(st.booleans()))
        if not layer.track_running_stats and math.prod(spatial) == 1:
            spatial = (*spatial[:-1], 2) if spatial else ()  # PyTorch: >1 value per channel
            if not spatial:
                layer = dataclasses.replace(layer, track_running_stats=True)
        return layer, (c, *spatial)
    if kind == "gn":
        g = draw(st.integers(1, 3))
        c = g * draw(st.integers(1, 3))
        spatial = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2))))
        if c // g * math.prod(spatial) == 1:  # PyTorch: more than 1 value per group
            spatial = (2, *spatial[1:])
        return lc.GroupNorm(g, c, affine=draw(st.booleans())), (c, *spatial)
    norm = tuple(draw(st.integers(1, 4)) for _ in range(draw(st.integers(1, 2))))
    lead = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2))))
    normalized = norm[0] if len(norm) == 1 and draw(st.booleans()) else norm
    if kind == "ln":
        layer = lc.LayerNorm(normalized, elementwise_affine=draw(st.booleans()),
                             bias=draw(st.booleans()))
    else:
        layer = lc.RMSNorm(normalized, elementwise_affine=draw(st.booleans()))
    return layer, (*lead, *norm)


@settings(max_examples=80, deadline=None)
@given(norm_cases())
@example((lc.BatchNorm1d(3), (3,)))  # BatchNorm1d on (C,)
@example((lc.BatchNorm2d(2, affine=False, track_running_stats=False), (2, 1, 2)))
@example((lc.InstanceNorm1d(1, track_running_stats=True), (1, 1)))
@example((lc.GroupNorm(1, 3), (3,)))  # one group, no spatial axes
@example((lc.GroupNorm(3, 3, affine=False), (3, 2, 2)))  # a group per channel
@example((lc.LayerNorm(4, bias=False), (4,)))  # no leading axes, no bias
@example((lc.LayerNorm([2, 3], elementwise_affine=False), (2, 2, 3)))
@example((lc.RMSNorm(1), (3, 1)))  # a group of one
def test_norm_counts_match_brute_force(case):
    """Every op count, params, buffers, writes and the output shape equal running the
    documented algorithm on real numbers and counting each op as it happens."""
    layer, x = case
    ops, params, buffers, writes, shape = brute_norm(layer, x)
    cost = layer.cost(x)
    assert layer.output_shape(x) == shape
    assert dict(cost.ops) == dict(ops)
    assert (cost.params, cost.buffers, cost.writes) == (params, buffers, writes)
    assert cost.act_reads == cost.tap_reads == math.prod(x)
    assert cost.weight_reads == params + buffers
    assert (cost.macs, cost.dots, cost.bias_adds) == (0, 0, 0)


# -- golden values -------------------------------------------------------------------------------
def test_batchnorm_params_seed_000_and_004():
    """seed 000: "BN 层参数量 = 2*C_i"; seed 004: gamma/beta/mean/var, 4 values per channel,
    of which 2C are learnable params and 2C running-statistics buffers."""
    for c in (16, 64, 2048):
        cost = lc.BatchNorm2d(c).cost((c, 7, 7))
        assert cost.params == 2 * c
        assert cost.params + cost.buffers == 4 * c
        assert cost.weight_reads == 4 * c
    assert lc.BatchNorm2d(8, affine=False).cost((8, 2, 2)).params == 0
    assert lc.BatchNorm2d(8, track_running_stats=False).cost((8, 2, 2)).buffers == 0


def test_batchnorm_inference_op_counts():
    """(x - mean) / sqrt(var + eps) * gamma + beta: 2 adds, 1 div, 1 mul per element, an add
    and a sqrt per channel; exact FLOPs 4E + 2C."""
    c, h, w = 64, 56, 56
    e = c * h * w
    cost = lc.BatchNorm2d(c).cost((c, h, w))
    assert dict(cost.ops) == {"add": 2 * e + c, "div": e, "mul": e, "sqrt": c}
    assert lc.get_convention("exact").flops(cost) == 4 * e + 2 * c
    assert lc.get_convention("macs").flops(cost) == 0


def test_layernorm_params_bert_base():
    """BERT-base LayerNorm(768): 1536 params (weight and bias, PyTorch docs)."""
    assert lc.LayerNorm(768).cost((128, 768)).params == 1536
    assert lc.LayerNorm(768, bias=False).cost((128, 768)).params == 768
    assert lc.LayerNorm(768, elementwise_affine=False).cost((128, 768)).params == 0


def test_groupnorm_and_rmsnorm_params():
    """GroupNorm(32, 256): 512 params; RMSNorm(4096) (Llama): 4096 params; InstanceNorm is
    affine=False by default (PyTorch docs)."""
    assert lc.GroupNorm(32, 256).cost((256, 14, 14)).params == 512
    assert lc.RMSNorm(4096).cost((7, 4096)).params == 4096
    assert lc.InstanceNorm2d(64).cost((64, 8, 8)).params == 0
    assert lc.InstanceNorm2d(64).cost((64, 8, 8)).buffers == 0


def test_batchnorm_without_running_stats_notes_it():
    cost = lc.BatchNorm2d(2, track_running_stats=False).cost((2, 3, 3))
    assert cost.notes == ("BatchNorm2d: track_running_stats=False uses batch statistics at "
                          "inference; counted for a batch of one sample",)


def test_pytorch_signatures():
    """Positional order and defaults as in PyTorch."""
    bn = lc.BatchNorm2d(4, 1e-3, 0.01, False, False)
    assert (bn.eps, bn.momentum, bn.affine, bn.track_running_stats) == (1e-3, 0.01, False, False)
    inorm = lc.InstanceNorm2d(4)
    assert (inorm.affine, inorm.track_running_stats) == (False, False)
    ln = lc.LayerNorm([2, 3], 1e-6, True, False)
    assert (ln.normalized_shape, ln.eps, ln.bias) == ((2, 3), 1e-6, False)
    assert lc.RMSNorm(8).eps is None
    gn = lc.GroupNorm(2, 4, 1e-6, False)
    assert (gn.num_groups, gn.num_channels, gn.eps, gn.affine) == (2, 4, 1e-6, False)


# -- symbolic sizes --------------------------------------------------------------------------
H = lc.symbols("H")
SYMBOLIC_CASES = [
    (lc.BatchNorm1d(3), lambda h: (3, h)),
    (lc.BatchNorm2d(4), lambda h: (4, h, h + 1)),
    (lc.BatchNorm2d(4, track_running_stats=False), lambda h: (4, h, 2)),
    (lc.BatchNorm3d(2), lambda h: (2, 2, h, h)),
    (lc.InstanceNorm1d(3, affine=True), lambda h: (3, h + 1)),
    (lc.InstanceNorm2d(3), lambda h: (3, h, h + 1)),
    (lc.InstanceNorm3d(3, track_running_stats=True), lambda h: (3, h, 2, 2)),
    (lc.GroupNorm(2, 6), lambda h: (6, h, h)),
    (lc.LayerNorm(8), lambda h: (h, 8)),
    (lc.LayerNorm([3, 4], bias=False), lambda h: (h, 3, 4)),
    (lc.RMSNorm(16), lambda h: (h, 16)),
]


@pytest.mark.parametrize("layer, shape", SYMBOLIC_CASES)
def test_symbolic_cost_equals_numeric(layer, shape):
    sym = layer.cost(shape(H))
    out = layer.output_shape(shape(H))
    assert sym.free_symbols <= {H}
    for v in (1, 2, 5, 13):
        assert sym.subs(H, v) == layer.cost(shape(v))
        assert tuple(int(e.subs(H, v)) if hasattr(e, "subs") else e for e in out) == \
            layer.output_shape(shape(v))


def test_symbolic_layer_sizes():
    C, N = lc.symbols("C N")
    assert lc.BatchNorm2d(C).cost((C, H, H)).params == 2 * C
    assert lc.LayerNorm(N).cost((H, N)).ops["sqrt"] == H
    assert lc.GroupNorm(4, 4 * C).cost((4 * C, H)).params == 8 * C
    lc.GroupNorm(4, C)  # a symbol is never rejected


# -- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda: lc.GroupNorm(4, 30),
     "GroupNorm: num_channels (=30) must be divisible by num_groups (=4)."),
    (lambda: lc.BatchNorm2d(0), "BatchNorm2d: num_features (=0) must be positive."),
    (lambda: lc.LayerNorm([]), "LayerNorm: normalized_shape must not be empty."),
    (lambda: lc.LayerNorm((4, 0)), "LayerNorm: normalized_shape (=0) must be positive."),
    (lambda: lc.BatchNorm2d(4, affine=0.5), "BatchNorm2d: affine (=0.5) must be True or False."),
])
def test_spec_errors(make, message):
    with pytest.raises(lc.LayerSpecError) as info:
        make()
    assert str(info.value) == message


@pytest.mark.parametrize("layer, x, message", [
    (lc.BatchNorm2d(16), (8, 4, 4), "BatchNorm2d: expected 16 input channels, got input shape "
     "(8, 4, 4)."),
    (lc.BatchNorm2d(16), (16, 4), "BatchNorm2d: expected an input of rank 3 (C, H, W) (batch "
     "excluded), got (16, 4)."),
    (lc.BatchNorm1d(16), (16, 4, 4), "BatchNorm1d: expected an input of rank 1 (C,) or 2 "
     "(C, L) (batch excluded), got (16, 4, 4)."),
    (lc.InstanceNorm3d(2), (2, 4, 4), "InstanceNorm3d: expected an input of rank 4 "
     "(C, D, H, W) (batch excluded), got (2, 4, 4)."),
    (lc.GroupNorm(2, 6), (4, 3, 3), "GroupNorm: expected 6 input channels, got input shape "
     "(4, 3, 3)."),
    (lc.LayerNorm(768), (10, 512), "LayerNorm: expected an input whose last 1 size equal "
     "normalized_shape (=(768,)), got input shape (10, 512)."),
    (lc.LayerNorm([3, 4]), (4,), "LayerNorm: expected an input of rank >= 2, got (4,)."),
    (lc.RMSNorm([3, 4]), (2, 4, 3), "RMSNorm: expected an input whose last 2 sizes equal "
     "normalized_shape (=(3, 4)), got input shape (2, 4, 3)."),
])
def test_shape_errors(layer, x, message):
    with pytest.raises(lc.ShapeError) as info:
        layer.cost(x)
    assert str(info.value) == message
