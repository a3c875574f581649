"""GoogLeNet (Inception v1), as torchvision's ``googlenet`` (torchvision/models/googlenet.py;
Szegedy et al., "Going Deeper with Convolutions", 2015, https://arxiv.org/abs/1409.4842),
built with the graph API.

torchvision's layout, not the paper's: every conv is a ``BasicConv2d`` (bias-free conv,
BatchNorm, ReLU), and the "5x5" branch uses a 3x3 kernel (a known torchvision quirk kept for
its weights). Each ``inception*`` block is a nested `Graph` of ``branch1`` .. ``branch4`` and
``torch.cat``. The auxiliary classifiers ``aux1`` (after ``inception4a``) and ``aux2`` (after
``inception4d``) run only in training; with ``aux_logits=True`` they are side outputs
(parameters counted, work not). torchvision's published weights drop them
(``aux_logits=False`` after loading), which is the default here.

Not modelled: ``transform_input`` (on with torchvision's weights: one multiply and one add per
input element, no parameters and no MACs).
"""

from __future__ import annotations

from collections import OrderedDict

from ..graph import Graph, Input, cat
from ..layers import AdaptiveAvgPool2d, Dropout, Flatten, Linear, MaxPool2d, ReLU
from ..network import Functional, Sequential
from .inception import basic_conv2d

__all__ = ["googlenet"]


def _inception(shape: tuple, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int,
               pool_proj: int) -> Graph:
    """torchvision's ``Inception`` block (branch3's "5x5" is a 3x3, as torchvision)."""
    c = shape[0]
    x = Input(shape, name="x")
    b1 = basic_conv2d(c, ch1x1, kernel_size=1)(x, name="branch1")
    b2 = Sequential(basic_conv2d(c, ch3x3red, kernel_size=1),
                    basic_conv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))(x, name="branch2")
    b3 = Sequential(basic_conv2d(c, ch5x5red, kernel_size=1),
                    basic_conv2d(ch5x5red, ch5x5, kernel_size=3, padding=1))(x, name="branch3")
    b4 = Sequential(MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                    basic_conv2d(c, pool_proj, kernel_size=1))(x, name="branch4")
    return Graph(x, cat([b1, b2, b3, b4]), name="Inception")


def _aux(in_channels: int, num_classes: int, dropout: float) -> Sequential:
    """torchvision's ``InceptionAux``: ``F.adaptive_avg_pool2d(4)``, a 1x1 BasicConv2d,
    ``torch.flatten``, ``fc1``, ``F.relu``, dropout, ``fc2``."""
    return Sequential(OrderedDict(
        adaptive_avg_pool2d=Functional(AdaptiveAvgPool2d((4, 4))),
        conv=basic_conv2d(in_channels, 128, kernel_size=1),
        flatten=Functional(Flatten()),
        fc1=Linear(2048, 1024),
        relu=Functional(ReLU(inplace=True)),
        dropout=Dropout(dropout),
        fc2=Linear(1024, num_classes),
    ))


_BLOCKS = {
    "inception3a": (64, 96, 128, 16, 32, 32), "inception3b": (128, 128, 192, 32, 96, 64),
    "inception4a": (192, 96, 208, 16, 48, 64), "inception4b": (160, 112, 224, 24, 64, 64),
    "inception4c": (128, 128, 256, 24, 64, 64), "inception4d": (112, 144, 288, 32, 64, 64),
    "inception4e": (256, 160, 320, 32, 128, 128), "inception5a": (256, 160, 320, 32, 128, 128),
    "inception5b": (384, 192, 384, 48, 128, 128),
}


def googlenet(num_classes: int = 1000, aux_logits: bool = False, dropout: float = 0.2,
              dropout_aux: float = 0.7, input_shape: tuple = (3, 224, 224)) -> Graph:
    """GoogLeNet, torchvision's ``googlenet`` as its weights load it (``aux_logits=False``),
    as a `Graph` declared on `input_shape`. ``aux_logits=True`` adds ``aux1`` and ``aux2`` as
    side outputs (their parameters count, their work does not).

    torchvision 0.29.1 ``GoogLeNet_Weights.IMAGENET1K_V1``: ``num_params`` 6,624,904 and
    ``_ops`` 1.498 GFLOPS:

    >>> from layercalc import analyze
    >>> r = analyze(googlenet())
    >>> r.total.params, r.flops("torchvision"), r.output_shape
    (6624904, 1498376192, (1000,))
    >>> analyze(googlenet(aux_logits=True)).flops("torchvision")  # aux heads do not run
    1498376192
    """
    x = Input(input_shape, name="x")
    t = x
    for name, op in [
        ("conv1", basic_conv2d(3, 64, kernel_size=7, stride=2, padding=3)),
        ("maxpool1", MaxPool2d(3, stride=2, ceil_mode=True)),
        ("conv2", basic_conv2d(64, 64, kernel_size=1)),
        ("conv3", basic_conv2d(64, 192, kernel_size=3, padding=1)),
        ("maxpool2", MaxPool2d(3, stride=2, ceil_mode=True)),
    ]:
        t = op(t, name=name)
    side = {}
    for name, spec in _BLOCKS.items():
        t = _inception(t.shape, *spec)(t, name=name)
        if name == "inception3b":
            t = MaxPool2d(3, stride=2, ceil_mode=True)(t, name="maxpool3")
        if name == "inception4e":
            t = MaxPool2d(2, stride=2, ceil_mode=True)(t, name="maxpool4")
        if aux_logits and name == "inception4a":
            side["aux1"] = _aux(512, num_classes, dropout_aux)(t, name="aux1")
        if aux_logits and name == "inception4d":
            side["aux2"] = _aux(528, num_classes, dropout_aux)(t, name="aux2")
    t = AdaptiveAvgPool2d((1, 1))(t, name="avgpool")
    t = Flatten()(t, name="flatten", call="functional")  # torch.flatten(x, 1)
    t = Dropout(dropout)(t, name="dropout")
    t = Linear(1024, num_classes)(t, name="fc")
    return Graph(x, t, name="googlenet", side_outputs=side or None)
