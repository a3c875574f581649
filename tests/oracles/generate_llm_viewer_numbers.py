"""Run LLM-Viewer (hahnyuan/LLM-Viewer, pure Python) and record its per-stage figures in
``llm_viewer_numbers.json``, the fixture of ``test_llm_viewer.py``.

LLM-Viewer is not a dependency and is never committed here. Fetch it anywhere and run::

    git clone https://github.com/hahnyuan/LLM-Viewer /tmp/llmviewer   # commit 472f71f read
    python tests/oracles/generate_llm_viewer_numbers.py /tmp/llmviewer

LLM-Viewer reads the model's Hugging Face config with ``AutoConfig.from_pretrained``; to run
offline, this script builds the same ``transformers.LlamaConfig`` from the published
``config.json`` values of meta-llama/Llama-2-{7b,13b}-hf (the only fields LLM-Viewer's
``configs/Llama.py`` reads: hidden_size, num_attention_heads, num_key_value_heads,
num_hidden_layers, intermediate_size, vocab_size) and sets it on the analyzer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "llm_viewer_numbers.json"

MODELS = {
    "meta-llama/Llama-2-7b-hf": dict(hidden_size=4096, intermediate_size=11008,
                                     num_hidden_layers=32, num_attention_heads=32,
                                     num_key_value_heads=32, vocab_size=32000),
    "meta-llama/Llama-2-13b-hf": dict(hidden_size=5120, intermediate_size=13824,
                                      num_hidden_layers=40, num_attention_heads=40,
                                      num_key_value_heads=40, vocab_size=32000),
}

#: (hardware, seqlen, batchsize, w_bit, a_bit, kv_bit): analyze_cli.py's defaults first.
CASES = [
    ("nvidia_A100", 1024, 1, 16, 16, 16),
    ("nvidia_A100_80G", 2048, 8, 4, 16, 8),
]
#: (hardware, prompt_len, gen_len, batchsize): analyze_generate_task.
GENERATE = [("nvidia_A100", 1024, 64, 1)]


def main(root: str) -> None:
    root = os.path.abspath(root)
    sys.path.insert(0, root)
    os.chdir(root)  # ModelAnalyzer imports configs/<name>.py relative to the checkout
    from transformers import LlamaConfig

    from model_analyzer import ModelAnalyzer

    commit = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "472f71f (source archive)"
    records = []
    for model_id, cfg in MODELS.items():
        for hw, seqlen, batch, w, a, kv in CASES:
            an = ModelAnalyzer.__new__(ModelAnalyzer)
            an.model_id, an.hardware = model_id, hw
            an.model_params = LlamaConfig(**cfg)
            import importlib

            an.config = importlib.import_module("configs.Llama")
            an.results = None
            res = an.analyze(seqlen=seqlen, batchsize=batch, w_bit=w, a_bit=a, kv_bit=kv)
            records.append({
                "model_id": model_id, "config": cfg, "hardware": hw, "seqlen": seqlen,
                "batchsize": batch, "w_bit": w, "a_bit": a, "kv_bit": kv,
                "use_flashattention": False,
                "total": {stage: {k: v for k, v in res["total_results"][stage].items()}
                          for stage in ("prefill", "decode")},
                "layers": {stage: {name: {k: v for k, v in r.items() if k != "bound"}
                                   | {"bound": r["bound"]}
                                   for name, r in res[stage].items()}
                           for stage in ("prefill", "decode")},
            })
        for hw, p, g, batch in GENERATE:
            an = ModelAnalyzer.__new__(ModelAnalyzer)
            an.model_id, an.hardware = model_id, hw
            an.model_params = LlamaConfig(**cfg)
            import importlib

            an.config = importlib.import_module("configs.Llama")
            res = an.analyze_generate_task(p, g, batch)
            records.append({"model_id": model_id, "config": cfg, "hardware": hw,
                            "generate": {"prompt_len": p, "gen_len": g, "batchsize": batch},
                            "inference_time": res["inference_time"]})
    doc = {
        "source": "hahnyuan/LLM-Viewer model_analyzer.py + configs/Llama.py, run by "
                  "tests/oracles/generate_llm_viewer_numbers.py",
        "llm_viewer_commit": commit,
        "command": "python tests/oracles/generate_llm_viewer_numbers.py <LLM-Viewer checkout>",
        "records": records,
    }
    OUT.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({len(records)} records)")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
