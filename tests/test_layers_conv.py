"""Convolution and transposed convolution: brute force, seed examples, identities, errors."""

from __future__ import annotations

import pickle

import pytest
import sympy as sp
from hypothesis import example, given, settings

import layercalc as lc
from brute import conv_counts, conv_transpose_counts
from strategies import conv_cases, conv_transpose_cases

EXACT = lc.get_convention("exact")


# -- brute force -------------------------------------------------------------------------------
@given(conv_cases())
@example((lc.Conv2d(2, 2, 1), (2, 3, 3)))  # k = 1
@example((lc.Conv2d(1, 1, 2, stride=3), (1, 7, 7)))  # stride > kernel
@example((lc.Conv2d(2, 4, 3, padding=2, dilation=2, groups=2), (2, 5, 5)))  # dilation+padding
def test_conv_counts_match_brute_force(case):
    """MACs, dots, bias adds, params and the output shape equal counting every multiply and add
    one by one, for random 1d/2d/3d configs with groups, stride, padding and dilation."""
    layer, x = case
    shape, c = conv_counts(layer.in_channels, layer.out_channels, layer.kernel_size,
                           layer.stride, layer.padding, layer.dilation, layer.groups,
                           layer.bias, x[1:])
    cost = layer.cost(x)
    assert layer.output_shape(x) == shape
    assert cost.macs == c.mults
    assert cost.macs - cost.dots == c.adds
    assert cost.bias_adds == c.bias_adds
    assert EXACT.flops(cost) == c.mults + c.adds + c.bias_adds
    w = layer.out_channels * layer.in_channels // layer.groups
    for k in layer.kernel_size:
        w *= k
    assert cost.params == w + (layer.out_channels if layer.bias else 0)


@settings(max_examples=40)
@given(conv_transpose_cases())
@example((lc.ConvTranspose2d(1, 1, 4, 2, 1), (1, 3, 3)))  # the usual 2x upsampler
@example((lc.ConvTranspose1d(1, 1, 4, 3, 0, 0, 1, True, 2), (1, 4)))  # s=3, d=2: 2s = 3d
@example((lc.ConvTranspose1d(1, 1, 2, 3, 1, 2, 1, False, 1), (1, 3)))  # holes, output_padding
def test_conv_transpose_counts_match_brute_force(case):
    """Transposed conv: MACs on the input grid, and exact adds from scattering each product
    into the output, equal an explicit scatter loop."""
    layer, x = case
    shape, c = conv_transpose_counts(
        layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
        layer.dilation, layer.output_padding, layer.groups, layer.bias, x[1:])
    cost = layer.cost(x)
    assert layer.output_shape(x) == shape
    assert cost.macs == c.mults
    assert cost.macs - cost.dots == c.adds
    assert cost.bias_adds == c.bias_adds
    assert cost.notes == ()


@settings(max_examples=25)
@given(conv_transpose_cases(ndim=1))
def test_conv_transpose_symbolic_size_is_exact_for_every_size(case):
    """With a symbolic input length the exact add count is a formula valid for *every* length
    (a fitted line plus Piecewise exceptions), checked against the numeric count."""
    layer, x = case
    L = lc.symbols("L")
    sym = layer.cost((x[0], L))
    (k,), (s,), (p,), (d,), (op,) = (layer.kernel_size, layer.stride, layer.padding,
                                     layer.dilation, layer.output_padding)
    for n in range(1, 9):
        if (n - 1) * s - 2 * p + d * (k - 1) + op + 1 < 1:
            continue  # no output at this length
        num = layer.cost((x[0], n))
        assert sp.sympify(sym.dots).subs(L, n) == num.dots
        assert sp.sympify(sym.bias_adds).subs(L, n) == num.bias_adds


@settings(max_examples=40)
@given(conv_cases(ndim=2))
def test_symbolic_then_substituted_equals_numeric(case):
    """A cost computed with symbolic H, W and then substituted equals the numeric cost."""
    layer, x = case
    H, W = lc.symbols("H W")
    sym = layer.cost((x[0], H, W)).subs({H: x[1], W: x[2]})
    assert sym == layer.cost(x)


@given(conv_cases(ndim=2))
def test_convention_ordering(case):
    """macs <= 2*macs <= exact + dots, 2*macs == 2 * macs, and exact with bias == 2*macs."""
    layer, x = case
    cost = layer.cost(x)
    m, two, ex = (lc.flops(cost, n) for n in ("macs", "2*macs", "exact"))
    assert two == 2 * m
    assert m <= two
    assert ex == (two if layer.bias else two - cost.dots)


