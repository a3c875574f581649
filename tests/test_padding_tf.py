"""TensorFlow/Keras padding (``padding="same"`` under ``padding_rule="tf"``), the Keras and
TF-slim MobileNet variants, and BY J's per-layer memory formula (``filter_rereads``).

Brute force: TensorFlow's 'SAME' is the *smallest* total padding for which ``ceil(n/s)``
windows fit, the odd element at the end. The property finds that padding by search, then
counts every window tap by enumeration, and compares with the closed forms. The Keras oracle
(tests/oracles/test_keras_vs_layercalc.py) checks shapes, padding placement and the MobileNets.
"""

from __future__ import annotations

import itertools

import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

import layercalc as lc
from layercalc import analyze, zoo
from layercalc.shapes import same_padding, tf_same_padding


# -- brute force ---------------------------------------------------------------------------------
def search_pads(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """(before, after) by search: the least total padding P >= 0 with which a 'valid' sliding
    window gives ceil(n/s) outputs; TensorFlow puts floor(P/2) before."""
    want = -(-n // s)
    span = d * (k - 1) + 1
    for total in itertools.count():
        if n + total >= span and (n + total - span) // s + 1 >= want:
            return total // 2, total - total // 2


def window_taps(n: int, k: int, s: int, d: int) -> tuple[int, int, int]:
    """(outputs, taps, taps inside the input) along one axis, window by window."""
    before, after = search_pads(n, k, s, d)
    outputs = taps = inside = 0
    start = -before
    while start + d * (k - 1) <= n - 1 + after:
        outputs += 1
        for t in range(k):
            taps += 1
            inside += 0 <= start + t * d < n
        start += s
    return outputs, taps, inside


axis = st.tuples(st.integers(1, 12), st.integers(1, 5), st.integers(1, 4), st.integers(1, 2))


@settings(max_examples=300)
@given(axis)
@example((63, 3, 2, 1))  # Keras 'same' at an odd size: (1, 1), 32 outputs
@example((126, 3, 2, 1))  # even: (0, 1), 63 outputs
@example((4, 1, 2, 1))  # k=1, s=2: no padding at all
@example((5, 2, 4, 2))  # stride larger than the kernel's span
def test_tf_same_padding_is_the_least_padding_that_fits(case):
    """tf_same_padding equals the searched padding; the output is ceil(n/s) positions."""
    n, k, s, d = case
    assert tf_same_padding(n, k, s, d) == search_pads(n, k, s, d)
    assert window_taps(n, k, s, d)[0] == -(-n // s)
    if s == 1:  # PyTorch's 'same' is the same padding at stride 1
        assert tf_same_padding(n, k, 1, d) == same_padding(k, d)


@settings(max_examples=150)
@given(axis, axis, st.integers(1, 2), st.integers(1, 3), st.booleans())
def test_conv_tf_same_counts_match_brute_force(h, w, groups, mult, bias):
    """Conv2d(padding='same', padding_rule='tf'): output shape and MACs (every tap, padding
    included, as for PyTorch padding) equal the window-by-window count."""
    (nh, kh, sh, dh), (nw, kw, sw, dw) = h, w
    cin, cout = groups * mult, groups * 2
    layer = lc.Conv2d(cin, cout, (kh, kw), (sh, sw), "same", (dh, dw), groups, bias,
                      padding_rule="tf")
    (oh, th, _), (ow, tw, _) = window_taps(nh, kh, sh, dh), window_taps(nw, kw, sw, dw)
    assert layer.output_shape((cin, nh, nw)) == (cout, oh, ow)
    cost = layer.cost((cin, nh, nw))
    assert cost.macs == cout * (cin // groups) * th * tw
    assert cost.dots == cout * oh * ow and cost.bias_adds == (cout * oh * ow if bias else 0)


@settings(max_examples=150)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 4), st.integers(1, 3),
       st.integers(1, 3))
def test_pools_tf_same_match_brute_force(nh, nw, k, s, c):
    """MaxPool2d / AvgPool2d with TensorFlow 'same': padding is never read, so a window of v
    input elements needs v - 1 compares (max) or v - 1 adds and one divide (average)."""
    (oh, _, vh), (ow, _, vw) = window_taps(nh, k, s, 1), window_taps(nw, k, s, 1)
    valid = c * vh * vw
    mx = lc.MaxPool2d(k, s, padding="same", padding_rule="tf")
    av = lc.AvgPool2d(k, s, padding="same", padding_rule="tf", count_include_pad=False)
    for layer in (mx, av):
        assert layer.output_shape((c, nh, nw)) == (c, oh, ow)
    assert mx.cost((c, nh, nw)).ops.get("cmp", 0) == valid - c * oh * ow
    ops = av.cost((c, nh, nw)).ops
    assert (ops.get("add", 0), ops["div"]) == (valid - c * oh * ow, c * oh * ow)
    assert mx.cost((c, nh, nw)).tap_reads == valid


@pytest.mark.parametrize("s", [1, 2, 3])
def test_tf_same_symbolic_then_substituted(s):
    """Symbolic H: the output is ceiling(H/s) and MACs follow it; substituting every H from
    1 to 12 gives the numeric cost."""
    H = lc.symbols("H")
    conv = lc.Conv2d(4, 8, 3, s, "same", padding_rule="tf")
    y = conv.output_shape((4, H, 10))
    assert y[1] == sp.ceiling(H / s) if s > 1 else H
    sym = conv.cost((4, H, 10))
    pool = lc.MaxPool2d(3, s, padding="same", padding_rule="tf")
    psym = pool.cost((4, H, 10))
    for n in range(1, 13):
        assert sym.subs(H, n) == conv.cost((4, n, 10))
        assert psym.subs(H, n) == pool.cost((4, n, 10))


@pytest.mark.parametrize("make, message", [
    (lambda: lc.MaxPool2d(3, 2, padding="same"),
     "MaxPool2d: padding='same' needs padding_rule='tf' (PyTorch pools have no 'same')."),
    (lambda: lc.AvgPool2d(3, 2, padding="same", padding_rule="tf"),
     "AvgPool2d: count_include_pad=True is not what TensorFlow does with padding='same' (it "
     "averages over the input elements of each window only). Pass count_include_pad=False."),
    (lambda: lc.MaxPool2d(3, 2, padding="same", padding_rule="tf", ceil_mode=True),
     "MaxPool2d: ceil_mode=True has no meaning with padding='same' (TensorFlow's output size "
     "is ceil(n/stride) already)."),
    (lambda: lc.MaxPool2d(3, 2, padding="full"),
     "MaxPool2d: padding (='full') must be one or 2 non-negative integers, or 'same'/'valid' "
     "with padding_rule='tf'."),
    (lambda: lc.Conv2d(3, 8, 3, padding_rule="keras"),
     "Conv2d: padding_rule (='keras') must be one of 'torch', 'tf'."),
    (lambda: zoo.mobilenet_v1(variant="tf"),
     "mobilenet_v1: variant (='tf') must be 'paper' or 'keras'."),
    (lambda: zoo.mobilenet_v2(variant="tf", strided_padding="valid"),
     "mobilenet_v2: strided_padding (='valid') must be 'same' or 'pad-end'."),
    (lambda: zoo.mobilenet_v2(strided_padding="pad-end"),
     "mobilenet_v2: strided_padding applies to variant='tf' only."),
])
def test_errors(make, message):
    with pytest.raises(lc.LayerSpecError) as e:
        make()
    assert str(e.value) == message


def test_torch_rule_unchanged():
    """padding_rule='torch' (the default) keeps PyTorch's 'same' (stride 1) and int padding;
    'valid' is zero padding under either rule."""
    x = (3, 9, 9)
    for rule in ("torch", "tf"):
        assert lc.Conv2d(3, 4, 3, padding="same", padding_rule=rule).cost(x) == lc.Conv2d(
            3, 4, 3, padding=1).cost(x)
        assert lc.Conv2d(3, 4, 3, 2, "valid", padding_rule=rule).output_shape(x) == (4, 4, 4)
    assert lc.MaxPool2d(2, padding="valid", padding_rule="tf").output_shape(x) == (3, 4, 4)


# -- the case study (BY J, 深度学习模型性能影响分析) --------------------------------------------------
def test_keras_v1_halves_by_floor_tf_v2_by_ceiling():
    """Keras's MobileNet pads strided layers at the end only: 126 -> 63 -> 31 -> 15 -> 7;
    TensorFlow 'same' (TF-slim's and Keras's MobileNetV2) gives 63 -> 32 -> 16 -> 8, as
    PyTorch's symmetric padding does."""
    v1 = analyze(zoo.mobilenet_v1(variant="keras"), (3, 126, 224), up_to="conv_pw_11_relu")
    heights = [row.output_shape[1] for row in v1.rows if row.path.startswith("conv_dw_")
               and row.kind == "Conv2d"]
    assert sorted(set(heights), reverse=True) == [63, 31, 15, 7]
    for padding, expect in (("same", [63, 32, 16, 8]), ("pad-end", [63, 31, 15, 7])):
        v2 = analyze(zoo.mobilenet_v2(variant="tf", strided_padding=padding), (3, 126, 224),
                     up_to="expanded_conv_12")
        dw = [row.output_shape[1] for row in v2.rows if row.path.endswith("depthwise.depthwise")]
        assert sorted(set(dw), reverse=True) == expect


def test_variants_count_as_the_reference_layouts():
    """Same convolutions as the paper/torchvision layouts: at 224x224 (even sizes, where the
    paddings agree) the Keras V1 and TF V2 have the MACs of the zoo's; Keras adds a 1x1-conv
    head with bias and counts BatchNorm's four values per channel."""
    v1 = analyze(zoo.mobilenet_v1(variant="keras"), (3, 224, 224))
    assert v1.total.macs == analyze(zoo.mobilenet_v1(), (3, 224, 224)).total.macs
    assert v1.total.params + v1.total.buffers == 4_253_864  # keras count_params()
    for w in (1.0, 1.4):
        tf = analyze(zoo.mobilenet_v2(width_mult=w, variant="tf"), (3, 224, 224)).total
        tv = analyze(zoo.mobilenet_v2(width_mult=w), (3, 224, 224)).total
        assert (tf.macs, tf.params) == (tv.macs, tv.params)


def test_filter_rereads_on_the_posts_layers():
    """BY J's formula: input K*K*C_out/groups times at the input resolution; on a stride-2
    conv that is the input grid (4x no_reuse's one read per MAC); explicit padding absorbed."""
    conv = lc.Conv2d(8, 16, 3, 2, 1)
    r = analyze(conv, (8, 10, 10))
    m = lc.memory(r, "filter_rereads")
    assert m.act_reads == 4 * (8 * 10 * 10 * 9 * 16)  # fp32
    assert lc.memory(r, "no_reuse").act_reads == 4 * r.total.macs
    padded = analyze(lc.Sequential(lc.ZeroPad2d((0, 1, 0, 1)), lc.Conv2d(8, 16, 3, 2)),
                     (8, 10, 10))
    assert lc.memory(padded.rows[0], "filter_rereads").total == 0
    assert lc.memory(padded, "filter_rereads").act_reads == 4 * (8 * 11 * 11 * 9 * 16)
    lin = analyze(lc.Linear(10, 3), (10,))
    assert lc.memory(lin, "filter_rereads", "int8").act_reads == 30
    relu = analyze(lc.ReLU(), (512, 28, 28))
    assert lc.memory(relu, "filter_rereads", "int8").total == 802_816  # as compulsory


def test_filter_rereads_needs_rows():
    with pytest.raises(lc.LayerCalcError, match="memory model 'filter_rereads' reads each "
                       "layer's kernel and input shape, which a bare Cost does not record"):
        lc.memory(lc.Conv2d(3, 8, 3).cost((3, 8, 8)), "filter_rereads")


def test_filter_rereads_symbolic():
    """A symbolic size gives the formula: 3x3 stride-2 conv, 8 -> 16 channels on H x H."""
    H = lc.symbols("H")
    m = lc.memory(analyze(lc.Conv2d(8, 16, 3, 2, 1), (8, H, H)), "filter_rereads", "int8")
    o = sp.ceiling(H / 2)  # floor((H + 2 - 3)/2) + 1
    assert sp.simplify(m.total - (8 * H**2 * 9 * 16 + 16 * o**2 + 8 * 9 * 16 + 16)) == 0
    assert m.total.subs(H, 28) == lc.memory(analyze(lc.Conv2d(8, 16, 3, 2, 1), (8, 28, 28)),
                                            "filter_rereads", "int8").total


@settings(max_examples=60)
@given(st.integers(1, 3), st.integers(1, 2), st.integers(1, 3), st.integers(1, 2),
       st.integers(3, 7), st.integers(3, 7))
def test_filter_rereads_counts_every_read_by_loop(groups, mult, k, s, h, w):
    """filter_rereads, by brute force: every input element is read once by each tap of each
    filter of its group; at stride 1 with 'same' padding that is no_reuse's one read per MAC."""
    cin, cout = groups * mult, groups * 2
    conv = lc.Conv2d(cin, cout, k, s, padding="same" if s == 1 else 0, groups=groups)
    if s > 1 and (h < k or w < k):
        return
    x = (cin, h, w)
    reads = 0
    for c in range(cin):
        group = c // (cin // groups)
        filters = [o for o in range(cout) if o // (cout // groups) == group]
        for _pos in itertools.product(range(h), range(w)):
            for _f in filters:
                for _tap in range(k * k):
                    reads += 1
    r = analyze(conv, x)
    m = lc.memory(r, "filter_rereads", "int8")
    assert m.act_reads == reads
    assert m.weight_reads == r.total.params and m.writes == r.total.writes
    if s == 1:
        assert m.act_reads == lc.memory(r, "no_reuse", "int8").act_reads
