"""Source of notebooks/07_llm_inference.ipynb (build: python notebooks/build.py)."""

CELLS = [
("md", r"""
# 7. LLM inference: from one decode step to tokens per second

A language model answers in two stages. The **prefill** reads the whole prompt at once: big
matrix products, compute-bound. Then every generated token is one **decode step**: the whole
model runs on a single token and reads every weight, plus the growing KV cache, to do it. This
notebook counts one decode step exactly, averages it over the generated tokens in closed form,
and turns it into time per token, tokens per second and the batch at which serving stops being
limited by memory, all symbolic in the prompt length.

**After this notebook you will be able to**

* count the bytes and FLOPs of one decode step of Llama-3-8B by hand (weights, KV cache,
  activations) and say why it is memory-bound;
* derive the exact mean over $G$ generated tokens, with and without a sliding window, and
  check it against stepping one token at a time;
* get TTFT, TPOT and tokens/s from the roofline, and the critical batch as a formula in the
  prompt length $P$, with the prompt length past which no batch is compute-bound;
* price quantised weights (int4 with group scales) and see what they buy;
* compare a mixture of experts (Mixtral) and a state-space model (Mamba) with a dense
  transformer at decode time.

Prerequisites: notebooks 4 (the roofline) and 5 (attention and the KV cache). The roofline is
the one of Zhang Ge's post on acceleration metrics (关于加速上的一些指标): peak $\pi$, bandwidth
$\beta$, ridge $\pi/\beta$, time $\ge \max(\text{FLOPs}/\pi, \text{bytes}/\beta)$.
"""),
("code", r"""
%matplotlib inline
import io
import sys

import matplotlib.pyplot as plt
import pandas as pd
import sympy as sp
from IPython.display import Image, display
from PIL import Image as PILImage

import layercalc as lc
from layercalc import zoo

plt.rcParams.update({"figure.figsize": (6, 4), "figure.dpi": 80})
A100 = lc.get_hardware("a100-sxm4-80gb")


def say(text):
    "print() in a single write, so the stored output never depends on when the kernel flushes."
    sys.stdout.write(text + "\n")


def show(fig):
    "Like plt.show(), but stores a 256-colour PNG, so the notebook stays small."
    raw = io.BytesIO()
    fig.savefig(raw, format="png", bbox_inches="tight")
    plt.close(fig)
    small = io.BytesIO()
    PILImage.open(raw).convert("RGB").quantize(256).save(small, format="png", optimize=True)
    display(Image(small.getvalue()))


P, G, B = lc.symbols("P G B")   # prompt length, generated tokens, batch
"""),
# ------------------------------------------------------------------------------------------
("md", r"""
## 1. One decode step, by hand

Llama-3-8B has $L = 32$ layers of width $d = 4096$, 32 query heads and 8 KV heads of
$d_h = 128$, and a vocabulary of $V = 128{,}256$. A decode step runs the whole network on one
token. In fp16 (2 bytes):

* **weights**: every matrix is read once; the embedding table is not (one row is gathered), so
  the step reads $2\,(N - Vd)$ bytes with $N = 8{,}030{,}261{,}248$ parameters;
* **KV cache**: each layer reads the keys and values of the $s$ tokens the query attends to,
  $2 \cdot L \cdot H_{kv} \cdot d_h \cdot s \cdot 2 = 131{,}072\,s$ bytes, and writes the new
  token's: $131{,}072$ bytes;
* **FLOPs** (2 per multiply-accumulate): $2\,N_{lin}$ for the matrices ($N_{lin}$: the
  parameters of the Linear layers, ``lm_head`` included) plus attention, $2 \cdot 2 \cdot H
  \cdot d_h \cdot s$ per layer ($QK^\top$ and $PV$): $524{,}288\,s$.

`lc.inference` with one generated token makes exactly that step, attending to $s = P + 1$
keys (the prompt and itself).
"""),
("code", r"""
step = lc.inference("llama-3-8b", prompt_len=P, gen_len=1, hardware=A100, convention="2*macs")
d, V, L = 4096, 128256, 32
N = lc.analyze(zoo.llama3_8b(), (8,)).total.params
N_lin = N - V*d - (2*L + 1)*d               # all but the embedding table and the RMSNorm scales
s = P + 1
assert N == 8_030_261_248
assert step.decode.bytes.weight_reads == 2 * (N - V*d)        # norms are read too, embeddings not
assert sp.expand(step.decode.bytes.kv_reads - 2*L*8*128*s*2) == 0
assert step.decode.bytes.kv_writes == 2*L*8*128*2 == 131_072
assert sp.expand(step.decode.flops - (2*N_lin + 2*2*32*128*s*L)) == 0
say(f"weights read {2*(N - V*d):,} B; KV {2*L*8*128*2:,} B per cached token; "
    f"activations {step.decode.bytes.act_reads + step.decode.bytes.act_writes:,} B")
step.decode.flops, step.decode.bytes.total
"""),
("md", r"""
The ratio of the two is about **1 FLOP per byte**, whatever $P$: the A100's ridge is
$312 \cdot 10^{12} / 2.039 \cdot 10^{12} \approx 153$ FLOP/byte. Decoding one sequence uses
under 1% of the arithmetic; its time is the time to stream the weights and the cache,
$\text{TPOT} \ge \text{bytes}/\beta$. The prefill of the same prompt is the opposite.
"""),
("code", r"""
r = lc.inference("llama-3-8b", prompt_len=2048, gen_len=1, hardware=A100)
assert (r.prefill.bound, r.decode.bound) == ("compute", "memory")
assert r.tpot == sp.Rational(r.decode.bytes.total, A100.bandwidth())   # bytes / beta
assert r.tpot >= sp.Rational(r.decode.bytes.weight_reads, A100.bandwidth())
say(f"prefill {float(r.prefill.intensity):.0f} FLOP/B, decode {float(r.decode.intensity):.2f} "
    f"FLOP/B, ridge {float(A100.ridge('fp16')):.0f}; TTFT {float(r.ttft)*1e3:.1f} ms, "
    f"TPOT {float(r.tpot)*1e3:.2f} ms")
"""),
# ------------------------------------------------------------------------------------------
("md", r"""
## 2. Averaging over the generated tokens

Step $i$ of $G$ attends to $s_i = P + i$ keys (the prompt, the $i - 1$ tokens before it,
itself). Every count of a step is linear in $s$, $c(s) = a + b\,s$, so the mean step is the step
at the mean context:

$$ \frac1G \sum_{i=1}^{G} c(P + i) = a + b\left(P + \frac{G + 1}{2}\right), \qquad
\sum_{i=1}^G (P + i) = GP + \frac{G(G+1)}{2}. $$

With a sliding window $w$ the cache stops growing: $s_i = \min(P + i, w)$, and
$\sum_{i=1}^G \min(P+i, w) = F(P + G) - F(P)$ with
$F(n) = \sum_{a=1}^{n} \min(a, w) = \frac{m(m+1)}{2} + (n - m)\,w$, $m = \min(n, w)$.
"""),
("code", r"""
avg = lc.inference("llama-3-8b", prompt_len=P, gen_len=G, hardware=A100, convention="2*macs")
assert sp.simplify(avg.decode.context - (P + (G + 1) / sp.Integer(2))) == 0
i = sp.Symbol("i", integer=True, positive=True)
by_sum = sp.summation(step.decode.flops.subs(P, P + i - 1), (i, 1, G)) / G
assert sp.simplify(avg.decode.flops - by_sum) == 0

# brute force: step one token at a time (a small model with a window of 6 keys)
tiny = zoo.llama(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, sliding_window=6)
p, g = 3, 7
mean = lc.inference(tiny, prompt_len=p, gen_len=g, hardware=A100).decode
steps = [lc.inference(tiny, prompt_len=p + k, gen_len=1, hardware=A100).decode for k in range(g)]
assert mean.bytes.total == sp.Rational(sum(x.bytes.total for x in steps), g)
assert mean.context == sp.Rational(sum(min(p + k, 6) for k in range(1, g + 1)), g)
mean.context
"""),
("md", r"""
The time of the mean step is a lower bound on the mean step time (each layer's
$\max(\text{FLOPs}/\pi, \text{bytes}/\beta)$ is convex in $s$), and equal to it when no layer
changes bound between the first and the last step, which `decode.exact_average` checks.
"""),
# ------------------------------------------------------------------------------------------
("md", r"""
## 3. From a step to tokens per second

Batching $B$ sequences shares one read of the weights among them; FLOPs, activations and each
sequence's cache scale with $B$:

$$ \text{FLOPs}(B) = B\,f(P), \qquad \text{bytes}(B) = W + B\,c(P), \qquad
\text{tokens/s} = \frac{B}{\text{TPOT}(B)} \le \frac{B\,\beta}{W + B\,c(P)}. $$
"""),
("code", r"""
batched = lc.inference("llama-3-8b", prompt_len=P, gen_len=1, batch=B, hardware=A100)
f = sp.expand(batched.decode.flops / B)
W = batched.decode.bytes.weight_reads
c = sp.expand((batched.decode.bytes.total - W) / B)
assert sp.expand(batched.decode.flops - B*f) == 0
assert not sp.sympify(W).free_symbols          # the weights are read once, whatever the batch
rows = []
for b in (1, 8, 32, 128, 512):
    x = lc.inference("llama-3-8b", prompt_len=512, gen_len=1, batch=b, hardware=A100)
    rows.append({"batch": b, "TPOT ms": float(x.tpot) * 1e3, "tokens/s": float(x.tokens_per_s),
                 "KV cache GB": float(x.kv_cache_bytes) / 1e9, "decode bound": x.decode.bound})
    assert x.tokens_per_s == b / x.tpot <= sp.Rational(b * A100.bandwidth(), x.decode.bytes.total)
pd.DataFrame(rows)
"""),
("md", r"""
## 4. The batch at which decoding turns compute-bound

The step is compute-bound when $B f \ge \frac{\pi}{\beta}(W + B c)$:

$$ B^* = \frac{(\pi/\beta)\,W}{f(P) - (\pi/\beta)\,c(P)} , $$

a formula in $P$. The KV cache makes $c(P)$ grow with the prompt, so the denominator vanishes
at some $P_{max}$: past it, **no batch** is compute-bound, because each added sequence brings
its own cache to read.
"""),
("code", r"""
ridge = A100.ridge("fp16")
by_hand = ridge * W / (f - ridge * c)
crit = lc.inference("llama-3-8b", prompt_len=P, gen_len=1, hardware=A100).critical_batch
assert sp.simplify(crit - by_hand) == 0
x = sp.Symbol("x", positive=True)      # P is an integer symbol; the crossing is not an integer
P_max = sp.solve(sp.Eq(f, ridge * c).subs(P, x), x)[0]
say(f"B*(P) = {sp.nsimplify(crit)}\nP_max = {float(P_max):.1f}")
for p in (128, 512):
    b = lc.inference("llama-3-8b", prompt_len=p, hardware=A100).critical_batch
    assert b == sp.ceiling(crit.subs(P, p))
    at = lc.inference("llama-3-8b", prompt_len=p, batch=b, hardware=A100)
    before = lc.inference("llama-3-8b", prompt_len=p, batch=b - 1, hardware=A100)
    assert (at.decode.bound, before.decode.bound) == ("compute", "memory")
    say(f"P = {p}: compute-bound from batch {b}")
assert lc.inference("llama-3-8b", prompt_len=int(P_max) + 1, hardware=A100).critical_batch is None
"""),
("code", r"""
fig, ax = plt.subplots()
ps = list(range(1, int(P_max), 8))
ax.plot(ps, [float(crit.subs(P, p)) for p in ps])
ax.axvline(float(P_max), color="gray", ls="--", label=f"P_max = {float(P_max):.0f}")
ax.set_xlabel("prompt length P"); ax.set_ylabel("critical decode batch B*")
ax.set_yscale("log"); ax.legend(); ax.set_title("Llama-3-8B, fp16, A100 80GB")
show(fig)
"""),
# ------------------------------------------------------------------------------------------
("md", r"""
## 5. Quantised weights

Weight-only int4 (one fp16 scale per 128 weights) stores $\frac12 + \frac{2}{128}$ bytes per
weight of every Linear layer; the embedding table and the norms stay fp16. The decode step reads
about a quarter of the bytes, so TPOT falls by almost as much while the arithmetic (still in
fp16) does not change.
"""),
("code", r"""
fp16 = lc.inference("llama-3-8b", prompt_len=512, hardware=A100)
int4 = lc.inference("llama-3-8b", prompt_len=512, hardware=A100, weight_dtype="int4")
assert lc.matrix_bytes(4096, 4096, "int4") == 4096 * 4096 * (sp.Rational(1, 2) + sp.Rational(2, 128))
assert int4.decode.flops == fp16.decode.flops
say(f"weights {float(fp16.weight_bytes)/1e9:.2f} -> {float(int4.weight_bytes)/1e9:.2f} GB; "
    f"TPOT {float(fp16.tpot)*1e3:.2f} -> {float(int4.tpot)*1e3:.2f} ms")
"""),
# ------------------------------------------------------------------------------------------
("md", r"""
## 6. Mixture of experts and state-space models

Mixtral-8x7B holds 46.7B parameters but routes each token to 2 of 8 experts: a batch-1
decode step reads only the chosen experts' weights. Mamba keeps no KV cache: its recurrent
state (a 4-tap convolution window and a 16-wide SSM state per channel) has the same size at
any context.
"""),
("code", r"""
mix = lc.analyze(zoo.mixtral_8x7b(), (8,))
active = lc.active_params(mix)
assert (mix.total.params, active) == (46_702_792_704, 12_879_925_248)
one = lc.inference("mixtral-8x7b", prompt_len=512, hardware=A100)
assert one.decode.bytes.weight_reads == 2 * (active - 32000 * 4096)   # 2 experts per layer
state = [lc.kv_cache_bytes("mamba-2.8b", n) for n in (1024, 32768)]
kv = [lc.kv_cache_bytes("llama-3-8b", n) for n in (1024, 32768)]
assert state[0] == state[1] == 64 * 5120 * (4 + 16) * 2 and kv[1] == 32 * kv[0]
say(f"Mamba-2.8B state {state[0]/1e6:.1f} MB at any length; Llama-3-8B KV "
    f"{kv[0]/1e6:.0f} MB at 1k tokens, {kv[1]/1e9:.1f} GB at 32k")
"""),
# ------------------------------------------------------------------------------------------
("md", r"""
## Summary

* A decode step reads every weight and the whole KV cache for about one FLOP per byte: it is
  memory-bound, and $\text{TPOT} \ge \text{bytes}/\beta$.
* Every count of a step is linear in the context, so the mean over $G$ tokens is the step at
  $P + (G+1)/2$ (or the clamped sum with a sliding window), exactly.
* Batching shares the weights; the critical batch $B^*(P) = \frac{(\pi/\beta) W}{f - (\pi/\beta)
  c}$ grows with the prompt until $P_{max}$, past which the cache keeps decode memory-bound.
* Quantised weights cut the bytes, not the FLOPs; MoE cuts the weights read per token; an SSM
  replaces the growing cache by a constant state.

Next: docs/inference.md lists the formulas, the storage formats, and how LLM-Viewer's counts
differ.

## Exercises

1. Can you compute the KV cache of Llama-2-70B for 4096 tokens in fp16 by hand and check it
   with `lc.kv_cache_bytes`?
2. Can you find by how much int4-awq (zero points too) weights exceed int4 for Llama-3-8B?
3. Can you show that Mamba-130m's decode FLOPs do not depend on the prompt length?

## Solutions
"""),
("md", r"""
**1.** $2 \cdot 80 \cdot 8 \cdot 128 \cdot 4096 \cdot 2 = 1{,}342{,}177{,}280$ bytes.
"""),
("code", r"""
assert lc.kv_cache_bytes("llama-2-70b", 4096) == 2 * 80 * 8 * 128 * 4096 * 2 == 1_342_177_280
"""),
("md", r"""
**2.** Half a byte of zero point per group of 128: $\frac{1}{2 \cdot 128}$ bytes per quantised
weight.
"""),
("code", r"""
awq = lc.inference("llama-3-8b", prompt_len=16, hardware=A100, weight_dtype="int4-awq")
lin = N_lin
assert awq.weight_bytes - int4.weight_bytes == sp.Rational(lin, 256)
"""),
("md", r"""
**3.** Its step touches only the recurrent state, whatever the context.
"""),
("code", r"""
m = lc.inference("mamba-130m", prompt_len=P, gen_len=G, hardware=A100)
assert not sp.sympify(m.decode.flops).free_symbols
assert m.kv_cache_bytes == 24 * 1536 * 20 * 2
"""),
]
