"""Blocks of the window-attention vision models and ConvNeXt, as torchvision 0.29.1 writes
them: Swin's shifted-window attention (V1 and V2), its blocks and patch merging, ConvNeXt's
``CNBlock``, MaxViT's ``MBConv`` and block/grid ``PartitionAttentionLayer``.

As in `layercalc.blocks`, a block is a composite of catalog layers with no formula of its own,
so its cost is the sum of its rows, and child names follow torchvision, so report paths read
like ``named_modules()`` (``features.1.0.attn.qkv``, ``features.1.0.block.3``,
``blocks.0.layers.0.layers.window_attention.attn_layer.1.to_qkv``).

Where torchvision computes something inside a module's ``forward`` rather than in a
submodule, the rows sit under that module's path with ``call="functional"`` (a ``torch``/
``F`` function) or ``call="operator"`` (a Python operator), which is what decides whether a
peer tool sees them (`layercalc.peers`). In Swin's ``shifted_window_attention`` (all under
``attn``):

=========================  =========================================  ==========  =====
row                        what torchvision computes                  call        once
=========================  =========================================  ==========  =====
relative_position_bias     ``table[index]`` gather, permute (V1)      functional  yes
relative_coords_table      V2's log-spaced coordinates buffer         functional  yes
cpb_mlp.0, .1, .2          V2's position MLP (an ``nn.Sequential``)   module      yes
relative_position_bias     V2: the gather of the MLP's output         functional  yes
bias_sigmoid, bias_mul16   V2: ``16 * torch.sigmoid(bias)``           funct./op.  yes
logit_scale                V2: ``clamp(logit_scale, log 100).exp()``  functional  yes
pad                        ``F.pad`` to window multiples              functional
roll                       ``torch.roll`` by ``-shift`` (if shifted)  functional
window_partition           view, permute, reshape to windows          functional
qkv                        ``F.linear`` with ``qkv``'s weights        functional
scale_q                    V1: ``q * head_dim**-0.5``                 operator
normalize_q, normalize_k   V2: ``F.normalize(q/k, dim=-1)``           functional
scores                     ``q.matmul(k^T)`` (V1), ``q @ k^T`` (V2)   funct./op.
mul_logit_scale            V2: ``attn * logit_scale``                 operator
add_bias                   ``attn + relative_position_bias``          operator
mask, add_mask             the shifted-window mask and its add        funct./op.  mask
softmax                    ``F.softmax(attn, dim=-1)``                functional
attn_v                     ``attn.matmul(v)``                         functional
proj                       ``F.linear`` with ``proj``'s weights       functional
window_reverse             view, permute, reshape back to the map     functional
roll_back                  ``torch.roll`` by ``+shift`` (if shifted)  functional
unpad                      ``x[:, :H, :W].contiguous()``              functional
=========================  =========================================  ==========  =====

"once" rows are work done once per forward pass whatever the batch (`Row.once`). Eval-mode
``F.dropout`` calls are the identity and get no row; the head merge after ``attn_v``
(``transpose(1, 2).reshape``, a copy) is not counted as traffic.

Padding and shifts follow torchvision exactly for numeric sizes: the map is padded to
multiples of the window (bottom and right), and a shift is dropped on an axis whose padded
size is no larger than the window (``window_size >= pad_H``), so Swin-T's last stage (7x7 at
224) has no roll and no mask. With symbolic sizes the padded size is ``ceiling(H/w)*w`` and,
when it cannot be decided whether the padded map is larger than one window, the ``roll``,
``mask``, ``add_mask`` and ``roll_back`` rows are multiplied by the indicator
``min(1, (Hp - wh) + (Wp - ww))`` (both terms are non-negative multiples of the window, so it
is 1 exactly when the shift applies): exact for every size, and a note on those rows says so.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from functools import partial
from typing import Any

import sympy as sp

from .dims import Dim, as_count, as_dim, divides, exact_div, ge, require, truth
from .errors import LayerSpecError
from .layers import (
    GELU,
    Add,
    AdaptiveAvgPool2d,
    AttentionOutput,
    AttentionScores,
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Identity,
    Layer,
    LayerNorm,
    LayerNorm2d,
    LayerScale,
    Linear,
    LogitScale,
    Mul,
    MulScalar,
    Normalize,
    PatchMergingPad,
    Permute,
    RelativeCoordsTable,
    RelativePositionBias,
    ReLU,
    Roll,
    ShiftedWindowMask,
    Sigmoid,
    SiLU,
    Softmax,
    StochasticDepth,
    Transpose,
    WindowDepartition,
    WindowPad,
    WindowPartition,
    WindowUnpad,
)
from .blocks import Conv2dNormActivation, SqueezeExcitation
from .network import Node, Parallel, Sequential, _Container

__all__ = [
    "ShiftedWindowAttention", "ShiftedWindowAttentionV2", "SwinTransformerBlock",
    "SwinTransformerBlockV2", "PatchMerging", "PatchMergingV2", "CNBlock", "MaxVitMBConv",
    "PartitionAttentionLayer", "MaxVitLayer",
]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and name else (path or name)


def _pair(owner: str, name: str, value: Any) -> tuple[Dim, Dim]:
    vals = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
    if len(vals) != 2:
        raise LayerSpecError(owner, f"{name} (={vals!r}) must be one value or 2 values")
    return tuple(as_dim(v, owner, name, minimum=0 if name == "shift_size" else 1)
                 for v in vals)  # type: ignore[return-value]


# -- containers --------------------------------------------------------------------------------
class _Call(_Container):
    """One layer called as a function or an operator (`call`), optionally once per forward
    pass: ConvNeXt's ``layer_scale * x`` is an operator on a parameter, not a module."""

    def __init__(self, layer: Layer, call: str, once: bool = False) -> None:
        self.layer, self.call, self.once = layer, call, once

    def __repr__(self) -> str:
        return f"_Call({self.layer!r}, {self.call!r})"

    def _walk(self, tracer, x, src, path):
        return tracer.leaf(self.layer, [x], [src], path, call=self.call, once=self.once)


