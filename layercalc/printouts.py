"""What the peer tools print, reproduced from a `Report`, character for character.

``render_as(report, tool)`` returns the text a tool prints for the model the report
describes; ``printout(report, tool)`` returns the same text with the numbers behind it
(`Printout`: one mapping per printed row, and the totals as exact integers or fractions).
Each tool's *row rule* (which PyTorch calls become rows, what each row counts) is written
here once, on top of the tool conventions of `layercalc.peers`, so per-layer numbers equal
the tool's, not only its totals:

============== ======================================================================
tool           what is printed (version)
============== ======================================================================
torchsummary   ``torchsummary.summary(model, (C, H, W))`` (1.5.1): one row per call of
               every module that is not an ``nn.Sequential`` (or ``ModuleList``), output
               shape with batch ``-1``, params = sizes of ``.weight`` and ``.bias``;
               totals; input, forward/backward (2 x every row's output), params and
               total sizes in MB of 1024**2 bytes, float32
ptflops        ``get_model_complexity_info(model, (C, H, W), print_per_layer_stat=True)``
               (0.7.5, pytorch backend): the model's repr with params, MACs and their
               shares per module; a module shows its hook's count, while the total (the
               denominator of every share, and the returned string) adds the patched
               functional calls (``F.relu`` inside ``nn.ReLU`` ...)
ptflops-hooks  the same printout by ptflops 0.6.6 (2021), module hooks only: units GMac
               and M, 3 decimals (Zhang Ge, 关于加速上的一些指标, prints it for AlexNet)
torchinfo      ``str(torchinfo.summary(model, input_size=(B, C, H, W)))`` (1.8.0): the tree
               of module calls to depth 3, output shapes with the batch, params, totals,
               sizes in MB of 10**6 bytes
fvcore         ``flop_count_table(FlopCountAnalysis(model, x))`` (0.1.5): modules with
               parameters or flops, parameter shapes, the ``fvcore`` convention per module
               (a function or operator counts in the module that calls it), to depth 3
torchstat      the "Total ..." lines below ``torchstat.stat(model, (C, H, W))``'s table
               (0.0.7): params, memory (MB of every leaf module's output, float32),
               MAdd, Flops, MemR+W; `Printout.rows` holds the table's node values
============== ======================================================================

The table torchstat prints above its totals also has a wall-clock ``duration`` column, and
its rules take their width from it, so only the totals are rendered (and torchstat's
printing fails under pandas 2, which removed ``DataFrame.append``).

What a Report does not record, and how it is rendered:

* PyTorch class names of containers: the root is ``root=`` (default ``"Model"``), every other
  container ``"Sequential"`` unless ``containers={"layer1.0": "BasicBlock", ...}`` says
  otherwise (a container that is not a Sequential is a module torchsummary hooks).
* Rows that PyTorch runs as functions or operators (`layercalc.Functional`, the residual
  ``+``) are not modules: they get no row and no repr line.
* Children are listed in the order of their first call (PyTorch lists them in the order
  they were assigned in ``__init__``; the two agree for AlexNet, VGG and most Sequential
  models).
* Pool sizes print as ints when equal on every axis (``kernel_size=3``, as torchvision
  writes them), adaptive output sizes as tuples (``output_size=(6, 6)``).

>>> from layercalc import analyze, zoo
>>> p = printout(analyze(zoo.seed_alexnet(), (3, 224, 224)), "torchsummary")
>>> print(p.text.splitlines()[3])
            Conv2d-1           [-1, 96, 55, 55]          34,848
>>> p.totals["forward_backward_bytes"], p.totals["input_bytes"]
(10447424, 602112)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from . import format as fmt
from .registry import get_convention
from .dims import as_count, exact_div, prod
from .errors import LayerCalcError, lookup
from .peers import _Ctx, _own_params
from .table import Column, Table, TableRenderers

__all__ = ["Printout", "PRINTOUTS", "printout", "render_as", "torch_repr"]


class PrintoutError(LayerCalcError, ValueError):
    """A report holds something the chosen tool's printout cannot show (a symbolic size, a
    layer kind without a PyTorch repr, a tuple output)."""


@dataclass(frozen=True)
class Printout(TableRenderers):
    """A tool's printout of a report: ``text`` (what the tool prints), ``rows`` (one mapping
    per printed row, with the tool's column names and exact values) and ``totals``.

    ``str(p)`` is ``p.text``, character for character the tool's. The table renderers
    (``to_text``, ``to_csv``, ``to_json`` ...) show the rows and totals behind it as a
    `layercalc.table.Table` (`table`); ``repr`` is one line, and Jupyter shows the text as the
    tool prints it with the rows folded below.
    """

    tool: str
    text: str
    rows: tuple[Mapping[str, Any], ...] = ()
    totals: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text

    def table(self, *, full: bool = False) -> Table:
        """One row per printed row with the tool's column names (numbers exact, shapes as
        shapes, the tool's own strings as they are); the totals in the footer."""
        keys = list(dict.fromkeys(k for r in self.rows for k in r))

        def kind(key: str) -> str:
            values = [r[key] for r in self.rows if r.get(key) is not None]
            if values and all(isinstance(v, tuple) for v in values):
                return "shape"
            if values and all(isinstance(v, (int, Fraction)) and not isinstance(v, bool)
                              for v in values):
                return "exact"
            return "text"

        cols = [Column(k, k, kind(k)) for k in keys]
        rows = [tuple(r.get(k) for k in keys) for r in self.rows]
        return Table(cols, rows, None, f"{self._label()} printout: {len(self.rows)} rows",
                     footer=[self._totals_line()] if self.totals else [])

    def _label(self) -> str:
        """The tool and its version (``torchsummary 1.5.1``)."""
        known = PRINTOUTS.get(self.tool)
        return known.version if known is not None else self.tool

    def _totals_line(self) -> str:
        return "Totals: " + "; ".join(
            f"{k} {v if isinstance(v, str) else fmt.exact(v)}" for k, v in self.totals.items())

    def __repr__(self) -> str:
        shown = [f"{k} {v!r}" if isinstance(v, str) else f"{k} {fmt.exact(v)}"
                 for k, v in list(self.totals.items())[:3]]
        return fmt.brief("Printout", self._label(), [f"{len(self.text.splitlines())} lines",
                                                 f"{len(self.rows)} rows", *shown])

    def _repr_html_(self) -> str:
        """The text as the tool prints it (monospace, under a caption naming the tool), the
        totals, and the rows as a table in a collapsed ``<details>``."""
        import html

        esc = html.escape
        out = ['<div class="layercalc-printout">',
               f"<div><b>{esc(self._label())}</b>: what it prints (reproduced by layercalc)</div>",
               f"<pre>{esc(self.text)}</pre>"]
        if self.totals:
            out.append(f'<div style="font-size:smaller">{esc(self._totals_line())}</div>')
        if self.rows:
            t = self.table()
            bare = Table(t.columns, t.rows)
            out.append(f"<details><summary>Rows ({len(self.rows)})</summary>\n"
                       f"{bare.to_html()}\n</details>")
        out.append("</div>")
        return "\n".join(out)


