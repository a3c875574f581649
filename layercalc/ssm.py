"""Mamba: the selective state-space mixer and its residual block (Gu and Dao 2023).

`MambaMixer` follows ``Mamba`` in state-spaces/mamba's ``mamba_ssm/modules/mamba_simple.py``
and Hugging Face's ``MambaMixer`` (``models/mamba/modeling_mamba.py``; same module names).
Its rows, for ``L`` tokens of ``d_model`` features, ``d_inner = expand * d_model`` channels,
``n = d_state`` and ``R = dt_rank``::

    in_proj         Linear(d_model, 2*d_inner, bias)     -> x, z   (a split, no row)
    conv1d          CausalConv1d(d_inner, d_conv)         on x, channel-first (a view)
    act             SiLU
    x_proj          Linear(d_inner, R + 2n, bias=False)  -> dt, B, C (a split)
    dt_proj         Linear(R, d_inner, bias=True)
    selective_scan  SelectiveScan(d_inner, n)            (params A_log, D)
    act             SiLU on z                             (the same module, called again)
    mul             y * act(z)
    out_proj        Linear(d_inner, d_model, bias)

Names: Hugging Face's ``MambaConfig`` keys (``hidden_size``, ``state_size``, ``conv_kernel``,
``expand``, ``time_step_rank``, ``use_bias``, ``use_conv_bias``); ``mamba_simple.py`` calls them
``d_model``, ``d_state``, ``d_conv``, ``expand``, ``dt_rank``, ``bias``, ``conv_bias``.
``time_step_rank="auto"`` is ``ceil(hidden_size / 16)``.

params per mixer ``= 2*d*D + D*k (+ D) + D*(R + 2n) + R*D + D + D*n + D + D*d (+ 2D + d with
use_bias)`` with ``d = d_model``, ``D = d_inner``, ``k = d_conv``.

``step=True`` builds the recurrent decode step (``Mamba.step``): one token, the convolution
window (``D*k``) and the SSM state (``D*n``) read from and written back to memory, the
same rows otherwise. The state of one sequence is ``D*(k + n)`` elements per mixer.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from .dims import Dim, as_count, as_dim, cdiv, fmt
from .errors import LayerSpecError, ShapeError
from .layers import CausalConv1d, Linear, Mul, RMSNorm, SelectiveScan
from .network import Sequential, _Container
from .transformer import _hf_activation, _Res

__all__ = ["MambaMixer", "MambaBlock", "mamba_dt_rank"]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and name else (path or name)


def mamba_dt_rank(hidden_size: Any, time_step_rank: Any = "auto") -> Dim:
    """``dt_rank``: ``ceil(hidden_size / 16)`` for ``"auto"`` (``mamba_simple.py``,
    ``MambaConfig``), else the given value.

    >>> mamba_dt_rank(768), mamba_dt_rank(2560), mamba_dt_rank(768, 8)
    (48, 160, 8)
    """
    if time_step_rank == "auto":
        return cdiv(hidden_size, 16)
    return as_dim(time_step_rank, "MambaMixer", "time_step_rank")


class _MambaMixer(_Container):
    """The mixer's rows (see the module docstring); built by `MambaMixer`."""

    def __init__(self, hidden_size: Dim, state_size: Dim, conv_kernel: Dim, d_inner: Dim,
                 dt_rank: Dim, use_bias: bool, use_conv_bias: bool, act: Any,
                 step: bool) -> None:
        d, D, n, R = hidden_size, d_inner, state_size, dt_rank
        self.hidden_size, self.state_size, self.conv_kernel = d, n, conv_kernel
        self.d_inner, self.dt_rank, self.step = D, R, step
        self.use_bias, self.use_conv_bias, self.act = use_bias, use_conv_bias, act
        self.in_proj = Linear(d, 2 * D, use_bias)
        self.conv1d = CausalConv1d(D, conv_kernel, use_conv_bias, step=step)
        self.x_proj = Linear(D, R + 2 * n, bias=False)
        self.dt_proj = Linear(R, D, bias=True)
        self.scan = SelectiveScan(D, n, step=step)
        self.out_proj = Linear(D, d, use_bias)

    def decode_step(self) -> _MambaMixer:
        """The same mixer as a one-token recurrent step (state read and written)."""
        return _MambaMixer(self.hidden_size, self.state_size, self.conv_kernel, self.d_inner,
                           self.dt_rank, self.use_bias, self.use_conv_bias, self.act, True)

    def state_elements(self) -> Dim:
        """Elements of one sequence's recurrent state: ``d_inner * (conv_kernel +
        state_size)`` (the convolution window and the SSM state)."""
        return as_count(self.conv1d.state_elements() + self.scan.state_elements())

    def children(self) -> list[tuple[str, Any]]:
        return [("in_proj", self.in_proj), ("conv1d", self.conv1d), ("act", self.act),
                ("x_proj", self.x_proj), ("dt_proj", self.dt_proj),
                ("selective_scan", self.scan), ("out_proj", self.out_proj)]

    def __repr__(self) -> str:
        return (f"MambaMixer(hidden_size={self.hidden_size}, state_size={self.state_size}, "
                f"conv_kernel={self.conv_kernel}, d_inner={self.d_inner}, "
                f"dt_rank={self.dt_rank}, step={self.step})")

    def _walk(self, tracer, x, src, path):
        d, D, n, R = self.hidden_size, self.d_inner, self.state_size, self.dt_rank
        if len(x) != 2:
            raise ShapeError(f"{path or 'MambaMixer'} (MambaMixer)",
                             f"expected an input of rank 2 (L, hidden_size), got {fmt(x)}")
        L = x[0]
        xz, xs = tracer.walk(self.in_proj, x, src, _join(path, "in_proj"))
        h, hs = tracer.leaf(self.conv1d, [(D, L)], [xs], _join(path, "conv1d"))
        h, hs = tracer.leaf(self.act, [h], [hs], _join(path, "act"))
        u = (L, D)
        dbc, ds = tracer.walk(self.x_proj, u, hs, _join(path, "x_proj"))
        dt, ts = tracer.walk(self.dt_proj, (L, R), ds, _join(path, "dt_proj"))
        y, ys = tracer.leaf(self.scan, [u, dt, (L, n), (L, n)], [hs, ts, ds, ds],
                            _join(path, "selective_scan"), call="functional")
        g, gs = tracer.leaf(self.act, [(L, D)], [xs], _join(path, "act"))
        y, ys = tracer.leaf(Mul(), [y, g], [ys, gs], _join(path, "mul"), call="operator")
        return tracer.walk(self.out_proj, y, ys, _join(path, "out_proj"))


