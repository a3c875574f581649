"""Source of notebooks/02_depthwise_separable.ipynb (build: python notebooks/build.py)."""

CELLS = [
("md", r"""
# 2. Why depthwise-separable convolutions are cheap

Notebook 1 showed that a standard convolution costs $C_{in} K^2 C_{out}$ multiply-accumulates
per output position: every output channel looks at every input channel through a full
$K \times K$ window. The efficient architectures of the last decade (ResNeXt, Inception,
Xception, MobileNet) all break that product apart. This notebook measures exactly how much
each trick saves.

**After this notebook you will be able to**

* derive the $1/g$ saving of a grouped convolution;
* derive the cost ratio $\frac{1}{C_{out}} + \frac{1}{K^2}$ of a depthwise-separable
  convolution and reproduce seed 004's worked example (an 8.4x saving);
* compute the savings of Inception's factorisations: a $5\times5$ into two $3\times3$
  ($18/25$) and an $n\times n$ into $1\times n$ then $n\times1$ ($2/n$), and check that the
  receptive field is unchanged;
* treat MobileNet's width and resolution multipliers $\alpha, \rho$ as symbols and get the
  whole network's mult-adds as a polynomial in them, matching the paper's tables.

As in notebook 1, each formula is derived by hand, confirmed by SymPy through layercalc,
checked against a brute-force loop that counts every multiply, and plotted; every number the
text uses is asserted. Costs are MACs (one multiply-add each; papers call them mult-adds),
without biases, unless said otherwise.
"""),
("code", r"""
%matplotlib inline
import io
import itertools
from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
from IPython.display import Image, display
from PIL import Image as PILImage

import layercalc as lc
from layercalc import blocks, zoo

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
"""),
("md", r"""
**A brute-force counter for this notebook.** The loop below computes a (grouped, possibly
non-square) convolution on nested lists and counts every multiply. Output channel $o$ belongs
to group $\lfloor o / (C_{out}/g) \rfloor$ and reads only the $C_{in}/g$ input channels of that
group. Window positions are found by trying every start, as in notebook 1; no cost formula is
used anywhere.
"""),
("code", r"""
def starts(n, k, stride, pad):
    "Every window start that fits on an axis of n positions padded by `pad` at each end."
    return [s for s in range(0, n + 2 * pad, stride) if s + k <= n + 2 * pad]


def naive_conv2d(x, w, groups=1, stride=1, padding=(0, 0)):
    "x[c][i][j]; w[o][c'][u][v] with c' over the C_in/groups channels of o's group."
    c_in, h, wd = len(x), len(x[0]), len(x[0][0])
    c_out, per_group, kh, kw = len(w), len(w[0]), len(w[0][0]), len(w[0][0][0])
    assert per_group * groups == c_in and c_out % groups == 0
    outs_per_group = c_out // groups
    ph, pw = padding

    def at(c, i, j):
        i, j = i - ph, j - pw
        return x[c][i][j] if 0 <= i < h and 0 <= j < wd else 0

    rows, cols = starts(h, kh, stride, ph), starts(wd, kw, stride, pw)
    y = [[[0] * len(cols) for _ in rows] for _ in range(c_out)]
    multiplies = 0
    for o in range(c_out):
        first = (o // outs_per_group) * per_group       # first input channel of o's group
        for r, si in enumerate(rows):
            for q, sj in enumerate(cols):
                acc = 0
                for c in range(per_group):
                    for u in range(kh):
                        for v in range(kw):
                            acc += w[o][c][u][v] * at(first + c, si + u, sj + v)
                            multiplies += 1
                y[o][r][q] = acc
    return y, multiplies


rng = np.random.default_rng(2)                       # fixed seed: reproducible


def random_input(c, h, w):
    return rng.integers(-2, 3, size=(c, h, w)).tolist()


def random_weights(c_out, c_per_group, kh, kw):
    return rng.integers(-2, 3, size=(c_out, c_per_group, kh, kw)).tolist()
"""),
("md", r"""
## 1. Grouped convolution: $1/g$

A grouped convolution splits the $C_{in}$ input channels into $g$ groups and the $C_{out}$
filters into $g$ groups; each group of filters sees only its own $C_{in}/g$ input channels
(seed 001 describes this). It is $g$ independent standard convolutions of $C_{in}/g$ to
$C_{out}/g$ channels:

$$ \text{params} = g \cdot K^2 \frac{C_{in}}{g} \frac{C_{out}}{g} = \frac{K^2 C_{in}
   C_{out}}{g}, \qquad \text{MACs} = g \cdot \frac{C_{in}}{g} K^2 \cdot H_{out} W_{out}
   \frac{C_{out}}{g} = \frac{C_{in} K^2 H_{out} W_{out} C_{out}}{g}. $$

Both shrink by exactly $1/g$. SymPy agrees, for a symbolic number of groups:
"""),
("code", r"""
C, N, K, H, W, g = lc.symbols("C N K H W g")
standard = lc.Conv2d(C, N, K, padding="same", bias=False).cost((C, H, W))
grouped = lc.Conv2d(C, N, K, padding="same", groups=g, bias=False).cost((C, H, W))

assert lc.ratio(grouped, standard) == 1 / g
assert lc.ratio(grouped, standard, field="params") == 1 / g
display(grouped.macs, lc.ratio(grouped, standard))
"""),
("md", r"""
**Brute force.** An 8-to-8-channel 3x3 convolution on a $6 \times 6$ input, with every
number of groups that divides 8:
"""),
("code", r"""
x = random_input(8, 6, 6)
counted = {}
for groups in (1, 2, 4, 8):
    w = random_weights(8, 8 // groups, 3, 3)
    _, counted[groups] = naive_conv2d(x, w, groups=groups, padding=(1, 1))
    assert counted[groups] == lc.Conv2d(8, 8, 3, padding=1, groups=groups).cost((8, 6, 6)).macs
    assert Fraction(counted[groups], counted[1]) == Fraction(1, groups)
counted
"""),
("code", r"""
gs = np.array([1, 2, 4, 8, 16, 32, 64])
fig, ax = plt.subplots()
ax.plot(gs, 1 / gs, "o-", label="grouped 3x3, 64 -> 64 channels")
ax.set(xscale="log", yscale="log", xlabel="groups $g$", ylabel="MACs / standard conv MACs",
       title="A grouped convolution costs $1/g$")
ax.set_xticks(gs, [str(v) for v in gs])
ax.annotate("$g = C_{in}$: depthwise", (64, 1 / 64), (8, 1 / 48), arrowprops={"arrowstyle": "->"})
ax.grid(alpha=0.3, which="both")
ax.legend()
show(fig)

ratios = [Fraction(lc.Conv2d(64, 64, 3, padding=1, groups=int(v)).cost((64, 56, 56)).macs,
                   lc.Conv2d(64, 64, 3, padding=1).cost((64, 56, 56)).macs) for v in gs]
assert ratios == [Fraction(1, int(v)) for v in gs]
"""),
("md", r"""
## 2. Depthwise-separable convolution: $\frac{1}{C_{out}} + \frac{1}{K^2}$

The extreme case $g = C_{in}$ (with $C_{out} = C_{in}$) is a **depthwise** convolution: one
$K \times K$ filter per channel, no mixing between channels. A depthwise-separable layer
follows it with a **pointwise** $1 \times 1$ convolution that mixes channels (Howard et al.
2017, Sec. 3.1; seeds 001 and 004). With $C$ input and $N$ output channels on an $H \times W$
output:

$$ \text{MACs}_{dw} = K^2 \, C \, H W, \qquad \text{MACs}_{pw} = C \, N \, H W, \qquad
   \text{MACs}_{std} = K^2 C N \, H W $$

$$ \frac{\text{MACs}_{dw} + \text{MACs}_{pw}}{\text{MACs}_{std}}
   = \frac{K^2 C H W + C N H W}{K^2 C N H W} = \boxed{\frac{1}{N} + \frac{1}{K^2}} $$

The parameters ($K^2 C + C N$ against $K^2 C N$) shrink by the same ratio. Seed 004 writes
the separable cost as $C\,H W\,(K^2 + N)$, the same thing factorised. With $K = 3$ and
$N$ in the hundreds the ratio is a little above $1/9$: a depthwise-separable layer is
8 to 9 times cheaper.
"""),
("code", r"""
depthwise = lc.Conv2d(C, C, K, padding="same", groups=C, bias=False).cost((C, H, W))
pointwise = lc.Conv2d(C, N, 1, bias=False).cost((C, H, W))
separable = depthwise + pointwise

assert sp.expand(depthwise.macs - K**2 * C * H * W) == 0
assert sp.expand(pointwise.macs - C * N * H * W) == 0
assert sp.expand(separable.macs - C * H * W * (K**2 + N)) == 0       # seed 004's factorised form
assert sp.simplify(lc.ratio(separable, standard) - (1 / N + 1 / K**2)) == 0
assert sp.simplify(lc.ratio(separable, standard, field="params") - (1 / N + 1 / K**2)) == 0
lc.ratio(separable, standard)
"""),
("md", r"""
**Seed 004's example**: a 3x3 layer from 64 to 128 channels on $112 \times 112$.

| layer | MACs |
|---|---:|
| 3x3 depthwise, $3 \cdot 3 \cdot 64 \cdot 112 \cdot 112$ | 7,225,344 |
| 1x1 pointwise, $64 \cdot 112 \cdot 112 \cdot 128$ | 102,760,448 |
| depthwise separable, total | 109,985,792 |
| standard 3x3 | 924,844,032 |

The saving is $924{,}844{,}032 / 109{,}985{,}792 = 8.41$, exactly $1 / (\frac{1}{128} +
\frac{1}{9})$. `blocks.DepthwiseSeparableConv2d` builds the pair (with BatchNorm and ReLU, as
in MobileNet, unless told otherwise).
"""),
("code", r"""
x = (64, 112, 112)
dw = lc.Conv2d(64, 64, 3, padding=1, groups=64, bias=False).cost(x).macs
pw = lc.Conv2d(64, 128, 1, bias=False).cost(x).macs
std = lc.Conv2d(64, 128, 3, padding=1, bias=False).cost(x).macs
block = lc.analyze(blocks.DepthwiseSeparableConv2d(64, 128, norm=False, activation=None), x)

assert dw == 3 * 3 * 64 * 112 * 112 == 7_225_344
assert pw == 64 * 112 * 112 * 128 == 102_760_448
assert dw + pw == block.total.macs == 109_985_792
assert std == 924_844_032
assert Fraction(dw + pw, std) == Fraction(1, 128) + Fraction(1, 9)
assert round(std / (dw + pw), 2) == 8.41
print(f"saving: {std / (dw + pw):.2f}x")
"""),
("md", r"""
**Brute force.** Depthwise then pointwise, computed and counted by the naive loop, against a
standard convolution on the same input; for several channel counts and kernel sizes the
ratio of the counted multiplies is exactly $\frac{1}{N} + \frac{1}{K^2}$:
"""),
("code", r"""
for c, n, k in itertools.product([2, 3], [4, 6], [1, 3, 5]):
    x = random_input(c, 7, 7)
    p = (k // 2, k // 2)
    y, dw_count = naive_conv2d(x, random_weights(c, 1, k, k), groups=c, padding=p)
    _, pw_count = naive_conv2d(y, random_weights(n, c, 1, 1))
    _, std_count = naive_conv2d(x, random_weights(n, c, k, k), padding=p)
    assert Fraction(dw_count + pw_count, std_count) == Fraction(1, n) + Fraction(1, k * k)
    assert dw_count + pw_count == lc.analyze(
        blocks.DepthwiseSeparableConv2d(c, n, k, norm=False, activation=None), (c, 7, 7)).total.macs
print("12 configurations: counted ratio == 1/N + 1/K^2")
"""),
("code", r"""
ns = np.logspace(0, 3, 200)
fig, ax = plt.subplots()
for k in (3, 5, 7):
    line, = ax.plot(ns, 1 / ns + 1 / k**2, label=f"$K = {k}$")
    ax.axhline(1 / k**2, color=line.get_color(), ls=":", lw=1)
ax.plot(128, 1 / 128 + 1 / 9, "ko", label="seed 004: $N = 128, K = 3$")
ax.set(xscale="log", yscale="log", xlabel="output channels $N$",
       ylabel="separable / standard MACs",
       title="Depthwise separable: $1/N + 1/K^2$ (dotted: $1/K^2$)")
ax.grid(alpha=0.3, which="both")
ax.legend()
show(fig)
"""),
("md", r"""
For large $N$ the curve flattens at $1/K^2$: the pointwise layer then does almost all the
work, $\frac{N}{N + K^2}$ of it. In seed 004's example that is $128/137 = 93.4\%$. Bigger
kernels get relatively cheaper, which is why later mobile networks afford $5 \times 5$
depthwise filters.
"""),
("code", r"""
assert Fraction(pw, dw + pw) == Fraction(128, 137)
assert round(100 * pw / (dw + pw), 1) == 93.4
"""),
("md", r"""
## 3. Factorising large kernels (Inception)

Seed 001 lists two tricks from the Inception family: Inception v2 replaces a $5 \times 5$
convolution by two stacked $3 \times 3$ convolutions, and Inception v3 replaces an
$n \times n$ convolution by a $1 \times n$ followed by an $n \times 1$ (Szegedy et al. 2016,
"Rethinking the Inception Architecture", Secs. 3.1 and 3.2). With the same number $C$ of channels everywhere and "same" padding, per output
position:

$$ \frac{\text{two } 3\times3}{5 \times 5} = \frac{2 \cdot 9\, C^2}{25\, C^2}
   = \boxed{\frac{18}{25}}, \qquad
   \frac{1\times n + n\times 1}{n \times n} = \frac{2n\, C^2}{n^2 C^2} = \boxed{\frac{2}{n}}. $$

The same ratios hold for the parameters. More generally $\frac{n-1}{2}$ stacked $3 \times 3$
layers reach an $n \times n$ window for $\frac{9(n-1)/2}{n^2}$ of the cost (VGG's argument:
three $3 \times 3$ layers instead of one $7 \times 7$ cost $27/49$).

`blocks.factorized_5x5` and `blocks.factorized_nxn` build the two factorisations; SymPy
confirms the ratios for every input size and channel count:
"""),
("code", r"""
five = lc.Conv2d(C, C, 5, padding=2, bias=False).cost((C, H, W))
two_threes = lc.analyze(blocks.factorized_5x5(C, C), (C, H, W)).total
assert lc.ratio(two_threes, five) == Fraction(18, 25)
assert lc.ratio(two_threes, five, field="params") == Fraction(18, 25)

asymmetric = {}
for n in (3, 5, 7, 9):
    full = lc.Conv2d(C, C, n, padding=n // 2, bias=False).cost((C, H, W))
    fac = lc.analyze(blocks.factorized_nxn(C, C, n), (C, H, W)).total
    asymmetric[n] = lc.ratio(fac, full)
    assert asymmetric[n] == Fraction(2, n)
display(lc.ratio(two_threes, five), asymmetric)
"""),
("md", r"""
**Brute force, twice.** First the receptive field: we enumerate which input pixels can reach
one output pixel through the stacked layers (stride 1, offsets measured from the centre).
Two $3 \times 3$ layers, and a $1 \times n$ followed by an $n \times 1$, reach exactly the
same square as the big kernel. Then the multiplies, counted by the naive loop on a
$9 \times 9$ input with 2 channels.
"""),
("code", r"""
def receptive_field(kernels):
    "Input offsets that reach the output pixel at (0, 0) through stride-1 'same' convolutions."
    field = {(0, 0)}
    for kh, kw in kernels:
        field = {(i + u - kh // 2, j + v - kw // 2)
                 for i, j in field for u in range(kh) for v in range(kw)}
    return field


def square(n):
    return {(i, j) for i in range(-(n // 2), n // 2 + 1) for j in range(-(n // 2), n // 2 + 1)}


assert receptive_field([(3, 3), (3, 3)]) == receptive_field([(5, 5)]) == square(5)
assert receptive_field([(3, 3)] * 3) == square(7)
for n in (3, 5, 7, 9):
    assert receptive_field([(1, n), (n, 1)]) == square(n)

x = random_input(2, 9, 9)
y, a = naive_conv2d(x, random_weights(2, 2, 3, 3), padding=(1, 1))
_, b = naive_conv2d(y, random_weights(2, 2, 3, 3), padding=(1, 1))
_, full = naive_conv2d(x, random_weights(2, 2, 5, 5), padding=(2, 2))
assert Fraction(a + b, full) == Fraction(18, 25)
for n in (3, 5, 7, 9):
    y, a = naive_conv2d(x, random_weights(2, 2, 1, n), padding=(0, n // 2))
    _, b = naive_conv2d(y, random_weights(2, 2, n, 1), padding=(n // 2, 0))
    _, full = naive_conv2d(x, random_weights(2, 2, n, n), padding=(n // 2, n // 2))
    assert Fraction(a + b, full) == Fraction(2, n)
print("receptive fields and counted multiplies agree")
"""),
("code", r"""
sizes = np.array([3, 5, 7, 9, 11])
stacked = [Fraction(9 * (n - 1) // 2, n * n) for n in sizes]
asym = [Fraction(2, n) for n in sizes]
fig, ax = plt.subplots()
width = 0.38
ax.bar(np.arange(len(sizes)) - width / 2, [float(v) for v in stacked], width,
       label=r"$(n-1)/2$ stacked $3\times3$")
ax.bar(np.arange(len(sizes)) + width / 2, [float(v) for v in asym], width,
       label=r"$1\times n$ then $n\times 1$")
ax.set_xticks(np.arange(len(sizes)), [f"{n}x{n}" for n in sizes])
ax.axhline(1, color="k", lw=0.8)
ax.set(xlabel="kernel replaced", ylabel="cost / cost of the $n \\times n$ conv",
       title="Factorised kernels, equal channels")
ax.legend(loc="upper right")
show(fig)

assert stacked[1] == Fraction(18, 25) and stacked[2] == Fraction(27, 49)
assert stacked[0] == 1 and asym[0] == Fraction(2, 3)    # at 3x3 neither trick pays much
"""),
("md", r"""
## 4. MobileNet's width and resolution multipliers as symbols

MobileNet v1 (Howard et al. 2017) is a $3 \times 3$ stem convolution, 13
depthwise-separable layers, a global average pool and one fully connected layer. The paper
introduces two knobs: a **width multiplier** $\alpha$ that scales every channel count
($M \to \alpha M$, $N \to \alpha N$) and a **resolution multiplier** $\rho$ that scales the
input and so every feature map ($D_F \to \rho D_F$). For one separable layer with kernel $D_K$
(the paper's notation):

$$ \text{MACs} = D_K^2 \cdot \alpha M \cdot \rho^2 D_F^2 + \alpha M \cdot \alpha N \cdot
   \rho^2 D_F^2 . $$

The pointwise term scales with $\alpha^2 \rho^2$ and the depthwise term with $\alpha
\rho^2$; since the pointwise term dominates (previous section), the cost falls "roughly" as
$\alpha^2 \rho^2$. SymPy reproduces the layer formula by substituting into layercalc's count:
"""),
("code", r"""
M, N_, D_K, D_F = lc.symbols("M N D_K D_F")
alpha, rho = sp.symbols("alpha rho", positive=True)
layer = (lc.Conv2d(M, M, D_K, padding="same", groups=M, bias=False).cost((M, D_F, D_F))
         + lc.Conv2d(M, N_, 1, bias=False).cost((M, D_F, D_F)))
scaled = layer.macs.subs({M: alpha * M, N_: alpha * N_, D_F: rho * D_F}, simultaneous=True)
paper = D_K**2 * alpha * M * rho**2 * D_F**2 + alpha * M * alpha * N_ * rho**2 * D_F**2
assert sp.expand(scaled - paper) == 0
sp.factor(scaled)
"""),
("md", r"""
**The whole network, in closed form.** `zoo.mobilenet_v1(width_mult)` accepts a symbolic
multiplier (channel counts become $\lfloor c\,\alpha \rfloor$, the paper's `int(c * alpha)`).
Every channel count in MobileNet v1 is a multiple of 32, so writing $\alpha = k/32$ with an
integer symbol $k$ makes every floor exact, and an input of $R \times R$ with $R$ a multiple
of 32 makes every feature-map size exact too (`lc.assume_divisible`). The model is built with
`norm=False` because the paper counts no BatchNorm parameters (BatchNorm adds no MACs either
way). The result is a polynomial:
"""),
("code", r"""
k, R = lc.symbols("k R")                          # alpha = k/32, input R x R
report = lc.analyze(zoo.mobilenet_v1(k / 32, norm=False), (3, R, R))
macs_kR = lc.assume_divisible(report.total.macs, {R: 32})
params_k = report.total.params

macs_alpha_rho = sp.expand(macs_kR.subs({k: 32 * alpha, R: 224 * rho}))
params_alpha = sp.expand(params_k.subs(k, 32 * alpha))
assert macs_alpha_rho == (539_492_352 * alpha**2 * rho**2 + 28_224_000 * alpha * rho**2
                          + 1_024_000 * alpha)
assert params_alpha == 3_139_584 * alpha**2 + 1_069_504 * alpha + 1000
assert R not in params_k.free_symbols                  # resolution does not change the parameters
display(macs_alpha_rho, params_alpha)
"""),
("md", r"""
Reading the polynomial: $539{,}492{,}352\,\alpha^2\rho^2$ are the pointwise convolutions,
$28{,}224{,}000\,\alpha\rho^2$ the depthwise convolutions and the stem (which has 3 input
channels, so it is linear in $\alpha$), and $1{,}024{,}000\,\alpha$ the classifier, which
sees a pooled $1024\alpha$-vector whatever the resolution. At $\alpha = \rho = 1$ the
quadratic term is 94.9% of the total, so the elasticity $\frac{\partial \log
\text{MACs}}{\partial \log \alpha}$ is 1.95 rather than exactly 2 (`lc.sensitivity`).

**Against the paper.** Howard et al. 2017, Table 6 (width) and Table 7 (resolution), in
millions; the same rows are verified in `tests/test_zoo_golden.py`. The paper rounds 290.68M
down to 290 for MobileNet-160 (TF-slim's release lists 291), so that row is allowed one unit.

| model | $\alpha$ | $R$ | mult-adds (M) | params (M) |
|---|---|---|---:|---:|
| 1.0 MobileNet-224 | 1 | 224 | 569 | 4.2 |
| 0.75 MobileNet-224 | 0.75 | 224 | 325 | 2.6 |
| 0.5 MobileNet-224 | 0.5 | 224 | 149 | 1.3 |
| 0.25 MobileNet-224 | 0.25 | 224 | 41 | 0.5 |
| 1.0 MobileNet-192 | 1 | 192 | 418 | 4.2 |
| 1.0 MobileNet-160 | 1 | 160 | 290 | 4.2 |
| 1.0 MobileNet-128 | 1 | 128 | 186 | 4.2 |
"""),
("code", r"""
paper_rows = [  # (alpha, R, mult-adds in millions, params in millions, tolerance)
    (1, 224, 569, 4.2, 0), (0.75, 224, 325, 2.6, 0), (0.5, 224, 149, 1.3, 0),
    (0.25, 224, 41, 0.5, 0), (1, 192, 418, 4.2, 0), (1, 160, 290, 4.2, 1), (1, 128, 186, 4.2, 0),
]
for a, res, mmacs, mparams, tol in paper_rows:
    macs_value = lc.evaluate(macs_kR, k=int(32 * a), R=res)
    params_value = lc.evaluate(params_k, k=int(32 * a))
    assert abs(round(macs_value / 1e6) - mmacs) <= tol, (a, res, macs_value)
    assert round(params_value / 1e5) / 10 == mparams, (a, params_value)

assert lc.evaluate(macs_kR, k=32, R=224) == 568_740_352
assert lc.evaluate(params_k, k=32) == 4_210_088
assert lc.evaluate(macs_kR, k=32, R=160) == 290_675_200
elasticity = lc.sensitivity(macs_alpha_rho, alpha).subs({alpha: 1, rho: 1})
assert elasticity == Fraction(2_164_517, 1_110_821) and round(float(elasticity), 2) == 1.95
assert round(539_492_352 / 568_740_352, 3) == 0.949
"""),
("md", r"""
**Brute force.** The polynomial claims to be exact at every $\alpha = k/32$ and every $R$ that
is a multiple of 32. We check all $32 \times 4$ combinations against layercalc's plain numeric
count of the network built with that width (layer by layer, integers only):
"""),
("code", r"""
checked = 0
for kk in range(1, 33):
    for res in (128, 160, 192, 224):
        numeric = lc.analyze(zoo.mobilenet_v1(kk / 32, norm=False), (3, res, res)).total
        assert numeric.macs == lc.evaluate(macs_kR, k=kk, R=res), (kk, res)
        assert numeric.params == lc.evaluate(params_k, k=kk)
        checked += 1
assert checked == 128
"""),
("code", r"""
ks = np.arange(1, 33)
fig, ax = plt.subplots()
for res in (224, 192, 160, 128):
    values = lc.sweep(macs_kR, k=ks, R=res) / 1e6
    line, = ax.plot(ks / 32, values, label=f"$R = {res}$ ($\\rho = {res}/224$)")
paper_points = [(a, mm) for a, res, mm, _, _ in paper_rows if res == 224]
ax.plot(*zip(*paper_points), "ko", label="Howard et al. 2017, Table 6")
ax.plot([1, 1, 1], [418, 290, 186], "k^", label="Table 7")
ax.set(xlabel=r"width multiplier $\alpha$", ylabel="mult-adds (millions)",
       title=r"MobileNet v1: $539.5\alpha^2\rho^2 + 28.2\alpha\rho^2 + 1.0\alpha$ M")
ax.grid(alpha=0.3)
ax.legend()
show(fig)
"""),
("md", r"""
Where does the work sit? Grouping the rows of the $\alpha = 1$, $224 \times 224$ report by the
kind of convolution: the $1 \times 1$ convolutions hold about 95% of the mult-adds and 75% of
the parameters, as Howard et al. report; the depthwise layers, the very thing
that makes the network cheap, are only about 3% of the work. The fully connected layer holds
about a quarter of the parameters but almost none of the compute.
"""),
("code", r"""
full = lc.analyze(zoo.mobilenet_v1(norm=False), (3, 224, 224))
share = {}
for row in full.rows:
    if row.kind == "Conv2d":
        kind = ("depthwise 3x3" if row.layer.groups > 1 else
                "pointwise 1x1" if row.layer.kernel_size == (1, 1) else "standard 3x3 (stem)")
    elif row.kind == "Linear":
        kind = "fully connected"
    else:
        continue                                   # ReLU, pooling: no MACs, no parameters
    macs_, params_ = share.get(kind, (0, 0))
    share[kind] = (macs_ + row.cost.macs, params_ + row.cost.params)

for kind, (m, p) in share.items():
    print(f"{kind:22} {100 * m / full.total.macs:6.2f}% of MACs "
          f"{100 * p / full.total.params:6.2f}% of params")
assert round(100 * share["pointwise 1x1"][0] / full.total.macs) == 95
assert round(100 * share["pointwise 1x1"][1] / full.total.params) == 75
assert round(100 * share["depthwise 3x3"][0] / full.total.macs) == 3
assert round(100 * share["fully connected"][1] / full.total.params) == 24
"""),
("md", r"""
## Summary

* grouped convolution: params and MACs $\times \frac{1}{g}$;
* depthwise separable: $\times \left(\frac{1}{C_{out}} + \frac{1}{K^2}\right)$, 8 to 9 times
  cheaper for $3 \times 3$; the pointwise half does most of the remaining work;
* two $3 \times 3$ for a $5 \times 5$: $\times \frac{18}{25}$; $1 \times n$ then $n \times 1$:
  $\times \frac{2}{n}$; both keep the receptive field;
* MobileNet v1: mult-adds $= 539{,}492{,}352\,\alpha^2\rho^2 + 28{,}224{,}000\,\alpha\rho^2 +
  1{,}024{,}000\,\alpha$, exact for $\alpha \in \{1/32, \dots, 1\}$ and inputs that are
  multiples of 32; params $= 3{,}139{,}584\,\alpha^2 + 1{,}069{,}504\,\alpha + 1000$,
  independent of $\rho$.

## Exercises

1. Can you show that seed 004's 8.4x saving is exactly $1 / (\frac{1}{128} + \frac{1}{9})$,
   as a fraction?
2. Can you find the smallest number of groups $g$ for which a grouped 3x3 convolution from 256
   to 256 channels costs fewer MACs than a depthwise-separable one with the same channels?
3. Can you decide, with exact fractions, which is cheaper for a $7 \times 7$ window: three
   stacked $3 \times 3$ layers or a $1 \times 7$ followed by a $7 \times 1$?
4. Can you find the largest width multiplier $\alpha = k/32$ that keeps MobileNet-224 under
   300 million mult-adds (`lc.solve_budget`)?
5. Can you show that the resolution multiplier leaves the parameters alone and scales every
   term of the mult-adds except the classifier by exactly $\rho^2$?

## Solutions

The solutions are collapsed in Jupyter (click the bar beside a cell to open it): try each
exercise first.
"""),
("md", r"""
**1.** $\frac{1}{128} + \frac{1}{9} = \frac{137}{1152}$, so the saving is $\frac{1152}{137}
\approx 8.41$.
"""),
("code", r"""
saving = Fraction(std, dw + pw)
assert saving == 1 / (Fraction(1, 128) + Fraction(1, 9)) == Fraction(1152, 137)
saving
"""),
("md", r"""
**2.** Per output position the grouped conv costs $9 \cdot 256 \cdot 256 / g$ and the
separable one $256\,(9 + 256)$. The grouped one is cheaper when $g > \frac{9 \cdot 256}{265}
\approx 8.7$; $g$ must divide 256, so $g = 16$.
"""),
("code", r"""
x = (256, 14, 14)
sep = blocks.DepthwiseSeparableConv2d(256, 256, norm=False, activation=None)
sep_macs = lc.analyze(sep, x).total.macs
cheaper = [gg for gg in range(1, 257) if 256 % gg == 0
           and lc.Conv2d(256, 256, 3, padding=1, groups=gg, bias=False).cost(x).macs < sep_macs]
assert cheaper[0] == 16
g_real = sp.Symbol("g", positive=True)    # the crossing is not a whole number: ask with a real g
assert lc.break_even(9 * 256 * 256 / g_real, 256 * (9 + 256), g_real) == [sp.Rational(2304, 265)]
"""),
("md", r"""
**3.** Three $3 \times 3$: $\frac{27}{49}$; $1 \times 7 + 7 \times 1$: $\frac{14}{49}$. The
asymmetric pair is cheaper, at the same receptive field.
"""),
("code", r"""
x = (32, 17, 17)
seven = lc.Conv2d(32, 32, 7, padding=3, bias=False).cost(x).macs
three = lc.analyze(lc.Sequential(*[lc.Conv2d(32, 32, 3, padding=1, bias=False)] * 3), x).total.macs
asym7 = lc.analyze(blocks.factorized_nxn(32, 32, 7), x).total.macs
assert Fraction(three, seven) == Fraction(27, 49) and Fraction(asym7, seven) == Fraction(14, 49)
assert receptive_field([(3, 3)] * 3) == receptive_field([(1, 7), (7, 1)]) == square(7)
"""),
("md", r"""
**4.** The mult-adds grow with $k$, so `solve_budget` can search: $k = 23$, $\alpha =
0.71875$, at 299,724,592 mult-adds, just under the budget ($\alpha = 0.75$ is already 325M).
"""),
("code", r"""
best = lc.solve_budget(macs_kR.subs(R, 224), 300_000_000, k)
assert best == 23
assert lc.evaluate(macs_kR, k=23, R=224) <= 300_000_000 < lc.evaluate(macs_kR, k=24, R=224)
assert lc.evaluate(macs_kR, k=23, R=224) == 299_724_592
"""),
("md", r"""
**5.** Split off the term without $\rho$ (the classifier) and divide the rest by its value at
$\rho = 1$.
"""),
("code", r"""
classifier = macs_alpha_rho.subs(rho, 0)
assert classifier == 1_024_000 * alpha
features = macs_alpha_rho - classifier
assert sp.simplify(features / features.subs(rho, 1)) == rho**2
assert not ({R} & params_k.free_symbols)
"""),
]
