"""Every named convention, resolved by name: the definitions (`layercalc.conventions`:
``exact``, ``macs`` ...) and the tools' rules (`layercalc.peers`: ``fvcore``, ``ptflops``
...). It sits right of both so that neither needs the other's registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .conventions import BASE_CONVENTIONS, DEFAULT_CONVENTION, Convention
from .cost import Cost
from .dims import Dim
from .errors import lookup
from .peers import TOOL_CONVENTIONS, ToolConvention

__all__ = ["CONVENTIONS", "get_convention", "flops", "convention_note"]

#: Every convention by name: the four definitions (`layercalc.conventions`), then one per peer tool
#: (`layercalc.peers`), each reproducing that tool's headline number exactly.
CONVENTIONS: Mapping[str, Convention | ToolConvention] = MappingProxyType(
    {**BASE_CONVENTIONS, **TOOL_CONVENTIONS})


def get_convention(name: str | Convention | ToolConvention) -> Convention | ToolConvention:
    """The preset called `name` (a `Convention` passes through).

    >>> get_convention("exat")
    Traceback (most recent call last):
    ...
    layercalc.errors.UnknownNameError: unknown convention 'exat'; did you mean 'exact'?
    """
    if isinstance(name, (Convention, ToolConvention)):
        return name
    return lookup(CONVENTIONS, "convention", name)


def flops(x: Any, convention: str | Convention = DEFAULT_CONVENTION) -> Dim:
    """FLOPs of a `Cost` (or of anything with a ``__flops__(convention)`` method, such as a
    `Report`) under `convention`.

    >>> from layercalc import Conv2d
    >>> cost = Conv2d(64, 128, 3, padding=1).cost((64, 112, 112))
    >>> flops(cost, "exact") == 2 * cost.macs
    True
    """
    conv = get_convention(convention)
    if isinstance(x, Cost):
        return conv.flops(x)  # a ToolConvention raises ConventionError: it needs a Report
    hook = getattr(x, "__flops__", None)
    if hook is None:
        raise TypeError(f"flops() takes a Cost or a Report, not {type(x).__name__}")
    return hook(conv)


def convention_note(convention: str | Convention | ToolConvention) -> str:
    """The line every output prints to say how it counted FLOPs.

    >>> convention_note("exact")
    'FLOPs: exact convention (every multiply, add, compare, divide and transcendental counted once; see `layercalc list conventions`)'
    >>> convention_note("ptflops")
    'FLOPs: ptflops convention (reproduces ptflops 0.7.5: MACs of conv/linear (+bias) plus one per element for hooked layers; see `layercalc list conventions`)'
    """
    conv = get_convention(convention)
    if isinstance(conv, ToolConvention):
        what = f"reproduces {' '.join(conv.tool.split()[:2])}: {conv.unit}"
    else:
        what = conv.description.split(";")[0] or "a custom convention"
    return f"FLOPs: {conv.name} convention ({what}; see `layercalc list conventions`)"
