"""AlexNet: torchvision's layout and seed 001's variant."""

from __future__ import annotations

from collections import OrderedDict

from ..layers import AdaptiveAvgPool2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU
from ..network import Functional, Sequential

__all__ = ["alexnet", "seed_alexnet"]


def alexnet(num_classes: int = 1000, dropout: float = 0.5) -> Sequential:
    """torchvision's AlexNet (the "one weird trick" variant: 64-192-384-256-256 convs).

    Source: torchvision/models/alexnet.py (Krizhevsky 2014, arXiv:1404.5997). Paths
    ``features.0`` ... ``features.12``, ``avgpool`` (AdaptiveAvgPool2d((6, 6))), ``flatten``
    (``torch.flatten`` in ``forward``), ``classifier.0`` ... ``classifier.6``.

    >>> from layercalc import analyze
    >>> analyze(alexnet(), (3, 224, 224)).total.params  # torchvision num_params
    61100840
    """
    features = Sequential(
        Conv2d(3, 64, 11, 4, 2), ReLU(inplace=True), MaxPool2d(3, 2),
        Conv2d(64, 192, 5, padding=2), ReLU(inplace=True), MaxPool2d(3, 2),
        Conv2d(192, 384, 3, padding=1), ReLU(inplace=True),
        Conv2d(384, 256, 3, padding=1), ReLU(inplace=True),
        Conv2d(256, 256, 3, padding=1), ReLU(inplace=True), MaxPool2d(3, 2),
    )
    classifier = Sequential(
        Dropout(dropout), Linear(256 * 6 * 6, 4096), ReLU(inplace=True),
        Dropout(dropout), Linear(4096, 4096), ReLU(inplace=True),
        Linear(4096, num_classes),
    )
    return Sequential(OrderedDict(features=features, avgpool=AdaptiveAvgPool2d((6, 6)),
                                  flatten=Functional(Flatten()), classifier=classifier))


def seed_alexnet() -> Sequential:
    """Seed 001's AlexNet: 96-192-384-256-256 convs without biases, no adaptive pool, and
    no dropout before the last Linear; 61,264,904 parameters by torchsummary.

    Source: the project's seed 001 (its model definition and torchsummary printout). Flat
    children ``0`` ... ``20``; expects a 3x224x224 (or 227x227) input so that the last pool
    gives 256x6x6 = 9216 features.

    >>> from layercalc import analyze
    >>> analyze(seed_alexnet(), (3, 224, 224)).total.params
    61264904
    """
    return Sequential(
        Conv2d(3, 96, 11, 4, 2, bias=False), ReLU(), MaxPool2d(3, 2),
        Conv2d(96, 192, 5, 1, 2, bias=False), ReLU(), MaxPool2d(3, 2),
        Conv2d(192, 384, 3, 1, 1, bias=False), ReLU(),
        Conv2d(384, 256, 3, 1, 1, bias=False), ReLU(),
        Conv2d(256, 256, 3, 1, 1, bias=False), ReLU(), MaxPool2d(3, 2),
        Functional(Flatten()), Dropout(0.5), Linear(9216, 4096), ReLU(),
        Dropout(0.5), Linear(4096, 4096), ReLU(), Linear(4096, 1000),
    )
