"""EfficientNet-B0, as torchvision."""

from __future__ import annotations

import math
from collections import OrderedDict

from ..blocks import Conv2dNormActivation, SqueezeExcitation, make_divisible
from ..layers import AdaptiveAvgPool2d, Dropout, Flatten, Identity, Linear, SiLU
from ..network import Functional, Residual, Sequential

__all__ = ["efficientnet_b0"]

#: torchvision/models/efficientnet.py ``_efficientnet_conf("efficientnet_b0")``
#: (Tan & Le 2019, Table 1): expand_ratio, kernel, stride, input, output, layers.
_B0 = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2),
       (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4),
       (6, 3, 1, 192, 320, 1)]


def _mbconv(t: int, k: int, stride: int, inp: int, out: int) -> Sequential | Residual:
    """torchvision ``MBConv``: expand 1x1 (if any), depthwise kxk, SE with squeeze
    ``max(1, inp // 4)`` and SiLU, project 1x1 with BN; stochastic depth (a no-op at
    inference, kept as an `Identity` row) then the residual add when stride 1 and in == out."""
    exp = make_divisible(inp * t, 8)
    layers: list = []
    if exp != inp:
        layers.append(Conv2dNormActivation(inp, exp, 1, activation=SiLU))
    layers.append(Conv2dNormActivation(exp, exp, k, stride, groups=exp, activation=SiLU))
    layers.append(SqueezeExcitation(exp, max(1, inp // 4), activation=SiLU))
    layers.append(Conv2dNormActivation(exp, out, 1, activation=None))
    if stride == 1 and inp == out:
        return Residual(Sequential(OrderedDict(block=Sequential(*layers),
                                               stochastic_depth=Identity())))
    return Sequential(OrderedDict(block=Sequential(*layers)))


def efficientnet_b0(num_classes: int = 1000, width_mult: float = 1.0, depth_mult: float = 1.0,
                    dropout: float = 0.2) -> Sequential:
    """EfficientNet-B0, torchvision/models/efficientnet.py (Tan & Le 2019, Table 1).

    Paths ``features.0.0`` (stem), ``features.S.B.block.M`` (stage S, block B),
    ``features.8.0`` (1x1 head conv to 1280), ``avgpool``, ``flatten``, ``classifier.1``.
    `width_mult` / `depth_mult` scale channels (``_make_divisible(c * w, 8)``) and layers
    (``ceil(n * d)``) as torchvision's ``MBConvConfig``.

    >>> from layercalc import analyze
    >>> analyze(efficientnet_b0(), (3, 224, 224)).total.params
    5288548
    """
    adj = lambda c: make_divisible(c * width_mult, 8)  # noqa: E731
    layers: list = [Conv2dNormActivation(3, adj(_B0[0][3]), 3, 2, activation=SiLU)]
    for t, k, s, inp, out, n in _B0:
        inp, out = adj(inp), adj(out)
        stage = []
        for i in range(int(math.ceil(n * depth_mult))):
            stage.append(_mbconv(t, k, s if i == 0 else 1, inp if i == 0 else out, out))
        layers.append(Sequential(*stage))
    last_in = adj(_B0[-1][4])
    last_out = 4 * last_in
    layers.append(Conv2dNormActivation(last_in, last_out, 1, activation=SiLU))
    return Sequential(OrderedDict(
        features=Sequential(*layers), avgpool=AdaptiveAvgPool2d(1), flatten=Functional(Flatten()),
        classifier=Sequential(Dropout(dropout, inplace=True), Linear(last_out, num_classes))))
