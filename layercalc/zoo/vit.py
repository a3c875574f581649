"""Vision Transformers, as torchvision's ``VisionTransformer`` (Dosovitskiy et al. 2021)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ..dims import fdiv
from ..errors import LayerSpecError
from ..layers import (
    ClassToken, Conv2d, Dropout, Flatten, LayerNorm, Linear, PositionalEmbedding, Select, Tanh,
    Transpose,
)
from ..network import Sequential
from ..transformer import ViTEncoderBlock

__all__ = ["vision_transformer", "vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14"]


def vision_transformer(image_size: Any, patch_size: int, num_layers: int, num_heads: int,
                       hidden_dim: int, mlp_dim: int, dropout: float = 0.0,
                       attention_dropout: float = 0.0, num_classes: int = 1000,
                       representation_size: int | None = None) -> Sequential:
    """torchvision's ``VisionTransformer`` (torchvision/models/vision_transformer.py), same
    arguments; input ``(3, image_size, image_size)`` (torchvision asserts that size).

    Rows: ``conv_proj`` (``Conv2d(3, hidden_dim, patch_size, stride=patch_size)``),
    ``reshape`` and ``permute`` (views) to ``(N, hidden_dim)`` with ``N = (image_size //
    patch_size)^2`` patches, ``class_token`` (``torch.cat`` of the learned token: `ClassToken`),
    ``encoder.pos_embedding`` (a learned ``(N + 1, hidden_dim)`` table, added whole:
    `PositionalEmbedding` with ``rows="all"``, so another image size is a `ShapeError`),
    ``encoder.dropout``, ``encoder.layers.encoder_layer_0`` ... (`ViTEncoderBlock`),
    ``encoder.ln``, ``select`` (``x[:, 0]``, the class token) and ``heads.head``.

    torchvision's ``_ops`` ("GFLOPS") is our ``macs``: conv and linear MACs plus the attention
    matmuls ``QK^T`` and ``PV`` (``2*N'^2*hidden_dim`` per layer with ``N' = N + 1``). At 224
    that is 17,563,828,224 for ViT-B/16 (torchvision: 17.564) and 4,409,186,304 for
    ViT-B/32 (4.409); without the attention matmuls it would be 16.849 and 4.363.

    >>> from layercalc import analyze
    >>> t = analyze(vit_b_16(), (3, 224, 224)).total
    >>> t.params, t.macs
    (86567656, 17563828224)
    """
    for name, v in (("num_layers", num_layers),):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise LayerSpecError("VisionTransformer", f"{name} (={v!r}) must be a non-negative "
                                 "integer")
    if type(image_size) is int and type(patch_size) is int and image_size % patch_size:
        raise LayerSpecError("VisionTransformer", f"image_size (={image_size}) must be "
                             f"divisible by patch_size (={patch_size})")
    seq_length = fdiv(image_size, patch_size) ** 2 + 1
    block = ViTEncoderBlock(num_heads, hidden_dim, mlp_dim, dropout, attention_dropout)
    layers = Sequential(OrderedDict((f"encoder_layer_{i}", block) for i in range(num_layers)))
    encoder = Sequential(OrderedDict([
        ("pos_embedding", PositionalEmbedding(seq_length, hidden_dim, rows="all")),
        ("dropout", Dropout(dropout)),
        ("layers", layers),
        ("ln", LayerNorm(hidden_dim, 1e-6)),
    ]))
    if representation_size is None:
        heads = Sequential(OrderedDict(head=Linear(hidden_dim, num_classes)))
    else:
        heads = Sequential(OrderedDict([("pre_logits", Linear(hidden_dim, representation_size)),
                                        ("act", Tanh()),
                                        ("head", Linear(representation_size, num_classes))]))
    return Sequential(OrderedDict([
        ("conv_proj", Conv2d(3, hidden_dim, patch_size, patch_size)),
        ("reshape", Flatten(2)),
        ("permute", Transpose(1, 2)),
        ("class_token", ClassToken(hidden_dim)),
        ("encoder", encoder),
        ("select", Select(1, 0)),
        ("heads", heads),
    ]))


def vit_b_16(num_classes: int = 1000, image_size: Any = 224) -> Sequential:
    """ViT-B/16 (patch 16, 12 layers, 12 heads, 768 wide, MLP 3072), torchvision's
    ``vit_b_16``: 86,567,656 params at 224."""
    return vision_transformer(image_size, 16, 12, 12, 768, 3072, num_classes=num_classes)


def vit_b_32(num_classes: int = 1000, image_size: Any = 224) -> Sequential:
    """ViT-B/32 (patch 32, 12 layers, 12 heads, 768 wide, MLP 3072), torchvision's
    ``vit_b_32``: 88,224,232 params at 224."""
    return vision_transformer(image_size, 32, 12, 12, 768, 3072, num_classes=num_classes)


def vit_l_16(num_classes: int = 1000, image_size: Any = 224) -> Sequential:
    """ViT-L/16 (patch 16, 24 layers, 16 heads, 1024 wide, MLP 4096), torchvision's
    ``vit_l_16``: 304,326,632 params at 224."""
    return vision_transformer(image_size, 16, 24, 16, 1024, 4096, num_classes=num_classes)


def vit_l_32(num_classes: int = 1000, image_size: Any = 224) -> Sequential:
    """ViT-L/32 (patch 32, 24 layers, 16 heads, 1024 wide, MLP 4096), torchvision's
    ``vit_l_32``: 306,535,400 params at 224."""
    return vision_transformer(image_size, 32, 24, 16, 1024, 4096, num_classes=num_classes)


def vit_h_14(num_classes: int = 1000, image_size: Any = 224) -> Sequential:
    """ViT-H/14 (patch 14, 32 layers, 16 heads, 1280 wide, MLP 5120), torchvision's
    ``vit_h_14``: 632,045,800 params at 224 (633,470,440 at 518, its SWAG weights' size)."""
    return vision_transformer(image_size, 14, 32, 16, 1280, 5120, num_classes=num_classes)
