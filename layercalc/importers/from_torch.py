"""`from_torch`: a PyTorch ``nn.Module`` as a layercalc `Graph`, by ``torch.fx`` tracing.

Each fx node becomes a layercalc node whose report path is the module's ``named_modules()``
path (``layer3.0.conv2``): a ``call_module`` node is mapped from the module's own
hyperparameters (`MODULES`, or a mapping added with `register_torch`), ``call_function`` and
``call_method`` nodes (``F.relu``, ``torch.flatten``, ``x + y``) to function-style layers
(`FUNCTIONS`), recorded with ``Row.call`` ``"functional"`` or ``"operator"``. A module or
function with no mapping becomes an `layercalc.Opaque` node: its parameters from
``module.parameters()`` (a tensor shared with another node counted once), its output shape
from one real forward pass of the whole module on a zero sample input (``torch.fx``'s
``ShapeProp``). With a symbolic ``input_shape`` the sample substitutes 32 for each symbol; an
opaque node is accepted only when its output shape equals its input shape there (shape
preserving, so the symbolic input shape is its output shape), otherwise a `GraphError` says
which node and suggests `register_torch`. Control flow that fx cannot trace raises one
`GraphError` naming the module and suggesting `register_torch`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import sympy as sp

from .. import layers as L
from ..dims import as_dim, to_expr
from ..errors import ArgumentError, GraphError, LayerCalcError, MissingDependencyError
from ..graph import Graph, Input

__all__ = ["from_torch", "register_torch", "MODULES"]

#: torch.nn class name -> fn(module) -> layercalc layer (filled by `_builtin_modules`).
MODULES: dict[str, Callable[[Any], Any]] = {}
_USER: dict[type, Callable[[Any], Any]] = {}

_SAMPLE = 32  # the size a symbol takes in the sample forward pass


def _torch() -> Any:
    try:
        import torch
        import torch.fx  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "from_torch needs PyTorch: pip install \"layercalc[torch]\"") from None
    return torch


def register_torch(module_class: type, fn: Callable[[Any], Any]) -> None:
    """Map instances of `module_class` to ``fn(module)``, a layercalc layer or container; the
    tracer then treats the class as a leaf (it does not trace into it), which is the escape
    hatch for modules whose forward has data-dependent control flow."""
    if not isinstance(module_class, type) or not callable(fn):
        raise ArgumentError("register_torch", f"expected a module class and a function, got "
                            f"{type(module_class).__name__} and {type(fn).__name__}")
    _USER[module_class] = fn


def _pair(v: Any) -> Any:
    return tuple(v) if isinstance(v, (tuple, list)) else v


def _conv(cls: type) -> Callable[[Any], Any]:
    def build(m: Any) -> Any:
        if m.padding_mode != "zeros" or isinstance(m.padding, str):
            padding = m.padding
        else:
            padding = _pair(m.padding)
        return cls(m.in_channels, m.out_channels, _pair(m.kernel_size), stride=_pair(m.stride),
                   padding=padding, dilation=_pair(m.dilation), groups=m.groups,
                   bias=m.bias is not None, padding_mode=m.padding_mode)
    return build


def _convt(cls: type) -> Callable[[Any], Any]:
    return lambda m: cls(m.in_channels, m.out_channels, _pair(m.kernel_size),
                         stride=_pair(m.stride), padding=_pair(m.padding),
                         output_padding=_pair(m.output_padding), groups=m.groups,
                         bias=m.bias is not None, dilation=_pair(m.dilation))


def _bn(cls: type) -> Callable[[Any], Any]:
    return lambda m: cls(m.num_features, eps=m.eps, affine=m.affine,
                         track_running_stats=m.track_running_stats)


def _builtin_modules() -> None:
    MODULES.update({
        "Conv1d": _conv(L.Conv1d), "Conv2d": _conv(L.Conv2d), "Conv3d": _conv(L.Conv3d),
        "Linear": lambda m: L.Linear(m.in_features, m.out_features, bias=m.bias is not None),
        "BatchNorm1d": _bn(L.BatchNorm1d), "BatchNorm2d": _bn(L.BatchNorm2d),
        "BatchNorm3d": _bn(L.BatchNorm3d),
        "ReLU": lambda m: L.ReLU(), "ReLU6": lambda m: L.ReLU6(), "GELU": lambda m: L.GELU(),
        "SiLU": lambda m: L.SiLU(), "Sigmoid": lambda m: L.Sigmoid(), "Tanh": lambda m: L.Tanh(),
        "Hardswish": lambda m: L.Hardswish(), "Hardsigmoid": lambda m: L.Hardsigmoid(),
        "Identity": lambda m: L.Identity(), "Dropout": lambda m: L.Dropout(m.p),
        "Flatten": lambda m: L.Flatten(m.start_dim, m.end_dim),
        "MaxPool2d": lambda m: L.MaxPool2d(_pair(m.kernel_size), stride=_pair(m.stride),
                                           padding=_pair(m.padding), dilation=_pair(m.dilation),
                                           ceil_mode=m.ceil_mode),
        "AvgPool2d": lambda m: L.AvgPool2d(_pair(m.kernel_size), stride=_pair(m.stride),
                                           padding=_pair(m.padding), ceil_mode=m.ceil_mode,
                                           count_include_pad=m.count_include_pad),
        "AdaptiveAvgPool2d": lambda m: L.AdaptiveAvgPool2d(_pair(m.output_size)),
        "AdaptiveAvgPool1d": lambda m: L.AdaptiveAvgPool1d(_pair(m.output_size)),
        "AdaptiveMaxPool2d": lambda m: L.AdaptiveMaxPool2d(_pair(m.output_size)),
        "ConvTranspose1d": _convt(L.ConvTranspose1d), "ConvTranspose2d": _convt(L.ConvTranspose2d),
        "ConvTranspose3d": _convt(L.ConvTranspose3d),
        "LayerNorm": lambda m: L.LayerNorm(tuple(m.normalized_shape), eps=m.eps,
                                           elementwise_affine=m.elementwise_affine,
                                           bias=m.bias is not None),
        "GroupNorm": lambda m: L.GroupNorm(m.num_groups, m.num_channels, eps=m.eps,
                                           affine=m.affine),
        "LeakyReLU": lambda m: L.LeakyReLU(m.negative_slope),
        "Softmax": lambda m: L.Softmax(m.dim),
    })


_builtin_modules()


def _functions(torch: Any) -> dict[Any, tuple[Callable[..., Any], str]]:
    """call_function targets -> (fn(args, kwargs) -> layer or None if unsupported, call)."""
    F = torch.nn.functional

    def flatten(a: tuple, k: dict) -> Any:
        start = k.get("start_dim", a[1] if len(a) > 1 else 0)
        end = k.get("end_dim", a[2] if len(a) > 2 else -1)
        return L.Flatten(start, end) if start != 0 else None

    return {
        operator.add: (lambda a, k: L.Add(), "operator"),
        operator.mul: (lambda a, k: L.Mul(), "operator"),
        operator.sub: (lambda a, k: L.Sub(), "operator"),
        operator.truediv: (lambda a, k: L.Div(), "operator"),
        torch.add: (lambda a, k: L.Add(), "functional"),
        torch.mul: (lambda a, k: L.Mul(), "functional"),
        torch.flatten: (flatten, "functional"),
        F.relu: (lambda a, k: L.ReLU(), "functional"),
        torch.relu: (lambda a, k: L.ReLU(), "functional"),
        F.gelu: (lambda a, k: L.GELU(), "functional"),
        F.silu: (lambda a, k: L.SiLU(), "functional"),
        torch.sigmoid: (lambda a, k: L.Sigmoid(), "functional"),
        operator.matmul: (lambda a, k: L.MatMul(), "operator"),
        torch.matmul: (lambda a, k: L.MatMul(), "functional"),
        torch.cat: (lambda a, k: _cat(a, k), "functional"),
        torch.concat: (lambda a, k: _cat(a, k), "functional"),
        torch.mean: (lambda a, k: L.Mean(_pair(_get(a, k, 1, "dim")), _get(a, k, 2, "keepdim",
                                                                            False)),
                     "functional"),
        F.softmax: (lambda a, k: L.Softmax(_get(a, k, 1, "dim")), "functional"),
        torch.softmax: (lambda a, k: L.Softmax(_get(a, k, 1, "dim")), "functional"),
        torch.transpose: (lambda a, k: L.Transpose(a[1], a[2]), "functional"),
        torch.permute: (lambda a, k: L.Permute(list(_get(a, k, 1, "dims"))), "functional"),
        torch.chunk: (lambda a, k: _chunk(a, k), "functional"),
        F.adaptive_avg_pool2d: (lambda a, k: L.AdaptiveAvgPool2d(
            _pair(k.get("output_size", a[1] if len(a) > 1 else None))), "functional"),
    }


def _get(a: tuple, k: dict, i: int, key: str, default: Any = None) -> Any:
    return k[key] if key in k else (a[i] if len(a) > i else default)


def _free(d: Any) -> Any:
    """A PyTorch dim of the batched tensor as the batch-free dim of function-style layers
    (None for the batch itself, which they cannot take)."""
    if not isinstance(d, int) or isinstance(d, bool) or d == 0:
        return None
    return d - 1 if d > 0 else d


def _cat(a: tuple, k: dict) -> Any:
    d = _free(_get(a, k, 1, "dim", 0))
    if d is not None and isinstance(a[0], (tuple, list)) and len(a[0]) == 1:
        return L.Identity()  # torch.cat of one tensor: a copy of it, as the zoo's one-input merge
    return None if d is None else L.Concat(d)


def _chunk(a: tuple, k: dict) -> Any:
    d = _free(_get(a, k, 2, "dim", 0))
    return None if d is None or not isinstance(a[1], int) else L.Chunk(a[1], d)


def _permute_method(a: tuple, k: dict) -> Any:
    dims = a[1] if len(a) == 2 and isinstance(a[1], (tuple, list)) else a[1:]
    return L.Permute(list(dims))


_METHODS = {
    "mean": lambda a, k: L.Mean(_pair(_get(a, k, 1, "dim")), _get(a, k, 2, "keepdim", False)),
    "softmax": lambda a, k: L.Softmax(_get(a, k, 1, "dim")),
    "transpose": lambda a, k: L.Transpose(a[1], a[2]),
    "permute": _permute_method,
    "chunk": lambda a, k: _chunk(a, k),
    "contiguous": lambda a, k: L.Identity(),
"relu": lambda a, k: L.ReLU(), "sigmoid": lambda a, k: L.Sigmoid(),
            "flatten": lambda a, k: L.Flatten(k.get("start_dim", a[1] if len(a) > 1 else 0))
            if k.get("start_dim", a[1] if len(a) > 1 else 0) != 0 else None}


def _trace(torch: Any, module: Any, label: str) -> Any:
    fx = torch.fx
    user = tuple(_USER)

    class Tracer(fx.Tracer):
        def is_leaf_module(self, m: Any, qualname: str) -> bool:
            return isinstance(m, user) or super().is_leaf_module(m, qualname)

    try:
        graph = Tracer().trace(module)
    except Exception as e:  # noqa: BLE001  fx raises TraceError, TypeError, ... on control flow
        raise GraphError(
            f"from_torch: torch.fx cannot trace {label} ({type(e).__name__}: "
            f"{str(e).splitlines()[0] if str(e) else ''}); a forward with data-dependent "
            "control flow needs a mapping: lc.register_torch(ModuleClass, fn) makes that "
            "class a leaf built by fn(module)") from None
    return fx.GraphModule(module, graph)


def _numeric(shape: tuple) -> tuple[int, ...]:
    """The sample input: every symbol of `shape` replaced by `_SAMPLE`."""
    out = []
    for v in shape:
        if type(v) is not int:
            e = to_expr(v)
            v = e.xreplace({s: sp.Integer(_SAMPLE) for s in e.free_symbols})
            if not (v.is_Integer and v >= 1):
                raise ArgumentError("from_torch", f"input size {e} at {_SAMPLE} per symbol is "
                                    f"{v}, not a positive integer")
            v = int(v)
        out.append(v)
    return tuple(out)


def from_torch(module: Any, input_shape: Any, *, name: str | None = None) -> Graph:
    """The layercalc `Graph` of `module` for a batch-free `input_shape` (ints or symbols).

    >>> import torch, layercalc as lc
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU())
    >>> r = lc.analyze(lc.from_torch(net, (3, 32, 32)), (3, 32, 32))
    >>> [row.path for row in r.rows], r.total.params, r.total.macs
    (['0', '1'], 224, 194400)
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise ArgumentError("from_torch", f"module must be a torch.nn.Module, got "
                            f"{type(module).__name__}")
    if not isinstance(input_shape, (tuple, list)):
        input_shape = (input_shape,)
    shape = tuple(as_dim(v, "from_torch", "input_shape entry") for v in input_shape)
    label = name or type(module).__name__
    was_training = module.training
    module.eval()
    try:
        gm = _trace(torch, module, label)
        sample = _numeric(shape)
        from torch.fx.passes.shape_prop import ShapeProp
        with torch.no_grad():
            try:
                ShapeProp(gm).propagate(torch.zeros((1, *sample)))
            except Exception as e:  # noqa: BLE001
                raise GraphError(f"from_torch: {label} fails on a sample input of shape "
                                 f"(1, {', '.join(map(str, sample))}): {type(e).__name__}: "
                                 f"{str(e).splitlines()[0] if str(e) else ''}") from None
        return _build(torch, gm, module, shape, sample, label)
    finally:
        module.train(was_training)