class _Res(_Container):
    """``x + body(x)``: the body's rows under the block, the add an operator row `add`."""

    def __init__(self, body: Node, add: str = "add") -> None:
        self.body, self.add = body, add

    def children(self) -> list[tuple[str, Node]]:
        return [("", self.body)]

    def __repr__(self) -> str:
        return f"_Res({self.body!r}, add={self.add!r})"

    def _walk(self, tracer, x, src, path):
        y, ys = tracer.walk(self.body, x, src, path)
        return tracer.leaf(Add(), [x, y], [src, ys], _join(path, self.add), call="operator")


def _indicator(excess: Any) -> Any:
    """``min(1, excess)`` for a non-negative integer `excess`: 1 when it is positive, else 0.
    Left unevaluated (SymPy's ``Min`` would compare the ceilings inside at length, to no
    avail); substituting numbers evaluates it."""
    return sp.Min(1, as_count(excess), evaluate=False)


_GATE_NOTE = ("shifted windows: roll and mask counted times min(1, (Hp - wh) + (Wp - ww)), "
              "1 when the padded map is larger than one window (torchvision drops the shift "
              "otherwise)")


class _ShiftedWindowAttention(_Container):
    """torchvision's ``shifted_window_attention`` on a channels-last ``(H, W, C)`` map; see
    the module docstring for its rows."""

    def __init__(self, dim: Dim, window_size: tuple, shift_size: tuple, num_heads: Dim,
                 qkv_bias: bool, proj_bias: bool, v2: bool) -> None:
        owner = "ShiftedWindowAttentionV2" if v2 else "ShiftedWindowAttention"
        self.dim, self.num_heads = as_dim(dim, owner, "dim"), as_dim(num_heads, owner,
                                                                      "num_heads")
        self.head_dim = exact_div(self.dim, self.num_heads)
        self.window_size, self.shift_size, self.v2 = window_size, shift_size, v2
        self.qkv = Linear(self.dim, 3 * self.dim, qkv_bias)
        self.proj = Linear(self.dim, self.dim, proj_bias)
        if v2:
            self.cpb_mlp = Sequential(Linear(2, 512), ReLU(), Linear(512, self.num_heads, False))

    def children(self) -> list[tuple[str, Node]]:
        out: list[tuple[str, Node]] = [("qkv", self.qkv), ("proj", self.proj)]
        return out + ([("cpb_mlp", self.cpb_mlp)] if self.v2 else [])

    def __repr__(self) -> str:
        return (f"ShiftedWindowAttention{'V2' if self.v2 else ''}(dim={self.dim}, window_size="
                f"{self.window_size}, shift_size={self.shift_size}, num_heads={self.num_heads})")

    def _bias(self, tracer, path):
        """The relative position bias ``(1, heads, N, N)``, once per forward pass."""
        ws, h = self.window_size, self.num_heads
        if not self.v2:
            return tracer.leaf(RelativePositionBias(ws, h), [()], ["relative_position_bias_table"],
                               _join(path, "relative_position_bias"), call="functional")
        t, ts = tracer.leaf(RelativeCoordsTable(ws), [()], ["relative_coords_table"],
                            _join(path, "relative_coords_table"), call="functional")
        for i, layer in enumerate(self.cpb_mlp):
            t, ts = tracer.leaf(layer, [t], [ts], _join(path, f"cpb_mlp.{i}"), once=True)
        b, bs = tracer.leaf(RelativePositionBias(ws, h, learned=False), [t], [ts],
                            _join(path, "relative_position_bias"), call="functional")
        b, bs = tracer.leaf(Sigmoid(), [b], [bs], _join(path, "bias_sigmoid"),
                            call="functional", once=True)
        return tracer.leaf(MulScalar(16.0), [b], [bs], _join(path, "bias_mul16"),
                           call="operator", once=True)

    def _walk(self, tracer, x, src, path):
        ws, h, d, c = self.window_size, self.num_heads, self.head_dim, self.dim
        bias, bias_src = self._bias(tracer, path)
        if self.v2:
            scale, scale_src = tracer.leaf(LogitScale(h), [()], ["logit_scale"],
                                           _join(path, "logit_scale"), call="functional")
        fn = partial(tracer.leaf, call="functional")
        xp, s = fn(WindowPad(ws), [x], [src], _join(path, "pad"))
        shift, undecided = [], False
        for k, sz, n in zip(ws, self.shift_size, xp[:2]):
            bigger = truth(ge(n, k + 1))  # torchvision: window_size >= pad size -> no shift
            undecided = undecided or (bigger is None and not (type(sz) is int and sz == 0))
            shift.append(0 if bigger is False else sz)
        shifted = not all(type(v) is int and v == 0 for v in shift)
        # symbolic sizes where "larger than one window" is undecided: the shifted rows are
        # multiplied by an indicator, 1 when Hp > wh or Wp > ww and 0 otherwise (exact for
        # integers: both differences are non-negative multiples of the window)
        ind = _indicator((xp[0] - ws[0]) + (xp[1] - ws[1])) if undecided else 1

        def gated(result):
            if undecided:
                row = tracer.rows[-1]
                cost = row.cost.map(lambda e: as_count(e * ind))
                tracer.rows[-1] = replace(row, cost=replace(cost, notes=cost.notes + (
                    _GATE_NOTE,)))
            return result

        if shifted:
            xp, s = gated(fn(Roll((-shift[0], -shift[1]), (1, 2)), [xp], [s],
                             _join(path, "roll")))
        rolled, rolled_src = xp, s
        t, s = fn(WindowPartition(ws, channels_last=True), [xp], [s],
                  _join(path, "window_partition"))
        g, n = t[0], t[1]
        qkv, qs = fn(self.qkv, [t], [s], _join(path, "qkv"))
        heads = (g, h, n, d)
        if self.v2:
            q, q_src = fn(Normalize(dim=-1), [heads], [qs], _join(path, "normalize_q"))
            k, k_src = fn(Normalize(dim=-1), [heads], [qs], _join(path, "normalize_k"))
            a, a_src = tracer.leaf(AttentionScores(h, d, "@"), [q, k], [q_src, k_src],
                                   _join(path, "scores"), call="operator")
            a, a_src = tracer.leaf(Mul(), [a, scale], [a_src, scale_src],
                                   _join(path, "mul_logit_scale"), call="operator")
        else:
            q, q_src = tracer.leaf(MulScalar(d ** -0.5),
                                   [heads], [qs], _join(path, "scale_q"), call="operator")
            a, a_src = fn(AttentionScores(h, d, "matmul"), [q, heads], [q_src, qs],
                          _join(path, "scores"))
        a, a_src = tracer.leaf(Add(), [a, bias], [a_src, bias_src], _join(path, "add_bias"),
                               call="operator")
        if shifted:
            m, ms = gated(fn(ShiftedWindowMask(ws, tuple(shift)), [rolled], [rolled_src],
                             _join(path, "mask")))
            a, a_src = gated(tracer.leaf(Add(), [a, m], [a_src, ms], _join(path, "add_mask"),
                                         call="operator"))
        a, a_src = fn(Softmax(dim=-1), [a], [a_src], _join(path, "softmax"))
        o, os_ = fn(AttentionOutput(h, d, "matmul"), [a, heads], [a_src, qs],
                    _join(path, "attn_v"))
        o, os_ = fn(self.proj, [(g, n, c)], [os_], _join(path, "proj"))
        hp, wp = exact_div(rolled[0], ws[0]), exact_div(rolled[1], ws[1])
        o, os_ = fn(WindowDepartition(ws, hp, wp, channels_last=True), [o], [os_],
                    _join(path, "window_reverse"))
        if shifted:
            o, os_ = gated(fn(Roll((shift[0], shift[1]), (1, 2)), [o], [os_],
                              _join(path, "roll_back")))
        return fn(WindowUnpad(x[0], x[1]), [o], [os_], _join(path, "unpad"))


