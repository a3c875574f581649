"""Dimensions: the int-or-SymPy values every formula works on, and the few helpers that keep
them exact and fast.

# NOTE: the import order is written in layercalc/README.md ("The import rule"): errors -> dims
# -> format -> table -> {symbols, shapes, floors} -> parse -> cost -> conventions -> peers ->
# registry -> layers -> ... -> cli. A module may import only from modules to its left, at
# module level.

Design constraints:

- A dimension (`Dim`) is a Python ``int`` when it is a number, and a SymPy expression when it
  involves symbols. Numbers stay Python ints so that a concrete network is counted with integer
  arithmetic at Python speed and exactly (no floats anywhere); symbols stay symbolic.
- Every helper here (`fdiv`, `cdiv`, `smax`, ...) has an int fast path and a SymPy path.
- `truth` is the only bridge from SymPy logic to Python booleans; nothing calls ``bool()`` on a
  SymPy relation. `require` raises only when a condition is *provably* false (the rule of
  ``sympy.stats.rv._value_check``): a symbol is never rejected for being a symbol.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Iterable, Sequence
from typing import Any, Union

import sympy as sp

from .errors import ArgumentError, LayerSpecError

__all__ = [
    "Dim",
    "DimsLike",
    "Shape",
    "truth",
    "require",
    "as_dim",
    "to_expr",
    "subs_pairs",
    "show",
    "as_real",
    "as_index",
    "MAX_SIZE",
    "MAX_NUMBER",
    "as_count",
    "is_number",
    "eq",
    "ge",
    "divides",
    "fdiv",
    "cdiv",
    "exact_div",
    "smax",
    "smin",
    "prod",
    "fmt",
]

Dim = Union[int, sp.Expr]
DimsLike = Union[Dim, Sequence[Dim]]
Shape = tuple  # tuple[Dim, ...], batch excluded


def to_expr(x: Any) -> sp.Expr:
    """The SymPy form of a value layercalc already holds (an int, a SymPy object, a Fraction
    or NumPy number): the one place that calls ``sympify``, with ``strict=True``, and never on
    text: a string raises `ArgumentError` (text is parsed by `layercalc.parse_dims` only).

    >>> to_expr(3), to_expr(sp.Symbol("H"))
    (3, H)
    """
    if isinstance(x, sp.Basic):
        return x
    if type(x) is int:
        return sp.Integer(x)
    if isinstance(x, (str, bytes)):
        raise ArgumentError("layercalc", f"text ({show(x)}) is not a number or a SymPy "
                            "expression", "Parse sizes with layercalc.parse_dims.")
    return sp.sympify(x, strict=True)


def truth(cond: Any) -> bool | None:
    """``True``/``False`` when `cond` is decided, ``None`` when it depends on the symbols.

    >>> import sympy as sp
    >>> H = sp.Symbol("H", integer=True, positive=True)
    >>> truth(H >= 1), truth(H >= 2), truth(3 > 2)
    (True, None, True)
    """
    if cond is None or isinstance(cond, bool):
        return cond
    if cond is sp.true:  # note: sp.false is not False
        return True
    if cond is sp.false:
        return False
    return None  # an undecided Relational such as C >= g


def require(cond: Any, layer: str, problem: Any, hint: Any = "", error=LayerSpecError) -> None:
    """Raise `error` only if `cond` is provably false.

    `problem` and `hint` may be zero-argument callables returning the message, so that a message quoting
    large symbolic shapes is only printed when it is needed (printing SymPy is slow).
    """
    if truth(cond) is False:
        raise error(layer, problem() if callable(problem) else problem,
                    hint() if callable(hint) else hint)


def eq(a: Any, b: Any) -> Any:
    """``a == b`` as a Python bool for ints, a SymPy relation (possibly undecided) otherwise."""
    if type(a) is int and type(b) is int:
        return a == b
    return sp.Eq(a, b)


def ge(a: Any, b: Any) -> Any:
    """``a >= b`` as a Python bool for ints, a SymPy relation (possibly undecided) otherwise."""
    if type(a) is int and type(b) is int:
        return a >= b
    d = to_expr(a) - b  # the difference first: SymPy rewrites ceiling(x) >= ceiling(x) + 1
    if d.is_Number:     # into x > ceiling(x), which it then cannot decide
        return bool(d >= 0)
    return d >= 0


def divides(d: Any, n: Any) -> Any:
    """Whether `d` divides `n`: a bool for ints; for symbols False when provably not, else
    None (undecided, so `require` lets it pass).

    >>> divides(4, 12), divides(5, 12), divides(2, sp.Symbol("n", integer=True)) is None
    (True, False, True)
    """
    if type(d) is int and type(n) is int:
        return n % d == 0
    return False if (to_expr(n) / d).is_integer is False else None


def is_number(x: Any) -> bool:
    """True for a plain Python int (the fast path)."""
    return type(x) is int


def as_count(x: Any) -> Dim:
    """Normalise a count: integral SymPy numbers become Python ints, expressions stay."""
    if type(x) is int:
        return x
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, numbers.Integral):
        return int(x)
    if isinstance(x, sp.Integer):
        return int(x)
    if isinstance(x, sp.Basic):
        return x
    if isinstance(x, numbers.Rational):
        return sp.Rational(x.numerator, x.denominator)
    return to_expr(x)


#: The largest size `as_dim` accepts (``10**30``): far beyond any tensor, and small enough that
#: every count built from sizes stays printable (Python refuses to print integers of more than
#: 4300 digits) and fast to compute.
MAX_SIZE = 10**30
#: The largest number accepted anywhere inside an expression or as a count (``10**1000``).
MAX_NUMBER = 10**1000

# SymPy node types an integer-valued size or count may be built from; anything else (sin, exp,
# an undefined function, an integral, a matrix ...) is rejected by `as_dim`.
_EXPR_NODES = (
    sp.Symbol, sp.Integer, sp.Rational, sp.Add, sp.Mul, sp.Pow, sp.floor, sp.ceiling, sp.Max,
    sp.Min, sp.Mod, sp.Abs, sp.Piecewise, sp.Sum, sp.Tuple,
    sp.core.relational.Relational, sp.And, sp.Or, sp.Not,
    sp.logic.boolalg.BooleanTrue, sp.logic.boolalg.BooleanFalse,
    sp.functions.elementary.piecewise.ExprCondPair,
)
_ALLOWED_FUNCTIONS = "floor, ceiling, Max, Min, Mod, Abs, Piecewise and Sum"


def show(value: Any, limit: int = 60) -> str:
    """`value` as an error message quotes it: ``repr`` for Python objects, ``str`` for SymPy,
    shortened past `limit` characters; never fails (an integer too long to print is described
    by its number of digits).

    >>> show("3"), show(2.5), show(10**5000), show("x" * 100)[-14:]
    ("'3'", '2.5', 'an integer of 5001 digits', '...(100 chars)')
    """
    if type(value) is int and value.bit_length() > 3 * limit:
        return f"an integer of {_digits(value)} digits"
    if isinstance(value, sp.Integer) and int(value).bit_length() > 3 * limit:
        return f"an integer of {_digits(int(value))} digits"
    try:
        text = str(value) if isinstance(value, sp.Basic) else repr(value)
    except Exception:  # noqa: BLE001 - an object whose repr fails is shown by its type
        return f"<{type(value).__name__} object>"
    if len(text) > limit:
        extra = f"({len(value)} chars)" if isinstance(value, (str, bytes)) else ""
        text = text[: limit - 3 - len(extra)] + "..." + extra
    return text


def _digits(value: int) -> int:
    """Decimal digits of a (huge) int without converting it to a string."""
    n = abs(value)
    d = int(n.bit_length() * 0.30102999566398120) + 1
    while d > 1 and 10 ** (d - 1) > n:
        d -= 1
    while 10**d <= n:
        d += 1
    return d


@functools.lru_cache(maxsize=4096)
def _expr_problem(value: sp.Expr, integer: bool) -> str:
    """Why the SymPy expression `value` is not an integer-valued size or count ('' if it is
    or may be one). Cached: the same expressions are checked many times during a trace."""
    for node in sp.preorder_traversal(value):
        if isinstance(node, sp.Rational):
            if abs(node.p) > MAX_NUMBER or node.q > MAX_NUMBER:
                return "contains a number larger than 10**1000"
            continue
        if isinstance(node, (sp.Float, sp.NumberSymbol, sp.core.numbers.ImaginaryUnit,
                             sp.core.numbers.Infinity, sp.core.numbers.NegativeInfinity,
                             sp.core.numbers.ComplexInfinity, sp.core.numbers.NaN)):
            return f"contains {node}, which is not an integer or a fraction"
        if isinstance(node, sp.Symbol):
            if node.is_integer is False and integer:
                return f"contains the symbol {node}, which is declared non-integer"
            if node.is_real is False:
                return f"contains the symbol {node}, which is declared non-real"
            continue
        if not isinstance(node, _EXPR_NODES):
            name = getattr(node.func, "__name__", type(node).__name__)
            return (f"contains {name}, which is not an integer function (sizes and counts "
                    f"are built from +, -, *, /, powers, {_ALLOWED_FUNCTIONS})")
    if integer and value.is_integer is False:
        return "is not an integer"
    return ""


def as_dim(value: Any, owner: str, field: str, *, minimum: int | None = 1,
           integer: bool = True, limit: int = MAX_SIZE, error: type = LayerSpecError) -> Dim:
    """The one validation boundary for sizes, counts and values: convert `value` to a `Dim`
    (a Python ``int``, or a SymPy expression), or raise `error` (a `LayerCalcError`) naming
    `owner` (a layer kind or a function), `field`, the value and what is allowed.

    Accepted: ``int`` (and NumPy integers), SymPy integers, and SymPy expressions that are
    integer-valued or could be (``H``, ``ceiling(H/2)``, ``Max(1, H - 2)``) built from ``+ - *
    /``, powers, ``floor``, ``ceiling``, ``Max``, ``Min``, ``Mod``, ``Abs``, ``Piecewise`` and
    ``Sum``. With ``integer=False`` (expressions compared by `layercalc.ratio` and
    `layercalc.break_even`) fractions are accepted too.

    Rejected: strings and bytes (text is parsed only by `layercalc.parse_dims`), ``bool``,
    floats (``2.0`` too: a size is an integer), complex numbers, ``nan``/``inf``, ``None``,
    lists and arrays where one value is meant, other objects, SymPy non-integers (``1/2``,
    ``pi``, ``oo``, ``zoo``, ``nan``, floats), relations, functions such as ``sin``, numbers
    above `limit` (`MAX_SIZE` for sizes), and values provably below `minimum` (``None``: no
    lower bound). A symbol is never rejected for being a symbol, only when its assumptions
    prove the value wrong.

    >>> as_dim(3, "Conv2d", "in_channels"), as_dim(sp.Integer(4), "f", "n")
    (3, 4)
    >>> as_dim("3", "analyze", "batch")
    Traceback (most recent call last):
    ...
    layercalc.errors.LayerSpecError: analyze: batch (='3') must be an integer or a SymPy expression, not a string. Parse text with layercalc.parse_dims.
    >>> as_dim(2.0, "Linear", "in_features")
    Traceback (most recent call last):
    ...
    layercalc.errors.LayerSpecError: Linear: in_features (=2.0) must be an integer, not a float.
    """
    if type(value) is not int:
        if isinstance(value, sp.Integer):
            value = int(value)
        elif isinstance(value, numbers.Integral) and not isinstance(value, (bool, sp.Basic)):
            value = int(value)  # NumPy integers
        elif isinstance(value, sp.Basic):
            return _as_expr_dim(value, owner, field, minimum, integer, limit, error)
        else:
            number = isinstance(value, numbers.Number) or isinstance(value, bool)
            raise error(owner, f"{field} (={show(value)}) must be "
                        + ("an integer" if number else "an integer or a SymPy expression")
                        + _not_a(value),
                        "Parse text with layercalc.parse_dims." if isinstance(
                            value, (str, bytes)) else "")
    if minimum is not None and value < minimum:
        raise error(owner, _below(field, value, minimum))
    if abs(value) > limit:
        raise error(owner, f"{field} (={show(value)}) must be at most {_power(limit)}")
    return value


#: (expression, minimum, integer, limit) of expressions `_as_expr_dim` accepted: the checks
#: (integrality, the positivity question put to SymPy's assumptions) are pure functions of
#: these, and the same sizes are checked again by every layer they reach. Bounded.
_ACCEPTED: set = set()
_ACCEPTED_SIZE = 16384


def _as_expr_dim(value: sp.Basic, owner: str, field: str, minimum: int | None, integer: bool,
                 limit: int, error: type) -> Dim:
    key = (value, minimum, integer, limit)
    try:
        if key in _ACCEPTED:
            return value
    except TypeError:  # pragma: no cover - SymPy objects hash
        key = None
    out = _check_expr_dim(value, owner, field, minimum, integer, limit, error)
    if key is not None:
        if len(_ACCEPTED) >= _ACCEPTED_SIZE:
            _ACCEPTED.clear()
        _ACCEPTED.add(key)
    return out


def _check_expr_dim(value: sp.Basic, owner: str, field: str, minimum: int | None,
                    integer: bool, limit: int, error: type) -> Dim:
    if not isinstance(value, sp.Expr):
        kind = ("a relation" if isinstance(value, sp.core.relational.Relational) else
                "a logical value" if isinstance(value, sp.logic.boolalg.Boolean) else
                f"a {type(value).__name__}")
        raise error(owner, f"{field} (={show(value)}) must be an integer expression, not "
                    f"{kind}")
    if value.is_Rational:  # a number that is not an Integer: a fraction
        if integer:
            raise error(owner, f"{field} (={show(value)}) must be an integer")
        if abs(value.p) > MAX_NUMBER or value.q > MAX_NUMBER or abs(value) > limit:
            raise error(owner, f"{field} (={show(value)}) must be at most {_power(limit)}")
        if minimum is not None and value < minimum:
            raise error(owner, _below(field, value, minimum))
        return value
    problem = _expr_problem(value, integer)
    if problem:
        if problem.startswith("contains a number larger"):
            raise error(owner, f"{field} (={show(value)}) must not contain a number larger "
                        f"than {_power(MAX_NUMBER)}")
        if value.is_number or problem == "is not an integer":
            raise error(owner, f"{field} (={show(value)}) must be "
                        + ("an integer" if integer else "a rational number"))
        raise error(owner, f"{field} (={show(value)}) must be an integer expression: it "
                    f"{problem}")
    if minimum is not None:
        require(ge(value, minimum), owner, lambda: _below(field, value, minimum), error=error)
    return value


def as_index(value: Any, owner: str, field: str, *, optional: bool = False,
             error: type = LayerSpecError) -> Any:
    """An axis or index (``dim=-1``, ``start_dim``): a Python or NumPy integer, not ``bool``,
    of magnitude below 2**63 (PyTorch's int64), or ``None`` when `optional`."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or isinstance(
            value, sp.Basic):
        raise error(owner, f"{field} (={show(value)}) must be an integer"
                    + (" or None" if optional else ""))
    value = int(value)
    if abs(value) >= 2**63:
        raise error(owner, f"{field} (={show(value)}) is out of range")
    return value


