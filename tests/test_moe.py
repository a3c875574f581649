"""Mixture of experts: routing and combine ops against naive loops, the MoE container's
params / MACs / weight reads, capacity factors, shared experts, symbols, active parameters,
Mixtral and Qwen1.5-MoE totals (tests/golden/inference.toml) and errors."""

from __future__ import annotations

import functools
import math
import tomllib
from collections import OrderedDict
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import layercalc as lc
from layercalc import (
    ExpertCombine, LayerSpecError, Linear, MoE, Parallel, Sequential, SiLU, TopKRouting,
    UnknownNameError, active_params, analyze, symbols, zoo,
)

GOLDEN = Path(__file__).parent / "golden" / "inference.toml"


@functools.lru_cache(maxsize=None)
def golden(name: str, quantity: str) -> dict:
    with GOLDEN.open("rb") as f:
        rows = tomllib.load(f)["model"]
    return next(r for r in rows if r["name"] == name and r["quantity"] == quantity)


def swiglu(d, inner):
    gate = Sequential(OrderedDict(w1=Linear(d, inner, bias=False), act_fn=SiLU()))
    return Sequential([("", Parallel(OrderedDict([("", gate),
                                                  ("w3", Linear(d, inner, bias=False))]),
                                     merge="mul")),
                       ("w2", Linear(inner, d, bias=False))])


# -- routing ops by brute force ------------------------------------------------------------------
def naive_routing(logits, k, norm):
    """Softmax, k successive maxima, optional renormalisation, counting every operation."""
    n = {"cmp": 0, "add": 0, "exp": 0, "div": 0}
    m = logits[0]
    for v in logits[1:]:
        n["cmp"] += 1
        m = max(m, v)
    shifted = []
    for v in logits:
        shifted.append(v - m)
        n["add"] += 1
    e = []
    for v in shifted:
        e.append(math.exp(v))
        n["exp"] += 1
    total = e[0]
    for v in e[1:]:
        total += v
        n["add"] += 1
    p = []
    for v in e:
        p.append(v / total)
        n["div"] += 1
    remaining = list(range(len(p)))
    chosen = []
    for _ in range(k):
        best = remaining[0]
        for j in remaining[1:]:
            n["cmp"] += 1
            if p[j] > p[best]:
                best = j
        chosen.append(best)
        remaining.remove(best)
    w = [p[j] for j in chosen]
    if norm:
        s = w[0]
        for v in w[1:]:
            s += v
            n["add"] += 1
        for i in range(k):
            w[i] /= s
            n["div"] += 1
    return chosen, n


@settings(max_examples=80)
@given(st.integers(1, 12), st.data())
def test_routing_ops_match_brute_force(E, data):
    k = data.draw(st.integers(1, E))
    T = data.draw(st.integers(1, 4))
    norm = data.draw(st.booleans())
    total = {"cmp": 0, "add": 0, "exp": 0, "div": 0}
    for t in range(T):
        logits = [math.sin(3 * t + 7 * j) for j in range(E)]
        chosen, n = naive_routing(logits, k, norm)
        assert len(set(chosen)) == k
        for key in total:
            total[key] += n[key]
    cost = TopKRouting(E, k, norm).cost((T, E))
    assert {key: cost.ops.get(key, 0) for key in total} == total
    assert cost.writes == 2 * T * k and cost.act_reads == T * E


@settings(max_examples=40)
@given(st.integers(1, 5), st.integers(0, 3), st.integers(1, 4), st.integers(1, 6))
def test_combine_ops_match_brute_force(k, shared, T, d):
    mul = add = 0
    for _t in range(T):
        for _c in range(d):
            acc = None
            for _j in range(k):
                mul += 1
                if acc is None:
                    acc = 1
                else:
                    add += 1
            for _s in range(shared):
                add += 1
    cost = ExpertCombine(k, shared).cost((T, d))
    assert (cost.ops.get("mul", 0), cost.ops.get("add", 0)) == (mul, add)


# -- the container ---------------------------------------------------------------------------------
@pytest.mark.parametrize("E, k, shared, T, batch", [(8, 2, 0, 5, 1), (8, 2, 0, 1, 3),
                                                     (64, 6, 2, 4, 2), (4, 4, 0, 3, 1)])
def test_moe_counts_from_its_parts(E, k, shared, T, batch):
    d, inner = 16, 24
    expert = swiglu(d, inner)
    r = analyze(MoE(expert, E, k, shared_experts=shared), (T, d), batch=batch)
    one = analyze(expert, (T, d), batch=batch).total
    router = Linear(d, E, bias=False).cost((T, d)) * batch
    assert r.total.params == router.params + (E + shared) * one.params
    assert r.total.macs == router.macs + (k + shared) * one.macs
    experts = [row for row in r.rows if row.path.startswith("experts.0.w")]
    assert {row.cost.weight_reads for row in experts} == {
        d * inner * min(E, T * batch * k)}
    assert active_params(r) == router.params + (k + shared) * one.params
    assert r.output_shape == (T, d)


def test_moe_paths_read_like_mixtral():
    r = analyze(MoE(swiglu(8, 16), 8, 2, Linear(8, 8, bias=False)), (4, 8))
    assert [row.path for row in r.rows] == [
        "gate", "routing", "experts.0.w1", "experts.0.act_fn", "experts.0.w3",
        "experts.0.mul", "experts.0.w2", "combine"]
    assert [row.kind for row in r.rows][2:4] == ["Linear", "SiLU"]
    assert r.rows[2].layer.in_features == 8  # the wrapped layer's attributes
    assert any("stands for 8 experts" in n for n in r.total.notes)


