"""Source of notebooks/04_memory_and_roofline.ipynb (build: python notebooks/build.py)."""

CELLS = [
("md", r"""
# 4. Memory and the roofline

FLOPs say how much arithmetic a network does; they do not say how fast it runs. A layer also
has to move its inputs, weights and outputs between main memory and the chip, and on most
hardware moving a byte costs far more time than doing a multiply. This notebook counts the
bytes, puts layers on the *roofline* of a data-centre GPU and of an edge chip, and uses the
counts to explain two well-known surprises: why ShuffleNet V2 keeps its 1x1 convolutions
square, and why seed 004's client found MobileNet V2 no faster than V1.

**After this notebook you will be able to**

* count a layer's memory access cost (MAC, in bytes) under the two models layercalc knows,
  `compulsory` (seed 000) and `no_reuse` (seed 004), for any data type, and check both
  against a loop that logs every access;
* compute a layer's arithmetic intensity (FLOPs per byte) and its attainable performance
  $\min(\pi, \beta I)$ on a device, derive a device's peak and bandwidth from its clocks
  (seed 002), and read a roofline plot;
* solve symbolically for the batch size (or the resolution, or the channel count) at which a
  layer turns from memory-bound to compute-bound;
* derive ShuffleNet V2's guideline G1, $\text{MAC} \ge 2\sqrt{hwB} + B/(hw)$ with equality at
  $c_1 = c_2$, and confirm it by scanning every channel split;
* measure what folding BatchNorm and fusing ReLU save, explain seed 004's MobileNet V1 vs V2
  case with bytes rather than FLOPs, and find the peak activation memory of ResNet-50.

As in the other notebooks, each formula is derived by hand (LaTeX), confirmed by SymPy through
layercalc, checked by brute force on a tiny case and plotted, and every number the text
relies on is an `assert`.

Seeds cited: seed 000 defines MAC (memory access cost) and the roofline ($\pi$, $\beta$,
$I_{max} = \pi/\beta$); seed 002 gives the clock formulas for peak FLOP/s and bandwidth and the
1x1-conv MAC $hw(c_1 + c_2) + c_1 c_2$; seed 004 counts memory accesses without reuse, fuses
BatchNorm and ReLU, and tells the MobileNet V1 vs V2 story. *MAC* below always means memory
access cost; multiply-accumulates are written *MACs*.
"""),
("code", r"""
%matplotlib inline
import io
import itertools
from collections import Counter
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
pd.set_option("display.width", 120)


def show(fig):
    "Display `fig` as a 256-colour PNG: it looks the same and keeps the notebook file small."
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    small = io.BytesIO()
    PILImage.open(buf).convert("RGB").quantize(256).save(small, "PNG", optimize=True)
    display(Image(small.getvalue()))
"""),
("md", r"""
## 1. The memory access cost of one layer

To compute a convolution the chip must (seed 000) read the input feature map and the weights
from main memory (DDR) and write the output feature map back:

$$ \text{MAC} = \text{ddr\_read} + \text{ddr\_write}
   = b\,\big[\underbrace{C_{in} H_{in} W_{in}}_{\text{input}}
   + \underbrace{K^2 C_{in} C_{out} + C_{out}}_{\text{weights and bias}}\big]
   + b\,\underbrace{C_{out} H_{out} W_{out}}_{\text{output}} $$

with $b$ bytes per element (4 for fp32, 1 for int8). This counts every tensor exactly once:
it assumes the chip keeps whatever it has read on chip for as long as the layer needs it.
layercalc calls this memory model **`compulsory`**: it is the least traffic any schedule can
have (each tensor must cross the bus at least once), and it is what torchstat reports.

Seed 004 (after machinethink.net's "How fast is my model?") assumes the opposite: *no* reuse.
Every multiply-accumulate fetches its input value again, so an input element under $K^2$
window positions and $C_{out}$ filters is read $K^2 C_{out}$ times:

$$ \text{input reads} = C_{in} K^2 \cdot H_{out} W_{out} C_{out} = \text{MACs}, $$

which for a stride-1 "same" convolution ($H_{out} = H_{in}$) is seed 004's
$H_{in} W_{in} C_{in} K^2 C_{out}$. Weights are still read once and outputs written once.
layercalc calls this **`no_reuse`**. The two models bracket reality: a real kernel tiles the
computation so that some, but not all, of the reuse happens on chip. (Seed 004's formula
itself, $H_{in} W_{in} C_{in} K^2 C_{out}$ on the *input* grid for every stride, is a third
model, **`filter_rereads`**; on a stride-2 layer it reads four times `no_reuse`'s count.
Section 6a uses it.)

**SymPy confirms both formulas** for a "same" convolution with symbolic sizes (`int8` makes
bytes equal elements):
"""),
("code", r"""
C_in, C_out, K, H, W = lc.symbols("C_in C_out K H W")
b = sp.Symbol("b", positive=True)                 # bytes per element, kept symbolic

conv = lc.Conv2d(C_in, C_out, K, padding="same").cost((C_in, H, W))
inputs, weights, outputs = C_in*H*W, K**2*C_in*C_out + C_out, C_out*H*W

compulsory = lc.memory(conv, "compulsory", "int8")
assert sp.expand(compulsory.total - (inputs + weights + outputs)) == 0
assert sp.expand(compulsory.weight_reads - weights) == 0

no_reuse = lc.memory(conv, "no_reuse", "int8")
assert sp.expand(no_reuse.act_reads - H*W*C_in*K**2*C_out) == 0      # seed 004's input term
assert sp.expand(no_reuse.act_reads - conv.macs) == 0                 # one read per MAC

assert sp.factor(no_reuse.total) == C_out * (C_in*K**2 + 1) * (H*W + 1)
with_b = lc.memory(conv, "compulsory", dtype=b)                     # any element size
assert sp.expand(with_b.total - b*(inputs + weights + outputs)) == 0
display(sp.factor(compulsory.total), sp.factor(no_reuse.total))
"""),
("md", r"""
The `no_reuse` total even factors: weights $C_{out}(C_{in}K^2 + 1)$, plus one read per MAC
$C_{out} C_{in} K^2 HW$, plus one write per output $C_{out} HW$, is
$C_{out}(C_{in}K^2 + 1)(HW + 1)$.

**Seed 004's numbers.** A 3x3 convolution from 256 to 512 channels on a $28 \times 28$ map
("same" padding, with bias), counted in elements:

| | input reads | output writes | weights | total |
|---|---|---|---|---|
| `no_reuse`: regular 3x3 conv | $28^2 \cdot 256 \cdot 9 \cdot 512 = 924{,}844{,}032$ | $28^2 \cdot 512 = 401{,}408$ | $9 \cdot 256 \cdot 512 + 512 = 1{,}180{,}160$ | $926{,}425{,}600$ |
| `no_reuse`: depthwise 3x3 | $28^2 \cdot 256 \cdot 9 = 1{,}806{,}336$ | $200{,}704$ | $9 \cdot 256 + 256 = 2{,}560$ | $2{,}009{,}600$ |
| `no_reuse`: pointwise 1x1 | $28^2 \cdot 256 \cdot 512 = 102{,}760{,}448$ | $401{,}408$ | $256 \cdot 512 + 512 = 131{,}584$ | $103{,}293{,}440$ |
| `compulsory`: regular 3x3 conv | $28^2 \cdot 256 = 200{,}704$ | $401{,}408$ | $1{,}180{,}160$ | $1{,}782{,}272$ |
| `compulsory`: depthwise + pointwise | $200{,}704 + 200{,}704$ | $200{,}704 + 401{,}408$ | $2{,}560 + 131{,}584$ | $1{,}137{,}664$ |

The separable pair moves $926{,}425{,}600 / 105{,}303{,}040 \approx 8.8$ times fewer elements
than the regular conv without reuse (seed 004: "about 8.8x"), the same factor as its MACs.
With perfect reuse it moves only $1.57$ times fewer: the separable pair saves compute far more
than it saves compulsory traffic. Keep that in mind for section 6.

A ReLU on the $28 \times 28 \times 512$ output has no MACs but reads and writes every element:
$401{,}408 + 401{,}408 = 802{,}816$ accesses under either model (seed 004's argument for
fusion, section 5).
"""),
("code", r"""
regular = lc.Conv2d(256, 512, 3, padding=1).cost((256, 28, 28))
depthwise = lc.Conv2d(256, 256, 3, padding=1, groups=256).cost((256, 28, 28))
pointwise = lc.Conv2d(256, 512, 1).cost((256, 28, 28))
relu = lc.ReLU().cost((512, 28, 28))

def parts(cost, model):
    m = lc.memory(cost, model, "int8")
    return m.act_reads, m.writes, m.weight_reads, m.total

assert parts(regular, "no_reuse") == (924_844_032, 401_408, 1_180_160, 926_425_600)
assert parts(depthwise, "no_reuse") == (1_806_336, 200_704, 2_560, 2_009_600)
assert parts(pointwise, "no_reuse") == (102_760_448, 401_408, 131_584, 103_293_440)
separable_no_reuse = parts(depthwise, "no_reuse")[3] + parts(pointwise, "no_reuse")[3]
assert separable_no_reuse == 105_303_040
assert round(926_425_600 / separable_no_reuse, 1) == 8.8
assert round(regular.macs / (depthwise.macs + pointwise.macs), 1) == 8.8

assert parts(regular, "compulsory") == (200_704, 401_408, 1_180_160, 1_782_272)
separable_compulsory = parts(depthwise, "compulsory")[3] + parts(pointwise, "compulsory")[3]
assert separable_compulsory == 403_968 + 733_696 == 1_137_664
assert round(1_782_272 / separable_compulsory, 2) == 1.57
for model in ("compulsory", "no_reuse"):
    assert parts(relu, model)[3] == 2 * 401_408 == 802_816
"""),
("md", r"""
**Data types.** Bytes are elements times `lc.DTYPE_BYTES[dtype]`; `int4` packs two elements
per byte. Weights and activations may have different types: with int4 weights and fp16
activations the regular conv above moves $1{,}180{,}160 \cdot \tfrac12 + (200{,}704 +
401{,}408) \cdot 2 = 590{,}080 + 1{,}204{,}224 = 1{,}794{,}304$ bytes.
"""),
("code", r"""
assert dict(lc.DTYPE_BYTES) == {"fp64": 8, "fp32": 4, "tf32": 4, "fp16": 2, "bf16": 2,
                                "fp8": 1, "fp8-e4m3": 1, "fp8-e5m2": 1, "int8": 1,
                                "int4": sp.Rational(1, 2), "nf4": sp.Rational(1, 2)}
fp32 = lc.memory(regular, "compulsory", "fp32")
assert fp32.total == 4 * 1_782_272 == 7_129_088
mixed = lc.memory(regular, "compulsory", weight_dtype="int4", act_dtype="fp16")
assert (mixed.weight_reads, mixed.act_reads, mixed.writes) == (590_080, 401_408, 802_816)
assert mixed.total == 1_794_304
pd.Series({d: lc.memory(regular, "compulsory", d).total for d in lc.DTYPE_BYTES},
          name="bytes, compulsory, 3x3 conv 256->512 on 28x28")
"""),
("md", r"""
**Brute force: a convolution that logs its memory accesses.** The loop below walks a direct
convolution (output channel, output position, input channel, kernel tap) and records every
address it touches, with no formula: how often each input element is read, each weight read,
each output written, and how many taps fall on padding (zeros that are never in memory).
From the log:

* `no_reuse` activation reads = every tap (padding taps included, as a naive kernel fetches
  them too);
* `compulsory` = every *distinct* address once: the weights and bias, the outputs, and the
  input elements that some window touches.

We run it on 128 small layers and compare with layercalc's `Cost` fields (`tap_reads`,
`act_reads`, `weight_reads`, `writes`) and `lc.memory`.
"""),
("code", r"""
def window_starts(n, k, stride, padding):
    "Start positions of the windows that fit on the padded axis (notebook 1), by trying all."
    padded = n + 2 * padding
    return [s for s in range(0, padded, stride) if s + k - 1 <= padded - 1]


def traced_conv2d(c_in, c_out, k, h, w, stride=1, padding=0, bias=True):
    "Log every main-memory access of a direct convolution that reuses nothing on chip."
    x_reads, w_reads, y_writes = Counter(), Counter(), Counter()
    padding_taps = 0
    rows, cols = window_starts(h, k, stride, padding), window_starts(w, k, stride, padding)
    for o in range(c_out):
        for i, r0 in enumerate(rows):
            for j, s0 in enumerate(cols):
                for c in range(c_in):
                    for u in range(k):
                        for v in range(k):
                            w_reads[("w", o, c, u, v)] += 1
                            r, s = r0 + u - padding, s0 + v - padding
                            if 0 <= r < h and 0 <= s < w:
                                x_reads[(c, r, s)] += 1
                            else:
                                padding_taps += 1
                if bias:
                    w_reads[("b", o)] += 1
                y_writes[(o, i, j)] += 1
    return x_reads, w_reads, y_writes, padding_taps


checked, partly_read = 0, []
for c_in, c_out, k, (h, w), s, p, bias in itertools.product(
        [1, 2], [1, 3], [1, 3], [(5, 5), (6, 7)], [1, 2], [0, 1], [True, False]):
    x_reads, w_reads, y_writes, padding_taps = traced_conv2d(c_in, c_out, k, h, w, s, p, bias)
    cost = lc.Conv2d(c_in, c_out, k, stride=s, padding=p, bias=bias).cost((c_in, h, w))
    taps = sum(x_reads.values()) + padding_taps
    assert taps == cost.tap_reads == cost.macs                 # no_reuse: one read per MAC
    assert len(w_reads) == cost.weight_reads                   # every weight (and bias) once
    assert len(y_writes) == cost.writes                        # every output once
    assert lc.memory(cost, "no_reuse", "int8").total == taps + len(w_reads) + len(y_writes)
    # compulsory reads the whole input; a strided layer may skip some elements of it
    assert len(x_reads) <= cost.act_reads == c_in * h * w
    if s == 1:
        assert len(x_reads) == cost.act_reads
        assert (lc.memory(cost, "compulsory", "int8").total
                == len(x_reads) + len(w_reads) + len(y_writes))
    if s == 1 and 2 * p == k - 1:                              # "same": seed 004's formula
        assert taps == h * w * c_in * k * k * c_out
    if len(x_reads) < cost.act_reads:
        partly_read.append((k, s, (h, w), len(x_reads) // c_in))
    checked += 1

assert checked == 128
k0, s0, (h0, w0), touched0 = partly_read[0]
assert all(stride == 2 for _, stride, _, _ in partly_read)
assert (k0, s0, h0, w0, touched0) == (1, 2, 5, 5, 9)
print(f"{checked} layers agree; {len(partly_read)} strided ones never touch part of their input,"
      f" e.g. a {k0}x{k0} conv with stride {s0} reads {touched0} of the {h0 * w0} elements of "
      f"each {h0}x{w0} input channel")
"""),
("md", r"""
So the `no_reuse` count is exact for a kernel that fetches every tap, and the `compulsory`
count is exact whenever the windows cover the input (always at stride 1). A 1x1 convolution
with stride 2 reads only about a quarter of its input; layercalc, like seed 000 and torchstat,
still charges the whole tensor, since it is produced and stored by the previous layer anyway.

Note that seed 004's literal formula $H_{in} W_{in} C_{in} K^2 C_{out}$ is exact only at
stride 1: with stride $S$ there are $S^2$ times fewer windows, and the log above counts
$\text{MACs} = C_{in} K^2 H_{out} W_{out} C_{out}$ reads, which is what layercalc uses.

**Plot: how often each input element is read without reuse.** For a 3x3 "same" conv with
four filters on an $8 \times 8$ map, an interior element is read $K^2 C_{out} = 36$ times,
an edge element 24 times, a corner 16 times (the missing taps fall on padding). Next to it,
seed 004's three layers under both models:
"""),
("code", r"""
x_reads, _, _, padding_taps = traced_conv2d(1, 4, 3, 8, 8, stride=1, padding=1)
grid = np.array([[x_reads[(0, r, s)] for s in range(8)] for r in range(8)])
assert grid[3, 3] == 36 and grid[0, 3] == 24 and grid[0, 0] == 16
assert grid.sum() + padding_taps == 8 * 8 * 9 * 4

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9, 3.5))
im = ax0.imshow(grid, cmap="viridis")
for (r, s), v in np.ndenumerate(grid):
    ax0.text(s, r, v, ha="center", va="center", fontsize=9, color="k" if v > 30 else "w")
ax0.set(title="reads per input element, 3x3 conv, 4 filters", xticks=[], yticks=[])

layers = {"3x3 conv": [regular], "depthwise": [depthwise], "pointwise": [pointwise],
          "separable pair": [depthwise, pointwise]}
xs = np.arange(len(layers))
for shift, model in ((-0.2, "compulsory"), (0.2, "no_reuse")):
    totals = [sum(parts(c, model)[3] for c in cs) for cs in layers.values()]
    ax1.bar(xs + shift, totals, width=0.4, label=model)
ax1.set_yscale("log")
ax1.set_xticks(xs, list(layers), fontsize=9)
ax1.set(ylabel="elements moved", title="seed 004: 256 -> 512 channels, 28x28")
ax1.legend()
show(fig)
"""),
("md", r"""
## 2. Arithmetic intensity and the roofline

A device has two limits (seed 000): its peak compute $\pi$ in FLOP/s and its memory bandwidth
$\beta$ in bytes/s. A layer that does $F$ FLOPs and moves $M$ bytes needs at least $F/\pi$
seconds of arithmetic and $M/\beta$ seconds of transfer; if the two overlap perfectly, it takes

$$ t \ge \max\!\left(\frac{F}{\pi}, \frac{M}{\beta}\right)
   = \frac{F}{\min(\pi,\ \beta I)}, \qquad I = \frac{F}{M}
   \ \text{(arithmetic intensity, FLOP/byte)}. $$

So the attainable performance is $P(I) = \min(\pi, \beta I)$: a slanted line (the bandwidth
"eave") up to the **ridge point** $I^* = \pi/\beta$, then a flat roof. A layer with $I < I^*$
is *memory-bound* (more compute would not help), one with $I > I^*$ *compute-bound*. The time
is a lower bound on wall time (no kernel beats both limits).

**Which FLOPs.** A datasheet's peak counts a fused multiply-add as 2 FLOPs, so the derivations
in this notebook count $F$ as 2 per multiply-accumulate: layercalc's `2*macs` convention, passed
explicitly to every `lc.roofline` and `critical_*` call below. (layercalc's default, `exact`,
also counts the adds that close each dot product short, the bias adds and the elementwise
work of BatchNorm, ReLU and pooling; section 2's plot uses it to place those layers too.)

**Peak and bandwidth from the clocks** (seed 002). An NVIDIA A100 runs 108 SMs of 64 FP32
cores at 1.41 GHz, each core doing one fused multiply-add (2 FLOPs) per cycle:
$1.41 \cdot 10^9 \cdot 108 \cdot 64 \cdot 2 = 19.49$ TFLOP/s. Its HBM2 memory has a 5120-bit
bus at 1215 MHz, double data rate: $(1215 \cdot 10^6 \cdot 2) \cdot 5120 / 8 = 1555.2$ GB/s.
Seed 002's camera chip, 32-bit DDR at 2000 MHz on 2 channels, has
$(2000 \cdot 10^6 \cdot 2) \cdot (32/8) \cdot 2 = 32$ GB/s. `Hardware.from_clock` and
`memory_bandwidth` implement these formulas; the `a100-sxm4-40gb` preset holds the
datasheet's rounded 19.5 TFLOP/s and 1555 GB/s.
"""),
("code", r"""
a100_bw = lc.memory_bandwidth(1215 * 10**6, 5120)
a100_clock = lc.Hardware.from_clock("a100 from clocks", 1_410_000_000, 108, 64,
                                    mem_bytes_per_s=a100_bw)
assert a100_clock.peak("fp32") == 1_410_000_000 * 108 * 64 * 2 == 19_491_840_000_000
assert round(a100_clock.peak("fp32") / 1e12, 2) == 19.49
assert a100_bw == 1_555_200_000_000
assert lc.memory_bandwidth(2000 * 10**6, 32, channels=2) == 32 * 10**9

a100_40 = lc.get_hardware("a100-sxm4-40gb")
assert (a100_40.peak("fp32"), a100_40.bandwidth()) == (19_500_000_000_000, 1_555_000_000_000)
assert abs(a100_clock.ridge("fp32") - a100_40.ridge("fp32")) < 0.01   # the same device
"""),
("md", r"""
**Ridge points.** The ridge is the intensity a kernel needs to use the whole chip. The A100's
tensor cores raise $\pi$ sixteen-fold from fp32 to fp16 while $\beta$ stays, so the ridge
moves from $\approx 9.6$ to $\approx 153$ FLOP/byte (80 GB model, 2039 GB/s). An edge chip,
NVIDIA's Jetson AGX Orin, has 137.5 dense int8 TOPS on 204.8 GB/s: a ridge of $\approx 671$
operations per byte, so on it almost everything is memory-bound. The Hi3519AV100 of seed 000
(1.7 TOPS) has no documented bandwidth, so layercalc refuses to place layers on its roofline
until you supply one; paired with seed 002's 32 GB/s camera-chip bandwidth (an illustrative
pairing, not a datasheet) its ridge would be $1.7 \cdot 10^{12} / (32 \cdot 10^9) = 53.1$.
"""),
("code", r"""
a100 = lc.get_hardware("a100-sxm4-80gb")
orin = lc.get_hardware("jetson-agx-orin-64gb")
assert a100.ridge("fp16") == sp.Rational(312_000, 2039) and round(float(a100.ridge("fp16"))) == 153
assert round(float(a100.ridge("fp32")), 1) == 9.6
assert a100.peak("fp16") == 16 * a100.peak("fp32")
assert orin.ridge("int8") == sp.Rational(137_500_000, 204_800) and round(float(orin.ridge("int8"))) == 671

hi3519 = lc.get_hardware("hi3519av100")
try:
    lc.roofline(regular, hi3519, "int8", convention="2*macs")
except lc.LayerCalcError as err:
    print(str(err)[:80], "...")
else:
    raise AssertionError("expected the undocumented bandwidth to be refused")
camera = lc.Hardware("hi3519av100 + 32 GB/s (illustrative)", {"int8": hi3519.peak("int8")},
                     32 * 10**9, "seed 000 (1.7 TOPS) + seed 002 (camera chip, 32 GB/s)")
assert camera.ridge("int8") == sp.Rational(1_700, 32) and float(camera.ridge("int8")) == 53.125

# seed 000's utilization: used OP/s over raw OP/s
assert lc.utilization(850 * 10**9, 1, "hi3519av100", "int8") == sp.Rational(1, 2)

ridges = {f"{h.name} {d}": float(h.ridge(d)) for h, d in
          [(a100, "fp32"), (a100, "fp16"), (a100, "int8"), (orin, "fp32"), (orin, "int8"),
           (camera, "int8")]}
pd.Series(ridges, name="ridge, FLOP/byte").round(1)
"""),
("md", r"""
**Seed 004's layers on the A100 in fp16.** With FLOPs $= 2 \cdot$ MACs and compulsory
traffic at 2 bytes per element:

| layer | FLOPs | bytes | $I$ | bound |
|---|---|---|---|---|
| 3x3 conv 256 -> 512 | $2 \cdot 924{,}844{,}032$ | $2 \cdot 1{,}782{,}272$ | $518.9$ | compute |
| pointwise 256 -> 512 | $2 \cdot 102{,}760{,}448$ | $2 \cdot 733{,}696$ | $140.1$ | memory (just) |
| depthwise 3x3 | $2 \cdot 1{,}806{,}336$ | $2 \cdot 403{,}968$ | $4.47$ | memory |

A depthwise conv does 9 MACs per output element and has little to reuse, so its intensity is
tiny. The roofline times are $5.93\ \mu s$ for the regular conv and $0.40 + 0.72 = 1.12\
\mu s$ for the separable pair: a $5.3\times$ speed-up from $8.8\times$ fewer MACs.
"""),
("code", r"""
points = {name: lc.roofline(c, a100, "fp16", convention="2*macs").total
          for name, c in [("3x3 conv", regular), ("pointwise", pointwise),
                          ("depthwise", depthwise)]}
assert points["3x3 conv"].flops == 2 * 924_844_032
assert points["3x3 conv"].bytes == 2 * 1_782_272
assert points["3x3 conv"].intensity == sp.Rational(924_844_032, 1_782_272)
assert round(float(points["3x3 conv"].intensity), 1) == 518.9
assert round(float(points["pointwise"].intensity), 1) == 140.1
assert round(float(points["depthwise"].intensity), 2) == 4.47
assert [p.bound for p in points.values()] == ["compute", "memory", "memory"]
for p in points.values():                 # t = max(F/pi, M/beta) = F / min(pi, beta*I)
    assert p.time == max(sp.Rational(p.flops, a100.peak("fp16")),
                         sp.Rational(p.bytes, a100.bandwidth())) == sp.Rational(p.flops) / p.attainable
t_conv = points["3x3 conv"].time
t_sep = points["pointwise"].time + points["depthwise"].time
assert round(float(t_conv) * 1e6, 2) == 5.93 and round(float(t_sep) * 1e6, 2) == 1.12
assert round(float(t_conv / t_sep), 1) == 5.3
"""),
("md", r"""
**SymPy: the roofline with symbolic hardware.** Give $\pi$ and $\beta$ as symbols and
layercalc keeps the $\min$; the time is $\max(F/\pi, M/\beta)$ exactly:
"""),
("code", r"""
pi, beta = sp.symbols("pi beta", positive=True)
teach = lc.Hardware("teach", {"fp16": pi}, beta, "symbols")
sym = lc.roofline(regular, teach, "fp16", convention="2*macs").total
I_conv = sp.Rational(924_844_032, 1_782_272)
assert sym.intensity == I_conv
assert sym.attainable == sp.Min(pi, beta * I_conv)
assert sym.time == sp.Max(sym.flops / pi, sym.bytes / beta)
assert lc.roofline(regular, teach, "fp16", convention="2*macs").ridge == pi / beta
display(sym.attainable, sym.time)
"""),
("md", r"""
**Brute force: the intensity of a tiny layer from the access log.** For a small conv, the
FLOPs are twice the multiplies the loop performs and the bytes are the distinct addresses
it touches; their ratio must be layercalc's intensity:
"""),
("code", r"""
for c_in, c_out, k, h in [(2, 3, 3, 6), (4, 4, 1, 5), (3, 8, 3, 9)]:
    x_reads, w_reads, y_writes, padding_taps = traced_conv2d(c_in, c_out, k, h, h, 1, k // 2)
    multiplies = sum(x_reads.values()) + padding_taps
    touched = len(x_reads) + len(w_reads) + len(y_writes)
    point = lc.roofline(lc.Conv2d(c_in, c_out, k, padding=k // 2).cost((c_in, h, h)),
                        a100, "fp16", convention="2*macs").total
    assert point.intensity == sp.Rational(2 * multiplies, 2 * touched)
    print(f"conv {c_in}->{c_out}, {k}x{k} on {h}x{h}: I = {2 * multiplies} / {2 * touched} "
          f"= {float(point.intensity):.2f} FLOP/byte")
"""),
("md", r"""
**Plot: ResNet-50 on two rooflines.** `lc.plot_roofline` draws the roof, the ridge and every
layer at its intensity and attained performance (the slowest layer labelled), with the whole
network as a star. We count FLOPs with the `exact` convention here, so that the BatchNorm,
ReLU and add layers, which have no multiply-accumulates and hence no `2*macs` FLOPs, appear
too: they are the points at an intensity of about 1 FLOP/byte or less. On the A100 in fp16
only twelve of the 3x3 convolutions sit right of the ridge; every other layer, and the
network as a whole, is memory-bound. On the Jetson Orin in int8 (one byte per element doubles
every intensity, but the ridge is 671) not a single layer is compute-bound.
"""),
("code", r"""
resnet = lc.analyze(zoo.resnet50(), (3, 224, 224), name="ResNet-50")
on_a100 = lc.roofline(resnet, a100, "fp16", convention="exact")
on_orin = lc.roofline(resnet, orin, "int8", convention="exact")

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4))
lc.plot_roofline(on_a100, ax=ax0, label_top=1)   # titled by model, hardware and dtype
lc.plot_roofline(on_orin, ax=ax1, label_top=1)
show(fig)

compute_bound = [p.name for p in on_a100.points if p.bound == "compute"]
assert on_a100.total.bound == on_orin.total.bound == "memory"
assert round(float(on_a100.total.intensity), 1) == 38.6
assert on_orin.total.intensity == 2 * on_a100.total.intensity
assert not any(p.bound == "compute" for p in on_orin.points)
no_macs = [p for row, p in zip(resnet.rows, on_a100.points)
           if row.cost.macs == 0 and p.intensity is not None]
assert {row.kind for row in resnet.rows if row.cost.macs == 0} == {
    "BatchNorm2d", "ReLU", "MaxPool2d", "AdaptiveAvgPool2d", "Add", "Flatten"}
assert all(p.intensity < 1.01 for p in no_macs)
assert len(compute_bound) == 12 and all(name.endswith(".conv2") for name in compute_bound)
print(f"{len(compute_bound)} of {len(on_a100.points)} layers compute-bound on the A100; "
      f"roofline time {float(on_a100.time) * 1e6:.0f} µs on the A100, "
      f"{float(on_orin.time) * 1e6:.0f} µs on the Orin")
"""),
("md", r"""
## 3. When does a layer turn compute-bound?

Weights are read once per batch, activations once per sample. For a fully connected layer
from $I$ to $O$ features with a bias, at batch $B$ and $b$ bytes per element:

$$ F(B) = 2\,I O\,B, \qquad M(B) = b\,(IO + O) + b\,B\,(I + O), \qquad
   \mathcal{I}(B) = \frac{2IO\,B}{b\,(IO + O) + b\,B\,(I + O)}. $$

$\mathcal{I}(B)$ rises with $B$ towards $\frac{2IO}{b(I + O)}$: batching amortises the
weights. Setting $\mathcal{I}(B) = r = \pi/\beta$ and solving the linear equation
$2IO\,B = r\,b\,(IO + O) + r\,b\,B\,(I+O)$:

$$ \boxed{B^* = \frac{r\,b\,(IO + O)}{2IO - r\,b\,(I + O)}} $$

and the first compute-bound batch is $\lceil B^* \rceil$. If $r \ge \frac{2IO}{b(I+O)}$
the denominator is not positive and no batch is ever enough. For $4096 \to 4096$ in fp16 the
limit is $2 \cdot 4096^2 / (2 \cdot 8192) = 2048$ FLOP/byte; on the A100 ($r = 153.02$),
$B^* = 4097\,r / (4096 - 2r) = 165.4$, so batch **166**.

**SymPy confirms it**, twice: solving the equation by hand, and letting
`lc.critical_value` solve it with symbolic $I$, $O$, $b$, $\pi$ and $\beta$:
"""),
("code", r"""
I_, O_, B = lc.symbols("I_f O_f B")  # "I" and "O" would print as SymPy's i and Order
r = sp.Symbol("r", positive=True)                       # the ridge pi / beta
F = 2 * I_ * O_ * B
M = b * (I_ * O_ + O_) + b * B * (I_ + O_)

report_B = lc.analyze(lc.Linear(I_, O_), (I_,), batch=B)
assert sp.expand(lc.flops(report_B, "2*macs") - F) == 0
assert sp.expand(lc.memory(report_B, "compulsory", dtype=b).total - M) == 0

B_star = sp.solve(sp.Eq(F, r * M), B)[0]
assert sp.simplify(B_star - r*b*(I_*O_ + O_) / (2*I_*O_ - r*b*(I_ + O_))) == 0
assert sp.simplify(sp.limit(F / M, B, sp.oo) - 2*I_*O_ / (b*(I_ + O_))) == 0

by_layercalc = lc.critical_value(lambda x: lc.analyze(lc.Linear(I_, O_), (I_,), batch=x), B,
                                 teach, "fp16", weight_dtype=b, act_dtype=b, convention="2*macs")
assert sp.simplify(by_layercalc - B_star.subs(r, pi / beta)) == 0
pretty = sp.Mul(r * b * O_ * (I_ + 1),
                sp.Pow(2 * I_ * O_ - r * b * (I_ + O_), -1, evaluate=False), evaluate=False)
assert sp.simplify(pretty - B_star) == 0
display(sp.Eq(sp.Symbol("B^*"), pretty, evaluate=False))

B_4096 = B_star.subs({I_: 4096, O_: 4096, b: 2})
assert sp.simplify(B_4096 - 4097 * r / (4096 - 2 * r)) == 0
at_a100 = B_4096.subs(r, sp.Rational(312_000, 2039))
assert round(float(at_a100), 1) == 165.4 and sp.ceiling(at_a100) == 166
assert lc.critical_batch(lc.Linear(4096, 4096), (4096,), a100, "fp16", convention="2*macs") == 166
"""),
("md", r"""
**Brute force.** First a traced matrix-vector loop on tiny layers establishes $F(B)$ and
$M(B)$ by counting (multiplies, adds, distinct addresses), for every small $I$, $O$ and $B$.
Then we scan the batch for $4096 \to 4096$ with exact fractions, $B = 1, 2, \dots$ until
$F(B) \ge r\,M(B)$, and check the roofline says "memory" at 165 and "compute" at 166.
"""),
("code", r"""
def traced_linear(i, o, batch):
    "y[n][q] = sum_p x[n][p] w[q][p] + bias[q], logging operations and touched addresses."
    flops, touched = 0, set()
    for n in range(batch):
        for q in range(o):
            for p in range(i):
                touched |= {("x", n, p), ("w", q, p)}
                flops += 2                               # one multiply, one add
            touched |= {("bias", q), ("y", n, q)}        # the bias add is the n-th add
    return flops, len(touched)

for i, o, batch in itertools.product(range(1, 4), range(1, 4), range(1, 5)):
    flops, elements = traced_linear(i, o, batch)
    rep = lc.analyze(lc.Linear(i, o), (i,), batch=batch)
    assert flops == lc.flops(rep, "2*macs") == 2 * i * o * batch
    assert elements == lc.memory(rep, "compulsory", "int8").total
    assert elements == (i * o + o) + batch * (i + o)

ridge = Fraction(312_000, 2039)
first = next(n for n in itertools.count(1)
             if 2 * 4096 * 4096 * n >= ridge * 2 * ((4096 * 4096 + 4096) + n * 8192))
assert first == 166
for n, expect in ((165, "memory"), (166, "compute")):
    rl = lc.roofline(lc.analyze(lc.Linear(4096, 4096), (4096,), batch=n), a100, "fp16",
                     convention="2*macs")
    assert rl.total.bound == expect
"""),
("md", r"""
The same question for other devices and types. In int8 every intensity doubles ($b = 1$),
but the Orin's ridge is 671, so it needs batch 402; the H100's fp16 ridge is
$989.4/3.35 \approx 295$, batch 346. A ReLU does no multiply-accumulates and is never
compute-bound (`critical_batch` returns `None`).
"""),
("code", r"""
lin = lc.Linear(4096, 4096)
cases = {"A100 80GB fp16": (a100, "fp16"), "A100 80GB fp32": (a100, "fp32"),
         "H100 SXM fp16": (lc.get_hardware("h100-sxm"), "fp16"),
         "Jetson Orin int8": (orin, "int8"), "Jetson Orin fp32": (orin, "fp32")}
critical = {name: lc.critical_batch(lin, (4096,), hw, dt,
                                    convention="2*macs") for name, (hw, dt) in cases.items()}
for name, (hw, dt) in cases.items():            # the closed form, evaluated
    formula = B_star.subs({I_: 4096, O_: 4096, b: lc.DTYPE_BYTES[dt], r: hw.ridge(dt)})
    assert sp.ceiling(formula) == critical[name], name
assert critical == {"A100 80GB fp16": 166, "A100 80GB fp32": 20, "H100 SXM fp16": 346,
                    "Jetson Orin int8": 402, "Jetson Orin fp32": 54}
assert round(float(lc.get_hardware("h100-sxm").ridge("fp16"))) == 295
assert lc.critical_batch(lc.ReLU(), (4096,), a100, convention="2*macs") is None
critical
"""),
("code", r"""
batches = np.logspace(0, 5, 120)
fig, ax = plt.subplots()
for nbytes, label in ((2, "fp16 bytes"), (1, "int8 bytes")):
    intensity = 2 * 4096**2 * batches / (nbytes * ((4096**2 + 4096) + batches * 8192))
    ax.loglog(batches, intensity, label=f"Linear 4096->4096, {label}")
for name, color in (("A100 80GB fp16", "C2"), ("H100 SXM fp16", "C3"),
                    ("Jetson Orin int8", "C4")):
    hw, dt = cases[name]
    ax.axhline(float(hw.ridge(dt)), color=color, ls="--", lw=1,
               label=f"ridge {name}: batch {critical[name]}")
    ax.axvline(critical[name], color=color, ls=":", lw=1)
ax.set(xlabel="batch size $B$", ylabel="intensity (FLOP/byte)",
       title="Batching amortises the weights")
ax.legend(fontsize=9)
ax.grid(alpha=0.3)
show(fig)
"""),
("md", r"""
**A convolution's resolution plays the batch's role.** A 3x3 conv from 64 to 64 channels
with bias on an $R \times R$ map in fp16: $F = 2 \cdot 64 \cdot 64 \cdot 9\, R^2 = 73{,}728\,
R^2$ and $M = 2\,(64R^2 + 36{,}928 + 64R^2) = 256 R^2 + 73{,}856$. Compute-bound when

$$ R^2 \ge \frac{73{,}856\, r}{73{,}728 - 256\, r} = \frac{288.5\,\pi}{288\,\beta - \pi}, $$

which on the A100 is $R^2 \ge 327.04$, $R \ge 18.08$: resolution **19**
(`lc.critical_resolution`). A whole ResNet-50 never gets there: its BatchNorm, ReLU and add
layers move bytes without doing multiply-accumulates, which caps the network's intensity.
"""),
("code", r"""
conv64 = lc.Conv2d(64, 64, 3, padding=1)
assert lc.critical_resolution(conv64, 64, a100, "fp16", convention="2*macs") == 19
R_threshold = lc.critical_resolution(conv64, 64, teach, convention="2*macs")
assert sp.simplify(R_threshold**2 - sp.Rational(577, 2) * pi / (288 * beta - pi)) == 0
R_a100 = R_threshold.subs({pi: a100.peak("fp16"), beta: a100.bandwidth()})
assert round(float(R_a100**2), 2) == 327.04 and round(float(R_a100), 2) == 18.08
scan = next(n for n in itertools.count(1)                 # brute force over resolutions
            if lc.roofline(lc.analyze(conv64, (64, n, n)), a100, "fp16",
                           convention="2*macs").total.bound
            == "compute")
assert scan == 19
assert lc.critical_resolution(zoo.resnet50(), 3, a100, "fp16", convention="2*macs") is None
R_threshold
"""),
("md", r"""
## 4. ShuffleNet V2's guideline G1: equal channel widths

Ma et al. (ShuffleNet V2, ECCV 2018) give four practical guidelines for fast networks; the
first, **G1**, says a 1x1 convolution moves the fewest bytes for its FLOPs when its input and
output widths are equal. Take a 1x1 conv (no bias) from $c_1$ to $c_2$ channels on an
$h \times w$ map. Its FLOPs, counted as MACs, are $B = h w\, c_1 c_2$, and its compulsory MAC
is (seed 002)

$$ \text{MAC} = h w\,(c_1 + c_2) + c_1 c_2 . $$

By the inequality of arithmetic and geometric means, $c_1 + c_2 \ge 2\sqrt{c_1 c_2} =
2\sqrt{B/(hw)}$, so

$$ \boxed{\text{MAC} \ge 2 h w \sqrt{\frac{B}{hw}} + \frac{B}{hw}
   = 2\sqrt{hwB} + \frac{B}{hw}} $$

with equality exactly when $c_1 = c_2$. The gap is a perfect square:
$\text{MAC} - \text{bound} = hw\,(\sqrt{c_1} - \sqrt{c_2})^2$. Equivalently, with $B$ and
$hw$ fixed, set $c_2 = B/(hw\,c_1)$ and minimise over $c_1$: $\frac{d}{dc_1}\text{MAC} =
hw\,(1 - B/(hw\,c_1^2)) = 0$ at $c_1 = \sqrt{B/(hw)} = c_2$.
"""),
("code", r"""
c1, c2, h, w = lc.symbols("c1 c2 h w")
Bf = sp.Symbol("B", positive=True)                           # fixed FLOPs (as MACs)
pw_cost = lc.Conv2d(c1, c2, 1, bias=False).cost((c1, h, w))
mac = lc.memory(pw_cost, "compulsory", "int8").total

assert sp.expand(pw_cost.macs - h*w*c1*c2) == 0
assert sp.expand(mac - (h*w*(c1 + c2) + c1*c2)) == 0             # seed 002's formula

bound = 2 * sp.sqrt(h*w*Bf) + Bf / (h*w)
gap = sp.expand(mac - bound.subs(Bf, h*w*c1*c2))
assert sp.simplify(gap - h*w*(sp.sqrt(c1) - sp.sqrt(c2))**2) == 0     # >= 0, 0 iff c1 = c2

x = sp.Symbol("x", positive=True)                            # c1 free, c2 = B / (h w c1)
mac_x = h*w*(x + Bf/(h*w*x)) + Bf/(h*w)
(x_best,) = sp.solve(sp.diff(mac_x, x), x)
assert sp.simplify(x_best - sp.sqrt(Bf/(h*w))) == 0
assert sp.simplify(mac_x.subs(x, sp.sqrt(Bf/(h*w))) - bound) == 0
display(sp.Eq(sp.Symbol(r"\mathrm{MAC} - \mathrm{bound}"),
              h * w * sp.Pow(sp.sqrt(c1) - sp.sqrt(c2), 2, evaluate=False), evaluate=False))
"""),
("md", r"""
**Brute force.** Fix $h = w = 2$ and $c_1 c_2 = 36$, so $B = 144$ MACs. The traced
convolution of section 1 logs every address for each of the nine channel splits; the minimum
is at $6 \times 6$ with $\text{MAC} = 4 \cdot 12 + 36 = 84 = 2\sqrt{4 \cdot 144} + 144/4$.
Then a realistic size, $h = w = 28$ and $c_1 c_2 = 256^2$ ($B = 51{,}380{,}224$ MACs), over all
17 power-of-two splits with `lc.memory`: the minimum is at $256 \times 256$,
$784 \cdot 512 + 65{,}536 = 466{,}944$ elements, exactly the bound.
"""),
("code", r"""
def divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]

tiny = {}
for a in divisors(36):
    x_reads, w_reads, y_writes, _ = traced_conv2d(a, 36 // a, 1, 2, 2, bias=False)
    tiny[(a, 36 // a)] = len(x_reads) + len(w_reads) + len(y_writes)
    assert tiny[(a, 36 // a)] == 4 * (a + 36 // a) + 36
assert min(tiny, key=tiny.get) == (6, 6) and tiny[(6, 6)] == 84 == 2 * 24 + 36

N, hw = 256**2, 28 * 28
B_fixed = hw * N
lower = 2 * sp.sqrt(hw * B_fixed) + sp.Rational(B_fixed, hw)
assert B_fixed == 51_380_224 and lower == 466_944
mac_of = {}
for a in divisors(N):
    layer = lc.Conv2d(a, N // a, 1, bias=False).cost((a, 28, 28))
    assert layer.macs == B_fixed
    mac_of[a] = lc.memory(layer, "compulsory", "int8").total
    assert mac_of[a] == hw * (a + N // a) + N >= lower
assert len(mac_of) == 17 and min(mac_of, key=mac_of.get) == 256 and mac_of[256] == lower
assert round(float(mac_of[128] / lower), 3) == 1.215              # 1:4 costs 21.5% more
pd.Series({f"{a}:{N // a}": mac_of[a] for a in (16, 64, 128, 256, 512, 1024, 4096)},
          name="MAC (elements), 1x1 conv on 28x28, B fixed")
"""),
("md", r"""
**Plot: the price of unequal widths.** With $c_1 = \sqrt{N t}$ and $c_2 = \sqrt{N/t}$ for a
ratio $t = c_1/c_2$ and fixed $N = c_1 c_2$,

$$ \frac{\text{MAC}}{\text{bound}} = \frac{hw\sqrt{N}\,(\sqrt{t} + 1/\sqrt{t}) + N}
   {2hw\sqrt{N} + N}, $$

symmetric in $t \leftrightarrow 1/t$. The penalty grows with the feature map: when
$hw \gg \sqrt{N}$ the activation term $hw(c_1 + c_2)$ dominates and the ratio approaches
$(\sqrt{t} + 1/\sqrt{t})/2$, about 16 at $t = 2^{10}$; on a small map the weights
$c_1 c_2$, which do not depend on the split, dominate and the penalty is mild. Points are the
integer splits computed with `lc.memory`.
"""),
("code", r"""
t = np.logspace(-3, 3, 150)
penalty = {}
fig, ax = plt.subplots()
for side, color in ((56, "C0"), (14, "C1"), (4, "C2")):
    n_hw = side * side
    ratio = (n_hw * np.sqrt(N) * (np.sqrt(t) + 1 / np.sqrt(t)) + N) / (2 * n_hw * np.sqrt(N) + N)
    ax.semilogx(t, ratio, color=color, label=f"{side}x{side} map")
    splits = [2**k for k in range(3, 14)]                  # c1/c2 from 2**-10 to 2**10
    measured = [lc.memory(lc.Conv2d(a, N // a, 1, bias=False).cost((a, side, side)),
                          "compulsory", "int8").total for a in splits]
    best = 2 * np.sqrt(n_hw * n_hw * N) + N
    ax.plot([a / (N // a) for a in splits], np.array(measured) / best, "o", color=color, ms=4)
    penalty[side] = measured[-1] / best                  # at c1/c2 = 2**10
ax.axvline(1, color="k", lw=0.8)
ax.set(xlabel="$c_1 / c_2$ (with $c_1 c_2 = 256^2$ fixed)", ylabel="MAC / lower bound",
       title="G1: a 1x1 conv moves the least at $c_1 = c_2$", ylim=(0.9, 25))
ax.set_yscale("log")
ax.legend()
ax.grid(alpha=0.3)
show(fig)
assert round((2**5 + 2**-5) / 2) == 16 and 14 < penalty[56] < 16.1 and penalty[4] < 3
"""),
("md", r"""
## 5. Fusion: folding BatchNorm, fusing ReLU

At inference a BatchNorm after a convolution is a fixed affine map per channel (seed 004):

$$ z = \gamma\,\frac{\big(\sum_i w_i x_i + b\big) - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta
   = \sum_i \underbrace{\frac{\gamma\, w_i}{\sqrt{\sigma^2+\epsilon}}}_{w_i'} x_i
   + \underbrace{\frac{\gamma\,(b - \mu)}{\sqrt{\sigma^2+\epsilon}} + \beta}_{b'} , $$

so it can be folded into the conv's weights and bias and disappears (valid for conv then BN,
not BN then conv). A ReLU that follows can be applied by the conv's kernel before it writes
its output: its compares remain, its $2 \times$ activation traffic goes. `lc.fold_batchnorm`
is the formula; `lc.fuse` rewrites a model; `lc.fuse_report` compares before and after.
"""),
("code", r"""
xs_ = sp.symbols("x0:3")
ws_ = sp.symbols("w0:3")
bias_, gamma, beta_bn, mu, var, eps = sp.symbols("b gamma beta mu sigma^2 epsilon")
bn_after_conv = gamma * ((sum(wi * xi for wi, xi in zip(ws_, xs_)) + bias_) - mu) \
    / sp.sqrt(var + eps) + beta_bn
folded = [lc.fold_batchnorm(wi, bias_, gamma, beta_bn, mu, var, eps) for wi in ws_]
b_folded = folded[0][1]
assert sp.simplify(bn_after_conv - (sum(wf * xi for (wf, _), xi in zip(folded, xs_))
                                    + b_folded)) == 0
display(folded[0][0], b_folded)
"""),
("md", r"""
**Brute force, numerically.** A direct 3x3 convolution in Python loops followed by a
BatchNorm with random statistics, against the same loop with folded weights:
"""),
("code", r"""
def direct_conv(x, weight, bias):
    "Valid 3-D cross-correlation, one output element at a time."
    c_out, _, k, _ = weight.shape
    h_out, w_out = x.shape[1] - k + 1, x.shape[2] - k + 1
    y = np.zeros((c_out, h_out, w_out))
    for o, i, j in itertools.product(range(c_out), range(h_out), range(w_out)):
        y[o, i, j] = np.sum(weight[o] * x[:, i:i + k, j:j + k]) + bias[o]
    return y

rng = np.random.default_rng(4)
x_in = rng.normal(size=(2, 6, 6))
weight, bias = rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
g, be, mean = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3)
variance, epsilon = rng.uniform(0.5, 2, size=3), 1e-5

y = direct_conv(x_in, weight, bias)
col = (slice(None), None, None)
reference = g[col] * (y - mean[col]) / np.sqrt(variance + epsilon)[col] + be[col]
pairs = [lc.fold_batchnorm(weight[o], bias[o], g[o], be[o], mean[o], variance[o], epsilon)
         for o in range(3)]
fused_y = direct_conv(x_in, np.stack([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
assert np.max(np.abs(fused_y - reference)) < 1e-12
"""),
("md", r"""
**Seed 004's conv, BN, ReLU** on $28 \times 28 \times 512$ in int8, by hand (compulsory):

| | before | after fusion |
|---|---|---|
| conv 3x3, 256 -> 512 | $1{,}179{,}648 + 200{,}704 + 401{,}408 = 1{,}781{,}760$ | with its new bias: $1{,}782{,}272$ |
| BatchNorm ($2 \cdot 512$ params, $2 \cdot 512$ buffers) | $2{,}048 + 401{,}408 + 401{,}408 = 804{,}864$ | folded: 0 |
| ReLU | $401{,}408 + 401{,}408 = 802{,}816$ | fused: 0 |
| total | $3{,}389{,}440$ | $1{,}782{,}272$ |

Fusion removes $1{,}607{,}168$ accesses, 47% of the block's traffic, and 512 parameters (the
BN's 1,024 minus the conv's new 512 biases); MACs are unchanged.
"""),
("code", r"""
block = lc.Sequential(lc.Conv2d(256, 512, 3, padding=1, bias=False), lc.BatchNorm2d(512),
                      lc.ReLU())
fr = lc.fuse_report(block, (256, 28, 28), dtype="int8")
print(fr)
assert fr.folded == (("0", "1"),) and fr.fused == (("2", "0"),)
assert fr.totals["params"] == (1_180_672, 1_180_160)
assert fr.totals["memory[compulsory]"] == (1_781_760 + 804_864 + 802_816, 1_782_272)
assert fr.totals["memory[compulsory]"] == (3_389_440, 1_782_272)
saved = 3_389_440 - 1_782_272
assert saved == 1_607_168 and round(saved / 3_389_440, 2) == 0.47
assert fr.totals["macs"][0] == fr.totals["macs"][1]
"""),
("md", r"""
**The whole of ResNet-50** (fp16): all 53 BatchNorms fold into their convolutions and all 49
ReLUs fuse, into a convolution or, after a residual add, into the add. Compulsory traffic falls
by 39%; the network is memory-bound, so its roofline time on the A100 falls with it, from
107.0 to 66.3 $\mu s$. By kind of layer:
"""),
("code", r"""
fr50 = lc.fuse_report(zoo.resnet50(), (3, 224, 224), dtype="fp16")
assert (len(fr50.folded), len(fr50.fused)) == (53, 49)
before_b, after_b = fr50.totals["memory[compulsory]"]
assert (before_b, after_b) == (212_997_920, 129_947_808)
assert round(1 - after_b / before_b, 2) == 0.39
assert fr50.totals["params"][0] - fr50.totals["params"][1] == 26_560   # one bias per BN channel

def bytes_by_kind(report):
    out = Counter()
    for row in report.rows:
        out[row.kind] += lc.memory(row, "compulsory", "fp16").total
    return out

kinds_before, kinds_after = bytes_by_kind(fr50.before), bytes_by_kind(fr50.after)
assert sum(kinds_before.values()) == before_b and sum(kinds_after.values()) == after_b
assert kinds_after["BatchNorm2d"] == kinds_after["ReLU"] == 0
assert kinds_before["BatchNorm2d"] + kinds_before["ReLU"] - (
    kinds_after["Conv2d"] - kinds_before["Conv2d"]) == before_b - after_b   # new biases read
t_before = lc.roofline(fr50.before, a100, "fp16", convention="2*macs").time
t_after = lc.roofline(fr50.after, a100, "fp16", convention="2*macs").time
assert round(float(t_before) * 1e6, 1) == 107.0 and round(float(t_after) * 1e6, 1) == 66.3

names = sorted(kinds_before, key=kinds_before.get, reverse=True)[:5]
xs = np.arange(len(names))
fig, ax = plt.subplots()
ax.bar(xs - 0.2, [kinds_before[n] / 1e6 for n in names], width=0.4, label="before")
ax.bar(xs + 0.2, [kinds_after[n] / 1e6 for n in names], width=0.4, label="after fuse")
ax.set_xticks(xs, names)
ax.set(ylabel="MB moved (compulsory, fp16)", title="ResNet-50: where fusion saves bytes")
ax.legend()
show(fig)
print(f"roofline time on the A100: {float(t_before) * 1e6:.1f} µs -> "
      f"{float(t_after) * 1e6:.1f} µs")
"""),
("md", r"""
## 6. Seed 004's case: MobileNet V1 vs V2

Seed 004 (BY J, 深度学习模型性能影响分析, after machinethink.net) tells of a client who swapped
MobileNet V1 for V2 as a feature extractor, expecting a speed-up from V2's fewer MACs, and got
a slower model. The extractors were cut at `conv_pw_11` (V1) and `expanded_conv_12` (V2), ran
on $126 \times 224$ frames and were deployed with BatchNorm folded. The seed's figures:
parameters 1.6M / 0.5M / 1.0M (V1, V2, V2 with width 1.4), MACs 255M / 111M / 214M, memory
accesses 283M / 159M / 286M.

First the zoo's PyTorch layouts (`tests/test_roofline.py` pins these numbers). The parameters
match the seed; the MACs are 8-9% higher (279.6M / 119.6M / 230.7M) because PyTorch pads a
stride-2 3x3 conv on both sides, so $126 \to 63 \to 32 \to 16 \to 8$. The seed's figures are
Keras's; the next subsection reproduces them exactly. Under compulsory traffic the story is
already clear: V2 moves **more** bytes than V1 with 2.3x fewer MACs, every extractor is
memory-bound, so V2 is slower.
"""),
("code", r"""
def cut(model, n):
    "The first n children of a zoo model's feature extractor (slicing keeps their names)."
    return model["features"][:n]

extractors = {"V1": cut(zoo.mobilenet_v1(), 12), "V2": cut(zoo.mobilenet_v2(), 14),
              "V2 x1.4": cut(zoo.mobilenet_v2(width_mult=1.4), 14)}
mb = {k: lc.analyze(lc.fuse(m), (3, 126, 224)) for k, m in extractors.items()}
rows = {}
for k, rep in mb.items():
    on_gpu = lc.roofline(rep, a100, "fp16", convention="2*macs")
    on_edge = lc.roofline(rep, orin, "int8", convention="2*macs")
    rows[k] = {"params": rep.total.params, "MACs": rep.total.macs,
               "no_reuse": lc.memory(rep, "no_reuse", "int8").total,
               "compulsory": lc.memory(rep, "compulsory", "int8").total,
               "I (A100 fp16)": round(float(on_gpu.total.intensity), 1),
               "A100 fp16, µs": round(float(on_gpu.time) * 1e6, 2),
               "Orin int8, µs": round(float(on_edge.time) * 1e6, 2),
               "bound": on_gpu.total.bound}
seed = {"V1": (1_600_000, 255_000_000, 283_000_000), "V2": (500_000, 111_000_000, 159_000_000),
        "V2 x1.4": (1_000_000, 214_000_000, 286_000_000)}                  # seed 004's params, MACs, accesses
table = pd.DataFrame(rows).T
table.insert(2, "seed MACs", [seed[k][1] for k in mb])
table.insert(4, "seed accesses", [seed[k][2] for k in mb])

assert [rows[k]["params"] for k in mb] == [1_605_760, 534_464, 1_031_600]
assert [round(rows[k]["params"] / 1e6, 1) for k in mb] == [1.6, 0.5, 1.0]
assert [rows[k]["MACs"] for k in mb] == [279_623_680, 119_562_240, 230_694_912]
assert abs(rows["V2"]["MACs"] / rows["V1"]["MACs"] - 111 / 255) < 0.01
assert abs(rows["V2 x1.4"]["MACs"] / rows["V1"]["MACs"] - 214 / 255) < 0.02
assert rows["V1"]["no_reuse"] == 283_996_288   # near the seed's 283M only by coincidence (below)
assert [rows[k]["compulsory"] for k in mb] == [7_166_784, 7_944_832, 11_620_976]
assert round(rows["V1"]["MACs"] / rows["V2"]["MACs"], 1) == 2.3
assert round(rows["V2"]["compulsory"] / rows["V1"]["compulsory"], 2) == 1.11
assert round(rows["V2 x1.4"]["compulsory"] / rows["V1"]["compulsory"], 2) == 1.62
assert {row["bound"] for row in rows.values()} == {"memory"}
assert rows["V1"]["A100 fp16, µs"] < rows["V2"]["A100 fp16, µs"] < rows["V2 x1.4"]["A100 fp16, µs"]
assert rows["V1"]["Orin int8, µs"] < rows["V2"]["Orin int8, µs"] < rows["V2 x1.4"]["Orin int8, µs"]
table
"""),
("md", r"""
### 6a. The seed's own numbers: Keras's padding and the seed's memory formula

Keras's MobileNet pads each stride-2 depthwise conv by one row and column *at the end*
(`ZeroPadding2D(((0, 1), (0, 1)))` then a `'valid'` conv), which halves by floor:
$126 \to 63 \to 31 \to 15 \to 7$. `zoo.mobilenet_v1(variant="keras")` is that model with
Keras's layer names (checked layer by layer against `keras.applications.MobileNet`).
`zoo.mobilenet_v2(variant="tf")` is TensorFlow's V2 with TF-slim's scope names and
`padding="same"` (`padding_rule="tf"`), which is what Keras's MobileNetV2 computes too; its
MACs are those of the PyTorch layout. The seed's V2 MACs come out when V2's stride-2 convs are
padded as Keras pads V1 (`strided_padding="pad-end"`), a layout no released V2 has.

The seed's memory formula reads every input element $K \cdot K \cdot C_{out}$ times *at the
input resolution*, writes the output once and reads the weights once: the `filter_rereads`
memory model (`no_reuse` counts one read per MAC, on the output grid, which is a quarter of
that on a stride-2 layer). It gives the seed's 283M on Keras's V1. For V2 no model gives 159M
or 286M; the table shows the closest.
"""),
("code", r"""
def extractor(model, cut_at):
    return lc.analyze(lc.fuse(model), (3, 126, 224), up_to=cut_at)

keras_v1 = extractor(zoo.mobilenet_v1(variant="keras"), "conv_pw_11_relu")
v2 = {(w, p): extractor(zoo.mobilenet_v2(width_mult=w, variant="tf", strided_padding=p),
                        "expanded_conv_12")
      for w in (1.0, 1.4) for p in ("same", "pad-end")}
assert keras_v1.total.macs == 254_761_472                       # seed: 255M
assert [v2[w, "pad-end"].total.macs for w in (1.0, 1.4)] == [111_053_376, 214_212_096]   # 111M, 214M
assert [v2[w, "same"].total.macs for w in (1.0, 1.4)] == [119_562_240, 230_694_912]     # Keras's V2
assert sum(r.kind == "Conv2d" for r in keras_v1.rows) == 23     # the seed's "23 layers"
assert sum(r.kind in ("Conv2d", "Add") for r in v2[1.0, "same"].rows) == 47   # "47 layers"

mem = lambda rep, m: lc.memory(rep, m, "int8").total
assert mem(keras_v1, "filter_rereads") == 282_916_992           # seed: 283M
seed_v2 = {1.0: 159_000_000, 1.4: 286_000_000}
closest = pd.DataFrame({f"V2 x{w}": {
    "seed": seed_v2[w],
    "filter_rereads, 'same'": mem(v2[w, "same"], "filter_rereads"),
    "filter_rereads, 'pad-end'": mem(v2[w, "pad-end"], "filter_rereads"),
    "no_reuse, 'same'": mem(v2[w, "same"], "no_reuse"),
    "compulsory, 'same'": mem(v2[w, "same"], "compulsory")} for w in (1.0, 1.4)})
assert closest.loc["filter_rereads, 'same'"].tolist() == [149_096_640, 274_676_272]
assert all(round(v / 1e6) != seed_v2[w] for w, col in zip((1.0, 1.4), closest.columns)
           for v in closest[col].iloc[1:])                       # none reproduces 159M / 286M
closest
"""),
("md", r"""
The seed's V1 figures all come out (MACs exactly, memory to the printed 283M); its V2 memory
figures do not, on either padding or any memory model: the closest, `filter_rereads` on
Keras's V2, is 6% and 4% below 159M and 286M. `docs/source-posts.md` lists all 94 figures
of the five posts and how each is reproduced.
"""),
("md", r"""
**Why V2 moves more.** An inverted residual block expands $c$ channels six-fold, filters
depthwise and projects back, so its largest tensors are the $6c$-channel expansions, which are
written by one layer and read by the next. In V2 x1.4, 91% of the bytes are activations (V1:
78%). Its two heaviest layers, block 2's expansion from 24 to 144 channels at $63 \times 112$
and the depthwise conv that reads that tensor, each move more bytes than any layer of V1
(whose heaviest moves 679,488). In both networks the depthwise convolutions move about 40% of
the bytes while doing under 7% of the MACs.
"""),
("code", r"""
def row_bytes(row):
    return lc.memory(row, "compulsory", "int8").total

def shares(rep):
    total = lc.memory(rep, "compulsory", "int8").total
    acts = sum(lc.memory(row, "compulsory", "int8").act_reads
               + lc.memory(row, "compulsory", "int8").writes for row in rep.rows)
    dw = [row for row in rep.rows if row.kind == "Conv2d" and row.layer.groups > 1]
    return (acts / total, sum(row_bytes(row) for row in dw) / total,
            sum(row.cost.macs for row in dw) / rep.total.macs)

act_v1, dw_bytes_v1, dw_macs_v1 = shares(mb["V1"])
act_v2, dw_bytes_v2, dw_macs_v2 = shares(mb["V2 x1.4"])
assert (round(act_v1, 2), round(act_v2, 2)) == (0.78, 0.91)
assert all(0.35 < x < 0.45 for x in (dw_bytes_v1, dw_bytes_v2))
assert dw_macs_v1 < 0.07 and dw_macs_v2 < 0.07

top = sorted(mb["V2 x1.4"].rows, key=row_bytes, reverse=True)[:5]
heaviest_v1 = max(row_bytes(row) for row in mb["V1"].rows)
assert heaviest_v1 == 679_488
assert [row.path for row in top[:2]] == ["2.conv.1.0", "2.conv.0.0"]
assert top[1].output_shape == (144, 63, 112) and top[0].layer.groups == 144
assert row_bytes(top[1]) > heaviest_v1
pd.DataFrame([{"path": row.path, "kind": row.kind, "groups": row.layer.groups,
               "input": row.input_shape, "output": row.output_shape,
               "bytes (int8)": row_bytes(row), "MACs": row.cost.macs} for row in top])
"""),
("md", r"""
The full classifiers at $224 \times 224$ (unfused, as in `tests/test_roofline.py`) tell the
same story: V2 x1.4 has MACs within 3% of V1's but moves 1.82 times the bytes, and on the
A100 its roofline time is more than 1.5 times V1's.
"""),
("code", r"""
full = {"V1": lc.analyze(zoo.mobilenet_v1(), (3, 224, 224)),
        "V2 x1.4": lc.analyze(zoo.mobilenet_v2(width_mult=1.4), (3, 224, 224))}
macs_full = {k: r.total.macs for k, r in full.items()}
bytes_full = {k: lc.memory(r, "compulsory", "int8").total for k, r in full.items()}
time_full = {k: lc.roofline(r, a100, "fp16", convention="2*macs").time for k, r in full.items()}
assert macs_full == {"V1": 568_740_352, "V2 x1.4": 582_195_824}
assert abs(macs_full["V2 x1.4"] / macs_full["V1"] - 1) < 0.03
assert bytes_full == {"V1": 34_663_568, "V2 x1.4": 63_023_248}
assert round(bytes_full["V2 x1.4"] / bytes_full["V1"], 2) == 1.82
assert time_full["V2 x1.4"] > sp.Rational(3, 2) * time_full["V1"]

metrics = ["MACs", "compulsory", "A100 fp16, µs", "Orin int8, µs"]
xs = np.arange(len(metrics))
fig, ax = plt.subplots()
for shift, k in zip((-0.27, 0, 0.27), mb):
    ax.bar(xs + shift, [rows[k][m] / rows["V1"][m] for m in metrics], width=0.27, label=k)
ax.axhline(1, color="k", lw=0.8)
ax.set_xticks(xs, ["MACs", "bytes moved", "time A100", "time Orin"])
ax.set(ylabel="relative to V1", title="Seed 004's extractors, 126x224, BN folded")
ax.legend()
show(fig)
"""),
("md", r"""
## 7. Peak activation memory

Bytes *moved* decide speed; bytes *alive at once* decide whether the model fits. During a
forward pass a tensor is allocated when its producer runs and freed after its last consumer
(Sandler et al., MobileNetV2, Sec. 5.1). In a plain chain only the current layer's input and
output are alive, so the peak is $\max_\ell (\text{in}_\ell + \text{out}_\ell)$. A residual
block must keep its input until the add, so three tensors can be alive: ResNet-50's peak is
in `layer1.0`, where the block output, the downsample conv's output and its BatchNorm's output
($3 \times 56 \cdot 56 \cdot 256 = 3 \times 802{,}816$ elements) coexist: $9{,}633{,}792$ bytes
in fp32. The same three-tensor peak recurs at every identity add of `layer1` (the block's
input, the body's output and the sum). Were the network a plain chain of the same layers, the
peak would be $2 \times 802{,}816$ elements: the skip connections cost 1.5 times that. The
weights, $4 \cdot (25{,}557{,}032 + 53{,}120)$ bytes, stay resident throughout. Activation
memory scales with the batch: layercalc returns $9{,}633{,}792\,B$ for a symbolic batch $B$.
"""),
("code", r"""
peak = lc.peak_memory(zoo.resnet50(), (3, 224, 224))
assert (peak.activations, peak.path) == (4 * 3 * 802_816, "layer1.0.downsample.1")
assert peak.activations == 9_633_792
assert peak.weights == 4 * (25_557_032 + 53_120) == 102_440_608
assert peak.total == peak.activations + peak.weights

B_sym = lc.symbols("B")
assert lc.peak_memory(zoo.resnet50(), (3, 224, 224), batch=B_sym).activations == 9_633_792 * B_sym

# brute force for a chain: in + out of each layer (a view such as Flatten shares its input)
def chain_peak(report, nbytes):
    "max over layers of input + output bytes, for layers with one input."
    live = [nbytes * int(np.prod(report.input_shape))]
    for row in report.rows:
        if isinstance(row.input_shape[0], tuple):        # a merge (Add, Concat): skip
            continue
        out = int(np.prod(row.output_shape)) if row.cost.writes else 0
        live.append(nbytes * (int(np.prod(row.input_shape)) + out))
    return max(live)

vgg = lc.analyze(zoo.vgg16(), (3, 224, 224))
assert all(not isinstance(row.input_shape[0], tuple) for row in vgg.rows)   # a pure chain
assert lc.peak_memory(zoo.vgg16(), (3, 224, 224)).activations == chain_peak(vgg, 4)
assert chain_peak(vgg, 4) == 4 * 2 * 64 * 224 * 224       # conv1_2 and its ReLU
naive = chain_peak(resnet, 4)                             # as if ResNet-50 were a chain
assert naive == 4 * 2 * 802_816 and peak.activations == naive * 3 // 2
steps = dict(peak.steps)
assert steps["layer1.0.add"] == steps["layer1.1.add"] == peak.activations   # x, body, sum
"""),
("code", r"""
steps = [v for _, v in peak.steps]
assert max(steps) == peak.activations
fig, ax = plt.subplots()
ax.plot(np.arange(len(steps)), np.array(steps) / 2**20, lw=1, label="live activations")
ax.axhline(naive / 2**20, color="C1", ls="--", lw=1, label="as a chain: max(in + out)")
i_peak = steps.index(peak.activations)
ax.plot(i_peak, steps[i_peak] / 2**20, "o", color="C3", label=f"peak: {peak.path}")
ax.set(xlabel="layer (execution order)", ylabel="MiB (fp32, batch 1)",
       title="ResNet-50: activation bytes alive at each step")
ax.legend(fontsize=9)
show(fig)
"""),
("md", r"""
## Summary

* MAC (memory access cost) = bytes read + bytes written. `compulsory` moves each tensor once
  (seed 000; $hw(c_1+c_2) + c_1c_2$ for a 1x1 conv, seed 002), `no_reuse` reads one input
  per MAC; real kernels lie between. `filter_rereads` is seed 004's own formula (input read
  $K^2 C_{out}$ times on the input grid), which reproduces its MobileNet V1 figure (283M) on
  Keras's padding; its V2 figures match no model.
* Intensity $I = F/M$; attainable performance $\min(\pi, \beta I)$; ridge $\pi/\beta$: about
  153 FLOP/byte for an A100 in fp16, 671 for a Jetson Orin in int8. Depthwise convs, norms and
  activations sit far left of it.
* Batch amortises weights: a Linear turns compute-bound at
  $B^* = r b (IO + O)/(2IO - rb(I+O))$, 166 for $4096 \to 4096$ on the A100 in fp16, and
  never if $r \ge 2IO/(b(I+O))$.
* G1: for fixed FLOPs a 1x1 conv's MAC is $\ge 2\sqrt{hwB} + B/(hw)$, equal at $c_1 = c_2$.
* Folding BN and fusing ReLU cut ResNet-50's traffic by 39%; MobileNet V2 is slower than V1
  on memory-bound hardware because it moves more bytes with fewer MACs.

## Exercises

1. Can you count seed 004's 3x3 conv from 64 to 128 channels on $112 \times 112$ (stride 1,
   "same", with bias) under `no_reuse` and under `compulsory`, and find their ratio?
2. Can you find the batch at which `Linear(4096, 4096)` in fp32 turns compute-bound on the
   A100 40GB, with the boxed formula and with `lc.critical_batch`?
3. Can you find the smallest width $c$ at which a 1x1 conv $c \to c$ (no bias) on
   $28 \times 28$ in fp16 is compute-bound on the A100 80GB, by hand and with
   `lc.critical_value`?
4. Can you compute how much more a 1x1 conv on $14 \times 14$ with $B = 14^2 \cdot 128 \cdot
   512$ MACs moves at $c_1 : c_2 = 128 : 512$ than at the G1 optimum?
5. Can you give ResNet-50's peak activation memory at batch 32 in fp16, and the total with
   its fp16 weights?

## Solutions

The solutions are collapsed in Jupyter (click the bar beside a cell to open it): try each
exercise first.
"""),
("md", r"""
**1.** `no_reuse`: input $112^2 \cdot 64 \cdot 9 \cdot 128 = 924{,}844{,}032$, output
$112^2 \cdot 128 = 1{,}605{,}632$, weights $9 \cdot 64 \cdot 128 + 128 = 73{,}856$: total
$926{,}523{,}520$. `compulsory`: $802{,}816 + 73{,}856 + 1{,}605{,}632 = 2{,}482{,}304$, 373
times less.
"""),
("code", r"""
ex1 = lc.Conv2d(64, 128, 3, padding=1).cost((64, 112, 112))
nr, cp = lc.memory(ex1, "no_reuse", "int8"), lc.memory(ex1, "compulsory", "int8")
assert (nr.act_reads, nr.writes, nr.weight_reads) == (924_844_032, 1_605_632, 73_856)
assert nr.total == 926_523_520
assert cp.total == 802_816 + 73_856 + 1_605_632 == 2_482_304
assert round(nr.total / cp.total) == 373
"""),
("md", r"""
**2.** $b = 4$, $r = 19.5 \cdot 10^{12} / (1555 \cdot 10^9) = 3900/311 \approx 12.54$:
$B^* = 4r \cdot 4097 \cdot 4096 / (2 \cdot 4096^2 - 4r \cdot 8192) = 4097 r/(2048 - 2r)
\approx 25.4$, so batch 26.
"""),
("code", r"""
r40 = lc.get_hardware("a100-sxm4-40gb").ridge("fp32")
assert r40 == sp.Rational(3900, 311)
ex2 = B_star.subs({I_: 4096, O_: 4096, b: 4, r: r40})
assert sp.simplify(ex2 - 4097 * sp.Rational(3900, 311) / (2048 - 2 * sp.Rational(3900, 311))) == 0
assert round(float(ex2), 1) == 25.4 and sp.ceiling(ex2) == 26
assert lc.critical_batch(lc.Linear(4096, 4096), (4096,), "a100-sxm4-40gb", "fp32",
                         convention="2*macs") == 26
"""),
("md", r"""
**3.** $F = 2 \cdot 784\, c^2$, $M = 2\,(784c + c^2 + 784c)$, so $I = 784c/(1568 + c)$, rising
to 784. $I \ge r$ when $c \ge 1568\,r/(784 - r) \approx 380.2$: width 381.
"""),
("code", r"""
cc = lc.symbols("c")
rep_c = lambda c: lc.analyze(lc.Conv2d(c, c, 1, bias=False), (c, 28, 28))
rt = lc.roofline(rep_c(cc), teach, "fp16", convention="2*macs").total
assert sp.simplify(rt.intensity - 784 * cc / (1568 + cc)) == 0
r80 = a100.ridge("fp16")
assert round(float(1568 * r80 / (784 - r80)), 1) == 380.2
assert lc.critical_value(rep_c, cc, a100, "fp16", convention="2*macs") == 381
assert [lc.roofline(rep_c(n), a100, "fp16",
                    convention="2*macs").total.bound for n in (380, 381)] == \
    ["memory", "compute"]
"""),
("md", r"""
**4.** $c_1 c_2 = 256^2$ again. At $128 : 512$: $196 \cdot 640 + 65{,}536 = 190{,}976$; at
$256 : 256$: $196 \cdot 512 + 65{,}536 = 165{,}888$, which is the bound
$2\sqrt{hwB} + B/(hw)$. The unequal split moves 15.1% more.
"""),
("code", r"""
B4 = 14 * 14 * 128 * 512
def mac14(a, c):
    return lc.memory(lc.Conv2d(a, c, 1, bias=False).cost((a, 14, 14)), "compulsory", "int8").total
assert mac14(128, 512) == 190_976 and mac14(256, 256) == 165_888
assert 2 * sp.sqrt(196 * B4) + sp.Rational(B4, 196) == 165_888
assert round(190_976 / 165_888, 3) == 1.151
"""),
("md", r"""
**5.** Activations scale with the batch and the element size: $9{,}633{,}792 / 2 \cdot 32 =
154{,}140{,}672$ bytes; the fp16 weights are $2 \cdot 25{,}610{,}152 = 51{,}220{,}304$ bytes;
together $205{,}360{,}976$ bytes (196 MiB).
"""),
("code", r"""
p32 = lc.peak_memory(zoo.resnet50(), (3, 224, 224), "fp16", batch=32)
assert p32.activations == 9_633_792 // 2 * 32 == 154_140_672
assert p32.weights == 2 * (25_557_032 + 53_120) == 51_220_304
assert p32.total == 205_360_976 and round(p32.total / 2**20) == 196
"""),
]
