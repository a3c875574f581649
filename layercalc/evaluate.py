"""Evaluating costs: exact values at a point, and fast sweeps over numpy grids.

Two paths, both exact:

- `evaluate` substitutes values and returns Python ``int`` (or ``fractions.Fraction``), never a
  float.
- `sweep` evaluates an expression over NumPy grids with *integer* semantics: every
  ``floor(p/q)`` and ``ceiling(p/q)`` becomes integer floor division of an integer numerator,
  and a rational overall factor is divided out at the end (checked to be exact). Plain
  ``sympy.lambdify`` turns ``floor`` into ``numpy.floor`` on float64, which loses exactness past
  2**53 and returns floats.

**Exact by construction.** Before computing, `sweep` bounds every intermediate value of the
computation over the whole grid: the expression is walked once with each symbol at the largest
magnitude its grid holds, replacing each operation by a bound of its absolute value (a sum by
the sum of bounds, a product by the product, ``floor(p/q)`` by ``bound(p)/q + 1``, ``Max`` by the
larger bound ...), in exact Python integers. Every such bound is monotone in the inputs, so it
holds at every grid point. If the largest bound fits in int64 the sweep runs in int64 and cannot
overflow; otherwise it runs on Python integers (``dtype=object``, arbitrary precision), and the
result is converted back to int64 when every value fits. ``dtype="int64"`` forces int64 and
raises `EvaluationError` when the bound does not fit; ``dtype=object`` always uses Python ints.
No result is ever a wrapped-around or truncated number.

Values (`evaluate`'s keywords, `sweep`'s grids) are checked like every size in layercalc
(`layercalc.dims.as_dim`): integers only (no floats, even ``2.0``; no strings, no bools), and at
least 1 for a positive symbol (0 for a non-negative one).

The expression is evaluated by walking its SymPy tree with NumPy operations; no code is
generated or executed, and only ``+ - *``, positive integer powers, ``floor``, ``ceiling``,
``Max``, ``Min``, ``Mod``, ``Abs`` and ``Piecewise`` are understood (anything else: use
`evaluate` point by point).
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import reduce
from typing import Any

import sympy as sp

from .cost import Cost
from .dims import _digits, as_dim, show
from .errors import ArgumentError, LayerCalcError, MissingDependencyError

__all__ = ["evaluate", "sweep", "compile_int", "EvaluationError"]


class EvaluationError(LayerCalcError, ValueError):
    """Values given to `evaluate`/`sweep` do not fit the expression."""


def _minimum(sym: sp.Symbol) -> int | None:
    """The smallest value a symbol's assumptions allow (1 positive, 0 non-negative)."""
    if sym.is_positive:
        return 1
    if sym.is_nonnegative:
        return 0
    return None


def _bind(expr_syms: set, values: dict[str, Any], what: str) -> dict:
    by_name = {s.name: s for s in expr_syms}
    unknown = sorted(set(values) - set(by_name))
    if unknown:
        raise EvaluationError(
            f"{what}: no symbol named {', '.join(map(repr, unknown))} in the expression; "
            f"its symbols are {', '.join(sorted(by_name)) or 'none'}")
    return {by_name[k]: v for k, v in values.items()}


def _checked(subs: dict, what: str) -> dict:
    """Each value through `as_dim`: an integer (or integer expression), at least the symbol's
    minimum."""
    return {s: sp.Integer(v) if type(v) is int else v
            for s, v in ((s, as_dim(v, what, s.name, minimum=_minimum(s), error=ArgumentError))
                         for s, v in subs.items())}


def _expression(x: Any, what: str) -> sp.Expr:
    """An expression argument (never a string) as a SymPy expression."""
    if type(x) is int:
        return sp.Integer(x)
    return sp.Integer(x) if type(v := as_dim(x, what, "x", minimum=None, integer=False,
                                             limit=10**1000, error=ArgumentError)) is int else v


def _exact(v: Any) -> Any:
    if type(v) is int:
        return v
    if isinstance(v, sp.Basic) and v.is_number and not v.is_Rational:
        v = v.doit()  # an unevaluated Sum with numeric limits
    if v.is_Integer:
        return int(v)
    if v.is_Rational:
        return Fraction(int(v.p), int(v.q))
    return v


