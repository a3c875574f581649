"""ResNet 18/34/50/101/152, wide ResNet and ResNeXt, as torchvision, in variant v1.5
(torchvision) or v1 (the paper); `resnet` is torchvision's ``ResNet(block, layers, ...)``."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ..blocks import BasicBlock, Bottleneck
from ..errors import LayerSpecError
from ..layers import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU
from ..network import Functional, Sequential
from ._builder import builder, overwrite_named_param

__all__ = ["resnet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
           "wide_resnet50_2", "wide_resnet101_2", "resnext50_32x4d", "resnext101_32x8d",
           "resnext101_64x4d"]

_VARIANTS = {"v1.5": "3x3", "v1": "1x1"}
_BLOCKS = {"basic": "basic", "bottleneck": "bottleneck", BasicBlock: "basic",
           Bottleneck: "bottleneck"}


@builder
def resnet(block: Any, layers: list[int], *, num_classes: int = 1000,
           zero_init_residual: bool = False, groups: int = 1, width_per_group: int = 64,
           replace_stride_with_dilation: list[bool] | None = None, norm_layer: Any = None,
           variant: str = "v1.5") -> Sequential:
    """torchvision's ``ResNet(block, layers, num_classes, zero_init_residual, groups,
    width_per_group, replace_stride_with_dilation, norm_layer)`` (torchvision/models/
    resnet.py; He et al. 2016, Table 1).

    `block` is ``"basic"`` or ``"bottleneck"`` (or `layercalc.blocks.BasicBlock` /
    `~layercalc.blocks.Bottleneck`); `layers` the blocks per stage. ``groups`` and
    ``width_per_group`` give ResNeXt (Xie et al. 2017, "Aggregated Residual Transformations",
    Table 1: ``32x4d`` is ``groups=32, width_per_group=4``) and wide ResNet (Zagoruyko &
    Komodakis 2016; torchvision doubles only the bottleneck's inner width,
    ``width_per_group=128``): the bottleneck is ``int(planes * width_per_group / 64) *
    groups`` wide. ``replace_stride_with_dilation`` (three flags, for ``layer2..4``) trades a
    stage's stride for dilation, as torchvision's segmentation backbones do.
    ``zero_init_residual`` changes only the initial values, so no count. ``variant="v1"`` puts
    the bottleneck's stride on its first 1x1 (the paper) instead of the 3x3 (v1.5).
    Paths ``conv1``, ``layer1.0.conv1`` ... ``layer4.2.bn3``, ``avgpool``, ``flatten``, ``fc``.

    >>> from layercalc import analyze
    >>> t = analyze(resnet("bottleneck", [3, 4, 6, 3], groups=32, width_per_group=4),
    ...             (3, 224, 224)).total                        # = resnext50_32x4d()
    >>> t.params, t.macs
    (25028904, 4230479872)
    """
    if variant not in _VARIANTS:
        raise LayerSpecError("resnet", f"variant (={variant!r}) must be 'v1.5' or 'v1'")
    kind = _BLOCKS.get(block) if isinstance(block, str) or callable(block) else None
    if kind is None:
        raise LayerSpecError("resnet", f"block (={block!r}) must be 'basic', 'bottleneck', "
                             "layercalc.blocks.BasicBlock or layercalc.blocks.Bottleneck")
    if len(layers) != 4 or not all(isinstance(n, int) and n >= 1 for n in layers):
        raise LayerSpecError("resnet", f"layers (={list(layers)!r}) must be 4 positive "
                             "integers, the blocks of layer1..layer4")
    if replace_stride_with_dilation is None:
        replace_stride_with_dilation = [False, False, False]
    if len(replace_stride_with_dilation) != 3:
        raise LayerSpecError("resnet", "replace_stride_with_dilation (="
                             f"{replace_stride_with_dilation!r}) must be None or 3 booleans")
    if kind == "basic" and (groups != 1 or width_per_group != 64):
        raise LayerSpecError("resnet", f"groups (={groups}) and width_per_group "
                             f"(={width_per_group}) must be 1 and 64 for BasicBlock",
                             "Use block='bottleneck' for ResNeXt and wide ResNet.")
    if kind == "basic" and any(replace_stride_with_dilation):
        raise LayerSpecError("resnet", "replace_stride_with_dilation (="
                             f"{replace_stride_with_dilation!r}) needs the bottleneck block: "
                             "BasicBlock has no dilation (torchvision raises too)")
    norm = BatchNorm2d if norm_layer is None else norm_layer
    expansion = 1 if kind == "basic" else 4
    inplanes, dilation = 64, 1
    stages = []
    for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
        stride = 1 if i == 0 else 2
        previous_dilation = dilation
        if i > 0 and replace_stride_with_dilation[i - 1]:
            dilation *= stride
            stride = 1
        blocks = []
        for j in range(n):
            s, d = (stride, previous_dilation) if j == 0 else (1, dilation)
            if kind == "basic":
                blocks.append(BasicBlock(inplanes, planes, s, norm=norm))
            else:
                blocks.append(Bottleneck(inplanes, planes, s, None, groups, width_per_group, d,
                                         stride_on=_VARIANTS[variant], norm=norm))
            inplanes = planes * expansion
        stages.append(Sequential(*blocks))
    return Sequential(OrderedDict([
        ("conv1", Conv2d(3, 64, 7, 2, 3, bias=False)),
        ("bn1", norm(64)),
        ("relu", ReLU(inplace=True)),
        ("maxpool", MaxPool2d(3, 2, 1)),
        ("layer1", stages[0]), ("layer2", stages[1]),
        ("layer3", stages[2]), ("layer4", stages[3]),
        ("avgpool", AdaptiveAvgPool2d((1, 1))),
        ("flatten", Functional(Flatten())),
        ("fc", Linear(512 * expansion, num_classes)),
    ]))


@builder
def resnet18(num_classes: int = 1000, variant: str = "v1.5", *,
             zero_init_residual: bool = False, groups: int = 1, width_per_group: int = 64,
             replace_stride_with_dilation: list[bool] | None = None,
             norm_layer: Any = None) -> Sequential:
    """ResNet-18, torchvision/models/resnet.py (He et al. 2016, Table 1). BasicBlock has no
    stride choice, so both variants are the same network. Other keywords as `resnet`.

    >>> from layercalc import analyze
    >>> t = analyze(resnet18(), (3, 224, 224)).total
    >>> t.params, t.macs
    (11689512, 1814073344)
    """
    return resnet("basic", [2, 2, 2, 2], num_classes=num_classes, variant=variant,
                  zero_init_residual=zero_init_residual, groups=groups,
                  width_per_group=width_per_group, norm_layer=norm_layer,
                  replace_stride_with_dilation=replace_stride_with_dilation)


@builder
def resnet34(num_classes: int = 1000, variant: str = "v1.5", *,
             zero_init_residual: bool = False, groups: int = 1, width_per_group: int = 64,
             replace_stride_with_dilation: list[bool] | None = None,
             norm_layer: Any = None) -> Sequential:
    """ResNet-34, torchvision/models/resnet.py (He et al. 2016, Table 1)."""
    return resnet("basic", [3, 4, 6, 3], num_classes=num_classes, variant=variant,
                  zero_init_residual=zero_init_residual, groups=groups,
                  width_per_group=width_per_group, norm_layer=norm_layer,
                  replace_stride_with_dilation=replace_stride_with_dilation)


@builder
def resnet50(num_classes: int = 1000, variant: str = "v1.5", *,
             zero_init_residual: bool = False, groups: int = 1, width_per_group: int = 64,
             replace_stride_with_dilation: list[bool] | None = None,
             norm_layer: Any = None) -> Sequential:
    """ResNet-50, torchvision/models/resnet.py. ``variant="v1.5"`` (torchvision) strides the
    bottleneck's 3x3; ``"v1"`` strides its first 1x1 (He et al. 2016, Table 1). Other
    keywords (``groups``, ``width_per_group``, ``replace_stride_with_dilation``,
    ``norm_layer``, ``zero_init_residual``) as `resnet`."""
    return resnet("bottleneck", [3, 4, 6, 3], num_classes=num_classes, variant=variant,
                  zero_init_residual=zero_init_residual, groups=groups,
                  width_per_group=width_per_group, norm_layer=norm_layer,
                  replace_stride_with_dilation=replace_stride_with_dilation)


@builder
def resnet101(num_classes: int = 1000, variant: str = "v1.5", *,
              zero_init_residual: bool = False, groups: int = 1, width_per_group: int = 64,
              replace_stride_with_dilation: list[bool] | None = None,
              norm_layer: Any = None) -> Sequential:
    """ResNet-101, torchvision/models/resnet.py; variants as `resnet50`."""
    return resnet("bottleneck", [3, 4, 23, 3], num_classes=num_classes, variant=variant,
                  zero_init_residual=zero_init_residual, groups=groups,
                  width_per_group=width_per_group, norm_layer=norm_layer,
                  replace_stride_with_dilation=replace_stride_with_dilation)


@builder
def resnet152(num_classes: int = 1000, variant: str = "v1.5", *,
              zero_init_residual: bool = False, groups: int = 1, width_per_group: int = 64,
              replace_stride_with_dilation: list[bool] | None = None,
              norm_layer: Any = None) -> Sequential:
    """ResNet-152, torchvision/models/resnet.py; variants as `resnet50`."""
    return resnet("bottleneck", [3, 8, 36, 3], num_classes=num_classes, variant=variant,
                  zero_init_residual=zero_init_residual, groups=groups,
                  width_per_group=width_per_group, norm_layer=norm_layer,
                  replace_stride_with_dilation=replace_stride_with_dilation)


def _fixed(name: str, layers: list[int], groups: int | None, width: int,
           kwargs: dict) -> Sequential:
    """torchvision's ``_ovewrite_named_param`` for ``groups`` / ``width_per_group``."""
    if groups is not None:
        kwargs["groups"] = overwrite_named_param(name, "groups", groups, kwargs.get("groups"))
    kwargs["width_per_group"] = overwrite_named_param(name, "width_per_group", width,
                                                      kwargs.get("width_per_group"))
    return resnet("bottleneck", layers, **kwargs)