class _Merging(_Container):
    """Swin's ``PatchMerging`` (V1: gather, norm, reduction) and ``PatchMergingV2`` (gather,
    reduction, norm)."""

    def __init__(self, dim: Dim, v2: bool, eps: float) -> None:
        self.v2 = v2
        self.reduction = Linear(4 * dim, 2 * dim, False)
        self.norm = LayerNorm(2 * dim if v2 else 4 * dim, eps)

    def children(self) -> list[tuple[str, Node]]:
        return [("reduction", self.reduction), ("norm", self.norm)]

    def __repr__(self) -> str:
        return f"PatchMerging{'V2' if self.v2 else ''}({self.reduction!r}, {self.norm!r})"

    def _walk(self, tracer, x, src, path):
        y, s = tracer.leaf(PatchMergingPad(), [x], [src], _join(path, "patch_merging_pad"),
                           call="functional")
        order = [("reduction", self.reduction), ("norm", self.norm)]
        for name, layer in (order if self.v2 else order[::-1]):
            y, s = tracer.walk(layer, y, s, _join(path, name))
        return y, s


# -- Swin --------------------------------------------------------------------------------------
def _window_attention(owner: str, dim: Any, window_size: Any, shift_size: Any, num_heads: Any,
                      qkv_bias: bool, proj_bias: bool, v2: bool) -> _ShiftedWindowAttention:
    ws = _pair(owner, "window_size", window_size)
    ss = _pair(owner, "shift_size", shift_size)
    require(divides(num_heads, dim), owner,
            lambda: f"dim (={dim}) must be divisible by num_heads (={num_heads})")
    for k, s in zip(ws, ss):
        require(ge(k - 1, s), owner, f"shift_size (={ss}) must be smaller than window_size "
                f"(={ws}) on each axis")
    return _ShiftedWindowAttention(dim, ws, ss, num_heads, qkv_bias, proj_bias, v2)


