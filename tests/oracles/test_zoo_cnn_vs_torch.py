"""The torchvision CNN families of issue 12 against their plain-PyTorch twins (twins_cnn.py).

For each of the 44 models (DenseNet, ShuffleNet V2, SqueezeNet, RegNet X/Y, MNASNet,
EfficientNet B1-B7 and V2, wide ResNet, ResNeXt):

* parameters and buffers (BatchNorm running statistics) equal PyTorch's, counted on the meta
  device (no storage: regnet_y_128gf's 645M parameters cost nothing), and torchvision's
  published ``num_params`` (tests/golden/zoo_cnn.toml);
* every leaf module's output shape and own parameter count equal the report row with the same
  (torchvision) path, and the Conv2d/BatchNorm2d/Linear calls agree in order, at two
  resolutions: the weights' crop size and an odd, non-square 67x45, by forward passes on the
  meta device (PyTorch's own shape functions, no arithmetic, so regnet_y_128gf at 384 costs
  what a small model does); the smallest model of each family also runs a real CPU forward
  (zero weights) at 67x45;
* ``FlopCounterMode`` on the twin at the crop size equals layercalc's ``flopcountermode``
  preset exactly, and half of it is torchvision's ``_ops`` to every printed digit.

Also: the RegNet generator (``zoo.BlockParams.from_init_params``, NumPy float32) equals
torchvision's torch implementation on random settings.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle_support import fast_build, require_torch

torch = require_torch()

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import twins_cnn as tc  # noqa: E402

from layercalc import analyze, zoo  # noqa: E402

GOLDEN = Path(__file__).parents[1] / "golden" / "zoo_cnn.toml"
with GOLDEN.open("rb") as _f:
    ROWS = tomllib.load(_f)["model"]
#: name -> crop of its default weights; name -> published num_params
CROP = {r["name"]: tuple(r["input"]) for r in ROWS if r["default"]}
NUM_PARAMS = {r["name"]: r["num_params"] for r in ROWS}
NAMES = [n for n in tc.MODEL_BUILDERS]
ODD = (3, 67, 45)
PARAM_KINDS = ("Conv2d", "BatchNorm2d", "Linear")


def test_twins_cover_the_new_families():
    assert set(NAMES) == set(CROP) - {"efficientnet_b0"}  # b0's twin is in torch_models.py
    assert set(NAMES) <= set(zoo.MODELS)


def _meta(name: str):
    with torch.device("meta"):
        return tc.MODEL_BUILDERS[name]().eval()


def _trace(model, shape, device):
    """(output shape, [(path, class, output shape, own params)] per leaf call, FLOPs)."""
    calls, hooks = [], []
    for path, mod in model.named_modules():
        if next(mod.children(), None) is None:
            own = sum(p.numel() for p in mod.parameters(recurse=False))
            hooks.append(mod.register_forward_hook(
                lambda m, _i, out, path=path, own=own:
                calls.append((path, type(m).__name__, tuple(out.shape[1:]), own))))
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as fcm:
            y = model(torch.zeros(1, *shape, device=device))
    finally:
        for h in hooks:
            h.remove()
    return tuple(y.shape[1:]), calls, fcm.get_total_flops()


def _compare(report, y, calls):
    assert report.output_shape == y
    ours = [(r.kind, tuple(r.output_shape), r.cost.params) for r in report.rows
            if r.kind in PARAM_KINDS]
    assert ours == [(k, s, p) for _path, k, s, p in calls if k in PARAM_KINDS]
    theirs_by_path: dict[str, list] = {}
    for path, _k, shape, _p in calls:
        theirs_by_path.setdefault(path, []).append(shape)
    ours_by_path: dict[str, list] = {}
    for r in report.rows:
        ours_by_path.setdefault(r.path, []).append(tuple(r.output_shape))
    missing = sorted(set(theirs_by_path) - set(ours_by_path))
    assert not missing, f"torch leaf modules with no report row of the same path: {missing}"
    bad = [(p, s, ours_by_path[p]) for p, s in theirs_by_path.items() if ours_by_path[p] != s]
    assert not bad, f"(path, torch shapes, layercalc shapes): {bad[:5]}"
    params = {r.path: r.cost.params for r in report.rows}
    badp = [(p, n, params[p]) for p, _k, _s, n in calls if params[p] != n]
    assert not badp, f"(path, torch params, layercalc params): {badp[:5]}"


@pytest.mark.parametrize("name", NAMES)
def test_params_buffers_shapes_and_flops(name):
    """One meta-device twin per model: params and buffers, then every module's shape and the
    FlopCounterMode total at the crop size and at an odd size."""
    model = _meta(name)
    ours = zoo.get_model(name)()
    params = sum(p.numel() for p in model.parameters())
    assert params == NUM_PARAMS[name]  # the twin itself is torchvision's model
    buffers = sum(b.numel() for n, b in model.named_buffers()
                  if not n.endswith("num_batches_tracked"))
    for shape in (CROP[name], ODD):
        report = analyze(ours, shape)
        assert (report.total.params, report.total.buffers) == (params, buffers)
        y, calls, flops = _trace(model, shape, "meta")
        _compare(report, y, calls)
        assert report.flops("flopcountermode") == flops
        assert 2 * report.flops("torchvision") == flops


#: Real CPU forwards (zero weights) of the smallest model of each family, at the odd size.
CPU_MODELS = ["densenet121", "shufflenet_v2_x0_5", "squeezenet1_1", "regnet_y_400mf",
              "regnet_x_400mf", "mnasnet0_5", "efficientnet_v2_s", "resnext50_32x4d"]


@pytest.mark.parametrize("name", CPU_MODELS)
def test_real_forward_shapes_at_an_odd_size(name):
    torch.set_num_threads(1)  # small tensors: threads only contend on a shared machine
    y, calls, flops = _trace(fast_build(tc.MODEL_BUILDERS[name]), ODD, "cpu")
    report = analyze(zoo.get_model(name)(), ODD)
    _compare(report, y, calls)
    assert report.flops("flopcountermode") == flops


def test_resnet_dilation_against_torch():
    """replace_stride_with_dilation (torchvision's segmentation backbones) at 224 and odd."""
    for shape in [(3, 224, 224), ODD]:
        with torch.device("meta"):
            model = tc.resnet("bottleneck", [3, 4, 6, 3], groups=32, width_per_group=4,
                              replace_stride_with_dilation=[False, True, True]).eval()
        y, calls, flops = _trace(model, shape, "meta")
        report = analyze(zoo.resnext50_32x4d(replace_stride_with_dilation=[False, True, True]),
                         shape)
        _compare(report, y, calls)
        assert report.flops("flopcountermode") == flops


@settings(max_examples=150, deadline=None)
@given(depth=st.integers(1, 40), w0=st.integers(1, 60), w_a=st.floats(0, 200),
       w_m=st.floats(1.001, 4), group_width=st.sampled_from([1, 8, 16, 24, 48, 56, 112, 232]),
       bm=st.sampled_from([0.25, 0.5, 1.0, 2.0, 4.0]), digits=st.integers(0, 6))
def test_regnet_generator_equals_torchvisions_float32(depth, w0, w_a, w_m, group_width, bm,
                                                      digits):
    """Same widths, depths and groups as torchvision's torch.float32 generator."""
    kw = dict(depth=depth, w_0=8 * w0, w_a=round(w_a, digits), w_m=round(w_m, digits) or 2.0,
              group_width=group_width, bottleneck_multiplier=bm)
    if kw["w_m"] <= 1:
        kw["w_m"] = 1.5
    theirs = tc.BlockParams.from_init_params(**kw)
    ours = zoo.BlockParams.from_init_params(**kw)
    assert (ours.depths, ours.widths, ours.group_widths, ours.strides) == (
        theirs.depths, theirs.widths, theirs.group_widths, theirs.strides)