def as_real(value: Any, owner: str, field: str, *, minimum: Any = None, maximum: Any = None,
            optional: bool = False, allow_inf: bool = False, allow_nan: bool = False,
            error: type = LayerSpecError) -> Any:
    """Check a real-valued hyperparameter (``eps``, ``momentum``, a slope, a probability, a
    budget): a Python or NumPy number (not ``bool``), a ``Fraction``, or a SymPy real number or
    expression, in ``[minimum, maximum]`` (each bound optional; decided only when provable),
    finite unless `allow_inf` / `allow_nan`, ``None`` only when `optional`. Returns `value`
    unchanged (NumPy scalars become Python numbers).

    >>> as_real(1e-5, "BatchNorm2d", "eps", minimum=0)
    1e-05
    >>> as_real("0.1", "BatchNorm2d", "momentum")
    Traceback (most recent call last):
    ...
    layercalc.errors.LayerSpecError: BatchNorm2d: momentum (='0.1') must be a real number, not a string.
    """
    if value is None and optional:
        return None
    if isinstance(value, bool) or type(value).__name__ == "bool_" or not isinstance(
            value, (numbers.Real, sp.Basic)):
        raise error(owner, f"{field} (={show(value)}) must be a real number"
                    + (" or None" if optional else "") + _not_a(value))
    if isinstance(value, numbers.Real) and not isinstance(value, (int, float, sp.Basic)):
        value = int(value) if isinstance(value, numbers.Integral) else (
            value if isinstance(value, numbers.Rational) else float(value))  # NumPy scalars
    if isinstance(value, sp.Basic):
        if not isinstance(value, sp.Expr) or value.is_real is False or value.has(sp.zoo):
            raise error(owner, f"{field} (={show(value)}) must be a real number")
        bad_inf = not allow_inf and value.has(sp.oo, -sp.oo)
        bad_nan = not allow_nan and value.has(sp.nan)
        if bad_inf or bad_nan:
            raise error(owner, f"{field} (={show(value)}) must be a finite number")
    elif isinstance(value, float):
        if (value != value and not allow_nan) or (value in (float("inf"), float("-inf"))
                                                   and not allow_inf):
            raise error(owner, f"{field} (={show(value)}) must be a finite number")
    if value != value:  # nan: no range applies
        return value
    if truth(abs(to_expr(value)) > MAX_NUMBER) is True and not (
            allow_inf and value in (float("inf"), float("-inf"))):
        raise error(owner, f"{field} (={show(value)}) must be at most {_power(MAX_NUMBER)} in "
                    "magnitude")
    in_range = _in_range(value, minimum, maximum)
    if in_range is False:
        if minimum == 0 and maximum == 1:
            want = "a probability in [0, 1]"
        elif minimum is not None and maximum is not None:
            want = f"in [{minimum}, {maximum}]"
        elif minimum is not None:
            want = f">= {minimum}"
        else:
            want = f"<= {maximum}"
        raise error(owner, f"{field} (={show(value)}) must be {want}")
    return value