def ShiftedWindowAttention(dim: int, window_size: Any, shift_size: Any, num_heads: int,
                           qkv_bias: bool = True, proj_bias: bool = True,
                           attention_dropout: float = 0.0, dropout: float = 0.0) -> _Container:
    """Swin V1's window attention (W-MSA, or SW-MSA with a shift), torchvision's
    ``ShiftedWindowAttention`` (Liu et al. 2021, sections 3.2-3.3), on ``(H, W, C)``.

    Per block, with ``G`` windows of ``N = wh*ww`` tokens, ``C = dim``, ``h`` heads of ``d =
    C/h`` (all of it times the batch, except the once-per-forward rows)::

        params   3C^2 + 3C (qkv) + C^2 + C (proj) + (2wh-1)(2ww-1) h (table); buffers N^2
        MACs     3 G N C^2 (qkv) + 2 G h N^2 d (QK^T and AV) + G N C^2 (proj)
        ops      G N C mul (q scale), G h N^2 add (bias), G h N^2 add (mask, shifted only),
                 softmax over G h rows of N; the mask itself: G N^2 add, 2 G N^2 cmp (once)

    Dropouts are the identity at inference. Rows: see the `layercalc.vision` docstring.

    >>> from layercalc import analyze
    >>> r = analyze(ShiftedWindowAttention(96, 7, 3, 3), (56, 56, 96))
    >>> r.total.params, r.total.macs   # 4*96**2 + 4*96 + 13*13*3; 4*3136*96**2 + 2*3136*49*96
    (37755, 145108992)
    """
    return _window_attention("ShiftedWindowAttention", dim, window_size, shift_size, num_heads,
                             qkv_bias, proj_bias, False)


