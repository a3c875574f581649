"""Tool-named conventions against the real tools, run live on the PyTorch reference models.

For a subset of the zoo that holds every module kind the zoo uses (basic and bottleneck
residual blocks, max and adaptive-average pools as modules and as a function, ReLU, ReLU6,
SiLU, Hardswish, Hardsigmoid, Sigmoid, squeeze-excitation products, BatchNorm, Dropout,
Linear; ``test_subset_covers_every_module_kind`` keeps it so), each tool is run exactly as
``generate_peer_numbers.py`` runs it, and:

* ``test_tool_reproduces_stored``: its headline numbers equal the ones stored in
  ``peer_numbers.json`` (so the invocations here are the ones that made the file, and the
  in-process runs are not disturbed by each other);
* ``test_preset_equals_tool``: ``analyze(zoo_model(), (3, 224, 224)).flops(preset)`` equals
  the tool's number, for every tool-named preset. A preset layercalc does not define yet
  fails with a message naming it;
* ``test_torchvision_preset``: the ``torchvision`` preset rounds to torchvision's published
  GFLOPS and equals half of ``FlopCounterMode``'s count (conv + linear MACs, no bias).

Tool numbers depend on the tool's version: when an installed tool (or torch) differs from the
versions recorded in the JSON, the tests of that tool skip with both versions in the reason.
torchstat patches module classes for good, so it runs in a subprocess of its own.
"""

from __future__ import annotations

import json
from functools import lru_cache, partial

import pytest

from oracle_support import fast_build, require_torch, zoo_builder

torch = require_torch()

import generate_peer_numbers as gen  # noqa: E402
import torch_models as tm  # noqa: E402

from layercalc import CONVENTIONS, analyze  # noqa: E402

STORED = json.loads(gen.JSON_PATH.read_text())
INSTALLED = gen.installed_versions()

#: Models run through the tools: together they contain every module kind of the zoo.
SUBSET = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
          "vgg11_bn", "alexnet"]

#: layercalc preset name -> (tool key in the JSON, headline field).
PRESETS = {
    "ptflops": ("ptflops_pytorch", "macs"),
    "ptflops-aten": ("ptflops_aten", "macs"),
    "thop": ("thop", "ops"),
    "fvcore": ("fvcore", "total"),
    "torchinfo": ("torchinfo", "total_mult_adds"),
    "calflops": ("calflops", "flops"),
    "calflops-macs": ("calflops", "macs"),
    "flopcountermode": ("flop_counter", "total"),
    "torchstat-madd": ("torchstat", "MAdd"),
    "torchstat-flops": ("torchstat", "Flops"),
}

#: Fields compared with the JSON, per tool (headline numbers and the tool's own params).
STORED_FIELDS = {
    "ptflops_pytorch": ("macs", "params"),
    "ptflops_aten": ("macs", "params"),
    "thop": ("ops", "params"),
    "fvcore": ("total",),
    "torchinfo": ("total_mult_adds", "total_params"),
    "torchstat": ("MAdd", "Flops", "MemRW_B", "params", "report_lines"),
    "calflops": ("flops", "macs", "params"),
    "flop_counter": ("total",),
}

#: The distribution whose version decides each tool's numbers (besides torch).
TOOL_DIST = {
    "ptflops_pytorch": "ptflops", "ptflops_aten": "ptflops", "thop": "ultralytics-thop",
    "fvcore": "fvcore", "torchinfo": "torchinfo", "torchstat": "torchstat",
    "calflops": "calflops", "flop_counter": "torch",
}


def _skip_unless_stored_versions(tool: str) -> None:
    stored = STORED["environment"]["tool_versions"]
    for dist in dict.fromkeys(("torch", TOOL_DIST[tool])):
        if INSTALLED.get(dist) != stored.get(dist):
            pytest.skip(f"{dist} {INSTALLED.get(dist)} is installed but peer_numbers.json was "
                        f"generated with {dist} {stored.get(dist)}; its counts may differ")


_LIVE: dict[tuple[str, str], dict] = {}


def live(model: str, tool: str) -> dict:
    """The tool's headline result on reference model `model` (cached for the session)."""
    key = (model, tool)
    if key not in _LIVE:
        if tool == "torchstat":  # class-wide patches: one subprocess for the whole subset
            names = [model] + [m for m in SUBSET if m != model]
            for name, res in gen.run_many_in_subprocess("zoo", names, tool,
                                                        breakdown=False).items():
                _LIVE[(name, tool)] = res
        else:
            torch.manual_seed(0)
            x = torch.randn(1, 3, 224, 224)
            factory = partial(fast_build, tm.MODEL_BUILDERS[model])
            _LIVE[key] = gen.run_tool(tool, factory, x, zoo=True, breakdown=False)
    res = _LIVE[key]
    if "error" in res:
        pytest.fail(f"{tool} failed on {model}: {res}")
    return res


@lru_cache(maxsize=None)
def report(model: str):
    return analyze(zoo_builder(model)(), (3, 224, 224))


def test_stored_versions_are_installed():
    stored = STORED["environment"]["tool_versions"]
    differ = {d: (INSTALLED.get(d), v) for d, v in stored.items() if INSTALLED.get(d) != v}
    if differ:
        pytest.skip("installed versions differ from those peer_numbers.json was generated "
                    "with (installed, stored): "
                    + ", ".join(f"{d} {a} vs {b}" for d, (a, b) in differ.items()))


def test_subset_covers_every_module_kind():
    """SUBSET holds every (layer kind, call style) of the zoo models with a torch twin."""

    def kinds(name):
        return {(r.kind, r.call) for r in report(name).rows}

    everywhere = set().union(*(kinds(name) for name in tm.MODEL_BUILDERS))
    covered = set().union(*(kinds(name) for name in SUBSET))
    assert everywhere <= covered, f"not covered by SUBSET: {sorted(everywhere - covered)}"


@pytest.mark.parametrize("tool", gen.TOOLS)
@pytest.mark.parametrize("model", SUBSET)
def test_tool_reproduces_stored(model, tool):
    _skip_unless_stored_versions(tool)
    res = live(model, tool)
    stored = STORED["models"][model][tool]
    got = {f: res.get(f) for f in STORED_FIELDS[tool]}
    want = {f: stored.get(f) for f in STORED_FIELDS[tool]}
    assert got == want


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize("model", SUBSET)
def test_preset_equals_tool(model, preset):
    tool, field = PRESETS[preset]
    if preset not in CONVENTIONS:
        pytest.fail(f"layercalc has no convention named {preset!r}; it should reproduce "
                    f"{tool} ({field}). Known conventions: {', '.join(sorted(CONVENTIONS))}")
    _skip_unless_stored_versions(tool)
    ours = report(model).flops(preset)
    theirs = live(model, tool)[field]
    assert ours == theirs, f"{model}: layercalc {preset!r} {ours}, {tool} {field} {theirs} " \
        f"(difference {ours - theirs:+d})"


@pytest.mark.parametrize("model", SUBSET)
def test_torchvision_preset(model):
    if "torchvision" not in CONVENTIONS:
        pytest.fail("layercalc has no convention named 'torchvision'; it should reproduce "
                    "torchvision's published GFLOPS (meta['_ops']). Known conventions: "
                    + ", ".join(sorted(CONVENTIONS)))
    ours = report(model).flops("torchvision")
    assert round(ours / 1e9, 3) == tm.TORCHVISION_GFLOPS[model]
    _skip_unless_stored_versions("flop_counter")
    assert 2 * ours == live(model, "flop_counter")["total"]
