"""Tool-named conventions reproduce each peer tool's number exactly.

Oracle: ``tests/oracles/peer_numbers.json``, the exact outputs of ptflops 0.7.5 (both
backends), ultralytics-thop 2.2.3, fvcore 0.1.5.post20221221, torchinfo 1.8.0, torchstat 0.0.7,
calflops 0.3.2 and torch 2.13.0's FlopCounterMode, recorded by
``tests/oracles/generate_peer_numbers.py`` on the plain-PyTorch models of
``tests/oracles/torch_models.py`` (input 1x3x224x224, eval mode) and on single-layer probes.
These tests need no torch: they compare layercalc's formulas with those recorded numbers. The
live comparison with the installed tools is ``tests/oracles/test_peer_tools.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy as sp

import layercalc as lc
from layercalc import (
    AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d,
    ConvTranspose2d, Dropout, ELU, Embedding, Flatten, Functional, GELU, GroupNorm, GRU,
    Hardsigmoid, Hardswish, Identity, InstanceNorm2d, LayerNorm, LeakyReLU, Linear, LSTM,
    MaxPool2d, MultiheadAttention, Parallel, PReLU, ReLU, ReLU6, RNN, ScaledDotProductAttention,
    Sequential, Sigmoid, SiLU, Softmax, Tanh, Tied, Upsample, analyze, zoo,
)
from layercalc.peers import ConventionError

PEERS = json.loads((Path(__file__).parent / "oracles" / "peer_numbers.json").read_text())

#: convention name -> the headline key it must equal in peer_numbers.json
HEADLINE = {
    "ptflops": "ptflops_pytorch.macs",
    "ptflops-aten": "ptflops_aten.macs",
    "thop": "thop.ops",
    "fvcore": "fvcore.total",
    "torchinfo": "torchinfo.total_mult_adds",
    "torchstat-madd": "torchstat.MAdd",
    "torchstat-flops": "torchstat.Flops",
    "calflops": "calflops.flops",
    "calflops-macs": "calflops.macs",
    "flopcountermode": "flop_counter.total",
}


def _zoo_model(name: str):
    if name.startswith("resnet") and name.endswith("_v1"):
        return zoo.get_model(name[:-3])(variant="v1")
    return zoo.get_model(name)()


@pytest.fixture(scope="module")
def zoo_reports():
    return {name: analyze(_zoo_model(name), (3, 224, 224)) for name in PEERS["models"]}


def test_every_tool_preset_is_registered():
    assert set(HEADLINE) | {"torchvision"} <= set(lc.CONVENTIONS)


@pytest.mark.parametrize("convention", sorted(HEADLINE))
def test_tool_preset_equals_tool_on_every_zoo_model(zoo_reports, convention):
    """25 models (AlexNet, the seed AlexNet, VGG with and without BN, ResNet v1 and v1.5,
    MobileNet v1/v2/v3, EfficientNet-B0): the preset equals the tool's recorded number."""
    wrong = {}
    for name, report in zoo_reports.items():
        want = int(PEERS["models"][name]["headline"][HEADLINE[convention]])
        got = report.flops(convention)
        if got != want:
            wrong[name] = (want, got)
    assert not wrong, f"{convention}: model -> (tool, layercalc): {wrong}"


def test_torchvision_preset_equals_published_gflops(zoo_reports):
    """torchvision's weights metadata ``_ops`` (GFLOPS, 3 decimals), recorded in the JSON as
    ``torchvision_ops_gflops`` for the torchvision models."""
    checked = 0
    for name, report in zoo_reports.items():
        published = PEERS["models"][name].get("torchvision_ops_gflops")
        if published is None:
            continue
        assert round(report.flops("torchvision") / 1e9, 3) == published, name
        checked += 1
    assert checked >= 18


def test_torchvision_is_half_of_flopcountermode(zoo_reports):
    for name, report in zoo_reports.items():
        assert 2 * report.flops("torchvision") == report.flops("flopcountermode"), name


# -- single-layer probes -----------------------------------------------------------------------
def _twice(layer_factory):
    return Sequential([("fc", Tied("fc", layer_factory())), ("act", ReLU()),
                       ("fc", Tied("fc", layer_factory())), ("act", ReLU())])


