"""Issue 17 (speed): the memo, the integer fast paths and sweeps on dask keep every result
identical. No test asserts a timing (benchmarks/bench.py prints those)."""

from __future__ import annotations

import dataclasses
from functools import reduce

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import layercalc as lc
from layercalc import network
from layercalc.cost import _COUNT_FIELDS, Cost
from layercalc.errors import ArgumentError
from layercalc.evaluate import EvaluationError


def _fresh(model, shape, **kw):
    """The report with nothing memoised (every layer computed from its formulas)."""
    network.clear_memo()
    return lc.analyze(model, shape, **kw)


def _same(a: lc.Report, b: lc.Report) -> None:
    assert a.rows == b.rows
    assert a.total == b.total
    assert a.output_shape == b.output_shape
    assert a.assumptions == b.assumptions


@pytest.mark.parametrize("name", ["resnet50", "googlenet", "mobilenet_v2", "gpt2"])
def test_memoised_analysis_equals_a_fresh_one(name):
    model = getattr(lc.zoo, name)()
    H, W, T = lc.symbols("H W T")
    shapes = {"gpt2": [(T,), (64,)], "googlenet": [(3, 224, 224)]}.get(  # a graph: numeric
        name, [(3, H, W), (3, 224, 224)])
    for shape in shapes:
        for batch in (1, 3):
            cold = _fresh(model, shape, batch=batch)
            warm = lc.analyze(model, shape, batch=batch)  # every layer from the memo
            _same(cold, warm)
            raw = lc.analyze(model, shape, batch=batch, canonical=False)
            _same(_fresh(model, shape, batch=batch, canonical=False), raw)


def test_rows_keep_their_own_layer_objects_and_sharing_rules():
    a, b = lc.Conv2d(3, 8, 3, padding=1), lc.Conv2d(3, 8, 3, padding=1)  # equal, not one
    model = lc.Sequential(lc.Parallel(a, b, merge="add"), lc.Tied("t", lc.Linear(32, 32)),
                          lc.Tied("t", lc.Linear(32, 32)))
    r = lc.analyze(model, (3, 4, 32))
    assert r.rows[0].layer is a and r.rows[1].layer is b
    # the second Tied use counts no params although its cost came from the memo
    assert r.rows[3].cost.params == 32 * 32 + 32 and r.rows[4].cost.params == 0
    assert r.rows[3].cost.macs == r.rows[4].cost.macs == 8 * 4 * 32 * 32
    _same(r, _fresh(model, (3, 4, 32)))


def test_symbols_with_other_assumptions_are_not_confused():
    conv = lc.Conv2d(3, 8, 3, stride=2)
    H1 = sp.Symbol("H", positive=True, integer=True)
    H2 = sp.Symbol("H", positive=True, integer=True, even=True)
    m1 = lc.analyze(conv, (3, H1, H1)).total.macs
    m2 = lc.analyze(conv, (3, H2, H2)).total.macs
    assert m1.free_symbols == {H1} and m2.free_symbols == {H2}
    assert m1.subs(H1, 10) == m2.subs(H2, 10) == 8 * 27 * 16


def test_a_mutable_custom_layer_is_not_memoised():
    @dataclasses.dataclass
    class _Scale(lc.Layer):  # not frozen: may change between analyses
        k: int = 1

        def output_shape(self, x):
            return self._input(x)

        def cost(self, x):
            x = self._input(x)
            return Cost(ops={"mul": self.k * x[0]})

    layer = _Scale(2)
    assert lc.analyze(layer, (5,)).total.ops["mul"] == 10
    layer.k = 3
    assert lc.analyze(layer, (5,)).total.ops["mul"] == 15


def test_a_field_outside_equality_disables_the_memo():
    @dataclasses.dataclass(frozen=True)
    class _Hidden(lc.Layer):  # `k` changes the count but not equality
        k: int = dataclasses.field(default=1, compare=False)

        def output_shape(self, x):
            return self._input(x)

        def cost(self, x):
            return Cost(ops={"mul": self.k * self._input(x)[0]})

    assert lc.analyze(lc.Sequential(_Hidden(2), _Hidden(3)), (5,)).total.ops["mul"] == 25


def test_an_unhashable_frozen_layer_is_computed_each_time():
    @dataclasses.dataclass(frozen=True)
    class _Listy(lc.Layer):
        sizes: list = dataclasses.field(default_factory=lambda: [1, 2])

        def output_shape(self, x):
            return self._input(x)

        def cost(self, x):
            return Cost(ops={"add": sum(self.sizes) * self._input(x)[0]})

    assert lc.analyze(lc.Sequential(_Listy(), _Listy([4])), (2,)).total.ops["add"] == 6 + 8


def test_the_memo_is_bounded(monkeypatch):
    monkeypatch.setattr(network, "MEMO_SIZE", 40)
    network.clear_memo()
    for n in range(1, 200):
        lc.analyze(lc.ReLU(), (n,))
        assert len(network._MEMO) <= 40
    assert lc.analyze(lc.ReLU(), (7,)).total.ops == {"cmp": 7}


def test_errors_still_name_the_path_on_a_memo_hit():
    model = lc.Sequential(lc.Conv2d(3, 8, 3), lc.Conv2d(4, 8, 3))
    for _ in range(2):
        with pytest.raises(lc.errors.ShapeError, match=r"^1 \(Conv2d\): expected 4 input "
                           r"channels.* from 0"):
            lc.analyze(model, (3, 16, 16))


