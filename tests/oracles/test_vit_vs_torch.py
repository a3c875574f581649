"""The vision layers and the ConvNeXt, Swin and MaxViT zoo models against plain PyTorch.

The PyTorch side is ``twins_vit.py``, written from the papers and torchvision's definitions
(torchvision itself is not imported).

* Layers: output shapes and parameter/buffer counts of each vision layer and block equal the
  PyTorch module's (or function's) on real CPU tensors, over Hypothesis-drawn sizes (odd maps
  that Swin must pad, maps of one window where it drops the shift, V1 and V2).
* Zoo: for every model, parameters and buffers of the twin (built on the meta device) equal
  the report's, and the twin's count equals torchvision's published one; for one model of
  each family (and at an odd size for the two that take any size) a meta-device forward pass
  is compared module by module: every leaf module's output shapes (one per call) and own
  parameter count equal the report rows with its path.
* Live tools: on small Swin V2 and MaxViT configurations, at odd sizes, every tool preset
  equals the real tool run on the twin (torchstat excepted: it fails on these models).
"""

from __future__ import annotations

from functools import partial

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from oracle_support import require_torch

torch = require_torch()

import torch.nn.functional as F  # noqa: E402

import twins_vit as tw  # noqa: E402

import layercalc as lc  # noqa: E402
from layercalc import analyze, vision  # noqa: E402
from layercalc.zoo import MODELS, maxvit, swin_transformer  # noqa: E402


def _count(module, buffers=False):
    if buffers:
        return sum(b.numel() for n, b in module.named_buffers()
                   if not n.endswith("num_batches_tracked"))
    return sum(p.numel() for p in module.parameters())


# -- layers --------------------------------------------------------------------------------------
@settings(max_examples=20)
@given(st.integers(1, 3), st.integers(2, 4), st.integers(1, 11), st.integers(1, 11),
       st.booleans(), st.booleans())
@example(2, 7, 7, 7, True, False)
@example(1, 3, 5, 8, True, True)
def test_window_attention_shapes_params_buffers(heads, ws, h, w, shifted, v2):
    c = 4 * heads
    shift = [ws // 2] * 2 if shifted else [0, 0]
    twin = (tw.ShiftedWindowAttentionV2 if v2 else tw.ShiftedWindowAttention)(
        c, [ws, ws], shift, heads).eval()
    with torch.no_grad():
        y = twin(torch.randn(2, h, w, c))
    ours = (vision.ShiftedWindowAttentionV2 if v2 else vision.ShiftedWindowAttention)(
        c, ws, shift, heads)
    r = analyze(ours, (h, w, c))
    assert r.output_shape == tuple(y.shape[1:])
    assert r.total.params == _count(twin)
    assert r.total.buffers == _count(twin, buffers=True)


@given(st.integers(2, 5), st.integers(1, 3), st.integers(1, 3), st.data())
def test_mask_and_bias_shapes(ws, nh, nw, data):
    sh = data.draw(st.integers(0, ws - 1))
    sw = data.draw(st.integers(1 if sh == 0 else 0, ws - 1))
    mask = tw.shifted_window_mask(nh * ws, nw * ws, [ws, ws], [sh, sw], torch.zeros(1))
    assert lc.ShiftedWindowMask(ws, (sh, sw)).output_shape((nh * ws, nw * ws, 3)) == \
        tuple(mask.unsqueeze(1).shape)
    index = tw.relative_position_index(ws, ws + 1)
    bias = lc.RelativePositionBias((ws, ws + 1), 3)
    assert bias.cost(()).buffers == index.numel()
    assert int(index.max()) + 1 == bias.table_size == len(index.unique())


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 3))
def test_partitions_shapes(c, p, nh, nw, q):
    x = torch.randn(2, c, p * q * nh, p * q * nw)
    win = tw.WindowPartition()(x, p)
    assert lc.WindowPartition(p).output_shape(tuple(x.shape[1:])) == tuple(win.shape[1:])
    back = tw.WindowDepartition()(win, p, q * nh, q * nw)
    assert lc.WindowDepartition(p, q * nh, q * nw).output_shape(tuple(win.shape[1:])) == \
        tuple(back.shape[1:])
    assert torch.equal(back, x)
    # MaxViT's grid of g x g tokens on a square map: windows of H/g, then the axes swapped
    g, m = p, q * nh
    xs = torch.randn(2, c, g * m, g * m)
    grid = torch.swapaxes(tw.WindowPartition()(xs, m), -2, -3)
    assert lc.GridPartition(g).output_shape(tuple(xs.shape[1:])) == tuple(grid.shape[1:])


