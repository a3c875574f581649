"""MobileNet v1 (the paper), v2 and v3 (torchvision)."""

from __future__ import annotations

from collections import OrderedDict
from functools import partial

from ..dims import smax
from ..blocks import (
    scale_channels,
    Conv2dNormActivation,
    DepthwiseSeparableConv2d,
    InvertedResidual,
    SqueezeExcitation,
    make_divisible,
)
from ..layers import (
    AdaptiveAvgPool2d, BatchNorm2d, Dropout, Flatten, Hardsigmoid, Hardswish, Linear, ReLU,
    ReLU6,
)
from ..network import Functional, Residual, Sequential

__all__ = ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"]

#: Howard et al. 2017, Table 1: (stride, output channels) of the 13 separable layers. The
#: table's last "Conv dw / s2" at 7x7 is a misprint (the output stays 7x7); every release
#: (TF-slim mobilenet_v1.py ``MOBILENETV1_CONV_DEFS``) uses stride 1 there.
_V1_SEPARABLE = [(1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512),
                 (1, 512), (1, 512), (1, 512), (1, 512), (1, 512), (2, 1024), (1, 1024)]


def mobilenet_v1(width_mult: float = 1.0, num_classes: int = 1000, *,
                 norm: bool = True) -> Sequential:
    """MobileNet v1, Howard et al. 2017, Table 1: a 3x3 stride-2 conv to 32 channels, 13
    depthwise-separable layers, global average pool and a fully connected layer.

    Every conv is followed by BN and ReLU (Fig. 3) and has no bias; the FC has a bias. The
    width multiplier alpha scales every channel count to ``int(c * alpha)`` (Sec. 4.2).
    ``norm=False`` drops the BatchNorms (the paper's 4.2M parameters count no BN). Paths
    ``features.0`` (stem, ``features.0.0`` its conv), ``features.1`` ... ``features.13``
    (each ``0`` dw conv ... ``5`` ReLU), ``avgpool``, ``flatten``, ``classifier``.

    >>> from layercalc import analyze
    >>> round(analyze(mobilenet_v1(), (3, 224, 224)).total.macs / 1e6)  # paper: 569M
    569
    """
    c = scale_channels(32, width_mult)
    bn = BatchNorm2d if norm else None
    layers: list = [Conv2dNormActivation(3, c, 3, 2, norm=bn, activation=ReLU, bias=False)]
    for s, out in _V1_SEPARABLE:
        o = scale_channels(out, width_mult)
        layers.append(DepthwiseSeparableConv2d(c, o, 3, s, norm=norm, activation=ReLU))
        c = o
    return Sequential(OrderedDict(features=Sequential(*layers), avgpool=AdaptiveAvgPool2d(1),
                                  flatten=Flatten(), classifier=Linear(c, num_classes)))


#: torchvision/models/mobilenetv2.py ``inverted_residual_setting``: t, c, n, s.
_V2_SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1],
               [6, 160, 3, 2], [6, 320, 1, 1]]


def mobilenet_v2(num_classes: int = 1000, width_mult: float = 1.0,
                 round_nearest: int = 8, dropout: float = 0.2) -> Sequential:
    """MobileNetV2, torchvision/models/mobilenetv2.py (Sandler et al. 2018, Table 2).

    Channels ``_make_divisible(c * width_mult, 8)``; last conv
    ``_make_divisible(1280 * max(1, width_mult), 8)``. Paths ``features.0.0`` ...
    ``features.18.0``, ``avgpool`` (``adaptive_avg_pool2d`` in ``forward``), ``flatten``,
    ``classifier.0`` (Dropout), ``classifier.1`` (Linear).

    >>> from layercalc import analyze
    >>> analyze(mobilenet_v2(), (3, 224, 224)).total.params
    3504872
    """
    c = make_divisible(32 * width_mult, round_nearest)
    last = make_divisible(1280 * smax(1, width_mult), round_nearest)
    layers: list = [Conv2dNormActivation(3, c, stride=2, activation=ReLU6)]
    for t, ch, n, s in _V2_SETTING:
        out = make_divisible(ch * width_mult, round_nearest)
        for i in range(n):
            layers.append(InvertedResidual(c, out, s if i == 0 else 1, t))
            c = out
    layers.append(Conv2dNormActivation(c, last, 1, activation=ReLU6))
    return Sequential(OrderedDict(
        features=Sequential(*layers), avgpool=Functional(AdaptiveAvgPool2d((1, 1))), flatten=Flatten(),
        classifier=Sequential(Dropout(dropout), Linear(last, num_classes))))


