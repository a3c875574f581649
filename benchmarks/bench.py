"""Speed figures for layercalc (issue 17), each printed beside its goal and as a ratio against a
baseline measured in the same run. Prints figures; asserts nothing (tests never assert
timings). Every figure is the median of several runs, printed with its spread (min..max).

    python benchmarks/bench.py              # the goal table and the other figures
    python benchmarks/bench.py --compare    # also FlopCounterMode, ptflops, fvcore (if installed)
    python benchmarks/bench.py --json       # the same figures as one JSON document on stdout

The baselines: a plain integer loop over ResNet-50's convolutions (`plain_int_resnet50_macs`)
and over the same 10,000 layers (`plain_int_deep`), `import sympy` in a fresh process, and the
same symbolic analyses with layercalc's memo cleared before each call ("cold").
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import sympy as sp

import layercalc as lc
from layercalc import network

#: forgets memoised layer results (a no-op on versions before the memo, for before/after runs)
clear_memo = getattr(network, "clear_memo", lambda: None)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(fn, repeat: int = 20, warmup: int = 2, setup=None) -> dict:
    """Median and spread (min, max) of `repeat` calls of `fn`, in ms."""
    for _ in range(warmup):
        if setup:
            setup()
        fn()
    times = []
    for _ in range(repeat):
        if setup:
            setup()
        t = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t))
    return {"ms": statistics.median(times), "min": min(times), "max": max(times), "n": repeat}


def plain_int_resnet50_macs() -> int:
    """Baseline: the conv/linear MACs of ResNet-50 (v1.5) as a bare integer loop."""
    def conv(c, h, cout, k, s, p):
        o = (h + 2 * p - k) // s + 1
        return c * k * k * cout * o * o, o

    total, h = 0, 224
    m, h = conv(3, h, 64, 7, 2, 3)
    total += m
    h = (h + 2 - 3) // 2 + 1
    cin = 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for b in range(blocks):
            s = stride if b == 0 else 1
            m1, _ = conv(cin, h, width, 1, 1, 0)
            m2, h2 = conv(width, h, width, 3, s, 1)
            m3, _ = conv(width, h2, 4 * width, 1, 1, 0)
            total += m1 + m2 + m3
            if b == 0:
                md, _ = conv(cin, h, 4 * width, 1, s, 0)
                total += md
            cin, h = 4 * width, h2
    return total + 2048 * 1000


def plain_int_deep(n: int) -> int:
    """Baseline: the MACs of `deep_net(n)` as a bare integer loop (conv, then ReLU)."""
    total, c, h = 0, 16, 32
    for i in range(n):
        if i % 2 == 0:
            o = (h + 2 - 3) // 1 + 1
            total += c * 9 * 16 * o * o
            h = o
        else:
            total += 0 * c * h * h
    return total


def deep_net(n: int) -> lc.Sequential:
    return lc.Sequential(*[lc.Conv2d(16, 16, 3, padding=1) if i % 2 == 0 else lc.ReLU()
                           for i in range(n)])


def fresh_process(code: str, runs: int = 5) -> dict:
    """Run `code` (which prints one float, ms) in `runs` fresh interpreters."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    vals = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True, env=env).stdout.split()[-1]) for _ in range(runs)]
    return {"ms": statistics.median(vals), "min": min(vals), "max": max(vals), "n": runs}


def import_ms(module: str, runs: int = 5) -> dict:
    return fresh_process(f"import time; t = time.perf_counter(); import {module}; "
                         "print(1000 * (time.perf_counter() - t))", runs)


_FIRST_SYMBOLIC = ("import layercalc as lc, time; m = lc.zoo.resnet50(); H, W = lc.symbols('H W');"
                   " t = time.perf_counter(); lc.analyze(m, (3, H, W)).total; "
                   "print(1000 * (time.perf_counter() - t))")


def spread(t: dict) -> str:
    return f"{t['ms']:9.3f} ms [{t['min']:.3f}..{t['max']:.3f}, n={t['n']}]"