def _in_range(value: Any, minimum: Any, maximum: Any) -> bool | None:
    out: bool | None = True
    for ok in ((None if minimum is None else value >= minimum),
               (None if maximum is None else value <= maximum)):
        t = truth(ok) if ok is not None else True
        if t is False:
            return False
        if t is None:
            out = None
    return out


def _not_a(value: Any) -> str:
    if isinstance(value, (str, bytes)):
        return ", not a string" if isinstance(value, str) else ", not bytes"
    if isinstance(value, bool):
        return ", not a bool"
    if isinstance(value, float) or (isinstance(value, numbers.Real)
                                    and not isinstance(value, numbers.Rational)):
        return ", not a float"
    if isinstance(value, complex) or isinstance(value, numbers.Complex) and not isinstance(
            value, numbers.Real):
        return ", not a complex number"
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, dict)):
        return f" (one value), not a {type(value).__name__}"
    if type(value).__module__ == "numpy" and hasattr(value, "shape"):
        return f", not a NumPy {getattr(value, 'dtype', 'array')} array" if getattr(
            value, "ndim", 0) else f", not a NumPy {value.dtype}"
    name = type(value).__name__
    return f", not {'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _below(field: str, value: Any, minimum: int) -> str:
    if minimum == 1:
        return f"{field} (={show(value)}) must be positive"
    return f"{field} (={show(value)}) must be >= {minimum}"


