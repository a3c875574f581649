"""The table model (layercalc.table) and rich display: every renderer of one Table, the
mixin a report type inherits, compact reprs, Jupyter's HTML with depth control, LaTeX
formulas."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from dataclasses import dataclass

import pytest
import sympy as sp

import layercalc as lc
from layercalc.table import Column, Table, TableRenderers


@pytest.fixture(scope="module")
def resnet50():
    return lc.analyze(lc.zoo.resnet50(), (3, 224, 224), name="resnet50")


@pytest.fixture(scope="module")
def toy() -> Table:
    H = sp.Symbol("H")
    return Table(
        [Column("layer", "Layer"), Column("macs", "MACs", "count"),
         Column("bytes", "Bytes", "bytes"), Column("time", "Time", "seconds"),
         Column("share", "Share", "percent")],
        [("a|b", 4100, 2_000_000, sp.Rational(1, 3000), 0.25),
         ("c_d", sum(k * H**k for k in range(1, 12)), 10, 1e-7, 0.75)],
        total=("Total", 999_500, 2_000_010, 0.5, 1.0), title="toy <net>",
        header=["MACs: multiply-accumulates"], footer=["a footer & note"])


def test_text(toy):
    text = toy.to_text()
    lines = text.splitlines()
    assert lines[:2] == ["toy <net>", "MACs: multiply-accumulates"]
    head = lines[3]
    assert head.startswith("Layer") and head.endswith("Share")
    row = lines[5]
    assert row.startswith("a|b") and row.split()[1:] == ["4.10K", "2.00", "MB", "333", "µs",
                                                           "25.0%"]
    assert "1.00M" in [ln for ln in lines if ln.startswith("Total")][0]
    assert lines[-2] == "a footer & note" and lines[-1].startswith("… marks an abbreviated")
    rules = {ln for ln in lines if set(ln) == {"-"}}
    assert len(rules) == 1 and len(rules.pop()) == max(len(ln) for ln in lines[2:-2])
    assert "(+9 terms)" in text and "… marks" not in toy.to_text(full=True)


def test_machine_formats_are_exact(toy):
    rows = list(csv.reader(io.StringIO(toy.to_csv())))
    assert rows[0] == ["layer", "macs", "bytes", "time", "share"]
    assert rows[1][:3] == ["a|b", "4100", "2000000"] and rows[1][3] == "1/3000"
    assert rows[2][1].startswith("11*H**11 + 10*H**10") and rows[3][1] == "999500"
    d = json.loads(toy.to_json())
    assert d["schema"] == "layercalc.table/1"
    assert [c["kind"] for c in d["columns"]] == ["text", "count", "bytes", "seconds", "percent"]
    assert d["rows"][0]["macs"] == 4100 and d["total"]["macs"] == 999_500


def test_markdown_html_latex_escape(toy):
    md = toy.to_markdown()
    assert r"| a\|b |" in md and "|:---|---:|---:|---:|---:|" in md
    assert "`11*H**11 + 10*H**10" in md and "| **Total** | **1.00M** |" in md
    html = toy.to_html()
    assert "<b>toy &lt;net&gt;</b>" in html and "a footer &amp; note" in html
    assert "<code>11*H**11" in html and '<tfoot><tr style="font-weight:bold">' in html
    tex = toy.to_latex()
    assert r"c\_d" in tex and r"a footer \& note" in tex and r"25.0\%" in tex
    assert r"$11 H^{11} + 10 H^{10} + \dots$" in tex and r"333 $\mu$s" in tex
    assert toy.to_latex(environment=False).startswith(r"\begin{tabular}{lrrrr}")


def test_rich_and_its_fallback(toy, monkeypatch):
    pytest.importorskip("rich", reason="rich is an optional extra: pip install 'layercalc[rich]'")
    out = toy.render("rich", color=False, console_width=200)
    assert "toy <net>" in out and "4.10K" in out and "Total" in out and "a footer" in out
    assert "\x1b[" not in out  # no colour codes when not asked
    assert toy.render("table") == toy.to_text()  # not a terminal: plain text
    monkeypatch.setitem(sys.modules, "rich", None)
    with pytest.raises(lc.MissingDependencyError, match=r"pip install 'layercalc\[rich\]'"):
        toy.to_rich()
    assert toy.render("table") == toy.to_text()


def test_rows_must_fit_the_columns():
    with pytest.raises(ValueError, match="row 0 has 1 values for 2 columns"):
        Table([Column("a"), Column("b")], [(1,)])
    with pytest.raises(ValueError, match="kind"):
        Column("a", kind="money")


def test_a_new_report_type_gets_every_renderer():
    """The module docstring's recipe: define table(), inherit TableRenderers."""

    @dataclass(frozen=True)
    class Toy(TableRenderers):
        n: int

        def table(self, scale: int = 1, *, full: bool = False) -> Table:
            return Table([Column("k", "Key"), Column("v", "Value", "count")],
                         [("x", self.n * scale)], title="toy report")

    t = Toy(2500)
    assert "2.50K" in t.to_text() and "5.00K" in t.to_text(2) and str(t) == t.to_text()
    assert t.to_csv(2).splitlines()[1] == "x,5000"
    assert json.loads(t.to_json())["rows"] == [{"k": "x", "v": 2500}]
    assert "<table" in t._repr_html_() and "| x | 2.50K |" in t.to_markdown()
    assert t.render("csv") == "k,v\nx,2500"


