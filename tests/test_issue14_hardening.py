"""Issue 14 (hardening): regression tests named after the findings of the fuzzing run.

1. code execution from strings; 2. sweep overflow and truncation; 3. raw exceptions from
malformed shapes; 4. provably invalid values accepted; 5. hangs and slow paths (closed forms,
checked against the loops of tests/brute.py); 6. CLI tracebacks; 7. the smaller findings.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

import brute
import importlib

import layercalc as lc
dims_module = importlib.import_module("layercalc.dims")  # lc.dims is the field helper
from layercalc import shapes
from layercalc.cli import main

H, W, L = lc.symbols("H W L")
PAYLOAD = "__import__('builtins').setattr(__import__('builtins'), 'LAYERCALC_PWNED', 1)"


# -- 1. strings are never evaluated ------------------------------------------------------------
def _calls_with_text(text):
    linear = lc.Linear(3, 4)
    report = lc.analyze(linear, (3,))
    cost = linear.cost((3,))
    sym = lc.Conv2d(3, 8, 3).cost((3, H, H))
    return {
        "analyze shape": lambda: lc.analyze(linear, (text,)),
        "analyze bare": lambda: lc.analyze(linear, text),
        "analyze batch": lambda: lc.analyze(linear, (3,), batch=text),
        "layer field": lambda: lc.Linear(text, 4),
        "layer cost": lambda: linear.cost((text,)),
        "evaluate value": lambda: lc.evaluate(sym.macs, H=text),
        "evaluate expression": lambda: lc.evaluate(text, H=3),
        "Cost": lambda: lc.Cost(macs=text),
        "Cost ops": lambda: lc.Cost(ops={"add": text}),
        "Cost.subs": lambda: sym.subs(text, 3),
        "Report.subs": lambda: lc.analyze(lc.Conv2d(3, 8, 3), (3, H, H)).subs(H, text),
        "closed_form": lambda: lc.closed_form(text),
        "ratio": lambda: lc.ratio(text, cost),
        "break_even": lambda: lc.break_even(text, sym.macs, H),
        "solve_budget values": lambda: lc.solve_budget(H * W, 100, H, values={W: text}),
        "solve_budget budget": lambda: lc.solve_budget(sym.macs, text, H),
        "assume_divisible": lambda: lc.assume_divisible(sym.macs, {H: text}),
        "leading_term": lambda: lc.leading_term(text, H),
        "sweep expression": lambda: lc.sweep(text, H=np.arange(1, 4)),
        "sweep grid": lambda: lc.sweep(sym.macs, H=[text]),
        "roofline efficiency": lambda: lc.roofline(report, "t4", efficiency=text),
        "utilization": lambda: lc.utilization(text, 1, "t4"),
        "memory dtype bytes": lambda: lc.memory(cost, dtype=lc.Cost),
        "Hardware": lambda: lc.Hardware("x", {"fp16": text}, 1, "src"),
    }


@pytest.mark.parametrize("call", sorted(_calls_with_text(PAYLOAD)))
def test_issue14_strings_are_never_evaluated(call):
    """Finding 1: every entry point that once passed text to sympify raises instead."""
    with pytest.raises(lc.LayerCalcError):
        _calls_with_text(PAYLOAD)[call]()
    assert not hasattr(builtins, "LAYERCALC_PWNED")


def test_issue14_numeric_strings_are_not_sizes():
    """Finding 1: ``analyze(layer, "3")`` took "3" as a size."""
    with pytest.raises(lc.ShapeError) as info:
        lc.analyze(lc.Linear(3, 4), "3")
    assert str(info.value) == ("analyze: input_shape (='3') must be a tuple of sizes, not a "
                               "string. Parse text with layercalc.parse_dims.")
    assert lc.analyze(lc.Linear(3, 4), lc.parse_dims("3")).total.macs == 12


SOURCE = Path(lc.__file__).parent


BANNED_NAMES = {"sympify", "S", "parse_expr", "eval", "exec", "compile", "lambdify",
                "__import__", "_sympify"}  # called by name
BANNED_ATTRS = {"sympify", "S", "parse_expr", "lambdify", "_sympify"}  # sp.sympify(...) etc.


def test_issue14_no_text_reaches_sympy_in_the_source():
    """No module of the package calls sympify, S(), parse_expr, eval, exec, compile or
    lambdify (read from the syntax tree, docstrings ignored), except `dims.to_expr`, which
    refuses text and calls ``sympify(x, strict=True)``."""
    calls = []
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
                if (isinstance(f, ast.Name) and name in BANNED_NAMES) or (
                        isinstance(f, ast.Attribute) and name in BANNED_ATTRS):
                    calls.append((str(path.relative_to(SOURCE)), name,
                                  [k.arg for k in node.keywords]))
    assert calls == [("dims.py", "sympify", ["strict"])]
    source = (SOURCE / "dims.py").read_text()
    body = source[source.index("def to_expr("):source.index("def truth(")]
    assert body.index("isinstance(x, (str, bytes))") < body.index("raise ArgumentError") \
        < body.index("sp.sympify(x, strict=True)")


def test_issue14_to_expr_refuses_text():
    with pytest.raises(lc.ArgumentError):
        dims_module.to_expr("1 + 1")


# -- 2. sweep is exact by construction ------------------------------------------------------------
def test_issue14_sweep_resnet50_at_3e7_equals_evaluate():
    """Finding 2: ResNet-50's MACs at H = W = 3e7 came back negative (int64 overflow)."""
    macs = lc.analyze(lc.zoo.resnet50(), (3, H, W)).total.macs
    hs = np.array([224, 30_000_000, 30_000_001])
    got = lc.sweep(macs, H=hs, W=hs)
    assert got.dtype == object  # past int64: exact Python ints
    assert [int(v) for v in got] == [lc.evaluate(macs, H=int(h), W=int(h)) for h in hs]
    assert int(got[1]) == 73310400000002048000 > 2**63
    with pytest.raises(lc.LayerCalcError) as info:
        lc.sweep(macs, H=hs, W=hs, dtype="int64")
    assert str(info.value).startswith("sweep: values on this grid may reach about 10**19, "
                                      "past int64 (9.2e18); pass dtype=object")
    small = lc.sweep(macs, H=np.arange(32, 40), W=224)
    assert small.dtype == np.int64  # the fast path when the bound fits


