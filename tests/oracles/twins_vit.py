"""Plain-PyTorch twins of the zoo's ConvNeXt, Swin (V1, V2) and MaxViT models, used as oracles.

Written from the papers (Liu et al. 2022, "A ConvNet for the 2020s"; Liu et al. 2021, "Swin
Transformer"; Liu et al. 2022, "Swin Transformer V2"; Tu et al. 2022, "MaxViT") and the
structure of torchvision 0.29.1's ``convnext.py``, ``swin_transformer.py`` and ``maxvit.py``,
*without* importing torchvision. Module names, and how each forward computes (``F.linear``
with a module's weights, ``Tensor.matmul`` versus ``@`` versus ``torch.einsum``, ``F.pad``,
``torch.roll``), follow torchvision, so that

* module paths (``named_modules()``) are torchvision's, and layercalc's report rows can be
  compared with them one by one;
* the peer tools, which react to exactly those calls, count these twins as they count
  torchvision's models (checked at development time against torchvision itself: every tool
  gave the same number on twin and original; ``generate_peer_numbers_vit.py`` records them).

`MODEL_BUILDERS` maps each zoo name to a builder taking the zoo builder's keyword arguments
(``num_classes``, ...). `TORCHVISION_NUM_PARAMS` and `TORCHVISION_GFLOPS` are the published
weights metadata (``num_params``, ``_ops``); `CROP` the weights' crop size.

Importing this module requires torch; under pytest it skips cleanly when torch is missing.
"""

from __future__ import annotations

import math
import sys
from collections import OrderedDict
from functools import partial
from typing import Any, Callable

try:
    import torch
    import torch.nn.functional as F
    from torch import Tensor, nn
except ImportError:  # pragma: no cover - depends on the environment
    if "pytest" in sys.modules:
        import pytest

        pytest.skip("torch not installed: pip install -e '.[oracle]' (torch==2.13.0 CPU) to "
                    "run the PyTorch oracle tests", allow_module_level=True)
    raise

__all__ = ["MODEL_BUILDERS", "TORCHVISION_NUM_PARAMS", "TORCHVISION_GFLOPS", "CROP",
           "LayerNorm2d", "Permute", "StochasticDepth", "ShiftedWindowAttention",
           "ShiftedWindowAttentionV2", "WindowPartition", "WindowDepartition",
           "shifted_window_mask", "relative_position_index"]


# -- shared pieces ------------------------------------------------------------------------------
class Permute(nn.Module):
    """``torch.permute(x, dims)`` as a module (torchvision.ops.misc.Permute)."""

    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: Tensor) -> Tensor:
        return torch.permute(x, self.dims)


class StochasticDepth(nn.Module):
    """Drops whole residual branches in training (Huang et al. 2016); identity in eval."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        shape = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        keep = x.new_empty(shape).bernoulli_(1.0 - self.p)
        return x * keep / (1.0 - self.p)


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an ``(N, C, H, W)`` tensor (ConvNeXt)."""

    def forward(self, x: Tensor) -> Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


def conv_norm_act(cin: int, cout: int, k: int, stride: int = 1, padding: int | None = None,
                  groups: int = 1, norm: Callable | None = nn.BatchNorm2d,
                  act: Callable | None = nn.ReLU, bias: bool | None = None) -> nn.Sequential:
    """Conv2d -> norm -> activation (torchvision.ops.misc.Conv2dNormActivation)."""
    padding = (k - 1) // 2 if padding is None else padding
    bias = norm is None if bias is None else bias
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, padding, groups=groups,
                                         bias=bias)]
    if norm is not None:
        layers.append(norm(cout))
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


def mlp(dim: int, hidden: int, dropout: float) -> nn.Sequential:
    """torchvision.ops.MLP(dim, [hidden, dim], activation_layer=nn.GELU)."""
    return nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(hidden, dim), nn.Dropout(dropout))


def relative_position_index(wh: int, ww: int) -> Tensor:
    """``index[i, j]`` of the relative offset of token ``i`` from token ``j`` in a window,
    ``(dy + wh - 1)(2ww - 1) + dx + ww - 1`` (Swin Eq. 4's table lookup)."""
    ys, xs = torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing="ij")
    ys, xs = ys.flatten(), xs.flatten()
    dy = ys[:, None] - ys[None, :] + wh - 1
    dx = xs[:, None] - xs[None, :] + ww - 1
    return dy * (2 * ww - 1) + dx


