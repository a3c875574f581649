"""The ``layercalc`` command (also ``python -m layercalc``).

    layercalc summary MODEL [--input 3x224x224] [--batch N] [--convention exact]
                            [--format table|text|rich|md|csv|json|latex|html]
                            [--depth N] [--by-kind] [--full]
    layercalc compare MODEL [--input 3x224x224] [--batch N] [--conventions a,b,...]
                            [--baseline NAME] [--format table|text|rich|md|json|html] [--full]
    layercalc roofline MODEL --hardware NAME [--dtype fp16] [--batch 1,8,64] [--input 3x224x224]
                             [--memory-model compulsory] [--convention exact] [--top N |
                             --depth N] [--fuse] [--format table|text|rich|md|json] [--full]
    layercalc train MODEL [--input 1024] [--batch 8] [--optimizer adamw] [--precision fp32]
                          [--recompute selective|full] [--activations pytorch] [--dp N]
                          [--tp N] [--pp N] [--sp] [--zero 0-3] [--hardware NAME]
                          [--convention exact] [--depth N]
                          [--format table|text|rich|md|csv|json|latex|html] [--full]
    layercalc serve MODEL --prompt N [--gen N] [--batch 1,8,64] --hardware NAME
                          [--weights int4] [--override lm_head=fp16] [--profile llm-viewer]
                          [--convention exact] [--depth N]
                          [--format table|text|rich|md|csv|json|latex|html] [--full]
    layercalc list models|layers|conventions|hardware
    layercalc --version

MODEL is a zoo name (``resnet50``) or ``path/to/file.py:function`` returning a model; the file
is imported and run, so it must be trusted code (see SECURITY.md). Symbolic sizes (``--input
3xHxW``) print formulas, abbreviated to fit a terminal (``--full`` prints them whole). Every
output states its FLOPs convention; the default is ``exact``
(`layercalc.conventions.DEFAULT_CONVENTION`). ``--format table`` uses rich when the ``rich``
extra is installed and standard output is a terminal, plain text otherwise (``text`` forces
plain text); ``json`` follows the versioned schemas of docs/json-schema.md. Sizes are parsed by
`layercalc.parse_dims` (integers, names and ``+ - * / ( )``); the raw string never reaches
``sympify`` or ``eval``, because ``sympify`` runs code. ``--depth`` and ``--top`` are positive
integers; summary and compare take one ``--batch``.

A `LayerCalcError` prints ``layercalc: error: <message>`` on stderr and exits with 2, with no
traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._version import __version__
from .conventions import DEFAULT_CONVENTION
from .registry import CONVENTIONS, get_convention
from .errors import LayerCalcError, ParseError
from .layers import LAYERS
from .network import analyze
from .dims import show, to_expr
from .parse import parse_dims

__all__ = ["main", "parse_dims"]

def _positive_int(text: str) -> int:
    """argparse type of ``--depth`` and ``--top``: a positive integer (at most 6 digits)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 6 or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return int(text)


def _one_batch(text: str) -> Any:
    """``--batch`` of summary and compare: exactly one size."""
    sizes = parse_dims(text, "--batch")
    if len(sizes) != 1:
        raise ParseError(f"--batch {text!r}: this command takes one batch size, got "
                         f"{len(sizes)} (roofline takes a comma-separated list)")
    return sizes[0]


def _load_hf(spec: str) -> tuple[Any, str]:
    """A Hugging Face ``config.json`` (`layercalc.from_hf_config`); its input is token ids,
    ``--input T`` (the sequence length), default 2048."""
    from .importers import from_hf_config

    return from_hf_config(spec), Path(spec).name


