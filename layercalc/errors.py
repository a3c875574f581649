"""The errors layercalc raises on purpose.

Every error a user can cause is a `LayerCalcError`. Each subclass also inherits the builtin it
resembles (``ValueError``, ``KeyError``), so ``except ValueError`` keeps working. Messages read
``<Layer>: <field> (=<value>) <requirement>. <optional hint>``. Errors are picklable.

This module imports nothing from layercalc.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "lookup",
    "LayerCalcError",
    "LayerSpecError",
    "ShapeError",
    "UnknownNameError",
    "ParseError",
    "MissingDependencyError",
    "ArgumentError",
    "LimitError",
    "GraphError",
]


class LayerCalcError(Exception):
    """Base class of every error layercalc raises on purpose."""


class _LayerError(LayerCalcError):
    """An error about one layer: ``<layer>: <problem>. <hint>``."""

    def __init__(self, layer: str, problem: str, hint: str = "") -> None:
        self.layer, self.problem, self.hint = layer, problem, hint
        super().__init__(f"{layer}: {problem}." + (f" {hint}" if hint else ""))

    def __reduce__(self):  # keep errors picklable (pint does the same)
        return type(self), (self.layer, self.problem, self.hint)


class LayerSpecError(_LayerError, ValueError):
    """A layer was declared with parameters no real layer can have."""


class ShapeError(_LayerError, ValueError):
    """An input shape does not fit a layer, or shapes do not fit together in a network."""


class ArgumentError(_LayerError, ValueError):
    """A value given to a public function is not one it accepts: a size, count, batch or value
    that is a string, a float, a bool, ``None``, non-integer, non-positive or too large, e.g.
    ``analyze: batch (=2.5) must be an integer, not a float.`` The first part names the
    function (or ``Cost``), the rest the argument, the value and what is allowed."""


class LimitError(_LayerError, ValueError):
    """A computation would exceed a documented limit of layercalc (a count that would need an
    explicit sum of millions of symbolic terms, say). The message says which limit and how to
    stay under it (usually: give a number instead of a symbol)."""


class GraphError(LayerCalcError, ValueError):
    """A graph (`layercalc.Graph`) or a call recording one is malformed: a cycle, an unused
    input, a tensor from another graph, a tuple of tensors where one is expected. The message
    names the node path."""


class ParseError(LayerCalcError, ValueError):
    """A string given on the command line or to a parser does not follow its grammar."""


class MissingDependencyError(LayerCalcError, ImportError):
    """An optional dependency (an extra) is not installed; the message names the extra, e.g.
    ``pip install 'layercalc[plot]'``."""


class UnknownNameError(LayerCalcError, KeyError, ValueError):
    """A layer, model, hardware preset, convention or memory-model name is not registered.

    The message suggests the closest registered names, e.g.
    ``unknown convention 'exat'; did you mean 'exact'?``
    """

    def __init__(self, what: str, name: str, known: Iterable[str] = ()) -> None:
        self.what, self.name, self.known = what, name, tuple(known)
        lower = {k.lower(): k for k in self.known}
        if str(name).lower() in lower:  # only the case is wrong: 'Conv2D' -> 'Conv2d'
            close = [lower[str(name).lower()]]
        else:
            close = difflib.get_close_matches(str(name), self.known, n=3, cutoff=0.6)
        msg = f"unknown {what} {name!r}"
        if close:
            msg += "; did you mean " + " or ".join(repr(c) for c in close) + "?"
        elif self.known:
            msg += "; known: " + ", ".join(sorted(self.known))
        self.message = msg
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message
        return self.message

    def __reduce__(self):
        return type(self), (self.what, self.name, self.known)


def lookup(registry: Mapping[str, Any], what: str, name: Any) -> Any:
    """``registry[name]``, or an `UnknownNameError` naming `what` with "did you mean"."""
    try:
        return registry[name]
    except (KeyError, TypeError):
        raise UnknownNameError(what, name, registry) from None