_KW = ("num_classes", "zero_init_residual", "groups", "width_per_group",
       "replace_stride_with_dilation", "norm_layer", "variant")


def _doc(fn):  # one shared keyword list for the five fixed-width builders
    fn.__doc__ += ("\n\n    Keywords as `resnet` (" + ", ".join(_KW) + "); the model's own "
                   "``groups`` / ``width_per_group`` may be repeated but not changed.\n    ")
    return fn


@builder
@_doc
def wide_resnet50_2(*, num_classes: int = 1000, zero_init_residual: bool = False,
                    groups: int = 1, width_per_group: int | None = None,
                    replace_stride_with_dilation: list[bool] | None = None,
                    norm_layer: Any = None, variant: str = "v1.5") -> Sequential:
    """Wide ResNet-50-2, torchvision/models/resnet.py (Zagoruyko & Komodakis 2016, "Wide
    Residual Networks"): ResNet-50 with every bottleneck's inner width doubled
    (``width_per_group=128``); the block outputs keep ResNet-50's widths.

    >>> from layercalc import analyze
    >>> analyze(wide_resnet50_2(), (3, 224, 224)).total.params
    68883240"""
    return _fixed("wide_resnet50_2", [3, 4, 6, 3], None, 128, dict(
        num_classes=num_classes, zero_init_residual=zero_init_residual, groups=groups,
        width_per_group=width_per_group, norm_layer=norm_layer, variant=variant,
        replace_stride_with_dilation=replace_stride_with_dilation))


