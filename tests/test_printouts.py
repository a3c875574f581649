"""render_as / printout: tool printouts rebuilt from a Report (layercalc.printouts).

The live comparisons with torchsummary, ptflops 0.7.5, torchinfo and torchstat are in
tests/oracles/test_printouts_vs_tools.py; here: the recorded output of ptflops 0.6.6 (not
installable beside 0.7.5), the invariants every printout keeps, and the errors.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import sympy

import importlib

import layercalc as lc
dims_module = importlib.import_module("layercalc.dims")  # lc.dims is the field helper
from layercalc import analyze, zoo
from layercalc.printouts import PrintoutError, torch_repr

GOLDEN = Path(__file__).parent / "golden"
RESNET18_BLOCKS = {f"layer{i}.{j}": "BasicBlock" for i in range(1, 5) for j in range(2)}
PTFLOPS_066 = tomllib.loads((GOLDEN / "ptflops_066.toml").read_text())["models"]


def _r(name, shape=(3, 224, 224), **kw):
    return analyze(zoo.MODELS[name](), shape, **kw)


@pytest.mark.parametrize("name, root, containers", [
    ("alexnet", "AlexNet", {}), ("vgg11_bn", "VGG", {}), ("resnet18", "ResNet", RESNET18_BLOCKS)])
def test_ptflops_066_printout_equals_the_recorded_tool_output(name, root, containers):
    """Every line of ptflops 0.6.6's per-layer printout (and the strings it returns), as
    recorded from the real tool (tests/golden/tool_outputs/)."""
    p = lc.printout(_r(name), "ptflops-hooks", root=root, containers=containers)
    text = (p.text + "\n\nreturned: " + repr((p.totals["macs_string"], p.totals["params_string"]))
            + "\n")
    assert text == (GOLDEN / "tool_outputs" / f"ptflops-0.6.6_{name}.txt").read_text()


@pytest.mark.parametrize("name", sorted(PTFLOPS_066))
def test_ptflops_hooks_convention_equals_ptflops_066(name):
    """The 'ptflops-hooks' convention gives ptflops 0.6.6's total (module hooks only)."""
    assert _r(name).flops("ptflops-hooks") == PTFLOPS_066[name]


def test_ptflops_rows_split_module_hooks_from_functional_calls():
    """ptflops 0.7.5 prints each module's hook count; the total adds the patched F.* calls:
    ReLU rows show numel once, the total counts them twice (its row rule vs its total)."""
    r = _r("alexnet")
    conv = lc.get_convention("ptflops")
    module, total = conv.module_values(r), conv.row_values(r)
    relu = [i for i, row in enumerate(r.rows) if row.kind == "ReLU"]
    assert all(total[i] == 2 * module[i] == 2 * r.rows[i].cost.writes for i in relu)
    p = lc.printout(r, "ptflops", root="AlexNet")
    assert p.totals["macs"] == sum(total) == r.flops("ptflops") == 716_441_128
    assert p.rows[0]["macs"] == sum(module) == 715_561_896  # the root: hooks only
    # rows are the modules, each container the sum of its children
    by_path = {row["module"]: row for row in p.rows}
    assert by_path["features"]["macs"] == sum(by_path[f"features.{i}"]["macs"] for i in range(13))


def test_ptflops_hooks_counts_linear_bias_once_per_call():
    """ptflops 0.6.6's Linear hook: numel(input) * out + out (bias once per call), per sample
    after dividing by the batch: (B*I*O + O) / B."""
    net = lc.Linear(10, 4)
    assert analyze(net, (10,)).flops("ptflops-hooks") == 44
    assert analyze(net, (3, 10)).flops("ptflops-hooks") == 124  # bias once for 3 rows
    assert analyze(net, (10,), batch=8).flops("ptflops-hooks") == sympy.Rational(81, 2)


def test_torchsummary_invariants():
    """Rows sum to the totals; sizes are float32 counts in bytes; the printed MB are the bytes
    over 1024**2 (seed 001's figures: 0.57, 9.96, 233.71, 244.24)."""
    r = _r("seed_alexnet")
    p = lc.printout(r, "torchsummary")
    assert sum(row["params"] for row in p.rows) == p.totals["params"] == r.total.params
    outputs = sum(abs(dims_module.prod(row["output_shape"])) for row in p.rows)
    assert outputs == 1_305_928 and p.totals["forward_backward_bytes"] == 8 * outputs
    t = p.totals
    assert t["total_bytes"] == t["input_bytes"] + t["forward_backward_bytes"] + t["params_bytes"]
    assert [f"{v / 2**20:.2f}" for v in (t["input_bytes"], t["forward_backward_bytes"],
                                         t["params_bytes"], t["total_bytes"])] == [
        "0.57", "9.96", "233.71", "244.24"]
    assert [row["layer"] for row in p.rows][13:15] == ["Dropout-14", "Linear-15"]  # no Flatten
    big = lc.printout(r, "torchsummary", batch_size=4).totals
    assert big["input_bytes"] == 4 * t["input_bytes"] and big["params"] == t["params"]