# -- PyTorch's reprs -----------------------------------------------------------------------
def _t(v: tuple) -> str:
    return "(" + ", ".join(str(x) for x in v) + ("," if len(v) == 1 else "") + ")"


def _one(v: tuple) -> str:
    """A pool size as torchvision writes it: one int when every axis agrees."""
    return str(v[0]) if len(set(v)) == 1 else _t(v)


def _conv_repr(l: Any) -> str:
    if getattr(l, "padding_rule", "torch") != "torch":
        raise PrintoutError(f"{l.kind}: padding_rule={l.padding_rule!r} is not a PyTorch "
                            "module; it has no PyTorch repr")
    s = f"{l.in_channels}, {l.out_channels}, kernel_size={_t(l.kernel_size)}, " \
        f"stride={_t(l.stride)}"
    pad = l.padding
    if pad == "same":
        s += ", padding=same"
    elif pad != (0,) * len(pad):
        s += f", padding={_t(pad)}"
    if l.dilation != (1,) * len(l.dilation):
        s += f", dilation={_t(l.dilation)}"
    op = getattr(l, "output_padding", None)
    if op is not None and op != (0,) * len(op):
        s += f", output_padding={_t(op)}"
    if l.groups != 1:
        s += f", groups={l.groups}"
    if not l.bias:
        s += ", bias=False"
    if l.padding_mode != "zeros":
        s += f", padding_mode={l.padding_mode}"
    return s


def _inplace(l: Any, lead: str = "") -> str:
    return (lead + "inplace=True") if getattr(l, "inplace", False) else ""


def _bn_repr(l: Any) -> str:
    return (f"{l.num_features}, eps={l.eps}, momentum={l.momentum}, affine={l.affine}, "
            f"bias={l.affine}, track_running_stats={l.track_running_stats}")


_REPRS: dict[str, Callable[[Any], str]] = {
    "Linear": lambda l: f"in_features={l.in_features}, out_features={l.out_features}, "
                        f"bias={l.bias}",
    "ReLU": _inplace, "ReLU6": _inplace, "SiLU": _inplace,
    "Hardswish": lambda l: "", "Hardsigmoid": lambda l: "", "Sigmoid": lambda l: "",
    "Tanh": lambda l: "", "Identity": lambda l: "",
    "LeakyReLU": lambda l: f"negative_slope={l.negative_slope}" + _inplace(l, ", "),
    "ELU": lambda l: f"alpha={l.alpha}" + _inplace(l, ", "),
    "PReLU": lambda l: f"num_parameters={l.num_parameters}",
    "GELU": lambda l: f"approximate={l.approximate!r}",
    "Softmax": lambda l: f"dim={l.dim}",
    "Dropout": lambda l: f"p={l.p}, inplace={l.inplace}",
    "Flatten": lambda l: f"start_dim={l.start_dim}, end_dim={l.end_dim}",
    "LayerNorm": lambda l: f"{_t(l.normalized_shape)}, eps={l.eps}, elementwise_affine="
                           f"{l.elementwise_affine}, bias={l.elementwise_affine and l.bias}",
    "GroupNorm": lambda l: f"{l.num_groups}, {l.num_channels}, eps={l.eps}, "
                           f"affine={l.affine}, bias={l.affine}",
    "Embedding": lambda l: f"{l.num_embeddings}, {l.embedding_dim}",
}
for _k in ("Dropout1d", "Dropout2d", "Dropout3d"):
    _REPRS[_k] = _REPRS["Dropout"]
