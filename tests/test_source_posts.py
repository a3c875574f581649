"""Every figure printed in the five source posts, one test each (tests/golden/source_posts.toml).

Each test names its post (title and author) and says how layercalc gets the figure: an exact
integer, a line of a tool's printout rendered by `layercalc.render_as`, a value the post
rounds, or (two figures) layercalc's closest value where no model reproduces the post's.
docs/source-posts.md lists them with the same ids.
"""

from __future__ import annotations

import tomllib
from fractions import Fraction
from functools import cache
from pathlib import Path

import pytest

import layercalc as lc
from layercalc import analyze, zoo

TABLE = tomllib.loads((Path(__file__).parent / "golden" / "source_posts.toml").read_text(
    encoding="utf-8"))["figure"]
STATUSES = ("exact", "rounded-as-printed", "not-reproducible")


# -- the renderings the posts print ------------------------------------------------------------
@cache
def _report(name: str) -> lc.Report:
    return analyze(zoo.MODELS[name](), (3, 224, 224))


def _returned_strings(model: str) -> str:
    """The two lines Zhang Ge's sample prints from the strings ptflops returns."""
    t = lc.printout(_report(model), "ptflops-hooks", root="AlexNet").totals
    return "\n".join(["{:<30}  {:<8}".format("Computational complexity: ", t["macs_string"]),
                      "{:<30}  {:<8}".format("Number of parameters: ", t["params_string"])])


@cache
def _rendered(key: str) -> tuple[str, ...]:
    tool, model = key.split(":")
    if tool == "ptflops-hooks-returned":
        text = _returned_strings(model)
    else:
        text = lc.render_as(_report(model), tool, root="AlexNet")
    return tuple(line.rstrip() for line in text.splitlines())


# -- the numbers -----------------------------------------------------------------------------
def _conv_mem(layer: lc.Layer) -> lc.MemoryTraffic:
    return lc.memory(analyze(layer, (256, 28, 28)), "filter_rereads", "int8")


_CONV = lc.Conv2d(256, 512, 3, padding=1)
_DW = lc.Conv2d(256, 256, 3, padding=1, groups=256)
_PW = lc.Conv2d(256, 512, 1)


@cache
def _case(which: str) -> lc.Report:
    """BY J's feature extractors on 126x224 frames, BatchNorm folded (as deployed)."""
    if which == "v1":
        return analyze(lc.fuse(zoo.mobilenet_v1(variant="keras")), (3, 126, 224),
                       up_to="conv_pw_11_relu")
    width, padding = which.split("/")
    model = zoo.mobilenet_v2(width_mult=float(width), variant="tf", strided_padding=padding)
    return analyze(lc.fuse(model), (3, 126, 224), up_to="expanded_conv_12")


@cache
def _vgg16() -> lc.Report:
    features = zoo.vgg16()["features"]
    return analyze(lc.fuse(features[:30]), (3, 126, 224))


def _layers(r: lc.Report, kinds: tuple[str, ...]) -> int:
    return sum(1 for row in r.rows if row.kind in kinds)


