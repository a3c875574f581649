"""Building blocks: composites of layers, with no formulas of their own.

Every function here returns a `Sequential`, `Residual` or `Parallel` of catalog layers, so a
block's cost is the sum of its layers' costs by construction. Child names follow the source
implementation (torchvision where it has the block), so report paths read like PyTorch's
``named_modules()``: ``layer3.0.conv2``, ``features.4.block.2.fc1``.

``activation`` / ``scale_activation`` / ``norm`` arguments take a layer class (called with no
arguments, like torchvision's ``activation_layer``), a layer instance, or None for none.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import sympy as sp

from .errors import LayerSpecError
from .layers import (
    AdaptiveAvgPool2d,
    BatchNorm2d,
    Conv2d,
    Identity,
    Layer,
    ReLU,
    ReLU6,
    Sigmoid,
)
from .network import Parallel, Residual, Sequential

__all__ = [
    "Conv2dNormActivation",
    "DepthwiseSeparableConv2d",
    "InvertedResidual",
    "BasicBlock",
    "Bottleneck",
    "SqueezeExcitation",
    "Fire",
    "factorized_5x5",
    "factorized_nxn",
    "make_divisible",
    "scale_channels",
]


def _make(layer: Any, *args: Any) -> Layer | None:
    """A layer instance from a class (called with `args`), an instance, or None."""
    if layer is None or layer is False:
        return None
    if isinstance(layer, Layer):
        return layer
    return layer(*args)


def _conv_norm_act(conv: Layer, channels: Any, norm: Any, activation: Any) -> list[Layer]:
    """``[conv, norm(channels), activation()]``, leaving out a norm or activation that is None."""
    return [layer for layer in (conv, _make(norm, channels), _make(activation)) if layer is not None]


def scale_channels(c: int, width_mult: Any) -> Any:
    """``int(c * width_mult)`` (MobileNet v1's width multiplier), ``floor`` for a symbol."""
    if isinstance(width_mult, sp.Basic) and not width_mult.is_number:
        return sp.floor(c * width_mult)
    return int(c * width_mult)


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """torchvision's ``_make_divisible`` (torchvision/models/_utils.py, from the TF MobileNet
    code): round `v` to the nearest multiple of `divisor`, never going down by more than 10%.

    >>> make_divisible(32 * 0.75), make_divisible(16 * 0.35), make_divisible(72 // 4)
    (24, 8, 24)

    A symbolic `v` (a width multiplier ``alpha`` times a channel count) gives the same rule as
    an exact expression: ``max(min_value, floor(v/divisor + 1/2)*divisor)``, plus `divisor`
    where that is below ``0.9*v``.

    >>> import sympy as sp
    >>> alpha = sp.Symbol("alpha", positive=True)
    >>> e = make_divisible(32 * alpha)
    >>> [e.subs(alpha, a) for a in (sp.Rational(3, 4), sp.Rational(7, 20), 1)]
    [24, 16, 32]
    """
    if min_value is None:
        min_value = divisor
    if isinstance(v, sp.Basic) and not v.is_number:
        base = sp.Max(min_value, sp.floor(v / divisor + sp.Rational(1, 2)) * divisor)
        return sp.Piecewise((base + divisor, base < sp.Rational(9, 10) * v), (base, True))
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def Conv2dNormActivation(in_channels: int, out_channels: int, kernel_size: int = 3,
                         stride: int = 1, padding: int | None = None, groups: int = 1,
                         norm: Any = BatchNorm2d, activation: Any = ReLU, dilation: int = 1,
                         bias: bool | None = None) -> Sequential:
    """Conv2d -> norm -> activation, as ``torchvision.ops.misc.Conv2dNormActivation``.

    Source: torchvision/ops/misc.py. Padding defaults to ``(kernel_size - 1)//2 * dilation``;
    the conv has a bias only when there is no norm (``bias=None``). Children are ``0, 1, 2``
    (``features.0.0`` is the conv, as in torchvision).

    >>> from layercalc import analyze
    >>> r = analyze(Conv2dNormActivation(3, 32, stride=2), (3, 224, 224))
    >>> r.output_shape, r.total.params, [row.path for row in r.rows]
    ((32, 112, 112), 928, ['0', '1', '2'])
    """
    if padding is None:
        padding = (kernel_size - 1) // 2 * dilation
    if bias is None:
        bias = norm is None or norm is False
    conv = Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias)
    return Sequential(*_conv_norm_act(conv, out_channels, norm, activation))


