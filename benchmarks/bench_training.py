"""Speed of `layercalc.training` on Llama-2-70B (80 decoder layers, 1,203 report rows), each
figure beside its target and a baseline measured in the same run. Prints figures; asserts
nothing (tests never assert timings).

    python benchmarks/bench_training.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import layercalc as lc  # noqa: E402


_CPU: list[float] = []


def median_ms(fn, repeat: int = 15, warmup: int = 2) -> float:
    """Median wall-clock ms (the CPU-time median is kept for `row`: on a shared machine the
    wall clock also counts the time other processes hold the cores)."""
    for _ in range(warmup):
        fn()
    times, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    _CPU.append(1000 * statistics.median(cpu))
    return 1000 * statistics.median(times)


def row(name: str, value: float, target: str = "", baseline: str = "") -> None:
    print(f"{name:<66} {value:>8.1f} ms  (CPU {_CPU[-1]:>6.1f} ms)  {target:<7} {baseline}")


def main() -> None:
    model = lc.zoo.llama2_70b()
    numeric = lc.analyze(model, (4096,), batch=8)
    T, B = lc.symbols("T B")
    symbolic = lc.analyze(model, (T,), batch=B)
    print(f"Llama-2-70B: {len(numeric.rows)} rows; medians on this machine "
          f"({sys.platform}, Python {sys.version.split()[0]})")
    base = median_ms(lambda: lc.analyze(model, (4096,), batch=8))
    row("analyze(llama2_70b, (4096,), batch=8)  [baseline]", base)
    par = lc.Parallelism(dp=8, tp=8, pp=4, sp=True, zero=1)
    train = median_ms(lambda: lc.training(numeric))
    row("training(report)  (adamw, fp32)", train, "20 ms", f"{train / base:.1f}x analyze")
    row("training(report, bf16-mixed, selective, dp8 tp8 pp4 sp zero1)",
        median_ms(lambda: lc.training(numeric, precision="bf16-mixed", recompute="selective",
                                      parallel=par)), "20 ms")
    t = lc.training(numeric)
    row("  .flops('exact') + .memory.total of that report",
        median_ms(lambda: (t.flops("exact"), t.memory.total)))
    sym_base = median_ms(lambda: lc.analyze(model, (T,), batch=B), repeat=5)
    row("analyze(llama2_70b, (T,), batch=B)  [baseline, symbolic]", sym_base)
    row("training(symbolic report)  (T, B symbols)",
        median_ms(lambda: lc.training(symbolic), repeat=5))
    ts = lc.training(symbolic)
    row("  .flops('exact') of the symbolic report (expanded polynomial in B, T)",
        median_ms(lambda: ts.flops("exact"), repeat=5))
    print("flops(exact), symbolic:", ts.flops("exact"))


if __name__ == "__main__":
    main()