def _power(n: int) -> str:
    """``10**30`` for powers of ten, else the number."""
    d = _digits(n) - 1
    return f"10**{d}" if 10**d == n and d > 6 else str(n)


def subs_pairs(owner: str, args: tuple) -> dict:
    """The arguments of a ``subs(...)`` (``(old, new)``, a mapping, or pairs) as a checked
    ``{old: new}`` dict: every `old` a SymPy object (never a string: ``sympy.subs`` would parse
    it), every `new` through `as_dim` (integers or SymPy expressions; fractions allowed)."""
    if len(args) == 2:
        pairs = [tuple(args)]
    elif len(args) == 1 and isinstance(args[0], dict):
        pairs = list(args[0].items())
    elif len(args) == 1 and isinstance(args[0], (list, tuple, set)):
        pairs = list(args[0])
    else:
        raise ArgumentError(owner, f"subs takes (old, new), a dict or a list of pairs, got "
                            f"{len(args)} arguments")
    out = {}
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ArgumentError(owner, f"subs pair (={show(pair)}) must be (old, new)")
        old, new = pair
        if not isinstance(old, sp.Basic):
            raise ArgumentError(owner, f"subs target (={show(old)}) must be a SymPy symbol or "
                                "expression" + _not_a(old),
                                "Parse text with layercalc.parse_dims." if isinstance(
                                    old, (str, bytes)) else "")
        v = as_dim(new, owner, f"value for {show(old)}", minimum=None, integer=False,
                   limit=MAX_NUMBER, error=ArgumentError)
        out[old] = sp.Integer(v) if type(v) is int else v
    return out


