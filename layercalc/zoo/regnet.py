"""RegNetX and RegNetY (every torchvision size), built by RegNet's generator as torchvision's
``BlockParams.from_init_params``, not from a table of widths (torchvision regnet.py)."""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..blocks import AnyStage, Conv2dNormActivation, make_divisible
from ..errors import LayerSpecError
from ..layers import AdaptiveAvgPool2d, BatchNorm2d, Flatten, Linear, ReLU
from ..network import Functional, Sequential
from ._builder import builder

__all__ = ["BlockParams", "regnet"] + [
    f"regnet_{s}" for s in ("y_400mf", "y_800mf", "y_1_6gf", "y_3_2gf", "y_8gf", "y_16gf",
                            "y_32gf", "y_128gf", "x_400mf", "x_800mf", "x_1_6gf", "x_3_2gf",
                            "x_8gf", "x_16gf", "x_32gf")]

@dataclass(frozen=True)
class BlockParams:
    """Per-stage settings of a RegNet, as torchvision's ``regnet.BlockParams``: one entry per
    stage in each list.

    `from_init_params` is the RegNet generator (Radosavovic et al. 2020, "Designing Network
    Design Spaces", Sec. 3.3, Eq. 2-4): from depth ``d``, initial width ``w_0``, slope
    ``w_a`` and log-step ``w_m``, block ``j`` gets the continuous width ``u_j = w_0 + w_a
    * j``, quantised in log space ``s_j = round(log(u_j / w_0) / log(w_m))`` to ``w_j =
    round(w_0 * w_m**s_j / 8) * 8``; consecutive blocks of the same width form a stage;
    then stage and group widths are made compatible (``_adjust_widths_groups_compatibilty``).

    torchvision computes ``u_j``, the log, the power and the two roundings on float32
    tensors; this does the same float32 arithmetic with NumPy, so borderline roundings agree
    with torchvision's (checked against it for every torchvision RegNet and, in the oracle
    tests, for random settings).

    >>> p = BlockParams.from_init_params(depth=16, w_0=48, w_a=27.89, w_m=2.09, group_width=8,
    ...                                  se_ratio=0.25)      # RegNetY-400MF
    >>> p.depths, p.widths, p.group_widths
    ([1, 3, 6, 6], [48, 104, 208, 440], [8, 8, 8, 8])
    """

    depths: list[int]
    widths: list[int]
    group_widths: list[int]
    bottleneck_multipliers: list[float]
    strides: list[int]
    se_ratio: float | None = None

    @classmethod
    def from_init_params(cls, depth: int, w_0: int, w_a: float, w_m: float, group_width: int,
                         bottleneck_multiplier: float = 1.0, se_ratio: float | None = None,
                         **kwargs: Any) -> BlockParams:
        """The generator, as torchvision's ``BlockParams.from_init_params``. torchvision
        ignores extra keywords (its model builders pass their own keywords to it too); here an
        unknown keyword is an error, so a misspelt ``se_ratio`` is not silently dropped."""
        if kwargs:
            key = next(iter(kwargs))
            raise LayerSpecError("BlockParams.from_init_params", f"keyword argument {key!r} "
                                 f"(={kwargs[key]!r}) is not accepted; accepted: depth, w_0, "
                                 "w_a, w_m, group_width, bottleneck_multiplier, se_ratio")
        QUANT, STRIDE = 8, 2
        if w_a < 0 or w_0 <= 0 or w_m <= 1 or w_0 % 8 != 0:
            raise LayerSpecError("BlockParams", f"settings (w_0={w_0!r}, w_a={w_a!r}, "
                                 f"w_m={w_m!r}) must have w_a >= 0, w_0 > 0 a multiple of 8 "
                                 "and w_m > 1 (torchvision: 'Invalid RegNet settings')")
        if not (isinstance(depth, int) and depth >= 1):
            raise LayerSpecError("BlockParams", f"depth (={depth!r}) must be a positive integer")
        import numpy as np  # here, not at import: `import layercalc` leaves numpy for first use

        _F32 = np.float32
        with np.errstate(all="ignore"):
            # float32 throughout, as torch.arange(depth) * w_a + w_0 and the ops after it
            widths_cont = np.arange(depth).astype(_F32) * _F32(w_a) + _F32(w_0)
            capacity = np.round(np.log(widths_cont / _F32(w_0)) / _F32(math.log(w_m)))
            widths = np.round(_F32(w_0) * np.power(_F32(w_m), capacity) / _F32(QUANT)) * _F32(QUANT)
        block_widths = [int(w) for w in widths.astype(np.int32)]
        num_stages = len(set(block_widths))
        splits = [w != wp or r != rp for w, wp, r, rp in zip(
            block_widths + [0], [0] + block_widths, block_widths + [0], [0] + block_widths)]
        stage_widths = [w for w, t in zip(block_widths, splits[:-1]) if t]
        bounds = [d for d, t in enumerate(splits) if t]
        stage_depths = [b - a for a, b in zip(bounds, bounds[1:])]
        strides = [STRIDE] * num_stages
        multipliers = [bottleneck_multiplier] * num_stages
        group_widths = [group_width] * num_stages
        stage_widths, group_widths = cls._adjust_widths_groups_compatibilty(
            stage_widths, multipliers, group_widths)
        return cls(stage_depths, stage_widths, group_widths, multipliers, strides, se_ratio)

    @staticmethod
    def _adjust_widths_groups_compatibilty(stage_widths: list[int], bottleneck_ratios: list[float],
                                           group_widths: list[int]) -> tuple[list[int], list[int]]:
        """torchvision's: bottleneck widths made multiples of the (capped) group widths."""
        widths = [int(w * b) for w, b in zip(stage_widths, bottleneck_ratios)]
        group_widths_min = [min(g, w_bot) for g, w_bot in zip(group_widths, widths)]
        ws_bot = [make_divisible(w_bot, g) for w_bot, g in zip(widths, group_widths_min)]
        stage_widths = [int(w_bot / b) for w_bot, b in zip(ws_bot, bottleneck_ratios)]
        return stage_widths, group_widths_min


