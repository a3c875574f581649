"""MaxViT, as torchvision's ``maxvit_t`` (Tu et al. 2022, "MaxViT: Multi-Axis Vision
Transformer")."""

from __future__ import annotations

from collections import OrderedDict
from functools import partial
from typing import Any

from ..blocks import Conv2dNormActivation
from ..dims import as_dim, divides, fdiv, fmt, require
from ..errors import LayerSpecError
from ..layers import GELU, AdaptiveAvgPool2d, BatchNorm2d, Flatten, LayerNorm, Linear, Tanh
from ..network import Sequential
from ..vision import MaxVitLayer
from ._kwargs import take_kwargs

__all__ = ["maxvit", "maxvit_t"]


def _conv_out(n: Any) -> Any:
    """torchvision's ``_get_conv_output_shape(n, 3, 2, 1)``: ``(n - 1) // 2 + 1``."""
    return fdiv(n - 1, 2) + 1


def maxvit(input_size: Any, stem_channels: int, partition_size: int,
           block_channels: list[int], block_layers: list[int], head_dim: int,
           stochastic_depth_prob: float, squeeze_ratio: float = 0.25,
           expansion_ratio: float = 4, mlp_ratio: int = 4, mlp_dropout: float = 0.0,
           attention_dropout: float = 0.0, num_classes: int = 1000) -> Sequential:
    """torchvision's ``MaxVit`` (torchvision/models/maxvit.py), same arguments (BatchNorm
    with eps 1e-3 and GELU, torchvision's defaults). Input ``(3, H, W)`` with ``(H, W) =
    input_size``: torchvision fixes every stage's grid size, and so the grid partition's
    window, at construction, so the model only runs at that size (another size is a
    `ShapeError`, as it fails in PyTorch).

    Paths: ``stem.0.0``-``2`` (3x3 stride-2 conv, BN, GELU), ``stem.1.0`` (3x3 conv with
    bias); ``blocks.i.layers.j.layers.MBconv.*``, ``...window_attention.*``,
    ``...grid_attention.*`` (`layercalc.vision.MaxVitLayer`); ``classifier.0``-``5``
    (avgpool, flatten, LayerNorm, Linear, Tanh, Linear without bias). Each stage's input
    (after its stride-2 MBConv) must be divisible by `partition_size` (torchvision raises
    otherwise). Stochastic depth rises linearly from 0 to `stochastic_depth_prob` over all
    layers (``np.linspace``).
    """
    size = input_size if isinstance(input_size, (list, tuple)) else (input_size, input_size)
    if len(size) != 2:
        raise LayerSpecError("MaxVit", f"input_size (={size!r}) must be (height, width)")
    size = tuple(as_dim(v, "MaxVit", "input_size") for v in size)
    if len(block_channels) != len(block_layers):
        raise LayerSpecError("MaxVit", f"block_channels (={block_channels!r}) and block_layers "
                             f"(={block_layers!r}) must have the same length")
    grids, g = [], tuple(_conv_out(v) for v in size)
    for _ in block_channels:
        g = tuple(_conv_out(v) for v in g)
        grids.append(g)
    for i, gs in enumerate(grids):
        for v in gs:
            require(divides(partition_size, v), "MaxVit",
                    lambda: f"input_size (={fmt(size)}) gives block {i} an input of "
                    f"{fmt(gs)}, not divisible by partition_size (={partition_size})",
                    "Choose input_size so that every stage is a multiple of the partition "
                    "size (224: 56, 28, 14, 7 with partition_size 7).")
    bn = partial(BatchNorm2d, eps=1e-3, momentum=0.01)
    stem = Sequential(
        Conv2dNormActivation(3, stem_channels, 3, 2, norm=bn, activation=GELU, bias=False),
        Conv2dNormActivation(stem_channels, stem_channels, 3, 1, norm=None, activation=None,
                             bias=True))
    total = sum(block_layers)
    probs = [stochastic_depth_prob * i / (total - 1) if total > 1 else 0.0
             for i in range(total)]
    blocks, k = [], 0
    ins = [stem_channels, *block_channels[:-1]]
    for cin, cout, n, grid in zip(ins, block_channels, block_layers, grids):
        layers = []
        for j in range(n):
            layers.append(MaxVitLayer(cin if j == 0 else cout, cout, squeeze_ratio,
                                      expansion_ratio, 2 if j == 0 else 1, head_dim, mlp_ratio,
                                      mlp_dropout, attention_dropout, probs[k], partition_size,
                                      grid))
            k += 1
        blocks.append(Sequential(OrderedDict(layers=Sequential(*layers))))
    c = block_channels[-1]
    classifier = Sequential(AdaptiveAvgPool2d(1), Flatten(1), LayerNorm(c), Linear(c, c),
                            Tanh(), Linear(c, num_classes, bias=False))
    return Sequential(OrderedDict(stem=stem, blocks=Sequential(*blocks),
                                  classifier=classifier))


def maxvit_t(**kwargs: Any) -> Sequential:
    """MaxViT-T (stem 64, channels 64-128-256-512, layers 2-2-5-2, head_dim 32, partition 7),
    torchvision ``maxvit_t``: 30,919,624 params, 5.558 GFLOPS at 224 (``input_size``, default
    ``(224, 224)``, is the only size it runs at; a symbol works too).

    >>> from layercalc import analyze
    >>> r = analyze(maxvit_t(), (3, 224, 224))
    >>> r.total.params, r.total.macs
    (30919624, 5558046720)
    """
    kw = take_kwargs("maxvit_t", kwargs, {
        "input_size": (224, 224), "squeeze_ratio": 0.25, "expansion_ratio": 4,
        "mlp_ratio": 4, "mlp_dropout": 0.0, "attention_dropout": 0.0, "num_classes": 1000},
        ("norm_layer", "activation_layer"))
    return maxvit(stem_channels=64, partition_size=7, block_channels=[64, 128, 256, 512],
                  block_layers=[2, 2, 5, 2], head_dim=32, stochastic_depth_prob=0.2, **kw)