def ShiftedWindowAttentionV2(dim: int, window_size: Any, shift_size: Any, num_heads: int,
                             qkv_bias: bool = True, proj_bias: bool = True,
                             attention_dropout: float = 0.0, dropout: float = 0.0) -> _Container:
    """Swin V2's window attention, torchvision's ``ShiftedWindowAttentionV2`` (Liu et al.
    2022, section 3.3): scaled cosine attention ``cos(q, k) * exp(min(logit_scale, log 100))``
    (`Normalize`, `LogitScale`) and a continuous position bias ``16*sigmoid(MLP(table))``
    from the log-spaced coordinates (`RelativeCoordsTable`, ``cpb_mlp``: ``Linear(2, 512)``,
    ReLU, ``Linear(512, h, bias=False)``). As `ShiftedWindowAttention` otherwise, except
    params: the table is replaced by the MLP (``1536 + 512 h``) and ``logit_scale`` (``h``);
    buffers ``N^2 + 2(2wh-1)(2ww-1)``. The MLP runs once per forward pass on ``T =
    (2wh-1)(2ww-1)`` coordinates: ``T*(2*512 + 512 h)`` MACs. (torchvision zeroes the key
    part of the qkv bias on each call, a copy of ``3C`` values, not counted.)

    >>> from layercalc import analyze
    >>> analyze(ShiftedWindowAttentionV2(96, 8, 4, 3), (64, 64, 96)).total.params
    40323
    """
    return _window_attention("ShiftedWindowAttentionV2", dim, window_size, shift_size,
                             num_heads, qkv_bias, proj_bias, True)


def _mlp(dim: Any, hidden: Any, dropout: float) -> Sequential:
    """torchvision's ``MLP(dim, [hidden, dim], activation_layer=nn.GELU)``: paths 0..4."""
    return Sequential(Linear(dim, hidden), GELU(), Dropout(dropout), Linear(hidden, dim),
                      Dropout(dropout))


def _swin_block(dim: Any, num_heads: Any, window_size: Any, shift_size: Any, mlp_ratio: float,
                dropout: float, attention_dropout: float, stochastic_depth_prob: float,
                eps: float, v2: bool) -> Sequential:
    owner = "SwinTransformerBlockV2" if v2 else "SwinTransformerBlock"
    attn = _window_attention(owner, dim, window_size, shift_size, num_heads, True, True, v2)
    sd = StochasticDepth(stochastic_depth_prob, "row")
    # torchvision: int(dim * mlp_ratio); a symbolic width keeps the ratio exact
    hidden = int(dim * mlp_ratio) if type(dim) is int else as_count(
        sp.floor(dim * sp.Rational(str(mlp_ratio))))
    norm1, norm2, mlp = LayerNorm(dim, eps), LayerNorm(dim, eps), _mlp(dim, hidden, dropout)
    if v2:  # x + sd(norm1(attn(x))), x + sd(norm2(mlp(x)))
        first = [("attn", attn), ("norm1", norm1), ("stochastic_depth", sd)]
        second = [("mlp", mlp), ("norm2", norm2), ("stochastic_depth", sd)]
    else:   # x + sd(attn(norm1(x))), x + sd(mlp(norm2(x)))
        first = [("norm1", norm1), ("attn", attn), ("stochastic_depth", sd)]
        second = [("norm2", norm2), ("mlp", mlp), ("stochastic_depth", sd)]
    return Sequential([("", _Res(Sequential(first), "add1")),
                       ("", _Res(Sequential(second), "add2"))])


def SwinTransformerBlock(dim: int, num_heads: int, window_size: Any, shift_size: Any,
                         mlp_ratio: float = 4.0, dropout: float = 0.0,
                         attention_dropout: float = 0.0, stochastic_depth_prob: float = 0.0,
                         layer_norm_eps: float = 1e-5) -> Sequential:
    """torchvision's ``SwinTransformerBlock`` (pre-norm), on ``(H, W, C)``::

        x = x + stochastic_depth(attn(norm1(x)))
        x = x + stochastic_depth(mlp(norm2(x)))      mlp.0 Linear(C, rC), mlp.1 GELU,
                                                      mlp.3 Linear(rC, C) (r = mlp_ratio)

    The adds are operator rows ``add1``, ``add2``; ``stochastic_depth`` (one module, called
    twice) is the identity at inference. params: the attention's plus ``2 r C^2 + (r + 1) C``
    (MLP) ``+ 4C`` (norms).

    >>> from layercalc import analyze
    >>> analyze(SwinTransformerBlock(96, 3, 7, 0), (56, 56, 96)).total.params
    112347
    """
    return _swin_block(dim, num_heads, window_size, shift_size, mlp_ratio, dropout,
                       attention_dropout, stochastic_depth_prob, layer_norm_eps, False)


def SwinTransformerBlockV2(dim: int, num_heads: int, window_size: Any, shift_size: Any,
                           mlp_ratio: float = 4.0, dropout: float = 0.0,
                           attention_dropout: float = 0.0, stochastic_depth_prob: float = 0.0,
                           layer_norm_eps: float = 1e-5) -> Sequential:
    """torchvision's ``SwinTransformerBlockV2`` (res-post-norm, Liu et al. 2022, section
    3.1): ``x = x + sd(norm1(attn(x)))``, ``x = x + sd(norm2(mlp(x)))``, with
    `ShiftedWindowAttentionV2`; otherwise as `SwinTransformerBlock`."""
    return _swin_block(dim, num_heads, window_size, shift_size, mlp_ratio, dropout,
                       attention_dropout, stochastic_depth_prob, layer_norm_eps, True)


