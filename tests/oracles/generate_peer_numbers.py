"""Regenerate ``tests/oracles/peer_numbers.json``: eight peer tools run on the reference models.

Every (model or probe, tool) pair runs in a **fresh Python process**: torchstat replaces
``__call__`` of every leaf module class it sees and never restores it, and ptflops patches
``torch.nn.functional``; a fresh process keeps one tool's patches out of the next tool's
numbers. The models are the plain-PyTorch definitions in ``torch_models.py`` (input
1x3x224x224, eval mode, ``torch.manual_seed(0)``); the probes are the single-layer models
defined in `probes` below. How each tool counts is written up in ``docs/peer-tools.md``.

Needs the ``oracle`` extra (torch 2.13.0 CPU, ptflops, ultralytics-thop, fvcore, torchinfo,
torchstat, calflops with transformers and accelerate)::

    python tests/oracles/generate_peer_numbers.py                 # everything, writes the JSON
    python tests/oracles/generate_peer_numbers.py --check         # recompute, compare, no write
    python tests/oracles/generate_peer_numbers.py --check --models resnet18,mobilenet_v2 \\
        --probes relu,lstm_1layer --tools thop,fvcore             # a quick subset
    python tests/oracles/generate_peer_numbers.py --one zoo resnet18 thop   # one pair, JSON

Without ``--check``, a subset run updates only the selected entries of the existing file.
The full run takes about 35 minutes on two cores (``--jobs`` sets the parallelism).

`run_tool` (the tool invocations, with the work-arounds torchstat and calflops need) is also
imported by ``test_peer_tools.py``, which runs the tools live. This module imports torch only
inside functions, so ``pytest --doctest-modules`` can import it without torch.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata as md
import io
import json
import platform
import subprocess
import sys
import traceback
import warnings
from collections import OrderedDict, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
JSON_PATH = HERE / "peer_numbers.json"

#: Tool keys, in the order of the JSON.
TOOLS = ("ptflops_pytorch", "ptflops_aten", "thop", "fvcore", "torchinfo", "torchstat",
         "calflops", "flop_counter")

#: Distributions whose versions the JSON records (``environment.tool_versions``).
VERSIONED = ("torch", "ptflops", "ultralytics-thop", "fvcore", "torchinfo", "torchstat",
             "calflops", "numpy", "pandas", "transformers", "accelerate", "huggingface-hub",
             "iopath")

#: The headline number of each tool: JSON column -> (tool key, field).
HEADLINE = OrderedDict([
    ("ptflops_pytorch.macs", ("ptflops_pytorch", "macs")),
    ("ptflops_aten.macs", ("ptflops_aten", "macs")),
    ("thop.ops", ("thop", "ops")),
    ("fvcore.total", ("fvcore", "total")),
    ("torchinfo.total_mult_adds", ("torchinfo", "total_mult_adds")),
    ("torchstat.MAdd", ("torchstat", "MAdd")),
    ("torchstat.Flops", ("torchstat", "Flops")),
    ("torchstat.MemRW_B", ("torchstat", "MemRW_B")),
    ("calflops.flops", ("calflops", "flops")),
    ("calflops.macs", ("calflops", "macs")),
    ("flop_counter.total", ("flop_counter", "total")),
])


def installed_versions() -> dict[str, str | None]:
    """Installed version of every distribution in `VERSIONED` (None if missing)."""
    out: dict[str, str | None] = {}
    for dist in VERSIONED:
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = None
    return out


def _torch_models():
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import torch_models

    return torch_models


def _int(v: Any) -> Any:
    """A count as an int when it is integral (thop returns floats, some tools tensors)."""
    import torch

    if v is None:
        return None
    if isinstance(v, torch.Tensor):
        v = v.item()
    f = float(v)
    return int(f) if f.is_integer() else f


# ---------------------------------------------------------------------------------- tools
# Each runner takes (model, x, zoo, factory, breakdown) and returns a JSON-able dict holding at
# least the tool's headline number(s). ``zoo=True`` passes the input the way a user profiling
# an image model would (an input size); probes pass the tensor itself. ``factory`` builds a
# fresh copy of the model for the breakdown passes; ``breakdown=False`` skips them (the live
# tests only need the headline).


def ptflops_pytorch(model, x, zoo, factory, breakdown=True):
    from ptflops import get_model_complexity_info
    from ptflops import pytorch_engine as pe

    buf = io.StringIO()
    kw = {} if zoo else {"input_constructor": lambda _res: x}
    with contextlib.redirect_stdout(buf):
        macs, params = get_model_complexity_info(
            model, tuple(x.shape[1:]), as_strings=False, print_per_layer_stat=False,
            backend="pytorch", **kw)
    out = {"macs": _int(macs), "params": _int(params)}
    if not breakdown:
        return out

    # breakdown: replay ptflops.pytorch_engine.get_flops_pytorch step by step
    named = []
    orig_call = pe.torch_function_wrapper.__call__

    def named_call(self, *a, **k):
        flops = self.handler(*a, **k)
        self.collector.append(flops)
        named.append((getattr(self.op, "__name__", str(self.op)), flops))
        return self.op(*a, **k)

    pe.torch_function_wrapper.__call__ = named_call
    fm = pe.add_flops_counting_methods(model)
    fm.eval()
    fm.start_flops_count(ost=buf, verbose=False, ignore_list=[])
    cf, ct = [], []
    pe.patch_functional(cf)
    pe.patch_tensor_ops(ct)
    try:
        fm(x)
        per_type = defaultdict(int)
        per_mod = {}
        for _n, m in model.named_modules():
            if pe.is_supported_instance(m):
                per_type[type(m).__name__] += int(m.__flops__)
                if m.__flops__:
                    per_mod[_n] = int(m.__flops__)
        bc = fm.__batch_counter__
    finally:
        fm.stop_flops_count()
        pe.unpatch_functional()
        pe.unpatch_tensor_ops()
        pe.torch_function_wrapper.__call__ = orig_call
    func = defaultdict(int)
    for n, f in named:
        func[n] += int(f)
    recomputed = sum(per_type.values()) / bc + sum(func.values())
    out["by_module_type"] = dict(per_type)
    out["by_functional_op"] = dict(func)
    out["by_module"] = per_mod
    out["batch_counter"] = bc
    out["breakdown_total_check"] = _int(recomputed)
    return out


def ptflops_aten(model, x, zoo, factory, breakdown=True):
    from ptflops import get_model_complexity_info

    buf = io.StringIO()
    kw = {} if zoo else {"input_constructor": lambda _res: x}
    with contextlib.redirect_stdout(buf):
        macs, params = get_model_complexity_info(
            model, tuple(x.shape[1:]), as_strings=False, print_per_layer_stat=False,
            backend="aten", **kw)
    out = {"macs": _int(macs), "params": _int(params)}
    if not breakdown:
        return out
    from ptflops.aten_engine import FlopCounterMode as PFM

    # breakdown: the class the backend uses, on a fresh copy (no hooks left from the first run)
    model2 = factory()
    model2.eval()
    counter = PFM(model2, verbose=False, print_per_layer_stat=False, output_params=None)
    with counter:
        model2(x)
    out["by_aten_op"] = {str(k): int(v) for k, v in counter.flop_counts["Global"].items()}
    out["by_top_level_child"] = {
        k: int(sum(v.values())) for k, v in counter.flop_counts.items() if k != "Global"}
    return out


def thop_(model, x, zoo, factory, breakdown=True):
    from thop import profile

    with contextlib.redirect_stdout(io.StringIO()):
        ops, params = profile(model, inputs=(x,), verbose=False)
        if not breakdown:
            return {"ops": _int(ops), "params": _int(params)}
        ops2, params2, tree = profile(model, inputs=(x,), verbose=False, ret_layer_info=True)
    per_type = defaultdict(float)

    def walk(mod, sub):
        for name, child in mod.named_children():
            if name not in sub:
                continue
            m_ops, _p, nxt = sub[name]
            own = m_ops - sum(v[0] for v in nxt.values())
            per_type[type(child).__name__] += own
            walk(child, nxt)

    walk(model, tree)
    in_tree = sum(v[0] for v in tree.values())
    from thop.profile import register_hooks

    rest = ops2 - in_tree
    if any(t in register_hooks for t in type(model).__mro__):
        per_type[type(model).__name__] += rest  # the root's own rule
        rest = 0
    return {"ops": _int(ops), "params": _int(params),
            "by_module_type": {k: _int(v) for k, v in per_type.items() if v},
            "functional_outside_ruled_modules": _int(rest)}


def fvcore_(model, x, zoo, factory, breakdown=True):
    from fvcore.nn import FlopCountAnalysis

    model.eval()
    fca = FlopCountAnalysis(model, (x,))
    fca.unsupported_ops_warnings(False)
    fca.uncalled_modules_warnings(False)
    total = fca.total()
    out = {"total": _int(total)}
    if breakdown:
        out["by_operator"] = {k: _int(v) for k, v in fca.by_operator().items()}
        out["unsupported_ops"] = dict(fca.unsupported_ops())
    return out


def torchinfo_(model, x, zoo, factory, breakdown=True):
    from torchinfo import summary

    if zoo:
        s = summary(model, input_size=tuple(x.shape), verbose=0)
    else:
        s = summary(model, input_data=[x], verbose=0)
    per = defaultdict(int)
    for li in s.summary_list:
        if li.is_leaf_layer and li.macs:
            per[li.class_name] += int(li.macs)
    return {"total_mult_adds": int(s.total_mult_adds), "total_params": int(s.total_params),
            "trainable_params": int(s.trainable_params),
            "total_input_bytes": int(s.total_input),
            "total_output_bytes": int(s.total_output_bytes),
            "total_param_bytes": int(s.total_param_bytes),
            "by_leaf_class": dict(per)}


def torchstat_(model, x, zoo, factory, breakdown=True):
    """torchstat's numbers, read from the leaf nodes ``report_format`` sums.

    Patches classes for good (see the module docstring): run it in a process of its own.
    """
    import pandas as pd
    import torch
    from torchstat import ModelStat
    from torchstat.reporter import report_format

    if x.dim() != 4 or x.shape[0] != 1 or x.dtype != torch.float32:
        return {"error": "torchstat only feeds torch.rand(1, C, H, W) built from a 3-tuple"}
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        ms = ModelStat(model, tuple(x.shape[1:]))
        nodes = ms._analyze_model()
    mods = dict(model.named_modules())
    tot = defaultdict(int)
    per = defaultdict(lambda: defaultdict(int))
    for n in nodes:
        mr, mw = [int(v) for v in n.Memory]
        vals = {"params": int(n.parameter_quantity), "MAdd": int(n.MAdd),
                "Flops": int(n.Flops), "MemRead_B": mr, "MemWrite_B": mw,
                "MemRW_B": mr + mw}
        for k, v in vals.items():
            tot[k] += v
        tname = type(mods[n.name]).__name__ if n.name in mods else "?"
        for k in ("MAdd", "Flops", "MemRW_B"):
            per[tname][k] += vals[k]
    total_memory_mb = float(sum(float(n.inference_memory) for n in nodes))
    # the printed report: pandas >= 2 removed DataFrame.append, which reporter.py calls
    if not hasattr(pd.DataFrame, "append"):
        pd.DataFrame.append = lambda self, s: pd.concat([self, s.to_frame().T])
    with contextlib.redirect_stdout(io.StringIO()):
        rep = report_format(nodes)
    lines = [ln for ln in rep.splitlines() if ln.startswith("Total")]
    out = dict(tot)
    out["total_memory_MB_float"] = total_memory_mb
    out["report_lines"] = lines
    out["unsupported_messages"] = sorted(set(
        ln for ln in buf.getvalue().splitlines() if "not supported" in ln))
    out["by_module_type"] = {k: dict(v) for k, v in per.items()}
    return out


def calflops_(model, x, zoo, factory, breakdown=True):
    import torch
    from torch import nn
    from calflops import calculate_flops

    note = None
    if not any(True for _ in model.parameters()):
        # calculate_flops() does next(model.parameters()) and raises StopIteration on a
        # parameter-free model; a 1-element unused parameter works around it.
        note = "dummy 1-element parameter registered (calflops needs >=1 parameter)"
        model.register_parameter("_calflops_dummy", nn.Parameter(torch.zeros(1)))
    with contextlib.redirect_stdout(io.StringIO()):
        if zoo:
            flops, macs, params = calculate_flops(
                model=model, input_shape=tuple(x.shape), output_as_string=False,
                print_results=False, print_detailed=False)
        else:
            flops, macs, params = calculate_flops(
                model=model, args=[x], output_as_string=False,
                print_results=False, print_detailed=False)
    out = {"flops": _int(flops), "macs": _int(macs), "params": _int(params)}
    if note:
        out["note"] = note
    if not breakdown:
        return out
    from calflops.calculate_pipline import CalFlopsPipline

    model2 = factory()
    model2.eval()
    p = CalFlopsPipline(model=model2, include_backPropagation=False, compute_bp_factor=2.0)
    p.start_flops_calculate(ignore_list=None)
    try:
        model2(x)
        per = defaultdict(lambda: [0, 0])
        for _n, m in model2.named_modules():
            per[type(m).__name__][0] += int(m.__flops__)
            per[type(m).__name__][1] += int(m.__macs__)
    finally:
        p.end_flops_calculate()
    out["by_module_type_own"] = {k: {"flops": v[0], "macs": v[1]}
                                 for k, v in per.items() if v[0] or v[1]}
    return out


def flop_counter(model, x, zoo, factory, breakdown=True):
    from torch.utils.flop_counter import FlopCounterMode

    model.eval()
    with FlopCounterMode(display=False) as fc:
        model(x)
    out = {"total": int(fc.get_total_flops())}
    if not breakdown:
        return out
    counts = fc.get_flop_counts()
    glob = {str(k): int(v) for k, v in counts.get("Global", {}).items()}
    top = {}
    for mod, d in counts.items():
        if mod == "Global":
            continue
        if mod.count(".") == 1:
            top[mod] = int(sum(d.values()))
    out["by_op"] = glob
    out["by_top_level_module"] = top
    return out


RUNNERS: dict[str, Callable] = {
    "ptflops_pytorch": ptflops_pytorch,
    "ptflops_aten": ptflops_aten,
    "thop": thop_,
    "fvcore": fvcore_,
    "torchinfo": torchinfo_,
    "torchstat": torchstat_,
    "calflops": calflops_,
    "flop_counter": flop_counter,
}


# --------------------------------------------------------------------------------- probes
def probes() -> dict[str, Callable[[], tuple[Callable, Any]]]:
    """Single-layer probe models: name -> (lambda: (model_factory, input_tensor)).

    Ops that are not modules are wrapped in a plain ``nn.Module`` subclass ``Fn`` whose forward
    runs the op (a class no tool knows).
    """
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Fn(nn.Module):
        def __init__(self, fn, **mods):
            super().__init__()
            self.fn = fn
            for k, v in mods.items():
                setattr(self, k, v)

        def forward(self, x):
            return self.fn(self, x)

    class TrainModeBN(nn.Module):
        def __init__(self):
            super().__init__()
            self.bn = nn.BatchNorm2d(8)

        def forward(self, x):
            self.bn.train()  # survives the tools' model.eval()
            return self.bn(x)

    class MHA(nn.Module):
        def __init__(self, need_weights=True):
            super().__init__()
            self.mha = nn.MultiheadAttention(64, 4, batch_first=True)
            self.need_weights = need_weights

        def forward(self, x):
            return self.mha(x, x, x, need_weights=self.need_weights)[0]

    class RNNWrap(nn.Module):
        def __init__(self, rnn):
            super().__init__()
            self.rnn = rnn

        def forward(self, x):
            return self.rnn(x)[0]

    class CalledTwice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(64, 64)
            self.act = nn.ReLU()

        def forward(self, x):
            return self.act(self.fc(self.act(self.fc(x))))

    class ConvCalledTwice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(8, 8, 3, padding=1)
            self.act = nn.ReLU()

        def forward(self, x):
            return self.act(self.conv(self.act(self.conv(x))))

    def img(c=8, h=16, w=16, n=1):
        return lambda: torch.randn(n, c, h, w)

    def seq(n=1, length=10, d=64):
        return lambda: torch.randn(n, length, d)

    def rand(*shape):
        return lambda: torch.randn(*shape)

    def P(factory, x):
        return lambda: (factory, x())

    return {
        # convolution
        "conv2d_bias": P(lambda: nn.Conv2d(8, 16, 3, padding=1), img()),
        "conv2d_nobias": P(lambda: nn.Conv2d(8, 16, 3, padding=1, bias=False), img()),
        "conv2d_stride2_bias": P(lambda: nn.Conv2d(8, 16, 3, stride=2, padding=1), img()),
        "conv2d_groups4_bias": P(lambda: nn.Conv2d(8, 16, 3, padding=1, groups=4), img()),
        "conv2d_depthwise_nobias": P(
            lambda: nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), img()),
        "conv1d_bias": P(lambda: nn.Conv1d(8, 16, 3, padding=1), rand(1, 8, 32)),
        "conv2d_bias_batch2": P(lambda: nn.Conv2d(8, 16, 3, padding=1), img(n=2)),
        "convtranspose2d_bias": P(lambda: nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1),
                                  img(8, 8, 8)),
        "convtranspose2d_groups2_nobias": P(
            lambda: nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1,
                                       groups=2, bias=False), img(8, 8, 8)),
        # linear
        "linear_bias": P(lambda: nn.Linear(64, 32), rand(1, 64)),
        "linear_nobias": P(lambda: nn.Linear(64, 32, bias=False), rand(1, 64)),
        "linear_bias_3d_input": P(lambda: nn.Linear(64, 32), seq()),
        "linear_bias_batch2": P(lambda: nn.Linear(64, 32), rand(2, 64)),
        # normalization
        "batchnorm2d_eval": P(lambda: nn.BatchNorm2d(8), img()),
        "batchnorm2d_eval_noaffine": P(lambda: nn.BatchNorm2d(8, affine=False), img()),
        "batchnorm2d_trainmode": P(TrainModeBN, img()),
        "batchnorm1d_eval": P(lambda: nn.BatchNorm1d(64), rand(1, 64)),
        "layernorm": P(lambda: nn.LayerNorm(64), seq()),
        "groupnorm": P(lambda: nn.GroupNorm(4, 8), img()),
        "instancenorm2d": P(lambda: nn.InstanceNorm2d(8), img()),
        # activations (input 1x8x16x16 = 2048 elements)
        "relu": P(lambda: nn.ReLU(), img()),
        "relu6": P(lambda: nn.ReLU6(), img()),
        "leakyrelu": P(lambda: nn.LeakyReLU(), img()),
        "prelu": P(lambda: nn.PReLU(), img()),
        "elu": P(lambda: nn.ELU(), img()),
        "gelu": P(lambda: nn.GELU(), img()),
        "silu": P(lambda: nn.SiLU(), img()),
        "hardswish": P(lambda: nn.Hardswish(), img()),
        "hardsigmoid": P(lambda: nn.Hardsigmoid(), img()),
        "sigmoid": P(lambda: nn.Sigmoid(), img()),
        "tanh": P(lambda: nn.Tanh(), img()),
        "relu_functional": P(lambda: Fn(lambda s, x: F.relu(x)), img()),
        "relu_tensor_method": P(lambda: Fn(lambda s, x: x.relu()), img()),
        # pooling
        "maxpool2d_k2s2": P(lambda: nn.MaxPool2d(2), img()),
        "maxpool2d_k3s2p1": P(lambda: nn.MaxPool2d(3, 2, 1), img()),
        "avgpool2d_k2s2": P(lambda: nn.AvgPool2d(2), img()),
        "avgpool2d_k3s2p1": P(lambda: nn.AvgPool2d(3, 2, 1), img()),
        "adaptiveavgpool2d_1": P(lambda: nn.AdaptiveAvgPool2d(1), img()),
        "adaptiveavgpool2d_5_from_16": P(lambda: nn.AdaptiveAvgPool2d(5), img()),
        "adaptiveavgpool2d_functional_1": P(
            lambda: Fn(lambda s, x: F.adaptive_avg_pool2d(x, (1, 1))), img()),
        "adaptivemaxpool2d_1": P(lambda: nn.AdaptiveMaxPool2d(1), img()),
        # upsampling
        "upsample_nearest_x2": P(lambda: nn.Upsample(scale_factor=2, mode="nearest"),
                                 img(8, 8, 8)),
        "upsample_bilinear_x2": P(
            lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            img(8, 8, 8)),
        "interpolate_nearest_size16": P(
            lambda: Fn(lambda s, x: F.interpolate(x, size=16, mode="nearest")), img(8, 8, 8)),
        # elementwise
        "add_operator": P(lambda: Fn(lambda s, x: x + x), img()),
        "add_inplace_operator": P(lambda: Fn(lambda s, x: x.clone().__iadd__(x)), img()),
        "torch_add": P(lambda: Fn(lambda s, x: torch.add(x, x)), img()),
        "mul_operator": P(lambda: Fn(lambda s, x: x * x), img()),
        "torch_mul": P(lambda: Fn(lambda s, x: torch.mul(x, x)), img()),
        # softmax
        "softmax_module": P(lambda: nn.Softmax(dim=-1), rand(1, 8, 16)),
        "softmax_functional": P(lambda: Fn(lambda s, x: F.softmax(x, dim=-1)), rand(1, 8, 16)),
        # matmul family: x is 1x16x32 -> (16x32)@(32x16)
        "matmul_operator": P(lambda: Fn(lambda s, x: x @ x.transpose(-1, -2)),
                             rand(1, 16, 32)),
        "torch_matmul": P(lambda: Fn(lambda s, x: torch.matmul(x, x.transpose(-1, -2))),
                          rand(1, 16, 32)),
        "torch_bmm": P(lambda: Fn(lambda s, x: torch.bmm(x, x.transpose(1, 2))),
                       rand(2, 16, 32)),
        "torch_mm": P(lambda: Fn(lambda s, x: torch.mm(x, x.t())), rand(16, 32)),
        "einsum_bij_bkj": P(lambda: Fn(lambda s, x: torch.einsum("bij,bkj->bik", x, x)),
                            rand(1, 16, 32)),
        # attention: embed 64, 4 heads, L=10, batch_first
        "multiheadattention_self": P(lambda: MHA(True), seq()),
        "multiheadattention_self_noweights": P(lambda: MHA(False), seq()),
        "sdpa_functional": P(lambda: Fn(lambda s, x: F.scaled_dot_product_attention(x, x, x)),
                             rand(1, 4, 10, 16)),
        # recurrent: input 32, hidden 64, L=10, batch_first
        "rnn_tanh_1layer": P(lambda: RNNWrap(nn.RNN(32, 64, batch_first=True)), seq(d=32)),
        "gru_1layer": P(lambda: RNNWrap(nn.GRU(32, 64, batch_first=True)), seq(d=32)),
        "lstm_1layer": P(lambda: RNNWrap(nn.LSTM(32, 64, batch_first=True)), seq(d=32)),
        "lstm_2layer_bidir": P(lambda: RNNWrap(nn.LSTM(32, 64, num_layers=2, bidirectional=True,
                                                       batch_first=True)), seq(d=32)),
        "lstmcell": P(lambda: nn.LSTMCell(32, 64), rand(1, 32)),
        # embedding: vocab 100, dim 32, 10 tokens
        "embedding": P(lambda: nn.Embedding(100, 32), lambda: torch.randint(0, 100, (1, 10))),
        # structure
        "flatten_module": P(lambda: nn.Flatten(), img()),
        "dropout_eval": P(lambda: nn.Dropout(0.5), img()),
        "identity": P(lambda: nn.Identity(), img()),
        "module_called_twice": P(CalledTwice, rand(1, 64)),
        "conv_module_called_twice": P(ConvCalledTwice, img()),
    }


# ------------------------------------------------------------------------------- running
def zoo_factory(name: str) -> Callable:
    """The builder of reference model `name` (``torch_models.MODEL_BUILDERS``)."""
    return _torch_models().MODEL_BUILDERS[name]


def run_tool(tool: str, factory: Callable, x: Any, zoo: bool, breakdown: bool = True) -> dict:
    """Run one tool on a fresh ``factory()`` model (eval mode) and input `x`, in this process.

    Errors are returned, not raised: ``{"error": ..., "traceback_tail": [...]}``.
    """
    warnings.filterwarnings("ignore")
    model = factory()
    model.eval()
    try:
        return RUNNERS[tool](model, x, zoo, factory, breakdown)
    except Exception as e:  # noqa: BLE001  (the JSON records a tool's failure)
        return {"error": f"{type(e).__name__}: {e}".splitlines()[0][:300],
                "traceback_tail": traceback.format_exc().splitlines()[-3:]}


def run_one(kind: str, name: str, tool: str, breakdown: bool = True) -> dict:
    """Run `tool` on zoo model or probe `name` as the generator does (seed 0, batch 1)."""
    import torch

    torch.manual_seed(0)
    if kind == "zoo":
        factory = zoo_factory(name)
        x = torch.randn(1, 3, 224, 224)
        zoo = True
    elif kind == "probe":
        factory, x = probes()[name]()
        zoo = False
    else:
        raise ValueError(f"kind must be 'zoo' or 'probe', got {kind!r}")
    return run_tool(tool, factory, x, zoo, breakdown)


_MARK = "@@JSON@@"


def run_in_subprocess(kind: str, name: str, tool: str, breakdown: bool = True,
                      timeout: float = 1800) -> dict:
    """`run_one` in a fresh interpreter (``sys.executable``); returns its result dict."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", kind, name, tool]
    if not breakdown:
        cmd.append("--headline-only")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith(_MARK)]
    if lines:
        return json.loads(lines[-1][len(_MARK):])
    return {"error": f"no output (exit {p.returncode})",
            "stderr_tail": p.stderr.splitlines()[-5:]}


