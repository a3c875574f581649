"""`layercalc.render_as` against the real tools' printouts, character for character.

* torchsummary 1.5.1: ``summary(model, (3, 224, 224), device="cpu")`` captured from stdout;
* ptflops 0.7.5: ``get_model_complexity_info(..., print_per_layer_stat=True, ost=...)``, and
  the two strings it returns;
* torchinfo 1.8.0: ``str(summary(model, input_size=(1, 3, 224, 224)))``;
* fvcore 0.1.5: ``flop_count_table(FlopCountAnalysis(model, x))`` (tabulate 0.10);
* torchstat 0.0.7: its leaf nodes (the values its table prints) and its "Total" lines, in a
  subprocess (torchstat patches module classes for good; its printing needs a
  ``DataFrame.append`` shim under pandas 2, as tests/oracles/generate_peer_numbers.py does).

Models are the plain-PyTorch twins of tests/oracles/torch_models.py. Containers that are not
an nn.Sequential are named through ``containers=`` (ResNet's BasicBlock).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

from oracle_support import fast_build, require_torch

torch = require_torch()
torchsummary = pytest.importorskip("torchsummary", reason="torchsummary not installed: "
                                   "pip install -e '.[oracle]'")
ptflops = pytest.importorskip("ptflops", reason="ptflops not installed")
torchinfo = pytest.importorskip("torchinfo", reason="torchinfo not installed")

import torch_models as tm  # noqa: E402

import layercalc as lc  # noqa: E402
from layercalc import analyze, zoo  # noqa: E402

HERE = Path(__file__).parent
BLOCKS = {f"layer{i}.{j}": "BasicBlock" for i in range(1, 5) for j in range(2)}
#: twin name -> (class name of the root, containers that are not nn.Sequential)
#: (VGG's layout is AlexNet's with BatchNorm, which ResNet has; tests/test_printouts.py checks
#: the recorded ptflops 0.6.6 printout of vgg11_bn)
MODELS = {"alexnet": ("AlexNet", {}), "resnet18": ("ResNet", BLOCKS)}


@lru_cache(maxsize=None)
def _report(name: str) -> lc.Report:
    return analyze(zoo.MODELS[name](), (3, 224, 224))


def _model(name: str):
    return fast_build(tm.MODEL_BUILDERS[name])


def _version(dist: str) -> str:
    import importlib.metadata as md
    return md.version(dist)


@pytest.mark.parametrize("name", ["seed_alexnet", *MODELS])
def test_torchsummary(name):
    """Seed 001's table for its AlexNet and the other twins (seed_alexnet's layout is flat in
    the zoo and nested in the twin: torchsummary's rows do not show the nesting)."""
    if _version("torchsummary") != "1.5.1":
        pytest.skip(f"torchsummary {_version('torchsummary')} installed; rendering is 1.5.1's")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        torchsummary.summary(_model(name), (3, 224, 224), device="cpu")
    containers = MODELS.get(name, ("", {}))[1]
    assert lc.render_as(_report(name), "torchsummary", containers=containers) + "\n" == \
        buf.getvalue()


@pytest.mark.parametrize("name", list(MODELS))
def test_ptflops_075_printout(name):
    """ptflops 0.7.5's per-layer printout (module hooks per row, total with functionals)."""
    if _version("ptflops") != "0.7.5":
        pytest.skip(f"ptflops {_version('ptflops')} installed; rendering is 0.7.5's")
    root, containers = MODELS[name]
    buf = io.StringIO()
    macs, params = ptflops.get_model_complexity_info(
        _model(name), (3, 224, 224), as_strings=False, print_per_layer_stat=True, ost=buf)
    p = lc.printout(_report(name), "ptflops", root=root, containers=containers)
    assert p.text + "\n" == buf.getvalue()
    assert (p.totals["macs"], p.totals["params"]) == (macs, params)
    from ptflops.utils import flops_to_string, params_to_string  # the strings it returns
    assert (p.totals["macs_string"], p.totals["params_string"]) == (
        flops_to_string(macs, None, 2), params_to_string(params, None, 2))