# -- worked examples from the seeds -------------------------------------------------------------
def test_seed000_conv_params_5x5x3x16():
    """Seed 000: a 5x5 conv with 16 filters on a 96x96x3 input has 5*5*3*16 + 16 = 1216 params."""
    assert lc.Conv2d(3, 16, 5).cost((3, 96, 96)).params == 1216


def test_seed002_3x3_conv_has_10_params():
    """Seed 002: 'a 3*3 convolution has 10 parameters': 9 weights + 1 bias (one channel)."""
    assert lc.Conv2d(1, 1, 3).cost((1, 8, 8)).params == 10


def test_seed004_regular_3x3_conv_macs():
    """Seed 004: 3x3, 64 -> 128 channels on 112x112, stride 1, 'same': 924,844,032 MACCs."""
    assert lc.Conv2d(64, 128, 3, padding=1).cost((64, 112, 112)).macs == 924_844_032
    assert lc.Conv2d(64, 128, 3, padding="same").cost((64, 112, 112)).macs == 924_844_032


def test_seed004_depthwise_separable_macs():
    """Seed 004: depthwise 7,225,344 + pointwise 102,760,448 = 109,985,792 MACCs (8.4x less)."""
    dw = lc.Conv2d(64, 64, 3, padding=1, groups=64).cost((64, 112, 112)).macs
    pw = lc.Conv2d(64, 128, 1).cost((64, 112, 112)).macs
    assert (dw, pw, dw + pw) == (7_225_344, 102_760_448, 109_985_792)
    assert round(924_844_032 / (dw + pw), 1) == 8.4


def test_seed004_mobilenet_v2_expansion_block_t6():
    """Seed 004: expansion block, 112x112x64 in, t=6, 3x3 depthwise, 128 out:
    (3*3 + 128 + 64) * (64*6) * 112 * 112 = 968,196,096 MACCs."""
    x = (64, 112, 112)
    expand = lc.Conv2d(64, 384, 1, bias=False)
    dw = lc.Conv2d(384, 384, 3, padding=1, groups=384, bias=False)
    project = lc.Conv2d(384, 128, 1, bias=False)
    y = expand.output_shape(x)
    total = expand.cost(x).macs + dw.cost(y).macs + project.cost(dw.output_shape(y)).macs
    assert total == (3 * 3 + 128 + 64) * (64 * 6) * 112 * 112 == 968_196_096


def test_seed000_conv_flops_formulas_symbolic():
    """Seed 000/003: FLOPs = (2*C_i*K^2 - 1)*H*W*C_o without bias, 2*C_i*K^2*H*W*C_o with,
    MACCs = C_i*K^2*H*W*C_o, with H, W the output size ('same' padding keeps it)."""
    Ci, Co, K, H, W = lc.symbols("C_i C_o K H W")
    x = (Ci, H, W)
    with_bias = lc.Conv2d(Ci, Co, K, padding="same").cost(x)
    no_bias = lc.Conv2d(Ci, Co, K, padding="same", bias=False).cost(x)
    assert sp.expand(lc.flops(no_bias, "exact") - (2 * Ci * K**2 - 1) * H * W * Co) == 0
    assert sp.expand(lc.flops(with_bias, "exact") - 2 * Ci * K**2 * H * W * Co) == 0
    assert sp.expand(lc.flops(with_bias, "exact-no-bias") - (2 * Ci * K**2 - 1) * H * W * Co) == 0
    assert sp.expand(with_bias.macs - Ci * K**2 * H * W * Co) == 0


def test_seed001_conv_params_and_grouped_macs():
    """Seed 001: params K0*K1*C_in*C_out + C_out; grouped MACCs are 1/g of standard."""
    Ci, Co, g, H, W = lc.symbols("C_in C_out g H W")
    std = lc.Conv2d(Ci, Co, (3, 5), padding=(1, 2)).cost((Ci, H, W))
    grp = lc.Conv2d(Ci, Co, (3, 5), padding=(1, 2), groups=g).cost((Ci, H, W))
    assert sp.expand(std.params - (3 * 5 * Ci * Co + Co)) == 0
    assert sp.simplify(grp.macs / std.macs - 1 / g) == 0