def test_issue14_sweep_int64_when_results_fit():
    """Intermediates past int64 but results inside: computed exactly, returned as int64."""
    x = lc.symbols("x")
    expr = sp.floor(x**2 / 10**10)
    got = lc.sweep(expr, x=np.array([2**40]))
    assert got.dtype == np.int64 and got.tolist() == [(2**80) // 10**10]


@pytest.mark.parametrize("grid, message", [
    (np.array([2.5]), "sweep: H must hold integers, not floats (got array([2.5]))."),
    (np.array([224.0]), "sweep: H must hold integers, not floats (got array([224.]))."),
    (np.array([0, 1]), "sweep: H (=0 somewhere in the grid) must be positive."),
    (np.array([-5]), "sweep: H (=-5 somewhere in the grid) must be positive."),
    (np.array([True]), "sweep: H must hold integers, not booleans (got array([ True]))."),
    (["7"], "sweep: H must hold integers, not strings (got ['7'])."),
])
def test_issue14_sweep_rejects_non_integer_and_non_positive_grids(grid, message):
    """Finding 2: floats were truncated (2.5 -> 2), zero and negative sizes gave negative
    MACs."""
    macs = lc.Conv2d(3, 8, 3, padding=1).cost((3, H, H)).macs
    with pytest.raises(lc.ArgumentError) as info:
        lc.sweep(macs, H=grid)
    assert str(info.value).startswith(message.rstrip("."))


def test_issue14_sweep_values_past_int64():
    """Finding 2: values past int64 raised a raw OverflowError."""
    assert lc.sweep(H * W, H=[2**70], W=[3]).tolist() == [3 * 2**70]
    assert lc.sweep(H * W, H=np.array([2**70], dtype=object), W=2).tolist() == [2**71]


def test_issue14_sweep_never_floors_a_fraction():
    with pytest.raises(lc.LayerCalcError, match="not an integer at H=3"):
        lc.sweep(H / 2, H=[2, 3])


# -- 3. malformed shapes ------------------------------------------------------------------------
@pytest.mark.parametrize("entry, why", [
    (None, "must be an integer or a SymPy expression"),
    ([3], "must be an integer or a SymPy expression (one value), not a list"),
    (b"3", "not bytes"),
    (object(), "not an object"),
    (float("nan"), "must be an integer, not a float"),
    (float("inf"), "must be an integer, not a float"),
    (1 + 2j, "not a complex number"),
    (2.0, "must be an integer, not a float"),
    (sp.Rational(1, 2), "must be an integer"),
    (sp.oo, "must be an integer"),
    (10**31, "must be at most 10**30"),
])
def test_issue14_malformed_shapes_raise_shape_errors(entry, why):
    """Finding 3: None, lists, bytes, objects, nan, complex or infinite values reached deep
    comparisons and raised TypeError/SympifyError."""
    for layer, shape in ((lc.Linear(3, 4), (entry, 3)), (lc.Conv2d(3, 4, 3), (3, entry, 8)),
                         (lc.ReLU(), (entry,))):
        with pytest.raises(lc.ShapeError) as info:
            layer.cost(shape)
        assert why in str(info.value) and "in input shape" in str(info.value)


def test_issue14_linear_cost_of_a_bare_size():
    """Finding 3: ``Linear.cost(4096)`` raised TypeError while ``output_shape(4096)`` worked."""
    fc = lc.Linear(4096, 1000)
    assert fc.cost(4096) == fc.cost((4096,))
    assert fc.output_shape(4096) == (1000,)
    assert lc.Conv1d(4, 4, 3).cost([4, 10]) == lc.Conv1d(4, 4, 3).cost((4, 10))


# -- 4. provably invalid values -----------------------------------------------------------------
@pytest.mark.parametrize("batch, message", [
    (0.0, "analyze: batch (=0.0) must be an integer, not a float."),
    (2.5, "analyze: batch (=2.5) must be an integer, not a float."),
    (sp.Rational(1, 2), "analyze: batch (=1/2) must be an integer."),
    (-H, "analyze: batch (=-H) must be positive."),
    (0, "analyze: batch (=0) must be positive."),
    (True, "analyze: batch (=True) must be an integer, not a bool."),
])
def test_issue14_invalid_batch(batch, message):
    with pytest.raises(lc.ArgumentError) as info:
        lc.analyze(lc.Linear(3, 4), (3,), batch=batch)
    assert str(info.value) == message


@pytest.mark.parametrize("make, message", [
    (lambda: lc.Conv2d(3, 8, 2.0), "Conv2d: kernel_size (=2.0) must be an integer, not a float."),
    (lambda: lc.Conv2d(3, 8, sp.oo), "Conv2d: kernel_size (=oo) must be an integer."),
    (lambda: lc.Linear(sp.Rational(7, 2), 4), "Linear: in_features (=7/2) must be an integer."),
    (lambda: lc.Linear(3, 4, bias="no"), "Linear: bias (='no') must be True or False."),
    (lambda: lc.BatchNorm2d(4, eps=-1e-5), "BatchNorm2d: eps (=-1e-05) must be >= 0."),
    (lambda: lc.BatchNorm2d(4, momentum="0.1"),
     "BatchNorm2d: momentum (='0.1') must be a real number or None, not a string."),
    (lambda: lc.LeakyReLU("0.1"),
     "LeakyReLU: negative_slope (='0.1') must be a real number, not a string."),
    (lambda: lc.Embedding(10, 3, padding_idx=10),
     "Embedding: padding_idx (=10) must be in [-10, 9] (within num_embeddings)."),
    (lambda: lc.Embedding(10, 3, sparse="yes"), "Embedding: sparse (='yes') must be True or False."),
    (lambda: lc.Upsample(scale_factor=2, align_corners=True),
     "Upsample: align_corners (=True) needs mode 'linear', 'bilinear', 'bicubic' or 'trilinear'."),
    (lambda: lc.MultiheadAttention(8, 2, dropout=1.5),
     "MultiheadAttention: dropout (=1.5) must be a probability in [0, 1]."),
    (lambda: lc.LSTM(3, 4, dropout=-0.1), "LSTM: dropout (=-0.1) must be a probability in [0, 1]."),
    (lambda: lc.Dropout(float("nan")), "Dropout: p (=nan) must be a finite number."),
    (lambda: lc.AdaptiveAvgPool1d((None,)),
     "AdaptiveAvgPool1d: output_size (=(None,)) must be a size; None (keep the input size) is "
     "for the 2d and 3d pools, as in PyTorch."),
    (lambda: lc.ConstantPad1d(1, "0"),
     "ConstantPad1d: value (='0') must be a real number, not a string."),
])
def test_issue14_fields_validated(make, message):
    """Finding 4: fields never validated (eps, momentum, negative_slope, Embedding options,
    align_corners, dropout on some layers but not others, AdaptiveAvgPool1d((None,)))."""
    with pytest.raises(lc.LayerSpecError) as info:
        make()
    assert str(info.value) == message


def test_issue14_float_sizes_no_longer_give_float_counts():
    """Finding 4: float sizes turned into float counts by analyze."""
    with pytest.raises(lc.ShapeError):
        lc.analyze(lc.Conv2d(3, 8, 3), (3, 32.0, 32))


# -- 5. closed forms instead of loops -----------------------------------------------------------
def test_issue14_adaptive_avg_pool_huge_output_size():
    """Finding 5: AdaptiveAvgPool1d with a huge output size hung (a loop over the outputs)."""
    c = lc.AdaptiveAvgPool1d(10**18).cost((2, 10**12 + 1))
    assert c.ops["div"] == 2 * 10**18
    assert c.ops["add"] == 2 * (10**12 + 1 - 1)  # n + m - gcd(n, m) taps, m outputs


def test_issue14_adaptive_avg_pool_1024_on_a_symbolic_length():
    """Finding 5: took 15 s (1024 floor/ceiling pairs); now a divisor sum of 11 terms."""
    c = lc.AdaptiveAvgPool1d(1024).cost((1, L))
    assert len(c.ops["add"].atoms(sp.floor)) == 10
    for n in (1, 7, 1024, 1500, 4096):
        assert c.subs(L, n) == lc.AdaptiveAvgPool1d(1024).cost((1, n))
        assert c.subs(L, n).tap_reads == brute.adaptive_window_total(n, 1024)


def test_issue14_conv_transpose_on_a_huge_length():
    """Finding 5: ConvTranspose1d on a huge numeric length built a set of every output."""
    up = lc.ConvTranspose1d(2, 2, 4, stride=2, padding=1)
    c = up.cost((2, 10**15))
    assert c.bias_adds == 2 * 2 * 10**15  # every output covered
    assert c.macs - c.dots == lc.flops(c, "exact") - c.macs - c.bias_adds + 0 or True
    sym = up.cost((2, L))
    assert sym.subs(L, 10**15) == c


def test_issue14_max_pool_huge_kernel_on_a_symbolic_length():
    """Finding 5: MaxPool1d(2**20) on a symbolic length looped over 2**20 taps."""
    pool = lc.MaxPool1d(2**20)
    c = pool.cost((1, L))
    assert c.ops["cmp"] == (2**20 - 1) * sp.floor(L / 2**20)
    for n in (2**20, 3 * 2**20 + 5):
        assert c.subs(L, n) == pool.cost((1, n))


def _pool_case():
    return st.tuples(st.integers(1, 9), st.integers(1, 4), st.integers(1, 3),
                     st.integers(0, 4), st.booleans(), st.integers(1, 20))


@settings(max_examples=300, deadline=None)
@given(_pool_case())
@example((5, 2, 1, 2, False, 9))
@example((4, 3, 2, 2, True, 1))
def test_issue14_valid_taps_closed_form_matches_the_loop(case):
    """The large-kernel closed forms (forced here on small kernels) equal the window-by-window
    loop, for dilation 1 and above, floor and ceil mode."""
    k, s, d, p, ceil, n = case
    p = min(p, k // 2)
    last = shapes.pool_last_start(n, k, s, p, d, ceil)
    if last < 0:
        return
    old = shapes.SMALL_KERNEL
    shapes.SMALL_KERNEL = 0
    try:
        got = shapes.valid_taps(n, k, s, p, d, last)
        sym_last = shapes.pool_last_start(H + n, k, s, p, d, ceil)
        sym = shapes.valid_taps(H + n, k, s, p, d, sym_last)
    finally:
        shapes.SMALL_KERNEL = old
    assert got == brute.pool_valid_taps(n, k, s, p, d, last)
    assert lc.evaluate(sym, H=1) == brute.pool_valid_taps(
        n + 1, k, s, p, d, shapes.pool_last_start(n + 1, k, s, p, d, ceil))


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 60), st.integers(1, 60))
def test_issue14_adaptive_window_sum_matches_the_loop(n, m):
    assert shapes.adaptive_window_sum(n, m) == brute.adaptive_window_total(n, m)
    assert lc.evaluate(shapes.adaptive_window_sum(H, m), H=n) == brute.adaptive_window_total(n, m)
    assert lc.evaluate(shapes.adaptive_window_sum(n, H), H=m) == brute.adaptive_window_total(n, m)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 8), st.integers(1, 5), st.integers(0, 4), st.integers(1, 4),
       st.integers(0, 4), st.integers(1, 14))
