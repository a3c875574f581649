"""Source of notebooks/05_sequence_models.ipynb (build: python notebooks/build.py)."""

CELLS = [
("md", r"""
# 5. Sequence models

Images have a fixed size; text does not. The cost of a sequence model is a function of the
sequence length $T$, and the *shape* of that function decides what is expensive: a recurrent
network is linear in $T$, attention is quadratic, and generating text one token at a time is
limited by memory traffic rather than arithmetic. This notebook counts all three, from one
LSTM step to GPT-2 on a GPU's roofline.

**After this notebook you will be able to**

* count an LSTM's parameters in PyTorch's two-bias form and in the textbook form of seed 001,
  its multiply-accumulates per time step and per sequence, and say why seed 001's per-step
  formula has one $h^2$ term too many;
* count attention's scores with and without a causal mask or a sliding window, find the
  quadratic term in $T$, and compute the context length at which attention costs more than
  the MLP;
* rebuild GPT-2's 124,439,808 parameters layer by layer and write them as
  $Vd + Pd + n_{layer}(12d^2 + 13d) + 2d$;
* derive Kaplan et al.'s forward FLOPs per token, $2N + 2 n_{layer} n_{ctx} d_{attn}$, from
  the layers, state the exact difference, and say which part of $6ND$ is an assumption;
* size a KV cache, place a decode step on a GPU's roofline, and find the batch (and the
  context length) at which decoding stops being memory-bound.

**How each formula is treated.** Derived by hand (in LaTeX), confirmed symbolically by SymPy
through layercalc, checked against a brute-force Python loop that really computes the layer
on a tiny case and counts every multiply and add, and plotted. Every number the text relies
on is an `assert`.

Seed 001 is one of the five blog posts on model complexity this project takes its
requirements from; it gives the LSTM formulas discussed in section 1.
"""),
("code", r"""
%matplotlib inline
import dataclasses
import io
import itertools
import math
import sys

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


def say(text):
    "print() in a single write, so the stored output never depends on when the kernel flushes."
    sys.stdout.write(text + "\n")


def show(fig):
    "Like plt.show(), but stores a 256-colour PNG: a third of the bytes, so five plots stay small."
    raw = io.BytesIO()
    fig.savefig(raw, format="png", bbox_inches="tight")
    plt.close(fig)
    small = io.BytesIO()
    PILImage.open(raw).convert("RGB").quantize(256).save(small, format="png", optimize=True)
    display(Image(small.getvalue()))


pd.set_option("display.max_colwidth", 60)
rng = np.random.default_rng(5)          # fixed seed: the notebook is reproducible
"""),
# ------------------------------------------------------------------------------------------
("md", r"""
## 1. An LSTM, per step and per sequence

PyTorch's `nn.LSTM` computes, at every time step $t$, with input $x_t$ of size $I$ and hidden
state $h_{t-1}$ of size $h$:

$$
\begin{aligned}
i_t &= \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) &
f_t &= \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\
g_t &= \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) &
o_t &= \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\
c_t &= f_t \odot c_{t-1} + i_t \odot g_t &
h_t &= o_t \odot \tanh(c_t)
\end{aligned}
$$

**Parameters.** Four gates, each with an $h \times I$ input matrix, an $h \times h$ recurrent
matrix and, in PyTorch, *two* bias vectors ($b_{i\cdot}$ and $b_{h\cdot}$, stored as
`bias_ih_l0` and `bias_hh_l0`):

$$ \text{params}_{\text{PyTorch}} = 4(hI + h^2 + 2h) = 4hI + 4h^2 + 8h. $$

Seed 001 writes $C_{in} \cdot 4h + 4h^2$: the same matrices and no bias at all. Keras (and
most textbooks) use one bias per gate, $4h(I + h + 1)$. The three forms differ only in the
biases: $8h$, $0$ and $4h$. A second layer reads the first layer's $h$ outputs, so its
$I$ is $h$ (or $2h$ when bidirectional).
"""),
("code", r"""
I, h, T, P = lc.symbols("I_f h T P")  # "I" would print as SymPy's imaginary unit

lstm = lc.LSTM(I, h)
per_sequence = lstm.cost((T, I))
assert sp.expand(per_sequence.params - 4*(h*I + h**2 + 2*h)) == 0
assert sp.expand(lc.LSTM.textbook_params(I, h) - (I*4*h + h*h*4)) == 0             # seed 001
assert sp.expand(lc.LSTM.textbook_params(I, h, bias=True) - 4*h*(I + h + 1)) == 0  # Keras
assert sp.expand(lc.LSTM(I, h, bias=False).cost((T, I)).params
                 - lc.LSTM.textbook_params(I, h)) == 0

# PyTorch's documentation example nn.LSTM(10, 20, 2): layer 0 reads 10 features, layer 1 reads 20
assert lc.LSTM(10, 20, 2).cost((5, 10)).params == 4*(20*10 + 20*20 + 2*20) + 4*(20*20 + 20*20 + 2*20) == 5920
# bidirectional: two directions per layer, and layer 1 reads both (2h features)
assert lc.LSTM(10, 20, 2, bidirectional=True).cost((5, 10)).params == 2*(2560 + 4*(20*40 + 20*20 + 40)) == 15040
sp.factor(per_sequence.params)
"""),
("md", r"""
**Multiply-accumulates per step.** The only matrix products are $W_{i\cdot} x_t$ ($4h$ dot
products of $I$ terms) and $W_{h\cdot} h_{t-1}$ ($4h$ dot products of $h$ terms):

$$ \text{MACs}_{\text{step}} = 4hI + 4h^2 = 4h(I + h). $$

Everything else is elementwise, per unit: the two matrix results are added ($4h$ adds), three
sigmoids $\sigma(z) = 1/(1 + e^{-z})$ (one exp, one add, one divide each), two tanh ($g_t$ and
$\tanh c_t$), $c_t$ costs 2 multiplies and 1 add, $h_t$ one multiply. That is $8h$ adds,
$3h$ multiplies, $3h$ exps, $3h$ divides and $2h$ tanh, plus $8h$ bias adds.

Seed 001 gives $C_{in} \cdot 4h + 4h^2 + h^2$ per step. The last $h^2$ is not in the
equations: the products $f_t \odot c_{t-1}$, $i_t \odot g_t$ and $o_t \odot \tanh(c_t)$ are
$3h$ elementwise multiplies, not an $h \times h$ matrix product. (An $h \times h$ product would
be a projection $W_{hr}$ of size $h \times h$, i.e. `proj_size = hidden_size`, which PyTorch
forbids.) With a real projection of size $P < h$, the recurrent input is $P$ wide and the
projection adds $Ph$:

$$ \text{MACs}_{\text{step}} = 4h(I + P) + Ph, \qquad \text{params} = 4hI + 4hP + 8h + Ph. $$

**Per sequence.** Every step does the same work, including the first one, where PyTorch still
multiplies $W_{h\cdot}$ by $h_0 = 0$. So the sequence costs exactly $T$ steps: **linear in $T$.**
"""),
("code", r"""
step = lstm.cost((1, I))
assert sp.expand(step.macs - 4*h*(I + h)) == 0
assert sp.expand(per_sequence.macs - T * 4*h*(I + h)) == 0
assert dict(step.ops) == {"add": 8*h, "mul": 3*h, "exp": 3*h, "div": 3*h, "tanh": 2*h}
assert step.dots == 8*h and step.bias_adds == 8*h

seed001_step = I*h*4 + h*h*4 + h*h
assert sp.expand(seed001_step - step.macs) == h**2                 # the extra term

assert sp.Poly(per_sequence.macs, T).degree() == 1                  # linear in T ...
assert lc.sensitivity(per_sequence.macs, T) == 1                    # ... elasticity exactly 1
assert sp.diff(per_sequence.macs, T) == step.macs                   # the slope is one step

proj = lc.LSTM(I, h, proj_size=P).cost((1, I))
assert sp.expand(proj.macs - (4*h*(I + P) + P*h)) == 0
assert sp.expand(proj.params - (4*h*I + 4*h*P + 8*h + P*h)) == 0

# seed 001's numbers for a 128-wide LSTM on 64 inputs, against ours
seed_step = lc.evaluate(seed001_step, I_f=64, h=128)
our_step = lc.LSTM(64, 128).cost((1, 64)).macs
assert (seed_step, our_step) == (114_688, 98_304) and seed_step - our_step == 128**2
say(f"I=64, h=128: seed 001 {seed_step:,} MACs per step, layercalc {our_step:,} "
      f"(+{(seed_step - our_step) / our_step:.1%})")
display(sp.factor(per_sequence.macs))
"""),
("md", r"""
**Brute force: an LSTM that counts.** The function below runs PyTorch's equations on plain
Python lists with random floats, one scalar operation at a time, and increments a counter at
every multiply and add of the matrix products, every bias add and every elementwise
operation. It also records every weight it reads. It runs whole sequences of $T$ steps from
$h_0 = c_0 = 0$, with and without biases and projections, and every count must equal
layercalc's `Cost`.
"""),
("code", r"""
def naive_lstm(xs, I, h, proj=0, bias=True):
    "Run an LSTM over the inputs xs (T lists of I floats); count every operation."
    r = proj or h                                          # the recurrent (output) size
    W_ih = rng.normal(size=(4, h, I)).tolist()             # gates i, f, g, o
    W_hh = rng.normal(size=(4, h, r)).tolist()
    b_ih, b_hh = rng.normal(size=(4, h)).tolist(), rng.normal(size=(4, h)).tolist()
    W_hr = rng.normal(size=(proj, h)).tolist()
    n = {"mac": 0, "dot_add": 0, "dots": 0, "bias_add": 0,
         "add": 0, "mul": 0, "exp": 0, "div": 0, "tanh": 0}
    weights = set()

    def dot(name, row, w, v):                              # one dot product of len(v) terms
        acc = None
        for k, (wk, vk) in enumerate(zip(w, v)):
            weights.add((name, row, k))
            p = wk * vk
            n["mac"] += 1
            if acc is None:
                acc = p
            else:
                acc += p
                n["dot_add"] += 1
        n["dots"] += 1
        return acc

    def sigmoid(z):
        n["exp"] += 1; n["add"] += 1; n["div"] += 1      # 1 / (1 + exp(-z)); the sign is free
        return 1 / (1 + math.exp(-z))

    h_prev, c_prev = [0.0] * r, [0.0] * h                  # h0 = c0 = 0, still multiplied
    for x in xs:
        pre = []
        for g in range(4):
            row = []
            for j in range(h):
                a = dot(f"W_ih{g}", j, W_ih[g][j], x)
                b = dot(f"W_hh{g}", j, W_hh[g][j], h_prev)
                if bias:
                    a += b_ih[g][j]; b += b_hh[g][j]
                    n["bias_add"] += 2
                    weights.update({("b_ih", g, j), ("b_hh", g, j)})
                row.append(a + b)
                n["add"] += 1
            pre.append(row)
        gi = [sigmoid(z) for z in pre[0]]
        gf = [sigmoid(z) for z in pre[1]]
        gg = [math.tanh(z) for z in pre[2]]; n["tanh"] += h
        go = [sigmoid(z) for z in pre[3]]
        c = [gf[j] * c_prev[j] + gi[j] * gg[j] for j in range(h)]; n["mul"] += 2*h; n["add"] += h
        out = [go[j] * math.tanh(c[j]) for j in range(h)]; n["tanh"] += h; n["mul"] += h
        if proj:
            out = [dot("W_hr", p, W_hr[p], out) for p in range(proj)]
        h_prev, c_prev = out, c
    n["params"] = len(weights)
    return h_prev, n


checked = 0
for I_, h_, T_, proj_, bias_ in itertools.product([1, 3], [2, 5], [1, 4], [0, 1], [True, False]):
    xs = rng.normal(size=(T_, I_)).tolist()
    out, n = naive_lstm(xs, I_, h_, proj_, bias_)
    cost = lc.LSTM(I_, h_, bias=bias_, proj_size=proj_).cost((T_, I_))
    assert len(out) == (proj_ or h_)
    assert n["params"] == cost.params
    assert n["mac"] == cost.macs and n["dots"] == cost.dots and n["bias_add"] == cost.bias_adds
    assert {k: n[k] for k in ("add", "mul", "exp", "div", "tanh")} == dict(cost.ops)
    every_op = n["mac"] + n["dot_add"] + n["bias_add"] + sum(n[k] for k in cost.ops)
    assert every_op == lc.flops(cost, "exact")
    checked += 1
assert checked == 32

_, n = naive_lstm(rng.normal(size=(1, 3)).tolist(), 3, 5)        # one step, I = 3, h = 5
assert n["mac"] == 4*5*(3 + 5) == 160 and n["params"] == 4*(5*3 + 25 + 10) == 200
say(f"{checked} LSTMs agree with layercalc; one step with I=3, h=5: {n}")
"""),
("md", r"""
**Plot.** Per sequence, every recurrent layer is a straight line in $T$ whose slope is one
step: $h(I + h)$ MACs for a plain RNN, $3h(I + h)$ for a GRU, $4h(I + h)$ for an LSTM (plus
seed 001's phantom $h^2$, drawn dashed).
"""),
("code", r"""
ts = np.arange(1, 513)
I_, h_ = 256, 256
layers = {"RNN": lc.RNN(I_, h_), "GRU": lc.GRU(I_, h_), "LSTM": lc.LSTM(I_, h_)}
fig, ax = plt.subplots()
slopes = {}
for name, layer in layers.items():
    macs = layer.cost((T, I_)).macs
    slopes[name] = int(sp.diff(macs, T))
    ax.plot(ts, lc.sweep(macs, T=ts) / 1e6, label=f"{name}: {slopes[name]:,} MACs per step")
ax.plot(ts, lc.sweep(T * seed001_step.subs({I: I_, h: h_}), T=ts) / 1e6, "k--", lw=1,
        label="seed 001's LSTM formula (+h^2 per step)")
ax.set(xlabel="sequence length $T$", ylabel="MACs per sequence (millions)",
       title=f"Recurrent layers are linear in $T$ ($I = h = {h_}$)")
ax.legend()
ax.grid(alpha=0.3)
show(fig)

assert slopes == {"RNN": h_ * (I_ + h_), "GRU": 3 * h_ * (I_ + h_), "LSTM": 4 * h_ * (I_ + h_)}
assert slopes["LSTM"] == 524_288
"""),
# ------------------------------------------------------------------------------------------
("md", r"""
## 2. Attention's quadratic term

Scaled dot-product attention, $\operatorname{softmax}(QK^\top/\sqrt{d})\,V$, with $L$ queries,
$S$ keys and values, and $H$ heads of size $d$. Per head:

* $QK^\top$: one score per (query, key) pair, a dot product of $d$ terms: $LS$ dots, $LSd$
  MACs;
* $PV$: each query's output is a weighted sum of the $S$ value vectors: $Ld$ dots of $S$
  terms, $LSd$ MACs;
* in between, $1/\sqrt{d}$ scaling and a softmax per row (elementwise, not MACs).

$$ \text{MACs} = 2\,H\,d\,L\,S = 2\,d_{model}\,L\,S \qquad (d_{model} = Hd). $$

**Causal mask.** In a decoder, query $i$ (counting from 0) may only see keys $0..i$, that is
$i + 1$ of them. Scores that are masked out need not be computed (a fused kernel skips them),
so the visible pairs are

$$ \sum_{i=0}^{L-1} (i + 1) = \frac{L(L+1)}{2}, $$

a little more than half of $L^2$ (the diagonal). When the queries are the last $L$ of $S$
positions (a KV cache), query $i$ sees $i + (S - L) + 1$ keys.

**Sliding window.** With a window of $w$ (Mistral, Longformer), each query sees at most the
last $w$ keys, $\min(i + 1, w)$: for $L \ge w$ the total is
$\frac{w(w+1)}{2} + (L - w)\,w$, linear in $L$.

The number of visible pairs is the number of exponentials in the softmax, so we read it
from the cost of one head of size 1 (layercalc's helper `visible_scores` is not exported
at the top level):
"""),
("code", r"""
L, S, d, H, w = lc.symbols("L S d H w")


def visible(L_, S_=None, causal=False, window=None):
    "Visible (query, key) pairs of one head: one exp per visible score."
    one_head = lc.ScaledDotProductAttention(1, 1, causal=causal, window=window)
    return one_head.cost((L_, 1), None if S_ is None else (S_, 1)).ops["exp"]


assert visible(L, S) == L*S
assert sp.expand(visible(L, causal=True) - L*(L + 1)/2) == 0
assert visible(3, 7, causal=True) == 5 + 6 + 7 == 18          # the last 3 of 7 positions
windowed = visible(L, causal=True, window=w)
for L_, w_ in itertools.product(range(1, 12), range(1, 6)):
    by_hand = sum(min(i + 1, w_) for i in range(L_))
    assert lc.evaluate(windowed, L=L_, w=w_) == by_hand
    if L_ >= w_:
        assert by_hand == w_*(w_ + 1)//2 + (L_ - w_)*w_

full = lc.ScaledDotProductAttention(H, d).cost((L, H*d), (S, H*d))
causal = lc.ScaledDotProductAttention(H, d, causal=True).cost((L, H*d))
assert sp.expand(full.macs - 2*H*d*L*S) == 0
assert sp.expand(causal.macs - H*d*L*(L + 1)) == 0
assert lc.ScaledDotProductAttention(12, 64, causal=True).cost((L, 768)).macs == 768*L*(L + 1)
assert lc.ScaledDotProductAttention(12, 64).cost((197, 768)).macs == 59_610_624  # ViT-B/16
display(sp.factor(full.macs), sp.factor(causal.macs), windowed)
"""),
("md", r"""
**Brute force: attention that counts.** The loop computes attention on lists of floats, head
by head and query by query, applies the mask (causal with bottom-right alignment, optionally
a window), and counts: the multiplies and adds of $QK^\top$ and $PV$, the scale (one multiply
per score), and the softmax of a row of $n$ visible scores done the stable way: a running
max ($n - 1$ compares), $n$ subtractions, $n$ exps, a sum ($n - 1$ adds) and $n$ divides. With
grouped-query attention, query head $j$ uses key/value head $j \div (H / H_{kv})$; the loop
also records which key and value elements it reads.
"""),
("code", r"""
def naive_attention(q, k, v, heads, head_dim, kv_heads=None, causal=False, window=None):
    "q: L rows of heads*head_dim; k, v: S rows of kv_heads*head_dim. Counts every operation."
    kv_heads = kv_heads or heads
    group = heads // kv_heads
    n = dict.fromkeys(["mac", "dot_add", "dots", "mul", "cmp", "add", "exp", "div"], 0)
    kv_read = set()
    Lq, Sk = len(q), len(k)
    out = [[0.0] * (heads * head_dim) for _ in range(Lq)]

    def dot(a, b):
        acc = a[0] * b[0]
        n["mac"] += 1
        for x, y in zip(a[1:], b[1:]):
            acc += x * y
            n["mac"] += 1; n["dot_add"] += 1
        n["dots"] += 1
        return acc

    for hq in range(heads):
        hk = hq // group
        qs, ks = slice(hq * head_dim, (hq + 1) * head_dim), slice(hk * head_dim, (hk + 1) * head_dim)
        for i in range(Lq):
            last = i + (Sk - Lq) if causal else Sk - 1          # bottom-right alignment
            first = max(0, last - window + 1) if window else 0
            keys = list(range(first, min(last, Sk - 1) + 1))
            if not keys:
                continue
            kv_read.update(("k", j, hk, e) for j in keys for e in range(head_dim))
            kv_read.update(("v", j, hk, e) for j in keys for e in range(head_dim))
            scores = []
            for j in keys:
                scores.append(dot(q[i][qs], k[j][ks]) * (1 / math.sqrt(head_dim)))
                n["mul"] += 1
            m = scores[0]
            for s in scores[1:]:
                m = max(m, s); n["cmp"] += 1
            e = [math.exp(s - m) for s in scores]; n["add"] += len(e); n["exp"] += len(e)
            total = e[0]
            for x in e[1:]:
                total += x; n["add"] += 1
            p = [x / total for x in e]; n["div"] += len(p)
            for c in range(head_dim):
                out[i][hq * head_dim + c] = dot(p, [v[j][ks][c] for j in keys])
    n["kv_read"] = len(kv_read)
    return out, n


cases = 0
for Lq, Sk, heads, kv_heads, head_dim, causal_, window in itertools.product(
        [1, 3, 5], [3, 5], [2, 4], [1, 2], [1, 3], [False, True], [None, 2]):
    if window and not causal_:
        continue
    q = rng.normal(size=(Lq, heads * head_dim)).tolist()
    k = rng.normal(size=(Sk, kv_heads * head_dim)).tolist()
    v = rng.normal(size=(Sk, kv_heads * head_dim)).tolist()
    _, n = naive_attention(q, k, v, heads, head_dim, kv_heads, causal_, window)
    layer = lc.ScaledDotProductAttention(heads, head_dim, num_kv_heads=kv_heads,
                                         causal=causal_, window=window)
    cost = layer.cost((Lq, heads * head_dim), (Sk, kv_heads * head_dim))
    assert n["mac"] == cost.macs and n["dots"] == cost.dots, (Lq, Sk, causal_, window)
    assert {kind: n[kind] for kind in cost.ops} == dict(cost.ops)
    assert n["mac"] + n["dot_add"] + sum(n[kind] for kind in cost.ops) == lc.flops(cost, "exact")
    if not window:   # every key is someone's: the layer reads all S keys and values once
        assert n["kv_read"] == 2 * Sk * kv_heads * head_dim
    cases += 1
assert cases == 144
say(f"{cases} attention layers agree with layercalc operation by operation")
"""),
("md", r"""
**The quadratic term in a transformer block.** A GPT-2 block of width $d$ on $T$ tokens
(causal) has four weight matrices of attention ($Q$, $K$, $V$ fused as $d \times 3d$, and the
output $d \times d$) and an MLP $d \to 4d \to d$, each applied to every token, plus the
attention scores:

$$ \text{MACs}_{\text{block}} = \underbrace{(3 + 1)\,d^2 T}_{\text{projections}}
   + \underbrace{8\,d^2 T}_{\text{MLP}} + \underbrace{d\,T(T+1)}_{QK^\top,\ PV}
   = 12\,d^2 T + d\,T(T+1). $$

The leading term in $T$ is $d\,T^2$, attention's. **Per token** the block costs
$12d^2 + d(T + 1)$: constant for the matrices, growing with the context for attention. The
score MACs equal the MLP's when $d(T + 1) = 8d^2$, i.e. at $T = 8d - 1$: for GPT-2 small
($d = 768$) at $T = 6143$, six times its 1024-token context. Without the mask,
$2dT = 8d^2$ gives $T = 4d$.
"""),
("code", r"""
d_model = 768
block = lc.analyze(lc.GPT2Block(d_model, 12), (T, d_model))
macs = block.total.macs
assert sp.expand(macs - (12*d_model**2*T + d_model*T*(T + 1))) == 0
assert lc.leading_term(macs, T) == d_model * T**2


def part(report, keep):
    "Sum of the MACs of the rows whose path satisfies keep(path)."
    return sum((row.cost.macs for row in report.rows if keep(row.path)), sp.Integer(0))


scores = part(block, lambda p: p == "attn.sdpa")
mlp = part(block, lambda p: p.startswith("mlp."))
projections = part(block, lambda p: p in ("attn.c_attn", "attn.c_proj"))
assert (mlp, projections) == (8*d_model**2*T, 4*d_model**2*T)
assert lc.break_even(scores, mlp, T) == [8*d_model - 1] == [6143]
assert lc.break_even(scores, mlp + projections, T) == [12*d_model - 1]

bidirectional = lc.analyze(lc.GPT2Block(d_model, 12, causal=False), (T, d_model))
assert lc.break_even(part(bidirectional, lambda p: p == "attn.sdpa"), mlp, T) == [4*d_model]

share_1024 = lc.evaluate(scores / macs, T=1024)
assert round(float(share_1024), 3) == 0.100         # 1025 / (9216 + 1025) at GPT-2's context
say(f"at T = 1024 the scores are {float(share_1024):.1%} of a block's MACs; "
      f"they pass the MLP at T = {8*d_model - 1}")
"""),
("md", r"""
**Plot: cost per token against the context.** The matrices cost the same per token at any
length; attention's scores grow linearly per token (quadratically per sequence). A sliding
window of $w$ caps them at about $2wd$ MACs per token.
"""),
("code", r"""
ts = np.unique(np.geomspace(1, 16384, 200).astype(int))
window_ = 4096
sliding = lc.analyze(lc.ScaledDotProductAttention(12, 64, causal=True, window=window_), (T, d_model))
per_token = {
    "MLP ($8d^2$)": np.full(len(ts), 8 * d_model**2),
    "Q, K, V and output projections ($4d^2$)": np.full(len(ts), 4 * d_model**2),
    "scores, causal ($d(T+1)$)": lc.sweep(scores, T=ts) / ts,
    "scores, no mask ($2dT$)": lc.sweep(part(bidirectional, lambda p: p == "attn.sdpa"), T=ts) / ts,
    f"scores, causal, window {window_}": np.array(
        [lc.evaluate(sliding.total.macs, T=int(t)) for t in ts]) / ts,
}
fig, ax = plt.subplots()
for label, values in per_token.items():
    ax.loglog(ts, values / 1e6, label=label)
ax.axvline(8 * d_model - 1, color="k", lw=0.8, ls=":")
ax.text(8 * d_model - 1, 2e-3, " T = 8d - 1", fontsize=9)
ax.axvline(1024, color="gray", lw=0.8, ls="--")
ax.text(1024, 2e-3, "GPT-2's context ", fontsize=9, color="gray", ha="right")
ax.set(xlabel="context length $T$", ylabel="MACs per token per block (millions)",
       title=f"GPT-2 small block ($d = {d_model}$): where attention overtakes the MLP",
       ylim=(1e-3, 1e3))
ax.legend(fontsize=9, loc="upper left")
ax.grid(alpha=0.3)
show(fig)

w_total = sliding.total.macs
assert lc.evaluate(w_total, T=16384) == 2 * d_model * (window_ * (window_ + 1) // 2
                                                       + (16384 - window_) * window_)
slope = lc.evaluate(w_total, T=10_001) - lc.evaluate(w_total, T=10_000)
assert slope == 2 * d_model * window_            # past the window: 2wd MACs per extra token
"""),
("md", r"""
**Grouped-query and multi-query attention.** With $H$ query heads but only $H_{kv}$
key/value heads (each shared by a group of $H / H_{kv}$ query heads), the scores are the same
and so are the MACs; only the keys and values shrink, by the factor $H / H_{kv}$. Llama-2-70B
and Llama-3 use $H = 64$ or $32$ query heads with $H_{kv} = 8$; multi-query attention is
$H_{kv} = 1$. What that buys is memory, and section 5 shows why memory is what matters when
generating text.
"""),
("code", r"""
rows = []
for kv_heads in (32, 8, 1):
    gqa = lc.ScaledDotProductAttention(32, 128, num_kv_heads=kv_heads)
    cost = gqa.cost((L, 4096), (S, kv_heads * 128))
    rows.append({"H_kv": kv_heads, "MACs": cost.macs, "elements read": cost.act_reads})
    assert sp.expand(cost.macs - 2*32*128*L*S) == 0                 # unchanged
    assert sp.expand(cost.act_reads - (L*4096 + 2*S*kv_heads*128)) == 0
pd.DataFrame(rows).set_index("H_kv")
"""),
# ------------------------------------------------------------------------------------------
("md", r"""
## 3. GPT-2's parameters, layer by layer

GPT-2 (Hugging Face's `GPT2LMHeadModel`) with vocabulary $V$, $P$ positions, width $d$ and
$n_{layer}$ blocks. Per block, with HF's module names:

| module | shape | parameters |
|---|---|---|
| `ln_1`, `ln_2` | LayerNorm weight and bias | $2d + 2d$ |
| `attn.c_attn` | $d \to 3d$ (fused $Q, K, V$), bias | $3d^2 + 3d$ |
| `attn.c_proj` | $d \to d$, bias | $d^2 + d$ |
| `mlp.c_fc` | $d \to 4d$, bias | $4d^2 + 4d$ |
| `mlp.c_proj` | $4d \to d$, bias | $4d^2 + d$ |
| **block** | | $12d^2 + 13d$ |

Outside the blocks: the token embedding `wte` ($Vd$), the learned positions `wpe` ($Pd$), the
final LayerNorm `ln_f` ($2d$) and the output head `lm_head`, a $d \to V$ matrix that *is*
`wte` (tied weights, counted once). So

$$ \boxed{N_{\text{total}} = Vd + Pd + n_{layer}(12d^2 + 13d) + 2d} $$

For GPT-2 small, $50257 \cdot 768 + 1024 \cdot 768 + 12 \cdot (12 \cdot 768^2 + 13 \cdot 768)
+ 2 \cdot 768 = 124{,}439{,}808$. (The Hugging Face hub shows 137M for this checkpoint
because its file also stores a $1024 \times 1024$ causal-mask buffer per block,
$12 \cdot 1{,}048{,}576$ values that are not parameters.)

layercalc's report, summed by the first two levels of the path and by layer kind:
"""),
("code", r"""
gpt2 = lc.analyze(zoo.gpt2(), (1024,))
V_, P_, d_, n_layer = 50257, 1024, 768, 12
parts = {path: cost.params for path, cost in gpt2.by_depth(2).items()}
assert parts == {"transformer.wte": V_ * d_, "transformer.wpe": P_ * d_, "transformer.drop": 0,
                 "transformer.h": n_layer * (12 * d_**2 + 13 * d_),
                 "transformer.ln_f": 2 * d_, "lm_head": 0}          # tied: counted at wte
assert sum(parts.values()) == gpt2.total.params == 124_439_808
assert gpt2.total.params + 12 * 1024**2 == 137_022_720              # + the mask buffers

frame = gpt2.to_dataframe()
block0 = frame[frame.path.str.startswith("transformer.h.0.") & (frame.params > 0)]
block0 = block0.assign(module=block0.path.str.removeprefix("transformer.h.0."))
by_hand = {"ln_1": 2*d_, "attn.c_attn": 3*d_**2 + 3*d_, "attn.c_proj": d_**2 + d_,
           "ln_2": 2*d_, "mlp.c_fc": 4*d_**2 + 4*d_, "mlp.c_proj": 4*d_**2 + d_}
assert dict(zip(block0.module, block0.params)) == by_hand
assert block0.params.sum() == 12 * d_**2 + 13 * d_ == 7_087_872
display(block0[["module", "kind", "input_shape", "output_shape", "params"]].set_index("module"))
{kind: f"{cost.params:,}" for kind, cost in gpt2.by_kind().items() if cost.params}
"""),
("md", r"""
**SymPy confirms the formula.** The depth of a layercalc network is a Python integer (a list
of blocks), but everything else may be a symbol. For $n_{layer} = 0, 1, 2, 3$ the total is the
formula, exactly, as a polynomial in $V, P, d$; the blocks are identical, so each one adds
the same $12d^2 + 13d$ and the formula holds for every depth. Then the four published sizes
(Hugging Face checkpoints, tied embeddings counted once):
"""),
("code", r"""
V, d_sym = lc.symbols("V d")
formula = lambda layers: V*d_sym + P*d_sym + layers*(12*d_sym**2 + 13*d_sym) + 2*d_sym
for layers in range(4):
    symbolic = lc.analyze(zoo.gpt2(n_layer=layers, n_embd=d_sym, n_head=1, vocab_size=V,
                                   n_positions=P), (T,))
    assert sp.expand(symbolic.total.params - formula(layers)) == 0

published = {"small": 124_439_808, "medium": 354_823_168, "large": 774_030_080,
             "xl": 1_557_611_200}
sizes = []
for size, total in published.items():
    layers, width, heads = zoo.GPT2_SIZES[size]
    counted = lc.analyze(zoo.gpt2(size), (1024,)).total.params
    assert counted == formula(layers).subs({V: 50257, P: 1024, d_sym: width}) == total
    sizes.append({"size": size, "n_layer": layers, "d": width, "params": total,
                  "embeddings": (50257 + 1024) * width})
sizes = pd.DataFrame(sizes).set_index("size")
sizes["embedding share"] = (sizes.embeddings / sizes.params).round(4)
display(formula(sp.Symbol("n_layer")))
sizes
"""),
("md", r"""
**Brute force: the checkpoint's tensor list.** Independently of layercalc, we write down the
tensors a `GPT2LMHeadModel` state dict holds (HF's names and shapes, `Conv1D` weights stored
as $(\text{in}, \text{out})$), and add up their sizes, counting `lm_head.weight` once because
it is the same tensor as `transformer.wte.weight`. Checked on tiny configurations and on
GPT-2 small.
"""),
("code", r"""
def state_dict_shapes(V, P, d, n_layer):
    "GPT2LMHeadModel's parameters as (name, shape, storage), HF's names; tied tensors share storage."
    tensors = [("transformer.wte.weight", (V, d), "wte"), ("transformer.wpe.weight", (P, d), "wpe")]
    for i in range(n_layer):
        b = f"transformer.h.{i}."
        tensors += [(b + "ln_1.weight", (d,), None), (b + "ln_1.bias", (d,), None),
                    (b + "attn.c_attn.weight", (d, 3 * d), None), (b + "attn.c_attn.bias", (3 * d,), None),
                    (b + "attn.c_proj.weight", (d, d), None), (b + "attn.c_proj.bias", (d,), None),
                    (b + "ln_2.weight", (d,), None), (b + "ln_2.bias", (d,), None),
                    (b + "mlp.c_fc.weight", (d, 4 * d), None), (b + "mlp.c_fc.bias", (4 * d,), None),
                    (b + "mlp.c_proj.weight", (4 * d, d), None), (b + "mlp.c_proj.bias", (d,), None)]
    tensors += [("transformer.ln_f.weight", (d,), None), ("transformer.ln_f.bias", (d,), None),
                ("lm_head.weight", (V, d), "wte")]
    return tensors


def count_parameters(tensors):
    seen, total = set(), 0
    for name, shape, storage in tensors:
        key = storage or name
        if key in seen:                 # a tied tensor: the same storage, already counted
            continue
        seen.add(key)
        size = 1
        for extent in shape:
            size *= extent
        total += size
    return total


for V_t, P_t, d_t, layers in [(11, 8, 4, 1), (7, 16, 6, 2), (50257, 1024, 768, 12)]:
    tensors = state_dict_shapes(V_t, P_t, d_t, layers)
    model = zoo.gpt2(n_layer=layers, n_embd=d_t, n_head=2, vocab_size=V_t, n_positions=P_t)
    assert count_parameters(tensors) == lc.analyze(model, (3,)).total.params
assert len(state_dict_shapes(50257, 1024, 768, 12)) == 2 + 12 * 12 + 3 == 149
assert count_parameters(state_dict_shapes(50257, 1024, 768, 12)) == 124_439_808
"""),
("md", r"""
**Plot.** Where the parameters sit: the embedding table is almost a third of GPT-2 small and
about a twentieth of GPT-2 XL, because it grows like $d$ while the blocks grow like
$n_{layer} d^2$.
"""),
("code", r"""
fig, ax = plt.subplots()
blocks_m = (sizes.params - sizes.embeddings) / 1e6
ax.bar(sizes.index, sizes.embeddings / 1e6, label="embeddings $(V + P)\\,d$")
ax.bar(sizes.index, blocks_m, bottom=sizes.embeddings / 1e6,
       label="blocks and final norm $n_{layer}(12d^2 + 13d) + 2d$")
for x, (total, share) in enumerate(zip(sizes.params, sizes["embedding share"])):
    ax.text(x, total / 1e6 + 20, f"{share:.0%} emb.", ha="center", fontsize=9)
ax.set(ylabel="parameters (millions)", title="GPT-2: embeddings vs blocks")
ax.legend(fontsize=9)
show(fig)

assert round(float(sizes.loc["small", "embedding share"]), 4) == 0.3165
assert round(float(sizes.loc["xl", "embedding share"]), 4) == 0.0527
"""),
# ------------------------------------------------------------------------------------------
("md", r"""
## 4. Kaplan's FLOPs per token, derived

Kaplan et al. (2020, "Scaling Laws for Neural Language Models", Table 1) count the forward
pass of a decoder-only transformer as

$$ C_{\text{forward}} \approx 2N + 2\,n_{layer}\,n_{ctx}\,d_{attn} \quad \text{FLOPs per token},
   \qquad N = 2\,d_{model}\,n_{layer}\,(2 d_{attn} + d_{ff}), $$

$N$ being the non-embedding parameters of the weight matrices ($12\,n_{layer} d^2$ with
$d_{attn} = d_{ff}/4 = d$; GPT-2 small: $12 \cdot 12 \cdot 768^2 = 84{,}934{,}656$). It is a
count of multiply-accumulates at **2 FLOPs each**, layercalc's `2*macs` convention. Per token
and per block, from section 2's block count $12d^2 T + dT(T+1)$ divided by $T$:

* the matrices: $12 d^2$ MACs, i.e. $24 d^2$ FLOPs; over $n_{layer}$ blocks, $2N$, **exactly**;
* $QK^\top$ and $PV$ with the causal mask: $d(T + 1)$ MACs, i.e. $2d(n_{ctx} + 1)$ FLOPs. Kaplan
  writes $2 n_{ctx} d$: query $i$ sees $i + 1$ keys, on average $(n_{ctx} + 1)/2$, and the
  "+1" is the diagonal;
* the output head (de-embedding) $d \to V$: $2dV$ FLOPs. Kaplan's table lists it but leaves it
  out of $C_{\text{forward}}$, as it leaves the embeddings out of $N$.

So under `2*macs`, per token:

$$ C_{\text{layers}} - C_{\text{forward}} = 2\,d\,V + 2\,n_{layer}\,d \quad \text{exactly.} $$

Biases, LayerNorms, GELU, softmax and the residual adds are not multiply-accumulates; neither
Kaplan nor `2*macs` counts them (layercalc's `exact` convention does).
"""),
("code", r"""
n_ctx = lc.symbols("n_ctx")
for layers in range(1, 4):
    model = zoo.gpt2(n_layer=layers, n_embd=d_sym, n_head=1, vocab_size=V, n_positions=P)
    per_token = sp.expand(lc.flops(lc.analyze(model, (n_ctx,)), "2*macs") / n_ctx)
    kaplan = zoo.kaplan_forward_flops(layers, d_sym, n_ctx)
    assert sp.expand(kaplan - (2 * 12 * layers * d_sym**2 + 2 * layers * n_ctx * d_sym)) == 0
    assert sp.expand(per_token - kaplan - (2*d_sym*V + 2*layers*d_sym)) == 0
display(per_token, sp.expand(per_token - kaplan))

small = lc.flops(lc.analyze(zoo.gpt2(), (n_ctx,)), "2*macs")
assert sp.expand(small - (18432*n_ctx*(n_ctx + 1) + 247_064_064*n_ctx)) == 0
assert 247_064_064 == 2 * 12 * 12 * 768**2 + 2 * 768 * 50257                # 2N + de-embedding
kaplan_small = zoo.kaplan_forward_flops(12, 768, 1024)
assert kaplan_small == 2 * 84_934_656 + 2 * 12 * 1024 * 768 == 188_743_680
difference = lc.evaluate(small, n_ctx=1024) // 1024 - kaplan_small
assert difference == 2 * 768 * 50257 + 2 * 12 * 768 == 77_213_184
say(f"GPT-2 small, 1024 tokens: Kaplan {kaplan_small:,} FLOPs per token, the layers "
      f"{kaplan_small + difference:,} (+{difference:,}: the head and the diagonal)")
"""),
("md", r"""
**Brute force: a tiny GPT-2 that counts.** A full forward pass in plain Python: embeddings,
LayerNorm, the fused $QKV$ projection, causal attention head by head, the output projection,
the MLP with GELU, the final norm and the tied head. Every multiply inside a dot product is
counted, nothing else (that is what `2*macs` halves). Three tiny configurations, each checked
against layercalc, against the formula $n_{layer}(12 d^2 T + dT(T+1)) + TdV$ and against
Kaplan plus the exact difference.
"""),
("code", r"""
def naive_gpt2(ids, V, P, d, heads, n_layer):
    "Forward pass of a random GPT-2 on token ids; returns (logits, multiplies in dot products)."
    count = [0]
    R = lambda *shape: rng.normal(scale=0.2, size=shape).tolist()

    def matvec(x, W, b=None):           # x: d_in floats, W: d_in x d_out (HF Conv1D layout)
        out = []
        for j in range(len(W[0])):
            acc = 0.0
            for i in range(len(x)):
                acc += x[i] * W[i][j]
                count[0] += 1
            out.append(acc + (b[j] if b else 0.0))
        return out

    def layer_norm(x):
        mean = sum(x) / len(x)
        var = sum((v - mean) ** 2 for v in x) / len(x)
        return [(v - mean) / math.sqrt(var + 1e-5) for v in x]

    def gelu(x):
        return 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))

    wte, wpe = R(V, d), R(P, d)
    xs = [[a + b for a, b in zip(wte[t], wpe[pos])] for pos, t in enumerate(ids)]
    hd = d // heads
    for _ in range(n_layer):
        W_qkv, b_qkv, W_o, b_o = R(d, 3 * d), R(3 * d), R(d, d), R(d)
        W_fc, b_fc, W_pr, b_pr = R(d, 4 * d), R(4 * d), R(4 * d, d), R(d)
        qkv = [matvec(layer_norm(x), W_qkv, b_qkv) for x in xs]
        attn = []
        for i in range(len(xs)):                      # causal: query i sees keys 0..i
            row = []
            for hh in range(heads):
                sl = slice(hh * hd, (hh + 1) * hd)
                q = qkv[i][:d][sl]
                s = []
                for j in range(i + 1):
                    k = qkv[j][d:2 * d][sl]
                    s.append(sum(q[c] * k[c] for c in range(hd)) / math.sqrt(hd))
                    count[0] += hd
                m = max(s)
                e = [math.exp(v - m) for v in s]
                p = [v / sum(e) for v in e]
                for c in range(hd):
                    row.append(sum(p[j] * qkv[j][2 * d:][sl][c] for j in range(i + 1)))
                    count[0] += i + 1
            attn.append(row)
        xs = [[a + b for a, b in zip(x, matvec(o, W_o, b_o))] for x, o in zip(xs, attn)]
        xs = [[a + b for a, b in zip(x, matvec([gelu(v) for v in matvec(layer_norm(x), W_fc, b_fc)],
                                                W_pr, b_pr))] for x in xs]
    wte_t = [list(col) for col in zip(*wte)]          # the tied head: logits = x @ wte^T
    logits = [matvec(layer_norm(x), wte_t) for x in xs]
    return logits, count[0]


for V_t, P_t, d_t, heads, layers, T_t in [(7, 8, 4, 1, 1, 3), (11, 16, 8, 2, 2, 5),
                                          (5, 8, 6, 3, 3, 8)]:
    ids = rng.integers(0, V_t, size=T_t).tolist()
    logits, counted = naive_gpt2(ids, V_t, P_t, d_t, heads, layers)
    model = zoo.gpt2(n_layer=layers, n_embd=d_t, n_head=heads, vocab_size=V_t, n_positions=P_t)
    report = lc.analyze(model, (T_t,))
    assert (len(logits), len(logits[0])) == report.output_shape == (T_t, V_t)
    assert counted == report.total.macs
    assert counted == layers * (12 * d_t**2 * T_t + d_t * T_t * (T_t + 1)) + T_t * d_t * V_t
    per_token = 2 * counted // T_t
    assert per_token == zoo.kaplan_forward_flops(layers, d_t, T_t) + 2*d_t*V_t + 2*layers*d_t
say(f"last tiny model: {counted:,} multiplies for {T_t} tokens; "
      f"{per_token:,} FLOPs per token under 2*macs")
"""),
("md", r"""
**Plot: when is the context term small?** Kaplan's context term relative to $2N$ is
$\frac{2 n_{layer} n_{ctx} d}{24 n_{layer} d^2} = \frac{n_{ctx}}{12 d}$: below 10% for
every GPT-2 size at its 1024-token context, and negligible as long as $d \gg n_{ctx}/12$,
which is the paper's justification for $C \approx 2N$.
"""),
("code", r"""
ctx = np.geomspace(128, 131072, 100)
fig, ax = plt.subplots()
for size, (layers, width, _) in zoo.GPT2_SIZES.items():
    ratio = lc.ratio(zoo.kaplan_forward_flops(layers, width, n_ctx) - 24 * layers * width**2,
                     24 * layers * width**2)
    assert sp.simplify(ratio - n_ctx / (12 * width)) == 0
    ax.loglog(ctx, ctx / (12 * width), label=f"GPT-2 {size} ($d = {width}$)")
ax.axhline(1, color="k", lw=0.8)
ax.axvline(1024, color="gray", lw=0.8, ls="--")
ax.set(xlabel="context length $n_{ctx}$", ylabel="context term / $2N$",
       title="Kaplan's context term: $n_{ctx} / (12\\,d_{model})$")
ax.legend(fontsize=9)
ax.grid(alpha=0.3)
show(fig)

assert 1024 / (12 * 768) < 0.12 and 1024 / (12 * 1600) < 0.06
"""),
("md", r"""
**Training: $6ND$.** Kaplan (Sec. 2.1) and Chinchilla (Hoffmann et al. 2022) estimate training
compute as $C \approx 6ND$ for $D$ training tokens: the forward $2N$ per token plus a backward
pass taken to cost **twice** the forward. For one linear layer $y = xW$ the factor is a count:
the backward pass needs the gradient with respect to the input, $\partial x = \partial y\,
W^\top$, and with respect to the weights, $\partial W = x^\top \partial y$, each a product of
the forward's size. For a whole network it is an **assumption**: it ignores the attention
scores' backward, the elementwise layers, activation recomputation and the optimizer step.
layercalc counts forward passes only, so the factor 3 is never something it measured. The
loop below does count it for a linear layer applied to $T$ tokens:
"""),
("code", r"""
def naive_linear_with_backward(xs, W):
    "Forward y = x W, then dx = dy W^T and dW = x^T dy, for T tokens; counts multiplies."
    d_in, d_out = len(W), len(W[0])
    fwd = bwd = 0
    ys = []
    for x in xs:
        ys.append([sum(x[i] * W[i][j] for i in range(d_in)) for j in range(d_out)]); fwd += d_in * d_out
    dys = rng.normal(size=(len(xs), d_out)).tolist()
    dxs = []
    for dy in dys:                                    # dx = dy W^T
        dxs.append([sum(dy[j] * W[i][j] for j in range(d_out)) for i in range(d_in)]); bwd += d_in * d_out
    dW = [[0.0] * d_out for _ in range(d_in)]
    for x, dy in zip(xs, dys):                        # dW = x^T dy, accumulated over tokens
        for i in range(d_in):
            for j in range(d_out):
                dW[i][j] += x[i] * dy[j]; bwd += 1
    return fwd, bwd


for T_t, d_in, d_out in [(1, 3, 4), (5, 8, 2), (7, 6, 6)]:
    fwd, bwd = naive_linear_with_backward(rng.normal(size=(T_t, d_in)).tolist(),
                                          rng.normal(size=(d_in, d_out)).tolist())
    assert fwd == lc.Linear(d_in, d_out).cost((T_t, d_in)).macs and bwd == 2 * fwd

N_kaplan, D_tokens = 12 * 12 * 768**2, 10**9
assert N_kaplan == 84_934_656
training = 6 * N_kaplan * D_tokens           # forward 2ND (counted) + backward 4ND (assumed)
assert training == 509_607_936 * 10**9
say(f"6ND for GPT-2 small's non-embedding N on 1e9 tokens: {training:.3e} FLOPs, of which "
      f"{2 * N_kaplan * D_tokens:.2e} is the counted forward pass")
"""),
# ------------------------------------------------------------------------------------------
("md", r"""
## 5. The KV cache and a decode step on the roofline

Generating text runs the model once per new token. Recomputing the keys and values of the
whole prefix each time would be quadratic, so they are kept: the **KV cache**. Each layer
stores, for every token, one key and one value vector per KV head:

$$ \text{KV bytes per token} = 2 \cdot n_{layer} \cdot H_{kv} \cdot d_{head} \cdot
   \text{bytes per element}. $$

GPT-2 small in fp16: $2 \cdot 12 \cdot 12 \cdot 64 \cdot 2 = 36{,}864$ bytes, 36 KiB per token.
Llama-2-7B (32 layers, 32 heads of 128): 512 KiB per token, 2 GiB for a 4096-token context.
Grouped-query attention divides this by $H / H_{kv}$: Llama-3-8B has the same layers and
heads but 8 KV heads, so 128 KiB per token.

layercalc's `KVCacheDecode(H, d_head, S, num_kv_heads)` is one decode step of one layer: one
new query attends to $S$ cached positions. `memory(..., kv_dtype=...)` prices its cache reads
separately, and reports them as `kv_reads`:
"""),
("code", r"""
def kv_bytes_per_token(n_layer, kv_heads, head_dim, nbytes):
    return 2 * n_layer * kv_heads * head_dim * nbytes


models = {"GPT-2 small": (12, 12, 12, 64), "GPT-2 XL": (48, 25, 25, 64)}
for name, preset in [("Llama-2-7B", "llama-2-7b"), ("Llama-2-70B", "llama-2-70b"),
                     ("Llama-3-8B", "llama-3-8b")]:
    c = zoo.LLAMA_PRESETS[preset]
    models[name] = (c["num_hidden_layers"], c["num_attention_heads"], c["num_key_value_heads"],
                    c["hidden_size"] // c["num_attention_heads"])

rows = []
for name, (layers, heads, kv_heads, head_dim) in models.items():
    step = lc.analyze(lc.KVCacheDecode(heads, head_dim, S, num_kv_heads=kv_heads),
                      (1, heads * head_dim))
    per_layer = lc.memory(step, dtype="fp16").kv_reads          # bytes of cache one layer reads
    per_token = int(sp.expand(layers * per_layer / S))
    assert per_token == kv_bytes_per_token(layers, kv_heads, head_dim, 2)
    assert lc.memory(step, dtype="fp16", kv_dtype="int8").kv_reads * 2 == per_layer
    rows.append({"model": name, "layers": layers, "H": heads, "H_kv": kv_heads,
                 "d_head": head_dim, "KiB per token (fp16)": per_token / 1024,
                 "GiB at 4096 tokens": per_token * 4096 / 2**30})
kv_table = pd.DataFrame(rows).set_index("model")
assert list(kv_table["KiB per token (fp16)"]) == [36, 300, 512, 320, 128]
assert kv_table.loc["Llama-2-7B", "GiB at 4096 tokens"] == 2
kv_table
"""),
("md", r"""
**A decode step's arithmetic intensity.** One new query per head attends to $S$ cached
positions: $2 H d_{head} S$ MACs, i.e. $4 H d_{head} S$ FLOPs under `2*macs`. It must read the
whole cache, $2 S H_{kv} d_{head}$ elements, plus the query, and write the output ($H
d_{head}$ each). In fp16 (2 bytes per element), with $g = H / H_{kv}$:

$$ I = \frac{4 H d_{head} S}{2\,(2 S H_{kv} d_{head} + 2 H d_{head})}
     = \frac{S}{S/g + 1} = \frac{g S}{S + g}. $$

Without grouping ($g = 1$) that is $\frac{S}{S+1}$: **less than one FLOP per byte**, whatever
the context length. An A100's ridge point in fp16 is $312 \cdot 10^{12} / (2039 \cdot 10^9)
\approx 153$ FLOP/byte, so a decode step's attention runs at under 1% of the peak. Batching
does not help: every sequence has its own cache, so $B$ sequences read $B$ caches;
`critical_batch` finds no batch at which it becomes compute-bound. Grouped KV heads raise the
intensity towards $g$ (8 for Llama-3), still far below the ridge.
"""),
("code", r"""
a100 = lc.get_hardware("a100-sxm4-80gb")
ridge = a100.ridge("fp16")
assert ridge == sp.Rational(312_000, 2039) and round(float(ridge), 1) == 153.0

g = lc.symbols("g")
for kv_heads, expected in [(12, S / (S + 1)), (4, 3*S / (S + 3)), (1, 12*S / (S + 12))]:
    step = lc.analyze(lc.KVCacheDecode(12, 64, S, num_kv_heads=kv_heads), (1, 768))
    point = lc.roofline(step, a100, "fp16", convention="2*macs").total
    assert sp.simplify(point.intensity - expected) == 0
    assert sp.simplify(point.intensity - (g*S / (S + g)).subs(g, 12 // kv_heads)) == 0

mha = lc.roofline(lc.analyze(lc.KVCacheDecode(12, 64, 1024), (1, 768)), a100, "fp16",
                  convention="2*macs").total
assert mha.intensity == sp.Rational(1024, 1025) and mha.bound == "memory"
assert float(mha.intensity / ridge) < 0.01
assert lc.critical_batch(lc.KVCacheDecode(12, 64, 1024), (1, 768), a100,
                         convention="2*macs") is None
assert lc.critical_batch(lc.KVCacheDecode(32, 128, 8192, num_kv_heads=8), (1, 4096), a100,
                         convention="2*macs") is None
say(f"decode attention, S = 1024: I = {mha.intensity} FLOP/byte, ridge {float(ridge):.1f}")
"""),
("md", r"""
**Brute force: a decode step that counts.** The attention loop of section 2 with one query
and an $S$-position cache, with and without a window: the multiplies, and the distinct cache
elements it touches, must be `KVCacheDecode`'s MACs and its cache reads ($S \to \min(S, w)$
with a window).
"""),
("code", r"""
checked = 0
for cache_len, heads, kv_heads, head_dim, window in itertools.product(
        [1, 4, 9], [2, 4], [1, 2], [1, 3], [None, 3]):
    q = rng.normal(size=(1, heads * head_dim)).tolist()
    k = rng.normal(size=(cache_len, kv_heads * head_dim)).tolist()
    v = rng.normal(size=(cache_len, kv_heads * head_dim)).tolist()
    _, n = naive_attention(q, k, v, heads, head_dim, kv_heads, causal=True, window=window)
    cost = lc.KVCacheDecode(heads, head_dim, cache_len, num_kv_heads=kv_heads,
                            window=window).cost((1, heads * head_dim))
    assert n["mac"] == cost.macs == 2 * heads * head_dim * min(cache_len, window or cache_len)
    assert n["kv_read"] == cost.act_reads - heads * head_dim          # all but the query
    checked += 1
assert checked == 48
"""),
("md", r"""
**A whole GPT-2 decode step.** layercalc's GPT-2 is the prefill (a forward pass over $T$
tokens); there is no decode-mode model. But a decode step is the forward pass of **one**
token in which each attention reads the cache: we take the report of `gpt2()` on one token
and swap each `sdpa` row for a `KVCacheDecode` row with the same path. With batch $B$ and
$S$ cached tokens, under the compulsory memory model in fp16:

* FLOPs: $B\,(f_0 + f_1 S)$, where $f_0 = 2N +$ the head $= 247{,}064{,}064$ and
  $f_1 = 4\,n_{layer}\,d = 36{,}864$;
* bytes: $W + B\,(m_0 + m_1 S)$: the weights once per batch ($W$), and per sequence its
  activations ($m_0$) and its cache ($m_1 S$, $36{,}864$ bytes per token as above).

At $B = 1$ the weights dominate and $I \approx 1$. Batching shares the weights, so the
intensity rises, but towards $\frac{f_0 + f_1 S}{m_0 + m_1 S}$, not forever: the step is
compute-bound from

$$ B^* = \frac{\rho\,W}{f_0 + f_1 S - \rho\,(m_0 + m_1 S)} \qquad (\rho = \pi/\beta
   \text{, the ridge}), $$

which exists only while the denominator is positive, i.e. for contexts shorter than
$S_{max} = \frac{f_0 - \rho m_0}{\rho m_1 - f_1}$.
"""),
("code", r"""
B = lc.symbols("B")


def decode_step(cache_len, batch=1, size="small"):
    "Report of one GPT-2 decode step: the one-token forward pass with cached attention."
    layers, width, heads = zoo.GPT2_SIZES[size]
    one_token = lc.analyze(zoo.gpt2(size), (1,), batch=batch)
    cached = lc.analyze(lc.KVCacheDecode(heads, width // heads, cache_len), (1, width),
                        batch=batch).rows[0]
    rows = [dataclasses.replace(cached, path=row.path)
            if row.kind == "ScaledDotProductAttention" else row for row in one_token.rows]
    return lc.Report(tuple(rows), one_token.input_shape, one_token.output_shape, batch)


general = decode_step(S, B)
F = sp.expand(lc.flops(general, "2*macs"))
M = sp.expand(lc.memory(general, dtype="fp16").total)
f0, f1 = 247_064_064, 4 * 12 * 768
W_bytes, m0, m1 = M.subs(B, 0), M.coeff(B).subs(S, 0), M.coeff(B).coeff(S)
assert sp.expand(F - B * (f0 + f1 * S)) == 0 and f1 == 36_864
assert (W_bytes, m0, m1) == (247_306_752, 776_356, kv_bytes_per_token(12, 12, 64, 2))
assert W_bytes == 2 * (gpt2.total.params - 1024 * 768)   # every weight but wpe (one row is read)

one = lc.roofline(decode_step(1024), a100, "fp16", convention="2*macs")
assert one.total.bound == "memory" and round(float(one.total.intensity), 3) == 0.996
tokens_per_s = 1 / one.time
say(f"B = 1, S = 1024: {one.total.flops:,} FLOPs, {one.total.bytes:,} bytes, "
      f"I = {float(one.total.intensity):.3f}; at most {float(tokens_per_s):,.0f} tokens/s")
display(F, M)
"""),
("md", r"""
**Solving for the batch.** `critical_value` solves $I(B) = \rho$ with SymPy. With the peak
$\pi$ and bandwidth $\beta$ as symbols it returns the formula; with the A100's numbers and a
symbolic $S$, the threshold as a function of the context; with numbers everywhere, the
integer. For GPT-2 small on an A100 in fp16, a batch of decode steps becomes compute-bound
only for contexts of **22 tokens or fewer**, where $B^* \ge 309$; at $S = 1024$ no batch
reaches the ridge, because each sequence's cache and activations cost more bytes than its
FLOPs can cover. (The compulsory model moves every activation through memory once; fused
kernels that keep activations on chip lower $m_0$ and raise $S_{max}$, but the cache term
$m_1 S$ cannot be fused away.)
"""),
("code", r"""
pi_, beta_ = sp.symbols("pi beta", positive=True)
teaching = lc.Hardware("symbolic GPU", {"fp16": pi_}, beta_, "symbols")
rho = pi_ / beta_
formula_B = rho * W_bytes / (f0 + f1 * S - rho * (m0 + m1 * S))
symbolic_B = lc.critical_value(lambda b: decode_step(S, b), B, teaching, "fp16",
                               convention="2*macs")
assert sp.simplify(symbolic_B - formula_B) == 0

on_a100 = lc.critical_value(lambda b: decode_step(S, b), B, a100, "fp16", convention="2*macs")
assert sp.simplify(on_a100 - formula_B.subs(rho, ridge)) == 0
[s_max] = lc.break_even(f0 + f1 * S, ridge * (m0 + m1 * S), S)   # over the positive reals
assert int(sp.floor(s_max)) == 22

batches = {s: lc.critical_value(lambda b: decode_step(s, b), B, a100, "fp16",
                                convention="2*macs") for s in (1, 22, 23, 1024)}
assert batches[1] == int(sp.ceiling(on_a100.subs(S, 1))) == 309
assert batches[22] is not None and batches[23] is None and batches[1024] is None
for s, b in [(1, 309), (22, batches[22])]:          # the threshold checked on both sides
    assert lc.roofline(decode_step(s, b), a100, "fp16",
                       convention="2*macs").total.bound == "compute"
    assert lc.roofline(decode_step(s, b - 1), a100, "fp16",
                       convention="2*macs").total.bound == "memory"
display(sp.simplify(symbolic_B))
say(f"S_max = {float(s_max):.2f}; critical batch: " + ", ".join(f"S={s}: {b}" for s, b in batches.items()))
"""),
("md", r"""
**Plot: prefill and decode on the A100's roofline.** The prefill of 1024 tokens (one forward
pass over the prompt) reuses every weight 1024 times and sits right of the ridge; a decode
step sits at $I \approx 1$; batching moves it right, but at $S = 1024$ it stalls far short of
the ridge; the attention of a decode step stays at $S/(S+1)$ whatever the batch.
"""),
("code", r"""
prefill = lc.roofline(lc.analyze(zoo.gpt2(), (1024,)), a100, "fp16", convention="2*macs").total
points = {"prefill, 1024 tokens": prefill, "decode attention, S = 1024": mha}
for b in (1, 16, 4096):
    points[f"decode step, S = 1024, B = {b}"] = lc.roofline(decode_step(1024, b), a100, "fp16",
                                                            convention="2*macs").total
points["decode step, S = 16, B = 4096"] = lc.roofline(decode_step(16, 4096), a100, "fp16",
                                                      convention="2*macs").total

peak, bw = float(a100.peak("fp16")), float(a100.bandwidth())
grid = np.geomspace(0.1, 2000, 200)
fig, ax = plt.subplots()
ax.loglog(grid, np.minimum(peak, bw * grid) / 1e12, "k", lw=2, label="A100 80GB, fp16")
ax.axvline(float(ridge), color="gray", ls="--", lw=1)
ax.text(float(ridge) * 1.1, 1, f"ridge {float(ridge):.0f}", color="gray", fontsize=9)
for (label, p), marker in zip(points.items(), "oOsssD"):
    i = float(p.intensity)
    style = dict(ms=14, mfc="none", mew=2) if marker == "O" else dict(ms=7)
    ax.plot(i, min(peak, bw * i) / 1e12, marker.replace("O", "o"), label=f"{label}: I = {i:.3g}",
            **style)
ax.set(xlabel="arithmetic intensity (FLOP/byte)", ylabel="attainable TFLOP/s",
       title="GPT-2 small: prefill vs decode")
ax.legend(fontsize=9, loc="lower right")
ax.grid(alpha=0.3)
show(fig)

assert prefill.bound == "compute" and float(prefill.intensity) > float(ridge)
stall = float(sp.Rational(f0 + f1 * 1024, m0 + m1 * 1024))          # B -> infinity at S = 1024
assert round(stall, 2) == 7.39
assert float(points["decode step, S = 1024, B = 4096"].intensity) < stall
assert points["decode step, S = 16, B = 4096"].bound == "compute"
"""),
# ------------------------------------------------------------------------------------------
("md", r"""
## Summary

* An LSTM layer has $4(hI + h^2 + 2h)$ parameters in PyTorch (two biases; seed 001's form has
  none, Keras one) and costs $4h(I + h)$ MACs per step, $T$ times that per sequence. Seed
  001's extra $h^2$ per step is not in the equations.
* Attention costs $2 d_{model} L S$ MACs; causal, $d_{model} L(L+1)$; with a window $w$, linear
  in $L$ past $w$. In a GPT-2 block the scores pass the MLP at $T = 8d - 1$.
* GPT-2 has $Vd + Pd + n_{layer}(12d^2 + 13d) + 2d$ parameters: 124,439,808 for the small
  model, each published size reproduced.
* Under `2*macs`, the layers give Kaplan's $2N + 2 n_{layer} n_{ctx} d$ plus exactly
  $2dV + 2 n_{layer} d$ (the head and the diagonal). $6ND$ adds a backward pass *assumed* to
  cost $2\times$ the forward.
* The KV cache holds $2 n_{layer} H_{kv} d_{head}$ elements per token. A decode step's
  attention has intensity $gS/(S + g) < g$, so it is memory-bound on any GPU; batching only
  amortises the weights, and for GPT-2 small on an A100 a batch of decode steps is
  compute-bound only below 23 tokens of context.

## Exercises

1. Can you count the parameters and the per-step MACs of a 2-layer bidirectional GRU with 40
   inputs and 128 hidden units by hand, and check them with layercalc?
2. Can you find the context length at which the attention scores of a GPT-2 XL block
   ($d = 1600$) cost as many MACs as its MLP?
3. Can you show that with a sliding window of $w = 4096$ (Mistral 7B's: 32 heads of 128) each
   extra token past the window adds a constant $2 \cdot 4096 \cdot 4096$ MACs of attention?
4. Can you compute the KV cache of Llama-3-8B for its full 8192-token context in bf16 and in
   int8, and check both with `lc.memory(..., kv_dtype=...)`?
5. Can you compute Kaplan's $C_{\text{forward}}$ for GPT-2 XL at $n_{ctx} = 1024$ and the exact
   difference from the layers under `2*macs`?
6. Can you find an upper bound on how many tokens per second GPT-2 XL can generate for one
   sequence with 1024 cached tokens on an H100 in fp16, from the roofline's time?

## Solutions

The solutions are collapsed in Jupyter (click the bar beside a cell to open it): try each
exercise first.
"""),
("md", r"""
**1.** Per layer and direction $3h(I + h + 2)$ parameters and $3h(I + h)$ MACs per step. Layer
0 reads $I = 40$; layer 1 reads both directions, $2h = 256$. Parameters
$2 \cdot [3 \cdot 128 \cdot (40 + 128 + 2) + 3 \cdot 128 \cdot (256 + 128 + 2)] = 427{,}008$;
MACs per step $2 \cdot [3 \cdot 128 \cdot 168 + 3 \cdot 128 \cdot 384] = 423{,}936$.
"""),
("code", r"""
gru = lc.GRU(40, 128, num_layers=2, bidirectional=True)
per_step = gru.cost((1, 40))
assert per_step.params == 2 * (3*128*(40 + 128 + 2) + 3*128*(256 + 128 + 2)) == 427_008
assert per_step.macs == 2 * (3*128*168 + 3*128*384) == 423_936
assert gru.cost((T, 40)).macs == 423_936 * T
"""),
("md", r"""
**2.** $T = 8d - 1 = 12{,}799$.
"""),
("code", r"""
xl_block = lc.analyze(lc.GPT2Block(1600, 25), (T, 1600))
xl_scores = part(xl_block, lambda p: p == "attn.sdpa")
xl_mlp = part(xl_block, lambda p: p.startswith("mlp."))
assert lc.break_even(xl_scores, xl_mlp, T) == [8 * 1600 - 1] == [12_799]
"""),
("md", r"""
**3.** Past the window each query sees exactly $w$ keys, so one more token adds $w$ scores per
head: $2 \cdot H \cdot d_{head} \cdot w = 2 \cdot 4096 \cdot 4096 = 33{,}554{,}432$ MACs, whatever
the length; without the window the increment keeps growing.
"""),
("code", r"""
mistral = lc.ScaledDotProductAttention(32, 128, num_kv_heads=8, causal=True, window=4096)
macs_w = mistral.cost((T, 4096)).macs
increments = {t: lc.evaluate(macs_w, T=t + 1) - lc.evaluate(macs_w, T=t) for t in (4096, 8000, 32768)}
assert set(increments.values()) == {2 * 4096 * 4096} == {33_554_432}
no_window = lc.ScaledDotProductAttention(32, 128, causal=True).cost((T, 4096)).macs
assert lc.evaluate(no_window, T=32769) - lc.evaluate(no_window, T=32768) == 2 * 4096 * 32769
"""),
("md", r"""
**4.** $2 \cdot 32 \cdot 8 \cdot 128 \cdot 8192$ elements $= 536{,}870{,}912$: 1 GiB in bf16,
512 MiB in int8.
"""),
("code", r"""
c = zoo.LLAMA_PRESETS["llama-3-8b"]
layers, kv_heads = c["num_hidden_layers"], c["num_key_value_heads"]
head_dim = c["hidden_size"] // c["num_attention_heads"]
one_layer = lc.analyze(lc.KVCacheDecode(c["num_attention_heads"], head_dim, 8192,
                                        num_kv_heads=kv_heads), (1, c["hidden_size"]))
bf16 = layers * lc.memory(one_layer, dtype="bf16").kv_reads
int8 = layers * lc.memory(one_layer, dtype="bf16", kv_dtype="int8").kv_reads
assert bf16 == kv_bytes_per_token(layers, kv_heads, head_dim, 2) * 8192 == 2**30
assert int8 == 2**29
"""),
("md", r"""
**5.** $2N = 24 \cdot 48 \cdot 1600^2 = 2{,}949{,}120{,}000$ and the context term
$2 \cdot 48 \cdot 1024 \cdot 1600 = 157{,}286{,}400$: $3{,}106{,}406{,}400$ FLOPs per token. The
layers add $2 \cdot 1600 \cdot 50257 + 2 \cdot 48 \cdot 1600 = 160{,}976{,}000$.
"""),
("code", r"""
kaplan_xl = zoo.kaplan_forward_flops(48, 1600, 1024)
assert kaplan_xl == 2_949_120_000 + 157_286_400 == 3_106_406_400
layers_xl = lc.flops(lc.analyze(zoo.gpt2_xl(), (1024,)), "2*macs") // 1024
assert layers_xl - kaplan_xl == 2 * 1600 * 50257 + 2 * 48 * 1600 == 160_976_000
"""),
("md", r"""
**6.** A decode step reads about $2 \cdot 1.56 \cdot 10^9$ bytes of weights plus the cache
($2 \cdot 48 \cdot 1600 \cdot 2 = 307{,}200$ bytes per token) and is memory-bound, so its time
is bytes$/\beta$: 3,432,174,116 bytes at $\beta = 3.35$ TB/s take about 1.02 ms, so
at most 976 tokens/s (a bound: real kernels reach a fraction of the bandwidth).
"""),
("code", r"""
h100 = lc.get_hardware("h100")
xl_step = lc.roofline(decode_step(1024, size="xl"), h100, "fp16", convention="2*macs")
assert xl_step.total.bound == "memory"
assert xl_step.total.time == sp.Rational(xl_step.total.bytes, h100.bandwidth())
rate = 1 / xl_step.total.time
assert xl_step.total.bytes == 3_432_174_116 and int(rate) == 976
say(f"{xl_step.total.bytes:,} bytes per step: at most {float(rate):.0f} tokens/s")
"""),
]
