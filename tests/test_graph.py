"""The graph API (issue 12): Input, Tensor, Graph, the tensor functions, shared layers, side
outputs, assumptions at merges, errors; and the properties: a graph equals the same net built
with containers, random DAGs of convs and merges equal a naive walker written here, a graph
nested in a Sequential, shared layers counted once."""

from __future__ import annotations

import json
from collections import OrderedDict

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import layercalc as lc
from brute import conv_counts

H, W = lc.symbols("H W")


# -- the basics ---------------------------------------------------------------------------------
def test_issue_example():
    """The issue's example: two convs, a cat and a sum, two outputs."""
    x = lc.Input((3, H, W))
    a = lc.Conv2d(3, 8, 3, padding=1)(x)
    b = lc.Conv2d(3, 8, 1)(x)
    y = lc.cat([a, b], dim=0)
    z = a + b
    g = lc.Graph(x, [y, z], name="net")
    r = lc.analyze(g, (3, 224, 224))
    assert r.name == "net" and r.output_shape == ((16, 224, 224), (8, 224, 224))
    assert [(row.path, row.kind, row.call) for row in r.rows] == [
        ("conv2d", "Conv2d", "module"), ("conv2d_1", "Conv2d", "module"),
        ("cat", "Concat", "functional"), ("add", "Add", "operator")]
    assert [row.sources for row in r.rows] == [(None,), (None,), (0, 1), (0, 1)]
    assert r.output_sources == ((2, 0), (3, 0))
    assert r.total.macs == (8 * 27 + 8 * 3) * 224 * 224
    assert g.input_shape == (3, H, W) and lc.analyze(g).output_shape == ((16, H, W), (8, H, W))
    d = json.loads(r.to_json())
    assert d["output_shape"] == [[16, 224, 224], [8, 224, 224]]
    assert "(16, 224, 224) & (8, 224, 224)" in r.to_text()


def test_naming_rule():
    """Generated names: lowercased kind, function or operator name, then _1, _2 in call
    order, skipping explicit names; explicit names may hold dots; a layer called twice keeps
    one name."""
    x = lc.Input((4, 8, 8))
    relu = lc.ReLU()
    a = lc.Conv2d(4, 4, 1)(x, name="conv2d_1")  # explicit: taken before generated ones
    b = lc.Conv2d(4, 4, 1)(x)
    c = lc.Conv2d(4, 4, 1)(relu(b), name="layer3.0.conv2")
    d = relu(a + c)
    e = lc.cat([d, d * b]).permute(1, 2, 0).reshape(8, 64).flatten()
    g = lc.Graph(x, e)
    assert [n.name for n in g.nodes] == [
        "conv2d_1", "conv2d", "relu", "layer3.0.conv2", "add", "relu", "mul", "cat",
        "permute", "reshape", "flatten"]
    assert g.nodes[4].inputs == (("conv2d_1", 0), ("layer3.0.conv2", 0))
    r = lc.analyze(g)
    assert r.output_shape == (512,)
    assert [row.call for row in r.rows][-5:] == ["operator", "functional", "functional",
                                                 "functional", "functional"]


def test_shared_layer_counted_once_like_tied():
    """One layer object called twice is one set of weights, as `Tied`: params (and buffers)
    at the first call, work and weight reads at every call."""
    lin = lc.Linear(16, 16)
    x = lc.Input((4, 16))
    g = lc.Graph(x, lin(lin(x)))
    r = lc.analyze(g)
    tied = lc.analyze(lc.Sequential(lc.Tied("w", lin), lc.Tied("w", lin)), (4, 16))
    assert [row.cost for row in r.rows] == [row.cost for row in tied.rows]
    assert [row.path for row in r.rows] == ["linear", "linear"]  # one module, one path
    bn = lc.BatchNorm2d(4)
    y = lc.Input((4, 3, 3))
    r = lc.analyze(lc.Graph(y, bn(bn(y))))
    assert [(row.cost.params, row.cost.buffers) for row in r.rows] == [(8, 8), (0, 0)]
    assert r.rows[1].cost.weight_reads == 16
    # torchinfo counts a shared module on every call (its own parameters), as with Tied
    assert r.flops("torchinfo") == lc.analyze(lc.Sequential(bn, bn), (4, 3, 3)).flops("torchinfo")