# (input, kernel, expanded, out, use_se, activation, stride) from torchvision's
# _mobilenet_v3_conf (Howard et al. 2019, Tables 1 and 2), dilation 1.
_V3_LARGE = [
    (16, 3, 16, 16, False, "RE", 1), (16, 3, 64, 24, False, "RE", 2),
    (24, 3, 72, 24, False, "RE", 1), (24, 5, 72, 40, True, "RE", 2),
    (40, 5, 120, 40, True, "RE", 1), (40, 5, 120, 40, True, "RE", 1),
    (40, 3, 240, 80, False, "HS", 2), (80, 3, 200, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1), (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 480, 112, True, "HS", 1), (112, 3, 672, 112, True, "HS", 1),
    (112, 5, 672, 160, True, "HS", 2), (160, 5, 960, 160, True, "HS", 1),
    (160, 5, 960, 160, True, "HS", 1),
]
_V3_SMALL = [
    (16, 3, 16, 16, True, "RE", 2), (16, 3, 72, 24, False, "RE", 2),
    (24, 3, 88, 24, False, "RE", 1), (24, 5, 96, 40, True, "HS", 2),
    (40, 5, 240, 40, True, "HS", 1), (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 120, 48, True, "HS", 1), (48, 5, 144, 48, True, "HS", 1),
    (48, 5, 288, 96, True, "HS", 2), (96, 5, 576, 96, True, "HS", 1),
    (96, 5, 576, 96, True, "HS", 1),
]


def _v3_block(inp: int, k: int, exp: int, out: int, use_se: bool, act: str, stride: int,
              norm) -> Sequential | Residual:
    """torchvision mobilenetv3.py ``InvertedResidual``: paths ``block.0`` ... , ``add``."""
    a = Hardswish if act == "HS" else ReLU
    layers: list = []
    if exp != inp:
        layers.append(Conv2dNormActivation(inp, exp, 1, norm=norm, activation=a))
    layers.append(Conv2dNormActivation(exp, exp, k, stride, groups=exp, norm=norm, activation=a))
    if use_se:
        layers.append(SqueezeExcitation(exp, make_divisible(exp // 4, 8),
                                        scale_activation=Hardsigmoid))
    layers.append(Conv2dNormActivation(exp, out, 1, norm=norm, activation=None))
    body = Sequential(OrderedDict(block=Sequential(*layers)))
    return Residual(body) if stride == 1 and inp == out else body


def _mobilenet_v3(setting, last_channel: int, num_classes: int, width_mult: float,
                  dropout: float) -> Sequential:
    norm = partial(BatchNorm2d, eps=0.001, momentum=0.01)
    adj = lambda c: make_divisible(c * width_mult, 8)  # noqa: E731  (torchvision's adjust_channels)
    layers: list = [Conv2dNormActivation(3, adj(setting[0][0]), 3, 2, norm=norm,
                                         activation=Hardswish)]
    for inp, k, exp, out, se, act, s in setting:
        layers.append(_v3_block(adj(inp), k, adj(exp), adj(out), se, act, s, norm))
    last_in = adj(setting[-1][3])
    last_out = 6 * last_in
    last = adj(last_channel)
    layers.append(Conv2dNormActivation(last_in, last_out, 1, norm=norm, activation=Hardswish))
    return Sequential(OrderedDict(
        features=Sequential(*layers), avgpool=AdaptiveAvgPool2d(1), flatten=Flatten(),
        classifier=Sequential(Linear(last_out, last), Hardswish(inplace=True),
                              Dropout(dropout, inplace=True), Linear(last, num_classes))))


def mobilenet_v3_large(num_classes: int = 1000, width_mult: float = 1.0,
                       dropout: float = 0.2) -> Sequential:
    """MobileNetV3-Large, torchvision/models/mobilenetv3.py (Howard et al. 2019, Table 1):
    hardswish/ReLU blocks, SE with squeeze ``_make_divisible(exp // 4, 8)`` and a hardsigmoid
    gate, BN eps 0.001. Paths ``features.N.block.M[.K]``, ``classifier.0`` ... ``.3``.

    >>> from layercalc import analyze
    >>> analyze(mobilenet_v3_large(), (3, 224, 224)).total.params
    5483032
    """
    return _mobilenet_v3(_V3_LARGE, 1280, num_classes, width_mult, dropout)


def mobilenet_v3_small(num_classes: int = 1000, width_mult: float = 1.0,
                       dropout: float = 0.2) -> Sequential:
    """MobileNetV3-Small, torchvision/models/mobilenetv3.py (Howard et al. 2019, Table 2)."""
    return _mobilenet_v3(_V3_SMALL, 1024, num_classes, width_mult, dropout)
