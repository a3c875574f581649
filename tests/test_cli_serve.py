"""``layercalc serve``: the serving table per batch size, aliases, one-line errors."""

from __future__ import annotations

import re

import pytest

from layercalc import DEFAULT_CONVENTION, inference
from layercalc import format as fmt
from layercalc.cli import main
from layercalc import convention_note


def test_serve_table(capsys):
    """One row per batch size, every cell the API's value in layercalc.format's units; the
    default convention stated under the title."""
    assert main(["serve", "llama-3-8b", "--prompt", "2048", "--gen", "256", "--batch",
                 "1,8,64", "--hardware", "h100-sxm", "--weights", "int4"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("llama-3-8b on h100-sxm: prompt 2048, gen 256; weights int4/g128")
    assert out[1] == convention_note(DEFAULT_CONVENTION)
    head = next(i for i, line in enumerate(out) if line.startswith("Batch"))
    assert out[head].split()[:4] == ["Batch", "TTFT", "TPOT", "tokens/s"]
    rows = [re.split(r"\s{2,}", line.strip()) for line in out[head + 2:head + 5]]
    for row, b in zip(rows, (1, 8, 64)):
        r = inference("llama-3-8b", prompt_len=2048, gen_len=256, batch=b,
                      hardware="h100-sxm", weight_dtype="int4")
        assert row == [str(b), fmt.seconds(r.ttft), fmt.seconds(r.tpot),
                       fmt.count(r.tokens_per_s), fmt.nbytes(r.kv_cache_bytes),
                       fmt.nbytes(r.memory_bytes), "compute/memory"]


def test_serve_zoo_names_overrides_and_profiles(capsys):
    assert main(["serve", "llama3_8b", "--prompt", "128", "--hardware", "a100-sxm4-80gb",
                 "--weights", "int4-awq", "--override", "lm_head=fp16"]) == 0
    assert "weights int4-awq/g128" in capsys.readouterr().out
    assert main(["serve", "llama-2-7b", "--prompt", "1024", "--hardware", "a100-sxm4-40gb",
                 "--profile", "llm-viewer"]) == 0
    out = capsys.readouterr().out
    assert "; profile llm-viewer" in out.splitlines()[0]
    assert out.splitlines()[1].startswith("FLOPs: LLM-Viewer's OPs (profile llm-viewer")
    assert main(["serve", "mamba-130m", "--prompt", "P", "--hardware", "a100-sxm4-80gb"]) == 0
    assert re.search(r"^\s+1\s", capsys.readouterr().out, re.M)


@pytest.mark.parametrize("argv, message", [
    (["serve", "llama-3-9b", "--prompt", "8", "--hardware", "h100"],
     "layercalc: error: unknown model 'llama-3-9b'; did you mean 'llama-3-8b'"),
    (["serve", "gpt2", "--prompt", "8", "--hardware", "h100", "--weights", "int3"],
     "layercalc: error: unknown weight format 'int3'; did you mean 'int8' or 'int4'?"),
    (["serve", "gpt2", "--prompt", "8", "--hardware", "h100", "--override", "lm_head"],
     "layercalc: error: --override 'lm_head': expected PATTERN=DTYPE, e.g. lm_head=fp16"),
    (["serve", "gpt2", "--prompt", "0", "--hardware", "h100"],
     "layercalc: error: --prompt '0': entry '0' must be positive"),
    (["serve", "gpt2", "--prompt", "8"],
     "layercalc: error: the following arguments are required: --hardware"),
])
def test_serve_errors(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