def _load_model(spec: str, args: argparse.Namespace | None = None) -> tuple[Any, str]:
    if spec.endswith(".json"):
        return _load_hf(spec)
    if ":" in spec and _is_torch_spec(spec):
        return _load_torch(spec, args)
    if ":" in spec and spec.split(":", 1)[0].endswith(".py"):
        file, func = spec.split(":", 1)
        path = Path(file)
        if not path.is_file():
            raise ParseError(f"model file {file!r} does not exist")
        mod_spec = importlib.util.spec_from_file_location(path.stem, path)
        if mod_spec is None or mod_spec.loader is None:
            raise ParseError(f"model file {file!r} cannot be loaded as a Python module")
        module = importlib.util.module_from_spec(mod_spec)
        import sys

        folder = str(path.resolve().parent)  # the file may import its neighbours
        if folder not in sys.path:
            sys.path.insert(0, folder)
        try:  # the file is trusted code (SECURITY.md); its errors become one line
            mod_spec.loader.exec_module(module)
        except LayerCalcError:
            raise
        except Exception as e:  # noqa: BLE001
            raise LayerCalcError(f"model file {file!r} raised {type(e).__name__} while "
                                 f"loading: {e}") from None
        if not func.isidentifier() or not hasattr(module, func):
            raise ParseError(f"{file} has no function {func!r}")
        build = getattr(module, func)
        if not callable(build):
            raise ParseError(f"{file}:{func} is not callable (it is {type(build).__name__} "
                             f"{show(build)}); name a function returning a model")
        try:
            return _maybe_torch(build(), f"{file}:{func}", args), func
        except LayerCalcError:
            raise
        except Exception as e:  # noqa: BLE001
            raise LayerCalcError(f"{file}:{func}() raised {type(e).__name__}: {e}") from None
    from .zoo import get_model

    return get_model(spec)(), spec


def _is_torch_spec(spec: str) -> bool:
    """``pkg.module:factory`` (a dotted module, not a file): a factory of a torch module."""
    mod, _, func = spec.partition(":")
    return not mod.endswith(".py") and all(p.isidentifier() for p in mod.split(".")) and \
        func.isidentifier()


def _maybe_torch(model: Any, where: str, args: argparse.Namespace | None) -> Any:
    """A torch ``nn.Module`` returned by a factory, imported with `from_torch` at ``--input``
    (required: a torch module declares no input size); anything else unchanged."""
    if not any(c.__module__.startswith("torch.nn") for c in type(model).__mro__):
        return model
    if args is None or getattr(args, "input", None) is None:
        raise ParseError(f"{where} returned a PyTorch module ({type(model).__name__}); give "
                         "its batch-free input shape with --input (e.g. --input 3x224x224)")
    from .importers import from_torch

    return from_torch(model, parse_dims(args.input, "--input"), name=where.split(":")[-1])


def _load_torch(spec: str, args: argparse.Namespace | None) -> tuple[Any, str]:
    """``pkg.module:factory``: import the module (trusted code, SECURITY.md; the current
    folder on sys.path), call the factory, import the torch module it returns."""
    import sys

    mod_name, _, func = spec.partition(":")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(mod_name)
    except Exception as e:  # noqa: BLE001  ImportError or the module's own error: one line
        raise LayerCalcError(f"cannot import {mod_name!r} for {spec}: {type(e).__name__}: "
                             f"{e}") from None
    build = getattr(module, func, None)
    if not callable(build):
        raise ParseError(f"{mod_name} has no function {func!r}")
    try:
        model = build()
    except LayerCalcError:
        raise
    except Exception as e:  # noqa: BLE001
        raise LayerCalcError(f"{spec}() raised {type(e).__name__}: {e}") from None
    return _maybe_torch(model, spec, args), func


def _input_shape(args: argparse.Namespace, model: Any = None) -> tuple:
    """``--input`` if given, else the zoo model's default input (token ids at the context
    length for language models), else the input a Graph declares (``graph.input_shape``:
    Inception v3 at 299x299, the U-Net at 1x572x572), else the crop size of its torchvision
    weights (``zoo.WEIGHTS_INPUTS``: EfficientNet-B7 at 600x600), else ``(3, 224, 224)``."""
    if args.input is not None:
        return parse_dims(args.input, "--input")
    from .zoo import DEFAULT_INPUTS, WEIGHTS_INPUTS

    if args.model.endswith(".json"):  # a Hugging Face config: token ids at its context length
        return getattr(model, "hf_input", (2048,))
    declared = getattr(model, "input_shape", None)
    if args.model not in DEFAULT_INPUTS and isinstance(declared, tuple):
        return declared
    return DEFAULT_INPUTS.get(args.model, WEIGHTS_INPUTS.get(args.model, (3, 224, 224)))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage too)
        raise ParseError(message)


