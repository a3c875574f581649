"""`Opaque`: a node whose work layercalc does not know, from an imported model.

An importer (`layercalc.from_torch`, `from_onnx`) meets modules and functions it has no mapping
for: ``torch.fft.rfft2``, an ONNX ``DFT``, a user's own ``nn.Module`` subclass. Such a node still
has parameters (counted from ``module.parameters()`` or the ONNX initializers it reads) and an
output shape (from one real forward pass, or the ONNX shape inference), so the model's totals
of parameters and activations stay exact. Its *work* is unknown, and an unknown count must never
read as zero: it is one op of kind ``f"opaque:{op}"`` per output element, a kind that no
convention weights (the ``exact`` convention weights the kinds of `layercalc.cost.OP_KINDS`
only, tools weight layer kinds), so ``Report.uncounted(convention)`` lists it by name for every
definition and tool, and the layer's `Cost.notes` (hence ``Report.notes``) say so in words.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field
from typing import Any

from ..cost import Cost
from ..dims import Dim, as_count, as_dim, prod, show
from ..errors import LayerSpecError
from ._base import Layer, dim

__all__ = ["Opaque", "OPAQUE_PREFIX"]

#: The op kind of an opaque node's uncounted work is this prefix plus its `Opaque.op`.
OPAQUE_PREFIX = "opaque:"

_MAX_OP = 200  # characters of an op name: names are labels, not documents


def _convert_op(layer: Layer, name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LayerSpecError(layer.kind, f"{name} (={show(value)}) must be a non-empty string "
                             "naming what ran (such as 'torch.fft.rfft2' or 'onnx::DFT')")
    if len(value) > _MAX_OP or not value.isprintable():
        raise LayerSpecError(layer.kind, f"{name} (={show(value)}) must be a printable name of "
                             f"at most {_MAX_OP} characters")
    return value


def _one_shape(layer: Layer, name: str, value: Any) -> tuple[Dim, ...]:
    if not isinstance(value, (tuple, list)):
        raise LayerSpecError(layer.kind, f"{name} (={show(value)}) must be a tuple of sizes "
                             "(batch excluded), or a tuple of such tuples for several outputs")
    return tuple(as_dim(v, layer.kind, f"{name} entry", minimum=1) for v in value)


def _convert_out_shape(layer: Layer, name: str, value: Any) -> tuple:
    if isinstance(value, (tuple, list)) and value and all(
            isinstance(s, (tuple, list)) for s in value):
        return tuple(_one_shape(layer, name, s) for s in value)  # several outputs
    return _one_shape(layer, name, value)


@dataclass(frozen=True)
class Opaque(Layer):
    """A node with known parameters and output shape but unknown work.

    Parameters
    ==========
    op : what ran, as the importer names it: ``"torch.fft.rfft2"``, ``"aten.fft_rfft2"``,
        ``"onnx::DFT"``, or a module class (``"mypkg.Spectral"``).
    out_shape : the batch-free output shape (ints or SymPy expressions); for several outputs a
        tuple of shapes, and the node then has one port per output. It does not depend on the
        input shape: the importer that measured it is responsible for giving a symbolic shape
        only where it can derive one (`layercalc.from_torch` documents its rule).
    params, buffers : scalars of the parameters and buffers the node owns (each shared tensor
        counted once by the importer).

    `output_shape(*inputs)` checks each input shape and returns `out_shape`. `cost(*inputs)`:

    * ``params``, ``buffers``; ``weight_reads = params + buffers`` (each read once);
    * ``act_reads`` = the elements of every input, ``writes`` = the elements of every output
      (compulsory traffic, as for any layer that materialises its output);
    * ``ops = {"opaque:<op>": writes}``: the unknown work, one op per output element, so it
      is listed by name rather than counted as zero. No convention weights this kind, so it
      adds 0 to every FLOP count and appears in ``Report.uncounted`` for each;
    * a note naming the op.

    >>> c = Opaque("torch.fft.rfft2", (3, 8, 5)).cost((3, 8, 8))
    >>> dict(c.ops), c.act_reads, c.writes
    ({'opaque:torch.fft.rfft2': 120}, 192, 120)
    >>> Opaque("torch.chunk", ((2, 4), (2, 4))).output_shape((4, 4))
    ((2, 4), (2, 4))
    """

    op: str = field(default=MISSING, metadata={"convert": _convert_op})
    out_shape: tuple = field(default=MISSING, metadata={"convert": _convert_out_shape})
    params: Dim = dim(0, minimum=0)
    buffers: Dim = dim(0, minimum=0)

    @property
    def op_kind(self) -> str:
        """The op kind of the unknown work: ``"opaque:" + op``."""
        return OPAQUE_PREFIX + self.op

    @property
    def n_outputs(self) -> int:
        """How many tensors the node returns (its ports)."""
        return len(self.out_shape) if self._multi() else 1

    def _multi(self) -> bool:
        return bool(self.out_shape) and type(self.out_shape[0]) is tuple

    def output_shape(self, *inputs: Any) -> tuple:
        for x in inputs:
            self._input(x)
        return self.out_shape

    def cost(self, *inputs: Any) -> Cost:
        shapes = [self._input(x) for x in inputs]
        outs = self.out_shape if self._multi() else (self.out_shape,)
        writes = as_count(sum(prod(s) for s in outs))
        reads = as_count(sum(prod(s) for s in shapes)) if shapes else 0
        note = (f"{self.op} ran as an opaque node (no mapping): its work is counted by no "
                f"convention and is listed as '{self.op_kind}' (one per output element) in "
                "Report.uncounted")
        return Cost(params=self.params, buffers=self.buffers,
                    weight_reads=as_count(self.params + self.buffers),
                    act_reads=reads, writes=writes, ops={self.op_kind: writes}, notes=(note,))
