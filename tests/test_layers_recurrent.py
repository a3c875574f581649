"""RNN / LSTM / GRU: PyTorch parameter formulas, brute-force counts, symbolic T, errors."""

from __future__ import annotations

from collections import Counter

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from layercalc.errors import LayerSpecError, ShapeError
from layercalc.layers.recurrent import GRU, LSTM, RNN

GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


# -- golden: PyTorch's parameter shapes --------------------------------------------------------
def pytorch_params(kind, I, h, num_layers=1, bias=True, bidirectional=False, proj_size=0):
    """Sum of the parameter shapes listed in the PyTorch docs ('Variables' / 'Attributes' of
    torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU; tests/golden/values.toml [[layer_formula]]):
    weight_ih_l[k] (G*h, I) for k = 0 else (G*h, D*H_out); weight_hh_l[k] (G*h, H_out);
    bias_ih_l[k], bias_hh_l[k] (G*h); weight_hr_l[k] (proj_size, h); '_reverse' copies."""
    g, d = GATES[kind], 2 if bidirectional else 1
    h_out = proj_size or h
    total = 0
    for k in range(num_layers):
        for _ in range(d):
            i = I if k == 0 else d * h_out
            total += g * h * i + g * h * h_out
            if bias:
                total += 2 * g * h
            if proj_size:
                total += proj_size * h
    return total


@pytest.mark.parametrize("layer, expected", [
    (RNN(10, 20), 640),  # H*I + H*H + 2H
    (LSTM(10, 20), 2560),  # 4H*I + 4H*H + 8H
    (LSTM(10, 20, 2), 5920),  # the torch.nn.LSTM docs example nn.LSTM(10, 20, 2)
    (GRU(10, 20), 1920),  # 3H*I + 3H*H + 6H
    (LSTM(10, 20, 2, bidirectional=True), 15040),
    (LSTM(10, 20, proj_size=5), 1460),
    (GRU(10, 20, 3, bias=False, bidirectional=True), 2 * (1800 + 2 * 3600)),
])
def test_params_golden(layer, expected):
    assert layer.cost((3, 10)).params == expected


@given(kind=st.sampled_from(["RNN", "LSTM", "GRU"]), I=st.integers(1, 9), h=st.integers(2, 9),
       n=st.integers(1, 3), bias=st.booleans(), bi=st.booleans(), p=st.integers(0, 8))
def test_params_match_pytorch_formula(kind, I, h, n, bias, bi, p):
    p = p % h if kind == "LSTM" else 0
    cls = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}[kind]
    kw = {"proj_size": p} if kind == "LSTM" else {}
    layer = cls(I, h, n, bias=bias, bidirectional=bi, **kw)
    c = layer.cost((2, I))
    assert c.params == pytorch_params(kind, I, h, n, bias, bi, p)
    assert c.weight_reads == c.params
    assert layer.output_shape((2, I)) == (2, (2 if bi else 1) * (p or h))


# -- brute force ---------------------------------------------------------------------------------
def brute(layer, T):
    """Walk every time step, layer, direction, gate, hidden unit and input, counting each
    multiply and add of the cell equations one at a time."""
    kind, h = layer.kind, layer.hidden_size
    p = getattr(layer, "proj_size", 0)
    h_out = p or h
    d = 2 if layer.bidirectional else 1
    c = Counter()

    def dot(n):  # one dot product of n terms
        c["mults"] += n
        c["adds"] += n - 1
        c["dots"] += 1
        if layer.bias:
            c["bias_adds"] += 1

    def sigmoid():
        c["exp"] += 1
        c["add"] += 1
        c["div"] += 1

    for _t in range(T):
        for k in range(layer.num_layers):
            i = layer.input_size if k == 0 else d * h_out
            for _dir in range(d):
                for g in range(GATES[kind]):
                    for _u in range(h):
                        dot(i)  # W_ih x + b_ih
                        dot(h_out)  # W_hh h + b_hh (h0 = 0 still computed)
                        if kind == "GRU" and g == 2:
                            c["mul"] += 1  # r * (W_hn h + b_hn)
                        c["add"] += 1  # gi + gh
                        if kind == "RNN":
                            c["tanh" if layer.nonlinearity == "tanh" else "cmp"] += 1
                        elif kind == "LSTM":
                            if g == 2:
                                c["tanh"] += 1  # g
                            else:
                                sigmoid()  # i, f, o
                        else:
                            if g == 2:
                                c["tanh"] += 1  # n
                            else:
                                sigmoid()  # r, z
                for _u in range(h):
                    if kind == "LSTM":
                        c["mul"] += 2  # f*c, i*g
                        c["add"] += 1  # +
                        c["tanh"] += 1  # tanh(c)
                        c["mul"] += 1  # o * tanh(c)
                    elif kind == "GRU":
                        c["add"] += 1  # h - n
                        c["mul"] += 1  # * z
                        c["add"] += 1  # + n
                if p:
                    for _q in range(p):
                        c["mults"] += h  # W_hr h_t, no bias
                        c["adds"] += h - 1
                        c["dots"] += 1
    return c


