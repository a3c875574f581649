"""Graphs: any architecture as a dataflow of layer calls, in the spirit of the Keras functional
API and ``torch.fx``, alongside the containers (`Sequential`, `Residual`, `Parallel`).

`Input` makes a symbolic `Tensor` (a shape, no data). Calling a layer or a container on
tensors records a *node* and returns its output tensor, whose ``shape`` is computed at once, so
a layer that does not fit its inputs raises then, naming the producers. Tensor operators and
functions (``+``, ``*``, ``-``, ``/``, ``@``, `cat`, `stack`, `split`, `chunk`, ``t.permute``,
``t.reshape``, ``t.flatten``, ``t[...]``, ``t.mean``) record layers too. `Graph(inputs,
outputs)` collects the nodes between them; a Graph is itself a node: analyze it, call it on
tensors inside another Graph, or put it in a `Sequential` (one input, one output).

>>> import layercalc as lc
>>> x = lc.Input((3, 32, 32))
>>> a = lc.Conv2d(3, 8, 3, padding=1)(x)
>>> b = lc.Conv2d(3, 8, 1)(x)
>>> y = lc.cat([a, b], dim=0)
>>> z = a + b
>>> y.shape, z.shape
((16, 32, 32), (8, 32, 32))
>>> g = lc.Graph(x, [y, z], name="net")
>>> r = lc.analyze(g)
>>> [row.path for row in r.rows], r.output_shape
(['conv2d', 'conv2d_1', 'cat', 'add'], ((16, 32, 32), (8, 32, 32)))
>>> r.total.params, [row.sources for row in r.rows]
(256, [(None,), (None,), (0, 1), (0, 1)])

Node names are report paths. ``name=`` on a call names the node (any string, dots allowed:
``"layer3.0.conv2"``); otherwise a name is generated, as torch.fx does, when the Graph is
built: the layer's lowercased class name (``Conv2d`` -> ``conv2d``), the function's name for
the tensor functions (``cat``, ``stack``, ``split``, ``chunk``, ``getitem``, ``permute``,
``reshape``, ``view``, ``flatten``, ``mean``), the operator's for ``+ * - / @`` (``add``,
``mul``, ``sub``, ``div``, ``matmul``), a Graph's ``name`` (else ``graph``) or a container's
lowercased class name; then ``_1``, ``_2`` ... for later nodes of the same base in call order,
skipping every explicit name. One layer object called several times is one module: its calls
share one name (one path, as a PyTorch module called twice) and one set of weights, counted
at the first call (as `Tied`). Error messages while building name nodes as they would be in a
graph ending at the failing node.

The dim rule: tensor methods, ``lc.*`` tensor functions and the function-style layers
(`Concat`, `Stack`, `Split`, `Chunk`, `Slice`, `Getitem`, `MatMul`) index the
*batch-free* shape, dim 0 being the channels; layer classes that mirror a torch.nn/torchvision
module or a torch function written on the batched tensor (`Flatten`, `Softmax`, `LogSoftmax`,
`Transpose`, `Permute`, `Roll`, `Mean`) keep PyTorch's
dims, the batch being dim 0, so a line copied from PyTorch means the same.

>>> t = lc.Input((8, 4, 6))
>>> t.permute(2, 0, 1).shape, t.flatten(1).shape, t[:2].shape, t.mean((1, 2)).shape
((6, 8, 4), (8, 24), (2, 4, 6), (8,))
>>> [p.shape for p in lc.split(t, [2, 6])], (t.reshape(8, 24) @ lc.Input((24, 5))).shape
([(2, 4, 6), (6, 4, 6)], (8, 5))
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import sympy as sp

from .dims import as_count, fmt, ge, require
from .errors import GraphError, ShapeError, _LayerError
from .layers import (
    Add, Chunk, Concat, Div, Flatten, Getitem, Layer, MatMul, Mean, Mul, Permute, Reshape,
    Split, Stack, Sub,
)
from .network import (
    _Container, _join, _Src, _Tracer, analyze, find_cycle, is_multi, source_row,
)

__all__ = ["Input", "Tensor", "Graph", "GraphNode", "cat", "stack", "split", "chunk", "apply"]

_ORDER = itertools.count()  # creation order of nodes: a valid topological order
_CALLS = ("module", "functional", "operator")


class _Node:
    """One recorded call (or an `Input`, whose ``op`` is None)."""

    __slots__ = ("op", "inputs", "name", "auto", "call", "order", "out")

    def __init__(self, op: Any, inputs: tuple, name: str | None, auto: str, call: str,
                 out: Any) -> None:
        self.op, self.inputs, self.name, self.auto, self.call = op, inputs, name, auto, call
        self.order = next(_ORDER)
        self.out = out  # the output shape, or a tuple of shapes for a multi-output node


class Tensor:
    """A symbolic tensor of a graph: the output ``index`` of ``node``, of batch-free
    ``shape`` (ints or SymPy expressions). Made by `Input` and by calls on tensors; it holds
    no data. Operators and methods record layers (the dim rule of `layercalc.graph`: dims
    index the batch-free shape)."""

    __slots__ = ("node", "index", "shape")

    def __init__(self, node: _Node, index: int, shape: tuple) -> None:
        self.node, self.index, self.shape = node, index, shape

    # -- description ---------------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        """Rank of the batch-free shape."""
        return len(self.shape)

    def size(self, dim: int | None = None) -> Any:
        """The shape, or the size along batch-free axis `dim`."""
        return self.shape if dim is None else self.shape[dim]

    def __repr__(self) -> str:
        who = self.node.name or self.node.auto
        port = f"[{self.index}]" if is_multi(self.node.out) else ""
        return f"Tensor(shape={fmt(self.shape)}, node={who!r}{port})"

    def __iter__(self):
        raise GraphError(f"a graph tensor ({self!r}) is not iterable; split it with "
                         "layercalc.split or layercalc.chunk")

    def _record(self, op: Any, inputs: tuple, name: Any, call: Any) -> Any:
        return _record(op, inputs, name, call)

    # -- operators (call="operator") ------------------------------------------------------------
    def _binary(self, layer: Layer, other: Any, auto: str, swap: bool = False) -> Tensor:
        if not isinstance(other, Tensor):
            raise GraphError(f"{auto}: both operands must be graph tensors, got {self!r} and "
                             f"{other!r}; constants are not modelled (write a layer for them)")
        a, b = (other, self) if swap else (self, other)
        return _record(layer, (a, b), None, "operator", auto)

    def __add__(self, other: Any) -> Tensor:
        return self._binary(Add(), other, "add")

    def __radd__(self, other: Any) -> Tensor:
        return self._binary(Add(), other, "add", swap=True)

    def __mul__(self, other: Any) -> Tensor:
        return self._binary(Mul(), other, "mul")

    def __rmul__(self, other: Any) -> Tensor:
        return self._binary(Mul(), other, "mul", swap=True)

    def __sub__(self, other: Any) -> Tensor:
        return self._binary(Sub(), other, "sub")

    def __rsub__(self, other: Any) -> Tensor:
        return self._binary(Sub(), other, "sub", swap=True)

    def __truediv__(self, other: Any) -> Tensor:
        return self._binary(Div(), other, "div")

    def __rtruediv__(self, other: Any) -> Tensor:
        return self._binary(Div(), other, "div", swap=True)

    def __matmul__(self, other: Any) -> Tensor:
        return self._binary(MatMul(), other, "matmul")

    def __rmatmul__(self, other: Any) -> Tensor:
        return self._binary(MatMul(), other, "matmul", swap=True)

    def __getitem__(self, key: Any) -> Tensor:
        """``t[key]``: basic indexing of the batch-free shape (`Getitem`)."""
        return _record(Getitem(key), (self,), None, "operator", "getitem")

    # -- methods (call="functional") ------------------------------------------------------------
    def permute(self, *dims: Any, name: str | None = None) -> Tensor:
        """``t.permute(*dims)`` of the batch-free axes: records PyTorch's ``Permute`` with the
        batch kept first (``t.permute(1, 2, 0)`` is ``Permute([0, 2, 3, 1])``)."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        r = len(self.shape)
        for d in dims:
            if isinstance(d, bool) or not isinstance(d, int) or not -r <= d < r:
                raise GraphError(f"permute: dims (={fmt(tuple(dims))}) must be a permutation "
                                 f"of the batch-free axes 0..{r - 1} of shape {fmt(self.shape)}")
        return _record(Permute((0, *[d % r + 1 for d in dims])), (self,), name, "functional",
                       "permute")

    def reshape(self, *shape: Any, name: str | None = None) -> Tensor:
        """``t.reshape(*shape)`` of the batch-free shape (one entry may be -1)."""
        return _record(Reshape(*shape), (self,), name, "functional", "reshape")

    def view(self, *shape: Any, name: str | None = None) -> Tensor:
        """``t.view(*shape)``: as `reshape`."""
        return _record(Reshape(*shape), (self,), name, "functional", "view")

    def flatten(self, start_dim: int = 0, end_dim: int = -1, *, name: str | None = None) -> Tensor:
        """``t.flatten(start_dim, end_dim)`` of the batch-free axes (``t.flatten()`` is one
        axis); records PyTorch's ``Flatten(start_dim + 1, end_dim + 1)``."""
        def torch_dim(d: Any) -> Any:
            return d + 1 if isinstance(d, int) and not isinstance(d, bool) and d >= 0 else d
        return _record(Flatten(torch_dim(start_dim), torch_dim(end_dim)), (self,), name,
                       "functional", "flatten")

    def mean(self, dim: Any = None, keepdim: bool = False, *, name: str | None = None) -> Tensor:
        """``t.mean(dim, keepdim)`` over batch-free axes (``None``: every axis of the sample);
        records PyTorch's ``Mean`` over the batched tensor's dims (each non-negative axis + 1),
        as ``x.mean([2, 3])`` of a ``(B, C, H, W)`` tensor is ``t.mean((1, 2))`` here."""
        if dim is None:
            axes: Any = tuple(range(1, len(self.shape) + 1))
        else:
            ds = tuple(dim) if isinstance(dim, (list, tuple)) else (dim,)
            axes = tuple(d + 1 if isinstance(d, int) and not isinstance(d, bool) and d >= 0
                         else d for d in ds)
        return _record(Mean(axes, keepdim), (self,), name, "functional", "mean")

    def split(self, split_size_or_sections: Any, dim: int = 0, *,
              name: str | None = None) -> tuple:
        """``t.split(...)``: `split`."""
        return split(self, split_size_or_sections, dim, name=name)

    def chunk(self, chunks: int, dim: int = 0, *, name: str | None = None) -> tuple:
        """``t.chunk(...)``: `chunk`."""
        return chunk(self, chunks, dim, name=name)