# -- ConvNeXt -----------------------------------------------------------------------------------
class CNBlock(nn.Module):
    def __init__(self, dim: int, layer_scale: float, sd_prob: float) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, 7, padding=3, groups=dim), Permute([0, 2, 3, 1]),
            nn.LayerNorm(dim, eps=1e-6), nn.Linear(dim, 4 * dim), nn.GELU(),
            nn.Linear(4 * dim, dim), Permute([0, 3, 1, 2]))
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)
        self.stochastic_depth = StochasticDepth(sd_prob, "row")

    def forward(self, x: Tensor) -> Tensor:
        out = self.layer_scale * self.block(x)
        out = self.stochastic_depth(out)
        out += x
        return out


class ConvNeXt(nn.Module):
    def __init__(self, setting: list, stochastic_depth_prob: float = 0.0,
                 layer_scale: float = 1e-6, num_classes: int = 1000) -> None:
        super().__init__()
        ln = partial(LayerNorm2d, eps=1e-6)
        layers: list[nn.Module] = [conv_norm_act(3, setting[0][0], 4, 4, 0, norm=ln, act=None,
                                                 bias=True)]
        total, i = sum(n for *_, n in setting), 0
        for cin, cout, n in setting:
            stage = []
            for _ in range(n):
                stage.append(CNBlock(cin, layer_scale, stochastic_depth_prob * i / (total - 1)))
                i += 1
            layers.append(nn.Sequential(*stage))
            if cout is not None:
                layers.append(nn.Sequential(ln(cin), nn.Conv2d(cin, cout, 2, 2)))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        last = setting[-1][1] or setting[-1][0]
        self.classifier = nn.Sequential(ln(last), nn.Flatten(1), nn.Linear(last, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)))


_CONVNEXT = {
    "convnext_tiny": ([(96, 192, 3), (192, 384, 3), (384, 768, 9), (768, None, 3)], 0.1),
    "convnext_small": ([(96, 192, 3), (192, 384, 3), (384, 768, 27), (768, None, 3)], 0.4),
    "convnext_base": ([(128, 256, 3), (256, 512, 3), (512, 1024, 27), (1024, None, 3)], 0.5),
    "convnext_large": ([(192, 384, 3), (384, 768, 3), (768, 1536, 27), (1536, None, 3)], 0.5),
}


