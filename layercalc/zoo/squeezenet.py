"""SqueezeNet 1.0 and 1.1, as torchvision (squeezenet.py)."""

from __future__ import annotations

from collections import OrderedDict

from ..blocks import Fire
from ..errors import LayerSpecError
from ..layers import AdaptiveAvgPool2d, Conv2d, Dropout, Flatten, MaxPool2d, ReLU
from ..network import Functional, Sequential
from ._builder import builder

__all__ = ["squeezenet", "squeezenet1_0", "squeezenet1_1"]


def _pool() -> MaxPool2d:
    return MaxPool2d(3, 2, ceil_mode=True)


@builder
def squeezenet(version: str = "1_0", num_classes: int = 1000, dropout: float = 0.5) -> Sequential:
    """torchvision's ``SqueezeNet(version, num_classes, dropout)`` (Iandola et al. 2016,
    "SqueezeNet", Table 1; 1.1 is the SqueezeNet repository's v1.1: a 3x3/64 first conv and
    earlier pooling, 2.4x cheaper).

    ``features.0`` conv (7x7/2 to 96, or 3x3/2 to 64), ``features.1`` ReLU, max pools
    (3x3/2, ``ceil_mode=True``) and `layercalc.blocks.Fire` modules (``features.3.squeeze``,
    ``features.3.expand1x1`` ...), then ``classifier.0`` dropout, ``classifier.1`` the 1x1
    conv to the classes, ``classifier.2`` ReLU, ``classifier.3`` global average pool, and
    ``flatten``. All convs have biases and there is no BatchNorm.

    >>> from layercalc import analyze
    >>> t = analyze(squeezenet("1_1"), (3, 224, 224)).total   # torchvision: 0.349 GFLOPS
    >>> t.params, t.macs
    (1235496, 349151936)
    """
    if version == "1_0":
        features = [Conv2d(3, 96, 7, 2), ReLU(inplace=True), _pool(),
                    Fire(96, 16, 64, 64), Fire(128, 16, 64, 64), Fire(128, 32, 128, 128),
                    _pool(),
                    Fire(256, 32, 128, 128), Fire(256, 48, 192, 192), Fire(384, 48, 192, 192),
                    Fire(384, 64, 256, 256),
                    _pool(),
                    Fire(512, 64, 256, 256)]
    elif version == "1_1":
        features = [Conv2d(3, 64, 3, 2), ReLU(inplace=True), _pool(),
                    Fire(64, 16, 64, 64), Fire(128, 16, 64, 64),
                    _pool(),
                    Fire(128, 32, 128, 128), Fire(256, 32, 128, 128),
                    _pool(),
                    Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256),
                    Fire(512, 64, 256, 256)]
    else:
        raise LayerSpecError("squeezenet", f"version (={version!r}) must be '1_0' or '1_1'")
    return Sequential(OrderedDict(
        features=Sequential(*features),
        classifier=Sequential(Dropout(dropout), Conv2d(512, num_classes, 1), ReLU(inplace=True),
                              AdaptiveAvgPool2d((1, 1))),
        flatten=Functional(Flatten())))


@builder
def squeezenet1_0(*, num_classes: int = 1000, dropout: float = 0.5) -> Sequential:
    """SqueezeNet 1.0, torchvision/models/squeezenet.py (Iandola et al. 2016, Table 1); see
    `squeezenet`. torchvision's weights use crop 224."""
    return squeezenet("1_0", num_classes, dropout)


@builder
def squeezenet1_1(*, num_classes: int = 1000, dropout: float = 0.5) -> Sequential:
    """SqueezeNet 1.1, torchvision/models/squeezenet.py (the SqueezeNet repository's v1.1);
    see `squeezenet`. torchvision's weights use crop 224."""
    return squeezenet("1_1", num_classes, dropout)
