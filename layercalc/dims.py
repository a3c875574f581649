"""Dimensions: the int-or-SymPy values every formula works on, and the few helpers that keep
them exact and fast.

# NOTE: import order is errors -> dims -> format -> table -> symbols/shapes -> cost ->
# conventions -> layers -> report -> network -> {compare, blocks, symbolic, evaluate, memory,
# hardware} -> roofline -> {fuse, plot} -> zoo -> cli (layercalc/README.md).
# A module may import only from modules to its left.

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

import numbers
from collections.abc import Iterable, Sequence
from typing import Any, Union

import sympy as sp

from .errors import LayerSpecError

__all__ = [
    "Dim",
    "DimsLike",
    "Shape",
    "truth",
    "require",
    "as_dim",
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
    return sp.sympify(a) >= b


def divides(d: Any, n: Any) -> Any:
    """Whether `d` divides `n`: a bool for ints; for symbols False when provably not, else
    None (undecided, so `require` lets it pass).

    >>> divides(4, 12), divides(5, 12), divides(2, sp.Symbol("n", integer=True)) is None
    (True, False, True)
    """
    if type(d) is int and type(n) is int:
        return n % d == 0
    return False if (sp.sympify(n) / d).is_integer is False else None


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
    return sp.sympify(x)


def as_dim(value: Any, layer: str, field: str, *, minimum: int = 1) -> Dim:
    """Convert one user-given dimension to a `Dim`, checking it is an integer >= `minimum`.

    Symbols are accepted unless they are provably not integers or provably below `minimum`.
    """
    if isinstance(value, bool) or not isinstance(value, (numbers.Number, sp.Basic)):
        raise LayerSpecError(
            layer, f"{field} (={value!r}) must be an integer or a SymPy expression"
        )
    if isinstance(value, sp.Basic):
        if not isinstance(value, sp.Expr):
            raise LayerSpecError(layer, f"{field} (={value}) must be an integer expression")
        if value.is_Integer:
            value = int(value)
        elif value.is_integer is False or value.is_number:
            raise LayerSpecError(layer, f"{field} (={value}) must be an integer")
    elif isinstance(value, numbers.Integral):
        value = int(value)
    else:
        f = float(value)
        if not f.is_integer():
            raise LayerSpecError(layer, f"{field} (={value}) must be an integer")
        value = int(f)
    if minimum == 1:
        require(value >= 1, layer, f"{field} (={value}) must be positive")
    else:
        require(value >= minimum, layer, f"{field} (={value}) must be >= {minimum}")
    return value


def fdiv(a: Dim, b: Dim) -> Dim:
    """``floor(a / b)``."""
    if type(a) is int and type(b) is int:
        return a // b
    return as_count(sp.floor(sp.sympify(a) / b))


def cdiv(a: Dim, b: Dim) -> Dim:
    """``ceiling(a / b)``."""
    if type(a) is int and type(b) is int:
        return -((-a) // b)
    return as_count(sp.ceiling(sp.sympify(a) / b))


def exact_div(a: Dim, b: Dim) -> Dim:
    """``a / b`` where the caller knows (or assumes) that `b` divides `a`."""
    if type(a) is int and type(b) is int:
        q, r = divmod(a, b)
        return q if r == 0 else sp.Rational(a, b)
    return as_count(sp.sympify(a) / b)


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
    return str(x)
