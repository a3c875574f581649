"""Reference counters: tiny explicit loops, obviously correct, no cleverness.

Each one walks every output element (or every window position) and counts each multiply and
add one at a time. Used by the Hypothesis properties to check the closed forms.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass


@dataclass
class Counts:
    mults: int = 0
    adds: int = 0  # adds inside dot products (n - 1 per dot of n terms)
    bias_adds: int = 0


def conv_positions(n: int, k: int, s: int, p: int, d: int) -> list[int]:
    """Window starts (in unpadded input coordinates) of a convolution along one axis,
    enumerated: a window is kept while its last tap stays inside the padded input."""
    starts = []
    j = 0
    while j * s + d * (k - 1) <= n + 2 * p - 1:
        starts.append(j * s - p)
        j += 1
    return starts


def conv_counts(cin, cout, ks, stride, pad, dil, groups, bias, spatial):
    """Count a grouped N-d convolution's multiplies and adds element by element."""
    per_axis = [conv_positions(n, k, s, p, d)
                for n, k, s, p, d in zip(spatial, ks, stride, pad, dil)]
    out_shape = (cout, *[len(a) for a in per_axis])
    c = Counts()
    cin_g = cin // groups
    for _oc in range(cout):
        for _pos in itertools.product(*per_axis):
            terms = 0
            for _ic in range(cin_g):
                for _tap in itertools.product(*[range(k) for k in ks]):
                    c.mults += 1  # every tap counts, padding included
                    terms += 1
            c.adds += terms - 1
            if bias:
                c.bias_adds += 1
    return out_shape, c


def conv_transpose_counts(cin, cout, ks, stride, pad, dil, out_pad, groups, bias, spatial):
    """Count a transposed convolution by scattering every product into the output."""
    out_sizes = [(n - 1) * s - 2 * p + d * (k - 1) + op + 1
                 for n, k, s, p, d, op in zip(spatial, ks, stride, pad, dil, out_pad)]
    cin_g, cout_g = cin // groups, cout // groups
    received: dict[tuple, int] = {}
    c = Counts()
    for ic in range(cin):
        g = ic // cin_g
        for oc in range(g * cout_g, (g + 1) * cout_g):
            for pos in itertools.product(*[range(n) for n in spatial]):
                for tap in itertools.product(*[range(k) for k in ks]):
                    c.mults += 1
                    o = tuple(i * s + t * d - p for i, t, s, d, p in zip(pos, tap, stride, dil, pad))
                    if all(0 <= oi < no for oi, no in zip(o, out_sizes)):
                        received[(oc, *o)] = received.get((oc, *o), 0) + 1
    for m in received.values():
        c.adds += m - 1
        if bias:
            c.bias_adds += 1
    return (cout, *out_sizes), c


def linear_counts(fin, fout, bias, leading):
    c = Counts()
    for _ in range(leading):
        for _o in range(fout):
            for _i in range(fin):
                c.mults += 1
            c.adds += fin - 1
            if bias:
                c.bias_adds += 1
    return c


def transformer_block_counts(L, E, H, F, *, kv_heads=None, head_dim=None, causal=False,
                             memory=None, gated=False, qkv_bias=True, out_bias=True,
                             ff_bias=True):
    """Count one transformer block's matmul multiplies and bias adds token by token, head by
    head: q/k/v projections, the scores ``q_i . k_j`` and the weighted sums ``sum_j p_ij v_j``
    of every head over the keys query ``i`` may see (``j <= i + S - L`` when causal), the
    output projection, a cross-attention over `memory` tokens when given (not causal), and
    the MLP (``E -> F -> E``; with `gated`, a second ``E -> F`` projection as in SwiGLU)."""
    d = head_dim or E // H
    kv = kv_heads or H
    c = Counts()

    def project(tokens, fin, fout, bias):
        p = linear_counts(fin, fout, bias, tokens)
        c.mults += p.mults
        c.adds += p.adds
        c.bias_adds += p.bias_adds

    def attend(lq, s, masked):
        for _h in range(H):
            for i in range(lq):
                visible = [j for j in range(s) if not masked or j <= i + s - lq]
                for _j in visible:  # score q_i . k_j
                    for _f in range(d):
                        c.mults += 1
                    c.adds += d - 1
                for _f in range(d):  # output feature f: sum_j p_ij v_jf
                    for _j in visible:
                        c.mults += 1
                    c.adds += len(visible) - 1

    project(L, E, H * d, qkv_bias)
    project(L, E, kv * d, qkv_bias)
    project(L, E, kv * d, qkv_bias)
    attend(L, L, causal)
    project(L, H * d, E, out_bias)
    if memory is not None:
        project(L, E, E, qkv_bias)
        project(memory, E, E, qkv_bias)
        project(memory, E, E, qkv_bias)
        attend(L, memory, False)
        project(L, E, E, out_bias)
    project(L, E, F, ff_bias)
    if gated:
        project(L, E, F, ff_bias)
    project(L, F, E, ff_bias)
    return c