def evaluate(x: Any, /, **values: Any) -> Any:
    """Substitute ``name=value`` into an expression, a `Cost` or a `Report`; numbers come back
    as exact Python ints (or Fractions), symbols left unbound stay symbolic.

    Values must be integers (or integer SymPy expressions), at least 1 for a positive symbol:
    ``evaluate(macs, H="224")``, ``H=224.0`` and ``H=0`` raise `~layercalc.errors.ArgumentError`.

    >>> import layercalc as lc
    >>> H, W = lc.symbols("H W")
    >>> macs = lc.Conv2d(3, 64, 7, 2, 3, bias=False).cost((3, H, W)).macs
    >>> evaluate(macs, H=224, W=224)
    118013952
    >>> type(evaluate(macs, H=224, W=224))
    <class 'int'>
    """
    if isinstance(x, Cost):
        subs = _checked(_bind(x.free_symbols, values, "evaluate"), "evaluate")
        return x.map(lambda e: _exact(e if type(e) is int else e.xreplace(subs)))
    if hasattr(x, "rows") and hasattr(x, "subs") and not isinstance(x, sp.Basic):  # a Report
        subs = _checked(_bind(x.total.free_symbols | _shape_symbols(x), values, "evaluate"),
                        "evaluate")
        return x.subs(subs)
    if type(x) is int:
        if values:
            _bind(set(), values, "evaluate")
        return x
    expr = _expression(x, "evaluate")
    subs = _checked(_bind(expr.free_symbols, values, "evaluate"), "evaluate")
    return _exact(expr.xreplace(subs))


def _shape_symbols(report: Any) -> set:
    out: set = set()
    shapes = report.input_shape
    if shapes and isinstance(shapes[0], tuple):  # several inputs
        shapes = [v for s in shapes for v in s]
    for v in shapes:
        if isinstance(v, sp.Basic):
            out |= v.free_symbols
    if isinstance(report.batch, sp.Basic):
        out |= report.batch.free_symbols
    for a in getattr(report, "assumptions", ()):
        out |= a.relation.free_symbols
    return out


# -- integer-exact evaluation on grids -----------------------------------------------------------
def _split_rational(e: sp.Expr) -> tuple[sp.Expr, int]:
    """``e == num / den`` with `num` having integer coefficients and `den` a positive int."""
    num, den = sp.fraction(sp.together(e))
    if den.is_Integer:
        return sp.expand(num) if num.is_polynomial() else num, int(den)
    raise EvaluationError(f"sweep: cannot evaluate {show(e)} with integer arithmetic (symbolic "
                          "denominator); use evaluate() point by point")


def _normalise(expr: sp.Expr) -> tuple[sp.Expr, int]:
    """Pull rational coefficients out of the top level (inside floors they are handled by
    `_split_rational`): ``expr == num / den`` with integer coefficients outside any floor."""
    terms = sp.Add.make_args(sp.expand(expr, deep=False, mul=True, multinomial=False,
                                       power_exp=False, power_base=False, log=False))
    den = 1
    for t in terms:
        coeff, _ = t.as_coeff_Mul()
        if coeff.is_Rational:
            den = math.lcm(den, int(coeff.q))
    num = sp.Add(*[t * den for t in terms])
    return num, den


_REL = {sp.Eq: "eq", sp.Ne: "ne", sp.Lt: "lt", sp.Le: "le", sp.Gt: "gt", sp.Ge: "ge"}


