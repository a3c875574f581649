"""layercalc.format: every rounded number is the value to 3 significant figures (checked
against exact rational arithmetic), prefixes never print a mantissa of 1000 or more, formulas
are abbreviated only with a mark and print whole with full=True."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import example, given
from hypothesis import strategies as st

from layercalc import format as fmt

_COUNT = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}
_PARAMS = {"": 0, "K": 1, "M": 2, "B": 3, "T": 4}


def _round_half_up_3(x: Fraction) -> Fraction:
    """Brute force: the 3-significant-figure value of x > 0, by exact search of the exponent."""
    e = 0
    while Fraction(10) ** (e + 1) <= x:
        e += 1
    while Fraction(10) ** e > x:
        e -= 1
    unit = Fraction(10) ** (e - 2)
    q, r = divmod(x, unit)
    if 2 * r >= unit:
        q += 1
    return q * unit


def _parse(text: str, prefixes: dict[str, int], step: int = 1000) -> tuple[Fraction, str]:
    m = re.fullmatch(r"(-?)([0-9]+(?:\.[0-9]+)?)\s?([A-Za-z]*)", text)
    assert m, text
    sign, digits, prefix = m.groups()
    value = Fraction(digits) * step ** prefixes[prefix]
    return (-value if sign else value), digits


@example(999_500)
@example(999_499)
@example(4100)
@example(9_405)
@example(10**18 - 1)
@given(st.integers(1000, 10**20))
def test_count_is_three_significant_figures(n):
    """999,500 prints 1.00M (never 1e+03K); 4,100 prints 4.10K; the printed value is the
    number rounded half up to 3 significant figures, and the mantissa is below 1000."""
    text = fmt.count(n)
    value, digits = _parse(text, _COUNT)
    assert value == _round_half_up_3(Fraction(n)), text
    assert len(digits.replace(".", "").lstrip("0")) == 3, text  # trailing zeros kept
    assert 1 <= float(digits) < 1000, text
    assert "e" not in text
    assert fmt.count(-n) == "-" + text


@given(st.integers(0, 999))
def test_small_integers_are_exact(n):
    assert fmt.count(n) == fmt.params(n) == str(n)


@given(st.integers(1000, 999_499_999_999_999))  # up to 999T; beyond, scientific notation
def test_params_use_b_for_billions(n):
    text = fmt.params(n)
    value, _ = _parse(text, _PARAMS)
    assert value == _round_half_up_3(Fraction(n))
    assert "G" not in text


@given(st.integers(1, 10**16))
def test_bytes_si_and_binary(n):
    si = fmt.nbytes(n)
    binary = fmt.nbytes(n, binary=True)
    assert si.endswith("B") and " " in si
    prefixes = {"": 0, "k": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}
    value, _ = _parse(si.removesuffix("B").strip(), prefixes)
    assert value == (n if n < 1000 else _round_half_up_3(Fraction(n)))
    bprefixes = {"": 0, "Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
    bvalue, _ = _parse(binary.removesuffix("B").strip(), bprefixes, 1024)
    assert abs(bvalue - n) <= Fraction(n, 200)  # 3 significant figures of n / 1024^k


@given(st.fractions(min_value=Fraction(1, 10**12), max_value=Fraction(10**4)))
def test_seconds(t):
    text = fmt.seconds(sp.Rational(t.numerator, t.denominator))
    m = re.fullmatch(r"([0-9.]+) (s|ms|µs|ns|ps)", text)
    assert m, text
    scale = {"s": 1, "ms": Fraction(1, 10**3), "µs": Fraction(1, 10**6),
             "ns": Fraction(1, 10**9), "ps": Fraction(1, 10**12)}[m.group(2)]
    assert Fraction(m.group(1)) * scale == _round_half_up_3(t), text
    assert m.group(2) == "s" or Fraction(m.group(1)) < 1000


def test_worked_examples():
    """The figures the issue names and the units of each kind."""
    assert fmt.count(999_500) == "1.00M" and fmt.count(999_499) == "999K"
    assert (fmt.count(4100), fmt.count(9408)) == ("4.10K", "9.41K")
    assert fmt.params(25_557_032) == "25.6M"            # ResNet-50 (torchvision)
    assert fmt.params(7_241_732_096) == "7.24B"         # Mistral 7B's count, as a size
    assert fmt.count(4_089_184_256) == "4.09G"          # ResNet-50 MACs
    assert fmt.nbytes(102_228_128) == "102 MB"          # ResNet-50 fp32 weights, SI
    assert fmt.nbytes(102_228_128, binary=True) == "97.5 MiB"
    assert fmt.seconds(1.5e-6) == "1.50 µs" and fmt.seconds(0) == "0 s"
    assert fmt.rate(312 * 10**12) == "312 TFLOP/s"      # A100 fp16 dense
    assert fmt.rate(2_039 * 10**9, "B/s") == "2.04 TB/s"
    assert fmt.exact(25_557_032) == "25,557,032"
    assert fmt.percent(0.5855) == "58.6%" and fmt.percent(0.0004) == "<0.1%"


def test_formulas_abbreviated_with_a_mark_and_whole_with_full():
    H, W = sp.symbols("H W")
    long = sum(k * sp.ceiling(H / 2**k) * sp.ceiling(W / 2**k) for k in range(1, 12))
    short = fmt.expr(long, 60)
    assert fmt.ELLIPSIS in short and "terms)" in short and len(short) < 60 + 20
    assert fmt.expr(long, 60, full=True) == str(long)
    n_left = int(re.search(r"\(\+(\d+) terms\)", short).group(1))
    assert short.count(" + ") + n_left == len(long.args)  # kept + left out = every term
    assert "ceiling(H/2048)" in short  # sizes inside floors and ceilings stay exact
    fraction = sp.Rational(59146977, 507812500000) * H + sp.Rational(513, 160000000)
    assert fmt.expr(fraction, 20) == "0.000116*H + 3.21e-6"  # floats, 3 significant figures
    assert fmt.expr(216 * H * W) == "216*H*W"               # short ones are left alone
    assert fmt.count(216 * H * W) == "216*H*W"
    assert fmt.seconds(fraction).endswith(" s")


@pytest.mark.parametrize("value", [None, "text"])
def test_non_numbers_pass_through(value):
    assert fmt.count(value) == ("-" if value is None else value)


def test_brief_is_bounded():
    text = fmt.brief("Report", "m", ["x" * 5000])
    assert len(text) == 300 and text.endswith(fmt.ELLIPSIS + ">")