def Input(shape: Any, name: str | None = None) -> Tensor:
    """A graph input of batch-free `shape` (ints or SymPy expressions): the tensor to call
    layers on. `name` names it in messages (default ``input``, ``input_1`` ...).

    >>> import layercalc as lc
    >>> H = lc.symbols("H")
    >>> lc.Conv2d(3, 8, 3, stride=2)(Input((3, H, H))).shape
    (8, ceiling(H/2) - 1, ceiling(H/2) - 1)
    """
    if isinstance(shape, (int, sp.Basic)):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not shape:
        raise GraphError(f"Input: shape (={shape!r}) must be a tuple of sizes (batch excluded)")
    out = []
    for v in shape:
        if isinstance(v, bool) or not isinstance(v, (int, sp.Expr)):
            raise GraphError(f"Input: shape (={fmt(tuple(shape))}) must hold integers or SymPy "
                             f"expressions, got {v!r}")
        v = as_count(v)
        require(ge(v, 1), "Input", lambda: f"sizes must be positive, got shape "
                f"{fmt(tuple(shape))}", error=ShapeError)
        out.append(v)
    _check_name(name, "Input")
    shape = tuple(out)
    return Tensor(_Node(None, (), name, "input", "module", shape), 0, shape)


def _check_name(name: Any, who: str) -> None:
    if name is not None and (not isinstance(name, str) or not name):
        raise GraphError(f"{who}: name (={name!r}) must be a non-empty string (a report path)")


