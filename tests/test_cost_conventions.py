"""Cost arithmetic and counting conventions."""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import layercalc as lc
from brute import conv_positions, linear_counts
from strategies import conv_cases


def test_costs_add_fieldwise_and_sum_starts_at_zero():
    a = lc.Cost(params=1, macs=2, ops={"cmp": 3}, notes=("x",))
    b = lc.Cost(params=10, macs=20, ops={"cmp": 1, "exp": 4}, notes=("x", "y"))
    total = sum([a, b])
    assert (total.params, total.macs, dict(total.ops)) == (11, 22, {"cmp": 4, "exp": 4})
    assert total.notes == ("x", "y")


def test_zero_ops_are_dropped_so_equality_is_structural():
    assert lc.Cost(ops={"cmp": 0}) == lc.Cost()


def test_tap_reads_default_to_act_reads():
    assert lc.Cost(act_reads=5).tap_reads == 5


def test_batched_with_a_symbol():
    B = lc.symbols("B")
    c = lc.Linear(8, 4).cost((8,)) * B
    assert c.macs == 32 * B and c.params == 36 and c.weight_reads == 36


@given(st.integers(1, 6), st.integers(1, 6), st.booleans(), st.integers(1, 4))
def test_linear_matches_brute_force(fin, fout, bias, lead):
    """Linear on (lead, fin): MACs, adds and bias adds equal a naive loop; exact FLOPs are
    (2I - 1)*O without bias and 2I*O with it per position (seed 000)."""
    cost = lc.Linear(fin, fout, bias).cost((lead, fin))
    c = linear_counts(fin, fout, bias, lead)
    assert (cost.macs, cost.macs - cost.dots, cost.bias_adds) == (c.mults, c.adds, c.bias_adds)
    expected = (2 * fin if bias else 2 * fin - 1) * fout * lead
    assert lc.flops(cost, "exact") == expected


def test_seed000_fc_flops_symbolic():
    """Seed 000/003: fully connected FLOPs (2I - 1)*O without bias, 2I*O with bias."""
    I, O = lc.symbols("T_i T_o")  # seed 000's names ("I" would print as the imaginary unit)
    assert sp.expand(lc.flops(lc.Linear(I, O, bias=False).cost((I,))) - (2 * I - 1) * O) == 0
    assert sp.expand(lc.flops(lc.Linear(I, O).cost((I,))) - 2 * I * O) == 0
    assert lc.Linear(I, O).cost((I,)).params == I * O + O  # seed 000: T_i*T_o + T_o


def test_seed001_fc_flops_formula_is_macs_plus_bias_parameters():
    """Seed 001 writes FC FLOPs as F*C_in*C_out + C_out: that is MACs plus one add per bias
    *parameter*, not per output; the per-output count F*C_out is what a bias costs."""
    F, Ci, Co = lc.symbols("F C_in C_out")
    cost = lc.Linear(Ci, Co).cost((F, Ci))
    assert sp.expand(cost.macs + Co - (F * Ci * Co + Co)) == 0
    assert sp.expand(cost.bias_adds - F * Co) == 0


@given(conv_cases(ndim=2))
def test_conventions_are_ordered(case):
    """MACS <= 2*MACS and exact-no-bias <= exact for every Conv2d (STYLE B.4 invariant)."""
    layer, x = case
    cost = layer.cost(x)
    assert lc.flops(cost, "macs") <= lc.flops(cost, "2*macs")
    assert lc.flops(cost, "exact-no-bias") <= lc.flops(cost, "exact")
    assert lc.flops(cost, "2*macs") == 2 * lc.flops(cost, "macs")


def test_custom_convention_weights_op_kinds():
    """A user convention: fvcore-like (1 per MAC) that also counts compares twice."""
    mine = lc.Convention("mine", mac=1, dot=0, bias=0, ops={"cmp": 2})
    cost = lc.Cost(macs=10, dots=2, bias_adds=2, ops={"cmp": 3, "exp": 1})
    assert lc.flops(cost, mine) == 16
    assert mine.uncounted(cost) == {"bias_adds": 2, "exp": 1}


def test_uncounted_names_what_macs_convention_ignores():
    cost = lc.Cost(macs=4, dots=1, bias_adds=1, ops={"cmp": 7})
    assert lc.get_convention("macs").uncounted(cost) == {"bias_adds": 1, "cmp": 7}
    assert lc.get_convention("exact").uncounted(cost) == {}


def test_conventions_registry_is_read_only():
    with pytest.raises(TypeError):
        lc.CONVENTIONS["mine"] = lc.Convention("mine")  # type: ignore[index]


def test_flops_rejects_other_objects():
    with pytest.raises(TypeError, match="flops\\(\\) takes a Cost or a Report, not int"):
        lc.flops(3)


@given(st.integers(1, 30), st.integers(1, 5), st.integers(1, 4), st.integers(0, 3),
       st.integers(1, 3))
def test_conv_out_equals_window_enumeration(n, k, s, p, d):
    """floor((n + 2p - d(k-1) - 1)/s) + 1 equals counting window positions one by one."""
    from layercalc.shapes import conv_out

    expected = len(conv_positions(n, k, s, p, d))
    assert max(conv_out(n, k, s, p, d), 0) == expected


def test_symbols_are_positive_integers():
    H, W = lc.symbols("H W")
    assert H.is_integer and H.is_positive and W.is_positive
    assert lc.symbols("H") == H
