"""Symbolic analysis: compact closed forms, comparisons and solving.

What no forward-pass counter can do: ask how a cost depends on a size, where two designs break
even, and what the largest input under a budget is, with exact answers.

`closed_form` rests on two exact identities for integer ``n >= 1`` and integer ``k``:

- ``ceiling(p/q) = floor((p + q - 1)/q)`` when ``p`` is integer-valued, so every ceiling becomes
  a floor;
- ``floor((floor(x) + k)/n) = floor((x + k)/n)``, so a floor nested in a floor (stacked strided
  layers) merges into one.

Each merged ``floor((P + c)/N)`` is then written with ``c = q N + r`` as ``floor((P + r)/N) + q``,
shown as ``ceiling(P/N) + q`` when ``r = N - 1`` and as ``floor(P/N) + q`` when ``r = 0``.
Nothing is approximated: for every positive integer input the result equals the layer-by-layer
count (checked by Hypothesis across the zoo).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .cost import Cost
from .dims import as_count, as_dim, as_real, show
from .errors import ArgumentError
from .floors import canonical as _closed

__all__ = [
    "closed_form",
    "assume_divisible",
    "ratio",
    "break_even",
    "solve_budget",
    "leading_term",
    "sensitivity",
]


def _as_expr(x: Any, field: str = "macs", owner: str = "symbolic", arg: str = "x") -> sp.Expr:
    """A count or expression argument as a SymPy expression, through `as_dim` (fractions
    allowed, no lower bound): never a string, a float or an arbitrary object."""
    if isinstance(x, Cost):
        counts = x.counts()
        if field not in counts:
            raise ArgumentError(owner, f"field (={show(field)}) must be one of "
                                + ", ".join(sorted(counts)))
        x = counts[field]
    elif hasattr(x, "total") and hasattr(x, "rows") and not isinstance(x, sp.Basic):
        return _as_expr(x.total, field, owner, arg)
    v = as_dim(x, owner, arg, minimum=None, integer=False, limit=10**1000, error=ArgumentError)
    return sp.Integer(v) if type(v) is int else v


def _as_symbol(symbol: Any, owner: str) -> sp.Symbol:
    if not isinstance(symbol, sp.Symbol):
        raise ArgumentError(owner, f"symbol (={show(symbol)}) must be a SymPy symbol (from "
                            "layercalc.symbols)", "Text is parsed with layercalc.parse_dims.")
    return symbol


def _values(values: Any, owner: str) -> dict:
    """``{symbol: value}`` with each value checked as a size (`as_dim`)."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ArgumentError(owner, f"values (={show(values)}) must be a dict of symbol to value")
    out = {}
    for k, v in values.items():
        sym = _as_symbol(k, owner)
        minimum = 1 if sym.is_positive else (0 if sym.is_nonnegative else None)
        v = as_dim(v, owner, f"values[{sym.name}]", minimum=minimum, error=ArgumentError)
        out[sym] = sp.Integer(v) if type(v) is int else v
    return out


def closed_form(x: Any, field: str = "macs") -> Any:
    """The canonical compact form of an expression, a `Cost` (every count) or a report total
    (its `field`).

    >>> import layercalc as lc
    >>> H = lc.symbols("H")
    >>> closed_form(sp.floor((H - 1)/2) + 1)
    ceiling(H/2)
    >>> closed_form(sp.floor(sp.floor((H + 1)/2)/2))
    floor(H/4 + 1/4)
    """
    if isinstance(x, Cost):
        return x.map(lambda e: e if type(e) is int else as_count(_closed(e)))
    if type(x) is int:
        return x
    return as_count(_closed(_as_expr(x, field, "closed_form")))


def assume_divisible(x: Any, divisors: dict, field: str = "macs") -> Any:
    """The exact form of `x` valid when each symbol is a multiple of its divisor, in the same
    symbols. For common CNNs with ``{H: 32, W: 32}`` that is a polynomial with no floors.

    >>> import layercalc as lc
    >>> H = lc.symbols("H")
    >>> assume_divisible(sp.ceiling(H/2) * sp.floor((H + 1)/4), {H: 4})
    H**2/8
    """
    if not isinstance(divisors, dict):
        raise ArgumentError("assume_divisible", f"divisors (={show(divisors)}) must be a dict "
                            "of symbol to a positive integer")
    divisors = {_as_symbol(s, "assume_divisible"): as_dim(
        n, "assume_divisible", f"divisors[{getattr(s, 'name', s)}]", error=ArgumentError)
        for s, n in divisors.items()}
    if isinstance(x, Cost):
        return x.map(lambda e: e if type(e) is int else as_count(assume_divisible(e, divisors)))
    expr = _closed(_as_expr(x, field, "assume_divisible"))
    subs, back = {}, {}
    for sym, n in divisors.items():
        k = sp.Symbol(f"_{sym.name}_q", integer=True, positive=True)
        subs[sym] = n * k
        back[k] = sym / n
    e = _closed(expr.xreplace(subs))
    return as_count(sp.expand(e.xreplace(back)))


