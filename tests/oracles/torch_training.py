"""Plain-PyTorch models and measuring helpers for the training oracles.

* `measure(model, x)`: one training step's forward and backward under
  ``torch.utils.flop_counter.FlopCounterMode`` and, during the forward,
  ``torch.autograd.graph.saved_tensors_hooks``: the counter's total FLOPs and the bytes of the
  storages autograd saves (each storage once; the model's parameters and buffers excluded:
  they are model state, counted as weights). The loss is ``y.sum()``, which saves nothing.
* `SequenceModel`: a recurrent layer and a linear head (``nn.RNN``/``GRU``/``LSTM`` with their
  own arguments), batch-first input.
* `optimizer_state_bytes(optimizer)`: bytes of every tensor in ``optimizer.state``.

Importing this module requires torch; under pytest it skips cleanly when torch is missing.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext

try:
    import torch
    from torch import Tensor, nn
    from torch.utils.flop_counter import FlopCounterMode
except ImportError:  # pragma: no cover - depends on the environment
    if "pytest" in sys.modules:
        import pytest

        pytest.skip("torch not installed: pip install -e '.[oracle]' (torch==2.13.0 CPU) to "
                    "run the PyTorch oracle tests", allow_module_level=True)
    raise

__all__ = ["measure", "SequenceModel", "optimizer_state_bytes", "saved_bytes"]


def _state_ptrs(model: nn.Module) -> set[int]:
    return {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}


def measure(model: nn.Module, x: Tensor, *, onednn: bool = True) -> tuple[int, int]:
    """(FlopCounterMode total over forward + backward, bytes saved for the backward)."""
    model.train()
    state = _state_ptrs(model)
    seen: dict[int, int] = {}

    def pack(t: Tensor) -> Tensor:
        p = t.untyped_storage().data_ptr()
        if p not in state and p not in seen:
            seen[p] = t.untyped_storage().nbytes()
        return t

    flags = nullcontext() if onednn else torch.backends.mkldnn.flags(enabled=False)
    with flags, FlopCounterMode(display=False) as counter:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            y = model(x)
            if isinstance(y, tuple):
                y = y[0]
        y.sum().backward()
    return counter.get_total_flops(), sum(seen.values())


def saved_bytes(model: nn.Module, x: Tensor, *, onednn: bool = True) -> int:
    return measure(model, x, onednn=onednn)[1]


class SequenceModel(nn.Module):
    """``head(rnn(x)[0])``: a recurrent layer on a batch-first sequence and a linear head."""

    def __init__(self, rnn: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.rnn, self.head = rnn, head

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.rnn(x)[0])


def optimizer_state_bytes(optimizer: torch.optim.Optimizer) -> int:
    """Bytes of the tensors an optimizer keeps (its ``state``), each storage once."""
    seen: dict[int, int] = {}
    for state in optimizer.state.values():
        for v in state.values():
            if isinstance(v, Tensor):
                seen[v.untyped_storage().data_ptr()] = v.untyped_storage().nbytes()
    return sum(seen.values())
