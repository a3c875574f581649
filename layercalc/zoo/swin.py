"""Swin Transformer V1 and V2, as torchvision's ``swin_t/s/b`` and ``swin_v2_t/s/b`` (Liu et
al. 2021, "Swin Transformer: Hierarchical Vision Transformer using Shifted Windows"; Liu et
al. 2022, "Swin Transformer V2: Scaling Up Capacity and Resolution")."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ..errors import LayerSpecError
from ..layers import AdaptiveAvgPool2d, Conv2d, Flatten, LayerNorm, Linear, Permute
from ..network import Sequential
from ..vision import PatchMerging, PatchMergingV2, SwinTransformerBlock, SwinTransformerBlockV2
from ._kwargs import take_kwargs

__all__ = ["swin_transformer", "swin_t", "swin_s", "swin_b", "swin_v2_t", "swin_v2_s",
           "swin_v2_b"]

_UNSUPPORTED = ("norm_layer", "block", "downsample_layer")


def swin_transformer(patch_size: Any, embed_dim: int, depths: list[int], num_heads: list[int],
                     window_size: Any, mlp_ratio: float = 4.0, dropout: float = 0.0,
                     attention_dropout: float = 0.0, stochastic_depth_prob: float = 0.1,
                     num_classes: int = 1000, v2: bool = False) -> Sequential:
    """torchvision's ``SwinTransformer`` (torchvision/models/swin_transformer.py), same
    arguments; ``v2=True`` uses ``SwinTransformerBlockV2`` and ``PatchMergingV2`` (what
    torchvision's ``swin_v2_*`` pass as ``block`` and ``downsample_layer``).

    Paths: ``features.0.0`` (``Conv2d(3, E, patch, stride=patch)``), ``features.0.1``
    (Permute to channels-last), ``features.0.2`` (LayerNorm); stages ``features.1, 3, 5, 7``
    (``features.1.0.norm1``, ``features.1.0.attn.qkv`` ...; blocks alternate shift 0 and
    ``window // 2``); patch merging ``features.2, 4, 6``; ``norm``, ``permute``, ``avgpool``,
    ``flatten``, ``head``. Stochastic depth of block ``i`` of ``n``: ``p * i / (n - 1)``.

    Any input size: each stage pads its map to window multiples (see `layercalc.vision`);
    with symbolic sizes the window counts are ``ceiling`` expressions, exact for every size.
    """
    if len(depths) != len(num_heads):
        raise LayerSpecError("SwinTransformer", f"depths (={depths!r}) and num_heads "
                             f"(={num_heads!r}) must have the same length")
    ws = list(window_size) if isinstance(window_size, (list, tuple)) else [window_size] * 2
    ps = list(patch_size) if isinstance(patch_size, (list, tuple)) else [patch_size] * 2
    block = SwinTransformerBlockV2 if v2 else SwinTransformerBlock
    merge = PatchMergingV2 if v2 else PatchMerging
    layers: list = [Sequential(Conv2d(3, embed_dim, ps, ps), Permute([0, 2, 3, 1]),
                               LayerNorm(embed_dim))]
    total, block_id = sum(depths), 0
    for i, (depth, heads) in enumerate(zip(depths, num_heads)):
        dim = embed_dim * 2 ** i
        stage = []
        for j in range(depth):
            sd = stochastic_depth_prob * float(block_id) / (total - 1)
            shift = [0 if j % 2 == 0 else w // 2 for w in ws]
            stage.append(block(dim, heads, ws, shift, mlp_ratio, dropout, attention_dropout,
                               sd))
            block_id += 1
        layers.append(Sequential(*stage))
        if i < len(depths) - 1:
            layers.append(merge(dim))
    features = embed_dim * 2 ** (len(depths) - 1)
    return Sequential(OrderedDict([
        ("features", Sequential(*layers)),
        ("norm", LayerNorm(features)),
        ("permute", Permute([0, 3, 1, 2])),
        ("avgpool", AdaptiveAvgPool2d(1)),
        ("flatten", Flatten(1)),
        ("head", Linear(features, num_classes)),
    ]))


def _variant(name: str, embed_dim: int, depths: list, heads: list, window: int, sd: float,
             v2: bool, kwargs: dict[str, Any]) -> Sequential:
    kw = take_kwargs(name, kwargs, {"mlp_ratio": 4.0, "dropout": 0.0, "attention_dropout": 0.0,
                                    "stochastic_depth_prob": sd, "num_classes": 1000},
                     _UNSUPPORTED)
    return swin_transformer([4, 4], embed_dim, depths, heads, [window, window], v2=v2, **kw)


_T, _SB = [2, 2, 6, 2], [2, 2, 18, 2]


def swin_t(**kwargs: Any) -> Sequential:
    """Swin-T (embed 96, depths 2-2-6-2, heads 3-6-12-24, window 7), torchvision ``swin_t``:
    28,288,354 params, 4.491 GFLOPS at 224.

    >>> from layercalc import analyze
    >>> r = analyze(swin_t(), (3, 224, 224))
    >>> r.total.params, r.flops("torchvision")
    (28288354, 4490566656)
    """
    return _variant("swin_t", 96, _T, [3, 6, 12, 24], 7, 0.2, False, kwargs)


def swin_s(**kwargs: Any) -> Sequential:
    """Swin-S (embed 96, depths 2-2-18-2, heads 3-6-12-24, window 7), torchvision ``swin_s``:
    49,606,258 params, 8.741 GFLOPS at 224."""
    return _variant("swin_s", 96, _SB, [3, 6, 12, 24], 7, 0.3, False, kwargs)


def swin_b(**kwargs: Any) -> Sequential:
    """Swin-B (embed 128, depths 2-2-18-2, heads 4-8-16-32, window 7), torchvision ``swin_b``:
    87,768,224 params, 15.431 GFLOPS at 224."""
    return _variant("swin_b", 128, _SB, [4, 8, 16, 32], 7, 0.5, False, kwargs)


def swin_v2_t(**kwargs: Any) -> Sequential:
    """Swin-V2-T (embed 96, depths 2-2-6-2, heads 3-6-12-24, window 8), torchvision
    ``swin_v2_t``: 28,351,570 params, 5.94 GFLOPS at 256 (its weights' crop size)."""
    return _variant("swin_v2_t", 96, _T, [3, 6, 12, 24], 8, 0.2, True, kwargs)


def swin_v2_s(**kwargs: Any) -> Sequential:
    """Swin-V2-S (embed 96, depths 2-2-18-2, heads 3-6-12-24, window 8), torchvision
    ``swin_v2_s``: 49,737,442 params, 11.546 GFLOPS at 256."""
    return _variant("swin_v2_s", 96, _SB, [3, 6, 12, 24], 8, 0.3, True, kwargs)


def swin_v2_b(**kwargs: Any) -> Sequential:
    """Swin-V2-B (embed 128, depths 2-2-18-2, heads 4-8-16-32, window 8), torchvision
    ``swin_v2_b``: 87,930,848 params, 20.325 GFLOPS at 256."""
    return _variant("swin_v2_b", 128, _SB, [4, 8, 16, 32], 8, 0.5, True, kwargs)