def test_multi_input_and_nesting():
    """Several inputs (a tuple of shapes), ports of each input, a graph called inside a graph
    and put in a Sequential."""
    a, b = lc.Input((8, 4), name="a"), lc.Input((4, 5), name="b")
    g = lc.Graph([a, b], [a @ b, lc.ReLU()(a)], name="two")
    r = lc.analyze(g, ((8, 6), (6, 5)))
    assert r.output_shape == ((8, 5), (8, 6)) and r.rows[0].ports == (0, 1)
    assert r.rows[0].cost.macs == 8 * 6 * 5
    assert g.input_names == ("a", "b")
    x = lc.Input((3, 8, 8))
    inner = lc.Graph(x, lc.ReLU()(lc.Conv2d(3, 3, 3, padding=1)(x)), name="inner")
    y = lc.Input((3, 8, 8))
    outer = lc.Graph(y, inner(inner(y), name="second"))
    assert [row.path for row in lc.analyze(outer).rows] == [
        "inner.conv2d", "inner.relu", "second.conv2d", "second.relu"]
    seq = lc.Sequential(OrderedDict(block=inner, head=lc.Flatten()))
    assert [row.path for row in lc.analyze(seq, (3, 4, 4)).rows] == [
        "block.conv2d", "block.relu", "head"]


def test_multi_output_layers_in_a_graph():
    """Split/Chunk give one tensor per piece; a consumer's port says which."""
    x = lc.Input((6, 4))
    p, q, s = lc.chunk(x, 3)
    g = lc.Graph(x, lc.stack([q, s]) + lc.Getitem(slice(None))(p))
    r = lc.analyze(g)
    assert r.rows[0].output_shape == ((2, 4), (2, 4), (2, 4))
    assert [(row.path, row.sources, row.ports) for row in r.rows] == [
        ("chunk", (None,), (0,)), ("stack", (0, 0), (1, 2)), ("getitem", (0,), (0,)),
        ("add", (1, 2), (0, 0))]
    assert r.output_shape == (2, 2, 4)
    with pytest.raises(lc.GraphError) as e:
        lc.analyze(g, (4, 4))  # chunk of 4 into 3 gives 2 pieces of 2: not this graph
    assert str(e.value) == ("chunk (Chunk): gives 2 outputs at these sizes, but the graph was "
                            "built with 3 (the count depends on the sizes)")


def test_side_outputs():
    """A side output's rows keep params and buffers, lose their work, are marked, and every
    convention (tools included) and peak_memory skip them; the notes say so."""
    x = lc.Input((3, 8, 8))
    m = lc.Conv2d(3, 4, 3, padding=1)(x, name="main")
    aux = lc.Linear(256, 10)(m.flatten(), name="aux.fc")
    g = lc.Graph(x, lc.ReLU()(m), side_outputs={"aux": aux})
    r = lc.analyze(g)
    assert [(row.path, row.side) for row in r.rows] == [
        ("main", False), ("flatten", True), ("aux.fc", True), ("relu", False)]
    assert r.total.params == 112 + 2570 and r.rows[2].cost == lc.Cost(params=2570)
    assert r.total.macs == 4 * 27 * 64
    assert r.flops("torchvision") == r.total.macs and r.flops("fvcore") == r.total.macs
    assert r.notes == ("graph: side output aux (2 rows) does not run at inference: its 2,570 "
                       "parameters are counted, its work and memory traffic are not (rows "
                       "marked side)",)
    assert [p for p, _ in lc.peak_memory(g, (3, 8, 8)).steps] == ["main", "relu"]
    assert "Note: graph: side output aux" in r.to_text()


