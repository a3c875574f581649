"""Counting conventions: how primitive counts become the one number people call "FLOPs".

A `Cost` holds facts (MACs, dot products, bias adds, other ops by kind). Tools and papers
disagree on which of those count and how much, so each way of counting is a frozen
`Convention`, named after its *definition*, and applied to a Cost:

``flops = mac * macs + dot * dots + bias * bias_adds + sum(ops[kind] * count[kind])``

Presets (`CONVENTIONS`):

========== ===== ===== ====== ======== ==============================================
name        mac   dot   bias   ops      where it comes from
========== ===== ===== ====== ======== ==============================================
exact        2    -1    1      each 1   seeds 000/003: conv ``(2 C K^2 - 1) H W C_out``
                                        without bias, ``2 C K^2 H W C_out`` with it
exact-no-bias 2   -1    0      each 1   the same, bias adds left out
macs         1     0    0      none     papers (ResNet, MobileNet), torchvision GFLOPS
2*macs       2     0    0      none     torch.utils.flop_counter, Kaplan et al. 2020
========== ===== ===== ====== ======== ==============================================

`DEFAULT_CONVENTION` (``"exact"``: every multiply and add counted) is the default of every
function and output that takes a convention (`flops`, `Report`, `roofline`, the command
line), and every output states the convention it used (`convention_note`).

Build your own with `Convention(...)` or `exact.replace(...)`. A convention that gives an op
kind weight 0 does not count it; `Convention.uncounted` lists what was left out, so a report can
say so instead of silently showing zero.

Not every published formula is a convention. 凌逆战 (神经网络模型的参数量和计算量) writes FC
FLOPs as ``F*C_in*C_out + C_out`` and Conv1d FLOPs as ``C_in*K*F_out*C_out + C_out``: one
FLOP per multiply-accumulate plus the bias added once per output *channel*. A bias is added
once per output *element* (``bias_adds = F*C_out`` and ``F_out*C_out``), so those formulas are
MACs plus the bias *parameters*, a quantity no weighting of the counts gives (ptflops 0.6.x's
Linear hook counts the bias the same way: the ``ptflops-hooks`` tool convention). See
docs/peer-tools.md, "Bias once per output channel".

Conventions named after peer tools are rules per layer kind (`layercalc.peers`);
`layercalc.registry` resolves a name to either kind (``get_convention``, ``flops``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from .cost import OP_KINDS, Cost
from .dims import Dim, as_count

__all__ = ["Convention", "BASE_CONVENTIONS", "DEFAULT_CONVENTION"]

#: The convention every function and output uses unless told otherwise.
DEFAULT_CONVENTION = "exact"


def _all_ops(weight: int = 1) -> Mapping[str, int]:
    return MappingProxyType(dict.fromkeys(OP_KINDS, weight))


@dataclass(frozen=True)
class Convention:
    """How a `Cost` becomes FLOPs.

    Parameters
    ==========
    name : the preset's name (``"exact"``, ``"macs"``, ...).
    mac : FLOPs per multiply-accumulate (2: a multiply and an add; 1: "mult-adds").
    dot : FLOPs per dot product (-1 under exact counting: ``n`` terms need ``n - 1`` adds).
    bias : FLOPs per bias add (1 to count them, 0 to leave them out).
    ops : FLOPs per operation of each kind; a kind missing here counts 0.
    description, source : what it counts and who counts this way.

    >>> exact = BASE_CONVENTIONS["exact"]
    >>> c = Cost(macs=27, dots=3, bias_adds=3, ops={"cmp": 3})
    >>> exact.flops(c), BASE_CONVENTIONS["macs"].flops(c), BASE_CONVENTIONS["2*macs"].flops(c)
    (57, 27, 54)
    >>> exact.replace(name="exact, ReLU free", ops={}).flops(c)
    54
    """

    name: str
    mac: int = 2
    dot: int = -1
    bias: int = 1
    ops: Mapping[str, Any] = field(default_factory=_all_ops)
    description: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ops", MappingProxyType(dict(self.ops)))
        object.__setattr__(self, "bias", int(self.bias))

    def __hash__(self) -> int:
        return hash((self.name, self.mac, self.dot, self.bias, tuple(sorted(self.ops.items()))))

    def replace(self, **changes: Any) -> Convention:
        """A modified copy, as ``dataclasses.replace``."""
        return replace(self, **changes)

    def flops(self, cost: Cost) -> Dim:
        """FLOPs of `cost` under this convention."""
        total: Any = self.mac * cost.macs + self.dot * cost.dots + self.bias * cost.bias_adds
        for kind, n in cost.ops.items():
            w = self.ops.get(kind, 0)
            if w:
                total = total + w * n
        return as_count(total)

    def uncounted(self, cost: Cost) -> dict[str, Dim]:
        """Work present in `cost` that this convention counts as zero, by kind."""
        out: dict[str, Dim] = {}
        if self.bias == 0 and not (type(cost.bias_adds) is int and cost.bias_adds == 0):
            out["bias_adds"] = cost.bias_adds
        for kind, n in cost.ops.items():
            if not self.ops.get(kind, 0):
                out[kind] = n
        return out


_EXACT = Convention(
    "exact",
    mac=2, dot=-1, bias=1, ops=_all_ops(1),
    description="every multiply, add, compare, divide and transcendental counted once; a dot "
    "product of n terms is n multiplies and n - 1 adds, plus one add for a bias",
    source="seed 000 and seed 003: conv FLOPs (2*C_i*K^2 - 1)*H*W*C_o without bias, "
    "2*C_i*K^2*H*W*C_o with bias; fully connected (2I - 1)*O and 2I*O",
)

_BASE: dict[str, Convention] = (
    {
        c.name: c
        for c in (
            _EXACT,
            _EXACT.replace(
                name="exact-no-bias", bias=0,
                description="as 'exact' but without bias adds",
                source="seed 000: the '不考虑bias' (bias ignored) form (2*C_i*K^2 - 1)*H*W*C_o",
            ),
            Convention(
                "macs", mac=1, dot=0, bias=0, ops={},
                description="one per multiply-accumulate of conv/linear/matmul; bias and "
                "every non-matmul op ignored (also called mult-adds, MAdds, MACCs)",
                source="He et al. 2016 Table 1; Howard et al. 2017 (MobileNet); torchvision "
                "'GFLOPS' metadata",
            ),
            Convention(
                "2*macs", mac=2, dot=0, bias=0, ops={},
                description="two per multiply-accumulate of conv/linear/matmul; everything "
                "else ignored",
                source="torch.utils.flop_counter.FlopCounterMode; Kaplan et al. 2020 "
                "(C_forward = 2N + ...)",
            ),
        )
    }
)

#: The four definitions by name (read-only); with the tools' in `layercalc.registry`.
BASE_CONVENTIONS: Mapping[str, Convention] = MappingProxyType(_BASE)
