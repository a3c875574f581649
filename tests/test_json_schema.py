"""The versioned JSON documents (docs/json-schema.md) keep the keys of their committed JSON
Schema files (docs/schemas/*.schema.json): a key added, renamed or dropped fails here, and
means a new schema version (``layercalc.report/2``) and a new file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import layercalc as lc
from layercalc.cli import main

SCHEMAS = Path(__file__).resolve().parent.parent / "docs" / "schemas"


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    """Report documents in every shape: leaf rows, grouped by depth, by kind, symbolic, with
    a tool convention."""
    r50 = lc.analyze(lc.zoo.resnet50(), (3, 224, 224), name="resnet50")
    H = lc.symbols("H")
    sym = lc.analyze(lc.zoo.resnet18(), (3, H, H), name="resnet18")
    return {
        "rows": r50.to_dict(),
        "depth": r50.to_dict(depth=2),
        "by_kind": r50.to_dict(("macs", "fvcore"), by_kind=True),
        "symbolic": sym.to_dict(),
        "transformer": lc.analyze(lc.zoo.gpt2(), (16,), name="gpt2").to_dict(("exact",)),
    }


def _keys(schema: dict) -> tuple[set[str], set[str]]:
    return set(schema["required"]), set(schema["properties"])


def test_report_schema_id_and_top_level_keys(documents):
    schema = _schema("report-1")
    required, properties = _keys(schema)
    assert required == properties  # every key is always present
    assert schema["properties"]["schema"]["const"] == lc.report.REPORT_SCHEMA == \
        "layercalc.report/1"
    for name, doc in documents.items():
        assert set(doc) == properties, name
        assert doc["schema"] == "layercalc.report/1"


def test_report_rows_and_total_have_the_row_keys(documents):
    row = _schema("report-1")["properties"]["total"]
    required, properties = _keys(row)
    assert required == properties
    counts = set(row["properties"]["counts"]["required"])
    for name, doc in documents.items():
        for r in [doc["total"], *doc["rows"]]:
            assert set(r) == properties, name
            assert counts <= set(r["counts"])
            assert set(r["counts"]) - counts <= {f"ops.{k}" for k in lc.cost.OP_KINDS}
            assert set(r["flops"]) == set(doc["conventions"])


def test_grouping_is_recorded(documents):
    assert documents["rows"]["grouping"] == {"depth": None, "by_kind": False}
    assert documents["depth"]["grouping"] == {"depth": 2, "by_kind": False}
    kinds = documents["by_kind"]
    assert kinds["grouping"] == {"depth": None, "by_kind": True}
    assert [r["path"] for r in kinds["rows"]] == [None] * len(kinds["rows"])
    assert sum(r["layers"] for r in kinds["rows"]) == kinds["total"]["layers"] == 175


def test_comparison_and_roofline_keys():
    rep = lc.analyze(lc.zoo.resnet18(), (3, 224, 224), name="resnet18")
    comparison = lc.compare(rep, ["exact", "fvcore"]).to_dict()
    required, properties = _keys(_schema("comparison-1"))
    assert set(comparison) == required == properties
    assert comparison["schema"] == "layercalc.comparison/1"
    roof = lc.roofline(rep, "t4").to_dict(top=3)
    schema = _schema("roofline-1")
    required, properties = _keys(schema)
    assert set(roof) == required == properties and roof["schema"] == "layercalc.roofline/1"
    row_keys = set(schema["properties"]["total"]["properties"])
    assert all(set(r) == row_keys for r in [roof["total"], *roof["rows"]])


def test_documents_validate_against_their_schemas(documents, capsys):
    """With jsonschema installed (it comes with the notebooks extra), every document
    validates, types included; the CLI prints the same documents."""
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema validates the types; "
                                     "the key checks above run without it")
    report = _schema("report-1")
    for doc in documents.values():
        jsonschema.validate(doc, report)
    assert main(["summary", "seed_alexnet", "--format", "json", "--depth", "1"]) == 0
    jsonschema.validate(json.loads(capsys.readouterr().out), report)
    assert main(["compare", "alexnet", "--format", "json"]) == 0
    jsonschema.validate(json.loads(capsys.readouterr().out), _schema("comparison-1"))
    assert main(["roofline", "alexnet", "--hardware", "t4", "--batch", "1,B", "--top", "2",
                 "--format", "json"]) == 0
    for doc in json.loads(capsys.readouterr().out):
        jsonschema.validate(doc, _schema("roofline-1"))
    with pytest.raises(jsonschema.ValidationError):  # the schema can fail: an extra key
        jsonschema.validate({**documents["rows"], "extra": 1}, report)
