"""MobileNet v1 (the paper; Keras), v2 (torchvision; TF-slim) and v3 (torchvision)."""

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
from ..errors import LayerSpecError
from ..layers import (
    AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Hardsigmoid, Hardswish, Linear,
    ReLU, ReLU6, Softmax, ZeroPad2d,
)
from ..network import Functional, Residual, Sequential

__all__ = ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"]

#: Howard et al. 2017, Table 1: (stride, output channels) of the 13 separable layers. The
#: table's last "Conv dw / s2" at 7x7 is a misprint (the output stays 7x7); every release
#: (TF-slim mobilenet_v1.py ``MOBILENETV1_CONV_DEFS``) uses stride 1 there.
_V1_SEPARABLE = [(1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512),
                 (1, 512), (1, 512), (1, 512), (1, 512), (1, 512), (2, 1024), (1, 1024)]


def mobilenet_v1(width_mult: float = 1.0, num_classes: int = 1000, *,
                 norm: bool = True, variant: str = "paper") -> Sequential:
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

    ``variant="keras"`` is ``keras.applications.MobileNet`` (Keras 3.15): see
    `_mobilenet_v1_keras`.
    """
    if variant == "keras":
        return _mobilenet_v1_keras(width_mult, num_classes)
    if variant != "paper":
        raise LayerSpecError("mobilenet_v1", f"variant (={variant!r}) must be 'paper' or "
                             "'keras'")
    c = scale_channels(32, width_mult)
    bn = BatchNorm2d if norm else None
    layers: list = [Conv2dNormActivation(3, c, 3, 2, norm=bn, activation=ReLU, bias=False)]
    for s, out in _V1_SEPARABLE:
        o = scale_channels(out, width_mult)
        layers.append(DepthwiseSeparableConv2d(c, o, 3, s, norm=norm, activation=ReLU))
        c = o
    return Sequential(OrderedDict(features=Sequential(*layers), avgpool=AdaptiveAvgPool2d(1),
                                  flatten=Functional(Flatten()),
                                  classifier=Linear(c, num_classes)))


def _keras_bn(c: int) -> BatchNorm2d:
    return BatchNorm2d(c, eps=1e-3, momentum=0.01)  # Keras: epsilon 1e-3, momentum 0.99


def _mobilenet_v1_keras(alpha: float, num_classes: int) -> Sequential:
    """``keras.applications.MobileNet(alpha=alpha)`` (Keras 3.15.1,
    keras/src/applications/mobilenet.py), with Keras's layer names as flat paths.

    ``conv1`` is a 3x3 stride-2 ``Conv2D(padding="same")`` (TensorFlow's rule,
    ``padding_rule="tf"``: ``ceil(n/2)``); every other stride-2 layer is Keras's
    ``ZeroPadding2D(((0, 1), (0, 1)))`` (``conv_pad_N``, `ZeroPad2d` ``(0, 1, 0, 1)``) before
    a ``'valid'`` depthwise conv, which gives ``floor(n/2)``: 126 -> 63 -> 31 -> 15 -> 7, where
    PyTorch's symmetric padding and TensorFlow's ``'same'`` give 63 -> 32 -> 16 -> 8. Convs
    have no bias; ``conv_*_bn`` are BatchNormalization (epsilon 1e-3), ``*_relu`` ReLU(6.0).
    Head (``include_top=True``): ``global_average_pooling2d`` (keepdims), ``dropout`` (1e-3),
    ``conv_preds`` (1x1 conv with bias), ``reshape_2``, ``predictions`` (softmax).

    BY J's case study (深度学习模型性能影响分析) cuts it at ``conv_pw_11`` ("23 layers": the
    conv1 and 11 depthwise and 11 pointwise convs) on 126x224 frames: 254,761,472 MACs.

    >>> from layercalc import analyze
    >>> r = analyze(mobilenet_v1(variant="keras"), (3, 126, 224), up_to="conv_pw_11_relu")
    >>> r.total.macs, r.output_shape
    (254761472, (512, 7, 14))
    """
    named: list = []
    c = scale_channels(32, alpha)
    named += [("conv1", Conv2d(3, c, 3, 2, padding="same", bias=False, padding_rule="tf")),
              ("conv1_bn", _keras_bn(c)), ("conv1_relu", ReLU6())]
    for i, (s, out) in enumerate(_V1_SEPARABLE, start=1):
        o = scale_channels(out, alpha)
        if s == 1:
            named.append((f"conv_dw_{i}", Conv2d(c, c, 3, 1, padding="same", groups=c,
                                                 bias=False, padding_rule="tf")))
        else:
            named += [(f"conv_pad_{i}", ZeroPad2d((0, 1, 0, 1))),
                      (f"conv_dw_{i}", Conv2d(c, c, 3, s, groups=c, bias=False))]
        named += [(f"conv_dw_{i}_bn", _keras_bn(c)), (f"conv_dw_{i}_relu", ReLU6()),
                  (f"conv_pw_{i}", Conv2d(c, o, 1, bias=False)),
                  (f"conv_pw_{i}_bn", _keras_bn(o)), (f"conv_pw_{i}_relu", ReLU6())]
        c = o
    named += [("global_average_pooling2d", AdaptiveAvgPool2d(1)), ("dropout", Dropout(1e-3)),
              ("conv_preds", Conv2d(c, num_classes, 1)), ("reshape_2", Flatten()),
              ("predictions", Softmax(dim=1))]
    return Sequential(named)


#: torchvision/models/mobilenetv2.py ``inverted_residual_setting``: t, c, n, s.
_V2_SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1],
               [6, 160, 3, 2], [6, 320, 1, 1]]


def mobilenet_v2(num_classes: int = 1000, width_mult: float = 1.0,
                 round_nearest: int = 8, dropout: float = 0.2, *,
                 variant: str = "torchvision", strided_padding: str = "same") -> Sequential:
    """MobileNetV2, torchvision/models/mobilenetv2.py (Sandler et al. 2018, Table 2).

    Channels ``_make_divisible(c * width_mult, 8)``; last conv
    ``_make_divisible(1280 * max(1, width_mult), 8)``. Paths ``features.0.0`` ...
    ``features.18.0``, ``avgpool`` (``adaptive_avg_pool2d`` in ``forward``), ``flatten``,
    ``classifier.0`` (Dropout), ``classifier.1`` (Linear).

    >>> from layercalc import analyze
    >>> analyze(mobilenet_v2(), (3, 224, 224)).total.params
    3504872

    ``variant="tf"`` is the TensorFlow layout with TF-slim's scope names (see `_mobilenet_v2_tf`;
    `strided_padding` applies to it only).
    """
    if variant == "tf":
        return _mobilenet_v2_tf(num_classes, width_mult, round_nearest, dropout,
                                strided_padding)
    if variant != "torchvision":
        raise LayerSpecError("mobilenet_v2", f"variant (={variant!r}) must be 'torchvision' "
                             "or 'tf'")
    if strided_padding != "same":
        raise LayerSpecError("mobilenet_v2", "strided_padding applies to variant='tf' only")
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
        features=Sequential(*layers), avgpool=Functional(AdaptiveAvgPool2d((1, 1))),
        flatten=Functional(Flatten()),
        classifier=Sequential(Dropout(dropout), Linear(last, num_classes))))


_STRIDED_PADDINGS = ("same", "pad-end")


def _tf_conv(cin: int, cout: int, k: int, s: int, groups: int, strided_padding: str,
             op: str) -> list:
    """A TF-slim conv scope's first op(s): ``padding="SAME"`` (TensorFlow's rule), or for a
    stride-2 conv under ``"pad-end"`` a ``Pad`` of one row and column at the end and a
    ``'valid'`` conv (``floor(n/2)``)."""
    if s > 1 and strided_padding == "pad-end":
        return [("Pad", ZeroPad2d((0, 1, 0, 1))),
                (op, Conv2d(cin, cout, k, s, groups=groups, bias=False))]
    return [(op, Conv2d(cin, cout, k, s, padding="same", groups=groups, bias=False,
                        padding_rule="tf"))]


def _tf_scope(cin: int, cout: int, k: int, s: int, groups: int, strided_padding: str,
              op: str = "Conv2D", act: bool = True) -> Sequential:
    layers = _tf_conv(cin, cout, k, s, groups, strided_padding, op)
    layers.append(("BatchNorm", _keras_bn(cout)))
    if act:
        layers.append(("Relu6", ReLU6()))
    return Sequential(layers)


def _mobilenet_v2_tf(num_classes: int, width_mult: float, round_nearest: int, dropout: float,
                     strided_padding: str) -> Sequential:
    """MobileNetV2 as TensorFlow builds it: TF-slim's ``mobilenet_v2.py`` scope names and
    ``padding="SAME"`` everywhere (``padding_rule="tf"``), which is also what
    ``keras.applications.MobileNetV2`` computes (its ``correct_pad`` + ``'valid'`` equals
    ``'same'`` for a 3x3 stride-2 conv). Channels as torchvision (``_make_divisible``).

    Paths: ``Conv.Conv2D``/``.BatchNorm``/``.Relu6``; ``expanded_conv`` (no expansion) with
    ``depthwise.depthwise`` ... and ``project.Conv2D``/``.BatchNorm``; ``expanded_conv_1`` ...
    ``expanded_conv_16`` each with ``expand``, ``depthwise``, ``project`` (and ``add`` when
    residual); ``Conv_1``; ``Logits.AvgPool``, ``Logits.Dropout``, ``Logits.Conv2d_1c_1x1``,
    ``Logits.Squeeze``. Keras names the same layers ``Conv1``, ``expanded_conv_depthwise``,
    ``block_N_expand``/``_depthwise``/``_project``/``_add``, ``Conv_1``. BatchNorm epsilon
    1e-3 (four values per channel, as Keras counts them: gamma, beta, mean, variance).

    ``strided_padding="pad-end"`` instead pads each stride-2 conv by one row and column at
    the end (a ``Pad`` then ``'valid'``, as Keras's MobileNet *V1* does), giving ``floor(n/2)``:
    on 126x224 frames 63 -> 31 -> 15 -> 7 instead of 63 -> 32 -> 16 -> 8. No released V2 pads
    this way; it is the rule under which BY J's case study (深度学习模型性能影响分析) gets its
    V2 MACs, 111,053,376 (1.0) and 214,212,096 (1.4) when cut at ``expanded_conv_12``.

    >>> from layercalc import analyze
    >>> [analyze(mobilenet_v2(variant="tf", strided_padding=p), (3, 126, 224),
    ...          up_to="expanded_conv_12").total.macs for p in ("same", "pad-end")]
    [119562240, 111053376]
    """
    if strided_padding not in _STRIDED_PADDINGS:
        raise LayerSpecError("mobilenet_v2", f"strided_padding (={strided_padding!r}) must "
                             "be 'same' or 'pad-end'")
    sp_ = strided_padding
    c = make_divisible(32 * width_mult, round_nearest)
    last = make_divisible(1280 * smax(1, width_mult), round_nearest)
    named: list = [("Conv", _tf_scope(3, c, 3, 2, 1, sp_))]
    block = 0
    for t, ch, n, s in _V2_SETTING:
        out = make_divisible(ch * width_mult, round_nearest)
        for i in range(n):
            stride = s if i == 0 else 1
            e = c * t
            parts: list = []
            if t != 1:
                parts.append(("expand", _tf_scope(c, e, 1, 1, 1, sp_)))
            parts.append(("depthwise", _tf_scope(e, e, 3, stride, e, sp_, op="depthwise")))
            parts.append(("project", _tf_scope(e, out, 1, 1, 1, sp_, act=False)))
            body = Sequential(parts)
            name = "expanded_conv" if block == 0 else f"expanded_conv_{block}"
            named.append((name, Residual(body) if stride == 1 and c == out else body))
            c = out
            block += 1
    named.append(("Conv_1", _tf_scope(c, last, 1, 1, 1, sp_)))
    named.append(("Logits", Sequential(OrderedDict(
        AvgPool=AdaptiveAvgPool2d(1), Dropout=Dropout(dropout),
        Conv2d_1c_1x1=Conv2d(last, num_classes, 1), Squeeze=Functional(Flatten())))))
    return Sequential(named)


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
        features=Sequential(*layers), avgpool=AdaptiveAvgPool2d(1), flatten=Functional(Flatten()),
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