def DepthwiseSeparableConv2d(in_channels: int, out_channels: int, kernel_size: int = 3,
                             stride: int = 1, padding: int | None = None, bias: bool = False,
                             norm: Any = True, activation: Any = ReLU) -> Sequential:
    """Depthwise 3x3 conv -> BN -> act -> pointwise 1x1 conv -> BN -> act.

    Source: Howard et al. 2017, "MobileNets", Fig. 3 (right) and Sec. 3.1; children ``0..5``
    as in the common PyTorch port's ``conv_dw`` (``nn.Sequential(dw, BN, ReLU, pw, BN,
    ReLU)``). ``norm=True`` means BatchNorm2d; ``norm=False`` drops both norms.

    The paper's identity (Sec. 3.1): the separable layer costs
    ``1/N + 1/D_K^2`` of a standard conv; at ``D_K=3, M=N=512, D_F=14`` the MACs are
    462.4M vs 52.3M:

    >>> from layercalc import analyze
    >>> sep = analyze(DepthwiseSeparableConv2d(512, 512, norm=False, activation=None),
    ...               (512, 14, 14)).total.macs
    >>> full = analyze(Conv2d(512, 512, 3, padding=1, bias=False), (512, 14, 14)).total.macs
    >>> full, sep
    (462422016, 52283392)
    >>> from fractions import Fraction
    >>> Fraction(sep, full) == Fraction(1, 512) + Fraction(1, 9)
    True
    """
    if padding is None:
        padding = (kernel_size - 1) // 2
    if norm is True:
        norm = BatchNorm2d
    dw = Conv2d(in_channels, in_channels, kernel_size, stride, padding, groups=in_channels,
                bias=bias)
    pw = Conv2d(in_channels, out_channels, 1, bias=bias)
    return Sequential(*_conv_norm_act(dw, in_channels, norm, activation),
                      *_conv_norm_act(pw, out_channels, norm, activation))


def InvertedResidual(in_channels: int, out_channels: int, stride: int, expand_ratio: float,
                     *, activation: Any = ReLU6, norm: Any = BatchNorm2d) -> Sequential | Residual:
    """MobileNetV2's inverted residual block, as torchvision's ``InvertedResidual``.

    Source: torchvision/models/mobilenetv2.py (Sandler et al. 2018, Table 1). Hidden width
    ``round(in*t)``; a 1x1 expansion (omitted when ``t == 1``), a depthwise 3x3 with the
    stride, and a linear 1x1 projection with BN and no activation. Residual when
    ``stride == 1 and in == out``. Paths: ``conv.0.0`` (expansion conv) ... ``conv.3`` (last
    BN), plus ``add`` when residual.

    >>> from layercalc import analyze
    >>> r = analyze(InvertedResidual(24, 24, 1, 6), (24, 56, 56))
    >>> [row.path for row in r.rows][:2], r.rows[-1].path, r.total.params  # 3456+1296+3456 + BN 624
    (['conv.0.0', 'conv.0.1'], 'add', 8832)
    """
    if stride not in (1, 2):
        raise LayerSpecError("InvertedResidual", f"stride (={stride}) must be 1 or 2")
    hidden = (int(round(in_channels * expand_ratio)) if not isinstance(in_channels, sp.Basic)
              else in_channels * expand_ratio)  # torchvision rounds; exact for integer t
    layers: list[Any] = []
    if expand_ratio != 1:
        layers.append(Conv2dNormActivation(in_channels, hidden, 1, norm=norm,
                                           activation=activation))
    layers.append(Conv2dNormActivation(hidden, hidden, 3, stride, groups=hidden, norm=norm,
                                       activation=activation))
    layers.append(Conv2d(hidden, out_channels, 1, 1, 0, bias=False))
    n = _make(norm, out_channels)
    if n is not None:
        layers.append(n)
    body = Sequential(OrderedDict(conv=Sequential(*layers)))
    if stride == 1 and in_channels == out_channels:
        return Residual(body)
    return body


def _downsample(inplanes: int, outplanes: int, stride: int, norm: Any) -> Sequential:
    layers: list[Layer] = [Conv2d(inplanes, outplanes, 1, stride, bias=False)]
    n = _make(norm, outplanes)
    if n is not None:
        layers.append(n)
    return Sequential(*layers)


def _needs_downsample(downsample: bool | None, stride: int, inplanes: int, out: int) -> bool:
    if downsample is None:
        return stride != 1 or inplanes != out
    return bool(downsample)


