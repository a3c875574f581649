"""`Opaque`, the node an importer makes for a module or function it has no mapping for: params
and output shape known, work unknown and listed by name (never a silent zero). Counts against
NumPy arrays of the same shapes, symbols substituted against numbers, every convention and
tool listing the op, multi-output ports in a graph, exact error messages."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import layercalc as lc
from layercalc.conventions import BASE_CONVENTIONS

H, W = lc.symbols("H W")

_shape = st.lists(st.integers(1, 6), min_size=0, max_size=3).map(tuple)


@settings(max_examples=100, deadline=None)
@given(ins=st.lists(_shape, min_size=0, max_size=3),
       outs=st.lists(_shape.filter(bool), min_size=1, max_size=3),
       params=st.integers(0, 50), buffers=st.integers(0, 50))
def test_opaque_counts_match_numpy_arrays(ins, outs, params, buffers):
    out_shape = outs[0] if len(outs) == 1 else tuple(outs)
    layer = lc.Opaque("custom.op", out_shape, params=params, buffers=buffers)
    c = layer.cost(*ins)
    written = sum(np.zeros(s).size for s in outs)
    assert c.writes == written
    assert c.act_reads == sum(np.zeros(s).size for s in ins)
    assert dict(c.ops) == {"opaque:custom.op": written}
    assert (c.params, c.buffers, c.weight_reads) == (params, buffers, params + buffers)
    assert c.macs == c.dots == c.bias_adds == 0
    assert layer.output_shape(*ins) == out_shape
    assert layer.n_outputs == len(outs)
    # every definition counts it 0 and says so
    for name in BASE_CONVENTIONS:
        assert lc.get_convention(name).uncounted(c)["opaque:custom.op"] == written


def test_opaque_worked_example_rfft2():
    # torch.fft.rfft2 of a (3, 8, 8) input: (3, 8, 8 // 2 + 1) = (3, 8, 5) (torch docs)
    c = lc.Opaque("torch.fft.rfft2", (3, 8, 5)).cost((3, 8, 8))
    assert (c.act_reads, c.writes, dict(c.ops)) == (192, 120, {"opaque:torch.fft.rfft2": 120})
    assert "torch.fft.rfft2 ran as an opaque node" in c.notes[0]


@pytest.mark.parametrize("conv", ["exact", "macs", "2*macs", "fvcore", "ptflops",
                                  "flopcountermode", "thop", "torchinfo"])
def test_every_convention_and_tool_lists_the_op(conv):
    model = lc.Sequential(lc.Conv2d(3, 4, 3, padding=1), lc.Opaque("torch.fft.rfft2",
                                                                   (4, 8, 5), params=6))
    r = lc.analyze(model, (3, 8, 8), batch=2)
    assert r.uncounted(conv)["opaque:torch.fft.rfft2"] == 2 * 4 * 8 * 5
    assert any("torch.fft.rfft2" in n for n in r.notes)
    assert r.total.params == 3 * 4 * 9 + 4 + 6
    # the opaque row adds nothing to the count: the same model without it
    base = lc.analyze(lc.Sequential(lc.Conv2d(3, 4, 3, padding=1)), (3, 8, 8), batch=2)
    assert r.flops(conv) == base.flops(conv)


def test_symbolic_out_shape_substitutes_to_numbers():
    sym = lc.Opaque("torch.fft.rfft2", (3, H, sp.floor(W / 2) + 1)).cost((3, H, W))
    num = lc.Opaque("torch.fft.rfft2", (3, 10, 7)).cost((3, 10, 12))
    sub = sym.subs({H: 10, W: 12})
    assert (sub.writes, sub.act_reads, sub.ops["opaque:torch.fft.rfft2"]) == (
        num.writes, num.act_reads, num.ops["opaque:torch.fft.rfft2"])


def test_multi_output_opaque_has_ports_in_a_graph():
    x = lc.Input((4, 6))
    a, b = lc.Opaque("torch.chunk", ((2, 6), (2, 6)))(x, name="split")
    y = lc.Add()(a, b, name="add", call="operator")
    r = lc.analyze(lc.Graph(x, y), (4, 6))
    assert [row.path for row in r.rows] == ["split", "add"]
    assert r.output_shape == (2, 6)
    assert r.rows[1].ports == (0, 1)


@pytest.mark.parametrize("kwargs, message", [
    (dict(op="", out_shape=(3,)), "Opaque: op (='') must be a non-empty string"),
    (dict(op=3, out_shape=(3,)), "Opaque: op (=3) must be a non-empty string"),
    (dict(op="f", out_shape=3), "Opaque: out_shape (=3) must be a tuple of sizes"),
    (dict(op="f", out_shape=(3, 0)), "Opaque: out_shape entry (=0) must be"),
    (dict(op="f", out_shape=(3,), params=-1), "Opaque: params (=-1) must be"),
])
def test_opaque_errors(kwargs, message):
    with pytest.raises(lc.LayerSpecError) as e:
        lc.Opaque(**kwargs)
    assert str(e.value).startswith(message), str(e.value)
