"""Inference fusion (layercalc.fuse): BatchNorm folding (seed 004) and activation fusion."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import layercalc as lc
from layercalc.fuse import FusedActivation, fold_batchnorm, fuse, fuse_report
from layercalc.memory import memory


# -- the folding formula (seed 004) --------------------------------------------------------------
def test_fold_batchnorm_formula_symbolically():
    """z = gamma*((sum_i x_i w_i + b) - mean)/sqrt(var + eps) + beta equals the folded conv
    sum_i x_i w'_i + b' identically (seed 004's derivation), for a 3-tap dot product."""
    x = sp.symbols("x0:3")
    w = sp.symbols("w0:3")
    b, g, be, m, v, e = sp.symbols("b gamma beta mu var epsilon", positive=True)
    z = g * ((sum(xi * wi for xi, wi in zip(x, w)) + b) - m) / sp.sqrt(v + e) + be
    folded = [fold_batchnorm(wi, b, g, be, m, v, e) for wi in w]
    b_new = folded[0][1]
    assert all(f[1] == b_new for f in folded)
    z_new = sum(xi * f[0] for xi, f in zip(x, folded)) + b_new
    assert sp.simplify(z - z_new) == 0


def test_fold_batchnorm_numerically_with_numpy():
    """A 1x1 conv as a matrix, then BN, against the folded matrix and bias, per channel."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 4))  # 5 positions, 4 input channels
    W = rng.normal(size=(3, 4))  # 3 output channels
    bias = rng.normal(size=3)
    gamma, beta, mean = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3)
    var, eps = rng.uniform(0.5, 2.0, size=3), 1e-5
    y = (x @ W.T + bias - mean) / np.sqrt(var + eps) * gamma + beta
    folded = [fold_batchnorm(W[c], bias[c], gamma[c], beta[c], mean[c], var[c], eps)
              for c in range(3)]
    W2 = np.stack([f[0] for f in folded])
    b2 = np.array([f[1] for f in folded])
    assert np.allclose(x @ W2.T + b2, y)
    # without a conv bias (bias=0), as in every torchvision conv followed by BN
    y0 = (x @ W.T - mean) / np.sqrt(var + eps) * gamma + beta
    f0 = [fold_batchnorm(W[c], 0.0, gamma[c], beta[c], mean[c], var[c], eps) for c in range(3)]
    assert np.allclose(x @ np.stack([f[0] for f in f0]).T + np.array([f[1] for f in f0]), y0)


# -- counts: seed 004's conv -> BN -> ReLU ---------------------------------------------------------
def test_seed004_conv_bn_relu_by_hand():
    """3x3 conv 256 -> 512 at 28x28 (no bias), BN(512), ReLU, in int8 (1 byte per element).

    Before: conv moves 1,179,648 weights + 200,704 in + 401,408 out = 1,781,760; BN moves
    4*512 values + 401,408 in + 401,408 out = 804,864; ReLU 802,816 (seed 004's "Fusion").
    After: the conv has 512 biases (1,782,272 moved), BN is gone, ReLU moves nothing but still
    does its 401,408 compares."""
    net = lc.Sequential(OrderedDict(conv=lc.Conv2d(256, 512, 3, padding=1, bias=False),
                                    bn=lc.BatchNorm2d(512), relu=lc.ReLU()))
    before = lc.analyze(net, (256, 28, 28))
    after = lc.analyze(fuse(net), (256, 28, 28))
    assert [r.path for r in after.rows] == ["conv", "relu"]
    assert [memory(r, dtype="int8").total for r in before.rows] == [1_781_760, 804_864, 802_816]
    assert [memory(r, dtype="int8").total for r in after.rows] == [1_782_272, 0]
    assert after.rows[1].cost.ops["cmp"] == 401_408 == before.rows[2].cost.ops["cmp"]
    assert (before.total.params, after.total.params) == (1_179_648 + 1024, 1_179_648 + 512)
    assert (before.total.buffers, after.total.buffers) == (1024, 0)
    assert after.total.macs == before.total.macs
    # exact FLOPs: BN's ops disappear, one bias add per output appears
    bn_ops = sum(before.rows[1].cost.ops.values())
    assert after.flops("exact") == before.flops("exact") - bn_ops + 401_408
    assert isinstance(after.rows[1].layer, FusedActivation)
    assert after.rows[1].kind == "ReLU" and after.rows[1].layer.into == "conv"
    assert "ReLU fused into its producer" in after.total.notes[0]


def test_resnet18_paths_kept_and_counts():
    """torchvision's resnet18: 20 BatchNorms fold (sum of their channels C = 4,800: BN holds
    2C params and 2C buffers, the convs gain C biases), 17 ReLUs fuse (the stem's and two
    per block: one in the body, one after the add). Every other path is unchanged."""
    model = lc.zoo.resnet18()
    r = fuse_report(model, (3, 224, 224))
    before = [row.path for row in r.before.rows]
    after = [row.path for row in r.after.rows]
    bn = {p for p, row in zip(before, r.before.rows) if row.kind == "BatchNorm2d"}
    assert len(bn) == 20 and after == [p for p in before if p not in bn]
    assert {b for _, b in r.folded} == bn
    assert ("layer1.0.conv1", "layer1.0.bn1") in r.folded
    assert ("layer1.0.downsample.0", "layer1.0.downsample.1") not in r.folded  # no downsample
    assert ("layer2.0.downsample.0", "layer2.0.downsample.1") in r.folded
    assert len(r.fused) == 17
    assert ("layer1.0.relu", "layer1.0.add") in r.fused
    assert ("relu", "conv1") in r.fused
    assert r.totals["params"] == (11_689_512, 11_689_512 - 4_800)
    assert r.totals["buffers"] == (9_600, 0)
    assert r.totals["macs"][0] == r.totals["macs"][1] == 1_814_073_344
    assert r.totals["model size"] == (4 * (11_689_512 + 9_600), 4 * 11_684_712)
    # the original model is untouched
    assert [row.path for row in lc.analyze(model, (3, 224, 224)).rows] == before
    text = str(r)
    assert "20 BatchNorm folded, 17 activations fused" in text
    assert "11,689,512" in text and "-4,800" in text


def test_what_is_not_fused():
    net = lc.Sequential(
        lc.ReLU(),                                     # first child: producer outside
        lc.BatchNorm2d(4),                             # after an activation: not folded
        lc.Conv2d(4, 4, 1),
        lc.BatchNorm2d(4, track_running_stats=False),  # batch statistics: not folded
        lc.Softmax(dim=1),                             # a reduction, not elementwise
        lc.Conv2d(4, 4, 1), lc.Dropout(), lc.Sigmoid(),  # fused through the Dropout view
    )
    f = lc.analyze(fuse(net), (4, 3, 3))
    kinds = [(r.path, r.kind, isinstance(r.layer, FusedActivation)) for r in f.rows]
    assert kinds == [("0", "ReLU", False), ("1", "BatchNorm2d", False), ("2", "Conv2d", False),
                     ("3", "BatchNorm2d", False), ("4", "Softmax", False),
                     ("5", "Conv2d", False), ("6", "Dropout", False), ("7", "Sigmoid", True)]
    assert f.rows[-1].layer.into == "5"
    # PReLU keeps reading its slopes; a Linear -> BatchNorm1d folds
    g = lc.analyze(fuse(lc.Sequential(lc.Linear(8, 6), lc.BatchNorm1d(6), lc.PReLU(6))), (8,))
    assert [r.kind for r in g.rows] == ["Linear", "PReLU"]
    assert g.rows[1].cost.weight_reads == 6 and g.rows[1].cost.act_reads == 0
    # an activation after a container fuses into the container's last op
    h = fuse(lc.Sequential(OrderedDict(
        block=lc.Parallel(lc.Conv2d(4, 2, 1), lc.Conv2d(4, 2, 1)), act=lc.ReLU())))
    assert lc.analyze(h, (4, 2, 2)).rows[-1].layer.into == "block.cat"


def test_squeeze_excitation_and_repeated_names():
    """MobileNetV3's SE (a Parallel with branches 'input' and '') and ResNet-50's bottleneck
    (one `relu` name used three times) keep their paths."""
    for model in (lc.zoo.mobilenet_v3_large(), lc.zoo.resnet50()):
        r = fuse_report(model, (3, 224, 224))
        bn = {row.path for row in r.before.rows if row.kind.startswith("BatchNorm")}
        assert [row.path for row in r.after.rows] == [
            row.path for row in r.before.rows if row.path not in bn]
        assert r.totals["macs"][0] == r.totals["macs"][1]
    assert len(r.folded) == 53 and len(r.fused) == 49  # resnet50: 1 + 16 * 3 ReLUs


def test_fused_peak_memory_and_symbolic():
    """A fused activation writes nothing, so it shares its producer's tensor; a folded BN's
    output tensor disappears. Symbolic sizes stay symbolic."""
    H = lc.symbols("H")
    net = lc.Sequential(lc.Conv2d(3, 8, 3, padding=1, bias=False), lc.BatchNorm2d(8),
                        lc.ReLU())
    p0 = lc.peak_memory(net, (3, 16, 16))
    p1 = lc.peak_memory(fuse(net), (3, 16, 16))
    assert (p0.activations, p1.activations) == (4 * 2 * 8 * 256, 4 * (3 + 8) * 256)
    r = fuse_report(net, (3, H, H), dtype="fp16")
    b, a = r.totals["memory[compulsory]"]
    # removed: BN (2 x 8 H^2 activations + 32 values) and ReLU (2 x 8 H^2); added: 8 biases
    assert sp.expand(b - a - 2 * (32 * H**2 + 32 - 8)) == 0


def test_unknown_container_left_unfused():
    """A container whose dataflow is not public (its own _walk) is kept as it is, and listed;
    the rest of the model is still fused."""
    class Odd(lc.network._Container):
        def _walk(self, tracer, x, src, path):
            return tracer.leaf(lc.ReLU(), [x], [src], path)

    odd = Odd()
    net = lc.Sequential(OrderedDict(conv=lc.Conv2d(2, 2, 1, bias=False), bn=lc.BatchNorm2d(2),
                                    odd=odd, act=lc.ReLU()))
    r = fuse_report(net, (2, 3, 3))
    assert r.skipped == ("odd",) and r.folded == (("conv", "bn"),) and r.fused == ()
    assert fuse(net)["odd"] is odd and [row.path for row in r.after.rows] == ["conv", "odd",
                                                                               "act"]
    # peak_memory follows the rows' dataflow, so it covers Odd: two 18-element fp32 tensors
    # are alive at every step, before and after
    assert r.totals["peak activations"] == (2 * 18 * 4, 2 * 18 * 4)
    assert "left unfused (unknown containers): odd" in str(r)


# -- property: fused counts against a naive rule over the unfused rows -----------------------------
_ACTS = [lc.ReLU, lc.ReLU6, lc.Sigmoid, lc.GELU, lc.Hardswish]


@st.composite
def chains(draw):
    c = draw(st.integers(1, 4))
    items, cc = [], c
    for _ in range(draw(st.integers(1, 7))):
        kind = draw(st.sampled_from(["conv", "bn", "act", "drop"]))
        if kind == "conv":
            out = draw(st.integers(1, 4))
            items.append(lc.Conv2d(cc, out, 1, bias=draw(st.booleans())))
            cc = out
        elif kind == "bn":
            items.append(lc.BatchNorm2d(cc, affine=draw(st.booleans())))
        elif kind == "act":
            items.append(draw(st.sampled_from(_ACTS))())
        else:
            items.append(lc.Dropout())
    return lc.Sequential(*items), (c, 3, 2)


@given(chains(), st.sampled_from(["compulsory", "no_reuse"]))
@settings(max_examples=40)
def test_fuse_matches_naive_rule(case, model):
    """Walk the unfused rows: a BN right after a conv (or after BNs already folded into it)
    folds (-its params, buffers, ops and traffic; the conv gains C biases if it had none: +C
    params, +C weight reads and one bias add per output); an activation whose nearest
    non-Dropout predecessor exists fuses (its traffic goes, its ops stay)."""
    net, shape = case
    before = lc.analyze(net, shape)
    after = lc.analyze(fuse(net), shape)
    exp_params, exp_buffers = before.total.params, before.total.buffers
    exp_mem = memory(before, model).total
    exp_bias_adds = before.total.bias_adds
    rows = before.rows
    folded = set()
    kept = []  # rows left after folding; a BN after a folded BN folds too (BN o BN is affine)
    has_bias = {}
    for i, r in enumerate(rows):
        if r.kind == "BatchNorm2d" and kept and rows[kept[-1]].kind == "Conv2d":
            folded.add(i)
            conv = kept[-1]
            c = r.layer.num_features
            exp_params -= r.cost.params
            exp_buffers -= r.cost.buffers
            exp_mem -= memory(r, model).total
            if not has_bias.setdefault(conv, rows[conv].layer.bias):
                has_bias[conv] = True
                exp_params += c
                exp_mem += 4 * c
                exp_bias_adds += rows[conv].cost.dots
            continue
        kept.append(i)
        if r.kind in {a.__name__ for a in _ACTS}:
            prev = [j for j in range(i) if rows[j].kind != "Dropout"]
            if prev:
                exp_mem -= memory(r, model).total
    assert [r.path for r in after.rows] == [r.path for i, r in enumerate(rows) if i not in folded]
    assert after.total.params == exp_params
    assert after.total.buffers == exp_buffers
    assert after.total.bias_adds == exp_bias_adds
    assert after.total.macs == before.total.macs
    assert memory(after, model).total == exp_mem
    for k in set(before.total.ops) | set(after.total.ops):  # only folded BNs lose ops
        assert after.total.ops.get(k, 0) == before.total.ops.get(k, 0) - sum(
            rows[i].cost.ops.get(k, 0) for i in folded)
    assert after.output_shape == before.output_shape
    assert lc.peak_memory(fuse(net), shape).activations <= lc.peak_memory(
        net, shape).activations