@settings(max_examples=40)
@given(kind=st.sampled_from(["RNN", "RNN-relu", "LSTM", "GRU"]), I=st.integers(1, 5),
       h=st.integers(2, 5), n=st.integers(1, 3), T=st.integers(1, 4), bias=st.booleans(),
       bi=st.booleans(), p=st.integers(0, 4))
def test_counts_match_brute_force(kind, I, h, n, T, bias, bi, p):
    if kind == "LSTM":
        layer = LSTM(I, h, n, bias=bias, bidirectional=bi, proj_size=p % h)
    elif kind == "GRU":
        layer = GRU(I, h, n, bias=bias, bidirectional=bi)
    else:
        nl = "relu" if kind == "RNN-relu" else "tanh"
        layer = RNN(I, h, n, nonlinearity=nl, bias=bias, bidirectional=bi)
    cost = layer.cost((T, I))
    b = brute(layer, T)
    assert cost.macs == b["mults"]
    assert cost.macs - cost.dots == b["adds"]
    assert cost.dots == b["dots"]
    assert cost.bias_adds == b["bias_adds"]
    ops = {k: v for k, v in b.items() if k in ("add", "mul", "div", "cmp", "exp", "tanh") and v}
    assert dict(cost.ops) == ops


# -- seed 001 ---------------------------------------------------------------------------------
def test_seed001_textbook_params():
    C_in, h = sp.symbols("C_in h", positive=True, integer=True)
    assert sp.expand(LSTM.textbook_params(C_in, h) - (C_in * 4 * h + h * h * 4)) == 0
    assert LSTM.textbook_params(32, 64) == 32 * 4 * 64 + 64 * 64 * 4
    # PyTorch adds two bias vectors (8h) on top of the textbook count
    assert LSTM(32, 64).cost((1, 32)).params == LSTM.textbook_params(32, 64) + 8 * 64


def test_seed001_step_macs_has_one_extra_hh_term():
    """Seed 001 gives per-step LSTM MACs ``C_in*h*4 + h*h*4 + h*h``. The LSTM equations
    have only W_ih x (4h*C_in) and W_hh h (4h*h); the extra h*h is what a projection of size
    h would add (h*proj_size), which PyTorch forbids (proj_size < hidden_size)."""
    C_in, h = sp.symbols("C_in h", positive=True, integer=True)
    seed = C_in * h * 4 + h * h * 4 + h * h
    ours = LSTM(C_in, h).cost((1, C_in)).macs
    assert sp.expand(seed - ours) == h * h
    # with a projection of size p the extra term is h*p; seed 001's form is p -> h
    p = sp.Symbol("p", positive=True, integer=True)
    proj = LSTM(C_in, h + p, proj_size=h).cost((1, C_in)).macs  # hidden H = h + p > proj = h
    H = h + p
    assert sp.expand(proj - (C_in * H * 4 + H * h * 4 + H * h)) == 0
    for ci, hh in [(32, 64), (1, 2), (300, 512)]:
        assert LSTM(ci, hh).cost((1, ci)).macs + hh * hh == ci * hh * 4 + hh * hh * 4 + hh * hh


# -- symbolic T -------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", [LSTM(6, 4, 2, bidirectional=True, proj_size=3),
                                   GRU(6, 5), RNN(6, 3, 3, nonlinearity="relu")])
def test_symbolic_T_matches_numeric(layer):
    T = sp.Symbol("T", positive=True, integer=True)
    sym = layer.cost((T, 6))
    assert layer.output_shape((T, 6))[0] == T
    for t in (1, 7):
        num = layer.cost((t, 6))
        assert sym.subs(T, t).counts() == num.counts()


def test_symbolic_sizes():
    I, h = sp.symbols("I h", positive=True, integer=True)
    c = LSTM(I, h).cost((5, I))
    assert sp.expand(c.params - (4 * h * I + 4 * h * h + 8 * h)) == 0
    assert sp.expand(c.macs - 5 * 4 * h * (I + h)) == 0


# -- errors ---------------------------------------------------------------------------------
def test_errors():
    with pytest.raises(LayerSpecError) as e:
        LSTM(10, 5, proj_size=5)
    assert str(e.value) == "LSTM: proj_size (=5) must be smaller than hidden_size (=5)."
    with pytest.raises(LayerSpecError) as e:
        RNN(10, 20, nonlinearity="sigmoid")
    assert str(e.value) == "RNN: nonlinearity (='sigmoid') must be one of 'tanh', 'relu'."
    with pytest.raises(ShapeError) as e:
        LSTM(10, 20).cost((5, 11))
    assert str(e.value) == "LSTM: expected 10 input features, got input shape (5, 11)."
    with pytest.raises(ShapeError) as e:
        GRU(10, 20).cost((10,))
    assert str(e.value) == ("GRU: expected an input of rank 2 (T, input_size) (batch "
                            "excluded), got (10,).")
    with pytest.raises(LayerSpecError) as e:
        GRU(10, 20, dropout=1.5)
    assert str(e.value) == "GRU: dropout (=1.5) must be a probability in [0, 1]."
