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
    report = lc.analyze(lc.zoo.seed_alexnet(), (3, 224, 224), name="seed_alexnet")
    rl = lc.roofline(report, "t4", "fp16", "2*macs")
    ax = plot_roofline(rl, label_top=2)
    ridge = float(rl.ridge)  # 65e12 / 320e9 = 203.125
    roof = ax.get_lines()[0]
    xs, ys = roof.get_data()
    assert list(ys) == [min(65e12, 320e9 * x) for x in xs] and ridge in list(xs)
    assert ax.get_lines()[1].get_xdata()[0] == ridge  # the dashed ridge line
    *layers, total = ax.collections
    drawn = [p for p in rl.points if p.intensity is not None and p.intensity > 0]
    assert len(drawn) == 8  # 5 convs, 3 linears; under 2*macs the other rows have no FLOPs
    # one scatter per layer kind, labelled with it, in first-seen order
    assert [c.get_label() for c in layers] == ["Conv2d", "Linear"]
    offsets = {c.get_label(): [tuple(o) for o in c.get_offsets()] for c in layers}
    for kind in ("Conv2d", "Linear"):
        mine = [p for p in drawn if p.kind == kind]
        assert len(offsets[kind]) == len(mine)
        for (x, y), p in zip(offsets[kind], mine):
            assert x == pytest.approx(float(p.intensity))
            assert y == pytest.approx(float(p.attainable))  # efficiency 1: on the roof
    assert total.get_offsets()[0][0] == pytest.approx(float(rl.total.intensity))
    assert len(ax.texts) == 2
    assert ax.get_xscale() == ax.get_yscale() == "log"
    # a report and hardware give the same picture; an existing Axes is reused
    fig, ax2 = plt.subplots()
    assert plot_roofline(report, "t4", "fp16", convention="2*macs", ax=ax2) is ax2
    assert sum(len(c.get_offsets()) for c in ax2.collections[:-1]) == 8


def test_title_legend_and_readable_sizes(plt):
    """Titled by model, hardware and dtype; a legend entry per layer kind; a new figure at
    100 dpi or more; no text under 9 points."""
    report = lc.analyze(lc.zoo.resnet18(), (3, 224, 224), name="resnet18")
    ax = plot_roofline(report, "a100-sxm4-80gb", "fp16")
    title = ax.get_title()
    assert title == ("resnet18 on a100-sxm4-80gb, fp16\npeak 312 TFLOP/s, 2.04 TB/s, ridge 153 "
                     "FLOP/byte")
    assert ax.get_legend().get_title().get_text() == "FLOPs: exact; compulsory bytes"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    kinds = {r.kind for r in report.rows if r.kind not in ("Flatten",)}  # a view: no bytes
    assert kinds <= set(legend) and "total" in legend
    assert ax.figure.dpi >= 100
    sizes = [t.get_fontsize() for t in [*ax.texts, *ax.get_legend().get_texts(), ax.title,
                                        ax.get_legend().get_title(),
                                        ax.xaxis.label, ax.yaxis.label,
                                        *ax.get_xticklabels(), *ax.get_yticklabels()]]
    assert min(sizes) >= 9


def test_labels_do_not_overlap(plt):
    """The slowest layers are labelled, and no two labels overlap as drawn (the rendered text
    after a full draw)."""
    report = lc.analyze(lc.zoo.resnet50(), (3, 224, 224), name="resnet50")
    rl = lc.roofline(report, "a100-sxm4-80gb", "fp16")
    ax = plot_roofline(rl, label_top=12)
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    from matplotlib.text import Text

    boxes = [Text.get_window_extent(t, renderer) for t in ax.texts]  # the text, not the leader
    frame = ax.get_window_extent(renderer)
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1
               for b in boxes)  # inside the axes
    assert len(boxes) >= 8  # coinciding points (repeated blocks) cannot all be labelled
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), (a, b)
    slowest = sorted((p for p in rl.points if p.intensity), key=lambda p: float(p.time),
                     reverse=True)
    assert ax.texts[0].get_text() == slowest[0].name


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