def PatchMerging(dim: int, layer_norm_eps: float = 1e-5) -> _Container:
    """torchvision's ``PatchMerging`` (Liu et al. 2021, section 3.1): `PatchMergingPad`
    (``patch_merging_pad``, functional), ``norm`` (``LayerNorm(4C)``), ``reduction``
    (``Linear(4C, 2C, bias=False)``): ``(H, W, C) -> (ceil(H/2), ceil(W/2), 2C)``;
    params ``8C^2 + 8C``.

    >>> from layercalc import analyze
    >>> r = analyze(PatchMerging(96), (56, 56, 96))
    >>> r.output_shape, r.total.params, [row.path for row in r.rows]
    ((28, 28, 192), 74496, ['patch_merging_pad', 'norm', 'reduction'])
    """
    return _Merging(as_dim(dim, "PatchMerging", "dim"), False, layer_norm_eps)


def PatchMergingV2(dim: int, layer_norm_eps: float = 1e-5) -> _Container:
    """torchvision's ``PatchMergingV2``: the gather, ``reduction`` (``Linear(4C, 2C,
    bias=False)``), then ``norm`` (``LayerNorm(2C)``); params ``8C^2 + 4C``."""
    return _Merging(as_dim(dim, "PatchMergingV2", "dim"), True, layer_norm_eps)


# -- ConvNeXt ----------------------------------------------------------------------------------
def CNBlock(dim: int, layer_scale: float = 1e-6, stochastic_depth_prob: float = 0.0,
            layer_norm_eps: float = 1e-6) -> Sequential:
    """torchvision's ConvNeXt block ``CNBlock`` (Liu et al. 2022, "A ConvNet for the 2020s",
    Fig. 4), channels-first ``(C, H, W)`` in and out::

        block.0 Conv2d(C, C, 7, padding=3, groups=C)   depthwise 7x7, bias
        block.1 Permute([0, 2, 3, 1])                   to channels-last (a view)
        block.2 LayerNorm(C, eps=1e-6)
        block.3 Linear(C, 4C), block.4 GELU, block.5 Linear(4C, C)
        block.6 Permute([0, 3, 1, 2])
        layer_scale  (C, 1, 1) parameter * block(x)     `LayerScale`, an operator row
        stochastic_depth, then ``result += input``      row ``add`` (operator)

    params ``49C + C (dw) + 2C (LN) + 8C^2 + 5C (MLP) + C (layer scale) = 8C^2 + 58C``;
    MACs per position ``49C + 8C^2``.

    >>> from layercalc import analyze
    >>> t = analyze(CNBlock(96), (96, 56, 56)).total
    >>> t.params, t.macs     # 8*96**2 + 58*96; 3136 * (49*96 + 8*96**2)
    (79296, 245962752)
    """
    sd = StochasticDepth(stochastic_depth_prob, "row")
    block = Sequential(Conv2d(dim, dim, 7, padding=3, groups=dim), Permute([0, 2, 3, 1]),
                       LayerNorm(dim, layer_norm_eps), Linear(dim, 4 * dim), GELU(),
                       Linear(4 * dim, dim), Permute([0, 3, 1, 2]))
    body = Sequential(OrderedDict([
        ("block", block),
        ("layer_scale", _Call(LayerScale(dim, layer_scale, channels_first=True), "operator")),
        ("stochastic_depth", sd),
    ]))
    return Sequential([("", _Res(body, "add"))])


