"""VGG 11/13/16/19, with and without batch norm, as torchvision."""

from __future__ import annotations

from collections import OrderedDict

from ..layers import (
    AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU,
)
from ..network import Functional, Sequential

__all__ = ["vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]

#: torchvision/models/vgg.py ``cfgs`` (Simonyan & Zisserman 2015, Table 1, configs A B D E).
CFGS: dict[str, list] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
          512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}


def _vgg(cfg: str, batch_norm: bool, num_classes: int, dropout: float) -> Sequential:
    layers: list = []
    c = 3
    for v in CFGS[cfg]:
        if v == "M":
            layers.append(MaxPool2d(2, 2))
            continue
        layers.append(Conv2d(c, v, 3, padding=1))
        if batch_norm:
            layers.append(BatchNorm2d(v))
        layers.append(ReLU(inplace=True))
        c = v
    classifier = Sequential(
        Linear(512 * 7 * 7, 4096), ReLU(True), Dropout(dropout),
        Linear(4096, 4096), ReLU(True), Dropout(dropout),
        Linear(4096, num_classes),
    )
    return Sequential(OrderedDict(features=Sequential(*layers),
                                  avgpool=AdaptiveAvgPool2d((7, 7)),
                                  flatten=Functional(Flatten()), classifier=classifier))


def vgg11(num_classes: int = 1000, dropout: float = 0.5) -> Sequential:
    """VGG-11 (config A), torchvision/models/vgg.py; paths ``features.N``, ``avgpool``,
    ``classifier.N``."""
    return _vgg("A", False, num_classes, dropout)


def vgg11_bn(num_classes: int = 1000, dropout: float = 0.5) -> Sequential:
    """VGG-11 (config A) with BatchNorm after every conv, torchvision/models/vgg.py."""
    return _vgg("A", True, num_classes, dropout)


def vgg13(num_classes: int = 1000, dropout: float = 0.5) -> Sequential:
    """VGG-13 (config B), torchvision/models/vgg.py."""
    return _vgg("B", False, num_classes, dropout)


def vgg13_bn(num_classes: int = 1000, dropout: float = 0.5) -> Sequential:
    """VGG-13 (config B) with BatchNorm, torchvision/models/vgg.py."""
    return _vgg("B", True, num_classes, dropout)


def vgg16(num_classes: int = 1000, dropout: float = 0.5) -> Sequential:
    """VGG-16 (config D), torchvision/models/vgg.py.

    >>> from layercalc import analyze
    >>> analyze(vgg16(), (3, 224, 224)).total.params
    138357544
    """
    return _vgg("D", False, num_classes, dropout)


def vgg16_bn(num_classes: int = 1000, dropout: float = 0.5) -> Sequential:
    """VGG-16 (config D) with BatchNorm, torchvision/models/vgg.py."""
    return _vgg("D", True, num_classes, dropout)


def vgg19(num_classes: int = 1000, dropout: float = 0.5) -> Sequential:
    """VGG-19 (config E), torchvision/models/vgg.py."""
    return _vgg("E", False, num_classes, dropout)


def vgg19_bn(num_classes: int = 1000, dropout: float = 0.5) -> Sequential:
    """VGG-19 (config E) with BatchNorm, torchvision/models/vgg.py."""
    return _vgg("E", True, num_classes, dropout)
