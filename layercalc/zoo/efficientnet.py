"""EfficientNet B0-B7 and EfficientNetV2 S/M/L, as torchvision (efficientnet.py)."""

from __future__ import annotations

import math
from collections import OrderedDict
from functools import partial
from typing import Any

from ..blocks import Conv2dNormActivation, FusedMBConv, MBConv, make_divisible
from ..layers import AdaptiveAvgPool2d, BatchNorm2d, Dropout, Flatten, Linear, SiLU
from ..network import Functional, Sequential
from ._builder import builder

__all__ = ["efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
           "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7",
           "efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"]

#: torchvision/models/efficientnet.py ``_efficientnet_conf("efficientnet_b*")``
#: (Tan & Le 2019, Table 1): expand_ratio, kernel, stride, input, output, layers.
_B0 = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2),
       (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4),
       (6, 3, 1, 192, 320, 1)]

#: ``_efficientnet_conf("efficientnet_v2_*")`` (Tan & Le 2021, Table 4; M and L from the
#: reference code): block ("fused" or "mb"), expand_ratio, kernel, stride, input, output,
#: layers. Not width- or depth-scaled; the head is 1280 wide.
_V2 = {
    "s": [("fused", 1, 3, 1, 24, 24, 2), ("fused", 4, 3, 2, 24, 48, 4),
          ("fused", 4, 3, 2, 48, 64, 4), ("mb", 4, 3, 2, 64, 128, 6),
          ("mb", 6, 3, 1, 128, 160, 9), ("mb", 6, 3, 2, 160, 256, 15)],
    "m": [("fused", 1, 3, 1, 24, 24, 3), ("fused", 4, 3, 2, 24, 48, 5),
          ("fused", 4, 3, 2, 48, 80, 5), ("mb", 4, 3, 2, 80, 160, 7),
          ("mb", 6, 3, 1, 160, 176, 14), ("mb", 6, 3, 2, 176, 304, 18),
          ("mb", 6, 3, 1, 304, 512, 5)],
    "l": [("fused", 1, 3, 1, 32, 32, 4), ("fused", 4, 3, 2, 32, 64, 7),
          ("fused", 4, 3, 2, 64, 96, 7), ("mb", 4, 3, 2, 96, 192, 10),
          ("mb", 6, 3, 1, 192, 224, 19), ("mb", 6, 3, 2, 224, 384, 25),
          ("mb", 6, 3, 1, 384, 640, 7)],
}

#: torchvision's B5-B7 norm (TF's BN defaults); V2 uses eps 1e-3 and PyTorch's momentum.
_TF_BN = partial(BatchNorm2d, eps=0.001, momentum=0.01)
_V2_BN = partial(BatchNorm2d, eps=1e-3)


def _efficientnet(setting: list[tuple], dropout: float, stochastic_depth_prob: float,
                  num_classes: int, norm: Any, last_channel: int | None) -> Sequential:
    """torchvision's ``EfficientNet``: stem Conv-BN-SiLU (stride 2), the stages, a 1x1
    Conv-BN-SiLU head (``4 * last stage width``, or `last_channel`), average pool, dropout and
    the classifier. Block ``k`` of ``n`` gets stochastic depth ``p * k / n``."""
    layers: list = [Conv2dNormActivation(3, setting[0][4], 3, 2, norm=norm, activation=SiLU)]
    total = sum(cfg[6] for cfg in setting)
    k = 0
    for block, t, kernel, stride, inp, out, n in setting:
        make = FusedMBConv if block == "fused" else MBConv
        stage = []
        for i in range(n):
            sd = stochastic_depth_prob * float(k) / total
            stage.append(make(t, kernel, stride if i == 0 else 1, inp if i == 0 else out, out,
                              sd, norm=norm))
            k += 1
        layers.append(Sequential(*stage))
    last_in = setting[-1][5]
    last_out = last_channel if last_channel is not None else 4 * last_in
    layers.append(Conv2dNormActivation(last_in, last_out, 1, norm=norm, activation=SiLU))
    return Sequential(OrderedDict(
        features=Sequential(*layers), avgpool=AdaptiveAvgPool2d(1),
        flatten=Functional(Flatten()),
        classifier=Sequential(Dropout(dropout, inplace=True), Linear(last_out, num_classes))))


def _v1_setting(width_mult: Any, depth_mult: float) -> list[tuple]:
    """``MBConvConfig`` scaling: channels ``_make_divisible(c * width_mult, 8)``, layers
    ``ceil(n * depth_mult)``."""
    adj = lambda c: make_divisible(c * width_mult, 8)  # noqa: E731
    return [("mb", t, k, s, adj(i), adj(o), int(math.ceil(n * depth_mult)))
            for t, k, s, i, o, n in _B0]


def _v1(width_mult: Any, depth_mult: float, dropout: float, stochastic_depth_prob: float,
        num_classes: int, norm_layer: Any, default_norm: Any) -> Sequential:
    norm = default_norm if norm_layer is None else norm_layer
    return _efficientnet(_v1_setting(width_mult, depth_mult), dropout, stochastic_depth_prob,
                         num_classes, norm, None)