#: probe name -> (layercalc model, per-sample input shape, batch). Probes that layercalc does
#: not model (train-mode BN, cells, raw matmul / einsum / torch.add calls) are absent.
PROBES = {
    "conv2d_bias": (Conv2d(8, 16, 3, padding=1), (8, 16, 16), 1),
    "conv2d_nobias": (Conv2d(8, 16, 3, padding=1, bias=False), (8, 16, 16), 1),
    "conv2d_stride2_bias": (Conv2d(8, 16, 3, stride=2, padding=1), (8, 16, 16), 1),
    "conv2d_groups4_bias": (Conv2d(8, 16, 3, padding=1, groups=4), (8, 16, 16), 1),
    "conv2d_depthwise_nobias": (Conv2d(8, 8, 3, padding=1, groups=8, bias=False), (8, 16, 16), 1),
    "conv1d_bias": (Conv1d(8, 16, 3, padding=1), (8, 32), 1),
    "conv2d_bias_batch2": (Conv2d(8, 16, 3, padding=1), (8, 16, 16), 2),
    "convtranspose2d_bias": (ConvTranspose2d(8, 4, 4, stride=2, padding=1), (8, 8, 8), 1),
    "convtranspose2d_groups2_nobias": (
        ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1, groups=2, bias=False),
        (8, 8, 8), 1),
    "linear_bias": (Linear(64, 32), (64,), 1),
    "linear_nobias": (Linear(64, 32, bias=False), (64,), 1),
    "linear_bias_3d_input": (Linear(64, 32), (10, 64), 1),
    "linear_bias_batch2": (Linear(64, 32), (64,), 2),
    "batchnorm2d_eval": (BatchNorm2d(8), (8, 16, 16), 1),
    "batchnorm2d_eval_noaffine": (BatchNorm2d(8, affine=False), (8, 16, 16), 1),
    "batchnorm1d_eval": (BatchNorm1d(64), (64,), 1),
    "layernorm": (LayerNorm(64), (10, 64), 1),
    "groupnorm": (GroupNorm(4, 8), (8, 16, 16), 1),
    "instancenorm2d": (InstanceNorm2d(8), (8, 16, 16), 1),
    "relu": (ReLU(), (8, 16, 16), 1),
    "relu6": (ReLU6(), (8, 16, 16), 1),
    "leakyrelu": (LeakyReLU(), (8, 16, 16), 1),
    "prelu": (PReLU(), (8, 16, 16), 1),
    "elu": (ELU(), (8, 16, 16), 1),
    "gelu": (GELU(), (8, 16, 16), 1),
    "silu": (SiLU(), (8, 16, 16), 1),
    "hardswish": (Hardswish(), (8, 16, 16), 1),
    "hardsigmoid": (Hardsigmoid(), (8, 16, 16), 1),
    "sigmoid": (Sigmoid(), (8, 16, 16), 1),
    "tanh": (Tanh(), (8, 16, 16), 1),
    "relu_functional": (Functional(ReLU()), (8, 16, 16), 1),
    "maxpool2d_k2s2": (MaxPool2d(2, 2), (8, 16, 16), 1),
    "maxpool2d_k3s2p1": (MaxPool2d(3, 2, 1), (8, 16, 16), 1),
    "avgpool2d_k2s2": (AvgPool2d(2, 2), (8, 16, 16), 1),
    "avgpool2d_k3s2p1": (AvgPool2d(3, 2, 1), (8, 16, 16), 1),
    "adaptiveavgpool2d_1": (AdaptiveAvgPool2d(1), (8, 16, 16), 1),
    "adaptiveavgpool2d_5_from_16": (AdaptiveAvgPool2d(5), (8, 16, 16), 1),
    "adaptiveavgpool2d_functional_1": (Functional(AdaptiveAvgPool2d(1)), (8, 16, 16), 1),
    "adaptivemaxpool2d_1": (AdaptiveMaxPool2d(1), (8, 16, 16), 1),
    "upsample_nearest_x2": (Upsample(scale_factor=2, mode="nearest"), (8, 8, 8), 1),
    "upsample_bilinear_x2": (Upsample(scale_factor=2, mode="bilinear"), (8, 8, 8), 1),
    "interpolate_nearest_size16": (Functional(Upsample(size=16)), (8, 8, 8), 1),
    "add_operator": (Parallel(Identity(), Identity(), merge="add"), (8, 16, 16), 1),
    "mul_operator": (Parallel(Identity(), Identity(), merge="mul"), (8, 16, 16), 1),
    "softmax_module": (Softmax(dim=-1), (8, 16), 1),
    "softmax_functional": (Functional(Softmax(dim=-1)), (8, 16), 1),
    "multiheadattention_self": (MultiheadAttention(64, 4, batch_first=True), (10, 64), 1),
    "sdpa_functional": (Functional(ScaledDotProductAttention(4, 16)), (10, 64), 1),
    "rnn_tanh_1layer": (RNN(32, 64, batch_first=True), (10, 32), 1),
    "gru_1layer": (GRU(32, 64, batch_first=True), (10, 32), 1),
    "lstm_1layer": (LSTM(32, 64, batch_first=True), (10, 32), 1),
    "lstm_2layer_bidir": (LSTM(32, 64, num_layers=2, batch_first=True, bidirectional=True),
                          (10, 32), 1),
    "embedding": (Embedding(100, 32), (10,), 1),
    "flatten_module": (Flatten(), (8, 16, 16), 1),
    "dropout_eval": (Dropout(0.5), (8, 16, 16), 1),
    "identity": (Identity(), (8, 16, 16), 1),
    "module_called_twice": (_twice(lambda: Linear(64, 64)), (64,), 1),
    "conv_module_called_twice": (
        Sequential([("conv", Tied("conv", Conv2d(8, 8, 3, padding=1))), ("act", ReLU()),
                    ("conv", Tied("conv", Conv2d(8, 8, 3, padding=1))), ("act", ReLU())]),
        (8, 16, 16), 1),
}