COMPUTE = {
    "conv_5x5_params": lambda: lc.Conv2d(3, 16, 5).cost((3, 96, 96)).params,
    "hi3519_int8_peak": lambda: lc.get_hardware("hi3519av100").peak("int8"),
    "thop_seed_alexnet": lambda: _report("seed_alexnet").flops("thop"),
    "seed_alexnet_params": lambda: _report("seed_alexnet").total.params,
    "model_size_10m": lambda: lc.model_size(lc.Cost(params=10**7), "fp32"),
    "a100_from_clock": lambda: lc.Hardware.from_clock("a100", 1_410_000_000, 108, 64).peak(
        "fp32"),
    "camera_bandwidth": lambda: lc.memory_bandwidth(2000 * 10**6, 32, 2),
    "a100_bandwidth": lambda: lc.memory_bandwidth(1215 * 10**6, 5120),
    "conv_3x3_params": lambda: lc.Conv2d(1, 1, 3).cost((1, 3, 3)).params,
    "conv_macs": lambda: lc.Conv2d(64, 128, 3, padding=1).cost((64, 112, 112)).macs,
    "dw_macs": lambda: lc.Conv2d(64, 64, 3, padding=1, groups=64).cost((64, 112, 112)).macs,
    "pw_macs": lambda: lc.Conv2d(64, 128, 1).cost((64, 112, 112)).macs,
    "ds_macs": lambda: analyze(lc.Sequential(lc.Conv2d(64, 64, 3, padding=1, groups=64),
                                             lc.Conv2d(64, 128, 1)), (64, 112, 112)).total.macs,
    "ds_ratio": lambda: Fraction(COMPUTE["conv_macs"](), COMPUTE["ds_macs"]()),
    "expansion_block_macs": lambda: analyze(lc.Sequential(
        lc.Conv2d(64, 384, 1), lc.Conv2d(384, 384, 3, padding=1, groups=384),
        lc.Conv2d(384, 128, 1)), (64, 112, 112)).total.macs,
    "input_reads": lambda: lc.Conv2d(3, 32, 3, 2, 1).cost((3, 224, 224)).act_reads,
    "strided_writes": lambda: lc.Conv2d(3, 32, 3, 2, 1).cost((3, 224, 224)).writes,
    "mem_ds_total": lambda: _conv_mem(_DW).total + _conv_mem(_PW).total,
    "mem_ratio": lambda: Fraction(_conv_mem(_CONV).total, COMPUTE["mem_ds_total"]()),
    "relu_input": lambda: lc.ReLU().cost((512, 28, 28)).act_reads,
    "relu_output": lambda: lc.ReLU().cost((512, 28, 28)).writes,
    "relu_total": lambda: lc.memory(lc.ReLU().cost((512, 28, 28)), "compulsory", "int8").total,
    "v1_params": lambda: _case("v1").total.params,
    "v2_params": lambda: _case("1.0/pad-end").total.params,
    "v2_14_params": lambda: _case("1.4/pad-end").total.params,
    "v1_macs": lambda: _case("v1").total.macs,
    "v2_macs": lambda: _case("1.0/pad-end").total.macs,
    "v2_14_macs": lambda: _case("1.4/pad-end").total.macs,
    "v1_memory": lambda: lc.memory(_case("v1"), "filter_rereads", "int8").total,
    "v2_memory": lambda: lc.memory(_case("1.0/same"), "filter_rereads", "int8").total,
    "v2_14_memory": lambda: lc.memory(_case("1.4/same"), "filter_rereads", "int8").total,
    "v1_layers": lambda: _layers(_case("v1"), ("Conv2d",)),
    "v2_layers": lambda: _layers(_case("1.0/pad-end"), ("Conv2d", "Add")),
    "vgg16_params": lambda: _vgg16().total.params,
    "vgg16_macs": lambda: _vgg16().total.macs,
    "vgg16_memory": lambda: sum(lc.memory(row, "filter_rereads", "int8").total
                                for row in _vgg16().rows if row.kind == "Conv2d"),
}
for _name, _layer in (("conv", _CONV), ("dw", _DW), ("pw", _PW)):
    for _part, _attr in (("input", "act_reads"), ("output", "writes"),
                         ("weights", "weight_reads"), ("total", "total")):
        COMPUTE[f"mem_{_name}_{_part}"] = (
            lambda layer=_layer, attr=_attr: getattr(_conv_mem(layer), attr))


def _expected(f: dict) -> int | Fraction:
    v = f["value"]
    return Fraction(v) if isinstance(v, str) else v  # Fraction parses 'a/b'; nothing is evaluated


@pytest.mark.parametrize("f", TABLE, ids=[f["id"] for f in TABLE])
def test_figure(f):
    """One printed figure: exact, rounded as the post prints it, or (stated) not reproduced."""
    where = f"{f['author']}, {f['post']} ({f['where']}): {f['printed']!r}"
    assert f["status"] in STATUSES, where
    if f["check"] == "line":
        assert f["status"] == "exact", where
        lines = _rendered(f["render"])
        assert f["printed"].rstrip() in lines, f"{where}\nnot in the rendering:\n" + "\n".join(
            lines)
        return
    got = COMPUTE[f["compute"]]()
    assert got == _expected(f), f"{where}: layercalc gives {got}"
    if f["status"] == "exact":
        assert "printed_value" not in f, where
        return
    scaled = Fraction(got) / Fraction(f["scale"])
    if f.get("rounding") == "floor":  # BY J's VGG16 line truncates (8,380.6M -> "8380M")
        rounded = float(int(scaled * 10 ** f["digits"])) / 10 ** f["digits"]
    else:
        rounded = round(float(scaled), f["digits"])
    if f["status"] == "rounded-as-printed":
        assert rounded == f["printed_value"], f"{where}: {got} rounds to {rounded}"
    else:  # not reproducible: the closest value is pinned, and it is not the post's
        assert rounded != f["printed_value"] and f["reason"], where


def test_every_figure_is_counted_once():
    """94 figures: 2 + 34 + 5 + 14 + 39 by post; ids unique; each names its post and author."""
    assert len({f["id"] for f in TABLE}) == len(TABLE) == 94
    by_post = {}
    for f in TABLE:
        by_post[f["post"]] = by_post.get(f["post"], 0) + 1
        assert f["author"] and f["how"], f["id"]
    assert list(by_post.values()) == [2, 34, 5, 14, 39]
    counts = {s: sum(f["status"] == s for f in TABLE) for s in STATUSES}
    assert counts == {"exact": 79, "rounded-as-printed": 13, "not-reproducible": 2}


def test_printed_lines_appear_in_the_posts_order():
    """The rendered printouts list the posts' lines in the posts' order (a test above checks
    each line; this one that they are not matched out of order)."""
    for key in ("torchsummary:seed_alexnet", "torchstat:seed_alexnet", "ptflops-hooks:alexnet"):
        lines = _rendered(key)
        wanted = [f["printed"].rstrip() for f in TABLE if f.get("render") == key]
        positions = [lines.index(w) for w in wanted]
        assert positions == sorted(positions), key


def test_docs_list_every_figure():
    """docs/source-posts.md lists every figure by its id."""
    doc = (Path(__file__).parent.parent / "docs" / "source-posts.md").read_text(encoding="utf-8")
    missing = [f["id"] for f in TABLE if f"`{f['id']}`" not in doc]
    assert not missing
