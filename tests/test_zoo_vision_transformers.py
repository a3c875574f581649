"""ConvNeXt, Swin V1/V2 and MaxViT: the zoo models against torchvision 0.29.1's published
figures, the vision layers against brute-force counts, and every tool preset against the
recorded output of the real tools.

* Golden values (``tests/golden/zoo_vision_transformers.toml``, torchvision 0.29.1 weights
  metadata): ``num_params`` exactly and ``_ops`` to every printed digit at each weights' crop
  size, plus the exact FlopCounterMode total / 2 measured on torchvision's models.
* Brute force: the reference counters below are explicit loops in ``tests/brute.py`` style
  (every window, head, query, key and feature visited, each multiply and add counted once);
  Hypothesis draws small configurations and compares them with the closed forms.
* Tools: ``tests/oracles/peer_numbers_vit.json`` holds each tool's number on the plain-PyTorch
  twins (which the tools count exactly as torchvision's models), and every preset must match.
"""

from __future__ import annotations

import itertools
import json
import math
import tomllib
from functools import lru_cache
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

import layercalc as lc
from brute import linear_counts
from layercalc import LayerCalcError, LayerSpecError, ShapeError, analyze
from layercalc.zoo import DEFAULT_INPUTS, MODELS, get_model

HERE = Path(__file__).parent
GOLDEN = tomllib.loads((HERE / "golden" / "zoo_vision_transformers.toml").read_text())["model"]
PEERS = json.loads((HERE / "oracles" / "peer_numbers_vit.json").read_text())
NAMES = [row["name"] for row in GOLDEN]
NEW_KINDS = ("LayerScale", "LayerNorm2d", "WindowPad", "WindowUnpad", "WindowPartition",
             "WindowDepartition", "GridPartition", "PatchMergingPad", "RelativePositionBias",
             "RelativeCoordsTable", "LogitScale", "ShiftedWindowMask", "AttentionScores",
             "AttentionOutput", "Normalize", "MulScalar")


@lru_cache(maxsize=None)
def report(name: str, batch: int = 1):
    row = next(r for r in GOLDEN if r["name"] == name)
    return analyze(get_model(name)(), tuple(row["input"]), batch=batch)


# -- golden values -------------------------------------------------------------------------------
@pytest.mark.parametrize("row", GOLDEN, ids=NAMES)
def test_params_equal_torchvision_num_params(row):
    """torchvision 0.29.1 ``num_params`` (weights metadata), exactly."""
    assert report(row["name"]).total.params == row["num_params"], row["variant"]


@pytest.mark.parametrize("row", GOLDEN, ids=NAMES)
def test_torchvision_gflops_to_every_printed_digit(row):
    """torchvision 0.29.1 ``_ops`` at the crop size: FlopCounterMode / 2 rounded to 3 digits;
    unrounded, exactly FlopCounterMode's total on torchvision's model (measured at development
    time) and on the plain-PyTorch twin (peer_numbers_vit.json)."""
    r = report(row["name"])
    tv = r.flops("torchvision")
    assert round(tv / 1e9, 3) == row["gflops"], row["variant"]
    assert 2 * tv == row["flopcountermode_total"]
    assert 2 * tv == PEERS["models"][row["name"]]["flop_counter"]["total"]
    # the attention products and (V2) the position MLP are MACs: the `macs` convention agrees
    assert r.total.macs == tv


def test_without_attention_products_swin_t_reads_4350():
    """The issue's example: without counting the attention products, Swin-T reads 4.350
    GFLOPS instead of 4.491; they are 2 * sum over blocks of G*N^2*C = 140,141,568 MACs."""
    r = report("swin_t")
    products = sum(row.cost.macs for row in r.rows
                   if row.kind in ("AttentionScores", "AttentionOutput"))
    assert products == 140_141_568
    assert round((r.flops("torchvision") - products) / 1e9, 3) == 4.350


# -- structure -----------------------------------------------------------------------------------
def _paths(name):
    return {r.path for r in report(name).rows}


