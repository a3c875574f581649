"""Source of notebooks/03_layers_to_networks.ipynb (build: python notebooks/build.py)."""

CELLS = [
("md", r"""
# 3. From layers to networks

A network's cost is the sum of its layers' costs, but the sum has a shape worth knowing:
*where* the parameters sit and *where* the compute sits are very different places. This
notebook builds seed 001's AlexNet by hand, reads layercalc's reports for AlexNet, VGG-16 and
ResNet-50, measures the share of parameters and compute per kind of layer, and ends with
ResNet-50's cost as a closed-form function of the input size.

**After this notebook you will be able to**

* transcribe a PyTorch model into layercalc and check every row of a published summary;
* propagate shapes through a network by hand, including the floors of strided layers;
* read a `Report` as text or as a pandas DataFrame, grouped by path or by layer kind;
* explain seed 001's observation that fully connected layers hold the parameters while
  convolutions do the compute, and quantify it;
* derive ResNet-50's multiply-accumulates as a formula in $H$ and $W$, check it against
  layer-by-layer counts, and sweep it over input sizes;
* write a network that is not a tree (the U-Net) with containers and as a graph, and see
  why a symbolic analysis must record the shape equalities it assumes.

Formulas are derived by hand, confirmed by SymPy through layercalc, checked by brute force
(here: a forward pass of a small network that counts every operation) and plotted; every
number used in the text is asserted.
"""),
("code", r"""
%matplotlib inline
import io
from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import sympy as sp
from IPython.display import Image, display
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
"""),
("md", r"""
## 1. Seed 001's AlexNet, by hand

Seed 001 defines an AlexNet variant in PyTorch (five convolutions without biases, three fully
connected layers) and prints its `torchsummary` table for a $3 \times 224 \times 224$ input.
Shapes by hand, with $\lfloor (H + 2P - K)/S \rfloor + 1$ from notebook 1:

| layer | computation | output |
|---|---|---|
| conv 11x11, stride 4, pad 2 | $\lfloor (224 + 4 - 11)/4 \rfloor + 1 = 54 + 1$ | $96 \times 55 \times 55$ |
| max pool 3, stride 2 | $\lfloor (55 - 3)/2 \rfloor + 1$ | $96 \times 27 \times 27$ |
| conv 5x5, pad 2 | size kept | $192 \times 27 \times 27$ |
| max pool 3, stride 2 | $\lfloor (27 - 3)/2 \rfloor + 1$ | $192 \times 13 \times 13$ |
| three convs 3x3, pad 1 | size kept | $384, 256, 256 \times 13 \times 13$ |
| max pool 3, stride 2 | $\lfloor (13 - 3)/2 \rfloor + 1$ | $256 \times 6 \times 6 = 9216$ |

and parameters, $C_{in} K^2 C_{out}$ for the bias-free convolutions and $I\,O + O$ for the
fully connected layers:

$$ \begin{aligned}
\text{convs} &= 11^2\cdot 3 \cdot 96 + 5^2 \cdot 96 \cdot 192 + 3^2 \cdot 192 \cdot 384 + 3^2
  \cdot 384 \cdot 256 + 3^2 \cdot 256 \cdot 256 \\
 &= 34{,}848 + 460{,}800 + 663{,}552 + 884{,}736 + 589{,}824 = 2{,}633{,}760 \\
\text{FC} &= (9216 \cdot 4096 + 4096) + (4096^2 + 4096) + (4096 \cdot 1000 + 1000) \\
 &= 37{,}752{,}832 + 16{,}781{,}312 + 4{,}097{,}000 = 58{,}631{,}144
\end{aligned} $$

for a total of $61{,}264{,}904$, seed 001's "Total params". layercalc's layers take PyTorch's
class names, argument names and argument order, so the seed's model definition transcribes
line by line (the seed's `x.view(...)` becomes a `Flatten`):
"""),
("code", r"""
alexnet_seed = lc.Sequential(
    lc.Conv2d(3, 96, kernel_size=11, stride=4, padding=2, bias=False), lc.ReLU(inplace=True),
    lc.MaxPool2d(kernel_size=3, stride=2, padding=0),
    lc.Conv2d(96, 192, kernel_size=5, stride=1, padding=2, bias=False), lc.ReLU(inplace=True),
    lc.MaxPool2d(kernel_size=3, stride=2, padding=0),
    lc.Conv2d(192, 384, kernel_size=3, stride=1, padding=1, bias=False), lc.ReLU(inplace=True),
    lc.Conv2d(384, 256, kernel_size=3, stride=1, padding=1, bias=False), lc.ReLU(inplace=True),
    lc.Conv2d(256, 256, kernel_size=3, stride=1, padding=1, bias=False), lc.ReLU(inplace=True),
    lc.MaxPool2d(kernel_size=3, stride=2, padding=0),
    lc.Flatten(),
    lc.Dropout(p=0.5), lc.Linear(256 * 6 * 6, 4096), lc.ReLU(inplace=True),
    lc.Dropout(p=0.5), lc.Linear(4096, 4096), lc.ReLU(inplace=True),
    lc.Linear(4096, 1000),
)
report = lc.analyze(alexnet_seed, (3, 224, 224))

convs = 11**2*3*96 + 5**2*96*192 + 3**2*192*384 + 3**2*384*256 + 3**2*256*256
fcs = (9216*4096 + 4096) + (4096**2 + 4096) + (4096*1000 + 1000)
assert convs == 2_633_760 and fcs == 58_631_144
assert report.total.params == convs + fcs == 61_264_904
assert report.total.params == lc.analyze(zoo.seed_alexnet(), (3, 224, 224)).total.params
"""),
("md", r"""
**Every row of seed 001's table.** The torchsummary printout, transcribed (kind, output shape,
parameters), must match layercalc's rows in order; torchsummary does not list the
`x.view(...)` call, so our `Flatten` row is skipped.
"""),
("code", r"""
seed001_table = [
    ("Conv2d", (96, 55, 55), 34_848), ("ReLU", (96, 55, 55), 0), ("MaxPool2d", (96, 27, 27), 0),
    ("Conv2d", (192, 27, 27), 460_800), ("ReLU", (192, 27, 27), 0), ("MaxPool2d", (192, 13, 13), 0),
    ("Conv2d", (384, 13, 13), 663_552), ("ReLU", (384, 13, 13), 0),
    ("Conv2d", (256, 13, 13), 884_736), ("ReLU", (256, 13, 13), 0),
    ("Conv2d", (256, 13, 13), 589_824), ("ReLU", (256, 13, 13), 0), ("MaxPool2d", (256, 6, 6), 0),
    ("Dropout", (9216,), 0), ("Linear", (4096,), 37_752_832), ("ReLU", (4096,), 0),
    ("Dropout", (4096,), 0), ("Linear", (4096,), 16_781_312), ("ReLU", (4096,), 0),
    ("Linear", (1000,), 4_097_000),
]
ours = [(row.kind, row.output_shape, row.cost.params)
        for row in report.rows if row.kind != "Flatten"]
assert ours == seed001_table
assert sum(p for _, _, p in seed001_table) == 61_264_904
print(f"all {len(seed001_table)} rows of seed 001's table match")
"""),
("md", r"""
Seed 001 also runs `thop` on this model and prints 861,301,280 "FLOPs". thop counts one per
multiply-accumulate of the convolutions and fully connected layers, without biases: exactly
layercalc's MACs (notebook 1 explains why the word "FLOPs" hides a factor of about two).

$$ \text{MACs} = \underbrace{34{,}848 \cdot 55^2 + 460{,}800 \cdot 27^2 + (663{,}552 +
884{,}736 + 589{,}824) \cdot 13^2}_{\text{convs: params} \,\times\, \text{output positions}}
+ \underbrace{9216 \cdot 4096 + 4096^2 + 4096 \cdot 1000}_{\text{FC: weights, once each}} $$
"""),
("code", r"""
conv_macs = 34_848 * 55**2 + 460_800 * 27**2 + (663_552 + 884_736 + 589_824) * 13**2
fc_macs = 9216 * 4096 + 4096**2 + 4096 * 1000
assert conv_macs == 802_679_328 and fc_macs == 58_621_952
assert report.total.macs == conv_macs + fc_macs == 861_301_280      # seed 001's thop output
"""),
("md", r"""
## 2. Brute force: a forward pass that counts

To check the *network-level* bookkeeping (shapes flowing from layer to layer, every kind of
layer counted, nothing counted twice), we run a real forward pass of a small AlexNet-like
network on a $1 \times 16 \times 16$ image in plain Python, counting every multiply, add and
comparison as it happens. Max pooling compares: the maximum of $k^2$ values takes $k^2 - 1$
comparisons; ReLU is one comparison per element. The total must equal layercalc's `exact`
FLOPs, and the multiplies its MACs, layer by layer.
"""),
("code", r"""
def conv(x, w, b, pad, ops):
    c_in, h, wd = len(x), len(x[0]), len(x[0][0])
    k = len(w[0][0])
    at = lambda c, i, j: (x[c][i - pad][j - pad]
                          if 0 <= i - pad < h and 0 <= j - pad < wd else 0)
    starts_h = [s for s in range(h + 2 * pad) if s + k <= h + 2 * pad]
    starts_w = [s for s in range(wd + 2 * pad) if s + k <= wd + 2 * pad]
    out = []
    for o in range(len(w)):
        plane = []
        for i in starts_h:
            line = []
            for j in starts_w:
                acc = None
                for c in range(c_in):
                    for u in range(k):
                        for v in range(k):
                            p = w[o][c][u][v] * at(c, i + u, j + v)
                            ops["mul"] += 1
                            if acc is None:
                                acc = p                            # first term: no add
                            else:
                                acc = acc + p
                                ops["add"] += 1
                line.append(acc + b[o])
                ops["add"] += 1                                   # the bias
            plane.append(line)
        out.append(plane)
    return out


def relu(x, ops):
    flat = np.ravel(x)
    ops["cmp"] += flat.size
    return np.maximum(np.array(x), 0).tolist()


def maxpool(x, k, ops):
    out = []
    for plane in x:
        rows = [s for s in range(0, len(plane), k) if s + k <= len(plane)]
        cols = [s for s in range(0, len(plane[0]), k) if s + k <= len(plane[0])]
        new = []
        for i in rows:
            line = []
            for j in cols:
                best = plane[i][j]
                for u in range(k):
                    for v in range(k):
                        if (u, v) != (0, 0):
                            ops["cmp"] += 1
                            best = max(best, plane[i + u][j + v])
                line.append(best)
            new.append(line)
        out.append(new)
    return out


def linear(x, w, b, ops):
    out = []
    for o in range(len(w)):
        acc = w[o][0] * x[0]
        ops["mul"] += 1
        for i in range(1, len(x)):
            acc += w[o][i] * x[i]
            ops["mul"] += 1
            ops["add"] += 1
        out.append(acc + b[o])
        ops["add"] += 1
    return out
"""),
("code", r"""
tiny = lc.Sequential(
    lc.Conv2d(1, 4, 3, padding=1), lc.ReLU(), lc.MaxPool2d(2, 2),
    lc.Conv2d(4, 8, 3, padding=1), lc.ReLU(), lc.MaxPool2d(2, 2),
    lc.Flatten(), lc.Linear(8 * 4 * 4, 32), lc.ReLU(), lc.Linear(32, 10),
)
tiny_report = lc.analyze(tiny, (1, 16, 16))

rng = np.random.default_rng(3)                        # fixed seed: reproducible
P = lambda *shape: rng.integers(-2, 3, size=shape).tolist()
x = P(1, 16, 16)
counted = []                                           # one dict of counts per layer
def step(fn, *args):
    ops = {"mul": 0, "add": 0, "cmp": 0}
    out = fn(*args, ops)
    counted.append(ops)
    return out

y = step(conv, x, P(4, 1, 3, 3), P(4), 1); y = step(relu, y); y = step(maxpool, y, 2)
y = step(conv, y, P(8, 4, 3, 3), P(8), 1); y = step(relu, y); y = step(maxpool, y, 2)
y = np.ravel(y).tolist(); counted.append({"mul": 0, "add": 0, "cmp": 0})      # flatten
y = step(linear, y, P(32, 128), P(32)); y = step(relu, y); y = step(linear, y, P(10, 32), P(10))

assert len(y) == 10 and len(counted) == len(tiny_report.rows)
for row, ops in zip(tiny_report.rows, counted):
    assert ops["mul"] == row.cost.macs, row.path
    assert sum(ops.values()) == lc.flops(row.cost, "exact"), row.path
total_ops = sum(sum(ops.values()) for ops in counted)
assert total_ops == lc.flops(tiny_report, "exact") == 66_848
print(f"forward pass: {total_ops:,} operations, layer by layer as layercalc counts them")
"""),
("md", r"""
The tiny network already shows the pattern of the big ones: its two fully connected layers
hold most of the parameters, its two convolutions do most of the multiply-accumulates.
"""),
("code", r"""
kinds = tiny_report.by_kind()
fc_param_share = Fraction(kinds["Linear"].params, tiny_report.total.params)
conv_mac_share = Fraction(kinds["Conv2d"].macs, tiny_report.total.macs)
assert round(100 * fc_param_share) == 93 and round(100 * conv_mac_share) == 86
print(f"Linear: {float(fc_param_share):.1%} of params; Conv2d: {float(conv_mac_share):.1%} of MACs")
"""),
("md", r"""
## 3. Reports

`lc.analyze(model, shape)` returns a `Report`: one row per leaf layer, with the layer's path
(as PyTorch's `named_modules()` would print it), kind, shapes and `Cost`. `to_text` prints it
in the style of ptflops or torchinfo; the footer lists exact totals and states what the
chosen convention leaves out. Seed 001's AlexNet, layer by layer:
"""),
("code", r"""
print(report.to_text())
"""),
("md", r"""
`to_dataframe()` gives the same rows as a pandas DataFrame (one column per count), ready for
grouping and plotting. Here are ResNet-50's rows summed by layer kind:
"""),
("code", r"""
resnet50 = lc.analyze(zoo.resnet50(), (3, 224, 224))
frame = resnet50.to_dataframe()
by_kind = frame.groupby("kind")[["params", "macs"]].sum().sort_values("macs", ascending=False)
assert by_kind.loc["Conv2d", "macs"] == 4_087_136_256
assert by_kind.loc["Linear", "params"] == 2_049_000
assert frame["params"].sum() == resnet50.total.params == 25_557_032
by_kind
"""),
("md", r"""
Reports can also be grouped: `depth=1` sums rows by the first segment of their path
(ResNet's stages `layer1` ... `layer4`), `by_kind=True` by layer kind. The totals are
torchvision's published figures for ResNet-50 (25,557,032 parameters, 4.09 GFLOPS, which
torchvision counts as MACs) and VGG-16 (138,357,544 parameters, 15.47 GFLOPS):
"""),
("code", r"""
print(resnet50.to_text(depth=1))
assert resnet50.total.macs == 4_089_184_256 and round(resnet50.total.macs / 1e9, 2) == 4.09
"""),
("code", r"""
vgg16 = lc.analyze(zoo.vgg16(), (3, 224, 224))
print(vgg16.to_text(by_kind=True))
assert vgg16.total.params == 138_357_544
assert vgg16.total.macs == 15_470_264_320 and round(vgg16.total.macs / 1e9, 2) == 15.47
"""),
("md", r"""
## 4. Parameters sit in the fully connected layers, compute in the convolutions

Seed 001 observes that convolutions have few parameters but a lot of computation, while fully
connected layers have many parameters and comparatively little computation. The reason is
reuse. A convolution applies each weight at every output position, so

$$ \frac{\text{MACs}}{\text{weights}} = H_{out} W_{out} \quad\text{(conv)}, \qquad
   \frac{\text{MACs}}{\text{weights}} = 1 \quad\text{(fully connected, batch 1)}. $$

In seed 001's AlexNet the convolutions reuse each weight $802{,}679{,}328 / 2{,}633{,}760
\approx 305$ times on average, the fully connected layers each weight once. Below, the
shares of the convolutions and of the fully connected layers for five networks (what is
left of the parameters is BatchNorm's scales and shifts). ResNet and MobileNet replaced
the big fully connected head by global average pooling, as seed 000 remarks is now common,
and their parameters moved into the convolutions.
"""),
("code", r"""
models = {"AlexNet (seed 001)": zoo.seed_alexnet(), "AlexNet (torchvision)": zoo.alexnet(),
          "VGG-16": zoo.vgg16(), "ResNet-50": zoo.resnet50(), "MobileNetV2": zoo.mobilenet_v2()}
shares = {}
for name, model in models.items():
    r = lc.analyze(model, (3, 224, 224))
    kinds = r.by_kind()
    conv = kinds["Conv2d"]
    fc = kinds["Linear"]
    shares[name] = {
        "FC % of params": 100 * fc.params / r.total.params,
        "conv % of params": 100 * conv.params / r.total.params,
        "FC % of MACs": 100 * fc.macs / r.total.macs,
        "conv % of MACs": 100 * conv.macs / r.total.macs,
        "conv MACs per weight": conv.macs / conv.params,
    }
table = pd.DataFrame(shares).T.round(2)
table
"""),
("code", r"""
assert table.loc["AlexNet (seed 001)", "FC % of params"] == 95.70
assert table.loc["AlexNet (seed 001)", "conv % of MACs"] == 93.19
assert table.loc["AlexNet (torchvision)", "FC % of params"] == 95.96
assert table.loc["VGG-16", "FC % of params"] == 89.36
assert table.loc["VGG-16", "conv % of MACs"] == 99.20
assert table.loc["ResNet-50", "FC % of params"] == 8.02
assert table.loc["ResNet-50", "conv % of MACs"] == 99.95
assert round(802_679_328 / 2_633_760) == 305
for name in models:        # the observation, for every model here: convs do > 90% of the MACs
    assert table.loc[name, "conv % of MACs"] > 90

fig, ax = plt.subplots()
names = list(shares)
ypos = np.arange(len(names))
ax.barh(ypos + 0.2, table["FC % of params"], 0.4, label="FC share of parameters", color="C1")
ax.barh(ypos - 0.2, table["FC % of MACs"], 0.4, label="FC share of MACs", color="C0")
ax.set_yticks(ypos, names)
ax.invert_yaxis()
ax.set(xlabel="% of the network's total", xlim=(0, 100),
       title="Fully connected layers: parameters, not compute")
ax.legend(loc="lower right")
show(fig)
"""),
("md", r"""
The picture depends a little on the convention. Under `exact` FLOPs, which also counts
BatchNorm, ReLU, pooling and the residual additions, those layers take about 0.75% of
ResNet-50's work; under `macs` they take none. The convolutions dominate either way:
"""),
("code", r"""
exact_total = lc.flops(resnet50, "exact")
exact_share = {kind: 100 * lc.flops(cost, "exact") / exact_total
               for kind, cost in resnet50.by_kind().items()}
assert exact_total == 8_228_576_192
assert round(exact_share["Conv2d"], 1) == 99.2
assert round(100 - exact_share["Conv2d"] - exact_share["Linear"], 2) == 0.75
{kind: round(v, 2) for kind, v in exact_share.items()}
"""),
("md", r"""
## 5. ResNet-50 as a function of the input size

With symbols for the input size, layercalc propagates shapes symbolically and keeps them
short. By hand: the stem convolution ($7\times7$, stride 2, padding 3) gives
$\lfloor (H + 6 - 7)/2 \rfloor + 1 = \lfloor (H-1)/2 \rfloor + 1 = \lceil H/2 \rceil$; the max
pool ($3\times3$, stride 2, padding 1) gives $\lfloor (\lceil H/2\rceil - 1)/2 \rfloor + 1 =
\lceil H/4 \rceil$; and each later stage halves again with the same rounding, since
$\lceil \lceil x/a \rceil / b \rceil = \lceil x/(ab) \rceil$. So the network works at
resolutions $\lceil H/2^i \rceil \times \lceil W/2^i \rceil$ for $i = 1..5$, and its MACs are
a sum of MACs-per-position coefficients times those areas, plus the classifier's
$2048 \cdot 1000$:

$$ \text{MACs}(H, W) = \sum_{i=1}^{5} c_i \left\lceil \frac{H}{2^i} \right\rceil
   \left\lceil \frac{W}{2^i} \right\rceil + 2{,}048{,}000 $$

Two coefficients by hand. $c_1 = 7 \cdot 7 \cdot 3 \cdot 64 = 9408$ (the stem alone). $c_2$:
the first bottleneck of `layer1` costs $64 \cdot 64 + 9 \cdot 64 \cdot 64 + 64 \cdot 256 + 64
\cdot 256 = 73{,}728$ per position (three convolutions and the projection shortcut), the
other two $256 \cdot 64 + 9 \cdot 64 \cdot 64 + 64 \cdot 256 = 69{,}632$ each, and
torchvision's ResNet (v1.5) puts the stride of `layer2.0` on its $3\times3$, so that block's
first $1\times1$ ($256 \cdot 128 = 32{,}768$) still runs at $H/4$:
$c_2 = 73{,}728 + 2 \cdot 69{,}632 + 32{,}768 = 245{,}760$.
"""),
("code", r"""
H, W = lc.symbols("H W")
symbolic = lc.analyze(zoo.resnet50(), (3, H, W))
macs_HW = symbolic.total.macs

c1 = 7 * 7 * 3 * 64
c2 = (64*64 + 9*64*64 + 64*256 + 64*256) + 2 * (256*64 + 9*64*64 + 64*256) + 256*128
assert (c1, c2) == (9408, 245_760)
coefficients = [c1, c2, 1_310_720, 7_471_104, 14_417_920]
by_hand = sum(c * sp.ceiling(H / 2**i) * sp.ceiling(W / 2**i)
              for i, c in enumerate(coefficients, start=1)) + 2048 * 1000
assert sp.expand(macs_HW - by_hand) == 0
assert symbolic.total.params == 25_557_032                  # a number: independent of H, W
assert lc.evaluate(macs_HW, H=224, W=224) == 4_089_184_256
macs_HW
"""),
("md", r"""
When $H$ and $W$ are multiples of 32 every ceiling is exact and the formula is a plain
polynomial (`lc.assume_divisible`): the coefficient of $HW$ is
$\sum_i c_i / 4^i = 2352 + 15{,}360 + 20{,}480 + 29{,}184 + 14{,}080 = 81{,}456$, so

$$ \text{MACs}(H, W) = 81{,}456\, H W + 2{,}048{,}000 \qquad (32 \mid H,\ 32 \mid W). $$

**Brute force.** The closed form must agree with a plain numeric analysis (integers only,
layer by layer) at every size, multiples of 32 or not, square or not:
"""),
("code", r"""
polynomial = lc.assume_divisible(macs_HW, {H: 32, W: 32})
assert polynomial == 81_456 * H * W + 2_048_000
assert sum(Fraction(c, 4**i) for i, c in enumerate(coefficients, start=1)) == 81_456

sizes = [(h, h) for h in range(33, 300, 11)] + [(224, 160), (97, 301), (513, 64), (32, 32)]
for h, w in sizes:
    numeric = lc.analyze(zoo.resnet50(), (3, h, w)).total.macs
    assert numeric == lc.evaluate(macs_HW, H=h, W=w), (h, w)
    if h % 32 == 0 and w % 32 == 0:
        assert numeric == 81_456 * h * w + 2_048_000
print(f"{len(sizes)} input sizes: closed form == layer-by-layer count")
polynomial
"""),
("md", r"""
**Sweep.** `lc.sweep` compiles the closed form into exact integer numpy code, so evaluating
it at every square size from 32 to 1024 takes a single call. The cost grows with the area
($H^2$); between multiples of 32 the ceilings make it step up, and the ratio to the
polynomial shows the price of an awkward size: one pixel past a multiple of 32 rounds every
stage's feature map up by a row and a column, 14% more work at 193 than at 192.
"""),
("code", r"""
hs = np.arange(32, 1025)
exact_macs = lc.sweep(macs_HW, H=hs, W=hs)
smooth = 81_456 * hs.astype(np.int64) ** 2 + 2_048_000

for h in (32, 224, 225, 257, 1024):
    assert exact_macs[h - 32] == lc.evaluate(macs_HW, H=h, W=h)
assert np.all(exact_macs >= smooth) and np.all(exact_macs[hs % 32 == 0] == smooth[hs % 32 == 0])
assert np.all(np.diff(exact_macs) >= 0)                        # never cheaper for a bigger input

fig, ax = plt.subplots()
ax.plot(hs, exact_macs / 1e9, label="exact (ceilings)")
ax.plot(hs, smooth / 1e9, "--", label="$81456\\,H^2 + 2048000$")
ax.plot(224, 4.089184256, "ko", label="224 x 224: 4.09 G")
ax.set(xlabel="input size $H = W$", ylabel="GMACs", title="ResNet-50 MACs against input size")
ax.grid(alpha=0.3)
ax.legend()
show(fig)
"""),
("code", r"""
window = (hs >= 192) & (hs <= 320)
fig, ax = plt.subplots()
ax.plot(hs[window], exact_macs[window] / smooth[window], drawstyle="steps-post")
ax.set(xlabel="input size $H = W$", ylabel="exact / polynomial",
       title="Sizes that are not multiples of 32 pay extra")
ax.grid(alpha=0.3)
show(fig)

worst = max(range(192, 321), key=lambda h: exact_macs[h - 32] / smooth[h - 32])
assert worst == 193
assert round(exact_macs[193 - 32] / smooth[193 - 32], 3) == 1.143     # 14% more than at 192
"""),
("md", r"""
## 6. Beyond trees: the U-Net, as containers and as a graph

`Sequential`, `Residual` and `Parallel` describe trees. The 2015 U-Net (Ronneberger, Fischer
and Brox, Figure 1) is not one: each level's feature map is used twice, by the next level
down and, cropped, by the decoder on the way back up. Containers can still express it, by
nesting every level inside the previous one: level $l$ is the encoder's two valid $3 \times
3$ convolutions, then a `Parallel` whose first branch crops the skip connection and whose
second branch pools, runs level $l+1$ and up-convolves, concatenated, then the decoder's two
convolutions.

The crop is the border the deeper path loses. A valid $3\times3$ convolution loses 2 pixels,
so the bottleneck returns $S/2 - 4$ for a skip of size $S$, up-convolved to $S - 8$: crop
$c_4 = 4$ per side. One level up the deeper path also loses $4$ in its decoder, at half the
resolution: $c_l = 2 c_{l+1} + 8$, so $c = 88, 40, 16, 4$ for levels 1 to 4 (`Getitem`,
`skip[:, c:-c, c:-c]`, a view that costs nothing).
"""),
("code", r"""
from collections import OrderedDict


def double_conv(cin, cout):                      # two valid 3x3 convolutions, each + ReLU
    return lc.Sequential(OrderedDict(conv1=lc.Conv2d(cin, cout, 3), relu1=lc.ReLU(),
                                     conv2=lc.Conv2d(cout, cout, 3), relu2=lc.ReLU()))


def level(l, cin, c=64):                         # level l of 4; the bottleneck is level 5
    if l == 5:
        return double_conv(cin, 16 * c)
    out, crop = c * 2 ** (l - 1), [88, 40, 16, 4][l - 1]
    down = lc.Sequential(OrderedDict(pool=lc.MaxPool2d(2), inner=level(l + 1, out),
                                     up=lc.ConvTranspose2d(2 * out, out, 2, stride=2)))
    skip = lc.Getitem((slice(None), slice(crop, -crop), slice(crop, -crop)))
    return lc.Sequential(OrderedDict(enc=double_conv(cin, out),
                                     skip=lc.Parallel(OrderedDict(crop=skip, down=down)),
                                     dec=double_conv(2 * out, out)))


tree = lc.Sequential(OrderedDict(unet=level(1, 1), out=lc.Conv2d(64, 2, 1)))
as_tree = lc.analyze(tree, (1, 572, 572))
assert as_tree.output_shape == (2, 388, 388) and as_tree.total.params == 31_030_658
print(as_tree.rows[20].path)                     # the paths nest as deep as the network
"""),
("md", r"""
The same network written as a graph reads like its PyTorch `forward`: call layers on tensors,
keep the skips in a list, and collect the calls between the input and the output in a
`Graph` (`docs/graphs.md`). Names are report paths; a node without `name=` gets a generated
one (the crops below become `getitem`, `getitem_1` ...). `lc.zoo.unet()` is this graph, with
the crops named `crop1` to `crop4`.
"""),
("code", r"""
x = lc.Input((1, 572, 572))
t, skips, cin = x, [], 1
for l, out in enumerate([64, 128, 256, 512], start=1):
    t = double_conv(cin, out)(t, name=f"enc{l}")
    skips.append(t)
    t, cin = lc.MaxPool2d(2)(t, name=f"pool{l}"), out
t = double_conv(512, 1024)(t, name="bottleneck")
for l, out, crop in zip([4, 3, 2, 1], [512, 256, 128, 64], [4, 16, 40, 88]):
    up = lc.ConvTranspose2d(2 * out, out, 2, stride=2)(t, name=f"up{l}")
    skip = skips[l - 1][:, crop:-crop, crop:-crop]               # a Getitem node
    t = double_conv(2 * out, out)(lc.cat([skip, up], name=f"cat{l}"), name=f"dec{l}")
unet = lc.Graph(x, lc.Conv2d(64, 2, 1)(t, name="out"), name="unet")
as_graph = lc.analyze(unet)
"""),
("md", r"""
Both describe the same computation: the same rows up to their order and paths, the same
totals under every convention, and the same peak memory (the enc1 skip stays alive across the
whole decoder in both).
"""),
("code", r"""
def signature(report):
    return sorted((r.kind, r.output_shape, r.cost.params, r.cost.macs) for r in report.rows)


assert signature(as_tree) == signature(as_graph)
assert as_tree.total == as_graph.total == lc.analyze(zoo.unet()).total
assert all(as_tree.flops(c) == as_graph.flops(c) for c in lc.CONVENTIONS)
peak_tree = lc.peak_memory(tree, (1, 572, 572), "fp16").activations
assert peak_tree == lc.peak_memory(unet, (1, 572, 572), "fp16").activations
print(f"{as_graph.total.macs:,} MACs, peak {peak_tree / 2**20:.1f} MiB in fp16")
"""),
("md", r"""
The crops are constants, so the network fits only tile sizes whose pooled maps are even (the
paper: "it is important to select the input tile size such that all 2x2 max-pooling
operations are applied to a layer with an even x- and y-size"). At $573 \times 573$ the first
pooling floors $569/2$, the decoder comes back one pixel short, and the concatenation fails:
"""),
("code", r"""
try:
    lc.analyze(unet, (1, 573, 573))
except lc.ShapeError as error:
    print(error)
"""),
("md", r"""
With a symbolic size the concatenations cannot be decided, so the analysis *assumes* each
one's sizes equal and records the assumption (`Report.assumptions`, and as text in
`Report.notes`). Evaluating the formulas checks them: at 572 they hold; at 573 the evaluation
fails exactly as the numeric analysis does, instead of returning the cost of a network that
cannot run. The tree of containers records the same assumptions at its `Parallel` merges.
"""),
("code", r"""
H = lc.symbols("H")
sym = lc.analyze(unet, (1, H, H))
print(sym.output_shape, *sym.notes[-1:], sep="\n")
assert lc.evaluate(sym, H=572).total == as_graph.total
for model in (unet, tree):
    try:
        lc.evaluate(lc.analyze(model, (1, H, H)), H=573)
    except lc.ShapeError as error:
        assert "false at H=573" in str(error)
    else:
        raise AssertionError("573 must fail")
"""),
("md", r"""
## Summary

* A network's counts are the sums of its layers'; shapes flow through floors
  (notebook 1) and layercalc checks every connection.
* Convolutions reuse each weight $H_{out} W_{out}$ times, fully connected layers once: in
  AlexNet and VGG the FC layers hold 89-96% of the parameters but do at most 8.3% of the MACs;
  networks with global average pooling (ResNet, MobileNet) keep few FC parameters.
* ResNet-50's MACs are $\sum_i c_i \lceil H/2^i \rceil \lceil W/2^i \rceil + 2{,}048{,}000$,
  which is $81{,}456\,HW + 2{,}048{,}000$ on multiples of 32.
* Networks that are graphs (the U-Net) can be written as nested containers or, as their
  `forward` reads, with the graph API; both give the same report, and a symbolic analysis
  records the shape equalities it assumed, so evaluating it at an impossible size fails.

## Exercises

1. Can you find the single layer of VGG-16 with the most parameters, and its share of the
   total?
2. Can you find the largest square input for which ResNet-50 stays within 10 GMACs?
3. Can you find how many MACs the paper's ResNet-50 (v1, stride on the first $1\times1$:
   `zoo.resnet50(variant="v1")`) saves over torchvision's v1.5 at $224 \times 224$, and
   explain the number from the $c_i$ above?
4. Can you find the largest square input at which ResNet-18 costs no more than ResNet-50 does
   at $224 \times 224$?
5. Can you find every square input size that seed 001's AlexNet accepts? (Its first fully
   connected layer expects exactly 9216 features.)

## Solutions

The solutions are collapsed in Jupyter (click the bar beside a cell to open it): try each
exercise first.
"""),
("md", r"""
**1.** `classifier.0`, the first fully connected layer: $25{,}088 \cdot 4096 + 4096 =
102{,}764{,}544$ parameters, 74.3% of the network.
"""),
("code", r"""
largest = max(vgg16.rows, key=lambda row: row.cost.params)
assert largest.path == "classifier.0" and largest.kind == "Linear"
assert largest.cost.params == 512 * 7 * 7 * 4096 + 4096 == 102_764_544
assert round(100 * largest.cost.params / vgg16.total.params, 1) == 74.3
"""),
("md", r"""
**2.** `lc.solve_budget` searches the exact closed form (with $W = H$): 344, at
9,882,119,168 MACs. At 345 every stage size rounds up (345 is odd, and so are its halves
173 and 87) and the cost jumps to 10,041,914,048.
"""),
("code", r"""
largest_h = lc.solve_budget(macs_HW.subs(W, H), 10**10, H)
assert largest_h == 344
assert lc.evaluate(macs_HW, H=344, W=344) == 9_882_119_168
assert lc.evaluate(macs_HW, H=345, W=345) == 10_041_914_048
"""),
("md", r"""
**3.** 231,211,008 MACs. In v1 the stride sits on the first $1\times1$ of `layer2.0`,
`layer3.0` and `layer4.0`, so each of those convolutions runs at the next, four times
smaller, resolution: at $224$ the saving is $\frac{3}{4}(256 \cdot 128 \cdot 56^2 + 512
\cdot 256 \cdot 28^2 + 1024 \cdot 512 \cdot 14^2)$.
"""),
("code", r"""
v1 = lc.analyze(zoo.resnet50(variant="v1"), (3, 224, 224)).total.macs
saving = resnet50.total.macs - v1
assert v1 == 3_857_973_248 and saving == 231_211_008
assert saving == Fraction(3, 4) * (256*128*56**2 + 512*256*28**2 + 1024*512*14**2)
"""),
("md", r"""
**4.** ResNet-18 at up to $328 \times 328$ costs no more than ResNet-50 at $224 \times 224$.
"""),
("code", r"""
r18 = lc.analyze(zoo.resnet18(), (3, H, W)).total.macs
size = lc.solve_budget(r18.subs(W, H), resnet50.total.macs, H)
assert size == 328
assert lc.evaluate(r18, H=328, W=328) <= 4_089_184_256 < lc.evaluate(r18, H=329, W=329)
"""),
("md", r"""
**5.** Sizes 223 to 254: exactly those give a $6 \times 6$ map after the last pool. Anything
else fails with a `ShapeError` that names the layer and the producer of its input.
"""),
("code", r"""
accepted = []
for s in range(1, 401):
    try:
        lc.analyze(zoo.seed_alexnet(), (3, s, s))
    except lc.ShapeError as error:
        last_error = error
    else:
        accepted.append(s)
assert accepted == list(range(223, 255))
print(last_error)
"""),
]
