"""State-space layers: the selective scan and the causal convolution against naive loops
that compute them and count every operation, the Mamba mixer's parameters (formula and the
published checkpoints, tests/golden/inference.toml), the decode step and its state, symbols,
errors."""

from __future__ import annotations

import functools
import math
import tomllib
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from layercalc import (
    CausalConv1d, LayerSpecError, MambaBlock, MambaMixer, SelectiveScan, ShapeError, analyze,
    symbols, zoo,
)

GOLDEN = Path(__file__).parent / "golden" / "inference.toml"


@functools.lru_cache(maxsize=None)
def golden(name: str, quantity: str) -> int:
    with GOLDEN.open("rb") as f:
        rows = tomllib.load(f)["model"]
    return next(r for r in rows if r["name"] == name and r["quantity"] == quantity)["value"]


class Ops(dict):
    def tick(self, kind, n=1):
        self[kind] = self.get(kind, 0) + n


def naive_scan(u, delta, B, C, A_log, D):
    """selective_scan_ref with delta_softplus and D, in plain Python, counting operations."""
    ops, macs = Ops(), 0
    L, d, n = len(u), len(u[0]), len(A_log[0])
    sp_delta = []
    for t in range(L):
        row = []
        for c in range(d):
            e = math.exp(delta[t][c]); ops.tick("exp")
            s = 1 + e; ops.tick("add")
            row.append(math.log(s)); ops.tick("log")
        sp_delta.append(row)
    A = []
    for c in range(d):
        A.append([-math.exp(A_log[c][j]) for j in range(n)]); ops.tick("exp", n)
    h = [[0.0] * n for _ in range(d)]
    y = []
    for t in range(L):
        out = []
        for c in range(d):
            du = sp_delta[t][c] * u[t][c]; ops.tick("mul")
            acc = None
            for j in range(n):
                da = sp_delta[t][c] * A[c][j]; ops.tick("mul")
                ea = math.exp(da); ops.tick("exp")
                dbu = du * B[t][j]; ops.tick("mul")
                hm = ea * h[c][j]; ops.tick("mul")
                h[c][j] = hm + dbu; ops.tick("add")
                term = h[c][j] * C[t][j]
                macs += 1
                acc = term if acc is None else acc + term
            skip = D[c] * u[t][c]; ops.tick("mul")
            out.append(acc + skip); ops.tick("add")
        y.append(out)
    return y, dict(ops), macs, L * d


@settings(max_examples=40)
@given(st.integers(1, 5), st.integers(1, 4), st.integers(1, 4))
def test_selective_scan_matches_brute_force(L, d, n):
    u = [[math.sin(t + 2 * c) for c in range(d)] for t in range(L)]
    delta = [[math.cos(t * c + 1) for c in range(d)] for t in range(L)]
    B = [[math.sin(t - j) for j in range(n)] for t in range(L)]
    C = [[math.cos(t + j) for j in range(n)] for t in range(L)]
    A_log = [[math.log(j + 1) for j in range(n)] for _ in range(d)]
    y, ops, macs, dots = naive_scan(u, delta, B, C, A_log, [1.0] * d)
    cost = SelectiveScan(d, n).cost((L, d))
    assert dict(cost.ops) == ops
    assert (cost.macs, cost.dots) == (macs, dots)
    assert cost.params == d * n + d
    assert cost.act_reads == 2 * L * d + 2 * L * n and cost.writes == L * d


def naive_causal_conv(x, w, b):
    """x: channels x L; output t of channel c sums w[c][i] * x[c][t - k + 1 + i] (zeros
    before the start), every tap counted."""
    k = len(w[0])
    macs = bias = 0
    out = []
    for c, row in enumerate(x):
        o = []
        for t in range(len(row)):
            acc = 0.0
            for i in range(k):
                j = t - k + 1 + i
                acc += w[c][i] * (row[j] if j >= 0 else 0.0)
                macs += 1
            if b is not None:
                acc += b[c]
                bias += 1
            o.append(acc)
        out.append(o)
    return out, macs, bias


