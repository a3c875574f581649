"""Issue 13 (torch part): `lc.from_torch` against the real modules.

* zoo twins (tests/oracles/torch_models.py, plain PyTorch written from torchvision's sources)
  imported with from_torch give the zoo model's report row by row (path, params, MACs), and the
  same symbolic MACs at (3, H, W). Path mapping: a functional call is named after the module
  that made it plus the function (``layer1.0.add``); mobilenet_v2's ``F.adaptive_avg_pool2d``
  row is ``adaptive_avg_pool2d`` where the zoo calls it ``avgpool`` (the only difference).
* params equal torch's own ``sum(p.numel())``;
* FlopCounterMode on the real module equals ``flops(report, "flopcountermode")`` at three sizes;
* an op nobody counts (torch.fft.rfft2) becomes an Opaque node flagged by name, params exact;
* a Hypothesis property: random conv/linear stacks built in torch and imported equal the same
  stack built in layercalc directly, and torch's parameter count.
"""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from oracle_support import require_torch

torch = require_torch()
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import torch_models as tm  # noqa: E402

import layercalc as lc  # noqa: E402

H, W = lc.symbols("H W")
PATHS = {"mobilenet_v2": {"adaptive_avg_pool2d": "avgpool"}}


def _rows(report, rename=None):
    rename = rename or {}
    return [(rename.get(r.path, r.path), r.cost.params, r.cost.macs) for r in report.rows]


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "vgg11", "mobilenet_v2"])
def test_twin_report_equals_zoo_row_by_row(name):
    m = getattr(tm, name)()
    shape = (3, 64, 64)
    r = lc.analyze(lc.from_torch(m, shape), shape)
    z = lc.analyze(getattr(lc.zoo, name)(), shape)
    assert _rows(r, PATHS.get(name)) == _rows(z)
    assert r.total.params == sum(p.numel() for p in m.parameters())
    assert r.output_shape == z.output_shape


def _working_rows(report):
    return [(r.path, r.kind, r.cost.params, r.cost.macs) for r in report.rows
            if r.cost.params or r.cost.macs]


@pytest.mark.parametrize("name", ["densenet121", "efficientnet_b0"])
def test_twin_with_structural_rows_equal_on_working_rows(name):
    """These zoo models have zero-cost structural rows (``denselayer1.input``, the SE
    block's ``input``) where the twin has a ``cat`` or none: compared on every row with
    params or MACs, row by row, plus totals under three conventions."""
    import twins_cnn as tc

    m = (tc.MODEL_BUILDERS["densenet121"] if name == "densenet121" else tm.efficientnet_b0)()
    shape = (3, 64, 64)
    r = lc.analyze(lc.from_torch(m.eval(), shape), shape)
    z = lc.analyze(getattr(lc.zoo, name)(), shape)
    assert _working_rows(r) == _working_rows(z)
    assert r.total.params == sum(p.numel() for p in m.parameters()) == z.total.params
    for conv in ("macs", "exact", "flopcountermode"):
        assert r.flops(conv) == z.flops(conv), conv


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_twin_symbolic_closed_form_equals_zoo(name):
    r = lc.analyze(lc.from_torch(getattr(tm, name)(), (3, H, W)), (3, H, W))
    z = lc.analyze(getattr(lc.zoo, name)(), (3, H, W))
    assert (r.total.macs - z.total.macs).expand() == 0
    assert r.flops("exact") - z.flops("exact") == 0
    assert r.total.macs.free_symbols == {H, W}


def _fcm(module, x):
    with FlopCounterMode(display=False) as fc:
        module(x)
    return fc.get_total_flops()


@pytest.mark.parametrize("size", [32, 48, 65])
def test_flopcountermode_equals_real_module(size):
    m = tm.resnet18().eval()
    r = lc.analyze(lc.from_torch(m, (3, size, size)), (3, size, size))
    with torch.no_grad():
        assert r.flops("flopcountermode") == _fcm(m, torch.zeros(1, 3, size, size))


class Mix(nn.Module):
    """Functional calls and operators: flatten, transpose, chunk, @, softmax, +, cat, mean,
    view with a batch-relative size."""

    def __init__(self, c=8, d=16):
        super().__init__()
        self.stem = nn.Conv2d(3, c, 3, padding=1)
        self.norm = nn.LayerNorm(c)
        self.qkv = nn.Linear(c, 3 * d)
        self.out = nn.Linear(d, c)
        self.gn = nn.GroupNorm(2, c)

    def forward(self, x):
        x = self.gn(self.stem(x))
        b = x.size(0)
        t = x.flatten(2).transpose(1, 2)  # (B, HW, C)
        q, k, v = self.qkv(self.norm(t)).chunk(3, dim=-1)
        a = (q @ k.transpose(1, 2)).softmax(dim=-1)
        y = self.out(a @ v) + t
        y = torch.cat([y, t], dim=2).mean(dim=1)
        return y.view(b, 4, -1)