def run_many_in_subprocess(kind: str, names: list[str], tool: str, breakdown: bool = True,
                           timeout: float = 1800) -> dict[str, dict]:
    """`run_one` for several `names` in ONE fresh interpreter: name -> result dict.

    Cheaper than a process per name. For torchstat, whose class patches stay behind, later
    models run under the earlier models' wrappers; each wrapper re-records the same numbers on
    the module it is called for, so the totals are unchanged (``test_peer_tools`` checks them
    against the JSON, which was made one process per pair).
    """
    cmd = [sys.executable, str(Path(__file__).resolve()), "--many", kind, ",".join(names), tool]
    if not breakdown:
        cmd.append("--headline-only")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith(_MARK)]
    if lines:
        return json.loads(lines[-1][len(_MARK):])
    err = {"error": f"no output (exit {p.returncode})", "stderr_tail": p.stderr.splitlines()[-5:]}
    return {n: err for n in names}


# ------------------------------------------------------------------------------ assembling
TOOL_DOC_TEMPLATE = OrderedDict([
    ("ptflops_pytorch", {
        "package": "ptflops {ptflops}",
        "call": "ptflops.get_model_complexity_info(model, (3, 224, 224), as_strings=False, "
                "print_per_layer_stat=False, backend='pytorch')  -> (macs:int, params:int)",
        "headline": "macs",
        "meaning": "multiply-accumulates for conv/linear (+1 per bias element) plus 1 per "
                   "element for hooked non-MAC layers; module-hook part is divided by the "
                   "batch size, functional part is not",
        "breakdown": "by_module_type / by_module: module.__flops__ of every hooked module "
                     "(ptflops pytorch_engine internals replayed step by step); "
                     "by_functional_op: the patched torch.nn.functional / torch ops that fired "
                     "(F.relu, F.max_pool2d, F.adaptive_avg_pool2d, F.silu, ...) -- these are "
                     "added ON TOP of the module hooks, which double counts "
                     "ReLU/ELU/PReLU/GELU/pools/Upsample modules",
    }),
    ("ptflops_aten", {
        "package": "ptflops {ptflops}",
        "call": "ptflops.get_model_complexity_info(model, (3, 224, 224), as_strings=False, "
                "print_per_layer_stat=False, backend='aten')  -> (macs:int, params:int)",
        "headline": "macs",
        "meaning": "MACs of aten.convolution (+bias), aten.addmm (+bias), aten.mm, aten.bmm "
                   "only",
        "breakdown": "by_aten_op: ptflops.aten_engine.FlopCounterMode(model).flop_counts"
                     "['Global']; by_top_level_child: same mode, per direct child of the root",
    }),
    ("thop", {
        "package": "ultralytics-thop {ultralytics-thop} (import thop)",
        "call": "thop.profile(model, inputs=(torch.randn(1, 3, 224, 224),), verbose=False)  "
                "-> (ops:float, params:float)",
        "headline": "ops",
        "meaning": "MACs for conv/linear (no bias), plus thop's own per-element costs for "
                   "norms, avg pools, softmax, upsample, RNNs, attention",
        "breakdown": "by_module_type: from profile(..., ret_layer_info=True): a module's own "
                     "ops = its subtree total minus its children's, summed per class; "
                     "functional_outside_ruled_modules: matmul/bmm/einsum/linear/sdpa products "
                     "thop's TorchFunctionMode counted outside modules that have a rule",
    }),
    ("fvcore", {
        "package": "fvcore {fvcore}",
        "call": "fca = fvcore.nn.FlopCountAnalysis(model.eval(), (x,)); fca.total(); "
                "fca.by_operator(); fca.unsupported_ops()",
        "headline": "total",
        "meaning": "one 'flop' per fused multiply-add (i.e. MACs) for conv/linear/matmul; bias "
                   "ignored; plus per-element costs for batch_norm, group/layer/instance norm, "
                   "adaptive_avg_pool2d, upsample",
        "breakdown": "by_operator (handle names: conv, linear, addmm, matmul, bmm, einsum, "
                     "batch_norm, ...); unsupported_ops: op -> number of occurrences counted "
                     "as 0",
    }),
    ("torchinfo", {
        "package": "torchinfo {torchinfo}",
        "call": "torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0)  -> "
                "ModelStatistics (.total_mult_adds, .total_params, ...)",
        "headline": "total_mult_adds",
        "meaning": "'Mult-Adds': per leaf module, params('weight','bias') x output positions "
                   "for classes whose name contains 'Conv', params x batch for everything else",
        "breakdown": "by_leaf_class: LayerInfo.macs summed over leaf layers (the rows that make "
                     "up total_mult_adds) by class name; byte totals are ModelStatistics fields",
    }),
    ("torchstat", {
        "package": "torchstat {torchstat}",
        "call": "torchstat.stat(model, (3, 224, 224)) prints the report; the integers here "
                "are the sums report_format() computes, read from "
                "torchstat.ModelStat(model, (3, 224, 224))._analyze_model() leaf nodes",
        "headline": "MAdd, Flops, MemRW_B (and report_lines, the printed 'Total ...' lines)",
        "meaning": "MAdd = multiplies + adds (2k-1 per dot product, +1 with bias); Flops = "
                   "MACs (+bias) plus per-element ReLU/BN/pool costs; MemRW_B = bytes read "
                   "(input + params) + bytes written (output), float32",
        "breakdown": "by_module_type: per leaf class MAdd / Flops / MemRW_B; report_format() "
                     "calls DataFrame.append, removed in pandas 2: a one-line shim (pd.concat) "
                     "was installed to print report_lines",
    }),
    ("calflops", {
        "package": "calflops {calflops}",
        "call": "calflops.calculate_flops(model=model, input_shape=(1, 3, 224, 224), "
                "output_as_string=False, print_results=False, print_detailed=False)  -> "
                "(flops, macs, params)",
        "headline": "flops and macs",
        "meaning": "macs = MACs of F.linear/F.conv*/torch.matmul/addmm (no bias); flops = "
                   "2*macs + conv bias + 1 per element for activations/pools/norm "
                   "estimates/softmax/add/mul",
        "breakdown": "by_module_type_own: CalFlopsPipline per-module __flops__/__macs__ (each "
                     "functional call is charged to the innermost module running it), by class",
    }),
    ("flop_counter", {
        "package": "torch {torch} (torch.utils.flop_counter)",
        "call": "with torch.utils.flop_counter.FlopCounterMode(display=False) as fc: "
                "model.eval()(x)   ->  fc.get_total_flops(), fc.get_flop_counts()",
        "headline": "total",
        "meaning": "2 x MACs of mm/addmm/bmm/baddbmm/convolution (bias ignored) and the GPU "
                   "SDPA kernels; everything else 0",
        "breakdown": "by_op: get_flop_counts()['Global']; by_top_level_module: "
                     "get_flop_counts()[<RootClass>.<child>]",
    }),
])

