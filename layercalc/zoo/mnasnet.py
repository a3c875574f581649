"""MNASNet 0.5/0.75/1.0/1.3 (the B1 search result), as torchvision (mnasnet.py)."""

from __future__ import annotations

from collections import OrderedDict

from ..blocks import MNASNetStack
from ..errors import LayerSpecError
from ..layers import BatchNorm2d, Conv2d, Dropout, Linear, Mean, ReLU
from ..network import Functional, Sequential
from ._builder import builder

__all__ = ["mnasnet", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"]

#: torchvision's ``_BN_MOMENTUM``: TensorFlow's 0.9997 decay as a PyTorch momentum.
_BN_MOMENTUM = 1 - 0.9997

#: (kernel, stride, expansion, repeats) of the six stacks (Tan et al. 2019, Fig. 7).
_STACKS = [(3, 2, 3, 3), (5, 2, 3, 3), (5, 2, 6, 3), (3, 1, 6, 2), (5, 2, 6, 4), (3, 1, 6, 1)]


def _round_to_multiple_of(val: float, divisor: int, round_up_bias: float = 0.9) -> int:
    """torchvision's ``mnasnet._round_to_multiple_of``: the nearest multiple of `divisor`,
    rounding up unless that is no more than 10% above the smaller multiple.

    >>> _round_to_multiple_of(83, 8), _round_to_multiple_of(84, 8), _round_to_multiple_of(12, 8)
    (80, 88, 16)
    """
    new_val = max(divisor, int(val + divisor / 2) // divisor * divisor)
    return new_val if new_val >= round_up_bias * val else new_val + divisor


def _get_depths(alpha: float) -> list[int]:
    """torchvision's ``_get_depths``: the stem and stack widths scaled by `alpha`."""
    return [_round_to_multiple_of(d * alpha, 8) for d in (32, 16, 24, 40, 80, 96, 192, 320)]


@builder
def mnasnet(alpha: float, num_classes: int = 1000, dropout: float = 0.2) -> Sequential:
    """torchvision's ``MNASNet(alpha, num_classes, dropout)``, version 2 (depth scaling in the
    stem too), the B1 architecture of Tan et al. 2019, "MnasNet", Fig. 7.

    ``layers.0..7``: 3x3/2 conv, BN, ReLU, depthwise 3x3, BN, ReLU, 1x1, BN;
    ``layers.8..13``: six `layercalc.blocks.MNASNetStack` (``layers.8.0.layers.0`` ...);
    ``layers.14..16``: 1x1 conv to 1280, BN, ReLU; then ``x.mean([2, 3])`` (a `Mean` row
    ``mean``, a function call no peer tool counts), ``classifier.0`` dropout and
    ``classifier.1``. Widths ``_round_to_multiple_of(c * alpha, 8)``; BN momentum
    ``1 - 0.9997``.

    >>> from layercalc import analyze
    >>> t = analyze(mnasnet(1.0), (3, 224, 224)).total    # torchvision: 4,383,312 / 0.314
    >>> t.params, t.macs
    (4383312, 314415872)
    """
    if not alpha > 0:
        raise LayerSpecError("mnasnet", f"alpha (={alpha!r}) must be greater than 0")
    d = _get_depths(alpha)

    def bn(c: int) -> BatchNorm2d:
        return BatchNorm2d(c, momentum=_BN_MOMENTUM)

    layers: list = [
        Conv2d(3, d[0], 3, 2, 1, bias=False), bn(d[0]), ReLU(inplace=True),
        Conv2d(d[0], d[0], 3, 1, 1, groups=d[0], bias=False), bn(d[0]), ReLU(inplace=True),
        Conv2d(d[0], d[1], 1, bias=False), bn(d[1]),
    ]
    for (k, s, e, n), cin, cout in zip(_STACKS, d[1:], d[2:]):
        layers.append(MNASNetStack(cin, cout, k, s, e, n, _BN_MOMENTUM))
    layers += [Conv2d(d[7], 1280, 1, bias=False), bn(1280), ReLU(inplace=True)]
    return Sequential(OrderedDict(
        layers=Sequential(*layers), mean=Functional(Mean([2, 3])),
        classifier=Sequential(Dropout(dropout, inplace=True), Linear(1280, num_classes))))


def _variant(name: str, alpha: float):
    def fn(*, num_classes: int = 1000, dropout: float = 0.2) -> Sequential:
        return mnasnet(alpha, num_classes, dropout)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"MNASNet with depth multiplier {alpha}, torchvision/models/mnasnet.py (Tan "
                  "et al. 2019); see `mnasnet`. torchvision's weights use crop 224.")
    return builder(fn)


mnasnet0_5 = _variant("mnasnet0_5", 0.5)
mnasnet0_75 = _variant("mnasnet0_75", 0.75)
mnasnet1_0 = _variant("mnasnet1_0", 1.0)
mnasnet1_3 = _variant("mnasnet1_3", 1.3)