@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 4))
def test_merging_gather_layer_norm_2d_and_layer_scale(h, w, c):
    x = torch.randn(2, h, w, c)
    assert lc.PatchMergingPad().output_shape((h, w, c)) == tuple(tw._merge_gather(x).shape[1:])
    ln = tw.LayerNorm2d(c, eps=1e-6)
    xc = torch.randn(2, c, h, w)
    assert lc.LayerNorm2d(c, eps=1e-6).output_shape((c, h, w)) == tuple(ln(xc).shape[1:])
    assert lc.LayerNorm2d(c).cost((c, h, w)).params == _count(ln)
    gamma = torch.nn.Parameter(torch.ones(c, 1, 1))
    assert lc.LayerScale(c, channels_first=True).output_shape((c, h, w)) == \
        tuple((gamma * xc).shape[1:])
    assert lc.Normalize(dim=-1).output_shape((h, w, c)) == tuple(F.normalize(x, dim=-1).shape[1:])


@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 3), st.integers(2, 5))
def test_pad_unpad_table_and_scales(h, w, c, ws):
    x = torch.randn(2, h, w, c)
    padded = F.pad(x, (0, 0, 0, (ws - w % ws) % ws, 0, (ws - h % ws) % ws))
    assert lc.WindowPad(ws).output_shape((h, w, c)) == tuple(padded.shape[1:])
    assert lc.WindowUnpad(h, w).output_shape(tuple(padded.shape[1:])) == \
        tuple(padded[:, :h, :w, :].contiguous().shape[1:])
    twin = tw.ShiftedWindowAttentionV2(2 * c, [ws, ws], [0, 0], c)
    assert lc.RelativeCoordsTable(ws).cost(()).buffers == twin.relative_coords_table.numel()
    assert lc.RelativeCoordsTable(ws).output_shape(()) == \
        tuple(twin.relative_coords_table.shape[1:])
    assert lc.LogitScale(c).cost(()).params == twin.logit_scale.numel()
    assert lc.LogitScale(c).output_shape(()) == tuple(twin.logit_scale.shape)
    assert lc.MulScalar(0.5).output_shape((h, w, c)) == tuple((x * 0.5).shape[1:])


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 5), st.integers(1, 5),
       st.integers(1, 4))
def test_attention_products_shapes(g, heads, L, S, d):
    q, k = torch.randn(2, g, heads, L, d), torch.randn(2, g, heads, S, d)
    s = q.matmul(k.transpose(-2, -1))
    e = torch.einsum("B G H I D, B G H J D -> B G H I J", q, k)
    assert lc.AttentionScores(heads, d).output_shape(tuple(q.shape[1:]), tuple(k.shape[1:])) \
        == tuple(s.shape[1:]) == tuple(e.shape[1:])
    o = s.matmul(k)
    assert lc.AttentionOutput(heads, d, "einsum").output_shape(
        tuple(s.shape[1:]), tuple(k.shape[1:])) == tuple(o.shape[1:])


def test_blocks_params_and_shapes():
    cases = [
        (tw.CNBlock(48, 1e-6, 0.0), vision.CNBlock(48), (48, 9, 11)),
        (tw.PatchMerging(24, False), vision.PatchMerging(24), (7, 9, 24)),
        (tw.PatchMerging(24, True), vision.PatchMergingV2(24), (7, 9, 24)),
        (tw.SwinBlock(24, 3, [4, 4], [2, 2], 4.0, 0.0, 0.0, True),
         vision.SwinTransformerBlockV2(24, 3, 4, 2), (9, 6, 24)),
        (tw.MBConv(16, 32, 4, 0.25, 2, 0.1), vision.MaxVitMBConv(16, 32, 4, 0.25, 2, 0.1),
         (16, 14, 14)),
        (tw.PartitionAttentionLayer(32, 16, 2, "grid", (8, 8), 4, 0.0, 0.0, 0.0),
         vision.PartitionAttentionLayer(32, 16, 2, "grid", (8, 8)), (32, 8, 8)),
    ]
    for twin, ours, shape in cases:
        twin.eval()
        with torch.no_grad():
            y = twin(torch.randn(2, *shape))
        r = analyze(ours, shape)
        assert r.output_shape == tuple(y.shape[1:]), type(twin).__name__
        assert r.total.params == _count(twin), type(twin).__name__
        assert r.total.buffers == _count(twin, buffers=True), type(twin).__name__


# -- the zoo -------------------------------------------------------------------------------------
def test_every_vit_zoo_model_has_a_twin():
    assert set(tw.MODEL_BUILDERS) <= set(MODELS)