PROBES_DESCRIPTION = (
    "single-layer (or single-op) models run through every tool, batch 1 unless the name says "
    "otherwise; ops that are not modules are wrapped in a plain nn.Module subclass 'Fn' whose "
    "forward runs the op. ptflops received the tensor through input_constructor, thop through "
    "inputs=(x,), torchinfo input_data=[x], calflops args=[x]; calflops needs >=1 parameter, "
    "so parameter-free probes got a dummy 1-element parameter (its 'params' then reads 1). "
    "See docs/peer-tools.md.")


def _clean(d: dict) -> dict:
    d = dict(d)
    d.pop("traceback_tail", None)
    if d.get("batch_counter") == 1:
        d.pop("batch_counter")
    d.pop("breakdown_total_check", None)
    return d


def headline(rec: dict) -> OrderedDict:
    """The `HEADLINE` columns of one model's (or probe's) per-tool results."""
    h = OrderedDict()
    for col, (tool, key) in HEADLINE.items():
        r = rec.get(tool)
        h[col] = r.get(key) if isinstance(r, dict) else None
    return h


def model_entry(name: str, rec: dict) -> OrderedDict:
    tm = _torch_models()
    entry = OrderedDict()
    entry["builder"] = f"tests/oracles/torch_models.py:MODEL_BUILDERS['{name}']"
    entry["params"] = tm.EXPECTED_NUM_PARAMS[name]
    if name in tm.TORCHVISION_NUM_PARAMS:
        entry["torchvision_num_params"] = tm.TORCHVISION_NUM_PARAMS[name]
        entry["torchvision_ops_gflops"] = tm.TORCHVISION_GFLOPS[name]
    entry["headline"] = headline(rec)
    for t in TOOLS:
        entry[t] = _clean(rec[t])
    return entry