# -- assumptions --------------------------------------------------------------------------------
def test_symbolic_merge_assumption_and_its_failure():
    """A symbolic cat whose sizes are not provably equal records the equality; substituting a
    size where it is false raises the numeric analysis's error, naming node and producers."""
    x = lc.Input((3, H, H))
    a = lc.Conv2d(3, 4, 1)(lc.MaxPool2d(2)(x))
    b = lc.Conv2d(3, 4, 1)(lc.MaxPool2d(2, ceil_mode=True)(x))
    g = lc.Graph(x, lc.cat([a, b], name="merge"))
    r = lc.analyze(g)
    (asm,) = r.assumptions
    assert asm.path == "merge" and asm.producers == ("conv2d", "conv2d_1")
    assert asm.relation == sp.Eq(sp.floor(H / 2), sp.ceiling(H / 2))
    assert r.notes == (f"merge: assumes {asm.relation} (inputs from conv2d and conv2d_1)",)
    assert lc.evaluate(r, H=8).output_shape == (8, 4, 4)
    with pytest.raises(lc.ShapeError) as e:
        lc.evaluate(r, H=9)
    assert str(e.value) == (
        "merge (Concat): input shapes (4, 4, 4) and (4, 5, 5) differ at axis 1 (concatenating "
        "along axis 0) from conv2d and conv2d_1. The symbolic analysis assumed "
        "Eq(floor(H/2), ceiling(H/2)), which is false at H=9; the numeric analysis at these "
        "sizes fails the same way.")
    with pytest.raises(lc.ShapeError, match="differ at axis 1"):
        lc.analyze(g, (3, 9, 9))
    # a provably false merge fails at once, symbolic or not
    with pytest.raises(lc.ShapeError, match="differ at axis 1"):
        lc.cat([lc.Conv2d(3, 4, 3)(x), x])


def test_assumptions_kept_dropped_and_in_containers():
    """An assumption true at the values is dropped, an undecided one kept (substituted);
    container merges (Residual, Parallel) record theirs too."""
    x = lc.Input((2, H, W))
    g = lc.Graph(x, lc.Conv2d(2, 2, 1)(x) + lc.Upsample(size=(H, 4))(x))
    r = lc.analyze(g)
    assert [a.relation for a in r.assumptions] == [sp.Or(sp.Eq(W, 4), sp.Eq(W, 1))]
    assert lc.evaluate(r, W=4).assumptions == () and lc.evaluate(r, H=3).assumptions != ()
    with pytest.raises(lc.ShapeError, match="cannot be broadcast: sizes 5 and 4"):
        lc.evaluate(r, H=3, W=5)
    # H - 2 and H differ, so they broadcast only if one of them is 1
    par = lc.Parallel(lc.Conv2d(2, 2, 3), lc.Conv2d(2, 2, 1), merge="add")
    r = lc.analyze(par, (2, H, W))
    assert [a.relation for a in r.assumptions] == [sp.Or(sp.Eq(W, 1), sp.Eq(W - 2, 1)),
                                                   sp.Or(sp.Eq(H, 1), sp.Eq(H - 2, 1))]
    assert lc.evaluate(r, H=3, W=3).output_shape == (2, 3, 3)
    with pytest.raises(lc.ShapeError, match="cannot be broadcast: sizes 3 and 5"):
        lc.evaluate(r, H=5, W=5)
    res = lc.Residual(lc.MaxPool2d(2, ceil_mode=True), lc.MaxPool2d(2))
    r = lc.analyze(res, (2, H, H))
    assert [(a.path, a.producers) for a in r.assumptions] == [("add", ("maxpool2d",
                                                                        "downsample"))]
    assert lc.evaluate(r, H=8).total.ops["add"] == 32
    with pytest.raises(lc.ShapeError) as e:
        lc.evaluate(r, H=9)
    assert str(e.value).startswith("add (Add): input shapes (2, 5, 5) and (2, 4, 4) cannot be "
                                   "broadcast: sizes 5 and 4 at axis -1 from maxpool2d and "
                                   "downsample.")