_PATHS = ("Paths ``features.0.0`` (stem), ``features.S.B.block.M`` (stage S, block B), "
          "``features.S.B.stochastic_depth`` and ``.add`` in residual blocks, the head conv, "
          "``avgpool``, ``flatten``, ``classifier.1``.")


@builder
def efficientnet_b0(num_classes: int = 1000, width_mult: float = 1.0, depth_mult: float = 1.0,
                    dropout: float = 0.2, *, stochastic_depth_prob: float = 0.2,
                    norm_layer: Any = None) -> Sequential:
    """EfficientNet-B0, torchvision/models/efficientnet.py (Tan & Le 2019, Table 1), at
    torchvision's crop 224.

    Paths ``features.0.0`` (stem), ``features.S.B.block.M`` (stage S, block B),
    ``features.8.0`` (1x1 head conv to 1280), ``avgpool``, ``flatten``, ``classifier.1``.
    `width_mult` / `depth_mult` scale channels (``_make_divisible(c * w, 8)``) and layers
    (``ceil(n * d)``) as torchvision's ``MBConvConfig`` (torchvision's own ``efficientnet_b0``
    fixes both to 1); residual blocks have a ``stochastic_depth`` row (identity at inference,
    ``p = stochastic_depth_prob * k / 16`` for block ``k``).

    >>> from layercalc import analyze
    >>> analyze(efficientnet_b0(), (3, 224, 224)).total.params
    5288548
    """
    return _v1(width_mult, depth_mult, dropout, stochastic_depth_prob, num_classes,
               norm_layer, BatchNorm2d)


def _b(name: str, width: float, depth: float, drop: float, crop: int, default_norm: Any,
       example: str = ""):
    def fn(*, num_classes: int = 1000, dropout: float = drop,
           stochastic_depth_prob: float = 0.2, norm_layer: Any = None) -> Sequential:
        return _v1(width, depth, dropout, stochastic_depth_prob, num_classes, norm_layer,
                   default_norm)
    fn.__name__ = fn.__qualname__ = name
    tf = (" BN eps 0.001, momentum 0.01 (TensorFlow's defaults), as torchvision."
          if default_norm is _TF_BN else "")
    fn.__doc__ = (f"EfficientNet-{name[-2:].upper()}, torchvision/models/efficientnet.py (Tan & "
                  f"Le 2019, Sec. 4.2, compound scaling): B0 with width x{width} and depth "
                  f"x{depth}, dropout {drop}.{tf} torchvision's weights use crop {crop} "
                  f"(``zoo.WEIGHTS_INPUTS``). {_PATHS}\n{example}")
    return builder(fn)


efficientnet_b1 = _b("efficientnet_b1", 1.0, 1.1, 0.2, 240, BatchNorm2d, """
    >>> from layercalc import analyze
    >>> t = analyze(efficientnet_b1(), (3, 240, 240)).total  # torchvision: 0.687 GFLOPS
    >>> t.params, t.macs
    (7794184, 686802832)
    """)
efficientnet_b2 = _b("efficientnet_b2", 1.1, 1.2, 0.3, 288, BatchNorm2d)
efficientnet_b3 = _b("efficientnet_b3", 1.2, 1.4, 0.3, 300, BatchNorm2d)
efficientnet_b4 = _b("efficientnet_b4", 1.4, 1.8, 0.4, 380, BatchNorm2d)
efficientnet_b5 = _b("efficientnet_b5", 1.6, 2.2, 0.4, 456, _TF_BN)
efficientnet_b6 = _b("efficientnet_b6", 1.8, 2.6, 0.5, 528, _TF_BN)
efficientnet_b7 = _b("efficientnet_b7", 2.0, 3.1, 0.5, 600, _TF_BN)


def _v2(size: str, drop: float, crop: int, example: str = ""):
    name = f"efficientnet_v2_{size}"

    def fn(*, num_classes: int = 1000, dropout: float = drop,
           stochastic_depth_prob: float = 0.2, norm_layer: Any = None) -> Sequential:
        norm = _V2_BN if norm_layer is None else norm_layer
        return _efficientnet(_V2[size], dropout, stochastic_depth_prob, num_classes, norm, 1280)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"EfficientNetV2-{size.upper()}, torchvision/models/efficientnet.py (Tan & Le "
                  "2021, \"EfficientNetV2\", Table 4): `FusedMBConv` stages, then `MBConv` "
                  f"stages with SE, a 1280-wide head, BN eps 1e-3, dropout {drop}. "
                  f"torchvision's weights use crop {crop} (``zoo.WEIGHTS_INPUTS``). {_PATHS}\n"
                  f"{example}")
    return builder(fn)


efficientnet_v2_s = _v2("s", 0.2, 384, """
    >>> from layercalc import analyze
    >>> t = analyze(efficientnet_v2_s(), (3, 384, 384)).total  # torchvision: 8.366 GFLOPS
    >>> t.params, t.macs
    (21458488, 8365617152)
    """)
efficientnet_v2_m = _v2("m", 0.3, 480)
efficientnet_v2_l = _v2("l", 0.4, 480)
