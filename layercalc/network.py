"""Networks: containers of layers, shape propagation and `analyze`.

Containers hold no formulas: a network's cost is the sum of its leaf layers' costs, so it is
consistent by construction. `analyze` walks a model, propagates shapes, checks that they fit
and keeps one `Row` per leaf layer. Errors raised inside a layer are re-raised with the
layer's path and the path that produced its input (einops' boundary wrapping).
"""

from __future__ import annotations

import abc
import gc
from collections.abc import Mapping
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from typing import Any, Union

import sympy as sp

from .cost import Cost
from .dims import Dim, as_count, as_dim, fmt, show
from .errors import (ArgumentError, GraphError, LayerSpecError, ShapeError, UnknownNameError,
                     _LayerError)
from .floors import canonical
from .layers import Add, Concat, Layer, Mul
from .layers._base import dispatch_call
from .report import Assumption, Report, Row

__all__ = ["Sequential", "Residual", "Parallel", "Tied", "Functional", "analyze", "Node",
           "source_row", "source_port", "is_multi", "find_cycle"]


class _Container(abc.ABC):
    """A node holding other nodes. Not a `Layer`: it has no formula of its own.

    Calling a container on graph tensors (``block(x)``, `layercalc.Input`) records it as one
    node of a graph, as calling a layer does; its rows sit under the node's name."""

    #: how many tensors the container takes and returns (a `layercalc.Graph` may have more)
    _n_inputs: int = 1
    _n_outputs: int = 1

    def __call__(self, *inputs: Any, name: str | None = None, call: str = "module") -> Any:
        return dispatch_call(self, inputs, name, call)

    @abc.abstractmethod
    def _walk(self, tracer: _Tracer, x: tuple, src: str, path: str) -> tuple[tuple, str]:
        """Trace the node on input `x` (produced by `src`); return the output and its producer."""

    def output_shape(self, x: Any) -> tuple:
        return analyze(self, x).output_shape

    def cost(self, x: Any) -> Cost:
        """Per-sample cost: the sum of the leaf layers' costs."""
        return analyze(self, x).total

    def children(self) -> list[tuple[str, Node]]:
        return []


Node = Union[Layer, _Container]


def _check_node(owner: str, node: Any) -> None:
    if not isinstance(node, (Layer, _Container)):
        raise LayerSpecError(owner, f"children must be layers or containers, got {node!r}")
    if isinstance(node, _Container) and (node._n_inputs != 1 or node._n_outputs != 1):
        name = getattr(node, "name", "")
        what = f"{type(node).__name__} {name!r}" if name else f"this {type(node).__name__}"
        raise GraphError(f"{owner}: a child takes one tensor and passes one on, but {what} has "
                         f"{node._n_inputs} inputs and {node._n_outputs} outputs; call it on "
                         "tensors inside a layercalc.Graph instead")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and name else (path or name)