# -- errors -------------------------------------------------------------------------------------
def _msg(fn):
    with pytest.raises(lc.LayerCalcError) as e:
        fn()
    return type(e.value).__name__, str(e.value)


def test_errors_name_the_node():
    x = lc.Input((3, 32, 32))
    a = lc.Conv2d(3, 8, 3, padding=1)(x)
    b = lc.Conv2d(3, 8, 3)(x)
    assert _msg(lambda: a + b) == ("ShapeError", "add (Add): input shapes (8, 32, 32) and "
                                   "(8, 30, 30) cannot be broadcast: sizes 32 and 30 at axis -1 "
                                   "from conv2d and conv2d_1.")
    assert _msg(lambda: lc.Conv2d(4, 8, 1)(a, name="head.conv")) == (
        "ShapeError", "head.conv (Conv2d): expected 4 input channels, got input shape "
        "(8, 32, 32) from conv2d.")
    y = lc.Input((3, 32, 32), name="y")
    assert _msg(lambda: lc.Graph(x, a + lc.Conv2d(3, 8, 3, padding=1)(y))) == (
        "GraphError", "Graph: node 'conv2d_1' reads input 'y' (shape (3, 32, 32)), which is "
        "not among the graph's inputs: a tensor from another graph (give it in inputs, or "
        "build this part from this graph's inputs)")
    assert _msg(lambda: lc.Graph([x, y], a, name="g")) == (
        "GraphError", "Graph 'g': input 1 ('y', shape (3, 32, 32)) is not used by any output")
    assert _msg(lambda: lc.Graph(a, b)) == (
        "GraphError", "Graph: inputs must be tensors made by layercalc.Input; input 0 is the "
        "output of 'conv2d'")
    parts = lc.split(a, [3, 5])
    assert _msg(lambda: lc.ReLU()(parts)) == (
        "GraphError", "relu (ReLU): input 0 is a tuple of 2 tensors (the outputs of 'split'), "
        "not one tensor; pick one (out[0]), or pass them one by one to a layer taking several "
        "inputs (layer(*out))")
    assert _msg(lambda: lc.ReLU()((3, 4))) == (
        "GraphError", "ReLU: calling a layer records a graph node and takes graph tensors (from "
        "layercalc.Input), got tuple. For a shape, use ReLU.output_shape(shape); for counts, "
        "ReLU.cost(shape) or layercalc.analyze(model, shape)")
    g2 = lc.Graph([x, y], [a, lc.ReLU()(y)])
    assert _msg(lambda: lc.Sequential(lc.ReLU(), g2)) == (
        "GraphError", "Sequential: a child takes one tensor and passes one on, but this Graph "
        "has 2 inputs and 2 outputs; call it on tensors inside a layercalc.Graph instead")
    assert _msg(lambda: lc.ReLU()(a, call="method")) == (
        "GraphError", "relu: call (='method') must be one of 'module', 'functional', "
        "'operator'")
    assert _msg(lambda: a + 1) == (
        "GraphError", "add: both operands must be graph tensors, got Tensor(shape=(8, 32, 32), "
        "node='conv2d') and 1; constants are not modelled (write a layer for them)")
    assert _msg(lambda: lc.analyze(g2, (3, 32, 32))) == (
        "LayerSpecError", "analyze: the model takes 2 inputs: give a tuple of 2 shapes, got "
        "(3, 32, 32).")
    assert _msg(lambda: lc.analyze(lc.Sequential(lc.ReLU()))) == (
        "LayerSpecError", "analyze: input_shape is required for a Sequential; only a Graph "
        "declares its inputs' shapes (layercalc.Input).")
    with pytest.raises(lc.GraphError, match="not iterable"):
        list(a)


