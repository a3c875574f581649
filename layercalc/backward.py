"""Backward-pass rules: per layer kind, what training adds to a forward pass.

A `BackwardRule` says, for one layer kind (looked up by class, through the MRO, so a rule for
a base class covers its subclasses):

- ``grads``: the gradient work as two `Cost`s, **dgrad** (gradients of the inputs that need
  one) and **wgrad** (gradients of the parameters). Counts are for the whole batch (a weight
  gradient is one reduction over every sample, so it does not scale per sample);
- ``train_forward``: the training-mode forward where it differs from the eval forward that
  `analyze` counts (BatchNorm's batch statistics, Dropout's and StochasticDepth's masks);
- ``saved``: the tensors eager autograd keeps for the backward pass (`Saved`), tensor by
  tensor, for ``activations="pytorch"`` (CUDA kernels) and ``"pytorch-cpu"``;
- ``korthikanti``: the same under Korthikanti et al. 2022's accounting (16-bit activations,
  1-byte masks, the attention core with its ``s x s`` softmax and dropout);
- ``params``: the shapes of the parameter tensors (optimizer states are per tensor);
- ``tools``: a tool's backward count (``"flopcountermode"``: PyTorch's
  ``torch/utils/flop_counter.py``), and ``tool_forward`` where a tool's training-mode
  forward differs from its eval preset;
- ``tp``: how Megatron tensor parallelism treats the layer (``"linear"``: column or row
  parallel, decided by the dataflow; ``"heads"``: split by attention heads; ``"pointwise"``:
  follows its input; ``"vocab"``: vocabulary-parallel; ``"replicated"``).

A layer kind without a rule is never a silent zero: `layercalc.training` lists it by name as
"backward not counted". Adding a rule is one call to `register_backward`.

How the backward is counted (the same principle for every rule):

- the operations of the gradient formulas as PyTorch's autograd evaluates them
  (``tools/autograd/derivatives.yaml`` and the backward kernels), each multiply, add, compare,
  divide and transcendental once, as the forward counts do;
- a reduction of ``n`` terms is ``n - 1`` adds (a weight gradient over a batch is one dot
  product per weight, whatever the batching); a dot product keeps the forward's convention
  (``n`` multiplies, ``n - 1`` adds, so ``macs``/``dots`` again);
- where the count depends on the data (scatter-adds by index: Embedding, max pooling), one add
  per scattered element, as PyTorch's kernels add into a zeroed gradient; the rule says so;
- an input that needs no gradient (the first layer on the data) gets no dgrad, as autograd
  skips it; the dataflow (`layercalc.Row.sources`) decides which inputs need one.

References
==========
.. [1] PyTorch, ``tools/autograd/derivatives.yaml`` and ``aten/src/ATen/native`` (backward
   kernels), torch 2.13.
.. [2] Goodfellow, Bengio and Courville, "Deep Learning", 2016, section 6.5 (back-propagation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import sympy as sp

from .cost import Cost
from .dims import Dim, as_count, exact_div, prod, smin, truth, to_expr
from .layers import (
    GELU, GRU, LSTM, RNN, SiLU, Add, ClassToken, Concat, Dropout, Embedding, GroupNorm,
    Hardsigmoid, Hardswish, Identity, LayerNorm, LeakyReLU, Linear, LogSoftmax, Mul,
    MultiheadAttention, PositionalEmbedding, PReLU, ReLU, ReLU6, RMSNorm, RotaryEmbedding,
    ScaledDotProductAttention, Select, Sigmoid, Softmax, StochasticDepth, Tanh, Transpose,
)
from .layers import (
    ELU, ChannelShuffle, Flatten, Permute, Reshape, Roll, Slice,
)
from .layers.attention import visible_scores
from .layers.conv import _ConvNd, _ConvTransposeNd
from .layers.elementwise import _PadNd, _Resize
from .layers.norm import _BatchNormNd, _InstanceNormNd, _stats_ops
from .layers.pool import _AdaptiveAvgPoolNd, _AdaptiveMaxPoolNd, _AvgPoolNd, _MaxPoolNd
from .shapes import (
    adaptive_window_sum, pool_last_start, same_padding,
    transposed_covered, transposed_products, valid_taps,
)

__all__ = [
    "BackwardRule", "Ctx", "Grads", "Saved", "NotCounted", "register_backward",
    "backward_rule", "BACKWARD_RULES",
]


# -- what a rule sees and returns -----------------------------------------------------------------
@dataclass(frozen=True)
class Ctx:
    """One report row as a backward rule sees it.

    ``inputs``: per-sample shapes of the row's inputs (one per input tensor, batch excluded);
    ``output``: its per-sample output shape; ``batch``; ``needs``: for each differentiable
    input (for attention: query, key, value), whether autograd computes its gradient;
    ``mode``: the activation accounting (``"pytorch"``, ``"pytorch-cpu"``, ``"korthikanti"``).
    """

    layer: Any
    inputs: tuple
    output: tuple
    batch: Dim = 1
    needs: tuple = (True,)
    mode: str = "pytorch"
    eval: Cost | None = None  # the row's eval-mode forward cost (already batched)

    def n(self, shape: tuple) -> Dim:
        """Elements of a tensor of per-sample `shape` over the whole batch."""
        return as_count(self.batch * prod(shape))

    @property
    def n_in(self) -> Dim:
        return self.n(self.inputs[0])

    @property
    def n_out(self) -> Dim:
        return self.n(self.output)

    @property
    def need(self) -> bool:
        """Whether the (first) input needs a gradient."""
        return bool(self.needs and self.needs[0])


@dataclass(frozen=True)
class Grads:
    """The backward work of one row: input gradients and parameter gradients."""

    dgrad: Cost = field(default_factory=Cost)
    wgrad: Cost = field(default_factory=Cost)


@dataclass(frozen=True)
class NotCounted:
    """Returned by a rule that covers a layer class but not this configuration (the reason
    is listed in the training report)."""

    reason: str


@dataclass(frozen=True)
class Saved:
    """One tensor autograd saves for the backward pass.

    ``ref``: ``"input"`` (input ``index`` of the row, i.e. its producer's storage),
    ``"output"`` (the row's output) or ``"new"`` (a tensor of ``elements`` elements, batch
    included, created by the layer: masks, indices, statistics). ``dtype``: ``"act"`` (the
    activation dtype), ``"fp32"``, ``"int64"``, ``"bool"``, or ``"mask"`` (a dropout mask:
    ``bool`` under ``pytorch``, the activation dtype under ``pytorch-cpu``). ``key``: storages
    with the same key are one tensor across the whole model (RoPE's cos/sin tables).
    ``what``: a name for reports.
    """

    ref: str
    index: int = 0
    elements: Dim = 0
    dtype: str = "act"
    what: str = ""
    key: str = ""


def IN(i: int = 0, what: str = "input", dtype: str = "act") -> Saved:
    return Saved("input", i, what=what, dtype=dtype)


def OUT(what: str = "output") -> Saved:
    return Saved("output", what=what)


def NEW(elements: Dim, what: str, dtype: str = "act", key: str = "") -> Saved:
    return Saved("new", elements=as_count(elements), dtype=dtype, what=what, key=key)


Rule = Callable[[Ctx], Any]


def _none(ctx: Ctx) -> tuple:
    return ()


@dataclass(frozen=True)
class BackwardRule:
    """Everything training needs to know about one layer kind (see the module docstring).

    ``grads(ctx) -> Grads | NotCounted``; ``saved(ctx) -> tuple[Saved, ...]``;
    ``train_forward(ctx) -> Cost`` (the whole batch) or None when training runs the eval
    forward; ``view(ctx) -> bool``: the output shares the input's storage (no new tensor);
    ``params(ctx) -> tuple of shapes``; ``tools``: ``{convention name: ctx -> (dgrad, wgrad)
    FLOPs}``; ``tool_forward``: ``{convention name: ctx -> forward FLOPs}`` when a tool's
    training-mode forward differs from its eval rule; ``korthikanti(ctx) -> tuple[Saved]``
    (None: not part of that accounting, counted as ``pytorch``); ``tp``; ``merge_inputs``:
    repeated sources of one row are slices of one tensor (fused q|k|v), one gradient.
    """

    grads: Callable[[Ctx], Any]
    saved: Callable[[Ctx], tuple] = _none
    train_forward: Callable[[Ctx], Cost] | None = None
    view: Callable[[Ctx], bool] | bool = False
    params: Callable[[Ctx], tuple] = _none
    tools: Mapping[str, Callable[[Ctx], tuple]] = field(default_factory=dict)
    tool_forward: Mapping[str, Callable[[Ctx], Dim]] = field(default_factory=dict)
    korthikanti: Callable[[Ctx], tuple] | None = None
    tp: str = "replicated"
    merge_inputs: bool = False
    description: str = ""

    def is_view(self, ctx: Ctx) -> bool:
        return self.view(ctx) if callable(self.view) else bool(self.view)


_RULES: dict[type, BackwardRule] = {}
#: Registered rules by layer class (read-only view).
BACKWARD_RULES = MappingProxyType(_RULES)
_CACHE: dict[type, BackwardRule | None] = {}


def register_backward(*classes: type, rule: BackwardRule | None = None, **fields: Any):
    """Register `rule` (or ``BackwardRule(**fields)``) for each layer class in `classes`.
    A later registration for the same class replaces the earlier one. Used as a function::

        register_backward(MyLayer, grads=my_grads, saved=lambda ctx: (IN(0),))

    or as a decorator of the ``grads`` function::

        @register_backward(MyLayer, saved=lambda ctx: (IN(0),))
        def my_grads(ctx): ...
    """
    def put(r: BackwardRule) -> BackwardRule:
        for cls in classes:
            _RULES[cls] = r
        _CACHE.clear()
        return r

    if rule is not None:
        return put(rule)
    if "grads" in fields:
        return put(BackwardRule(**fields))

    def decorator(fn: Callable[[Ctx], Any]) -> Callable[[Ctx], Any]:
        put(BackwardRule(grads=fn, **fields))
        return fn

    return decorator


def backward_rule(layer: Any) -> BackwardRule | None:
    """The rule for `layer` (an instance or a class): its class's, else the nearest base
    class's in the MRO, else None.

    >>> from layercalc import Conv2d, Linear
    >>> backward_rule(Conv2d(3, 8, 3)) is backward_rule(Conv2d)
    True
    >>> backward_rule(Linear).tp
    'linear'
    """
    cls = layer if isinstance(layer, type) else type(layer)
    try:
        return _CACHE[cls]
    except KeyError:
        pass
    rule = next((_RULES[c] for c in cls.__mro__ if c in _RULES), None)
    _CACHE[cls] = rule
    return rule


# -- helpers ---------------------------------------------------------------------------------------
def _ops(**kw: Any) -> dict:
    return {k: as_count(v) for k, v in kw.items() if not (type(v) is int and v == 0)}


def _per_element(n: Dim, per: Mapping[str, int]) -> dict:
    return {k: as_count(v * n) for k, v in per.items()}


def _reduce(groups: Dim, terms: Dim) -> Dim:
    """Adds of `groups` sums of `terms` terms each."""
    return as_count(groups * (terms - 1))


def _matmul(macs: Dim, dots: Dim, reads: Dim, wreads: Dim, writes: Dim, ops: dict | None = None
            ) -> Cost:
    return Cost(macs=as_count(macs), dots=as_count(dots), ops=ops or {}, act_reads=as_count(reads),
                weight_reads=as_count(wreads), writes=as_count(writes))


def _elementwise(ops: dict, reads: Dim, writes: Dim) -> Cost:
    return Cost(ops=ops, act_reads=as_count(reads), writes=as_count(writes))


def _fcm_zero(ctx: Ctx) -> tuple:
    return 0, 0


FCM = "flopcountermode"


# -- convolutions ----------------------------------------------------------------------------------
def _conv_axes(layer: Any, spatial: tuple) -> list[tuple]:
    """(n, k, s, p_left, p_right, d) per axis of a convolution."""
    out = []
    for i, (n, k, s, d) in enumerate(zip(spatial, layer.kernel_size, layer.stride, layer.dilation)):
        if layer.padding == "same":
            pl, pr = same_padding(k, d)
        else:
            pl = pr = layer.padding[i]
        out.append((n, k, s, pl, pr, d))
    return out


def conv_grads(ctx: Ctx) -> Grads:
    """Convolution backward, PyTorch's ``convolution_backward``.

    Input gradient (dgrad): the transposed convolution of the output gradient with the same
    weights, ``dX[ci, i] = sum over (co, t) with i = j*s - p + t*d of W[co, ci, t]*dY[co, j]``
    (Dumoulin & Visin 2016, section 4). Every product of an output gradient with a tap is
    counted (the mirror image of the forward counting taps on padding), so its MACs equal the
    forward's, ``C_out*(C_in/g)*prod(k)*prod(o)`` per sample; the adds are exact: an input
    element receiving ``m`` products (taps on padding land nowhere) needs ``m - 1``::

        adds = (C_in/g)*C_out*prod(landing products per axis) - C_in*prod(inputs covered)

    computed per axis as the transposed convolution ``o -> n`` with output padding
    ``n + 2p - d(k-1) - 1 - (o-1)s`` (`layercalc.shapes.transposed_products` and
    `~layercalc.shapes.transposed_covered`; asymmetric ``'same'`` padding crops one more on
    the right).

    Weight gradient (wgrad): the correlation of the input with the output gradient,
    ``dW[co, ci, t] = sum over (b, j) of dY[b, co, j]*X[b, ci, j*s - p + t*d]``: one dot
    product of ``B*prod(o)`` terms per weight (padding taps included, as in the forward), so
    MACs equal the forward's and ``dots = C_out*(C_in/g)*prod(k)``; the bias gradient is
    ``C_out`` sums of ``B*prod(o)`` terms.

    >>> from layercalc import Conv2d
    >>> g = conv_grads(Ctx(Conv2d(1, 1, 2, bias=False), ((1, 3, 3),), (1, 2, 2)))
    >>> g.dgrad.macs, g.dgrad.macs - g.dgrad.dots, g.wgrad.macs, g.wgrad.dots  # 16 products
    (16, 7, 16, 4)
    """
    lay = ctx.layer
    x, y, b = ctx.inputs[0], ctx.output, ctx.batch
    cin, cout, g = lay.in_channels, lay.out_channels, lay.groups
    cin_g = exact_div(cin, g)
    taps = prod(lay.kernel_size)
    macs = as_count(b * cout * cin_g * taps * prod(y[1:]))
    weights = as_count(cout * cin_g * taps)
    dgrad = Cost()
    notes: list[str] = []
    if ctx.need:
        landed: Dim = 1
        covered: Dim = 1
        for (n, k, s, pl, pr, d), o in zip(_conv_axes(lay, x[1:]), y[1:]):
            op = as_count(n + pl + pr - d * (k - 1) - 1 - (o - 1) * s - (pr - pl))
            landed = landed * transposed_products(o, k, s, pl, d, op)
            c, note = transposed_covered(o, k, s, pl, d, op)
            covered = covered * c
            if note:
                notes.append(note.replace("ConvTranspose", f"{lay.kind} dgrad"))
        adds = as_count(b * (cin_g * cout * landed - cin * covered))
        dgrad = Cost(macs=macs, dots=as_count(macs - adds), weight_reads=weights,
                     act_reads=ctx.n_out, writes=ctx.n_in, notes=tuple(dict.fromkeys(notes)))
    bias = _ops(add=_reduce(cout, b * prod(y[1:]))) if lay.bias else {}
    wgrad = _matmul(macs, weights, ctx.n_out + ctx.n_in, 0, weights + (cout if lay.bias else 0),
                    bias)
    return Grads(dgrad, wgrad)


def conv_transpose_grads(ctx: Ctx) -> Grads:
    """Transposed-convolution backward.

    dgrad: a convolution of the output gradient with the same weights, from the output grid
    back to the input grid: ``dX[ci, i] = sum over (co, t) of W[ci, co, t]*dY[co, i*s - p +
    t*d]``, one dot product of ``(C_out/g)*prod(k)`` terms per input element (taps falling
    outside the output count, as a convolution counts padding taps): MACs equal the forward's
    ``C_in*(C_out/g)*prod(k)*prod(n)``, ``dots = C_in*prod(n)`` per sample.

    wgrad: ``dW[ci, co, t] = sum over (b, i) of X[b, ci, i]*dY[b, co, i*s - p + t*d]``, one
    dot product of ``B*prod(n)`` terms per weight; the bias gradient ``C_out`` sums of
    ``B*prod(o)`` terms.

    >>> from layercalc import ConvTranspose1d
    >>> g = conv_transpose_grads(Ctx(ConvTranspose1d(1, 1, 3, 2), ((1, 4),), (1, 9)))
    >>> g.dgrad.macs, g.dgrad.dots, g.wgrad.dots, dict(g.wgrad.ops)
    (12, 4, 3, {'add': 8})
    """
    lay = ctx.layer
    x, y, b = ctx.inputs[0], ctx.output, ctx.batch
    cin, cout, g = lay.in_channels, lay.out_channels, lay.groups
    per_in = exact_div(cout, g) * prod(lay.kernel_size)
    macs = as_count(b * cin * per_in * prod(x[1:]))
    weights = as_count(cin * per_in)
    dgrad = Cost()
    if ctx.need:
        dgrad = _matmul(macs, b * cin * prod(x[1:]), ctx.n_out, weights, ctx.n_in)
    bias = _ops(add=_reduce(cout, b * prod(y[1:]))) if lay.bias else {}
    wgrad = _matmul(macs, weights, ctx.n_out + ctx.n_in, 0, weights + (cout if lay.bias else 0),
                    bias)
    return Grads(dgrad, wgrad)


def _conv_fwd_macs(ctx: Ctx) -> Dim:
    lay = ctx.layer
    return as_count(ctx.batch * lay.out_channels * exact_div(lay.in_channels, lay.groups)
                    * prod(lay.kernel_size) * prod(ctx.output[1:]))


def _tconv_fwd_macs(ctx: Ctx) -> Dim:
    lay = ctx.layer
    return as_count(ctx.batch * lay.in_channels * exact_div(lay.out_channels, lay.groups)
                    * prod(lay.kernel_size) * prod(ctx.inputs[0][1:]))


def _fcm_conv(fwd: Callable[[Ctx], Dim]) -> Callable[[Ctx], tuple]:
    """``conv_backward_flop`` of torch/utils/flop_counter.py: grad_input as the (transposed)
    convolution of the output gradient, ``2*MACs`` of the forward, only when the input needs
    it (``output_mask[0]``); grad_weight as a convolution whose ``batch`` is ``C_in`` and whose
    channels are ``C_out`` and the batch: ``2*B*C_in*C_out*prod(k)*prod(o)``, i.e. ``groups``
    times the forward's (the counter ignores groups there)."""
    def rule(ctx: Ctx) -> tuple:
        f = as_count(2 * fwd(ctx))
        return (f if ctx.need else 0), as_count(f * ctx.layer.groups)
    return rule


def _conv_params(ctx: Ctx) -> tuple:
    lay = ctx.layer
    w = (lay.out_channels, exact_div(lay.in_channels, lay.groups), *lay.kernel_size)
    return (w, (lay.out_channels,)) if lay.bias else (w,)


def _tconv_params(ctx: Ctx) -> tuple:
    lay = ctx.layer
    w = (lay.in_channels, exact_div(lay.out_channels, lay.groups), *lay.kernel_size)
    return (w, (lay.out_channels,)) if lay.bias else (w,)


_SAVE_INPUT = (lambda ctx: (IN(0),))

register_backward(_ConvNd, grads=conv_grads, saved=_SAVE_INPUT, params=_conv_params,
                  tools={FCM: _fcm_conv(_conv_fwd_macs)}, korthikanti=_SAVE_INPUT,
                  description="dgrad: transposed convolution of dY; wgrad: correlation of X "
                  "and dY")
register_backward(_ConvTransposeNd, grads=conv_transpose_grads, saved=_SAVE_INPUT,
                  params=_tconv_params, tools={FCM: _fcm_conv(_tconv_fwd_macs)},
                  korthikanti=_SAVE_INPUT,
                  description="dgrad: convolution of dY; wgrad: correlation of dY and X")


# -- linear and embeddings -------------------------------------------------------------------------
def linear_grads(ctx: Ctx) -> Grads:
    """``y = x W^T + b`` over ``F = B*prod(leading)`` positions (``aten.addmm``/``mm``
    backward):

    - dgrad ``dX = dY W``: ``F*I`` dot products of ``O`` terms (MACs ``F*I*O``, as forward);
    - wgrad ``dW = dY^T X``: ``O*I`` dot products of ``F`` terms (MACs ``F*I*O``); bias
      ``db = sum_F dY``: ``O*(F - 1)`` adds.

    >>> from layercalc import Linear
    >>> g = linear_grads(Ctx(Linear(3, 2), ((4, 3),), (4, 2), batch=5))
    >>> (g.dgrad.macs, g.dgrad.dots), (g.wgrad.macs, g.wgrad.dots, dict(g.wgrad.ops))
    ((120, 60), (120, 6, {'add': 38}))
    """
    lay = ctx.layer
    i, o = lay.in_features, lay.out_features
    f = as_count(ctx.batch * prod(ctx.output[:-1]))
    macs = as_count(f * i * o)
    dgrad = _matmul(macs, f * i, ctx.n_out, i * o, ctx.n_in) if ctx.need else Cost()
    bias = _ops(add=_reduce(o, f)) if lay.bias else {}
    wgrad = _matmul(macs, i * o, ctx.n_out + ctx.n_in, 0, i * o + (o if lay.bias else 0), bias)
    return Grads(dgrad, wgrad)


def _fcm_linear(ctx: Ctx) -> tuple:
    """``mm`` backward of addmm/mm: ``2*F*I*O`` for grad_input (when needed) and for
    grad_weight; the bias gradient (a sum) is not counted."""
    lay = ctx.layer
    f = as_count(2 * ctx.batch * prod(ctx.output[:-1]) * lay.in_features * lay.out_features)
    return (f if ctx.need else 0), f


def _linear_params(ctx: Ctx) -> tuple:
    lay = ctx.layer
    w = (lay.out_features, lay.in_features)
    return (w, (lay.out_features,)) if lay.bias else (w,)


register_backward(Linear, grads=linear_grads, saved=_SAVE_INPUT, params=_linear_params,
                  tools={FCM: _fcm_linear}, korthikanti=_SAVE_INPUT, tp="linear",
                  description="dgrad dY W, wgrad dY^T X, bias sum")


def embedding_grads(ctx: Ctx) -> Grads:
    """``nn.Embedding`` backward (``embedding_dense_backward``): indices get no gradient; the
    table gradient is a scatter-add of the ``N = B*prod(ids)`` output-gradient rows into a
    zeroed ``(num_embeddings, E)`` table: ``N*E`` adds (one per scattered element; the
    minimal count, ``E*(N - distinct ids)``, depends on the data). ``padding_idx`` rows are
    still counted.

    >>> from layercalc import Embedding
    >>> dict(embedding_grads(Ctx(Embedding(10, 4), ((3,),), (3, 4), batch=2)).wgrad.ops)
    {'add': 24}
    """
    lay = ctx.layer
    n = as_count(ctx.batch * prod(ctx.inputs[0]))
    table = as_count(lay.num_embeddings * lay.embedding_dim)
    return Grads(wgrad=Cost(ops=_ops(add=n * lay.embedding_dim), act_reads=ctx.n_out + n,
                            writes=table))


register_backward(Embedding, grads=embedding_grads,
                  saved=lambda ctx: (IN(0, "indices", "int64"),),
                  korthikanti=lambda ctx: (),
                  params=lambda ctx: ((ctx.layer.num_embeddings, ctx.layer.embedding_dim),),
                  tools={FCM: _fcm_zero}, tp="vocab",
                  description="scatter-add of dY rows into the table")


def positional_grads(ctx: Ctx) -> Grads:
    """`PositionalEmbedding` (``x + table[rows]``) backward: ``dx = dy`` (no op); the table
    gradient sums the output gradient over the batch, ``L*E*(B - 1)`` adds for
    ``rows="positions"`` and ``"all"`` (every sample uses the same rows); ``rows="ids"``
    scatters ``B*L`` rows by index, ``B*L*E`` adds (as `Embedding`).

    >>> from layercalc import PositionalEmbedding
    >>> dict(positional_grads(Ctx(PositionalEmbedding(8, 4), ((5, 4),), (5, 4), 3)).wgrad.ops)
    {'add': 40}
    """
    lay = ctx.layer
    per = prod(ctx.output)
    adds = as_count(ctx.batch * per) if lay.rows == "ids" else as_count(per * (ctx.batch - 1))
    return Grads(wgrad=Cost(ops=_ops(add=adds), act_reads=ctx.n_out,
                            writes=as_count(lay.num_embeddings * lay.embedding_dim)))


def _positional_saved(ctx: Ctx) -> tuple:
    rows = ctx.layer.rows
    if rows == "positions":  # nn.Embedding(arange(L)) saves its L position ids
        return (NEW(ctx.output[0], "position ids", "int64"),)
    if rows == "ids":
        return (NEW(ctx.batch * ctx.output[0], "token type ids", "int64"),)
    return ()


def _positional_params(ctx: Ctx) -> tuple:
    lay = ctx.layer
    if lay.rows == "all":
        return ((1, lay.num_embeddings, lay.embedding_dim),)
    return ((lay.num_embeddings, lay.embedding_dim),)


register_backward(PositionalEmbedding, grads=positional_grads, saved=_positional_saved,
                  korthikanti=lambda ctx: (), params=_positional_params, tools={FCM: _fcm_zero},
                  description="dx = dy; table gradient summed over the batch")


def class_token_grads(ctx: Ctx) -> Grads:
    """`ClassToken` (``cat([token.expand(B), x])``) backward: ``dx`` is a slice of ``dy``
    (no op); the token gradient sums over the batch: ``num_tokens*E*(B - 1)`` adds."""
    lay = ctx.layer
    p = as_count(lay.num_tokens * lay.embed_dim)
    return Grads(wgrad=Cost(ops=_ops(add=p * (ctx.batch - 1)), act_reads=ctx.batch * p, writes=p))


register_backward(ClassToken, grads=class_token_grads, korthikanti=lambda ctx: (),
                  params=lambda ctx: ((1, ctx.layer.num_tokens, ctx.layer.embed_dim),),
                  tools={FCM: _fcm_zero}, description="dx slice of dy; token grad sum over B")


# -- normalisation ---------------------------------------------------------------------------------
def _norm_backward_ops(groups: Dim, n: Dim, affine: bool) -> dict:
    """Input gradient of normalising `groups` groups of `n` elements with batch statistics
    (``x_hat = (x - mu)*rstd``, ``g = dy*gamma``)::

        dx = rstd*(g - mean(g) - x_hat*mean(g*x_hat))

    per group: ``a = sum g`` (n - 1 adds), ``c = x - mu`` (n adds), ``x_hat = c*rstd``
    (n mul), ``b = sum g*x_hat`` (n mul, n - 1 adds), ``a/n``, ``b/n`` (2 div), then per
    element ``x_hat*(b/n)`` (n mul), two subtractions (2n adds), ``*rstd`` (n mul); with
    affine weights ``g = dy*gamma`` adds n mul. Per group: ``5n - 2`` adds, ``4n`` (``5n``)
    muls, 2 divs (LayerNorm's and GroupNorm's backward; BatchNorm's has the same shape)."""
    return _ops(add=groups * (5 * n - 2), mul=groups * ((5 if affine else 4) * n), div=2 * groups)


def batchnorm_train_forward(ctx: Ctx) -> Cost:
    """BatchNorm in training mode (``torch.nn.BatchNorm2d.train()``): each channel is
    normalised with the statistics of its ``M = B*prod(spatial)`` elements of the batch, not
    the running statistics that `analyze` (eval mode) uses. Counted as the module docstring of
    `layercalc.layers.norm` decomposes it, per channel: mean and biased variance and
    normalisation, ``3M - 1`` adds, ``M`` muls, ``M + 2`` divs, 1 sqrt; the affine transform
    ``M`` muls and ``M`` adds; and the running-statistics update (``track_running_stats``)
    ``(1 - m)*running + m*stat`` for the mean and, with the unbiased variance
    ``var*M/(M - 1)``, for the variance: 5 muls, 2 adds per channel (``momentum=None``, the
    cumulative average, is counted the same).

    >>> from layercalc import BatchNorm2d
    >>> dict(batchnorm_train_forward(Ctx(BatchNorm2d(2), ((2, 3, 3),), (2, 3, 3), 4)).ops)
    {'add': 290, 'div': 76, 'mul': 154, 'sqrt': 2}
    """
    lay = ctx.layer
    c = lay.num_features
    m = as_count(ctx.batch * prod(ctx.inputs[0][1:]))
    ops = dict(_stats_ops(c, m))
    extra = {"mul": 0, "add": 0}
    if lay.affine:
        extra["mul"] += ctx.n_in
        extra["add"] += ctx.n_in
    if lay.track_running_stats:
        extra["mul"] += 5 * c
        extra["add"] += 2 * c
    for k, v in extra.items():
        ops[k] = as_count(ops.get(k, 0) + v)
    params = 2 * c if lay.affine else 0
    buffers = 2 * c if lay.track_running_stats else 0
    return Cost(params=params, buffers=buffers, ops=ops, weight_reads=as_count(params + buffers),
                act_reads=as_count(2 * ctx.n_in), writes=as_count(ctx.n_in + buffers))


def batchnorm_grads(ctx: Ctx) -> Grads:
    """BatchNorm training backward (``batch_norm_backward``), per channel of ``M`` elements,
    with ``c = x - mean`` and the saved ``invstd``::

        s1 = sum dy                (M - 1 adds)       dbeta  = s1
        s2 = sum dy*c              (M adds, M mul, M - 1 adds)
        dgamma = s2*invstd         (1 mul)
        dx = (dy - s1/M - c*s2*invstd^2/M)*(invstd*gamma)

    dgrad per channel: the sums (shared with wgrad), ``invstd^2``, ``*s2`` (2 mul), 2 divs,
    then per element one mul (``c*k``), two subtractions, one mul (by ``invstd*gamma``, 1 mul
    per channel if affine): ``5M - 2`` adds, ``3M + 2`` (+1) muls, 2 divs. wgrad: 1 mul per
    channel, or, without dgrad, the sums themselves (``3M - 2`` adds, ``M + 1`` muls).

    >>> from layercalc import BatchNorm2d
    >>> g = batchnorm_grads(Ctx(BatchNorm2d(2), ((2, 3, 3),), (2, 3, 3), 4))
    >>> dict(g.dgrad.ops), dict(g.wgrad.ops)
    ({'add': 356, 'div': 4, 'mul': 222}, {'mul': 2})
    """
    lay = ctx.layer
    c = lay.num_features
    m = as_count(ctx.batch * prod(ctx.inputs[0][1:]))
    affine = lay.affine
    dgrad = wgrad = Cost()
    if ctx.need:
        dgrad = _elementwise(_ops(add=c * (5 * m - 2), mul=c * (3 * m + 2 + (1 if affine else 0)),
                                  div=2 * c), 2 * ctx.n_in, ctx.n_in)
        if affine:
            wgrad = Cost(ops=_ops(mul=c), writes=2 * c)
    elif affine:
        wgrad = _elementwise(_ops(add=c * (3 * m - 2), mul=c * (m + 1)), 2 * ctx.n_in, 2 * c)
    return Grads(dgrad, wgrad)


def _channel_params(ctx: Ctx) -> tuple:
    lay = ctx.layer
    c = getattr(lay, "num_features", None) or lay.num_channels
    return ((c,), (c,)) if lay.affine else ()


register_backward(
    _BatchNormNd, grads=batchnorm_grads, train_forward=batchnorm_train_forward,
    saved=lambda ctx: (IN(0), NEW(ctx.layer.num_features, "save_mean", "fp32"),
                       NEW(ctx.layer.num_features, "save_invstd", "fp32")),
    params=_channel_params, tools={FCM: _fcm_zero},
    description="batch statistics in training; backward through mean and variance")


def instancenorm_train_forward(ctx: Ctx) -> Cost:
    """InstanceNorm in training mode: every ``(sample, channel)`` is normalised by its own
    statistics, as in eval unless ``track_running_stats``: then training uses the instance
    statistics (eval uses the running ones) and also updates the running statistics from the
    batch mean of the instance statistics (per channel ``B - 1`` adds and a div to average,
    then 5 muls and 2 adds as BatchNorm; counted that way). ``affine`` multiplies by
    ``gamma`` repeated over the batch (``E`` muls and adds)."""
    lay = ctx.layer
    c, b = lay.num_features, ctx.batch
    s = prod(ctx.inputs[0][1:])
    ops = dict(_stats_ops(as_count(b * c), s))
    extra = {"mul": 0, "add": 0, "div": 0}
    if lay.affine:
        extra["mul"] += ctx.n_in
        extra["add"] += ctx.n_in
    if lay.track_running_stats:
        extra["add"] += 2 * c * (b - 1) + 2 * c
        extra["div"] += 2 * c
        extra["mul"] += 5 * c
    for k, v in extra.items():
        if not (type(v) is int and v == 0):
            ops[k] = as_count(ops.get(k, 0) + v)
    params = 2 * c if lay.affine else 0
    return Cost(params=params, ops=ops, weight_reads=params, act_reads=ctx.n_in,
                writes=ctx.n_in)


def instancenorm_grads(ctx: Ctx) -> Grads:
    """InstanceNorm backward (PyTorch runs it as BatchNorm over ``(1, B*C, *spatial)``): per
    ``(sample, channel)`` group of ``S`` elements the BatchNorm formula (``5S - 2`` adds,
    ``3S + 2`` (+1) muls, 2 divs); the repeated ``gamma``/``beta`` gradients are then summed
    over the batch: ``2*C*(B - 1)`` adds more, plus 1 mul per group for ``dgamma``."""
    lay = ctx.layer
    c, b = lay.num_features, ctx.batch
    s = prod(ctx.inputs[0][1:])
    groups = as_count(b * c)
    dgrad = wgrad = Cost()
    affine = lay.affine
    if ctx.need:
        dgrad = _elementwise(_ops(add=groups * (5 * s - 2),
                                  mul=groups * (3 * s + 2 + (1 if affine else 0)),
                                  div=2 * groups), 2 * ctx.n_in, ctx.n_in)
        if affine:
            wgrad = Cost(ops=_ops(mul=groups, add=2 * c * (b - 1)), writes=2 * c)
    elif affine:
        wgrad = _elementwise(_ops(add=groups * (3 * s - 2) + 2 * c * (b - 1),
                                  mul=groups * (s + 1)), 2 * ctx.n_in, 2 * c)
    return Grads(dgrad, wgrad)


def _instancenorm_saved(ctx: Ctx) -> tuple:
    groups = as_count(ctx.batch * ctx.layer.num_features)
    out = [IN(0), NEW(groups, "save_mean", "fp32"), NEW(groups, "save_invstd", "fp32")]
    if ctx.layer.affine:  # batch_norm of the (1, B*C, ...) view takes gamma.repeat(B)
        out.append(NEW(groups, "weight repeated over the batch"))
    if ctx.layer.track_running_stats:  # and the running statistics repeated B times
        out += [NEW(groups, "running mean repeated"), NEW(groups, "running var repeated")]
    return tuple(out)


register_backward(_InstanceNormNd, grads=instancenorm_grads,
                  train_forward=instancenorm_train_forward, saved=_instancenorm_saved,
                  params=_channel_params, tools={FCM: _fcm_zero},
                  description="BatchNorm over (1, B*C, ...)")


def layernorm_grads(ctx: Ctx) -> Grads:
    """LayerNorm backward (``native_layer_norm_backward``), ``G`` rows of ``N`` elements over
    the batch: dgrad as `_norm_backward_ops` (``5N - 2`` adds, ``5N`` muls with affine
    weights, 2 divs per row); wgrad ``dgamma = sum_rows dy*x_hat`` (``G*N`` muls,
    ``N*(G - 1)`` adds; ``x_hat`` is shared with dgrad, else ``G*N`` adds and muls more to
    form it), ``dbeta = sum_rows dy`` (``N*(G - 1)`` adds).

    >>> from layercalc import LayerNorm
    >>> g = layernorm_grads(Ctx(LayerNorm(4), ((3, 4),), (3, 4), 2))
    >>> dict(g.dgrad.ops), dict(g.wgrad.ops)
    ({'add': 108, 'div': 12, 'mul': 120}, {'add': 40, 'mul': 24})
    """
    lay = ctx.layer
    n = prod(lay.normalized_shape)
    rows = exact_div(ctx.n_in, n)
    affine = lay.elementwise_affine
    dgrad = wgrad = Cost()
    if ctx.need:
        dgrad = _elementwise(_norm_backward_ops(rows, n, affine), 2 * ctx.n_in, ctx.n_in)
    if affine:
        add = _reduce(n, rows) * (2 if lay.bias else 1)
        mul = ctx.n_in
        if not ctx.need:  # form x_hat = (x - mu)*rstd
            add, mul = as_count(add + ctx.n_in), as_count(mul + ctx.n_in)
        wgrad = _elementwise(_ops(add=add, mul=mul), 2 * ctx.n_in, n * (2 if lay.bias else 1))
    return Grads(dgrad, wgrad)


def _rows(ctx: Ctx, normalized: tuple) -> Dim:
    return exact_div(ctx.n_in, prod(normalized))


def _layernorm_params(ctx: Ctx) -> tuple:
    lay = ctx.layer
    if not lay.elementwise_affine:
        return ()
    w = tuple(lay.normalized_shape)
    return (w, w) if lay.bias else (w,)


register_backward(
    LayerNorm, grads=layernorm_grads,
    saved=lambda ctx: (IN(0), NEW(_rows(ctx, ctx.layer.normalized_shape), "mean", "fp32"),
                       NEW(_rows(ctx, ctx.layer.normalized_shape), "rstd", "fp32")),
    korthikanti=_SAVE_INPUT, params=_layernorm_params, tools={FCM: _fcm_zero}, tp="norm",
    description="dx = rstd (g - mean g - x_hat mean(g x_hat))")


def rmsnorm_grads(ctx: Ctx) -> Grads:
    """RMSNorm backward as PyTorch 2.13 evaluates ``torch.nn.RMSNorm`` (the composite
    ``h = x*rsqrt(mean(x^2) + eps)``, ``y = h*w``), per row of ``N`` elements:

    - ``dh = dy*w`` (N mul, affine); ``dw = sum_rows dy*h`` (``G*N`` mul, ``N*(G - 1)`` adds);
    - from ``h = x*r``: ``dx1 = dh*r`` (N mul), ``dr = sum dh*x`` (N mul, N - 1 adds);
    - ``rsqrt``: ``dm = -0.5*dr*r^3`` (4 mul: ``r^3`` as two, then two); ``mean``:
      ``dq = dm/N`` (1 div); ``x^2``: ``dx2 = 2x*dq`` (2N mul); ``dx = dx1 + dx2`` (N adds).

    dgrad per row: ``2N - 1`` adds, ``5N + 4`` muls (``4N + 4`` without affine), 1 div.

    >>> from layercalc import RMSNorm
    >>> g = rmsnorm_grads(Ctx(RMSNorm(4), ((3, 4),), (3, 4), 2))
    >>> dict(g.dgrad.ops), dict(g.wgrad.ops)
    ({'add': 42, 'div': 6, 'mul': 144}, {'add': 20, 'mul': 24})
    """
    lay = ctx.layer
    n = prod(lay.normalized_shape)
    rows = exact_div(ctx.n_in, n)
    affine = lay.elementwise_affine
    dgrad = wgrad = Cost()
    if ctx.need:
        dgrad = _elementwise(_ops(add=rows * (2 * n - 1), mul=rows * ((5 if affine else 4) * n + 4),
                                  div=rows), 2 * ctx.n_in, ctx.n_in)
    if affine:
        wgrad = _elementwise(_ops(add=_reduce(n, rows), mul=ctx.n_in), 2 * ctx.n_in, n)
    return Grads(dgrad, wgrad)


def _rmsnorm_saved(ctx: Ctx) -> tuple:
    rows = _rows(ctx, ctx.layer.normalized_shape)
    out = [IN(0), NEW(rows, "rsqrt(mean(x^2) + eps)")]
    if ctx.layer.elementwise_affine:
        out.append(NEW(ctx.n_in, "x*rsqrt(...) (for the weight gradient)"))
    return tuple(out)


register_backward(RMSNorm, grads=rmsnorm_grads, saved=_rmsnorm_saved, korthikanti=_SAVE_INPUT,
                  params=lambda ctx: ((tuple(ctx.layer.normalized_shape),)
                                      if ctx.layer.elementwise_affine else ()),
                  tools={FCM: _fcm_zero}, tp="norm",
                  description="autograd of x*rsqrt(mean(x^2)+eps)*w")


def groupnorm_grads(ctx: Ctx) -> Grads:
    """GroupNorm backward, ``B*num_groups`` groups of ``N = C*prod(spatial)/num_groups``:
    dgrad as `_norm_backward_ops` per group (per-channel ``gamma`` in ``g = dy*gamma``);
    wgrad ``dgamma_c = sum dy*x_hat`` and ``dbeta_c = sum dy`` over the ``B*prod(spatial)``
    elements of each channel: ``E`` muls and ``2*C*(B*prod(spatial) - 1)`` adds (``x_hat``
    shared with dgrad). PyTorch's kernel reduces per channel first; the adds are the same."""
    lay = ctx.layer
    groups = as_count(ctx.batch * lay.num_groups)
    n = exact_div(prod(ctx.inputs[0]), lay.num_groups)
    dgrad = wgrad = Cost()
    if ctx.need:
        dgrad = _elementwise(_norm_backward_ops(groups, n, lay.affine), 2 * ctx.n_in, ctx.n_in)
    if lay.affine:
        per_channel = as_count(ctx.batch * prod(ctx.inputs[0][1:]))
        add = 2 * _reduce(lay.num_channels, per_channel)
        mul = ctx.n_in
        if not ctx.need:
            add, mul = as_count(add + ctx.n_in), as_count(mul + ctx.n_in)
        wgrad = _elementwise(_ops(add=add, mul=mul), 2 * ctx.n_in, 2 * lay.num_channels)
    return Grads(dgrad, wgrad)


register_backward(
    GroupNorm, grads=groupnorm_grads,
    saved=lambda ctx: (IN(0), NEW(ctx.batch * ctx.layer.num_groups, "mean", "fp32"),
                       NEW(ctx.batch * ctx.layer.num_groups, "rstd", "fp32")),
    params=_channel_params, tools={FCM: _fcm_zero},
    description="as LayerNorm per group; per-channel affine gradients")


# -- activations -----------------------------------------------------------------------------------
#: Ops per element of each activation's input gradient, with what autograd saves (the
#: derivative formulas of derivatives.yaml and the kernels in aten/src/ATen/native/cpu/
#: Activation.cpp; a select is a cmp, both branches counted, as the forward rules).
_ACT_BACKWARD: dict[type, tuple[dict[str, int], str]] = {
    ReLU: ({"cmp": 1}, "output"),            # threshold_backward: y > 0 ? dy : 0
    ReLU6: ({"cmp": 2}, "input"),            # hardtanh_backward: 0 < x < 6 ? dy : 0
    LeakyReLU: ({"cmp": 1, "mul": 1}, "input"),   # x > 0 ? dy : slope*dy
    PReLU: ({"cmp": 1, "mul": 1}, "input"),  # x > 0 ? dy : a*dy
    ELU: ({"cmp": 1, "exp": 1, "mul": 2}, "input"),  # x > 0 ? dy : dy*alpha*exp(x)
    Sigmoid: ({"mul": 2, "add": 1}, "output"),   # dy*y*(1 - y)
    Tanh: ({"mul": 2, "add": 1}, "output"),      # dy*(1 - y*y)
    SiLU: ({"exp": 1, "add": 3, "div": 1, "mul": 3}, "input"),  # dy*s*(1 + x*(1 - s))
    Hardswish: ({"cmp": 2, "div": 1, "add": 1, "mul": 1}, "input"),  # dy*(x/3 + 0.5)
    Hardsigmoid: ({"cmp": 2, "mul": 1}, "input"),   # -3 < x < 3 ? dy/6 : 0
}
#: GELU by approximation (GeluBackward kernel): erf form ``dy*(cdf + x*pdf)`` with
#: ``cdf = 0.5*(1 + erf(x*M_SQRT1_2))``, ``pdf = kAlpha*exp(-0.5*x*x)``: 7 mul, 2 add, 1 erf,
#: 1 exp; tanh form (inner = kBeta*(x + kKappa*x^3), t = tanh(inner),
#: ``dy*(0.5*(1 + t) + 0.5x*(1 - t^2)*kBeta*(1 + 3*kKappa*x^2))``): 12 mul, 5 add, 1 tanh.
_GELU_BACKWARD = {"none": {"mul": 7, "add": 2, "erf": 1, "exp": 1},
                  "tanh": {"mul": 12, "add": 5, "tanh": 1}}


def activation_per_element(layer: Any) -> tuple[dict[str, int], str]:
    """(ops per element of the input gradient, ``"input"`` or ``"output"``: what is saved).

    >>> from layercalc import GELU, ReLU
    >>> activation_per_element(GELU("tanh"))
    ({'mul': 12, 'add': 5, 'tanh': 1}, 'input')
    >>> activation_per_element(ReLU())
    ({'cmp': 1}, 'output')
    """
    if isinstance(layer, GELU):
        return _GELU_BACKWARD[layer.approximate], "input"
    for cls in type(layer).__mro__:
        if cls in _ACT_BACKWARD:
            per, saved = _ACT_BACKWARD[cls]
            if cls is ELU and getattr(layer, "inplace", False):
                return {"cmp": 1, "add": 1, "mul": 1}, "output"  # dy*(y + alpha) from the result
            return per, saved
    raise KeyError(type(layer).__name__)


def activation_grads(ctx: Ctx) -> Grads:
    """Elementwise activation backward: ``dx = dy * f'(x)``, ops per element from
    `activation_per_element`; PReLU's slope gradient ``da = sum dy*x`` over the elements
    where ``x <= 0`` (the compare is shared): one mul per element and ``E - num_parameters``
    adds."""
    per, _ = activation_per_element(ctx.layer)
    n = ctx.n_in
    dgrad = _elementwise(_per_element(n, per), 2 * n, n) if ctx.need else Cost()
    wgrad = Cost()
    if isinstance(ctx.layer, PReLU):
        p = ctx.layer.num_parameters
        wgrad = _elementwise(_ops(mul=n, add=n - p, cmp=0 if ctx.need else n), 2 * n, p)
    return Grads(dgrad, wgrad)


def _inplace(ctx: Ctx) -> bool:
    return bool(getattr(ctx.layer, "inplace", False))


def _activation_saved(ctx: Ctx) -> tuple:
    _, what = activation_per_element(ctx.layer)
    if what == "output" or _inplace(ctx):  # an in-place op saves its result
        return (OUT(),)
    return (IN(0),)


for _cls in list(_ACT_BACKWARD) + [GELU]:
    register_backward(
        _cls, grads=activation_grads, saved=_activation_saved, view=_inplace,
        korthikanti=_SAVE_INPUT, tp="pointwise", tools={FCM: _fcm_zero},
        params=(lambda ctx: ((ctx.layer.num_parameters,),)) if _cls is PReLU else _none,
        description="dx = dy * f'(x)")


def softmax_grads(ctx: Ctx) -> Grads:
    """Softmax backward (``_softmax_backward_data``): ``dx = y*(dy - sum(dy*y))`` per slice
    of ``n``: ``2n`` muls, ``2n - 1`` adds. LogSoftmax: ``dx = dy - exp(y)*sum(dy)``:
    ``2n - 1`` adds, ``n`` exps, ``n`` muls. Both save their output.

    >>> from layercalc import Softmax, LogSoftmax
    >>> dict(softmax_grads(Ctx(Softmax(dim=-1), ((2, 5),), (2, 5))).dgrad.ops)
    {'add': 18, 'mul': 20}
    >>> dict(softmax_grads(Ctx(LogSoftmax(dim=-1), ((2, 5),), (2, 5))).dgrad.ops)
    {'add': 18, 'exp': 10, 'mul': 10}
    """
    if not ctx.need:
        return Grads()
    lay = ctx.layer
    shape = ctx.inputs[0]
    n = shape[lay._axis(shape)]
    total = ctx.n_in
    slices = exact_div(total, n)
    if isinstance(lay, LogSoftmax):
        ops = _ops(add=slices * (2 * n - 1), exp=total, mul=total)
    else:
        ops = _ops(add=slices * (2 * n - 1), mul=2 * total)
    return Grads(dgrad=_elementwise(ops, 2 * total, total))


register_backward(Softmax, LogSoftmax, grads=softmax_grads, saved=lambda ctx: (OUT(),),
                  korthikanti=lambda ctx: (OUT(),), tp="pointwise", tools={FCM: _fcm_zero},
                  description="y (dy - sum dy y); LogSoftmax dy - exp(y) sum dy")


# -- dropout and stochastic depth ------------------------------------------------------------------
def _dropout_active(ctx: Ctx) -> bool:
    p = ctx.layer.p
    return p != 0  # p = 0 returns the input itself in training too (at::dropout)


def _dropout_mask_elements(ctx: Ctx) -> Dim:
    """Dropout1d/2d/3d drop whole channels: one mask entry per (sample, channel)."""
    if type(ctx.layer) is Dropout:
        return ctx.n_in
    return as_count(ctx.batch * ctx.inputs[0][0])


def dropout_train_forward(ctx: Ctx) -> Cost:
    """Dropout in training mode (eval mode is the identity): a Bernoulli mask is drawn (random
    number generation is not an op kind here: not counted), scaled by ``1/(1 - p)`` (one div
    per mask entry) and multiplied in (one mul per element). ``p = 0`` is the identity in
    training too (PyTorch returns the input). Dropout1d/2d/3d draw one entry per channel."""
    if not _dropout_active(ctx):
        return Cost()
    m = _dropout_mask_elements(ctx)
    return Cost(ops=_ops(div=m, mul=ctx.n_in), act_reads=as_count(ctx.n_in + m),
                writes=as_count(ctx.n_in + m))


def dropout_grads(ctx: Ctx) -> Grads:
    """``dx = dy*mask/(1 - p)`` with the saved, already scaled mask: one mul per element."""
    if not ctx.need or not _dropout_active(ctx):
        return Grads()
    m = _dropout_mask_elements(ctx)
    return Grads(dgrad=_elementwise(_ops(mul=ctx.n_in), ctx.n_in + m, ctx.n_in))


def _dropout_saved(ctx: Ctx) -> tuple:
    if not _dropout_active(ctx):
        return ()
    if type(ctx.layer) is Dropout:
        # CUDA: native_dropout keeps a bool mask; CPU: _dropout_impl keeps the scaled noise
        # in the input's dtype ("mask" resolves per mode)
        return (NEW(ctx.n_in, "dropout mask", "mask"),)
    return (NEW(_dropout_mask_elements(ctx), "channel dropout noise"),)


register_backward(
    Dropout, grads=dropout_grads, train_forward=dropout_train_forward, saved=_dropout_saved,
    view=lambda ctx: not _dropout_active(ctx), tp="pointwise", tools={FCM: _fcm_zero},
    korthikanti=lambda ctx: ((NEW(_dropout_mask_elements(ctx), "dropout mask", "bool"),)
                             if _dropout_active(ctx) else ()),
    description="mask multiply, mask saved")


def _sd_noise(ctx: Ctx) -> Dim:
    return ctx.batch if ctx.layer.mode == "row" else 1


def stochastic_depth_train_forward(ctx: Ctx) -> Cost:
    """torchvision's ``stochastic_depth`` in training: ``noise = bernoulli(1 - p)`` of shape
    ``(B, 1, ...)`` ("row") or ``(1, ...)`` ("batch"), ``noise /= 1 - p`` (one div per
    noise entry), ``x*noise`` (one mul per element). ``p = 0`` is the identity."""
    if ctx.layer.p == 0:
        return Cost()
    k = _sd_noise(ctx)
    return Cost(ops=_ops(div=k, mul=ctx.n_in), act_reads=as_count(ctx.n_in + k), writes=ctx.n_in)


register_backward(
    StochasticDepth, train_forward=stochastic_depth_train_forward,
    grads=lambda ctx: (Grads(dgrad=_elementwise(_ops(mul=ctx.n_in), ctx.n_in, ctx.n_in))
                       if ctx.need and ctx.layer.p != 0 else Grads()),
    saved=lambda ctx: (NEW(_sd_noise(ctx), "stochastic depth noise"),) if ctx.layer.p != 0 else (),
    view=lambda ctx: ctx.layer.p == 0, tp="pointwise", tools={FCM: _fcm_zero},
    description="dx = dy*noise")


# -- views, copies and merges ----------------------------------------------------------------------
_NO_GRADS = (lambda ctx: Grads())

#: Layers whose backward is a view, a copy or a slice of the gradient: no arithmetic.
for _cls, _view in ((Identity, True), (Flatten, True), (Reshape, True), (Select, True),
                    (Transpose, True), (Permute, True), (Slice, True), (Roll, False),
                    (ChannelShuffle, False), (_PadNd, False), (Concat, False)):
    register_backward(_cls, grads=_NO_GRADS, view=_view, tp="pointwise",
                      korthikanti=_none, tools={FCM: _fcm_zero},
                      description="a view or a copy: the gradient is moved, not computed")


def _broadcast_reduce(ctx: Ctx, i: int) -> Dim:
    """Adds to sum a broadcast input's gradient back to its shape: ``n_out - n_in``."""
    return as_count(ctx.n_out - ctx.n(ctx.inputs[i]))


def add_grads(ctx: Ctx) -> Grads:
    """``a + b + ...``: each input's gradient is ``dy`` (no op), reduced over broadcast axes
    (``n_out - n_in`` adds). The fan-out of a tensor used twice (a residual's input) is
    accumulated at its producer, not here."""
    adds = sum((_broadcast_reduce(ctx, i) for i, need in enumerate(ctx.needs) if need), 0)
    return Grads(dgrad=_elementwise(_ops(add=adds), ctx.n_out, sum(ctx.n(s) for s in ctx.inputs)))


def mul_grads(ctx: Ctx) -> Grads:
    """``a*b*...`` (``k`` inputs): ``da = dy*(product of the others)``: ``(k - 1)*n_out``
    muls per input needing a gradient, plus the broadcast reduction (``n_out - n_in`` adds).
    Autograd saves the other inputs of each input that needs a gradient."""
    k = len(ctx.inputs)
    mul = add = 0
    for i, need in enumerate(ctx.needs):
        if need:
            mul = as_count(mul + (k - 1) * ctx.n_out)
            add = as_count(add + _broadcast_reduce(ctx, i))
    return Grads(dgrad=_elementwise(_ops(mul=mul, add=add), k * ctx.n_out,
                                    sum(ctx.n(s) for s in ctx.inputs)))


def _mul_saved(ctx: Ctx) -> tuple:
    keep = set()
    for i, need in enumerate(ctx.needs):
        if need:
            keep |= {j for j in range(len(ctx.inputs)) if j != i}
    return tuple(IN(j) for j in sorted(keep))


register_backward(Add, grads=add_grads, tp="pointwise", korthikanti=_none,
                  tools={FCM: _fcm_zero}, description="gradients pass through")
register_backward(Mul, grads=mul_grads, saved=_mul_saved, korthikanti=_mul_saved, tp="pointwise",
                  tools={FCM: _fcm_zero}, description="da = dy*b, db = dy*a")


def upsample_grads(ctx: Ctx) -> Any:
    """Nearest upsampling backward (``upsample_nearest*d_backward``): every output gradient is
    added into its source element: per channel and sample ``prod(out) - prod(covered)``
    adds, ``covered = min(n_in, n_out)`` per axis (every source is hit when enlarging,
    ``n_out`` distinct sources when shrinking). Interpolating modes are not counted (listed)."""
    lay = ctx.layer
    if lay._mode not in ("nearest", "nearest-exact"):
        return NotCounted(f"{lay.kind}(mode={lay._mode!r}): interpolating backward not counted")
    if not ctx.need:
        return Grads()
    covered = prod(smin(n, o) for n, o in zip(ctx.inputs[0][1:], ctx.output[1:]))
    adds = as_count(ctx.batch * ctx.inputs[0][0] * (prod(ctx.output[1:]) - covered))
    return Grads(dgrad=_elementwise(_ops(add=adds), ctx.n_out, ctx.n_in))


register_backward(_Resize, grads=upsample_grads, tp="pointwise",
                  korthikanti=_none, tools={FCM: _fcm_zero},
                  description="scatter-add of dY into the sources")


# -- pooling ---------------------------------------------------------------------------------------
def maxpool_grads(ctx: Ctx) -> Grads:
    """Max pooling backward (``max_pool*d_with_indices_backward``): each output gradient is
    added at its saved argmax index in a zeroed input gradient: one add per output element
    (the minimal count depends on which inputs are maxima of several windows). Saves the input
    and the indices (int64, one per output)."""
    if not ctx.need:
        return Grads()
    return Grads(dgrad=_elementwise(_ops(add=ctx.n_out), 2 * ctx.n_out, ctx.n_in))


def _windows_covered(n: Dim, k: Dim, s: Dim, p: Dim, last: Dim) -> Dim:
    """Input positions of one axis inside at least one pooling window (no dilation)."""
    if all(type(v) is int for v in (n, k, s, p, last)):
        hit = {j * s - p + t for j in range(last // s + 1) for t in range(k)}
        return sum(1 for i in hit if 0 <= i < n)
    if truth(to_expr(k) >= s) is True:  # windows touch or overlap: one interval
        return as_count(smin(n, as_count(sp.floor(to_expr(last) / s) * s - p + k)))
    return valid_taps(n, k, s, p, 1, last)  # windows never overlap: every valid tap is distinct


def avgpool_grads(ctx: Ctx) -> Grads:
    """Average pooling backward (``avg_pool*d_backward``): each output gradient is divided by
    its window's divisor (one div per output) and added to every valid tap of its window:
    per axis, ``adds = valid taps - inputs covered by a window`` (an input in ``m`` windows
    needs ``m - 1`` adds), times channels and batch. Saves its input."""
    if not ctx.need:
        return Grads()
    lay = ctx.layer
    x = ctx.inputs[0]
    taps: Dim = 1
    covered: Dim = 1
    for n, k, s, p in zip(x[1:], lay.kernel_size, lay.stride, lay.padding):
        last = pool_last_start(n, k, s, p, 1, lay.ceil_mode)
        taps = taps * valid_taps(n, k, s, p, 1, last)
        covered = covered * _windows_covered(n, k, s, p, last)
    c = as_count(ctx.batch * x[0])
    return Grads(dgrad=_elementwise(_ops(div=ctx.n_out, add=c * (taps - covered)),
                                    ctx.n_out, ctx.n_in))


def adaptive_avgpool_grads(ctx: Ctx) -> Grads:
    """Adaptive average pooling backward: one div per output, then each input adds the
    contributions of the windows covering it (windows cover every input): ``adds = window
    taps - inputs``. A global pool (output 1) runs ``mean``, whose backward is the same
    count (one div, then a broadcast)."""
    if not ctx.need:
        return Grads()
    x, y = ctx.inputs[0], ctx.output
    taps: Dim = 1
    for n, m in zip(x[1:], ctx.layer.output_size):
        taps = taps * (n if m is None else adaptive_window_sum(n, m))
    c = as_count(ctx.batch * x[0])
    return Grads(dgrad=_elementwise(_ops(div=ctx.n_out, add=c * (taps - prod(x[1:]))),
                                    ctx.n_out, ctx.n_in))


def _global(ctx: Ctx) -> bool:
    return all(m is not None and type(m) is int and m == 1 for m in ctx.layer.output_size)


register_backward(_MaxPoolNd, _AdaptiveMaxPoolNd, grads=maxpool_grads,
                  saved=lambda ctx: (IN(0), NEW(ctx.n_out, "argmax indices", "int64")),
                  tp="pointwise", tools={FCM: _fcm_zero},
                  description="scatter-add of dY at the argmax indices")
register_backward(_AvgPoolNd, grads=avgpool_grads, saved=_SAVE_INPUT, tp="pointwise",
                  tools={FCM: _fcm_zero}, description="dY/divisor spread over each window")
register_backward(_AdaptiveAvgPoolNd, grads=adaptive_avgpool_grads,
                  saved=lambda ctx: () if _global(ctx) else (IN(0),), tp="pointwise",
                  tools={FCM: _fcm_zero}, description="dY/window spread over each window")


# -- attention -------------------------------------------------------------------------------------
def _visible_cols(L: Dim, S: Dim, causal: bool, window: Dim | None) -> Dim:
    """Keys seen by at least one query (see `visible_scores`): all ``S`` without a window,
    ``min(S, L + window - 1)`` with one."""
    if not causal or window is None:
        return S
    return smin(S, as_count(L + window - 1))


def attention_core_grads(h: Dim, hkv: Dim, d: Dim, L: Dim, S: Dim, causal: bool,
                         window: Dim | None, batch: Dim, needs: tuple) -> Cost:
    """Backward of ``O = softmax(Q K^T/sqrt(d) + mask) V`` per head, counting only the visible
    scores (as the forward does): with ``V`` visible pairs, ``R`` rows and ``C`` columns with
    at least one visible pair (`visible_scores`)::

        dV = P^T dO              MACs V*d, dots H_kv*C*d     (GQA: the group's heads summed)
        dP = dO V^T              MACs V*d, dots V            (only visible scores)
        dS = P*(dP - rowsum(P*dP))   2V mul, 2V - R add      (softmax backward)
        scale 1/sqrt(d)          V mul
        dQ = dS K                MACs V*d, dots R*d
        dK = dS^T Q              MACs V*d, dots H_kv*C*d

    times ``H`` (MACs) and the batch. dP, dS and the scale are needed when the query or the
    key needs a gradient. Fused kernels (flash attention) recompute ``P`` in the backward;
    that recomputation is inside the kernel and is not counted here.
    """
    nq, nk, nv = (list(needs) + [True, True, True])[:3]
    v, r = visible_scores(L, S, causal, window)
    c = _visible_cols(L, S, causal, window)
    macs = dots = 0
    ops: dict = {}
    if nv:
        macs, dots = macs + h * v * d, dots + hkv * c * d
    if nq or nk:
        macs, dots = macs + h * v * d, dots + h * v
        ops = {"mul": h * 3 * v, "add": h * (2 * v - r)}
    if nq:
        macs, dots = macs + h * v * d, dots + h * r * d
    if nk:
        macs, dots = macs + h * v * d, dots + hkv * c * d
    return Cost(macs=as_count(batch * macs), dots=as_count(batch * dots),
                ops={k: as_count(batch * x) for k, x in ops.items()})


def _sdpa_sizes(ctx: Ctx) -> tuple:
    q = ctx.inputs[0]
    kv = ctx.inputs[1] if len(ctx.inputs) > 1 else q
    return q[0], kv[0]


def sdpa_grads(ctx: Ctx) -> Grads:
    """`ScaledDotProductAttention` backward: `attention_core_grads` with the layer's heads,
    grouped KV heads, causal mask and window. Inputs: query, key, value (the value's producer
    is found by the dataflow). Memory: reads ``Q, K, V, O, dO``, writes ``dQ, dK, dV``.

    >>> from layercalc import ScaledDotProductAttention as SDPA
    >>> c = sdpa_grads(Ctx(SDPA(1, 2, causal=True), ((3, 2),), (3, 2), needs=(1, 1, 1))).dgrad
    >>> c.macs, c.dots, dict(c.ops)  # 6 visible scores, 3 rows, 3 columns
    (48, 24, {'add': 9, 'mul': 18})
    """
    lay = ctx.layer
    L, S = _sdpa_sizes(ctx)
    c = attention_core_grads(lay.num_heads, lay.num_kv_heads, lay.head_dim, L, S, lay.causal,
                             lay.window, ctx.batch, ctx.needs)
    q = ctx.n_in
    kv = as_count(ctx.batch * S * lay.num_kv_heads * lay.head_dim)
    return Grads(dgrad=Cost(macs=c.macs, dots=c.dots, ops=c.ops, act_reads=as_count(3 * q + 2 * kv),
                            writes=as_count(q + 2 * kv)))


def _sdpa_lse(ctx: Ctx, heads: Dim, L: Dim) -> Saved:
    return NEW(ctx.batch * heads * L, "logsumexp", "fp32")


def _sdpa_saved(ctx: Ctx) -> tuple:
    """Flash attention (CUDA, and CPU without dropout) saves the query, key, value, its
    output and the log-sum-exp of each row (fp32), not the ``L x S`` probabilities."""
    L, _ = _sdpa_sizes(ctx)
    return (IN(0, "query"), IN(1, "key"), IN(2, "value"), OUT("attention output"),
            _sdpa_lse(ctx, ctx.layer.num_heads, L))


def _korthikanti_core(ctx: Ctx, heads: Dim, L: Dim, S: Dim) -> tuple:
    """Korthikanti et al. 2022, section 4.1: the attention core stores ``Q`` and ``K`` for
    ``QK^T``, the softmax output (``2as^2b`` bytes), its dropout mask (``as^2b``), the
    dropout output (``2as^2b``) and ``V``: every score, masks or not."""
    n = as_count(ctx.batch * heads * L * S)
    return (NEW(n, "softmax output"), NEW(n, "attention dropout mask", "bool"),
            NEW(n, "attention dropout output"))


register_backward(
    ScaledDotProductAttention, grads=sdpa_grads, saved=_sdpa_saved,
    korthikanti=lambda ctx: (IN(0, "query"), IN(1, "key"), IN(2, "value"),
                             *_korthikanti_core(ctx, ctx.layer.num_heads, *_sdpa_sizes(ctx))),
    tp="heads", merge_inputs=True, tools={FCM: _fcm_zero},
    description="dV = P^T dO, dP = dO V^T, softmax backward, dQ = dS K, dK = dS^T Q")


def _mha_shapes(ctx: Ctx) -> tuple:
    x = ctx.inputs[0]
    k = ctx.inputs[1] if len(ctx.inputs) > 1 else x
    v = ctx.inputs[2] if len(ctx.inputs) > 2 else k
    return x, k, v


def _mha_self(ctx: Ctx) -> bool:
    return len(ctx.inputs) == 1


def mha_grads(ctx: Ctx) -> Grads:
    """``torch.nn.MultiheadAttention`` backward, as its parts: the input projections
    (`linear_grads`: ``q`` from the query, ``k``/``v`` from the key/value; one packed
    ``(3E, E)`` projection for self-attention, the same count), `attention_core_grads` over
    ``num_heads`` heads of ``E/num_heads`` (its causal field; ``add_bias_kv``/
    ``add_zero_attn`` add a key position), and ``out_proj``. The input gradients of a
    self-attention input used three times sum inside the packed projection (the same adds as
    three projections and two sums). ``bias_k``/``bias_v`` gradients: ``2E(B - 1)`` adds."""
    lay = ctx.layer
    e = lay.embed_dim
    x, k, v = _mha_shapes(ctx)
    needs = tuple(ctx.needs) + (ctx.needs[-1],) * (3 - len(ctx.needs))
    b = lay.bias
    s = as_count(k[0] + int(lay.add_bias_kv) + int(lay.add_zero_attn))
    parts = [
        linear_grads(Ctx(Linear(e, e, b), (x,), (x[0], e), ctx.batch, (needs[0],))),
        linear_grads(Ctx(Linear(lay.kdim, e, b), (k,), (k[0], e), ctx.batch, (needs[1],))),
        linear_grads(Ctx(Linear(lay.vdim, e, b), (v,), (v[0], e), ctx.batch, (needs[2],))),
        linear_grads(Ctx(Linear(e, e, b), ((x[0], e),), (x[0], e), ctx.batch, (True,))),
    ]
    core = attention_core_grads(lay.num_heads, lay.num_heads, lay.head_dim, x[0], s,
                                lay.causal, None, ctx.batch, (True, True, True))
    # one input feeding several projections (self-attention's x three times, the memory as
    # key and value) gets the sum of their input gradients (a packed projection does the
    # same adds inside its dot products)
    if _mha_self(ctx):
        fan = as_count(2 * ctx.batch * x[0] * x[1]) if needs[0] else 0
    else:
        fan = as_count(ctx.batch * k[0] * k[1]) if (needs[1] and needs[2]) else 0
    dgrad = Cost.sum([p.dgrad for p in parts] + [core, Cost(ops=_ops(add=fan))])
    wgrad = Cost.sum([p.wgrad for p in parts])
    if lay.add_bias_kv:
        wgrad = wgrad + Cost(ops=_ops(add=2 * e * (ctx.batch - 1)))
    return Grads(dgrad, wgrad)


def _mha_dropout(ctx: Ctx) -> bool:
    return ctx.layer.dropout > 0


def _mha_saved(ctx: Ctx) -> tuple:
    """As ``F.multi_head_attention_forward(..., need_weights=False)`` (how PyTorch's
    TransformerEncoderLayer and torchvision's ViT call it): the input of the packed
    projection (a transposed copy when ``batch_first``), the packed ``q|k|v`` projection
    (``3LE``), then the attention core: flash (``pytorch``; ``pytorch-cpu`` without dropout)
    saves ``lse`` and its output (which ``out_proj`` saves too); with dropout on CPU the math
    path saves the scaled query and key, the probabilities, the dropout mask (input dtype) and
    the dropped-out probabilities, and ``out_proj`` a contiguous copy of the output."""
    lay = ctx.layer
    x, k, v = _mha_shapes(ctx)
    e, h, b = lay.embed_dim, lay.num_heads, ctx.batch
    n_q = as_count(b * x[0] * e)
    s = as_count(k[0] + int(lay.add_bias_kv) + int(lay.add_zero_attn))
    out: list[Saved] = []
    if _mha_self(ctx):
        out.append(NEW(n_q, "transposed input copy") if lay.batch_first else IN(0))
        out.append(NEW(3 * n_q, "packed q|k|v projection"))
    else:
        out += [NEW(n_q, "query copy") if lay.batch_first else IN(0),
                NEW(as_count(b * k[0] * lay.kdim), "key copy") if lay.batch_first else IN(1),
                NEW(n_q, "q projection"), NEW(as_count(2 * b * s * e), "k|v projection")]
    if ctx.mode == "pytorch-cpu" and _mha_dropout(ctx):
        p = as_count(b * h * x[0] * s)
        out += [NEW(n_q, "scaled query"), NEW(as_count(b * s * e), "scaled key"),
                NEW(p, "attention probabilities"), NEW(p, "attention dropout noise"),
                NEW(p, "dropped-out probabilities"), NEW(n_q, "attention output (copy)")]
    else:
        out += [NEW(n_q, "attention output"), _sdpa_lse(ctx, h, x[0])]
    return tuple(out)


def _mha_korthikanti(ctx: Ctx) -> tuple:
    lay = ctx.layer
    x, k, _ = _mha_shapes(ctx)
    n_q = as_count(ctx.batch * x[0] * lay.embed_dim)
    s = as_count(k[0] + int(lay.add_bias_kv) + int(lay.add_zero_attn))
    return (IN(0), NEW(3 * n_q, "q|k|v"), *_korthikanti_core(ctx, lay.num_heads, x[0], s),
            NEW(n_q, "attention output"))


def _fcm_mha_parts(ctx: Ctx) -> tuple:
    lay = ctx.layer
    x, k, v = _mha_shapes(ctx)
    b, e = ctx.batch, lay.embed_dim
    s = as_count(k[0] + int(lay.add_bias_kv) + int(lay.add_zero_attn))
    q_proj = as_count(2 * b * x[0] * e * e)
    kv_proj = as_count(2 * b * (k[0] * lay.kdim + v[0] * lay.vdim) * e)
    core = as_count(4 * b * x[0] * s * e) if _mha_dropout(ctx) else 0
    return q_proj, kv_proj, as_count(2 * b * x[0] * e * e), core


def _fcm_mha_forward(ctx: Ctx) -> Dim:
    """FlopCounterMode on a training forward called with ``need_weights=False``: the
    projections (``mm``/``addmm``) and, only with dropout (CPU falls back to the math path,
    two ``bmm``), the attention core; without dropout CPU runs the fused flash kernel, which
    the counter does not see."""
    q, kv, out, core = _fcm_mha_parts(ctx)
    return as_count(q + kv + out + core)


def _fcm_mha(ctx: Ctx) -> tuple:
    """Backward: every projection's weight gradient, the input projections' input gradients
    when needed, ``out_proj``'s input gradient, and the math path's four ``bmm``."""
    q, kv, out, core = _fcm_mha_parts(ctx)
    needs = tuple(ctx.needs) + (ctx.needs[-1],) * (3 - len(ctx.needs))
    dgrad = as_count((q if needs[0] else 0) + (kv if any(needs[1:]) else 0) + out + 2 * core)
    return dgrad, as_count(q + kv + out)


def _mha_params(ctx: Ctx) -> tuple:
    lay = ctx.layer
    e = lay.embed_dim
    if lay.kdim == e and lay.vdim == e:
        shapes: list = [(3 * e, e)]
    else:
        shapes = [(e, e), (e, lay.kdim), (e, lay.vdim)]
    if lay.bias:
        shapes.append((3 * e,))
    shapes.append((e, e))
    if lay.bias:
        shapes.append((e,))
    if lay.add_bias_kv:
        shapes += [(1, 1, e), (1, 1, e)]
    return tuple(shapes)


register_backward(MultiheadAttention, grads=mha_grads, saved=_mha_saved,
                  korthikanti=_mha_korthikanti, params=_mha_params, tp="mha", merge_inputs=True,
                  tools={FCM: _fcm_mha}, tool_forward={FCM: _fcm_mha_forward},
                  description="projections, attention core, out_proj")


def rotary_grads(ctx: Ctx) -> Grads:
    """RoPE backward: ``dq = dq'*cos + rotate_half^T(dq'*sin)``: 2 mul and 1 add per element of
    ``q`` and of ``k`` (as the forward)."""
    n = as_count(sum(ctx.n(s) for s, need in zip(ctx.inputs, ctx.needs) if need))
    return Grads(dgrad=_elementwise(_ops(mul=2 * n, add=n), 2 * n, n))


def _rotary_saved(ctx: Ctx) -> tuple:
    """The cos and sin tables (computed once per forward, shared by every layer: ``L*d``
    each), saved by ``q*cos`` and ``rotate_half(q)*sin``."""
    L = ctx.inputs[0][0]
    n = as_count(L * ctx.layer.head_dim)
    return (NEW(n, "RoPE cos table", key="rope:cos"), NEW(n, "RoPE sin table", key="rope:sin"))


register_backward(RotaryEmbedding, grads=rotary_grads, saved=_rotary_saved,
                  korthikanti=_none, tp="heads", tools={FCM: _fcm_zero},
                  description="dq = dq' cos + rotate_half^T(dq' sin)")


# -- recurrent layers ------------------------------------------------------------------------------
def _rnn_layers(lay: Any) -> list[tuple[Dim, Dim, Dim]]:
    """(input size, hidden size, recurrent width) of each stacked layer (one direction)."""
    h = lay.hidden_size
    r = lay._h_out()
    first, rest = lay._layer_inputs()
    return [(first, h, r)] + [(rest, h, r)] * int(lay.num_layers - 1)


def _cell_backward_ops(kind: str, h: Dim, T: Dim, nonlinearity: str = "tanh") -> dict:
    """Elementwise ops of one direction of one layer through time, batch 1 (see
    `recurrent_grads`)."""
    if kind == "LSTM":
        return _ops(mul=16 * h * T - h, add=7 * h * T - 2 * h)
    if kind == "GRU":
        return _ops(mul=10 * h * T, add=6 * h * T - 2 * h)
    if nonlinearity == "relu":
        return _ops(cmp=h * T, add=h * (T - 1))
    return _ops(mul=2 * h * T, add=2 * h * T - h)


def recurrent_grads(ctx: Ctx) -> Grads:
    """RNN/LSTM/GRU backward through time (back-propagation through time, Werbos 1990), as
    autograd runs PyTorch's native cells (aten/src/ATen/native/RNN.cpp), per layer and
    direction, ``T`` steps, ``G`` gates of ``h`` units, input ``I``, recurrent width ``R``:

    - each step's hidden gradient sums the output's and the next step's (``h`` adds, ``T - 1``
      steps); the pre-activation gradients:

      * RNN: ``dz = dh*(1 - h^2)`` (2 mul, 1 add; ReLU: 1 cmp);
      * LSTM: ``do = dh*tanh(c)``, ``d tanh(c) = dh*o``, ``dc = d tanh(c)*(1 - tanh^2 c) +
        dc_next``, ``df = dc*c_prev``, ``di = dc*g``, ``dg = dc*i``, ``dc_prev = dc*f`` (not at
        ``t = 0``), sigmoid' ``s(1 - s)`` for i, f, o and tanh' for g: per step 16 mul, 7 add
        (``-h`` mul in total for ``c_0``, ``-2h`` add for the last step);
      * GRU (``h' = (h - n)*z + n``, ``n = tanh(gi_n + r*gh_n)``): ``da = dh'*z``,
        ``dz = dh'*(h - n)``, ``dn = dh' - da``, tanh', ``dr = du*gh_n``, ``dgh_n = du*r``,
        sigmoid' for r and z, and ``dh_prev = da + W_hh^T dgh``: 10 mul, 6 add per step
        (``-2h`` add in total);

    - ``dh_prev = W_hh^T dgates``: ``B*G*h*R`` MACs, ``B*R`` dots per step for ``t >= 1``
      (``h_0`` needs no gradient); ``dx = W_ih^T dgates`` for every step when the input needs
      a gradient (MACs ``T*B*G*h*I``, dots ``T*B*I``); a bidirectional layer sums the two
      directions' input gradients (``T*B*I`` adds); with ``proj_size`` ``P``:
      ``dm = W_hr^T dh`` (MACs ``B*P*h``, dots ``B*h`` per step);
    - wgrad: ``dW_ih`` and ``dW_hh`` one dot product of ``T*B`` terms per weight (MACs as
      forward), ``W_hr`` likewise; each bias ``G*h*(T*B - 1)`` adds.

    >>> from layercalc import RNN
    >>> g = recurrent_grads(Ctx(RNN(2, 3), ((4, 2),), (4, 3), batch=1, needs=(False,)))
    >>> g.dgrad.macs, g.dgrad.dots, dict(g.dgrad.ops), g.wgrad.macs
    (27, 9, {'add': 21, 'mul': 24}, 60)
    """
    lay = ctx.layer
    T, b = ctx.inputs[0][0], ctx.batch
    g = lay.gates
    dirs = lay.num_directions
    nonlin = getattr(lay, "nonlinearity", "tanh")
    p = getattr(lay, "proj_size", 0)
    proj = not (type(p) is int and p == 0)
    dmacs = ddots = wmacs = wdots = 0
    dops: dict = {}
    wadd = 0
    for layer_i, (i, h, r) in enumerate(_rnn_layers(lay)):
        for _ in range(dirs):
            for k, v in _cell_backward_ops(lay.kind, h, T, nonlin).items():
                dops[k] = as_count(dops.get(k, 0) + b * v)
            dmacs += (T - 1) * b * g * h * r
            ddots += (T - 1) * b * r
            if proj:
                dmacs += T * b * p * h
                ddots += T * b * h
                wmacs += T * b * p * h
                wdots += p * h
            need_x = ctx.need if layer_i == 0 else True
            if need_x:
                dmacs += T * b * g * h * i
                ddots += T * b * i
            wmacs += T * b * g * h * (i + r)
            wdots += g * h * (i + r)
            if lay.bias:
                wadd += 2 * g * h * (T * b - 1)
        if dirs == 2 and (ctx.need if layer_i == 0 else True):
            dops["add"] = as_count(dops.get("add", 0) + T * b * i)
    drop = _inner_dropout_elements(ctx)
    if drop:
        dops["mul"] = as_count(dops.get("mul", 0) + drop)
    dgrad = Cost(macs=as_count(dmacs), dots=as_count(ddots), ops=dops, act_reads=2 * ctx.n_out,
                 writes=ctx.n_in)
    wgrad = Cost(macs=as_count(wmacs), dots=as_count(wdots), ops=_ops(add=wadd),
                 act_reads=ctx.n_out + ctx.n_in)
    return Grads(dgrad, wgrad)


def _recurrent_saved(ctx: Ctx) -> tuple:
    """What autograd saves for PyTorch's native cells (RNN.cpp; CPU LSTM needs oneDNN off,
    ``torch.backends.mkldnn.flags(enabled=False)``: its oneDNN kernel keeps an opaque
    workspace instead), per layer and direction: the layer input (the projection over all
    steps saves it: a transposed copy of a batch-first input), ``h_0`` (and ``c_0``), and per
    step: RNN ``h_t``; LSTM the gate buffer (``4h``), ``tanh(c_t)``, and ``c_t``, ``h_t`` for
    the next step (``t < T - 1``); GRU the hidden-gate buffer (``3h``), the new gate, the
    reset-scaled hidden gate, ``h - n``, and ``h_t`` for the next step."""
    lay = ctx.layer
    T, b = ctx.inputs[0][0], ctx.batch
    out: list[Saved] = []
    for layer_i, (i, h, r) in enumerate(_rnn_layers(lay)):
        if layer_i == 0:
            if not lay.batch_first or (type(b) is int and b == 1):
                out.append(IN(0))  # time-major already (a batch of one transposes to a view)
            else:  # each direction's input projection copies the transposed input
                out += [NEW(b * T * i, "input copy (time-major)")] * lay.num_directions
        else:
            out.append(NEW(b * T * i, f"layer {layer_i} input"))
            if lay.dropout > 0:
                out.append(NEW(b * T * i, f"layer {layer_i} dropout mask", "mask"))
        for _ in range(lay.num_directions):
            if lay.kind == "LSTM":
                per_step = 4 * h + h
                out.append(NEW(b * (r + h), "h_0, c_0"))
                out.append(NEW(b * (T * per_step + (T - 1) * (h + r)), "LSTM gates and states"))
                if not (type(lay.proj_size) is int and lay.proj_size == 0):
                    out.append(NEW(b * T * h, "o*tanh(c) (projection input)"))
            elif lay.kind == "GRU":
                out.append(NEW(b * h, "h_0"))
                out.append(NEW(b * (T * 6 * h + (T - 1) * h), "GRU gates and states"))
            else:
                out.append(NEW(b * h, "h_0"))
                out.append(NEW(b * T * h, "h_t"))
    return tuple(out)


def _fcm_recurrent(ctx: Ctx) -> tuple:
    """FlopCounterMode on CPU: LSTM runs as one ``aten.lstm`` (oneDNN) and counts 0; RNN and
    GRU run PyTorch's native cells: backward ``mm`` for ``dW_ih`` (``2*T*B*G*h*I``),
    ``dW_hh`` (``2*T*B*G*h*R``), ``dh`` (``2*(T - 1)*B*G*h*R``) and, when needed, ``dx``."""
    lay = ctx.layer
    if lay.kind == "LSTM":
        return 0, 0
    T, b, g = ctx.inputs[0][0], ctx.batch, lay.gates
    d = w = 0
    for layer_i, (i, h, r) in enumerate(_rnn_layers(lay)):
        for _ in range(lay.num_directions):
            w += 2 * T * b * g * h * (i + r)
            d += 2 * (T - 1) * b * g * h * r
            if ctx.need if layer_i == 0 else True:
                d += 2 * T * b * g * h * i
    return as_count(d), as_count(w)


def _recurrent_params(ctx: Ctx) -> tuple:
    lay = ctx.layer
    out = []
    p = getattr(lay, "proj_size", 0)
    for i, h, r in _rnn_layers(lay):
        for _ in range(lay.num_directions):
            out += [(lay.gates * h, i), (lay.gates * h, r)]
            if lay.bias:
                out += [(lay.gates * h,), (lay.gates * h,)]
            if not (type(p) is int and p == 0):
                out.append((p, h))
    return tuple(out)




def _inner_dropout_elements(ctx: Ctx) -> Dim:
    """Elements of the inner layers' outputs that inter-layer dropout masks (training mode,
    ``dropout > 0``, ``num_layers > 1``)."""
    lay = ctx.layer
    if not (lay.dropout > 0) or int(lay.num_layers) < 2:
        return 0
    return as_count(ctx.batch * ctx.inputs[0][0] * lay._layer_inputs()[1] * (lay.num_layers - 1))


def recurrent_train_forward(ctx: Ctx) -> Cost:
    """Recurrent layers in training: the eval forward, plus the inter-layer dropout: its mask
    scaled (1 div) and multiplied in (1 mul) per element of each inner layer's output. Its
    backward is 1 mul per element (in `recurrent_grads`)."""
    n = _inner_dropout_elements(ctx)
    base = ctx.eval if ctx.eval is not None else Cost()
    if type(n) is int and n == 0:
        return base
    return base + Cost(ops=_ops(div=n, mul=n))


register_backward(RNN, LSTM, GRU, grads=recurrent_grads, saved=_recurrent_saved,
                  train_forward=recurrent_train_forward, params=_recurrent_params,
                  tools={FCM: _fcm_recurrent}, description="back-propagation through time")