def ratio(a: Any, b: Any, field: str = "macs") -> sp.Expr:
    """``a / b`` simplified (costs compare on `field`).

    >>> import layercalc as lc
    >>> C, N, K, H, W = lc.symbols("C N K H W")
    >>> std = lc.Conv2d(C, N, K, padding="same", bias=False).cost((C, H, W))
    >>> sep = (lc.Conv2d(C, C, K, padding="same", groups=C, bias=False).cost((C, H, W))
    ...        + lc.Conv2d(C, N, 1, bias=False).cost((C, H, W)))
    >>> ratio(sep, std)
    1/N + K**(-2)
    """
    den = _closed(_as_expr(b, field, "ratio", "b"))
    if den == 0:
        raise ArgumentError("ratio", "b (=0) must not be zero")
    r = sp.simplify(_closed(_as_expr(a, field, "ratio", "a")) / den)
    expanded = sp.expand(r)
    return expanded if expanded.is_Add else r


def break_even(a: Any, b: Any, symbol: sp.Symbol, field: str = "macs") -> list:
    """Values of `symbol` where designs `a` and `b` cost the same (real, positive solutions).

    The crossing is solved over the positive reals even when `symbol` is an integer size
    (`layercalc.symbols` makes integer symbols), so a crossing between two integers is
    returned as the exact rational rather than dropped: the designs swap order between its
    floor and its ceiling.

    >>> import layercalc as lc
    >>> K, g = lc.symbols("K g")
    >>> break_even(K**2, 2*K + 3, K)
    [3]
    >>> break_even(9 * 256**2 / g, 256 * 265, g)
    [2304/265]
    """
    symbol = _as_symbol(symbol, "break_even")
    eq = sp.expand(_closed(_as_expr(a, field, "break_even", "a"))
                   - _closed(_as_expr(b, field, "break_even", "b")))
    x = sp.Dummy(symbol.name, positive=True)
    sols = [v for v in sp.solve(sp.Eq(eq.xreplace({symbol: x}), 0), x)]
    return sorted((s for s in sols if s.is_real is not False and s.is_positive is not False),
                  key=lambda s: float(s) if s.is_number else 0)


def solve_budget(x: Any, budget: Any, symbol: sp.Symbol, field: str = "macs",
                 values: dict | None = None, upper: int = 1 << 40) -> int | None:
    """The largest positive integer value of `symbol` with ``x <= budget``, assuming `x` is
    non-decreasing in `symbol` (true for costs in a size). Other symbols must be given in
    `values`; ``None`` if even 1 is over budget.

    Exact: the search evaluates the exact count (floors included) at integers, by exponential
    then binary search.

    >>> import layercalc as lc
    >>> H = lc.symbols("H")
    >>> macs = lc.Conv2d(3, 64, 3, padding=1).cost((3, H, H)).macs
    >>> solve_budget(macs, 10**9, H)  # 1728 * 760**2 <= 1e9 < 1728 * 761**2
    760
    """
    symbol = _as_symbol(symbol, "solve_budget")
    expr = _as_expr(x, field, "solve_budget")
    budget = as_real(budget, "solve_budget", "budget", minimum=0, error=ArgumentError)
    if isinstance(budget, float):
        budget = sp.Rational(budget)  # exact: a float is a binary fraction
    upper = as_dim(upper, "solve_budget", "upper", limit=1 << 128, error=ArgumentError)
    values = _values(values, "solve_budget")
    if values:
        expr = expr.xreplace(values)
    extra = expr.free_symbols - {symbol}
    if extra:
        raise ArgumentError("solve_budget", f"give values for {sorted(s.name for s in extra)}")

    def cost(v: int) -> Any:
        return expr.xreplace({symbol: sp.Integer(v)})

    if cost(1) > budget:
        return None
    lo, hi = 1, 2
    while hi < upper and cost(hi) <= budget:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if cost(mid) <= budget:
            lo = mid
        else:
            hi = mid
    return lo


def leading_term(x: Any, symbol: sp.Symbol, field: str = "macs") -> sp.Expr:
    """The asymptotic order of `x` as `symbol` grows (floors and ceilings replaced by their
    argument, which changes only lower-order terms).

    >>> import layercalc as lc
    >>> L, D = lc.symbols("L D")
    >>> leading_term(2*L**2*D + 8*L*D**2, L)
    2*D*L**2
    """
    symbol = _as_symbol(symbol, "leading_term")
    e = _as_expr(x, field, "leading_term").replace(sp.floor, lambda a: a).replace(
        sp.ceiling, lambda a: a)
    e = sp.expand(e)
    poly = sp.Poly(e, symbol)
    deg = poly.degree()
    return sp.expand(poly.coeff_monomial(symbol**deg) * symbol**deg)


def sensitivity(x: Any, symbol: sp.Symbol, field: str = "macs") -> sp.Expr:
    """The elasticity ``d log x / d log symbol = (symbol / x) * dx/dsymbol`` (floors and
    ceilings treated as their arguments). A cost quadratic in H has elasticity 2.

    >>> import layercalc as lc
    >>> H = lc.symbols("H")
    >>> sensitivity(3*H**2, H)
    2
    """
    symbol = _as_symbol(symbol, "sensitivity")
    e = _as_expr(x, field, "sensitivity").replace(sp.floor, lambda a: a).replace(
        sp.ceiling, lambda a: a)
    return sp.simplify(symbol * sp.diff(e, symbol) / e)
