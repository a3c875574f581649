"""Published training formulas, derived from the layers under each paper's assumptions and
equal exactly (SymPy), with the exact causal count's symbolic difference; Korthikanti et al.'s
Table 2 and ZeRO's 7.5B example from `layercalc.training`."""

from __future__ import annotations

import pytest
import sympy as sp

import layercalc as lc
from layercalc import published as P

B, s, h, V, D = lc.symbols("B s h V D")
L, A = 2, 4  # layers and heads (a network holds a whole number of layers)


def gpt(causal: bool, layers: int = L):
    return lc.zoo.gpt2(n_layer=layers, n_embd=h, n_head=A, vocab_size=V, n_positions=s,
                       causal=causal)


def step(causal: bool, **kw):
    return lc.training(lc.analyze(gpt(causal), (s,), batch=B), **kw)


def test_kaplan_6n_per_token_is_the_block_matmuls():
    """Kaplan et al. 2020: C = 6N per token, N = 12 L h^2 the non-embedding weight matrices
    (biases excluded). Under 2*macs the transformer blocks' Linear rows give exactly 6N*B*s
    (forward, input gradient, weight gradient: the first block's input needs a gradient, the
    embeddings have parameters)."""
    t = step(True)
    lin = [r for r in t.rows if r.kind == "Linear" and r.path.startswith("transformer.h.")]
    got = sum(lc.flops(r.forward, "2*macs") + lc.flops(r.backward, "2*macs") for r in lin)
    assert sp.expand(got - B * s * P.kaplan_flops_per_token(12 * L * h**2)) == 0
    # the exact causal model adds the causal context (3 x 2h(s + 1) per token and layer) and
    # the de-embedding (6hV per token), which Kaplan neglects
    diff = sp.expand(t.flops("2*macs") - B * s * P.kaplan_flops_per_token(12 * L * h**2))
    assert sp.factor(diff) == 6 * B * h * s * (V + L * (s + 1))


def test_chinchilla_6nd():
    """Hoffmann et al. 2022: C = 6ND over D tokens: D/(B*s) steps of the 6N per token above."""
    t = step(True)
    lin = [r for r in t.rows if r.kind == "Linear" and r.path.startswith("transformer.h.")]
    per_step = sum(lc.flops(r.forward, "2*macs") + lc.flops(r.backward, "2*macs") for r in lin)
    steps = D / (B * s)
    assert sp.simplify(per_step * steps - P.chinchilla_flops(12 * L * h**2, D)) == 0


def test_palm_6n_plus_12lhqt():
    """Chowdhery et al. 2022, appendix B: 6N + 12LHQT per token, N the matmul parameters
    (GPT-2's tied head: the block weights and V*h once), every query seeing all T keys:
    bidirectional attention gives it exactly; causal attention 12*L*H*Q*(T - 1)/2*... less."""
    n = 12 * L * h**2 + V * h
    palm = B * s * P.palm_flops_per_token(n, L, A, h / A, s)
    assert sp.expand(step(False).flops("2*macs") - palm) == 0
    assert sp.factor(sp.expand(step(True).flops("2*macs") - palm)) == -6 * L * B * h * s * (s - 1)


def test_narayanan_full_recompute():
    """Narayanan et al. 2021: 96 B s l h^2 (1 + s/6h + V/16lh) with full recomputation
    (blocks recomputed, the logit layer not), unmasked attention: exactly the layers' 2*macs.
    The causal model computes 8 B h s (s - 1) per layer fewer."""
    nar = P.narayanan_flops(B, s, L, h, V)
    assert sp.expand(step(False, recompute="full").flops("2*macs") - nar) == 0
    causal = step(True, recompute="full").flops("2*macs")
    assert sp.factor(sp.expand(causal - nar)) == -8 * L * B * h * s * (s - 1)


def test_narayanan_terms():
    """The three terms of Narayanan's formula: 8 x the 12 l h^2 block weights per token (a
    forward, the recomputed forward and a backward of two), the attention 16 B s^2 l h, and
    the logit layer 6 B s h V (no recomputation)."""
    l_ = sp.Symbol("l", positive=True, integer=True)
    terms = 8 * 12 * l_ * h**2 * B * s + 16 * B * s**2 * l_ * h + 6 * B * s * h * V
    assert sp.expand(P.narayanan_flops(B, s, l_, h, V) - terms) == 0


