"""Roofline plots (the optional ``plot`` extra: ``pip install 'layercalc[plot]'``).

matplotlib is imported inside `plot_roofline`, never at import time, so layercalc works
without it; calling `plot_roofline` without it raises `MissingDependencyError`.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from . import format as fmt
from .errors import LayerCalcError, MissingDependencyError
from .roofline import Roofline, roofline

__all__ = ["plot_roofline", "MissingDependencyError", "FONT_SIZE", "DPI"]

#: Smallest font (points) of anything `plot_roofline` writes: readable at notebook size.
FONT_SIZE = 9
#: Resolution of a figure `plot_roofline` creates.
DPI = 100
_SIZE = (7.0, 4.5)  # inches
# label offsets (points) tried in turn until a label overlaps no other
_OFFSETS = [(6, 4), (6, -12), (-6, 4), (-6, -12), (6, 16), (6, -24), (-6, 16), (-6, -24),
            (6, 28), (6, -36), (-6, 28), (-6, -36)]


def _float(v: Any, what: str) -> float:
    if isinstance(v, sp.Basic) and not v.is_number:
        raise LayerCalcError(f"plot_roofline: {what} (={v}) is symbolic; substitute numbers "
                             "first (report.subs(...)) or use numeric hardware")
    return float(v)


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]
              ) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def plot_roofline(x: Any, hardware: Any = None, dtype: str = "fp16", *, ax: Any = None,
                  label_top: int = 5, **roofline_kwargs: Any) -> Any:
    """Draw the roofline of seed 000 (B-神经网络模型复杂度分析, after Williams et al.):
    attainable FLOP/s ``min(pi, beta*I)`` against intensity ``I`` (FLOP/byte) on log-log axes,
    the ridge ``pi / beta`` as a dashed vertical line, every layer with bytes as a point at
    ``(I, FLOPs / time)`` (on the roof when ``efficiency == 1``) coloured by layer kind, and
    the network total as a star. Returns the matplotlib Axes.

    `x` is a `layercalc.roofline.Roofline`, or a `Report`/`Cost` placed on `hardware` in
    `dtype` with `roofline` (`roofline_kwargs`: convention, memory_model, efficiency, ...).
    The title names the model, the hardware, the dtype, the peak, the bandwidth and the ridge;
    the legend the FLOPs convention, the memory model and the layer kinds.
    ``label_top=N`` (default 5) writes the paths of the N slowest layers next to their
    points, each moved to the first of a few offsets where it overlaps no earlier label
    (a label that fits nowhere is left out). Text is at least `FONT_SIZE` points and a new
    figure has `DPI` dots per inch. Layers with no FLOPs under the convention or no bytes
    (views) have no place on log axes and are not drawn. Needs numbers: a symbolic report or
    hardware raises `LayerCalcError`. Without matplotlib: `MissingDependencyError` (a
    `LayerCalcError` and an `ImportError`).
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingDependencyError(
            "plot_roofline needs matplotlib: pip install 'layercalc[plot]'") from None
    if isinstance(x, Roofline):
        r = x
    else:
        if hardware is None:
            raise LayerCalcError("plot_roofline: give hardware= to place a report on a roofline")
        r = roofline(x, hardware, dtype, **roofline_kwargs)
    pi = _float(r.peak, "the peak")
    beta = _float(r.bandwidth, "the bandwidth")
    ridge = pi / beta
    pts = [(p, _float(p.intensity, f"{p.name} intensity"), _float(p.time, f"{p.name} time"))
           for p in r.points if p.intensity is not None]
    total = r.total
    if ax is None:
        _, ax = plt.subplots(figsize=_SIZE, dpi=DPI)
    xs = [i for _, i, _ in pts if i > 0]
    if total.intensity is not None:
        xs.append(_float(total.intensity, "the total intensity"))
    lo = min([ridge / 100, *xs]) / 2
    hi = max([ridge * 100, *xs]) * 2
    grid = [lo, ridge, hi]
    ax.loglog(grid, [min(pi, beta * g) for g in grid], color="black", lw=2)  # the roof
    ax.axvline(ridge, color="gray", ls="--", lw=1)  # the ridge
    perf = [(p, i, (_float(p.flops, p.name) / t) if t else pi) for p, i, t in pts if i > 0]
    kinds = list(dict.fromkeys(p.kind or "layer" for p, _, _ in perf))
    cmap = plt.get_cmap("tab10" if len(kinds) <= 10 else "tab20")
    for n, kind in enumerate(kinds):
        mine = [(i, v) for p, i, v in perf if (p.kind or "layer") == kind]
        ax.scatter([i for i, _ in mine], [v for _, v in mine], s=22, alpha=0.8,
                   color=cmap(n % cmap.N), label=kind, zorder=2)
    if total.intensity is not None and _float(total.time, "the total time"):
        ti = _float(total.intensity, "the total intensity")
        ax.scatter([ti], [_float(total.flops, "total") / _float(total.time, "the total time")],
                   marker="*", s=160, color="red", edgecolor="black", linewidth=0.5,
                   label="total", zorder=3)
    ys = [v for _, _, v in perf] + [pi]
    ax.set_xlim(lo, hi)
    ax.set_ylim(min(ys) / 3, pi * 3)
    if label_top:
        _label(ax, sorted(perf, key=lambda q: _float(q[0].time, q[0].name), reverse=True),
               label_top)
    ax.set_xlabel("arithmetic intensity (FLOP/byte)", fontsize=FONT_SIZE + 1)
    ax.set_ylabel("attainable performance (FLOP/s)", fontsize=FONT_SIZE + 1)
    ax.tick_params(labelsize=FONT_SIZE)
    name = r.name or "model"
    batch = "" if r.batch == 1 else f", batch {r.batch}"
    ax.set_title(f"{name} on {r.hardware.name}, {r.dtype}{batch}\n"
                 f"peak {fmt.rate(pi)}, {fmt.rate(beta, 'B/s')}, ridge {fmt.count(ridge)} "
                 "FLOP/byte", fontsize=FONT_SIZE + 1)
    ax.legend(fontsize=FONT_SIZE, title=f"FLOPs: {r.convention.name}; {r.memory_model} bytes",
              title_fontsize=FONT_SIZE, loc="lower right", framealpha=0.9, handletextpad=0.3,
              borderpad=0.3, labelspacing=0.25)
    return ax


