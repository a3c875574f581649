"""ConvNeXt, as torchvision's ``convnext_tiny/small/base/large`` (Liu et al. 2022, "A ConvNet
for the 2020s")."""

from __future__ import annotations

from collections import OrderedDict
from functools import partial
from typing import Any

from ..blocks import Conv2dNormActivation
from ..layers import AdaptiveAvgPool2d, Conv2d, Flatten, LayerNorm2d, Linear
from ..network import Sequential
from ..vision import CNBlock
from ._kwargs import take_kwargs

__all__ = ["convnext", "convnext_tiny", "convnext_small", "convnext_base", "convnext_large"]

_UNSUPPORTED = ("block", "norm_layer")


def convnext(block_setting: list[tuple[int, int | None, int]],
             stochastic_depth_prob: float = 0.0, layer_scale: float = 1e-6,
             num_classes: int = 1000) -> Sequential:
    """torchvision's ``ConvNeXt`` (torchvision/models/convnext.py): `block_setting` is a list
    of ``CNBlockConfig(input_channels, out_channels, num_layers)`` triples.

    Paths: ``features.0.0`` (``Conv2d(3, C0, 4, stride=4)``, the patchify stem) and
    ``features.0.1`` (`LayerNorm2d`, eps 1e-6); stages ``features.1, 3, 5, 7`` of `CNBlock`
    (``features.1.0.block.0`` ... ``features.1.0.layer_scale``); downsampling
    ``features.2, 4, 6`` (`LayerNorm2d` then ``Conv2d(C, 2C, 2, stride=2)``); ``avgpool``;
    ``classifier.0`` (`LayerNorm2d`), ``classifier.1`` (Flatten), ``classifier.2`` (Linear).
    The stochastic depth of block ``i`` of ``n`` is ``p * i / (n - 1)`` (identity at
    inference). Any input size works (the stem and downsampling floor, as PyTorch).
    """
    ln = partial(LayerNorm2d, eps=1e-6)
    c0 = block_setting[0][0]
    layers: list = [Conv2dNormActivation(3, c0, 4, 4, 0, norm=ln, activation=None, bias=True)]
    total = sum(n for _, _, n in block_setting)
    block_id = 0
    for cin, cout, n in block_setting:
        stage = []
        for _ in range(n):
            sd = stochastic_depth_prob * block_id / (total - 1.0)
            stage.append(CNBlock(cin, layer_scale, sd))
            block_id += 1
        layers.append(Sequential(*stage))
        if cout is not None:
            layers.append(Sequential(ln(cin), Conv2d(cin, cout, 2, 2)))
    last = block_setting[-1][1] or block_setting[-1][0]
    return Sequential(OrderedDict([
        ("features", Sequential(*layers)),
        ("avgpool", AdaptiveAvgPool2d(1)),
        ("classifier", Sequential(ln(last), Flatten(1), Linear(last, num_classes))),
    ]))


def _variant(name: str, setting: list, sd: float, kwargs: dict[str, Any]) -> Sequential:
    kw = take_kwargs(name, kwargs, {"stochastic_depth_prob": sd, "layer_scale": 1e-6,
                                    "num_classes": 1000}, _UNSUPPORTED)
    return convnext(setting, **kw)


def convnext_tiny(**kwargs: Any) -> Sequential:
    """ConvNeXt-T: channels (96, 192, 384, 768), blocks (3, 3, 9, 3); torchvision
    ``convnext_tiny`` (stochastic depth 0.1): 28,589,128 params, 4.456 GFLOPS at 224.

    >>> from layercalc import analyze
    >>> t = analyze(convnext_tiny(), (3, 224, 224)).total
    >>> t.params, t.macs
    (28589128, 4455531264)
    """
    return _variant("convnext_tiny", [(96, 192, 3), (192, 384, 3), (384, 768, 9),
                                      (768, None, 3)], 0.1, kwargs)


def convnext_small(**kwargs: Any) -> Sequential:
    """ConvNeXt-S: channels (96, 192, 384, 768), blocks (3, 3, 27, 3); torchvision
    ``convnext_small`` (stochastic depth 0.4): 50,223,688 params, 8.684 GFLOPS at 224."""
    return _variant("convnext_small", [(96, 192, 3), (192, 384, 3), (384, 768, 27),
                                       (768, None, 3)], 0.4, kwargs)


def convnext_base(**kwargs: Any) -> Sequential:
    """ConvNeXt-B: channels (128, 256, 512, 1024), blocks (3, 3, 27, 3); torchvision
    ``convnext_base`` (stochastic depth 0.5): 88,591,464 params, 15.355 GFLOPS at 224."""
    return _variant("convnext_base", [(128, 256, 3), (256, 512, 3), (512, 1024, 27),
                                      (1024, None, 3)], 0.5, kwargs)


def convnext_large(**kwargs: Any) -> Sequential:
    """ConvNeXt-L: channels (192, 384, 768, 1536), blocks (3, 3, 27, 3); torchvision
    ``convnext_large`` (stochastic depth 0.5): 197,767,336 params, 34.361 GFLOPS at 224."""
    return _variant("convnext_large", [(192, 384, 3), (384, 768, 3), (768, 1536, 27),
                                       (1536, None, 3)], 0.5, kwargs)