_SUMMARY_FORMATS = ["table", "text", "rich", "md", "markdown", "csv", "json", "latex", "html"]
_COMPARE_FORMATS = ["table", "text", "rich", "md", "markdown", "json", "html"]
_ROOFLINE_FORMATS = ["table", "text", "rich", "md", "markdown", "json"]
_FULL_HELP = "print formulas whole (by default long ones are abbreviated with '…')"


def _check_positive(args: argparse.Namespace, *flags: str) -> None:
    """``--depth``, ``--top``: a positive integer when given."""
    for flag in flags:
        v = getattr(args, flag, None)
        if v is not None and v < 1:
            raise ParseError(f"--{flag} (={v}) must be a positive integer")


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="layercalc", description="Exact, symbolic cost accounting for neural "
                "networks.")
    p.add_argument("--version", action="version", version=f"layercalc {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    s = sub.add_parser("summary", help="per-layer report of a model")
    s.add_argument("model", help="zoo name (see `layercalc list models`) or file.py:function")
    s.add_argument("--input", default=None, help="input shape without the batch, e.g. "
                   "3x224x224 or 3xHxW (default: 3x224x224; a language model's context "
                   "length, e.g. 1024 for gpt2)")
    s.add_argument("--batch", default="1", help="batch size, an integer or a name")
    s.add_argument("--format", default="table", choices=_SUMMARY_FORMATS,
                   help="table (rich on a terminal when installed, else text), text, rich, "
                   "md, csv, json (schema layercalc.report/1), latex or html")
    s.add_argument("--convention", default=DEFAULT_CONVENTION,
                   help="FLOPs convention (see `layercalc list conventions`; default: "
                   f"{DEFAULT_CONVENTION})")
    s.add_argument("--depth", type=_positive_int, default=None,
                   help="group rows by path depth (a "
                   "positive integer; every format)")
    s.add_argument("--by-kind", action="store_true", help="one row per layer kind (every "
                   "format)")
    s.add_argument("--full", action="store_true", help=_FULL_HELP)
    c = sub.add_parser("compare", help="one model under every convention, differences "
                       "explained by layer kind")
    c.add_argument("model", help="zoo name or file.py:function")
    c.add_argument("--input", default=None, help="input shape without the batch (default "
                   "as for summary)")
    c.add_argument("--batch", default="1", help="batch size, an integer or a name")
    c.add_argument("--conventions", default=None,
                   help="comma-separated convention names (default: all)")
    c.add_argument("--baseline", default="torchvision",
                   help="explain every other convention's difference from this one "
                   "(default: torchvision; 'none' to skip)")
    c.add_argument("--format", default="table", choices=_COMPARE_FORMATS)
    c.add_argument("--full", action="store_true", help=_FULL_HELP)
    r = sub.add_parser("roofline", help="roofline estimate (FLOPs, bytes, bound, time) per "
                       "batch size on a hardware preset")
    r.add_argument("model", help="zoo name or file.py:function")
    r.add_argument("--hardware", required=True,
                   help="hardware preset or a unique prefix of one (a100-sxm4-80gb, h100 ...)")
    r.add_argument("--dtype", default="fp16", help="data type of compute and bytes "
                   "(default: fp16)")
    r.add_argument("--batch", default="1", help="comma-separated batch sizes (default: 1)")
    r.add_argument("--input", default=None, help="input shape without the batch (default "
                   "as for summary)")
    r.add_argument("--memory-model", default="compulsory",
                   help="compulsory or no_reuse (default: compulsory)")
    r.add_argument("--convention", default=DEFAULT_CONVENTION,
                   help=f"FLOPs convention (default: {DEFAULT_CONVENTION})")
    rows = r.add_mutually_exclusive_group()
    rows.add_argument("--top", type=_positive_int, default=None,
                      help="show the N slowest layers")
    rows.add_argument("--depth", type=_positive_int, default=None,
                      help="show layers grouped by path depth")
    r.add_argument("--fuse", action="store_true", help="fold BatchNorm and fuse activations "
                   "first (layercalc.fuse)")
    r.add_argument("--format", default="table", choices=_ROOFLINE_FORMATS,
                   help="table, text, rich, md or json (a list of layercalc.roofline/1 "
                   "documents, one per batch size)")
    r.add_argument("--full", action="store_true", help=_FULL_HELP)
    _serve_parser(sub)
    _add_train_parser(sub)
    ls = sub.add_parser("list", help="list registered names")
    ls.add_argument("what", choices=["models", "layers", "conventions", "hardware"])
    return p


def _summary(args: argparse.Namespace) -> str:
    _check_positive(args, "depth")
    model, name = _load_model(args.model, args)
    shape = _input_shape(args, model)
    batch = _one_batch(args.batch)
    conv = get_convention(args.convention)
    report = analyze(model, shape, batch=batch, name=name)
    group = {"depth": args.depth, "by_kind": args.by_kind}
    if args.format == "json":
        names = tuple(dict.fromkeys([conv.name, DEFAULT_CONVENTION, "macs", "2*macs"]))
        return report.to_json(names, **group)
    if args.format == "csv":
        return report.to_csv(conv, **group).rstrip("\n")
    return report.table(conv, full=args.full, **group).render(args.format, full=args.full)


def _compare(args: argparse.Namespace) -> str:
    from .compare import compare

    model, name = _load_model(args.model, args)
    shape = _input_shape(args, model)
    batch = _one_batch(args.batch)
    names = None
    if args.conventions:
        names = [get_convention(n.strip()).name for n in args.conventions.split(",")]
    baseline = None if args.baseline.lower() == "none" else get_convention(args.baseline).name
    if names is not None and baseline is not None and baseline not in names:
        names.insert(0, baseline)
    result = compare(analyze(model, shape, batch=batch, name=name), names)
    fmt, full = args.format, args.full
    if fmt == "json":
        return result.to_json()
    if fmt in ("md", "markdown"):
        return result.to_markdown(baseline, full=full)
    if fmt == "html":
        return result.to_html(baseline, full=full)
    tables = [result.table(full=full), result.table(by_kind=True, full=full)]
    parts = [t.render(fmt, full=full) for t in tables]
    parts += [result.explain(n, baseline, full=full) for n in result.names
              if baseline is not None and n != baseline]
    return "\n\n".join(parts)


def _roofline(args: argparse.Namespace) -> str:
    import json

    from .hardware import get_hardware
    from .roofline import roofline
    from .table import Table

    _check_positive(args, "top", "depth")
    model, name = _load_model(args.model, args)
    shape = _input_shape(args, model)
    batches = parse_dims(args.batch, "--batch")
    hw = get_hardware(args.hardware)
    conv = get_convention(args.convention)
    if args.fuse:
        from .fuse import fuse

        model = fuse(model)
        name = f"{name} (fused)"
    results = [roofline(analyze(model, shape, batch=b, name=name), hw, args.dtype, conv,
                        args.memory_model) for b in batches]
    rows = args.top is not None or args.depth is not None
    if args.format == "json":
        return json.dumps([r.to_dict(args.top, args.depth) if rows else {
            **r.to_dict(), "rows": []} for r in results], indent=2, ensure_ascii=False)
    head = results[0].header_lines()
    head[0] += f"; input {'x'.join(map(str, shape))}"
    out = ["\n".join(head)]
    for b, r in zip(batches, results):
        t = r.table(args.top, args.depth, full=args.full, rows=rows, caption=False,
                    title=f"batch {b}")
        out.append(t.render(args.format, full=args.full))
    foot = Table([], footer=results[0].footer_lines()).footer
    return "\n\n".join(out) + "\n" + "\n".join(foot)


def _serve_parser(sub: Any) -> None:
    v = sub.add_parser("serve", help="LLM serving on a hardware preset: TTFT, TPOT, tokens/s "
                       "and KV cache per batch size (layercalc.inference)")
    v.add_argument("model", help="zoo language model or preset, dashed aliases accepted "
                   "(llama-3-8b, mixtral-8x7b, mamba-130m, gpt2 ...)")
    v.add_argument("--prompt", required=True, help="prompt tokens per sequence (an integer or "
                   "a name)")
    v.add_argument("--gen", default="1", help="generated tokens (decode steps; default 1)")
    v.add_argument("--batch", default="1", help="comma-separated batch sizes (default: 1)")
    v.add_argument("--hardware", required=True, help="hardware preset or a unique prefix")
    v.add_argument("--weights", default="fp16", help="weight format: fp16, bf16, fp8, int8, "
                   "int4, int4-awq, int4-gptq, nf4 (default: fp16)")
    v.add_argument("--act-dtype", default=None, help="activation dtype (default: fp16 for "
                   "quantised weights, else the weight dtype)")
    v.add_argument("--kv-dtype", default=None, help="KV-cache dtype (default: activations')")
    v.add_argument("--group-size", type=int, default=None, help="quantisation group size")
    v.add_argument("--override", action="append", default=[], metavar="PATTERN=DTYPE",
                   help="weight dtype for report paths matching PATTERN (repeatable), e.g. "
                   "lm_head=fp16")
    v.add_argument("--profile", default="layercalc", help="layercalc (default) or llm-viewer")
    v.add_argument("--convention", default=DEFAULT_CONVENTION,
                   help=f"FLOPs convention (default: {DEFAULT_CONVENTION})")
    v.add_argument("--depth", type=_positive_int, default=None, help="also every layer of both stages "
                   "per batch size, grouped by path depth (a positive integer; every format)")
    v.add_argument("--format", default="table", choices=_SUMMARY_FORMATS,
                   help="table (rich on a terminal when installed, else text), text, rich, "
                   "md, csv, json (a list of layercalc.inference/1 documents, one per batch "
                   "size), latex or html")
    v.add_argument("--full", action="store_true", help=_FULL_HELP)


def _serve(args: argparse.Namespace) -> str:
    import json

    from .serving import InferenceReport, inference

    _check_positive(args, "depth")
    (prompt,) = parse_dims(args.prompt, "--prompt")
    (gen,) = parse_dims(args.gen, "--gen")
    overrides = {}
    for item in args.override:
        pattern, sep, dtype = item.partition("=")
        if not sep or not pattern or not dtype:
            raise ParseError(f"--override {item!r}: expected PATTERN=DTYPE, e.g. lm_head=fp16")
        overrides[pattern] = dtype
    if args.group_size is not None and args.group_size < 1:
        raise ParseError(f"--group-size (={args.group_size}) must be a positive integer")
    reports = [inference(args.model, prompt_len=prompt, gen_len=gen, batch=b,
                         hardware=args.hardware, weight_dtype=args.weights,
                         act_dtype=args.act_dtype, kv_dtype=args.kv_dtype,
                         group_size=args.group_size, overrides=overrides, profile=args.profile,
                         convention=args.convention)
               for b in parse_dims(args.batch, "--batch")]
    depth, full = args.depth, args.full
    if args.format == "json":
        return json.dumps([r.to_dict(depth, rows=depth is not None) for r in reports],
                          indent=2, ensure_ascii=False)
    if args.format == "csv":
        return InferenceReport.batch_table(reports, depth).to_csv().rstrip("\n")
    sep = "\n" if args.format == "html" else "\n\n"
    return sep.join(t.render(args.format, full=full)
                    for t in InferenceReport.batch_tables(reports, depth, full=full))


def _add_train_parser(sub: Any) -> None:
    t = sub.add_parser("train", help="one training step: forward, backward, optimizer, "
                       "memory per device, parallelism")
    t.add_argument("model", help="zoo name or file.py:function")
    t.add_argument("--input", default=None, help="input shape without the batch (default "
                   "as for summary)")
    t.add_argument("--batch", default="1", help="batch size per data-parallel replica, an "
                   "integer or a name")
    t.add_argument("--optimizer", default="adamw",
                   help="sgd, sgd-momentum, adam, adamw, adafactor, adam-8bit (default: adamw)")
    t.add_argument("--precision", default="fp32",
                   help="fp32, bf16-mixed, fp16-mixed, bf16 (default: fp32)")
    t.add_argument("--recompute", default=None, help="selective, full, or comma-separated "
                   "layer paths (default: none)")
    t.add_argument("--activations", default="pytorch",
                   help="pytorch, pytorch-cpu, korthikanti (default: pytorch)")
    for flag in ("dp", "tp", "pp", "ep"):
        t.add_argument(f"--{flag}", type=int, default=1, help=f"{flag} size (default: 1)")
    t.add_argument("--sp", action="store_true", help="sequence parallelism (needs --tp > 1)")
    t.add_argument("--zero", type=int, default=0, help="ZeRO stage 0-3 (default: 0)")
    t.add_argument("--hardware", default=None, help="hardware preset: adds the roofline "
                   "lower bound of the step time")
    t.add_argument("--convention", default=DEFAULT_CONVENTION,
                   help="FLOPs convention (a definition, or flopcountermode; default: "
                   f"{DEFAULT_CONVENTION})")
    t.add_argument("--depth", type=_positive_int, default=None, help="group rows by path depth (a "
                   "positive integer; every format)")
    t.add_argument("--format", default="table", choices=_SUMMARY_FORMATS,
                   help="table (rich on a terminal when installed, else text), text, rich, "
                   "md, csv, json (schema layercalc.training/1), latex or html")
    t.add_argument("--full", action="store_true", help=_FULL_HELP)


def _train(args: argparse.Namespace) -> str:
    from .training import Parallelism, training

    _check_positive(args, "depth")
    model, name = _load_model(args.model, args)
    shape = _input_shape(args)
    (batch,) = parse_dims(args.batch, "--batch")
    recompute: Any = args.recompute
    if recompute is not None and recompute not in ("selective", "full"):
        recompute = [p.strip() for p in recompute.split(",") if p.strip()]
    par = Parallelism(dp=args.dp, tp=args.tp, pp=args.pp, sp=args.sp, ep=args.ep,
                      zero=args.zero)
    report = analyze(model, shape, batch=batch, name=name)
    t = training(report, optimizer=args.optimizer, precision=args.precision,
                 recompute=recompute, activations=args.activations, parallel=par)
    conv = get_convention(args.convention)
    return t.render(args.format, conv, args.depth, hardware=args.hardware, full=args.full)


def _list(args: argparse.Namespace) -> str:
    if args.what == "models":
        from .zoo import MODELS

        return "\n".join(sorted(MODELS))
    if args.what == "layers":
        return "\n".join(sorted(LAYERS))
    if args.what == "hardware":
        return _hardware_table().to_text()
    return "\n".join(f"{c.name:<16} {'(default) ' if c.name == DEFAULT_CONVENTION else ''}"
                     f"{getattr(c, 'unit', '') or c.description}" for c in CONVENTIONS.values())


def _hardware_table() -> Any:
    from . import format as fmt
    from .hardware import PRESETS
    from .table import Column, Table

    rows = []
    for name, hw in PRESETS.items():
        peaks = ", ".join(f"{dt} {fmt.rate(v, '')}" for dt, v in hw.peak_flop_per_s.items())
        rows.append((name, peaks, hw.mem_bytes_per_s))
    return Table([Column("name", "Name"), Column("peak", "Peak per dtype (dense, FLOP/s or "
                                                  "OP/s)"),
                  Column("bandwidth", "Bandwidth", "rate", unit="B/s")], rows, None,
                 "Hardware presets (layercalc.HARDWARE_PRESETS; sources in "
                 "docs/hardware-sources.md)", footer=[
                     "Bandwidth -: not documented (a roofline needs it). Give a name, or a unique "
                     "prefix of one, to --hardware."])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 2 user error)."""
    try:
        try:
            args = _build_parser().parse_args(argv)
        except SystemExit as e:  # --help and --version print, then exit 0
            return int(e.code or 0)
        handlers = {"summary": _summary, "compare": _compare, "roofline": _roofline,
                    "list": _list, "serve": _serve, "train": _train}
        out = handlers[args.command](args)
    except LayerCalcError as e:
        print(f"layercalc: error: {e}", file=sys.stderr)
        return 2
    try:
        print(out)
        sys.stdout.flush()
    except BrokenPipeError:  # `layercalc ... | head` stopped reading: not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
