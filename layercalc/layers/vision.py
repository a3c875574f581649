"""Layers of the window-attention vision models and ConvNeXt: layer scale, window padding and
partitions (Swin's windows, MaxViT's blocks and grids), Swin's patch merging, the relative
position bias (a learned table, Swin V1 and MaxViT; or a table made by Swin V2's continuous
position MLP), V2's log-spaced coordinates and logit scale, the shifted-window mask, the two
attention matrix products, ``F.normalize`` and a multiply by a constant.

Layouts follow the source: Swin works channels-last on ``(H, W, C)`` maps (batch excluded);
MaxViT's partitions take channels-first ``(C, H, W)``; windowed tokens are ``(G, N, C)`` with
``G`` windows (groups) of ``N`` tokens, and per-head tensors ``(G, heads, N, d)``.

Some of this work is done once per forward pass, whatever the batch: the bias gather, the
coordinates table, the logit-scale clamp and the mask depend on no sample. Those layers set
``per_forward = True``, and `layercalc.analyze` does not scale their rows by the batch
(`Row.once`). They take no input tensor: call them with the empty shape ``()``.

Copies (padding, partitions, the gather's ``contiguous()``) do no arithmetic and move each
element once (``act_reads``, ``writes``); views (``view``, ``permute`` without a copy) move
nothing.

References
==========
.. [1] Liu et al., "Swin Transformer: Hierarchical Vision Transformer using Shifted Windows",
   2021, https://arxiv.org/abs/2103.14030 (sections 3.2, 3.3: W-MSA, SW-MSA, the mask, the
   relative position bias, Eq. 4).
.. [2] Liu et al., "Swin Transformer V2: Scaling Up Capacity and Resolution", 2022,
   https://arxiv.org/abs/2111.09883 (section 3.3: post-norm, scaled cosine attention Eq. 2,
   log-spaced continuous position bias Eq. 3-4).
.. [3] Tu et al., "MaxViT: Multi-Axis Vision Transformer", 2022,
   https://arxiv.org/abs/2204.01697 (section 3.2: block and grid attention).
.. [4] Touvron et al., "Going deeper with Image Transformers" (CaiT), 2021,
   https://arxiv.org/abs/2103.17239 (section 2.1: LayerScale).
.. [5] torchvision 0.29.1, ``torchvision/models/swin_transformer.py`` and ``maxvit.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Number
from typing import Any, ClassVar

import sympy as sp

from ..cost import Cost
from ..dims import (
    Dim, as_count, cdiv, divides, eq, exact_div, fmt, ge, prod, require, truth,
)
from ..errors import LayerSpecError, ShapeError
from ._base import Layer, choice, dims, flag
from ._base import dim as _dim

__all__ = [
    "LayerScale", "WindowPad", "WindowUnpad", "WindowPartition", "WindowDepartition",
    "GridPartition", "PatchMergingPad", "RelativePositionBias", "RelativeCoordsTable",
    "LogitScale", "ShiftedWindowMask", "AttentionScores", "AttentionOutput", "Normalize",
    "MulScalar",
]

#: How an attention product is written in the source; tools see them differently
#: (`layercalc.peers`): ``"matmul"`` is ``torch.matmul`` / ``Tensor.matmul``, ``"@"`` the
#: operator (``Tensor.__matmul__``), ``"einsum"`` ``torch.einsum``.
MATMUL_OPS = ("matmul", "@", "einsum")


def _no_input(layer: Layer, x: Any) -> None:
    """Per-forward layers read no activation: their input shape must be empty."""
    if x not in ((), []):
        got = fmt(tuple(x)) if isinstance(x, (tuple, list)) else repr(x)
        raise ShapeError(layer.kind, f"takes no input tensor (it is computed once per forward "
                         f"pass from its own parameters and buffers), got input shape {got}",
                         "Call it with the empty shape ().")


def _number(layer: Layer, name: str, value: Any) -> None:
    """A constant that changes no count: a number or a SymPy expression."""
    if isinstance(value, bool) or not isinstance(value, (Number, sp.Expr)):
        raise LayerSpecError(layer.kind, f"{name} (={value!r}) must be a number")


def _hw(layer: Layer, x: Any, channels_last: bool) -> tuple[tuple[Dim, ...], Dim, Dim, Dim]:
    """(shape, H, W, C) of a 2-D map in either layout."""
    layout = "(H, W, C)" if channels_last else "(C, H, W)"
    shape = layer._input(x, 3, layout=layout)
    if channels_last:
        return shape, shape[0], shape[1], shape[2]
    return shape, shape[1], shape[2], shape[0]


# -- LayerScale --------------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerScale(Layer):
    """Per-channel learned scaling ``diag(lambda) x`` (Touvron et al. 2021, CaiT, section 2.1),
    as timm's ``LayerScale(dim, init_values, inplace)`` and ConvNeXt's ``layer_scale``
    parameter (Liu et al. 2022, ConvNeXt, section 2.6; torchvision stores it as a
    ``(dim, 1, 1)`` parameter multiplied into the channels-first block output).

    ``channels_first=False`` scales the last axis of ``(*, dim)`` (timm, transformer tokens);
    ``channels_first=True`` the first axis of ``(dim, *)`` (torchvision's ConvNeXt)::

        params = dim;  ops: numel(x) mul;  no MACs

    ``init_values`` (the initial lambda, 1e-5 in CaiT, 1e-6 in ConvNeXt) and ``inplace``
    change no count. Memory: ``dim`` weights, ``numel`` read and written.

    >>> c = LayerScale(96, 1e-6, channels_first=True).cost((96, 56, 56))
    >>> c.params, dict(c.ops)
    (96, {'mul': 301056})
    """

    dim: Dim = _dim()
    init_values: float = 1e-5
    inplace: bool = flag(False)
    channels_first: bool = flag(False)

    def check(self) -> None:
        _number(self, "init_values", self.init_values)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, min_rank=1)
        axis, where = (0, "first") if self.channels_first else (-1, "last")
        require(eq(shape[axis], self.dim), self.kind,
                lambda: f"expected {self.dim} channels in the {where} axis, got input shape "
                f"{fmt(shape)}", error=ShapeError)
        return shape

    def cost(self, x: Any) -> Cost:
        n = prod(self.output_shape(x))
        return Cost(params=self.dim, ops={"mul": n}, weight_reads=self.dim, act_reads=n,
                    writes=n)


# -- padding and partitions --------------------------------------------------------------------
@dataclass(frozen=True)
class WindowPad(Layer):
    """Swin's padding of a channels-last map to window multiples, as
    ``F.pad(x, (0, 0, 0, pad_r, 0, pad_b))`` in torchvision's ``shifted_window_attention``:
    ``(H, W, C) -> (Hp, Wp, C)`` with ``Hp = ceil(H/wh)*wh``, ``Wp = ceil(W/ww)*ww`` (zeros at
    the bottom and right; ``pad_b = (wh - H % wh) % wh``).

    ``F.pad`` copies even when nothing is padded: ``act_reads = H*W*C``, ``writes =
    Hp*Wp*C``; no arithmetic. With symbolic sizes the padded size is the ceiling expression,
    exact for every value (a multiple of the window gives ``Hp = H``).

    >>> WindowPad(7).output_shape((28, 30, 192))
    (28, 35, 192)
    """

    ndim = 2
    window_size: Any = dims()

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, 3, layout="(H, W, C)")
        wh, ww = self.window_size
        return (as_count(cdiv(shape[0], wh) * wh), as_count(cdiv(shape[1], ww) * ww), shape[2])

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        return Cost(act_reads=prod(self._input(x, 3)), writes=prod(y))


@dataclass(frozen=True)
class WindowUnpad(Layer):
    """The crop after Swin's window attention, ``x[:, :height, :width, :].contiguous()``:
    ``(Hp, Wp, C) -> (height, width, C)``.

    A view when nothing was padded (``contiguous()`` returns the tensor itself), otherwise a
    copy of ``height*width*C`` elements. With symbolic sizes where that cannot be decided, the
    copy is multiplied by ``min(1, (Hp - height) + (Wp - width))``: 1 exactly when it crops
    (both differences are non-negative), so the count is exact for every size.

    >>> WindowUnpad(28, 30).cost((28, 35, 192)).writes
    161280
    >>> WindowUnpad(28, 28).cost((28, 28, 192)).writes
    0
    """

    height: Dim = _dim()
    width: Dim = _dim()

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, 3, layout="(H, W, C)")
        for name, have, want in (("height", shape[0], self.height),
                                 ("width", shape[1], self.width)):
            require(ge(have, want), self.kind,
                    lambda: f"{name} (={want}) exceeds the input's {have} (input shape "
                    f"{fmt(shape)})", error=ShapeError)
        return (self.height, self.width, shape[2])

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        shape = self._input(x, 3)
        same = [truth(eq(shape[0], self.height)), truth(eq(shape[1], self.width))]
        if same == [True, True]:
            return Cost()
        n = prod(y)
        if False not in same:  # undecided: an exact indicator of "it crops"
            excess = as_count((shape[0] - self.height) + (shape[1] - self.width))
            n = as_count(n * sp.Min(1, excess, evaluate=False))
        return Cost(act_reads=n, writes=n)


@dataclass(frozen=True)
class WindowPartition(Layer):
    """Non-overlapping windows of ``wh x ww`` tokens: MaxViT's block partition (torchvision's
    ``WindowPartition`` module, ``forward(x, p)``: reshape, permute, reshape) and Swin's
    window partition (the same view-permute-reshape inside ``shifted_window_attention``)::

        (C, H, W) or (H, W, C)  ->  (G, N, C),  G = (H/wh)(W/ww) windows, N = wh*ww

    `channels_last` selects the input layout (MaxViT: channels-first, Swin: channels-last).
    ``wh`` must divide ``H`` and ``ww`` divide ``W`` (Swin pads first, `WindowPad`; MaxViT's
    sizes are chosen so). The final ``reshape`` of a permuted tensor copies: ``act_reads =
    writes = numel``; no arithmetic.

    >>> WindowPartition(7).output_shape((64, 56, 56))     # MaxViT-T, first stage
    (64, 49, 64)
    >>> WindowPartition(7, channels_last=True).output_shape((56, 56, 96))  # Swin-T
    (64, 49, 96)
    """

    ndim = 2
    window_size: Any = dims()
    channels_last: bool = flag(False)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape, h, w, c = _hw(self, x, self.channels_last)
        wh, ww = self.window_size
        for axis, n, k in (("height", h, wh), ("width", w, ww)):
            require(divides(k, n), self.kind,
                    lambda: f"window_size (={k}) must divide the {axis} (={n}) of input shape "
                    f"{fmt(shape)}", error=ShapeError)
        return (as_count(exact_div(h, wh) * exact_div(w, ww)), as_count(wh * ww), c)

    def cost(self, x: Any) -> Cost:
        n = prod(self.output_shape(x))
        return Cost(act_reads=n, writes=n)


@dataclass(frozen=True)
class WindowDepartition(Layer):
    """The inverse of `WindowPartition`: ``(G, N, C)`` with ``G = h_partitions*w_partitions``
    windows of ``N = wh*ww`` tokens back to the map, ``(C, H, W)`` (torchvision MaxViT's
    ``WindowDepartition``) or ``(H, W, C)`` with ``channels_last`` (Swin's window reverse),
    ``H = h_partitions*wh``, ``W = w_partitions*ww``. A copy: ``act_reads = writes = numel``.

    >>> WindowDepartition(7, 8, 8).output_shape((64, 49, 64))
    (64, 56, 56)
    """

    ndim = 2
    window_size: Any = dims()
    h_partitions: Dim = _dim()
    w_partitions: Dim = _dim()
    channels_last: bool = flag(False)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, 3, layout="(G, N, C)")
        wh, ww = self.window_size
        g, n = as_count(self.h_partitions * self.w_partitions), as_count(wh * ww)
        require(eq(shape[0], g), self.kind,
                lambda: f"expected {g} windows (h_partitions*w_partitions), got input shape "
                f"{fmt(shape)}", error=ShapeError)
        require(eq(shape[1], n), self.kind,
                lambda: f"expected {n} tokens per window (window_size {wh}x{ww}), got input "
                f"shape {fmt(shape)}", error=ShapeError)
        h, w = as_count(self.h_partitions * wh), as_count(self.w_partitions * ww)
        return (h, w, shape[2]) if self.channels_last else (shape[2], h, w)

    def cost(self, x: Any) -> Cost:
        n = prod(self.output_shape(x))
        return Cost(act_reads=n, writes=n)


@dataclass(frozen=True)
class GridPartition(Layer):
    """MaxViT's grid partition (Tu et al. 2022, section 3.2): a ``g x g`` grid of tokens
    spread over the whole map with stride ``H/g`` (dilated, "global" attention), one group
    per position inside a ``(H/g) x (W/g)`` cell::

        (C, H, W) or (H, W, C)  ->  (G, g*g, C),  G = (H/g)(W/g)

    token ``(i, j)`` of group ``(a, b)`` is pixel ``(i*H/g + a, j*W/g + b)``. torchvision writes
    it as ``WindowPartition(H/g)`` followed by a ``SwapAxes(-2, -3)`` view (modules
    ``partition_op`` and ``partition_swap``), which is the same tensor. One copy:
    ``act_reads = writes = numel``. ``g`` must divide ``H`` and ``W``.

    >>> GridPartition(7).output_shape((64, 56, 56))
    (64, 49, 64)
    """

    ndim = 2
    grid_size: Any = dims()
    channels_last: bool = flag(False)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape, h, w, c = _hw(self, x, self.channels_last)
        gh, gw = self.grid_size
        for axis, n, k in (("height", h, gh), ("width", w, gw)):
            require(divides(k, n), self.kind,
                    lambda: f"grid_size (={k}) must divide the {axis} (={n}) of input shape "
                    f"{fmt(shape)}", error=ShapeError)
        return (as_count(exact_div(h, gh) * exact_div(w, gw)), as_count(gh * gw), c)

    def cost(self, x: Any) -> Cost:
        n = prod(self.output_shape(x))
        return Cost(act_reads=n, writes=n)


@dataclass(frozen=True)
class PatchMergingPad(Layer):
    """Swin's patch-merging gather, torchvision's ``_patch_merging_pad``: pad an odd height or
    width by one (``F.pad``), then concatenate the four ``2x2`` neighbours of each output
    position along channels (``x[0::2, 0::2]``, ``x[1::2, 0::2]``, ``x[0::2, 1::2]``,
    ``x[1::2, 1::2]``; a space-to-depth)::

        (H, W, C) -> (ceil(H/2), ceil(W/2), 4C)

    No arithmetic. ``F.pad`` copies (reads ``H*W*C``, writes ``Hp*Wp*C``) and ``torch.cat``
    copies again (reads and writes ``Hp*Wp*C``), with ``Hp = 2*ceil(H/2)``. The merging's
    ``norm`` and ``reduction`` (``Linear(4C, 2C)``) are separate rows.

    >>> PatchMergingPad().output_shape((56, 56, 96)), PatchMergingPad().output_shape((7, 7, 8))
    ((28, 28, 384), (4, 4, 32))
    """

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, 3, layout="(H, W, C)")
        return (cdiv(shape[0], 2), cdiv(shape[1], 2), as_count(4 * shape[2]))

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        n = prod(y)
        return Cost(act_reads=as_count(prod(self._input(x, 3)) + n), writes=as_count(2 * n))


# -- position bias -----------------------------------------------------------------------------
def _table_size(window_size: tuple[Dim, Dim]) -> Dim:
    wh, ww = window_size
    return as_count((2 * wh - 1) * (2 * ww - 1))


@dataclass(frozen=True)
class RelativePositionBias(Layer):
    """The relative position bias ``B`` of window attention (Liu et al. 2021, Swin, section 3.2,
    Eq. 4: ``softmax(QK^T/sqrt(d) + B)V``), gathered from a table of ``T = (2wh-1)(2ww-1)``
    relative offsets per head: ``B[h, i, j] = table[index[i, j], h]`` for the ``N = wh*ww``
    tokens of a window, ``index[i, j] = (dy + wh - 1)(2ww - 1) + (dx + ww - 1)`` with
    ``(dy, dx)`` the offset of token ``i`` from token ``j``.

    ``learned=True`` (Swin V1's ``relative_position_bias_table``, MaxViT's): the table is this
    layer's parameter; the layer takes no input (call it on ``()``). ``learned=False``: the
    table is the input, ``(2wh-1, 2ww-1, heads)`` (Swin V2's position MLP output). Output
    ``(1, heads, N, N)``, added to the scores of every window. Computed once per forward pass
    (``per_forward``: the batch does not scale it)::

        params  = T*heads (learned), buffers = N^2 (the int index, relative_position_index)
        no arithmetic: a gather of N^2*heads entries, then permute(2, 0, 1).contiguous()
        memory: reads the table (T*heads) and the index (N^2), writes N^2*heads twice
        (gather, contiguous copy), reads N^2*heads once (the copy)

    >>> c = RelativePositionBias(7, 3).cost(())      # Swin-T, first stage
    >>> c.params, c.buffers, c.writes
    (507, 2401, 14406)
    >>> RelativePositionBias(8, 3, learned=False).output_shape((15, 15, 3))
    (1, 3, 64, 64)
    """

    ndim = 2
    per_forward: ClassVar[bool] = True
    window_size: Any = dims()
    num_heads: Dim = _dim()
    learned: bool = flag(True)

    @property
    def table_size(self) -> Dim:
        """``T = (2wh - 1)(2ww - 1)``, the number of distinct relative offsets."""
        return _table_size(self.window_size)

    def output_shape(self, x: Any = ()) -> tuple[Dim, ...]:
        wh, ww = self.window_size
        h, n = self.num_heads, as_count(wh * ww)
        if self.learned:
            _no_input(self, x)
        else:
            shape = self._input(x, 3, layout="(2*wh-1, 2*ww-1, num_heads)")
            want = (as_count(2 * wh - 1), as_count(2 * ww - 1), h)
            for have, need in zip(shape, want):
                require(eq(have, need), self.kind,
                        lambda: f"expected the table shape {fmt(want)} (2*wh-1, 2*ww-1, "
                        f"num_heads), got input shape {fmt(shape)}", error=ShapeError)
        return (1, h, n, n)

    def cost(self, x: Any = ()) -> Cost:
        y = self.output_shape(x)
        table = as_count(self.table_size * self.num_heads)
        n2 = as_count(y[2] * y[3])
        gathered = as_count(n2 * self.num_heads)
        params = table if self.learned else 0
        return Cost(params=params, buffers=n2, weight_reads=as_count(params + n2),
                    act_reads=as_count((0 if self.learned else table) + gathered),
                    writes=as_count(2 * gathered))


@dataclass(frozen=True)
class RelativeCoordsTable(Layer):
    """Swin V2's log-spaced relative coordinates (Liu et al. 2022, Swin V2, section 3.3,
    Eq. 4), the ``relative_coords_table`` buffer that the continuous position-bias MLP
    (``cpb_mlp``) reads: for every offset ``(dy, dx)``, ``|dy| < wh``, ``|dx| < ww``::

        t = 8 * (dy/(wh - 1), dx/(ww - 1));   table = sign(t) * log2(1 + |t|) / 3

    Output ``(2wh-1, 2ww-1, 2)``; buffers = ``2(2wh-1)(2ww-1)``. The values are computed once,
    at construction (torchvision's ``define_relative_position_bias_table``), so a forward pass
    does no work here; the MLP's first ``Linear`` reads the buffer (counted on that row).
    No input (call it on ``()``); ``per_forward``.

    >>> t = RelativeCoordsTable(8)
    >>> t.output_shape(()), t.cost(()).buffers
    ((15, 15, 2), 450)
    """

    ndim = 2
    per_forward: ClassVar[bool] = True
    window_size: Any = dims()

    def output_shape(self, x: Any = ()) -> tuple[Dim, ...]:
        _no_input(self, x)
        wh, ww = self.window_size
        return (as_count(2 * wh - 1), as_count(2 * ww - 1), 2)

    def cost(self, x: Any = ()) -> Cost:
        return Cost(buffers=prod(self.output_shape(x)))


@dataclass(frozen=True)
class LogitScale(Layer):
    """Swin V2's learned temperature of scaled cosine attention (Liu et al. 2022, section 3.3,
    Eq. 2: ``Sim(q, k) = cos(q, k)/tau + B``), torchvision's
    ``torch.clamp(logit_scale, max=log(100)).exp()`` on the ``(heads, 1, 1)`` parameter
    ``logit_scale``. Output ``(heads, 1, 1)``; the scores are multiplied by it in a separate
    `Mul` row (one mul per score)::

        params = heads;  ops: heads cmp (the clamp), heads exp

    No input (call it on ``()``); computed once per forward pass (``per_forward``).

    >>> c = LogitScale(6).cost(())
    >>> c.params, dict(c.ops)
    (6, {'cmp': 6, 'exp': 6})
    """

    per_forward: ClassVar[bool] = True
    num_heads: Dim = _dim()
    max: float = math.log(100.0)

    def check(self) -> None:
        _number(self, "max", self.max)

    def output_shape(self, x: Any = ()) -> tuple[Dim, ...]:
        _no_input(self, x)
        return (self.num_heads, 1, 1)

    def cost(self, x: Any = ()) -> Cost:
        self.output_shape(x)
        h = self.num_heads
        return Cost(params=h, ops={"cmp": h, "exp": h}, weight_reads=h,
                    act_reads=h, writes=as_count(2 * h))


@dataclass(frozen=True)
class ShiftedWindowMask(Layer):
    """The attention mask of shifted windows (Liu et al. 2021, Swin, section 3.2, "efficient
    batch computation for shifted configuration"), as torchvision's
    ``shifted_window_attention`` builds it on each call: after the cyclic shift by
    ``(sh, sw)``, a window may hold tokens from up to four regions that were not adjacent in
    the image; pairs from different regions get ``-100`` (``exp`` makes them ~0), others 0.

    Input: the padded (and rolled) map ``(Hp, Wp, C)`` (only ``Hp, Wp`` matter). Output
    ``(G, 1, N, N)``, ``G = (Hp/wh)(Wp/ww)``, ``N = wh*ww``, added to the ``(G, heads, N, N)``
    scores by a separate `Add` row. Steps and counts (``E = G*N^2`` mask entries)::

        labels  zeros (Hp, Wp), 9 slice fills (one label per region)     writes 2*Hp*Wp
        windows view/permute/reshape to (G, N)                            copy of Hp*Wp
        pairs   m[g, i, j] = label[g, j] - label[g, i]                    E add
        mask    masked_fill(m != 0, -100).masked_fill(m == 0, 0)          2E cmp

    so ``E`` adds and ``2E`` cmp per forward pass (``per_forward``: the batch does not scale
    it); memory: ``3*Hp*Wp + 6E`` reads, ``3*Hp*Wp + 5E`` writes (each step's tensors
    once). ``0 <= shift < window`` per axis and at least one axis shifted (torchvision
    builds no mask otherwise); the window must divide ``Hp``, ``Wp`` (pad first).

    >>> m = ShiftedWindowMask(7, 3)                     # Swin-T, first stage
    >>> m.output_shape((56, 56, 96)), dict(m.cost((56, 56, 96)).ops)
    ((64, 1, 49, 49), {'add': 153664, 'cmp': 307328})
    """

    ndim = 2
    per_forward: ClassVar[bool] = True
    window_size: Any = dims()
    shift_size: Any = dims(minimum=0)

    def check(self) -> None:
        for k, s in zip(self.window_size, self.shift_size):
            require(ge(k - 1, s), self.kind,
                    f"shift_size (={fmt(self.shift_size)}) must be smaller than window_size "
                    f"(={fmt(self.window_size)}) on each axis")
        if all(type(s) is int and s == 0 for s in self.shift_size):
            raise LayerSpecError(self.kind, f"shift_size (={fmt(self.shift_size)}) shifts no "
                                 "axis, so there is nothing to mask",
                                 "torchvision builds the mask only when sum(shift_size) > 0.")

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        g = WindowPartition(self.window_size, channels_last=True).output_shape(x)
        return (g[0], 1, g[1], g[1])

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        shape = self._input(x, 3)
        hw = as_count(shape[0] * shape[1])
        e = as_count(y[0] * y[2] * y[3])
        return Cost(ops={"add": e, "cmp": 2 * e}, act_reads=as_count(3 * hw + 6 * e),
                    writes=as_count(3 * hw + 5 * e))


# -- attention products ------------------------------------------------------------------------
def _heads_input(layer: Layer, x: Any, what: str) -> tuple[Dim, ...]:
    shape = layer._input(x, min_rank=3)
    require(eq(shape[-3], layer.num_heads), layer.kind,
            lambda: f"expected {layer.num_heads} heads in axis -3 of the {what} (*, heads, "
            f"tokens, features), got shape {fmt(shape)}", error=ShapeError)
    return shape


def _same_groups(layer: Layer, a: tuple, b: tuple, names: str) -> None:
    ok = len(a) == len(b) and all(truth(eq(u, v)) is not False for u, v in zip(a[:-2], b[:-2]))
    if not ok:
        raise ShapeError(layer.kind, f"the {names} must agree on every axis but the last two, "
                         f"got {fmt(a)} and {fmt(b)}")


@dataclass(frozen=True)
class AttentionScores(Layer):
    """Attention scores ``Q K^T`` of every head of every window (group): Swin's
    ``q.matmul(k.transpose(-2, -1))`` (V1) and ``F.normalize(q) @ F.normalize(k).transpose(
    -2, -1)`` (V2), MaxViT's ``einsum("BGHID,BGHJD->BGHIJ", q, k)``::

        cost(q, k):  q (*, heads, L, d), k (*, heads, S, d)  ->  (*, heads, L, S)
        MACs = G*heads*L*S*d,  dots = G*heads*L*S   (G = prod(*), the groups)

    Every score is computed (masks are added afterwards, as the math writes it); the
    transpose is a view. `op` records how the source writes the product (``"matmul"``,
    ``"@"`` or ``"einsum"``), which decides what the peer tools see (`layercalc.peers`); it
    changes no count. Memory: both inputs read once, the scores written once; no reuse:
    ``tap_reads = MACs``.

    >>> AttentionScores(3, 32).cost((64, 3, 49, 32), (64, 3, 49, 32)).macs  # 64*3*49*49*32
    14751744
    """

    num_heads: Dim = _dim()
    head_dim: Dim = _dim()
    op: str = choice("matmul", MATMUL_OPS)

    def _shapes(self, q: Any, k: Any) -> tuple[tuple, tuple]:
        q = _heads_input(self, q, "queries")
        k = _heads_input(self, k, "keys")
        for name, s in (("queries", q), ("keys", k)):
            require(eq(s[-1], self.head_dim), self.kind,
                    lambda: f"expected head_dim (={self.head_dim}) features in the {name}, got "
                    f"shape {fmt(s)}", error=ShapeError)
        _same_groups(self, q, k, "queries and keys")
        return q, k

    def output_shape(self, q: Any, k: Any) -> tuple[Dim, ...]:
        q, k = self._shapes(q, k)
        return (*q[:-1], k[-2])

    def cost(self, q: Any, k: Any) -> Cost:
        y = self.output_shape(q, k)
        dots = prod(y)
        macs = as_count(dots * self.head_dim)
        return Cost(macs=macs, dots=dots, act_reads=as_count(prod(self._input(q)) +
                                                             prod(self._input(k))),
                    writes=dots, tap_reads=macs)


@dataclass(frozen=True)
class AttentionOutput(Layer):
    """The attention-weighted values ``P V`` of every head of every window: Swin's
    ``attn.matmul(v)``, MaxViT's ``einsum("BGHIJ,BGHJD->BGHID", attn, v)``::

        cost(p, v):  p (*, heads, L, S), v (*, heads, S, d)  ->  (*, heads, L, d)
        MACs = G*heads*L*S*d,  dots = G*heads*L*d

    `op` as in `AttentionScores`. Memory: both inputs read, the output written; ``tap_reads
    = MACs``.

    >>> AttentionOutput(3, 32).cost((64, 3, 49, 49), (64, 3, 49, 32)).dots  # 64*3*49*32
    301056
    """

    num_heads: Dim = _dim()
    head_dim: Dim = _dim()
    op: str = choice("matmul", MATMUL_OPS)

    def _shapes(self, p: Any, v: Any) -> tuple[tuple, tuple]:
        p = _heads_input(self, p, "attention weights")
        v = _heads_input(self, v, "values")
        require(eq(v[-1], self.head_dim), self.kind,
                lambda: f"expected head_dim (={self.head_dim}) features in the values, got "
                f"shape {fmt(v)}", error=ShapeError)
        require(eq(p[-1], v[-2]), self.kind,
                lambda: f"attention weights {fmt(p)} have {p[-1]} keys but the values {fmt(v)} "
                f"have {v[-2]}", error=ShapeError)
        _same_groups(self, p, v, "attention weights and values")
        return p, v

    def output_shape(self, p: Any, v: Any) -> tuple[Dim, ...]:
        p, v = self._shapes(p, v)
        return (*p[:-1], v[-1])

    def cost(self, p: Any, v: Any) -> Cost:
        y = self.output_shape(p, v)
        p, v = self._shapes(p, v)
        dots = prod(y)
        macs = as_count(dots * p[-1])
        return Cost(macs=macs, dots=dots, act_reads=as_count(prod(p) + prod(v)), writes=dots,
                    tap_reads=macs)


# -- elementwise -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Normalize(Layer):
    """``torch.nn.functional.normalize(x, p=2, dim, eps)``: ``x / max(||x||_2, eps)`` along
    `dim` (PyTorch's, counting the batch as dim 0; ``dim=-1`` is the last axis). Swin V2's
    cosine attention normalises queries and keys this way (Liu et al. 2022, Eq. 2).

    Per vector of ``n`` elements: ``n`` mul (squares), ``n - 1`` add, 1 sqrt, 1 cmp (the
    ``clamp_min(eps)``), ``n`` div; times ``numel/n`` vectors. Only ``p=2`` is supported.

    >>> dict(Normalize(dim=-1).cost((64, 3, 49, 32)).ops)
    {'add': 291648, 'cmp': 9408, 'div': 301056, 'mul': 301056, 'sqrt': 9408}
    """

    p: float = 2.0
    dim: int = 1
    eps: float = 1e-12

    def check(self) -> None:
        if isinstance(self.p, bool) or self.p != 2:
            raise LayerSpecError(self.kind, f"p (={self.p!r}) is not supported; only the "
                                 "Euclidean norm p=2 (what Swin V2 uses)")
        if isinstance(self.dim, bool) or not isinstance(self.dim, int) or self.dim == 0:
            raise LayerSpecError(self.kind, f"dim (={self.dim!r}) must be a non-zero integer "
                                 "(PyTorch's dims; 0 is the batch axis)")
        _number(self, "eps", self.eps)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, min_rank=1)
        r = len(shape)
        if not -r <= self.dim <= r:
            raise ShapeError(self.kind, f"dim (={self.dim}) is out of range for input shape "
                             f"{fmt(shape)} (batch excluded); valid: 1..{r} or -{r}..-1")
        return shape

    def cost(self, x: Any) -> Cost:
        shape = self.output_shape(x)
        a = self.dim - 1 if self.dim > 0 else len(shape) + self.dim
        n, total = shape[a], prod(shape)
        vectors = exact_div(total, n)
        return Cost(ops={"mul": total, "add": as_count(vectors * (n - 1)), "sqrt": vectors,
                         "cmp": vectors, "div": total}, act_reads=total, writes=total)


@dataclass(frozen=True)
class MulScalar(Layer):
    """``x * value`` with a Python number (``aten.mul.Scalar``): Swin's query scaling
    ``q * head_dim**-0.5``, Swin V2's ``16 * sigmoid(bias)``, MaxViT's ``k * scale_factor``.
    One mul per element; memory: read and write ``numel``.

    >>> MulScalar(32 ** -0.5).cost((64, 3, 49, 32)).ops["mul"]
    301056
    """

    value: float = 1.0

    def check(self) -> None:
        _number(self, "value", self.value)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        return self._input(x, min_rank=1)

    def cost(self, x: Any) -> Cost:
        n = prod(self.output_shape(x))
        return Cost(ops={"mul": n}, act_reads=n, writes=n)
