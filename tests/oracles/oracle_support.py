"""Helpers shared by the PyTorch oracle tests (``tests/oracles/test_*.py``).

The oracle tests need torch (the ``oracle`` extra); every test module starts with
``torch = require_torch()``, which skips the whole module, with `TORCH_SKIP_REASON`, when torch
is missing. This module itself imports neither torch nor pytest at import time, so
``pytest --doctest-modules`` can collect it anywhere.

>>> "oracle" in TORCH_SKIP_REASON
True
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

TORCH_SKIP_REASON = (
    "torch not installed: pip install -e '.[oracle]' (torch==2.13.0 CPU) to run the PyTorch "
    "oracle tests"
)


def require_torch() -> Any:
    """``import torch``, or skip the calling test module (at import time) with the reason."""
    import pytest

    return pytest.importorskip("torch", reason=TORCH_SKIP_REASON)


def zoo_builder(name: str) -> Callable:
    """The layercalc zoo function matching reference model `name` of
    ``torch_models.MODEL_BUILDERS`` (``resnet50_v1`` is ``resnet50(variant="v1")``).

    >>> zoo_builder("resnet50_v1").keywords
    {'variant': 'v1'}
    """
    from layercalc.zoo import MODELS

    if name.startswith("resnet") and name.endswith("_v1"):
        return partial(MODELS[name[: -len("_v1")]], variant="v1")
    return MODELS[name]


def fast_build(factory: Callable) -> Any:
    """``factory()`` without paying for weight initialisation: built on the meta device, then
    given real (CPU) storage filled with zeros, in eval mode. Shapes, parameter counts and
    every peer tool's count depend only on sizes, never on values; VGG's ~130M-parameter
    initialisation would otherwise dominate the oracle tests' runtime."""
    import torch

    with torch.device("meta"):
        model = factory()
    model = model.to_empty(device="cpu")
    with torch.no_grad():
        for t in [*model.parameters(), *model.buffers()]:
            t.zero_()
    return model.eval()