def test_reprs_are_compact(resnet50):
    """repr stays one short line whatever the model (it was 57,000 characters for a
    Comparison), symbolic sizes included."""
    T = lc.symbols("T")
    gpt2 = lc.analyze(lc.zoo.gpt2(), (T,), name="gpt2")
    objects = [resnet50, gpt2, lc.compare(resnet50), lc.roofline(resnet50, "a100-sxm4-80gb"),
               lc.roofline(gpt2, "a100-sxm4-80gb").points[3],
               lc.fuse_report(lc.zoo.resnet18(), (3, 224, 224), name="resnet18")]
    for obj in objects:
        text = repr(obj)
        assert len(text) < 2000 and "\n" not in text, type(obj).__name__
    assert repr(resnet50) == ("<Report resnet50: input (3, 224, 224), 175 rows, 25.6M params, "
                              "4.09G MACs>")
    assert repr(gpt2).startswith("<Report gpt2: input (T,), ") and "124M params" in repr(gpt2)
    assert repr(lc.compare(resnet50)) == (f"<Comparison resnet50: {len(lc.CONVENTIONS)} "
                                          "conventions, 4.09G (macs) to 8.23G (exact)>")


def test_jupyter_html_has_caption_totals_footer_and_depth(resnet50):
    html = resnet50._repr_html_()
    assert "<caption" in html and "FLOPs: exact convention" in html
    assert "25,557,032" in html and "<tfoot>" in html  # exact totals, the total row
    visible = html.split("<details>")[0]
    assert visible.count("<tr>") == 11 + 1  # depth 1: 11 groups, and the total in <tfoot>
    summaries = re.findall(r"<summary>(.*?)</summary>", html)
    assert summaries[0] == "By layer kind" and summaries[-1] == "Every layer (175 rows)"
    assert any(s.startswith("By path depth 2") for s in summaries)
    assert len(html) < 150_000
    macs = resnet50.to_html("macs", levels=True)
    assert "Not counted under &#x27;macs&#x27;" in macs  # the footer names uncounted work
    flat = lc.analyze(lc.zoo.seed_alexnet(), (3, 224, 224))._repr_html_()
    assert flat.split("<details>")[0].count("<tr>") == 21 + 1  # one level: every row shown


def test_latex_for_symbolic_totals():
    H, W = lc.symbols("H W")
    r = lc.analyze(lc.Sequential(lc.Conv2d(3, 8, 3, padding=1), lc.ReLU()), (3, H, W))
    tex = r._repr_latex_()
    assert tex.startswith(r"$\displaystyle \begin{aligned}") and r"\text{MACs} &= 216 H W" in tex
    assert r"\text{FLOPs}_\text{exact} &= " + sp.latex(r.flops()) in tex
    assert lc.compare(r, ["exact", "macs"])._repr_latex_().count("&=") == 2
    rl = lc.roofline(r, "t4")
    assert sp.latex(rl.total.flops) in rl._repr_latex_()
    numeric = lc.analyze(lc.Linear(4, 4), (4,))
    assert lc.compare(numeric)._repr_latex_() is None
    assert lc.roofline(numeric, "t4")._repr_latex_() is None


def test_one_column_when_flops_equal_macs(resnet50):
    """Under 'torchvision' (MACs of conv and linear) ResNet-50's FLOPs equal its MACs in
    every row: one column; under 'exact' two."""
    tv = resnet50.table("torchvision")
    assert [c.key for c in tv.columns].count("macs") == 1 and "flops" not in {
        c.key for c in tv.columns}
    assert "FLOPs equal MACs in every row" in tv.header[0]
    assert "flops" in {c.key for c in resnet50.table().columns}


