"""Recurrent layers: RNN, LSTM and GRU, PyTorch semantics.

Input ``(T, input_size)`` (batch excluded; ``T`` may be a symbol), output
``(T, D*H_out)`` with ``D = 2`` if bidirectional and ``H_out = proj_size or hidden_size``.

Shared counting rules (for one time step, one layer, one direction; ``G`` gates of ``h``
units, ``I`` the layer's input size, ``R`` the recurrent size, ``h`` or ``proj_size``):

- ``W_ih x``: ``G*h`` dots of ``I`` terms; ``W_hh h``: ``G*h`` dots of ``R`` terms. So
  ``MACs = G*h*(I + R)`` and ``dots = 2*G*h``.
- PyTorch has **two** bias vectors, ``b_ih`` and ``b_hh``; each closes one of the two dot
  products, so ``bias_adds = 2*G*h`` with bias (0 without).
- The two matmul results are added elementwise: ``G*h`` adds (GRU: see `GRU`).
- Activations reuse `layercalc.layers.activation`: sigmoid = 1 exp + 1 add + 1 div, tanh = 1
  tanh, ReLU = 1 cmp, per element.
- The whole sequence costs ``T`` times one step. The first step's ``h_0 = 0`` (and
  ``c_0 = 0``) is *still computed*: ``W_hh h_0`` is counted like any other step, as PyTorch
  runs it.
- Layer ``k > 0`` reads ``D*H_out`` features. Inter-layer dropout is inference-free and not
  counted; concatenating directions is free.

Memory (elements, compulsory): weights read once (``weight_reads = params``); per layer and
direction the layer's input (``T*I``) is read and its output (``T*H_out``) written; hidden and
cell state are assumed to stay on chip. No reuse: one activation read per MAC
(``tap_reads = MACs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..cost import Cost
from ..dims import Dim, as_count, eq, fmt, ge, require, truth
from ..errors import LayerSpecError, ShapeError
from ._base import Layer, choice, dim, flag, probability

__all__ = ["RNN", "LSTM", "GRU"]

_NOTES = (
    "recurrent: cost = T x one time step; the first step's h0 = 0 is still computed",
    "recurrent: two bias vectors (b_ih, b_hh) as in PyTorch: 2 bias adds per gate element",
)


@dataclass(frozen=True)
class _RNNBase(Layer):
    """Shared shape checks and layer/direction bookkeeping. Subclasses define the fields and
    `gates`, `_step_ops` and `_h_out`."""

    gates: ClassVar[int] = 1

    def check(self) -> None:
        """Relations between fields (none here: ``dropout`` is a `probability` field,
        checked as PyTorch does, in [0, 1])."""

    # -- sizes -----------------------------------------------------------------------------
    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _h_out(self) -> Dim:
        return self.hidden_size

    def _layer_inputs(self) -> tuple[Dim, Dim]:
        """Input size of layer 0 and of every later layer."""
        return self.input_size, as_count(self.num_directions * self._h_out())

    # -- per layer and direction -------------------------------------------------------------
    def _cell_params(self, i: Dim) -> Dim:
        g, h, r = self.gates, self.hidden_size, self._h_out()
        p = g * h * i + g * h * r + (2 * g * h if self.bias else 0)
        return as_count(p + self._extra_params())

    def _extra_params(self) -> Dim:
        return 0

    def _extra_macs(self) -> tuple[Dim, Dim]:
        """(macs, dots) per step beyond the two gate matmuls (the LSTM projection)."""
        return 0, 0

    def _step_ops(self) -> dict[str, Dim]:
        raise NotImplementedError

    def _cell_step(self, i: Dim) -> Cost:
        """One time step of one layer in one direction, with input size `i`."""
        g, h, r = self.gates, self.hidden_size, self._h_out()
        xm, xd = self._extra_macs()
        macs = as_count(g * h * (i + r) + xm)
        return Cost(
            macs=macs,
            dots=as_count(2 * g * h + xd),
            bias_adds=as_count(2 * g * h) if self.bias else 0,
            ops=self._step_ops(),
            act_reads=i,
            writes=r,
            tap_reads=macs,
        )

    # -- Layer API ---------------------------------------------------------------------------
    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, 2, layout="(T, input_size)")
        if not (type(shape[1]) is int and shape[1] == self.input_size):
            require(eq(shape[1], self.input_size), self.kind,
                    lambda: f"expected {self.input_size} input features, got input shape "
                    f"{fmt(shape)}", error=ShapeError)
        return (shape[0], as_count(self.num_directions * self._h_out()))

    def cost(self, x: Any) -> Cost:
        shape = self._input(x, 2, layout="(T, input_size)")
        self.output_shape(shape)
        t = shape[0]
        i0, ik = self._layer_inputs()
        rest = as_count(self.num_layers - 1)
        step = self._cell_step(i0) + self._cell_step(ik) * rest
        step = step * self.num_directions
        params = as_count(self.num_directions * (self._cell_params(i0)
                                                 + rest * self._cell_params(ik)))
        seq = step * t
        return Cost(
            params=params,
            macs=seq.macs, dots=seq.dots, bias_adds=seq.bias_adds, ops=seq.ops,
            weight_reads=params, act_reads=seq.act_reads, writes=seq.writes,
            tap_reads=seq.tap_reads, notes=_NOTES,
        )


def _sigmoid(n: Dim) -> dict[str, Dim]:
    return {"exp": n, "add": n, "div": n}


def _merge(*ops: dict[str, Dim]) -> dict[str, Dim]:
    out: dict[str, Dim] = {}
    for o in ops:
        for k, v in o.items():
            out[k] = as_count(out.get(k, 0) + v)
    return out


@dataclass(frozen=True)
class RNN(_RNNBase):
    """Elman RNN ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, like ``torch.nn.RNN``.

    Per layer and direction (``I`` its input size, ``h = hidden_size``)::

        params = h*I + h*h + 2h          (2h only with bias)
        per step: MACs = h*(I + h), dots = 2h, bias adds = 2h,
                  ops  = h add (the two matmuls) + h tanh (or h cmp for 'relu')

    References
    ==========
    .. [1] PyTorch, ``torch.nn.RNN`` documentation ('Variables': weight_ih_l[k],
       weight_hh_l[k], bias_ih_l[k], bias_hh_l[k]).

    >>> c = RNN(10, 20).cost((5, 10))
    >>> c.params, c.macs, c.bias_adds, dict(c.ops)
    (640, 3000, 200, {'add': 100, 'tanh': 100})
    """

    input_size: Dim = dim()
    hidden_size: Dim = dim()
    num_layers: Dim = dim(1)
    nonlinearity: str = choice("tanh", ("tanh", "relu"))
    bias: bool = flag(True)
    batch_first: bool = flag(False)
    dropout: float = probability(0.0)
    bidirectional: bool = flag(False)

    gates = 1

    def _step_ops(self) -> dict[str, Dim]:
        h = self.hidden_size
        act = {"tanh": h} if self.nonlinearity == "tanh" else {"cmp": h}
        return _merge({"add": h}, act)


@dataclass(frozen=True)
class LSTM(_RNNBase):
    """Long short-term memory, like ``torch.nn.LSTM`` (optionally with ``proj_size``)::

        i, f, o = sigmoid(W_i* x + b_i* + W_h* h + b_h*),  g = tanh(... same ...)
        c_t = f*c_{t-1} + i*g,     h_t = o*tanh(c_t)   (then h_t = W_hr h_t if proj_size > 0)

    Per layer and direction, with ``I`` its input size, ``h = hidden_size``, ``P = proj_size``
    and ``H_out = P or h``::

        params = 4h*I + 4h*H_out + 8h  (+ h*P when P > 0; 8h only with bias)
        per step: MACs = 4h*(I + H_out) (+ P*h),  dots = 8h (+ P),  bias adds = 8h
                  ops  = 3 sigmoids (3h exp, 3h add, 3h div), 2h tanh (g and tanh(c)),
                         4h add (the two matmuls per gate), h add + 2h mul (c), h mul (h)
                  i.e. add 8h, mul 3h, exp 3h, div 3h, tanh 2h

    Bias: PyTorch has two bias vectors (``b_ih``, ``b_hh``), so 8h bias parameters and 8h bias
    adds per step. The single-bias textbook / Keras form is `textbook_params`.

    Seed 001's per-step MAC formula ``C_in*h*4 + h*h*4 + h*h`` has one ``h*h`` term more than
    these equations contain: the only matrix products are ``W_ih x`` (``4h*C_in``) and
    ``W_hh h`` (``4h*h``). The elementwise products ``f*c``, ``i*g``, ``o*tanh(c)`` are ``3h``
    multiplies, not ``h*h``. The extra term is therefore either (a) those elementwise
    products miscounted as an ``h x h`` product, or (b) a projection ``W_hr`` of size
    ``h x h``, i.e. ``proj_size = hidden_size``, which PyTorch forbids (``proj_size`` must be
    smaller). Neither is a MAC of a standard LSTM; this class counts ``4h*(C_in + h)`` and
    reports the elementwise work in ``ops``.

    References
    ==========
    .. [1] PyTorch, ``torch.nn.LSTM`` documentation ('Attributes': weight_ih_l[k] of shape
       ``(4*hidden_size, input_size)``, ``bias_ih_l[k]``, ``bias_hh_l[k]``, ``weight_hr_l[k]``).
    .. [2] Hochreiter & Schmidhuber, "Long Short-Term Memory", 1997.

    >>> lstm = LSTM(32, 64)
    >>> c = lstm.cost((10, 32))
    >>> c.params, c.macs, LSTM.textbook_params(32, 64)
    (25088, 245760, 24576)
    >>> dict(c.ops)
    {'add': 5120, 'div': 1920, 'exp': 1920, 'mul': 1920, 'tanh': 1280}
    """

    input_size: Dim = dim()
    hidden_size: Dim = dim()
    num_layers: Dim = dim(1)
    bias: bool = flag(True)
    batch_first: bool = flag(False)
    dropout: float = probability(0.0)
    bidirectional: bool = flag(False)
    proj_size: Dim = dim(0, minimum=0)

    gates = 4

    def check(self) -> None:
        super().check()
        p, h = self.proj_size, self.hidden_size
        if truth(eq(p, 0)) is not True:
            require(ge(h - 1, p), self.kind,
                    lambda: f"proj_size (={p}) must be smaller than hidden_size (={h})")

    def _h_out(self) -> Dim:
        p = self.proj_size
        return self.hidden_size if (type(p) is int and p == 0) else p

    def _extra_params(self) -> Dim:
        return as_count(self.proj_size * self.hidden_size)

    def _extra_macs(self) -> tuple[Dim, Dim]:
        p = self.proj_size
        return as_count(p * self.hidden_size), p

    def _step_ops(self) -> dict[str, Dim]:
        h = self.hidden_size
        return _merge(_sigmoid(3 * h), {"tanh": 2 * h}, {"add": 4 * h},
                      {"add": h, "mul": 2 * h}, {"mul": h})

    @classmethod
    def textbook_params(cls, input_size: Dim, hidden_size: Dim, bias: bool = False) -> Dim:
        """The textbook single-layer LSTM parameter count, ``4h*C_in + 4h*h`` (seed 001:
        ``C_in*4h + h*h*4``), plus ``4h`` for one bias vector per gate when `bias` is true
        (the Keras form ``4h*(C_in + h + 1)``). PyTorch's `LSTM` has ``8h`` biases instead.

        >>> LSTM.textbook_params(32, 64), LSTM.textbook_params(32, 64, bias=True)
        (24576, 24832)
        """
        return as_count(input_size * 4 * hidden_size + hidden_size * hidden_size * 4
                        + (4 * hidden_size if bias else 0))


@dataclass(frozen=True)
class GRU(_RNNBase):
    """Gated recurrent unit, like ``torch.nn.GRU``::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r*(W_hn h + b_hn))
        h' = (1 - z)*n + z*h

    ``h'`` is counted as PyTorch's kernel computes it, ``(h - n)*z + n`` (aten
    ``RNN.cpp``, ``GRUCell``): 2 add + 1 mul; the written form would be 2 add + 2 mul.

    Per layer and direction (``I`` its input size, ``h = hidden_size``)::

        params = 3h*I + 3h*h + 6h        (6h only with bias)
        per step: MACs = 3h*(I + h), dots = 6h, bias adds = 6h
                  ops  = 2 sigmoids (2h exp, 2h add, 2h div), 2h add (r, z matmul sums),
                         h mul + h add + h tanh (n), 2h add + h mul (h')
                  i.e. add 7h, mul 2h, exp 2h, div 2h, tanh h

    References
    ==========
    .. [1] PyTorch, ``torch.nn.GRU`` documentation (equations; 'Attributes').
    .. [2] Cho et al., 2014, https://arxiv.org/abs/1406.1078.

    >>> c = GRU(16, 32).cost((4, 16))
    >>> c.params, c.macs, dict(c.ops)
    (4800, 18432, {'add': 896, 'div': 256, 'exp': 256, 'mul': 256, 'tanh': 128})
    """

    input_size: Dim = dim()
    hidden_size: Dim = dim()
    num_layers: Dim = dim(1)
    bias: bool = flag(True)
    batch_first: bool = flag(False)
    dropout: float = probability(0.0)
    bidirectional: bool = flag(False)

    gates = 3

    def _step_ops(self) -> dict[str, Dim]:
        h = self.hidden_size
        return _merge(_sigmoid(2 * h), {"add": 2 * h}, {"mul": h, "add": h, "tanh": h},
                      {"add": 2 * h, "mul": h})
