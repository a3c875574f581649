"""Regenerate ``tests/oracles/peer_numbers_vit.json``: the eight peer tools on the plain-PyTorch
twins of ConvNeXt, Swin V1/V2 and MaxViT (``twins_vit.py``), at each model's crop size.

Each (model, tool) pair runs in a fresh Python process (ptflops patches
``torch.nn.functional``, torchstat patches module classes for good), with the invocations of
``generate_peer_numbers.py`` (`generate_peer_numbers.RUNNERS`): input ``torch.randn(1, 3, S,
S)`` after ``torch.manual_seed(0)``, eval mode, headline numbers only. A tool that fails
(torchstat asserts a 2-D input in ``compute_Linear_madd`` and fails on all of these models)
is recorded with its error.

The twins reproduce torchvision 0.29.1's module tree and forward calls; at development time
every tool gave the same numbers on the twin as on torchvision's own model (and the twins'
outputs equal torchvision's bit for bit with the same weights).

    python tests/oracles/generate_peer_numbers_vit.py                  # everything (~20 min)
    python tests/oracles/generate_peer_numbers_vit.py --models swin_t --tools fvcore --check
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
JSON_PATH = HERE / "peer_numbers_vit.json"
_MARK = "@@VIT@@"

#: Fields kept per tool (the headline numbers and the tool's own parameter count).
FIELDS = {
    "ptflops_pytorch": ("macs", "params"), "ptflops_aten": ("macs", "params"),
    "thop": ("ops", "params"), "fvcore": ("total",),
    "torchinfo": ("total_mult_adds", "total_params"), "torchstat": ("MAdd", "Flops"),
    "calflops": ("flops", "macs", "params"), "flop_counter": ("total",),
}


def run_one(name: str, tool: str, batch: int = 1) -> dict:
    """Run `tool` on twin `name` at its crop size in this process (headline fields only)."""
    sys.path.insert(0, str(HERE))
    import torch

    import generate_peer_numbers as gen
    import twins_vit as tw

    torch.manual_seed(0)
    s = tw.CROP[name]
    x = torch.randn(batch, 3, s, s)
    res = gen.run_tool(tool, tw.MODEL_BUILDERS[name], x, zoo=batch == 1, breakdown=False)
    if "error" in res:
        return {"error": res["error"]}
    return {f: res.get(f) for f in FIELDS[tool]}


def run_in_subprocess(name: str, tool: str, timeout: float = 3600) -> dict:
    p = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one", name, tool],
                       capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith(_MARK)]
    if lines:
        return json.loads(lines[-1][len(_MARK):])
    return {"error": f"no output (exit {p.returncode}): " + " ".join(p.stderr.splitlines()[-2:])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="all")
    ap.add_argument("--tools", default="all")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--check", action="store_true", help="compare with the JSON, write nothing")
    ap.add_argument("--one", nargs=2, metavar=("NAME", "TOOL"), help="internal")
    args = ap.parse_args(argv)
    if args.one:
        print(_MARK + json.dumps(run_one(*args.one)))
        return 0
    sys.path.insert(0, str(HERE))
    import generate_peer_numbers as gen
    import twins_vit as tw

    models = list(tw.MODEL_BUILDERS) if args.models == "all" else args.models.split(",")
    tools = list(FIELDS) if args.tools == "all" else args.tools.split(",")
    pairs = [(m, t) for m in models for t in tools]
    with ThreadPoolExecutor(args.jobs) as ex:
        results = dict(zip(pairs, ex.map(lambda p: run_in_subprocess(*p), pairs)))
    old = json.loads(JSON_PATH.read_text()) if JSON_PATH.exists() else {"models": {}}
    if args.check:
        bad = {f"{m}/{t}": (r, old["models"].get(m, {}).get(t)) for (m, t), r in results.items()
               if r != old["models"].get(m, {}).get(t)}
        print(json.dumps(bad, indent=1) if bad else "all equal")
        return 1 if bad else 0
    for (m, t), r in results.items():
        old["models"].setdefault(m, {})[t] = r
    for m in old["models"]:
        old["models"][m]["input"] = [1, 3, tw.CROP[m], tw.CROP[m]]
    versions = gen.installed_versions()
    old["environment"] = {
        "generated": datetime.date.today().isoformat(),
        "tool_versions": {k: versions.get(k) for k in (
            "torch", "ptflops", "ultralytics-thop", "fvcore", "torchinfo", "torchstat",
            "calflops", "numpy")},
        "source": "tests/oracles/generate_peer_numbers_vit.py on tests/oracles/twins_vit.py",
    }
    old["models"] = dict(sorted(old["models"].items()))
    JSON_PATH.write_text(json.dumps(old, indent=1, sort_keys=False) + "\n")
    print(f"wrote {JSON_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