def probe_entry(name: str, rec: dict) -> OrderedDict:
    factory, x = probes()[name]()
    c = OrderedDict()
    c["module"] = repr(factory()).replace("\n", " ")
    c["input_shape"] = list(x.shape)
    c["input_dtype"] = str(x.dtype).replace("torch.", "")
    c["headline"] = headline(rec)
    for t in TOOLS:
        d = _clean(rec[t])
        if t == "torchstat" and "error" in d:
            d = {"not_applicable": "torchstat's API takes only a (C, H, W) input_size and "
                                   "feeds torch.rand(1, C, H, W)"}
        c[t] = d
    return c


def new_document(versions: dict) -> OrderedDict:
    doc = OrderedDict()
    doc["schema"] = "layercalc peer-tool oracle numbers, v1"
    doc["generated_on"] = datetime.date.today().isoformat()
    doc["environment"] = {
        "python": platform.python_version(),
        "platform": "linux x86_64, CPU only",
        "tool_versions": versions,
        "torch_threads_irrelevant": "counts are shape-derived; inputs are random",
    }
    doc["zoo_input"] = {"shape": [1, 3, 224, 224], "dtype": "float32", "mode": "eval",
                        "note": "each (model, tool) pair ran in a fresh Python process"}
    doc["tools"] = OrderedDict(
        (t, {k: v.format(**versions) for k, v in d.items()})
        for t, d in TOOL_DOC_TEMPLATE.items())
    doc["headline_columns"] = list(HEADLINE)
    doc["models"] = OrderedDict()
    doc["probes"] = {"description": PROBES_DESCRIPTION, "cases": OrderedDict()}
    return doc