def test_pytorch_resnet_stem():
    """torchvision ResNet stem conv1: 9,408 params (torchinfo resnet50.out), 112x112 out."""
    stem = lc.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
    assert stem.output_shape((3, 224, 224)) == (64, 112, 112)
    assert stem.cost((3, 224, 224)).params == 9408
    assert stem.cost((3, 224, 224)).macs == 118_013_952


def test_dcgan_transposed_conv_shape_and_macs():
    """DCGAN generator layer (Radford et al. 2015): ConvTranspose2d(512, 256, 4, 2, 1) maps
    4x4 -> 8x8; MACs on the input grid are 512*256*16*4*4."""
    up = lc.ConvTranspose2d(512, 256, 4, 2, 1, bias=False)
    assert up.output_shape((512, 4, 4)) == (256, 8, 8)
    assert up.cost((512, 4, 4)).macs == 512 * 256 * 16 * 4 * 4
    assert up.cost((512, 4, 4)).params == 512 * 256 * 16


# -- symbolic identities ------------------------------------------------------------------------
def test_depthwise_separable_ratio():
    """MobileNet's ratio (Howard et al. 2017, eq. 5): separable / standard = 1/N + 1/K^2."""
    C, N, H, W, K = lc.symbols("C N H W K")
    std = lc.Conv2d(C, N, K, padding="same", bias=False).cost((C, H, W))
    dw = lc.Conv2d(C, C, K, padding="same", groups=C, bias=False).cost((C, H, W))
    pw = lc.Conv2d(C, N, 1, bias=False).cost((C, H, W))
    assert sp.simplify((dw.macs + pw.macs) / std.macs - (1 / N + 1 / K**2)) == 0
    # and the params ratio is the same
    assert sp.simplify((dw.params + pw.params) / std.params - (1 / N + 1 / K**2)) == 0


def test_groups_1_is_standard_conv():
    C, N, H, W = lc.symbols("C N H W")
    a = lc.Conv2d(C, N, 3, padding=1).cost((C, H, W))
    b = lc.Conv2d(C, N, 3, padding=1, groups=1).cost((C, H, W))
    assert a == b


def test_depthwise_channel_multiplier():
    """Depthwise with channel multiplier m: groups=C, out=m*C; MACs = m*C*K^2*H*W."""
    C, m, H, W = lc.symbols("C m H W")
    cost = lc.Conv2d(C, m * C, 3, padding=1, groups=C).cost((C, H, W))
    assert sp.expand(cost.macs - 9 * m * C * H * W) == 0


def test_symbolic_groups_accepted():
    """A symbol is never rejected for being a symbol."""
    g = lc.symbols("g")
    layer = lc.Conv2d(32, 64, 3, groups=g)
    assert layer.groups == g


def test_symbolic_padding_same_formula():
    C, H, W, K, S = lc.symbols("C H W K S")
    out = lc.Conv2d(C, 2 * C, K, stride=S, padding=(K - 1) / 2).output_shape((C, H, W))
    assert out == (2 * C, sp.floor((H - 1) / S) + 1, sp.floor((W - 1) / S) + 1)


def test_batch_scales_work_not_params():
    cost = lc.Conv2d(3, 8, 3).cost((3, 10, 10))
    b = cost * 4
    assert (b.macs, b.writes, b.act_reads) == (4 * cost.macs, 4 * cost.writes, 4 * cost.act_reads)
    assert (b.params, b.weight_reads) == (cost.params, cost.weight_reads)


def test_linear_any_leading_dims():
    """Seed 001: FC on (B, F, C_in): MACCs = F*C_in*C_out; params C_in*C_out + C_out."""
    F, Ci, Co = lc.symbols("F C_in C_out")
    cost = lc.Linear(Ci, Co).cost((F, Ci))
    assert sp.expand(cost.macs - F * Ci * Co) == 0
    assert sp.expand(cost.params - (Ci * Co + Co)) == 0