for _n in (1, 2, 3):
    _REPRS[f"Conv{_n}d"] = _REPRS[f"ConvTranspose{_n}d"] = _conv_repr
    _REPRS[f"BatchNorm{_n}d"] = _bn_repr
    _REPRS[f"InstanceNorm{_n}d"] = _bn_repr
    _REPRS[f"MaxPool{_n}d"] = lambda l: (
        f"kernel_size={_one(l.kernel_size)}, stride={_one(l.stride)}, "
        f"padding={_one(l.padding)}, dilation={_one(l.dilation)}, ceil_mode={l.ceil_mode}")
    _REPRS[f"AvgPool{_n}d"] = lambda l: (
        f"kernel_size={_one(l.kernel_size)}, stride={_one(l.stride)}, "
        f"padding={_one(l.padding)}")
    _REPRS[f"AdaptiveAvgPool{_n}d"] = _REPRS[f"AdaptiveMaxPool{_n}d"] = (
        lambda l: f"output_size={_t(l.output_size) if len(l.output_size) > 1 else l.output_size[0]}")
    _REPRS[f"ZeroPad{_n}d"] = lambda l: _t(l.padding)


def torch_repr(layer: Any) -> str:
    """PyTorch's ``repr`` of the module `layer` stands for (torch 2.13).

    >>> from layercalc import Conv2d, MaxPool2d
    >>> torch_repr(Conv2d(3, 64, 11, 4, 2))
    'Conv2d(3, 64, kernel_size=(11, 11), stride=(4, 4), padding=(2, 2))'
    >>> torch_repr(MaxPool2d(3, 2))
    'MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)'
    """
    return f"{layer.kind}({_extra_repr(layer)})"


def _extra_repr(layer: Any) -> str:
    f = _REPRS.get(layer.kind)
    if f is None:
        raise PrintoutError(f"no PyTorch repr is known for layer kind {layer.kind!r} "
                            f"(known: {', '.join(sorted(_REPRS))})")
    if layer.kind.startswith(("MaxPool", "AvgPool")) and layer.padding == "same":
        raise PrintoutError(f"{layer.kind}: padding='same' is not a PyTorch pool; it has no "
                            "PyTorch repr")
    return f(layer)


# -- the module tree a PyTorch model would have ---------------------------------------------
class _Node:
    __slots__ = ("path", "name", "children", "rows", "cls")

    def __init__(self, path: str, name: str, cls: str) -> None:
        self.path, self.name, self.cls = path, name, cls
        self.children: dict[str, _Node] = {}
        self.rows: list[int] = []


def _numeric(report: Any, tool: str) -> None:
    if report.symbolic or type(report.batch) is not int or not all(
            type(v) is int for r in report.rows for v in _flat(r.output_shape)):
        raise PrintoutError(f"render_as({tool!r}) prints numbers: substitute the symbols "
                            "first (report.subs(...))")


def _flat(shape: Any) -> list:
    if shape and isinstance(shape[0], tuple):
        return [v for s in shape for v in s]
    return list(shape)


def _tree(report: Any, root: str, containers: Mapping[str, str]) -> _Node:
    top = _Node("", "", root)
    for i, row in enumerate(report.rows):
        if row.call != "module":
            continue
        node = top
        parts = row.path.split(".")
        for j, part in enumerate(parts):
            path = ".".join(parts[: j + 1])
            child = node.children.get(part)
            if child is None:
                cls = row.kind if j == len(parts) - 1 else containers.get(path, "Sequential")
                child = node.children[part] = _Node(path, part, cls)
            node = child
        node.rows.append(i)
    return top


def _check_containers(containers: Mapping[str, str] | None) -> Mapping[str, str]:
    containers = dict(containers or {})
    for k, v in containers.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise PrintoutError(f"containers maps module paths to class names (strings), got "
                                f"{k!r}: {v!r}")
    return containers


# -- torchsummary 1.5.1 --------------------------------------------------------------------
_WEIGHTED = ("Linear", "Embedding", "PReLU", "LayerNorm", "GroupNorm")
_WEIGHTED += tuple(f"{k}{n}d" for k in ("Conv", "ConvTranspose", "BatchNorm", "InstanceNorm")
                   for n in (1, 2, 3))


def _weight_bias(row: Any) -> tuple[int, bool]:
    """torchsummary's params: the sizes of ``module.weight`` and ``module.bias`` (any other
    parameter, e.g. an LSTM's ``weight_ih_l0``, is not seen), and whether it has a weight
    (``trainable`` is recorded only then)."""
    if row.kind not in _WEIGHTED:
        return 0, False
    p = _own_params(_Ctx(row))
    return p, p > 0


#: PyTorch modules whose forward returns a tuple (output, state) or (output, weights)
_TUPLE_OUTPUTS = ("RNN", "GRU", "LSTM", "MultiheadAttention")