#: Probes whose recorded torchstat numbers come from an unrelated fall-back: torchstat only
#: takes (C, H, W) inputs, so 1-D and token probes show None ("n/a") and are skipped there.
CASES = [(p, conv) for p in sorted(PROBES) for conv in sorted(HEADLINE)
         if PEERS["probes"]["cases"][p]["headline"].get(HEADLINE[conv]) is not None]


@pytest.mark.parametrize("probe,convention", CASES)
def test_tool_preset_equals_tool_on_probe(probe, convention):
    model, shape, batch = PROBES[probe]
    want = int(PEERS["probes"]["cases"][probe]["headline"][HEADLINE[convention]])
    assert analyze(model, shape, batch=batch).flops(convention) == want


def test_probe_table_covers_the_recorded_probes():
    recorded = set(PEERS["probes"]["cases"])
    not_modelled = {"batchnorm2d_trainmode", "lstmcell", "relu_tensor_method", "torch_add",
                    "torch_mul", "add_inplace_operator", "matmul_operator", "torch_matmul",
                    "torch_bmm", "torch_mm", "einsum_bij_bkj",
                    "multiheadattention_self_noweights"}
    assert recorded - set(PROBES) == not_modelled


# -- behaviour ---------------------------------------------------------------------------------
def test_tool_convention_needs_a_report():
    cost = Conv2d(3, 8, 3).cost((3, 8, 8))
    with pytest.raises(ConventionError, match="needs a Report"):
        lc.flops(cost, "fvcore")
    assert isinstance(ConventionError("x"), lc.LayerCalcError)


def test_uncounted_names_what_the_tool_leaves_out():
    r = analyze(zoo.resnet18(), (3, 224, 224))
    missed = r.uncounted("fvcore")
    assert {"ReLU", "MaxPool2d", "Add"} <= set(missed)
    assert "Conv2d" not in missed
    # the work listed is the exact count of those layers
    relu = sum(lc.get_convention("exact").flops(row.cost) for row in r.rows if row.kind == "ReLU")
    assert missed["ReLU"] == relu
    text = r.to_text(convention="fvcore")
    assert "Counted as 0 by 'fvcore'" in text and "MaxPool2d" in text


def test_row_values_sum_to_total_and_render():
    r = analyze(zoo.mobilenet_v2(), (3, 224, 224))
    for name in HEADLINE:
        assert sum(r.row_flops(name)) == r.flops(name)
    csv_total = r.to_csv("thop").strip().splitlines()[-1].split(",")[-1]
    assert int(csv_total) == r.flops("thop")
    assert r.to_dict(("exact", "thop"))["total"]["flops"]["thop"] == r.flops("thop")


def test_torchstat_keeps_the_last_call_of_a_shared_module():
    """torchvision's Bottleneck calls one ``relu`` three times; torchstat sees the last call
    (after the residual add) only, every other tool sees all three."""
    r = analyze(zoo.resnet50(), (3, 224, 224))
    relus = [(row, v) for row, v in zip(r.rows, r.row_flops("torchstat-flops"))
             if row.path == "layer1.0.relu"]
    assert [v for _, v in relus] == [0, 0, 256 * 56 * 56]


def test_ptflops_functional_part_is_not_divided_by_the_batch():
    """ptflops divides module hooks by the batch but adds patched functional calls for the
    whole batch: a batch-2 ReLU model reports numel/2 + numel (per docs/peer-tools.md)."""
    r = analyze(ReLU(), (8, 16, 16), batch=2)
    assert r.flops("ptflops") == 2048 + 2 * 2048


def test_tool_presets_accept_symbolic_sizes():
    H = sp.Symbol("H", positive=True, integer=True)
    r = analyze(Sequential(Conv2d(3, 8, 3, padding=1), BatchNorm2d(8), ReLU()), (3, H, H))
    for name in HEADLINE:
        v = r.flops(name)
        assert r.subs({H: 32}).flops(name) == sp.sympify(v).subs(H, 32), name


def test_symbolic_resnet50_under_every_tool_equals_the_tool_at_224():
    """The presets accept symbolic H, W on a whole network (global pools included); at 224 they
    give the tools' recorded numbers."""
    H, W = lc.symbols("H W")
    r = analyze(zoo.resnet50(), (3, H, W))
    for name, key in HEADLINE.items():
        v = sp.sympify(r.flops(name)).subs({H: 224, W: 224})
        assert v == PEERS["models"]["resnet50"]["headline"][key], name


def test_a_rule_that_enumerates_windows_says_so_on_symbols():
    H = lc.symbols("H")
    with pytest.raises(ConventionError, match=r"avgpool2d \(AvgPool2d\): this tool's rule "
                       r"enumerates the pooling windows one by one, so it needs a number, got "
                       r"floor\(H/2\)"):
        analyze(AvgPool2d(2, 2), (3, H, H)).flops("thop")