# -- Swin ---------------------------------------------------------------------------------------
def shifted_window_mask(pad_h: int, pad_w: int, window: list[int], shift: list[int],
                        like: Tensor) -> Tensor:
    """The ``(windows, N, N)`` mask of shifted windows: 0 within a region, -100 across."""
    labels = like.new_zeros((pad_h, pad_w))
    hs = ((0, -window[0]), (-window[0], -shift[0]), (-shift[0], None))
    ws = ((0, -window[1]), (-window[1], -shift[1]), (-shift[1], None))
    n = 0
    for a, b in hs:
        for c, d in ws:
            labels[a:b, c:d] = n
            n += 1
    labels = labels.view(pad_h // window[0], window[0], pad_w // window[1], window[1])
    labels = labels.permute(0, 2, 1, 3).reshape(-1, window[0] * window[1])
    diff = labels.unsqueeze(1) - labels.unsqueeze(2)
    return diff.masked_fill(diff != 0, -100.0).masked_fill(diff == 0, 0.0)


def _window_attention(x: Tensor, qkv: nn.Linear, proj: nn.Linear, bias: Tensor,
                      window: list[int], heads: int, shift: list[int],
                      logit_scale: Tensor | None = None) -> Tensor:
    """Swin's (shifted) window attention on ``(B, H, W, C)``, computed as torchvision does."""
    b, h, w, c = x.shape
    pad_r = (window[1] - w % window[1]) % window[1]
    pad_b = (window[0] - h % window[0]) % window[0]
    x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
    _, ph, pw, _ = x.shape
    shift = list(shift)
    if window[0] >= ph:
        shift[0] = 0
    if window[1] >= pw:
        shift[1] = 0
    if sum(shift) > 0:
        x = torch.roll(x, shifts=(-shift[0], -shift[1]), dims=(1, 2))
    nw = (ph // window[0]) * (pw // window[1])
    x = x.view(b, ph // window[0], window[0], pw // window[1], window[1], c)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b * nw, window[0] * window[1], c)
    qkv_bias = qkv.bias
    if logit_scale is not None and qkv_bias is not None:
        qkv_bias = qkv_bias.clone()
        qkv_bias[c: 2 * c].zero_()
    t = F.linear(x, qkv.weight, qkv_bias)
    t = t.reshape(x.size(0), x.size(1), 3, heads, c // heads).permute(2, 0, 3, 1, 4)
    q, k, v = t[0], t[1], t[2]
    if logit_scale is not None:
        attn = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
        attn = attn * torch.clamp(logit_scale, max=math.log(100.0)).exp()
    else:
        q = q * (c // heads) ** -0.5
        attn = q.matmul(k.transpose(-2, -1))
    attn = attn + bias
    if sum(shift) > 0:
        mask = shifted_window_mask(ph, pw, window, shift, x)
        n = x.size(1)
        attn = attn.view(x.size(0) // nw, nw, heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
        attn = attn.view(-1, heads, n, n)
    attn = F.softmax(attn, dim=-1)
    x = attn.matmul(v).transpose(1, 2).reshape(x.size(0), x.size(1), c)
    x = F.linear(x, proj.weight, proj.bias)
    x = x.view(b, ph // window[0], pw // window[1], window[0], window[1], c)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, ph, pw, c)
    if sum(shift) > 0:
        x = torch.roll(x, shifts=(shift[0], shift[1]), dims=(1, 2))
    return x[:, :h, :w, :].contiguous()


class ShiftedWindowAttention(nn.Module):
    """W-MSA / SW-MSA with a learned relative position bias table (Swin V1)."""

    def __init__(self, dim: int, window: list[int], shift: list[int], heads: int) -> None:
        super().__init__()
        self.window_size, self.shift_size, self.num_heads = window, shift, heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * window[0] - 1) * (2 * window[1] - 1), heads))
        self.register_buffer("relative_position_index",
                             relative_position_index(*window).flatten())

    def _bias(self, table: Tensor) -> Tensor:
        n = self.window_size[0] * self.window_size[1]
        b = table[self.relative_position_index].view(n, n, -1)
        return b.permute(2, 0, 1).contiguous().unsqueeze(0)

    def forward(self, x: Tensor) -> Tensor:
        return _window_attention(x, self.qkv, self.proj,
                                 self._bias(self.relative_position_bias_table),
                                 self.window_size, self.num_heads, self.shift_size)


class ShiftedWindowAttentionV2(ShiftedWindowAttention):
    """Scaled cosine attention with a continuous (log-spaced) position bias (Swin V2)."""

    def __init__(self, dim: int, window: list[int], shift: list[int], heads: int) -> None:
        super().__init__(dim, window, shift, heads)
        del self.relative_position_bias_table
        dy = torch.arange(-(window[0] - 1), window[0], dtype=torch.float32) / (window[0] - 1)
        dx = torch.arange(-(window[1] - 1), window[1], dtype=torch.float32) / (window[1] - 1)
        table = torch.stack(torch.meshgrid(dy, dx, indexing="ij"), -1).unsqueeze(0) * 8
        table = torch.sign(table) * torch.log2(table.abs() + 1.0) / 3.0
        self.register_buffer("relative_coords_table", table)
        self.logit_scale = nn.Parameter(torch.log(10 * torch.ones((heads, 1, 1))))
        self.cpb_mlp = nn.Sequential(nn.Linear(2, 512), nn.ReLU(inplace=True),
                                     nn.Linear(512, heads, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        bias = 16 * torch.sigmoid(self._bias(
            self.cpb_mlp(self.relative_coords_table).view(-1, self.num_heads)))
        return _window_attention(x, self.qkv, self.proj, bias, self.window_size,
                                 self.num_heads, self.shift_size, self.logit_scale)


class SwinBlock(nn.Module):
    def __init__(self, dim: int, heads: int, window: list[int], shift: list[int],
                 mlp_ratio: float, dropout: float, sd_prob: float, v2: bool) -> None:
        super().__init__()
        self.v2 = v2
        self.norm1 = nn.LayerNorm(dim)
        attn = ShiftedWindowAttentionV2 if v2 else ShiftedWindowAttention
        self.attn = attn(dim, window, shift, heads)
        self.stochastic_depth = StochasticDepth(sd_prob, "row")
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = mlp(dim, int(dim * mlp_ratio), dropout)

    def forward(self, x: Tensor) -> Tensor:
        if self.v2:
            x = x + self.stochastic_depth(self.norm1(self.attn(x)))
            return x + self.stochastic_depth(self.norm2(self.mlp(x)))
        x = x + self.stochastic_depth(self.attn(self.norm1(x)))
        return x + self.stochastic_depth(self.mlp(self.norm2(x)))


def _merge_gather(x: Tensor) -> Tensor:
    h, w = x.shape[-3], x.shape[-2]
    x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
    return torch.cat([x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :], x[..., 0::2, 1::2, :],
                      x[..., 1::2, 1::2, :]], -1)


class PatchMerging(nn.Module):
    def __init__(self, dim: int, v2: bool) -> None:
        super().__init__()
        self.v2 = v2
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(2 * dim if v2 else 4 * dim)

    def forward(self, x: Tensor) -> Tensor:
        x = _merge_gather(x)
        return self.norm(self.reduction(x)) if self.v2 else self.reduction(self.norm(x))


class SwinTransformer(nn.Module):
    def __init__(self, embed_dim: int, depths: list[int], heads: list[int], window: int,
                 stochastic_depth_prob: float, v2: bool, mlp_ratio: float = 4.0,
                 dropout: float = 0.0, attention_dropout: float = 0.0,
                 num_classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Sequential(nn.Conv2d(3, embed_dim, 4, 4),
                                                 Permute([0, 2, 3, 1]), nn.LayerNorm(embed_dim))]
        total, k = sum(depths), 0
        for i, (depth, h) in enumerate(zip(depths, heads)):
            dim = embed_dim * 2 ** i
            stage = []
            for j in range(depth):
                shift = [0, 0] if j % 2 == 0 else [window // 2] * 2
                stage.append(SwinBlock(dim, h, [window, window], shift, mlp_ratio, dropout,
                                       stochastic_depth_prob * k / (total - 1), v2))
                k += 1
            layers.append(nn.Sequential(*stage))
            if i < len(depths) - 1:
                layers.append(PatchMerging(dim, v2))
        self.features = nn.Sequential(*layers)
        features = embed_dim * 2 ** (len(depths) - 1)
        self.norm = nn.LayerNorm(features)
        self.permute = Permute([0, 3, 1, 2])
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.head = nn.Linear(features, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.permute(self.norm(self.features(x)))
        return self.head(self.flatten(self.avgpool(x)))


_SWIN = {
    "swin_t": (96, [2, 2, 6, 2], [3, 6, 12, 24], 7, 0.2, False),
    "swin_s": (96, [2, 2, 18, 2], [3, 6, 12, 24], 7, 0.3, False),
    "swin_b": (128, [2, 2, 18, 2], [4, 8, 16, 32], 7, 0.5, False),
    "swin_v2_t": (96, [2, 2, 6, 2], [3, 6, 12, 24], 8, 0.2, True),
    "swin_v2_s": (96, [2, 2, 18, 2], [3, 6, 12, 24], 8, 0.3, True),
    "swin_v2_b": (128, [2, 2, 18, 2], [4, 8, 16, 32], 8, 0.5, True),
}


# -- MaxViT -------------------------------------------------------------------------------------
class SqueezeExcitation(nn.Module):
    def __init__(self, channels: int, squeeze: int, act: Callable = nn.ReLU) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = act()
        self.scale_activation = nn.Sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        s = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return s * x


class MBConv(nn.Module):
    def __init__(self, cin: int, cout: int, expansion: float, squeeze: float, stride: int,
                 sd_prob: float) -> None:
        super().__init__()
        bn = partial(nn.BatchNorm2d, eps=1e-3, momentum=0.01)
        if stride != 1 or cin != cout:
            proj: list[nn.Module] = [nn.Conv2d(cin, cout, 1)]
            if stride == 2:
                proj = [nn.AvgPool2d(3, stride, 1)] + proj
            self.proj: nn.Module = nn.Sequential(*proj)
        else:
            self.proj = nn.Identity()
        mid, sqz = int(cout * expansion), int(cout * squeeze)
        self.stochastic_depth = StochasticDepth(sd_prob, "row") if sd_prob else nn.Identity()
        self.layers = nn.Sequential(OrderedDict([
            ("pre_norm", bn(cin)),
            ("conv_a", conv_norm_act(cin, mid, 1, 1, 0, norm=bn, act=nn.GELU)),
            ("conv_b", conv_norm_act(mid, mid, 3, stride, 1, groups=mid, norm=bn, act=nn.GELU)),
            ("squeeze_excitation", SqueezeExcitation(mid, sqz, nn.SiLU)),
            ("conv_c", nn.Conv2d(mid, cout, 1)),
        ]))

    def forward(self, x: Tensor) -> Tensor:
        res = self.proj(x)
        return res + self.stochastic_depth(self.layers(x))


class RelativePositionalMultiHeadAttention(nn.Module):
    def __init__(self, feat_dim: int, head_dim: int, max_seq_len: int) -> None:
        super().__init__()
        self.n_heads, self.head_dim = feat_dim // head_dim, head_dim
        self.size, self.max_seq_len = int(math.sqrt(max_seq_len)), max_seq_len
        self.to_qkv = nn.Linear(feat_dim, 3 * feat_dim)
        self.scale_factor = feat_dim ** -0.5
        self.merge = nn.Linear(feat_dim, feat_dim)
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * self.size - 1) ** 2, self.n_heads))
        self.register_buffer("relative_position_index",
                             relative_position_index(self.size, self.size))

    def forward(self, x: Tensor) -> Tensor:
        b, g, p, d = x.shape
        h, dh = self.n_heads, self.head_dim
        q, k, v = torch.chunk(self.to_qkv(x), 3, dim=-1)
        q, k, v = (t.reshape(b, g, p, h, dh).permute(0, 1, 3, 2, 4) for t in (q, k, v))
        k = k * self.scale_factor
        scores = torch.einsum("B G H I D, B G H J D -> B G H I J", q, k)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        bias = bias.view(self.max_seq_len, self.max_seq_len, -1).permute(2, 0, 1).contiguous()
        attn = F.softmax(scores + bias.unsqueeze(0), dim=-1)
        out = torch.einsum("B G H I J, B G H J D -> B G H I D", attn, v)
        return self.merge(out.permute(0, 1, 3, 2, 4).reshape(b, g, p, d))


class SwapAxes(nn.Module):
    def __init__(self, a: int, b: int) -> None:
        super().__init__()
        self.a, self.b = a, b

    def forward(self, x: Tensor) -> Tensor:
        return torch.swapaxes(x, self.a, self.b)


class WindowPartition(nn.Module):
    """``(B, C, H, W) -> (B, (H/p)(W/p), p*p, C)``."""

    def forward(self, x: Tensor, p: int) -> Tensor:
        b, c, h, w = x.shape
        x = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1)
        return x.reshape(b, (h // p) * (w // p), p * p, c)


class WindowDepartition(nn.Module):
    """``(B, hp*wp, p*p, C) -> (B, C, hp*p, wp*p)``."""

    def forward(self, x: Tensor, p: int, hp: int, wp: int) -> Tensor:
        b, _, _, c = x.shape
        x = x.reshape(b, hp, wp, p, p, c).permute(0, 5, 1, 3, 2, 4)
        return x.reshape(b, c, hp * p, wp * p)


class PartitionAttentionLayer(nn.Module):
    def __init__(self, channels: int, head_dim: int, partition: int, kind: str,
                 grid: tuple[int, int], mlp_ratio: int, attention_dropout: float,
                 mlp_dropout: float, sd_prob: float) -> None:
        super().__init__()
        self.grid_size = grid
        n = grid[0] // partition
        self.p = partition if kind == "window" else n
        self.partition_op = WindowPartition()
        self.departition_op = WindowDepartition()
        self.partition_swap = SwapAxes(-2, -3) if kind == "grid" else nn.Identity()
        self.departition_swap = SwapAxes(-2, -3) if kind == "grid" else nn.Identity()
        self.attn_layer = nn.Sequential(
            nn.LayerNorm(channels),
            RelativePositionalMultiHeadAttention(channels, head_dim, partition ** 2),
            nn.Dropout(attention_dropout))
        self.mlp_layer = nn.Sequential(
            nn.LayerNorm(channels), nn.Linear(channels, channels * mlp_ratio), nn.GELU(),
            nn.Linear(channels * mlp_ratio, channels), nn.Dropout(mlp_dropout))
        self.stochastic_dropout = StochasticDepth(sd_prob, "row")

    def forward(self, x: Tensor) -> Tensor:
        gh, gw = self.grid_size[0] // self.p, self.grid_size[1] // self.p
        x = self.partition_swap(self.partition_op(x, self.p))
        x = x + self.stochastic_dropout(self.attn_layer(x))
        x = x + self.stochastic_dropout(self.mlp_layer(x))
        return self.departition_op(self.departition_swap(x), self.p, gh, gw)


class MaxVitLayer(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, sd_prob: float,
                 grid: tuple[int, int], head_dim: int = 32, partition: int = 7,
                 squeeze_ratio: float = 0.25, expansion_ratio: float = 4, mlp_ratio: int = 4,
                 mlp_dropout: float = 0.0, attention_dropout: float = 0.0) -> None:
        super().__init__()
        self.layers = nn.Sequential(OrderedDict([
            ("MBconv", MBConv(cin, cout, expansion_ratio, squeeze_ratio, stride, sd_prob)),
            ("window_attention", PartitionAttentionLayer(
                cout, head_dim, partition, "window", grid, mlp_ratio, attention_dropout,
                mlp_dropout, sd_prob)),
            ("grid_attention", PartitionAttentionLayer(
                cout, head_dim, partition, "grid", grid, mlp_ratio, attention_dropout,
                mlp_dropout, sd_prob)),
        ]))

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


class MaxVitBlock(nn.Module):
    def __init__(self, cin: int, cout: int, n: int, probs: list[float],
                 grid: tuple[int, int], **kw: Any) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            MaxVitLayer(cin if i == 0 else cout, cout, 2 if i == 0 else 1, probs[i], grid, **kw)
            for i in range(n))

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class MaxVit(nn.Module):
    def __init__(self, input_size: tuple[int, int] = (224, 224), num_classes: int = 1000,
                 stochastic_depth_prob: float = 0.2, stem_channels: int = 64,
                 block_channels: tuple[int, ...] = (64, 128, 256, 512),
                 block_layers: tuple[int, ...] = (2, 2, 5, 2), **kw: Any) -> None:
        super().__init__()
        bn = partial(nn.BatchNorm2d, eps=1e-3, momentum=0.01)
        self.stem = nn.Sequential(
            conv_norm_act(3, stem_channels, 3, 2, norm=bn, act=nn.GELU, bias=False),
            conv_norm_act(stem_channels, stem_channels, 3, 1, norm=None, act=None, bias=True))
        down = lambda s: ((s[0] - 1) // 2 + 1, (s[1] - 1) // 2 + 1)  # noqa: E731
        grid = down(tuple(input_size))
        total = sum(block_layers)
        probs = [stochastic_depth_prob * i / (total - 1) for i in range(total)]
        self.blocks = nn.ModuleList()
        cin, k = stem_channels, 0
        for cout, n in zip(block_channels, block_layers):
            grid = down(grid)
            self.blocks.append(MaxVitBlock(cin, cout, n, probs[k:k + n], grid, **kw))
            cin, k = cout, k + n
        c = block_channels[-1]
        self.classifier = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.LayerNorm(c), nn.Linear(c, c),
            nn.Tanh(), nn.Linear(c, num_classes, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.classifier(x)


# -- the table ----------------------------------------------------------------------------------
def _convnext(name: str, **kw: Any) -> ConvNeXt:
    setting, sd = _CONVNEXT[name]
    return ConvNeXt(setting, kw.pop("stochastic_depth_prob", sd), **kw)


def _swin(name: str, **kw: Any) -> SwinTransformer:
    e, depths, heads, window, sd, v2 = _SWIN[name]
    return SwinTransformer(e, depths, heads, window, kw.pop("stochastic_depth_prob", sd), v2,
                           **kw)


MODEL_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    **{n: partial(_convnext, n) for n in _CONVNEXT},
    **{n: partial(_swin, n) for n in _SWIN},
    "maxvit_t": MaxVit,
}

#: torchvision 0.29.1 weights metadata ``num_params`` (IMAGENET1K_V1).
TORCHVISION_NUM_PARAMS = {
    "convnext_tiny": 28_589_128, "convnext_small": 50_223_688, "convnext_base": 88_591_464,
    "convnext_large": 197_767_336, "swin_t": 28_288_354, "swin_s": 49_606_258,
    "swin_b": 87_768_224, "swin_v2_t": 28_351_570, "swin_v2_s": 49_737_442,
    "swin_v2_b": 87_930_848, "maxvit_t": 30_919_624,
}

#: torchvision 0.29.1 weights metadata ``_ops`` (GFLOPS at the crop size).
TORCHVISION_GFLOPS = {
    "convnext_tiny": 4.456, "convnext_small": 8.684, "convnext_base": 15.355,
    "convnext_large": 34.361, "swin_t": 4.491, "swin_s": 8.741, "swin_b": 15.431,
    "swin_v2_t": 5.94, "swin_v2_s": 11.546, "swin_v2_b": 20.325, "maxvit_t": 5.558,
}

#: The crop size of each model's weights (its transforms' ``crop_size``).
CROP = {n: 256 if n.startswith("swin_v2") else 224 for n in MODEL_BUILDERS}
