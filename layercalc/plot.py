"""Roofline plots (the optional ``plot`` extra: ``pip install 'layercalc[plot]'``).

matplotlib is imported inside `plot_roofline`, never at import time, so layercalc works
without it; calling `plot_roofline` without it raises `MissingDependencyError`.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .errors import LayerCalcError
from .roofline import Roofline, roofline

__all__ = ["plot_roofline", "MissingDependencyError"]


class MissingDependencyError(LayerCalcError, ImportError):
    """An optional dependency (an extra) is not installed."""


def _float(v: Any, what: str) -> float:
    if isinstance(v, sp.Basic) and not v.is_number:
        raise LayerCalcError(f"plot_roofline: {what} (={v}) is symbolic; substitute numbers "
                             "first (report.subs(...)) or use numeric hardware")
    return float(v)


def plot_roofline(x: Any, hardware: Any = None, dtype: str = "fp16", *, ax: Any = None,
                  label_top: int = 0, **roofline_kwargs: Any) -> Any:
    """Draw the roofline of seed 000 (Williams et al.): attainable FLOP/s ``min(pi, beta*I)``
    against intensity ``I`` (FLOP/byte) on log-log axes, the ridge ``pi / beta`` as a dashed
    vertical line, every layer with bytes as a point at ``(I, FLOPs / time)`` (on the roof
    when ``efficiency == 1``), and the network total as a star. Returns the matplotlib Axes.

    `x` is a `layercalc.roofline.Roofline`, or a `Report`/`Cost` placed on `hardware` in
    `dtype` with `roofline` (`roofline_kwargs`: convention, memory_model, efficiency, ...).
    ``label_top=N`` writes the paths of the N slowest layers next to their points. Layers
    with no FLOPs under the convention (BatchNorm, ReLU under ``2*macs``) or no bytes (views)
    have no place on log axes and are not drawn. Needs numbers: a symbolic
    report or hardware raises `LayerCalcError`. Without matplotlib:
    `MissingDependencyError` (a `LayerCalcError` and an `ImportError`).
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
        _, ax = plt.subplots()
    xs = [i for _, i, _ in pts if i > 0]
    if total.intensity is not None:
        xs.append(_float(total.intensity, "the total intensity"))
    lo = min([ridge / 100, *xs]) / 2
    hi = max([ridge * 100, *xs]) * 2
    grid = [lo, ridge, hi]
    ax.loglog(grid, [min(pi, beta * g) for g in grid], color="black", lw=2,
              label=f"roof: {r.hardware.name} {r.dtype}")
    ax.axvline(ridge, color="gray", ls="--", lw=1, label=f"ridge {ridge:.3g} FLOP/byte")
    perf = [(p, i, (_float(p.flops, p.name) / t) if t else pi) for p, i, t in pts if i > 0]
    if perf:
        ax.scatter([i for _, i, _ in perf], [v for _, _, v in perf], s=18, alpha=0.7,
                   label="layers")
    if label_top:
        slow = sorted(pts, key=lambda q: q[2], reverse=True)[:label_top]
        for p, i, t in slow:
            if i > 0 and t:
                ax.annotate(p.name, (i, _float(p.flops, p.name) / t), fontsize=7,
                            xytext=(3, 3), textcoords="offset points")
    if total.intensity is not None and _float(total.time, "the total time"):
        ti = _float(total.intensity, "the total intensity")
        ax.scatter([ti], [_float(total.flops, "total") / _float(total.time, "the total time")],
                   marker="*", s=120, color="red", label="total", zorder=3)
    ax.set_xlabel("arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("attainable performance (FLOP/s)")
    ax.set_title(f"{r.convention.name} FLOPs, {r.memory_model} memory")
    ax.legend(fontsize=8)
    return ax