def test_renderers_honour_depth_and_by_kind(resnet50):
    # depth 1: 7 top-level layers and layer1..4; depth 2: the 7 and the 3 + 4 + 6 + 3 blocks
    for depth, n in ((1, 11), (2, 7 + 16)):
        assert len(resnet50.table(depth=depth).rows) == n
        assert len(list(csv.reader(io.StringIO(resnet50.to_csv(depth=depth))))) == n + 2
        assert len(resnet50.to_dict(depth=depth)["rows"]) == n
    kinds = resnet50.by_kind()
    assert len(resnet50.to_dict(by_kind=True)["rows"]) == len(kinds)
    assert [r["kind"] for r in resnet50.to_dict(by_kind=True)["rows"]] == list(kinds)
    with pytest.raises(lc.LayerCalcError, match=r"depth \(=0\) must be a positive integer"):
        resnet50.to_csv(depth=0)


# -- training, inference and printout reports -----------------------------------------------------
@pytest.fixture(scope="module")
def step():
    """A GPT-2 training step (128 tokens, batch 8, bf16 mixed, tp=2, dp=2 with ZeRO-1)."""
    report = lc.analyze(lc.zoo.gpt2(), (128,), batch=8, name="gpt2")
    return lc.training(report, precision="bf16-mixed",
                       parallel=lc.Parallelism(dp=2, tp=2, zero=1))


@pytest.fixture(scope="module")
def served():
    return lc.inference("gpt2", prompt_len=256, gen_len=32, batch=4, hardware="a100-sxm4-80gb")


def test_new_report_reprs_are_compact(step, served):
    """Every training, inference and printout object has a one-line repr under 2,000
    characters, symbolic sizes included."""
    B, T = lc.symbols("B T")
    sym = lc.training(lc.analyze(lc.zoo.gpt2(), (T,), batch=B, name="gpt2"))
    sym_served = lc.inference("gpt2", prompt_len=T, gen_len=T, batch=B, hardware="t4")
    objects = [step, step.memory, step.communication, step.time("h100-sxm"),
               step.time("h100-sxm", mfu=0.4), sym, sym.memory, sym.time("h100-sxm"),
               served, served.prefill, served.decode, served.prefill.rows[3],
               served.decode.bytes, sym_served, sym_served.decode, sym_served.decode.rows[5],
               lc.printout(lc.analyze(lc.zoo.alexnet(), (3, 224, 224)), "torchsummary")]
    for obj in objects:
        text = repr(obj)
        assert len(text) < 2000 and "\n" not in text, type(obj).__name__
        assert text.startswith(f"<{type(obj).__name__}"), text
    f, m = step.flops(), step.memory.total
    assert repr(step) == ("<TrainingReport gpt2: batch 8, adamw bf16-mixed, dp=2, tp=2, pp=1, "
                          f"zero=1, {lc.format.rate(f, 'FLOP/step')} (exact), "
                          f"{lc.format.nbytes(m)}/device>")
    assert repr(served) == (
        "<InferenceReport gpt2 on a100-sxm4-80gb: prompt 256, gen 32, batch 4, weights fp16, "
        f"TTFT {lc.format.seconds(served.ttft)}, TPOT {lc.format.seconds(served.tpot)}, "
        f"{lc.format.count(served.tokens_per_s)} tokens/s, "
        f"memory {lc.format.nbytes(served.memory_bytes)}>")


def test_training_html_has_caption_totals_footers_and_depth(step):
    html = step._repr_html_()
    assert html.count("<caption") == 3  # the rows, the memory, the collectives
    assert "FLOPs: exact convention" in html and "<tfoot>" in html
    assert f"{step.flops():,}" in html  # exact FLOPs of the step in the footer
    assert f"{step.memory.total:,}" in html  # exact memory total
    visible = html.split("<details>")[0].split("</table>")[0]  # the rows table, depth 1
    assert visible.count("<tr>") == 1 + 2  # the head, then transformer and lm_head
    summaries = re.findall(r"<summary>(.*?)</summary>", html)
    assert summaries[0].startswith("By path depth 2") and "Every layer (149 rows)" in summaries
    assert summaries[-1].startswith("By cause")
    # the "not counted" footer: rules missing, and work a convention counts as zero
    net = lc.Sequential(lc.Conv2d(3, 4, 3, padding=1),
                        lc.Upsample(scale_factor=2, mode="bilinear"), lc.MaxPool2d(2))
    t = lc.training(lc.analyze(net, (3, 4, 4)))
    assert "Backward not counted (no rule" in t._repr_html_()
    assert "Not counted under &#x27;macs&#x27;: " in t.to_html("macs")
    assert "Counted as 0 by &#x27;flopcountermode&#x27;" in t.to_html("flopcountermode")