class Sequential(_Container):
    """Children applied in order, as ``torch.nn.Sequential``.

    ``Sequential(a, b, c)`` names children ``0, 1, 2``; ``Sequential(OrderedDict(conv=a, ...))``
    (or a plain dict, or keyword arguments) names them, giving report paths like
    ``layer3.0.conv2``. A list of ``(name, node)`` pairs may repeat a name: that is one
    PyTorch module called more than once (torchvision's ResNet blocks call their single
    ``relu`` two or three times), which matters to tools that count a module once per
    module rather than once per call (torchstat).
    """

    def __init__(self, *layers: Any, **named: Any) -> None:
        if len(layers) == 1 and isinstance(layers[0], Mapping):
            items = list(layers[0].items())
        elif (len(layers) == 1 and isinstance(layers[0], list) and layers[0]
              and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)
                      for p in layers[0])):
            items = list(layers[0])
        else:
            items = [(str(i), layer) for i, layer in enumerate(layers)]
        items += list(named.items())
        for _, node in items:
            _check_node("Sequential", node)
        self._items: tuple[tuple[str, Node], ...] = tuple(items)

    def children(self) -> list[tuple[str, Node]]:
        return list(self._items)

    def __getitem__(self, key: int | str | slice) -> Node:
        """A child by position or name, or a slice of children as a new `Sequential` that
        keeps their names (``features[:12]`` still reports ``features.11`` paths inside the
        model it came from, and ``11`` on its own)."""
        if isinstance(key, slice):
            return Sequential(list(self._items[key]))
        if isinstance(key, int) and not isinstance(key, bool):
            try:
                return self._items[key][1]
            except IndexError:
                n = len(self._items)
                raise LayerSpecError("Sequential", f"index (={key}) is out of range for {n} "
                                     f"children; valid: {-n}..{n - 1}") from None
        for name, node in self._items:
            if name == key:
                return node
        raise UnknownNameError("child of this Sequential", key, [n for n, _ in self._items])

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return (node for _, node in self._items)

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={node!r}" for n, node in self._items)
        return f"Sequential({inner})"

    def _walk(self, tracer, x, src, path):
        for name, node in self._items:
            x, src = tracer.walk(node, x, src, _join(path, name))
        return x, src


class Residual(_Container):
    """``body(x) + shortcut(x)``, with the identity when `shortcut` is None; then an optional
    `activation` (ResNet's ReLU after the add).

    Paths: the body's children sit directly under the block (``layer1.0.conv1``), the shortcut
    under ``downsample`` (torchvision's name), the add is row ``add`` and the activation is
    named after its kind (``relu``). The add is a real layer (`Add`): one add per element.
    """

    def __init__(self, body: Node, shortcut: Node | None = None, *,
                 activation: Layer | None = None, shortcut_name: str = "downsample") -> None:
        _check_node("Residual", body)
        if shortcut is not None:
            _check_node("Residual", shortcut)
        if activation is not None:
            _check_node("Residual", activation)
        self.body, self.shortcut, self.activation = body, shortcut, activation
        self.shortcut_name = shortcut_name

    def children(self) -> list[tuple[str, Node]]:
        out = [("", self.body)]
        if self.shortcut is not None:
            out.append((self.shortcut_name, self.shortcut))
        return out

    def __repr__(self) -> str:
        return f"Residual(body={self.body!r}, shortcut={self.shortcut!r})"

    def _walk(self, tracer, x, src, path):
        y, ysrc = tracer.walk(self.body, x, src, path)
        if self.shortcut is None:
            s, ssrc = x, src
        else:
            s, ssrc = tracer.walk(self.shortcut, x, src, _join(path, self.shortcut_name))
        out, osrc = tracer.leaf(Add(), [y, s], [ysrc, ssrc], _join(path, "add"), call="operator")
        if self.activation is not None:
            name = self.activation.kind.lower()
            out, osrc = tracer.walk(self.activation, out, osrc, _join(path, name))
        return out, osrc


_MERGES = ("concat", "add", "mul")


