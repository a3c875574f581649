"""State-space model layers: Mamba's selective scan and its depthwise causal convolution,
each over a sequence or as one recurrent decode step.

Shapes exclude the batch. The scan takes ``u`` as ``(L, d_inner)`` (tokens first, as the
projections around it); the convolution is channel-first ``(d_inner, L)``, as ``nn.Conv1d``.
`layercalc.MambaMixer` wires them into Mamba's block (Gu and Dao 2023; ``mamba_simple.py`` of
state-spaces/mamba).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..cost import Cost
from ..dims import Dim, as_count, eq, fmt, require
from ..errors import ShapeError
from ._base import Layer, dim, flag

__all__ = ["SelectiveScan", "CausalConv1d"]


@dataclass(frozen=True)
class SelectiveScan(Layer):
    """Mamba's selective scan (S6), as ``selective_scan_ref`` in state-spaces/mamba
    (``mamba_ssm/ops/selective_scan_interface.py``) with ``delta_softplus=True`` and the
    ``D`` skip: for each of ``d = d_inner`` channels, a state of ``n = d_state`` values runs
    over the ``L`` tokens::

        delta = softplus(delta)                        (the dt_proj bias is added by dt_proj)
        A     = -exp(A_log)                            (d, n), once per call
        h_t   = exp(delta_t * A) * h_{t-1} + (delta_t * u_t) * B_t      per channel and state
        y_t   = <h_t, C_t> + D * u_t

    Inputs ``cost(u, delta=None, B=None, C=None)``: ``u`` and ``delta`` ``(L, d_inner)``,
    ``B`` and ``C`` ``(L, d_state)`` (None: derived from ``u``). Output ``(L, d_inner)``.
    The gate ``y * silu(z)`` is not part of this layer (Hugging Face's ``MambaMixer`` applies
    it after the scan; `MambaMixer` gives it its own rows).

    Counts, with ``L`` tokens (every step is computed, the first from ``h_0 = 0`` too)::

        params   d*n (A_log) + d (D)
        MACs     L*d*n (the contraction with C),  dots L*d
        exp      L*d (softplus) + d*n (A) + L*d*n (exp(delta*A))
        log      L*d (softplus)
        add      L*d (softplus: 1 + e^x) + L*d*n (state update) + L*d (D skip)
        mul      L*d*n (delta*A) + L*d (delta*u) + L*d*n (*B) + L*d*n (state update)
                 + L*d (D*u)   = 3*L*d*n + 2*L*d

    ``(delta*u)*B`` is the cheaper order of the three-operand product (``selective_scan_ref``'s
    ``einsum('bdl,bnl,bdl->bdln')``); Hugging Face's slow path computes ``(delta*B)*u``,
    ``L*d*n`` more multiplies. The negation of ``A`` is a sign flip and is not counted;
    PyTorch's softplus returns ``x`` above its threshold (20), which is data dependent: the
    formula is counted for every element.

    Memory (compulsory): ``u``, ``delta``, ``B``, ``C`` read once, ``y`` written once; the
    state stays on chip (the fused kernel of the Mamba paper, Sec. 3.3.2), so a sequence
    moves no state. ``A_log`` and ``D`` are weight reads.

    ``step=True`` is one recurrent decode step (the reference's ``Mamba.step``, Hugging Face's
    cached path): ``L`` must be 1, and the state ``h`` (``d*n`` elements, `state_elements`)
    is read from and written back to memory (``act_reads`` and ``writes`` include it;
    `cache_io` returns it). The arithmetic is the same as one token of the scan.

    References
    ==========
    .. [1] Gu and Dao, "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
       2023, https://arxiv.org/abs/2312.00752, Algorithm 2 and Sec. 3.3.
    .. [2] state-spaces/mamba, ``mamba_ssm/modules/mamba_simple.py`` (``Mamba.forward``,
       ``Mamba.step``) and ``selective_scan_ref``.

    >>> c = SelectiveScan(1536, 16).cost((1024, 1536))  # mamba-130m, 1024 tokens
    >>> c.params, c.macs
    (26112, 25165824)
    >>> SelectiveScan(1536, 16, step=True).cache_io((1, 1536))  # the SSM state: d*n
    (24576, 24576)
    """

    d_inner: Dim = dim()
    d_state: Dim = dim()
    step: bool = flag(False)

    def _shapes(self, u: Any, delta: Any, B: Any, C: Any) -> tuple:
        d, n = self.d_inner, self.d_state
        x = self._input(u, 2, layout="(L, d_inner)")
        require(eq(x[1], d), self.kind,
                lambda: f"expected {d} channels (d_inner) in the last axis, got input shape "
                f"{fmt(x)}", error=ShapeError)
        L = x[0]
        if self.step:
            require(eq(L, 1), self.kind, lambda: f"a decode step (step=True) takes one token, "
                    f"got input shape {fmt(x)}", error=ShapeError)
        out = [x]
        for name, s, width in (("delta", delta, d), ("B", B, n), ("C", C, n)):
            if s is None:
                out.append((L, width))
                continue
            t = self._input(s, 2, layout=f"(L, {width})")
            require(eq(t[0], L), self.kind, lambda: f"{name} has {t[0]} tokens, u has {L}", error=ShapeError)
            require(eq(t[1], width), self.kind,
                    lambda: f"expected {name} shape (L, {width}), got {fmt(t)}",
                    error=ShapeError)
            out.append(t)
        return tuple(out)

    def state_elements(self) -> Dim:
        """Elements of the recurrent state of one sequence: ``d_inner * d_state``."""
        return as_count(self.d_inner * self.d_state)

    def output_shape(self, u: Any, delta: Any = None, B: Any = None, C: Any = None) -> tuple:
        return self._shapes(u, delta, B, C)[0]

    def cache_io(self, u: Any, delta: Any = None, B: Any = None, C: Any = None) -> tuple:
        """(state elements read, written) per sample: the state for a step, none for a
        sequence (the state stays on chip)."""
        self._shapes(u, delta, B, C)
        s = self.state_elements() if self.step else 0
        return s, s

    def cost(self, u: Any, delta: Any = None, B: Any = None, C: Any = None) -> Cost:
        x, dl, b, c = self._shapes(u, delta, B, C)
        d, n, L = self.d_inner, self.d_state, x[0]
        ld, ldn = as_count(L * d), as_count(L * d * n)
        params = as_count(d * n + d)
        state = self.state_elements() if self.step else 0
        reads = as_count(2 * ld + L * (b[1] + c[1]) + state)
        notes = ("SelectiveScan: the state stays on chip over a sequence",) if not self.step \
            else ("SelectiveScan step: the state is read and written in memory",)
        return Cost(
            params=params,
            macs=ldn,
            dots=ld,
            ops={"exp": as_count(ld + d * n + ldn), "log": ld, "add": as_count(2 * ld + ldn),
                 "mul": as_count(3 * ldn + 2 * ld)},
            weight_reads=params,
            act_reads=reads,
            writes=as_count(ld + state),
            notes=notes,
        )


@dataclass(frozen=True)
class CausalConv1d(Layer):
    """Mamba's depthwise causal convolution: ``nn.Conv1d(channels, channels, kernel_size,
    groups=channels, padding=kernel_size - 1, bias=bias)`` keeping the first ``L`` outputs
    (``conv1d(x)[..., :L]`` in ``mamba_simple.py``), which is what ``causal_conv1d_fn``
    computes: output ``t`` sees inputs ``t - k + 1 .. t`` (zeros before the start).
    Input and output ``(channels, L)``.

    Counts (``C`` channels, ``k = kernel_size``; every tap counted, those on the left zeros
    included, as layercalc's convolutions)::

        params = C*k (+ C with bias);  MACs = C*L*k;  dots = C*L;  bias adds = C*L

    ``nn.Conv1d`` with that padding computes ``k - 1`` more outputs per channel and drops
    them; they are not counted. Memory: weights once, ``C*L`` read and written.

    ``step=True`` is one decode step (``causal_conv1d_update``, the reference's ``Mamba.step``):
    ``L = 1``, and the convolution state of ``C*k`` elements (the last ``k`` inputs, including
    the new one, as Hugging Face's ``conv_states`` and the reference allocate it) is read and
    written back (`cache_io`).

    >>> c = CausalConv1d(1536, 4).cost((1536, 1024))
    >>> c.params, c.macs
    (7680, 6291456)
    >>> CausalConv1d(1536, 4, step=True).cache_io((1536, 1))
    (6144, 6144)
    """

    channels: Dim = dim()
    kernel_size: Dim = dim()
    bias: bool = flag(True)
    step: bool = flag(False)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, 2, layout="(channels, L)")
        require(eq(shape[0], self.channels), self.kind,
                lambda: f"expected {self.channels} channels, got input shape {fmt(shape)}",
                error=ShapeError)
        if self.step:
            require(eq(shape[1], 1), self.kind, lambda: "a decode step (step=True) takes one "
                    f"token, got input shape {fmt(shape)}", error=ShapeError)
        return shape

    def state_elements(self) -> Dim:
        """Elements of the convolution state of one sequence: ``channels * kernel_size``."""
        return as_count(self.channels * self.kernel_size)

    def cache_io(self, x: Any) -> tuple:
        """(state elements read, written) per sample: the window for a step, none for a
        sequence."""
        self.output_shape(x)
        s = self.state_elements() if self.step else 0
        return s, s

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        C, L, k = self.channels, y[1], self.kernel_size
        n = as_count(C * L)
        macs = as_count(n * k)
        params = as_count(C * k + (C if self.bias else 0))
        state = self.state_elements() if self.step else 0
        return Cost(params=params, macs=macs, dots=n, bias_adds=n if self.bias else 0,
                    weight_reads=params, act_reads=as_count(n + state),
                    writes=as_count(n + state), tap_reads=as_count(macs + state))