@builder
@_doc
def wide_resnet101_2(*, num_classes: int = 1000, zero_init_residual: bool = False,
                     groups: int = 1, width_per_group: int | None = None,
                     replace_stride_with_dilation: list[bool] | None = None,
                     norm_layer: Any = None, variant: str = "v1.5") -> Sequential:
    """Wide ResNet-101-2, torchvision/models/resnet.py: ResNet-101 with inner width doubled
    (``width_per_group=128``)."""
    return _fixed("wide_resnet101_2", [3, 4, 23, 3], None, 128, dict(
        num_classes=num_classes, zero_init_residual=zero_init_residual, groups=groups,
        width_per_group=width_per_group, norm_layer=norm_layer, variant=variant,
        replace_stride_with_dilation=replace_stride_with_dilation))


@builder
@_doc
def resnext50_32x4d(*, num_classes: int = 1000, zero_init_residual: bool = False,
                    groups: int | None = None, width_per_group: int | None = None,
                    replace_stride_with_dilation: list[bool] | None = None,
                    norm_layer: Any = None, variant: str = "v1.5") -> Sequential:
    """ResNeXt-50 32x4d, torchvision/models/resnet.py (Xie et al. 2017, "Aggregated Residual
    Transformations for Deep Neural Networks", Table 1): cardinality 32, 4 channels per
    group in the first stage (``groups=32, width_per_group=4``)."""
    return _fixed("resnext50_32x4d", [3, 4, 6, 3], 32, 4, dict(
        num_classes=num_classes, zero_init_residual=zero_init_residual, groups=groups,
        width_per_group=width_per_group, norm_layer=norm_layer, variant=variant,
        replace_stride_with_dilation=replace_stride_with_dilation))


@builder
@_doc
def resnext101_32x8d(*, num_classes: int = 1000, zero_init_residual: bool = False,
                     groups: int | None = None, width_per_group: int | None = None,
                     replace_stride_with_dilation: list[bool] | None = None,
                     norm_layer: Any = None, variant: str = "v1.5") -> Sequential:
    """ResNeXt-101 32x8d, torchvision/models/resnet.py (Xie et al. 2017): ``groups=32,
    width_per_group=8`` on ResNet-101's layout."""
    return _fixed("resnext101_32x8d", [3, 4, 23, 3], 32, 8, dict(
        num_classes=num_classes, zero_init_residual=zero_init_residual, groups=groups,
        width_per_group=width_per_group, norm_layer=norm_layer, variant=variant,
        replace_stride_with_dilation=replace_stride_with_dilation))


@builder
@_doc
def resnext101_64x4d(*, num_classes: int = 1000, zero_init_residual: bool = False,
                     groups: int | None = None, width_per_group: int | None = None,
                     replace_stride_with_dilation: list[bool] | None = None,
                     norm_layer: Any = None, variant: str = "v1.5") -> Sequential:
    """ResNeXt-101 64x4d, torchvision/models/resnet.py (Xie et al. 2017): ``groups=64,
    width_per_group=4`` on ResNet-101's layout."""
    return _fixed("resnext101_64x4d", [3, 4, 23, 3], 64, 4, dict(
        num_classes=num_classes, zero_init_residual=zero_init_residual, groups=groups,
        width_per_group=width_per_group, norm_layer=norm_layer, variant=variant,
        replace_stride_with_dilation=replace_stride_with_dilation))