# -- MaxViT ------------------------------------------------------------------------------------
def MaxVitMBConv(in_channels: int, out_channels: int, expansion_ratio: float,
                 squeeze_ratio: float, stride: int, p_stochastic_dropout: float = 0.0,
                 norm_eps: float = 1e-3) -> Parallel:
    """MaxViT's ``MBConv`` (torchvision/models/maxvit.py; Tu et al. 2022, section 3.1):
    pre-activation BatchNorm, 1x1 expansion to ``mid = int(out*expansion_ratio)``, depthwise
    3x3 (stride), squeeze-excitation to ``int(out*squeeze_ratio)`` with SiLU, 1x1 projection
    with bias; shortcut ``proj`` (``AvgPool2d(3, 2, 1)`` then a 1x1 conv with bias when
    strided, the 1x1 conv alone when only the width changes, else the identity)::

        res = proj(x);  x = stochastic_depth(layers(x));  out = res + x   (row ``add``)

    Paths ``proj.0``, ``proj.1``, ``stochastic_depth``, ``layers.pre_norm``,
    ``layers.conv_a.0``-``2``, ``layers.conv_b.0``-``2``, ``layers.squeeze_excitation.*``,
    ``layers.conv_c``. (Not torchvision's EfficientNet ``MBConv``, which has no pre-norm.)

    >>> from layercalc import analyze
    >>> analyze(MaxVitMBConv(64, 64, 4, 0.25, 2), (64, 112, 112)).total.params
    48912
    """
    bn = partial(BatchNorm2d, eps=norm_eps, momentum=0.01)
    mid, sqz = int(out_channels * expansion_ratio), int(out_channels * squeeze_ratio)
    if stride != 1 or in_channels != out_channels:
        proj: Node = Sequential(*([AvgPool2d(3, stride, 1)] if stride == 2 else []),
                                Conv2d(in_channels, out_channels, 1))
    else:
        proj = Identity()
    layers = Sequential(OrderedDict([
        ("pre_norm", bn(in_channels)),
        ("conv_a", Conv2dNormActivation(in_channels, mid, 1, 1, 0, norm=bn, activation=GELU)),
        ("conv_b", Conv2dNormActivation(mid, mid, 3, stride, 1, groups=mid, norm=bn,
                                        activation=GELU)),
        ("squeeze_excitation", SqueezeExcitation(mid, sqz, activation=SiLU)),
        ("conv_c", Conv2d(mid, out_channels, 1)),
    ]))
    sd = StochasticDepth(p_stochastic_dropout, "row") if p_stochastic_dropout else Identity()
    return Parallel(OrderedDict([("proj", proj),
                                 ("", Sequential(OrderedDict(layers=layers,
                                                             stochastic_depth=sd)))]),
                    merge="add")


class _RelPosAttention(_Container):
    """MaxViT's ``RelativePositionalMultiHeadAttention`` on ``(G, P, C)`` windows: ``to_qkv``
    (module), chunk and reshape (views), ``k * C**-0.5`` (``scale_k``, operator), the scores
    by ``einsum`` (``scores``), the relative position bias (once per forward) and its add,
    ``F.softmax``, the weighted values by ``einsum`` (``attn_v``), ``merge`` (module)."""

    def __init__(self, feat_dim: Any, head_dim: Any, max_seq_len: int) -> None:
        import math

        self.n_heads = exact_div(feat_dim, head_dim)
        self.head_dim, self.feat_dim = head_dim, feat_dim
        self.size = int(math.sqrt(max_seq_len))
        self.to_qkv = Linear(feat_dim, 3 * feat_dim)
        self.merge = Linear(feat_dim, feat_dim)

    def children(self) -> list[tuple[str, Node]]:
        return [("to_qkv", self.to_qkv), ("merge", self.merge)]

    def __repr__(self) -> str:
        return (f"RelativePositionalMultiHeadAttention({self.feat_dim}, {self.head_dim}, "
                f"{self.size ** 2})")

    def _walk(self, tracer, x, src, path):
        h, d, c = self.n_heads, self.head_dim, self.feat_dim
        y, s = tracer.walk(self.to_qkv, x, src, _join(path, "to_qkv"))
        heads = (x[0], h, x[1], d)
        k, ks = tracer.leaf(MulScalar(c ** -0.5), [heads], [s],
                            _join(path, "scale_k"), call="operator")
        a, a_src = tracer.leaf(AttentionScores(h, d, "einsum"), [heads, k], [s, ks],
                               _join(path, "scores"), call="functional")
        b, bs = tracer.leaf(RelativePositionBias(self.size, h), [()],
                            ["relative_position_bias_table"],
                            _join(path, "relative_position_bias"), call="functional")
        a, a_src = tracer.leaf(Add(), [a, b], [a_src, bs], _join(path, "add_bias"),
                               call="operator")
        a, a_src = tracer.leaf(Softmax(dim=-1), [a], [a_src], _join(path, "softmax"),
                               call="functional")
        o, os_ = tracer.leaf(AttentionOutput(h, d, "einsum"), [a, heads], [a_src, s],
                             _join(path, "attn_v"), call="functional")
        return tracer.walk(self.merge, (x[0], x[1], c), os_, _join(path, "merge"))