def test_cycle_is_an_error():
    """A container that contains itself (only possible by mutation) is a GraphError, not a
    RecursionError."""
    r = lc.Residual(lc.ReLU())
    r.body = lc.Sequential(lc.ReLU(), r)
    assert _msg(lambda: lc.analyze(r, (4,))) == (
        "GraphError", "1 (Residual): a cycle: this container contains itself, so the walk would "
        "never end")


# -- peak memory and fusion on graphs -----------------------------------------------------------
def test_peak_memory_graph_and_transformer_blocks():
    """Liveness on Row.sources: a U-Net skip stays alive across the whole decoder, and the
    transformer blocks peak_memory used to refuse are covered."""
    x = lc.Input((1, 8, 8))
    e = lc.Conv2d(1, 2, 3, padding=1)(x, name="enc")          # 128 elements
    d = lc.Conv2d(2, 2, 3, padding=1)(lc.MaxPool2d(2)(e))     # pool 32, conv 32
    u = lc.Upsample(scale_factor=2)(d, name="up")             # 128
    g = lc.Graph(x, lc.cat([e, u], name="cat"))               # 256
    p = lc.peak_memory(g, (1, 8, 8), "int8")
    assert p.steps == (("enc", 64 + 128), ("maxpool2d", 128 + 32), ("conv2d", 128 + 32 + 32),
                       ("up", 128 + 32 + 128), ("cat", 128 + 128 + 256))
    assert (p.activations, p.path) == (512, "cat")
    blk = lc.TransformerEncoderLayer(64, 4, 128)
    pm = lc.peak_memory(blk, (10, 64))
    assert pm.activations > 0 and len(pm.steps) == len(lc.analyze(blk, (10, 64)).rows)


def test_fuse_inside_a_graph_keeps_paths():
    x = lc.Input((16, 8, 8))
    h = lc.ReLU()(lc.BatchNorm2d(32)(lc.Conv2d(16, 32, 3, padding=1, bias=False)(x, name="conv"),
                                      name="bn"), name="relu")
    y = lc.Conv2d(32, 16, 1)(h, name="proj") + x
    g = lc.Graph(x, lc.ReLU()(y, name="out"))
    r = lc.fuse_report(lc.Sequential(lc.Conv2d(16, 16, 1), g), (16, 8, 8))
    assert r.folded == (("1.conv", "1.bn"),)
    assert r.fused == (("1.relu", "1.conv"), ("1.out", "1.add"))
    assert r.skipped == ()
    assert [row.path for row in r.after.rows] == ["0", "1.conv", "1.relu", "1.proj", "1.add",
                                                 "1.out"]
    assert r.totals["params"] == (5472, 5472 - 64 + 32)
    shared = lc.BatchNorm2d(16)
    z = lc.Input((16, 4, 4))
    c = lc.Conv2d(16, 16, 1, bias=False)
    gs = lc.Graph(z, shared(c(shared(c(z)))))
    assert lc.fuse_report(gs, (16, 4, 4)).folded == ()  # shared layers are left alone


# -- properties ---------------------------------------------------------------------------------
@st.composite
def _nets(draw, c, depth=0):
    """A random nesting of Sequential / Residual / Parallel over simple layers (1x1 convs
    and 3x3 'same' convs keep the spatial size); returns (node, output channels)."""
    kinds = ["leaf"] * 3 + (["seq", "res", "par"] if depth < 3 else [])
    kind = draw(st.sampled_from(kinds if depth else ["seq", "res", "par"]))
    if kind == "leaf":
        which = draw(st.sampled_from(["relu", "conv", "conv3", "identity", "bn"]))
        if which in ("conv", "conv3"):
            k = draw(st.integers(1, 4))
            return lc.Conv2d(c, k, 1 if which == "conv" else 3,
                             padding=0 if which == "conv" else 1), k
        return {"relu": lc.ReLU(), "identity": lc.Identity(), "bn": lc.BatchNorm2d(c)}[which], c
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
        if isinstance(body, lc.Layer):  # a bare-layer body takes the block's own path, which
            body = lc.Sequential(body)  # a graph node (always named) cannot: keep it a child
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