def _auto_name(op: Any) -> str:
    if isinstance(op, Layer):
        return op.kind.lower()
    return getattr(op, "name", "") or type(op).__name__.lower()


def _record(op: Any, inputs: tuple, name: Any, call: Any, auto: str | None = None) -> Any:
    """Record ``op(*inputs)`` as a node; return its output tensor (a tuple for several)."""
    auto = auto or _auto_name(op)
    who = name or auto
    if not isinstance(op, (Layer, _Container)):
        raise GraphError(f"{who}: only layers and containers can be called on tensors, got "
                         f"{op!r}")
    _check_name(name, who)
    if call not in _CALLS:
        raise GraphError(f"{who}: call (={call!r}) must be one of "
                         + ", ".join(repr(c) for c in _CALLS))
    for i, a in enumerate(inputs):
        if isinstance(a, Tensor):
            continue
        if isinstance(a, (tuple, list)) and a and all(isinstance(t, Tensor) for t in a):
            src = a[0].node.name or a[0].node.auto
            raise GraphError(f"{who} ({_kind(op)}): input {i} is a tuple of {len(a)} tensors "
                             f"(the outputs of {src!r}), not one tensor; pick one (out[0]), or "
                             "pass them one by one to a layer taking several inputs (layer(*out))")
        raise GraphError(f"{who} ({_kind(op)}): input {i} is a {type(a).__name__}, not a graph "
                         "tensor (from layercalc.Input or a call on one)")
    if not inputs:
        raise GraphError(f"{who} ({_kind(op)}): needs at least one input tensor")
    if isinstance(op, _Container):
        if call != "module":
            raise GraphError(f"{who} ({_kind(op)}): call (={call!r}) applies to a layer; a "
                             "container's rows keep their own calls")
        if len(inputs) != op._n_inputs:
            raise GraphError(f"{who} ({_kind(op)}): takes {op._n_inputs} input tensor"
                             f"{'s' if op._n_inputs != 1 else ''}, got {len(inputs)}")
    shapes = [t.shape for t in inputs]
    try:
        out = _propagate(op, shapes, [""] * len(inputs), who, call)
    except (_LayerError, GraphError):  # again, naming the nodes as the graph would
        labels = _labels([t.node for t in inputs], extra=(name, auto, op))
        srcs = [labels[t.node] + (f"[{t.index}]" if is_multi(t.node.out) else "")
                if t.node.op is not None else f"input {labels[t.node]!r}" for t in inputs]
        _propagate(op, shapes, srcs, labels[None], call)
        raise  # pragma: no cover - the second pass raises the same error
    node = _Node(op, tuple(inputs), name, auto, call, out)
    if is_multi(out):
        return tuple(Tensor(node, k, s) for k, s in enumerate(out))
    return Tensor(node, 0, out)