def _torchsummary(report: Any, *, containers: Mapping[str, str] | None = None,
                  batch_size: int = -1, **_: Any) -> Printout:
    _numeric(report, "torchsummary")
    containers = _check_containers(containers)
    custom = {p for p, c in containers.items() if c not in ("Sequential", "ModuleList")}
    entries: list[tuple[str, Any, int, bool]] = []  # (class, output shape, params, has weight)
    rows = report.rows
    last_in = {p: max((i for i, r in enumerate(rows)
                       if r.path == p or r.path.startswith(p + ".")), default=-1)
               for p in custom}
    for i, row in enumerate(rows):
        if row.call == "module":
            if row.kind in _TUPLE_OUTPUTS or (
                    row.output_shape and isinstance(row.output_shape[0], tuple)):
                raise PrintoutError(f"{row.path} ({row.kind}): torchsummary 1.5.1 fails on a "
                                    "module returning a tuple (RNN, GRU, LSTM, "
                                    "MultiheadAttention)")
            p, w = _weight_bias(row)
            entries.append((row.kind, row.output_shape, p, w))
        ending = sorted((p for p, j in last_in.items() if j == i), key=len, reverse=True)
        for p in ending:  # a hooked container's forward returns after its children
            entries.append((containers[p], rows[i].output_shape, 0, False))
    lines = ["-" * 64, "{:>20}  {:>25} {:>15}".format("Layer (type)", "Output Shape", "Param #"),
             "=" * 64]
    total_params = trainable = total_output = 0
    out_rows = []
    for n, (cls, shape, p, w) in enumerate(entries, start=1):
        key = f"{cls}-{n}"
        shown = [batch_size, *shape]
        lines.append("{:>20}  {:>25} {:>15}".format(key, str(shown), f"{p:,}"))
        total_params += p
        trainable += p if w else 0
        total_output += prod(shown)
        out_rows.append(MappingProxyType({"layer": key, "output_shape": tuple(shown),
                                          "params": p}))
    n_in = prod(report.input_shape)
    input_size = abs(n_in * batch_size * 4. / (1024 ** 2.))
    output_size = abs(2. * total_output * 4. / (1024 ** 2.))
    params_size = abs(total_params * 4. / (1024 ** 2.))
    total_size = params_size + output_size + input_size
    lines += ["=" * 64, f"Total params: {total_params:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total_params - trainable:,}", "-" * 64,
              "Input size (MB): %0.2f" % input_size,
              "Forward/backward pass size (MB): %0.2f" % output_size,
              "Params size (MB): %0.2f" % params_size,
              "Estimated Total Size (MB): %0.2f" % total_size, "-" * 64]
    b = abs(batch_size)
    totals = {"params": total_params, "trainable_params": trainable,
              "input_bytes": 4 * n_in * b, "forward_backward_bytes": 8 * abs(total_output),
              "params_bytes": 4 * total_params}
    totals["total_bytes"] = (totals["input_bytes"] + totals["forward_backward_bytes"]
                             + totals["params_bytes"])
    return Printout("torchsummary", "\n".join(lines), tuple(out_rows),
                    MappingProxyType(totals))


# -- ptflops ---------------------------------------------------------------------------------
_PTFLOPS_HOOKED_066 = frozenset(
    [f"{k}{n}d" for k in ("Conv", "ConvTranspose", "BatchNorm", "InstanceNorm", "MaxPool",
                          "AvgPool", "AdaptiveMaxPool", "AdaptiveAvgPool") for n in (1, 2, 3)]
    + ["ReLU", "PReLU", "ELU", "LeakyReLU", "ReLU6", "GroupNorm", "Linear", "Upsample",
       "RNN", "GRU", "LSTM", "MultiheadAttention"])
#: ptflops 0.7.5's MODULES_MAPPING (GELU is added for torch >= 1.6 / 2.x builds)
_PTFLOPS_HOOKED_075 = _PTFLOPS_HOOKED_066 | {"LayerNorm", "GELU"}


def _ptflops_str(flops: float, units: str | None, precision: int) -> str:
    """ptflops' ``flops_to_string``."""
    if units is None:
        if flops // 10**9 > 0:
            return str(round(flops / 10.**9, precision)) + " GMac"
        if flops // 10**6 > 0:
            return str(round(flops / 10.**6, precision)) + " MMac"
        if flops // 10**3 > 0:
            return str(round(flops / 10.**3, precision)) + " KMac"
        return str(flops) + " Mac"
    scale = {"GMac": 10.**9, "MMac": 10.**6, "KMac": 10.**3}.get(units)
    if scale is None:
        return str(flops) + " Mac"
    return str(round(flops / scale, precision)) + " " + units


def _params_str(n: int, units: str | None, precision: int, auto_precision: int) -> str:
    """ptflops' ``params_to_string`` (0.6.6 rounds the automatic units to 2 digits)."""
    if units is None:
        if n // 10**6 > 0:
            return str(round(n / 10**6, auto_precision)) + " M"
        if n // 10**3:
            return str(round(n / 10**3, auto_precision)) + " k"
        return str(n)
    scale = {"M": 10.**6, "K": 10.**3, "B": 10.**9}.get(units)
    if scale is None:
        return str(n)
    return str(round(n / scale, precision)) + " " + units