def _meta_shape(node: Any) -> Any:
    tm = node.meta.get("tensor_meta")
    if tm is None:
        return None
    if hasattr(tm, "shape"):  # TensorMetadata is itself a NamedTuple
        return tuple(tm.shape)[1:]
    if isinstance(tm, (tuple, list)):
        if not all(hasattr(t, "shape") for t in tm):
            return None
        return tuple(tuple(t.shape)[1:] for t in tm)
    return tuple(tm.shape)[1:] if hasattr(tm, "shape") else None


#: private modules of torch's C functions -> (public module, prefix their names carry)
_PUBLIC = {"torch._C._fft": ("torch.fft", "fft_"), "torch._C._linalg": ("torch.linalg", "linalg_"),
           "torch._C._nn": ("torch.nn.functional", ""), "torch._C._special": ("torch.special",
                                                                            "special_")}


def _function_name(t: Any) -> str:
    """The public name of a call_function / call_method target (``torch.fft.rfft2``)."""
    if isinstance(t, str):
        return f"Tensor.{t}"
    mod, name = getattr(t, "__module__", None) or "torch", getattr(t, "__name__", str(t))
    if mod in _PUBLIC:
        mod, prefix = _PUBLIC[mod]
        name = name[len(prefix):] if name.startswith(prefix) else name
    elif mod in ("builtins", "_operator") or mod.startswith("torch._C"):
        mod = "operator" if mod == "_operator" else "torch"
    return f"{mod}.{name}"


