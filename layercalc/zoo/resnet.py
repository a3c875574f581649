"""ResNet 18/34/50/101/152, as torchvision, in variant v1.5 (torchvision) or v1 (the paper)."""

from __future__ import annotations

from collections import OrderedDict

from ..blocks import BasicBlock, Bottleneck
from ..errors import LayerSpecError
from ..layers import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU
from ..network import Functional, Sequential

__all__ = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]

_VARIANTS = {"v1.5": "3x3", "v1": "1x1"}


def _resnet(block: str, layers: list[int], num_classes: int, variant: str) -> Sequential:
    if variant not in _VARIANTS:
        raise LayerSpecError("resnet", f"variant (={variant!r}) must be 'v1.5' or 'v1'")
    expansion = 1 if block == "basic" else 4
    inplanes = 64
    stages = []
    for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
        blocks = []
        for j in range(n):
            stride = 2 if (i > 0 and j == 0) else 1
            if block == "basic":
                blocks.append(BasicBlock(inplanes, planes, stride))
            else:
                blocks.append(Bottleneck(inplanes, planes, stride,
                                         stride_on=_VARIANTS[variant]))
            inplanes = planes * expansion
        stages.append(Sequential(*blocks))
    return Sequential(OrderedDict([
        ("conv1", Conv2d(3, 64, 7, 2, 3, bias=False)),
        ("bn1", BatchNorm2d(64)),
        ("relu", ReLU(inplace=True)),
        ("maxpool", MaxPool2d(3, 2, 1)),
        ("layer1", stages[0]), ("layer2", stages[1]),
        ("layer3", stages[2]), ("layer4", stages[3]),
        ("avgpool", AdaptiveAvgPool2d((1, 1))),
        ("flatten", Functional(Flatten())),
        ("fc", Linear(512 * expansion, num_classes)),
    ]))


def resnet18(num_classes: int = 1000, variant: str = "v1.5") -> Sequential:
    """ResNet-18, torchvision/models/resnet.py (He et al. 2016, Table 1). BasicBlock has no
    stride choice, so both variants are the same network.

    >>> from layercalc import analyze
    >>> t = analyze(resnet18(), (3, 224, 224)).total
    >>> t.params, t.macs
    (11689512, 1814073344)
    """
    return _resnet("basic", [2, 2, 2, 2], num_classes, variant)


def resnet34(num_classes: int = 1000, variant: str = "v1.5") -> Sequential:
    """ResNet-34, torchvision/models/resnet.py (He et al. 2016, Table 1)."""
    return _resnet("basic", [3, 4, 6, 3], num_classes, variant)


def resnet50(num_classes: int = 1000, variant: str = "v1.5") -> Sequential:
    """ResNet-50, torchvision/models/resnet.py. ``variant="v1.5"`` (torchvision) strides the
    bottleneck's 3x3; ``"v1"`` strides its first 1x1 (He et al. 2016, Table 1)."""
    return _resnet("bottleneck", [3, 4, 6, 3], num_classes, variant)


def resnet101(num_classes: int = 1000, variant: str = "v1.5") -> Sequential:
    """ResNet-101, torchvision/models/resnet.py; variants as `resnet50`."""
    return _resnet("bottleneck", [3, 4, 23, 3], num_classes, variant)


def resnet152(num_classes: int = 1000, variant: str = "v1.5") -> Sequential:
    """ResNet-152, torchvision/models/resnet.py; variants as `resnet50`."""
    return _resnet("bottleneck", [3, 8, 36, 3], num_classes, variant)
