"""Plain-PyTorch twins of the mixture-of-experts block and the Mamba mixer, used as oracles.

Written from Hugging Face's ``modeling_mixtral.py`` (transformers 4.x ``MixtralSparseMoeBlock``:
a top-k softmax router, renormalised weights, SwiGLU experts ``w2(silu(w1 x) * w3 x)``),
DeepSeek-MoE's shared experts, and state-spaces/mamba's ``mamba_simple.py`` with
``selective_scan_ref`` (in_proj, depthwise causal conv1d, x_proj, dt_proj, the scan, the
``silu(z)`` gate, out_proj). No ``transformers`` or ``mamba_ssm`` import.

Each forward counts, by brute force, the multiply-accumulates it really performs:
`MacCounter` adds ``rows x in x out`` for every ``nn.Linear`` call (only the tokens actually
routed to an expert reach it), the convolution adds one MAC per tap of every output it
keeps, and the scan adds ``d_state`` MACs per channel and step for ``y_t = <h_t, C_t>``.

Importing this module requires torch; under pytest it skips cleanly when torch is missing.
"""

from __future__ import annotations

import math
import sys

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError:  # pragma: no cover - depends on the environment
    if "pytest" in sys.modules:
        import pytest

        pytest.skip("torch not installed: pip install -e '.[oracle]' (torch==2.13.0 CPU) to "
                    "run the PyTorch oracle tests", allow_module_level=True)
    raise

__all__ = ["MacCounter", "Expert", "SparseMoe", "MambaMixer", "count_params"]


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class MacCounter:
    """Counts MACs of every ``nn.Linear`` call inside a module (forward hooks), plus any MACs
    a module adds itself through `add`."""

    def __init__(self, model: nn.Module) -> None:
        self.macs = 0
        self.calls: dict[str, int] = {}
        self._handles = []
        for name, m in model.named_modules():
            if isinstance(m, nn.Linear):
                self._handles.append(m.register_forward_hook(self._hook(name)))
            if hasattr(m, "counter"):
                m.counter = self

    def _hook(self, name: str):
        def hook(module: nn.Linear, inputs, output) -> None:
            rows = inputs[0].numel() // module.in_features
            n = rows * module.in_features * module.out_features
            self.macs += n
            self.calls[name] = self.calls.get(name, 0) + n
        return hook

    def add(self, n: int) -> None:
        self.macs += int(n)

    def close(self) -> None:
        for h in self._handles:
            h.remove()


class Expert(nn.Module):
    """Mixtral's ``MixtralBlockSparseTop2MLP``: ``w2(silu(w1(x)) * w3(x))``."""

    def __init__(self, d: int, inner: int) -> None:
        super().__init__()
        self.w1 = nn.Linear(d, inner, bias=False)
        self.w2 = nn.Linear(inner, d, bias=False)
        self.w3 = nn.Linear(d, inner, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class SparseMoe(nn.Module):
    """A top-k routed MoE on ``(T, d)`` tokens, Mixtral's block plus DeepSeek-style shared
    experts (one fused MLP of ``shared * inner`` hidden units, as DeepSeek-MoE's
    ``shared_experts``). ``experts_hit`` records the experts that received a token."""

    def __init__(self, d: int, inner: int, num_experts: int, top_k: int, shared: int = 0,
                 norm_topk_prob: bool = True) -> None:
        super().__init__()
        self.top_k, self.norm_topk_prob = top_k, norm_topk_prob
        self.gate = nn.Linear(d, num_experts, bias=False)
        self.experts = nn.ModuleList(Expert(d, inner) for _ in range(num_experts))
        self.shared_experts = Expert(d, inner * shared) if shared else None
        self.experts_hit: set[int] = set()

    def forward(self, x):
        probs = torch.softmax(self.gate(x).float(), dim=-1)
        weights, index = torch.topk(probs, self.top_k, dim=-1)
        if self.norm_topk_prob:
            weights = weights / weights.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            token, slot = torch.where(index == e)
            if token.numel() == 0:
                continue
            self.experts_hit.add(e)
            out.index_add_(0, token, expert(x[token]) * weights[token, slot, None])
        if self.shared_experts is not None:
            out = out + self.shared_experts(x)
        return out


class MambaMixer(nn.Module):
    """``mamba_simple.Mamba`` on one sequence ``(L, d_model)`` (batch handled by a loop),
    with the reference scan; counts conv and scan MACs into ``counter``."""

    def __init__(self, d_model: int, d_state: int = 16, d_conv: int = 4, expand: int = 2,
                 dt_rank: int | None = None, conv_bias: bool = True, bias: bool = False):
        super().__init__()
        self.d_inner = expand * d_model
        self.d_state, self.d_conv = d_state, d_conv
        self.dt_rank = math.ceil(d_model / 16) if dt_rank is None else dt_rank
        self.in_proj = nn.Linear(d_model, 2 * self.d_inner, bias=bias)
        self.conv1d = nn.Conv1d(self.d_inner, self.d_inner, d_conv, groups=self.d_inner,
                                padding=d_conv - 1, bias=conv_bias)
        self.x_proj = nn.Linear(self.d_inner, self.dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, self.d_inner, bias=True)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1).float()
                                            .repeat(self.d_inner, 1)))
        self.D = nn.Parameter(torch.ones(self.d_inner))
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=bias)
        self.counter: MacCounter | None = None

    def _count(self, n: int) -> None:
        if self.counter is not None:
            self.counter.add(n)

    def forward(self, hidden):  # (L, d_model)
        L = hidden.shape[0]
        x, z = self.in_proj(hidden).chunk(2, dim=-1)             # (L, d_inner) each
        conv = self.conv1d(x.t().unsqueeze(0))[0, :, :L]          # causal: keep L outputs
        self._count(conv.numel() * self.d_conv)                  # one MAC per kept tap
        u = F.silu(conv).t()                                      # (L, d_inner)
        dt, B, C = torch.split(self.x_proj(u), [self.dt_rank, self.d_state, self.d_state],
                               dim=-1)
        delta = F.softplus(self.dt_proj(dt))                      # (L, d_inner)
        A = -torch.exp(self.A_log.float())                        # (d_inner, d_state)
        h = torch.zeros(self.d_inner, self.d_state)
        ys = []
        for t in range(L):
            h = torch.exp(delta[t, :, None] * A) * h + (delta[t] * u[t])[:, None] * B[t]
            ys.append((h * C[t]).sum(-1))
            self._count(h.numel())                                # <h_t, C_t>: d*n MACs
        y = torch.stack(ys) + u * self.D
        return self.out_proj(y * F.silu(z))
