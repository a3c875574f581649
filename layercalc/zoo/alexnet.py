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
    (``torch.flatten`` in ``forward``: a `Functional` row), ``classifier.0`` ...
    ``classifier.6``. Zhang Ge's 关于加速上的一些指标 prints its ptflops table:
    ``render_as(analyze(alexnet(), (3, 224, 224)), "ptflops-hooks", root="AlexNet")``.

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

    Source: 凌逆战, 神经网络模型的参数量和计算量 (its model definition and torchsummary
    printout, which ``render_as(analyze(seed_alexnet(), (3, 224, 224)), "torchsummary")``
    reproduces line by line). Flat children ``0`` ... ``20`` (the post nests them in
    ``feature_extraction`` and ``classifier``); the post reshapes with ``x.view``, a tensor
    method, so child ``13`` is a `Functional` flatten that hook-based tools do not see.
    Expects a 3x224x224 (or 227x227) input so that the last pool gives 256x6x6 = 9216
    features.

    >>> from layercalc import analyze
    >>> analyze(seed_alexnet(), (3, 224, 224)).total.params
    61264904
    """
    return Sequential(
        Conv2d(3, 96, 11, 4, 2, bias=False), ReLU(True), MaxPool2d(3, 2),
        Conv2d(96, 192, 5, 1, 2, bias=False), ReLU(True), MaxPool2d(3, 2),
        Conv2d(192, 384, 3, 1, 1, bias=False), ReLU(True),
        Conv2d(384, 256, 3, 1, 1, bias=False), ReLU(True),
        Conv2d(256, 256, 3, 1, 1, bias=False), ReLU(True), MaxPool2d(3, 2),
        Functional(Flatten()), Dropout(0.5), Linear(9216, 4096), ReLU(True),
        Dropout(0.5), Linear(4096, 4096), ReLU(True), Linear(4096, 1000),
    )