def fdiv(a: Dim, b: Dim) -> Dim:
    """``floor(a / b)``."""
    if type(a) is int and type(b) is int:
        return a // b
    return as_count(sp.floor(to_expr(a) / b))


def cdiv(a: Dim, b: Dim) -> Dim:
    """``ceiling(a / b)``."""
    if type(a) is int and type(b) is int:
        return -((-a) // b)
    return as_count(sp.ceiling(to_expr(a) / b))


def exact_div(a: Dim, b: Dim) -> Dim:
    """``a / b`` where the caller knows (or assumes) that `b` divides `a`."""
    if type(a) is int and type(b) is int:
        q, r = divmod(a, b)
        return q if r == 0 else sp.Rational(a, b)
    return as_count(to_expr(a) / b)


def smax(*xs: Dim) -> Dim:
    """``max`` with an int fast path, ``sympy.Max`` otherwise."""
    if all(type(x) is int for x in xs):
        return max(xs)
    return as_count(sp.Max(*xs))


def smin(*xs: Dim) -> Dim:
    """``min`` with an int fast path, ``sympy.Min`` otherwise."""
    if all(type(x) is int for x in xs):
        return min(xs)
    return as_count(sp.Min(*xs))


def prod(xs: Iterable[Dim]) -> Dim:
    """Product of dims (1 for an empty sequence); stays an int when every factor is one."""
    out: Dim = 1
    for x in xs:
        out = out * x
    return out if type(out) is int else as_count(out)


def fmt(x: Any) -> str:
    """How a value is shown inside an error message."""
    if isinstance(x, tuple):
        return "(" + ", ".join(fmt(v) for v in x) + ("," if len(x) == 1 else "") + ")"
    if isinstance(x, str):
        return repr(x)
    if type(x) is int and x.bit_length() > 10_000:
        return show(x)
    try:
        return str(x)
    except ValueError:  # an integer too long to print
        return show(x)
