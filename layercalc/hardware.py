"""Hardware: peak compute per data type and main-memory bandwidth, for roofline estimates.

A `Hardware` is a frozen record of datasheet numbers: dense peak FLOP/s (or OP/s for integer
types) per dtype, sparse (2:4 structured sparsity) peaks where the vendor prints them, memory
bandwidth in bytes/s, and the on-chip memory (L2, or the last-level cache for CPUs). Every
number is exact (Python ints or SymPy rationals), or a SymPy symbol for symbolic hardware.

Seed 002 gives the two formulas (`Hardware.from_clock`, `memory_bandwidth`):

``peak = clock x cores x ops_per_cycle_per_core x 2`` (A100 FP32: 1.41 GHz x 108 SMs x 64 x 2 =
19.49 TFLOP/s), ``bandwidth = mem_clock x 2 x bus_width / 8 x channels`` (A100: 1215 MHz, 5120 bit
-> 1555.2 GB/s).

`PRESETS` are taken from docs/hardware-sources.md (units: 1 TFLOP/s = 1e12, 1 GB/s = 1e9 bytes/s);
each preset's ``source`` gives the URL and ``note`` what is unverified or derived.
`get_hardware` also accepts a unique prefix of a preset name (``"h100"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import sympy as sp

from .dims import Dim, as_count, as_real, to_expr
from .errors import ArgumentError, LayerCalcError, UnknownNameError, lookup

__all__ = ["Hardware", "PRESETS", "AmbiguousNameError", "get_hardware", "get", "memory_bandwidth"]


def _exact(x: Any, field: str = "value") -> Any:
    """Exact numbers: floats become rationals from their decimal repr, ints stay ints; SymPy
    expressions (symbolic peaks for teaching) pass. Checked by `as_real`: a finite number >= 0,
    never a string."""
    if x is None:
        return None
    x = as_real(x, "Hardware", field, minimum=0, error=ArgumentError)
    if isinstance(x, float):
        return as_count(sp.Rational(repr(x)))
    return as_count(x)


def _e(s: str, exponent: int) -> Dim:
    """``_e("19.5", 12) == 19_500_000_000_000`` exactly."""
    return as_count(sp.Rational(s) * 10**exponent)


@dataclass(frozen=True)
class Hardware:
    """One device: peaks per dtype, memory bandwidth, provenance.

    Parameters
    ==========
    name : preset name.
    peak_flop_per_s : dense peak per dtype (``{"fp32": ..., "fp16": ...}``), FLOP/s or OP/s.
    mem_bytes_per_s : main-memory bandwidth in bytes/s, or None when not documented.
    source : where the numbers come from (URLs).
    sparse_flop_per_s : 2:4 structured-sparsity peaks, where the vendor prints them.
    on_chip_bytes : L2 (GPUs) or last-level cache (CPUs) in bytes, or None.
    note : caveats (derived or unverified values).

    >>> a100 = PRESETS["a100-sxm4-80gb"]
    >>> a100.peak("fp16"), a100.mem_bytes_per_s, a100.ridge("fp16")
    (312000000000000, 2039000000000, 312000/2039)
    """

    name: str
    peak_flop_per_s: Mapping[str, Any]
    mem_bytes_per_s: Any
    source: str
    sparse_flop_per_s: Mapping[str, Any] = field(default_factory=dict)
    on_chip_bytes: Any = None
    note: str = ""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "peak_flop_per_s",
             MappingProxyType({k: _exact(v, f"peak_flop_per_s[{k!r}]")
                               for k, v in self.peak_flop_per_s.items()}))
        set_(self, "sparse_flop_per_s",
             MappingProxyType({k: _exact(v, f"sparse_flop_per_s[{k!r}]")
                               for k, v in self.sparse_flop_per_s.items()}))
        set_(self, "mem_bytes_per_s", _exact(self.mem_bytes_per_s, "mem_bytes_per_s"))
        set_(self, "on_chip_bytes", _exact(self.on_chip_bytes, "on_chip_bytes"))

    def __hash__(self) -> int:
        return hash((self.name, tuple(self.peak_flop_per_s.items()), self.mem_bytes_per_s))

    def peak(self, dtype: str = "fp32", *, sparse: bool = False) -> Dim:
        """Peak FLOP/s (OP/s) for `dtype`; `sparse` picks the 2:4 sparsity figure.

        >>> PRESETS["t4"].peak("int8")
        130000000000000
        >>> PRESETS["t4"].peak("fp8")
        Traceback (most recent call last):
        ...
        layercalc.errors.UnknownNameError: unknown dtype for t4 'fp8'; known: fp16, fp32, int4, int8
        """
        table = self.sparse_flop_per_s if sparse else self.peak_flop_per_s
        try:
            return table[dtype]
        except KeyError:
            what = f"{'sparse ' if sparse else ''}dtype for {self.name}"
            raise UnknownNameError(what, dtype, table) from None

    def ridge(self, dtype: str = "fp32", *, sparse: bool = False) -> Any:
        """The ridge point ``pi / beta`` in FLOP/byte (seed 000's I_max): above it a kernel is
        compute-bound. Raises `LayerCalcError` if the bandwidth is not documented."""
        return as_count(to_expr(self.peak(dtype, sparse=sparse)) / self.bandwidth())

    def bandwidth(self) -> Any:
        """Memory bandwidth in bytes/s; raises `LayerCalcError` when it is None."""
        if self.mem_bytes_per_s is None:
            raise LayerCalcError(f"{self.name}: memory bandwidth is not documented "
                                 f"(mem_bytes_per_s=None); pass Hardware(..., mem_bytes_per_s=...)")
        return self.mem_bytes_per_s

    @classmethod
    def from_clock(cls, name: str, clock_hz: Any, cores: Any, ops_per_cycle_per_core: Any,
                   dtype: str = "fp32", mem_bytes_per_s: Any = None, source: str = "",
                   **kwargs: Any) -> Hardware:
        """Hardware whose `dtype` peak is ``clock x cores x ops_per_cycle_per_core x 2`` (the
        2 counts a fused multiply-add as two FLOPs). Source: seed 002, NVIDIA A100
        ``PeakFLOPS = 1.41 GHz * 108 SMs * 64 FP32 cores * 2 = 19.49 TFLOPS``.

        >>> a100 = Hardware.from_clock("a100", 1_410_000_000, 108, 64,
        ...                            mem_bytes_per_s=memory_bandwidth(1215 * 10**6, 5120))
        >>> a100.peak("fp32"), round(a100.peak("fp32") / 1e12, 2)
        (19491840000000, 19.49)
        """
        peak = _exact(clock_hz) * _exact(cores) * _exact(ops_per_cycle_per_core) * 2
        return cls(name, {dtype: peak}, mem_bytes_per_s, source, **kwargs)


def memory_bandwidth(mem_clock_hz: Any, bus_width_bits: Any, channels: Any = 1) -> Dim:
    """Bytes/s of a DDR interface: ``mem_clock x 2 x bus_width / 8 x channels`` (x2: double data
    rate). Source: seed 002: camera chip ``(2000 MHz x 2) x (32 / 8) x 2 = 32 GB/s``, NVIDIA A100
    ``(1215 MHz x 2) x (5120 / 8) x 1 = 1555.2 GB/s``.

    >>> memory_bandwidth(1215 * 10**6, 5120), memory_bandwidth(2000 * 10**6, 32, 2)
    (1555200000000, 32000000000)
    """
    return as_count(to_expr(_exact(mem_clock_hz)) * 2 * _exact(bus_width_bits)
                    * _exact(channels) / 8)


_MB = 2**20
_DOC = "docs/hardware-sources.md"

_A100_PEAK = {"fp64": _e("9.7", 12), "fp32": _e("19.5", 12), "tf32": _e("156", 12),
              "fp16": _e("312", 12), "bf16": _e("312", 12), "int8": _e("624", 12),
              "int4": _e("1248", 12)}
_A100_SPARSE = {"tf32": _e("312", 12), "fp16": _e("624", 12), "bf16": _e("624", 12),
                "int8": _e("1248", 12), "int4": _e("2496", 12)}
_A100_SRC = ("NVIDIA A100 datasheet https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/"
             "a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf, as quoted by "
             "https://glennklockwood.com/garden/processors/A100 and "
             "https://www.thundercompute.com/blog/nvidia-a100-specs-full-guide")

_PRESET_LIST = (
    Hardware(
        "v100-sxm2",
        {"fp64": _e("7.8", 12), "fp32": _e("15.7", 12), "fp16": _e("125", 12)},
        _e("900", 9),
        "https://images.nvidia.com/content/technologies/volta/pdf/volta-v100-datasheet-update-us-"
        "1165301-r5.pdf; https://huggingface.co/RajBhope/gpu-runtime-predictor/blob/main/"
        "gpu_catalog.json",
        on_chip_bytes=6 * _MB,
        note="secondary sources; fp16 is the tensor-core rate (FP16 in, FP32 accumulate)",
    ),
    Hardware("a100-sxm4-40gb", _A100_PEAK, _e("1555", 9), _A100_SRC, _A100_SPARSE,
             on_chip_bytes=40 * _MB, note="seed 002 derives 1555.2 GB/s from 1215 MHz x 5120 bit"),
    Hardware("a100-sxm4-80gb", _A100_PEAK, _e("2039", 9), _A100_SRC, _A100_SPARSE,
             on_chip_bytes=40 * _MB),
    Hardware(
        "h100-sxm",
        {"fp64": _e("34", 12), "fp32": _e("67", 12), "tf32": _e("494.7", 12),
         "fp16": _e("989.4", 12), "bf16": _e("989.4", 12), "fp8": _e("1979", 12),
         "int8": _e("1979", 12)},
        _e("3350", 9),
        "https://www.nvidia.com/en-us/data-center/h100/ as reproduced at "
        "https://archive-lib.hpctech.co.jp/gpuproduct/nvidia-h100.html; "
        "https://glennklockwood.com/garden/processors/h100",
        {"tf32": _e("989", 12), "fp16": _e("1979", 12), "bf16": _e("1979", 12),
         "fp8": _e("3958", 12), "int8": _e("3958", 12)},
        on_chip_bytes=50 * _MB,
        note="the vendor table prints sparse tensor figures ('1/2 lower without sparsity'): "
        "fp8 and int8 are 3,958/2; fp16/bf16/tf32 are the whitepaper's dense 989.4/494.7 "
        "(the datasheet's halves would be 989.5/494.5); the whitepaper's fp8 is 1978.9",
    ),
    Hardware(
        "h200",
        {"fp64": _e("34", 12), "fp16": _e("989", 12), "bf16": _e("989", 12),
         "fp8": _e("1979", 12)},
        _e("4800", 9),
        "https://www.nvidia.com/en-us/data-center/h200/; "
        "https://lzwjava.github.io/nvidia-h200-gpu-specs-en",
        {"fp16": _e("1979", 12), "bf16": _e("1979", 12), "fp8": _e("3958", 12)},
        note="secondary sources; no fp32 figure in the sources (same GH100 compute as h100-sxm)",
    ),
    Hardware(
        "l4",
        {"fp32": _e("30.3", 12), "tf32": _e("60", 12), "fp16": _e("121", 12),
         "bf16": _e("121", 12), "fp8": _e("242.5", 12), "int8": _e("242.5", 12)},
        _e("300", 9),
        "https://www.nvidia.com/en-us/data-center/l4/; "
        "https://store.sourcecode.com/en-us/bg-bucket-compare/125/9820",
        {"tf32": _e("120", 12), "fp16": _e("242", 12), "bf16": _e("242", 12),
         "fp8": _e("485", 12), "int8": _e("485", 12)},
        on_chip_bytes=48 * _MB,
    ),
    Hardware(
        "l40s",
        {"fp32": _e("91.6", 12), "tf32": _e("183", 12), "fp16": _e("362.05", 12),
         "bf16": _e("362.05", 12), "fp8": _e("733", 12)},
        _e("864", 9),
        "https://www.nvidia.com/en-us/data-center/l40s/ (datasheet), as reproduced at "
        "https://www.mullet.se/product.html?product_id=355414",
        {"tf32": _e("366", 12), "fp8": _e("1466", 12)},
        note="dense figures as printed beside the sparse (*) ones; the sheet's FP16/BF16 "
        "sparse 733 is not twice its dense 362.05, so no fp16/bf16 sparse peak is set; the "
        "reproduced table gives no INT8/INT4 figure for the L40S, so none is set",
    ),
    Hardware(
        "t4",
        {"fp32": _e("8.1", 12), "fp16": _e("65", 12), "int8": _e("130", 12),
         "int4": _e("260", 12)},
        _e("320", 9),
        "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/tesla-t4/"
        "t4-tensor-core-datasheet-951643.pdf; https://sysrqmts.com/en/gpus/nvidia/tesla/t4",
        on_chip_bytes=4 * _MB,
        note="fp16 is mixed precision FP16/FP32 tensor; no sparsity (Turing)",
    ),
    Hardware(
        "rtx4090",
        {"fp32": _e("82.6", 12), "tf32": _e("82.6", 12), "fp16": _e("165.2", 12),
         "bf16": _e("165.2", 12), "fp8": _e("330.3", 12), "int8": _e("660.6", 12)},
        _e("1008", 9),
        "https://www.nvidia.com/en-us/geforce/graphics-cards/40-series/rtx-4090/; "
        "https://waredb.com/processor/nvidia-geforce-rtx-4090",
        {"tf32": _e("165.2", 12), "fp16": _e("330.3", 12), "bf16": _e("330.3", 12),
         "fp8": _e("660.6", 12), "int8": _e("1321.2", 12)},
        on_chip_bytes=72 * _MB,
        note="fp16/fp8 tensor rates with FP32 accumulate (GeForce runs these at half rate); "
        "secondary sources",
    ),
    Hardware(
        "jetson-agx-orin-64gb",
        {"fp32": _e("5.3", 12), "int8": _e("137.5", 12)},
        _e("204.8", 9),
        "https://developer.nvidia.com/embedded/jetson-modules (technical brief, as transcribed at "
        "http://mzph.cn/web/30785.shtml); https://blog.us.fixstars.com/?p=1855&preview=true",
        {"int8": _e("275", 12)},
        on_chip_bytes=4 * _MB,
        note="int8 is GPU + 2 DLA; dense int8 derived as sparse/2; bandwidth 204.8 GB/s "
        "(256 bit x 6400 MT/s) unverified; fp32 is the GPU alone",
    ),
    Hardware(
        "hi3519av100",
        {"int8": _e("1.7", 12)},
        None,
        "seed 000 ('海思 3519AV100 芯片的算力为 1.7Tops'); NNIE described at "
        "https://www.wpgdadatong.com.cn/blog/detail/43354",
        note="1.7 TOPS unverified (no official brief found); DDR bandwidth not documented, so "
        "mem_bytes_per_s is None and roofline() needs a bandwidth supplied",
    ),
    Hardware(
        "ryzen9-7950x",
        {"fp64": _e("1152", 9), "fp32": _e("2304", 9)},
        memory_bandwidth(2600 * 10**6, 64, 2),
        "https://www.amd.com/en/products/processors/desktops/ryzen/7000-series/"
        "amd-ryzen-9-7950x.html; https://techpowerup.com/review/amd-ryzen-9-7950x",
        on_chip_bytes=64 * _MB,
        note="derived: 16 cores x 4.5 GHz base x 32 FP32 FLOP/cycle (2 FMA x 8 lanes x 2); "
        "DDR5-5200 dual channel = 83.2 GB/s; the L3 is the on-chip memory",
    ),
    Hardware(
        "apple-m2",
        {"fp32": _e("3.6", 12), "fp16": _e("15.8", 12)},
        _e("100", 9),
        "https://www.apple.com/newsroom/2022/06/apple-unveils-m2-with-breakthrough-performance-"
        "and-capabilities/; https://fudzilla.net/news/mobile/54963-apple-officially-unveils-the-"
        "m2-soc",
        note="fp16 is the 16-core Neural Engine's 15.8 trillion operations/s (precision not "
        "stated by Apple); fp32 ~3.6 TF is the GPU, unverified (10 x 128 x 2 x ~1.4 GHz)",
    ),
)

#: Read-only presets by name (see docs/hardware-sources.md).
PRESETS: Mapping[str, Hardware] = MappingProxyType({h.name: h for h in _PRESET_LIST})


class AmbiguousNameError(UnknownNameError):
    """A name is the prefix of several registered names (``'a100'``)."""

    def __init__(self, what: str, name: str, known: Any = ()) -> None:
        super().__init__(what, name, known)
        self.message = (f"ambiguous {what} {name!r}: did you mean "
                        + " or ".join(repr(k) for k in self.known) + "?")
        self.args = (self.message,)


def get_hardware(name: str | Hardware) -> Hardware:
    """The preset `name` (a `Hardware` passes through). A unique prefix of a preset name is
    accepted (``"h100"`` for ``"h100-sxm"``); an ambiguous one raises `AmbiguousNameError`
    naming the candidates.

    >>> get_hardware("a100-sxm4-40gb").mem_bytes_per_s
    1555000000000
    >>> get_hardware("h100").name
    'h100-sxm'
    >>> get_hardware("a100")
    Traceback (most recent call last):
    ...
    layercalc.hardware.AmbiguousNameError: ambiguous hardware 'a100': did you mean 'a100-sxm4-40gb' or 'a100-sxm4-80gb'?
    >>> get_hardware("rtx-4090")
    Traceback (most recent call last):
    ...
    layercalc.errors.UnknownNameError: unknown hardware 'rtx-4090'; did you mean 'rtx4090'?
    """
    if isinstance(name, Hardware):
        return name
    if isinstance(name, str) and name not in PRESETS:
        matches = sorted(k for k in PRESETS if k.startswith(name)) if name else []
        if len(matches) == 1:
            return PRESETS[matches[0]]
        if len(matches) > 1:
            raise AmbiguousNameError("hardware", name, matches)
    return lookup(PRESETS, "hardware", name)


get = get_hardware
