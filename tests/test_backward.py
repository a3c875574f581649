"""Every backward rule of `layercalc.backward` against a naive loop that counts each operation
of the gradient computation (`tests/brute_backward.py`), as Hypothesis properties, plus the
registry's behaviour."""

from __future__ import annotations

import random
from collections import Counter

import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

import brute_backward as bb
import layercalc as lc
from layercalc.backward import (
    BackwardRule, Ctx, Grads, NotCounted, attention_core_grads,
    backward_rule, register_backward,
)
from strategies import conv_cases, conv_transpose_cases

SETTINGS = settings(max_examples=40, deadline=None)


def counts(*costs: lc.Cost) -> dict:
    """Operations a Cost stands for, by kind: a MAC is a multiply, a dot of n terms n - 1
    adds, a bias add an add."""
    out: Counter = Counter()
    for c in costs:
        out["mul"] += c.macs
        out["add"] += c.macs - c.dots + c.bias_adds
        for k, v in c.ops.items():
            out[k] += v
    return {k: v for k, v in out.items() if v}


def brute(ops: Counter) -> dict:
    return {k: v for k, v in ops.items() if v}


def rand() -> float:
    return random.uniform(-1.0, 1.0)


def grads(layer, inputs, output, batch=1, needs=(True,)):
    return backward_rule(layer).grads(Ctx(layer, inputs, output, batch, needs))


# -- convolutions -------------------------------------------------------------------------------
def _conv_brute(layer, x_shape, batch, need_x):
    random.seed(0)
    y = layer.output_shape(x_shape)
    ops = bb.Ops()
    x = {"shape": (batch, *x_shape)}
    for idx in bb.grid((batch, *x_shape)):
        x[idx] = rand()
    w = {"shape": (layer.out_channels, layer.in_channels // layer.groups, *layer.kernel_size)}
    for idx in bb.grid(w["shape"]):
        w[idx] = rand()
    dy = {"shape": (batch, *y)}
    for idx in bb.grid((batch, *y)):
        dy[idx] = bb.Num(rand(), ops)
    if layer.padding == "same":
        from layercalc.shapes import same_padding
        pads = [same_padding(k, d) for k, d in zip(layer.kernel_size, layer.dilation)]
    else:
        pads = [(p, p) for p in layer.padding]
    bb.conv_backward(x, w, dy, layer.stride, pads, layer.dilation, layer.groups, layer.bias,
                     need_x, ops)
    return brute(ops), y


@SETTINGS
@given(st.integers(1, 2).flatmap(lambda nd: conv_cases(nd)), st.integers(1, 2), st.booleans())
@example((lc.Conv1d(1, 1, 4, padding="same"), (1, 5)), 1, True)  # asymmetric 'same'
@example((lc.Conv2d(2, 2, 1, stride=3), (2, 7, 7)), 2, True)  # stride beyond the kernel
def test_conv_backward_matches_brute_force(case, batch, need_x):
    """dgrad (a transposed convolution of dY) and wgrad (a correlation) count every multiply
    and add of the loops, padding taps multiplied, only real inputs accumulated."""
    layer, x = case
    if len(x) == 4 and batch > 1:
        batch = 1
    ops, y = _conv_brute(layer, x, batch, need_x)
    g = grads(layer, (x,), y, batch, (need_x,))
    assert counts(g.dgrad, g.wgrad) == ops
    if not need_x:
        assert g.dgrad == lc.Cost()


@SETTINGS
@given(conv_transpose_cases(max_size=4), st.integers(1, 2), st.booleans())
def test_conv_transpose_backward_matches_brute_force(case, batch, need_x):
    layer, x = case
    random.seed(1)
    y = layer.output_shape(x)
    ops = bb.Ops()
    xd = {"shape": (batch, *x)}
    for idx in bb.grid((batch, *x)):
        xd[idx] = rand()
    w = {"shape": (layer.in_channels, layer.out_channels // layer.groups, *layer.kernel_size)}
    for idx in bb.grid(w["shape"]):
        w[idx] = rand()
    dy = {"shape": (batch, *y)}
    for idx in bb.grid((batch, *y)):
        dy[idx] = bb.Num(rand(), ops)
    bb.conv_transpose_backward(xd, w, dy, layer.stride, layer.padding, layer.dilation,
                               layer.groups, layer.bias, need_x, ops)
    g = grads(layer, (x,), y, batch, (need_x,))
    assert counts(g.dgrad, g.wgrad) == brute(ops)


# -- linear, embeddings ------------------------------------------------------------------------
@SETTINGS
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3),
       st.booleans(), st.booleans())
def test_linear_backward_matches_brute_force(lead, fin, fout, batch, bias, need_x):
    ops = bb.Ops()
    f = lead * batch
    x = [[rand() for _ in range(fin)] for _ in range(f)]
    w = [[rand() for _ in range(fin)] for _ in range(fout)]
    dy = [[bb.Num(rand(), ops) for _ in range(fout)] for _ in range(f)]
    bb.linear_backward(x, w, dy, bias, need_x)
    g = grads(lc.Linear(fin, fout, bias), ((lead, fin),), (lead, fout), batch, (need_x,))
    assert counts(g.dgrad, g.wgrad) == brute(ops)


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3))
def test_embedding_backward_is_a_scatter_add(n, e, batch):
    """One add per scattered element into the zeroed table (the rule's stated count)."""
    ops = bb.Ops()
    table = {}
    for _ in range(n * batch):
        row = random.randrange(5)
        for c in range(e):
            table[(row, c)] = table.get((row, c), 0.0) + bb.Num(rand(), ops)
    g = grads(lc.Embedding(5, e), ((n,),), (n, e), batch, (False,))
    assert counts(g.dgrad, g.wgrad) == brute(ops)


