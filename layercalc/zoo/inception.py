"""Inception v3, as torchvision's ``inception_v3`` (torchvision/models/inception.py; Szegedy et
al., "Rethinking the Inception Architecture for Computer Vision", 2016,
https://arxiv.org/abs/1512.00567), built with the graph API.

The network is a `Graph`; each ``Mixed_*`` block is a nested `Graph` of its branches (the
branch modules in torchvision's names, ``F.avg_pool2d`` / ``F.max_pool2d`` as functional pool
rows, ``torch.cat`` as ``cat``), so paths read like ``Mixed_6b.branch7x7_2.conv``. The
auxiliary classifier ``AuxLogits`` reads ``Mixed_6e``'s output and runs only in training
(torchvision: ``if self.training: aux = self.AuxLogits(x)``): it is a *side output*, so its
parameters count (torchvision's published ``num_params`` includes them) and its work does not
(nor does the published ``_ops``).

Not modelled: ``transform_input`` (torchvision's weights turn it on: each input channel is
re-normalised with one multiply and one add per element before the stem; no parameters and
no MACs, so neither figure above depends on it).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ..graph import Graph, Input, Tensor, cat
from ..layers import (
    AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU,
)
from ..network import Functional, Sequential

__all__ = ["inception_v3", "basic_conv2d"]


def basic_conv2d(in_channels: int, out_channels: int, **kwargs: Any) -> Sequential:
    """torchvision's ``BasicConv2d`` (Inception v3 and GoogLeNet): a bias-free conv, a
    BatchNorm with ``eps=0.001`` and ``F.relu`` (a functional row named ``relu``)."""
    return Sequential(OrderedDict(
        conv=Conv2d(in_channels, out_channels, bias=False, **kwargs),
        bn=BatchNorm2d(out_channels, eps=0.001),
        relu=Functional(ReLU(inplace=True)),
    ))


def _avg3(x: Tensor) -> Tensor:
    return Functional(AvgPool2d(3, stride=1, padding=1))(x, name="avg_pool2d")


def _max3(x: Tensor) -> Tensor:
    return Functional(MaxPool2d(3, stride=2))(x, name="max_pool2d")


def _block(shape: tuple, name: str, body: Any) -> Graph:
    x = Input(shape, name="x")
    return Graph(x, cat(body(x), dim=0), name=name)


def _inception_a(shape: tuple, pool_features: int) -> Graph:
    c = shape[0]

    def body(x: Tensor) -> list[Tensor]:
        b1 = basic_conv2d(c, 64, kernel_size=1)(x, name="branch1x1")
        b5 = basic_conv2d(c, 48, kernel_size=1)(x, name="branch5x5_1")
        b5 = basic_conv2d(48, 64, kernel_size=5, padding=2)(b5, name="branch5x5_2")
        b3 = basic_conv2d(c, 64, kernel_size=1)(x, name="branch3x3dbl_1")
        b3 = basic_conv2d(64, 96, kernel_size=3, padding=1)(b3, name="branch3x3dbl_2")
        b3 = basic_conv2d(96, 96, kernel_size=3, padding=1)(b3, name="branch3x3dbl_3")
        bp = basic_conv2d(c, pool_features, kernel_size=1)(_avg3(x), name="branch_pool")
        return [b1, b5, b3, bp]

    return _block(shape, "InceptionA", body)


def _inception_b(shape: tuple) -> Graph:
    c = shape[0]

    def body(x: Tensor) -> list[Tensor]:
        b3 = basic_conv2d(c, 384, kernel_size=3, stride=2)(x, name="branch3x3")
        bd = basic_conv2d(c, 64, kernel_size=1)(x, name="branch3x3dbl_1")
        bd = basic_conv2d(64, 96, kernel_size=3, padding=1)(bd, name="branch3x3dbl_2")
        bd = basic_conv2d(96, 96, kernel_size=3, stride=2)(bd, name="branch3x3dbl_3")
        return [b3, bd, _max3(x)]

    return _block(shape, "InceptionB", body)


def _inception_c(shape: tuple, c7: int) -> Graph:
    c = shape[0]
    h, v = dict(kernel_size=(1, 7), padding=(0, 3)), dict(kernel_size=(7, 1), padding=(3, 0))

    def body(x: Tensor) -> list[Tensor]:
        b1 = basic_conv2d(c, 192, kernel_size=1)(x, name="branch1x1")
        b7 = basic_conv2d(c, c7, kernel_size=1)(x, name="branch7x7_1")
        b7 = basic_conv2d(c7, c7, **h)(b7, name="branch7x7_2")
        b7 = basic_conv2d(c7, 192, **v)(b7, name="branch7x7_3")
        bd = basic_conv2d(c, c7, kernel_size=1)(x, name="branch7x7dbl_1")
        bd = basic_conv2d(c7, c7, **v)(bd, name="branch7x7dbl_2")
        bd = basic_conv2d(c7, c7, **h)(bd, name="branch7x7dbl_3")
        bd = basic_conv2d(c7, c7, **v)(bd, name="branch7x7dbl_4")
        bd = basic_conv2d(c7, 192, **h)(bd, name="branch7x7dbl_5")
        bp = basic_conv2d(c, 192, kernel_size=1)(_avg3(x), name="branch_pool")
        return [b1, b7, bd, bp]

    return _block(shape, "InceptionC", body)


def _inception_d(shape: tuple) -> Graph:
    c = shape[0]

    def body(x: Tensor) -> list[Tensor]:
        b3 = basic_conv2d(c, 192, kernel_size=1)(x, name="branch3x3_1")
        b3 = basic_conv2d(192, 320, kernel_size=3, stride=2)(b3, name="branch3x3_2")
        b7 = basic_conv2d(c, 192, kernel_size=1)(x, name="branch7x7x3_1")
        b7 = basic_conv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))(b7, name="branch7x7x3_2")
        b7 = basic_conv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))(b7, name="branch7x7x3_3")
        b7 = basic_conv2d(192, 192, kernel_size=3, stride=2)(b7, name="branch7x7x3_4")
        return [b3, b7, _max3(x)]

    return _block(shape, "InceptionD", body)


def _inception_e(shape: tuple) -> Graph:
    c = shape[0]
    h, v = dict(kernel_size=(1, 3), padding=(0, 1)), dict(kernel_size=(3, 1), padding=(1, 0))

    def body(x: Tensor) -> list[Tensor]:
        b1 = basic_conv2d(c, 320, kernel_size=1)(x, name="branch1x1")
        b3 = basic_conv2d(c, 384, kernel_size=1)(x, name="branch3x3_1")
        b3 = cat([basic_conv2d(384, 384, **h)(b3, name="branch3x3_2a"),
                  basic_conv2d(384, 384, **v)(b3, name="branch3x3_2b")], name="cat_3x3")
        bd = basic_conv2d(c, 448, kernel_size=1)(x, name="branch3x3dbl_1")
        bd = basic_conv2d(448, 384, kernel_size=3, padding=1)(bd, name="branch3x3dbl_2")
        bd = cat([basic_conv2d(384, 384, **h)(bd, name="branch3x3dbl_3a"),
                  basic_conv2d(384, 384, **v)(bd, name="branch3x3dbl_3b")], name="cat_3x3dbl")
        bp = basic_conv2d(c, 192, kernel_size=1)(_avg3(x), name="branch_pool")
        return [b1, b3, bd, bp]

    return _block(shape, "InceptionE", body)


def _inception_aux(in_channels: int, num_classes: int) -> Sequential:
    """torchvision's ``InceptionAux``: ``F.avg_pool2d(5, stride=3)``, two BasicConv2d,
    ``F.adaptive_avg_pool2d(1)``, ``torch.flatten``, ``fc``."""
    return Sequential(OrderedDict(
        avg_pool2d=Functional(AvgPool2d(5, stride=3)),
        conv0=basic_conv2d(in_channels, 128, kernel_size=1),
        conv1=basic_conv2d(128, 768, kernel_size=5),
        adaptive_avg_pool2d=Functional(AdaptiveAvgPool2d((1, 1))),
        flatten=Functional(Flatten()),
        fc=Linear(768, num_classes),
    ))


def inception_v3(num_classes: int = 1000, aux_logits: bool = True, dropout: float = 0.5,
                 input_shape: tuple = (3, 299, 299)) -> Graph:
    """Inception v3, torchvision's ``inception_v3`` (``Inception3``), as a `Graph` declared on
    `input_shape` (its weights' crop, 299x299; analyze it at any other size). With
    `aux_logits` (torchvision's default, and what its weights load) ``AuxLogits`` is a side
    output: its 3,326,696 parameters count, its work does not (it runs in training only).

    torchvision 0.29.1 ``Inception_V3_Weights.IMAGENET1K_V1``: ``num_params`` 27,161,264 and
    ``_ops`` 5.713 GFLOPS (multiply-accumulates of convolutions and linear layers):

    >>> from layercalc import analyze
    >>> r = analyze(inception_v3())
    >>> r.total.params, r.flops("torchvision"), r.output_shape
    (27161264, 5713216096, (1000,))
    >>> sum(row.cost.params for row in r.rows if row.side)
    3326696
    """
    x = Input(input_shape, name="x")
    t = x
    stem = [
        ("Conv2d_1a_3x3", basic_conv2d(3, 32, kernel_size=3, stride=2)),
        ("Conv2d_2a_3x3", basic_conv2d(32, 32, kernel_size=3)),
        ("Conv2d_2b_3x3", basic_conv2d(32, 64, kernel_size=3, padding=1)),
        ("maxpool1", MaxPool2d(3, stride=2)),
        ("Conv2d_3b_1x1", basic_conv2d(64, 80, kernel_size=1)),
        ("Conv2d_4a_3x3", basic_conv2d(80, 192, kernel_size=3)),
        ("maxpool2", MaxPool2d(3, stride=2)),
    ]
    for name, op in stem:
        t = op(t, name=name)
    blocks = [
        ("Mixed_5b", lambda s: _inception_a(s, 32)),
        ("Mixed_5c", lambda s: _inception_a(s, 64)),
        ("Mixed_5d", lambda s: _inception_a(s, 64)),
        ("Mixed_6a", _inception_b),
        ("Mixed_6b", lambda s: _inception_c(s, 128)),
        ("Mixed_6c", lambda s: _inception_c(s, 160)),
        ("Mixed_6d", lambda s: _inception_c(s, 160)),
        ("Mixed_6e", lambda s: _inception_c(s, 192)),
    ]
    for name, make in blocks:
        t = make(t.shape)(t, name=name)
    side = {}
    if aux_logits:
        side["AuxLogits"] = _inception_aux(768, num_classes)(t, name="AuxLogits")
    for name, make in (("Mixed_7a", _inception_d), ("Mixed_7b", _inception_e),
                       ("Mixed_7c", _inception_e)):
        t = make(t.shape)(t, name=name)
    t = AdaptiveAvgPool2d((1, 1))(t, name="avgpool")
    t = Dropout(dropout)(t, name="dropout")
    t = Flatten()(t, name="flatten", call="functional")  # torch.flatten(x, 1)
    t = Linear(2048, num_classes)(t, name="fc")
    return Graph(x, t, name="inception_v3", side_outputs=side or None)