class _Marker:
    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return self.what


#: values of fx nodes that are not tensors: the batch size (``x.size(0)``, ``x.shape[0]``)
#: and a whole shape (``x.shape``, ``x.size()``); only reshape/view sizes may use them
_BATCH, _SHAPE = _Marker("batch size"), _Marker("shape")


def _marker(node: Any, vals: list) -> Any:
    a = node.args
    if node.op == "call_method" and node.target == "size":
        if len(a) == 1 and not node.kwargs:
            return _SHAPE
        return _BATCH if _get(a, node.kwargs, 1, "dim") == 0 else None
    if node.op == "call_function" and node.target is operator.getitem and vals and \
            vals[0] is _SHAPE and a[1] == 0:
        return _BATCH
    return None


def _reshape(node: Any, env: dict) -> Any:
    """``x.view(B, ...)`` / ``x.reshape(B, ...)`` with a batch-relative first size (``x.size(0)``,
    ``x.shape[0]`` or -1 when the rest is fixed): `Reshape` of the rest; else None (opaque)."""
    sizes = node.args[1] if len(node.args) == 2 and isinstance(node.args[1], (tuple, list)) \
        else node.args[1:]
    if not sizes:
        return None
    first = env.get(sizes[0].name) if hasattr(sizes[0], "name") else sizes[0]
    rest = sizes[1:]
    if first is not _BATCH or not rest or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in rest):
        return None
    return L.Reshape(*rest)