@settings(max_examples=40)
@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 5), st.booleans())
def test_causal_conv_matches_brute_force(C, L, k, bias):
    x = [[float(c * L + t) for t in range(L)] for c in range(C)]
    w = [[1.0] * k for _ in range(C)]
    out, macs, adds = naive_causal_conv(x, w, [0.5] * C if bias else None)
    cost = CausalConv1d(C, k, bias).cost((C, L))
    assert (cost.macs, cost.bias_adds, cost.dots) == (macs, adds, C * L)
    assert cost.params == C * k + (C if bias else 0)
    assert CausalConv1d(C, k, bias).output_shape((C, L)) == (C, len(out[0]))


def test_step_is_one_token_of_the_scan_plus_the_state():
    for d, n in ((8, 4), (1536, 16)):
        seq, step = SelectiveScan(d, n).cost((1, d)), SelectiveScan(d, n, step=True).cost((1, d))
        assert dict(step.ops) == dict(seq.ops) and step.macs == seq.macs
        assert step.act_reads - seq.act_reads == d * n == step.writes - seq.writes
        assert SelectiveScan(d, n, step=True).cache_io((1, d)) == (d * n, d * n)
        assert SelectiveScan(d, n).cache_io((5, d)) == (0, 0)
        conv = CausalConv1d(d, 4, step=True)
        assert conv.cache_io((d, 1)) == (4 * d, 4 * d)
        assert conv.cost((d, 1)).macs == CausalConv1d(d, 4).cost((d, 1)).macs


def test_mixer_params_formula_symbolic():
    d, n, k = symbols("d n k")
    r = analyze(MambaMixer(d, n, k, time_step_rank=8), (symbols("L"), d))
    D, R = 2 * d, 8
    expected = 2 * d * D + D * k + D + D * (R + 2 * n) + R * D + D + D * n + D + D * d
    assert sp.expand(r.total.params - expected) == 0
    L = symbols("L")
    num = analyze(MambaMixer(64, 16, 4), (7, 64)).total
    sym = analyze(MambaMixer(64, 16, 4), (L, 64)).total
    assert sp.sympify(sym.macs).subs(L, 7) == num.macs
    assert sp.sympify(sym.ops["exp"]).subs(L, 7) == num.ops["exp"]


def test_mixer_rows_and_block():
    r = analyze(MambaBlock(768), (16, 768))
    assert [row.path for row in r.rows] == [
        "norm", "mixer.in_proj", "mixer.conv1d", "mixer.act", "mixer.x_proj", "mixer.dt_proj",
        "mixer.selective_scan", "mixer.act", "mixer.mul", "mixer.out_proj", "add"]
    assert r.rows[4].output_shape == (16, 48 + 32)  # dt_rank ceil(768/16) + 2 * 16


@pytest.mark.parametrize("preset", ["mamba-130m", "mamba-370m", "mamba-790m", "mamba-1.4b",
                                    "mamba-2.8b"])
def test_mamba_presets(preset):
    assert analyze(zoo.mamba(preset), (64,)).total.params == golden(preset, "params")


def test_mamba_lm_head_is_tied_and_state_is_constant():
    r = analyze(zoo.mamba_130m(), (32,))
    assert r.rows[-1].path == "lm_head" and r.rows[-1].cost.params == 0
    assert r.rows[-1].cost.weight_reads == 768 * 50280
    mixer = MambaMixer(768)
    assert mixer.state_elements() == 1536 * (4 + 16)
    assert mixer.decode_step().state_elements() == mixer.state_elements()


@pytest.mark.parametrize("make, error, message", [
    (lambda: SelectiveScan(8, 4).cost((5, 9)), ShapeError,
     "SelectiveScan: expected 8 channels (d_inner) in the last axis, got input shape (5, 9)."),
    (lambda: SelectiveScan(8, 4, step=True).cost((2, 8)), ShapeError,
     "SelectiveScan: a decode step (step=True) takes one token, got input shape (2, 8)."),
    (lambda: CausalConv1d(8, 4).cost((7, 3)), ShapeError,
     "CausalConv1d: expected 8 channels, got input shape (7, 3)."),
    (lambda: MambaMixer(64, use_bias=1), LayerSpecError,
     "MambaMixer: use_bias (=1) must be True or False."),
    (lambda: zoo.mamba(d_model=768), LayerSpecError,
     "mamba: unknown configuration field 'd_model'; known: "),
    (lambda: analyze(MambaMixer(16), (4, 8)), ShapeError,
     "in_proj (Linear): expected 16 input features"),
])
def test_errors(make, error, message):
    with pytest.raises(error) as e:
        make()
    assert str(e.value).startswith(message)