# -- attention ---------------------------------------------------------------------------------
@st.composite
def attention_cases(draw):
    hkv = draw(st.integers(1, 2))
    h = hkv * draw(st.integers(1, 2))
    d = draw(st.integers(1, 3))
    causal = draw(st.booleans())
    L = draw(st.integers(1, 4))
    S = draw(st.integers(L if causal else 1, 5))
    window = draw(st.one_of(st.none(), st.integers(1, 4))) if causal else None
    needs = draw(st.tuples(st.booleans(), st.booleans(), st.booleans()))
    return h, hkv, d, L, S, causal, window, needs


@SETTINGS
@given(attention_cases(), st.integers(1, 2))
@example((2, 1, 2, 3, 5, True, 2, (True, True, True)), 1)  # GQA, KV cache offset, window
def test_attention_backward_matches_brute_force(case, batch):
    """dV, dP, the softmax backward, the scale, dQ and dK over the visible scores only
    (causal masks aligned bottom-right, sliding windows, grouped KV heads)."""
    h, hkv, d, L, S, causal, window, needs = case
    ops = bb.Ops()
    for _ in range(batch):
        q = [[[rand() for _ in range(d)] for _ in range(L)] for _ in range(h)]
        k = [[[rand() for _ in range(d)] for _ in range(S)] for _ in range(hkv)]
        v = [[[rand() for _ in range(d)] for _ in range(S)] for _ in range(hkv)]
        P, _ = bb.attention_forward(q, k, v, causal, window, d ** -0.5)
        dO = [[[bb.Num(rand(), ops) for _ in range(d)] for _ in range(L)] for _ in range(h)]
        bb.attention_backward(q, k, v, P, dO, d ** -0.5, *needs)
    c = attention_core_grads(h, hkv, d, L, S, causal, window, batch, needs)
    assert counts(c) == brute(ops)


