"""Canonical forms of the floors and ceilings that output sizes are made of.

Two exact identities for integer ``n >= 1`` and integer ``k``:

- ``ceiling(p/q) = floor((p + q - 1)/q)`` when ``p`` is integer-valued, so every ceiling becomes
  a floor;
- ``floor((floor(x) + k)/n) = floor((x + k)/n)``, so a floor nested in a floor (stacked strided
  layers) merges into one.

Each merged ``floor((P + c)/N)`` is written ``floor((P + r)/N) + q`` with ``c = qN + r``, and
shown as ``ceiling(P/N) + q`` when ``r = N - 1``. `canonical` is used by `analyze` on every
symbolic output size (so shapes stay short: ``ceiling(H/32)``, not five nested floors) and by
`layercalc.closed_form`.
"""

from __future__ import annotations

import sympy as sp

from .dims import to_expr

__all__ = ["canonical"]


def _integer_valued(e: sp.Expr) -> bool:
    return bool(e.is_integer)


def _split(arg: sp.Expr) -> tuple[sp.Expr, int] | None:
    """``arg == P/N`` with integer-valued ``P`` and a positive integer ``N``, or None."""
    num, den = sp.fraction(sp.together(arg))
    if not den.is_Integer or den == 0:
        return None
    num, den = sp.expand(num), int(den)
    if den < 0:
        num, den = -num, -den
    return (num, den) if _integer_valued(num) else None


def _merge_floor(arg: sp.Expr) -> sp.Expr:
    """floor(arg) with nested floors merged and the constant part pulled out."""
    parts = _split(arg)
    if parts is None:
        return sp.floor(arg)
    num, den = parts
    # find one floor term with coefficient +1 in num: floor((floor(x) + k)/n) = floor((x + k)/n)
    for term in sp.Add.make_args(num):
        if isinstance(term, sp.floor):
            inner = _split(term.args[0])
            rest = sp.expand(num - term)
            if inner is not None and _integer_valued(rest):
                p, q = inner
                return _merge_floor(sp.expand(p + q * rest) / (q * den))
    # canonical constant: (P + c)/N -> floor((P + r)/N) + q, 0 <= r < N
    const, var = to_expr(num).as_coeff_Add()
    if den == 1:
        return num
    if const.is_Integer and var != 0:
        q, r = divmod(int(const), den)
        return sp.floor((var + r) / den) + q
    return sp.floor(num / den)


def _pretty_floor(e: sp.floor) -> sp.Expr:
    """``floor((P + N - 1)/N)`` shown as ``ceiling(P/N)`` (the last, display-only step)."""
    parts = _split(e.args[0])
    if parts is None:
        return e
    num, den = parts
    const, var = to_expr(num).as_coeff_Add()
    if const.is_Integer and int(const) == den - 1 and var != 0 and den > 1:
        return sp.ceiling(var / den)
    return e


def _to_floors(e: sp.Expr) -> sp.Expr:
    """Rewrite bottom-up: ceilings as floors, nested floors merged."""
    if not e.args:
        return e
    args = [_to_floors(a) for a in e.args]
    if isinstance(e, sp.ceiling):
        parts = _split(args[0])
        if parts is not None:
            num, den = parts
            return _merge_floor((num + den - 1) / den)
        return sp.ceiling(args[0])
    if isinstance(e, sp.floor):
        return _merge_floor(args[0])
    return e.func(*args)


def canonical(e: sp.Expr) -> sp.Expr:
    """The canonical form of `e`: merged floors, ceilings where exact, expanded.

    >>> H = sp.Symbol("H", integer=True, positive=True)
    >>> canonical(sp.floor((sp.floor((H - 1)/2) + 1 + 2 - 3)/2) + 1)
    ceiling(H/4)
    """
    e = _to_floors(to_expr(e))
    # after merging, identical floors are the same SymPy object: expanding collects them
    e = sp.expand(e)
    return e.replace(lambda a: isinstance(a, sp.floor), _pretty_floor)