@builder
def regnet(block_params: BlockParams, num_classes: int = 1000, stem_width: int = 32,
           norm_layer: Any = None, activation: Any = None) -> Sequential:
    """torchvision's ``RegNet(block_params, num_classes, stem_width, norm_layer=...,
    activation=...)`` with its default stem and block (Radosavovic et al. 2020, Sec. 3.1,
    Fig. 3-4): ``stem`` (3x3/2 Conv-BN-ReLU, ``stem.0..2``), ``trunk_output.block{i}``
    (`layercalc.blocks.AnyStage` of `layercalc.blocks.ResBottleneckBlock`, stride 2 each;
    ``trunk_output.block1.block1-0.f.a.0`` ...), ``avgpool``, ``flatten`` and ``fc``.

    Any input size traces; a stride-2 block's projection and 3x3 give the same output size,
    so no divisibility is needed.

    >>> from layercalc import analyze
    >>> p = BlockParams.from_init_params(depth=22, w_0=24, w_a=24.48, w_m=2.54, group_width=16)
    >>> t = analyze(regnet(p), (3, 224, 224)).total      # = regnet_x_400mf()
    >>> t.params, t.macs                                 # torchvision: 5,495,976 / 0.414
    (5495976, 413812608)
    """
    norm = partial(BatchNorm2d, eps=1e-05, momentum=0.1) if norm_layer is None else norm_layer
    act = ReLU if activation is None else activation
    stages = []
    width = stem_width
    for i, (w, s, d, g, b) in enumerate(zip(block_params.widths, block_params.strides,
                                            block_params.depths, block_params.group_widths,
                                            block_params.bottleneck_multipliers)):
        stages.append((f"block{i + 1}", AnyStage(width, w, s, d, norm=norm, activation=act,
                                                 group_width=g, bottleneck_multiplier=b,
                                                 se_ratio=block_params.se_ratio,
                                                 stage_index=i + 1)))
        width = w
    return Sequential(OrderedDict(
        stem=Conv2dNormActivation(3, stem_width, 3, 2, norm=norm, activation=act),
        trunk_output=Sequential(OrderedDict(stages)),
        avgpool=AdaptiveAvgPool2d((1, 1)), flatten=Functional(Flatten()),
        fc=Linear(width, num_classes)))


