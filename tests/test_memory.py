"""Memory traffic in bytes (layercalc.memory): seeds 000, 002, 004 and torchstat's AlexNet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import layercalc as lc
from layercalc.errors import UnknownNameError
from layercalc.memory import (
    DTYPE_BYTES, MEMORY_MODELS, MemoryTraffic, dtype_bytes, get_memory_model, memory, model_size,
)

ORACLES = json.loads((Path(__file__).parent / "oracles" / "peer_numbers.json").read_text())


# -- seed 004: memory accesses in elements (1 byte each, "int8") ---------------------------------
def test_seed004_regular_conv_no_reuse():
    """input = 28*28*256*3*3*512, output = 28*28*512, weights = 3*3*256*512 + 512."""
    c = lc.Conv2d(256, 512, 3, padding=1).cost((256, 28, 28))
    m = memory(c, "no_reuse", "int8")
    assert m.act_reads == 924_844_032
    assert m.writes == 401_408
    assert m.weight_reads == 1_180_160
    assert m.total == 926_425_600


def test_seed004_depthwise_separable_no_reuse():
    dw = lc.Conv2d(256, 256, 3, padding=1, groups=256).cost((256, 28, 28))
    pw = lc.Conv2d(256, 512, 1).cost((256, 28, 28))
    mdw, mpw = memory(dw, "no_reuse", "int8"), memory(pw, "no_reuse", "int8")
    assert (mdw.act_reads, mdw.writes, mdw.weight_reads) == (1_806_336, 200_704, 2_560)
    assert mdw.total == 2_009_600
    assert (mpw.act_reads, mpw.writes, mpw.weight_reads) == (102_760_448, 401_408, 131_584)
    assert mpw.total == 103_293_440
    assert (mdw + mpw).total == 105_303_040
    # seed 004: "访问量大概也少8.8倍" (about 8.8x fewer accesses than the regular conv)
    assert round(926_425_600 / 105_303_040, 1) == 8.8


@pytest.mark.parametrize("model", ["compulsory", "no_reuse"])
def test_seed004_relu_fusion_example(model):
    m = memory(lc.ReLU().cost((512, 28, 28)), model, "int8")
    assert (m.reads, m.writes, m.total) == (401_408, 401_408, 802_816)


# -- seed 000 and seed 002, symbolically --------------------------------------------------------
def test_seed000_conv_mac_formula_symbolic():
    """MAC = Hin*Win*Cin + (K*K*Cin*Cout + Cout) + Hout*Wout*Cout (compulsory; x4 for fp32)."""
    Cin, Cout, K, H, W = sp.symbols("C_in C_out K H W", integer=True, positive=True)
    c = lc.Conv2d(Cin, Cout, K).cost((Cin, H, W))
    Ho, Wo = H - K + 1, W - K + 1
    expected = H * W * Cin + K * K * Cin * Cout + Cout + Ho * Wo * Cout
    assert sp.expand(memory(c, "compulsory", "int8").total - expected) == 0
    assert sp.expand(memory(c, "compulsory", "fp32").total - 4 * expected) == 0
    m = memory(c, dtype="fp32")
    assert sp.expand(m.writes - 4 * Ho * Wo * Cout) == 0


def test_seed002_shufflenet_g1_pointwise():
    """ShuffleNet V2 guideline G1: a 1x1 conv without bias has MAC = h*w*(c1 + c2) + c1*c2."""
    c1, c2, h, w = sp.symbols("c1 c2 h w", integer=True, positive=True)
    c = lc.Conv2d(c1, c2, 1, bias=False).cost((c1, h, w))
    assert sp.expand(memory(c, dtype="int8").total - (h * w * (c1 + c2) + c1 * c2)) == 0
    # and numerically, in fp32 bytes
    c = lc.Conv2d(64, 128, 1, bias=False).cost((64, 56, 56))
    assert memory(c).total == 4 * (56 * 56 * (64 + 128) + 64 * 128)


# -- torchstat ----------------------------------------------------------------------------------
def test_torchstat_alexnet_memrw():
    """torchstat 0.0.7 on seed 001's AlexNet: 'Total MemR+W: 244.14MB' = 255,998,656 bytes.

    `compulsory` in fp32 reproduces it exactly: torchstat reads (input + params) * 4 and writes
    output * 4 for every leaf module and reports 0 for Dropout, as our zero-cost Flatten/Dropout
    rows do, so no separate model is needed."""
    ts = ORACLES["models"]["seed_alexnet"]["torchstat"]
    report = lc.analyze(lc.zoo.seed_alexnet(), (3, 224, 224))
    m = memory(report, "compulsory", "fp32")
    assert m.total == ts["MemRW_B"] == 255_998_656
    assert m.reads == ts["MemRead_B"]
    assert m.writes == ts["MemWrite_B"]
    assert f"Total MemR+W: {round(m.total / 2**20, 2)}MB" in ts["report_lines"]
    assert sum(memory(r.cost).total for r in report.rows) == m.total
    assert model_size(report) == 4 * 61_264_904


# -- dtypes and errors --------------------------------------------------------------------------
def test_dtypes_and_mixed_precision():
    c = lc.Linear(100, 10).cost((100,))  # 1010 weights, 100 inputs, 10 outputs
    assert memory(c, dtype="fp32").total == 4 * 1120
    assert memory(c, dtype="fp16").total == 2 * 1120
    m = memory(c, dtype="fp16", weight_dtype="int4")
    assert (m.weight_reads, m.act_reads, m.writes) == (505, 200, 20)
    m = memory(c, weight_dtype="int8", act_dtype="bf16")
    assert (m.weight_reads, m.act_reads, m.writes) == (1010, 200, 20)
    odd = memory(lc.Linear(3, 1, bias=False).cost((3,)), dtype="int4")
    assert odd.weight_reads == sp.Rational(3, 2)
    assert DTYPE_BYTES["int4"] == sp.Rational(1, 2) and DTYPE_BYTES["fp64"] == 8
    assert model_size(c, "int4") == 505


def test_unknown_names():
    with pytest.raises(UnknownNameError, match="did you mean 'bf16'"):
        dtype_bytes("bf61")
    with pytest.raises(UnknownNameError, match="did you mean 'compulsory'"):
        memory(lc.ReLU().cost((4,)), "compulsary")
    with pytest.raises(KeyError):
        get_memory_model("nope")
    with pytest.raises(TypeError):
        memory(42)
    assert set(MEMORY_MODELS) >= {"compulsory", "no_reuse"}
    with pytest.raises(TypeError):
        MEMORY_MODELS["x"] = None  # read-only


def test_symbolic_batch_weights_once():
    B = sp.Symbol("B", integer=True, positive=True)
    r = lc.analyze(lc.Sequential(lc.Linear(8, 4), lc.ReLU()), (8,), batch=B)
    m = memory(r, dtype="fp32")
    assert m.weight_reads == 4 * 36
    assert sp.expand(m.total - (4 * 36 + 4 * B * (8 + 4 + 4 + 4))) == 0


# -- properties ---------------------------------------------------------------------------------
@st.composite
def small_nets(draw):
    cin = draw(st.integers(1, 4))
    cout = draw(st.integers(1, 4))
    k = draw(st.integers(1, 3))
    hw = draw(st.integers(k, 8))
    bias = draw(st.booleans())
    pad = draw(st.integers(0, 1))
    ho = hw - k + 1 + 2 * pad
    net = lc.Sequential(lc.Conv2d(cin, cout, k, padding=pad, bias=bias), lc.ReLU(),
                        lc.MaxPool2d(1), lc.Flatten(), lc.Dropout(0.5),
                        lc.Linear(cout * ho * ho, 3, bias=draw(st.booleans())))
    return net, (cin, hw, hw)


@given(small_nets(), st.integers(1, 5), st.sampled_from(["compulsory", "no_reuse"]),
       st.sampled_from(["fp32", "fp16", "int4"]))
def test_report_total_is_sum_of_rows_and_batch_keeps_weights(case, batch, model, dtype):
    net, shape = case
    r1 = lc.analyze(net, shape)
    rb = lc.analyze(net, shape, batch=batch)
    for r in (r1, rb):
        m = memory(r, model, dtype)
        rows = sum((memory(row.cost, model, dtype) for row in r.rows), MemoryTraffic(0, 0))
        assert m == rows
        assert m.total == sum(memory(row.cost, model, dtype).total for row in r.rows)
    m1, mb = memory(r1, model, dtype), memory(rb, model, dtype)
    assert mb.weight_reads == m1.weight_reads
    assert mb.act_reads == batch * m1.act_reads
    assert mb.writes == batch * m1.writes
    assert model_size(rb, dtype) == model_size(r1, dtype)


# -- KV-cache dtype -----------------------------------------------------------------------------
def _decoder(cache_len=4096):
    """A decode step of a Llama-like layer: q projection, attention over the cache, o proj."""
    return lc.Sequential(q=lc.Linear(4096, 4096, bias=False),
                         attn=lc.KVCacheDecode(32, 128, cache_len, num_kv_heads=8),
                         o=lc.Linear(4096, 4096, bias=False))


def test_kv_cache_dtype_by_hand():
    """Cache: 2 * 4096 tokens * 8 KV heads * 128 = 8,388,608 elements per sample. Per batch
    element the attention row also reads the 4096-element query and writes 4096 elements."""
    r = lc.analyze(_decoder(), (1, 4096), batch=4)
    w = 2 * 4096 * 4096  # two projection matrices, read once per batch
    fp16 = memory(r, dtype="fp16")
    assert fp16.kv_reads == 2 * 4 * 8_388_608  # kv_dtype defaults to the activation dtype
    m = memory(r, dtype="fp16", kv_dtype="int4")
    assert m.kv_reads == 4 * 8_388_608 // 2
    assert m.weight_reads == 2 * w
    # activations: 4 samples x (q in 4096, attn query 4096, o in 4096) at 2 bytes, + cache
    assert m.reads == 2 * w + 2 * 4 * 3 * 4096 + 4 * 8_388_608 // 2
    assert m.writes == 2 * 4 * 3 * 4096
    assert fp16.total - m.total == 4 * 8_388_608 * (2 - sp.Rational(1, 2))
    # the rows add up to the report, and kv_dtype changes nothing without a cache
    assert sum((memory(row, dtype="fp16", kv_dtype="int4") for row in r.rows),
               MemoryTraffic(0, 0)) == m
    lin = lc.analyze(lc.Linear(64, 64), (64,))
    assert memory(lin, kv_dtype="int8") == memory(lin)


def test_kv_cache_dtype_sliding_window_and_no_reuse():
    layer = lc.KVCacheDecode(8, 64, 10_000, num_kv_heads=2, window=256)
    r = lc.analyze(layer, (1, 512))
    m = memory(r, dtype="fp16", kv_dtype="int8")
    assert m.kv_reads == 2 * 256 * 2 * 64  # min(cache_len, window) tokens, 1 byte
    assert m.reads == m.kv_reads + 2 * 512
    # no_reuse: one activation read per MAC (2*H*window*d), minus the query read once
    n = memory(r, "no_reuse", dtype="fp16", kv_dtype="int8")
    assert n.kv_reads == 2 * 8 * 256 * 64 - 512
    assert n.reads == n.kv_reads + 2 * 512


def test_kv_cache_dtype_needs_rows_symbolic_ok():
    c = lc.KVCacheDecode(32, 128, 4096).cost((1, 4096))
    with pytest.raises(lc.LayerCalcError, match="kv_dtype needs a Report or a Row"):
        memory(c, kv_dtype="int8")
    assert memory(c).kv_reads == 0  # a bare Cost does not know the split
    S = sp.Symbol("S", integer=True, positive=True)
    r = lc.analyze(lc.KVCacheDecode(32, 128, S, num_kv_heads=8), (1, 4096))
    m = memory(r, dtype="bf16", kv_dtype="fp8")
    assert sp.expand(m.kv_reads - 2 * S * 8 * 128) == 0
    assert sp.expand(m.reads - (2 * S * 1024 + 2 * 4096)) == 0


# -- peak activation memory ---------------------------------------------------------------------
def test_peak_memory_worked_example_residual_by_hand():
    """conv0 (3->8, 8x8), relu, then a residual block (conv, relu, conv, + x, relu), fp32.

    step     alive (elements)                                  sum
    conv0    input 192 + conv0 out 512                         704
    relu     conv0 out + relu out                              1024
    conv1    x (kept for the add) + conv1 out                  1024
    relu     x + conv1 out + relu out                          1536
    conv2    x + relu out + conv2 out                          1536
    add      x + conv2 out + sum                               1536
    relu     sum + out                                         1024
    """
    block = lc.Residual(lc.Sequential(lc.Conv2d(8, 8, 3, padding=1), lc.ReLU(),
                                      lc.Conv2d(8, 8, 3, padding=1)), activation=lc.ReLU())
    net = lc.Sequential(lc.Conv2d(3, 8, 3, padding=1), lc.ReLU(), block)
    p = lc.peak_memory(net, (3, 8, 8))
    assert [(path, v // 4) for path, v in p.steps] == [
        ("0", 704), ("1", 1024), ("2.0", 1024), ("2.1", 1536), ("2.2", 1536), ("2.add", 1536),
        ("2.relu", 1024)]
    assert (p.activations, p.path) == (1536 * 4, "2.1")
    assert p.weights == 4 * (224 + 2 * 584) and p.kv_cache == 0
    assert p.total == p.activations + p.weights
    # batch and dtype scale activations; weights stay once, in their own dtype
    q = lc.peak_memory(net, (3, 8, 8), "fp16", batch=8, weight_dtype="int8")
    assert (q.activations, q.weights) == (1536 * 2 * 8, 224 + 2 * 584)


def test_peak_memory_parallel_and_views_by_hand():
    """Parallel(conv a, conv b, merge=concat) on x (4x4x4 = 64 elements), then Flatten (a
    view) and Linear. Branch a runs with x alive (x + a = 64 + 32); branch b with x and a
    (64 + 32 + 48); x dies; the concat holds a, b and the result (32 + 48 + 80)."""
    net = lc.Sequential(
        lc.Parallel(lc.Conv2d(4, 2, 1), lc.Conv2d(4, 3, 1)),
        lc.Flatten(), lc.Linear(80, 10), lc.Dropout(0.5))
    p = lc.peak_memory(net, (4, 4, 4), "int8")
    assert [v for _, v in p.steps] == [96, 144, 160, 80, 90, 10]
    assert (p.activations, p.path) == (160, "0.cat")
    # Identity shortcut of a residual: x is the add's second input, counted once
    r = lc.peak_memory(lc.Residual(lc.Identity()), (10,), "int8")
    assert [v for _, v in r.steps] == [10, 20]


def test_peak_memory_kv_cache_and_symbolic():
    p = lc.peak_memory(_decoder(1000), (1, 4096), "fp16", kv_dtype="int8")
    assert p.kv_cache == 2 * 1000 * 8 * 128
    assert p.weights == 2 * 2 * 4096 * 4096
    H = sp.Symbol("H", integer=True, positive=True)
    net = lc.Sequential(lc.Conv2d(3, 16, 3, stride=2, padding=1), lc.ReLU(),
                        lc.Residual(lc.Sequential(lc.Conv2d(16, 16, 3, padding=1), lc.ReLU())))
    ps = lc.peak_memory(net, (3, H, H))
    for h in (1, 2, 7, 32):
        pn = lc.peak_memory(net, (3, h, h))
        assert sp.sympify(ps.activations).subs(H, h) == pn.activations
        assert [sp.sympify(v).subs(H, h) for _, v in ps.steps] == [v for _, v in pn.steps]


def test_peak_memory_zoo_values():
    """ResNet-50 at 224: three 56x56x256 tensors (3 x 802,816 elements) are alive first in
    layer1.0's downsample BN (the body's output, the 1x1 conv's output, the BN's output), and
    again in every identity-shortcut add of layer1 (x, body output, sum); the fp32 weights are
    4 x (25,557,032 params + 53,120 BN buffers)."""
    p = lc.peak_memory(lc.zoo.resnet50(), (3, 224, 224))
    assert (p.activations, p.path) == (4 * 3 * 802_816, "layer1.0.downsample.1")
    assert p.weights == 4 * (25_557_032 + 53_120)
    steps = dict(p.steps)
    assert steps["layer1.1.add"] == steps["layer1.2.add"] == p.activations
    assert steps["layer1.0.add"] == 4 * (3 * 802_816)  # body output, shortcut output, sum


def test_peak_memory_any_container():
    """Liveness reads the rows' dataflow, so a container with its own walk is covered too
    (it used to be refused): a ReLU on 4 fp32 elements holds its input and its output."""
    class Odd(lc.network._Container):
        def _walk(self, tracer, x, src, path):
            return tracer.leaf(lc.ReLU(), [x], [src], path)

    p = lc.peak_memory(Odd(), (4,))
    assert p.steps == (("relu", 32),) and p.activations == 32


# brute force: an independent liveness simulation on a flattened op list ------------------------
@st.composite
def _nets(draw, c, depth=0):
    """A random nesting of Sequential / Residual / Parallel over simple layers; returns
    (node, output channels). Spatial size is untouched (1x1 convs)."""
    kinds = ["leaf"] * 3 + (["seq", "res", "par"] if depth < 3 else [])
    kind = draw(st.sampled_from(kinds if depth else ["seq", "res", "par"]))
    if kind == "leaf":
        which = draw(st.sampled_from(["relu", "conv", "identity", "dropout"]))
        if which == "conv":
            k = draw(st.integers(1, 4))
            return lc.Conv2d(c, k, 1), k
        return {"relu": lc.ReLU(), "identity": lc.Identity(), "dropout": lc.Dropout()}[which], c
    if kind == "seq":
        items, cc = [], c
        for _ in range(draw(st.integers(1, 3))):
            node, cc = draw(_nets(cc, depth + 1))
            items.append(node)
        return lc.Sequential(*items), cc

    def to(node, cin, cout):
        return node if cin == cout else lc.Sequential(node, lc.Conv2d(cin, cout, 1))

    if kind == "res":
        body, cb = draw(_nets(c, depth + 1))
        short = None
        if draw(st.booleans()):
            short, cs = draw(_nets(c, depth + 1))
            short = to(short, cs, c)
        act = lc.ReLU() if draw(st.booleans()) else None
        return lc.Residual(to(body, cb, c), short, activation=act), c
    merge = draw(st.sampled_from(["concat", "add", "mul"]))
    branches, outs = [], []
    for _ in range(draw(st.integers(1, 3))):
        b, cb = draw(_nets(c, depth + 1))
        if merge != "concat":
            b, cb = to(b, cb, c), c
        branches.append(b)
        outs.append(cb)
    return lc.Parallel(*branches, merge=merge), (sum(outs) if merge == "concat" else c)


def _flatten(node, x, ops):
    """Append (layer or merge kind, input tensor ids) to `ops`; return the output tensor id
    (the op index)."""
    if isinstance(node, lc.Layer):
        ops.append((node, [x]))
        return len(ops) - 1
    if isinstance(node, lc.Sequential):
        for child in node:
            x = _flatten(child, x, ops)
        return x
    if isinstance(node, lc.Residual):
        y = _flatten(node.body, x, ops)
        s = x if node.shortcut is None else _flatten(node.shortcut, x, ops)
        ops.append(("Add", [y, s]))
        out = len(ops) - 1
        return out if node.activation is None else _flatten(node.activation, out, ops)
    assert isinstance(node, lc.Parallel)
    outs = [_flatten(b, x, ops) for _, b in node.children()]
    if len(outs) == 1:
        return outs[0]
    ops.append(({"concat": "Concat", "add": "Add", "mul": "Mul"}[node.merge], outs))
    return len(ops) - 1


def _naive_peak(model, shape, nbytes):
    ops = []
    final = _flatten(model, -1, ops)
    rows = lc.analyze(model, shape).rows
    assert len(rows) == len(ops)
    size = {-1: sp.prod(shape)}
    storage = {-1: -1}  # tensor -> storage (views share their input's storage)
    for t, ((op, ins), row) in enumerate(zip(ops, rows)):
        assert op == row.kind if isinstance(op, str) else op is row.layer
        if isinstance(op, (lc.Identity, lc.Flatten)):  # Dropout is an Identity
            storage[t] = storage[ins[0]]
        else:
            storage[t] = t
            size[t] = sp.prod(row.output_shape)
    last = {}
    for t, (_, ins) in enumerate(ops):
        for i in ins:
            last[storage[i]] = t
    last[storage[final]] = len(ops)  # the result outlives the pass
    steps = []
    for t in range(len(ops)):
        alive = {s for s in size if s <= t and last.get(s, -2) >= t}
        steps.append(sum(size[s] for s in alive) * nbytes)
    return max([size[-1] * nbytes, *steps]), steps


@given(st.integers(1, 3).flatmap(lambda c: st.tuples(st.just(c), _nets(c))),
       st.sampled_from(["fp32", "int8"]))
def test_peak_memory_matches_naive_liveness(case, dtype):
    c, (net, _) = case
    shape = (c, 2, 3)
    peak, steps = _naive_peak(net, shape, dtype_bytes(dtype))
    p = lc.peak_memory(net, shape, dtype)
    assert [v for _, v in p.steps] == steps
    assert p.activations == peak
    assert lc.peak_memory(net, shape, dtype, batch=3).activations == 3 * peak


def test_peak_memory_repr_is_one_short_line():
    # a Llama or Swin peak has thousands of steps; printing the result must not dump them
    net = lc.Sequential(lc.Conv2d(3, 8, 3, padding=1), lc.ReLU(), lc.Conv2d(8, 8, 3, padding=1))
    pm = lc.peak_memory(net, (3, 32, 32), "fp32")
    assert len(pm.steps) == 3
    text = repr(pm)
    assert "\n" not in text and text.endswith("steps=<3 steps>)")
    assert f"activations={pm.activations}," in text and "path=" in text
