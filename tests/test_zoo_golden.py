"""Golden values for the model zoo: published parameter counts and multiply-accumulates.

Table-driven. Values come from ``tests/golden/values.toml`` when it has the row (its
``source`` field cites where each number was read); otherwise from the tables below, each
row with its source in a comment. Every row names the architecture variant it belongs to.

torchvision's ``_ops`` ("GFLOPS" in its docs) counts multiply-accumulates of conv and
linear layers only, which is our ``"macs"`` convention: BN, activations, pooling, the SE
multiply and the residual adds are not MACs.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

import pytest

from layercalc import UnknownNameError, analyze, symbols
from layercalc.zoo import DEFAULT_INPUTS, MODELS, get_model

VALUES = Path(__file__).parent / "golden" / "values.toml"
INPUT = (3, 224, 224)


@lru_cache(maxsize=None)
def _toml_rows() -> tuple[dict, ...]:
    if not VALUES.exists():
        return ()
    with VALUES.open("rb") as f:
        return tuple(tomllib.load(f).get("model", ()))


def _from_toml(name: str, quantity: str, variant_has: str, default):
    """The value of the matching values.toml row, or `default` when the file or row is
    missing. Rows must be unitless exact counts (params) or torchvision ``_ops`` rows."""
    for row in _toml_rows():
        if (row.get("name") == name and row.get("quantity") == quantity
                and variant_has in row.get("variant", "")
                and list(row.get("input", INPUT)) == list(INPUT)
                and (quantity != "params" or "unit" not in row)):
            return row["value"]
    return default


@lru_cache(maxsize=None)
def _total(name: str, **kwargs):
    return analyze(get_model(name)(**kwargs), INPUT).total


def _cached_total(name: str, variant: str = ""):
    return _total(name, **({"variant": variant} if variant else {}))


# (model, variant, num_params, _ops GFLOPS as printed in the docs table).
# source for every row: torchvision/models/<file>.py weights metadata IMAGENET1K_V1
# ("num_params" and "_ops"), the file named in the comment.
TORCHVISION = [
    ("alexnet", "torchvision AlexNet", 61_100_840, 0.71),  # alexnet.py
    ("vgg11", "torchvision VGG config A, no BN", 132_863_336, 7.61),  # vgg.py
    ("vgg11_bn", "torchvision VGG config A with BatchNorm", 132_868_840, 7.61),  # vgg.py
    ("vgg13", "torchvision VGG config B, no BN", 133_047_848, 11.31),  # vgg.py
    ("vgg13_bn", "torchvision VGG config B with BatchNorm", 133_053_736, 11.31),  # vgg.py
    ("vgg16", "torchvision VGG config D, no BN", 138_357_544, 15.47),  # vgg.py
    ("vgg16_bn", "torchvision VGG config D with BatchNorm", 138_365_992, 15.47),  # vgg.py
    ("vgg19", "torchvision VGG config E, no BN", 143_667_240, 19.63),  # vgg.py
    ("vgg19_bn", "torchvision VGG config E with BatchNorm", 143_678_248, 19.63),  # vgg.py
    ("resnet18", "torchvision ResNet-18 (BasicBlock)", 11_689_512, 1.81),  # resnet.py
    ("resnet34", "torchvision ResNet-34 (BasicBlock)", 21_797_672, 3.66),  # resnet.py
    ("resnet50", "v1.5 torchvision", 25_557_032, 4.09),  # resnet.py
    ("resnet101", "v1.5 torchvision", 44_549_160, 7.80),  # resnet.py
    ("resnet152", "v1.5 torchvision", 60_192_808, 11.51),  # resnet.py
    ("mobilenet_v2", "torchvision MobileNetV2 width 1.0", 3_504_872, 0.3),  # mobilenetv2.py
    ("mobilenet_v3_large", "torchvision MobileNetV3-Large width 1.0", 5_483_032, 0.22),  # mobilenetv3.py
    ("mobilenet_v3_small", "torchvision MobileNetV3-Small width 1.0", 2_542_856, 0.06),  # mobilenetv3.py
    ("efficientnet_b0", "torchvision EfficientNet-B0", 5_288_548, 0.39),  # efficientnet.py
]


def _ids(rows):
    return [r[0] for r in rows]


@pytest.mark.parametrize("name, variant, params, gflops", TORCHVISION, ids=_ids(TORCHVISION))
def test_params_equal_torchvision_num_params(name, variant, params, gflops):
    expected = _from_toml(name, "params", variant, params)
    assert expected == params, f"values.toml and the fallback table disagree for {name}"
    # BN weight+bias are parameters, running statistics are buffers (torchvision counts
    # model.parameters() only).
    assert _cached_total(name).params == expected


@pytest.mark.parametrize("name, variant, params, gflops", TORCHVISION, ids=_ids(TORCHVISION))
def test_macs_equal_torchvision_ops(name, variant, params, gflops):
    r = analyze(get_model(name)(), INPUT)
    macs = r.flops("macs")
    assert macs == r.total.macs
    # the docs table prints 2 decimals ...
    assert round(macs / 1e9, 2) == gflops
    # ... the weights metadata more (0.714, 4.089, ...): every printed digit must agree.
    ops = _from_toml(name, "gflops_torchvision", variant, None)
    if ops is not None:
        digits = len(repr(float(ops)).split(".")[1])
        assert round(macs / 1e9, digits) == pytest.approx(ops, abs=1e-12)


# He et al. 2016, Table 1 "FLOPs" (multiply-adds; text: "3.6 billion FLOPs
# (multiply-adds)"), ResNet v1: stride on the bottleneck's first 1x1 (variant="v1").
# The paper does not round to nearest (3.664 -> 3.6, 3.858 -> 3.8 but 7.570 -> 7.6), so the
# check is "within one unit of the last printed digit".
RESNET_PAPER = [
    ("resnet18", "original paper ResNet-18", 1.8),  # He et al. 2016, Table 1
    ("resnet34", "original paper ResNet-34", 3.6),  # He et al. 2016, Table 1
    ("resnet50", "v1 original paper", 3.8),  # He et al. 2016, Table 1
    ("resnet101", "v1 original paper", 7.6),  # He et al. 2016, Table 1
    ("resnet152", "v1 original paper", 11.3),  # He et al. 2016, Table 1
]


@pytest.mark.parametrize("name, variant, gmacs", RESNET_PAPER, ids=_ids(RESNET_PAPER))
def test_resnet_v1_paper_macs(name, variant, gmacs):
    expected = _from_toml(name, "macs", variant, gmacs)
    assert expected == gmacs
    macs = _cached_total(name, "v1").macs
    assert abs(macs / 1e9 - expected) < 0.1


def test_resnet_v1_is_cheaper_than_v15_and_basic_blocks_do_not_care():
    for name in ("resnet50", "resnet101", "resnet152"):
        assert _cached_total(name, "v1").macs < _cached_total(name, "v1.5").macs
        assert _cached_total(name, "v1").params == _cached_total(name, "v1.5").params
    assert _cached_total("resnet18", "v1") == _cached_total("resnet18", "v1.5")


# Howard et al. 2017 (MobileNets, arXiv:1704.04861), Tables 6 and 7: million Mult-Adds and
# million parameters (conv + FC weights; the paper counts no BN parameters, so the
# model is built with norm=False). (width, resolution, Mult-Adds M, params M, MACs tolerance)
MOBILENET_V1_PAPER = [
    (1.0, 224, 569, 4.2, 0),  # Table 6/7 "1.0 MobileNet-224"
    (0.75, 224, 325, 2.6, 0),  # Table 6 "0.75 MobileNet-224"
    (0.5, 224, 149, 1.3, 0),  # Table 6 "0.5 MobileNet-224"
    (0.25, 224, 41, 0.5, 0),  # Table 6 "0.25 MobileNet-224"
    (1.0, 192, 418, 4.2, 0),  # Table 7 "1.0 MobileNet-192"
    # 290.68M: the paper prints 290, TF-slim's checkpoint table 291; one unit allowed.
    (1.0, 160, 290, 4.2, 1),  # Table 7 "1.0 MobileNet-160"
    (1.0, 128, 186, 4.2, 0),  # Table 7 "1.0 MobileNet-128"
]


@pytest.mark.parametrize("alpha, res, mmacs, mparams, tol", MOBILENET_V1_PAPER,
                         ids=[f"{a}_{r}" for a, r, *_ in MOBILENET_V1_PAPER])
def test_mobilenet_v1_paper(alpha, res, mmacs, mparams, tol):
    from layercalc.zoo import mobilenet_v1

    with_bn = analyze(mobilenet_v1(alpha), (3, res, res))
    no_bn = analyze(mobilenet_v1(alpha, norm=False), (3, res, res))
    # BN adds no MACs; conv + fc only.
    assert with_bn.total.macs == no_bn.total.macs
    assert abs(round(no_bn.total.macs / 1e6) - mmacs) <= tol
    assert round(no_bn.total.params / 1e5) / 10 == mparams
    bn_params = sum(r.cost.params for r in with_bn.rows if r.kind == "BatchNorm2d")
    assert with_bn.total.params - bn_params == no_bn.total.params


def test_mobilenet_v1_full_alpha_exact():
    from layercalc.zoo import mobilenet_v1

    t = analyze(mobilenet_v1(), INPUT).total
    assert round(t.macs / 1e6) == 569
    assert t.macs == 568_740_352
    assert analyze(mobilenet_v1(norm=False), INPUT).total.params == 4_210_088


def test_seed_alexnet_params():
    # seed 001's torchsummary: "Total params: 61,264,904"
    assert _cached_total("seed_alexnet").params == 61_264_904


def test_registry_and_typos():
    assert set(MODELS) >= {row[0] for row in TORCHVISION} | {"seed_alexnet", "mobilenet_v1"}
    with pytest.raises(UnknownNameError, match="resnet50"):
        get_model("resnet5O")
    # fresh models every call; nothing global is shared
    assert get_model("vgg11")() is not get_model("vgg11")()


def test_torchvision_like_paths():
    paths = {r.path for r in analyze(get_model("resnet50")(), INPUT).rows}
    assert {"conv1", "layer1.0.conv1", "layer3.0.conv2", "layer1.0.downsample.0",
            "layer1.0.downsample.1", "fc"} <= paths
    paths = {r.path for r in analyze(get_model("mobilenet_v2")(), INPUT).rows}
    assert {"features.0.0", "features.1.conv.0.0", "features.2.conv.0.0", "features.18.0",
            "classifier.1"} <= paths
    paths = {r.path for r in analyze(get_model("efficientnet_b0")(), INPUT).rows}
    assert {"features.1.0.block.1.fc1", "features.2.1.block.3.0", "classifier.1"} <= paths
    paths = {r.path for r in analyze(get_model("alexnet")(), INPUT).rows}
    assert {"features.0", "avgpool", "classifier.6"} <= paths


@pytest.mark.parametrize("name", sorted(n for n in MODELS  # image models; LMs: test_zoo_sequence
                                        if len(DEFAULT_INPUTS.get(n, INPUT)) == 3))
def test_every_model_traces_symbolically(name):
    H, W = symbols("H W")
    model = get_model(name)()
    channels = getattr(model, "input_shape", INPUT)[0]  # a Graph declares its input (unet: 1)
    r = analyze(model, (channels, H, W))
    assert r.total.macs.free_symbols <= {H, W}


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_symbolic_macs_substitute_to_numeric(name):
    H, W = symbols("H W")
    sym = analyze(get_model(name)(), (3, H, W)).total
    num = _cached_total(name)
    assert sym.macs.subs({H: 224, W: 224}) == num.macs
    assert sym.params == num.params


@pytest.mark.skipif(not VALUES.exists(), reason="tests/golden/values.toml not written yet")
@pytest.mark.parametrize("name, variant, params, gflops", TORCHVISION, ids=_ids(TORCHVISION))
def test_values_toml_has_every_torchvision_row(name, variant, params, gflops):
    # the fallback table must not be silently used when values.toml has the numbers
    assert _from_toml(name, "params", variant, None) == params
    assert _from_toml(name, "gflops_torchvision", variant, None) is not None