@pytest.mark.parametrize("name", list(MODELS))
def test_torchinfo(name):
    if _version("torchinfo") != "1.8.0" or sys.version_info[:2] != (3, 11):
        pytest.skip("rendering is torchinfo 1.8.0's under Python 3.11 (its Units enum prints "
                    "differently elsewhere)")
    root, containers = MODELS[name]
    theirs = str(torchinfo.summary(_model(name), input_size=(1, 3, 224, 224), verbose=0))
    assert lc.render_as(_report(name), "torchinfo", root=root, containers=containers) == theirs


@pytest.mark.parametrize("name", [*MODELS, "mobilenet_v2"])
def test_fvcore_flop_count_table(name):
    """fvcore's table (MobileNetV2 has a functional pool, counted in the root, and
    single-child containers that fvcore merges into one row, features.1.conv; EfficientNet-B0
    was checked the same way at development time and is left out for time)."""
    fvcore_nn = pytest.importorskip("fvcore.nn", reason="fvcore not installed")
    if _version("fvcore") != "0.1.5.post20221221":
        pytest.skip(f"fvcore {_version('fvcore')} installed; rendering is 0.1.5's")
    fa = fvcore_nn.FlopCountAnalysis(_model(name), torch.zeros(1, 3, 224, 224))
    with contextlib.redirect_stderr(io.StringIO()):
        theirs = fvcore_nn.flop_count_table(fa)
    assert lc.render_as(_report(name), "fvcore") == theirs


_TORCHSTAT = r"""
import contextlib, io, json, sys
import pandas as pd
from torchstat import ModelStat
from torchstat.reporter import report_format
import torch_models as tm
from oracle_support import fast_build
if not hasattr(pd.DataFrame, "append"):  # pandas 2 removed it; reporter.py calls it
    pd.DataFrame.append = lambda self, s: pd.concat([self, s.to_frame().T])
out = {}
for name in sys.argv[1:]:
    with contextlib.redirect_stdout(io.StringIO()):
        nodes = ModelStat(fast_build(tm.MODEL_BUILDERS[name]), (3, 224, 224))._analyze_model()
        text = report_format(nodes)
    out[name] = {
        "nodes": [{"module name": n.name, "input shape": list(n.input_shape),
                   "output shape": list(n.output_shape), "params": int(n.parameter_quantity),
                   "memory(MB)": float(n.inference_memory), "MAdd": int(n.MAdd),
                   "Flops": int(n.Flops), "MemRead(B)": int(n.Memory[0]),
                   "MemWrite(B)": int(n.Memory[1])} for n in nodes],
        "totals": [ln for ln in text.splitlines() if ln.startswith("Total")]}
print(json.dumps(out))
"""


@lru_cache(maxsize=None)
def _torchstat_runs() -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), str(HERE.parent.parent)]))
    names = ["seed_alexnet", *MODELS, "mobilenet_v2"]
    done = subprocess.run([sys.executable, "-c", _TORCHSTAT, *names], capture_output=True,
                          text=True, env=env, timeout=600, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", ["seed_alexnet", *MODELS, "mobilenet_v2"])
def test_torchstat(name):
    """Every leaf node's values and the five Total lines (seed 001 prints them for its
    AlexNet: 'Total memory: 4.98MB' ...)."""
    if _version("torchstat") != "0.0.7":
        pytest.skip(f"torchstat {_version('torchstat')} installed; rendering is 0.0.7's")
    run = _torchstat_runs()[name]
    p = lc.printout(_report(name), "torchstat")
    ours = [dict(row) for row in p.rows]
    for row in ours:
        row["input shape"], row["output shape"] = list(row["input shape"]), list(
            row["output shape"])
        row["memory(MB)"] = float(row["memory(MB)"])
        del row["MemR+W(B)"]
    theirs = [n for n in run["nodes"]]
    if name == "seed_alexnet":  # the zoo's layout is flat (0 ... 20), the twin's nested
        for row, node in zip(ours, theirs):
            assert node["module name"].split(".")[0] in ("features", "classifier")
            row["module name"] = node["module name"]
    for node in theirs:  # inference_memory is a float32
        node["memory(MB)"] = float(torch.tensor(node["memory(MB)"], dtype=torch.float32))
    for row in ours:
        row["memory(MB)"] = float(torch.tensor(row["memory(MB)"], dtype=torch.float32))
    assert ours == theirs
    assert p.text.splitlines() == run["totals"]
