"""Slicing, indexing, splitting and stacking, channel shuffle (ShuffleNet), axis permutation
and cyclic shifts (ConvNeXt, Swin): layers that move data without arithmetic; and the two
tensor functions a graph needs besides them, and `MatMul`.

The dim rule: function-style layers (`Slice`, `Getitem`, `Split`, `Chunk`, `Stack`,
`MatMul`, and `Concat`) index the batch-free shape, dim 0 being the channels; layers
mirroring a torch.nn/torchvision module with PyTorch's dims (`Permute`, `Roll`, `Flatten`,
`Softmax`, `Transpose`, `Select`) keep PyTorch's dims, the batch being dim 0."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..cost import Cost
from ..dims import Dim, as_count, as_dim, cdiv, divides, eq, fmt, ge, prod, require, smax, truth
from ..errors import LayerSpecError, LimitError, ShapeError
from ._base import Layer, dim


# -- the dim rule -------------------------------------------------------------------------------
# Function-style layers (Slice, Getitem, Split, Chunk, Stack, MatMul, and Concat in
# `elementwise`) index the *batch-free* shape: dim 0 is the channel axis, as `Concat`. Layers
# mirroring a torch.nn/torchvision module or torch function with PyTorch's dims (Flatten,
# Softmax, LogSoftmax, Transpose, Select, Permute, Roll) keep PyTorch's dims, batch = dim 0.


def _axis(layer: Layer, name: str, d: Any, rank: int, extra: int = 0) -> int:
    """Batch-free axis for dim `d` of a batch-free shape of rank `rank` (``extra=1`` for a
    new axis, as `Stack` inserts)."""
    if isinstance(d, bool) or not isinstance(d, int):
        raise LayerSpecError(layer.kind, f"{name} (={d!r}) must be an integer")
    r = rank + extra
    if not -r <= d < r:
        raise ShapeError(layer.kind, f"{name} (={d}) is out of range for an input of rank "
                         f"{rank} (batch excluded; dim 0 is the first axis, the channels); "
                         f"valid: 0..{r - 1} or -{r}..-1")
    return d % r


def _index(layer: Layer, name: str, v: Any, allow_none: bool = True) -> Any:
    """A slice bound: None, an int (negative counts from the end) or a SymPy expression."""
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, sp.Basic)) or (
            isinstance(v, sp.Basic) and not isinstance(v, sp.Expr)):
        raise LayerSpecError(layer.kind, f"{name} (={v!r}) must be an integer, a SymPy "
                             "expression" + (" or None" if allow_none else ""))
    v = as_count(v)
    if isinstance(v, sp.Basic) and v.is_integer is False:
        raise LayerSpecError(layer.kind, f"{name} (={v}) must be an integer")
    return v


#: The most outputs one layer may have (a Split or Chunk into more pieces would build that many
#: shapes; no network needs more, and the fuzz test reached millions).
MAX_OUTPUTS = 1 << 16


def _outputs(layer: Layer, k: int) -> None:
    if k > MAX_OUTPUTS:
        raise LimitError(layer.kind, f"{k} outputs exceed the limit of {MAX_OUTPUTS} outputs "
                         "per layer", "Split into fewer, larger pieces.")


def _neg(v: Any) -> bool:
    return type(v) is int and v < 0


def slice_length(layer: Layer, n: Dim, start: Any, stop: Any, step: Any, where: str) -> Dim:
    """Length of ``range(n)[start:stop:step]`` (Python's rules: None is the end, a negative
    bound counts from the end). A `stop` past the end or an empty result is an error (PyTorch
    clamps and allows empty tensors; here both are almost always a mistake, and a size must be
    positive): ``len = ceil((stop' - start') / step)`` with the bounds made non-negative."""
    if type(n) is int and all(v is None or type(v) is int for v in (start, stop)):
        a = 0 if start is None else start
        b = n if stop is None else stop
        if (a >= n if a >= 0 else -a > n) or (b > n if b >= 0 else -b > n):
            raise ShapeError(layer.kind, f"slice {_slice_str(start, stop, step)} is out of "
                             f"range for size {n} {where}")
        r = range(n)[slice(start, stop, step)]  # len(r) overflows past 2**63; count instead
        length = max(0, -(-(r.stop - r.start) // r.step) if r.step > 0
                     else -(-(r.start - r.stop) // -r.step))
        if length < 1:
            raise ShapeError(layer.kind, f"slice {_slice_str(start, stop, step)} of size {n} "
                             f"{where} is empty")
        return length
    a = 0 if start is None else (as_count(n + start) if _neg(start) else start)
    b = n if stop is None else (as_count(n + stop) if _neg(stop) else stop)
    for bound, v in (("start", start), ("stop", stop)):
        if v is not None:
            ok = ge(n, -v) if _neg(v) else ge(n, v if bound == "stop" else as_count(v + 1))
            require(ok, layer.kind, lambda: f"slice {_slice_str(start, stop, step)} is out of "
                    f"range for size {n} {where}", error=ShapeError)
    length = cdiv(as_count(b - a), step)
    require(ge(length, 1), layer.kind, lambda: f"slice {_slice_str(start, stop, step)} of size "
            f"{n} {where} is empty", error=ShapeError)
    return length


def _slice_str(start: Any, stop: Any, step: Any) -> str:
    s = f"{'' if start is None else start}:{'' if stop is None else stop}"
    return s + (f":{step}" if step != 1 else "")


@dataclass(frozen=True)
class Slice(Layer):
    """``x[start:stop:step]`` along the batch-free axis `dim` (default 0, the channels):
    ``Slice(0, 58)`` is PyTorch's ``x[:, 0:58]`` on a batched tensor (ShuffleNet's channel
    split), ``Slice(88, -88, dim=1)`` crops 88 rows from each side of ``(C, H, W)`` (the
    U-Net's crop). `dim` follows the dim rule of function-style layers: it indexes the
    batch-free shape, as `Concat` does.

    Python's slicing rules: ``stop=None`` is the end, negative bounds count from the end,
    ``step >= 1``. A bound past the end or an empty result is a `ShapeError` (PyTorch clamps
    and allows empty tensors). Output size along `dim`: ``ceil((stop - start) / step)`` with
    negative bounds made ``n + bound``; the other axes are unchanged.

    A view: no arithmetic and no memory traffic (the consumer reads the slice).

    >>> Slice(0, 58).output_shape((116, 28, 28))
    (58, 28, 28)
    >>> Slice(88, -88, dim=1).output_shape((64, 568, 568))
    (64, 392, 568)
    >>> Slice(0, None, 2, dim=-1).output_shape((3, 5, 5))
    (3, 5, 3)
    """

    start: Any = 0
    stop: Any = None
    step: Any = 1
    dim: int = 0

    def check(self) -> None:
        start = _index(self, "start", self.start)
        stop = _index(self, "stop", self.stop)
        step = as_dim(self.step, self.kind, "step")
        if isinstance(self.dim, bool) or not isinstance(self.dim, int):
            raise LayerSpecError(self.kind, f"dim (={self.dim!r}) must be an integer")
        same_sign = (start is None or not _neg(start)) == (stop is None or not _neg(stop))
        if start is not None and stop is not None and same_sign:
            require(ge(stop, as_count(start + 1)), self.kind,
                    f"stop (={stop}) must be greater than start (={start})")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "stop", stop)
        object.__setattr__(self, "step", step)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, min_rank=1)
        ax = _axis(self, "dim", self.dim, len(shape))
        n = slice_length(self, shape[ax], self.start, self.stop, self.step,
                         f"along axis {ax} of input shape {fmt(shape)}")
        return (*shape[:ax], n, *shape[ax + 1:])

    def cost(self, x: Any) -> Cost:
        self.output_shape(x)
        return Cost()


def _key_entry(layer: Layer, v: Any) -> Any:
    if v is Ellipsis:
        return Ellipsis
    if isinstance(v, slice):
        step = 1 if v.step is None else v.step
        return ("slice", _index(layer, "start", v.start), _index(layer, "stop", v.stop),
                as_dim(step, layer.kind, "step"))
    if isinstance(v, tuple) and len(v) == 4 and v[0] == "slice":  # already normalised
        return v
    if isinstance(v, bool) or not isinstance(v, (int, sp.Basic)):
        raise LayerSpecError(layer.kind, f"index (entry {v!r}) must be an integer, a slice or "
                             "...; other indexing (None, lists, tensors) is not modelled")
    return _index(layer, "index", v, allow_none=False)


@dataclass(frozen=True)
class Getitem(Layer):
    """``x[index]`` with basic indexing on the batch-free shape (the dim rule of
    function-style layers: the first entry is the channel axis): per axis an integer (selects
    one entry; the axis disappears), a slice (as `Slice`: Python's rules, ``step >= 1``) or
    ``...``; axes left out are kept whole. ``Getitem((slice(None), slice(88, -88),
    slice(88, -88)))`` is PyTorch's ``x[:, :, 88:-88, 88:-88]`` on a batched tensor.

    A graph tensor's ``t[...]`` records this layer. A view: no arithmetic and no memory
    traffic.

    >>> Getitem((slice(None), slice(4, -4), slice(4, -4))).output_shape((512, 64, 64))
    (512, 56, 56)
    >>> Getitem(0).output_shape((3, 8, 8)), Getitem((Ellipsis, -1)).output_shape((3, 8, 8))
    ((8, 8), (3, 8))
    """

    index: Any = ()

    def check(self) -> None:
        key = self.index if isinstance(self.index, tuple) and not (
            len(self.index) == 4 and self.index[0] == "slice") else (self.index,)
        entries = tuple(_key_entry(self, v) for v in key)
        if sum(e is Ellipsis for e in entries) > 1:
            raise LayerSpecError(self.kind, "index may hold at most one ...")
        object.__setattr__(self, "index", entries)

    def __repr__(self) -> str:
        parts = []
        for e in self.index:
            if e is Ellipsis:
                parts.append("...")
            elif isinstance(e, tuple):
                parts.append(_slice_str(*e[1:]))
            else:
                parts.append(str(e))
        return f"Getitem[{', '.join(parts)}]"

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, min_rank=1)
        entries = list(self.index)
        if Ellipsis in entries:
            i = entries.index(Ellipsis)
            fill = len(shape) - (len(entries) - 1)
            entries[i:i + 1] = [("slice", None, None, 1)] * max(fill, 0)
        if len(entries) > len(shape):
            raise ShapeError(self.kind, f"index {self!r} has {len(entries)} entries but input "
                             f"shape {fmt(shape)} has {len(shape)} axes (batch excluded)")
        out: list[Dim] = []
        for ax, (n, e) in enumerate(zip(shape, entries)):
            where = f"along axis {ax} of input shape {fmt(shape)}"
            if isinstance(e, tuple):
                if e[1] is None and e[2] is None and e[3] == 1:
                    out.append(n)
                else:
                    out.append(slice_length(self, n, *e[1:], where))
            else:
                fits = ge(n, -e) if _neg(e) else ge(n, as_count(e + 1))
                require(fits, self.kind, lambda: f"index (={e}) is out of range for size {n} "
                        f"{where}", error=ShapeError)
        return (*out, *shape[len(entries):])

    def cost(self, x: Any) -> Cost:
        self.output_shape(x)
        return Cost()


@dataclass(frozen=True)
class Split(Layer):
    """``torch.split(x, split_size_or_sections, dim)`` on the batch-free axis `dim` (the dim
    rule of function-style layers: 0 is the channels). Several outputs: ``output_shape``
    returns one shape per piece.

    An int `split_size_or_sections` gives pieces of that size along `dim`, the last one
    smaller when it does not divide the size: ``ceil(n / size)`` pieces, so the size must be
    a number. A sequence gives the piece sizes, which must add up to the size (when that is
    undecided, the equality is an assumption of the analysis, see `assumptions`).

    Views: no arithmetic and no memory traffic (each consumer reads its piece).

    >>> Split(2).output_shape((5, 4))
    ((2, 4), (2, 4), (1, 4))
    >>> Split([16, 48], dim=0).output_shape((64, 7, 7))
    ((16, 7, 7), (48, 7, 7))
    """

    split_size_or_sections: Any = 1
    dim: int = 0

    def check(self) -> None:
        v = self.split_size_or_sections
        if isinstance(v, (list, tuple)):
            if not v:
                raise LayerSpecError(self.kind, "split_size_or_sections (=[]) must hold at "
                                     "least one size")
            v = tuple(as_dim(s, self.kind, "split_size_or_sections") for s in v)
        else:
            v = as_dim(v, self.kind, "split_size_or_sections")
        if isinstance(self.dim, bool) or not isinstance(self.dim, int):
            raise LayerSpecError(self.kind, f"dim (={self.dim!r}) must be an integer")
        object.__setattr__(self, "split_size_or_sections", v)

    def _sizes(self, shape: tuple) -> tuple[int, list]:
        ax = _axis(self, "dim", self.dim, len(shape))
        n, v = shape[ax], self.split_size_or_sections
        if isinstance(v, tuple):
            total = as_count(sum(v))
            require(eq(total, n), self.kind, lambda: f"split sizes {fmt(v)} add up to {total}, "
                    f"not to the size {n} of axis {ax} of input shape {fmt(shape)}",
                    error=ShapeError)
            return ax, list(v)
        if not (type(n) is int and type(v) is int):
            raise ShapeError(self.kind, f"splitting size {n} into pieces of {v} gives a number "
                             "of pieces that depends on the symbols",
                             "Give the piece sizes as a list (split_size_or_sections=[...]).")
        _outputs(self, -(-n // v))
        return ax, [v] * (n // v) + ([n % v] if n % v else [])

    def output_shape(self, x: Any) -> tuple:
        shape = self._input(x, min_rank=1)
        ax, sizes = self._sizes(shape)
        return tuple((*shape[:ax], s, *shape[ax + 1:]) for s in sizes)

    def cost(self, x: Any) -> Cost:
        self.output_shape(x)
        return Cost()

    def assumptions(self, x: Any) -> tuple:
        shape = self._input(x, min_rank=1)
        v = self.split_size_or_sections
        if not isinstance(v, tuple):
            return ()
        ax = _axis(self, "dim", self.dim, len(shape))
        rel = eq(as_count(sum(v)), shape[ax])
        return () if truth(rel) is not None else (rel,)


@dataclass(frozen=True)
class Chunk(Layer):
    """``torch.chunk(x, chunks, dim)`` on the batch-free axis `dim` (the dim rule of
    function-style layers). PyTorch's rule: pieces of ``c = ceil(n / chunks)``, the last one
    ``n - (k - 1) c``, and only ``k = ceil(n / c)`` pieces, which can be fewer than `chunks`
    (``chunk`` of 6 into 4 gives 3 pieces of 2). With a symbolic size the analysis assumes
    ``chunks`` non-empty pieces, ``n - (chunks - 1) c >= 1`` (an assumption of the analysis,
    see `assumptions`).

    Views: no arithmetic and no memory traffic.

    >>> Chunk(3).output_shape((96, 7, 7))
    ((32, 7, 7), (32, 7, 7), (32, 7, 7))
    >>> Chunk(4).output_shape((6,))
    ((2,), (2,), (2,))
    """

    chunks: Dim = dim()
    dim: int = 0

    def check(self) -> None:
        if isinstance(self.dim, bool) or not isinstance(self.dim, int):
            raise LayerSpecError(self.kind, f"dim (={self.dim!r}) must be an integer")
        if type(self.chunks) is not int:
            raise LayerSpecError(self.kind, f"chunks (={self.chunks}) must be a number: it is "
                                 "the number of outputs")
        _outputs(self, self.chunks)

    def output_shape(self, x: Any) -> tuple:
        shape = self._input(x, min_rank=1)
        ax = _axis(self, "dim", self.dim, len(shape))
        n = shape[ax]
        c = cdiv(n, self.chunks)
        if type(n) is int:
            k = -(-n // c)
        else:
            k = self.chunks
            last = as_count(n - (k - 1) * c)
            require(ge(last, 1), self.kind, lambda: f"size {n} of axis {ax} gives fewer than "
                    f"{k} chunks", error=ShapeError)
        sizes = [c] * (k - 1) + [as_count(n - (k - 1) * c)]
        return tuple((*shape[:ax], s, *shape[ax + 1:]) for s in sizes)

    def cost(self, x: Any) -> Cost:
        self.output_shape(x)
        return Cost()

    def assumptions(self, x: Any) -> tuple:
        shape = self._input(x, min_rank=1)
        n = shape[_axis(self, "dim", self.dim, len(shape))]
        if type(n) is int:
            return ()
        rel = ge(as_count(n - (self.chunks - 1) * cdiv(n, self.chunks)), 1)
        return () if truth(rel) is not None else (rel,)


def _equal_shapes(layer: Layer, shapes: list, skip: int | None, what: str) -> None:
    first = shapes[0]
    for s in shapes[1:]:
        if len(s) != len(first):
            raise ShapeError(layer.kind, f"input shapes {fmt(first)} and {fmt(s)} have "
                             "different ranks")
        for i in range(len(first)):
            if i != skip:
                require(eq(first[i], s[i]), layer.kind,
                        lambda: f"input shapes {fmt(first)} and {fmt(s)} differ at axis {i}"
                        f"{what}", error=ShapeError)


def equality_assumptions(shapes: list, skip: int | None = None) -> tuple:
    """``Eq(a, b)`` for every axis (but `skip`) where two inputs' sizes are undecided."""
    out: list = []
    first = shapes[0]
    for s in shapes[1:]:
        for i, (a, b) in enumerate(zip(first, s)):
            if i != skip and not (type(a) is int and type(b) is int):
                rel = sp.Eq(a, b)
                if truth(rel) is None and rel not in out:
                    out.append(rel)
    return tuple(out)


@dataclass(frozen=True)
class Stack(Layer):
    """``torch.stack(tensors, dim)`` of ``k >= 2`` inputs of one shape: a new axis of size
    ``k`` at batch-free position `dim` (the dim rule of function-style layers: 0 puts it
    first). ``output_shape(*shapes)``, ``cost(*shapes)``.

    No arithmetic; the result is a new tensor, so every input element is read once and every
    output element written once (a copy), as `Concat`.

    >>> c = Stack().cost((8, 4), (8, 4), (8, 4))
    >>> Stack().output_shape((8, 4), (8, 4)), Stack(dim=-1).output_shape((8, 4), (8, 4))
    ((2, 8, 4), (8, 4, 2))
    >>> c.act_reads, c.writes
    (96, 96)
    """

    dim: int = 0

    def _inputs(self, shapes: tuple) -> list:
        if len(shapes) < 2:
            raise ShapeError(self.kind, f"needs at least 2 input shapes, got {len(shapes)}")
        return [self._input(s) for s in shapes]

    def output_shape(self, *shapes: Any) -> tuple[Dim, ...]:
        ins = self._inputs(shapes)
        _equal_shapes(self, ins, None, " (stacked tensors must have one shape)")
        ax = _axis(self, "dim", self.dim, len(ins[0]), extra=1)
        first = ins[0]
        return (*first[:ax], len(ins), *first[ax:])

    def cost(self, *shapes: Any) -> Cost:
        y = self.output_shape(*shapes)
        return Cost(act_reads=prod(y), writes=prod(y))

    def assumptions(self, *shapes: Any) -> tuple:
        return equality_assumptions(self._inputs(shapes))


def _broadcast_batch(layer: Layer, a: tuple, b: tuple, sa: tuple, sb: tuple) -> tuple:
    """Broadcast two batch shapes (right-aligned; a 1 broadcasts)."""
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if type(x) is int and x == 1:
            out.append(y)
        elif type(y) is int and y == 1 or x is y or (type(x) is int and x == y):
            out.append(x)
        elif type(x) is int and type(y) is int:
            raise ShapeError(layer.kind, f"input shapes {fmt(sa)} and {fmt(sb)} cannot be "
                             f"broadcast: batch sizes {x} and {y}")
        else:
            out.append(smax(x, y))
    return tuple(reversed(out))


@dataclass(frozen=True)
class MatMul(Layer):
    """``torch.matmul(a, b)`` (the ``@`` operator) per sample: ``output_shape(a, b)`` and
    ``cost(a, b)`` take the two batch-free shapes. PyTorch's rules: two 1-D inputs give their
    dot product (shape ``()``); a 1-D first input is a row ``(1, k)`` and a 1-D second one a
    column ``(k, 1)``, the added axis removed from the result; leading (batch) axes broadcast:
    ``(*B_a, n, k) @ (*B_b, k, m) -> (*broadcast(B_a, B_b), n, m)``.

    Counts: ``MACs = prod(B) * n * k * m`` in ``dots = prod(B) * n * m`` dot products of
    ``k`` terms (so exact FLOPs ``(2k - 1) * prod(B) * n * m``). Memory: both operands read
    once, the result written once; without reuse every MAC reads one element of each
    (``tap_reads = 2 * MACs``). A broadcast operand is read once, not once per batch entry.

    References
    ==========
    .. [1] PyTorch, ``torch.matmul`` documentation (the 1-D and broadcasting rules).

    >>> c = MatMul().cost((12, 197, 64), (12, 64, 197))  # ViT-B attention scores, per sample
    >>> MatMul().output_shape((12, 197, 64), (12, 64, 197)), c.macs, c.dots
    ((12, 197, 197), 29805312, 465708)
    >>> MatMul().output_shape((64,), (64,)), MatMul().output_shape((3, 4, 5), (5,))
    ((), (3, 4))
    """

    def _parts(self, a: Any, b: Any) -> tuple:
        sa, sb = self._input(a, min_rank=1), self._input(b, min_rank=1)
        a2 = (1, *sa) if len(sa) == 1 else sa
        b2 = (*sb, 1) if len(sb) == 1 else sb
        k, k2 = a2[-1], b2[-2]
        require(eq(k, k2), self.kind, lambda: f"input shapes {fmt(sa)} and {fmt(sb)} do not "
                f"fit: the first has {k} columns, the second {k2} rows", error=ShapeError)
        batch = _broadcast_batch(self, a2[:-2], b2[:-2], sa, sb)
        return sa, sb, a2, b2, batch

    def output_shape(self, a: Any, b: Any) -> tuple[Dim, ...]:
        sa, sb, a2, b2, batch = self._parts(a, b)
        return (*batch, *((a2[-2],) if len(sa) > 1 else ()), *((b2[-1],) if len(sb) > 1 else ()))

    def cost(self, a: Any, b: Any) -> Cost:
        sa, sb, a2, b2, batch = self._parts(a, b)
        dots = as_count(prod(batch) * a2[-2] * b2[-1])
        macs = as_count(dots * a2[-1])
        return Cost(macs=macs, dots=dots, act_reads=as_count(prod(sa) + prod(sb)), writes=dots,
                    tap_reads=as_count(2 * macs))

    def assumptions(self, a: Any, b: Any) -> tuple:
        sa, sb, a2, b2, _ = self._parts(a, b)
        out = list(equality_assumptions([(a2[-1],), (b2[-2],)]))
        ba, bb = a2[:-2], b2[:-2]
        for i in range(1, min(len(ba), len(bb)) + 1):
            out.extend(broadcast_assumption(ba[-i], bb[-i]))
        return tuple(out)


def broadcast_assumption(x: Dim, y: Dim) -> tuple:
    """``Eq(x, y) | Eq(x, 1) | Eq(y, 1)`` when undecided (the broadcasting condition)."""
    if type(x) is int and type(y) is int:
        return ()
    rel = sp.Or(sp.Eq(x, y), sp.Eq(x, 1), sp.Eq(y, 1))
    return () if truth(rel) is not None else (rel,)


@dataclass(frozen=True)
class ChannelShuffle(Layer):
    """ShuffleNet's channel shuffle, as ``torch.nn.ChannelShuffle(groups)``: reshape to
    ``(g, C/g, ...)``, transpose, flatten. A permutation: no arithmetic; the tensor is read and
    written once (a copy, since the result is not a view).

    References
    ==========
    .. [1] Zhang et al., "ShuffleNet", 2017, https://arxiv.org/abs/1707.01083, section 3.1.

    >>> ChannelShuffle(2).cost((116, 28, 28)).writes
    90944
    """

    groups: Dim = dim()

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, min_rank=1)
        c = shape[0]
        require(divides(self.groups, c), self.kind,
                f"input channels (={c}) must be divisible by groups (={self.groups})",
                error=ShapeError)
        return shape

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        return Cost(act_reads=prod(y), writes=prod(y))




def _torch_dims(layer: Layer, name: str, dims: tuple, rank: int) -> tuple[int, ...]:
    """Batch-free axes for PyTorch dims `dims` of a batched tensor of rank ``rank + 1``
    (PyTorch counts the batch as dim 0; negative dims count from the end)."""
    out = []
    for d in dims:
        if not -(rank + 1) <= d <= rank:
            raise ShapeError(layer.kind, f"{name} (={fmt(tuple(dims))}) is out of range for an "
                             f"input of rank {rank} (batch excluded); valid: 1..{rank} or "
                             f"-{rank}..-1")
        a = d % (rank + 1)
        if a == 0:
            raise ShapeError(layer.kind, f"{name} (={fmt(tuple(dims))}) moves the batch axis; "
                             "shapes here exclude the batch", "Keep dim 0 (the batch) first.")
        out.append(a - 1)
    return tuple(out)


def _int_tuple(layer: Layer, name: str, value: Any) -> tuple[int, ...]:
    vals = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, int):
            raise LayerSpecError(layer.kind, f"{name} (={value!r}) must be an integer or a "
                                 "sequence of integers")
    return vals


