"""The versioned JSON documents (docs/json-schema.md) keep the keys of their committed JSON
Schema files (docs/schemas/*.schema.json): a key added, renamed or dropped fails here, and
means a new schema version (``layercalc.report/2``) and a new file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import layercalc as lc
from layercalc.cli import main
from layercalc.serving import INFERENCE_SCHEMA
from layercalc.training import TRAINING_SCHEMA

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


# -- layercalc.training/1 and layercalc.inference/1 --------------------------------------------
@pytest.fixture(scope="module")
def training_documents() -> dict[str, dict]:
    """Training documents in every shape: leaf rows with collectives and a step time, grouped
    by depth, a tool's convention, recomputed paths and pipeline stages, symbolic sizes."""
    r18 = lc.analyze(lc.zoo.resnet18(), (3, 32, 32), batch=2, name="resnet18")
    B, T = lc.symbols("B T")
    gpt2 = lc.analyze(lc.zoo.gpt2(), (16,), batch=2, name="gpt2")
    t = lc.training(r18, parallel=lc.Parallelism(dp=2, zero=1))
    return {
        "rows": t.to_dict(hardware="t4"),
        "depth": t.to_dict("macs", depth=1),
        "tool": lc.training(r18).to_dict("flopcountermode", 2),
        "pipeline": lc.training(gpt2, precision="bf16-mixed", recompute=["transformer.h.0"],
                                parallel=lc.Parallelism(tp=2, pp=2, sp=True)).to_dict(depth=3),
        "symbolic": lc.training(lc.analyze(lc.zoo.gpt2(), (T,), batch=B, name="gpt2"),
                                precision="bf16-mixed").to_dict(depth=2, hardware="h100-sxm"),
    }


@pytest.fixture(scope="module")
def inference_documents() -> dict[str, dict]:
    """Inference documents: every layer, grouped by depth, no rows, symbolic sizes, a
    mixture of experts, a state-space model, the LLM-Viewer profile."""
    P = lc.symbols("P")
    small = dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2)
    gpt2 = lc.inference("gpt2", prompt_len=64, gen_len=8, batch=2, hardware="t4")
    return {
        "rows": gpt2.to_dict(),
        "depth": gpt2.to_dict(2),
        "no_rows": gpt2.to_dict(rows=False),
        "symbolic": lc.inference(lc.zoo.llama(**small), prompt_len=P, gen_len=4,
                                 hardware="t4").to_dict(1),
        "moe": lc.inference("mixtral-8x7b", prompt_len=32, hardware="h100-sxm",
                            weight_dtype="int4").to_dict(3),
        "ssm": lc.inference("mamba-130m", prompt_len=32, gen_len=4,
                            hardware="t4").to_dict(2),
        "llm_viewer": lc.inference("llama-2-7b", prompt_len=128, hardware="a100-sxm4-80gb",
                                   profile="llm-viewer").to_dict(rows=False),
    }


def test_training_keys(training_documents):
    schema = _schema("training-1")
    required, properties = _keys(schema)
    assert required == properties  # every key is always present
    assert schema["properties"]["schema"]["const"] == TRAINING_SCHEMA == "layercalc.training/1"
    row = schema["properties"]["rows"]["items"]
    nested = {k: set(schema["properties"][k]["properties"]) for k in
              ("memory", "communication", "time", "parallel", "grouping")}
    for name, doc in training_documents.items():
        assert set(doc) == properties, name
        assert doc["schema"] == "layercalc.training/1"
        for r in [doc["total"], *doc["rows"]]:
            assert set(r) == set(row["properties"]), name
        for k, keys in nested.items():
            if doc[k] is not None:
                assert set(doc[k]) == keys, (name, k)
    assert training_documents["rows"]["time"]["hardware"] == "t4"
    assert training_documents["depth"]["time"] is None
    # the total is the sum of the rows, in every grouping
    for name, doc in training_documents.items():
        if name != "symbolic":
            for k in ("forward", "dgrad", "wgrad", "accumulation", "recompute", "activations"):
                assert sum(r[k] for r in doc["rows"]) == doc["total"][k], (name, k)
            assert sum(r["layers"] for r in doc["rows"]) == doc["total"]["layers"]


def test_inference_keys(inference_documents):
    schema = _schema("inference-1")
    required, properties = _keys(schema)
    assert required == properties
    assert schema["properties"]["schema"]["const"] == INFERENCE_SCHEMA == \
        "layercalc.inference/1"
    stage = schema["properties"]["prefill"]
    row = stage["properties"]["rows"]["items"]
    traffic = set(row["properties"]["bytes"]["properties"])
    for name, doc in inference_documents.items():
        assert set(doc) == properties, name
        for s in ("prefill", "decode"):
            assert set(doc[s]) == set(stage["properties"]), (name, s)
            assert set(doc[s]["bytes"]) == traffic
            for r in doc[s]["rows"]:
                assert set(r) == set(row["properties"]) and set(r["bytes"]) == traffic, name
    assert inference_documents["no_rows"]["prefill"]["rows"] == []
    rows = inference_documents["rows"]
    assert len(rows["prefill"]["rows"]) == sum(r["layers"] for r in
                                               inference_documents["depth"]["prefill"]["rows"])
    for s in ("prefill", "decode"):  # the stage's flops are the sum of its rows
        assert sum(r["flops"] for r in rows[s]["rows"]) == rows[s]["flops"]


def test_training_and_inference_validate(training_documents, inference_documents, capsys):
    """With jsonschema installed, every document validates, and so do the documents the
    train and serve commands print."""
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema validates the types; "
                                     "the key checks above run without it")
    training, inference = _schema("training-1"), _schema("inference-1")
    for doc in training_documents.values():
        jsonschema.validate(doc, training)
    for doc in inference_documents.values():
        jsonschema.validate(doc, inference)
    assert main(["train", "resnet18", "--input", "3x32x32", "--batch", "2", "--dp", "2",
                 "--hardware", "t4", "--depth", "1", "--format", "json"]) == 0
    jsonschema.validate(json.loads(capsys.readouterr().out), training)
    assert main(["serve", "gpt2", "--prompt", "32", "--batch", "1,B", "--hardware", "t4",
                 "--depth", "2", "--format", "json"]) == 0
    docs = json.loads(capsys.readouterr().out)
    assert [d["batch"] for d in docs] == [1, "B"]
    for doc in docs:
        jsonschema.validate(doc, inference)
    with pytest.raises(jsonschema.ValidationError):  # the schema can fail: a missing key
        jsonschema.validate({k: v for k, v in docs[0].items() if k != "ttft"}, inference)