def _ptflops(report: Any, *, version: str, root: str = "Model",
             containers: Mapping[str, str] | None = None, **_: Any) -> Printout:
    _numeric(report, "ptflops")
    containers = _check_containers(containers)
    hooks = version == "0.6.6"
    conv = get_convention("ptflops-hooks" if hooks else "ptflops")
    hooked = _PTFLOPS_HOOKED_066 if hooks else _PTFLOPS_HOOKED_075
    batch = report.batch
    module = conv.module_values(report)
    total_row = conv.row_values(report)
    # a hook adds int(count of the whole batch); prints divide by the batch counter
    flops_int = [int(as_count(m * batch)) for m in module]
    functional = int(as_count(sum(total_row) - sum(module) * batch)) if not hooks else 0
    flops_count = sum(flops_int) / batch + functional
    params_count = int(report.total.params)
    units, pu, precision = ("GMac", "M", 3) if hooks else (None, None, 2)
    tot_f = flops_count if flops_count >= 1 else 1
    tot_p = max(params_count, 1)
    top = _tree(report, root, containers)
    out_rows: list[Mapping[str, Any]] = []

    def acc(node: _Node) -> tuple[int, int]:
        if node.rows and node.cls in hooked:
            row = report.rows[node.rows[0]]
            return _own_params(_Ctx(row)), sum(flops_int[i] for i in node.rows)
        p = f = 0
        for ch in node.children.values():
            cp, cf = acc(ch)
            p, f = p + cp, f + cf
        return p, f

    def render(node: _Node) -> str:
        p, f_int = acc(node)
        f = f_int / batch
        stat = ", ".join([_params_str(p, pu, precision, 2),
                          "{:.3%} Params".format(p / tot_p),
                          _ptflops_str(f, units, precision),
                          "{:.3%} MACs".format(f / tot_f),
                          _extra_repr(report.rows[node.rows[0]].layer) if node.rows else ""])
        out_rows.append(MappingProxyType({"module": node.path, "class": node.cls, "params": p,
                                          "macs": _exact(Fraction(f_int, batch))}))
        child_lines = []
        for key, ch in node.children.items():
            child_lines.append("(" + key + "): " + _addindent(render(ch), 2))
        if not child_lines:
            return f"{node.cls}({stat})"
        return f"{node.cls}(\n  " + "\n  ".join([stat, *child_lines]) + "\n)"

    text = render(top)
    totals = {"macs": _exact(Fraction(sum(flops_int), batch) + functional),
              "params": params_count,
              "macs_string": _ptflops_str(flops_count, "GMac" if hooks else None, 2),
              "params_string": _params_str(params_count, None, 2, 2)}
    return Printout(f"ptflops {version}", text, tuple(out_rows), MappingProxyType(totals))


def _exact(v: Fraction | int) -> Fraction | int:
    return int(v) if isinstance(v, Fraction) and v.denominator == 1 else v