def test_paths_are_torchvision_named_modules():
    assert {"features.0.0", "features.0.1", "features.1.0.block.0", "features.1.0.block.3",
            "features.1.0.layer_scale", "features.1.0.stochastic_depth", "features.2.0",
            "features.2.1", "classifier.0", "classifier.2"} <= _paths("convnext_tiny")
    assert {"features.0.0", "features.0.2", "features.1.0.norm1", "features.1.0.attn.qkv",
            "features.1.0.attn.proj", "features.1.0.attn.relative_position_bias",
            "features.1.1.attn.mask", "features.1.0.stochastic_depth", "features.1.0.mlp.0",
            "features.1.0.mlp.3", "features.2.reduction", "features.2.norm", "norm", "head"
            } <= _paths("swin_t")
    assert {"features.1.0.attn.cpb_mlp.0", "features.1.0.attn.cpb_mlp.2",
            "features.1.0.attn.logit_scale", "features.1.0.attn.normalize_q",
            "features.1.0.attn.relative_coords_table"} <= _paths("swin_v2_t")
    assert {"stem.0.0", "stem.1.0", "blocks.0.layers.0.layers.MBconv.proj.0",
            "blocks.0.layers.0.layers.MBconv.layers.squeeze_excitation.fc1",
            "blocks.0.layers.0.layers.window_attention.attn_layer.1.to_qkv",
            "blocks.0.layers.0.layers.grid_attention.partition_swap",
            "blocks.3.layers.1.layers.grid_attention.mlp_layer.3", "classifier.5"
            } <= _paths("maxvit_t")


def test_functional_rows_say_how_torchvision_calls_them():
    rows = {r.path: r for r in report("swin_t").rows}
    a = "features.1.1.attn."
    assert rows[a + "qkv"].call == "functional"       # F.linear with the module's weights
    assert rows[a + "scores"].layer.op == "matmul"     # q.matmul(k.transpose(-2, -1))
    assert rows[a + "add_bias"].call == rows[a + "add_mask"].call == "operator"
    assert rows[a + "relative_position_bias"].once and rows[a + "mask"].once
    assert not rows[a + "scores"].once
    v2 = {r.path: r for r in report("swin_v2_t").rows}
    assert v2[a + "scores"].layer.op == "@" and v2[a + "scores"].call == "operator"
    assert v2[a + "cpb_mlp.0"].call == "module" and v2[a + "cpb_mlp.0"].once
    mx = {r.path: r for r in report("maxvit_t").rows}
    assert mx["blocks.0.layers.0.layers.window_attention.attn_layer.1.scores"].layer.op == \
        "einsum"


def test_swin_last_stage_has_no_shift_at_224():
    """At 224 Swin-T's last stage is 7x7, one window: torchvision drops the shift (no roll, no
    mask); at 256 (8x8 with window 7, padded to 14x14) the shift applies."""
    p = _paths("swin_t")
    assert "features.7.1.attn.mask" not in p and "features.7.1.attn.roll" not in p
    assert "features.5.1.attn.mask" in p
    p256 = {r.path for r in analyze(lc.zoo.swin_t(), (3, 256, 256)).rows}
    assert {"features.7.1.attn.mask", "features.7.1.attn.roll"} <= p256
    pads = {r.path: r.output_shape for r in analyze(lc.zoo.swin_t(), (3, 256, 256)).rows}
    assert pads["features.7.0.attn.pad"] == (14, 14, 768)
    assert pads["features.7.0.attn.unpad"] == (8, 8, 768)


def test_once_rows_do_not_scale_with_the_batch():
    """The bias gather, V2's position MLP and the mask run once per forward pass."""
    one, four = report("swin_v2_t"), report("swin_v2_t", batch=4)
    once = lc.Cost.sum(r.cost for r in one.rows if r.once)
    per_sample = lc.Cost.sum(r.cost for r in one.rows if not r.once)
    # 12 blocks: Linear(2, 512) and Linear(512, heads) on 15*15 = 225 coordinates
    assert once.macs == 225 * (12 * 2 * 512 + 512 * (2 * 3 + 2 * 6 + 6 * 12 + 2 * 24))
    assert four.total.macs == 4 * per_sample.macs + once.macs
    assert four.total.params == one.total.params
    assert 2 * four.flops("torchvision") == four.flops("flopcountermode")


