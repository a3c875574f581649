"""DenseNet-121/161/169/201 (DenseNet-BC), as torchvision (densenet.py)."""

from __future__ import annotations

from collections import OrderedDict

from ..blocks import DenseBlock, Transition
from ..errors import LayerSpecError
from ..layers import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU
from ..network import Functional, Sequential
from ._builder import builder

__all__ = ["densenet", "densenet121", "densenet161", "densenet169", "densenet201"]


@builder
def densenet(growth_rate: int = 32, block_config: tuple[int, ...] = (6, 12, 24, 16),
             num_init_features: int = 64, bn_size: int = 4, drop_rate: float = 0,
             num_classes: int = 1000, memory_efficient: bool = False) -> Sequential:
    """torchvision's ``DenseNet(growth_rate, block_config, num_init_features, bn_size,
    drop_rate, num_classes, memory_efficient)``: DenseNet-BC (Huang et al. 2017, "Densely
    Connected Convolutional Networks", Table 1).

    Stem ``features.conv0`` (7x7/2), ``norm0``, ``relu0``, ``pool0`` (3x3/2 max); dense blocks
    ``features.denseblock{i}`` (`layercalc.blocks.DenseBlock`; each layer adds `growth_rate`
    channels) separated by ``features.transition{i}`` (`layercalc.blocks.Transition`, halving
    the channels, compression 0.5); ``features.norm5``; then ``forward``'s functional
    ``F.relu`` (row ``relu``) and ``F.adaptive_avg_pool2d`` (``avgpool``), ``flatten`` and
    ``classifier``. ``memory_efficient`` (gradient checkpointing) changes what training keeps,
    not an inference pass, so no count. `DenseBlock`'s docstring says how the concatenations'
    memory traffic differs from eager PyTorch (one extra copy of each block's input there).

    Any input of at least 1x1 per stage traces (the three transitions halve with floor); no
    divisibility is needed.

    >>> from layercalc import analyze
    >>> r = analyze(densenet(), (3, 224, 224))            # = densenet121()
    >>> r.total.params, r.total.macs                      # torchvision: 7,978,856 / 2.834
    (7978856, 2834161664)
    """
    if not block_config or not all(isinstance(n, int) and n >= 1 for n in block_config):
        raise LayerSpecError("densenet", f"block_config (={block_config!r}) must be positive "
                             "integers, the layers of each dense block")
    features: OrderedDict = OrderedDict([
        ("conv0", Conv2d(3, num_init_features, 7, 2, 3, bias=False)),
        ("norm0", BatchNorm2d(num_init_features)),
        ("relu0", ReLU(inplace=True)),
        ("pool0", MaxPool2d(3, 2, 1)),
    ])
    c = num_init_features
    for i, n in enumerate(block_config):
        features[f"denseblock{i + 1}"] = DenseBlock(n, c, bn_size, growth_rate, drop_rate)
        c = c + n * growth_rate
        if i != len(block_config) - 1:
            features[f"transition{i + 1}"] = Transition(c, c // 2)
            c = c // 2
    features["norm5"] = BatchNorm2d(c)
    return Sequential(OrderedDict(
        features=Sequential(features), relu=Functional(ReLU(inplace=True)),
        avgpool=Functional(AdaptiveAvgPool2d((1, 1))), flatten=Functional(Flatten()),
        classifier=Linear(c, num_classes)))


def _variant(name: str, growth: int, blocks: tuple[int, int, int, int], init: int):
    def fn(*, bn_size: int = 4, drop_rate: float = 0, num_classes: int = 1000,
           memory_efficient: bool = False) -> Sequential:
        return densenet(growth, blocks, init, bn_size, drop_rate, num_classes, memory_efficient)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"DenseNet-{name[8:]}, torchvision/models/densenet.py (Huang et al. 2017, "
                  f"Table 1): growth rate {growth}, dense blocks {blocks}, {init} initial "
                  "features; see `densenet` for the paths. torchvision's weights use crop 224.")
    return builder(fn)


densenet121 = _variant("densenet121", 32, (6, 12, 24, 16), 64)
densenet161 = _variant("densenet161", 48, (6, 12, 36, 24), 96)
densenet169 = _variant("densenet169", 32, (6, 12, 32, 32), 64)
densenet201 = _variant("densenet201", 32, (6, 12, 48, 32), 64)
