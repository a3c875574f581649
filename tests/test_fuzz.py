"""Issue 14: fuzzing every registered layer and the command line.

* Every layer in ``layercalc.LAYERS``, built generically from its dataclass fields
  (`strategies.any_layer`: the metadata of `dim()`, `dims()`, `choice()`, `flag()`, `real()`,
  defaults, type hints), with valid and invalid constructor arguments and input shapes
  (junk values, symbols, huge values, wrong ranks): each call either returns an output shape of
  positive sizes and a `Cost` of non-negative integer counts (or SymPy expressions), or raises a
  `LayerCalcError`. Never another exception, and never an invalid `Cost` (a layer building one
  is a bug, reported as ``Cost: ...``).
* A numeric success is also computed with one input size replaced by a symbol: substituting the
  value back gives the same counts (or the symbolic call raises `LimitError`).
* The command line, in process (`layercalc.cli.main`), with generated argv: exit 0, or exit 2
  with one line ``layercalc: error: ...`` on stderr; never a traceback.

The default profile runs in well under a minute. ``LAYERCALC_FUZZ=long`` runs 20 times more
examples (a few minutes): ``LAYERCALC_FUZZ=long python -m pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import layercalc as lc
from layercalc.cli import main
from layercalc.dims import show
from strategies import any_layer, input_shapes

LONG = os.environ.get("LAYERCALC_FUZZ", "") == "long"
SCALE = 20 if LONG else 1
FUZZ = settings(max_examples=30 * SCALE, deadline=None, derandomize=not LONG,
                suppress_health_check=list(HealthCheck))
NAMES = sorted(lc.LAYERS)


def _check_size(v, where):
    if type(v) is int:
        assert v >= 1, f"{where}: size {v}"
    else:
        assert isinstance(v, sp.Expr), f"{where}: size {v!r} of type {type(v).__name__}"
        assert v.is_positive is not False, f"{where}: size {v} is not positive"


def _check_count(name, v, where):
    if type(v) is int:
        assert v >= 0, f"{where}: {name} = {v}"
    else:
        assert isinstance(v, sp.Expr), f"{where}: {name} = {v!r} ({type(v).__name__})"
        assert v.is_negative is not True, f"{where}: {name} = {v} is negative"


def _run(layer, shapes):
    """(output shape, cost) or the LayerCalcError; any other exception propagates."""
    try:
        y = layer.output_shape(*shapes)
        cost = layer.cost(*shapes)
    except lc.LayerCalcError as e:
        # an error about layercalc's own objects is a bug in the layer, not a user error
        assert not str(e).startswith(("Cost", "layercalc:")), f"{show(layer)}: {e}"
        return None, e
    return (y, cost), None


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(data=st.data())
def test_issue14_fuzz_every_layer(name, data):
    layer, error = data.draw(any_layer(name), label="layer")
    if layer is None:
        assert isinstance(error, lc.LayerCalcError)
        return
    shapes = data.draw(input_shapes(layer), label="shapes")
    where = f"{show(layer, 400)} on {show(shapes, 400)}"
    got, error = _run(layer, shapes)
    if got is None:
        return
    y, cost = got
    assert isinstance(y, tuple), where
    # a multi-output layer (Split, Chunk) gives a tuple of shapes, one per output
    for out in (y if y and all(isinstance(o, tuple) for o in y) else (y,)):
        assert isinstance(out, tuple), where
        for v in out:
            _check_size(v, where)
    assert isinstance(cost, lc.Cost), where
    for k, v in cost.counts().items():
        _check_count(k, v, where)


def _symbolic_fields(layer) -> bool:
    values = [v for f in dataclasses.fields(layer) for v in (
        getattr(layer, f.name) if isinstance(getattr(layer, f.name), tuple)
        else (getattr(layer, f.name),))]
    return any(isinstance(v, sp.Basic) and v.free_symbols for v in values)


def _numeric(shapes) -> bool:
    return all(isinstance(s, tuple) and all(type(v) is int and v <= 4096 for v in s)
               for s in shapes)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=12 * SCALE, deadline=None, derandomize=not LONG,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_issue14_symbolic_then_substituted_equals_numeric(name, data):
    """A size replaced by a symbol H, then H substituted back: the same counts."""
    layer, _ = data.draw(any_layer(name), label="layer")
    if layer is None or _symbolic_fields(layer):  # (symbolic fields: fuzzed above)
        return
    shapes = data.draw(input_shapes(layer), label="shapes")
    if not _numeric(shapes) or not shapes or not shapes[0]:
        return
    got, _ = _run(layer, shapes)
    if got is None:
        return
    H = lc.symbols("Z_fuzz")  # a symbol no generated layer field holds
    i = data.draw(st.integers(0, len(shapes[0]) - 1), label="axis")
    value = shapes[0][i]
    sym = [tuple(H if (j, a) == (0, i) else v for a, v in enumerate(s))
           for j, s in enumerate(shapes)]
    try:
        cost = layer.cost(*sym)
    except lc.LimitError:
        return
    except lc.ShapeError as e:
        # a layer's number of outputs must be a number (Split/Chunk of a symbolic size into
        # pieces of a fixed size): documented, and refused with this message
        if "number of pieces that depends on the symbols" in str(e):
            return
        pytest.fail(f"{layer!r}: numeric {shapes} works, symbolic {sym} raises {e}")
    except lc.LayerCalcError as e:
        pytest.fail(f"{layer!r}: numeric {shapes} works, symbolic {sym} raises {e}")
    assert cost.subs(H, value).counts() == got[1].counts(), f"{layer!r} on {sym}, H={value}"


# -- the command line -------------------------------------------------------------------------
TINY = """import layercalc as lc
obj = 3
def build():
    return lc.Sequential(lc.Conv2d(3, 8, 3, padding=1), lc.BatchNorm2d(8), lc.ReLU(),
                         lc.AdaptiveAvgPool2d(1), lc.Flatten(), lc.Linear(8, 10))