def goals(runs: int) -> list[dict]:
    """The goal rows of issue 17: value, goal, baseline and their ratio, measured now."""
    out = []

    def add(what: str, t: dict, goal: str, base_name: str, base: dict, ratio_goal: float | None,
            ms_goal: float | None = None) -> None:
        ratio = t["ms"] / base["ms"]
        met = ((ratio_goal is None or ratio <= ratio_goal)
               and (ms_goal is None or t["ms"] <= ms_goal))
        out.append({"what": what, **t, "goal": goal, "baseline": base_name,
                    "baseline_ms": base["ms"], "baseline_min": base["min"],
                    "baseline_max": base["max"], "ratio": ratio, "met": met})

    resnet50 = lc.zoo.resnet50()
    loop = timed(plain_int_resnet50_macs, repeat=50 * runs)
    t = timed(lambda: lc.analyze(resnet50, (3, 224, 224)), repeat=10 * runs)
    add("analyze(resnet50, (3, 224, 224)) numeric", t, "<= 40x the loop", "plain int loop", loop,
        40)

    H, W, T = lc.symbols("H W T")
    sym = lambda: lc.analyze(resnet50, (3, H, W)).total  # noqa: E731
    cold = timed(sym, repeat=runs, warmup=1, setup=clear_memo)
    t = timed(sym, repeat=5 * runs)
    add("symbolic resnet50 in (H, W), warm", t, "<= 10 ms", "same, memo cleared", cold, None, 10)

    first = fresh_process(_FIRST_SYMBOLIC, runs)
    add("first symbolic resnet50, fresh process", first, "<= 60 ms", "same, memo cleared", cold,
        None, 60)

    llama = lambda: lc.analyze(lc.zoo.llama2_70b(), (T,)).total  # noqa: E731
    cold = timed(llama, repeat=runs, warmup=1, setup=clear_memo)
    t = timed(llama, repeat=3 * runs)
    add("llama2_70b symbolic in T, build + analyze", t, "<= 10 ms", "same, memo cleared", cold,
        None, 10)

    net = deep_net(10_000)
    loop = timed(lambda: plain_int_deep(10_000), repeat=10 * runs)
    t = timed(lambda: lc.analyze(net, (16, 32, 32)), repeat=runs)
    add("10,000-layer network numeric", t, "<= 20 ms", "plain int loop", loop, None, 20)
    net1k = deep_net(1_000)
    t1k = timed(lambda: lc.analyze(net1k, (16, 32, 32)), repeat=3 * runs)
    add("  linearity: 10,000 layers / 1,000 layers", t, "~10x", "1,000-layer network", t1k, 12)

    sympy_t = import_ms("sympy", runs)
    t = import_ms("layercalc", runs)
    add("import layercalc", t, "<= 1.25x SymPy", "import sympy", sympy_t, 1.25)
    return out