def test_capacity_factor_pads_every_expert():
    """Capacity C = ceil(cf * tokens * k / E) slots per expert, all computed."""
    E, k, d, T, B = 8, 2, 16, 5, 3
    lin = Linear(d, d, bias=False)
    for cf in (1, 1.25, 2):
        r = analyze(MoE(lin, E, k, capacity_factor=cf), (T, d), batch=B)
        C = math.ceil(sp.Rational(repr(cf)) * T * B * k / E)
        row = r.rows[2]
        assert row.cost.macs == E * C * d * d
        assert row.cost.weight_reads == E * d * d
        assert row.cost.macs >= T * B * k * d * d  # never below the routed work for cf >= 1


def test_moe_symbolic_tokens_and_batch():
    T, B = symbols("T B")
    moe = MoE(swiglu(16, 24), 8, 2)
    r = analyze(moe, (T, 16), batch=B)
    for t, b in ((1, 1), (3, 1), (5, 4)):
        num = analyze(moe, (t, 16), batch=b).total
        assert sp.sympify(r.total.macs).subs({T: t, B: b}) == num.macs
        assert sp.sympify(r.total.weight_reads).subs({T: t, B: b}) == num.weight_reads
    assert active_params(r) == active_params(analyze(moe, (3, 16)))


def test_dense_model_active_params_equal_total():
    r = analyze(zoo.llama("llama-2-7b"), (8,))
    assert active_params(r) == r.total.params == 6_738_415_616


def test_mixtral_8x7b_totals_exact():
    r = analyze(zoo.mixtral("mixtral-8x7b"), (16,))
    assert r.total.params == golden("mixtral-8x7b", "params")["value"] == 46_702_792_704
    assert active_params(r) == golden("mixtral-8x7b", "active_params")["value"] \
        == 12_879_925_248
    # per token: 2 of 8 experts, so active = total - 6/8 of the routed experts
    routed = 32 * 8 * 3 * 4096 * 14336
    assert r.total.params - active_params(r) == routed * 6 // 8
    assert zoo.MODELS["mixtral_8x7b"]().children()[0][0] == "model"


def test_mixtral_8x22b_and_qwen_moe():
    assert analyze(zoo.mixtral_8x22b(), (8,)).total.params == golden(
        "mixtral-8x22b", "params")["value"]
    r = analyze(zoo.qwen1_5_moe_a2_7b(), (8,))
    assert r.total.params == golden("qwen1.5-moe-a2.7b", "params")["value"]
    row = golden("qwen1.5-moe-a2.7b", "active_params")
    assert abs(active_params(r) / row["value"] - 1) <= row["rel_tol"]
    paths = [x.path for x in r.rows][:40]
    assert "model.layers.0.mlp.shared_expert.gate_proj" in paths
    assert "model.layers.0.mlp.shared_expert_gate" in paths
    assert "model.layers.0.mlp.experts.0.down_proj" in paths


def test_mixtral_macs_per_token():
    """Decode-free check: per token, MACs = attention projections + router + 2 experts +
    lm_head, plus the causal attention scores."""
    T = symbols("T")
    r = analyze(zoo.mixtral("mixtral-8x7b"), (T,))
    d, I, L, V = 4096, 14336, 32, 32000
    proj = 2 * d * d + 2 * d * 1024
    per_token = L * (proj + d * 8 + 2 * 3 * d * I) + d * V
    attention = L * 2 * 32 * 128 * T * (T + 1) / 2
    assert sp.expand(r.total.macs - (per_token * T + attention)) == 0


@pytest.mark.parametrize("make, message", [
    (lambda: MoE(Linear(4, 4), 2, 3), "MoE: top_k (=3) must be at most num_experts (=2)."),
    (lambda: MoE(Linear(4, 4), 2, 1, router="gate"),
     "MoE: router (='gate') must be a layer (default: Linear(d, num_experts, bias=False))."),
    (lambda: MoE(Linear(4, 4), 2, 1, capacity_factor=0),
     "MoE: capacity_factor (=0) must be positive."),
    (lambda: MoE(Linear(4, 4), 2, 1, capacity_factor="1"),
     "MoE: capacity_factor (='1') must be a positive number."),
    (lambda: MoE("expert", 2, 1), "MoE: expert (='expert') must be a layer or a container."),
    (lambda: TopKRouting(4, 5), "TopKRouting: top_k (=5) must be at most num_experts (=4)."),
    (lambda: zoo.mixtral(num_experts=4),
     "mixtral: unknown configuration field 'num_experts'; known: "),
])
def test_errors(make, message):
    with pytest.raises(LayerSpecError) as e:
        make()
    assert str(e.value).startswith(message)


def test_unknown_presets_and_shapes():
    with pytest.raises(UnknownNameError) as e:
        zoo.mixtral("mixtral-8x8b")
    assert str(e.value).startswith("unknown Mixtral preset 'mixtral-8x8b'; did you mean")
    with pytest.raises(lc.ShapeError) as e:
        analyze(MoE(Linear(4, 4), 2, 1, router=Linear(4, 3)), (5, 4))
    assert "routing (TopKRouting): expected 2 logits per token" in str(e.value)
    with pytest.raises(LayerSpecError, match="num_hidden_layers"):
        zoo.mixtral(num_hidden_layers=symbols("n"))