def _diff(path: str, old: Any, new: Any, out: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for k in list(old) + [k for k in new if k not in old]:
            _diff(f"{path}.{k}", old.get(k, "<missing>"), new.get(k, "<missing>"), out)
    elif old != new:
        out.append(f"{path}: stored {old!r}, now {new!r}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="all",
                    help="comma-separated zoo model names, 'all' or 'none' (default all)")
    ap.add_argument("--probes", default="all",
                    help="comma-separated probe names, 'all' or 'none' (default all)")
    ap.add_argument("--tools", default="all", help="comma-separated tool keys or 'all'")
    ap.add_argument("--jobs", type=int, default=2, help="parallel processes (default 2)")
    ap.add_argument("--out", default=str(JSON_PATH), help="JSON file to update/write")
    ap.add_argument("--check", action="store_true",
                    help="recompute the selection and compare it with --out; write nothing")
    ap.add_argument("--one", nargs=3, metavar=("KIND", "NAME", "TOOL"),
                    help="run one pair in this process and print its JSON (internal)")
    ap.add_argument("--many", nargs=3, metavar=("KIND", "NAMES", "TOOL"),
                    help="as --one for comma-separated NAMES, one process, a JSON object "
                    "name -> result (internal; see run_many_in_subprocess)")
    ap.add_argument("--headline-only", action="store_true",
                    help="with --one/--many: no breakdowns")
    args = ap.parse_args(argv)

    if args.one:
        kind, name, tool = args.one
        res = run_one(kind, name, tool, breakdown=not args.headline_only)
        print(_MARK + json.dumps(res))
        return 0
    if args.many:
        kind, names, tool = args.many
        res = {n: run_one(kind, n, tool, breakdown=not args.headline_only)
               for n in names.split(",")}
        print(_MARK + json.dumps(res))
        return 0

    def pick(arg: str, universe: list[str]) -> list[str]:
        if arg == "all":
            return list(universe)
        if arg == "none":
            return []
        names = arg.split(",")
        bad = [n for n in names if n not in universe]
        if bad:
            ap.error(f"unknown names {bad}; known: {', '.join(universe)}")
        return names

    models = pick(args.models, list(_torch_models().MODEL_BUILDERS))
    probe_names = pick(args.probes, list(probes()))
    tools = pick(args.tools, list(TOOLS))
    jobs = [("zoo", n, t) for n in models for t in tools]
    jobs += [("probe", n, t) for n in probe_names for t in tools]

    results: dict[tuple[str, str], dict] = defaultdict(dict)
    with ThreadPoolExecutor(max(1, args.jobs)) as ex:
        for (kind, name, tool), res in zip(jobs, ex.map(lambda j: run_in_subprocess(*j), jobs)):
            results[(kind, name)][tool] = res
            print(f"{kind:5s} {name:34s} {tool:16s} {str(res)[:90]}", flush=True)

    out_path = Path(args.out)
    versions = installed_versions()
    full = set(tools) == set(TOOLS)
    everything = (full and len(models) == len(_torch_models().MODEL_BUILDERS)
                  and len(probe_names) == len(probes()))
    if out_path.exists() and not (everything and not args.check):
        doc = json.loads(out_path.read_text(), object_pairs_hook=OrderedDict)
    else:
        doc = new_document(versions)

    if args.check:
        problems: list[str] = []
        stored_versions = doc["environment"]["tool_versions"]
        if stored_versions != versions:
            print(f"note: stored tool versions {stored_versions} differ from installed "
                  f"{versions}")
        for (kind, name), rec in results.items():
            stored = (doc["models"] if kind == "zoo" else doc["probes"]["cases"]).get(name)
            if stored is None:
                problems.append(f"{kind} {name}: not in {out_path.name}")
                continue
            for tool, res in rec.items():
                new = _clean(res)
                if kind == "probe" and tool == "torchstat" and "error" in new:
                    new = {"not_applicable": stored[tool].get("not_applicable")}
                _diff(f"{kind}.{name}.{tool}", stored[tool], new, problems)
        for p in problems:
            print("DIFF", p)
        print(f"checked {len(jobs)} (item, tool) pairs: "
              f"{'all equal' if not problems else f'{len(problems)} differences'}")
        return 1 if problems else 0

    if not everything and not out_path.exists():
        ap.error("a subset can only update an existing file; run everything to create one")
    for (kind, name), rec in results.items():
        table = doc["models"] if kind == "zoo" else doc["probes"]["cases"]
        if not full:
            rec = {**table[name], **{t: r for t, r in rec.items()}}
            rec = {t: rec[t] for t in TOOLS}
        entry = model_entry(name, rec) if kind == "zoo" else probe_entry(name, rec)
        table[name] = entry
    # keep the builders' and probes' order
    order = list(_torch_models().MODEL_BUILDERS)
    doc["models"] = OrderedDict(sorted(doc["models"].items(), key=lambda kv: order.index(kv[0])))
    porder = list(probes())
    doc["probes"]["cases"] = OrderedDict(
        sorted(doc["probes"]["cases"].items(), key=lambda kv: porder.index(kv[0])))
    out_path.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {out_path} ({len(doc['models'])} models, {len(doc['probes']['cases'])} probes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
