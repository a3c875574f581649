"""Source of notebooks/06_why_tools_disagree.ipynb (build: python notebooks/build.py)."""

CELLS = [
("md", r"""
# 6. Why the tools disagree

Run ResNet-50 through the popular PyTorch counters and you get 4.09 G, 4.11 G, 4.12 G,
4.13 G, 8.18 G, 8.21 G or 8.22 G, each called "FLOPs" or "MACs". None of them is wrong:
each tool hooks some modules or functions, applies its own formula to each, and sees nothing
else. This notebook takes the differences apart, one layer kind at a time, until every digit
is explained.

**After this notebook you will be able to**

* list what the eleven tool conventions (torchvision, fvcore, ptflops with both backends,
  thop, torchinfo, calflops' FLOPs and MACs, FlopCounterMode, torchstat's MAdd and Flops)
  report for one model, and check that
  layercalc's presets reproduce each tool's own recorded output;
* derive by hand what each tool counts for a convolution with bias, a batch norm, a ReLU and
  a max pool, and say *why* (a module hook, a patched function, a folded formula);
* explain the gap between any two tools as a sum over layer kinds with `lc.compare`;
* spot the quirks that depend on how PyTorch calls a layer (a functional pool, a module called
  three times, the residual `+`), and say what a tool reports as zero;
* write the gap between two tools as a formula in the input size and tell which gaps vanish
  at high resolution and which do not.

**How each formula is treated.** We derive it by hand (in LaTeX), let SymPy confirm it
symbolically through layercalc, check it by brute-force counting on a tiny case, and plot it.
Every number the text relies on is an `assert`.

**The evidence.** `tests/oracles/peer_numbers.json` holds the real tools' outputs (ptflops
0.7.5, ultralytics-thop 2.2.3, fvcore 0.1.5, torchinfo 1.8.0, torchstat 0.0.7, calflops 0.3.2
and torch 2.13.0's `FlopCounterMode`, CPU) on 25 reference models and on single-layer
"probe" models. This notebook needs no PyTorch: it quotes those numbers as the tools' own and
checks layercalc against them. `docs/peer-tools.md` names the file and function behind every
rule quoted here.
"""),
("code", r"""
%matplotlib inline
import io
import json
from fractions import Fraction
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import sympy as sp
from IPython.display import Image, Markdown, display
from PIL import Image as PILImage

import layercalc as lc
from layercalc import zoo

plt.rcParams.update({"figure.figsize": (6, 4), "figure.dpi": 100, "font.size": 10,
                     "legend.fontsize": 9})

def show(fig):
    "Like plt.show(), but stores a 256-colour PNG: it looks the same in a third of the bytes."
    raw = io.BytesIO()
    fig.savefig(raw, format="png", bbox_inches="tight")
    plt.close(fig)
    small = io.BytesIO()
    PILImage.open(raw).convert("RGB").quantize(256).save(small, format="png", optimize=True)
    display(Image(small.getvalue()))
pd.set_option("display.max_colwidth", 60)

PEERS = json.loads(Path("../tests/oracles/peer_numbers.json").read_text())
# the tool-named conventions of the installed tools, in registry order ('ptflops-hooks' is
# ptflops 0.6.6, which cannot be installed beside 0.7.5: docs/source-posts.md covers it)
TOOLS = [t for t in lc.TOOL_CONVENTIONS if t != "ptflops-hooks"]

#: convention -> the column of peer_numbers.json holding that tool's own output
RECORDED = {
    "ptflops": "ptflops_pytorch.macs", "ptflops-aten": "ptflops_aten.macs",
    "thop": "thop.ops", "fvcore": "fvcore.total", "torchinfo": "torchinfo.total_mult_adds",
    "calflops": "calflops.flops", "calflops-macs": "calflops.macs",
    "flopcountermode": "flop_counter.total",
    "torchstat-madd": "torchstat.MAdd", "torchstat-flops": "torchstat.Flops",
}
assert set(TOOLS) == set(RECORDED) | {"torchvision"} and len(TOOLS) == 11


def recorded(tool, model=None, probe=None):
    "A tool's own output, as recorded, for a reference model or a single-layer probe."
    entry = PEERS["models"][model] if model else PEERS["probes"]["cases"][probe]
    return int(entry["headline"][RECORDED[tool]])


def giga(x):
    return f"{x / 1e9:.3f} G"
"""),
("md", r"""
## 1. One model, every convention

The question people ask: *"ptflops says 4.13 G, fvcore 4.11 G, torchinfo 4.09 G: which is
right?"* Below is ResNet-50 (torchvision's v1.5, one $3 \times 224 \times 224$ image) under
every convention layercalc knows. The first four are definitions (notebook 1); the rest are
named after a tool and reproduce that tool's number. Next to each, the number the real tool
printed.
"""),
("code", r"""
resnet50 = lc.analyze(zoo.resnet50(), (3, 224, 224))

rows = []
for name, convention in lc.CONVENTIONS.items():
    value = resnet50.flops(name)
    tool_said = recorded(name, model="resnet50") if name in RECORDED else None
    rows.append({"convention": name, "layercalc": f"{value:,}", "G": round(value / 1e9, 3),
                 "the tool's own output": "" if tool_said is None else f"{tool_said:,}",
                 "equal": "" if tool_said is None else tool_said == value,
                 "counts": getattr(convention, "unit", "") or convention.description.split(";")[0]})
    if tool_said is not None:
        assert value == tool_said, name
table = pd.DataFrame(rows).set_index("convention")
table
"""),
("md", r"""
Every tool preset equals the tool's recorded output to the unit, and torchvision's published
figure for these weights, 4.089 GFLOPS, is the `torchvision` convention rounded to three
decimals. The same holds on all 25 reference models (AlexNet, VGG with and without batch
norm, ResNet v1 and v1.5, MobileNet v1/v2/v3, EfficientNet-B0), 250 numbers in all:
"""),
("code", r"""
def zoo_model(name):
    "The layercalc model behind a reference model's name (`resnet50_v1`: the paper's ResNet)."
    if name.startswith("resnet") and name.endswith("_v1"):
        return zoo.get_model(name[:-3])(variant="v1")
    return zoo.get_model(name)()


reports = {name: lc.analyze(zoo_model(name), (3, 224, 224)) for name in PEERS["models"]}
checked = 0
for name, report in reports.items():
    for tool in RECORDED:
        assert report.flops(tool) == recorded(tool, model=name), (name, tool)
        checked += 1
    published = PEERS["models"][name].get("torchvision_ops_gflops")
    if published is not None:
        assert round(report.flops("torchvision") / 1e9, 3) == published, name
assert len(reports) == 25 and checked == 250
assert PEERS["models"]["resnet50"]["torchvision_ops_gflops"] == 4.089

r50 = {name: resnet50.flops(name) for name in lc.CONVENTIONS}
assert r50["ptflops"] == 4_132_436_968 and r50["fvcore"] == 4_111_512_576
assert r50["thop"] == 4_133_742_592 and r50["torchinfo"] == 4_089_238_376
assert r50["flopcountermode"] == 8_178_368_512 == 2 * r50["macs"]
assert {round(r50[t] / 1e9, 2) for t in TOOLS} == {4.09, 4.11, 4.12, 4.13, 8.18, 8.21, 8.22}
print(f"{checked} tool outputs on {len(reports)} models reproduced exactly")
"""),
("md", r"""
The numbers fall into two families. FlopCounterMode, calflops' FLOPs and torchstat's `MAdd`
count a multiply-accumulate as **two** operations (8.18 to 8.22 G); the other eight count it
as **one** (4.09 to 4.13 G), whatever they call the result ("flops" in fvcore, "MACs" in
ptflops, "ops" in thop, "Mult-Adds" in torchinfo). That factor of two is naming alone
(notebook 1). Within a family the spread is small, 1.1% from 4.089 to 4.134 G, and the rest of
this notebook explains it digit by digit. It comes from the layers that are *not*
convolutions or matrix products: each tool charges batch norms, activations and pools
differently, or not at all. (Section 3 zooms in on the blue bars.)
"""),
("code", r"""
names = list(lc.CONVENTIONS)
values = np.array([r50[n] for n in names]) / 1e9
double = values > 6
single = [(n, v) for n, v in zip(names, values) if v < 6]
fig, ax = plt.subplots()
ax.barh(names, values, color=np.where(double, "C1", "C0"))
ax.invert_yaxis()
ax.set(xlabel="G", title="ResNet-50, 224 x 224: every convention (orange: 2 per MAC)")
ax.grid(alpha=0.3, axis="x")
show(fig)

assert sorted(n for n, d in zip(names, double) if d) == [
    "2*macs", "calflops", "exact", "exact-no-bias", "flopcountermode", "torchstat-madd"]
assert sum(r50[t] < 6e9 for t in TOOLS) == 8
low, high = min(v for _, v in single), max(v for _, v in single)
assert (round(low, 3), round(high, 3)) == (4.089, 4.134)
assert round(100 * (high / low - 1), 1) == 1.1
assert round(min(values[double]), 2) == 8.18 and round(max(values[double]), 2) == 8.23
assert max(names, key=r50.get) == "exact" and max(TOOLS, key=r50.get) == "torchstat-madd"
"""),
("md", r"""
(The largest of the two-per-MAC bars, 8.23 G, is layercalc's own `exact` count; the largest
*tool* figure is torchstat's 8.22 G.)

## 2. One layer at a time

ResNet-50 is made of four kinds of layer: convolutions, batch norms, ReLUs and one max pool
(plus the classifier, the global pool and the residual adds, which come back in sections 3
and 4). We take one of each and write down what every tool charges for it, for one image.
Notation: the layer's input has $n = CHW$ elements; a convolution does $M = C_{in} K^2 \cdot
C_{out} H W$ multiply-accumulates and $B = C_{out} H W$ bias adds ("same" padding keeps
$H \times W$); the max pool ($3 \times 3$, stride 2, padding 1, ResNet's) has
$o = C \lceil H/2 \rceil \lceil W/2 \rceil$ outputs.

**Conv2d with a bias.** Every tool agrees on $M$; they differ on the bias and on whether a
MAC is one operation or two.

* $M$: torchvision, fvcore, thop and calflops' MACs. fvcore's `conv` handle and thop's
  `calculate_conv2d_flops` count the products only; the bias is ignored.
* $M + B$: ptflops (`conv_flops_counter_hook` adds one per bias element), its aten backend
  (`aten.convolution` with a bias) and torchstat's `Flops`. torchinfo gets the same number
  for a different reason: it multiplies the layer's *parameters*, weights and biases, by the
  output positions, $(C_{in}K^2 C_{out} + C_{out}) HW = M + B$.
* $2M$: FlopCounterMode (two per MAC, bias never counted) and torchstat's `MAdd`, whose
  per-output formula $2 C_{in} K^2 - 1 + 1$ (products, the adds between them, the bias) is
  the exact count of notebook 1.
* $2M + B$: calflops' FLOPs, two per MAC *plus* the bias.

**BatchNorm2d** (eval mode, affine). It computes
$y = \dfrac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}\,\gamma + \beta$ per channel.

* Written as it stands, each element costs a subtraction, a division, a multiplication and an
  addition, $4n$; each channel also needs $\sigma^2 + \epsilon$ and a square root, $2C$.
  thop (2 per element to normalise, doubled when affine) and torchstat's `MAdd` count the
  per-element part, $4n$; layercalc's `exact` counts all of it, $4n + 2C$.
* Folded for inference, $a = \gamma / \sqrt{\sigma^2 + \epsilon}$ and $b = \beta - \mu a$
  are per-channel constants and $y = a x + b$ costs $2n$: fvcore (`batchnorm_flop_jit`),
  ptflops (`bn_flops_counter_hook`), calflops and torchstat's `Flops` count that.
* torchinfo multiplies the parameters ($\gamma$ and $\beta$, $2C$) by the batch only: $2C$.
* The MAC-only counters (torchvision, ptflops' aten backend, calflops' MACs,
  FlopCounterMode) see no matrix product: $0$.

**ReLU.** One comparison per element, $n$: calflops (it patches `F.relu`) and torchstat count
that. **ptflops counts $2n$**: a forward hook on `nn.ReLU` adds `numel(output)`, and
`nn.ReLU.forward` calls `F.relu`, which ptflops *also* patches to add `numel(input)`: the same
elements, twice. Everyone else: $0$.

**MaxPool2d(3, stride 2, padding 1).** The maximum of 9 values takes 8 comparisons, so
torchstat's `MAdd` charges $(K^2 - 1)\,o = 8o$, padding taps included. ptflops again counts
twice, hook and patched `F.max_pool2d`, each `numel(input)`: $2n$; calflops and torchstat's
`Flops` count `numel(input)` once, $n$. layercalc's `exact` compares only taps that fall on
the input (a padding tap is $-\infty$ and can never win), which has no short closed form
with the ceilings; we check it by brute force below.

| tool | Conv2d (bias) | BatchNorm2d | ReLU | MaxPool2d(3, 2, 1) |
|---|---|---|---|---|
| torchvision | $M$ | $0$ | $0$ | $0$ |
| fvcore | $M$ | $2n$ | $0$ | $0$ |
| ptflops | $M + B$ | $2n$ | $2n$ | $2n$ |
| ptflops-aten | $M + B$ | $0$ | $0$ | $0$ |
| thop | $M$ | $4n$ | $0$ | $0$ |
| torchinfo | $M + B$ | $2C$ | $0$ | $0$ |
| calflops | $2M + B$ | $2n$ | $n$ | $n$ |
| calflops-macs | $M$ | $0$ | $0$ | $0$ |
| flopcountermode | $2M$ | $0$ | $0$ | $0$ |
| torchstat-madd | $2M$ | $4n$ | $n$ | $8o$ |
| torchstat-flops | $M + B$ | $2n$ | $n$ | $n$ |
| *exact (layercalc)* | $2M$ | $4n + 2C$ | $n$ | *real taps* $- o$ |

**SymPy confirms the table.** Tool presets accept symbolic sizes, so we analyse each layer on
a $C \times H \times W$ input and compare every tool's count with the hand formula:
"""),
("code", r"""
C, C_in, C_out, K, H, W = lc.symbols("C C_in C_out K H W")
n = C * H * W
M, B = C_in * K**2 * C_out * H * W, C_out * H * W
o = C * sp.ceiling(H / 2) * sp.ceiling(W / 2)

layers = {
    "Conv2d": (lc.Conv2d(C_in, C_out, K, padding="same"), (C_in, H, W)),
    "BatchNorm2d": (lc.BatchNorm2d(C), (C, H, W)),
    "ReLU": (lc.ReLU(), (C, H, W)),
    "MaxPool2d": (lc.MaxPool2d(3, stride=2, padding=1), (C, H, W)),
}
by_hand = {                    # tool: (Conv2d, BatchNorm2d, ReLU, MaxPool2d), as in the table
    "torchvision":     (M,         0,     0,     0),
    "fvcore":          (M,         2*n,   0,     0),
    "ptflops":         (M + B,     2*n,   2*n,   2*n),
    "ptflops-aten":    (M + B,     0,     0,     0),
    "thop":            (M,         4*n,   0,     0),
    "torchinfo":       (M + B,     2*C,   0,     0),
    "calflops":        (2*M + B,   2*n,   n,     n),
    "calflops-macs":   (M,         0,     0,     0),
    "flopcountermode": (2*M,       0,     0,     0),
    "torchstat-madd":  ((2*C_in*K**2 - 1 + 1) * B, 4*n, n, 8*o),
    "torchstat-flops": (M + B,     2*n,   n,     n),
    "exact":           (2*M,       4*n + 2*C, n, None),      # max pool: brute force below
}
assert set(by_hand) == set(TOOLS) | {"exact"}     # a new tool preset would show up here

symbolic = {kind: lc.analyze(layer, shape) for kind, (layer, shape) in layers.items()}
for tool, formulas in by_hand.items():
    for (kind, report), formula in zip(symbolic.items(), formulas):
        if formula is not None:
            assert sp.expand(report.flops(tool) - formula) == 0, (tool, kind)

lines = ["| tool | " + " | ".join(layers) + " |", "|---" * (len(layers) + 1) + "|"]
for tool in by_hand:
    cells = [f"${sp.latex(sp.factor(report.flops(tool)))}$" if by_hand[tool][i] is not None
             else "(below)" for i, report in enumerate(symbolic.values())]
    lines.append(f"| `{tool}` | " + " | ".join(cells) + " |")
display(Markdown("\n".join(lines)))
"""),
("md", r"""
Note the max pool column: ptflops' $2CHW$ and torchstat's $8C\lceil H/2\rceil\lceil W/2\rceil$
are different formulas that agree whenever $H$ and $W$ are even ($8 \cdot \frac{H}{2}
\frac{W}{2} = 2HW$). A coincidence of this layer's stride, not a shared rule:
"""),
("code", r"""
difference = by_hand["ptflops"][3] - by_hand["torchstat-madd"][3]
assert difference.subs({H: 2 * sp.Symbol("h", positive=True, integer=True),
                        W: 2 * sp.Symbol("w", positive=True, integer=True)}).simplify() == 0
assert difference.subs({C: 1, H: 15, W: 15}) == 2 * 15 * 15 - 8 * 8 * 8 == -62
"""),
("md", r"""
**Brute force.** Now we *run* each layer in plain Python on the probe sizes the tools were
recorded on (an $8 \times 16 \times 16$ input; the convolution has 16 filters of $3 \times 3$
and padding 1), counting every operation as it happens. Each tool's number is then a recipe
over these counts, and each recipe must give the tool's own recorded output.

ptflops' double count is a matter of mechanism, not arithmetic, so we also rebuild the
mechanism in miniature: a toy `nn.ReLU` whose `forward` calls a module-level `F.relu`, a
forward hook that adds `numel(output)`, and a patched `F.relu` that adds `numel(input)`,
exactly as `ptflops/pytorch_engine.py` does. Hook counts are divided by the batch
(`compute_average_flops_cost`), functional counts are not.
"""),
("code", r"""
rng = np.random.default_rng(6)                  # fixed seed: the notebook is reproducible
x = rng.integers(-4, 5, size=(8, 16, 16)).tolist()


def run_conv(x, w, b, padding):
    "A convolution that counts its multiplies, accumulating adds, bias adds and parameters."
    c_in, h, wd, k = len(x), len(x[0]), len(x[0][0]), len(w[0][0])
    count = {"mul": 0, "add": 0, "bias": 0, "positions": 0}
    for o_ in range(len(w)):
        for i in range(h + 2 * padding - k + 1):
            for j in range(wd + 2 * padding - k + 1):
                acc, first = 0, True
                for c in range(c_in):
                    for u in range(k):
                        for v in range(k):
                            r_, s_ = i + u - padding, j + v - padding
                            xv = x[c][r_][s_] if 0 <= r_ < h and 0 <= s_ < wd else 0
                            acc = w[o_][c][u][v] * xv if first else acc + w[o_][c][u][v] * xv
                            count["mul"] += 1
                            count["add"] += 0 if first else 1
                            first = False
                acc += b[o_]
                count["bias"] += 1
                if o_ == 0:
                    count["positions"] += 1
    count["params"] = len(w) * c_in * k * k + len(b)
    return count


def run_batchnorm(x, mean, var, gamma, beta, eps=1e-5, folded=False):
    "Eval-mode batch norm, as written or folded to y = a*x + b; counts per-element and per-channel ops."
    count = {"per_element": 0, "per_channel": 0, "params": 2 * len(x)}
    out = []
    for c, plane in enumerate(x):
        std = np.sqrt(var[c] + eps)                          # one add, one square root
        count["per_channel"] += 2
        if folded:
            a = gamma[c] / std                               # per-channel constants
            b = beta[c] - mean[c] * a
            out.append([[a * v + b for v in row] for row in plane])
            count["per_element"] += 2 * len(plane) * len(plane[0])
        else:
            out.append([[(v - mean[c]) / std * gamma[c] + beta[c] for v in row] for row in plane])
            count["per_element"] += 4 * len(plane) * len(plane[0])
    return np.array(out), count


def run_maxpool(x, k=3, stride=2, padding=1):
    "Max pooling that counts comparisons over all taps (padding = -inf) and over real taps."
    h, wd = len(x[0]), len(x[0][0])
    count = {"cmp_all_taps": 0, "cmp_real_taps": 0, "outputs": 0,
             "input_elements": len(x) * h * wd}
    for plane in x:
        for i in range(0, h + 2 * padding - k + 1, stride):
            for j in range(0, wd + 2 * padding - k + 1, stride):
                taps = [plane[i + u - padding][j + v - padding]
                        if 0 <= i + u - padding < h and 0 <= j + v - padding < wd else -np.inf
                        for u in range(k) for v in range(k)]
                real = [t for t in taps if t != -np.inf]
                best = max(taps)
                assert best == max(real)                     # padding never wins
                count["cmp_all_taps"] += len(taps) - 1
                count["cmp_real_taps"] += len(real) - 1
                count["outputs"] += 1
    return count


w = rng.integers(-2, 3, size=(16, 8, 3, 3)).tolist()
conv = run_conv(x, w, rng.integers(-2, 3, size=16).tolist(), padding=1)
stats = (rng.normal(size=8), rng.uniform(0.5, 2, size=8),     # mean, variance,
         rng.normal(size=8), rng.normal(size=8))                 # gamma, beta
unfolded, bn = run_batchnorm(x, *stats)
folded_out, bn_folded = run_batchnorm(x, *stats, folded=True)
assert np.allclose(unfolded, folded_out)                     # the same function, two costs
relu_cmp = sum(1 for plane in x for row in plane for v in row)   # one comparison each
pool = run_maxpool(x)

assert conv == {"mul": 294_912, "add": 290_816, "bias": 4096, "positions": 256,
                "params": 1168}
assert (bn["per_element"], bn["per_channel"], bn_folded["per_element"]) == (8192, 16, 4096)
assert relu_cmp == 2048
assert pool == {"cmp_all_taps": 4096, "cmp_real_taps": 3720, "outputs": 512,
                "input_elements": 2048}
"""),
("code", r"""
class F:                                   # stand-in for torch.nn.functional
    @staticmethod
    def relu(t):
        return [max(v, 0) for v in t]


class ToyReLU:                             # nn.ReLU: __call__ runs forward, then the hooks
    def __init__(self):
        self.hooks = []

    def forward(self, t):
        return F.relu(t)                   # torch: `return F.relu(input, inplace=self.inplace)`

    def __call__(self, t):
        out = self.forward(t)
        for hook in self.hooks:
            hook(self, t, out)
        return out


def ptflops_like(call, t, batch=1):
    "Run `call(t)` under ptflops' two counters: a ReLU module hook and a patched F.relu."
    counts = {"hook": 0, "functional": 0}
    original = F.relu

    def patched_relu(u):                   # _numel_functional_flops_hook: numel(input)
        counts["functional"] += len(u)
        return original(u)

    def relu_hook(module, inp, out):       # relu_flops_counter_hook: numel(output)
        counts["hook"] += len(out)

    F.relu = staticmethod(patched_relu)
    module = call if isinstance(call, ToyReLU) else None
    if module is not None:
        module.hooks.append(relu_hook)
    try:
        call(t)
    finally:
        F.relu = staticmethod(original)
        if module is not None:
            module.hooks.remove(relu_hook)
    return counts["hook"] // batch + counts["functional"], counts


flat = [v for plane in x for row in plane for v in row]
as_module, parts = ptflops_like(ToyReLU(), flat)
as_function, _ = ptflops_like(lambda t: F.relu(t), flat)   # a forward calling F.relu
assert parts == {"hook": 2048, "functional": 2048} and as_module == 4096
assert as_function == 2048                         # F.relu(x) in a forward: counted once
assert recorded("ptflops", probe="relu") == 4096
assert recorded("ptflops", probe="relu_functional") == 2048
"""),
("md", r"""
Now every tool's recipe over the counted operations, side by side with the tool's recorded
output on the same probe and with layercalc's preset on the same layer (torchvision publishes
numbers for whole models only, so its row is checked against layercalc alone):
"""),
("code", r"""
mul, bias = conv["mul"], conv["bias"]
recipes = {    # tool: (Conv2d, BatchNorm2d, ReLU, MaxPool2d) from the brute-force counts
    "torchvision":     (mul, 0, 0, 0),
    "fvcore":          (mul, bn_folded["per_element"], 0, 0),
    "ptflops":         (mul + bias, bn_folded["per_element"], as_module,
                        2 * pool["input_elements"]),
    "ptflops-aten":    (mul + bias, 0, 0, 0),
    "thop":            (mul, bn["per_element"], 0, 0),
    "torchinfo":       (conv["params"] * conv["positions"], bn["params"], 0, 0),
    "calflops":        (2 * mul + bias, bn_folded["per_element"], relu_cmp,
                        pool["input_elements"]),
    "calflops-macs":   (mul, 0, 0, 0),
    "flopcountermode": (2 * mul, 0, 0, 0),
    "torchstat-madd":  (mul + conv["add"] + bias, bn["per_element"], relu_cmp,
                        pool["cmp_all_taps"]),
    "torchstat-flops": (mul + bias, bn_folded["per_element"], relu_cmp,
                        pool["input_elements"]),
    "exact":           (mul + conv["add"] + bias, bn["per_element"] + bn["per_channel"],
                        relu_cmp, pool["cmp_real_taps"]),
}
probes = {"Conv2d": "conv2d_bias", "BatchNorm2d": "batchnorm2d_eval", "ReLU": "relu",
          "MaxPool2d": "maxpool2d_k3s2p1"}
numeric = {kind: lc.analyze(layer, (8, 16, 16)) for kind, layer in [
    ("Conv2d", lc.Conv2d(8, 16, 3, padding=1)), ("BatchNorm2d", lc.BatchNorm2d(8)),
    ("ReLU", lc.ReLU()), ("MaxPool2d", lc.MaxPool2d(3, stride=2, padding=1))]}

grid = {}
for tool, counts in recipes.items():
    for kind, counted in zip(probes, counts):
        assert numeric[kind].flops(tool) == counted, (tool, kind)
        if tool in RECORDED:
            assert recorded(tool, probe=probes[kind]) == counted, (tool, kind)
    grid[tool] = dict(zip(probes, counts))
probe_table = pd.DataFrame(grid).T
assert probe_table.size == 48 and sum(t in RECORDED for t in grid) * len(probes) == 40
assert pool["cmp_all_taps"] - pool["cmp_real_taps"] == 8 * (8 * 3 + 8 * 3 - 1) == 376
probe_table
"""),
("md", r"""
48 brute-force counts, 40 of them equal to a real tool's output. The brute force also shows
the one place where no tool matches layercalc's `exact`: the max pool, where only 3,720 of
torchstat's 4,096 comparisons look at real input. In each channel the 15 windows on the top
row and left column of the $8 \times 8$ output overlap the padding by 3 taps, the corner one
by 5: $8 \cdot (8 \cdot 3 + 8 \cdot 3 - 1) = 376$ comparisons against $-\infty$.

**Plot.** The same grid relative to the exact count of each layer (1 = exact): for a
convolution every tool is within a factor of two, for the cheap layers anything from 0 to
twice the work is reported.
"""),
("code", r"""
exact_row = probe_table.loc["exact"]
relative = (probe_table.drop(index="exact") / exact_row).astype(float)
fig, ax = plt.subplots(figsize=(5.5, 3.6))
ax.imshow(relative.values, cmap="viridis", vmin=0, vmax=2.1, aspect="auto")
ax.set_xticks(range(len(relative.columns)), relative.columns)
ax.set_yticks(range(len(relative.index)), relative.index)
for (i, j), v in np.ndenumerate(relative.values):
    ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="w" if v < 1.2 else "k", fontsize=9)
ax.set_title("Tool count / exact count, per layer (1 = exact)")
show(fig)

assert relative.values.min() == 0 and round(relative.values.max(), 2) == 2.0
assert relative.loc["ptflops", "ReLU"] == 2 and relative.loc["torchstat-madd", "Conv2d"] == 1
"""),
("md", r"""
## 3. The gap between two tools, layer kind by layer kind

Every tool convention is a sum over the same report rows, so the difference between two of
them is a sum over layer kinds. `lc.compare(report)` computes every convention's total and
its split by kind; `.difference(a, b)` gives the per-kind gap and `.explain(a, b)` names each
part, where it can, as a multiple of that kind's MACs, bias adds, input or output elements.

With the table of section 2 we can predict the ResNet-50 gaps before asking. Let
$n_{\mathrm{BN}}, n_{\mathrm{ReLU}}, n_{\mathrm{pool}}, n_{\mathrm{avg}}$ be the input
elements of all batch norms, all ReLU calls, the max pool and the global average pool:

$$ \text{fvcore} - \text{torchvision} = 2n_{\mathrm{BN}} + n_{\mathrm{avg}} \qquad
   \text{ptflops} - \text{torchvision} = 2n_{\mathrm{BN}} + 2n_{\mathrm{ReLU}}
   + 2n_{\mathrm{pool}} + 2n_{\mathrm{avg}} + 1000 $$
$$ \text{thop} - \text{fvcore} = 2n_{\mathrm{BN}} + 2048 \qquad
   \text{torchinfo} - \text{torchvision} = \textstyle\sum_{\mathrm{BN}} 2C + 1000 $$

(fvcore counts `adaptive_avg_pool2d` as $n_{\mathrm{avg}}$, ptflops twice; thop's
`count_adap_avgpool` charges one add per pooled input and one divide per output, the 2048
channels; the classifier's 1000 bias adds are counted by ptflops and torchinfo only; ResNet's
convolutions have no bias.) Counting the elements row by row:
"""),
("code", r"""
def numel(shape):
    return int(np.prod(shape[0] if isinstance(shape[0], tuple) else shape))


elements = {}
for row in resnet50.rows:
    elements[row.kind] = elements.get(row.kind, 0) + numel(row.input_shape)
n_bn, n_relu = elements["BatchNorm2d"], elements["ReLU"]
n_pool, n_avg = elements["MaxPool2d"], elements["AdaptiveAvgPool2d"]
bn_channels = sum(row.layer.num_features for row in resnet50.rows if row.kind == "BatchNorm2d")
assert (n_bn, n_relu, n_pool, n_avg) == (11_113_984, 9_608_704, 802_816, 100_352)
assert bn_channels == 26_560

comparison = lc.compare(resnet50)
predicted = {
    ("fvcore", "torchvision"): {"BatchNorm2d": 2 * n_bn, "AdaptiveAvgPool2d": n_avg},
    ("ptflops", "torchvision"): {"BatchNorm2d": 2 * n_bn, "ReLU": 2 * n_relu,
                                 "MaxPool2d": 2 * n_pool, "AdaptiveAvgPool2d": 2 * n_avg,
                                 "Linear": 1000},
    ("thop", "fvcore"): {"BatchNorm2d": 2 * n_bn, "AdaptiveAvgPool2d": 2048},
    ("torchinfo", "torchvision"): {"BatchNorm2d": 2 * bn_channels, "Linear": 1000},
}
for (a, b), parts in predicted.items():
    assert comparison.difference(a, b) == parts, (a, b)
    assert r50[a] - r50[b] == sum(parts.values())
    print(comparison.explain(a, b), end="\n\n")
assert (round(2 * n_bn / 1e6, 1), round(n_avg / 1e6, 1)) == (22.2, 0.1)
assert round((r50["ptflops"] - r50["fvcore"]) / 1e6, 1) == 20.9
"""),
("md", r"""
So the 4.11 G of fvcore is torchvision's 4.089 G plus 22.2 M for the batch norms (folded, 2
per element) and 0.1 M for the global pool; ptflops adds another 20.9 M on top of fvcore for
counting every ReLU and pool twice, plus the classifier's bias; thop agrees with fvcore on
everything except the batch norms, which it charges 4 per element instead of 2; and
torchinfo's 54,120 over torchvision are parameters, not operations (each batch norm's
$\gamma, \beta$ and the classifier's bias).

The two-per-MAC family differs the same way. calflops is FlopCounterMode plus calflops'
one-per-element charges. torchstat's `MAdd` is within 0.11% of layercalc's exact count: both
count a convolution's real multiplies and adds, so the convolutions do not appear below; it
leaves out the batch norms' per-channel work ($2C$ each), the residual adds, the global pool,
the classifier's bias and the ReLU calls that are not a module's last (section 4), and it
counts the max pool's comparisons against padding (+21,440):
"""),
("code", r"""
print(comparison.explain("calflops", "flopcountermode"), end="\n\n")
print(comparison.explain("torchstat-madd", "exact"))
assert comparison.difference("calflops", "flopcountermode") == {
    "BatchNorm2d": 2 * n_bn, "ReLU": n_relu, "MaxPool2d": n_pool, "AdaptiveAvgPool2d": n_avg}
madd_gap = comparison.difference("torchstat-madd", "exact")
assert "Conv2d" not in madd_gap and madd_gap["BatchNorm2d"] == -2 * bn_channels
assert madd_gap["MaxPool2d"] == 21_440 and madd_gap["Linear"] == -1000
assert madd_gap["Add"] == -5_519_360 and madd_gap["AdaptiveAvgPool2d"] == -n_avg
assert round(100 * (r50["exact"] - r50["torchstat-madd"]) / r50["exact"], 2) == 0.11
"""),
("md", r"""
**Plot.** Each one-per-MAC tool as torchvision's MACs plus what it adds, stacked by layer
kind. Four fifths of all that is added is batch norm; most of the rest is ptflops'
double-counted ReLUs and pools, and torchstat's ReLUs.
"""),
("code", r"""
mac_family = sorted((t for t in TOOLS if r50[t] < 6e9), key=lambda t: r50[t])
extras = pd.DataFrame({t: comparison.difference(t, "torchvision") for t in mac_family}).T
extras = extras.fillna(0).astype(int)
extras = extras[sorted(extras.columns, key=lambda k: -extras[k].sum())]

fig, ax = plt.subplots()
bottom = np.zeros(len(extras))
for kind in extras.columns:
    ax.barh(extras.index, extras[kind] / 1e6, left=bottom, label=kind)
    bottom += extras[kind].values / 1e6
ax.set(xlabel="M added to torchvision's 4,089,184,256 MACs",
       title="ResNet-50: where the one-per-MAC tools differ")
ax.legend(fontsize=9)
ax.grid(alpha=0.3, axis="x")
show(fig)

assert extras.sum(axis=1).to_dict() == {t: r50[t] - r50["torchvision"] for t in mac_family}
assert list(extras.columns[:2]) == ["BatchNorm2d", "ReLU"]
assert round(extras["BatchNorm2d"].sum() / extras.values.sum(), 2) == 0.80
"""),
("md", r"""
## 4. Quirks that depend on how PyTorch calls a layer

A tool that hooks *modules* does not see a function call, and a tool that patches
*functions* does not see a Python operator. So the same arithmetic can be counted once,
twice or never depending on how the model's `forward` is written. layercalc records this on
every report row: `row.call` is `"module"`, `"functional"` (wrap a layer in `lc.Functional`)
or `"operator"`.

**A functional pool.** torchvision's MobileNetV2 ends with `F.adaptive_avg_pool2d(x, (1, 1))`
where ResNet has an `nn.AdaptiveAvgPool2d` module. For ptflops the module costs $2n$ (hook
plus patched function), the function $n$; thop, which only hooks modules, goes from
`count_adap_avgpool` ($n$ + one divide per output) to 0; fvcore traces the aten op either
way and does not care. On the recorded probes (an $8 \times 16 \times 16$ input pooled to
$1 \times 1$):
"""),
("code", r"""
pools = {"adaptiveavgpool2d_1": lc.AdaptiveAvgPool2d(1),
         "adaptiveavgpool2d_functional_1": lc.Functional(lc.AdaptiveAvgPool2d(1))}
pool_rows = {}
for probe, layer in pools.items():
    report = lc.analyze(layer, (8, 16, 16))
    assert report.rows[0].call == ("functional" if "functional" in probe else "module")
    pool_rows[probe] = {t: report.flops(t) for t in RECORDED}
    for t in RECORDED:
        assert pool_rows[probe][t] == recorded(t, probe=probe), (probe, t)
pool_table = pd.DataFrame(pool_rows)
assert pool_table.loc["ptflops"].tolist() == [4096, 2048]
assert pool_table.loc["thop"].tolist() == [2048 + 8, 0]
assert pool_table.loc["fvcore"].tolist() == [2048, 2048]

mobilenet_v2 = reports["mobilenet_v2"]
functional_rows = [row for row in mobilenet_v2.rows if row.call == "functional"]
assert [(row.path, row.kind) for row in functional_rows] == [("avgpool", "AdaptiveAvgPool2d"),
                                                             ("flatten", "Flatten")]  # torch.flatten
assert "AdaptiveAvgPool2d" in mobilenet_v2.uncounted("thop")
pool_table
"""),
("md", r"""
**One module called three times.** torchvision's `Bottleneck` owns a single `self.relu` and
calls it after `bn1`, after `bn2` and after the residual add. Every tool that counts calls
sees three ReLUs per block; torchstat stores one record per *module*, overwritten on each
call, so only the last call, after the add, survives. A `Sequential` given a list of
`(name, layer)` pairs may repeat a name to say "the same module again", as layercalc's
ResNet does:
"""),
("code", r"""
tools_shown = ["ptflops", "calflops", "torchstat-flops"]
values = {t: resnet50.row_flops(t) for t in tools_shown}
calls = [{"row": i, "path": row.path, "input": row.input_shape,
          **{t: values[t][i] for t in tools_shown}}
         for i, row in enumerate(resnet50.rows) if row.path == "layer1.0.relu"]
assert [c["torchstat-flops"] for c in calls] == [0, 0, 256 * 56 * 56]
assert [c["calflops"] for c in calls] == [64 * 56 * 56, 64 * 56 * 56, 256 * 56 * 56]

# the recorded probe: one Conv2d and one ReLU module, each called twice
twice = lc.Sequential([("conv", lc.Tied("conv", lc.Conv2d(8, 8, 3, padding=1))),
                       ("act", lc.ReLU()),
                       ("conv", lc.Tied("conv", lc.Conv2d(8, 8, 3, padding=1))),
                       ("act", lc.ReLU())])
twice_report = lc.analyze(twice, (8, 16, 16))
for t in RECORDED:
    assert twice_report.flops(t) == recorded(t, probe="conv_module_called_twice"), t
assert twice_report.flops("torchstat-flops") == (147_456 + 2048) + 2048 == 151_552
assert twice_report.flops("ptflops") == 2 * (147_456 + 2048) + 2 * (2 * 2048) == 307_200
pd.DataFrame(calls).set_index("row")
"""),
("md", r"""
Over all of ResNet-50 torchstat sees the stem's ReLU and the 16 post-add ReLUs only:
$64 \cdot 112^2 + 3 \cdot 256 \cdot 56^2 + 4 \cdot 512 \cdot 28^2 + 6 \cdot 1024 \cdot 14^2
+ 3 \cdot 2048 \cdot 7^2 = 6{,}322{,}176$ of the 9,608,704 ReLU elements.

**The residual `+`.** `out += identity` is a Python operator. No tool hooks operators:
ptflops and calflops patch `torch.add` (probe `torch_add`: 2048 each) but not `+` (probe
`add_operator`: 0 for every tool). So ResNet-50's 16 residual adds, 5,519,360 additions, are
counted by **no** tool:
"""),
("code", r"""
adds = [row for row in resnet50.rows if row.kind == "Add"]
assert len(adds) == 16 and {row.call for row in adds} == {"operator"}
add_work = sum(lc.flops(row.cost, "exact") for row in adds)
assert add_work == 5_519_360 == 6_322_176 - 64 * 112 * 112
assert 64*112**2 + 3*256*56**2 + 4*512*28**2 + 6*1024*14**2 + 3*2048*7**2 == 6_322_176
assert all(comparison.by_kind["Add"][t] == 0 for t in TOOLS)
seen = [v for row, v in zip(resnet50.rows, values["torchstat-flops"])
        if row.kind == "ReLU" and v]
assert len(seen) == 17 and sum(seen) == comparison.by_kind["ReLU"]["torchstat-flops"] == 6_322_176
for t in RECORDED:
    assert recorded(t, probe="add_operator") == 0
assert {t for t in RECORDED if recorded(t, probe="torch_add")} == {"ptflops", "calflops"}
assert recorded("ptflops", probe="torch_add") == recorded("calflops", probe="torch_add") == 2048
"""),
("md", r"""
**What each tool reports as zero.** A count of 0 can mean "no work" (a flatten, a dropout at
inference) or "work this tool does not see". `report.uncounted(tool)` lists the second kind:
the layer kinds with real work that the tool counts as 0, with that work in exact FLOPs.
For ResNet-50:
"""),
("code", r"""
missed = pd.DataFrame({t: resnet50.uncounted(t) for t in TOOLS}).T.fillna(0).astype(int)
missed = missed[sorted(missed.columns, key=lambda k: -missed[k].sum())]
assert missed["Add"].eq(5_519_360).all()                 # every tool misses the residual adds
assert resnet50.uncounted("fvcore") == {"ReLU": 9_608_704, "MaxPool2d": 1_584_192,
                                        "Add": 5_519_360}
assert resnet50.uncounted("ptflops") == {"Add": 5_519_360}
assert resnet50.uncounted("torchstat-flops")["ReLU"] == 9_608_704 - 6_322_176
missed
"""),
("md", r"""
A report should carry this list. `report.to_text(convention=...)` prints it under the table,
and a one-line summary is easy to build; **never report an uncounted op as zero without
saying so**:
"""),
("code", r"""
def honest(report, tool):
    "A tool's total together with what it left out, in exact FLOPs."
    left_out = report.uncounted(tool)
    parts = ", ".join(f"{kind} {v / 1e9:.2f} G" if v >= 1e9 else f"{kind} {v / 1e6:.2f} M"
                      for kind, v in left_out.items())
    return f"{tool}: {report.flops(tool):,}" + (f" (counted as 0: {parts})" if parts else "")


print(resnet50.to_text(convention="fvcore").splitlines()[-1])
for t in ("fvcore", "ptflops", "thop", "torchinfo"):
    print(honest(resnet50, t))
assert honest(resnet50, "ptflops") == "ptflops: 4,132,436,968 (counted as 0: Add 5.52 M)"
assert "Counted as 0 by 'fvcore'" in resnet50.to_text(convention="fvcore")
"""),
("md", r"""
## 5. How the gap scales with the input size

Which gaps matter depends on what grows. A per-element charge (batch norm, ReLU, pool) grows
with the feature maps, like the MACs; a per-parameter charge (torchinfo's batch norms) or a
per-output one (the classifier's bias) does not. With symbols for $H$ and $W$ the gaps become
formulas.

**By hand.** Every batch norm follows a convolution, so $n_{\mathrm{BN}}$ is the sum of the
convolutions' output channels at each resolution. For torchvision's ResNet-50 on an input
whose sides are multiples of 32 (so every stage halves exactly):

| resolution | batch-norm channels | per input pixel $HW$ |
|---|---|---|
| $H/2$ | stem: 64 | $64/4 = 16$ |
| $H/4$ | layer1: $3(64 + 64 + 256) + 256$; layer2.0.bn1: 128 | $1536/16 = 96$ |
| $H/8$ | layer2: $128 + 512 + 512 + 3 \cdot 768$; layer3.0.bn1: 256 | $3712/64 = 58$ |
| $H/16$ | layer3: $256 + 1024 + 1024 + 5 \cdot 1536$; layer4.0.bn1: 512 | $10496/256 = 41$ |
| $H/32$ | layer4: $512 + 2048 + 2048 + 2 \cdot 3072$ | $10752/1024 = 10.5$ |

so $n_{\mathrm{BN}} = 221.5\,HW$ (11,113,984 at 224), $n_{\mathrm{avg}} = 2048 \cdot
\frac{H}{32}\frac{W}{32} = 2HW$, and

$$ \text{fvcore} - \text{torchvision} = 2 \cdot 221.5\,HW + 2HW = 445\,HW, \qquad
   \text{thop} - \text{torchvision} = 4 \cdot 221.5\,HW + 2HW + 2048 = 888\,HW + 2048. $$

Against torchvision's $81{,}456\,HW + 2{,}048{,}000$ MACs (notebook 3), fvcore's surplus tends
to $445 / 81{,}456 = 0.546\%$ at every large resolution, while torchinfo's is a constant,
54,120, that vanishes.

**SymPy confirms.** (thop's rule for the global pool enumerates the pooling windows, which
needs numbers, so its symbolic total is built from fvcore's per-kind parts, by the formula of
section 3, and checked by brute force below.)
"""),
("code", r"""
H, W = lc.symbols("H W")
resnet50_HW = lc.analyze(zoo.resnet50(), (3, H, W))
scaling = lc.compare(resnet50_HW, ["torchvision", "fvcore", "ptflops", "torchinfo",
                                   "torchstat-flops"])
totals = dict(scaling.totals)
totals["thop"] = totals["fvcore"] + scaling.by_kind["BatchNorm2d"]["fvcore"] + 2048

polynomial = {t: lc.assume_divisible(v - totals["torchvision"], {H: 32, W: 32})
              for t, v in totals.items() if t != "torchvision"}
assert polynomial == {"fvcore": 445*H*W, "ptflops": 862*H*W + 1000, "torchinfo": 54_120,
                      "torchstat-flops": 585*H*W, "thop": 888*H*W + 2048}
per_pixel = [Fraction(64, 4), Fraction(3 * (64 + 64 + 256) + 256 + 128, 16),
             Fraction(128 + 512 + 512 + 3 * 768 + 256, 64),
             Fraction(256 + 1024 + 1024 + 5 * 1536 + 512, 256),
             Fraction(512 + 2048 + 2048 + 2 * 3072, 1024)]
assert per_pixel == [16, 96, 58, 41, Fraction(21, 2)] and sum(per_pixel) == Fraction(443, 2)
bn_elements = lc.assume_divisible(scaling.by_kind["BatchNorm2d"]["fvcore"] / 2, {H: 32, W: 32})
assert bn_elements == sp.Rational(443, 2) * H * W and bn_elements.subs({H: 224, W: 224}) == n_bn
assert lc.assume_divisible(totals["torchvision"], {H: 32, W: 32}) == 81_456*H*W + 2_048_000
assert round(100 * 445 / 81_456, 3) == 0.546
display(Markdown("\n".join(f"* {t} $-$ torchvision $= {sp.latex(p)}$"
                           for t, p in polynomial.items())))
"""),
("md", r"""
The other coefficients read the same way: ptflops' $862 = 443 + 383 + 32 + 4$ is twice the
batch-norm, ReLU ($191.5\,HW$), max-pool ($16\,HW$) and global-pool ($2\,HW$) elements;
torchstat's `Flops`, $585 = 443 + 126 + 16$, counts the batch norms folded, the ReLUs it sees
(the stem and the post-add calls, $126\,HW$) and the max pool's input once.

**Brute force.** At sizes that are not multiples of 32 the ceilings stay in the formulas;
the symbolic totals must still equal a plain numeric analysis, for every tool, thop included:
"""),
("code", r"""
def per_pixel_of(kind, tool, factor):
    "The HW coefficient of a kind's share under a tool, divided by `factor`."
    part = lc.assume_divisible(scaling.by_kind[kind][tool] / factor, {H: 32, W: 32})
    return part / (H * W)


assert per_pixel_of("ReLU", "ptflops", 2) == Fraction(383, 2)          # n_ReLU = 191.5 HW
assert per_pixel_of("MaxPool2d", "ptflops", 2) == 16
assert per_pixel_of("AdaptiveAvgPool2d", "ptflops", 2) == 2
assert 862 == 443 + 383 + 32 + 4 and 585 == 443 + 126 + 16
assert per_pixel_of("ReLU", "torchstat-flops", 1) == 126
assert per_pixel_of("MaxPool2d", "torchstat-flops", 1) == 16

sizes = [(32, 32), (33, 47), (97, 301), (160, 224), (224, 224), (225, 225), (299, 299),
         (384, 512)]
for h, wd in sizes:
    report = lc.analyze(zoo.resnet50(), (3, h, wd))
    for t, expression in totals.items():
        assert report.flops(t) == lc.evaluate(expression, H=h, W=wd), (t, h, wd)
assert lc.evaluate(totals["thop"], H=224, W=224) == r50["thop"]
print(f"{len(sizes)} input sizes x {len(totals)} tools: symbolic == numeric")
"""),
("md", r"""
**Plot.** Each tool's surplus over torchvision, relative, for square inputs from 32 to 1024
(`lc.sweep` evaluates the exact formulas, ceilings and all). The per-element gaps settle at
$445, 585, 862, 888$ parts in $81{,}456$ (dotted lines); torchinfo's constant fades away.
On multiples of 32 the curves follow the polynomials exactly, slightly diluted at small sizes
by the classifier's fixed $2{,}048{,}000$ MACs. In between, the ceilings make them saw-tooth:
one pixel past a multiple of 32 rounds every stage up, and the deep stages, which do the most
MACs per activation, grow the most, so the relative gaps dip. The lowest point of each
per-element curve is at $H = 33$ (fvcore 0.41%, against 0.55% at 224).
"""),
("code", r"""
hs = np.arange(32, 1025)
base = lc.sweep(totals["torchvision"], H=hs, W=hs).astype(float)
fig, ax = plt.subplots(figsize=(6, 3.6))
curves = {}
for t in ("thop", "ptflops", "torchstat-flops", "fvcore", "torchinfo"):
    curves[t] = 100 * (lc.sweep(totals[t], H=hs, W=hs) - base) / base
    ax.plot(hs, curves[t], label=t, lw=1)
for coefficient in (445, 585, 862, 888):
    ax.axhline(100 * coefficient / 81_456, color="k", lw=0.5, ls=":")
ax.axvline(224, color="grey", lw=0.8)
ax.set(xscale="log", xlabel="input size $H = W$", ylabel="% above torchvision's MACs",
       title="ResNet-50: the gaps between tools against resolution")
ax.legend(fontsize=9)
ax.grid(alpha=0.3)
show(fig)

at = {h: int(np.where(hs == h)[0][0]) for h in (32, 224, 1024)}
assert round(curves["thop"][at[224]], 2) == 1.09 and round(curves["fvcore"][at[224]], 2) == 0.55
assert curves["torchinfo"][at[1024]] < 0.001 < curves["torchinfo"][at[32]]
assert all(curves[t][at[32]] < curves[t][at[1024]] for t in ("thop", "ptflops", "fvcore"))
assert abs(curves["ptflops"][at[1024]] - 100 * 862 / 81_456) < 0.002
aligned = hs % 32 == 0
for t, coefficient, constant in (("fvcore", 445, 0), ("ptflops", 862, 1000),
                                 ("thop", 888, 2048), ("torchstat-flops", 585, 0)):
    h2 = hs[aligned].astype(float) ** 2
    expected = 100 * (coefficient * h2 + constant) / (81_456 * h2 + 2_048_000)
    assert np.allclose(curves[t][aligned], expected, rtol=1e-12, atol=0), t
    assert hs[np.argmin(curves[t])] == 33, t
assert round(curves["fvcore"][at[32] + 1], 2) == 0.41
"""),
("md", r"""
## Summary

* The big split is naming: FlopCounterMode, calflops and torchstat's `MAdd` count two
  operations per MAC, the other tools one, whatever they call it.
* Within a family the tools agree on convolutions and matrix products and differ only on the
  other layers: batch norm $0, 2C, 2n, 4n$; ReLU $0, n, 2n$; pools $0, n, 2n$ or per window;
  bias adds in or out. ptflops' doubles come from a module hook *and* a patched function
  firing for one layer.
* `lc.compare(report).explain(a, b)` writes any gap as a sum over layer kinds; on ResNet-50,
  fvcore $-$ torchvision $= 2n_{\mathrm{BN}} + n_{\mathrm{avg}} = 445\,HW$.
* How a layer is called matters: functional pools, modules called several times
  (torchstat keeps the last call), and residual `+` (no tool counts it). Say what a tool
  counted as zero (`report.uncounted(tool)`).
* Per-element gaps are a fixed fraction at every resolution; per-parameter gaps vanish.

## Exercises

1. Can you predict ptflops' count for a model that is a single ReLU on an
   $8 \times 16 \times 16$ input at batch 2, and confirm it with the toy mechanism and with
   layercalc?
2. Can you find the reference model where thop and fvcore differ the most, relatively, using
   the tools' own recorded outputs, and say which layer kind causes it?
3. Can you explain torchinfo's count for the probe `ConvTranspose2d(8, 4, 4, stride=2,
   padding=1)` on an $8 \times 8 \times 8$ input (132,096, against ptflops' 33,792)?
4. Can you say how much of GPT-2's work (1024 tokens) FlopCounterMode on CPU leaves out, and
   why?
5. Can you write fvcore's VGG-16 number honestly, saying what it counted as zero?

## Solutions

The solutions are collapsed in Jupyter (click the bar beside a cell to open it): try each
exercise first.
"""),
("md", r"""
**1.** The module hook sees `numel(output)` = $2 \cdot 2048$ and is divided by the batch:
2048. The patched `F.relu` sees the whole batch, 4096, and is not divided. Total
$2048 + 4096 = 6144$, one and a half times the batch's elements.
"""),
("code", r"""
batch_of_two = [v for _ in range(2) for v in flat]
total, parts = ptflops_like(ToyReLU(), batch_of_two, batch=2)
assert parts == {"hook": 4096, "functional": 4096} and total == 2048 + 4096 == 6144
assert lc.analyze(lc.ReLU(), (8, 16, 16), batch=2).flops("ptflops") == 6144
assert total / len(batch_of_two) == 1.5
"""),
("md", r"""
**2.** MobileNetV3-Small: thop says 62,477,944 and fvcore 59,649,536, 4.74% more. The gap
is thop's batch norms, 4 instead of 2 per element; in a network of depthwise convolutions
there are few MACs per activation, so the per-element charge weighs more than in ResNet
(0.54%) or VGG-16 without batch norm (0.0002%).
"""),
("code", r"""
relative_gap = {m: recorded("thop", model=m) / recorded("fvcore", model=m) - 1
                for m in PEERS["models"]}
worst = max(relative_gap, key=relative_gap.get)
assert worst == "mobilenet_v3_small" and round(100 * relative_gap[worst], 2) == 4.74
assert (recorded("thop", model=worst), recorded("fvcore", model=worst)) == (62_477_944, 59_649_536)
assert round(100 * relative_gap["resnet50"], 2) == 0.54
assert round(100 * relative_gap["vgg16"], 4) == 0.0002
gap = lc.compare(reports[worst], ["thop", "fvcore"]).difference("thop", "fvcore")
assert max(gap, key=gap.get) == "BatchNorm2d" and gap["BatchNorm2d"] / sum(gap.values()) > 0.99
"""),
("md", r"""
**3.** torchinfo multiplies the parameters, $8 \cdot 4 \cdot 4^2 + 4 = 516$, by the *output*
positions, $16 \times 16 = 256$: 132,096. But a transposed convolution's products happen on
the *input* grid: each of the $8 \cdot 8$ input positions meets $8 \cdot 4 \cdot 16$ weights,
32,768 MACs (ptflops adds the 1,024 bias adds: 33,792). The weight part is overcounted by
the ratio of output to input positions, $\text{stride}^2 = 4$.
"""),
("code", r"""
tconv = lc.analyze(lc.ConvTranspose2d(8, 4, 4, stride=2, padding=1), (8, 8, 8))
assert tconv.rows[0].output_shape == (4, 16, 16)
assert tconv.flops("torchinfo") == (8 * 4 * 16 + 4) * 256 == 132_096
assert tconv.flops("macs") == 8 * 8 * 8 * 4 * 16 == 32_768
assert tconv.flops("ptflops") == 32_768 + 4 * 256 == 33_792
assert (132_096 - 4 * 256) == 2**2 * 32_768
for t in RECORDED:
    assert tconv.flops(t) == recorded(t, probe="convtranspose2d_bias"), t
"""),
("md", r"""
**4.** GPT-2's attention runs through `F.scaled_dot_product_attention`, and on CPU
FlopCounterMode has no formula for the kernel it dispatches to, so it counts 0: it reports
252,993,601,536 where two per MAC would give 272,339,828,736, a gap of 19,346,227,200 FLOPs
(7.1%), all of it attention. `uncounted` lists it, along with the layer norms, GELUs,
residual adds and position embeddings, which FlopCounterMode never counts. (GPT-2 is not among the recorded models; this is
layercalc's preset, whose SDPA rule the probe `sdpa_functional` checks: 0.)
"""),
("code", r"""
gpt2 = lc.analyze(zoo.gpt2(), (1024,))
fcm = lc.compare(gpt2, ["2*macs", "flopcountermode"])
assert fcm.totals["flopcountermode"] == 252_993_601_536
assert fcm.totals["2*macs"] == 272_339_828_736
assert fcm.difference("2*macs", "flopcountermode") == {
    "ScaledDotProductAttention": 19_346_227_200}
assert round(100 * 19_346_227_200 / 272_339_828_736, 1) == 7.1
assert set(gpt2.uncounted("flopcountermode")) == {
    "ScaledDotProductAttention", "LayerNorm", "GELU", "Add", "PositionalEmbedding"}
assert recorded("flopcountermode", probe="sdpa_functional") == 0
assert lc.analyze(lc.Functional(lc.ScaledDotProductAttention(4, 16)),
                  (10, 64)).flops("flopcountermode") == 0
print(honest(gpt2, "flopcountermode"))
"""),
("md", r"""
**5.** fvcore reports 15,470,289,408 for VGG-16 and counts its 15 ReLUs (13.56 M exact
FLOPs) and 5 max pools (4.59 M) as zero: "15.47 G MACs (fvcore; ReLU and max pool not
counted, 18.15 M FLOPs of exact work)".
"""),
("code", r"""
vgg16 = reports["vgg16"]
assert vgg16.flops("fvcore") == recorded("fvcore", model="vgg16") == 15_470_289_408
left_out = vgg16.uncounted("fvcore")
assert left_out == {"ReLU": 13_555_712, "MaxPool2d": 4_591_104}
assert sum(1 for row in vgg16.rows if row.kind == "ReLU") == 15
assert sum(1 for row in vgg16.rows if row.kind == "MaxPool2d") == 5
assert round(sum(left_out.values()) / 1e6, 2) == 18.15
print(honest(vgg16, "fvcore"))
"""),
]
