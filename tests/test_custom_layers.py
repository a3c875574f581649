"""docs/custom-layers.md as a test: its code blocks run verbatim, in order, its doctests
pass, and its brute-force property runs; plus the registry's redefinition rules."""

from __future__ import annotations

import doctest
import re
import sys
import types
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

import layercalc as lc

PAGE = Path(__file__).resolve().parents[1] / "docs" / "custom-layers.md"


def _page_namespace() -> dict:
    """Run the page's ```python blocks without ``>>>`` (the definitions), in order."""
    module = types.ModuleType("custom_layers_page")  # dataclasses look their module up
    sys.modules[module.__name__] = module
    ns = module.__dict__
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    code = [b for b in blocks if not b.lstrip().startswith(">>>")]
    assert len(code) == 2  # the layer, and its brute-force test
    for block in code:
        exec(compile(block, str(PAGE), "exec", dont_inherit=True), ns)  # noqa: S102
    return ns


NS = _page_namespace()


def test_the_guide_layer_brute_force_property():
    """The page's Hypothesis property, run here."""
    NS["test_low_rank_matches_brute_force"]()


def test_the_guide_doctests():
    res = doctest.testfile(str(PAGE), module_relative=False, globs=dict(NS),
                           optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0 and res.attempted >= 12


def test_field_helpers_are_public():
    assert lc.dim is lc.layers._base.dim and lc.flag is lc.layers._base.flag
    assert lc.dims is lc.layers._base.dims and lc.choice is lc.layers._base.choice


def test_redefining_in_the_same_module_replaces_silently():
    """Re-running a notebook cell: the newer class wins, no warning (it used to raise a raw
    TypeError from the registry)."""
    def define():
        @dataclass(frozen=True)
        class TwiceDefined(lc.Layer):
            k: int = lc.dim(1)

            def output_shape(self, x):
                return tuple(x)

            def cost(self, x):
                return lc.Cost(ops={"mul": self.k})
        return TwiceDefined

    first = define()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = define()
    assert first is not second and lc.LAYERS["TwiceDefined"] is second
    assert lc.get_layer("TwiceDefined") is second


def test_shadowing_another_modules_layer_warns():
    module = types.ModuleType("my_project.layers")
    sys.modules[module.__name__] = module
    ns = module.__dict__
    src = ("from dataclasses import dataclass\nimport layercalc as lc\n"
           "@dataclass(frozen=True)\nclass ReLU(lc.Layer):\n"
           "    def output_shape(self, x): return tuple(x)\n"
           "    def cost(self, x): return lc.Cost()\n")
    original = lc.LAYERS["ReLU"]
    try:
        with pytest.warns(UserWarning) as rec:
            exec(compile(src, "my_project/layers.py", "exec", dont_inherit=True), ns)  # noqa
        assert str(rec[0].message) == ("layer 'ReLU' defined in my_project.layers replaces the "
                                       "one defined in layercalc.layers.activation in "
                                       "layercalc.LAYERS")
        assert lc.LAYERS["ReLU"] is ns["ReLU"]
    finally:
        lc.layers._base._LAYERS["ReLU"] = original  # leave the catalog as it was
        del sys.modules["my_project.layers"]
    assert lc.get_layer("ReLU") is lc.ReLU
