"""plot_roofline (the optional `plot` extra): the drawing with matplotlib's Agg backend, and
the clear error without matplotlib."""

from __future__ import annotations

import sys

import pytest
import sympy as sp

import layercalc as lc
from layercalc.plot import MissingDependencyError, plot_roofline


def test_without_matplotlib_raises_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    r = lc.analyze(lc.Linear(64, 64), (64,))
    with pytest.raises(MissingDependencyError, match=r"pip install 'layercalc\[plot\]'") as e:
        plot_roofline(r, "t4")
    assert isinstance(e.value, lc.LayerCalcError) and isinstance(e.value, ImportError)


@pytest.fixture
def plt():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_roof_ridge_and_points(plt):
    report = lc.analyze(lc.zoo.seed_alexnet(), (3, 224, 224))
    rl = lc.roofline(report, "t4", "fp16")
    ax = plot_roofline(rl, label_top=2)
    ridge = float(rl.ridge)  # 65e12 / 320e9 = 203.125
    roof = ax.get_lines()[0]
    xs, ys = roof.get_data()
    assert list(ys) == [min(65e12, 320e9 * x) for x in xs] and ridge in list(xs)
    assert ax.get_lines()[1].get_xdata()[0] == ridge  # the dashed ridge line
    layers, total = ax.collections
    drawn = [p for p in rl.points if p.intensity is not None and p.intensity > 0]
    assert len(layers.get_offsets()) == len(drawn) == 8  # 5 convs, 3 linears; no zero-FLOP rows
    for (x, y), p in zip(layers.get_offsets(), drawn):
        assert x == pytest.approx(float(p.intensity))
        assert y == pytest.approx(float(p.attainable))  # efficiency 1: on the roof
    assert total.get_offsets()[0][0] == pytest.approx(float(rl.total.intensity))
    assert len(ax.texts) == 2
    assert ax.get_xscale() == ax.get_yscale() == "log"
    # a report and hardware give the same picture; an existing Axes is reused
    fig, ax2 = plt.subplots()
    assert plot_roofline(report, "t4", "fp16", ax=ax2) is ax2
    assert len(ax2.collections[0].get_offsets()) == 8


def test_symbolic_and_missing_hardware(plt):
    H = lc.symbols("H")
    r = lc.analyze(lc.Conv2d(3, 8, 3), (3, H, H))
    with pytest.raises(lc.LayerCalcError, match="symbolic; substitute numbers"):
        plot_roofline(r, "t4")
    pi, beta = sp.symbols("pi beta", positive=True)
    hw = lc.Hardware("teach", {"fp16": pi}, beta, "symbols")
    with pytest.raises(lc.LayerCalcError, match="the peak"):
        plot_roofline(lc.analyze(lc.Linear(4, 4), (4,)), hw)
    with pytest.raises(lc.LayerCalcError, match="give hardware="):
        plot_roofline(lc.analyze(lc.Linear(4, 4), (4,)))