def BasicBlock(inplanes: int, planes: int, stride: int = 1, downsample: bool | None = None,
               *, norm: Any = BatchNorm2d) -> Residual:
    """ResNet's basic block (two 3x3 convs), as torchvision's ``BasicBlock`` (expansion 1).

    Source: torchvision/models/resnet.py; He et al. 2016, Fig. 2 / Table 1. Children
    ``conv1, bn1, relu, conv2, bn2``, shortcut ``downsample.0`` (1x1 conv with the stride) and
    ``downsample.1`` (BN), then ``add`` and ``relu``. ``downsample=None`` adds the projection
    exactly when torchvision's ``_make_layer`` does (``stride != 1`` or channels change).

    >>> from layercalc import analyze
    >>> r = analyze(BasicBlock(64, 128, 2), (64, 56, 56))
    >>> r.output_shape, r.total.params  # 3x3 convs 73728 + 147456, BNs 512, 1x1 8192 + BN 256
    ((128, 28, 28), 230144)
    """
    body = Sequential(OrderedDict(
        conv1=Conv2d(inplanes, planes, 3, stride, 1, bias=False),
        bn1=_make(norm, planes) or Identity(),
        relu=ReLU(inplace=True),
        conv2=Conv2d(planes, planes, 3, 1, 1, bias=False),
        bn2=_make(norm, planes) or Identity(),
    ))
    short = (_downsample(inplanes, planes, stride, norm)
             if _needs_downsample(downsample, stride, inplanes, planes) else None)
    return Residual(body, short, activation=ReLU(inplace=True))


_STRIDE_ON = ("3x3", "1x1")


def Bottleneck(inplanes: int, planes: int, stride: int = 1, downsample: bool | None = None,
               groups: int = 1, base_width: int = 64, *, stride_on: str = "3x3",
               norm: Any = BatchNorm2d, expansion: int = 4) -> Residual:
    """ResNet's bottleneck block (1x1, 3x3, 1x1), as torchvision's ``Bottleneck``.

    Source: torchvision/models/resnet.py; He et al. 2016, Fig. 5. ``stride_on="3x3"`` puts
    the stride on ``conv2`` (ResNet v1.5, torchvision's default); ``"1x1"`` puts it on
    ``conv1`` (v1, the paper and Caffe release). Width ``planes * base_width/64 * groups``
    (ResNeXt / wide ResNet); output ``planes * expansion``. Children ``conv1, bn1, relu,
    conv2, bn2, relu, conv3, bn3``, ``downsample.0/.1``, ``add``, ``relu``.

    >>> from layercalc import analyze
    >>> v15 = analyze(Bottleneck(256, 128, 2), (256, 56, 56)).total
    >>> v1 = analyze(Bottleneck(256, 128, 2, stride_on="1x1"), (256, 56, 56)).total
    >>> v15.params == v1.params, v15.macs - v1.macs  # the 1x1 conv1 at 56x56 instead of 28x28
    (True, 77070336)
    """
    if stride_on not in _STRIDE_ON:
        raise LayerSpecError("Bottleneck", f"stride_on (={stride_on!r}) must be '3x3' or '1x1'")
    width = int(planes * (base_width / 64.0)) * groups
    out = planes * expansion
    s1, s2 = (1, stride) if stride_on == "3x3" else (stride, 1)
    body = Sequential([  # one `relu` module called three times, as in torchvision
        ("conv1", Conv2d(inplanes, width, 1, s1, bias=False)),
        ("bn1", _make(norm, width) or Identity()),
        ("relu", ReLU(inplace=True)),
        ("conv2", Conv2d(width, width, 3, s2, 1, groups=groups, bias=False)),
        ("bn2", _make(norm, width) or Identity()),
        ("relu", ReLU(inplace=True)),
        ("conv3", Conv2d(width, out, 1, bias=False)),
        ("bn3", _make(norm, out) or Identity()),
    ])
    short = (_downsample(inplanes, out, stride, norm)
             if _needs_downsample(downsample, stride, inplanes, out) else None)
    return Residual(body, short, activation=ReLU(inplace=True))


def SqueezeExcitation(input_channels: int, squeeze_channels: int, activation: Any = ReLU,
                      scale_activation: Any = Sigmoid) -> Parallel:
    """Squeeze-and-excitation, as ``torchvision.ops.SqueezeExcitation``.

    Source: torchvision/ops/misc.py (Hu et al. 2018, Eq. 2-4): global average pool, ``fc1``
    (1x1 conv with bias) -> `activation` -> ``fc2`` -> `scale_activation`, multiplied into the
    input. Built as ``Parallel(Identity, se, merge="mul")``; the SE rows sit directly under
    the block (``avgpool, fc1, activation, fc2, scale_activation``), the identity is
    ``input`` and the broadcast multiply is ``mul``.

    >>> from layercalc import analyze
    >>> r = analyze(SqueezeExcitation(96, 24), (96, 14, 14))
    >>> r.output_shape, r.total.params, r.total.macs  # 2 * 96*24 weights + 24 + 96 biases
    ((96, 14, 14), 4728, 4608)
    """
    se = Sequential(OrderedDict([
        ("avgpool", AdaptiveAvgPool2d(1)),
        ("fc1", Conv2d(input_channels, squeeze_channels, 1)),
        ("activation", _make(activation) or Identity()),
        ("fc2", Conv2d(squeeze_channels, input_channels, 1)),
        ("scale_activation", _make(scale_activation) or Identity()),
    ]))
    return Parallel(OrderedDict([("input", Identity()), ("", se)]), merge="mul")


