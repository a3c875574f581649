"""Canonical symbols and the `symbols()` constructor.

Every size in a network is a positive integer, so symbols are created with
``integer=True, positive=True``. Those assumptions are what let SymPy decide ``H >= 1`` and
simplify ``floor((H - 1)/1) + 1`` to ``H``.

Names that SymPy prints as something other than a plain symbol are reserved
(`RESERVED_NAMES`): a symbol called ``I`` would print like the imaginary unit, ``E`` like
Euler's number, ``oo`` like infinity, ``floor`` like the function. `symbols` and
`layercalc.parse_dims` reject them, so a printed formula always means what it shows.
``S``, ``N`` and ``Q`` are accepted: SymPy never prints an expression with those names (they
are its singleton registry, numeric evaluation and assumptions, not parts of an expression),
and layercalc never hands text to SymPy's parser, so they cannot take SymPy's meaning.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.function import FunctionClass

from .errors import LayerSpecError

__all__ = ["symbols", "RESERVED_NAMES", "B", "C", "H", "W", "L", "S", "D", "K", "G", "T"]


def _reserved() -> frozenset[str]:
    """Names SymPy prints for its constants, and the names of its functions and expression
    classes (``sin``, ``floor``, ``Max``, ``Sum``, ``O`` for Order ...)."""
    names = {"I", "E", "oo", "zoo", "nan", "pi", "EulerGamma", "GoldenRatio", "Catalan",
             "TribonacciConstant", "sqrt", "cbrt", "root"}
    for name in dir(sp):
        if name.startswith("_"):
            continue
        obj = getattr(sp, name)
        if isinstance(obj, FunctionClass) or (isinstance(obj, type) and issubclass(obj, sp.Basic)):
            names.add(name)
    return frozenset(names)


#: Names `symbols` and `layercalc.parse_dims` reject (see the module docstring).
RESERVED_NAMES = _reserved()


def check_name(name: str, owner: str = "symbols") -> None:
    """Raise `LayerSpecError` if `name` cannot name a size symbol."""
    if not isinstance(name, str) or not name.isidentifier():
        raise LayerSpecError(owner, f"symbol name {name!r} must be an identifier (a letter or "
                             "_ followed by letters, digits or _)")
    if name in RESERVED_NAMES:
        raise LayerSpecError(owner, f"symbol name {name!r} is reserved: SymPy prints a constant "
                             "or a function by that name, so a formula using it would read "
                             "wrongly", "Choose another name (for example C_in rather than I).")


def symbols(names: str, **assumptions: bool):
    """Positive-integer SymPy symbols, as ``sympy.symbols`` but with the assumptions sizes need.

    One name gives one symbol; several names give a tuple. Reserved names (`RESERVED_NAMES`:
    ``I``, ``E``, ``pi``, ``oo``, ``sin`` ...) raise `~layercalc.errors.LayerSpecError`.

    >>> H, W = symbols("H W")
    >>> H.is_integer, H.is_positive
    (True, True)
    >>> symbols("C")
    C
    >>> symbols("I")
    Traceback (most recent call last):
    ...
    layercalc.errors.LayerSpecError: symbols: symbol name 'I' is reserved: SymPy prints a constant or a function by that name, so a formula using it would read wrongly. Choose another name (for example C_in rather than I).
    """
    if not isinstance(names, str):
        raise LayerSpecError("symbols", f"names (={names!r}) must be a string of names")
    kw = {"integer": True, "positive": True}
    kw.update(assumptions)
    out = sp.symbols(names, **kw)  # sympy.symbols splits names; it evaluates nothing
    for s in (out if isinstance(out, tuple) else (out,)):
        for sym in (s if isinstance(s, tuple) else (s,)):
            check_name(sym.name)
    return out


#: Canonical symbols: batch, channels, height, width, sequence length (query), key length,
#: model width, kernel size, groups, time steps.
B, C, H, W, L, S, D, K, G, T = symbols("B C H W L S D K G T")
