"""Every zoo model against its plain-PyTorch twin in ``torch_models.py``.

The PyTorch models are written independently of the zoo (from the papers and torchvision's
code; torchvision itself is not needed). For each of the 25 reference models:

* parameter count, buffer count (BatchNorm running statistics) and the output shape of a
  batch-1 forward pass at 224x224 equal PyTorch's exactly;
* every leaf module's output shape and own parameter count equal the report row with the same
  path (torchvision's module paths; the two models without a torchvision counterpart are
  compared layer by layer in call order instead);
* at odd resolutions the output shapes agree too, or both reject the input (AlexNet's last
  max-pool leaves nothing at 33x47; the seed AlexNet's classifier needs exactly 6x6).
"""

from __future__ import annotations

import pytest

from oracle_support import fast_build, require_torch, zoo_builder

torch = require_torch()

import torch_models as tm  # noqa: E402
import torch_transformers as tt  # noqa: E402
import twins_cnn as tc  # noqa: E402  (the issue-12 CNN families: test_zoo_cnn_vs_torch.py)
import twins_vit as tv_twins  # noqa: E402
import twins_graph as tg  # noqa: E402  (inception_v3, googlenet, unet: test_zoo_graph_vs_torch)

from layercalc import LayerCalcError, analyze  # noqa: E402
from layercalc.zoo import MODELS  # noqa: E402

NAMES = list(tm.MODEL_BUILDERS)
#: Models whose module paths are torchvision's (so the zoo's report paths must match).
TORCHVISION_PATHS = [n for n in NAMES if n not in ("seed_alexnet", "mobilenet_v1")]
#: Extra input sizes: odd, non-square, and one small enough to break AlexNet.
ODD_INPUTS = [(3, 193, 171), (3, 33, 47)]
#: Leaf module kinds compared in call order for every model.
PARAM_KINDS = ("Conv2d", "BatchNorm2d", "Linear")


def _leaf_trace(model, input_shape):
    """Forward a zero batch of one; return (output shape without batch, [(path, class name,
    output shape without batch, own param count)] per leaf module call, in call order)."""
    calls = []
    hooks = []
    for path, mod in model.named_modules():
        if next(mod.children(), None) is None:
            own = sum(p.numel() for p in mod.parameters(recurse=False))

            def hook(m, _inp, out, path=path, own=own):
                calls.append((path, type(m).__name__, tuple(out.shape[1:]), own))

            hooks.append(mod.register_forward_hook(hook))
    try:
        with torch.no_grad():
            y = model(torch.zeros(1, *input_shape))
    finally:
        for h in hooks:
            h.remove()
    return tuple(y.shape[1:]), calls


@pytest.fixture(scope="module", params=NAMES)
def pair(request):
    """(name, torch model, zoo model), built once per model; one model alive at a time."""
    name = request.param
    yield name, fast_build(tm.MODEL_BUILDERS[name]), zoo_builder(name)()


#: Zoo models with no plain-PyTorch twin in torch_models.py, torch_transformers.py or
#: twins_cnn.py or twins_vit.py yet (the transformer twins are checked in
#: test_transformers_vs_torch.py, the CNN families of issue 12 in test_zoo_cnn_vs_torch.py, the
#: ConvNeXt, Swin and MaxViT twins in test_vit_vs_torch.py). A model added to the zoo must get
#: a twin or be listed here.
NO_TWIN_YET: set = set()
#: Zoo models checked against ``transformers`` itself on the meta device, with block twins in
#: torch_moe_ssm.py (test_moe_ssm_vs_torch.py).
TRANSFORMERS_ORACLE = {"mixtral_8x7b", "mixtral_8x22b", "qwen1_5_moe_a2_7b", "mamba_130m",
                       "mamba_370m", "mamba_790m", "mamba_1_4b", "mamba_2_8b"}


def test_every_zoo_model_has_a_torch_twin():
    twinned = {n[: -len("_v1")] if n.startswith("resnet") and n.endswith("_v1") else n
               for n in NAMES} | set(tt.MODEL_BUILDERS) | set(tc.MODEL_BUILDERS)
    twinned |= set(tv_twins.MODEL_BUILDERS) | set(tg.MODEL_BUILDERS)
    lacking = sorted(set(MODELS) - twinned - NO_TWIN_YET - TRANSFORMERS_ORACLE)
    assert not lacking, f"zoo models without a torch_models twin: {lacking}"
    assert not NO_TWIN_YET & twinned, "NO_TWIN_YET lists models that now have a twin"


def test_params_and_buffers(pair):
    name, model, zoo_model = pair
    report = analyze(zoo_model, (3, 224, 224))
    params = sum(p.numel() for p in model.parameters())
    assert params == tm.EXPECTED_NUM_PARAMS[name]  # the oracle itself is right
    assert report.total.params == params
    # BatchNorm running mean and variance; num_batches_tracked is a step counter, not values
    buffers = sum(b.numel() for n, b in model.named_buffers()
                  if not n.endswith("num_batches_tracked"))
    assert report.total.buffers == buffers


@pytest.mark.parametrize("input_shape", [(3, 224, 224), *ODD_INPUTS],
                         ids=lambda s: "x".join(map(str, s)))
def test_shapes_per_module(pair, input_shape):
    name, model, zoo_model = pair
    try:
        y, calls = _leaf_trace(model, input_shape)
    except RuntimeError as torch_error:
        with pytest.raises(LayerCalcError):
            analyze(zoo_model, input_shape)
        assert input_shape != (3, 224, 224), torch_error
        return
    report = analyze(zoo_model, input_shape)
    assert report.output_shape == y

    rows = [r for r in report.rows if r.kind in PARAM_KINDS]
    ours = [(r.kind, tuple(r.output_shape), r.cost.params) for r in rows]
    theirs = [(k, s, p) for _path, k, s, p in calls if k in PARAM_KINDS]
    assert ours == theirs

    if name in TORCHVISION_PATHS:
        # path -> output shapes, one per call (ResNet calls one ``relu`` module 2-3 times)
        theirs_by_path: dict[str, list] = {}
        for path, _k, shape, _p in calls:
            theirs_by_path.setdefault(path, []).append(shape)
        ours_by_path: dict[str, list] = {}
        for r in report.rows:
            ours_by_path.setdefault(r.path, []).append(tuple(r.output_shape))
        missing = sorted(set(theirs_by_path) - set(ours_by_path))
        assert not missing, f"torch leaf modules with no report row of the same path: {missing}"
        bad = [(path, shapes, ours_by_path[path]) for path, shapes in theirs_by_path.items()
               if ours_by_path[path] != shapes]
        assert not bad, f"(path, torch shapes, layercalc shapes): {bad}"
        own = {path: p for path, _k, _s, p in calls}
        params = {r.path: r.cost.params for r in report.rows}
        badp = [(path, p, params[path]) for path, p in own.items() if params[path] != p]
        assert not badp, f"(path, torch params, layercalc params): {badp}"
