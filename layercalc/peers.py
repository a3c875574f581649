"""Conventions named after tools: each reproduces one peer tool's headline number exactly.

A `Convention` weighs the facts of a `Cost`. Peer tools do not work that way: each hooks some
PyTorch modules or functions, applies its own formula per module type, and sees nothing else.
So a `ToolConvention` holds one *rule per layer kind*, applied to each row of a `Report` (the
layer, its input and output shapes, the batch, and how PyTorch would call it: module,
function or operator). The rules were read from each tool's source and checked against the
tool's output on 25 reference models and 70 single-layer probes
(``tests/oracles/peer_numbers.json``; ``docs/peer-tools.md`` gives the file and function for
every rule). A kind without a rule is one the tool does not see: it counts 0, and
`ToolConvention.uncounted` says so.

==================  ==============================================================  =========
name                what the number is                                              batch
==================  ==============================================================  =========
torchvision         conv + linear + attention-product MACs, no bias: ``_ops``       total
fvcore              ``FlopCountAnalysis.total()``: MACs ("one fused multiply-add    total
                    is one flop") plus norm/pool/upsample extras
ptflops             ``get_model_complexity_info`` (pytorch backend) "MACs"           see below
ptflops-hooks       ptflops 0.6.6 (July 2021): module hooks only, no patched F.*      per sample
ptflops-aten        the same with ``backend='aten'``: MACs of conv/mm/addmm/bmm      total
thop                ``thop.profile`` ops (ultralytics-thop)                          total
torchinfo           ``summary(...).total_mult_adds``                                 total
calflops            ``calculate_flops`` FLOPs (2 x MAC + extras)                    total
calflops-macs       ``calculate_flops`` MACs                                         total
flopcountermode     ``torch.utils.flop_counter.FlopCounterMode`` on CPU: 2 x MAC     total
torchstat-madd      torchstat's ``MAdd`` column                                      1 sample
torchstat-flops     torchstat's ``Flops`` column                                     1 sample
==================  ==============================================================  =========

Batch: most tools report the whole batch. ptflops divides its module hooks by the batch size
but adds its patched functional calls (``F.relu``, ``F.*pool*``, ``torch.add`` ...) for the
whole batch; torchstat always runs one sample. Each preset reproduces that.

Version pins: ptflops 0.7.5, ultralytics-thop 2.2.3, fvcore 0.1.5.post20221221, torchinfo
1.8.0, torchstat 0.0.7, calflops 0.3.2, torch 2.13.0 (CPU).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import sympy as sp

from .conventions import BASE_CONVENTIONS
from .cost import Cost
from .dims import Dim, as_count, exact_div, fdiv, prod, to_expr
from .errors import LayerCalcError

__all__ = ["ToolConvention", "TOOL_CONVENTIONS", "ConventionError"]


class ConventionError(LayerCalcError, ValueError):
    """A convention was applied to something it cannot count (a tool convention to a bare
    `Cost`)."""


# -- what a rule sees --------------------------------------------------------------------------
class _Ctx:
    """One report row as a tool sees it: per-sample sizes, the layer, and how it is called."""

    __slots__ = ("row", "layer", "x", "y", "call", "batch", "samples")

    def __init__(self, row: Any, batch: Dim = 1, samples: Dim = 1) -> None:
        self.row = row
        self.batch = batch
        self.layer = row.layer
        self.x = row.input_shape
        self.y = row.output_shape
        self.call = row.call
        self.samples = samples  # how many times the row's work runs: the batch, 1 if once

    @property
    def n_in(self) -> Dim:
        x = self.x[0] if self.x and isinstance(self.x[0], tuple) else self.x
        return prod(x)

    @property
    def n_out(self) -> Dim:
        return prod(self.y)

    def attr(self, name: str, default: Any = None) -> Any:
        return getattr(self.layer, name, default)


Rule = Callable[[_Ctx], Any]


class Whole:
    """A rule's count already for all `_Ctx.samples` (not to be multiplied by the batch): for
    tools whose count of ``B`` samples is not ``B`` times the count of one (fvcore and
    calflops round ``einsum`` counts to 4 significant digits of the batched size)."""

    __slots__ = ("value",)

    def __init__(self, value: Dim) -> None:
        self.value = value

_CONV = ("Conv1d", "Conv2d", "Conv3d")
_TCONV = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
_BN = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")
_IN = ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")
_MAXPOOL = ("MaxPool1d", "MaxPool2d", "MaxPool3d")
_AVGPOOL = ("AvgPool1d", "AvgPool2d", "AvgPool3d")
_ADAPTIVE_AVG = ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d")
_ADAPTIVE_MAX = ("AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d")
_POOLS = _MAXPOOL + _AVGPOOL + _ADAPTIVE_AVG + _ADAPTIVE_MAX
_RNNS = ("RNN", "GRU", "LSTM")
_UPSAMPLE = ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d")
#: Attention matrix products of the window-attention models (`layercalc.layers.vision`).
_ATTN_MM = ("AttentionScores", "AttentionOutput")


# -- shared geometry ---------------------------------------------------------------------------
def _kvol(c: _Ctx) -> Dim:
    return prod(c.layer.kernel_size)


def _conv_macs(c: _Ctx) -> Dim:
    """``C_out * P_out * K * C_in/g``: MACs on the output grid (every tool agrees)."""
    lay = c.layer
    return as_count(prod(c.y) * _kvol(c) * exact_div(lay.in_channels, lay.groups))


def _tconv_macs(c: _Ctx) -> Dim:
    """``P_in * K * C_in * C_out/g``: transposed conv on the *input* grid, as the tools count
    it (products that padding crops are included)."""
    lay = c.layer
    return as_count(prod(c.x) * _kvol(c) * exact_div(lay.out_channels, lay.groups))


def _bias_out(c: _Ctx) -> Dim:
    """One bias add per output element (``C_out * P_out``) when the layer has a bias."""
    return c.n_out if c.layer.bias else 0


def _linear_macs(c: _Ctx) -> Dim:
    return as_count(prod(c.y) * c.layer.in_features)


def _linear_bias(c: _Ctx) -> Dim:
    return prod(c.y) if c.layer.bias else 0


def _norm_affine(c: _Ctx) -> bool:
    return bool(c.attr("affine", c.attr("elementwise_affine", False)))


def _mha_sizes(c: _Ctx) -> tuple[Dim, Dim, Dim, Dim, Dim, Dim]:
    """(L, S, E, kdim, vdim, heads) of a MultiheadAttention row (self-attention input)."""
    lay = c.layer
    L, S = c.x[0], c.x[0]
    return L, S, lay.embed_dim, lay.kdim, lay.vdim, lay.num_heads


def _mha_proj_macs(c: _Ctx) -> Dim:
    L, S, E, kd, vd, _ = _mha_sizes(c)
    return as_count(L * E * E + S * kd * E + S * vd * E + L * E * E)


def _mha_proj_bias(c: _Ctx) -> Dim:
    L, S, E, _, _, _ = _mha_sizes(c)
    return as_count(2 * L * E + 2 * S * E) if c.layer.bias else 0


def _mha_bmm_macs(c: _Ctx) -> Dim:
    """QK^T and AV as ``torch.bmm`` computes them: every (query, key) pair, masks included."""
    L, S, E, _, _, _ = _mha_sizes(c)
    return as_count(2 * L * S * E)


def _mha_softmax(c: _Ctx) -> Dim:
    L, S, _, _, _, h = _mha_sizes(c)
    return as_count(h * L * S)


def _sdpa_sizes(c: _Ctx) -> tuple[Dim, Dim, Dim, Dim]:
    """(L, S, heads, head_dim) of a ScaledDotProductAttention or KVCacheDecode row."""
    lay = c.layer
    if c.layer.kind == "KVCacheDecode":
        return 1, lay.cache_len, lay.num_heads, lay.head_dim
    q = c.x[0] if isinstance(c.x[0], tuple) else c.x
    kv = c.x[1] if isinstance(c.x[0], tuple) and len(c.x) > 1 else q
    return q[0], kv[0], lay.num_heads, lay.head_dim


def _attn_mm_macs(c: _Ctx) -> Dim:
    """MACs of an `AttentionScores` / `AttentionOutput` row: ``numel(out) * contracted``
    (the last axis of the first operand), as every tool's matmul formula."""
    return as_count(prod(c.y) * c.x[0][-1])