def _getitem(index: Any) -> Any:
    """``x[:, ...]``: `Getitem` of the batch-free index (the batch axis kept whole)."""
    index = index if isinstance(index, tuple) else (index,)
    if not index or index[0] != slice(None) or any(hasattr(i, "name") or i is None
                                                   for i in index):
        return None
    return L.Getitem(index[1:])


def _scope_path(node: Any) -> str:
    """A function node's report path: the module that called it, then the function's name
    (``layer1.0.add``), as the zoo names its operator rows."""
    t = node.target
    fn = t if isinstance(t, str) else getattr(t, "__name__", node.name)
    stack = node.meta.get("nn_module_stack") or {}
    scope = next(reversed(stack.values()))[0] if stack else ""
    return f"{scope}.{fn}" if scope else fn


def _build(torch: Any, gm: Any, module: Any, shape: tuple, sample: tuple, label: str) -> Graph:
    funcs = _functions(torch)
    mods = dict(module.named_modules())
    seen_params: set[int] = set()
    built: dict[str, Any] = {}  # module path -> its layer (a module called twice: shared)
    env: dict[str, Any] = {}
    x = Input(shape)
    out = None
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            if env:
                raise GraphError(f"from_torch: {label} takes more than one input; "
                                 "from_torch imports single-input modules")
            env[node.name] = x
            continue
        if node.op == "output":
            out = env[node.args[0].name] if hasattr(node.args[0], "name") else None
            break
        refs = [a for a in node.args if hasattr(a, "name")] + [
            b for a in node.args if isinstance(a, (tuple, list)) for b in a if hasattr(b, "name")]
        vals = [env.get(a.name) for a in refs]
        if any(v is _BATCH or v is _SHAPE for v in vals) or (
                node.op == "call_method" and node.target == "size"):
            marker = _marker(node, vals)
            if marker is not None:
                env[node.name] = marker
                continue
        tensors = [v for v in vals if v is not None and v is not _BATCH and v is not _SHAPE]
        if node.op == "call_function" and node.target is getattr and node.args[1:] == ("shape",):
            env[node.name] = _SHAPE
            continue
        if node.op in ("call_function", "call_method") and node.target in (
                operator.getitem, "__getitem__") and tensors and isinstance(tensors[0], tuple):
            env[node.name] = tensors[0][node.args[1]]  # one piece of chunk/split
            continue
        layer, call, path = None, "module", _scope_path(node)
        if node.op == "call_module":
            m = mods[node.target]
            path = node.target
            fn = next((f for c, f in _USER.items() if isinstance(m, c)), None) or \
                MODULES.get(type(m).__name__)
            if node.target in built:
                layer = built[node.target]
            elif fn is not None:
                layer = fn(m)
        elif node.op == "call_function":
            entry = funcs.get(node.target)
            if node.target is operator.getitem and tensors:
                layer, call = _getitem(node.args[1]), "operator"
            elif entry is not None and len(tensors) == len(refs):
                layer, call = entry[0](node.args, node.kwargs), entry[1]
        elif node.op == "call_method" and node.target in ("view", "reshape") and tensors:
            layer, call = _reshape(node, env), "functional"
        elif node.op == "call_method":
            maker = _METHODS.get(node.target)
            if maker is not None:
                layer, call = maker(node.args, node.kwargs), "functional"
        elif node.op == "get_attr":
            raise GraphError(f"from_torch: {label} reads the tensor attribute "
                             f"{node.target!r} in its forward; register a mapping for the "
                             "module that owns it with lc.register_torch(ModuleClass, fn)")
        if layer is None:
            layer = _opaque(torch, node, mods, tensors, shape, sample, seen_params, label)
            call = "module" if node.op == "call_module" else (
                "operator" if getattr(node.target, "__module__", "") == "_operator"
                else "functional")
        if node.op == "call_module":
            seen_params.update(id(t) for t in (*mods[node.target].parameters(),
                                               *mods[node.target].buffers()))
            built[node.target] = layer
        if not tensors:
            raise GraphError(f"from_torch: {path} ({label}) takes no tensor input")
        env[node.name] = layer(*tensors, name=path, call=call)
    if out is None:
        raise GraphError(f"from_torch: {label} must return one tensor")
    return Graph(x, out, name=label)