_counts = st.integers(0, 10**6)
_costs = st.builds(lambda p, m, d, a, ops, notes: Cost(params=p, macs=m, dots=d, act_reads=a,
                                                       ops=ops, notes=notes),
                   _counts, _counts, _counts, _counts,
                   st.dictionaries(st.sampled_from(["add", "cmp", "exp"]), _counts, max_size=2),
                   st.lists(st.sampled_from(["n1", "n2"]), max_size=2).map(tuple))


@settings(max_examples=60, deadline=None)
@given(st.lists(_costs, min_size=0, max_size=6), st.lists(st.integers(0, 5), max_size=12),
       st.booleans())
def test_cost_sum_of_shared_objects_equals_field_by_field_sum(pool, picks, symbolic):
    """Cost.sum groups repeated objects; compare with a naive field-by-field loop."""
    if symbolic:
        H = sp.Symbol("H", positive=True, integer=True)
        pool = pool + [Cost(macs=3 * H, ops={"add": H}, act_reads=2)]
    costs = [pool[i % len(pool)] for i in picks] if pool else []
    total = Cost.sum(costs)
    for f in _COUNT_FIELDS:
        assert sp.expand(getattr(total, f) - sum(getattr(c, f) for c in costs)) == 0
    for k in ("add", "cmp", "exp"):
        assert sp.expand(total.ops.get(k, 0) - sum(c.ops.get(k, 0) for c in costs)) == 0
    assert total.notes == tuple(dict.fromkeys(n for c in costs for n in c.notes))
    assert total == reduce(lambda a, b: a + b, costs, Cost()) or not costs


# -- sweeps on dask ------------------------------------------------------------------------
def _resnet50_macs():
    H, W = lc.symbols("H W")
    return lc.closed_form(lc.analyze(lc.zoo.resnet50(), (3, H, W)).total.macs)


def test_sweep_on_dask_equals_numpy_on_ten_million_configurations():
    da = pytest.importorskip("dask.array", reason="dask is an optional extra (layercalc[dask])")
    expr = _resnet50_macs()
    hs = np.arange(32, 32 + 3163)
    ws = np.arange(17, 17 + 3163)
    assert hs.size * ws.size >= 10**7
    ref = lc.sweep(expr, H=hs[:, None], W=ws[None, :])
    lazy = lc.sweep(expr, H=da.from_array(hs[:, None], chunks=(700, 1)),
                    W=da.from_array(ws[None, :], chunks=(1, 900)))
    assert isinstance(lazy, da.Array) and lazy.dtype == np.int64 and lazy.shape == ref.shape
    got = lazy.compute(scheduler="threads")
    assert got.dtype == ref.dtype and np.array_equal(got, ref)
    # spot check against exact substitution into the unsimplified expression
    H, W = sorted(expr.free_symbols, key=lambda s: s.name)
    assert int(got[100, 200]) == lc.evaluate(expr, H=int(hs[100]), W=int(ws[200]))


def test_sweep_on_dask_mixed_grids_synchronous_and_overflow_guard():
    da = pytest.importorskip("dask.array", reason="dask is an optional extra (layercalc[dask])")
    expr = _resnet50_macs()
    hs = np.arange(1, 60)
    got = lc.sweep(expr, H=da.from_array(hs, chunks=16), W=np.array(224)).compute(
        scheduler="synchronous")
    assert np.array_equal(got, lc.sweep(expr, H=hs, W=np.array(224)))
    big = np.array([3 * 10**9, 4 * 10**9], dtype=np.int64)
    lazy = lc.sweep(expr, H=da.from_array(big, chunks=1), W=da.from_array(big, chunks=1))
    assert lazy.dtype == object  # the bound does not fit int64: exact Python ints
    assert list(lazy.compute(scheduler="synchronous")) == list(lc.sweep(expr, H=big, W=big))
    with pytest.raises(EvaluationError, match="past int64"):
        lc.sweep(expr, H=da.from_array(big, chunks=1), W=big, dtype="int64")
    with pytest.raises(ArgumentError, match="H must hold integers"):
        lc.sweep(expr, H=da.from_array(np.array([1.5])), W=big)
    bad = lc.sweep(expr, H=da.from_array(np.array([0, 5])), W=np.array(8))  # 0: not positive
    with pytest.raises(ArgumentError, match="H .*must be positive"):
        bad.compute(scheduler="synchronous")


def test_performance_page_examples_run():
    """docs/performance.md's examples (the dask sweep) run and print what the page says."""
    import doctest
    from pathlib import Path

    pytest.importorskip("dask.array", reason="dask is an optional extra (layercalc[dask])")
    page = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
    result = doctest.testfile(str(page), module_relative=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted >= 10 and result.failed == 0


def test_import_layercalc_leaves_numpy_for_first_use():
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", "import sys, layercalc; "
                          "print('numpy' in sys.modules, 'dask' in sys.modules)"],
                         capture_output=True, text=True, check=True, cwd=root,
                         env={"PYTHONPATH": root, "PATH": "/usr/bin:/bin"}).stdout.split()
    assert out == ["False", "False"]