@pytest.mark.parametrize("name", list(tw.MODEL_BUILDERS))
def test_params_and_buffers(name):
    with torch.device("meta"):
        twin = tw.MODEL_BUILDERS[name]()
    r = analyze(MODELS[name](), (3, tw.CROP[name], tw.CROP[name]))
    assert _count(twin) == tw.TORCHVISION_NUM_PARAMS[name] == r.total.params
    assert _count(twin, buffers=True) == r.total.buffers


def _leaf_trace(model, shape):
    """Per leaf module: path -> [output shape of each call], own params (meta forward)."""
    calls, own, hooks = {}, {}, []
    for path, mod in model.named_modules():
        if next(mod.children(), None) is None:
            own[path] = sum(p.numel() for p in mod.parameters(recurse=False))

            def hook(_m, _i, out, path=path):
                calls.setdefault(path, []).append(tuple(out.shape[1:]))

            hooks.append(mod.register_forward_hook(hook))
    with torch.no_grad():
        y = model(torch.zeros(1, *shape, device="meta"))
    for h in hooks:
        h.remove()
    return tuple(y.shape[1:]), calls, own


@pytest.mark.parametrize("name, shape", [
    ("convnext_tiny", (3, 224, 224)), ("convnext_tiny", (3, 97, 131)),
    ("swin_t", (3, 224, 224)), ("swin_t", (3, 97, 131)), ("swin_v2_t", (3, 256, 256)),
    ("maxvit_t", (3, 224, 224)),
], ids=lambda v: v if isinstance(v, str) else "x".join(map(str, v)))
def test_shapes_and_params_per_module(name, shape):
    with torch.device("meta"):
        twin = tw.MODEL_BUILDERS[name]().eval()
    y, calls, own = _leaf_trace(twin, shape)
    r = analyze(MODELS[name](), shape)
    assert r.output_shape == y
    ours: dict[str, list] = {}
    for row in r.rows:
        ours.setdefault(row.path, []).append(tuple(row.output_shape))
    missing = sorted(set(calls) - set(ours))
    assert not missing, f"torch leaf modules without a report row: {missing[:10]}"
    bad = [(p, s, ours[p]) for p, s in calls.items() if ours[p] != s]
    assert not bad, bad[:5]
    params = {}
    for row in r.rows:
        params[row.path] = params.get(row.path, 0) + row.cost.params
    badp = [(p, n, params[p]) for p, n in own.items() if p in ours and params[p] != n]
    assert not badp, badp[:5]


# -- live tools on small configurations ----------------------------------------------------------
#: Small models at odd sizes (Swin pads every stage and drops the shift at the last one).
#: V1's products and ConvNeXt's kinds are checked against the tools at the crop sizes through
#: peer_numbers_vit.json; these two hold every call style: Tensor.matmul, `@`, einsum,
#: F.linear, once-per-forward modules, F.normalize, F.pad, torch.roll, the mask.
SMALL = {
    "swin_v2": (partial(tw.SwinTransformer, 8, [2, 2], [2, 2], 3, 0.1, True),
                partial(swin_transformer, 4, 8, [2, 2], [2, 2], 3, v2=True), (3, 45, 30)),
    "maxvit": (partial(tw.MaxVit, (32, 32), stochastic_depth_prob=0.1, stem_channels=8,
                       block_channels=(8, 16, 32), block_layers=(1, 2, 1), head_dim=4,
                       partition=2),
               partial(maxvit, (32, 32), 8, 2, [8, 16, 32], [1, 2, 1], 4, 0.1), (3, 32, 32)),
}

TOOLS = {"ptflops": ("ptflops_pytorch", "macs"), "ptflops-aten": ("ptflops_aten", "macs"),
         "thop": ("thop", "ops"), "fvcore": ("fvcore", "total"),
         "torchinfo": ("torchinfo", "total_mult_adds"), "calflops": ("calflops", "flops"),
         "calflops-macs": ("calflops", "macs"), "flopcountermode": ("flop_counter", "total")}

_LIVE: dict = {}


def _live(family, tool):
    import generate_peer_numbers as gen

    if (family, tool) not in _LIVE:
        factory, _, shape = SMALL[family]
        torch.manual_seed(0)
        x = torch.randn(1, *shape)
        _LIVE[(family, tool)] = gen.run_tool(tool, factory, x, zoo=True, breakdown=False)
    return _LIVE[(family, tool)]


@pytest.mark.parametrize("preset", list(TOOLS))
@pytest.mark.parametrize("family", list(SMALL))
def test_preset_equals_live_tool_on_a_small_model(family, preset):
    tool, field = TOOLS[preset]
    res = _live(family, tool)
    assert "error" not in res, res
    _, build, shape = SMALL[family]
    ours = analyze(build(), shape).flops(preset)
    assert ours == res[field], f"{family} {preset}: layercalc {ours}, {tool} {res[field]}"