#: torchvision's ``regnet_*`` builders: from_init_params arguments, and the crops of their
#: weights (SWAG E2E weights at 384, every other at 224).
_SIZES = {
    "regnet_y_400mf": (dict(depth=16, w_0=48, w_a=27.89, w_m=2.09, group_width=8, se_ratio=0.25),
                       (224,)),
    "regnet_y_800mf": (dict(depth=14, w_0=56, w_a=38.84, w_m=2.4, group_width=16, se_ratio=0.25),
                       (224,)),
    "regnet_y_1_6gf": (dict(depth=27, w_0=48, w_a=20.71, w_m=2.65, group_width=24, se_ratio=0.25),
                       (224,)),
    "regnet_y_3_2gf": (dict(depth=21, w_0=80, w_a=42.63, w_m=2.66, group_width=24, se_ratio=0.25),
                       (224,)),
    "regnet_y_8gf": (dict(depth=17, w_0=192, w_a=76.82, w_m=2.19, group_width=56, se_ratio=0.25),
                     (224,)),
    "regnet_y_16gf": (dict(depth=18, w_0=200, w_a=106.23, w_m=2.48, group_width=112, se_ratio=0.25),
                      (224, 384)),
    "regnet_y_32gf": (dict(depth=20, w_0=232, w_a=115.89, w_m=2.53, group_width=232, se_ratio=0.25),
                      (224, 384)),
    "regnet_y_128gf": (dict(depth=27, w_0=456, w_a=160.83, w_m=2.52, group_width=264,
                            se_ratio=0.25), (224, 384)),
    "regnet_x_400mf": (dict(depth=22, w_0=24, w_a=24.48, w_m=2.54, group_width=16),
                       (224,)),
    "regnet_x_800mf": (dict(depth=16, w_0=56, w_a=35.73, w_m=2.28, group_width=16),
                       (224,)),
    "regnet_x_1_6gf": (dict(depth=18, w_0=80, w_a=34.01, w_m=2.25, group_width=24),
                       (224,)),
    "regnet_x_3_2gf": (dict(depth=25, w_0=88, w_a=26.31, w_m=2.25, group_width=48),
                       (224,)),
    "regnet_x_8gf": (dict(depth=23, w_0=80, w_a=49.56, w_m=2.88, group_width=120),
                     (224,)),
    "regnet_x_16gf": (dict(depth=22, w_0=216, w_a=55.59, w_m=2.1, group_width=128),
                      (224,)),
    "regnet_x_32gf": (dict(depth=23, w_0=320, w_a=69.86, w_m=2.0, group_width=168),
                      (224,)),
}


def _variant(name: str):
    init, crops = _SIZES[name]

    def fn(*, num_classes: int = 1000, stem_width: int = 32, norm_layer: Any = None,
           activation: Any = None) -> Sequential:
        return regnet(BlockParams.from_init_params(**init), num_classes, stem_width,
                      norm_layer, activation)
    fn.__name__ = fn.__qualname__ = name
    kind = "RegNetY (with squeeze-and-excitation, ratio 0.25)" if "se_ratio" in init else "RegNetX"
    args = ", ".join(f"{k}={v}" for k, v in init.items())
    fn.__doc__ = (f"{kind} {name.split('_', 2)[2].upper().replace('_', '.')}, torchvision/"
                  f"models/regnet.py (Radosavovic et al. 2020): "
                  f"``BlockParams.from_init_params({args})``; see `regnet`. torchvision's "
                  "weights use crop " + " and ".join(map(str, crops))
                  + (" (SWAG end-to-end at 384, SWAG linear and ImageNet-1K at 224)"
                     if len(crops) > 1 else "") + ".")
    return builder(fn)


regnet_y_400mf = _variant("regnet_y_400mf")
regnet_y_800mf = _variant("regnet_y_800mf")
regnet_y_1_6gf = _variant("regnet_y_1_6gf")
regnet_y_3_2gf = _variant("regnet_y_3_2gf")
regnet_y_8gf = _variant("regnet_y_8gf")
regnet_y_16gf = _variant("regnet_y_16gf")
regnet_y_32gf = _variant("regnet_y_32gf")
regnet_y_128gf = _variant("regnet_y_128gf")
regnet_x_400mf = _variant("regnet_x_400mf")
regnet_x_800mf = _variant("regnet_x_800mf")
regnet_x_1_6gf = _variant("regnet_x_1_6gf")
regnet_x_3_2gf = _variant("regnet_x_3_2gf")
regnet_x_8gf = _variant("regnet_x_8gf")
regnet_x_16gf = _variant("regnet_x_16gf")
regnet_x_32gf = _variant("regnet_x_32gf")