class Parallel(_Container):
    """Every branch applied to the same input, outputs merged.

    ``merge="concat"`` joins along channels (Inception, Fire); ``"add"`` sums; ``"mul"``
    multiplies with broadcasting (squeeze-and-excitation: ``Parallel(Identity(), se,
    merge="mul")``). Branches are named ``0, 1, ...``, by a mapping, or by a list of ``(name,
    node)`` pairs, which may repeat a name: two branches named ``""`` put their rows side by
    side under the block (SqueezeNet's Fire: ``expand1x1``, ``expand1x1_activation``,
    ``expand3x3`` ... are siblings in torchvision).
    """

    def __init__(self, *branches: Any, merge: str = "concat", **named: Any) -> None:
        if len(branches) == 1 and isinstance(branches[0], Mapping):
            items = list(branches[0].items())
        elif (len(branches) == 1 and isinstance(branches[0], list) and branches[0]
              and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)
                      for p in branches[0])):
            items = list(branches[0])
        else:
            items = [(str(i), b) for i, b in enumerate(branches)]
        items += list(named.items())
        if merge not in _MERGES:
            raise LayerSpecError("Parallel", f"merge (={merge!r}) must be one of "
                                 + ", ".join(repr(m) for m in _MERGES))
        if len(items) < 1:
            raise LayerSpecError("Parallel", "needs at least one branch")
        for _, node in items:
            _check_node("Parallel", node)
        self._items = tuple(items)
        self.merge = merge

    def children(self) -> list[tuple[str, Node]]:
        return list(self._items)

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={b!r}" for n, b in self._items)
        return f"Parallel({inner}, merge={self.merge!r})"

    def _walk(self, tracer, x, src, path):
        outs, srcs = [], []
        for name, node in self._items:
            y, ysrc = tracer.walk(node, x, src, _join(path, name))
            outs.append(y)
            srcs.append(ysrc)
        if len(outs) == 1:
            return outs[0], srcs[0]
        layer = {"concat": Concat(), "add": Add(), "mul": Mul()}[self.merge]
        name = {"concat": "cat", "add": "add", "mul": "mul"}[self.merge]
        call = "functional" if self.merge == "concat" else "operator"  # torch.cat; `+`, `*`
        return tracer.leaf(layer, outs, srcs, _join(path, name), call=call)


class Tied(_Container):
    """A layer whose weights are shared with every other `Tied` of the same `key` (GPT-2's
    token embedding and output head). The first occurrence in a trace counts the parameters;
    later ones count none, but still read the weights (each use is a separate pass)."""

    def __init__(self, key: str, layer: Layer) -> None:
        _check_node("Tied", layer)
        self.key, self.layer = key, layer

    def __repr__(self) -> str:
        return f"Tied({self.key!r}, {self.layer!r})"

    def _walk(self, tracer, x, src, path):
        first = self.key not in tracer.tied
        tracer.tied.add(self.key)
        return tracer.leaf(self.layer, [x], [src], path, count_params=first)


class Functional(_Container):
    """A one-input layer applied as a function (``F.adaptive_avg_pool2d(x, 1)``, ``F.relu(x)``)
    rather than as a ``torch.nn`` module. The cost is the layer's; only the report row's
    ``call`` changes (``"functional"``), because peer tools that hook modules do not see the
    call, and tools that patch functions do (torchvision's MobileNetV2 pools this way).

    >>> from layercalc import AdaptiveAvgPool2d
    >>> analyze(Functional(AdaptiveAvgPool2d(1)), (8, 7, 7)).rows[0].call
    'functional'
    """

    def __init__(self, layer: Layer) -> None:
        if not isinstance(layer, Layer):
            raise LayerSpecError("Functional", f"takes one layer, got {layer!r}")
        self.layer = layer

    def __repr__(self) -> str:
        return f"Functional({self.layer!r})"

    def _walk(self, tracer, x, src, path):
        return tracer.leaf(self.layer, [x], [src], path, call="functional")


class _Src(str):
    """The path of the row that produced a tensor (what error messages quote), carrying that
    row's index in the report (``row``; None for the model's input), since paths repeat when
    one module is called several times, and ``port``: which output of that row (a multi-output
    row such as `Split`), or for a model input (``row`` None) which input."""

    row: int | None = None
    port: int = 0

    @classmethod
    def of(cls, path: str, row: int | None, port: int = 0) -> _Src:
        s = cls(path)
        s.row = row
        if port:
            s.port = port
        return s


def source_row(src: Any) -> int | None:
    """The row index a producer reference carries (None for the input or a plain name)."""
    return getattr(src, "row", None)


def source_port(src: Any) -> int:
    """Which output of its producer (or which model input) a producer reference carries."""
    return getattr(src, "port", 0)


def is_multi(y: Any) -> bool:
    """Whether an output is several tensors' shapes (a tuple of shapes) rather than one."""
    return type(y) is tuple and bool(y) and type(y[0]) is tuple