@pytest.mark.parametrize("tp, sp_, recompute, factor", [
    (1, False, None, lambda a, s_, h_, t: 34 + sp.Rational(5 * a, h_) * s_),
    (2, False, None,
     lambda a, s_, h_, t: 10 + sp.Rational(24, t) + sp.Rational(5 * a, h_ * t) * s_),
    (2, True, None, lambda a, s_, h_, t: sp.Rational(34, t) + sp.Rational(5 * a, h_ * t) * s_),
    (2, False, "selective", lambda a, s_, h_, t: 10 + sp.Rational(24, t)),
    (2, True, "selective", lambda a, s_, h_, t: sp.Rational(34, t)),
    (1, False, "full", lambda a, s_, h_, t: 2),
    (2, False, "full", lambda a, s_, h_, t: 2),
])
def test_korthikanti_table_2_from_the_layers(tp, sp_, recompute, factor):
    """Korthikanti et al. 2022, Table 2, per GPT layer in 16-bit activations: the
    ``korthikanti`` accounting applied to each row of layercalc's GPT-2 block (layer 1, whose
    input is the previous layer's output) gives every form, symbolically in s and b."""
    b, seq = lc.symbols("b seq")
    hidden, heads = 64, 4
    model = lc.zoo.gpt2(n_layer=3, n_embd=hidden, n_head=heads, vocab_size=101,
                        n_positions=4096)
    par = lc.Parallelism(tp=tp, sp=sp_) if tp > 1 else None
    t = lc.training(lc.analyze(model, (seq,), batch=b), precision="bf16-mixed",
                    activations="korthikanti", recompute=recompute, parallel=par)
    layer = sum(r.activations for r in t.rows if r.path.startswith("transformer.h.1."))
    expected = seq * b * hidden * factor(heads, seq, hidden, tp)
    assert sp.expand(layer - expected) == 0
    closed = P.korthikanti_activations(seq, b, hidden, heads, tp, sequence_parallel=sp_,
                                       recompute=recompute)
    assert sp.expand(layer - closed) == 0


def test_pytorch_flash_accounting_vs_korthikanti():
    """With flash attention (``activations="pytorch"``) a GPT layer keeps the same 34sbh but
    the log-sum-exp (fp32, a*s*b) instead of the 5as^2b of the softmax and its dropout, and
    LayerNorm keeps its mean and rstd (2 x 2 x 4 bytes a token)."""
    b, seq = lc.symbols("b seq")
    model = lc.zoo.gpt2(n_layer=3, n_embd=64, n_head=4, vocab_size=101, n_positions=4096)
    t = lc.training(lc.analyze(model, (seq,), batch=b), precision="bf16-mixed")
    layer = sum(r.activations for r in t.rows if r.path.startswith("transformer.h.1."))
    assert sp.expand(layer - (34 * seq * b * 64 + 4 * 4 * seq * b + 16 * seq * b)) == 0


def test_zero_paper_example():
    """Rajbhandari et al. 2020, Figure 1 / section 5.1: 7.5B parameters, 64 GPUs, mixed
    precision Adam (K = 12): 120 / 31.4 / 16.6 / 1.9 GB per device (10^9 bytes). From the
    layers: one 7.5B-parameter matrix; torch.optim keeps a 4-byte ``step`` per tensor (one
    flat partition under ZeRO), the only difference from the paper's model states."""
    report = lc.analyze(lc.Linear(75_000, 100_000, bias=False), (75_000,))
    assert report.total.params == 7_500_000_000
    for stage, (exact, gb) in enumerate(((120_000_000_000, 120.0), (31_406_250_000, 31.4),
                                         (16_640_625_000, 16.6), (1_875_000_000, 1.9))):
        m = lc.training(report, optimizer="adam", precision="fp16-mixed",
                        parallel=lc.Parallelism(dp=64, zero=stage)).memory
        states = m.weights + m.gradients + m.optimizer_states
        assert states == exact + 4 == P.zero_memory(7_500_000_000, 64, stage) + 4
        assert round(exact / 10**9, 1) == gb


def test_zero_communication_volumes():
    """ZeRO section 7: stages 1 and 2 move as much as data parallelism (its all-reduce is a
    reduce-scatter of the gradients and an all-gather of the weights, 2(n - 1)/n Psi bytes
    sent per device by a ring), stage 3 1.5 times as much (one all-gather more)."""
    report = lc.analyze(lc.Linear(1000, 1000, bias=False), (1000,))
    sent = {z: lc.training(report, precision="bf16-mixed",
                           parallel=lc.Parallelism(dp=8, zero=z)).communication.ring_bytes()
            for z in range(4)}
    dp = sp.Rational(2 * 7, 8) * 2 * 10**6
    assert sent == {0: dp, 1: dp, 2: dp, 3: sp.Rational(3, 2) * dp}