def peers(runs: int) -> list[dict]:
    """The PyTorch counters on the twin ResNet-50 (tests/oracles/torch_models.py), beside
    `analyze` on the same work; skipped (with the reason) when not installed."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "oracles"))
    out = []
    try:
        import torch
        import torch_models
    except ImportError as e:
        return [{"what": "PyTorch counters", "skipped": f"not installed ({e})"}]
    resnet50 = lc.zoo.resnet50()
    ours = timed(lambda: lc.analyze(resnet50, (3, 224, 224)), repeat=10 * runs)
    out.append({"what": "layercalc analyze (numeric)", **ours, "ratio": 1.0})

    def flop_counter():
        from torch.utils.flop_counter import FlopCounterMode
        with torch.device("meta"):
            model = torch_models.resnet50().eval()
            x = torch.empty(1, 3, 224, 224)
        with FlopCounterMode(display=False) as fc:
            model(x)
        return fc.get_total_flops()

    model = torch_models.resnet50().eval()
    x = torch.zeros(1, 3, 224, 224)

    def ptflops():
        from ptflops import get_model_complexity_info
        with contextlib.redirect_stdout(io.StringIO()):
            return get_model_complexity_info(model, (3, 224, 224), as_strings=False,
                                             print_per_layer_stat=False, backend="pytorch")

    def fvcore():
        from fvcore.nn import FlopCountAnalysis
        fca = FlopCountAnalysis(model, (x,))
        fca.unsupported_ops_warnings(False)
        fca.uncalled_modules_warnings(False)
        return fca.total()

    for name, fn, reps in (("FlopCounterMode (meta device)", flop_counter, 3 * runs),
                           ("ptflops (pytorch backend, CPU)", ptflops, runs),
                           ("fvcore FlopCountAnalysis (CPU)", fvcore, runs)):
        try:
            with torch.no_grad():
                t = timed(fn, repeat=reps, warmup=1)
        except ImportError as e:
            out.append({"what": name, "skipped": f"not installed ({e})"})
            continue
        out.append({"what": name, **t, "ratio": t["ms"] / ours["ms"]})
    return out


def others(runs: int) -> list[dict]:
    """Figures without a goal in issue 17 (kept from the earlier benchmark)."""
    out = []
    resnet50 = lc.zoo.resnet50()
    H, W = lc.symbols("H W")
    macs = lc.analyze(resnet50, (3, H, W), canonical=False).total.macs
    out.append({"what": "closed_form(resnet50 raw MACs)",
                **timed(lambda: lc.closed_form(macs), repeat=runs, warmup=1)})
    closed = lc.closed_form(macs)
    hs = np.arange(1000) + 32
    out.append({"what": "sweep resnet50 MACs over 10^6 (H, W), NumPy",
                **timed(lambda: lc.sweep(closed, H=hs[:, None], W=hs[None, :]), repeat=runs,
                        warmup=1)})
    try:
        import dask.array as da
    except ImportError:
        out.append({"what": "sweep on dask", "skipped": "dask not installed (layercalc[dask])"})
    else:
        dh = da.from_array(hs[:, None], chunks=(250, 1))
        dw = da.from_array(hs[None, :], chunks=(1, 500))
        what = "sweep resnet50 MACs over 10^6 (H, W), dask threads"
        if not hasattr(lc.sweep(closed, H=dh[:2], W=dw[:, :2]), "compute"):
            out.append({"what": what, "skipped": "this version's sweep is not lazy on dask"})
        else:
            out.append({"what": what, **timed(lambda: lc.sweep(closed, H=dh, W=dw).compute(
                scheduler="threads"), repeat=runs, warmup=1)})
    report = lc.analyze(resnet50, (3, 224, 224))
    out.append({"what": f"{len(lc.TOOL_CONVENTIONS)} tool conventions on resnet50's report",
                **timed(lambda: [report.flops(n) for n in lc.TOOL_CONVENTIONS], repeat=2 * runs)})
    T = lc.symbols("T")
    gpt2 = lc.zoo.gpt2()
    out.append({"what": "symbolic gpt2 in T (warm)",
                **timed(lambda: lc.analyze(gpt2, (T,)).total, repeat=runs, warmup=1)})
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--compare", action="store_true",
                    help="also time FlopCounterMode, ptflops and fvcore on the twin ResNet-50")
    ap.add_argument("--json", action="store_true", help="print one JSON document instead")
    ap.add_argument("--runs", type=int, default=5, help="runs per figure (scaled per row)")
    args = ap.parse_args(argv)
    doc = {"versions": {"layercalc": lc.__version__, "sympy": sp.__version__,
                        "numpy": np.__version__, "python": sys.version.split()[0]},
           "cpus": os.cpu_count(), "goals": goals(args.runs), "others": others(args.runs)}
    if args.compare:
        doc["compare"] = peers(args.runs)
    if args.json:
        print(json.dumps(doc, indent=2))
        return
    v = doc["versions"]
    print(f"layercalc {v['layercalc']}, sympy {v['sympy']}, numpy {v['numpy']}, python "
          f"{v['python']}, {doc['cpus']} cpus; median [min..max, n runs]")
    print("-" * 118)
    print(f"{'goal row':<44} {'measured':<36} {'goal':<16} {'ratio':>8}  baseline (same run)")
    for r in doc["goals"]:
        print(f"{r['what']:<44} {spread(r):<36} {r['goal']:<16} {r['ratio']:>7.2f}x  "
              f"{r['baseline']} {r['baseline_ms']:.3f} ms  {'met' if r['met'] else 'NOT MET'}")
    print("-" * 118)
    for r in doc["others"]:
        print(f"{r['what']:<56} " + (spread(r) if "ms" in r else r["skipped"]))
    if args.compare:
        print("-" * 118)
        print("the same work in the PyTorch counters (twin ResNet-50, 1x3x224x224):")
        for r in doc["compare"]:
            print(f"{r['what']:<56} " + (f"{spread(r)}  {r['ratio']:.1f}x layercalc"
                                         if "ms" in r else r["skipped"]))


if __name__ == "__main__":
    main()
