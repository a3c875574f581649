"""Keyword handling shared by the zoo builders that mirror torchvision's ``**kwargs``."""

from __future__ import annotations

from typing import Any

from ..errors import LayerSpecError

__all__ = ["take_kwargs"]

#: torchvision builder keywords that pick weights, not an architecture: accepted, ignored.
_WEIGHTS_KEYS = ("weights", "progress")


def take_kwargs(owner: str, kwargs: dict[str, Any], defaults: dict[str, Any],
                unsupported: tuple[str, ...] = ()) -> dict[str, Any]:
    """`defaults` updated by `kwargs`; a key outside them is a `LayerSpecError` naming it.

    `unsupported` are torchvision keywords that take a ``torch.nn`` class (``norm_layer``,
    ``block`` ...), which a layercalc model cannot use. ``weights`` and ``progress`` are
    accepted (they load weights; a model's size is the same).

    >>> take_kwargs("swin_t", {"num_classes": 10}, {"num_classes": 1000, "dropout": 0.0})
    {'num_classes': 10, 'dropout': 0.0}
    >>> take_kwargs("swin_t", {"num_class": 10}, {"num_classes": 1000})
    Traceback (most recent call last):
    layercalc.errors.LayerSpecError: swin_t: unknown keyword argument 'num_class'; allowed: num_classes, weights, progress.
    """
    out = dict(defaults)
    for key, value in kwargs.items():
        if key in defaults:
            out[key] = value
        elif key in _WEIGHTS_KEYS:
            continue
        elif key in unsupported:
            raise LayerSpecError(owner, f"keyword argument {key!r} (={value!r}) takes a "
                                 "torch.nn class and is not supported here")
        else:
            allowed = ", ".join([*defaults, *_WEIGHTS_KEYS])
            raise LayerSpecError(owner, f"unknown keyword argument {key!r}; allowed: {allowed}")
    return out