_BASE_ASSUMPTIONS = Layer.assumptions


class _Stop(Exception):
    """Raised inside a trace once the rows of ``up_to`` are complete."""


#: (layer, input shapes, canonical, batch) -> (output shape, cost, assumptions): results of
#: frozen layers, shared by every trace (repeated blocks cost once; a model analysed again, or
#: another model with the same layers, replays them). Bounded: least recently used first out.
_MEMO: dict = {}
MEMO_SIZE = 8192


_KEYS: dict = {}  # _Key -> itself: one key object per distinct layer value
_IS_LAYER: dict = {}  # node class -> whether it is a Layer (else a container)
_MEMOISABLE: dict = {}  # layer class -> whether its instances may be memoised


def _memoisable(cls: type) -> bool:
    """Only frozen dataclasses are memoised: their equality and hash are their fields' (a
    mutable layer could change between calls)."""
    params = getattr(cls, "__dataclass_params__", None)
    ok = bool(params is not None and params.frozen and params.eq)
    # a field left out of equality (compare=False) could still change a count
    ok = ok and all(f.compare for f in dataclass_fields(cls))
    _MEMOISABLE[cls] = ok
    return ok


class _Key:
    """A layer as a memo key: its (field-wise) hash computed once and kept on the layer, so a
    repeated call hashes one small object instead of every field of the dataclass."""

    __slots__ = ("layer", "hash")

    def __init__(self, layer: Layer) -> None:
        self.layer, self.hash = layer, hash((type(layer), layer))

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        return (type(other) is _Key and type(self.layer) is type(other.layer)
                and self.layer == other.layer)


def _key_of(layer: Layer) -> _Key:
    """The layer's memo key (cached on the frozen instance, outside its fields; raises
    TypeError for an unhashable field)."""
    key = layer.__dict__.get("_memo_key")
    if key is None:
        key = _Key(layer)
        if len(_KEYS) >= MEMO_SIZE:
            _KEYS.clear()
        # interned: equal layers share one key object, so memo lookups compare by identity
        key = _KEYS.setdefault(key, key)
        object.__setattr__(layer, "_memo_key", key)
    return key