def test_builders_take_torchvision_keywords():
    r = analyze(lc.zoo.swin_t(num_classes=10, stochastic_depth_prob=0.0, dropout=0.1),
                (3, 224, 224))
    assert r.output_shape == (10,)
    assert analyze(lc.zoo.convnext_tiny(num_classes=10, layer_scale=0.5),
                   (3, 224, 224)).output_shape == (10,)
    assert analyze(lc.zoo.maxvit_t(num_classes=7), (3, 224, 224)).output_shape == (7,)
    lc.zoo.swin_v2_b(weights=None, progress=False)


@pytest.mark.parametrize("name, kwargs, message", [
    ("swin_t", {"num_class": 10}, "swin_t: unknown keyword argument 'num_class'; allowed: "
     "mlp_ratio, dropout, attention_dropout, stochastic_depth_prob, num_classes, weights, "
     "progress."),
    ("convnext_tiny", {"norm_layer": object}, "convnext_tiny: keyword argument 'norm_layer'"),
    ("maxvit_t", {"stochastic_depth": 0.1}, "maxvit_t: unknown keyword argument "
     "'stochastic_depth'"),
])
def test_builders_reject_unknown_keywords(name, kwargs, message):
    with pytest.raises(LayerSpecError) as e:
        get_model(name)(**kwargs)
    assert str(e.value).startswith(message)


def test_maxvit_runs_only_at_its_input_size():
    with pytest.raises(ShapeError, match="departition_op"):
        analyze(lc.zoo.maxvit_t(), (3, 448, 448))
    with pytest.raises(LayerSpecError, match=r"input_size \(=\(100, 100\)\) gives block 0 an "
                       r"input of \(25, 25\), not divisible by partition_size \(=7\)"):
        lc.zoo.maxvit_t(input_size=(100, 100))
    assert analyze(lc.zoo.maxvit_t(input_size=448), (3, 448, 448)).total.params == 30_919_624


def test_registered_and_listed():
    assert set(NAMES) <= set(MODELS)
    assert DEFAULT_INPUTS["swin_v2_t"] == (3, 256, 256) and DEFAULT_INPUTS["maxvit_t"] == (
        3, 224, 224)


# -- symbolic sizes --------------------------------------------------------------------------------
H, W = lc.symbols("H W")


@lru_cache(maxsize=None)
def symbolic(name: str):
    return lc.closed_form(analyze(get_model(name)(), (3, H, W)).total)


@pytest.mark.parametrize("name", ["swin_t", "swin_v2_t", "convnext_tiny"])
@pytest.mark.parametrize("h, w", [(224, 224), (256, 256), (97, 131), (32, 61)])
def test_symbolic_total_equals_numeric_at_any_size(name, h, w):
    """Swin pads each stage to window multiples and drops the shift on maps of one window;
    the symbolic count (ceilings and an exact indicator) equals the numeric one everywhere."""
    num = analyze(get_model(name)(), (3, h, w)).total
    sym = symbolic(name).subs({H: h, W: w})
    for field in ("macs", "dots", "act_reads", "writes", "params", "buffers"):
        assert sp.sympify(getattr(sym, field)) == getattr(num, field), field
    assert {k: sp.sympify(v) for k, v in sym.ops.items()} == dict(num.ops)


def test_symbolic_swin_on_window_multiples_is_a_polynomial():
    """On multiples of 32 * 7 (every stage a whole number of windows, shifts applying),
    Swin-T's MACs are a polynomial in H*W with no ceilings left."""
    macs = lc.assume_divisible(symbolic("swin_t").macs, {H: 448, W: 448})
    assert macs.subs({H: 448, W: 448}) == analyze(lc.zoo.swin_t(), (3, 448, 448)).total.macs
    assert not macs.has(sp.ceiling)


def test_symbolic_maxvit_square():
    S = lc.symbols("S")
    t = analyze(lc.zoo.maxvit_t(input_size=(S, S)), (3, S, S)).total
    assert t.macs.subs(S, 224) == report("maxvit_t").total.macs
    assert lc.assume_divisible(t.macs, {S: 224}) == 110720 * S ** 2 + 2560000


