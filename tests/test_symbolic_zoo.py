"""closed_form across the zoo: exact for every input size (odd sizes included), and symbolic
width multipliers that reproduce the numeric models."""

from __future__ import annotations

import functools

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import layercalc as lc

H, W = lc.symbols("H W")
# seed 001's AlexNet flattens into a fixed Linear(9216): defined only where the last feature
# map is 6x6, so it is checked at 224 elsewhere, not at random sizes. Models with a default input
# (language models, ViT's fixed positional embedding) do not take (3, H, W) of any size.
# The 2015 U-Net takes one channel and only tile sizes whose pooled maps are even
# (test_zoo_graph_golden checks its symbolic form); Inception v3 needs 75x75 (torchvision's
# min_size), so smaller draws are raised to it.
MODELS = sorted(set(lc.zoo.MODELS) - {"seed_alexnet", "unet"} - set(lc.zoo.DEFAULT_INPUTS))
MIN_SIZE = {"inception_v3": 75}


@functools.lru_cache(maxsize=None)
def closed_total(name: str) -> lc.Cost:
    return lc.closed_form(lc.analyze(lc.zoo.get_model(name)(), (3, H, W)).total)


@functools.lru_cache(maxsize=None)
def model(name: str):
    return lc.zoo.get_model(name)()


@settings(max_examples=40)
@given(st.sampled_from(MODELS), st.integers(64, 300), st.integers(64, 300))
def test_closed_form_equals_layer_by_layer_count_across_the_zoo(name, h, w):
    h, w = max(h, MIN_SIZE.get(name, 0)), max(w, MIN_SIZE.get(name, 0))
    closed = closed_total(name).subs({H: h, W: w})
    numeric = lc.analyze(model(name), (3, h, w)).total
    for field in ("macs", "dots", "act_reads", "writes", "params"):
        assert sp.sympify(getattr(closed, field)) == getattr(numeric, field), (name, field)
    assert {k: sp.sympify(v) for k, v in closed.ops.items()} == dict(numeric.ops)


def test_resnet50_closed_form_is_a_short_sum_of_ceilings():
    """ResNet-50 MACs for any positive H, W: products of ceil(H/2^k), ceil(W/2^k), plus the fc."""
    macs = closed_total("resnet50").macs
    assert macs == (9408 * sp.ceiling(H / 2) * sp.ceiling(W / 2)
                    + 245760 * sp.ceiling(H / 4) * sp.ceiling(W / 4)
                    + 1310720 * sp.ceiling(H / 8) * sp.ceiling(W / 8)
                    + 7471104 * sp.ceiling(H / 16) * sp.ceiling(W / 16)
                    + 14417920 * sp.ceiling(H / 32) * sp.ceiling(W / 32) + 2048000)
    assert lc.assume_divisible(macs, {H: 32, W: 32}) == sp.Rational(4089184256 - 2048000,
                                                                     224 * 224) * H * W + 2048000


@pytest.mark.parametrize("alpha", [sp.Rational(1, 4), sp.Rational(1, 2), sp.Rational(3, 4), 1])
def test_mobilenet_v1_symbolic_width_multiplier(alpha):
    """Howard et al. 2017 Table 6: width multipliers 1, 0.75, 0.5, 0.25 give 569, 325, 149 and
    41 million mult-adds; the symbolic model equals the numeric one at each alpha."""
    a = sp.Symbol("alpha", positive=True)
    sym = lc.analyze(lc.zoo.mobilenet_v1(a), (3, 224, 224)).total
    num = lc.analyze(lc.zoo.mobilenet_v1(float(alpha)), (3, 224, 224)).total
    assert sym.macs.subs(a, alpha) == num.macs
    paper = {sp.Rational(1, 4): 41, sp.Rational(1, 2): 149, sp.Rational(3, 4): 325, 1: 569}
    assert round(num.macs / 1e6) == paper[alpha]


@pytest.mark.parametrize("alpha", [sp.Rational(1, 2), sp.Rational(3, 4), 1, sp.Rational(7, 5)])
def test_mobilenet_v2_symbolic_width_rounds_to_multiples_of_8(alpha):
    a = sp.Symbol("alpha", positive=True)
    sym = lc.analyze(lc.zoo.mobilenet_v2(width_mult=a), (3, 224, 224)).total
    num = lc.analyze(lc.zoo.mobilenet_v2(width_mult=float(alpha)), (3, 224, 224)).total
    assert (sym.params.subs(a, alpha), sym.macs.subs(a, alpha)) == (num.params, num.macs)


def test_canonical_trace_equals_closed_form_of_raw_trace():
    """analyze's propagated canonical form is what closed_form makes of the raw floors."""
    raw = lc.analyze(lc.zoo.resnet18(), (3, H, W), canonical=False).total
    canon = lc.analyze(lc.zoo.resnet18(), (3, H, W)).total
    assert sp.expand(lc.closed_form(raw.macs) - canon.macs) == 0
    assert raw.macs.has(sp.floor) and not canon.macs.has(sp.floor)