@pytest.mark.parametrize("size", [4, 6, 7])
def test_functional_and_operator_model_equals_flopcountermode(size):
    m = Mix().eval()
    r = lc.analyze(lc.from_torch(m, (3, size, size)), (3, size, size))
    with torch.no_grad():
        assert r.flops("flopcountermode") == _fcm(m, torch.zeros(1, 3, size, size))
    assert r.total.params == sum(p.numel() for p in m.parameters())
    assert "Opaque" not in {row.kind for row in r.rows}
    calls = {row.kind: row.call for row in r.rows}
    assert (calls["MatMul"], calls["Add"], calls["Softmax"], calls["Linear"]) == (
        "operator", "operator", "functional", "module")


def test_functional_model_symbolic_substitutes_to_numeric():
    sym = lc.analyze(lc.from_torch(Mix(), (3, H, W)), (3, H, W))
    num = lc.analyze(lc.from_torch(Mix(), (3, 6, 5)), (3, 6, 5))
    for conv in ("exact", "flopcountermode"):
        assert sp.sympify(sym.flops(conv)).subs({H: 6, W: 5}) == num.flops(conv)


class Spectral(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Linear(4 * 8 * 5, 10)

    def forward(self, x):
        y = torch.fft.rfft2(self.conv(x)).abs()
        return self.head(torch.flatten(y, 1))


def test_fft_is_opaque_flagged_by_name_and_params_exact():
    m = Spectral()
    r = lc.analyze(lc.from_torch(m, (3, 8, 8)), (3, 8, 8))
    assert r.total.params == sum(p.numel() for p in m.parameters())
    kinds = [row.kind for row in r.rows]
    assert kinds == ["Conv2d", "Opaque", "Opaque", "Flatten", "Linear"]
    for conv in ("exact", "flopcountermode", "fvcore"):
        assert r.uncounted(conv)["opaque:torch.fft.rfft2"] == 4 * 8 * 5
    assert any("torch.fft.rfft2" in n for n in r.notes)
    assert r.output_shape == (10,)


class SpectralOnly(nn.Module):
    def forward(self, x):
        return torch.fft.rfft2(x).abs()


def test_symbolic_input_with_shape_changing_opaque_is_a_clear_error():
    with pytest.raises(lc.GraphError, match="torch.fft.rfft2.*changes the shape.*register_torch"):
        lc.from_torch(SpectralOnly(), (3, H, W))


def test_symbolic_input_with_shape_preserving_opaque_keeps_the_symbols():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Softplus())  # Softplus: unmapped
    r = lc.analyze(lc.from_torch(net, (3, H, W)), (3, H, W))
    assert r.output_shape == (4, H, W)
    assert r.uncounted("exact")["opaque:torch.nn.modules.activation.Softplus"] == 4 * H * W


class Branchy(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x


def test_control_flow_error_names_module_and_escape_hatch():
    with pytest.raises(lc.GraphError, match="Branchy.*lc.register_torch"):
        lc.from_torch(Branchy(), (3, 4, 4))


def test_register_torch_maps_a_class():
    from layercalc.importers.from_torch import _USER
    lc.register_torch(Branchy, lambda m: lc.Identity())
    try:
        net = nn.Sequential(nn.Conv2d(3, 4, 3), Branchy())
        r = lc.analyze(lc.from_torch(net, (3, 8, 8)), (3, 8, 8))
    finally:
        _USER.pop(Branchy)
    assert [(row.path, row.kind) for row in r.rows] == [("0", "Conv2d"), ("1", "Identity")]


_conv = st.tuples(st.integers(1, 6), st.integers(1, 3), st.integers(1, 2), st.integers(0, 1),
                  st.booleans())


@settings(max_examples=15, deadline=None)
@given(convs=st.lists(_conv, min_size=1, max_size=3), out=st.integers(1, 7),
       bias=st.booleans(), size=st.integers(8, 12))
def test_random_stacks_equal_direct_layercalc(convs, out, bias, size):
    tmods, lmods, c, n = [], [], 3, size
    for co, k, s, p, b in convs:
        n = (n + 2 * p - k) // s + 1
        assume(n >= 1)
        tmods += [nn.Conv2d(c, co, k, stride=s, padding=p, bias=b), nn.ReLU()]
        lmods += [lc.Conv2d(c, co, k, stride=s, padding=p, bias=b), lc.ReLU()]
        c = co
    tnet = nn.Sequential(*tmods, nn.Flatten())
    lmods.append(lc.Flatten())
    feat = tnet(torch.zeros(1, 3, size, size)).shape[1]
    tnet.append(nn.Linear(feat, out, bias=bias))
    lmods.append(lc.Linear(feat, out, bias=bias))
    r = lc.analyze(lc.from_torch(tnet, (3, size, size)), (3, size, size))
    d = lc.analyze(lc.Sequential(*lmods), (3, size, size))
    assert [(x.cost.params, x.cost.macs, x.output_shape) for x in r.rows] == \
        [(x.cost.params, x.cost.macs, x.output_shape) for x in d.rows]
    assert r.total.params == sum(p.numel() for p in tnet.parameters())


def test_docs_page_examples_run():
    import doctest
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "import-torch.md"
    result = doctest.testfile(str(page), module_relative=False, report=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, result