def _kind(op: Any) -> str:
    return op.kind if isinstance(op, Layer) else type(op).__name__


def _propagate(op: Any, shapes: list, srcs: list, path: str, call: str) -> Any:
    """The output shape(s) of `op` on `shapes`, canonical as in `analyze`; errors name `path`
    and `srcs`."""
    tracer = _Tracer(1)
    if isinstance(op, Layer):
        try:
            y = op.output_shape(*shapes)
        except _LayerError as e:
            frm = " from " + " and ".join(s or "the input" for s in srcs)
            raise type(e)(f"{path} ({op.kind})", e.problem + frm, e.hint) from None
        ys = y if is_multi(y) else (y,)
        if not all(type(v) is int for s in ys for v in s):
            canon = [tuple(v if type(v) is int else as_count(v.xreplace(
                tracer._canonical_atoms(s))) for v in s) for s in ys]
            y = tuple(canon) if is_multi(y) else canon[0]
        return y
    src = [_Src.of(s, None, k) for k, s in enumerate(srcs)]
    try:
        if op._n_inputs == 1:
            y, _ = tracer.walk(op, shapes[0], src[0], path)
        else:
            y, _ = tracer.walk(op, tuple(shapes), tuple(src), path)
    except RecursionError:
        cycle = find_cycle(op)
        if cycle is None:
            raise
        raise GraphError(f"{path}: {cycle}") from None
    return y


