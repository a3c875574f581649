"""ShuffleNet V2 x0.5/x1.0/x1.5/x2.0, as torchvision (shufflenetv2.py)."""

from __future__ import annotations

from collections import OrderedDict

from ..blocks import ShuffleNetV2Block
from ..errors import LayerSpecError
from ..layers import BatchNorm2d, Conv2d, Linear, MaxPool2d, Mean, ReLU
from ..network import Functional, Sequential
from ._builder import builder

__all__ = ["shufflenet_v2", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5",
           "shufflenet_v2_x2_0"]


@builder
def shufflenet_v2(stages_repeats: list[int], stages_out_channels: list[int],
                  num_classes: int = 1000) -> Sequential:
    """torchvision's ``ShuffleNetV2(stages_repeats, stages_out_channels, num_classes)`` (Ma
    et al. 2018, "ShuffleNet V2", Table 5).

    ``conv1.0..2`` (3x3/2 conv, BN, ReLU), ``maxpool`` (3x3/2), ``stage2..4`` of
    `layercalc.blocks.ShuffleNetV2Block` units (the first of each with stride 2), ``conv5.0..2``
    (1x1 conv, BN, ReLU), then ``x.mean([2, 3])`` (a `Mean` row ``mean``, called as a
    function, which no peer tool counts) and ``fc``. Any input size traces; no divisibility is
    needed (each stride-2 unit's two branches have the same output size).

    >>> from layercalc import analyze
    >>> t = analyze(shufflenet_v2([4, 8, 4], [24, 116, 232, 464, 1024]), (3, 224, 224)).total
    >>> t.params, t.macs                                  # = shufflenet_v2_x1_0()
    (2278604, 144907992)
    """
    if len(stages_repeats) != 3:
        raise LayerSpecError("shufflenet_v2", f"stages_repeats (={stages_repeats!r}) must be "
                             "3 positive integers")
    if len(stages_out_channels) != 5:
        raise LayerSpecError("shufflenet_v2", f"stages_out_channels (={stages_out_channels!r}) "
                             "must be 5 positive integers")
    c = stages_out_channels[0]
    items: list = [
        ("conv1", Sequential(Conv2d(3, c, 3, 2, 1, bias=False), BatchNorm2d(c),
                             ReLU(inplace=True))),
        ("maxpool", MaxPool2d(3, 2, 1)),
    ]
    for i, (repeats, out) in enumerate(zip(stages_repeats, stages_out_channels[1:4])):
        units = [ShuffleNetV2Block(c, out, 2)]
        units += [ShuffleNetV2Block(out, out, 1) for _ in range(repeats - 1)]
        items.append((f"stage{i + 2}", Sequential(*units)))
        c = out
    last = stages_out_channels[-1]
    items += [
        ("conv5", Sequential(Conv2d(c, last, 1, bias=False), BatchNorm2d(last),
                             ReLU(inplace=True))),
        ("mean", Functional(Mean([2, 3]))),
        ("fc", Linear(last, num_classes)),
    ]
    return Sequential(OrderedDict(items))


def _variant(name: str, channels: list[int], crop: int = 224):
    def fn(*, num_classes: int = 1000) -> Sequential:
        return shufflenet_v2([4, 8, 4], channels, num_classes)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"ShuffleNet V2 {name[-4:].replace('_', '.')}, torchvision/models/"
                  f"shufflenetv2.py (Ma et al. 2018, Table 5): stages [4, 8, 4], channels "
                  f"{channels}; see `shufflenet_v2`. torchvision's weights use crop {crop}.")
    return builder(fn)


shufflenet_v2_x0_5 = _variant("shufflenet_v2_x0_5", [24, 48, 96, 192, 1024])
shufflenet_v2_x1_0 = _variant("shufflenet_v2_x1_0", [24, 116, 232, 464, 1024])
shufflenet_v2_x1_5 = _variant("shufflenet_v2_x1_5", [24, 176, 352, 704, 1024])
shufflenet_v2_x2_0 = _variant("shufflenet_v2_x2_0", [24, 244, 488, 976, 2048])