@pytest.mark.parametrize("cross", [False, True])
def test_multihead_attention_is_its_parts(cross):
    """MultiheadAttention's backward is its projections (`Linear`, brute-forced above), the
    attention core (brute-forced above) and out_proj, plus the sum of the input gradients of
    an input shared by several projections."""
    from layercalc.backward import linear_grads
    E, H, L, S, B = 8, 2, 3, 5, 2
    mha = lc.MultiheadAttention(E, H)
    shapes = ((L, E), (S, E), (S, E)) if cross else ((L, E),)
    needs = (True, True, True) if cross else (True,)
    g = grads(mha, shapes, (L, E), B, needs)
    lin = lambda x, n: linear_grads(Ctx(lc.Linear(E, E), (x,), x, B, (n,)))  # noqa: E731
    parts = [lin((L, E), True), lin(shapes[1 if cross else 0], True),
             lin(shapes[2 if cross else 0], True), lin((L, E), True)]
    core = attention_core_grads(H, H, E // H, L, S if cross else L, False, None, B, (1, 1, 1))
    shared = lc.Cost(ops={"add": B * S * E if cross else 2 * B * L * E})
    assert counts(g.dgrad) == counts(*[p.dgrad for p in parts], core, shared)
    assert counts(g.wgrad) == counts(*[p.wgrad for p in parts])


def test_sdpa_rule_is_the_attention_core():
    layer = lc.ScaledDotProductAttention(4, 8, num_kv_heads=2, causal=True)
    g = grads(layer, ((6, 32), (6, 16)), (6, 32), 3, (True, True, True))
    assert g.dgrad.macs == attention_core_grads(4, 2, 8, 6, 6, True, None, 3,
                                                (True, True, True)).macs
    assert g.wgrad == lc.Cost()


# -- softmax and normalisation -----------------------------------------------------------------
@SETTINGS
@given(st.integers(1, 3), st.integers(1, 5), st.booleans())
def test_softmax_backward_matches_brute_force(rows, n, log):
    ops = bb.Ops()
    for _ in range(rows):
        y = [rand() for _ in range(n)]
        dy = [bb.Num(rand(), ops) for _ in range(n)]
        (bb.log_softmax_backward if log else bb.softmax_backward)(y, dy)
    layer = (lc.LogSoftmax if log else lc.Softmax)(dim=-1)
    assert counts(grads(layer, ((rows, n),), (rows, n)).dgrad) == brute(ops)


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 2), st.booleans(), st.booleans(),
       st.booleans())
def test_layernorm_backward_matches_brute_force(rows, n, batch, affine, bias, need_x):
    ops = bb.Ops()
    gam = [rand() for _ in range(n)]
    dw = [None] * n
    db = [None] * n
    for _ in range(rows * batch):
        xs = [rand() for _ in range(n)]
        dys = [bb.Num(rand(), ops) for _ in range(n)]
        if need_x:
            _, xh = bb.norm_group_backward(xs, dys, gam if affine else None)
        else:
            mu, rstd = bb._mean_rstd(xs, 1e-5)
            xh = [(bb.Num(x, ops) - mu) * rstd for x in xs] if affine else None
        if affine:
            for c in range(n):
                dw[c] = bb.accumulate(dw[c], dys[c] * xh[c])
                if bias:
                    db[c] = bb.accumulate(db[c], dys[c])
    ops_brute = brute(ops)
    if not need_x and not affine:
        ops_brute = {}
    layer = lc.LayerNorm(n, elementwise_affine=affine, bias=bias)
    g = grads(layer, ((rows, n),), (rows, n), batch, (need_x,))
    assert counts(g.dgrad, g.wgrad) == ops_brute


@SETTINGS
@given(st.integers(1, 3), st.integers(2, 4), st.integers(1, 2), st.booleans(), st.booleans())
def test_batchnorm_backward_matches_brute_force(c, m, batch, affine, need_x):
    """Training-mode BatchNorm1d on (C, L): per channel M = batch*L elements."""
    ops = bb.Ops()
    for _ in range(c):
        xs = [rand() for _ in range(m * batch)]
        dys = [bb.Num(rand(), ops) for _ in range(m * batch)]
        if need_x or affine:
            bb.batchnorm_channel_backward(xs, dys, rand(), need_x=need_x, affine=affine)
    g = grads(lc.BatchNorm1d(c, affine=affine), ((c, m),), (c, m), batch, (need_x,))
    assert counts(g.dgrad, g.wgrad) == brute(ops)


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 2), st.booleans())
def test_rmsnorm_backward_matches_brute_force(rows, n, batch, affine):
    ops = bb.Ops()
    w = [rand() for _ in range(n)]
    dw = [None] * n
    for _ in range(rows * batch):
        xs = [rand() for _ in range(n)]
        dys = [bb.Num(rand(), ops) for _ in range(n)]
        _, hdy = bb.rmsnorm_row_backward(xs, dys, w if affine else None)
        if affine:
            for k in range(n):
                dw[k] = bb.accumulate(dw[k], hdy[k])
    layer = lc.RMSNorm(n, elementwise_affine=affine)
    g = grads(layer, ((rows, n),), (rows, n), batch)
    assert counts(g.dgrad, g.wgrad) == brute(ops)


@SETTINGS
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 2),
       st.booleans())