class _Program:
    """An expression prepared for integer evaluation on arrays: ``num // den`` with `num`
    walked node by node (`value`) and bounded (`bound`)."""

    def __init__(self, expr: sp.Expr, symbols: list[sp.Symbol]) -> None:
        self.symbols = list(symbols)
        self.num, self.den = _normalise(expr)
        self._split: dict[sp.Expr, tuple[sp.Expr, int]] = {}
        self.bound({s: 1 for s in self.symbols})  # reject unsupported nodes up front

    def _floor_parts(self, e: sp.Expr) -> tuple[sp.Expr, int]:
        got = self._split.get(e)
        if got is None:
            got = self._split[e] = _split_rational(e.args[0])
        return got

    # -- values ---------------------------------------------------------------------------
    def value(self, env: dict[sp.Symbol, Any]) -> Any:
        import numpy as np

        num = self._value(self.num, env, np)
        if self.den == 1:
            return num
        q, r = np.divmod(num, self.den)
        if np.any(r != 0):
            at = np.argwhere(np.asarray(r != 0))[0] if np.ndim(r) else ()
            point = ", ".join(f"{s.name}={np.broadcast_to(env[s], np.shape(r))[tuple(at)]}"
                              for s in self.symbols)
            raise EvaluationError(f"sweep: the expression is not an integer at {point} (its "
                                  f"value there is a fraction with denominator dividing "
                                  f"{self.den}); use evaluate() for exact fractions")
        return q

    def _value(self, e: sp.Expr, env: dict, np: Any) -> Any:
        if e.is_Symbol:
            return env[e]
        if e.is_Integer:
            return int(e)
        if e.is_Add:
            return reduce(lambda a, b: a + b, (self._value(a, env, np) for a in e.args))
        if e.is_Mul:
            return reduce(lambda a, b: a * b, (self._value(a, env, np) for a in e.args))
        if e.is_Pow:
            return self._value(e.args[0], env, np) ** int(e.args[1])
        if isinstance(e, (sp.floor, sp.ceiling)):
            num, den = self._floor_parts(e)
            v = self._value(num, env, np)
            return v // den if isinstance(e, sp.floor) else -((-v) // den)
        if isinstance(e, (sp.Max, sp.Min)):
            f = np.maximum if isinstance(e, sp.Max) else np.minimum
            return reduce(f, (self._value(a, env, np) for a in e.args))
        if isinstance(e, sp.Mod):
            return self._value(e.args[0], env, np) % self._value(e.args[1], env, np)
        if isinstance(e, sp.Abs):
            return np.abs(self._value(e.args[0], env, np))
        if isinstance(e, sp.Piecewise):
            shape = np.broadcast_shapes(*[np.shape(v) for v in env.values()])
            conds, vals = [], []
            for expr_i, cond in e.args:
                conds.append(np.broadcast_to(self._truth(cond, env, np), shape))
                vals.append(np.broadcast_to(self._value(expr_i, env, np), shape))
            covered = reduce(np.logical_or, conds)
            if not np.all(covered):
                raise EvaluationError(f"sweep: {show(e)} is undefined at some grid point")
            return np.select(conds, vals)
        raise AssertionError(f"unsupported node {e!r}")  # pragma: no cover - bound() rejects

    def _truth(self, c: Any, env: dict, np: Any) -> Any:
        if c is sp.true:
            return True
        if c is sp.false:
            return False
        if isinstance(c, (sp.And, sp.Or)):
            f = np.logical_and if isinstance(c, sp.And) else np.logical_or
            return reduce(f, (self._truth(a, env, np) for a in c.args))
        if isinstance(c, sp.Not):
            return np.logical_not(self._truth(c.args[0], env, np))
        a, b = (self._value(sp.Integer(v) if isinstance(v, int) else v, env, np)
                for v in self._rel_sides(c))
        op = _REL[type(c)] if type(c) in _REL else _REL[c.func]
        return {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
                "gt": np.greater, "ge": np.greater_equal}[op](a, b)

    def _rel_sides(self, c: Any) -> tuple[sp.Expr, sp.Expr]:
        """Both sides of a relation times a common denominator (integer coefficients)."""
        if not (isinstance(c, sp.core.relational.Relational) and c.func in _REL):
            raise EvaluationError(f"sweep: cannot evaluate the condition {show(c)}; use "
                                  "evaluate() point by point")
        num, den = _split_rational(c.lhs - c.rhs)
        return num, sp.Integer(0)

    # -- bounds ---------------------------------------------------------------------------
    def bound(self, largest: dict[sp.Symbol, int]) -> int:
        """An upper bound of the absolute value of every intermediate result of `value`, for
        every point whose symbols are at most `largest` in absolute value (exact ints)."""
        peak = [self.den]

        def b(e: sp.Expr) -> int:
            if e.is_Symbol:
                out = largest[e]
            elif e.is_Integer:
                out = abs(int(e))
            elif e.is_Add:
                out = sum(b(a) for a in e.args)
            elif e.is_Mul:
                out = math.prod(max(1, b(a)) for a in e.args)
            elif e.is_Pow:
                n = e.args[1]
                if not (n.is_Integer and n > 0):
                    raise EvaluationError(f"sweep: cannot evaluate the power {show(e)} with "
                                          "integer arithmetic; use evaluate() point by point")
                base = max(1, b(e.args[0]))
                if base.bit_length() * int(n) > 100_000:
                    raise EvaluationError(f"sweep: {show(e)} would have more than 30,000 "
                                          "digits on this grid")
                out = base ** int(n)
            elif isinstance(e, (sp.floor, sp.ceiling)):
                num, den = self._floor_parts(e)
                out = b(num) // den + 1
            elif isinstance(e, (sp.Max, sp.Min)):
                out = max(b(a) for a in e.args)
            elif isinstance(e, sp.Mod):
                out = max(b(e.args[0]), b(e.args[1]))
            elif isinstance(e, sp.Abs):
                out = b(e.args[0])
            elif isinstance(e, sp.Piecewise):
                out = 0
                for expr_i, cond in e.args:
                    for side in self._conditions(cond):
                        b(side)
                    out = max(out, b(expr_i))
            elif e.is_Rational:
                raise EvaluationError(f"sweep: a fraction ({e}) inside {show(self.num)} cannot "
                                      "be evaluated with integer arithmetic; use evaluate()")
            else:
                raise EvaluationError(f"sweep: cannot evaluate {type(e).__name__} "
                                      f"({show(e)}) with integer arithmetic; use evaluate() "
                                      "point by point")
            peak[0] = max(peak[0], out)
            return out

        b(self.num)
        return peak[0]

    def _conditions(self, c: Any) -> list[sp.Expr]:
        if c in (sp.true, sp.false):
            return []
        if isinstance(c, (sp.And, sp.Or, sp.Not)):
            return [side for a in c.args for side in self._conditions(a)]
        return list(self._rel_sides(c))


