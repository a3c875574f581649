"""The U-Net of Ronneberger, Fischer and Brox, "U-Net: Convolutional Networks for Biomedical
Image Segmentation", MICCAI 2015, https://arxiv.org/abs/1505.04597 (Figure 1), built with the
graph API: the skip connections cross the whole network, which containers express only by
nesting every level inside the previous one.

As the paper: unpadded ("valid") 3x3 convolutions, each followed by a ReLU, two per level;
2x2 max pooling with stride 2; 64 channels doubling to 1024; each expansive step an "up-
convolution" (a 2x2 transposed convolution with stride 2 halving the channels), the
*cropped* contracting feature map concatenated to it, two 3x3 convolutions; a final 1x1
convolution to the classes. 1x572x572 in, 2x388x388 out, 31,030,658 parameters (biases
included; the paper has no BatchNorm). The drop-out layers "at the end of the contracting
path" (Section 3) are the identity at inference and are left out.

The crop: the paper crops the skip connection "due to the loss of border pixels in every
convolution". Here it is a `Getitem` node (``skip[:, c:-c, c:-c]``, a view with no cost)
named ``crop1`` .. ``crop4``, with `c` the fixed border each level loses (88, 40, 16, 4 at
every size whose pooled maps are even, as the paper requires of the tile size). The crops
are constants, not computed per input, so an input size that breaks the paper's rule gives
mismatched sizes at a concatenation: the numeric analysis raises `ShapeError` there, and a
symbolic analysis records the equality as an assumption that fails when evaluated at that
size (573x573, say).
"""

from __future__ import annotations

from collections import OrderedDict

from ..errors import LayerSpecError
from ..graph import Graph, Input, Tensor, cat
from ..layers import Conv2d, ConvTranspose2d, Getitem, MaxPool2d, ReLU
from ..network import Sequential

__all__ = ["unet", "double_conv"]


def double_conv(in_channels: int, out_channels: int) -> Sequential:
    """Two unpadded 3x3 convolutions, each followed by a ReLU (one level of Figure 1)."""
    return Sequential(OrderedDict(
        conv1=Conv2d(in_channels, out_channels, 3), relu1=ReLU(inplace=True),
        conv2=Conv2d(out_channels, out_channels, 3), relu2=ReLU(inplace=True),
    ))


def unet(in_channels: int = 1, num_classes: int = 2, input_shape: tuple | None = None,
         base: int = 64, depth: int = 4) -> Graph:
    """The 2015 U-Net as a `Graph` declared on `input_shape` (default ``(in_channels, 572,
    572)``, the paper's tile). `base` channels at the first level, doubling over `depth`
    poolings. Paths: ``enc1`` .. ``enc4``, ``pool1`` .. ``pool4``, ``bottleneck``, then per
    level ``up4`` (the up-convolution), ``crop4``, ``cat4``, ``dec4``, down to level 1, and
    ``out``.

    >>> from layercalc import analyze
    >>> r = analyze(unet())
    >>> r.input_shape, r.output_shape, r.total.params
    ((1, 572, 572), (2, 388, 388), 31030658)
    >>> [row.layer for row in r.rows if row.path.startswith("crop")]
    [Getitem[:, 4:-4, 4:-4], Getitem[:, 16:-16, 16:-16], Getitem[:, 40:-40, 40:-40], Getitem[:, 88:-88, 88:-88]]
    """
    shape = (in_channels, 572, 572) if input_shape is None else tuple(input_shape)
    x = Input(shape, name="x")
    skips: list[Tensor] = []
    t, c = x, in_channels
    for level in range(1, depth + 1):
        out = base * 2 ** (level - 1)
        t = double_conv(c, out)(t, name=f"enc{level}")
        skips.append(t)
        t = MaxPool2d(2)(t, name=f"pool{level}")
        c = out
    t = double_conv(c, 2 * c)(t, name="bottleneck")
    c = 2 * c
    for level in range(depth, 0, -1):
        out = c // 2
        up = ConvTranspose2d(c, out, 2, stride=2)(t, name=f"up{level}")
        skip = skips[level - 1]
        crop = []
        for axis in (1, 2):
            d = skip.shape[axis] - up.shape[axis]
            if not isinstance(d, int) or d < 0 or d % 2:
                raise LayerSpecError("unet", f"input_shape (={shape}) does not give an even "
                                     f"border to crop at level {level} (skip {skip.shape}, "
                                     f"up-convolution {up.shape})",
                                     "The paper's rule: every 2x2 max pooling must see an "
                                     "even size (572, 508, 444 ... for depth 4).")
            crop.append(slice(d // 2, -(d // 2)) if d else slice(None))
        skip = Getitem((slice(None), *crop))(skip, name=f"crop{level}")
        t = cat([skip, up], name=f"cat{level}")
        t = double_conv(2 * out, out)(t, name=f"dec{level}")
        c = out
    t = Conv2d(c, num_classes, 1)(t, name="out")
    return Graph(x, t, name="unet")