@dataclass(frozen=True)
class Permute(Layer):
    """``torch.permute(x, dims)``, as ``torchvision.ops.misc.Permute(dims)`` (ConvNeXt, Swin):
    reorders the axes. A view: no arithmetic and no memory traffic (the consumer reads the
    strided view), as `Transpose`.

    `dims` are PyTorch's, for the *batched* tensor, so a line copied from torchvision means
    the same: ``Permute([0, 2, 3, 1])`` turns a channels-first ``(C, H, W)`` sample into
    channels-last ``(H, W, C)``. The batch must stay first (``dims[0] == 0``): costs are per
    sample.

    output shape: ``out[i] = x[dims[i + 1] - 1]`` for the batch-free shape ``x``.

    >>> Permute([0, 2, 3, 1]).output_shape((96, 56, 56))
    (56, 56, 96)
    >>> Permute([0, 3, 1, 2]).output_shape((56, 56, 96))
    (96, 56, 56)
    """

    dims: tuple = ()

    def check(self) -> None:
        dims = _int_tuple(self, "dims", self.dims)
        object.__setattr__(self, "dims", dims)
        n = len(dims)
        if n < 1 or sorted(d % n for d in dims) != list(range(n)):
            raise LayerSpecError(self.kind, f"dims (={fmt(dims)}) must be a permutation of "
                                 f"0..{max(n - 1, 0)}")
        if dims[0] % n != 0:
            raise LayerSpecError(self.kind, f"dims (={fmt(dims)}) moves the batch axis; shapes "
                                 "here exclude the batch", "Keep dim 0 (the batch) first.")

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, len(self.dims) - 1, layout=f"(permuting {len(self.dims)} "
                            "batched axes)")
        axes = _torch_dims(self, "dims", self.dims[1:], len(shape))
        return tuple(shape[a] for a in axes)

    def cost(self, x: Any) -> Cost:
        self.output_shape(x)
        return Cost()