def _einsum_rounded(flops: Dim, c: _Ctx) -> int:
    """``float("%.3e" % (flops + 1))``: numpy's ``einsum_path`` (numpy 2.4) prints its
    "Optimized FLOP count", ``sum(cost_list) + 1`` with a cost of ``2 x MACs`` for a
    two-operand contraction, with 4 significant digits, and fvcore and calflops parse that
    string back."""
    n = _int(flops, c, "an einsum's size (rounded by the tool)")
    return int(float("%.3e" % (n + 1)))


def _sdpa_math_macs(c: _Ctx) -> Dim:
    """``QK^T`` and ``PV`` as a math attention computes them: every (query, key) pair, a mask
    notwithstanding, ``2*H*L*S*d`` (FlopCounterMode's ``sdpa_flop_count`` of the CUDA kernels
    computes the same: "NB: We aren't accounting for causal attention here")."""
    L, S, h, d = _sdpa_sizes(c)
    return as_count(2 * h * L * S * d)


def _rnn_layers(c: _Ctx) -> list[tuple[Dim, Dim, Dim]]:
    """Per stacked layer, (input size, hidden size, recurrent width) of layer 0's direction."""
    lay = c.layer
    h = lay.hidden_size
    r = lay.proj_size if getattr(lay, "proj_size", 0) else h
    d = 2 if lay.bidirectional else 1
    out = [(lay.input_size, h, r)]
    out += [(as_count(d * r), h, r)] * max(0, _int(lay.num_layers, c, "num_layers") - 1)
    return out


def _int(v: Any, c: _Ctx, what: str) -> int:
    """`v` as an int; a clear error when a tool's rule loops over a symbolic size."""
    try:
        return int(v)
    except TypeError:
        raise ConventionError(
            f"{c.row.path} ({c.layer.kind}): this tool's rule enumerates {what} one by one, "
            f"so it needs a number, got {v}; substitute the symbols first "
            "(report.subs(...))") from None


def _gates(c: _Ctx) -> int:
    return {"RNN": 1, "GRU": 3, "LSTM": 4}[c.layer.kind]


def _gate_extras(c: _Ctx) -> Dim:
    """ptflops' and calflops' per-step extras: RNN ``H``, GRU ``7H``, LSTM ``10H``."""
    return as_count({"RNN": 1, "GRU": 7, "LSTM": 10}[c.layer.kind] * c.layer.hidden_size)


def _dirs(c: _Ctx) -> int:
    return 2 if c.layer.bidirectional else 1


def _seq(c: _Ctx) -> Dim:
    return c.x[0]