def test_groupnorm_backward_matches_brute_force(groups, per_group, spatial, batch, affine):
    c = groups * per_group
    ops = bb.Ops()
    gam = [rand() for _ in range(c)]
    dgam = [None] * c
    dbet = [None] * c
    for _ in range(batch):
        xs = {(ch, s): rand() for ch in range(c) for s in range(spatial)}
        dys = {(ch, s): bb.Num(rand(), ops) for ch in range(c) for s in range(spatial)}
        for gi in range(groups):
            keys = [(ch, s) for ch in range(gi * per_group, (gi + 1) * per_group)
                    for s in range(spatial)]
            _, xh = bb.norm_group_backward([xs[k] for k in keys], [dys[k] for k in keys],
                                           [gam[k[0]] for k in keys] if affine else None)
            if affine:
                for k, h in zip(keys, xh):
                    dgam[k[0]] = bb.accumulate(dgam[k[0]], dys[k] * h)
                    dbet[k[0]] = bb.accumulate(dbet[k[0]], dys[k])
    g = grads(lc.GroupNorm(groups, c, affine=affine), ((c, spatial),), (c, spatial), batch)
    assert counts(g.dgrad, g.wgrad) == brute(ops)


# -- activations --------------------------------------------------------------------------------
_ACTIVATIONS = [
    (lc.ReLU(), "ReLU", {}), (lc.ReLU6(), "ReLU6", {}), (lc.LeakyReLU(0.2), "LeakyReLU", {}),
    (lc.ELU(), "ELU", {}), (lc.Sigmoid(), "Sigmoid", {}), (lc.Tanh(), "Tanh", {}),
    (lc.SiLU(), "SiLU", {}), (lc.Hardswish(), "Hardswish", {}),
    (lc.Hardsigmoid(), "Hardsigmoid", {}), (lc.GELU(), "GELU", {"approximate": "none"}),
    (lc.GELU("tanh"), "GELU", {"approximate": "tanh"}),
]


@pytest.mark.parametrize("layer, kind, kw", _ACTIVATIONS, ids=lambda v: getattr(v, "kind", ""))
@SETTINGS
@given(n=st.integers(1, 6), batch=st.integers(1, 3))
def test_activation_backward_matches_brute_force(layer, kind, kw, n, batch):
    ops = bb.Ops()
    for _ in range(n * batch):
        x = rand() * 5
        y = x if x > 0 else 0.0
        bb.activation_backward(kind, x, y, bb.Num(rand(), ops), ops, **kw)
    assert counts(grads(layer, ((n,),), (n,), batch).dgrad) == brute(ops)


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 2), st.booleans())
def test_prelu_backward_matches_brute_force(c, s, batch, need_x):
    """dx = x > 0 ? dy : a*dy; da sums x*dy over the elements at or below 0 (one per
    channel), sharing the compare."""
    ops = bb.Ops()
    da = [None] * c
    for _ in range(batch):
        for ch in range(c):
            for _ in range(s):
                x, dy = rand(), bb.Num(rand(), ops)
                ops["cmp"] += 1  # x > 0, shared by dx and da
                if need_x:
                    _ = dy * 0.25  # a*dy, computed for every element (branch-free)
                da[ch] = bb.accumulate(da[ch], dy * x)  # x*dy where x <= 0, else 0
    g = grads(lc.PReLU(c), ((c, s),), (c, s), batch, (need_x,))
    assert counts(g.dgrad, g.wgrad) == brute(ops)


# -- pooling --------------------------------------------------------------------------------------
@SETTINGS
@given(st.integers(1, 2), st.lists(st.integers(1, 6), min_size=1, max_size=2),
       st.integers(1, 3), st.integers(1, 3), st.integers(0, 1), st.booleans(), st.booleans(),
       st.integers(1, 2))