def compile_int(expr: Any, symbols: list[sp.Symbol]):
    """``f(*arrays)`` evaluating `expr` with exact integer semantics on NumPy arrays (no
    overflow check: `sweep` bounds the values first). No code is generated."""
    program = _Program(_expression(expr, "compile_int"), symbols)

    def f(*arrays: Any) -> Any:
        return program.value(dict(zip(program.symbols, arrays)))

    return f


def _grid(values: Any, sym: sp.Symbol) -> Any:
    """One grid of values for `sym` as an int64 or object array of integers, checked."""
    import numpy as np

    try:
        arr = np.asarray(values)
    except Exception:  # noqa: BLE001 - ragged lists and the like
        arr = np.asarray(values, dtype=object) if isinstance(values, (list, tuple)) else None
    if arr is None or arr.dtype.kind not in "iuO":
        kind = {"f": "floats", "c": "complex numbers", "b": "booleans", "U": "strings",
                "S": "bytes", "M": "dates", "m": "durations"}.get(
                    getattr(getattr(arr, "dtype", None), "kind", ""), type(values).__name__)
        raise ArgumentError("sweep", f"{sym.name} must hold integers, not {kind} (got "
                            f"{show(values)})", "Use integer arrays, e.g. np.arange(1, 225); "
                            "a size is never fractional.")
    minimum = _minimum(sym)
    if arr.dtype.kind == "O":
        flat = [as_dim(v, "sweep", f"{sym.name} entry", minimum=minimum, error=ArgumentError)
                for v in arr.ravel()]
        if any(not isinstance(v, int) for v in flat):
            raise ArgumentError("sweep", f"{sym.name} must hold integers, not expressions")
        out = np.empty(arr.shape, dtype=object)
        out.ravel()[:] = flat if flat else []
        return out
    if arr.dtype.kind == "u":
        if arr.size and int(arr.max()) > np.iinfo(np.int64).max:
            return arr.astype(object)
        arr = arr.astype(np.int64)
    if minimum is not None and arr.size and int(arr.min()) < minimum:
        bad = int(arr.min())
        raise ArgumentError("sweep", f"{sym.name} (={bad} somewhere in the grid) must be "
                            + ("positive" if minimum == 1 else f">= {minimum}"))
    return arr


