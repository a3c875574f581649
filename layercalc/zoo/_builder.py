"""Keyword handling shared by the zoo builders that follow torchvision's.

torchvision's builders take ``**kwargs`` and forward them to the model class, so a misspelt
keyword surfaces as a ``TypeError`` from deep inside. `builder` gives the zoo's functions
explicit, keyword-only signatures (as torchvision's ``densenet121(*, weights, progress,
**kwargs)``) and turns a wrong keyword into a `LayerSpecError` naming the model, the key and
its value, the accepted keywords and the closest match.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable
from typing import Any

from ..errors import LayerSpecError

__all__ = ["builder", "overwrite_named_param"]


def builder(fn: Callable) -> Callable:
    """Wrap zoo function `fn` so that unknown keywords and positional arguments raise a
    `LayerSpecError` (``ValueError``) rather than Python's ``TypeError``.

    >>> @builder
    ... def tiny(*, num_classes=1000, dropout=0.2):
    ...     return num_classes
    >>> tiny(num_classes=10)
    10
    >>> tiny(num_clases=10)
    Traceback (most recent call last):
    layercalc.errors.LayerSpecError: tiny: keyword argument 'num_clases' (=10) is not accepted; accepted: num_classes, dropout. Did you mean 'num_classes'?
    """
    params = inspect.signature(fn).parameters.values()
    names = [p.name for p in params
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    n_positional = sum(p.kind == p.POSITIONAL_OR_KEYWORD for p in params)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if len(args) > n_positional:
            raise LayerSpecError(fn.__name__, f"takes keyword arguments only (as torchvision's "
                                 f"builder), got {len(args)} positional: {args!r}",
                                 "Name them, e.g. num_classes=10.")
        for key, value in kwargs.items():
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                raise LayerSpecError(
                    fn.__name__, f"keyword argument {key!r} (={value!r}) is not accepted; "
                    "accepted: " + (", ".join(names) or "none"),
                    f"Did you mean {close[0]!r}?" if close else "")
        return fn(*args, **kwargs)

    return wrapper


def overwrite_named_param(model: str, name: str, value: Any, actual: Any) -> Any:
    """torchvision's ``_ovewrite_named_param``: a builder fixes `name` to `value` (ResNeXt's
    ``groups``); passing another value is an error, passing the same one is allowed.

    >>> overwrite_named_param("resnext50_32x4d", "groups", 32, None)
    32
    >>> overwrite_named_param("resnext50_32x4d", "groups", 32, 16)
    Traceback (most recent call last):
    layercalc.errors.LayerSpecError: resnext50_32x4d: groups (=16) is fixed by this model to 32.
    """
    if actual is not None and actual != value:
        raise LayerSpecError(model, f"{name} (={actual!r}) is fixed by this model to {value!r}")
    return value