def _opaque(torch: Any, node: Any, mods: dict, tensors: list, shape: tuple, sample: tuple,
            seen: set, label: str) -> Any:
    out = _meta_shape(node)
    if out is None:
        raise GraphError(f"from_torch: {node.name} ({label}) returns no tensor")
    if node.op == "call_module":
        m = mods[node.target]
        op = f"{type(m).__module__}.{type(m).__qualname__}"
        # a tensor shared with a module seen before is counted there (once)
        params = sum(p.numel() for p in m.parameters() if id(p) not in seen)
        buffers = sum(b.numel() for b in m.buffers() if id(b) not in seen)
    else:
        op = _function_name(node.target)
        params = buffers = 0
    if not all(type(v) is int for v in shape):
        ins = [tuple(t.shape) for t in tensors]
        samples = [_meta_shape(a) for a in node.args if hasattr(a, "meta")]
        if tensors and samples and samples[0] == out:
            out = ins[0]  # shape preserving at the sample: the symbolic input shape
        else:
            raise GraphError(
                f"from_torch: {node.name} ({op}) has no mapping and changes the shape at the "
                f"sample input (sizes {_SAMPLE} for each symbol), so its output shape cannot "
                "be given in the symbols; import at numeric sizes, or map it with "
                "lc.register_torch(ModuleClass, fn)")
    return L.Opaque(op, out, params=params, buffers=buffers)