def test_symbolic_channels_and_heads():
    """Widths and heads may be symbols: a Swin block's params are 12C^2 + 13C plus the table,
    and its MACs substitute to the numeric block's."""
    C, h = lc.symbols("C h")
    r = analyze(lc.vision.SwinTransformerBlock(C, h, 7, 3), (56, 56, C))
    assert sp.expand(r.total.params - (12 * C ** 2 + 13 * C + 169 * h)) == 0
    assert r.total.subs({C: 96, h: 3}).macs == analyze(
        lc.vision.SwinTransformerBlock(96, 3, 7, 3), (56, 56, 96)).total.macs
    t = analyze(lc.vision.CNBlock(C), (C, H, W)).total
    assert (t.params, sp.factor(t.macs)) == (8 * C ** 2 + 58 * C, C * H * W * (8 * C + 49))


@given(st.integers(1, 6), st.integers(1, 6), st.floats(0.01, 2.0))
def test_logit_scale_and_mul_scalar_match_brute_force(heads, n, value):
    cmp = exp = 0
    for _h in range(heads):  # clamp then exp, one each per head
        cmp += 1
        exp += 1
    c = lc.LogitScale(heads).cost(())
    assert (c.params, dict(c.ops)) == (heads, {"cmp": cmp, "exp": exp})
    muls = sum(1 for _i in range(n) for _j in range(heads))
    assert lc.MulScalar(value).cost((n, heads)).ops["mul"] == muls


# -- tool presets ------------------------------------------------------------------------------------
PRESETS = {
    "ptflops": ("ptflops_pytorch", "macs"), "ptflops-aten": ("ptflops_aten", "macs"),
    "thop": ("thop", "ops"), "fvcore": ("fvcore", "total"),
    "torchinfo": ("torchinfo", "total_mult_adds"), "calflops": ("calflops", "flops"),
    "calflops-macs": ("calflops", "macs"), "flopcountermode": ("flop_counter", "total"),
}


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize("name", NAMES)
def test_preset_equals_recorded_tool(name, preset):
    """Each preset equals its tool's number on the model (peer_numbers_vit.json)."""
    tool, field = PRESETS[preset]
    assert report(name).flops(preset) == PEERS["models"][name][tool][field]


@pytest.mark.parametrize("name", NAMES)
def test_torchstat_cannot_count_these_models(name):
    """torchstat 0.0.7 asserts a 2-D input to every Linear and fails on all of them (the
    presets still apply their rules; there is no tool number to match)."""
    assert "AssertionError" in PEERS["models"][name]["torchstat"]["error"]
    assert any("fails" in q for q in lc.TOOL_CONVENTIONS["torchstat-madd"].quirks)


def test_every_preset_counts_or_lists_every_new_kind():
    """For every new layer kind and every tool preset: a documented rule, or (its work
    counted 0) the kind is listed by `uncounted`. Kinds with no arithmetic have nothing to
    list."""
    extra = analyze(lc.Sequential(lc.GridPartition(7)), (64, 56, 56))  # not in the zoo
    reports = [report(name) for name in NAMES] + [extra]
    assert set(NEW_KINDS) <= {row.kind for r in reports for row in r.rows}
    for preset, conv in lc.TOOL_CONVENTIONS.items():
        for r in reports:
            missing = r.uncounted(preset)
            for row, v in zip(r.rows, r.row_flops(preset)):
                if row.kind not in NEW_KINDS:
                    continue
                work = lc.flops(row.cost, "exact")
                if v == 0 and work != 0:
                    assert row.kind in missing, (preset, r.name, row.path)
                elif v != 0:
                    assert row.kind in conv.rules, (preset, row.kind)


def test_uncounted_names_the_mask_and_the_norms():
    """FlopCounterMode counts no mask, no LayerNorm2d and no layer scale: `uncounted` says so."""
    missing = report("swin_t").uncounted("flopcountermode")
    assert missing["ShiftedWindowMask"] == sum(
        lc.flops(r.cost, "exact") for r in report("swin_t").rows if r.kind == "ShiftedWindowMask")
    assert {"LayerNorm2d", "LayerScale"} <= set(report("convnext_tiny").uncounted("torchvision"))


