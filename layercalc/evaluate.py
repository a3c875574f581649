"""Evaluating costs: exact values at a point, and fast sweeps over numpy grids.

Two paths, both exact for integer costs:

- `evaluate` substitutes values and returns Python ``int`` (or ``fractions.Fraction``), never a
  float.
- `sweep` compiles an expression once into numpy code with *integer* semantics: every
  ``floor(p/q)`` and ``ceiling(p/q)`` becomes integer floor division of an integer numerator,
  and a rational overall factor is divided out at the end with ``//``. Plain
  ``sympy.lambdify`` turns ``floor`` into ``numpy.floor`` on float64, which loses exactness past
  2**53 and returns floats; here the result is int64, exact as long as every intermediate fits
  in int64 (about 9.2e18). Pass ``dtype=object`` for arbitrary-precision Python ints.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from .cost import Cost
from .errors import LayerCalcError

__all__ = ["evaluate", "sweep", "compile_int"]


class EvaluationError(LayerCalcError, ValueError):
    """Values given to `evaluate`/`sweep` do not fit the expression."""


def _bind(expr_syms: set, values: dict[str, Any], what: str) -> dict:
    by_name = {s.name: s for s in expr_syms}
    unknown = sorted(set(values) - set(by_name))
    if unknown:
        raise EvaluationError(
            f"{what}: no symbol named {', '.join(map(repr, unknown))} in the expression; "
            f"its symbols are {', '.join(sorted(by_name)) or 'none'}")
    return {by_name[k]: v for k, v in values.items()}


def _exact(v: Any) -> Any:
    if type(v) is int:
        return v
    v = sp.sympify(v)
    if v.is_Integer:
        return int(v)
    if v.is_Rational:
        return Fraction(int(v.p), int(v.q))
    return v


def evaluate(x: Any, **values: Any) -> Any:
    """Substitute ``name=value`` into an expression, a `Cost` or a `Report`; numbers come back
    as exact Python ints (or Fractions), symbols left unbound stay symbolic.

    >>> import layercalc as lc
    >>> H, W = lc.symbols("H W")
    >>> macs = lc.Conv2d(3, 64, 7, 2, 3, bias=False).cost((3, H, W)).macs
    >>> evaluate(macs, H=224, W=224)
    118013952
    >>> type(evaluate(macs, H=224, W=224))
    <class 'int'>
    """
    if isinstance(x, Cost):
        subs = _bind(x.free_symbols, values, "evaluate")
        return x.map(lambda e: _exact(e if type(e) is int else e.xreplace(
            {k: sp.Integer(v) if isinstance(v, int) else sp.sympify(v) for k, v in subs.items()})))
    if hasattr(x, "rows") and hasattr(x, "subs"):  # a Report
        subs = _bind(x.total.free_symbols | _shape_symbols(x), values, "evaluate")
        return x.subs(subs)
    if type(x) is int:
        if values:
            _bind(set(), values, "evaluate")
        return x
    expr = sp.sympify(x)
    subs = _bind(expr.free_symbols, values, "evaluate")
    return _exact(expr.xreplace({k: sp.sympify(v) for k, v in subs.items()}))


def _shape_symbols(report: Any) -> set:
    out: set = set()
    for v in report.input_shape:
        if isinstance(v, sp.Basic):
            out |= v.free_symbols
    return out


# -- integer-exact compilation -------------------------------------------------------------------
def _split_rational(e: sp.Expr) -> tuple[sp.Expr, int]:
    """``e == num / den`` with `num` having integer coefficients and `den` a positive int."""
    num, den = sp.fraction(sp.together(e))
    if den.is_Integer:
        return sp.expand(num) if num.is_polynomial() else num, int(den)
    raise EvaluationError(f"sweep: cannot compile {e} with integer arithmetic (symbolic "
                          "denominator); use evaluate() point by point")


class _IntPrinter(NumPyPrinter):
    """NumPy printer with integer semantics for floor/ceiling and rational coefficients."""

    def _int_ratio(self, arg: sp.Expr, ceil: bool) -> str:
        num, den = _split_rational(arg)
        n = self._print(num)
        if den == 1:
            return f"({n})"
        if ceil:
            return f"(-((-({n})) // {den}))"
        return f"(({n}) // {den})"

    def _print_floor(self, e: sp.floor) -> str:
        return self._int_ratio(e.args[0], ceil=False)

    def _print_ceiling(self, e: sp.ceiling) -> str:
        return self._int_ratio(e.args[0], ceil=True)

    def _print_Rational(self, e: sp.Rational) -> str:
        if e.q == 1:
            return str(e.p)
        raise EvaluationError("sweep: a rational coefficient survived normalisation")

    def _print_Integer(self, e: sp.Integer) -> str:
        return str(int(e))

    def _print_Pow(self, e: sp.Pow, rational: bool = False) -> str:
        base, exp = e.args
        if exp.is_Integer and exp > 0:
            return f"({self._print(base)})**{int(exp)}"
        raise EvaluationError(f"sweep: cannot compile the power {e} with integer arithmetic")


def _normalise(expr: sp.Expr) -> tuple[sp.Expr, int]:
    """Pull rational coefficients out of the top level (inside floors they are handled by the
    printer): ``expr == num / den`` with integer coefficients outside any floor."""
    expr = sp.sympify(expr)
    terms = sp.Add.make_args(sp.expand(expr, deep=False, mul=True, multinomial=False,
                                       power_exp=False, power_base=False, log=False))
    den = 1
    for t in terms:
        coeff, _ = t.as_coeff_Mul()
        if coeff.is_Rational:
            den = math.lcm(den, int(coeff.q))
    num = sp.Add(*[t * den for t in terms])
    return num, den


def compile_int(expr: Any, symbols: list[sp.Symbol]):
    """Compile `expr` to ``f(*arrays)`` evaluating with integer numpy arithmetic."""
    num, den = _normalise(sp.sympify(expr))
    printer = _IntPrinter({"fully_qualified_modules": False, "inline": True,
                           "allow_unknown_functions": False})
    names = [f"_a{i}" for i in range(len(symbols))]
    # print with dummy argument names, so no symbol can clash with numpy or builtins
    code = printer.doprint(num.xreplace({s: sp.Symbol(n) for s, n in zip(symbols, names)}))
    body = f"({code}) // {den}" if den != 1 else f"({code})"
    src = f"def _f({', '.join(names)}):\n    return {body}\n"
    import numpy as np  # imported on first use: it is a third of `import layercalc`

    ns: dict[str, Any] = {"numpy": np, "maximum": np.maximum, "minimum": np.minimum,
                          "amax": np.maximum, "amin": np.minimum}
    exec(compile(src, "<layercalc.sweep>", "exec"), ns)  # noqa: S102 - code printed by SymPy
    return ns["_f"]


def sweep(x: Any, *, dtype: Any = "int64", frame: bool = False, **arrays: Any) -> Any:
    """Evaluate an expression over numpy arrays, broadcasting them against each other,
    exactly in integer arithmetic.

    `x` is an expression, or a `Cost` / `Report` together with ``field=`` passed as the
    ``"field"`` keyword (``sweep(report, field="macs", H=hs, W=ws)``); default field ``macs``.
    With ``frame=True`` the result is a pandas DataFrame with one column per symbol and a
    ``value`` column (needs the optional ``pandas`` extra).

    >>> import numpy as np, layercalc as lc
    >>> H = lc.symbols("H")
    >>> macs = lc.Conv2d(3, 8, 3, stride=2, padding=1).cost((3, H, H)).macs
    >>> sweep(macs, H=np.array([7, 8, 224]))
    array([   3456,    3456, 2709504])
    """
    import numpy as np

    field = arrays.pop("field", "macs")
    if isinstance(x, Cost):
        x = x.counts()[field]
    elif hasattr(x, "total") and hasattr(x, "rows"):
        x = x.total.counts()[field]
    expr = sp.sympify(x)
    subs = _bind(expr.free_symbols, arrays, "sweep")
    missing = sorted(s.name for s in expr.free_symbols - set(subs))
    if missing:
        raise EvaluationError(f"sweep: no values given for {', '.join(missing)}")
    syms = sorted(subs, key=lambda s: s.name)
    vals = np.broadcast_arrays(*[np.asarray(subs[s], dtype=dtype) for s in syms]) if syms else []
    if not syms:
        return np.asarray(int(expr), dtype=dtype)
    f = compile_int(expr, syms)
    out = np.asarray(f(*vals), dtype=dtype)
    if not frame:
        return out
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("sweep(frame=True) needs pandas: pip install 'layercalc[pandas]'") from None
    cols = {s.name: np.broadcast_to(v, out.shape).ravel() for s, v in zip(syms, vals)}
    cols["value"] = out.ravel()
    return pd.DataFrame(cols)