@dataclass(frozen=True)
class Roll(Layer):
    """``torch.roll(x, shifts, dims)``: shifts elements cyclically along `dims` (Swin's shifted
    windows, ``torch.roll(x, shifts=(-s, -s), dims=(1, 2))`` on a channels-last
    ``(B, H, W, C)`` tensor). `dims` are PyTorch's (the batch is dim 0). ``dims=None`` is
    rejected: PyTorch then rolls the flattened *batched* tensor, which mixes samples, so it has
    no per-sample cost.

    Same shape out. No arithmetic; the result is a new tensor, so every element is read once
    and written once (a copy): ``act_reads = writes = numel``. A shift may be any integer
    (negative, larger than the axis, or a symbol): it changes values' positions, not counts.

    >>> c = Roll((-3, -3), (1, 2)).cost((56, 56, 96))
    >>> c.act_reads, c.writes, c.macs
    (301056, 301056, 0)
    """

    shifts: Any = 0
    dims: Any = None

    def check(self) -> None:
        if self.dims is None:
            raise LayerSpecError(self.kind, "dims (=None) rolls the flattened batched tensor, "
                                 "mixing samples; per-sample costs need explicit dims",
                                 "Give the axes, e.g. dims=(1, 2) for H and W of (B, H, W, C).")
        dims = _int_tuple(self, "dims", self.dims)
        vals = tuple(self.shifts) if isinstance(self.shifts, (list, tuple)) else (self.shifts,)
        shifts = tuple(as_count(v) if not isinstance(v, bool) and isinstance(v, (int, sp.Expr))
                       else _bad_shift(self, v) for v in vals)
        if len(shifts) != len(dims):
            raise LayerSpecError(self.kind, f"shifts (={fmt(shifts)}) and dims (={fmt(dims)}) "
                                 "must have the same length")
        object.__setattr__(self, "dims", dims)
        object.__setattr__(self, "shifts", shifts)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, min_rank=1)
        _torch_dims(self, "dims", self.dims, len(shape))
        return shape

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        n = prod(y)
        return Cost(act_reads=n, writes=n)


def _bad_shift(layer: Layer, v: Any) -> Any:
    raise LayerSpecError(layer.kind, f"shifts (entry {v!r}) must be an integer or a SymPy "
                         "expression")