# -- the tools ---------------------------------------------------------------------------------
def _ptflops_rules() -> dict[str, Rule]:
    """ptflops 0.7.5, pytorch backend (``ptflops/pytorch_ops.py``). A rule returns
    ``(module hook, patched functional)``; see the module docstring for their batch scaling."""
    r: dict[str, Rule] = {}

    def module_or_functional(mod: Rule, fun: Rule | None) -> Rule:
        # a module call runs both the hook and (if its forward calls a patched F.*) the
        # functional counter; a functional call only the latter; an operator neither
        def rule(c: _Ctx) -> Any:
            if c.call == "module":
                return mod(c), (fun(c) if fun else 0)
            if c.call == "functional":
                return 0, (fun(c) if fun else 0)
            return 0, 0
        return rule

    for k in _CONV:
        r[k] = module_or_functional(lambda c: as_count(_conv_macs(c) + _bias_out(c)), None)
    for k in _TCONV:
        r[k] = module_or_functional(lambda c: as_count(_tconv_macs(c) + _bias_out(c)), None)
    r["Linear"] = module_or_functional(lambda c: as_count(_linear_macs(c) + _linear_bias(c)),
                                       None)
    for k in _BN + _IN + ("GroupNorm",):
        # bn_flops_counter_hook: numel, x2 if the module has a true `affine` attribute
        r[k] = module_or_functional(lambda c: c.n_in * (2 if c.attr("affine") else 1), None)
    # LayerNorm's flag is `elementwise_affine`, not `affine`: always x1
    r["LayerNorm"] = module_or_functional(lambda c: c.n_in, None)
    # relu_flops_counter_hook: numel(output); forward goes through a patched F.* for ReLU,
    # PReLU, ELU and GELU (counted twice), not for ReLU6 (F.hardtanh) or LeakyReLU
    for k in ("ReLU", "PReLU", "ELU", "GELU"):
        r[k] = module_or_functional(lambda c: c.n_out, lambda c: c.n_in)
    for k in ("ReLU6", "LeakyReLU"):
        r[k] = module_or_functional(lambda c: c.n_out, None)
    # no module hook, but F.silu / F.softmax are patched
    r["SiLU"] = module_or_functional(lambda c: 0, lambda c: c.n_in)
    r["Softmax"] = module_or_functional(lambda c: 0, lambda c: c.n_in)
    for k in _POOLS:  # pool hook numel(input) + the patched F.*pool*: numel(input) again
        r[k] = module_or_functional(lambda c: c.n_in, lambda c: c.n_in)
    # nn.Upsample: hook numel(output) + F.interpolate numel(output); the UpsamplingNearest2d
    # and UpsamplingBilinear2d subclasses are not hooked (exact type match) but call F.interpolate
    r["Upsample"] = module_or_functional(lambda c: c.n_out, lambda c: c.n_out)
    r["UpsamplingNearest2d"] = r["UpsamplingBilinear2d"] = module_or_functional(
        lambda c: 0, lambda c: c.n_out)

    def elementwise(c: _Ctx) -> Any:  # torch.add / torch.mul are patched; `+` and `*` are not
        return (0, c.n_out) if c.call == "functional" else (0, 0)
    r["Add"] = r["Mul"] = elementwise

    def mha(c: _Ctx) -> Any:  # multihead_attention_counter_hook, plus need_weights' bmm/softmax
        L, S, E, kd, vd, h = _mha_sizes(c)
        hook = (L * E + L * E * E + S * kd * kd + S * vd * vd
                + ((L + 2 * S) * E if c.layer.bias else 0)
                + h * (L * S * exact_div(E, h) + L * S + L * S * exact_div(vd, h))
                + L * vd * (vd + 1))
        return as_count(hook), as_count(_mha_bmm_macs(c) + _mha_softmax(c))
    r["MultiheadAttention"] = mha

    def rnn(c: _Ctx) -> Any:  # rnn_flops_counter_hook; batch-first layout assumed
        g, total = _gates(c), 0
        for i, h, rr in _rnn_layers(c):
            total += g * h * i + g * h * rr + _gate_extras(c) + (2 * g * h if c.layer.bias else 0)
        return as_count(total * _seq(c) * _dirs(c)), 0
    for k in _RNNS:
        r[k] = rnn

    def attn_mm(c: _Ctx) -> Any:  # _matmul_tensor_flops_hook on torch.matmul / Tensor.matmul;
        # the `@` operator (Tensor.__matmul__) and torch.einsum are not patched
        if c.attr("op") == "matmul" and c.call != "operator":
            return 0, _attn_mm_macs(c)
        return 0, 0
    for k in _ATTN_MM:
        r[k] = attn_mm
    # LayerNorm2d: MODULES_MAPPING matches the exact type, and F.layer_norm is not patched
    return r


def _ptflops_hooks_rules() -> dict[str, Rule]:
    """ptflops 0.6.6 (``ptflops/flops_counter.py``, 2021-07-13; 0.6.4 to 0.6.8 print AlexNet,
    VGG and ResNet identically, their MultiheadAttention and norm hooks differ): the module hooks of ``MODULES_MAPPING`` (exact type match), summed and
    divided by the batch; no functional patching, so a ``Functional`` row or an operator
    counts 0 and each hooked activation or pool once. Differences from 0.7.5's hooks:

    * ``Linear``: ``numel(input) * out + out`` -- the bias once per call, not per row of
      the input (so ``out / batch`` per sample);
    * ``ConvTranspose*d``: the convolution hook on the *output* grid,
      ``prod(k) * C_in * C_out/g * P_out`` (+ bias per output element);
    * ``nn.Upsample``: the element count of ``output[0]`` (one sample), per batch;
    * no hook for LayerNorm, GELU, SiLU, Softmax, Hardswish, Sigmoid (added later).
    """
    r: dict[str, Rule] = {}
    mod = lambda f: (lambda c: (f(c), 0) if c.call == "module" else (0, 0))  # noqa: E731
    for k in _CONV:
        r[k] = mod(lambda c: as_count(_conv_macs(c) + _bias_out(c)))

    def tconv(c: _Ctx) -> Dim:
        lay = c.layer
        macs = prod(c.y[1:]) * _kvol(c) * lay.in_channels * exact_div(lay.out_channels,
                                                                      lay.groups)
        return as_count(macs + _bias_out(c))
    for k in _TCONV:
        r[k] = mod(tconv)
    r["Linear"] = mod(lambda c: as_count(
        _linear_macs(c) + (c.layer.out_features / to_expr(c.batch) if c.layer.bias else 0)))
    for k in ("ReLU", "PReLU", "ELU", "LeakyReLU", "ReLU6"):
        r[k] = mod(lambda c: c.n_out)
    for k in _POOLS:
        r[k] = mod(lambda c: c.n_in)
    for k in _BN + _IN + ("GroupNorm",):
        r[k] = mod(lambda c: c.n_in * (2 if c.attr("affine") else 1))
    r["Upsample"] = mod(lambda c: as_count(c.n_out / to_expr(c.batch)))
    pt = _ptflops_rules()
    for k in _RNNS + ("MultiheadAttention",):  # the same hooks as 0.7.5 (module part only)
        r[k] = (lambda f: lambda c: (f(c)[0], 0))(pt[k])
    return r