def _join(a, b):
    return f"{a}.{b}" if a and b else (a or b)


def to_graph(node, t, path=""):
    """The same network written with the graph API: every layer called with its report path
    as the node name, merges as the tensor operations PyTorch code would use."""
    if isinstance(node, lc.Layer):
        return node(t, name=path or node.kind.lower())
    if isinstance(node, lc.Sequential):
        for name, child in node.children():
            t = to_graph(child, t, _join(path, name))
        return t
    if isinstance(node, lc.Residual):
        y = to_graph(node.body, t, path)
        s = t if node.shortcut is None else to_graph(node.shortcut, t,
                                                     _join(path, node.shortcut_name))
        out = lc.Add()(y, s, name=_join(path, "add"), call="operator")
        if node.activation is not None:
            out = node.activation(out, name=_join(path, node.activation.kind.lower()))
        return out
    outs = [to_graph(b, t, _join(path, n)) for n, b in node.children()]
    if len(outs) == 1:
        return outs[0]
    if node.merge == "concat":
        return lc.cat(outs, name=_join(path, "cat"))
    layer = lc.Add() if node.merge == "add" else lc.Mul()
    return layer(*outs, name=_join(path, node.merge), call="operator")


def _rows(report):
    return [(r.path, r.kind, r.input_shape, r.output_shape, r.cost, r.call, r.sources)
            for r in report.rows]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3).flatmap(lambda c: st.tuples(st.just(c), _nets(c))))
def test_graph_equals_containers(case):
    """A container net rewritten as a graph gives the same rows (paths, kinds, shapes, costs,
    calls, dataflow), totals and peak memory; nested in a Sequential too. (Fusion is not
    compared: on a graph it follows the dataflow, so it also fuses an activation whose
    producer sits in another container, which the container rule leaves; the DAG property
    below checks the graph rule.)"""
    c, (net, _) = case
    shape = (c, 3, 4)
    x = lc.Input(shape)
    g = lc.Graph(x, to_graph(net, x))
    a, b = lc.analyze(net, shape), lc.analyze(g)
    assert _rows(a) == _rows(b) and a.output_shape == b.output_shape
    assert a.total == b.total
    assert lc.peak_memory(net, shape).steps == lc.peak_memory(g, shape).steps
    pre, post = lc.Conv2d(2, c, 1), lc.Flatten()
    s1 = lc.analyze(lc.Sequential(pre, net, post), (2, 3, 4))
    s2 = lc.analyze(lc.Sequential(pre, g, post), (2, 3, 4))
    assert _rows(s1) == _rows(s2)


@st.composite
def _dags(draw):
    """A random DAG: ("conv", src, cout, k) | ("relu" | "id" | "bn", src) | ("add", a, b) |
    ("cat", [srcs]) over tensors 0 (the input) .. n; returns (input channels, ops)."""
    c0 = draw(st.integers(1, 3))
    chans = [c0]
    ops = []
    for _ in range(draw(st.integers(1, 7))):
        kind = draw(st.sampled_from(["conv", "conv", "relu", "id", "bn", "add", "cat"]))
        src = draw(st.integers(0, len(chans) - 1))
        if kind == "conv":
            cout, k = draw(st.integers(1, 3)), draw(st.sampled_from([1, 3]))
            ops.append(("conv", src, cout, k))
            chans.append(cout)
        elif kind in ("relu", "id", "bn"):
            ops.append((kind, src))
            chans.append(chans[src])
        elif kind == "add":
            same = [i for i, ch in enumerate(chans) if ch == chans[src]]
            ops.append(("add", src, draw(st.sampled_from(same))))
            chans.append(chans[src])
        else:
            srcs = draw(st.lists(st.integers(0, len(chans) - 1), min_size=2, max_size=3))
            ops.append(("cat", srcs))
            chans.append(sum(chans[i] for i in srcs))
    return c0, ops


