"""Report renderings: snapshots plus invariants (totals equal the sum of rows)."""

from __future__ import annotations

import csv
import io
import json

import pytest

import layercalc as lc
from golden_files import check_snapshot


@pytest.fixture(scope="module")
def alexnet_report():
    return lc.analyze(lc.zoo.seed_alexnet(), (3, 224, 224), name="seed_alexnet")


def test_text_snapshot_and_totals(request, alexnet_report):
    text = alexnet_report.to_text("macs")
    check_snapshot(request, "seed_alexnet_table", text)
    assert "61,264,904" in text  # seed 001's torchsummary total
    # under 'macs' FLOPs equal MACs in every row: one column, and the header says so
    head = [ln for ln in text.splitlines() if ln.startswith("Layer")][0]
    assert head.split() == ["Layer", "Kind", "Output", "shape", "Params", "%", "Params", "MACs",
                            "%", "MACs"]
    assert "FLOPs equal MACs in every row, so one column shows both" in text


def test_default_text_states_the_exact_convention(request, alexnet_report):
    """str(report) uses DEFAULT_CONVENTION ('exact'), names it in the header and shows MACs
    and FLOPs apart (they differ: 2 MACs - dots + bias + ops)."""
    text = str(alexnet_report)
    assert lc.DEFAULT_CONVENTION == "exact"
    assert text.splitlines()[1].startswith("FLOPs: exact convention (every multiply, add")
    head = [ln for ln in text.splitlines() if ln.startswith("Layer")][0]
    assert "MACs" in head and "FLOPs (exact)" in head
    assert f"FLOPs (exact): {alexnet_report.flops('exact'):,}" in text
    check_snapshot(request, "seed_alexnet_exact", text)


def test_csv_total_row_is_sum_of_rows(alexnet_report):
    rows = list(csv.DictReader(io.StringIO(alexnet_report.to_csv("exact"))))
    body, total = rows[:-1], rows[-1]
    assert total["path"] == "Total"
    for col in ("params", "macs", "dots", "bias_adds", "act_reads", "writes", "flops[exact]"):
        assert sum(int(r[col]) for r in body) == int(total[col])


def test_json_records_what_reproduces_it(alexnet_report):
    data = json.loads(alexnet_report.to_json())
    assert data["schema"] == "layercalc.report/1" and data["layercalc"] == lc.__version__
    assert data["input_shape"] == [3, 224, 224] and data["batch"] == 1
    assert set(data["conventions"]) == {"exact", "macs", "2*macs"}
    assert data["convention"] == "exact"
    total = data["total"]
    assert set(total) == set(data["rows"][0])  # the total is shaped like a row
    assert total["counts"]["params"] == 61_264_904 and total["layers"] == 21
    assert sum(r["counts"]["macs"] for r in data["rows"]) == total["counts"]["macs"]
    assert total["flops"]["2*macs"] == 2 * total["counts"]["macs"]
    assert data["uncounted"]["macs"]["cmp"] == alexnet_report.uncounted("macs")["cmp"]
    assert data["uncounted"]["exact"] == {}


def test_markdown_latex_html(alexnet_report):
    md = alexnet_report.to_markdown()
    table = [ln for ln in md.splitlines() if ln.startswith("|")]
    assert len(table) == len(alexnet_report.rows) + 3  # head, alignment, rows, total
    assert md.startswith("**seed_alexnet: input (3, 224, 224), batch 1**")
    assert table[-1].startswith("| **Total** |") and "FLOPs: exact convention" in md
    tex = alexnet_report.to_latex()
    assert tex.startswith(r"\begin{table}") and tex.endswith(r"\end{table}")
    assert r"\begin{tabular}{lllrrrrr}" in tex and r"\caption{seed\_alexnet: input" in tex
    html = alexnet_report.to_html()
    assert html.count("<tr>") == len(alexnet_report.rows) + 1 and "<caption" in html
    assert alexnet_report._repr_latex_() is None  # numbers: the HTML table shows it


def test_depth_grouping_keeps_totals(alexnet_report):
    grouped = alexnet_report.by_depth(1)
    assert sum(grouped.values(), lc.Cost()) == alexnet_report.total


def test_uncounted_ops_are_said_not_hidden(alexnet_report):
    """Under 'macs' ReLU compares and max-pool compares count zero: the footer says so."""
    text = alexnet_report.to_text("macs")
    line = [ln for ln in text.splitlines() if ln.startswith("Not counted under 'macs'")][0]
    assert "cmp" in line and "ReLU" in line and "MaxPool2d" in line
    assert "Not counted" not in alexnet_report.to_text("exact")
    for fmt_ in ("to_markdown", "to_html", "to_latex"):  # every human format has the footer
        assert "Not counted under" in getattr(alexnet_report, fmt_)("macs")


def test_symbolic_report_prints_formulas(request):
    H, W = lc.symbols("H W")
    r = lc.analyze(lc.Sequential(lc.Conv2d(3, 8, 3, padding=1), lc.ReLU()), (3, H, W))
    text = r.to_text("macs")
    assert "216*H*W" in text
    check_snapshot(request, "symbolic_conv_relu", text)


def test_human_units():
    """`report.human` is `format.count`: 3 significant figures, trailing zeros kept."""
    assert [lc.report.human(v) for v in (0, 999, 1500, 2_500_000, 4.09e9, 999_500)] == [
        "0", "999", "1.50K", "2.50M", "4.09G", "1.00M"]


def test_to_dataframe_when_pandas_installed(alexnet_report):
    pd = pytest.importorskip("pandas", reason="pandas is an optional extra")
    df = alexnet_report.to_dataframe()
    assert int(df["params"].sum()) == 61_264_904


def test_by_kind_table_rows_sum_to_total(alexnet_report):
    """Grouping by kind: one row per kind, percentages, and the same totals."""
    text = alexnet_report.to_text("macs", by_kind=True)
    kinds = alexnet_report.by_kind()
    assert list(kinds) == ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Dropout", "Linear"]
    assert sum(kinds.values(), lc.Cost()) == alexnet_report.total
    # conv MACs = total - the three FC layers' 9216*4096 + 4096*4096 + 4096*1000 = 802,679,328
    assert kinds["Conv2d"].macs == 861_301_280 - (9216 * 4096 + 4096 * 4096 + 4096 * 1000)
    conv_line = [ln for ln in text.splitlines() if " Conv2d " in ln][0]
    assert conv_line.startswith("5 x") and conv_line.rstrip().endswith("93.2%")