def _largest(arr: Any) -> int:
    if arr.size == 0:
        return 0
    if arr.dtype == object:
        return max(abs(int(v)) for v in arr.ravel())
    return max(abs(int(arr.max())), abs(int(arr.min())))


def sweep(x: Any, /, *, dtype: Any = None, frame: bool = False, **arrays: Any) -> Any:
    """Evaluate an expression over NumPy arrays (broadcast against each other), exactly.

    `x` is an expression, or a `Cost` / `Report` together with ``field=`` passed as the
    ``"field"`` keyword (``sweep(report, field="macs", H=hs, W=ws)``); default field ``macs``.
    Grids hold integers (int arrays, or lists/object arrays of Python ints for values past
    int64), at least 1 for a positive symbol; floats, bools and strings are rejected.

    ``dtype=None`` (default): int64 when a bound of every intermediate value fits (see the
    module docstring), else exact Python ints, returned as int64 if every result fits and as
    an object array otherwise. ``dtype="int64"``: int64 or an `EvaluationError` if the bound
    does not fit. ``dtype=object``: always Python ints. With ``frame=True`` the result is a
    pandas DataFrame with one column per symbol and a ``value`` column (needs the optional
    ``pandas`` extra).

    >>> import numpy as np, layercalc as lc
    >>> H = lc.symbols("H")
    >>> macs = lc.Conv2d(3, 8, 3, stride=2, padding=1).cost((3, H, H)).macs
    >>> sweep(macs, H=np.array([7, 8, 224]))
    array([   3456,    3456, 2709504])
    >>> sweep(macs, H=np.array([3 * 10**9])).dtype  # past int64: exact Python ints
    dtype('O')
    """
    import numpy as np

    field = arrays.pop("field", "macs")
    if isinstance(x, Cost):
        x = x.counts()[field]
    elif hasattr(x, "total") and hasattr(x, "rows") and not isinstance(x, sp.Basic):
        x = x.total.counts()[field]
    expr = _expression(x, "sweep")
    want = _dtype(dtype)
    subs = _bind(expr.free_symbols, arrays, "sweep")
    missing = sorted(s.name for s in expr.free_symbols - set(subs))
    if missing:
        raise EvaluationError(f"sweep: no values given for {', '.join(missing)}")
    syms = sorted(subs, key=lambda s: s.name)
    if any(_is_dask(v) for v in subs.values()):
        return _sweep_dask(expr, syms, subs, want, frame)
    if not syms:
        if not expr.is_Integer:
            raise EvaluationError(f"sweep: {show(expr)} is not an integer")
        return np.asarray(int(expr), dtype=np.int64 if want is None else want)
    grids = [_grid(subs[s], s) for s in syms]
    try:
        grids = list(np.broadcast_arrays(*grids))
    except ValueError as e:
        raise ArgumentError("sweep", f"the grids of {', '.join(s.name for s in syms)} do not "
                            f"broadcast together ({e})") from None
    program = _Program(expr, syms)
    top = program.bound({s: _largest(g) for s, g in zip(syms, grids)})
    limit = int(np.iinfo(np.int64).max)
    exact_int64 = top <= limit and all(g.dtype != object for g in grids)
    if want is not None and want != np.dtype(object) and not exact_int64:
        raise EvaluationError(
            f"sweep: values on this grid may reach about 10**{_digits(top) - 1}, past int64 "
            f"(9.2e18); pass dtype=object for exact Python integers (or dtype=None to choose)")
    if exact_int64 and want != np.dtype(object):
        out = np.asarray(program.value(dict(zip(syms, [g.astype(np.int64) for g in grids]))),
                         dtype=np.int64)
    else:
        env = dict(zip(syms, [g.astype(object) for g in grids]))
        out = np.asarray(program.value(env), dtype=object)
        out = np.broadcast_to(out, np.broadcast_shapes(*[g.shape for g in grids])).copy()
        if want is None and out.size and all(-limit - 1 <= int(v) <= limit for v in out.ravel()):
            out = out.astype(np.int64)
    if not frame:
        return out
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("sweep(frame=True) needs pandas: pip install 'layercalc[pandas]'") from None
    cols = {s.name: np.broadcast_to(v, out.shape).ravel() for s, v in zip(syms, grids)}
    cols["value"] = out.ravel()
    return pd.DataFrame(cols)