def PartitionAttentionLayer(in_channels: int, head_dim: int, partition_size: int,
                            partition_type: str, grid_size: Any, mlp_ratio: int = 4,
                            attention_dropout: float = 0.0, mlp_dropout: float = 0.0,
                            p_stochastic_dropout: float = 0.0) -> Sequential:
    """MaxViT's block or grid attention layer, torchvision's ``PartitionAttentionLayer``
    (Tu et al. 2022, section 3.2), on ``(C, H, W)`` with ``H, W = grid_size`` (fixed at
    construction, as torchvision)::

        partition_op    WindowPartition(p): (C, H, W) -> (G, p*p, C)
        partition_swap  grid: SwapAxes(-2, -3) (a `Transpose` view); block: Identity
        x = x + stochastic_dropout(attn_layer(x))   attn_layer.0 LayerNorm, .1 attention,
                                                    .2 Dropout
        x = x + stochastic_dropout(mlp_layer(x))    mlp_layer.0 LayerNorm, .1 Linear(C, rC),
                                                    .2 GELU, .3 Linear(rC, C), .4 Dropout
        departition_swap, departition_op            back to (C, H, W)

    ``partition_type="window"``: ``p = partition_size`` (local ``P x P`` windows);
    ``"grid"``: ``p = grid_size // partition_size``, and after the swap each group is a
    ``partition_size x partition_size`` grid spread over the map (`GridPartition`'s tensor).
    Either way attention runs over ``partition_size**2`` tokens with a learned relative
    position table of ``(2P - 1)^2`` offsets per head (``C / head_dim`` heads).

    >>> from layercalc import analyze
    >>> r = analyze(PartitionAttentionLayer(64, 32, 7, "grid", (56, 56)), (64, 56, 56))
    >>> r.output_shape, r.total.params
    ((64, 56, 56), 50322)
    """
    owner = "PartitionAttentionLayer"
    if partition_type not in ("grid", "window"):
        raise LayerSpecError(owner, f"partition_type (={partition_type!r}) must be 'grid' or "
                             "'window'")
    gh, gw = _pair(owner, "grid_size", grid_size)
    # torchvision: grid_size // partition_size; it must divide (checked), so exactly gh / P
    p = partition_size if partition_type == "window" else exact_div(gh, partition_size)
    for n in (gh, gw):
        require(divides(p, n), owner, lambda: f"grid_size (={(gh, gw)}) must be divisible by "
                f"the partition size (={p})")
    swap: Any = Transpose(-2, -3) if partition_type == "grid" else Identity()
    sd = StochasticDepth(p_stochastic_dropout, "row")
    attn = Sequential(OrderedDict([
        ("0", LayerNorm(in_channels)),
        ("1", _RelPosAttention(in_channels, head_dim, partition_size ** 2)),
        ("2", Dropout(attention_dropout)),
    ]))
    mlp = Sequential(LayerNorm(in_channels), Linear(in_channels, in_channels * mlp_ratio),
                     GELU(), Linear(in_channels * mlp_ratio, in_channels), Dropout(mlp_dropout))
    return Sequential([
        ("partition_op", WindowPartition(p)),
        ("partition_swap", swap),
        ("", _Res(Sequential(OrderedDict(attn_layer=attn, stochastic_dropout=sd)), "add1")),
        ("", _Res(Sequential(OrderedDict(mlp_layer=mlp, stochastic_dropout=sd)), "add2")),
        ("departition_swap", swap),
        ("departition_op", WindowDepartition(p, exact_div(gh, p), exact_div(gw, p))),
    ])


def MaxVitLayer(in_channels: int, out_channels: int, squeeze_ratio: float,
                expansion_ratio: float, stride: int, head_dim: int, mlp_ratio: int,
                mlp_dropout: float, attention_dropout: float, p_stochastic_dropout: float,
                partition_size: int, grid_size: Any) -> Sequential:
    """torchvision's ``MaxVitLayer``: ``layers.MBconv`` (`MaxVitMBConv`), then
    ``layers.window_attention`` and ``layers.grid_attention`` (`PartitionAttentionLayer`)."""
    return Sequential(OrderedDict(layers=Sequential(OrderedDict([
        ("MBconv", MaxVitMBConv(in_channels, out_channels, expansion_ratio, squeeze_ratio,
                                stride, p_stochastic_dropout)),
        ("window_attention", PartitionAttentionLayer(
            out_channels, head_dim, partition_size, "window", grid_size, mlp_ratio,
            attention_dropout, mlp_dropout, p_stochastic_dropout)),
        ("grid_attention", PartitionAttentionLayer(
            out_channels, head_dim, partition_size, "grid", grid_size, mlp_ratio,
            attention_dropout, mlp_dropout, p_stochastic_dropout)),
    ]))))