def _addindent(s: str, n: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join((" " * n + ln) if ln.strip() else "" for ln in lines[1:])


# -- torchstat 0.0.7 -----------------------------------------------------------------------
def _torchstat_memory(row: Any, params: int) -> tuple[int, int]:
    """``compute_memory``: (elements read, elements written) of one sample; kinds outside its
    isinstance chain give (0, 0) ("not supported")."""
    k, n_in, n_out = row.kind, prod(row.input_shape), prod(row.output_shape)
    if k in ("ReLU", "ReLU6", "ELU", "LeakyReLU"):
        return n_in, n_in
    if k == "PReLU":
        return n_in + params, n_in
    if k in ("Conv2d", "Linear"):
        return n_in + params, n_out
    if k == "BatchNorm2d":
        return n_in + 2 * row.input_shape[0], n_in
    if k in ("AvgPool2d", "MaxPool2d"):
        return n_in, n_out
    return 0, 0


def _round_value(value: Any, binary: bool = False) -> str:
    d = 1024. if binary else 1000.
    for power, suffix in ((4, "T"), (3, "G"), (2, "M"), (1, "K")):
        if value // d**power > 0:
            return str(round(value / d**power, 2)) + suffix
    return str(value)


def _torchstat(report: Any, **_: Any) -> Printout:
    _numeric(report, "torchstat")
    if report.batch != 1:
        raise PrintoutError("torchstat runs one sample (torch.rand(1, C, H, W)): analyze "
                            "with batch=1")
    madd = get_convention("torchstat-madd").row_values(report)
    flops = get_convention("torchstat-flops").row_values(report)
    last = {r.path: i for i, r in enumerate(report.rows) if r.call == "module"}
    rows: list[Mapping[str, Any]] = []
    for path, i in last.items():
        row = report.rows[i]
        params = _own_params(_Ctx(row))
        read, write = _torchstat_memory(row, params)
        rows.append(MappingProxyType({
            "module name": path, "input shape": tuple(_flat(row.input_shape)),
            "output shape": tuple(row.output_shape), "params": params,
            "memory(MB)": Fraction(4 * prod(row.output_shape), 1024**2),
            "MAdd": madd[i], "Flops": flops[i], "MemRead(B)": 4 * read,
            "MemWrite(B)": 4 * write, "MemR+W(B)": 4 * (read + write)}))
    total = {k: sum(r[k] for r in rows) for k in ("params", "MAdd", "Flops", "MemRead(B)",
                                                  "MemWrite(B)", "MemR+W(B)")}
    import numpy as np  # here, not at import: `import layercalc` leaves numpy for first use

    # each node's MB is a float32; their sum is what "Total memory" formats
    mem = float(np.sum(np.array([float(r["memory(MB)"]) for r in rows], dtype=np.float32),
                       dtype=np.float64))
    total["memory(MB)"] = sum((r["memory(MB)"] for r in rows), Fraction(0))
    text = "\n".join([f"Total params: {total['params']:,}",
                      "Total memory: {:.2f}MB".format(mem),
                      f"Total MAdd: {_round_value(total['MAdd'])}MAdd",
                      f"Total Flops: {_round_value(total['Flops'])}Flops",
                      f"Total MemR+W: {_round_value(total['MemR+W(B)'], True)}B"])
    total["memory_bytes"] = 4 * sum(prod(report.rows[i].output_shape)
                                    for i in last.values())
    return Printout("torchstat 0.0.7", text, tuple(rows), MappingProxyType(total))


# -- torchinfo 1.8.0 -----------------------------------------------------------------------
class _Info:
    """One torchinfo ``LayerInfo``: a module call, containers included (pre-hook order)."""

    __slots__ = ("cls", "path", "depth", "leaf", "recursive", "params", "out", "idx")

    def __init__(self, cls: str, path: str, depth: int, leaf: bool, recursive: bool,
                 params: int, out: tuple) -> None:
        self.cls, self.path, self.depth, self.leaf = cls, path, depth, leaf
        self.recursive, self.params, self.out = recursive, params, out
        self.idx = 0


def _torchinfo(report: Any, *, root: str = "Model", containers: Mapping[str, str] | None = None,
               depth: int = 3, **_: Any) -> Printout:
    _numeric(report, "torchinfo")
    containers = _check_containers(containers)
    rows, batch = report.rows, report.batch
    for r in rows:
        if r.call == "module" and (r.kind in _TUPLE_OUTPUTS or (
                r.output_shape and isinstance(r.output_shape[0], tuple))):
            raise PrintoutError(f"{r.path} ({r.kind}): a module returning a tuple is not "
                                "rendered as torchinfo (its nested output shapes)")
    own = {r.path: _own_params(_Ctx(r)) for r in rows if r.call == "module"}

    def within(prefix: str) -> list[int]:
        return [i for i, r in enumerate(rows) if prefix == "" or r.path == prefix
                or r.path.startswith(prefix + ".")]

    def subtree_params(prefix: str) -> int:
        return sum(p for path, p in own.items()
                   if prefix == "" or path == prefix or path.startswith(prefix + "."))

    infos = [_Info(root, "", 0, False, False, subtree_params(""),
                   (batch, *report.output_shape))]
    stack: list[str] = []
    seen: set[str] = set()
    ends: dict[int, list[str]] = {}
    for i, r in enumerate(rows):
        if r.call != "module":
            continue
        parts = r.path.split(".")
        prefixes = [".".join(parts[:j]) for j in range(1, len(parts))]
        while stack and stack[-1] not in prefixes:
            stack.pop()
        for pre in prefixes[len(stack):]:
            stack.append(pre)
            members = within(pre)
            infos.append(_Info(containers.get(pre, "Sequential"), pre, pre.count(".") + 1,
                               False, pre in seen, subtree_params(pre),
                               (batch, *rows[members[-1]].output_shape)))
            seen.add(pre)
        infos.append(_Info(r.kind, r.path, len(parts), True, r.path in seen, own[r.path],
                           (batch, *r.output_shape)))
        seen.add(r.path)
    counters: dict[int, int] = {}
    for info in infos:
        counters[info.depth] = counters.get(info.depth, 0) + 1
        info.idx = counters[info.depth]

    def children(k: int) -> list[_Info]:
        out = []
        for info in infos[k + 1:]:
            if info.depth <= infos[k].depth:
                break
            out.append(info)
        return out

    def leftover(k: int) -> int:
        total = infos[k].params
        for j, ch in enumerate(infos[k + 1:], start=k + 1):
            if ch.depth <= infos[k].depth:
                break
            if not ch.recursive:
                total -= ch.params if ch.leaf else leftover(j)
        return total

    def title(info: _Info) -> str:
        return info.cls + (f": {info.depth}-{info.idx}" if info.depth > 0 else "")

    width = 40
    longest = max(len(title(i)) + i.depth * 5 + 1 for i in infos)
    if longest >= width:
        width = -(-longest // 5) * 5
    cols = 25

    def line(name: str, values: list[str]) -> str:
        out = f"{name:<{width}} "
        for v in values:
            out += f"{v:<{cols}} "
        return out.rstrip()

    def start(d: int) -> str:
        return "" if d == 0 else "├─" if d == 1 else "│    " * (d - 1) + "└─"

    total_params = trainable = 0
    total_output_bytes = param_bytes = 0
    macs = get_convention("torchinfo").row_values(report)
    for k, info in enumerate(infos):
        if info.leaf:
            if info.params > 0:
                total_output_bytes += 4 * prod(info.out) * 2
            if not info.recursive:
                total_params += info.params
                param_bytes += 4 * info.params
                trainable += info.params
        elif not info.recursive:
            total_params += max(leftover(k), 0)
            trainable += max(leftover(k), 0)
    body, out_rows = [], []
    for k, info in enumerate(infos):
        if info.depth > depth:
            continue
        at_max = info.depth == depth
        if info.params == 0:
            ps = "--"
        elif info.recursive:
            ps = "(recursive)"
        elif at_max or info.leaf:
            ps = f"{info.params:,}"
        else:
            lo = leftover(k)
            ps = f"{lo:,}" if lo > 0 else "--"
        shape = "[" + ", ".join(str(v) for v in info.out) + "]"
        body.append(line(start(info.depth) + title(info), [shape, ps]))
        out_rows.append(MappingProxyType({"layer": title(info), "path": info.path,
                                          "output_shape": info.out, "params": ps}))
    divider = "=" * (2 * cols + width)
    total_macs = int(sum(macs))
    if total_macs >= 1e12:
        unit, val = "TERABYTES", total_macs / 1e12
    elif total_macs >= 1e9:
        unit, val = "GIGABYTES", total_macs / 1e9
    else:
        unit, val = "MEGABYTES", total_macs / 1e6
    macs_str = f"{int(val):,d}" if float(val).is_integer() else f"{val:,.2f}"
    input_bytes = 4 * prod(report.input_shape) * batch
    text = "\n".join([
        divider, line("Layer (type:depth-idx)", ["Output Shape", "Param #"]), divider,
        *body, divider, f"Total params: {total_params:,}", f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total_params - trainable:,}",
        f"Total mult-adds (Units.{unit}): {macs_str}", divider,
        f"Input size (MB): {input_bytes / 1e6:0.2f}",
        f"Forward/backward pass size (MB): {total_output_bytes / 1e6:0.2f}",
        f"Params size (MB): {param_bytes / 1e6:0.2f}",
        f"Estimated Total Size (MB): "
        f"{(input_bytes + total_output_bytes + param_bytes) / 1e6:0.2f}", divider])
    totals = {"params": total_params, "trainable_params": trainable, "mult_adds": total_macs,
              "input_bytes": input_bytes, "forward_backward_bytes": total_output_bytes,
              "params_bytes": param_bytes}
    return Printout("torchinfo 1.8.0", text, tuple(out_rows), MappingProxyType(totals))


# -- fvcore 0.1.5 flop_count_table ----------------------------------------------------------
def _param_shapes(row: Any) -> list[tuple[str, tuple]]:
    """The module's parameters as PyTorch names and shapes them (fvcore prints the shapes)."""
    l, k = row.layer, row.kind
    if k in _CONV_KINDS:
        cin_g, cout_g = exact_div(l.in_channels, l.groups), exact_div(l.out_channels, l.groups)
        w = ((l.in_channels, cout_g) if k.startswith("ConvTranspose")
             else (l.out_channels, cin_g)) + tuple(l.kernel_size)
        return [("weight", w)] + ([("bias", (l.out_channels,))] if l.bias else [])
    if k == "Linear":
        return [("weight", (l.out_features, l.in_features))] + (
            [("bias", (l.out_features,))] if l.bias else [])
    if k.startswith(("BatchNorm", "InstanceNorm")) or k == "GroupNorm":
        c = l.num_channels if k == "GroupNorm" else l.num_features
        return [("weight", (c,)), ("bias", (c,))] if l.affine else []
    if k == "LayerNorm":
        if not l.elementwise_affine:
            return []
        shape = tuple(l.normalized_shape)
        return [("weight", shape)] + ([("bias", shape)] if l.bias else [])
    if k == "Embedding":
        return [("weight", (l.num_embeddings, l.embedding_dim))]
    if k == "PReLU":
        return [("weight", (l.num_parameters,))]
    if _own_params(_Ctx(row)):
        raise PrintoutError(f"{row.path} ({k}): its parameters' PyTorch names and shapes are "
                            "not known to the fvcore printout")
    return []


_CONV_KINDS = tuple(f"{k}{n}d" for k in ("Conv", "ConvTranspose") for n in (1, 2, 3))


def _fvcore_size(x: int, sig_figs: int = 3) -> str:
    """fvcore's ``_format_size``."""
    def fmt(v: float) -> str:
        return "{{:.{}f}}".format(sig_figs).format(v).rstrip("0").rstrip(".")
    for limit, scale, suffix in ((1e14, 1e15, "P"), (1e11, 1e12, "T"), (1e8, 1e9, "G"),
                                 (1e5, 1e6, "M"), (1e2, 1e3, "K")):
        if abs(x) > limit:
            return fmt(x / scale) + suffix
    return str(x)


def _fvcore(report: Any, *, max_depth: int = 3, **_: Any) -> Printout:
    _numeric(report, "fvcore")
    rows = report.rows
    values = get_convention("fvcore").row_values(report)
    params: dict[str, int] = {}   # parameter_count(model): names and module prefixes
    flops: dict[str, int] = {}    # by_module(): every module, in named_modules order
    seen: set[str] = set()
    for i, row in enumerate(rows):
        owner = row.path if row.call == "module" else ".".join(row.path.split(".")[:-1])
        if row.call == "module" and row.path not in seen:
            seen.add(row.path)
            for name, shape in _param_shapes(row):
                full = f"{row.path}.{name}"
                parts = full.split(".")
                for k in range(len(parts) + 1):
                    key = ".".join(parts[:k])
                    params[key] = params.get(key, 0) + prod(shape)
            parts = row.path.split(".")
            for k in range(len(parts) + 1):
                flops.setdefault(".".join(parts[:k]), 0)
        parts = owner.split(".") if owner else []
        for k in range(len(parts) + 1):
            key = ".".join(parts[:k])
            flops[key] = flops.get(key, 0) + int(values[i])
    shapes = {f"{r.path}.{n}": shape for r in rows if r.call == "module"
              for n, shape in _param_shapes(r)}
    ph, fh = "#parameters or shape", "#flops"
    stats: dict[str, dict[str, int]] = {}
    for key, v in params.items():
        stats.setdefault(key, {})[ph] = v
    for key, v in flops.items():
        stats.setdefault(key, {})[fh] = v
    kept: dict[str, dict[str, int]] = {}

    def keep(name: str) -> None:  # _remove_zero_statistics(require_trivial_children=True)
        prefix = name + ("." if name else "")
        trivial = True
        for mod in stats:
            if mod and mod.count(".") == prefix.count(".") and mod.startswith(prefix):
                keep(mod)
                trivial &= mod not in kept
        if any(v != 0 for v in stats[name].values()) or name == "" or not trivial:
            kept[name] = dict(stats[name])

    keep("")
    pretty = {m: {k: _fvcore_size(v) for k, v in st.items()} for m, st in kept.items()}
    for m in pretty:
        if m in shapes:
            pretty[m][ph] = str(shapes[m])

    def children_of(name: str) -> list[str]:
        prefix = name + ("." if name else "")
        return [m for m in pretty if m and m.count(".") == prefix.count(".")
                and m.startswith(prefix)]

    def fastforward(name: str) -> tuple[str, dict[str, str]]:
        kids = children_of(name)
        if len(kids) != 1:
            return name, pretty[name]
        a, b = pretty[name], pretty[kids[0]]
        if set(a) != set(b) or any(a[k] != b[k] and a[k] and b[k] for k in a):
            return name, a
        pretty[kids[0]] = {k: a[k] or b[k] for k in a}
        return fastforward(kids[0])

    table: list[list[str]] = []

    def add(name: str, st: dict[str, str]) -> None:
        table.append([name, st.get(ph, ""), st.get(fh, "")])

    root, st = fastforward("")
    add(root or "model", st)
    root_prefix = root + ("." if root else "")

    def fill(level: int, prefix: str) -> None:
        if level > max_depth:
            return
        for m in list(pretty):
            if m and m.count(".") == prefix.count(".") and m.startswith(prefix):
                name, st = fastforward(m)
                add(name[len(root_prefix):] if root_prefix and name.startswith(root_prefix)
                    else name, st)
                fill(level + 1, name + ".")

    fill(1, root_prefix)
    head = ["module", ph, fh]
    # tabulate's "pipe" format: a column is as wide as its longest cell, and at least its
    # header plus 2; cells left-aligned; fvcore's indentation is stripped (tabulate >= 0.9
    # ignores the PRESERVE_WHITESPACE flag fvcore sets)
    widths = [max([len(head[c]) + 2] + [len(r[c]) for r in table]) for c in range(3)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |",
             "|" + "|".join(":" + "-" * (w + 1) for w in widths) + "|"]
    lines += ["| " + " | ".join(v.ljust(w) for v, w in zip(r, widths)) + " |" for r in table]
    out_rows = tuple(MappingProxyType({"module": r[0], ph: r[1], fh: r[2]}) for r in table)
    return Printout("fvcore 0.1.5", "\n".join(lines), out_rows,
                    MappingProxyType({"flops": flops.get("", 0), "params": params.get("", 0)}))


# -- registry ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Tool:
    name: str
    version: str
    render: Callable[..., Printout]
    description: str


#: Every tool `render_as` can print as, by name (read-only).
PRINTOUTS: Mapping[str, _Tool] = MappingProxyType({t.name: t for t in (
    _Tool("torchsummary", "torchsummary 1.5.1", _torchsummary,
          "summary(model, (C, H, W)): layer table, params, sizes in MB"),
    _Tool("ptflops", "ptflops 0.7.5", lambda r, **kw: _ptflops(r, version="0.7.5", **kw),
          "get_model_complexity_info(..., print_per_layer_stat=True), pytorch backend"),
    _Tool("ptflops-hooks", "ptflops 0.6.6", lambda r, **kw: _ptflops(r, version="0.6.6", **kw),
          "the same printout by ptflops 0.6.6 (module hooks only, GMac, 3 decimals)"),
    _Tool("torchinfo", "torchinfo 1.8.0", _torchinfo,
          "str(summary(model, input_size=(B, C, H, W))): the tree table, depth 3"),
    _Tool("fvcore", "fvcore 0.1.5", _fvcore,
          "flop_count_table(FlopCountAnalysis(model, x)): modules, parameter shapes, flops"),
    _Tool("torchstat", "torchstat 0.0.7", _torchstat,
          "the Total lines of stat(model, (C, H, W)); rows: its table's node values"),
)})


def printout(report: Any, tool: str, **options: Any) -> Printout:
    """The printout of `tool` for `report`, with its rows and totals as exact numbers.

    Options: ``root`` (the model's class name, ptflops), ``containers`` (path -> class name of
    containers that are not ``nn.Sequential``), ``batch_size`` (torchsummary's, default -1).
    """
    t = lookup(PRINTOUTS, "printout tool", tool)
    known = {"root", "containers", "batch_size", "depth", "max_depth"}
    bad = sorted(set(options) - known)
    if bad:
        raise PrintoutError(f"printout: unknown option(s) {', '.join(bad)}; known: "
                            + ", ".join(sorted(known)))
    return t.render(report, **options)


def render_as(report: Any, tool: str, **options: Any) -> str:
    """The text `tool` prints for the model of `report` (see `printout` and the module
    docstring for the tools and options).

    >>> from layercalc import analyze, zoo
    >>> r = analyze(zoo.alexnet(), (3, 224, 224))
    >>> print(render_as(r, "ptflops-hooks", root="AlexNet").splitlines()[4])
        (0): Conv2d(0.023 M, 0.038% Params, 0.07 GMac, 9.848% MACs, 3, 64, kernel_size=(11, 11), stride=(4, 4), padding=(2, 2))
    """
    return printout(report, tool, **options).text