# -- item 5: the torchvision convention and scaled_dot_product_attention ---------------------------
def test_torchvision_counts_sdpa_as_its_math():
    """An attention written with SDPA counts as one written with matmuls: BERT's layer (HF,
    an SDPA row) and ViT's encoder block (nn.MultiheadAttention) have the same torchvision
    figure at ViT-B/16's 197 tokens."""
    bert = analyze(lc.BertLayer(768, 12, 3072), (197, 768))
    vit = analyze(lc.ViTEncoderBlock(12, 768, 3072), (197, 768))
    assert bert.flops("torchvision") == vit.flops("torchvision") == bert.total.macs
    sdpa = next(r for r in bert.rows if r.kind == "ScaledDotProductAttention")
    assert lc.get_convention("torchvision").row_values(bert)[bert.rows.index(sdpa)] == \
        2 * 12 * 197 * 197 * 64


def test_torchvision_sdpa_masks_are_computed_in_full():
    """Causal or windowed masks hide scores, but the math computes every one of them (as does
    FlopCounterMode's formula on CUDA): L*S pairs per head under `torchvision`, while the
    layer's own MACs count the visible ones."""
    a = lc.ScaledDotProductAttention(4, 16, causal=True, window=3)
    r = analyze(a, (10, 64))
    assert r.flops("torchvision") == 2 * 4 * 10 * 10 * 16
    assert r.total.macs < r.flops("torchvision")
    k = analyze(lc.KVCacheDecode(8, 64, 100, window=20), (1, 512))
    assert k.flops("torchvision") == 2 * 8 * 100 * 64
    # CPU FlopCounterMode does not see SDPA; it stays a documented zero, listed as uncounted
    assert r.flops("flopcountermode") == 0 and "ScaledDotProductAttention" in r.uncounted(
        "flopcountermode")