def _aten_rules(mac: int, bias: bool, lstm: bool = False) -> dict[str, Rule]:
    """Dispatch-level counters that only see conv and matmul ops: ptflops' aten backend
    (``mac=1, bias=True``: addmm's bias counted) and FlopCounterMode (``mac=2, bias=False``).
    Neither sees CPU SDPA; ``aten.lstm`` is opaque to both, RNN/GRU decompose to addmm."""
    r: dict[str, Rule] = {}
    for k in _CONV:
        r[k] = lambda c: as_count(mac * _conv_macs(c) + (_bias_out(c) if bias else 0))
    for k in _TCONV:
        r[k] = lambda c: as_count(mac * _tconv_macs(c) + (_bias_out(c) if bias else 0))
    r["Linear"] = lambda c: as_count(mac * _linear_macs(c) + (_linear_bias(c) if bias else 0))
    r["MultiheadAttention"] = lambda c: as_count(
        mac * (_mha_proj_macs(c) + _mha_bmm_macs(c)) + (_mha_proj_bias(c) if bias else 0))

    def rnn(c: _Ctx) -> Dim:
        if c.layer.kind == "LSTM" and not lstm:
            return 0
        g, total = _gates(c), 0
        for i, h, rr in _rnn_layers(c):
            total += mac * g * h * (i + rr) + (2 * g * h if bias and c.layer.bias else 0)
        return as_count(total * _seq(c) * _dirs(c))
    for k in _RNNS:
        r[k] = rnn
    for k in ("ScaledDotProductAttention", "KVCacheDecode"):
        r[k] = lambda c: 0  # CPU: _scaled_dot_product_flash_attention_for_cpu is not counted
    for k in _ATTN_MM:  # matmul, `@` and einsum all dispatch to aten.bmm
        r[k] = lambda c: as_count(mac * _attn_mm_macs(c))
    r["MatMul"] = lambda c: 0 if not _matmul_is_mm(c) else as_count(
        mac * c.row.layer.cost(*_inputs(c)).macs)
    return r


def _matmul_is_mm(c: _Ctx) -> bool:
    """Whether ``torch.matmul`` on these per-sample shapes reaches aten.mm / aten.bmm (batch
    axes folded, broadcasting expanded), which FlopCounterMode and ptflops' aten backend count.
    It does not with a 1-D second operand (aten.dot / aten.mv), nor with a 1-D first operand
    of one element against a >= 3-D second one (a broadcast multiply): both observed with
    FlopCounterMode on torch 2.13.0 CPU (tests/oracles/test_graph_ops_vs_torch.py)."""
    a, b = _inputs(c)
    if len(b) == 1:
        return False
    return not (len(a) == 1 and len(b) >= 3 and type(a[0]) is int and a[0] == 1)


def _softmax_ops(rows: Dim, n: Dim) -> Dim:
    return as_count(rows * (3 * n - 1))