def _naive(c0, ops, h, w, nbytes=1):
    """Walk the DAG by hand: shapes, params, MACs (counted by brute force), the producers of
    each op, and peak activation bytes by liveness."""
    shapes, params, macs, producers = [(c0, h, w)], 0, 0, []
    for op in ops:
        if op[0] == "conv":
            _, s, cout, k = op
            cin = shapes[s][0]
            out, cnt = conv_counts(cin, cout, (k, k), (1, 1), (k // 2,) * 2, (1, 1), 1, True,
                                   (h, w))
            params += cin * cout * k * k + cout
            macs += cnt.mults
            shapes.append(out)
            producers.append([s])
        elif op[0] in ("relu", "id", "bn", "add"):
            shapes.append(shapes[op[1]])
            producers.append(list(op[1:]))
            params += 2 * shapes[op[1]][0] if op[0] == "bn" else 0
        else:
            shapes.append((sum(shapes[i][0] for i in op[1]), h, w))
            producers.append(list(op[1]))
    used = {i for p in producers for i in p}
    sinks = [i for i in range(1, len(shapes)) if i not in used]
    # liveness: storage per tensor (an "id" is a view of its input)
    store = {0: 0}
    for t, op in enumerate(ops, start=1):
        store[t] = store[op[1]] if op[0] == "id" else t
    size = {t: shapes[t][0] * h * w * nbytes for t in store if store[t] == t}
    last = {}
    for t, ins in enumerate(producers, start=1):
        for i in ins:
            last[store[i]] = t
    for s in sinks:
        last[store[s]] = len(ops) + 1
    steps = [sum(sz for s, sz in size.items() if s <= t <= last.get(s, s))
             for t in range(1, len(ops) + 1)]
    peak = max([size[0], *steps])
    return shapes, params, macs, producers, sinks, steps, peak


def _build(c0, ops, shape, named=False):
    x = lc.Input(shape)
    ts = [x]
    for t, op in enumerate(ops, start=1):
        kw = {"name": f"n{t}"} if named else {}
        if op[0] == "conv":
            layer = lc.Conv2d(ts[op[1]].shape[0], op[2], op[3], padding=op[3] // 2)
            ts.append(layer(ts[op[1]], **kw))
        elif op[0] in ("relu", "id", "bn"):
            layer = {"relu": lc.ReLU(), "id": lc.Identity(),
                     "bn": lc.BatchNorm2d(ts[op[1]].shape[0])}[op[0]]
            ts.append(layer(ts[op[1]], **kw))
        elif op[0] == "add":
            ts.append(lc.Add()(ts[op[1]], ts[op[2]], call="operator", **kw))
        else:
            ts.append(lc.cat([ts[i] for i in op[1]], **kw))
    return x, ts


@settings(max_examples=80, deadline=None)
@given(_dags(), st.integers(1, 4), st.integers(1, 4))
def test_random_dags_against_a_naive_walker(dag, h, w):
    """Random DAGs of convs and merges: shapes, params, MACs, the dataflow of every row and
    the peak memory equal a walk written here; the symbolic analysis substituted equals the
    numeric one."""
    c0, ops = dag
    shapes, params, macs, producers, sinks, steps, peak = _naive(c0, ops, h, w)
    x, ts = _build(c0, ops, (c0, h, w))
    g = lc.Graph(x, [ts[i] for i in sinks])
    r = lc.analyze(g)
    assert [row.output_shape for row in r.rows] == shapes[1:]
    assert r.total.params == params and r.total.macs == macs
    assert [list(row.sources) for row in r.rows] == [[None if i == 0 else i - 1 for i in p]
                                                    for p in producers]
    want = tuple(shapes[i] for i in sinks)
    assert r.output_shape == (want[0] if len(want) == 1 else want)
    p = lc.peak_memory(g, (c0, h, w), "int8")
    assert [v for _, v in p.steps] == steps and p.activations == peak
    sym = lc.analyze(g, (c0, H, W))
    assert sym.assumptions == ()  # 'same' convolutions: every merge is decided
    assert lc.evaluate(sym, H=h, W=w).total == r.total


def _naive_fusion(ops, sinks):
    """The fusion rules on the DAG by hand: a BN folds into the conv whose output only it
    reads; a ReLU fuses into the producer of its input (stepping back over identities read
    once), when that output is read only by the next step and the producer is not a view."""
    readers = {}
    for t, op in enumerate(ops, start=1):
        for i in (op[1] if op[0] == "cat" else op[1:2] if op[0] != "add" else op[1:3]):
            readers[i] = readers.get(i, 0) + 1
    for s in sinks:
        readers[s] = readers.get(s, 0) + 2
    folded, fused, gone, into = [], [], set(), {}
    for t, op in enumerate(ops, start=1):
        src = op[1] if op[0] in ("relu", "bn", "id") else None
        if op[0] == "bn" and src and ops[src - 1][0] == "conv" and readers[src] == 1 \
                and src not in gone:
            folded.append((f"n{src}", f"n{t}"))
            gone.add(t)
            into[t] = src
        if op[0] == "relu" and src and readers[src] == 1:
            p = src
            while p and ops[p - 1][0] == "id" and ops[p - 1][1] and readers[ops[p - 1][1]] == 1:
                p = ops[p - 1][1]
            if p and ops[p - 1][0] != "id":
                fused.append((f"n{t}", f"n{into.get(p, p)}"))
    return folded, fused


@settings(max_examples=60, deadline=None)
@given(_dags())
def test_fusion_on_random_dags(dag):
    """`fuse` inside a graph folds and fuses exactly where the rules on the dataflow say,
    keeps every other path, and removes the folded BatchNorms' parameters and buffers."""
    c0, ops = dag
    shapes, params, *_ , sinks, _steps, _peak = _naive(c0, ops, 2, 2)
    x, ts = _build(c0, ops, (c0, 2, 2), named=True)
    g = lc.Graph(x, [ts[i] for i in sinks])
    r = lc.fuse_report(g, (c0, 2, 2))
    folded, fused = _naive_fusion(ops, sinks)
    assert r.folded == tuple(folded) and r.fused == tuple(fused)
    bn = {b for _, b in folded}
    assert [row.path for row in r.after.rows] == [row.path for row in r.before.rows
                                                 if row.path not in bn]
    removed = sum(2 * shapes[int(b[1:])][0] for b in bn)
    assert r.totals["params"] == (params, params - removed)
    assert r.totals["buffers"][1] == r.totals["buffers"][0] - removed


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3))
def test_shared_layers_property(k, c):
    """A conv called k times in a chain: params once, MACs and weight reads k times."""
    conv = lc.Conv2d(c, c, 3, padding=1)
    x = lc.Input((c, 5, 5))
    t = x
    for _ in range(k):
        t = conv(t)
    r = lc.analyze(lc.Graph(x, t))
    one = conv.cost((c, 5, 5))
    assert r.total.params == one.params and r.total.macs == k * one.macs
    assert r.total.weight_reads == k * one.weight_reads
    assert {row.path for row in r.rows} == {"conv2d"}


def test_graph_doctests_of_the_guide():
    """docs/graphs.md runs as written."""
    import doctest
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "docs" / "graphs.md"
    res = doctest.testfile(str(page), module_relative=False, optionflags=doctest.ELLIPSIS
                           | doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0 and res.attempted > 10