def test_torchsummary_rows_for_custom_containers():
    """A container that is not an nn.Sequential is hooked too: its row follows its children,
    with the block's output and no parameters of its own (ResNet's BasicBlock)."""
    p = lc.printout(_r("resnet18"), "torchsummary", containers=RESNET18_BLOCKS)
    names = [row["layer"] for row in p.rows]
    assert names[4:12] == ["Conv2d-5", "BatchNorm2d-6", "ReLU-7", "Conv2d-8", "BatchNorm2d-9",
                           "ReLU-10", "BasicBlock-11", "Conv2d-12"]
    assert p.rows[10]["output_shape"] == (-1, 64, 56, 56) and p.rows[10]["params"] == 0
    assert p.totals["params"] == 11_689_512


def test_torchstat_totals_and_rows():
    """torchstat's Total memory is every leaf module's output in float32 (Dropout too), MB of
    1024**2: 4.98MB for seed 001's AlexNet; its MemR+W equals the 'compulsory' model in fp32,
    and its MAdd and Flops columns the torchstat conventions."""
    r = _r("seed_alexnet")
    p = lc.printout(r, "torchstat")
    assert p.totals["memory_bytes"] == 4 * 1_305_928 == 5_223_712
    assert p.totals["memory(MB)"] * 2**20 == 5_223_712
    assert f"{p.totals['memory_bytes'] / 2**20:.2f}" == "4.98"
    assert p.totals["MemR+W(B)"] == lc.memory(r, "compulsory", "fp32").total == 255_998_656
    assert p.totals["MAdd"] == r.flops("torchstat-madd") and p.totals["Flops"] == r.flops(
        "torchstat-flops")
    dropout = [row for row in p.rows if row["module name"] == "14"][0]
    assert dropout["MemR+W(B)"] == 0 and dropout["memory(MB)"] * 2**20 == 4 * 9216
    assert p.text.splitlines()[1] == "Total memory: 4.98MB"


def test_torchinfo_counts():
    """torchinfo's sizes: float32 input, twice the outputs of the leaf layers that have
    parameters, the parameters; MB of 10**6 bytes."""
    p = lc.printout(_r("alexnet"), "torchinfo", root="AlexNet")
    assert p.totals["input_bytes"] == 602_112 and p.totals["params_bytes"] == 4 * 61_100_840
    assert p.totals["forward_backward_bytes"] == 3_953_472
    assert p.totals["mult_adds"] == _r("alexnet").flops("torchinfo") == 714_682_664
    assert "Total mult-adds (Units.MEGABYTES): 714.68" in p.text


def test_fvcore_table_rows():
    """fvcore's table: modules with parameters or flops (ReLU, max pools, Dropout dropped),
    parameter shapes as PyTorch names them, flops per module = the fvcore convention summed
    over its rows; the root is the total."""
    r = _r("alexnet")
    p = lc.printout(r, "fvcore")
    names = [row["module"] for row in p.rows]
    assert names[:5] == ["model", "features", "features.0", "features.0.weight",
                         "features.0.bias"]
    assert "features.1" not in names and names[-1] == "avgpool"
    assert p.totals["flops"] == r.flops("fvcore") == 714_197_696
    assert p.rows[3]["#parameters or shape"] == "(64, 3, 11, 11)"


def test_torch_repr_matches_pytorch_for_common_layers():
    """The reprs the printouts use (checked against torch in the oracle tests)."""
    assert torch_repr(lc.Conv2d(3, 8, 3, padding="same", dilation=2, bias=False)) == (
        "Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=same, dilation=(2, 2), "
        "bias=False)")
    assert torch_repr(lc.BatchNorm2d(64)) == (
        "BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, bias=True, "
        "track_running_stats=True)")
    assert torch_repr(lc.AdaptiveAvgPool2d((6, 6))) == "AdaptiveAvgPool2d(output_size=(6, 6))"
    assert torch_repr(lc.Linear(3, 4, bias=False)) == (
        "Linear(in_features=3, out_features=4, bias=False)")


@pytest.mark.parametrize("make, message", [
    (lambda: lc.render_as(_r("alexnet"), "torchsumary"),
     "unknown printout tool 'torchsumary'; did you mean 'torchsummary' or 'torchstat'?"),
    (lambda: lc.render_as(_r("alexnet"), "ptflops", colour=True),
     "printout: unknown option(s) colour; known: batch_size, containers, depth, max_depth, root"),
    (lambda: lc.render_as(analyze(lc.Conv2d(3, 8, 3), (3, lc.symbols("H"), 8)), "torchsummary"),
     "render_as('torchsummary') prints numbers: substitute the symbols first (report.subs(...))"),
    (lambda: lc.render_as(analyze(lc.Sequential(lc.Conv2d(3, 8, 3, 2, padding="same",
                                                          padding_rule="tf")), (3, 9, 9)),
                          "ptflops"),
     "Conv2d: padding_rule='tf' is not a PyTorch module; it has no PyTorch repr"),
    (lambda: lc.render_as(analyze(lc.Sequential(lc.LSTM(4, 8)), (5, 4)), "torchsummary"),
     "0 (LSTM): torchsummary 1.5.1 fails on a module returning a tuple (RNN, GRU, LSTM, "
     "MultiheadAttention)"),
    (lambda: lc.render_as(analyze(zoo.seed_alexnet(), (3, 224, 224), batch=2), "torchstat"),
     "torchstat runs one sample (torch.rand(1, C, H, W)): analyze with batch=1"),
])
def test_errors(make, message):
    with pytest.raises(lc.LayerCalcError) as e:
        make()
    assert str(e.value) == message