def _thop_rules() -> dict[str, Rule]:
    """ultralytics-thop 2.2.3 (``thop/vision/basic_hooks.py``, ``thop/profile.py``,
    ``thop/rnn_hooks.py``). Module rules match by class or any base class."""
    r: dict[str, Rule] = {}
    mod = lambda f: (lambda c: f(c) if c.call == "module" else 0)  # noqa: E731
    for k in _CONV:
        r[k] = mod(_conv_macs)  # calculate_conv2d_flops ignores the bias
    for k in _TCONV:
        r[k] = mod(_tconv_macs)
    # count_linear for a module; a functional F.linear is counted by thop's
    # _FunctionCounter (``numel(out) * in_features``, no bias) outside modules that have a
    # rule of their own, which is where layercalc's functional Linear rows are (Swin's attention)
    r["Linear"] = lambda c: _linear_macs(c) if c.call != "operator" else 0
    # count_normalization; LayerNorm2d through the MRO (an nn.LayerNorm subclass)
    for k in _BN + _IN + ("LayerNorm", "LayerNorm2d", "GroupNorm", "RMSNorm"):
        r[k] = mod(lambda c: c.n_in * (4 if _norm_affine(c) else 2))
    r["PReLU"] = mod(lambda c: c.n_in)

    def avgpool(c: _Ctx) -> Dim:  # count_avgpool: summed inputs per window + one divide
        lay, total = c.layer, c.x[0]
        for n, o, k, s, p in zip(c.x[1:], c.y[1:], lay.kernel_size, lay.stride, lay.padding):
            lo, hi = (-p, n + p) if lay.count_include_pad else (0, n)
            total = total * sum(max(min(i * s - p + k, hi) - max(i * s - p, lo), 0)
                                for i in range(_int(o, c, "the pooling windows")))
        return as_count(total + c.n_out)
    for k in _AVGPOOL:
        r[k] = mod(avgpool)

    def adaptive_avg(c: _Ctx) -> Dim:  # count_adap_avgpool: real window sizes + one divide
        total = c.x[0]
        for i, o in zip(c.x[1:], c.y[1:]):
            if type(o) is int and o == 1 or i is o or (type(i) is int and i == o):
                total = total * i  # a global pool, or an axis left alone: one window of i
                continue
            i, o = _int(i, c, "the pooling windows"), _int(o, c, "the pooling windows")
            total = total * sum(-(-(j + 1) * i // o) - j * i // o for j in range(o))
        return as_count(total + c.n_out)
    for k in _ADAPTIVE_AVG:
        r[k] = mod(adaptive_avg)
    per_mode = {"nearest": 0, "nearest-exact": 0, "linear": 5, "bilinear": 11, "bicubic": 259,
                "trilinear": 31}
    r["Upsample"] = mod(lambda c: c.n_out * per_mode[c.layer.mode])
    r["UpsamplingNearest2d"] = mod(lambda c: 0)
    r["UpsamplingBilinear2d"] = mod(lambda c: c.n_out * 11)
    r["Softmax"] = mod(lambda c: _softmax_ops(fdiv(c.n_in, c.x[_axis(c)]), c.x[_axis(c)]))
    r["LogSoftmax"] = mod(lambda c: as_count(
        _softmax_ops(fdiv(c.n_in, c.x[_axis(c)]), c.x[_axis(c)]) + fdiv(c.n_in, c.x[_axis(c)])))

    def mha(c: _Ctx) -> Dim:  # count_multihead_attention: projections + QK + AV, no bias
        L, S, E, kd, vd, h = _mha_sizes(c)
        return as_count(E * (2 * L * E + S * (kd + vd)) + 2 * L * S * E
                        + _softmax_ops(h * L, S))
    r["MultiheadAttention"] = mha

    def sdpa(c: _Ctx) -> Dim:  # _count_sdpa: (numel(out)/Dv) * S * (Dq + Dv)
        L, S, h, d = _sdpa_sizes(c)
        return as_count(h * L * S * 2 * d)
    r["ScaledDotProductAttention"] = r["KVCacheDecode"] = sdpa
    for k in _ATTN_MM:  # _count_matmul / _count_einsum: torch.matmul, Tensor.matmul,
        r[k] = _attn_mm_macs  # Tensor.__matmul__ and torch.einsum are all in functional_hooks

    def cell(c: _Ctx, i: Dim, h: Dim, rr: Dim) -> Dim:
        b = c.layer.bias
        if c.layer.kind == "RNN":
            return h * (i + h) + h + (2 * h if b else 0)
        if c.layer.kind == "GRU":
            state = (h + i) * h + h + (2 * h if b else 0)
            return 3 * state + h + 3 * h
        p = getattr(c.layer, "proj_size", 0)
        state = (i + rr) * h + h + (2 * h if b else 0)
        return 4 * state + 3 * h + h + h * p

    def rnn(c: _Ctx) -> Dim:
        return as_count(sum(cell(c, i, h, rr) for i, h, rr in _rnn_layers(c))
                        * _dirs(c) * _seq(c))
    for k in _RNNS:
        r[k] = mod(rnn)
    return r


def _inputs(c: _Ctx) -> tuple:
    """The per-sample input shapes of a row, one per input tensor."""
    return c.x if c.x and isinstance(c.x[0], tuple) else (c.x,)


def _axis(c: _Ctx) -> int:
    d = c.layer.dim
    return d if d >= 0 else len(c.x) + d


def _fvcore_rules() -> dict[str, Rule]:
    """fvcore 0.1.5 (``fvcore/nn/flop_count.py``, ``jit_handles.py``): handles per traced
    aten op; unsupported and ignored ops count 0."""
    r: dict[str, Rule] = {}
    for k in _CONV:
        r[k] = _conv_macs
    for k in _TCONV:
        r[k] = _tconv_macs
    r["Linear"] = _linear_macs
    for k in _BN:  # batchnorm_flop_jit, eval mode
        r[k] = lambda c: c.n_in * (2 if c.layer.affine else 1)
    for k in ("LayerNorm", "LayerNorm2d", "GroupNorm") + _IN:  # norm_flop_counter: 5 or 4
        r[k] = lambda c: c.n_in * (5 if _norm_affine(c) else 4)

    def attn_mm(c: _Ctx) -> Any:  # matmul_flop_jit (aten::matmul); einsum_flop_jit: numpy's
        macs = _attn_mm_macs(c)   # einsum_path count, rounded, then floor(/2)
        if c.attr("op") == "einsum":
            return Whole(_einsum_rounded(2 * macs * c.samples, c) // 2)
        return macs
    for k in _ATTN_MM:
        r[k] = attn_mm
    r["AdaptiveAvgPool2d"] = lambda c: c.n_in
    r["Upsample"] = lambda c: c.n_out * {"nearest": 1, "bilinear": 4}.get(c.layer.mode, 0)
    r["UpsamplingNearest2d"] = lambda c: c.n_out
    r["UpsamplingBilinear2d"] = lambda c: 4 * c.n_out
    r["MultiheadAttention"] = lambda c: as_count(_mha_proj_macs(c) + _mha_bmm_macs(c))
    return r


def _torchinfo_rules() -> dict[str, Rule]:
    """torchinfo 1.8.0 (``LayerInfo.calculate_macs``): parameter counts times output
    positions; leaf modules only; the batch multiplies (here applied outside)."""
    r: dict[str, Rule] = {}
    mod = lambda f: (lambda c: f(c) if c.call == "module" else 0)  # noqa: E731

    def conv(c: _Ctx) -> Dim:  # any class named "Conv...": (weight + bias) * output positions
        lay = c.layer
        w = lay.in_channels * exact_div(lay.out_channels, lay.groups) * _kvol(c)
        return as_count((w + (lay.out_channels if lay.bias else 0)) * prod(c.y[1:]))
    for k in _CONV + _TCONV:
        r[k] = mod(conv)
    # Linear, norms, PReLU, Embedding: parameters x out_size[0] (the batch only)
    for k in ("Linear", "Embedding", "PReLU", "LayerNorm", "LayerNorm2d", "GroupNorm",
              "RMSNorm") + _BN + _IN:
        r[k] = mod(lambda c: _own_params(c))
    for k in _RNNS:  # params x N x L
        r[k] = mod(lambda c: as_count(_own_params(c) * _seq(c)))
    r["MultiheadAttention"] = mod(lambda c: 0)  # not a leaf; out_proj's hook never fires
    return r


def _own_params(c: _Ctx) -> Dim:
    """The layer's own parameters, even when a shared layer's row reports 0 (a `Tied` row, or
    a graph calling one layer twice: torchinfo counts a shared module's MACs on every call):
    the layer's own `cost` (rules read rows by duck typing, so this module needs neither
    `report` nor `network`)."""
    p = c.row.cost.params
    if type(p) is int and p == 0:
        return c.layer.cost(*_inputs(c)).params
    return p


def _calflops_rules(macs_only: bool) -> dict[str, Rule]:
    """calflops 0.3.2 (``calflops/pytorch_ops.py``): patched ``F.*`` and ``torch.*`` calls,
    RNN hooks. ``macs_only`` gives its MACs column (conv, linear, matmul only)."""
    r: dict[str, Rule] = {}

    def pick(flops: Rule, macs: Rule | None = None) -> Rule:
        if macs_only:
            return macs if macs is not None else (lambda c: 0)
        return flops

    def fun(f: Rule) -> Rule:  # F.* calls happen for module and functional calls alike
        return lambda c: f(c) if c.call != "operator" else 0

    for k in _CONV:
        r[k] = fun(pick(lambda c: as_count(2 * _conv_macs(c) + _bias_out(c)), _conv_macs))

    def tconv_macs(c: _Ctx) -> Dim:  # out_channels = weight.shape[1] (C_out/g), divided again
        lay = c.layer
        return as_count(prod(c.x[1:]) * _kvol(c) * lay.in_channels
                        * exact_div(exact_div(lay.out_channels, lay.groups), lay.groups))

    def tconv_flops(c: _Ctx) -> Dim:  # bias on the grid of the *forward* conv formula
        lay = c.layer
        grid = 1
        for n, k, s, p, d in zip(c.x[1:], lay.kernel_size, lay.stride, lay.padding,
                                 lay.dilation):
            grid = grid * (fdiv(n + 2 * p - d * (k - 1) - 1, s) + 1)
        return as_count(2 * tconv_macs(c) + (lay.out_channels * grid if lay.bias else 0))
    for k in _TCONV:
        r[k] = fun(pick(tconv_flops, tconv_macs))
    r["Linear"] = fun(pick(lambda c: as_count(2 * _linear_macs(c)), _linear_macs))
    for k in ("ReLU", "PReLU", "ELU", "LeakyReLU", "SiLU", "GELU", "Softmax") + _POOLS:
        r[k] = fun(pick(lambda c: c.n_in))
    for k in _BN:
        r[k] = fun(pick(lambda c: c.n_in * (2 if c.layer.affine else 1)))
    for k in ("LayerNorm", "LayerNorm2d", "GroupNorm") + _IN:  # F.layer_norm is patched
        r[k] = fun(pick(lambda c: c.n_in * (5 if _norm_affine(c) else 4)))

    def attn_mm_flops(c: _Ctx) -> Any:  # torch.matmul / Tensor.matmul: 2 x MAC; torch.einsum:
        op = c.attr("op")                 # numpy's rounded count, MACs 0; `@` is not patched
        if op == "einsum":
            return Whole(_einsum_rounded(2 * _attn_mm_macs(c) * c.samples, c))
        return as_count(2 * _attn_mm_macs(c)) if op == "matmul" else 0

    def attn_mm_macs(c: _Ctx) -> Dim:
        return _attn_mm_macs(c) if c.attr("op") == "matmul" else 0
    for k in _ATTN_MM:
        r[k] = pick(attn_mm_flops, attn_mm_macs)

    def upsample(c: _Ctx) -> Dim:  # size: prod(size) only, so an int size counts itself;
        size = c.layer.size        # scale_factor: numel(input) (the scaling line is a no-op)
        if size is not None:
            return prod(size) if isinstance(size, tuple) else size
        return c.n_in
    for k in _UPSAMPLE:
        r[k] = fun(pick(upsample))
    r["Add"] = r["Mul"] = pick(lambda c: c.n_out if c.call == "functional" else 0)
    r["MultiheadAttention"] = fun(pick(
        lambda c: as_count(2 * _mha_proj_macs(c) + _mha_softmax(c)), _mha_proj_macs))

    def rnn(c: _Ctx) -> Dim:  # _rnn_forward_hook: FLOPs only, MACs 0
        g, total = _gates(c), 0
        for i, h, rr in _rnn_layers(c):
            total += (2 * g * h * i - g * h + 2 * g * h * rr - g * h + _gate_extras(c)
                      + (2 * g * h if c.layer.bias else 0))
        return as_count(total * _seq(c) * _dirs(c))
    for k in _RNNS:
        r[k] = pick(rnn)
    return r


def _torchstat_rules(column: str) -> dict[str, Rule]:
    """torchstat 0.0.7 (``compute_madd.py``, ``compute_flops.py``): leaf modules matched by an
    ``isinstance`` chain of 2-D layers; one sample; a module called twice keeps its last call."""
    r: dict[str, Rule] = {}
    mod = lambda f: (lambda c: f(c) if c.call == "module" else 0)  # noqa: E731
    if column == "madd":
        def conv(c: _Ctx) -> Dim:
            lay = c.layer
            per = 2 * _kvol(c) * exact_div(lay.in_channels, lay.groups) - 1 + int(lay.bias)
            return as_count(per * c.n_out)
        r["Conv2d"] = mod(conv)

        def tconv(c: _Ctx) -> Dim:  # the same per-element formula on the input grid
            lay = c.layer
            per = 2 * _kvol(c) * exact_div(lay.in_channels, lay.groups) - 1 + int(lay.bias)
            return as_count(per * lay.out_channels * prod(c.x[1:]))
        r["ConvTranspose2d"] = mod(tconv)
        r["BatchNorm2d"] = mod(lambda c: 4 * c.n_in)
        r["MaxPool2d"] = mod(lambda c: (_kvol(c) - 1) * c.n_out)
        r["AvgPool2d"] = mod(lambda c: _kvol(c) * c.n_out)
        r["ReLU"] = r["ReLU6"] = mod(lambda c: c.n_in)
        r["Softmax"] = mod(lambda c: 3 * c.n_in - 1)
        r["Linear"] = mod(lambda c: as_count(c.layer.out_features
                                             * (2 * c.layer.in_features - 1)))
    else:
        r["Conv2d"] = mod(lambda c: as_count(_conv_macs(c) + _bias_out(c)))
        r["BatchNorm2d"] = mod(lambda c: c.n_in * (2 if c.layer.affine else 1))
        r["MaxPool2d"] = r["AvgPool2d"] = mod(lambda c: c.n_in)
        for k in ("ReLU", "ReLU6", "PReLU", "ELU", "LeakyReLU"):
            r[k] = mod(lambda c: c.n_in)
        r["Linear"] = mod(lambda c: as_count(c.layer.in_features * c.layer.out_features))
        # out[0] is the first sample: the channel axis is dropped
        r["Upsample"] = r["UpsamplingNearest2d"] = r["UpsamplingBilinear2d"] = mod(
            lambda c: prod(c.y[1:]))
    return r


# -- the convention class ----------------------------------------------------------------------
@dataclass(frozen=True)
class ToolConvention:
    """The counting rules of one peer tool, per layer kind, applied to a `Report`'s rows.

    Parameters
    ==========
    name : registry name (``"fvcore"``).
    tool : package, version and call that produce the number.
    unit : what the number is (``"MACs"``, ``"FLOPs (2 x MAC + extras)"``).
    rules : layer kind -> rule. A rule sees one row and returns a per-sample count, or a pair
        ``(module hook, functional)`` for ptflops. A kind missing here is invisible to the
        tool (counted 0 and listed by `uncounted`).
    batch : ``"total"`` (the count scales with the batch), ``"sample"`` (one sample, torchstat)
        or ``"ptflops"`` (module hooks per sample, functional calls for the whole batch).
    last_call_only : a module called several times counts once, its last call (torchstat).
    quirks : what the tool does that a reader would not expect, reproduced on purpose.

    >>> from layercalc import analyze, zoo
    >>> r = analyze(zoo.resnet50(), (3, 224, 224))
    >>> r.flops("fvcore"), r.flops("ptflops"), r.flops("torchinfo")
    (4111512576, 4132436968, 4089238376)
    """

    name: str
    tool: str
    unit: str
    rules: Mapping[str, Rule] = field(repr=False)
    batch: str = "total"
    last_call_only: bool = False
    description: str = ""
    source: str = ""
    quirks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", MappingProxyType(dict(self.rules)))

    def __hash__(self) -> int:
        return hash(("tool", self.name))

    # -- counting ----------------------------------------------------------------------------
    def flops(self, cost: Any) -> Dim:
        """A tool convention needs layer kinds and shapes, which a bare `Cost` lacks."""
        if hasattr(cost, "rows"):
            return self.report_flops(cost)
        raise ConventionError(
            f"convention '{self.name}' counts per layer kind, as {self.tool.split(' ')[0]} "
            "does, so it needs a Report, not a Cost: use analyze(model, shape).flops("
            f"'{self.name}')")

    def module_values(self, report: Any) -> list[Dim]:
        """What the tool attributes to each row's module in its per-layer printout: for the
        ptflops presets the module hook's count per sample (the patched functional calls add
        to the total only), for every other tool `row_values`."""
        if self.batch != "ptflops":
            return self.row_values(report)
        out = []
        for row in report.rows:
            rule = self.rules.get(row.kind)
            samples = 1 if getattr(row, "once", False) else report.batch
            v: Any = 0 if rule is None else rule(_Ctx(row, report.batch, samples))
            if isinstance(v, Whole):
                v = v.value
            out.append(as_count(v[0] if isinstance(v, tuple) else v))
        return out

    def row_values(self, report: Any) -> list[Dim]:
        """The tool's count for each row of `report` (0 for kinds the tool does not see, and
        for side-output rows, which do not run at inference)."""
        batch = report.batch
        values: list[Dim] = []
        for row in report.rows:
            if getattr(row, "side", False):
                values.append(0)
                continue
            rule = self.rules.get(row.kind)
            # a row done once per forward pass (Row.once) runs once whatever the batch
            n = 1 if getattr(row, "once", False) else batch
            if self.batch == "sample":
                n = 1
            v: Any = 0 if rule is None else rule(_Ctx(row, batch, n))
            if isinstance(v, Whole):
                v = v.value
            elif self.batch == "ptflops":
                # module hooks are summed over the batch, then divided by it; patched
                # functions are summed over the batch
                m, f = v if isinstance(v, tuple) else (v, 0)
                m = m if n is batch else exact_div(as_count(m * n), batch)
                v = as_count(m + f * n)
            elif self.batch == "total":
                v = as_count(v * n)
            values.append(as_count(v))
        if self.last_call_only:
            last = {row.path: i for i, row in enumerate(report.rows)}
            values = [v if last[row.path] == i else 0 for i, (row, v) in
                      enumerate(zip(report.rows, values))]
        return values

    def report_flops(self, report: Any) -> Dim:
        return as_count(sum(self.row_values(report)))

    def uncounted(self, report: Any) -> dict[str, Dim]:
        """Layer kinds with work (exact FLOPs > 0) that this tool counts as 0, with that work
        under the ``exact`` convention, so a report can say what the tool left out; and the
        unknown work of opaque nodes (`layercalc.Opaque`), by op kind (``"opaque:<op>"``)."""
        exact = BASE_CONVENTIONS["exact"]
        out: dict[str, list] = {}
        for row, v in zip(report.rows, self.row_values(report)):
            if type(v) is int and v == 0:
                work = exact.flops(row.cost)
                if not (type(work) is int and work == 0):
                    out.setdefault(row.kind, []).append(work)
                for kind, n in row.cost.ops.items():  # an opaque node's unknown work, by op
                    if kind.startswith("opaque:"):   # (layers.opaque; exact weights it 0)
                        out.setdefault(kind, []).append(n)
        return {k: as_count(sum(v)) for k, v in out.items()}


def _tc(name: str, tool: str, unit: str, rules: dict[str, Rule], **kw: Any) -> ToolConvention:
    return ToolConvention(name, tool, unit, rules, **kw)


_FCM = _aten_rules(mac=2, bias=False)


def _torchvision_rules() -> dict[str, Rule]:
    """Half of FlopCounterMode's rules, except attention written with
    ``F.scaled_dot_product_attention`` (and `KVCacheDecode`): CPU FlopCounterMode sees 0 for
    it, but torchvision's figure counts attention however it is written, so its ``QK^T`` and
    ``PV`` MACs are counted as the math computes them, every (query, key) pair, masked or not
    (`_sdpa_math_macs`)."""
    r: dict[str, Rule] = {k: (lambda f: (lambda c: exact_div(f(c), 2)))(f)
                          for k, f in _FCM.items()}
    r["ScaledDotProductAttention"] = r["KVCacheDecode"] = _sdpa_math_macs
    return r

#: Every tool-named convention by name (read-only).
TOOL_CONVENTIONS: Mapping[str, ToolConvention] = MappingProxyType({c.name: c for c in (
    _tc("torchvision", "torchvision weights metadata '_ops' (GFLOPS)",
        "MACs of conv, linear and attention matmuls, bias excluded",
        _torchvision_rules(),
        description="torchvision's published GFLOPS are FlopCounterMode's total / 2, rounded "
        "to 3 decimals: multiply-accumulates of convolutions and matrix products only "
        "(attention products however written: matmul, einsum, or SDPA counted as its math)",
        source="torchvision/models/*.py Weights meta '_ops'; docs/peer-tools.md cross-check",
        quirks=("bias adds, norms, activations, pools and adds are not counted",
                "scaled_dot_product_attention: every (query, key) pair, masks included, as "
                "its math and FlopCounterMode's CUDA formula count it")),
    _tc("fvcore", "fvcore 0.1.5.post20221221 FlopCountAnalysis(model, x).total()",
        "MACs ('one fused multiply-add is one flop') + norm/pool/upsample extras",
        _fvcore_rules(),
        description="conv/linear/matmul MACs without bias; eval BatchNorm numel (x2 affine); "
        "LayerNorm/GroupNorm/InstanceNorm numel x5 (affine) or x4; adaptive_avg_pool2d numel "
        "of input; upsample nearest numel(out), bilinear 4x",
        source="fvcore/nn/flop_count.py _DEFAULT_SUPPORTED_OPS; fvcore/nn/jit_handles.py",
        quirks=("named 'flops' but counts MACs",
                "max/avg pools, activations, adds, softmax, SDPA, RNNs: 0 (unsupported or "
                "ignored ops, with a warning for the former)",
                "InstanceNorm without affine still counts 4 x numel")),
    _tc("ptflops", "ptflops 0.7.5 get_model_complexity_info(backend='pytorch')",
        "MACs of conv/linear (+bias) plus one per element for hooked layers",
        _ptflops_rules(), batch="ptflops",
        description="module hooks (exact type match) divided by the batch, plus patched "
        "F.* / torch.* calls for the whole batch",
        source="ptflops/pytorch_ops.py MODULES_MAPPING, FUNCTIONAL_MAPPING, "
        "TENSOR_OPS_MAPPING; ptflops/pytorch_engine.py",
        quirks=("ReLU, PReLU, ELU, GELU and every pool are counted twice (module hook + "
                "the patched F.* their forward calls)",
                "residual '+' and SE '*' count 0; torch.add / torch.mul count numel",
                "LayerNorm counts numel once (it has elementwise_affine, not affine)",
                "Hardswish, Hardsigmoid, Sigmoid, Tanh: 0",
                "transposed conv MACs on the input grid",
                "functional calls are not divided by the batch")),
    _tc("ptflops-hooks", "ptflops 0.6.6 get_model_complexity_info (module hooks only)",
        "MACs of conv/linear (+bias) plus one per element for hooked activations, pools, norms",
        _ptflops_hooks_rules(), batch="ptflops",
        description="the ptflops of 2019-2022 (0.6.x): forward hooks on the modules of "
        "MODULES_MAPPING, summed and divided by the batch; functions (F.*, torch.add) unseen",
        source="ptflops 0.6.6 ptflops/flops_counter.py MODULES_MAPPING and the *_hook "
        "functions; Zhang Ge, 关于加速上的一些指标 (its AlexNet printout)",
        quirks=("ReLU and pools count numel once (no patched F.relu / F.max_pool2d)",
                "Linear bias counted once per output feature, not per input row",
                "transposed conv counted on the output grid",
                "LayerNorm, GELU, SiLU, Softmax, Hardswish, Sigmoid, '+', '*': 0")),
    _tc("ptflops-aten", "ptflops 0.7.5 get_model_complexity_info(backend='aten')",
        "MACs of aten convolution/mm/addmm/bmm, addmm bias included",
        _aten_rules(mac=1, bias=True),
        source="ptflops/aten_engine.py, ptflops/aten_ops.py ATEN_OPS_MAPPING",
        quirks=("everything but conv and matmul counts 0", "LSTM (aten.lstm) and CPU SDPA: 0")),
    _tc("thop", "ultralytics-thop 2.2.3 thop.profile(model, inputs=(x,))",
        "MACs of conv/linear (no bias) plus thop's per-element extras",
        _thop_rules(),
        source="thop/profile.py register_hooks; thop/vision/basic_hooks.py; thop/rnn_hooks.py",
        quirks=("normalisation layers count 2 x numel, 4 x numel when affine, even in eval",
                "ReLU-family activations, GELU, SiLU, Hardswish, Sigmoid, max pools: 0",
                "avg pools: one add per summed input plus one divide per output",
                "functional pools (F.adaptive_avg_pool2d) and every '+'/'*': 0")),
    _tc("torchinfo", "torchinfo 1.8.0 summary(model, input_size).total_mult_adds",
        "'Mult-Adds': parameter count x output positions of each leaf module",
        _torchinfo_rules(),
        source="torchinfo/layer_info.py LayerInfo.calculate_macs",
        quirks=("conv: (weights + bias) x output positions, so bias is counted",
                "Linear, norms, Embedding: parameters x batch only (token dimension dropped)",
                "transposed conv uses the output grid: stride^d times the true MACs",
                "parameter-free layers and MultiheadAttention: 0")),
    _tc("calflops", "calflops 0.3.2 calculate_flops(model, input_shape)[0]",
        "FLOPs: 2 x MAC (+ conv bias) plus one per element for patched functions",
        _calflops_rules(macs_only=False),
        source="calflops/pytorch_ops.py _patch_functionals, *_flops_compute",
        quirks=("Linear bias is not counted, conv bias is",
                "ReLU6 (F.hardtanh), Hardswish, Sigmoid, RMSNorm: 0",
                "all pools count numel(input)",
                "grouped transposed conv divides by groups twice")),
    _tc("calflops-macs", "calflops 0.3.2 calculate_flops(model, input_shape)[1]",
        "MACs of conv, linear and matmul", _calflops_rules(macs_only=True),
        source="calflops/pytorch_ops.py", quirks=("RNNs report 0 MACs",)),
    _tc("flopcountermode", "torch 2.13.0 torch.utils.flop_counter.FlopCounterMode (CPU)",
        "FLOPs = 2 x MAC of mm/addmm/bmm/convolution", _FCM,
        source="torch/utils/flop_counter.py flop_registry",
        quirks=("bias adds and every elementwise op: 0",
                "on CPU, F.scaled_dot_product_attention and LSTM: 0")),
    _tc("torchstat-madd", "torchstat 0.0.7 ModelStat(model, (C, H, W)) 'MAdd'",
        "multiplies + adds of one sample", _torchstat_rules("madd"), batch="sample",
        last_call_only=True, source="torchstat/compute_madd.py",
        quirks=("only 2-D layers (Conv2d, BatchNorm2d, pools, ReLU, Linear ...) are known",
                "a module called several times keeps its last call only",
                "BatchNorm2d counts 4 x numel",
                "fails (AssertionError in compute_Linear_madd) on any model with a Linear on "
                "more than 2-D inputs (ConvNeXt, Swin, MaxViT, transformers); the preset "
                "still applies its rules, with no tool number to match")),
    _tc("torchstat-flops", "torchstat 0.0.7 ModelStat(model, (C, H, W)) 'Flops'",
        "MAC-like count of one sample", _torchstat_rules("flops"), batch="sample",
        last_call_only=True, source="torchstat/compute_flops.py",
        quirks=("Linear bias ignored, conv bias counted", "ConvTranspose2d: 0",
                "a module called several times keeps its last call only",
                "fails on any model with a Linear on more than 2-D inputs (as torchstat-madd)")),
)})