def _is_dask(values: Any) -> bool:
    """Whether a grid is a dask array (duck-typed: this module does not import dask)."""
    return type(values).__module__.split(".")[0] == "dask" and hasattr(values, "map_blocks")


def _sweep_dask(expr: sp.Expr, syms: list, subs: dict, want: Any, frame: bool) -> Any:
    """`sweep` on dask arrays: a lazy dask array whose every chunk is the NumPy `sweep` of the
    chunks of the grids (broadcast against each other), so each chunk runs the same exact
    integer code with the same overflow guard. The result's dtype must be known before any
    chunk runs: int64 when the bound of every intermediate value over the whole grid fits
    (the grids' largest magnitudes are computed first: one small reduction per grid), else
    Python ints (``dtype=object``); ``dtype="int64"`` raises up front when it does not fit."""
    try:
        import dask
        import dask.array as da
    except ImportError:  # pragma: no cover - a dask array was passed, so dask is installed
        raise MissingDependencyError("sweep on dask arrays needs dask: pip install "
                                     "'layercalc[dask]'") from None
    import numpy as np

    if frame:
        raise ArgumentError("sweep", "frame=True is not supported on dask arrays",
                            "Build a dask DataFrame from the returned array, or compute it.")
    grids = []
    for s in syms:
        g = subs[s]
        if not _is_dask(g):
            g = da.from_array(_grid(g, s), chunks=-1)
        elif g.dtype.kind not in "iu":
            raise ArgumentError("sweep", f"{s.name} must hold integers, not {g.dtype} (got a "
                                "dask array)", "Use integer arrays, e.g. da.arange(1, 225).")
        grids.append(g)
    try:
        shape = np.broadcast_shapes(*[g.shape for g in grids])
    except ValueError as e:
        raise ArgumentError("sweep", f"the grids of {', '.join(s.name for s in syms)} do not "
                            f"broadcast together ({e})") from None
    program = _Program(expr, syms)
    lows, highs = dask.compute([g.min() if g.size else 0 for g in grids],
                               [g.max() if g.size else 0 for g in grids])
    top = program.bound({s: max(abs(int(lo)), abs(int(hi)))
                         for s, lo, hi in zip(syms, lows, highs)})
    fits = top <= int(np.iinfo(np.int64).max)
    if want is not None and want != np.dtype(object) and not fits:
        raise EvaluationError(
            f"sweep: values on this grid may reach about 10**{_digits(top) - 1}, past int64 "
            f"(9.2e18); pass dtype=object for exact Python integers (or dtype=None to choose)")
    out_dtype = np.dtype(np.int64) if fits and want != np.dtype(object) else np.dtype(object)
    names = [s.name for s in syms]

    def block(*chunks: Any) -> Any:
        return sweep(expr, dtype=out_dtype, **dict(zip(names, chunks)))

    ndim = len(shape)
    grids = [g.reshape((1,) * (ndim - g.ndim) + g.shape) if g.ndim < ndim else g for g in grids]
    return da.map_blocks(block, *grids, dtype=out_dtype, meta=np.empty((0,) * ndim, out_dtype))


def _dtype(dtype: Any) -> Any:
    import numpy as np

    if dtype is None:
        return None
    try:
        d = np.dtype(dtype)
    except TypeError:
        d = None
    if d is None or not (d == np.dtype(object) or d == np.dtype(np.int64)):
        raise ArgumentError("sweep", f"dtype (={show(dtype)}) must be None (int64 when exact, "
                            "else Python ints), 'int64' or object",
                            "For floats, convert the exact result: sweep(...).astype(float).")
    return d