def Fire(inplanes: int, squeeze_planes: int, expand1x1_planes: int,
         expand3x3_planes: int) -> Sequential:
    """SqueezeNet's Fire module, as torchvision's ``Fire``.

    Source: torchvision/models/squeezenet.py (Iandola et al. 2016, Sec. 3.2): a 1x1
    ``squeeze`` conv + ReLU, then 1x1 and 3x3 (padding 1) ``expand`` convs, each + ReLU,
    concatenated along channels. All convs have biases.

    >>> from layercalc import analyze
    >>> r = analyze(Fire(96, 16, 64, 64), (96, 55, 55))
    >>> r.output_shape, r.total.params  # torchvision features.3: 1552 + 1088 + 9280
    ((128, 55, 55), 11920)
    """
    def branch(conv: Conv2d) -> Sequential:
        return Sequential(OrderedDict([("", conv), ("activation", ReLU(inplace=True))]))

    return Sequential(OrderedDict([
        ("squeeze", Conv2d(inplanes, squeeze_planes, 1)),
        ("squeeze_activation", ReLU(inplace=True)),
        ("expand", Parallel(OrderedDict([
            ("expand1x1", branch(Conv2d(squeeze_planes, expand1x1_planes, 1))),
            ("expand3x3", branch(Conv2d(squeeze_planes, expand3x3_planes, 3, padding=1))),
        ]), merge="concat")),
    ]))


def _conv_unit(in_channels: int, out_channels: int, kernel_size: Any, padding: Any,
               norm: Any, activation: Any, bias: bool) -> Sequential:
    layers: list[Layer] = [Conv2d(in_channels, out_channels, kernel_size, padding=padding,
                                  bias=bias)]
    n = _make(norm, out_channels)
    if n is not None:
        layers.append(n)
    a = _make(activation)
    if a is not None:
        layers.append(a)
    return Sequential(*layers)


def factorized_5x5(in_channels: int, out_channels: int, mid_channels: int | None = None, *,
                   norm: Any = None, activation: Any = None, bias: bool = False) -> Sequential:
    """A 5x5 convolution factorised into two 3x3 convolutions (padding 1 each), same
    receptive field and output size.

    Source: Szegedy et al. 2016, "Rethinking the Inception Architecture", Sec. 3.1 and Fig. 1:
    "a 5x5 convolution ... replaced by two 3x3 convolutions ... a net (9+9)/25x reduction".
    Children ``0`` and ``1`` (each ``conv[, norm][, activation]``, like Inception v3's
    ``BasicConv2d`` when ``norm``/``activation`` are given); `mid_channels` defaults to
    `out_channels`.

    The paper's identity, at equal channels, for every size:

    >>> from fractions import Fraction
    >>> from layercalc import analyze, symbols
    >>> H, W = symbols("H W")
    >>> two = analyze(factorized_5x5(64, 64), (64, H, W)).total.macs
    >>> one = analyze(Conv2d(64, 64, 5, padding=2, bias=False), (64, H, W)).total.macs
    >>> (two / one).simplify()
    18/25
    """
    mid = out_channels if mid_channels is None else mid_channels
    return Sequential(_conv_unit(in_channels, mid, 3, 1, norm, activation, bias),
                      _conv_unit(mid, out_channels, 3, 1, norm, activation, bias))


def factorized_nxn(in_channels: int, out_channels: int, n: int,
                   mid_channels: int | None = None, *, norm: Any = None,
                   activation: Any = None, bias: bool = False) -> Sequential:
    """An nxn convolution factorised into a 1xn then an nx1 convolution (asymmetric), same
    receptive field and, with padding ``(0, n//2)`` then ``(n//2, 0)``, same output size
    (odd `n`).

    Source: Szegedy et al. 2016, "Rethinking the Inception Architecture", Sec. 3.2 and Fig. 6
    (Inception v3 uses n=7: ``branch7x7_2`` 1x7 and ``branch7x7_3`` 7x1 in torchvision's
    inception.py). Children ``0`` and ``1``.

    At equal channels the MACs ratio is ``2/n`` for every size:

    >>> from layercalc import analyze, symbols
    >>> H, W = symbols("H W")
    >>> fac = analyze(factorized_nxn(128, 128, 7), (128, H, W)).total.macs
    >>> full = analyze(Conv2d(128, 128, 7, padding=3, bias=False), (128, H, W)).total.macs
    >>> (fac / full).simplify()
    2/7
    """
    mid = out_channels if mid_channels is None else mid_channels
    p = n // 2
    return Sequential(_conv_unit(in_channels, mid, (1, n), (0, p), norm, activation, bias),
                      _conv_unit(mid, out_channels, (n, 1), (p, 0), norm, activation, bias))
