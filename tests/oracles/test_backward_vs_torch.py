"""The reference loops of ``tests/brute_backward.py`` compute real gradients: they equal
``torch.autograd`` on random inputs, so the operations they count are those of the right
formulas (``tests/test_backward.py`` compares the counts with `layercalc.backward`)."""

from __future__ import annotations

import math
import random

import pytest

from oracle_support import require_torch

torch = require_torch()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import brute_backward as bb  # noqa: E402
import torch.nn.functional as F  # noqa: E402



@pytest.fixture(autouse=True)
def _float64():
    """Compare in float64 (this module only; the default dtype is restored)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def close(a, b, tol=1e-9):
    return abs(bb.val(a) - float(b)) <= tol * (1 + abs(float(b)))


def _dict(t):
    return {idx: float(t[idx]) for idx in bb.grid(t.shape)}


@pytest.mark.parametrize("cfg", [
    dict(n=(7,), k=(3,), s=(2,), p=(1,), d=(1,), g=1, cin=2, cout=3),
    dict(n=(5, 6), k=(2, 3), s=(1, 2), p=(1, 0), d=(2, 1), g=2, cin=4, cout=2),
    dict(n=(4,), k=(1,), s=(3,), p=(0,), d=(1,), g=1, cin=1, cout=2),
])
def test_conv_backward_values(cfg):
    random.seed(0)
    torch.manual_seed(0)
    B = 2
    x = torch.randn(B, cfg["cin"], *cfg["n"], requires_grad=True)
    w = torch.randn(cfg["cout"], cfg["cin"] // cfg["g"], *cfg["k"], requires_grad=True)
    b = torch.randn(cfg["cout"], requires_grad=True)
    conv = {1: F.conv1d, 2: F.conv2d}[len(cfg["n"])]
    y = conv(x, w, b, cfg["s"], cfg["p"], cfg["d"], cfg["g"])
    dy = torch.randn_like(y)
    y.backward(dy)
    ops = bb.Ops()
    xd, wd = {"shape": tuple(x.shape), **_dict(x.detach())}, {"shape": tuple(w.shape),
                                                             **_dict(w.detach())}
    dyd = {"shape": tuple(y.shape), **{i: bb.Num(float(dy[i]), ops) for i in bb.grid(y.shape)}}
    dx, dw, db = bb.conv_backward(xd, wd, dyd, cfg["s"], [(p, p) for p in cfg["p"]], cfg["d"],
                                  cfg["g"], True, True, ops)
    for idx in bb.grid(x.shape):
        assert close(dx.get(idx, 0.0), x.grad[idx])
    for idx in bb.grid(w.shape):
        assert close(dw[idx], w.grad[idx])
    for co in range(cfg["cout"]):
        assert close(db[co], b.grad[co])


def test_conv_transpose_backward_values():
    torch.manual_seed(1)
    x = torch.randn(2, 2, 4, requires_grad=True)
    w = torch.randn(2, 3, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    y = F.conv_transpose1d(x, w, b, stride=2, padding=1, dilation=2)
    dy = torch.randn_like(y)
    y.backward(dy)
    ops = bb.Ops()
    xd, wd = {"shape": tuple(x.shape), **_dict(x.detach())}, {"shape": tuple(w.shape),
                                                             **_dict(w.detach())}
    dyd = {"shape": tuple(y.shape), **{i: bb.Num(float(dy[i]), ops) for i in bb.grid(y.shape)}}
    dx, dw, db = bb.conv_transpose_backward(xd, wd, dyd, (2,), (1,), (2,), 1, True, True, ops)
    assert all(close(dx[i], x.grad[i]) for i in bb.grid(x.shape))
    assert all(close(dw[i], w.grad[i]) for i in bb.grid(w.shape))
    assert all(close(db[c], b.grad[c]) for c in range(3))


@pytest.mark.parametrize("causal, window, L, S, H, Hkv", [
    (False, None, 3, 4, 2, 2), (True, None, 4, 4, 2, 1), (True, 2, 3, 5, 4, 2)])
def test_attention_backward_values(causal, window, L, S, H, Hkv):
    torch.manual_seed(2)
    d = 3
    q = torch.randn(H, L, d, requires_grad=True)
    k = torch.randn(Hkv, S, d, requires_grad=True)
    v = torch.randn(Hkv, S, d, requires_grad=True)
    mask = torch.tensor([[bb.visible(i, j, L, S, causal, window) for j in range(S)]
                         for i in range(L)])
    kk, vv = k.repeat_interleave(H // Hkv, 0), v.repeat_interleave(H // Hkv, 0)
    scores = (q @ kk.transpose(1, 2)) / math.sqrt(d)
    p = scores.masked_fill(~mask, float("-inf")).softmax(-1)
    o = p @ vv
    dO = torch.randn_like(o)
    o.backward(dO)
    ql, kl, vl = q.tolist(), k.tolist(), v.tolist()
    P, O = bb.attention_forward(ql, kl, vl, causal, window, d ** -0.5)
    ops = bb.Ops()
    dOn = [[[bb.Num(x, ops) for x in row] for row in h] for h in dO.tolist()]
    dQ, dK, dV = bb.attention_backward(ql, kl, vl, P, dOn, d ** -0.5, True, True, True)
    for t, ref in ((dQ, q.grad), (dK, k.grad), (dV, v.grad)):
        for idx in bb.grid(ref.shape):
            a, b_, c = idx
            assert close(t[a][b_][c] if t[a][b_][c] is not None else 0.0, ref[idx])


def test_softmax_and_norm_backward_values():
    torch.manual_seed(3)
    n = 5
    x = torch.randn(n, requires_grad=True)
    dy = torch.randn(n)
    ops = bb.Ops()
    for f, brute in ((lambda t: t.softmax(0), bb.softmax_backward),
                     (lambda t: t.log_softmax(0), bb.log_softmax_backward)):
        x.grad = None
        y = f(x)
        y.backward(dy)
        got = brute(y.tolist(), [bb.Num(v, ops) for v in dy.tolist()])
        assert all(close(a, b) for a, b in zip(got, x.grad))
    # LayerNorm over one group, with affine weights
    g = torch.randn(n)
    x.grad = None
    F.layer_norm(x, (n,), g, None, 1e-5).backward(dy)
    dx, _ = bb.norm_group_backward(x.tolist(), [bb.Num(v, ops) for v in dy.tolist()],
                                   g.tolist())
    assert all(close(a, b) for a, b in zip(dx, x.grad))
    # BatchNorm training on one channel of 6 values
    xb = torch.randn(6, 1, requires_grad=True)
    wb = torch.randn(1, requires_grad=True)
    dyb = torch.randn(6, 1)
    F.batch_norm(xb, None, None, wb, None, training=True).backward(dyb)
    dx, dgamma, _ = bb.batchnorm_channel_backward(
        xb[:, 0].tolist(), [bb.Num(v, ops) for v in dyb[:, 0].tolist()], float(wb))
    assert all(close(a, b) for a, b in zip(dx, xb.grad[:, 0]))
    assert close(dgamma, wb.grad[0])
    # RMSNorm (torch.nn.functional.rms_norm) with weights
    w = torch.randn(n)
    x.grad = None
    F.rms_norm(x, (n,), w, 1e-6).backward(dy)
    dx, _ = bb.rmsnorm_row_backward(x.tolist(), [bb.Num(v, ops) for v in dy.tolist()],
                                    w.tolist())
    assert all(close(a, b) for a, b in zip(dx, x.grad))


@pytest.mark.parametrize("kind, f, kw", [
    ("ReLU", F.relu, {}), ("ReLU6", F.relu6, {}),
    ("LeakyReLU", lambda t: F.leaky_relu(t, 0.01), {}), ("ELU", F.elu, {}),
    ("Sigmoid", torch.sigmoid, {}), ("Tanh", torch.tanh, {}), ("SiLU", F.silu, {}),
    ("Hardswish", F.hardswish, {}), ("Hardsigmoid", F.hardsigmoid, {}),
    ("GELU", F.gelu, {"approximate": "none"}),
    ("GELU", lambda t: F.gelu(t, approximate="tanh"), {"approximate": "tanh"}),
])
def test_activation_backward_values(kind, f, kw):
    x = torch.tensor([-4.0, -2.5, -0.7, 0.3, 1.9, 3.5, 6.5], requires_grad=True)
    y = f(x)
    dy = torch.linspace(-1, 1, 7)
    y.backward(dy)
    ops = bb.Ops()
    for xi, yi, dyi, gi in zip(x.tolist(), y.tolist(), dy.tolist(), x.grad.tolist()):
        assert close(bb.activation_backward(kind, xi, yi, bb.Num(dyi, ops), ops, **kw), gi,
                     1e-7)


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_recurrent_backward_values(kind, nonlinearity):
    if kind != "RNN" and nonlinearity == "relu":
        pytest.skip("nonlinearity is an RNN argument")
    torch.manual_seed(4)
    T, I, H = 4, 3, 2
    kw = {"nonlinearity": nonlinearity} if kind == "RNN" else {}
    cell = getattr(torch.nn, kind)(I, H, **kw)
    x = torch.randn(T, 1, I, requires_grad=True)
    y, _ = cell(x)
    dy = torch.randn_like(y)
    y.backward(dy)
    ops = bb.Ops()
    dys = [[bb.Num(v, ops) for v in row[0]] for row in dy.tolist()]
    dx, dW_ih, dW_hh, db_ih, db_hh = bb.rnn_backward(
        kind, [row[0] for row in x.tolist()], [0.0] * H, cell.weight_ih_l0.tolist(),
        cell.weight_hh_l0.tolist(), cell.bias_ih_l0.tolist(), cell.bias_hh_l0.tolist(), dys,
        True, ops, nonlinearity)
    for t in range(T):
        assert all(close(dx[t][c], x.grad[t, 0, c]) for c in range(I))
    for got, ref in ((dW_ih, cell.weight_ih_l0.grad), (dW_hh, cell.weight_hh_l0.grad)):
        assert all(close(got[r][c], ref[r, c]) for r, c in bb.grid(ref.shape))
    for got, ref in ((db_ih, cell.bias_ih_l0.grad), (db_hh, cell.bias_hh_l0.grad)):
        assert all(close(got[r], ref[r]) for r in range(ref.shape[0]))


def test_pool_backward_values():
    torch.manual_seed(5)
    x = torch.randn(1, 1, 7, requires_grad=True)
    y = F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)
    dy = torch.randn_like(y)
    y.backward(dy)
    windows = bb.pool_windows((7,), (3,), (2,), (1,), (1,), True)
    ops = bb.Ops()
    dx = bb.avgpool_backward(windows, [len(w) for w in windows], 7,
                             [bb.Num(v, ops) for v in dy[0, 0].tolist()])
    assert all(close(a if a is not None else 0.0, b) for a, b in zip(dx, x.grad[0, 0]))
    x.grad = None
    y, idx = F.max_pool1d(x, 3, 2, 1, return_indices=True)
    dy = torch.randn_like(y)
    y.backward(dy)
    dx = bb.maxpool_backward(y.shape[-1], idx[0, 0].tolist(), 7,
                             [bb.Num(v, ops) for v in dy[0, 0].tolist()])
    assert all(close(a, b) for a, b in zip(dx, x.grad[0, 0]))