def test_training_renderers_agree(step):
    """Every format renders the same rows; CSV and JSON are exact; the total is the sum of the
    rows; depth groups them."""
    rows = list(csv.reader(io.StringIO(step.to_csv(depth=3))))
    assert rows[0] == ["path", "kind", "forward", "dgrad", "wgrad", "accumulation",
                       "recompute", "activations"]
    body, total = rows[1:-1], rows[-1]
    assert len(body) == 17 and total[0] == "Total"
    for k in range(2, 8):
        assert sum(int(r[k]) for r in body) == int(total[k])
    parts = step.row_flops()
    assert [int(x) for x in total[2:7]] == [parts[k] for k in ("forward", "dgrad", "wgrad",
                                                               "accumulation", "recompute")]
    md = step.to_markdown(depth=1)
    assert md.count("| **Total** |") == 3 and "**gpt2 training step" in md
    tex = step.to_latex(depth=1)
    assert tex.count(r"\begin{table}") == 3 and r"\textbf{Total}" in tex
    assert step.render("csv", depth=3) == step.to_csv(depth=3).rstrip("\n")
    assert step.render("text") == str(step) == step.to_text()
    with pytest.raises(lc.LayerCalcError, match=r"depth \(=0\) must be a positive integer"):
        step.table(depth=0)


def test_inference_html_has_caption_figures_and_depth(served):
    html = served._repr_html_()
    assert "<caption" in html and "FLOPs: exact convention" in html
    assert "TTFT: " + lc.format.seconds(served.ttft) in html
    summaries = re.findall(r"<summary>(.*?)</summary>", html)
    assert summaries[0] == "prefill: 149 layers"
    # decode's mean context: 256 + (32 + 1)/2 keys (the docstring of layercalc.serving)
    assert "decode: the mean of 32 steps (mean context 545/2 keys): 149 layers" in summaries
    assert "Every layer (149 rows)" in summaries and any(
        s.startswith("By path depth 3") for s in summaries)
    # the stage table's rows sum to the stage
    t = served.decode.table(depth=3)
    assert sum(r[2] for r in t.rows) == served.decode.flops == t.total[2]
    assert len(served.decode.table(top=5).rows) == 5


def test_inference_batch_table_and_symbols(served):
    """One row per batch size; formulas abbreviated for a terminal unless full."""
    P, B = lc.symbols("P B")
    sym = lc.inference("gpt2", prompt_len=P, batch=B, hardware="t4")
    t = lc.InferenceReport.batch_table([served, sym])
    assert [r[0] for r in t.rows] == [4, B] and t.rows[0][1] == served.ttft
    text = t.to_text()
    assert max(len(line) for line in text.splitlines()) < 400
    assert "… marks an abbreviated formula" in text
    assert len(max(t.to_text(full=True).splitlines(), key=len)) > 400
    tex = sym._repr_latex_()
    assert tex.startswith(r"$\displaystyle \begin{aligned} \text{TTFT} &= ")
    assert served._repr_latex_() is None
    layers = lc.InferenceReport.batch_table([served], depth=1)
    assert {r[1] for r in layers.rows} == {"prefill", "decode"}


def test_training_latex_for_symbolic_totals():
    B = lc.symbols("B")
    t = lc.training(lc.analyze(lc.Linear(4, 4), (4,), batch=B))
    tex = t._repr_latex_()
    assert r"\text{FLOPs}_\text{exact} &= " + sp.latex(sp.sympify(t.flops())) in tex
    assert t.memory._repr_latex_() is not None
    assert lc.training(lc.analyze(lc.Linear(4, 4), (4,)))._repr_latex_() is None


def test_printout_text_is_the_tools_and_its_display_is_rich():
    p = lc.printout(lc.analyze(lc.zoo.alexnet(), (3, 224, 224)), "torchsummary")
    assert str(p) == p.text  # character for character the tool's
    html = p._repr_html_()
    assert "<pre>" in html and "torchsummary 1.5.1" in html and "<details>" in html
    rows = list(csv.reader(io.StringIO(p.to_csv())))
    assert rows[0] == ["layer", "output_shape", "params"] and len(rows) == len(p.rows) + 1
    assert sum(int(r[2]) for r in rows[1:]) == p.totals["params"]
