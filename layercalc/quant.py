"""Weight storage formats: how many bytes a weight matrix takes once quantised, scales and zero
points included.

A `WeightFormat` is an element width plus the metadata a quantisation scheme stores next to
the elements. For a weight matrix of ``o`` output rows and ``i`` input columns (``Linear``'s
``(out_features, in_features)``, an ``Embedding`` table's ``(num_embeddings,
embedding_dim)``)::

    bytes = o*i*bits/8  +  n_scales*(scale_bits + zero_bits)/8  +  i*index_bits/8  +  table

with ``n_scales`` set by the granularity: ``o*ceil(i/g)`` per group of ``g`` consecutive input
columns (GPTQ, AWQ), ``o`` per output channel, ``1`` per tensor, ``ceil(o*i/g)`` per block of
``g`` consecutive elements of the flattened tensor (bitsandbytes). `WEIGHT_FORMATS`:

============  ====  ==============================================  =====================================
name          bits  stored beside the elements                      scheme
============  ====  ==============================================  =====================================
fp32, fp16,   32,   nothing                                          dense
bf16          16
fp8-e4m3      8     one fp32 scale per tensor                        per-tensor FP8 (vLLM / TensorRT-LLM
(``fp8``),                                                           ``weight_scale``)
fp8-e5m2
int8          8     one fp16 scale per output channel (or per        symmetric W8 (LLM.int8(), SmoothQuant
                    group with ``group_size``)                       per-channel)
int4          4     one fp16 scale per group of 128 inputs           symmetric group-wise (GPTQ
                                                                     ``sym=True`` kernels without zeros)
int4-awq      4     fp16 scale + 4-bit zero point per group of 128   AutoAWQ GEMM: ``qweight``, ``qzeros``
                                                                     (packed int4), ``scales`` (fp16)
int4-gptq     4     fp16 scale + 4-bit zero per group of 128, and    AutoGPTQ: ``qweight``, ``qzeros``,
                    one int32 ``g_idx`` per input column             ``scales``, ``g_idx``
nf4           4     one fp32 absmax per block of 64 elements, and    bitsandbytes ``quant_type="nf4"``,
                    the 16-entry fp32 code table (64 bytes)          no double quantisation
============  ====  ==============================================  =====================================

Only matrices are quantised. A quantised format applied to a layer stores its matrix that
way; the layer's vectors (biases, norm scales) stay in the dense dtype given as `fallback`
(the activation dtype in `layercalc.inference`).

`group_size` (where the scheme has one) may be any positive integer or a symbol.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import sympy as sp

from .dims import Dim, as_count, as_dim, cdiv
from .errors import LayerCalcError, UnknownNameError

__all__ = ["WeightFormat", "WEIGHT_FORMATS", "get_weight_format", "matrix_bytes"]

_GRANULARITIES = ("none", "tensor", "channel", "group", "block")


@dataclass(frozen=True)
class WeightFormat:
    """How one weight matrix is stored.

    Parameters
    ==========
    name : the registry name (``"int4-awq"``).
    bits : bits per element.
    granularity : ``"none"`` (dense), ``"tensor"``, ``"channel"`` (per output row),
        ``"group"`` (``group_size`` consecutive input columns of one row), ``"block"``
        (``group_size`` consecutive elements of the flattened tensor).
    group_size : elements per group or block (None unless the granularity needs one).
    scale_bits, zero_bits : bits of each scale and zero point.
    index_bits : bits stored per input column (GPTQ's ``g_idx``, int32).
    table_bytes : bytes stored once per tensor (the NF4 code table).
    scheme : what the format reproduces.

    >>> f = get_weight_format("int4-awq")
    >>> matrix_bytes(4096, 4096, f)  # 4096^2/2 + 4096*32 groups*(2 + 1/2) bytes
    8716288
    """

    name: str
    bits: int
    granularity: str = "none"
    group_size: Any = None
    scale_bits: int = 0
    zero_bits: int = 0
    index_bits: int = 0
    table_bytes: int = 0
    scheme: str = ""

    def __post_init__(self) -> None:
        if self.granularity not in _GRANULARITIES:  # pragma: no cover - developer error
            raise TypeError(f"granularity {self.granularity!r} not in {_GRANULARITIES}")

    @property
    def quantized(self) -> bool:
        """True when the format stores anything but dense elements of 16 bits or more."""
        return self.granularity != "none" or self.bits < 16

    @property
    def element_bytes(self) -> Dim:
        """Bytes per element, metadata excluded (``1/2`` for 4 bits)."""
        return as_count(sp.Rational(self.bits, 8))

    def with_group_size(self, group_size: Any) -> WeightFormat:
        """The same scheme with another group (block) size.

        >>> get_weight_format("int4").with_group_size(64).group_size
        64
        """
        if group_size is None:
            return self
        if self.granularity not in ("group", "block", "channel"):
            raise LayerCalcError(f"weight format {self.name!r} has no group size (its scales "
                                 f"are per {self.granularity}); group_size (={group_size!r}) "
                                 "applies to int8, int4, int4-awq, int4-gptq and nf4")
        g = as_dim(group_size, self.name, "group_size")
        granularity = "group" if self.granularity == "channel" else self.granularity
        return replace(self, group_size=g, granularity=granularity)


def _dense(name: str, bits: int) -> WeightFormat:
    return WeightFormat(name, bits, scheme="dense")


_FP8 = ("one fp32 scale per tensor (per-tensor FP8, as vLLM's and TensorRT-LLM's "
        "weight_scale)")
_LIST = (
    _dense("fp32", 32),
    _dense("fp16", 16),
    _dense("bf16", 16),
    WeightFormat("fp8-e4m3", 8, "tensor", scale_bits=32, scheme=_FP8),
    WeightFormat("fp8-e5m2", 8, "tensor", scale_bits=32, scheme=_FP8),
    WeightFormat("int8", 8, "channel", scale_bits=16,
                 scheme="symmetric, one fp16 scale per output channel (LLM.int8(), "
                 "SmoothQuant W8A8); with group_size, per group of input columns"),
    WeightFormat("int4", 4, "group", 128, scale_bits=16,
                 scheme="symmetric group-wise: one fp16 scale per group of input columns"),
    WeightFormat("int4-awq", 4, "group", 128, scale_bits=16, zero_bits=4,
                 scheme="AutoAWQ GEMM: int4 qweight, packed int4 qzeros and fp16 scales per "
                 "group"),
    WeightFormat("int4-gptq", 4, "group", 128, scale_bits=16, zero_bits=4, index_bits=32,
                 scheme="AutoGPTQ: int4 qweight, packed int4 qzeros, fp16 scales per group, "
                 "int32 g_idx per input column"),
    WeightFormat("nf4", 4, "block", 64, scale_bits=32, table_bytes=64,
                 scheme="bitsandbytes nf4 (no double quantisation): one fp32 absmax per block "
                 "of the flattened tensor, and the 16-entry fp32 code table"),
)

#: Every weight format by name; ``"fp8"`` is ``"fp8-e4m3"``.
WEIGHT_FORMATS: Mapping[str, WeightFormat] = MappingProxyType(
    {**{f.name: f for f in _LIST}, "fp8": _LIST[3]})


def get_weight_format(name: str | WeightFormat, group_size: Any = None) -> WeightFormat:
    """The format `name` (a `WeightFormat` passes through), with `group_size` if given.

    >>> get_weight_format("nf4").group_size, get_weight_format("int8", 128).granularity
    (64, 'group')
    >>> get_weight_format("int3")
    Traceback (most recent call last):
    ...
    layercalc.errors.UnknownNameError: unknown weight format 'int3'; did you mean 'int8' or 'int4'?
    """
    if isinstance(name, WeightFormat):
        fmt = name
    elif isinstance(name, str) and name in WEIGHT_FORMATS:
        fmt = WEIGHT_FORMATS[name]
    else:
        raise UnknownNameError("weight format", str(name), WEIGHT_FORMATS)
    return fmt.with_group_size(group_size)


def matrix_bytes(rows: Dim, cols: Dim, fmt: str | WeightFormat) -> Dim:
    """Bytes of one ``rows x cols`` weight matrix (``Linear``: ``out_features x
    in_features``; groups run along ``cols``) stored in `fmt`, metadata included (see the
    module docstring for the formula).

    >>> matrix_bytes(4096, 11008, "fp16"), matrix_bytes(4096, 11008, "int4")  # 86 groups/row
    (90177536, 23248896)
    >>> matrix_bytes(4096, 4096, "nf4")  # 8 MiB + 262144 blocks * 4 + 64
    9437248
    """
    f = get_weight_format(fmt)
    n = as_count(rows * cols)
    out: Any = n * f.element_bytes
    g = f.group_size
    if f.granularity == "tensor":
        scales: Any = 1
    elif f.granularity == "channel":
        scales = rows
    elif f.granularity == "group":
        scales = as_count(rows * cdiv(cols, g))
    elif f.granularity == "block":
        scales = cdiv(n, g)
    else:
        scales = 0
    out = out + scales * sp.Rational(f.scale_bits + f.zero_bits, 8)
    out = out + cols * sp.Rational(f.index_bits, 8) + f.table_bytes
    return as_count(out)