# -- brute-force reference counters (tests/brute.py style) ----------------------------------------
def window_attention_counts(h, w, c, heads, ws, shift, v2=False):
    """Every multiply, add, compare, exp, div and sqrt of Swin's (shifted) window attention on
    an ``(h, w, c)`` map, one at a time, following torchvision's code: returns (macs, ops,
    per-forward ops) with ops a dict by kind."""
    ops = dict.fromkeys(("add", "mul", "cmp", "exp", "div", "sqrt"), 0)
    once = dict.fromkeys(ops, 0)
    macs = 0
    ph = h + (ws - h % ws) % ws
    pw = w + (ws - w % ws) % ws
    sh = 0 if ws >= ph else shift
    sw = 0 if ws >= pw else shift
    windows = [(a, b) for a in range(ph // ws) for b in range(pw // ws)]
    n, d = ws * ws, c // heads
    tokens = len(windows) * n
    for proj in (linear_counts(c, 3 * c, True, tokens), linear_counts(c, c, True, tokens)):
        macs += proj.mults
    if v2:  # position MLP on (2ws-1)^2 coordinates, sigmoid, *16, logit scale: once
        t = (2 * ws - 1) ** 2
        macs += linear_counts(2, 512, True, t).mults + linear_counts(512, heads, False, t).mults
        once["cmp"] += t * 512  # ReLU
        once["exp"] += heads * n * n  # sigmoid: 1 exp, 1 add, 1 div per entry (`Sigmoid`)
        once["add"] += heads * n * n
        once["div"] += heads * n * n
        once["mul"] += heads * n * n  # 16 *
        once["cmp"] += heads  # clamp
        once["exp"] += heads
    for _win in windows:
        for _h in range(heads):
            if v2:  # F.normalize of every query and key vector
                for _vec in range(2 * n):
                    ops["mul"] += d
                    ops["add"] += d - 1
                    ops["sqrt"] += 1
                    ops["cmp"] += 1
                    ops["div"] += d
            else:
                ops["mul"] += n * d  # q * d**-0.5
            for _i in range(n):
                for _j in range(n):
                    for _f in range(d):
                        macs += 1  # q_i . k_j
                    if v2:
                        ops["mul"] += 1  # * logit_scale
                    ops["add"] += 1  # + relative position bias
                    if sh or sw:
                        ops["add"] += 1  # + mask
                # softmax of row i: max, subtract, exp, sum, divide
                ops["cmp"] += n - 1
                ops["add"] += n + n - 1
                ops["exp"] += n
                ops["div"] += n
                for _f in range(d):
                    for _j in range(n):
                        macs += 1  # sum_j p_ij v_jf
    if sh or sw:  # the mask: labels of regions, pairwise differences, two compares
        for _win in windows:
            for _i in range(n):
                for _j in range(n):
                    once["add"] += 1
                    once["cmp"] += 2
    return macs, ops, once


def _sum_ops(rows):
    out = {}
    for r in rows:
        for k, v in r.cost.ops.items():
            out[k] = out.get(k, 0) + v
    return {k: v for k, v in out.items() if v}


@settings(max_examples=25)
@given(st.integers(1, 3), st.integers(1, 2), st.integers(2, 4), st.integers(1, 12),
       st.integers(1, 12), st.booleans(), st.booleans())
@example(2, 1, 7, 7, 7, True, False)    # one window: the shift is dropped
@example(1, 2, 3, 5, 7, True, True)     # padded on both axes, V2
def test_window_attention_matches_brute_force(heads, d_mult, ws, h, w, shifted, v2):
    c = heads * d_mult * 2
    shift = ws // 2 if shifted else 0
    build = lc.vision.ShiftedWindowAttentionV2 if v2 else lc.vision.ShiftedWindowAttention
    r = analyze(build(c, ws, shift, heads), (h, w, c))
    macs, ops, once = window_attention_counts(h, w, c, heads, ws, shift, v2)
    assert r.total.macs == macs
    counted = {"add", "mul", "cmp", "exp", "div", "sqrt"}
    keep = {k: v for k, v in _sum_ops([x for x in r.rows if not x.once and x.kind not in (
        "Linear",)]).items() if k in counted}
    assert keep == {k: v for k, v in ops.items() if v}
    got_once = {k: v for k, v in _sum_ops([x for x in r.rows if x.once]).items()}
    assert got_once == {k: v for k, v in once.items() if v}
    assert r.output_shape == (h, w, c)


def relative_index_brute(wh, ww):
    """``index[i][j]`` by enumerating token pairs of a window, torchvision's formula."""
    coords = [(y, x) for y in range(wh) for x in range(ww)]
    return [[(yi - yj + wh - 1) * (2 * ww - 1) + (xi - xj + ww - 1) for (yj, xj) in coords]
            for (yi, xi) in coords]


@given(st.integers(1, 8), st.integers(1, 8), st.integers(1, 4), st.booleans())
def test_relative_position_bias_matches_brute_force(wh, ww, heads, learned):
    layer = lc.RelativePositionBias((wh, ww), heads, learned)
    index = relative_index_brute(wh, ww)
    t = (2 * wh - 1) * (2 * ww - 1)
    flat = [v for row in index for v in row]
    assert min(flat) == 0 and max(flat) == t - 1 and len(set(flat)) == t  # every offset used
    gathered = sum(1 for _ in flat for _h in range(heads))
    x = () if learned else (2 * wh - 1, 2 * ww - 1, heads)
    c = layer.cost(x)
    assert layer.output_shape(x) == (1, heads, wh * ww, wh * ww)
    assert (c.params, c.buffers) == (t * heads if learned else 0, len(flat))
    assert c.writes == 2 * gathered and not c.ops and c.macs == 0


@given(st.integers(2, 9), st.integers(2, 9))
def test_relative_coords_table_matches_brute_force(wh, ww):
    entries = [(dy, dx, axis) for dy in range(-(wh - 1), wh) for dx in range(-(ww - 1), ww)
               for axis in range(2)]
    c = lc.RelativeCoordsTable((wh, ww)).cost(())
    assert c.buffers == len(entries) and not c.ops


def shifted_mask_brute(ph, pw, ws, sh, sw):
    """torchvision's mask, built with loops: a region label per position (its slices
    ``(0, -ws), (-ws, -shift), (-shift, None)`` per axis), windows in row-major order, and the
    counts of the subtractions and comparisons; returns (windows, tokens, adds, cmps)."""
    def region(i, n, s):
        cuts = [(0, n - ws), (n - ws, n - s), (n - s, n)]
        return next(k for k, (a, b) in enumerate(cuts) if a <= i < b)

    label = [[3 * region(y, ph, sh) + region(x, pw, sw) for x in range(pw)] for y in range(ph)]
    windows = []
    for a in range(ph // ws):
        for b in range(pw // ws):
            windows.append([label[a * ws + i][b * ws + j] for i in range(ws) for j in range(ws)])
    adds = cmps = 0
    for win in windows:
        for li in win:
            for lj in win:
                _diff = lj - li
                adds += 1
                cmps += 2  # != 0, then == 0
    return len(windows), ws * ws, adds, cmps


@given(st.integers(2, 5), st.integers(1, 3), st.integers(1, 3), st.data())
def test_shifted_window_mask_matches_brute_force(ws, nh, nw, data):
    sh = data.draw(st.integers(0, ws - 1))
    sw = data.draw(st.integers(1 if sh == 0 else 0, ws - 1))
    ph, pw = nh * ws, nw * ws
    g, n, adds, cmps = shifted_mask_brute(ph, pw, ws, sh, sw)
    m = lc.ShiftedWindowMask(ws, (sh, sw))
    assert m.output_shape((ph, pw, 4)) == (g, 1, n, n)
    assert dict(m.cost((ph, pw, 4)).ops) == {"add": adds, "cmp": cmps}


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 5), st.integers(1, 5),
       st.integers(1, 4))
def test_attention_products_match_brute_force(g, heads, L, S, d):
    macs = dots_s = dots_o = 0
    for _g in range(g):
        for _h in range(heads):
            for _i in range(L):
                for _j in range(S):
                    dots_s += 1
                    for _f in range(d):
                        macs += 1
                for _f in range(d):
                    dots_o += 1
    s = lc.AttentionScores(heads, d).cost((g, heads, L, d), (g, heads, S, d))
    o = lc.AttentionOutput(heads, d, "einsum").cost((g, heads, L, S), (g, heads, S, d))
    assert (s.macs, s.dots, o.macs, o.dots) == (macs, dots_s, macs, dots_o)


def partition_brute(c, h, w, wh, ww, grid=False):
    """Where every element of a ``(C, H, W)`` map lands: ``(window, token, channel)``; block
    windows of ``wh x ww``, or (grid) groups of positions ``(i*H/g + a, j*W/g + b)``."""
    dest = {}
    for ch in range(c):
        for y in range(h):
            for x in range(w):
                if grid:  # grid of wh x ww tokens spread with stride (h/wh, w/ww)
                    sy, sx = h // wh, w // ww
                    dest[(ch, y, x)] = ((y % sy) * sx + x % sx, (y // sy) * ww + x // sx, ch)
                else:
                    dest[(ch, y, x)] = ((y // wh) * (w // ww) + x // ww, (y % wh) * ww + x % ww,
                                        ch)
    return dest


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 3), st.booleans(), st.booleans())
def test_partitions_match_brute_force(c, wh, ww, nh, nw, grid, channels_last):
    h, w = wh * nh, ww * nw
    dest = partition_brute(c, h, w, wh, ww, grid)
    assert len(set(dest.values())) == len(dest)  # a bijection: a copy of every element
    g = max(k[0] for k in dest.values()) + 1
    n = max(k[1] for k in dest.values()) + 1
    x = (h, w, c) if channels_last else (c, h, w)
    cls = lc.GridPartition if grid else lc.WindowPartition
    layer = cls((wh, ww), channels_last=channels_last)
    assert layer.output_shape(x) == (g, n, c)
    assert layer.cost(x).writes == len(dest) == layer.cost(x).act_reads
    back = lc.WindowDepartition((wh, ww), nh, nw, channels_last=channels_last)
    if not grid:
        assert back.output_shape((g, n, c)) == x


def test_grid_partition_is_window_partition_then_swap():
    """torchvision writes the grid as partition_op(x, H/g) and SwapAxes(-2, -3)."""
    x = (64, 56, 56)
    grid = lc.GridPartition(7)
    two = analyze(lc.Sequential(lc.WindowPartition(8), lc.Transpose(-2, -3)), x)
    assert grid.output_shape(x) == two.output_shape
    assert grid.cost(x) == two.total


@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 4), st.integers(1, 4))
def test_pad_unpad_and_merging_gather_match_brute_force(h, w, c, ws):
    ph = next(n for n in itertools.count(h) if n % ws == 0)
    pw = next(n for n in itertools.count(w) if n % ws == 0)
    pad = lc.WindowPad(ws).cost((h, w, c))
    assert lc.WindowPad(ws).output_shape((h, w, c)) == (ph, pw, c)
    assert (pad.act_reads, pad.writes) == (h * w * c, ph * pw * c)
    crop = lc.WindowUnpad(h, w).cost((ph, pw, c))
    assert crop.writes == (0 if (ph, pw) == (h, w) else h * w * c)
    # the patch-merging gather: four 2x2 neighbours of the padded map per output position
    picked = [(2 * i + a, 2 * j + b, ch) for i in range(-(-h // 2)) for j in range(-(-w // 2))
              for a in (0, 1) for b in (0, 1) for ch in range(c)]
    y = lc.PatchMergingPad().output_shape((h, w, c))
    assert y == (-(-h // 2), -(-w // 2), 4 * c) and math.prod(y) == len(picked)


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 6), st.integers(1, 3))
def test_layer_scale_layernorm2d_normalize_match_brute_force(c, h, w, extra):
    muls = sum(1 for _c in range(c) for _y in range(h) for _x in range(w))
    ls = lc.LayerScale(c, channels_first=True).cost((c, h, w))
    assert (ls.params, ls.ops["mul"]) == (c, muls)
    ops = dict.fromkeys(("add", "mul", "div", "sqrt"), 0)
    for _y in range(h):
        for _x in range(w):  # one group of c channels per position
            ops["add"] += (c - 1) + c + (c - 1) + 1 + c  # sum, centre, sum sq, eps, beta
            ops["mul"] += c + c  # squares, gamma
            ops["div"] += 1 + 1 + c  # mean, variance, normalise
            ops["sqrt"] += 1
    assert dict(lc.LayerNorm2d(c).cost((c, h, w)).ops) == ops
    nrm = dict.fromkeys(("add", "mul", "div", "sqrt", "cmp"), 0)
    for _v in range(extra * h):  # vectors of w elements along the last axis
        nrm["mul"] += w
        nrm["add"] += w - 1
        nrm["sqrt"] += 1
        nrm["cmp"] += 1
        nrm["div"] += w
    got = dict(lc.Normalize(dim=-1).cost((extra, h, w)).ops)
    assert got == {k: v for k, v in nrm.items() if v}


# -- errors -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, shape, message", [
    (lambda: lc.WindowPartition(7), (64, 50, 56),
     "WindowPartition: window_size (=7) must divide the height (=50) of input shape "
     "(64, 50, 56)."),
    (lambda: lc.ShiftedWindowMask(7, 7), None,
     "ShiftedWindowMask: shift_size (=(7, 7)) must be smaller than window_size (=(7, 7)) on "
     "each axis."),
    (lambda: lc.ShiftedWindowMask(7, 0), None,
     "ShiftedWindowMask: shift_size (=(0, 0)) shifts no axis, so there is nothing to mask. "
     "torchvision builds the mask only when sum(shift_size) > 0."),
    (lambda: lc.RelativePositionBias(7, 3), (3,),
     "RelativePositionBias: takes no input tensor (it is computed once per forward pass from "
     "its own parameters and buffers), got input shape (3,). Call it with the empty shape ()."),
    (lambda: lc.Normalize(p=1), None,
     "Normalize: p (=1) is not supported; only the Euclidean norm p=2 (what Swin V2 uses)."),
    (lambda: lc.LayerScale(96), (96, 56, 56),
     "LayerScale: expected 96 channels in the last axis, got input shape (96, 56, 56)."),
])
def test_error_messages(make, shape, message):
    with pytest.raises(LayerCalcError) as e:
        layer = make()
        layer.cost(shape)
    assert str(e.value) == message


def test_attention_heads_mismatch():
    with pytest.raises(ShapeError) as e:
        lc.AttentionScores(4, 8).cost((2, 3, 5, 8), (2, 3, 5, 8))
    assert str(e.value) == ("AttentionScores: expected 4 heads in axis -3 of the queries (*, "
                            "heads, tokens, features), got shape (2, 3, 5, 8).")