# -- issue 14: the loops the closed forms of layercalc.shapes replace ----------------------
def pool_valid_taps(n: int, k: int, s: int, p: int, d: int, last: int) -> int:
    """Taps inside the input over every window ``j = 0 .. last // s`` of one axis: window ``j``,
    tap ``t`` reads index ``j*s - p + t*d``."""
    count = 0
    for j in range(last // s + 1):
        for t in range(k):
            if 0 <= j * s - p + t * d < n:
                count += 1
    return count


def pool_windows_hit(n: int, k: int, s: int, p: int, d: int, last: int) -> int:
    """Windows of one axis with at least one tap inside the input."""
    return sum(1 for j in range(last // s + 1)
               if any(0 <= j * s - p + t * d < n for t in range(k)))


def adaptive_window_total(n: int, m: int) -> int:
    """Sum of the sizes of PyTorch's adaptive windows ``[floor(o n/m), ceil((o+1) n/m))``."""
    total = 0
    for o in range(m):
        start = (o * n) // m
        end = -((-(o + 1) * n) // m)
        total += end - start
    return total


def transposed_hits(n: int, k: int, s: int, p: int, d: int, output_padding: int) -> tuple:
    """(products landing in the output, outputs receiving at least one) of a transposed
    convolution along one axis, by scattering every (input, tap) product."""
    out = (n - 1) * s - 2 * p + d * (k - 1) + output_padding + 1
    landed = 0
    hit = set()
    for i in range(n):
        for t in range(k):
            o = i * s + t * d - p
            if 0 <= o < out:
                landed += 1
                hit.add(o)
    return landed, len(hit)


def matmul_counts(a_shape, b_shape):
    """torch.matmul of per-sample shapes, by walking every output element and every term:
    (output shape, multiplies, dot products). 1-D operands are promoted and the added axis
    removed, batch axes broadcast, as PyTorch documents."""
    a = (1, *a_shape) if len(a_shape) == 1 else tuple(a_shape)
    b = (*b_shape, 1) if len(b_shape) == 1 else tuple(b_shape)
    assert a[-1] == b[-2]
    ba, bb = a[:-2], b[:-2]
    r = max(len(ba), len(bb))
    ba, bb = (1,) * (r - len(ba)) + ba, (1,) * (r - len(bb)) + bb
    batch = []
    for x, y in zip(ba, bb):
        assert x == y or x == 1 or y == 1
        batch.append(max(x, y))
    mults = dots = 0
    for _idx in itertools.product(*[range(n) for n in batch]):
        for _i in range(a[-2]):
            for _j in range(b[-1]):
                dots += 1
                for _t in range(a[-1]):
                    mults += 1
    out = (*batch, *((a[-2],) if len(a_shape) > 1 else ()), *((b[-1],) if len(b_shape) > 1
                                                               else ()))
    return out, mults, dots


def mean_counts(shape, axes, keepdim):
    """Adds and divides of a mean over `axes`, one output element at a time."""
    keep = [n for i, n in enumerate(shape) if i not in axes]
    red = [n for i, n in enumerate(shape) if i in axes]
    adds = divs = 0
    for _out in itertools.product(*[range(n) for n in keep]):
        terms = 0
        for _r in itertools.product(*[range(n) for n in red]):
            terms += 1
        adds += terms - 1
        divs += 1
    out = tuple(1 if i in axes else n for i, n in enumerate(shape)) if keepdim else tuple(keep)
    return out, adds, divs
