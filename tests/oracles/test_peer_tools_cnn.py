"""Tool-named presets against the real tools on the layer kinds and call styles the CNN
families of issue 12 brought in, run live on their plain-PyTorch twins (twins_cnn.py).

ShuffleNet V2 holds ``x.chunk`` (two `Slice` rows called as a function), ``torch.cat``,
the functional ``channel_shuffle`` (a copy) and ``x.mean([2, 3])`` (`Mean`, a function call
no tool counts); a small DenseNet holds the growing concatenation, ``AvgPool2d`` modules and
the functional ``F.relu`` and ``F.adaptive_avg_pool2d`` of DenseNet's ``forward``. For each,
every in-process tool (ptflops both backends, thop, fvcore, torchinfo, calflops,
FlopCounterMode) is run as ``generate_peer_numbers.py`` runs it, on a 1x3x64x64 input, and
the preset must equal its number exactly. (torchstat, which patches classes for good and so
runs in a process of its own, was checked the same way when these models were added:
ShuffleNet V2 x0.5, SqueezeNet 1.1, MNASNet 0.5, RegNetY-400MF, DenseNet-121 and
EfficientNetV2-S at 64x64, both columns equal.)

Numbers depend on tool versions: a tool whose installed version differs from the one
peer_numbers.json was generated with is skipped, with both versions in the reason.
"""

from __future__ import annotations

import json
from functools import partial

import pytest

from oracle_support import fast_build, require_torch

torch = require_torch()

import generate_peer_numbers as gen  # noqa: E402
import twins_cnn as tc  # noqa: E402

from layercalc import analyze, zoo  # noqa: E402

STORED = json.loads(gen.JSON_PATH.read_text())["environment"]["tool_versions"]
INSTALLED = gen.installed_versions()
TOOL_DIST = {"ptflops_pytorch": "ptflops", "ptflops_aten": "ptflops", "thop": "ultralytics-thop",
             "fvcore": "fvcore", "torchinfo": "torchinfo", "calflops": "calflops",
             "flop_counter": "torch"}
#: preset -> (tool, headline field)
PRESETS = {
    "ptflops": ("ptflops_pytorch", "macs"), "ptflops-aten": ("ptflops_aten", "macs"),
    "thop": ("thop", "ops"), "fvcore": ("fvcore", "total"),
    "torchinfo": ("torchinfo", "total_mult_adds"), "calflops": ("calflops", "flops"),
    "calflops-macs": ("calflops", "macs"), "flopcountermode": ("flop_counter", "total"),
}
SHAPE = (3, 64, 64)
#: name -> (layercalc model factory, torch twin factory)
MODELS = {
    "shufflenet_v2_x0_5": (zoo.shufflenet_v2_x0_5, tc.MODEL_BUILDERS["shufflenet_v2_x0_5"]),
    "densenet_tiny": (partial(zoo.densenet, growth_rate=8, block_config=(2, 2),
                              num_init_features=16),
                      partial(tc.DenseNet, 8, (2, 2), 16)),
}
_LIVE: dict = {}


def live(model: str, tool: str) -> dict:
    if (model, tool) not in _LIVE:
        torch.manual_seed(0)
        _LIVE[(model, tool)] = gen.run_tool(tool, partial(fast_build, MODELS[model][1]),
                                            torch.randn(1, *SHAPE), zoo=True, breakdown=False)
    res = _LIVE[(model, tool)]
    if "error" in res:
        pytest.fail(f"{tool} failed on {model}: {res}")
    return res


def test_the_models_hold_the_new_kinds_and_call_styles():
    kinds = set()
    for make, _ in MODELS.values():
        kinds |= {(r.kind, r.call) for r in analyze(make(), SHAPE).rows}
    assert {("Slice", "functional"), ("ChannelShuffle", "functional"), ("Mean", "functional"),
            ("Concat", "functional"), ("ReLU", "functional"),
            ("AdaptiveAvgPool2d", "functional"), ("AvgPool2d", "module")} <= kinds


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize("model", list(MODELS))
def test_preset_equals_tool(model, preset):
    tool, field = PRESETS[preset]
    for dist in dict.fromkeys(("torch", TOOL_DIST[tool])):
        if INSTALLED.get(dist) != STORED.get(dist):
            pytest.skip(f"{dist} {INSTALLED.get(dist)} is installed, the presets were checked "
                        f"against {dist} {STORED.get(dist)}")
    ours = analyze(MODELS[model][0](), SHAPE).flops(preset)
    theirs = live(model, tool)[field]
    assert ours == theirs, f"{model}: layercalc {preset!r} {ours}, {tool} {theirs}"