def MambaMixer(hidden_size: int, state_size: int = 16, conv_kernel: int = 4, expand: int = 2,
               time_step_rank: Any = "auto", use_bias: bool = False,
               use_conv_bias: bool = True, hidden_act: str = "silu",
               intermediate_size: int | None = None, *, step: bool = False) -> _MambaMixer:
    """Mamba's selective SSM mixer: input and output ``(L, hidden_size)``; see the module
    docstring for its rows and parameters. ``intermediate_size`` defaults to
    ``expand * hidden_size`` (``d_inner``). ``step=True``: the one-token decode step.

    >>> from layercalc import analyze
    >>> r = analyze(MambaMixer(768), (1024, 768))  # mamba-130m's mixer
    >>> r.total.params, [row.path for row in r.rows][:3]
    (3770880, ['in_proj', 'conv1d', 'act'])
    >>> MambaMixer(768).state_elements()  # 1536 * (4 + 16)
    30720
    """
    owner = "MambaMixer"
    d = as_dim(hidden_size, owner, "hidden_size")
    n = as_dim(state_size, owner, "state_size")
    k = as_dim(conv_kernel, owner, "conv_kernel")
    if intermediate_size is None:
        D = as_count(as_dim(expand, owner, "expand") * d)
    else:
        D = as_dim(intermediate_size, owner, "intermediate_size")
    R = mamba_dt_rank(d, time_step_rank)
    for name, v in (("use_bias", use_bias), ("use_conv_bias", use_conv_bias), ("step", step)):
        if not isinstance(v, bool):
            raise LayerSpecError(owner, f"{name} (={v!r}) must be True or False")
    return _MambaMixer(d, n, k, D, R, use_bias, use_conv_bias, _hf_activation(owner, hidden_act),
                       step)


def MambaBlock(hidden_size: int, state_size: int = 16, conv_kernel: int = 4, expand: int = 2,
               time_step_rank: Any = "auto", use_bias: bool = False,
               use_conv_bias: bool = True, hidden_act: str = "silu",
               intermediate_size: int | None = None, layer_norm_epsilon: float = 1e-5, *,
               step: bool = False) -> Sequential:
    """Hugging Face's ``MambaBlock`` (``mamba_ssm``'s ``Block`` with ``rms_norm=True``):
    ``x + mixer(norm(x))``, rows ``norm`` (`RMSNorm`), ``mixer.*`` (`MambaMixer`), ``add``.

    >>> from layercalc import analyze
    >>> analyze(MambaBlock(768), (16, 768)).total.params  # mixer + 768 norm weights
    3771648
    """
    mixer = MambaMixer(hidden_size, state_size, conv_kernel, expand, time_step_rank, use_bias,
                       use_conv_bias, hidden_act, intermediate_size, step=step)
    return Sequential([("", _Res(Sequential(OrderedDict(
        norm=RMSNorm(hidden_size, layer_norm_epsilon), mixer=mixer)), "add"))])