# -- naming ------------------------------------------------------------------------------------
def _ancestors(nodes: Sequence[_Node]) -> list[_Node]:
    seen: dict[int, _Node] = {}
    stack = list(nodes)
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen[id(n)] = n
        stack.extend(t.node for t in n.inputs)
    return sorted(seen.values(), key=lambda n: n.order)


def _assign_names(nodes: list[_Node]) -> dict:
    """Names by the rule of the module docstring, for `nodes` in creation order."""
    taken = {n.name for n in nodes if n.name}
    by_op: dict[int, str] = {}
    counts: dict[str, int] = {}
    names: dict = {}
    for n in nodes:
        if n.name:
            names[n] = n.name
        elif n.op is not None and id(n.op) in by_op:
            names[n] = by_op[id(n.op)]
        else:
            base = n.auto
            k = counts.get(base, 0)
            cand = base if k == 0 else f"{base}_{k}"
            while cand in taken:
                k += 1
                cand = f"{base}_{k}"
            counts[base] = k + 1
            taken.add(cand)
            names[n] = cand
        if n.op is not None:
            by_op.setdefault(id(n.op), names[n])
    return names


def _labels(nodes: list[_Node], extra: tuple | None = None) -> dict:
    """Names of `nodes` and their ancestors; with `extra` = (name, auto, op), also the name a
    new node would get after them (under key None)."""
    anc = _ancestors(nodes)
    if extra is None:
        return _assign_names(anc)
    name, auto, op = extra
    probe = _Node(op, (), name, auto, "module", None)
    names = _assign_names([*anc, probe])
    names[None] = names.pop(probe)
    return names


# -- functions ---------------------------------------------------------------------------------
def _tensors(xs: Any, who: str) -> tuple:
    if isinstance(xs, Tensor):
        raise GraphError(f"{who}: takes a sequence of tensors ({who}([a, b])), got one tensor")
    return tuple(xs)


def cat(tensors: Sequence[Tensor], dim: int = 0, *, name: str | None = None) -> Tensor:
    """``torch.cat(tensors, dim)`` on batch-free axis `dim` (default 0, the channels):
    records `Concat` (``call="functional"``).

    >>> import layercalc as lc
    >>> x = lc.Input((4, 8, 8))
    >>> cat([x, lc.ReLU()(x)]).shape
    (8, 8, 8)
    """
    return _record(Concat(dim), _tensors(tensors, "cat"), name, "functional", "cat")


def stack(tensors: Sequence[Tensor], dim: int = 0, *, name: str | None = None) -> Tensor:
    """``torch.stack(tensors, dim)``, a new batch-free axis at `dim`: records `Stack`."""
    return _record(Stack(dim), _tensors(tensors, "stack"), name, "functional", "stack")


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0, *,
          name: str | None = None) -> tuple:
    """``torch.split(tensor, split_size_or_sections, dim)`` on batch-free axis `dim`: records
    `Split` and returns one tensor per piece."""
    out = _record(Split(split_size_or_sections, dim), (tensor,), name, "functional", "split")
    return out if isinstance(out, tuple) else (out,)


def chunk(tensor: Tensor, chunks: int, dim: int = 0, *, name: str | None = None) -> tuple:
    """``torch.chunk(tensor, chunks, dim)`` on batch-free axis `dim`: records `Chunk` and
    returns one tensor per chunk (PyTorch's count, which can be below `chunks`)."""
    out = _record(Chunk(chunks, dim), (tensor,), name, "functional", "chunk")
    return out if isinstance(out, tuple) else (out,)


def apply(op: Any, *inputs: Tensor, name: str | None = None, call: str = "module") -> Any:
    """``op(*inputs, name=name, call=call)`` as a function, for code that builds graphs from
    a description (an importer): records `op` (a layer or a container) on `inputs`.

    >>> import layercalc as lc
    >>> x = lc.Input((3, 8, 8))
    >>> apply(lc.Conv2d(3, 4, 1), x, name="layer1.0.conv1").node.name
    'layer1.0.conv1'
    """
    return _record(op, inputs, name, call)


