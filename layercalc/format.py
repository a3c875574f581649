"""Number formatting: the one place where counts, bytes, times and formulas become text.

Every rendering in layercalc (report tables, the CLI, Jupyter displays, plots) formats values
through these functions, so a number looks the same everywhere:

===================  ======================================  =================================
function             rule                                    examples
===================  ======================================  =================================
`count`              SI prefixes in steps of 1000 (K, M,     ``999 -> '999'``, ``4100 ->
                     G, T, P, E), 3 significant figures,     '4.10K'``, ``999_500 -> '1.00M'``
                     integers below 1000 exact               ``4_089_184_256 -> '4.09G'``
`params`             as `count`, but billions are ``B``      ``25_557_032 -> '25.6M'``,
                     (model cards say "7B", not "7G")        ``7_241_732_096 -> '7.24B'``
`nbytes`             bytes, SI by default (``kB``, ``MB``,   ``102_228_128 -> '102 MB'``;
                     ``GB``: the units of bandwidth          ``binary=True``: ``'97.5 MiB'``
                     datasheets, torchinfo and seed 002's
                     "10M x 4 Byte = 40MB"); ``binary=True``
                     for KiB, MiB, GiB
`seconds`            s, ms, µs, ns, ps, 3 significant        ``0.000123 -> '123 µs'``
                     figures
`rate`               a unit per second with SI prefixes      ``312e12 -> '312 TFLOP/s'``,
                                                             ``2.039e12, 'B/s' -> '2.04 TB/s'``
`percent`            3 significant figures                   ``0.02894 -> '2.89%'``
`exact`              integers with thousands separators;     ``25557032 -> '25,557,032'``
                     formulas via `expr`
`size`               a batch or sequence length: the         ``2048 -> '2048'``
                     integer as it is, formulas via `expr`
`expr`               a SymPy formula abbreviated for a       see below
                     terminal; ``full=True`` prints it whole
===================  ======================================  =================================

Rounding is to 3 significant figures, half up, *before* the prefix is chosen: 999,500 is
``1.00M``, never ``1e+03K``, and trailing zeros are kept (``4.10K`` beside ``9.41K``).

Formulas: `expr` prints a SymPy expression as it is when it fits in `width` characters. A
longer one is shortened in two steps, each of which is marked: first, rationals with more than
two-digit denominators (roofline times such as ``59146977*B/507812500000``) print as floats of
3 significant figures; then, if it is still too long, a sum keeps its leading terms and says how
many it left out (``... + … (+12 terms)``), and anything else is cut with ``…``. The exact
form is always one flag away: ``full=True`` here, ``full=True`` on every renderer, ``--full``
on the command line. Machine formats (CSV, JSON) always carry the exact form (`plain`).

This module imports only SymPy; everything that renders imports it.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import sympy as sp

__all__ = [
    "SIG_FIGS", "EXPR_WIDTH", "ELLIPSIS", "count", "params", "nbytes", "seconds", "rate",
    "percent", "exact", "expr", "shape", "size", "plain", "brief", "is_symbolic",
]

#: Significant figures of every rounded number.
SIG_FIGS = 3
#: Default width (characters) of an abbreviated formula.
EXPR_WIDTH = 40
#: The mark of an abbreviation.
ELLIPSIS = "…"

_COUNT_PREFIXES = ("", "K", "M", "G", "T", "P", "E")
_PARAM_PREFIXES = ("", "K", "M", "B", "T")
_SI_UNIT_PREFIXES = ("", "k", "M", "G", "T", "P", "E")
_BINARY_PREFIXES = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_TIME_UNITS = ((0, "s"), (-1, "ms"), (-2, "µs"), (-3, "ns"), (-4, "ps"))


def is_symbolic(x: Any) -> bool:
    """True for a SymPy expression with free symbols (a formula, not a number)."""
    return isinstance(x, sp.Basic) and not x.is_number


def _decimal(x: Any) -> Decimal | None:
    """An exact Decimal of a finite real number (int, float, Fraction, SymPy number), or
    None."""
    d = _decimal_or_nan(x)
    return d if d is not None and d.is_finite() else None


def _decimal_or_nan(x: Any) -> Decimal | None:
    if isinstance(x, bool):
        return Decimal(int(x))
    if isinstance(x, int):
        return Decimal(x)
    if isinstance(x, sp.Basic):
        if not x.is_number or x.is_real is False:
            return None
        if x.is_Integer:
            return Decimal(int(x))
        if x.is_Rational:
            with localcontext() as ctx:
                ctx.prec = 60
                return Decimal(int(x.p)) / Decimal(int(x.q))
        try:
            return Decimal(float(x))
        except (TypeError, ValueError):
            return None
    if isinstance(x, numbers.Rational):
        with localcontext() as ctx:
            ctx.prec = 60
            return Decimal(x.numerator) / Decimal(x.denominator)
    if isinstance(x, numbers.Real):
        f = float(x)
        if f != f or f in (float("inf"), float("-inf")):
            return None
        return Decimal(f)
    return None


def _round_sig(d: Decimal, digits: int) -> tuple[str, int]:
    """``(mantissa digits, exponent of the first digit)`` of ``|d| > 0`` rounded half up to
    `digits` significant figures: ``Decimal(999500) -> ('100', 6)``."""
    with localcontext() as ctx:
        ctx.prec = max(60, digits + 5)
        d = abs(d)
        e = d.adjusted()
        q = d.scaleb(digits - 1 - e).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        if q >= 10**digits:  # 9.995 -> 10.0: one more digit, drop the trailing zero
            q = (q / 10).quantize(Decimal(1))
            e += 1
    return str(int(q)), e


def _place(mantissa: str, int_digits: int) -> str:
    """Put the decimal point after `int_digits` digits of `mantissa` (pad with zeros)."""
    if int_digits <= 0:
        return "0." + "0" * (-int_digits) + mantissa
    if int_digits >= len(mantissa):
        return mantissa + "0" * (int_digits - len(mantissa))
    return mantissa[:int_digits] + "." + mantissa[int_digits:]


def _engineering(x: Any, prefixes: tuple[str, ...], digits: int, *, lowest: int = 0,
                 exact_below: int | None = 1000, sep: str = "", unit: str = "") -> str | None:
    """`x` rounded to `digits` significant figures with the prefix of its power of 1000.

    ``prefixes[i]`` is the prefix of ``1000**(i + lowest)``. Integers below `exact_below`
    print exactly. Returns None for values that are not real numbers."""
    d = _decimal(x)
    if d is None:
        return None
    sign = "-" if d < 0 else ""
    tail = f"{sep}{unit}" if unit else ""
    if d == 0:
        return f"0{sep}{unit}" if unit else "0"
    is_int = isinstance(x, int) or (isinstance(x, sp.Basic) and x.is_Integer)
    if exact_below is not None and is_int and abs(d) < exact_below:
        return f"{sign}{int(abs(d))}{tail}"
    mantissa, e = _round_sig(d, digits)
    index = e // 3 - lowest
    if index >= len(prefixes):  # beyond the largest prefix: scientific notation
        return f"{sign}{mantissa[0]}.{mantissa[1:]}e{e:+03d}{sep}{prefixes[0]}{unit}"
    if index < 0:
        if lowest == 0:  # a count below 1 (a ratio): plain decimals
            return f"{sign}{_place(mantissa, e + 1)}{tail}"
        index = 0  # below the smallest prefix: decimals of it
    power = 3 * (index + lowest)
    return f"{sign}{_place(mantissa, e - power + 1)}{sep}{prefixes[index]}{unit}"


def _symbolic_or(x: Any, width: int, full: bool, unit: str = "",
                 floats: bool = False) -> str | None:
    if is_symbolic(x):
        s = expr(x, width, full=full, floats=floats)
        return f"{s} {unit}" if unit else s
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    return None


def count(x: Any, *, digits: int = SIG_FIGS, width: int = EXPR_WIDTH, full: bool = False) -> str:
    """A count (MACs, FLOPs, elements) with an SI prefix: K, M, G, T, P, E.

    >>> count(61264904), count(999), count(1000), count(4100), count(999_500)
    ('61.3M', '999', '1.00K', '4.10K', '1.00M')
    >>> count(0), count(-1500), count(0.5), count(sp.Rational(4096, 4099)), count(2.0)
    ('0', '-1.50K', '0.500', '0.999', '2.00')
    >>> count(sp.Symbol("H") * 2)
    '2*H'
    """
    s = _symbolic_or(x, width, full)
    if s is not None:
        return s
    out = _engineering(x, _COUNT_PREFIXES, digits)
    return out if out is not None else str(x)


def params(x: Any, *, digits: int = SIG_FIGS, width: int = EXPR_WIDTH,
           full: bool = False) -> str:
    """A parameter count: K, M, then ``B`` for billions and ``T`` for trillions, as model cards
    write them (Llama 2 "7B").

    >>> params(25_557_032), params(124_439_808), params(6_738_415_616), params(9408)
    ('25.6M', '124M', '6.74B', '9.41K')
    """
    s = _symbolic_or(x, width, full)
    if s is not None:
        return s
    out = _engineering(x, _PARAM_PREFIXES, digits)
    return out if out is not None else str(x)


def nbytes(x: Any, *, binary: bool = False, digits: int = SIG_FIGS, width: int = EXPR_WIDTH,
           full: bool = False) -> str:
    """Bytes with their unit: SI (kB, MB, GB: powers of 1000, the default) or, with
    ``binary=True``, KiB, MiB, GiB (powers of 1024).

    >>> nbytes(102_228_128), nbytes(102_228_128, binary=True), nbytes(512), nbytes(1536, binary=True)
    ('102 MB', '97.5 MiB', '512 B', '1.50 KiB')
    >>> nbytes(sp.Symbol("n") * 4)
    '4*n bytes'
    """
    s = _symbolic_or(x, width, full, "bytes")
    if s is not None:
        return s
    if not binary:
        out = _engineering(x, _SI_UNIT_PREFIXES, digits, sep=" ", unit="B")
        return out if out is not None else str(x)
    d = _decimal(x)
    if d is None:
        return str(x)
    if abs(d) < 1024 and (isinstance(x, int) or isinstance(x, sp.Integer)):
        return f"{int(d)} B"
    index = 0
    scaled = abs(d)
    while scaled >= 1024 and index < len(_BINARY_PREFIXES) - 1:
        scaled /= 1024
        index += 1
    mantissa, e = _round_sig(scaled, digits)
    sign = "-" if d < 0 else ""
    return f"{sign}{_place(mantissa, e + 1)} {_BINARY_PREFIXES[index]}B"


def seconds(x: Any, *, digits: int = SIG_FIGS, width: int = EXPR_WIDTH,
            full: bool = False) -> str:
    """A time: s, ms, µs, ns or ps, 3 significant figures. Exact rationals become floats here,
    in formulas too unless ``full`` (a time is a bound, not a count).

    >>> seconds(sp.Rational(65584, 3982421875)), seconds(2.5), seconds(0.0001), seconds(0)
    ('16.5 µs', '2.50 s', '100 µs', '0 s')
    >>> seconds(1234.0), seconds(sp.Rational(931, 156250000) * sp.Symbol("B"))
    ('1230 s', '5.96e-6*B s')
    """
    s = _symbolic_or(x, width, full, "s", floats=True)
    if s is not None:
        return s
    d = _decimal(x)
    if d is None:
        return str(x)
    if d == 0:
        return "0 s"
    mantissa, e = _round_sig(d, digits)
    sign = "-" if d < 0 else ""
    k = min(0, max(-4, e // 3))
    unit = dict(_TIME_UNITS)[k]
    return f"{sign}{_place(mantissa, e - 3 * k + 1)} {unit}"


def rate(x: Any, unit: str = "FLOP/s", *, digits: int = SIG_FIGS, width: int = EXPR_WIDTH,
         full: bool = False) -> str:
    """A rate with an SI prefix on its unit: peak compute, bandwidth.

    >>> rate(312 * 10**12), rate(2_039_000_000_000, "B/s"), rate(19_500_000_000_000)
    ('312 TFLOP/s', '2.04 TB/s', '19.5 TFLOP/s')
    """
    s = _symbolic_or(x, width, full, unit)
    if s is not None:
        return s
    out = _engineering(x, _SI_UNIT_PREFIXES, digits, exact_below=None, sep=" ", unit=unit)
    return out if out is not None else f"{x} {unit}"


def percent(fraction: Any, *, digits: int = SIG_FIGS) -> str:
    """A fraction as a percentage: 3 significant figures, ``<0.1%`` for a positive share below
    a thousandth (its digits are noise in a table), ``''`` for a formula.

    >>> percent(0.02894), percent(1), percent(0), percent(sp.Rational(1, 3)), percent(0.0037)
    ('2.89%', '100%', '0%', '33.3%', '0.370%')
    >>> percent(0.00037), percent(-0.5), percent(-0.00041)
    ('<0.1%', '-50.0%', '-0.0410%')
    """
    if fraction is None or is_symbolic(fraction) or isinstance(fraction, str):
        return ""
    d = _decimal(fraction)
    if d is None:
        return ""
    if d == 0:
        return "0%"
    if Decimal(0) < d < Decimal("0.001"):
        return "<0.1%"
    mantissa, e = _round_sig(d * 100, digits)
    sign = "-" if d < 0 else ""
    out = _place(mantissa, e + 1)
    if "." in out and set(out.split(".")[1]) == {"0"} and e + 1 >= digits:
        out = out.split(".")[0]
    return f"{sign}{out}%"


def exact(x: Any, *, width: int = EXPR_WIDTH, full: bool = False) -> str:
    """An exact value: integers with thousands separators, rationals as fractions, formulas
    through `expr` (abbreviated unless ``full``).

    >>> exact(25557032), exact(-1500), exact(sp.Rational(4096, 4099)), exact(sp.Symbol("H") + 1)
    ('25,557,032', '-1,500', '4096/4099', 'H + 1')
    """
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, sp.Integer):
        return f"{int(x):,}"
    if is_symbolic(x):
        return expr(x, width, full=full)
    if isinstance(x, float):
        return count(x)
    return str(x)


def _floats_for_fractions(x: sp.Basic, digits: int) -> sp.Basic:
    """Rationals with a denominator of three or more digits (or a long numerator) become
    floats of `digits` significant figures; small ones (``1/2``, exponents) stay, and so does
    everything inside a floor or ceiling (``ceiling(H/2048)`` is a size, not a measurement)."""
    def convert(e: sp.Basic) -> sp.Basic:
        if e.is_Rational:
            if not e.is_Integer and (e.q > 99 or abs(e.p) > 9999):
                return sp.Float(sp.Float(e, digits), digits)
            return e
        if e.is_Atom or isinstance(e, (sp.floor, sp.ceiling)):
            return e
        return e.func(*[convert(a) for a in e.args])

    return convert(x)


def _terms(x: sp.Basic) -> list[sp.Basic]:
    return list(x.as_ordered_terms()) if isinstance(x, sp.Add) else [x]


def _join_terms(terms: list[sp.Basic], printer: Any) -> str:
    out = ""
    for i, t in enumerate(terms):
        if i and t.could_extract_minus_sign():
            out += " - " + printer(-t)
        elif i:
            out += " + " + printer(t)
        else:
            out = printer(t)
    return out


def abbreviate(x: sp.Basic, width: int = EXPR_WIDTH, *, digits: int = SIG_FIGS,
               floats: bool = False) -> tuple[sp.Basic, list[sp.Basic], int]:
    """``(shown, terms kept, terms left out)`` for printing `x` in about `width` characters:
    the expression with long fractions as floats (always with `floats`), the leading terms of
    its sum that fit, and how many terms did not. Printers (`expr`, the LaTeX renderer) join
    the kept terms."""
    shown = x
    if floats or len(sp.sstr(shown)) > width:
        shown = _floats_for_fractions(x, digits)
    terms = _terms(shown)
    if len(sp.sstr(shown)) <= width or len(terms) == 1:
        return shown, terms, 0
    kept: list[sp.Basic] = []
    for t in terms:
        rest = len(terms) - len(kept) - 1
        suffix = len(f" + {ELLIPSIS} (+{rest} terms)") if rest else 0
        if kept and len(_join_terms([*kept, t], sp.sstr)) + suffix > width:
            break
        kept.append(t)
    return shown, kept, len(terms) - len(kept)


def expr(x: Any, width: int = EXPR_WIDTH, *, full: bool = False, digits: int = SIG_FIGS,
         floats: bool = False) -> str:
    """A SymPy expression for a terminal: whole when it fits in `width` characters (or
    ``full=True``), otherwise abbreviated: long fractions as floats, then the leading terms of
    a sum that fit (at least one, and the number left out), then a cut of a leading term longer
    than `width`; every abbreviation is marked with ``…``. The result has at most `width`
    characters plus the `` + … (+N terms)`` note.

    >>> H, W = sp.symbols("H W")
    >>> expr(216 * H * W)
    '216*H*W'
    >>> expr(sum(k * H**k for k in range(1, 9)), width=30)
    '8*H**8 + 7*H**7 + … (+6 terms)'
    >>> expr(sp.Rational(59146977, 507812500000) * H, width=20)
    '0.000116*H'
    >>> expr(sum(k * H**k for k in range(1, 9)), width=30, full=True)[:28]
    '8*H**8 + 7*H**7 + 6*H**6 + 5'
    """
    if not isinstance(x, sp.Basic):
        return str(x)
    s = sp.sstr(x)
    if full or (len(s) <= width and not floats):
        return s
    shown, kept, left = abbreviate(x, width, digits=digits, floats=floats)
    s = _join_terms(kept, sp.sstr)
    suffix = f" + {ELLIPSIS} (+{left} terms)" if left else ""
    if len(s) > width:  # the leading term alone is too long: cut it
        s = s[: max(1, width - 1)] + ELLIPSIS
    return s + suffix


def size(x: Any, *, width: int = EXPR_WIDTH, full: bool = False) -> str:
    """A size (a batch, a sequence length) as a shape prints each dimension: the integer as
    it is, a formula through `expr`.

    >>> size(2048), size(sp.Symbol("B")), size(None)
    ('2048', 'B', '-')
    """
    if x is None:
        return "-"
    return expr(x, width, full=full) if is_symbolic(x) else str(x)


def shape(s: Any, *, width: int = EXPR_WIDTH, full: bool = False) -> str:
    """A shape without the batch: ``(3, 224, 224)``, ``(1000,)``; several inputs joined by
    ``&``.

    >>> shape((3, 224, 224)), shape((1000,)), shape(((8, 4), (8, 4)))
    ('(3, 224, 224)', '(1000,)', '(8, 4) & (8, 4)')
    """
    if s is None:
        return "-"
    if isinstance(s, str):
        return s
    if s and isinstance(s[0], tuple):
        return " & ".join(shape(t, width=width, full=full) for t in s)
    parts = [v if isinstance(v, str) else (expr(v, width, full=full) if is_symbolic(v)
                                           else str(v)) for v in s]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def plain(v: Any) -> Any:
    """A JSON/CSV-safe exact value: ints stay ints, floats stay floats, None stays None,
    everything else (formulas, rationals) becomes its full string.

    >>> plain(3), plain(sp.Integer(4)), plain(sp.Rational(1, 2)), plain(sp.Symbol("H") * 2)
    (3, 4, '1/2', '2*H')
    """
    if v is None or isinstance(v, (bool, str)):
        return v
    if type(v) is int or isinstance(v, float):
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, sp.Basic) and v.is_Integer:
        return int(v)
    if isinstance(v, (tuple, list)):
        return [plain(x) for x in v]
    return str(v)


def brief(kind: str, name: str, parts: Iterable[str], limit: int = 300) -> str:
    """A compact ``repr``: ``<Report resnet50: 175 rows, 25.6M params, 4.09G MACs>``, never
    longer than `limit` characters (each part abbreviated, the whole cut with ``…``).

    >>> brief("Report", "resnet50", ["175 rows", "25.6M params"])
    '<Report resnet50: 175 rows, 25.6M params>'
    """
    head = f"<{kind} {name}" if name else f"<{kind}"
    body = ", ".join(p for p in parts if p)
    out = f"{head}: {body}>" if body else f"{head}>"
    if len(out) > limit:
        out = out[: limit - 2] + ELLIPSIS + ">"
    return out
