"""Weight storage formats: `matrix_bytes` against enumerating the stored tensors of each
scheme (AutoAWQ's qweight/qzeros/scales, AutoGPTQ's plus g_idx, bitsandbytes' absmax blocks
and code table), symbolic group sizes, errors."""

from __future__ import annotations

import math

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from layercalc import (
    DTYPE_BYTES, WEIGHT_FORMATS, LayerCalcError, UnknownNameError, get_weight_format,
    matrix_bytes, symbols,
)


def stored_bits(rows, cols, scheme, g):
    """Bits of every tensor a checkpoint stores for one rows x cols weight, built by walking
    the weight element by element and group by group."""
    bits = 0
    groups = set()
    for r in range(rows):
        for c in range(cols):
            bits += {"fp16": 16, "fp8": 8, "int8": 8, "int8g": 8}.get(scheme, 4)
            if scheme in ("int4", "int4-awq", "int4-gptq", "int8g"):
                groups.add((r, c // g))
            elif scheme == "int8":
                groups.add(r)
            elif scheme == "nf4":
                groups.add((r * cols + c) // g)
    per_group = {"int4": 16, "int4-awq": 16 + 4, "int4-gptq": 16 + 4, "int8": 16,
                 "int8g": 16, "nf4": 32}.get(scheme, 0)
    bits += len(groups) * per_group
    if scheme == "int4-gptq":
        bits += cols * 32  # g_idx
    if scheme == "nf4":
        bits += 16 * 32  # code table
    if scheme == "fp8":
        bits += 32  # per-tensor scale
    return bits


@settings(max_examples=60)
@given(st.integers(1, 9), st.integers(1, 40), st.sampled_from([1, 2, 3, 8, 16]),
       st.sampled_from(["fp16", "fp8", "int8", "int8g", "int4", "int4-awq", "int4-gptq",
                        "nf4"]))
def test_matrix_bytes_match_enumeration(rows, cols, g, scheme):
    name = "int8" if scheme == "int8g" else scheme
    fmt = get_weight_format(name, g if scheme in ("int8g", "int4", "int4-awq", "int4-gptq",
                                                   "nf4") else None)
    assert matrix_bytes(rows, cols, fmt) == sp.Rational(stored_bits(rows, cols, scheme, g), 8)


def test_published_layouts():
    """AutoAWQ / AutoGPTQ store, for a 4096 x 4096 Linear at group 128: qweight 4096*4096/8
    int32, qzeros (4096/128) x (4096/8) int32, scales (4096/128) x 4096 fp16 (+ g_idx 4096
    int32 for GPTQ)."""
    qweight = 4096 * 4096 // 8 * 4
    qzeros = (4096 // 128) * (4096 // 8) * 4
    scales = (4096 // 128) * 4096 * 2
    assert matrix_bytes(4096, 4096, "int4-awq") == qweight + qzeros + scales
    assert matrix_bytes(4096, 4096, "int4-gptq") == qweight + qzeros + scales + 4096 * 4
    # bitsandbytes nf4, blocksize 64: packed uint8 numel/2, fp32 absmax numel/64, code 16 fp32
    assert matrix_bytes(4096, 4096, "nf4") == 4096 * 4096 // 2 + 4096 * 4096 // 64 * 4 + 64


def test_symbolic_sizes_and_groups():
    o, i, g = symbols("o i g")
    assert matrix_bytes(o, i, get_weight_format("int4", g)) == \
        o * i / 2 + 2 * o * sp.ceiling(i / g)
    assert matrix_bytes(o, i, "fp16") == 2 * o * i
    e = matrix_bytes(o, 4096, get_weight_format("int4", g))
    assert sp.sympify(e).subs({o: 11008, g: 128}) == matrix_bytes(11008, 4096, "int4")


def test_formats_and_dtypes():
    assert WEIGHT_FORMATS["fp8"] is WEIGHT_FORMATS["fp8-e4m3"]
    assert not WEIGHT_FORMATS["bf16"].quantized and WEIGHT_FORMATS["nf4"].quantized
    assert DTYPE_BYTES["nf4"] == sp.Rational(1, 2) and DTYPE_BYTES["fp8-e5m2"] == 1
    assert math.isclose(float(matrix_bytes(4096, 4096, "int4")) / 4096**2, 0.5 + 2 / 128)


def test_errors():
    with pytest.raises(UnknownNameError) as e:
        get_weight_format("int3")
    assert str(e.value) == "unknown weight format 'int3'; did you mean 'int8' or 'int4'?"
    with pytest.raises(LayerCalcError) as e:
        get_weight_format("fp16", 128)
    assert str(e.value).startswith("weight format 'fp16' has no group size")
    with pytest.raises(LayerCalcError) as e:
        get_weight_format("int4", 0)
    assert str(e.value) == "int4: group_size (=0) must be positive."