def _label(ax: Any, ranked: list, n: int) -> None:
    """Write the paths of the first `n` points of `ranked` (slowest first), each at the first
    offset where its box, as the renderer lays it out (estimated from the text length on a
    canvas without a renderer), lies inside the axes and overlaps no earlier label's box."""
    from matplotlib.text import Text

    fig = ax.figure
    get_renderer = getattr(fig.canvas, "get_renderer", None)
    renderer = get_renderer() if get_renderer is not None else None
    scale = fig.dpi / 72  # points -> pixels
    pad = 2 * scale
    frame = ax.get_window_extent(renderer) if renderer is not None else ax.bbox
    boxes: list[tuple[float, float, float, float]] = []
    written = 0
    for p, i, v in ranked[: 3 * n]:  # the slowest 3n points are the candidates
        if written >= n:
            break
        if not p.time:
            continue
        for dx, dy in _OFFSETS:
            ann = ax.annotate(p.name, (i, v), xytext=(dx, dy), textcoords="offset points",
                              fontsize=FONT_SIZE, ha="left" if dx >= 0 else "right",
                              va="bottom", arrowprops={"arrowstyle": "-", "lw": 0.5,
                                                       "color": "gray"})
            if renderer is not None:
                ann.update_positions(renderer)  # place the text at its offset from the point
                e = Text.get_window_extent(ann, renderer)  # the text, not its leader line
                box = (e.x0 - pad, e.y0 - pad, e.x1 + pad, e.y1 + pad)
            else:  # estimate: 0.6 em per character, 1.6 em high
                px, py = ax.transData.transform((i, v))
                w, h = 0.6 * FONT_SIZE * len(p.name) * scale, 1.6 * FONT_SIZE * scale
                x0 = px + dx * scale if dx >= 0 else px + dx * scale - w
                box = (x0 - pad, py + dy * scale - pad, x0 + w + pad, py + dy * scale + h + pad)
            inside = (frame.x0 <= box[0] and box[2] <= frame.x1 and frame.y0 <= box[1]
                      and box[3] <= frame.y1)
            if inside and not any(_overlaps(box, b) for b in boxes):
                boxes.append(box)
                written += 1
                break
            ann.remove()
