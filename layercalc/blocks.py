"""Building blocks: composites of layers, with no formulas of their own.

Every function here returns a `Sequential`, `Residual` or `Parallel` of catalog layers (a
few wrapped in `Functional` where PyTorch calls a function, not a module), so a block's cost
is the sum of its layers' costs by construction. Child names follow the source
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
    AvgPool2d,
    BatchNorm2d,
    ChannelShuffle,
    Conv2d,
    Dropout,
    Identity,
    Layer,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Slice,
    StochasticDepth,
)
from .network import Functional, Parallel, Residual, Sequential

__all__ = [
    "Conv2dNormActivation",
    "DepthwiseSeparableConv2d",
    "InvertedResidual",
    "BasicBlock",
    "Bottleneck",
    "SqueezeExcitation",
    "Fire",
    "MBConv",
    "FusedMBConv",
    "BottleneckTransform",
    "ResBottleneckBlock",
    "AnyStage",
    "ShuffleNetV2Block",
    "DenseLayer",
    "DenseBlock",
    "Transition",
    "MNASNetInvertedResidual",
    "MNASNetStack",
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
               groups: int = 1, base_width: int = 64, dilation: int = 1, *,
               stride_on: str = "3x3", norm: Any = BatchNorm2d,
               expansion: int = 4) -> Residual:
    """ResNet's bottleneck block (1x1, 3x3, 1x1), as torchvision's ``Bottleneck``.

    Source: torchvision/models/resnet.py; He et al. 2016, Fig. 5. ``stride_on="3x3"`` puts
    the stride on ``conv2`` (ResNet v1.5, torchvision's default); ``"1x1"`` puts it on
    ``conv1`` (v1, the paper and Caffe release). Width ``planes * base_width/64 * groups``
    (ResNeXt / wide ResNet); output ``planes * expansion``. `dilation` dilates the 3x3 (padding
    ``dilation``), as torchvision's ``replace_stride_with_dilation``. Children ``conv1, bn1,
    relu, conv2, bn2, relu, conv3, bn3``, ``downsample.0/.1``, ``add``, ``relu``.

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
        ("conv2", Conv2d(width, width, 3, s2, dilation, dilation, groups, bias=False)),
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
    concatenated along channels (``torch.cat``, row ``cat``). All convs have biases. Rows
    ``squeeze, squeeze_activation, expand1x1, expand1x1_activation, expand3x3,
    expand3x3_activation, cat``: torchvision's module names, all siblings.

    >>> from layercalc import analyze
    >>> r = analyze(Fire(96, 16, 64, 64), (96, 55, 55))
    >>> r.output_shape, r.total.params  # torchvision features.3: 1552 + 1088 + 9280
    ((128, 55, 55), 11920)
    >>> [row.path for row in r.rows][2:4]
    ['expand1x1', 'expand1x1_activation']
    """
    def branch(name: str, conv: Conv2d) -> tuple[str, Sequential]:
        return "", Sequential(OrderedDict([(name, conv),
                                           (f"{name}_activation", ReLU(inplace=True))]))

    return Sequential(OrderedDict([
        ("squeeze", Conv2d(inplanes, squeeze_planes, 1)),
        ("squeeze_activation", ReLU(inplace=True)),
        ("", Parallel([
            branch("expand1x1", Conv2d(squeeze_planes, expand1x1_planes, 1)),
            branch("expand3x3", Conv2d(squeeze_planes, expand3x3_planes, 3, padding=1)),
        ], merge="concat")),
    ]))


def _stochastic_depth_residual(layers: list, p: float, residual: bool) -> Sequential | Residual:
    """torchvision's MBConv/FusedMBConv ``forward``: ``block`` (children ``0, 1, ...``), and when
    the block is residual, ``stochastic_depth`` then ``result += input`` (row ``add``)."""
    block = Sequential(*layers)
    if residual:
        return Residual(Sequential(OrderedDict(block=block,
                                               stochastic_depth=StochasticDepth(p, "row"))))
    return Sequential(OrderedDict(block=block))


def _check_stride(name: str, stride: Any, allowed: tuple = (1, 2)) -> None:
    if stride not in allowed:
        raise LayerSpecError(name, f"stride (={stride}) must be "
                             + " or ".join(str(a) for a in allowed))


def MBConv(expand_ratio: float, kernel: int, stride: int, input_channels: int,
           out_channels: int, stochastic_depth_prob: float = 0.0, *,
           norm: Any = BatchNorm2d) -> Sequential | Residual:
    """EfficientNet's mobile inverted bottleneck with squeeze-and-excitation, as torchvision's
    ``MBConv`` (arguments in ``MBConvConfig``'s order, without ``num_layers``).

    Source: torchvision/models/efficientnet.py (Tan & Le 2019, "EfficientNet", Sec. 4 and
    Table 1; Sandler et al. 2018 for the inverted bottleneck, Hu et al. 2018 for SE). Expanded
    width ``_make_divisible(input_channels * expand_ratio, 8)``: a 1x1 expansion conv (left
    out when that equals the input width), a depthwise ``kernel x kernel`` conv with the
    stride, SE squeezing to ``max(1, input_channels // 4)`` with SiLU, and a linear 1x1
    projection; every conv is Conv-norm(-SiLU). Residual when ``stride == 1`` and the widths
    agree, through ``StochasticDepth(stochastic_depth_prob, "row")`` (identity at inference).
    Paths ``block.0.0`` (first conv) ... ``block.3.1``, ``stochastic_depth``, ``add``.

    >>> from layercalc import analyze
    >>> r = analyze(MBConv(6, 3, 1, 24, 24, 0.05), (24, 56, 56))  # EfficientNet-B0 features.2.1
    >>> r.total.params, [row.path for row in r.rows][-3:]
    (10710, ['block.3.1', 'stochastic_depth', 'add'])
    """
    _check_stride("MBConv", stride)
    expanded = make_divisible(input_channels * expand_ratio, 8)
    layers: list[Any] = []
    if expanded != input_channels:
        layers.append(Conv2dNormActivation(input_channels, expanded, 1, norm=norm,
                                           activation=SiLU))
    layers.append(Conv2dNormActivation(expanded, expanded, kernel, stride, groups=expanded,
                                       norm=norm, activation=SiLU))
    layers.append(SqueezeExcitation(expanded, max(1, input_channels // 4), activation=SiLU))
    layers.append(Conv2dNormActivation(expanded, out_channels, 1, norm=norm, activation=None))
    residual = stride == 1 and input_channels == out_channels
    return _stochastic_depth_residual(layers, stochastic_depth_prob, residual)


def FusedMBConv(expand_ratio: float, kernel: int, stride: int, input_channels: int,
                out_channels: int, stochastic_depth_prob: float = 0.0, *,
                norm: Any = BatchNorm2d) -> Sequential | Residual:
    """EfficientNetV2's fused inverted bottleneck, as torchvision's ``FusedMBConv``: the 1x1
    expansion and the depthwise conv of `MBConv` fused into one full ``kernel x kernel`` conv
    with the stride, and no squeeze-and-excitation.

    Source: torchvision/models/efficientnet.py (Tan & Le 2021, "EfficientNetV2", Sec. 3.2,
    Fig. 2 and Table 4). With an expansion (``_make_divisible(input * expand_ratio, 8)``
    differs from the input width): Conv-norm-SiLU to the expanded width, then a linear 1x1
    projection (``block.0``, ``block.1``); without, one Conv-norm-SiLU straight to
    `out_channels` (``block.0``). Residual and stochastic depth as `MBConv`.

    >>> from layercalc import analyze
    >>> r = analyze(FusedMBConv(4, 3, 2, 24, 48), (24, 96, 96))  # EfficientNetV2-S features.2.0
    >>> r.output_shape, r.total.params  # 3x3 24->96: 20736 + BN 192; 1x1 96->48: 4608 + BN 96
    ((48, 48, 48), 25632)
    """
    _check_stride("FusedMBConv", stride)
    expanded = make_divisible(input_channels * expand_ratio, 8)
    if expanded != input_channels:
        layers: list[Any] = [
            Conv2dNormActivation(input_channels, expanded, kernel, stride, norm=norm,
                                 activation=SiLU),
            Conv2dNormActivation(expanded, out_channels, 1, norm=norm, activation=None),
        ]
    else:
        layers = [Conv2dNormActivation(input_channels, out_channels, kernel, stride, norm=norm,
                                       activation=SiLU)]
    residual = stride == 1 and input_channels == out_channels
    return _stochastic_depth_residual(layers, stochastic_depth_prob, residual)


def BottleneckTransform(width_in: int, width_out: int, stride: int, norm: Any = BatchNorm2d,
                        activation: Any = ReLU, group_width: int = 1,
                        bottleneck_multiplier: float = 1.0,
                        se_ratio: float | None = None) -> Sequential:
    """RegNet's bottleneck transform ``F``: 1x1, grouped 3x3 [+ SE], 1x1, as torchvision's
    ``BottleneckTransform``.

    Source: torchvision/models/regnet.py (Radosavovic et al. 2020, "Designing Network Design
    Spaces", Sec. 3.1 and Fig. 4). Bottleneck width ``w_b = round(width_out *
    bottleneck_multiplier)``, ``w_b // group_width`` groups in the 3x3 (which has the stride);
    SE (RegNetY) squeezes to ``round(se_ratio * width_in)``, relative to the block's *input*.
    Children ``a``, ``b``, ``se``, ``c`` (each Conv2dNormActivation but ``se``; ``c`` has no
    activation).

    >>> from layercalc import analyze
    >>> r = analyze(BottleneckTransform(48, 104, 2, group_width=8, se_ratio=0.25), (48, 56, 56))
    >>> r.output_shape, [row.path for row in r.rows][7:9]
    ((104, 28, 28), ['se.avgpool', 'se.fc1'])
    """
    w_b = int(round(width_out * bottleneck_multiplier))
    g = w_b // group_width
    layers: OrderedDict[str, Any] = OrderedDict()
    layers["a"] = Conv2dNormActivation(width_in, w_b, 1, norm=norm, activation=activation)
    layers["b"] = Conv2dNormActivation(w_b, w_b, 3, stride, groups=g, norm=norm,
                                       activation=activation)
    if se_ratio:
        layers["se"] = SqueezeExcitation(w_b, int(round(se_ratio * width_in)),
                                         activation=activation)
    layers["c"] = Conv2dNormActivation(w_b, width_out, 1, norm=norm, activation=None)
    return Sequential(layers)


def ResBottleneckBlock(width_in: int, width_out: int, stride: int, norm: Any = BatchNorm2d,
                       activation: Any = ReLU, group_width: int = 1,
                       bottleneck_multiplier: float = 1.0,
                       se_ratio: float | None = None) -> Sequential:
    """RegNet's residual bottleneck block ``activation(x + F(x))``, as torchvision's
    ``ResBottleneckBlock``.

    Source: torchvision/models/regnet.py (Radosavovic et al. 2020, Sec. 3.1, Fig. 4). ``F`` is
    `BottleneckTransform` (child ``f``). When the width or the resolution changes, the
    shortcut is a projection ``proj`` (1x1 conv with the stride + norm, no activation) and
    PyTorch evaluates ``self.proj(x) + self.f(x)``, projection first: built as
    ``Parallel(proj, f, merge="add")``; otherwise ``x + self.f(x)``, a `Residual`. Rows
    ``proj.0``, ``proj.1``, ``f.a.0`` ... ``f.c.1``, ``add`` (the ``+``) and ``activation``.

    >>> from layercalc import analyze
    >>> r = analyze(ResBottleneckBlock(32, 48, 2, group_width=8, se_ratio=0.25), (32, 112, 112))
    >>> [row.path for row in r.rows][:3], [row.path for row in r.rows][-2:], r.output_shape
    (['proj.0', 'proj.1', 'f.a.0'], ['add', 'activation'], (48, 56, 56))
    """
    f = BottleneckTransform(width_in, width_out, stride, norm, activation, group_width,
                            bottleneck_multiplier, se_ratio)
    if width_in != width_out or stride != 1:
        proj = Conv2dNormActivation(width_in, width_out, 1, stride, norm=norm, activation=None)
        body: Any = Parallel(OrderedDict(proj=proj, f=f), merge="add")
    else:
        body = Residual(Sequential(OrderedDict(f=f)))
    return Sequential(OrderedDict([("", body),
                                   ("activation", _make(activation) or Identity())]))


def AnyStage(width_in: int, width_out: int, stride: int, depth: int,
             block_constructor: Any = ResBottleneckBlock, norm: Any = BatchNorm2d,
             activation: Any = ReLU, group_width: int = 1, bottleneck_multiplier: float = 1.0,
             se_ratio: float | None = None, stage_index: int = 0) -> Sequential:
    """An AnyNet/RegNet stage: `depth` blocks of the same output width, the first with the
    stride, as torchvision's ``AnyStage``.

    Source: torchvision/models/regnet.py (Radosavovic et al. 2020, Sec. 3.1, Fig. 3).
    `block_constructor` is called as torchvision calls it, ``(width_in, width_out, stride,
    norm, activation, group_width, bottleneck_multiplier, se_ratio)``; children are named
    ``block{stage_index}-{i}`` as in torchvision (``trunk_output.block2.block2-0.f.b.0``).

    >>> from layercalc import analyze
    >>> r = analyze(AnyStage(32, 32, 2, 2, group_width=16, stage_index=1), (32, 56, 56))
    >>> r.output_shape, r.rows[0].path, r.rows[-1].path
    ((32, 28, 28), 'block1-0.proj.0', 'block1-1.activation')
    """
    blocks = [(f"block{stage_index}-{i}",
               block_constructor(width_in if i == 0 else width_out, width_out,
                                 stride if i == 0 else 1, norm, activation, group_width,
                                 bottleneck_multiplier, se_ratio))
              for i in range(depth)]
    return Sequential(OrderedDict(blocks))


def ShuffleNetV2Block(inp: int, oup: int, stride: int) -> Sequential:
    """ShuffleNet V2's unit, as torchvision's ``shufflenetv2.InvertedResidual``.

    Source: torchvision/models/shufflenetv2.py (Ma et al. 2018, "ShuffleNet V2", Sec. 4 and
    Fig. 3 (c), (d)). Each branch has ``oup // 2`` channels.

    * stride 1 (Fig. 3c): ``x1, x2 = x.chunk(2, dim=1)``, ``out = torch.cat((x1,
      branch2(x2)), 1)``; requires ``inp == 2 * (oup // 2)``. The chunk is two `Slice` rows,
      ``chunk.0`` and ``chunk.1``, called as a function (views: no cost).
    * stride 2 (Fig. 3d): ``torch.cat((branch1(x), branch2(x)), 1)``; ``branch1`` is a
      depthwise 3x3 with the stride, BN, 1x1, BN, ReLU.

    ``branch2`` is 1x1, BN, ReLU, depthwise 3x3 (stride), BN, 1x1, BN, ReLU. Then the
    module-free ``channel_shuffle(out, 2)`` (view, ``transpose``, ``contiguous``, view): a
    `ChannelShuffle` row ``channel_shuffle`` called as a function, which copies the tensor
    once. Rows: ``[chunk.0, chunk.1,] branch1.0 ... branch2.7, cat, channel_shuffle``; the
    concatenation is a ``torch.cat`` call (``call="functional"``), as PyTorch runs it.

    >>> from layercalc import analyze
    >>> r = analyze(ShuffleNetV2Block(116, 116, 1), (116, 28, 28))
    >>> [row.path for row in r.rows][:3], [row.path for row in r.rows][-2:]
    (['chunk.0', 'chunk.1', 'branch2.0'], ['cat', 'channel_shuffle'])
    >>> r.total.params  # 1x1 58*58 twice + dw 58*9, three BN of 58
    7598
    """
    if stride not in (1, 2, 3):
        raise LayerSpecError("ShuffleNetV2Block", f"stride (={stride}) must be 1, 2 or 3")
    bf = oup // 2
    if stride == 1 and inp != 2 * bf:
        raise LayerSpecError("ShuffleNetV2Block", f"inp (={inp}) must equal 2 * (oup // 2) "
                             f"(={2 * bf}) when stride is 1",
                             "A stride-1 unit splits its input into two halves of oup // 2.")

    def dw(c: int) -> Conv2d:
        return Conv2d(c, c, 3, stride, 1, groups=c, bias=False)

    branch2 = Sequential(
        Conv2d(inp if stride > 1 else bf, bf, 1, bias=False), BatchNorm2d(bf), ReLU(inplace=True),
        dw(bf), BatchNorm2d(bf),
        Conv2d(bf, bf, 1, bias=False), BatchNorm2d(bf), ReLU(inplace=True))
    if stride > 1:
        branch1 = Sequential(dw(inp), BatchNorm2d(inp), Conv2d(inp, bf, 1, bias=False),
                             BatchNorm2d(bf), ReLU(inplace=True))
        merge = Parallel(OrderedDict(branch1=branch1, branch2=branch2), merge="concat")
    else:
        merge = Parallel(OrderedDict([
            ("chunk.0", Functional(Slice(0, bf))),
            ("", Sequential(OrderedDict([("chunk.1", Functional(Slice(bf, inp))),
                                         ("branch2", branch2)]))),
        ]), merge="concat")
    return Sequential(OrderedDict([("", merge),
                                   ("channel_shuffle", Functional(ChannelShuffle(2)))]))


def DenseLayer(num_input_features: int, growth_rate: int, bn_size: int,
               drop_rate: float = 0.0) -> Sequential:
    """DenseNet-BC's composite function ``H``: BN-ReLU-1x1 conv to ``bn_size * growth_rate``,
    BN-ReLU-3x3 conv to ``growth_rate``, as torchvision's ``_DenseLayer`` (its modules).

    Source: torchvision/models/densenet.py (Huang et al. 2017, "Densely Connected
    Convolutional Networks", Sec. 3, "Bottleneck layers"). Children ``norm1, relu1, conv1,
    norm2, relu2, conv2``, plus ``dropout`` (``F.dropout``, identity at inference) when
    ``drop_rate > 0``. The ``torch.cat`` of the previous features that ``_DenseLayer`` runs
    first is not here: `DenseBlock` places it.

    >>> from layercalc import analyze
    >>> r = analyze(DenseLayer(64, 32, 4), (64, 56, 56))
    >>> r.output_shape, r.total.params  # BN 128 + 1x1 8192 + BN 256 + 3x3 36864
    ((32, 56, 56), 45440)
    """
    mid = bn_size * growth_rate
    layers: OrderedDict[str, Any] = OrderedDict(
        norm1=BatchNorm2d(num_input_features), relu1=ReLU(inplace=True),
        conv1=Conv2d(num_input_features, mid, 1, bias=False),
        norm2=BatchNorm2d(mid), relu2=ReLU(inplace=True),
        conv2=Conv2d(mid, growth_rate, 3, padding=1, bias=False))
    if drop_rate > 0:
        layers["dropout"] = Functional(Dropout(float(drop_rate)))
    return Sequential(layers)


def DenseBlock(num_layers: int, num_input_features: int, bn_size: int, growth_rate: int,
               drop_rate: float = 0.0) -> Sequential:
    """A dense block: every layer sees the concatenation of the block input and all earlier
    layers' outputs, as torchvision's ``_DenseBlock``; ``num_input_features + num_layers *
    growth_rate`` channels out.

    Source: torchvision/models/densenet.py (Huang et al. 2017, Sec. 3, Eq. 2:
    ``x_l = H_l([x_0, ..., x_{l-1}])``). Built with containers as a growing concatenation:
    child ``denselayer{i}`` is ``Parallel(input=Identity(), "" =DenseLayer, merge="concat")``,
    so its rows are ``denselayer{i}.input`` (the identity branch), ``denselayer{i}.norm1`` ...
    ``.conv2`` (torchvision's paths) and ``denselayer{i}.cat``, which appends the new
    features. Params and MACs are exactly torchvision's.

    **The concatenations, against eager PyTorch.** torchvision keeps a Python list of
    tensors and calls ``torch.cat(prev_features, 1)`` at the start of every layer, and once
    more over all of them after the last. ``denselayer{i}.cat`` here reads and writes what
    PyTorch's cat at the start of layer ``i + 1`` does (the final one for the last layer), in
    the same execution order; the difference is layer 1's ``torch.cat([x_0])`` of a
    one-element list, which PyTorch still copies: eager PyTorch moves
    ``num_input_features * H * W`` more elements (read once and written once) per block than
    this report. Liveness differs too: PyTorch keeps every earlier output alive in the list
    *and* builds each concatenation anew, so at layer ``i`` it holds both the list and its
    concatenation (about twice the concatenated size), where the growing concatenation
    holds one copy; `layercalc.peak_memory` of this model is therefore lower than eager
    PyTorch's (torchvision's ``memory_efficient=True`` checkpointing only changes what
    training keeps for the backward pass). A graph, with the list as real edges, can express
    PyTorch's schedule exactly.

    >>> from layercalc import analyze
    >>> r = analyze(DenseBlock(2, 64, 4, 32), (64, 56, 56))
    >>> r.output_shape, [row.path for row in r.rows if row.kind == "Concat"]
    ((128, 56, 56), ['denselayer1.cat', 'denselayer2.cat'])
    >>> [row.cost.writes for row in r.rows if row.kind == "Concat"]  # (64 + 32i) * 56 * 56
    [301056, 401408]
    """
    layers = []
    for i in range(num_layers):
        layer = DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size,
                           drop_rate)
        layers.append((f"denselayer{i + 1}",
                       Parallel(OrderedDict([("input", Identity()), ("", layer)]),
                                merge="concat")))
    return Sequential(OrderedDict(layers))


def Transition(num_input_features: int, num_output_features: int) -> Sequential:
    """DenseNet's transition layer between dense blocks: BN, ReLU, 1x1 conv, 2x2 average pool
    with stride 2, as torchvision's ``_Transition`` (children ``norm, relu, conv, pool``).

    Source: torchvision/models/densenet.py (Huang et al. 2017, Sec. 3 "Pooling layers" and
    "Compression", theta = 0.5 in DenseNet-BC).

    >>> from layercalc import analyze
    >>> r = analyze(Transition(256, 128), (256, 56, 56))
    >>> r.output_shape, r.total.params
    ((128, 28, 28), 33280)
    """
    return Sequential(OrderedDict(
        norm=BatchNorm2d(num_input_features), relu=ReLU(inplace=True),
        conv=Conv2d(num_input_features, num_output_features, 1, bias=False),
        pool=AvgPool2d(2, 2)))


def MNASNetInvertedResidual(in_ch: int, out_ch: int, kernel_size: int, stride: int,
                            expansion_factor: int,
                            bn_momentum: float = 0.1) -> Sequential | Residual:
    """MNASNet's inverted residual, as torchvision's ``mnasnet._InvertedResidual``: 1x1 to
    ``in_ch * expansion_factor``, BN, ReLU, depthwise ``kernel_size`` conv (padding
    ``kernel_size // 2``) with the stride, BN, ReLU, linear 1x1, BN.

    Source: torchvision/models/mnasnet.py (Tan et al. 2019, "MnasNet", Fig. 7, the B1
    variant). One child ``layers`` (``layers.0`` ... ``layers.7``); residual (``layers(x) +
    x``, row ``add``) when ``in_ch == out_ch`` and ``stride == 1``. No SE (MNASNet-A1 has it;
    torchvision builds B1).

    >>> from layercalc import analyze
    >>> r = analyze(MNASNetInvertedResidual(24, 24, 3, 1, 3), (24, 56, 56))
    >>> r.total.params, r.rows[-1].path  # 1728 + 144 + 648 + 144 + 1728 + 48
    (4440, 'add')
    """
    _check_stride("MNASNetInvertedResidual", stride)
    if kernel_size not in (3, 5):
        raise LayerSpecError("MNASNetInvertedResidual",
                             f"kernel_size (={kernel_size}) must be 3 or 5")
    mid = in_ch * expansion_factor

    def bn(c: int) -> BatchNorm2d:
        return BatchNorm2d(c, momentum=bn_momentum)

    layers = Sequential(
        Conv2d(in_ch, mid, 1, bias=False), bn(mid), ReLU(inplace=True),
        Conv2d(mid, mid, kernel_size, stride, kernel_size // 2, groups=mid, bias=False),
        bn(mid), ReLU(inplace=True),
        Conv2d(mid, out_ch, 1, bias=False), bn(out_ch))
    body = Sequential(OrderedDict(layers=layers))
    return Residual(body) if in_ch == out_ch and stride == 1 else body


def MNASNetStack(in_ch: int, out_ch: int, kernel_size: int, stride: int, exp_factor: int,
                 repeats: int, bn_momentum: float = 0.1) -> Sequential:
    """`repeats` MNASNet inverted residuals, the first with the stride and no skip, as
    torchvision's ``mnasnet._stack`` (children ``0 .. repeats-1``).

    Source: torchvision/models/mnasnet.py (Tan et al. 2019, Fig. 7).

    >>> from layercalc import analyze
    >>> analyze(MNASNetStack(16, 24, 3, 2, 3, 3), (16, 112, 112)).output_shape
    (24, 56, 56)
    """
    if not (isinstance(repeats, int) and repeats >= 1):
        raise LayerSpecError("MNASNetStack", f"repeats (={repeats!r}) must be a positive integer")
    first = MNASNetInvertedResidual(in_ch, out_ch, kernel_size, stride, exp_factor, bn_momentum)
    rest = [MNASNetInvertedResidual(out_ch, out_ch, kernel_size, 1, exp_factor, bn_momentum)
            for _ in range(1, repeats)]
    return Sequential(first, *rest)


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
