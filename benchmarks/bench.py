"""Speed figures for layercalc, each printed beside its target and a baseline measured in the
same run. Prints figures; asserts nothing (tests never assert timings).

    python benchmarks/bench.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import numpy as np
import sympy as sp

import layercalc as lc


def median_ms(fn, repeat: int = 20, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


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


def deep_net(n: int) -> lc.Sequential:
    return lc.Sequential(*[lc.Conv2d(16, 16, 3, padding=1) if i % 2 == 0 else lc.ReLU()
                           for i in range(n)])


def row(name: str, value: float, target: str, baseline: str = "") -> None:
    print(f"{name:<48} {value:>10.3f}  target {target:<10} {baseline}")


def main() -> None:
    print(f"layercalc {lc.__version__}, sympy {sp.__version__}, numpy {np.__version__}, "
          f"python {sys.version.split()[0]}")
    print("-" * 100)
    resnet50 = lc.zoo.resnet50()
    x = (3, 224, 224)

    base = median_ms(plain_int_resnet50_macs, repeat=200)
    t = median_ms(lambda: lc.analyze(resnet50, x))
    row("analyze(resnet50, 3x224x224), numeric [ms]", t, "<= 5 ms",
        f"plain-int loop {base:.3f} ms")

    H, W = lc.symbols("H W")
    t_sym = median_ms(lambda: lc.analyze(resnet50, (3, H, W)).total, repeat=5, warmup=1)
    row("symbolic total of resnet50 in (H, W) [ms]", t_sym, "<= 50 ms")

    # closed_form's own work: start from the raw nested floors, as each layer computes them
    macs = lc.analyze(resnet50, (3, H, W), canonical=False).total.macs
    t_cf = median_ms(lambda: lc.closed_form(macs), repeat=5, warmup=1)
    closed = lc.closed_form(macs)
    t0 = time.perf_counter()
    try:
        import signal

        def _timeout(*_):
            raise TimeoutError

        signal.signal(signal.SIGALRM, _timeout)
        signal.alarm(10)
        sp.simplify(macs)
        signal.alarm(0)
        simp = f"sympy.simplify {1000 * (time.perf_counter() - t0):.0f} ms"
    except TimeoutError:
        simp = "sympy.simplify > 10 s (stopped)"
    row("closed_form(resnet50 raw MACs) [ms]", t_cf, "<= 1000 ms", simp)
    print(f"    closed form: {closed}")

    hs = np.arange(1000) + 32
    grid_h, grid_w = hs[:, None], hs[None, :]
    t_sw = median_ms(lambda: lc.sweep(closed, H=grid_h, W=grid_w), repeat=5, warmup=1)
    row("sweep resnet50 MACs over 10^6 (H, W) pairs [ms]", t_sw, "<= 250 ms")

    report = lc.analyze(resnet50, x)
    t_tools = median_ms(lambda: [report.flops(n) for n in lc.TOOL_CONVENTIONS], repeat=10)
    row(f"{len(lc.TOOL_CONVENTIONS)} tool conventions on resnet50's report [ms]", t_tools,
        "", "one forward pass per tool with PyTorch")
    t_cmp = median_ms(lambda: lc.compare(report), repeat=5, warmup=1)
    row("compare(resnet50): every convention, by kind [ms]", t_cmp, "")

    T = lc.symbols("T")
    gpt2 = lc.zoo.gpt2()
    t_gpt = median_ms(lambda: lc.analyze(gpt2, (T,)).total, repeat=3, warmup=1)
    row("symbolic total of gpt2 in sequence length T [ms]", t_gpt, "")

    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import layercalc"],
                         capture_output=True, text=True, check=True).stderr.splitlines()
    total_us = int(out[-1].split("|")[1])
    sympy_us = max((int(ln.split("|")[1]) for ln in out if ln.rstrip().endswith(" sympy")),
                   default=0)
    row("import layercalc [ms]", total_us / 1000, "<= 400 ms", f"sympy alone {sympy_us / 1000:.0f} ms")

    for n in (250, 500, 1000):
        net = deep_net(n)
        t_n = median_ms(lambda: lc.analyze(net, (16, 32, 32)), repeat=5, warmup=1)
        row(f"analyze {n}-layer network, numeric [ms]", t_n, "<= 500 ms" if n == 1000 else "")


if __name__ == "__main__":
    main()