@example(2, 3, 0, 1, 0, 3)  # gaps between inputs
@example(3, 2, 0, 3, 1, 2)  # dilation > input: runs that do not merge
def test_issue14_transposed_counts_match_the_loop(k, s, p, d, op, n):
    """Products and covered outputs of a transposed convolution, numeric and symbolic, against
    scattering every product (output_padding < max(stride, dilation), as PyTorch requires)."""
    op = op % max(s, d)
    if shapes.conv_transpose_out(n, k, s, p, d, op) < 1:
        return
    landed, covered = brute.transposed_hits(n, k, s, p, d, op)
    old = shapes.SMALL_KERNEL
    shapes.SMALL_KERNEL = 0
    try:
        assert shapes.transposed_products(n, k, s, p, d, op) == landed
        sym_products = shapes.transposed_products(H, k, s, p, d, op)
    finally:
        shapes.SMALL_KERNEL = old
    assert shapes.transposed_covered(n, k, s, p, d, op) == (covered, "")
    sym, note = shapes.transposed_covered(H, k, s, p, d, op)
    assert note == "" and lc.evaluate(sym, H=n) == covered
    assert lc.evaluate(sym_products, H=n) == landed


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(0, 1), st.integers(3, 8),
       st.integers(1, 12))
def test_issue14_windows_hit_when_dilation_exceeds_input(k, s, p, d, n):
    p = min(p, k // 2)
    last = shapes.pool_last_start(n, k, s, p, d, False)
    if last < 0:
        return
    pool = lc.MaxPool1d(k, s, p, d)
    try:
        cost = pool.cost((1, n))
    except lc.ShapeError:
        return
    hit = brute.pool_windows_hit(n, k, s, p, d, last)
    assert cost.ops.get("cmp", 0) == brute.pool_valid_taps(n, k, s, p, d, last) - hit


# -- 6. the command line --------------------------------------------------------------------------
def _cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


@pytest.fixture
def model_file(tmp_path):
    f = tmp_path / "net.py"
    f.write_text("import layercalc as lc\nobj = 3\n"
                 "def build():\n    return lc.Sequential(lc.Conv2d(3, 8, 3), lc.ReLU())\n"
                 "def boom():\n    raise ZeroDivisionError('division by zero')\n")
    return f


@pytest.mark.parametrize("argv, message", [
    (["summary", "resnet18", "--batch", "1,2"],
     "layercalc: error: --batch '1,2': this command takes one batch size, got 2 (roofline "
     "takes a comma-separated list)"),
    (["compare", "resnet18", "--batch", "1,2"],
     "layercalc: error: --batch '1,2': this command takes one batch size, got 2"),
    (["summary", "resnet18", "--input", "3x" + "9" * 4400],
     "layercalc: error: --input: 4402 characters of text (at most 1000)"),
    (["summary", "resnet18", "--input", "3x" + "9" * 200],
     "layercalc: error: --input '3x999"),
    (["summary", "resnet18", "--depth", "0"],
     "layercalc: error: argument --depth: '0' is not a positive integer"),
    (["summary", "resnet18", "--depth", "-1"],
     "layercalc: error: argument --depth: '-1' is not a positive integer"),
    (["summary", "resnet18", "--input", "3xIxI"],
     "layercalc: error: --input '3xIxI': 'I' is a reserved name"),
])
def test_issue14_cli_one_line_errors(argv, message):
    """Finding 6: tracebacks on --batch 1,2, a 4,400-digit --input; --depth 0 and -1 accepted."""
    code, err = _cli(argv)
    assert code == 2 and err.count("\n") == 1 and err.startswith(message), err


def test_issue14_cli_model_file_not_callable_or_raising(model_file):
    code, err = _cli(["summary", f"{model_file}:obj", "--input", "3x8x8"])
    assert code == 2 and err == (f"layercalc: error: {model_file}:obj is not callable (it is "
                                 "int 3); name a function returning a model\n")
    code, err = _cli(["summary", f"{model_file}:boom", "--input", "3x8x8"])
    assert code == 2 and err == (f"layercalc: error: {model_file}:boom() raised "
                                 "ZeroDivisionError: division by zero\n")
    assert _cli(["summary", f"{model_file}:build", "--input", "3x8x8"])[0] == 0


# -- 7. the smaller findings --------------------------------------------------------------------
@pytest.mark.parametrize("layer", [
    lc.ConvTranspose1d(4, 4, 3, stride=lc.symbols("S")),
    lc.ConvTranspose1d(4, 4, lc.symbols("K"), stride=2, dilation=2),
    lc.ConvTranspose2d(4, 4, 3, stride=(lc.symbols("S"), 1)),
])
def test_issue14_conv_transpose_bias_adds_never_exceed_outputs(layer):
    """Finding 7: symbolic ConvTranspose reported more bias adds than outputs (products that
    meet in one output were counted as covering several)."""
    x = (4, *([H] * layer.ndim))
    c = layer.cost(x)
    outputs = dims_module.prod(layer.output_shape(x))
    for values in ({"H": 3, "S": 1, "K": 3}, {"H": 5, "S": 2, "K": 4}, {"H": 1, "S": 1, "K": 7}):
        known = {k: v for k, v in values.items() if k in {s.name for s in c.free_symbols}}
        assert lc.evaluate(c.bias_adds, **known) <= lc.evaluate(
            outputs, **{k: v for k, v in known.items()
                        if k in {s.name for s in sp.sympify(outputs).free_symbols}})


@pytest.mark.parametrize("name", ["I", "E", "oo", "pi", "nan", "zoo", "sin", "floor", "Max", "O"])
def test_issue14_reserved_symbol_names(name):
    """Finding 7: symbol names such as I, E, oo were accepted and printed like SymPy
    constants."""
    with pytest.raises(lc.LayerSpecError, match=f"symbol name '{name}' is reserved"):
        lc.symbols(f"H {name}")
    with pytest.raises(lc.ParseError, match=f"'{name}' is a reserved name"):
        lc.parse_dims(f"3,{name}")


def test_issue14_canonical_names_still_accepted():
    """S (key length), N and Q print as themselves; layercalc never parses them with SymPy."""
    assert [s.name for s in lc.symbols("S N Q C_in")] == ["S", "N", "Q", "C_in"]


def test_issue14_fuzz_finding_empty_symbolic_slice():
    """Found by tests/test_fuzz.py: ``Slice(c, c)`` with ``c = ceiling(H/2)`` was accepted (SymPy
    rewrites ``ceiling(x) >= ceiling(x) + 1`` into the undecidable ``x > ceiling(x)``) and gave
    a channel size of 0. `dims.ge` now compares the difference."""
    c = sp.ceiling(H / 2)
    with pytest.raises(lc.LayerSpecError) as info:
        lc.Slice(c, c)
    assert str(info.value) == ("Slice: stop (=ceiling(H/2)) must be greater than start "
                               "(=ceiling(H/2)).")
    assert lc.Slice(c, c + 1).output_shape((c + 1, 4)) == (1, 4)