# -- the graph ---------------------------------------------------------------------------------
class GraphNode(NamedTuple):
    """One node of a `Graph`, as ``graph.nodes`` lists them: its ``name`` (report path), the
    layer or container ``op``, its ``inputs`` as ``(producer name, output index)`` pairs, how
    PyTorch runs it (``call``), whether it only feeds a side output (``side``) and its
    output ``shape`` (a tuple of shapes for a multi-output node) at the declared input."""

    name: str
    op: Any
    inputs: tuple
    call: str
    side: bool
    shape: Any


class _Rec:
    __slots__ = ("node", "name", "side")

    def __init__(self, node: _Node, name: str, side: bool) -> None:
        self.node, self.name, self.side = node, name, side


def _as_tensor_list(x: Any, what: str, owner: str) -> list[Tensor]:
    items = [x] if isinstance(x, Tensor) else list(x) if isinstance(x, (tuple, list)) else None
    if items is None:
        raise GraphError(f"{owner}: {what} must be a tensor or a sequence of tensors, got {x!r}")
    flat: list[Tensor] = []
    for t in items:
        if isinstance(t, (tuple, list)) and all(isinstance(u, Tensor) for u in t):
            flat.extend(t)  # the tuple of a multi-output node
        elif isinstance(t, Tensor):
            flat.append(t)
        else:
            raise GraphError(f"{owner}: {what} must be graph tensors, got {t!r}")
    return flat


