"""The ``layercalc`` command (also ``python -m layercalc``).

    layercalc summary MODEL [--input 3x224x224] [--batch N] [--format table|md|csv|json|latex]
                            [--convention NAME] [--depth N] [--by-kind]
    layercalc compare MODEL [--input 3x224x224] [--batch N] [--conventions a,b,...]
                            [--baseline NAME] [--format table|json]
    layercalc roofline MODEL --hardware NAME [--dtype fp16] [--batch 1,8,64] [--input 3x224x224]
                             [--memory-model compulsory] [--convention 2*macs] [--top N |
                             --depth N] [--fuse]
    layercalc list models|layers|conventions

MODEL is a zoo name (``resnet50``) or ``path/to/file.py:function`` returning a model; the file
is imported and run, so it must be trusted code (see SECURITY.md). Symbolic sizes (``--input
3xHxW``) print formulas. Sizes are parsed by `layercalc.parse_dims` (integers, names and
``+ - * / ( )``); the raw string never reaches ``sympify`` or ``eval``, because ``sympify`` runs
code. ``--depth`` and ``--top`` are positive integers; summary and compare take one ``--batch``.

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

from . import get_convention
from .conventions import CONVENTIONS
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


def _load_model(spec: str) -> tuple[Any, str]:
    if ":" in spec and spec.split(":", 1)[0].endswith(".py"):
        file, func = spec.split(":", 1)
        path = Path(file)
        if not path.is_file():
            raise ParseError(f"model file {file!r} does not exist")
        mod_spec = importlib.util.spec_from_file_location(path.stem, path)
        if mod_spec is None or mod_spec.loader is None:
            raise ParseError(f"model file {file!r} cannot be loaded as a Python module")
        module = importlib.util.module_from_spec(mod_spec)
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
            return build(), func
        except LayerCalcError:
            raise
        except Exception as e:  # noqa: BLE001
            raise LayerCalcError(f"{file}:{func}() raised {type(e).__name__}: {e}") from None
    from .zoo import get_model

    return get_model(spec)(), spec


def _input_shape(args: argparse.Namespace) -> tuple:
    """``--input`` if given, else the zoo model's default input (token ids at the context
    length for language models; ``(3, 224, 224)`` for everything else)."""
    if args.input is not None:
        return parse_dims(args.input, "--input")
    from .zoo import DEFAULT_INPUTS

    return DEFAULT_INPUTS.get(args.model, (3, 224, 224))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage too)
        raise ParseError(message)


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="layercalc", description="Exact, symbolic cost accounting for neural "
                "networks.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    s = sub.add_parser("summary", help="per-layer report of a model")
    s.add_argument("model", help="zoo name (see `layercalc list models`) or file.py:function")
    s.add_argument("--input", default=None, help="input shape without the batch, e.g. "
                   "3x224x224 or 3xHxW (default: 3x224x224; a language model's context "
                   "length, e.g. 1024 for gpt2)")
    s.add_argument("--batch", default="1", help="batch size, an integer or a name")
    s.add_argument("--format", default="table",
                   choices=["table", "md", "markdown", "csv", "json", "latex"])
    s.add_argument("--convention", default="macs",
                   help="FLOPs convention (see `layercalc list conventions`; default: macs)")
    s.add_argument("--depth", type=_positive_int, default=None,
                   help="group rows by path depth (a positive integer)")
    s.add_argument("--by-kind", action="store_true", help="one row per layer kind")
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
    c.add_argument("--format", default="table", choices=["table", "json"])
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
    r.add_argument("--convention", default="2*macs",
                   help="FLOPs convention (default: 2*macs)")
    rows = r.add_mutually_exclusive_group()
    rows.add_argument("--top", type=_positive_int, default=None,
                      help="show the N slowest layers")
    rows.add_argument("--depth", type=_positive_int, default=None,
                      help="show layers grouped by path depth")
    r.add_argument("--fuse", action="store_true", help="fold BatchNorm and fuse activations "
                   "first (layercalc.fuse)")
    ls = sub.add_parser("list", help="list registered names")
    ls.add_argument("what", choices=["models", "layers", "conventions"])
    return p


def _summary(args: argparse.Namespace) -> str:
    model, name = _load_model(args.model)
    shape = _input_shape(args)
    batch = _one_batch(args.batch)
    conv = get_convention(args.convention)
    report = analyze(model, shape, batch=batch, name=name)
    fmt = args.format
    if fmt == "table":
        return report.to_text(conv, depth=args.depth, by_kind=args.by_kind)
    if fmt in ("md", "markdown"):
        return report.to_markdown(conv, depth=args.depth, by_kind=args.by_kind)
    if fmt == "csv":
        return report.to_csv(conv).rstrip("\n")
    if fmt == "json":
        names = tuple(dict.fromkeys([conv.name, "exact", "macs", "2*macs"]))
        return report.to_json(names)
    return report.to_latex(conv, depth=args.depth, by_kind=args.by_kind)


def _compare(args: argparse.Namespace) -> str:
    from .compare import compare

    model, name = _load_model(args.model)
    shape = _input_shape(args)
    batch = _one_batch(args.batch)
    names = None
    if args.conventions:
        names = [get_convention(n.strip()).name for n in args.conventions.split(",")]
    baseline = None if args.baseline.lower() == "none" else get_convention(args.baseline).name
    if names is not None and baseline is not None and baseline not in names:
        names.insert(0, baseline)
    result = compare(analyze(model, shape, batch=batch, name=name), names)
    if args.format == "json":
        return result.to_json()
    return result.to_text(baseline=baseline)


def _roofline(args: argparse.Namespace) -> str:
    import sympy as sp

    from .dims import as_count
    from .hardware import get_hardware
    from .report import human
    from .roofline import roofline

    def num(v: Any, fmt: str = ".3g") -> str:
        if v is None:
            return "-"
        if isinstance(v, sp.Basic) and not v.is_number:
            return str(v)
        return format(float(v), fmt)

    def secs(t: Any) -> str:
        if isinstance(t, sp.Basic) and not t.is_number:
            return str(t)
        t = float(t)
        if t == 0:
            return "0"
        for scale, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "us")):
            if t >= scale:
                return f"{t / scale:.3g} {unit}"
        return f"{t / 1e-9:.3g} ns"

    model, name = _load_model(args.model)
    shape = _input_shape(args)
    batches = parse_dims(args.batch, "--batch")
    hw = get_hardware(args.hardware)
    conv = get_convention(args.convention)
    if args.fuse:
        from .fuse import fuse

        model = fuse(model)
    out: list[str] = []
    for b in batches:
        rep = analyze(model, shape, batch=b, name=name)
        rl = roofline(rep, hw, args.dtype, conv, args.memory_model)
        if not out:
            out.append(f"{name}{' (fused)' if args.fuse else ''} on {hw.name}, {args.dtype}: "
                       f"peak {human(rl.peak)}FLOP/s, bandwidth {human(rl.bandwidth)}B/s, "
                       f"ridge {num(rl.ridge)} FLOP/byte; FLOPs {conv.name}, "
                       f"{rl.memory_model} memory, input {'x'.join(map(str, shape))}")
        groups: list[tuple[str, Any, Any, Any, str, Any]] = []
        if args.depth is not None:
            acc: dict[str, list] = {}
            for p in rl.points:
                acc.setdefault(".".join(p.name.split(".")[:args.depth]), []).append(p)
            for key, ps in acc.items():
                f = sp.Add(*[p.flops for p in ps])
                m = sp.Add(*[p.bytes for p in ps])
                bounds = {p.bound for p in ps if p.intensity is not None}
                groups.append((key, as_count(f), as_count(m), f / m if m != 0 else None,
                               "mixed" if len(bounds) > 1 else (bounds.pop() if bounds else "-"),
                               as_count(sp.Add(*[p.time for p in ps]))))
        elif args.top is not None:
            slow = sorted(rl.points, reverse=True, key=lambda p: (
                float(p.time) if to_expr(p.time).is_number else 0))
            groups = [(p.name, p.flops, p.bytes, p.intensity, p.bound or "-", p.time)
                      for p in slow[:args.top]]
        t = rl.total
        head = ("Layer", "FLOPs", "Bytes", "FLOP/byte", "Bound", "Time")
        body = [(g[0], human(g[1]), human(g[2]), num(g[3]), g[4] or "-", secs(g[5]))
                for g in groups]
        total = ("Total", human(t.flops), human(t.bytes), num(t.intensity), t.bound or "?",
                 secs(rl.time))
        widths = [max(len(str(r[i])) for r in [head, total, *body]) for i in range(6)]

        def line(r: tuple) -> str:
            return "  ".join(str(c).ljust(w) if i in (0, 4) else str(c).rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths))).rstrip()

        rule = "-" * len(line(head))
        out += ["", f"batch {b}", rule, line(head), rule, *map(line, body)]
        out += ([rule] if body else []) + [line(total), rule]
    out.append("Time: sum over layers of max(FLOPs/peak, bytes/bandwidth), a lower bound.")
    return "\n".join(out)


def _list(args: argparse.Namespace) -> str:
    if args.what == "models":
        from .zoo import MODELS

        return "\n".join(sorted(MODELS))
    if args.what == "layers":
        return "\n".join(sorted(LAYERS))
    return "\n".join(f"{c.name:<16} {getattr(c, 'unit', '') or c.description}"
                     for c in CONVENTIONS.values())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 2 user error)."""
    try:
        args = _build_parser().parse_args(argv)
        handlers = {"summary": _summary, "compare": _compare, "roofline": _roofline,
                    "list": _list}
        out = handlers[args.command](args)
    except LayerCalcError as e:
        print(f"layercalc: error: {e}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