def _memo_put(key: Any, value: tuple) -> None:
    if len(_MEMO) >= MEMO_SIZE:
        try:  # dicts keep insertion order: drop the oldest quarter
            for k in list(_MEMO)[: MEMO_SIZE // 4]:
                _MEMO.pop(k, None)
        except RuntimeError:  # pragma: no cover - another thread resized it meanwhile
            _MEMO.clear()
    _MEMO[key] = value


def clear_memo() -> None:
    """Forget every memoised layer result (they are recomputed on the next trace)."""
    _MEMO.clear()
    _CANON.clear()
    _KEYS.clear()


#: floor/ceiling atom -> its canonical form, shared by every trace (bounded as `_MEMO`)
_CANON: dict = {}


class _Tracer:
    def __init__(self, batch: Dim, canonical: bool = True, up_to: str | None = None) -> None:
        self.batch = batch
        self.canonical = canonical
        self.up_to = up_to
        self.reached = False
        self.rows: list[Row] = []
        self.tied: set[str] = set()
        self.canon = _CANON  # symbolic size -> canonical form, shared across traces
        self.assumptions: list[Assumption] = []
        self.notes: list[str] = []
        self.shared: set[int] = set()  # ids of ops already called as graph nodes
        self.share_depth = 0  # > 0 inside a repeated call of a shared op: no params
        self.side_depth = 0  # > 0 inside a side output: params only, no work

    def _canonical_atoms(self, y: tuple) -> dict:
        """Canonical forms of the floor/ceiling atoms of symbolic output sizes (cached), so
        nested strided layers give ``ceiling(H/32)`` rather than five nested floors; also
        used for the relations a layer's `assumptions` return."""
        subs = {}
        for v in y:
            if type(v) is int:
                continue
            for atom in v.atoms(sp.floor, sp.ceiling):
                c = self.canon.get(atom)
                if c is None:
                    c = self.canon[atom] = canonical(atom)
                if c != atom:
                    subs[atom] = c
        return subs

    def walk(self, node: Node, x: tuple, src: str, path: str) -> tuple[tuple, str]:
        leaf = _IS_LAYER.get(type(node))
        if leaf is None:  # an ABC isinstance is slow: decide once per class
            leaf = _IS_LAYER[type(node)] = isinstance(node, Layer)
        if leaf:
            return self.leaf(node, [x], [src], path)
        return node._walk(self, x, src, path)

    def leaf(self, layer: Layer, xs: list, srcs: list, path: str,
             count_params: bool = True, call: str = "module",
             once: bool = False) -> tuple[tuple, str]:
        """Trace one layer on inputs `xs`. ``once=True`` (or a layer class with
        ``per_forward = True``) marks work done once per forward pass whatever the batch
        (Swin's relative-position bias and window mask, V2's position MLP): its cost is not
        multiplied by the batch, and the row says so (`Row.once`)."""
        if self.up_to is not None:
            inside = path == self.up_to or path.startswith(self.up_to + ".")
            if self.reached and not inside:
                raise _Stop
            self.reached = self.reached or inside
        once = once or getattr(layer, "per_forward", False)
        cls = type(layer)
        key = hit = None
        if _MEMOISABLE.get(cls) or _memoisable(cls):
            try:
                key = (_key_of(layer), *xs, self.canonical, None if once else self.batch)
                hit = _MEMO.get(key)
            except TypeError:  # an unhashable field (a list in a custom layer): not memoised
                key = None
        if hit is None:
            hit = self._compute(layer, xs, srcs, path, once)
            if key is not None:
                _memo_put(key, hit)
        y, cost, rels = hit
        rows = self.rows
        if rels:
            for rel in rels:
                self.assumptions.append(Assumption(path or layer.kind.lower(), rel, len(rows),
                                                   tuple(s or "the input" for s in srcs)))
        side = False
        if not count_params:
            cost = replace(cost, params=0)
        if self.share_depth or self.side_depth:
            if self.share_depth:  # a repeated call of a shared layer: its weights are counted
                cost = replace(cost, params=0, buffers=0)
            if self.side_depth:  # a side output: its weights exist, it does not run
                side = True
                cost = Cost(params=cost.params, buffers=cost.buffers)
        if len(xs) == 1:
            inp, s0 = xs[0], srcs[0]
            sources = (s0.row,) if type(s0) is _Src else (getattr(s0, "row", None),)
            ports = (s0.port,) if type(s0) is _Src else (getattr(s0, "port", 0),)
        else:
            inp = tuple(xs)
            sources = tuple(source_row(s) for s in srcs)
            ports = tuple(source_port(s) for s in srcs)
        row_path = path or layer.kind.lower()
        rows.append(Row._of(row_path, layer, inp, y, cost, call, sources, ports, side, once))
        return y, _Src.of(row_path, len(rows) - 1)

    def _compute(self, layer: Layer, xs: list, srcs: list, path: str, once: bool) -> tuple:
        """A layer's output shape, its cost (batched unless `once`) and its assumptions on
        `xs`, canonical when the trace is: a pure function of (layer, inputs, canonical,
        batch), which is what `_MEMO` keys."""
        try:
            y = layer.output_shape(*xs)
            cost = layer.cost(*xs)
        except _LayerError as e:
            where = path or layer.kind
            frm = " from " + " and ".join(s or "the input" for s in srcs)
            raise type(e)(f"{where} ({layer.kind})", e.problem + frm, e.hint) from None
        if self.canonical and not all(type(v) is int for v in y):
            multi = is_multi(y)
            subs = self._canonical_atoms([v for s in y for v in s] if multi else y)
            if subs:
                def canon(s: tuple) -> tuple:
                    return tuple(v if type(v) is int else as_count(v.xreplace(subs)) for v in s)
                y = tuple(canon(s) for s in y) if multi else canon(y)
                cost = cost.map(lambda e: e if type(e) is int else as_count(e.xreplace(subs)))
        rels: tuple = ()
        if type(layer).assumptions is not _BASE_ASSUMPTIONS and not all(
                type(v) is int for s in xs for v in s):
            rels = tuple(rel.xreplace(self._canonical_atoms((rel,))) if self.canonical else rel
                         for rel in layer.assumptions(*xs))
        if not once and not (type(self.batch) is int and self.batch == 1):
            cost = cost.batched(self.batch)
        return y, cost, rels


def analyze(model: Node, input_shape: Any = None, batch: Dim = 1, *, name: str = "",
            canonical: bool = True, up_to: str | None = None) -> Report:
    """Trace `model` on one input of `input_shape` (batch excluded) and report every leaf layer.

    `batch` scales per-sample work and activation traffic; it does not scale params or weight
    reads. Returns a `Report` whose ``total`` is the sum of its rows.

    `input_shape` is a tuple of sizes (one size alone is a shape of rank 1) and `batch` a size;
    both go through `layercalc.dims.as_dim` (ints or integer SymPy expressions, positive; no
    strings, floats or bools: text is parsed with `layercalc.parse_dims`).

    A model with several inputs (a `layercalc.Graph`, or a multi-input layer such as `Add`)
    takes a tuple of shapes, one per input. ``input_shape=None`` uses the shapes a Graph was
    declared with (``graph.input_shape``).

    ``up_to="path"`` stops after the rows at that path (inclusive; a container's path
    includes all its rows, the first time it runs): the report of the model cut there, whose
    ``output_shape`` is the last row's. Nothing after it is traced, so a cut model need not
    fit the rest of the network.

    >>> from layercalc import zoo
    >>> r = analyze(zoo.resnet18(), (3, 224, 224), up_to="layer2")
    >>> r.rows[-1].path, r.output_shape
    ('layer2.1.relu', (128, 28, 28))

    With symbolic sizes, each output size is put in canonical form as it propagates (nested
    floors of stacked strided layers merged into ``ceiling(H/32)``; exact, see
    `layercalc.floors`). ``canonical=False`` keeps the raw floors each layer computes.

    >>> from layercalc import Conv2d, ReLU
    >>> r = analyze(Sequential(Conv2d(3, 8, 3), ReLU()), (3, 32, 32), batch=2)
    >>> r.output_shape, r.total.params, r.total.macs
    ((8, 30, 30), 224, 388800)
    >>> analyze(Add(), ((8, 4), (8, 4))).output_shape
    (8, 4)
    """
    if not isinstance(model, (Layer, _Container)):
        raise LayerSpecError("analyze", f"model must be a layer or a container, got {model!r}")
    if input_shape is None:
        input_shape = getattr(model, "input_shape", None)
        if input_shape is None or callable(input_shape):
            raise LayerSpecError("analyze", f"input_shape is required for a "
                                 f"{type(model).__name__}; only a Graph declares its inputs' "
                                 "shapes (layercalc.Input)")
    if isinstance(input_shape, (str, bytes)):
        raise ShapeError("analyze", f"input_shape (={show(input_shape)}) must be a tuple of "
                         "sizes, not a string", "Parse text with layercalc.parse_dims.")

    def sizes(shape: Any) -> tuple:
        out = []
        for v in shape:
            try:
                out.append(as_dim(v, "analyze", "input size", error=ShapeError))
            except ShapeError as e:
                raise ShapeError("analyze", f"{e.problem}, in input_shape {fmt(tuple(shape))}",
                                 e.hint) from None
        return tuple(out)

    n_in = getattr(model, "_n_inputs", 1)
    many = isinstance(input_shape, (tuple, list)) and bool(input_shape) and all(
        isinstance(s, (tuple, list)) for s in input_shape)
    if many and (n_in > 1 or isinstance(model, Layer)):
        x: Any = tuple(sizes(s) for s in input_shape)
        if isinstance(model, _Container) and len(x) != n_in:
            raise LayerSpecError("analyze", f"the model takes {n_in} inputs, got "
                                 f"{len(x)} input shapes")
    else:
        if n_in > 1:
            raise LayerSpecError("analyze", f"the model takes {n_in} inputs: give a tuple of "
                                 f"{n_in} shapes, got {input_shape!r}")
        if not isinstance(input_shape, (tuple, list)):
            input_shape = (input_shape,)
        x = sizes(input_shape)
        many = False
    batch = as_dim(batch, "analyze", "batch", error=ArgumentError)
    if up_to is not None and not isinstance(up_to, str):
        raise LayerSpecError("analyze", f"up_to (={up_to!r}) must be a layer path (a string)")
    tracer = _Tracer(batch, canonical, up_to or None)
    # The trace allocates a few objects per row and frees none: the cyclic garbage collector
    # would scan every live object (SymPy's caches) many times over for nothing. Paused for
    # the trace (reference counting still frees everything), restored after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        y, ysrc = _trace(tracer, model, x, many)
    except _Stop:
        y = tracer.rows[-1].output_shape
        ysrc = _Src.of(tracer.rows[-1].path, len(tracer.rows) - 1)
    except BaseException:
        if collecting:
            gc.enable()
        raise
    try:
        return _report(tracer, model, x, y, ysrc, batch, name, up_to)
    finally:
        if collecting:
            gc.enable()


def _report(tracer: _Tracer, model: Node, x: Any, y: Any, ysrc: Any, batch: Dim, name: str,
            up_to: str | None) -> Report:
    if up_to and not tracer.reached:
        known = dict.fromkeys(p for r in tracer.rows for p in _prefixes(r.path))
        raise UnknownNameError("layer path (up_to)", up_to, known)
    outs = ysrc if isinstance(ysrc, tuple) else (ysrc,)
    if is_multi(y) and len(outs) == 1:  # one multi-output row: one source per output
        outs = tuple(_Src.of(outs[0], source_row(outs[0]), k) for k in range(len(y)))
    return Report(rows=tuple(tracer.rows), input_shape=x, output_shape=y, batch=batch,
                  name=name or getattr(model, "name", "") or "",
                  assumptions=tuple(tracer.assumptions), trace_notes=tuple(tracer.notes),
                  output_sources=tuple((source_row(s), source_port(s)) for s in outs))


def _trace(tracer: _Tracer, model: Node, x: Any, many: bool) -> tuple:
    """Walk `model` on `x` (several inputs' shapes when `many`); a container that contains
    itself (only possible by mutating one) recurses without end: named as a GraphError."""
    try:
        if not many:
            return tracer.walk(model, x, "", "")
        if isinstance(model, Layer):
            srcs = [_Src.of(f"input {k}", None, k) for k in range(len(x))]
            return tracer.leaf(model, list(x), srcs, "")
        names = getattr(model, "input_names", None) or [str(k) for k in range(len(x))]
        srcs = tuple(_Src.of(f"input {n!r}", None, k) for k, n in enumerate(names))
        return model._walk(tracer, x, srcs, "")
    except RecursionError:
        cycle = find_cycle(model)
        if cycle is None:
            raise
        raise GraphError(cycle) from None


def find_cycle(node: Any) -> str | None:
    """A message naming a container that contains itself, or None (the container tree read
    through ``children()`` and a Residual's ``activation``)."""
    stack: list[int] = []

    def visit(n: Any, path: str) -> str | None:
        if not isinstance(n, _Container):
            return None
        if id(n) in stack:
            return (f"{path or type(n).__name__} ({type(n).__name__}): a cycle: this "
                    "container contains itself, so the walk would never end")
        stack.append(id(n))
        for name, child in n.children():
            found = visit(child, _join(path, name))
            if found:
                return found
        stack.pop()
        return None

    return visit(node, "")


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