def test_pool_backward_matches_brute_force(c, spatial, k, s, p, ceil_mode, is_max, batch):
    nd = len(spatial)
    p = min(p, k // 2)
    if any(n + 2 * p < k for n in spatial):
        spatial = [n + k for n in spatial]
    cls = {1: (lc.MaxPool1d, lc.AvgPool1d), 2: (lc.MaxPool2d, lc.AvgPool2d)}[nd][0 if is_max else 1]
    layer = cls(k, s, p, ceil_mode=ceil_mode)
    x = (c, *spatial)
    y = layer.output_shape(x)
    windows = bb.pool_windows(spatial, (k,) * nd, (s,) * nd, (p,) * nd, (1,) * nd, ceil_mode)
    ops = bb.Ops()
    n_in = 1
    for n in spatial:
        n_in *= n
    for _ in range(c * batch):
        dy = [bb.Num(rand(), ops) for _ in windows]
        if is_max:
            bb.maxpool_backward(len(windows), [random.choice(w) for w in windows], n_in, dy)
        else:
            bb.avgpool_backward(windows, [len(w) for w in windows], n_in, dy)
    assert counts(grads(layer, (x,), y, batch).dgrad) == brute(ops)


@SETTINGS
@given(st.integers(1, 2), st.integers(1, 7), st.integers(1, 4), st.integers(1, 2))
def test_adaptive_avg_pool_backward_matches_brute_force(c, n, m, batch):
    layer = lc.AdaptiveAvgPool1d(m)
    windows = [list(range((o * n) // m, -((-(o + 1) * n) // m))) for o in range(m)]
    ops = bb.Ops()
    for _ in range(c * batch):
        dy = [bb.Num(rand(), ops) for _ in range(m)]
        bb.avgpool_backward(windows, [len(w) for w in windows], n, dy)
    assert counts(grads(layer, ((c, n),), (c, m), batch).dgrad) == brute(ops)


# -- recurrent ------------------------------------------------------------------------------------
@SETTINGS
@given(st.sampled_from(["RNN", "GRU", "LSTM"]), st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 3), st.booleans(), st.booleans(), st.sampled_from(["tanh", "relu"]))
def test_recurrent_backward_matches_brute_force(kind, T, I, H, bias, need_x, nonlinearity):
    """Back-propagation through time, one step at a time, batch 1."""
    g_ = {"RNN": 1, "GRU": 3, "LSTM": 4}[kind]
    ops = bb.Ops()
    xs = [[rand() for _ in range(I)] for _ in range(T)]
    w_ih = [[rand() for _ in range(I)] for _ in range(g_ * H)]
    w_hh = [[rand() for _ in range(H)] for _ in range(g_ * H)]
    b = [rand() for _ in range(g_ * H)] if bias else None
    dys = [[bb.Num(rand(), ops) for _ in range(H)] for _ in range(T)]
    bb.rnn_backward(kind, xs, [0.0] * H, w_ih, w_hh, b, list(b) if b else None, dys, need_x,
                    ops, nonlinearity)
    kw = {"nonlinearity": nonlinearity} if kind == "RNN" else {}
    layer = getattr(lc, kind)(I, H, bias=bias, **kw)
    g = grads(layer, ((T, I),), (T, H), 1, (need_x,))
    assert counts(g.dgrad, g.wgrad) == brute(ops)


def test_recurrent_batch_and_layers_scale_the_single_cell():
    """Batch multiplies every per-step count; a second layer and a second direction add a
    cell each (a bidirectional layer also sums the two directions' input gradients)."""
    one = grads(lc.LSTM(3, 4), ((5, 3),), (5, 4), 1)
    four = grads(lc.LSTM(3, 4), ((5, 3),), (5, 4), 4)
    assert four.dgrad.macs == 4 * one.dgrad.macs and four.wgrad.macs == 4 * one.wgrad.macs
    bi = grads(lc.LSTM(3, 4, bidirectional=True), ((5, 3),), (5, 8), 1)
    assert bi.dgrad.ops["add"] == 2 * one.dgrad.ops["add"] + 5 * 3


# -- structural ------------------------------------------------------------------------------------
@SETTINGS
@given(st.integers(1, 3), st.integers(1, 3), st.booleans(), st.booleans(), st.booleans())
def test_add_and_mul_backward_reduce_broadcast_gradients(c, n, broadcast, mul, need_b):
    """d(a op b): a*b's gradients multiply by the other input; a broadcast input's gradient is
    summed back over the broadcast axis."""
    a, b = (c, n), ((c, 1) if broadcast else (c, n))
    ops = bb.Ops()
    for ch in range(c):
        db = None
        for _ in range(n):
            dy = bb.Num(rand(), ops)
            if mul:
                _ = dy * rand()
            if need_b:
                t = dy * rand() if mul else dy
                db = bb.accumulate(db, t) if broadcast else t
    layer = lc.Mul() if mul else lc.Add()
    g = grads(layer, (a, b), (c, n), 1, (True, need_b))
    assert counts(g.dgrad) == brute(ops)


def test_nearest_upsample_backward_adds_into_sources():
    g = grads(lc.Upsample(scale_factor=2), ((3, 4, 5),), (3, 8, 10), 2)
    assert dict(g.dgrad.ops) == {"add": 2 * 3 * (80 - 20)}
    shrink = grads(lc.Upsample(size=(2, 3)), ((1, 4, 5),), (1, 2, 3))
    assert shrink.dgrad.ops.get("add", 0) == 0  # each source receives at most one gradient


def test_interpolating_upsample_is_listed_not_zero():
    g = grads(lc.Upsample(scale_factor=2, mode="bilinear"), ((3, 4, 4),), (3, 8, 8))
    assert isinstance(g, NotCounted) and "bilinear" in g.reason


def test_views_have_no_backward_work():
    for layer, x in ((lc.Flatten(), (2, 3, 4)), (lc.Identity(), (5,)), (lc.Concat(), None)):
        if x is None:
            g = grads(layer, ((2, 3), (4, 3)), (6, 3), 1, (True, True))
        else:
            g = grads(layer, (x,), layer.output_shape(x))
        assert g == Grads()


def test_dropout_training_forward_and_mask():
    """Training-mode dropout: 1 div per mask entry, 1 mul per element forward, 1 mul per element
    backward; p = 0 is the identity (a view, nothing saved)."""
    rule = backward_rule(lc.Dropout)
    ctx = Ctx(lc.Dropout(0.1), ((4, 5),), (4, 5), 3)
    assert dict(rule.train_forward(ctx).ops) == {"div": 60, "mul": 60}
    assert dict(rule.grads(ctx).dgrad.ops) == {"mul": 60}
    assert rule.saved(ctx)[0].dtype == "mask" and not rule.is_view(ctx)
    zero = Ctx(lc.Dropout(0.0), ((4, 5),), (4, 5), 3)
    assert rule.train_forward(zero) == lc.Cost() and rule.is_view(zero)
    ch = Ctx(lc.Dropout2d(0.1), ((4, 5, 5),), (4, 5, 5), 3)
    assert rule.saved(ch)[0].elements == 12  # one entry per (sample, channel)


def test_batchnorm_training_forward_uses_batch_statistics():
    """Per channel of M = B*H*W elements: the statistics (3M - 1 adds, M muls, M + 2 divs,
    1 sqrt), the affine transform (M muls, M adds) and the running update (5 muls, 2 adds)."""
    ctx = Ctx(lc.BatchNorm2d(2), ((2, 3, 3),), (2, 3, 3), 4)
    m = 4 * 9
    ops = backward_rule(lc.BatchNorm2d).train_forward(ctx).ops
    assert dict(ops) == {"add": 2 * (3 * m - 1 + m + 2), "mul": 2 * (m + m + 5),
                         "div": 2 * (m + 2), "sqrt": 2}


def test_symbolic_batch_and_sequence():
    """Every rule accepts symbols: the attention backward in (B, L) substitutes to the
    numeric count."""
    B, L = lc.symbols("B L")
    layer = lc.ScaledDotProductAttention(2, 4, causal=True)
    sym = grads(layer, ((L, 8),), (L, 8), B, (True, True, True)).dgrad
    num = grads(layer, ((7, 8),), (7, 8), 3, (True, True, True)).dgrad
    assert sym.subs({B: 3, L: 7}).macs == num.macs
    assert sp.expand(sym.macs - 4 * B * 2 * 4 * L * (L + 1) / 2) == 0


# -- the registry -------------------------------------------------------------------------------
def test_registry_looks_up_the_mro_and_accepts_new_rules():
    """A rule for a base class covers its subclasses; a layer kind without a rule gets None;
    registering one is one call."""
    from dataclasses import dataclass
    from layercalc.layers import Layer

    assert backward_rule(lc.Conv3d) is backward_rule(lc.Conv1d)
    assert backward_rule(lc.KVCacheDecode) is None

    @dataclass(frozen=True)
    class _Scale(Layer):
        def output_shape(self, x):
            return self._input(x)

        def cost(self, x):
            return lc.Cost()

    assert backward_rule(_Scale) is None
    rule = register_backward(_Scale, grads=lambda ctx: Grads(dgrad=lc.Cost(ops={"mul": 1})))
    assert isinstance(rule, BackwardRule) and backward_rule(_Scale()) is rule
