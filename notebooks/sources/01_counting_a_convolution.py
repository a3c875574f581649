"""Source of notebooks/01_counting_a_convolution.ipynb (build: python notebooks/build.py)."""

CELLS = [
("md", r"""
# 1. Counting a convolution

A 2-D convolution is the workhorse of image networks, and every cost figure quoted for a CNN
(parameters, multiply-accumulates, FLOPs) is a sum of per-layer counts like the ones in this
notebook. We take one layer apart and count everything it does.

**After this notebook you will be able to**

* compute the output size of a convolution with padding, stride and dilation, and say why the
  formula has a floor in it;
* count its parameters and its multiply-accumulates (MACs) from the layer's shape;
* count its FLOPs exactly, with and without a bias, and explain where the famous "$-1$" comes
  from;
* read any FLOPs figure as one *convention* applied to the same counts, and compare every
  convention layercalc knows on one layer.

**How each formula is treated.** We derive it by hand (in LaTeX), let SymPy confirm it
symbolically through layercalc, check it against a brute-force Python loop that counts every
operation on a tiny case, and plot it. Every number the text relies on is an `assert`, so the
notebook fails loudly if a number is wrong.

The numbered *seeds* cited below are the five blog posts on model complexity this project
takes its requirements from: seed 000 and seed 003 give the exact FLOPs of a convolution,
seed 001 the output-size formula and a parameter table for AlexNet, seed 004 a worked MAC
count for a 3x3 layer.
"""),
("code", r"""
%matplotlib inline
import io
import itertools
from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import sympy as sp
from IPython.display import Image, Markdown, display
from PIL import Image as PILImage

import layercalc as lc

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
pd.set_option("display.max_colwidth", 70)
"""),
("md", r"""
## 1. Output size: padding, stride and dilation

Look at one spatial axis, the height (the width works the same way with its own numbers).
The input has $H$ positions and the layer adds $P$ zeros at each end, so the padded axis has
positions $0, 1, \dots, H + 2P - 1$.

A kernel of $K$ taps with dilation $D$ reads positions $s, s + D, \dots, s + D(K-1)$ when its
window starts at $s$: it spans $D(K-1) + 1$ positions, the *effective* kernel size. With
stride $S$ the window may start at $s = 0, S, 2S, \dots$, and a start is valid when its last
tap is still inside the padded axis:

$$ jS + D(K-1) \le H + 2P - 1 \quad\Longleftrightarrow\quad
   j \le \frac{H + 2P - D(K-1) - 1}{S}. $$

$j$ is a whole number, so the valid starts are $j = 0, 1, \dots,
\left\lfloor \frac{H + 2P - D(K-1) - 1}{S} \right\rfloor$. Counting them:

$$ \boxed{H_{out} = \left\lfloor \frac{H + 2P - D(K-1) - 1}{S} \right\rfloor + 1} $$

This is the formula of PyTorch's `Conv2d` documentation, quoted in seed 001 with the $+1$
written inside the floor (the same thing, since $\lfloor x + 1 \rfloor = \lfloor x \rfloor +
1$). It needs at least one window to fit, $H + 2P \ge D(K-1) + 1$; otherwise the layer is
invalid. The floor is why some input rows can be left out: when $H + 2P - D(K-1) - 1$ is not
a multiple of $S$, the last rows only fit a partial window, and partial windows are not
computed.

**SymPy confirms it.** layercalc keeps every size symbolic when you give it symbols
(`lc.symbols` makes positive-integer symbols):
"""),
("code", r"""
C_in, C_out, K, H, W, S, D = lc.symbols("C_in C_out K H W S D")
P = lc.symbols("P", positive=None, nonnegative=True)  # padding may be 0

conv = lc.Conv2d(C_in, C_out, K, stride=S, padding=P, dilation=D)
out_shape = conv.output_shape((C_in, H, W))

H_out = sp.floor((H + 2*P - D*(K - 1) - 1) / S) + 1      # the formula derived above
assert sp.simplify(out_shape[1] - H_out) == 0
assert sp.simplify(out_shape[2] - H_out.subs(H, W)) == 0
sp.Tuple(*out_shape)                                     # (channels, height, width)
"""),
("md", r"""
A few sizes you will meet again, each checked with the formula (`lc.evaluate` substitutes
numbers and returns an exact Python `int`):

| layer | input | $K, S, P, D$ | output |
|---|---|---|---|
| AlexNet's first conv (seed 001 prints $96 \times 55 \times 55$) | 224 | 11, 4, 2, 1 | 55 |
| ResNet's stem | 224 | 7, 2, 3, 1 | 112 |
| a "same" 3x3 conv (seed 004's example) | 112 | 3, 1, 1, 1 | 112 |
| a dilated 3x3 conv: dilation 2 needs padding 2 to keep the size | 112 | 3, 1, 2, 2 | 112 |
| a strided 3x3 conv on an odd input | 225 | 3, 2, 0, 1 | 112 |
"""),
("code", r"""
def h_out(h, k, s=1, p=0, d=1):
    return lc.evaluate(H_out, H=h, K=k, S=s, P=p, D=d)

assert h_out(224, 11, 4, 2) == 55        # (224 + 4 - 10 - 1) // 4 + 1 = 54 + 1
assert h_out(224, 7, 2, 3) == 112
assert h_out(112, 3, 1, 1) == 112
assert h_out(112, 3, 1, 2, 2) == 112
assert h_out(225, 3, 2, 0) == 112        # (225 - 3) / 2 = 111 exactly: 112 windows
assert type(h_out(224, 7, 2, 3)) is int
"""),
("md", r"""
**Brute force: enumerate the windows.** The function below knows nothing about floors: it
tries every start position on the padded axis and keeps those whose last tap fits. Drawing
the windows for a small case makes the formula visible (`#` marks the taps of each window,
`0` the padding):
"""),
("code", r"""
def window_starts(n, k, stride=1, padding=0, dilation=1):
    "Start positions of every window that fits inside the padded axis, found by trying them all."
    padded = n + 2 * padding
    starts = []
    for s in range(0, padded, stride):
        last_tap = s + dilation * (k - 1)
        if last_tap <= padded - 1:
            starts.append(s)
    return starts


def draw_windows(n, k, stride=1, padding=0, dilation=1):
    padded = n + 2 * padding
    print("position " + "".join(f"{i:>3}" for i in range(padded)))
    print("input    " + "".join("  0" if i < padding or i >= padding + n else "  x"
                                for i in range(padded)))
    for j, s in enumerate(window_starts(n, k, stride, padding, dilation)):
        taps = {s + dilation * t for t in range(k)}
        print(f"window {j} " + "".join("  #" if i in taps else "   " for i in range(padded)))


draw_windows(7, k=3, stride=2, padding=1, dilation=2)
assert len(window_starts(7, 3, 2, 1, 2)) == h_out(7, 3, 2, 1, 2) == 3
"""),
("md", r"""
Now every combination of input size $1..12$, kernel $1..5$, stride $1..3$, padding $0..2$
and dilation $1..3$ (1,620 cases). Three counts must agree: the enumeration, the hand formula
and layercalc's `Conv2d.output_shape`. The formula is evaluated for many cases at once with
`lc.sweep`, which compiles an expression into exact integer numpy code; it needs a number
for every divisor inside a floor, so we substitute each stride first. Where no window fits,
the formula gives a number $\le 0$ and layercalc must refuse the layer with a `ShapeError`.
"""),
("code", r"""
cases, formula = [], []
for s in range(1, 4):                       # one compiled sweep per stride (the divisor)
    block = list(itertools.product(range(1, 13), range(1, 6), [s], range(0, 3), range(1, 4)))
    n_, k_, _, p_, d_ = (np.array(column) for column in zip(*block))
    cases += block
    formula += list(lc.sweep(H_out.subs(S, s), H=n_, K=k_, P=p_, D=d_))

refused = 0
for (n, k, s, p, d), predicted in zip(cases, formula):
    count = len(window_starts(n, k, s, p, d))
    assert max(int(predicted), 0) == count, (n, k, s, p, d)
    layer = lc.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
    if count == 0:
        try:
            layer.output_shape((1, n, n))
        except lc.ShapeError:
            refused += 1
        else:
            raise AssertionError(f"layercalc accepted an empty output for {(n, k, s, p, d)}")
    else:
        assert layer.output_shape((1, n, n)) == (1, count, count)

assert len(cases) == 12 * 5 * 3 * 3 * 3 == 1620
print(f"{len(cases)} cases agree; {refused} of them have no window and are refused")
"""),
("md", r"""
**Plot.** Output size against input size: with stride 1 the formula is a straight line, with
stride $S$ the floor makes a staircase ($S$ consecutive inputs share each output size), and
dilation shifts the line down by the extra span $(D-1)(K-1)$.
"""),
("code", r"""
hs = np.arange(1, 41)
configs = {                      # label: (K, S, P, D)
    "3x3, stride 1, pad 1": (3, 1, 1, 1),
    "3x3, stride 2, pad 1": (3, 2, 1, 1),
    "5x5, stride 3, pad 1": (5, 3, 1, 1),
    "3x3, dilation 3, pad 0": (3, 1, 0, 3),
}
fig, ax = plt.subplots()
for label, (k, s, p, d) in configs.items():
    sizes = lc.sweep(H_out.subs({K: k, S: s, P: p, D: d}), H=hs)
    valid = sizes >= 1
    ax.step(hs[valid], sizes[valid], where="mid", label=label)
ax.set(xlabel="input size $H$", ylabel="output size $H_{out}$",
       title="Output size of a convolution")
ax.legend()
ax.grid(alpha=0.3)
show(fig)

stride_two = H_out.subs({K: 3, S: 2, P: 1, D: 1})
assert list(lc.sweep(stride_two, H=np.array([7, 8, 9, 10]))) == [4, 4, 5, 5]
"""),
("md", r"""
## 2. Parameters

Each output channel has one filter with a weight for every input channel and every one of the
$K \times K$ kernel positions, $C_{in} K^2$ weights, plus one bias. With $C_{out}$ filters:

$$ \boxed{\text{params} = C_{in} K^2 C_{out} + C_{out}} $$

Nothing here depends on $H$, $W$, the stride, the padding or the dilation: the same filters
slide over every position. Seed 000's example: a $96 \times 96 \times 3$ input and sixteen
$5 \times 5$ filters give $5 \cdot 5 \cdot 3 \cdot 16 + 16 = 1216$ parameters.
"""),
("code", r"""
cost = conv.cost((C_in, H, W))                 # the fully symbolic layer of section 1
assert sp.expand(cost.params - (C_in*K**2*C_out + C_out)) == 0
assert cost.params.free_symbols == {C_in, C_out, K}          # no H, W, S, P or D

seed000 = lc.Conv2d(3, 16, 5).cost((3, 96, 96))
assert seed000.params == 5*5*3*16 + 16 == 1216
assert lc.Conv2d(3, 16, 5, bias=False).cost((3, 96, 96)).params == 1200
cost.params
"""),
("md", r"""
## 3. Multiply-accumulates

One output element is a dot product between a filter and the input values under its window:
$C_{in} K^2$ products summed. A *multiply-accumulate* (MAC) is one step
$\text{acc} \leftarrow \text{acc} + w \cdot x$, so one output costs $C_{in} K^2$ MACs. Taps that
land on padding multiply a zero, but a dense kernel performs them anyway, and every counting
tool counts them. There are $H_{out} W_{out} C_{out}$ outputs:

$$ \boxed{\text{MACs} = C_{in} K^2 \cdot H_{out} W_{out} C_{out}} $$

Seed 004's example is a 3x3 layer from 64 to 128 channels on a $112 \times 112$ map with
"same" padding: $3 \cdot 3 \cdot 64 \cdot 112 \cdot 112 \cdot 128 = 924{,}844{,}032$ MACs.
Note the shape of the product: the *parameters* times the number of output positions. A conv
reuses each weight $H_{out} W_{out}$ times, which is why it is cheap in parameters and
expensive in compute (notebook 3 follows this through whole networks).

## 4. FLOPs, with and without a bias

A dot product of $n$ terms needs $n$ multiplies and $n - 1$ additions: adding up $n$ numbers
takes $n-1$ adds. With $n = C_{in} K^2$ that is $2 C_{in} K^2 - 1$ floating-point operations
per output. A bias adds one more addition per output, which exactly cancels the $-1$. Over all
$H W C_{out}$ outputs (writing $H, W$ for the output size, as seeds 000 and 003 do):

$$ \text{FLOPs}_{\text{no bias}} = (2 C_{in} K^2 - 1)\, H W C_{out} \qquad\qquad
   \text{FLOPs}_{\text{bias}} = 2 C_{in} K^2\, H W C_{out} $$

The same argument for a fully connected layer with $I$ inputs and $O$ outputs gives
$(2I - 1)\,O$ and $2I\,O$.

layercalc stores the facts separately, MACs, the number of dot products and the number of bias
adds, and its `exact` convention is $2\cdot\text{MACs} - \text{dots} + \text{bias adds}$
(plus any other operations, such as a ReLU's comparisons). **SymPy confirms all four
formulas** ("same" padding keeps the output at $H \times W$):
"""),
("code", r"""
with_bias = lc.Conv2d(C_in, C_out, K, padding="same").cost((C_in, H, W))
no_bias = lc.Conv2d(C_in, C_out, K, padding="same", bias=False).cost((C_in, H, W))

assert sp.expand(with_bias.macs - C_in*K**2 * H*W*C_out) == 0
assert sp.expand(lc.flops(no_bias, "exact") - (2*C_in*K**2 - 1)*H*W*C_out) == 0
assert sp.expand(lc.flops(with_bias, "exact") - 2*C_in*K**2*H*W*C_out) == 0
assert sp.expand(lc.flops(with_bias, "exact-no-bias") - (2*C_in*K**2 - 1)*H*W*C_out) == 0

I, O = lc.symbols("T_i T_o")  # seed 000's names: a symbol "I" would print as SymPy's i
assert sp.expand(lc.flops(lc.Linear(I, O, bias=False).cost((I,)), "exact") - (2*I - 1)*O) == 0
assert sp.expand(lc.flops(lc.Linear(I, O).cost((I,)), "exact") - 2*I*O) == 0

display(sp.factor(lc.flops(no_bias, "exact")), sp.factor(lc.flops(with_bias, "exact")))
"""),
("code", r"""
seed004 = lc.Conv2d(64, 128, 3, padding=1).cost((64, 112, 112))
assert seed004.macs == 3*3*64*112*112*128 == 924_844_032
outputs = 112 * 112 * 128
assert seed004.dots == seed004.bias_adds == outputs == 1_605_632
assert lc.flops(seed004, "exact") == (2*64*9) * outputs == 1_849_688_064
assert lc.flops(seed004, "exact-no-bias") == (2*64*9 - 1) * outputs == 1_848_082_432
print(f"MACs {seed004.macs:,}; exact FLOPs {lc.flops(seed004, 'exact'):,} with bias, "
      f"{lc.flops(seed004, 'exact-no-bias'):,} without")
"""),
("md", r"""
**Brute force: a convolution that counts.** The loop below really computes a convolution on
nested Python lists of small integers, and increments a counter at every multiply, every
accumulating add and every bias add. It also records which weights it touched. Nothing in it
uses a formula. We run it over 256 small layers (1 or 2 input channels, 1 or 3 filters,
1x1 or 3x3 kernels, two input sizes, stride 1 or 2, padding 0 or 1, dilation 1 or 2, with or
without bias) and compare every count with layercalc's `Cost`.
"""),
("code", r"""
def naive_conv2d(x, w, b=None, stride=1, padding=0, dilation=1):
    "x[c][i][j] input, w[o][c][u][v] weights, b[o] bias or None. Returns (output, counts)."
    c_in, h, wd = len(x), len(x[0]), len(x[0][0])
    c_out, k = len(w), len(w[0][0])

    def padded(c, i, j):                       # the input seen through the zero padding
        i, j = i - padding, j - padding
        return x[c][i][j] if 0 <= i < h and 0 <= j < wd else 0

    rows = window_starts(h, k, stride, padding, dilation)
    cols = window_starts(wd, k, stride, padding, dilation)
    counts = {"mul": 0, "add": 0, "bias_add": 0, "outputs": 0}
    touched = set()
    y = [[[0] * len(cols) for _ in rows] for _ in range(c_out)]
    for o in range(c_out):
        for r, si in enumerate(rows):
            for q, sj in enumerate(cols):
                acc = None
                for c in range(c_in):
                    for u in range(k):
                        for v in range(k):
                            product = w[o][c][u][v] * padded(c, si + dilation*u, sj + dilation*v)
                            counts["mul"] += 1
                            touched.add(("w", o, c, u, v))
                            if acc is None:
                                acc = product          # the first term needs no add
                            else:
                                acc = acc + product
                                counts["add"] += 1
                if b is not None:
                    acc = acc + b[o]
                    counts["bias_add"] += 1
                    touched.add(("b", o))
                y[o][r][q] = acc
                counts["outputs"] += 1
    counts["params"] = len(touched)
    return y, counts


rng = np.random.default_rng(0)                  # fixed seed: the notebook is reproducible
layers_checked = 0
for c_in, c_out, k, (h, wd), s, p, d, bias in itertools.product(
        [1, 2], [1, 3], [1, 3], [(5, 5), (6, 7)], [1, 2], [0, 1], [1, 2], [True, False]):
    x = rng.integers(-3, 4, size=(c_in, h, wd)).tolist()
    w = rng.integers(-3, 4, size=(c_out, c_in, k, k)).tolist()
    b = rng.integers(-3, 4, size=c_out).tolist() if bias else None
    y, counted = naive_conv2d(x, w, b, stride=s, padding=p, dilation=d)

    layer = lc.Conv2d(c_in, c_out, k, stride=s, padding=p, dilation=d, bias=bias)
    cost = layer.cost((c_in, h, wd))
    assert layer.output_shape((c_in, h, wd)) == (c_out, len(y[0]), len(y[0][0]))
    assert counted["params"] == cost.params
    assert counted["mul"] == cost.macs
    assert counted["outputs"] == cost.dots
    assert counted["bias_add"] == cost.bias_adds
    total = counted["mul"] + counted["add"] + counted["bias_add"]
    assert total == lc.flops(cost, "exact")
    assert counted["mul"] + counted["add"] == lc.flops(cost, "exact-no-bias")
    layers_checked += 1

assert layers_checked == 256
print(f"{layers_checked} layers: every multiply, add and bias add agrees with layercalc")
"""),
("md", r"""
One of those layers in detail: 2 input channels, 3 filters of 3x3, a $6 \times 7$ input,
stride 2, padding 1, with a bias. The output is $3 \times 3 \times 4$, so there are 36 dot
products of $n = 2 \cdot 9 = 18$ terms: $36 \cdot 18 = 648$ multiplies, $36 \cdot 17 = 612$
adds and 36 bias adds, $1296 = 2 \cdot 648$ FLOPs in all.
"""),
("code", r"""
x = rng.integers(-3, 4, size=(2, 6, 7)).tolist()
w = rng.integers(-3, 4, size=(3, 2, 3, 3)).tolist()
y, counted = naive_conv2d(x, w, b=[1, 0, -1], stride=2, padding=1)
assert (len(y), len(y[0]), len(y[0][0])) == (3, 3, 4)
assert counted == {"mul": 648, "add": 612, "bias_add": 36, "outputs": 36, "params": 57}
counted
"""),
("md", r"""
**Plot: how much does the $-1$ matter?** Counting $2 \cdot \text{MACs}$ (as many tools do)
instead of the exact $(2n - 1)$ per output overstates a bias-free layer by a factor
$\frac{2n}{2n-1}$, an error of $\frac{1}{2n - 1}$. For a standard 3x3 conv on 64 channels
($n = 576$) that is under 0.1%; for a *depthwise* 3x3 conv, where each dot product has only
$n = 9$ terms, it is $1/17 \approx 5.9\%$ (notebook 2 is about those layers).
"""),
("code", r"""
n = np.arange(1, 5001)
error_percent = 100 / (2 * n - 1)
marks = {"depthwise 3x3 (n = 9)": 9, "ResNet stem 7x7x3 (n = 147)": 147,
         "3x3 on 64 channels (n = 576)": 576, "3x3 on 512 channels (n = 4608)": 4608}
fig, ax = plt.subplots()
ax.loglog(n, error_percent)
for label, m in marks.items():
    ax.plot(m, 100 / (2 * m - 1), "o", label=label)
ax.set(xlabel="terms per dot product $n = C_{in}K^2$",
       ylabel="overcount of 2*MACs vs exact, %",
       title="The $-1$ matters only for short dot products")
ax.legend()
ax.grid(alpha=0.3, which="both")
show(fig)

assert Fraction(2 * 9, 2 * 9 - 1) - 1 == Fraction(1, 17)
assert round(100 / 17, 1) == 5.9 and 100 / (2 * 576 - 1) < 0.1
"""),
("md", r"""
## 5. One layer, every convention

"FLOPs" is not one number. Papers (ResNet, MobileNet) report MACs and call them FLOPs or
mult-adds; PyTorch's `FlopCounterMode` reports $2 \cdot \text{MACs}$; seeds 000 and 003 count
every multiply and add exactly; and each profiling tool has its own rules for biases,
activations and pools. layercalc counts the facts once and applies a named **convention**.
`lc.CONVENTIONS` is the registry; the four definitions (`exact`, `exact-no-bias`, `macs`,
`2*macs`) are joined by conventions named after tools, which reproduce each tool's headline
number. We iterate over the registry, so a convention added later appears here without any
edit.

Tool conventions count per layer kind, so they need a `Report` (the traced layer rows), not
a bare `Cost`: we analyse the layer and apply each convention to the report.
"""),
("code", r"""
layer = lc.Conv2d(64, 128, 3, padding=1)          # seed 004's layer, with a bias
report = lc.analyze(layer, (64, 112, 112))
macs, outputs = report.total.macs, report.total.dots

rows = []
for name, convention in lc.CONVENTIONS.items():
    value = lc.flops(report, name)
    rows.append({
        "convention": name,
        "FLOPs": f"{value:,}",
        "per output": Fraction(value, outputs),         # in units of one output element
        "FLOPs / MACs": round(value / macs, 4),
        "who counts this way": getattr(convention, "tool", "") or convention.source,
    })
table = pd.DataFrame(rows).set_index("convention")
table
"""),
("md", r"""
The "per output" column says it all: with $n = C_{in} K^2 = 576$ terms per dot product,
every convention charges each output element $n$ (MACs), $n + 1$ (MACs plus the bias add),
$2n - 1$ (exact, bias ignored), $2n$ (exact with bias, or $2 \cdot$ MACs) or $2n + 1$
($2 \cdot$ MACs plus the bias). So whatever a tool calls FLOPs, for a convolution it lies
between MACs and $2 \cdot \text{MACs} + \text{bias adds}$: a factor of two, from naming
alone. The same table in symbols makes the per-output charge explicit:
"""),
("code", r"""
n = sp.Symbol("n", positive=True, integer=True)            # n = C_in * K**2
symbolic_report = lc.analyze(lc.Conv2d(C_in, C_out, K, padding="same"), (C_in, H, W))
lines = ["| convention | FLOPs | per output, with $n = C_{in}K^2$ |", "|---|---|---|"]
per_output = {}
for name in lc.CONVENTIONS:
    value = lc.flops(symbolic_report, name)
    per_output[name] = sp.expand(value / (C_out * H * W)).subs(C_in, n / K**2)
    lines.append(f"| `{name}` | ${sp.latex(sp.factor(value))}$ | ${sp.latex(per_output[name])}$ |")
display(Markdown("\n".join(lines)))

assert per_output["exact"] == 2*n and per_output["exact-no-bias"] == 2*n - 1
assert per_output["macs"] == n and per_output["2*macs"] == 2*n
for name, charge in per_output.items():        # every convention, including tool-named ones
    assert charge in {n, n + 1, 2*n - 1, 2*n, 2*n + 1}, (name, charge)
"""),
("code", r"""
expected = {"exact": 1_849_688_064, "exact-no-bias": 1_848_082_432,
            "macs": 924_844_032, "2*macs": 1_849_688_064}
for name, value in expected.items():
    assert lc.flops(report, name) == value, name
for name in lc.CONVENTIONS:
    value = lc.flops(report, name)
    assert type(value) is int
    assert macs <= value <= 2 * macs + report.total.bias_adds, name

names = list(lc.CONVENTIONS)
ratios = [lc.flops(report, name) / macs for name in names]
fig, ax = plt.subplots(figsize=(6, 0.8 + 0.3 * len(names)))
ax.barh(names, ratios, color=["C0" if r < 1.5 else "C1" for r in ratios])
ax.invert_yaxis()
ax.axvline(1, color="k", lw=0.8)
ax.axvline(2, color="k", lw=0.8)
ax.set(xlabel="FLOPs / MACs", title="3x3 conv, 64 -> 128 channels, 112x112, with bias")
show(fig)
"""),
("md", r"""
## Summary

* $H_{out} = \lfloor (H + 2P - D(K-1) - 1)/S \rfloor + 1$: count the window starts that fit.
* params $= C_{in} K^2 C_{out} + C_{out}$, independent of the input size.
* MACs $= C_{in} K^2 H_{out} W_{out} C_{out}$: parameters times output positions.
* exact FLOPs $= (2C_{in}K^2 - 1) H_{out} W_{out} C_{out}$, or $2 C_{in}K^2 H_{out} W_{out}
  C_{out}$ with a bias; "FLOPs" in the wild is any of $n$, $n+1$, $2n-1$, $2n$, $2n+1$ per
  output. Always ask which convention a number uses.

## Exercises

1. Can you find the output size of a 3x3 convolution with stride 2 and padding 1 on a
   $225 \times 225$ input, and confirm it by enumerating the windows?
2. Can you count the exact FLOPs of a fully connected layer from 4096 to 1000 features, with
   and without its bias, and check them against $2IO$ and $(2I-1)O$?
3. Can you find, with SymPy, the padding that keeps the size of a stride-1 convolution with
   kernel $K$ and dilation $D$ unchanged, and evaluate it for $K = 5, D = 2$?
4. Can you find the smallest dot-product length $n$ for which counting $2 \cdot$ MACs
   overstates the exact bias-free FLOPs by less than 1%?
5. Can you reproduce seed 001's parameter count for AlexNet's first layer (3 to 96 channels,
   11x11, stride 4, padding 2, no bias) and count its MACs on a 224x224 image?

## Solutions

The solutions are collapsed in Jupyter (click the bar beside a cell to open it): try each
exercise first.
"""),
("md", r"""
**1.** $\lfloor (225 + 2 - 3)/2 \rfloor + 1 = 112 + 1 = 113$.
"""),
("code", r"""
assert h_out(225, 3, s=2, p=1) == len(window_starts(225, 3, 2, 1)) == 113
assert lc.Conv2d(3, 8, 3, stride=2, padding=1).output_shape((3, 225, 225)) == (8, 113, 113)
"""),
("md", r"""
**2.** Each of the 1000 outputs is a dot product of 4096 terms: $(2 \cdot 4096 - 1) \cdot 1000
= 8{,}191{,}000$ FLOPs without the bias and $2 \cdot 4096 \cdot 1000 = 8{,}192{,}000$ with it.
"""),
("code", r"""
fc = lc.Linear(4096, 1000)
assert lc.flops(fc.cost((4096,)), "exact") == 2 * 4096 * 1000 == 8_192_000
assert lc.flops(fc.cost((4096,)), "exact-no-bias") == (2 * 4096 - 1) * 1000 == 8_191_000
assert fc.cost((4096,)).params == 4096 * 1000 + 1000
"""),
("md", r"""
**3.** With $S = 1$ the floor disappears: $H_{out} = H + 2P - D(K-1)$, which equals $H$ when
$P = D(K-1)/2$ (an integer for odd $K$). For $K = 5, D = 2$: $P = 4$.
"""),
("code", r"""
stride_one = H_out.subs(S, 1)
solution = sp.solve(sp.Eq(stride_one, H), P)
assert len(solution) == 1 and sp.simplify(solution[0] - D * (K - 1) / 2) == 0
assert solution[0].subs({K: 5, D: 2}) == 4
assert lc.Conv2d(1, 1, 5, padding=4, dilation=2).output_shape((1, 37, 37)) == (1, 37, 37)
solution[0]
"""),
("md", r"""
**4.** The overcount is $\frac{1}{2n-1} < \frac{1}{100}$, i.e. $2n - 1 > 100$, so $n \ge 51$.
"""),
("code", r"""
smallest = next(m for m in itertools.count(1) if Fraction(2 * m, 2 * m - 1) - 1 < Fraction(1, 100))
assert smallest == 51
"""),
("md", r"""
**5.** $11 \cdot 11 \cdot 3 \cdot 96 = 34{,}848$ weights, seed 001's torchsummary row for
`Conv2d-1`. The output is $96 \times 55 \times 55$, so the MACs are $34{,}848 \cdot 55^2 =
105{,}415{,}200$.
"""),
("code", r"""
first = lc.Conv2d(3, 96, 11, stride=4, padding=2, bias=False)
assert first.output_shape((3, 224, 224)) == (96, 55, 55)
assert first.cost((3, 224, 224)).params == 11 * 11 * 3 * 96 == 34_848
assert first.cost((3, 224, 224)).macs == 34_848 * 55 * 55 == 105_415_200
"""),
]