def boom():
    raise RuntimeError("broken model file")
def notamodel():
    return "not a model"
"""

TEXT = st.text(alphabet="0123456789xXHW,+-*/() _.'\"a\u00e9\x00", max_size=12)
INPUTS = st.one_of(st.sampled_from(["3x224x224", "3x32x32", "3,32,32", "3xHxW", "3x0x4",
                                    "3x" + "9" * 4400, "3x__import__('os')", "4x32x32",
                                    "3xIxI", "", "x", "3x2.5x4"]), TEXT)
BATCHES = st.one_of(st.sampled_from(["1", "2", "1,2", "0", "-1", "B", "2.5", "1,8,64", "I",
                                     "9" * 400]), TEXT)
INTS = st.sampled_from(["1", "2", "0", "-1", "x", "1.5", "99999999999"])


@st.composite
def argv(draw, models):
    command = draw(st.sampled_from(["summary", "compare", "roofline", "list", "frobnicate"]))
    if command == "list":
        return [command, draw(st.sampled_from(["models", "layers", "conventions", "nope"]))]
    args = [command, draw(st.sampled_from(models))]
    options = {
        "--input": INPUTS, "--batch": BATCHES, "--depth": INTS,
        "--format": st.sampled_from(["table", "md", "csv", "json", "latex", "yaml"]),
        "--convention": st.sampled_from(["macs", "exact", "2*macs", "exat", "torchvision"]),
        "--conventions": st.sampled_from(["exact,macs", "nope", ",", "macs"]),
        "--baseline": st.sampled_from(["torchvision", "none", "nope"]),
        "--hardware": st.sampled_from(["t4", "a100", "a100-sxm4-80gb", "tpu", ""]),
        "--dtype": st.sampled_from(["fp16", "int8", "fp8", "x"]),
        "--memory-model": st.sampled_from(["compulsory", "no_reuse", "no-reuse"]),
        "--top": INTS,
    }
    for name in draw(st.lists(st.sampled_from(sorted(options)), max_size=4, unique=True)):
        args += [name, draw(options[name])]
    if draw(st.booleans()):
        args.append(draw(st.sampled_from(["--by-kind", "--fuse", "--unknown-flag"])))
    if command == "roofline" and "--hardware" not in args and draw(st.booleans()):
        args += ["--hardware", "t4"]
    return args


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "tiny.py"
    path.write_text(TINY)
    return path


def test_issue14_fuzz_cli(model_file):
    models = [f"{model_file}:{fn}" for fn in ("build", "obj", "boom", "notamodel", "nope")]
    models += ["seed_alexnet", "resnet5", f"{model_file.parent}/missing.py:build"]

    @settings(max_examples=150 * SCALE, deadline=None, derandomize=not LONG,
              suppress_health_check=list(HealthCheck))
    @given(args=argv(models))
    def run(args):
        if args[:2] == ["summary", "seed_alexnet"] and any("H" in a or "W" in a for a in args):
            args = [a.replace("H", "224").replace("W", "224") for a in args]  # keep it fast
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as e:  # argparse's --help / --version
                code = e.code
        message = err.getvalue()
        assert code in (0, 2), f"{args}: exit {code}\n{message}"
        if code == 2:
            assert message.startswith("layercalc: error: ") and message.count("\n") == 1, (
                f"{args}: {message!r}")
            assert "Traceback" not in message

    run()