# -- errors -------------------------------------------------------------------------------------
ERRORS = [
    (lambda: lc.Conv2d(30, 8, 3, groups=4), lc.LayerSpecError,
     "Conv2d: in_channels (=30) must be divisible by groups (=4). For a depthwise convolution,"
     " set groups=in_channels."),
    (lambda: lc.Conv2d(3, 3, (3, 3, 3)), lc.LayerSpecError,
     "Conv2d: kernel_size must be one value or 2 values, got (3, 3, 3)."),
    (lambda: lc.Conv2d(3, 0, 3), lc.LayerSpecError, "Conv2d: out_channels (=0) must be positive."),
    (lambda: lc.Conv2d(3, 3, 3, padding=-1), lc.LayerSpecError,
     "Conv2d: padding (=-1) must be >= 0."),
    (lambda: lc.Conv2d(3, 3, 3).output_shape((4, 32, 32)), lc.ShapeError,
     "Conv2d: expected 3 input channels, got input shape (4, 32, 32)."),
    (lambda: lc.Conv2d(3, 3, 3).output_shape((3, 32)), lc.ShapeError,
     "Conv2d: expected an input of rank 3 (C, H, W) (batch excluded), got (3, 32)."),
    (lambda: lc.Conv2d(3, 3, 9).output_shape((3, 6, 6)), lc.ShapeError,
     "Conv2d: output size along height would be -2 for input size 6. The padded input (6) "
     "must be at least the effective kernel size (dilation*(kernel_size-1)+1 = 9)."),
    (lambda: lc.Conv2d(3, 3, 3, padding="full"), lc.LayerSpecError,
     "Conv2d: padding (='full') must be 'same', 'valid', or one or 2 non-negative integers."),
    (lambda: lc.Conv2d(3, 3, 3, stride=2, padding="same"), lc.LayerSpecError,
     "Conv2d: padding='same' needs stride 1, got stride (=(2, 2)). PyTorch does not support "
     "'same' for strided convolutions; give the padding explicitly."),
    (lambda: lc.Conv2d(3, 3, 2.5), lc.LayerSpecError,
     "Conv2d: kernel_size (=2.5) must be an integer, not a float."),
    (lambda: lc.Conv1d(3, 3, 3, padding_mode="mirror"), lc.LayerSpecError,
     "Conv1d: padding_mode (='mirror') must be one of 'zeros', 'reflect', 'replicate', "
     "'circular'."),
    (lambda: lc.ConvTranspose2d(4, 4, 3, stride=2, output_padding=2), lc.LayerSpecError,
     "ConvTranspose2d: output_padding (=(2, 2)) must be smaller than stride (=(2, 2)) or "
     "dilation (=(1, 1)) along each axis."),
    (lambda: lc.Linear(10, 5).output_shape((7,)), lc.ShapeError,
     "Linear: expected 10 input features in the last axis, got input shape (7,)."),
    (lambda: lc.get_convention("exat"), lc.UnknownNameError,
     "unknown convention 'exat'; did you mean 'exact'?"),
    (lambda: lc.layers.get_layer("Conv2D"), lc.UnknownNameError,
     "unknown layer 'Conv2D'; did you mean 'Conv2d'?"),
]


@pytest.mark.parametrize("make, cls, message", ERRORS)
def test_error_messages(make, cls, message):
    """Each common mistake raises one LayerCalcError subclass with an exact message."""
    with pytest.raises(cls) as info:
        make()
    assert str(info.value) == message
    assert isinstance(info.value, lc.LayerCalcError)
    assert isinstance(info.value, ValueError)
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is cls and str(copy) == message


def test_symbolic_channels_mismatch_only_when_provable():
    C = lc.symbols("C")
    lc.Conv2d(C, 8, 3).output_shape((C, 10, 10))  # equal: fine
    lc.Conv2d(C, 8, 3).output_shape((lc.symbols("D"), 10, 10))  # undecidable: accepted
    with pytest.raises(lc.ShapeError):
        lc.Conv2d(C, 8, 3).output_shape((C + 1, 10, 10))  # provably different


def test_reflect_and_circular_padding_must_fit_the_input():
    from layercalc import Conv1d, ShapeError

    """PyTorch mirrors ('reflect': padding < input) or wraps ('circular': padding <= input);
    found by the torch oracle (tests/oracles/test_layers_vs_torch.py)."""
    with pytest.raises(ShapeError, match=r"Conv1d: padding \(=1\) along length must be smaller "
                       r"than the input size \(=1\) with padding_mode='reflect'"):
        Conv1d(1, 1, 1, padding=1, padding_mode="reflect").output_shape((1, 1))
    assert Conv1d(1, 1, 1, padding=1, padding_mode="circular").output_shape((1, 1)) == (1, 3)
    with pytest.raises(ShapeError, match="at most the input size"):
        Conv1d(1, 1, 1, padding=2, padding_mode="circular").output_shape((1, 1))