class Graph(_Container):
    """The nodes between `inputs` (tensors from `Input`) and `outputs`, as one model.

    ``Graph(inputs, outputs, name=None, *, side_outputs=None)``: `inputs` and `outputs` are
    a tensor or a sequence of tensors (a multi-output node's tuple counts as its tensors).
    A Graph is a node: ``analyze(graph, shape)`` re-propagates shapes for any input shape
    (a tuple of shapes for several inputs; ``analyze(graph)`` uses the declared ones,
    ``graph.input_shape``); ``graph(t)`` inside another graph nests it (rows under the
    node's name); a Graph with one input and one output may be a child of `Sequential`,
    `Residual` or `Parallel`. With several outputs, ``Report.output_shape`` is a tuple of
    shapes.

    `side_outputs` (a tensor, a sequence, or a mapping label -> tensor) are outputs that do
    not run at inference, such as Inception's auxiliary classifier: the nodes only they need
    are reported as rows with ``side=True`` whose parameters and buffers count and whose work
    (MACs, ops, memory traffic) does not, and the report's notes say so. At an input size a
    side output cannot take, its rows are reported at the sizes the graph was built with (for
    their parameters), with a note, instead of failing the analysis.

    Errors (`GraphError`, naming the node): an output that depends on an `Input` not among
    `inputs` (a tensor from another graph), an input no output uses, inputs that are not
    `Input` tensors; while analyzing: a cycle (a container containing itself).

    >>> import layercalc as lc
    >>> x = lc.Input((8, 16, 16), name="x")
    >>> block = Graph(x, lc.ReLU()(lc.Conv2d(8, 8, 3, padding=1)(x) + x), name="block")
    >>> net = lc.Sequential(lc.Conv2d(3, 8, 1), block, block)  # one block, called twice
    >>> r = lc.analyze(net, (3, 16, 16))
    >>> [(row.path, row.cost.params) for row in r.rows]  # doctest: +NORMALIZE_WHITESPACE
    [('0', 32), ('1.conv2d', 584), ('1.add', 0), ('1.relu', 0),
     ('2.conv2d', 0), ('2.add', 0), ('2.relu', 0)]
    """

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None, *,
                 side_outputs: Any = None) -> None:
        owner = f"Graph {name!r}" if name else "Graph"
        if name is not None and not isinstance(name, str):
            raise GraphError(f"Graph: name (={name!r}) must be a string")
        self.name = name or ""
        ins = _as_tensor_list(inputs, "inputs", owner)
        outs = _as_tensor_list(outputs, "outputs", owner)
        if not ins or not outs:
            raise GraphError(f"{owner}: needs at least one input and one output")
        if isinstance(side_outputs, Mapping):
            side = dict(side_outputs)
        elif side_outputs is None:
            side = {}
        else:
            side = dict(enumerate(_as_tensor_list(side_outputs, "side_outputs", owner)))
        for t in side.values():
            if not isinstance(t, Tensor):
                raise GraphError(f"{owner}: side_outputs must be graph tensors, got {t!r}")
        for i, t in enumerate(ins):
            if t.node.op is not None:
                label = _labels([t.node])[t.node]
                raise GraphError(f"{owner}: inputs must be tensors made by layercalc.Input; "
                                 f"input {i} is the output of {label!r}")
        if len({id(t.node) for t in ins}) != len(ins):
            raise GraphError(f"{owner}: an input is listed twice")
        main = _ancestors([t.node for t in outs])
        extra = [n for n in _ancestors([t.node for t in side.values()])
                 if id(n) not in {id(m) for m in main}]
        allnodes = sorted([*main, *extra], key=lambda n: n.order)
        names = _assign_names(allnodes)
        in_ids = {id(t.node) for t in ins}
        for n in allnodes:
            for t in n.inputs:
                if t.node.op is None and id(t.node) not in in_ids:
                    raise GraphError(
                        f"{owner}: node {names[n]!r} reads input {names[t.node]!r} (shape "
                        f"{fmt(t.shape)}), which is not among the graph's inputs: a tensor "
                        "from another graph (give it in inputs, or build this part from "
                        "this graph's inputs)")
        for t in [*outs, *side.values()]:
            if t.node.op is None and id(t.node) not in in_ids:
                raise GraphError(f"{owner}: an output is input {names[t.node]!r}, which is not "
                                 "among the graph's inputs (a tensor from another graph)")
        used = {id(n) for n in allnodes}
        for i, t in enumerate(ins):
            if id(t.node) not in used:
                label = t.node.name or ("input" if i == 0 else f"input_{i}")
                raise GraphError(f"{owner}: input {i} ({label!r}, shape {fmt(t.shape)}) is not "
                                 "used by any output")
        side_ids = {id(n) for n in extra}
        self.inputs: tuple[Tensor, ...] = tuple(ins)
        self.outputs: tuple[Tensor, ...] = tuple(outs)
        self.side_outputs: dict = {(names[t.node] if isinstance(k, int) else k): t
                                   for k, t in side.items()}
        self._records = tuple(_Rec(n, names[n], id(n) in side_ids)
                              for n in allnodes if n.op is not None)
        self._input_names = tuple(names[t.node] for t in ins)
        self._n_inputs, self._n_outputs = len(ins), len(outs)

    # -- description ---------------------------------------------------------------------------
    @property
    def input_shape(self) -> tuple:
        """The declared input shape (a tuple of shapes for several inputs)."""
        if len(self.inputs) == 1:
            return self.inputs[0].shape
        return tuple(t.shape for t in self.inputs)

    @property
    def input_names(self) -> tuple[str, ...]:
        return self._input_names

    @property
    def nodes(self) -> tuple[GraphNode, ...]:
        """The nodes in call order (inputs excluded), see `GraphNode`."""
        names = {id(t.node): n for t, n in zip(self.inputs, self._input_names)}
        names.update({id(r.node): r.name for r in self._records})
        return tuple(GraphNode(r.name, r.node.op, tuple((names[id(t.node)], t.index)
                                                        for t in r.node.inputs),
                               r.node.call, r.side, r.node.out) for r in self._records)

    def children(self) -> list[tuple[str, Any]]:
        return [(r.name, r.node.op) for r in self._records]

    def output_shape(self, x: Any = None) -> tuple:
        """Output shape(s) for input shape(s) `x` (default: the declared ones)."""
        return analyze(self, x).output_shape

    def cost(self, x: Any = None) -> Any:
        """Per-sample cost for input shape(s) `x` (default: the declared ones)."""
        return analyze(self, x).total

    def __repr__(self) -> str:
        return (f"Graph({self.name!r}, inputs={len(self.inputs)}, nodes={len(self._records)}, "
                f"outputs={len(self.outputs)}"
                + (f", side_outputs={list(self.side_outputs)}" if self.side_outputs else "")
                + ")")

    # -- tracing -------------------------------------------------------------------------------
    def _walk(self, tracer: _Tracer, x: Any, src: Any, path: str) -> Any:
        if self._n_inputs == 1:
            xs, ss = (x,), (src,)
        else:
            xs, ss = tuple(x), tuple(src)
        env: dict[int, list] = {}
        for t, xv, sv in zip(self.inputs, xs, ss):
            env[id(t.node)] = [(xv, sv)]
        side_rows: list[int] = []
        for rec in self._records:
            node = rec.node
            args = [env[id(t.node)][t.index] for t in node.inputs]
            shapes = [a[0] for a in args]
            srcs = [a[1] for a in args]
            p = _join(path, rec.name)
            op = node.op
            shared = id(op) in tracer.shared
            tracer.shared.add(id(op))
            tracer.share_depth += shared
            tracer.side_depth += rec.side
            start = len(tracer.rows)
            state = (set(tracer.shared), len(tracer.assumptions), len(tracer.notes))
            try:
                y, ys = _call(tracer, op, shapes, srcs, p, node.call)
            except _LayerError as e:
                if not rec.side or tracer.side_depth > 1:
                    raise
                # A side output does not run at inference, so an input it cannot take does
                # not stop the analysis (torchvision runs Inception v3 at 75x75, where its
                # aux head could not): its rows are reported at the sizes the graph was built
                # with, for their parameters, and a note says so.
                del tracer.rows[start:]
                tracer.shared.clear()
                tracer.shared.update(state[0] | {id(op)})
                del tracer.assumptions[state[1]:]
                del tracer.notes[state[2]:]
                built = [t.shape for t in node.inputs]
                y, ys = _call(tracer, op, built, srcs, p, node.call)
                tracer.notes.append(f"{p}: the side output cannot run at these sizes ({e}); "
                                    "its rows are reported at the sizes the graph was built "
                                    f"with ({' and '.join(fmt(b) for b in built)}), for "
                                    "their parameters")
            finally:
                tracer.share_depth -= shared
                tracer.side_depth -= rec.side
            if rec.side:
                side_rows.extend(range(start, len(tracer.rows)))
            if is_multi(node.out):
                if not is_multi(y) or len(y) != len(node.out):
                    raise GraphError(f"{p} ({_kind(op)}): gives {len(y) if is_multi(y) else 1} "
                                     f"outputs at these sizes, but the graph was built with "
                                     f"{len(node.out)} (the count depends on the sizes)")
                if isinstance(ys, tuple):
                    env[id(node)] = list(zip(y, ys))
                else:
                    env[id(node)] = [(yk, _Src.of(ys, source_row(ys), k))
                                     for k, yk in enumerate(y)]
            else:
                env[id(node)] = [(y, ys)]
        if side_rows and not tracer.side_depth:
            params = as_count(sum(tracer.rows[i].cost.params for i in side_rows))
            labels = ", ".join(str(k) for k in self.side_outputs)
            tracer.notes.append(
                f"{path or self.name or 'graph'}: side output {labels} ({len(side_rows)} rows) "
                f"does not run at inference: its {_show(params)} parameters are counted, its "
                "work and memory traffic are not (rows marked side)")
        results = [env[id(t.node)][t.index] for t in self.outputs]
        if len(results) == 1:
            return results[0]
        return tuple(r[0] for r in results), tuple(r[1] for r in results)


def _call(tracer: _Tracer, op: Any, shapes: list, srcs: list, path: str, call: str) -> Any:
    """Trace one node: a layer as a leaf, a container as a walk."""
    if isinstance(op, Layer):
        return tracer.leaf(op, shapes, srcs, path, call=call)
    if op._n_inputs == 1:
        return tracer.walk(op, shapes[0], srcs[0], path)
    return tracer.walk(op, tuple(shapes), tuple(srcs), path)


def _show(v: Any) -> str:
    return f"{v:,}" if type(v) is int else str(v)
