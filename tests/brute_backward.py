"""Reference backward passes: naive loops over counted numbers.

Every gradient is computed element by element with `Num`, a float that counts each operation
applied to it (``+``/``-`` as ``add``, ``*``, ``/``, ``exp``, ``erf``, ``tanh``, ``sqrt``,
compares). Sums accumulate one term at a time (``n`` terms, ``n - 1`` adds), products with
zero padding are still multiplied where the rule says every tap counts. The forward values a
backward needs (saved activations, probabilities) are plain floats: they are inputs here.

The same functions return the gradient values, which ``tests/oracles/
test_backward_vs_torch.py`` compares with ``torch.autograd`` (so a loop that counts the wrong
formula fails there). Used by ``tests/test_backward.py`` against `layercalc.backward`.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter


class Ops(Counter):
    """Operation counts by kind."""


class Num:
    """A float that counts the operations applied to it (into a shared `Ops`)."""

    __slots__ = ("v", "ops")

    def __init__(self, v: float, ops: Ops) -> None:
        self.v, self.ops = float(v), ops

    def _new(self, v: float, kind: str) -> Num:
        self.ops[kind] += 1
        return Num(v, self.ops)

    @staticmethod
    def _val(o):
        return o.v if isinstance(o, Num) else float(o)

    def __add__(self, o):
        return self._new(self.v + self._val(o), "add")

    __radd__ = __add__

    def __sub__(self, o):
        return self._new(self.v - self._val(o), "add")

    def __rsub__(self, o):
        return self._new(self._val(o) - self.v, "add")

    def __mul__(self, o):
        return self._new(self.v * self._val(o), "mul")

    __rmul__ = __mul__

    def __truediv__(self, o):
        return self._new(self.v / self._val(o), "div")

    def __rtruediv__(self, o):
        return self._new(self._val(o) / self.v, "div")

    def __neg__(self):
        return Num(-self.v, self.ops)  # a sign flip is free


def val(x) -> float:
    return x.v if isinstance(x, Num) else float(x)


def wrap(ops: Ops, x: float) -> Num:
    return Num(x, ops)


def fn(kind: str, f, x):
    if isinstance(x, Num):
        x.ops[kind] += 1
        return Num(f(x.v), x.ops)
    return f(x)


def exp(x):
    return fn("exp", math.exp, x)


def erf(x):
    return fn("erf", math.erf, x)


def tanh(x):
    return fn("tanh", math.tanh, x)


def sqrt(x):
    return fn("sqrt", math.sqrt, x)


def select(ops: Ops, cond: bool, a, b, compares: int = 1):
    """``a if cond else b`` as a branch-free select: `compares` compares."""
    ops["cmp"] += compares
    r = a if cond else b
    return r if isinstance(r, Num) else Num(r, ops)  # a selected zero is still a number


def accumulate(acc, term):
    """Add `term` to a running sum that may not exist yet (None): n terms, n - 1 adds."""
    return term if acc is None else acc + term


def grid(shape):
    return itertools.product(*[range(n) for n in shape])


# -- convolutions -------------------------------------------------------------------------------
def conv_backward(x, w, dy, stride, pads, dil, groups, bias, need_x, ops):
    """Convolution ``y[b, co, j] = sum_{ci in group, t} w[co, ci', t] x[b, ci, j*s - p + t*d]``.

    `x`: dict ``(b, ci, *pos) -> float`` with its shape in ``x["shape"]``; `w` likewise
    ``(co, ci', *tap)``; `dy` ``(b, co, *j)`` of ``Num``. `pads` per axis ``(left, right)``.
    Returns (dX, dW, db) as dicts of values (None where never written)."""
    B, cin, *n = x["shape"]
    cout, cin_g, *k = w["shape"]
    _, _, *o = dy["shape"]
    cout_g = cout // groups
    dx, dw, db = {}, {}, {}
    for b, co, *j in grid((B, cout, *o)):
        g = co // cout_g
        d = dy[(b, co, *j)]
        if bias:
            db[co] = accumulate(db.get(co), d)
        for ci_l in range(cin_g):
            ci = g * cin_g + ci_l
            for t in grid(k):
                i = tuple(jj * s - p[0] + tt * dd for jj, s, p, tt, dd in
                          zip(j, stride, pads, t, dil))
                inside = all(0 <= ii < nn for ii, nn in zip(i, n))
                if need_x:
                    prod = d * w[(co, ci_l, *t)]  # every tap's product counts
                    if inside:
                        dx[(b, ci, *i)] = accumulate(dx.get((b, ci, *i)), prod)
                xv = x[(b, ci, *i)] if inside else 0.0  # zero padding, multiplied anyway
                dw[(co, ci_l, *t)] = accumulate(dw.get((co, ci_l, *t)), d * xv)
    return dx, dw, db


def conv_transpose_backward(x, w, dy, stride, pad, dil, groups, bias, need_x, ops):
    """Transposed convolution ``y[b, co, i*s - p + t*d] += w[ci, co', t] x[b, ci, i]``:
    dX is a convolution of dY (taps outside the output multiply zero, as a convolution counts
    padding taps), dW the correlation of X and dY."""
    B, cin, *n = x["shape"]
    _, cout_g, *k = w["shape"]
    _, cout, *o = dy["shape"]
    cin_g = cin // groups
    dx, dw, db = {}, {}, {}
    if bias:
        for b, co, *j in grid((B, cout, *o)):
            db[co] = accumulate(db.get(co), dy[(b, co, *j)])
    for b, ci, *i in grid((B, cin, *n)):
        g = ci // cin_g
        for co_l in range(cout_g):
            co = g * cout_g + co_l
            for t in grid(k):
                jpos = tuple(ii * s - p + tt * dd for ii, s, p, tt, dd in
                             zip(i, stride, pad, t, dil))
                inside = all(0 <= jj < oo for jj, oo in zip(jpos, o))
                # a tap past the output reads a zero of the padded gradient: still multiplied
                d = dy[(b, co, *jpos)] if inside else Num(0.0, ops)
                if need_x:
                    dx[(b, ci, *i)] = accumulate(dx.get((b, ci, *i)), w[(ci, co_l, *t)] * d)
                dw[(ci, co_l, *t)] = accumulate(dw.get((ci, co_l, *t)), x[(b, ci, *i)] * d)
    return dx, dw, db


def linear_backward(x, w, dy, bias, need_x):
    """``y[f, o] = sum_i x[f, i] w[o, i] (+ b[o])``; `x` rows ``(F, I)``, `w` ``(O, I)``,
    `dy` ``(F, O)`` of Num."""
    F, I, O = len(x), len(x[0]), len(w)
    dx = [[None] * I for _ in range(F)]
    if need_x:
        for f in range(F):
            for i in range(I):
                acc = None
                for o in range(O):
                    acc = accumulate(acc, dy[f][o] * w[o][i])
                dx[f][i] = acc
    dw = [[None] * I for _ in range(O)]
    for o in range(O):
        for i in range(I):
            acc = None
            for f in range(F):
                acc = accumulate(acc, dy[f][o] * x[f][i])
            dw[o][i] = acc
    db = [None] * O
    if bias:
        for o in range(O):
            acc = None
            for f in range(F):
                acc = accumulate(acc, dy[f][o])
            db[o] = acc
    return dx, dw, db


# -- attention ------------------------------------------------------------------------------------
def visible(i: int, j: int, L: int, S: int, causal: bool, window) -> bool:
    if not causal:
        return True
    if j > i + (S - L):
        return False
    return window is None or j > i + (S - L) - window


def attention_forward(q, k, v, causal, window, scale):
    """Plain-float forward: per head ``P = softmax(Q K^T*scale + mask)``, ``O = P V``.
    `q` ``[H][L][d]``, `k`, `v` ``[H_kv][S][d]``. Returns (P, O)."""
    H, L, d = len(q), len(q[0]), len(q[0][0])
    Hkv, S = len(k), len(k[0])
    g = H // Hkv
    P, O = [], []
    for h in range(H):
        kv = h // g
        ph, oh = [], []
        for i in range(L):
            sc = {j: scale * sum(q[h][i][c] * k[kv][j][c] for c in range(d))
                  for j in range(S) if visible(i, j, L, S, causal, window)}
            if sc:
                m = max(sc.values())
                e = {j: math.exp(s - m) for j, s in sc.items()}
                z = sum(e.values())
                row = {j: e[j] / z for j in e}
            else:
                row = {}
            ph.append(row)
            oh.append([sum(row[j] * v[kv][j][c] for j in row) for c in range(d)])
        P.append(ph)
        O.append(oh)
    return P, O


def attention_backward(q, k, v, P, dO, scale, need_q, need_k, need_v):
    """The backward of `attention_forward` with counted `dO` ``[H][L][d]``, visible scores
    only: dV = P^T dO, dP = dO V^T, the softmax backward, the scale, dQ = dS K, dK = dS^T Q.
    Returns (dQ, dK, dV) (None where not needed)."""
    H, L, d = len(q), len(q[0]), len(q[0][0])
    Hkv, S = len(k), len(k[0])
    g = H // Hkv
    dV = dK = dQ = None
    if need_v:
        dV = [[[None] * d for _ in range(S)] for _ in range(Hkv)]
        for kv in range(Hkv):
            for j in range(S):
                for c in range(d):
                    acc = None
                    for h in range(kv * g, (kv + 1) * g):
                        for i in range(L):
                            if j in P[h][i]:
                                acc = accumulate(acc, P[h][i][j] * dO[h][i][c])
                    dV[kv][j][c] = acc
    if not (need_q or need_k):
        return dQ, dK, dV
    dS = []
    for h in range(H):
        kv = h // g
        rows = []
        for i in range(L):
            dp = {}
            for j in P[h][i]:
                acc = None
                for c in range(d):
                    acc = accumulate(acc, dO[h][i][c] * v[kv][j][c])
                dp[j] = acc
            s = None
            for j in P[h][i]:
                s = accumulate(s, P[h][i][j] * dp[j])
            rows.append({j: (P[h][i][j] * (dp[j] - s)) * scale for j in P[h][i]})
        dS.append(rows)
    if need_q:
        dQ = [[[None] * d for _ in range(L)] for _ in range(H)]
        for h in range(H):
            kv = h // g
            for i in range(L):
                for c in range(d):
                    acc = None
                    for j in dS[h][i]:
                        acc = accumulate(acc, dS[h][i][j] * k[kv][j][c])
                    dQ[h][i][c] = acc
    if need_k:
        dK = [[[None] * d for _ in range(S)] for _ in range(Hkv)]
        for kv in range(Hkv):
            for j in range(S):
                for c in range(d):
                    acc = None
                    for h in range(kv * g, (kv + 1) * g):
                        for i in range(L):
                            if j in dS[h][i]:
                                acc = accumulate(acc, dS[h][i][j] * q[h][i][c])
                    dK[kv][j][c] = acc
    return dQ, dK, dV


# -- softmax --------------------------------------------------------------------------------------
def softmax_backward(y, dy):
    """One slice: ``dx = y*(dy - sum(dy*y))``."""
    s = None
    for a, b in zip(dy, y):
        s = accumulate(s, a * b)
    return [b * (a - s) for a, b in zip(dy, y)]


def log_softmax_backward(y, dy):
    """One slice: ``dx = dy - exp(y)*sum(dy)``."""
    s = None
    for a in dy:
        s = accumulate(s, a)
    return [a - exp(Num(b, a.ops)) * s for a, b in zip(dy, y)]


# -- normalisation --------------------------------------------------------------------------------
def _mean_rstd(xs, eps):
    m = sum(xs) / len(xs)
    var = sum((x - m) ** 2 for x in xs) / len(xs)
    return m, 1 / math.sqrt(var + eps)


def norm_group_backward(xs, dys, gammas, eps=1e-5):
    """One group of ``n`` elements normalised by its own statistics, ``g = dy*gamma``
    (gamma None: no affine weights), ``dx = rstd*(g - mean(g) - x_hat*mean(g*x_hat))`` with
    ``x_hat = (x - mu)*rstd``: returns the input gradient and ``x_hat`` (counted numbers,
    for the weight gradient)."""
    n = len(xs)
    ops = dys[0].ops
    mu, rstd = _mean_rstd(xs, eps)
    g = [dy * gm for dy, gm in zip(dys, gammas)] if gammas is not None else list(dys)
    a = None
    for gi in g:
        a = accumulate(a, gi)
    xh = [(Num(x, ops) - mu) * rstd for x in xs]
    b = None
    for gi, h in zip(g, xh):
        b = accumulate(b, gi * h)
    am, bm = a / n, b / n
    dx = [(gi - am - h * bm) * rstd for gi, h in zip(g, xh)]
    return dx, xh


def batchnorm_channel_backward(xs, dys, gamma, eps=1e-5, need_x=True, affine=True):
    """BatchNorm training backward for one channel (the ``batch_norm_backward`` form):
    ``s1 = sum dy``, ``c = x - mean``, ``s2 = sum dy*c``, ``dgamma = s2*invstd``,
    ``dx = (dy - s1/M - c*k)*(invstd*gamma)`` with ``k = s2*invstd^2/M``."""
    M = len(xs)
    mu, invstd = _mean_rstd(xs, eps)
    ops = dys[0].ops
    s1 = None
    for dy in dys:
        s1 = accumulate(s1, dy)
    c = [Num(x, ops) - mu for x in xs]
    s2 = None
    for dy, ci in zip(dys, c):
        s2 = accumulate(s2, dy * ci)
    dgamma = s2 * invstd if affine else None
    if not need_x:
        return None, dgamma, s1
    k = s2 * (Num(invstd, ops) * invstd) / M
    mean_term = s1 / M
    scale = Num(invstd, ops) * gamma if affine else invstd
    dx = [((dy - mean_term) - ci * k) * scale for dy, ci in zip(dys, c)]
    return dx, dgamma, s1


def rmsnorm_row_backward(xs, dys, weights, eps=1e-6):
    """RMSNorm as the composite ``h = x*r``, ``r = rsqrt(mean(x^2) + eps)``, ``y = h*w``,
    backward by autograd of each op: returns (dx, per-element dy*h for dw)."""
    n = len(xs)
    ops = dys[0].ops
    r = 1 / math.sqrt(sum(x * x for x in xs) / n + eps)
    dh = [dy * w for dy, w in zip(dys, weights)] if weights is not None else list(dys)
    hdy = [dy * (x * r) for dy, x in zip(dys, xs)] if weights is not None else None
    dx1 = [d * r for d in dh]
    dr = None
    for d, x in zip(dh, xs):
        dr = accumulate(dr, d * x)
    r3 = Num(r, ops) * r * r  # pow(r, 3): two multiplies
    dm = dr * -0.5 * r3
    dq = dm / n
    dx2 = [Num(x, ops) * 2 * dq for x in xs]
    return [a + b for a, b in zip(dx1, dx2)], hdy


# -- activations ---------------------------------------------------------------------------------
def activation_backward(kind, x, y, dy, ops, *, slope=0.01, alpha=1.0, approximate="none"):
    """``dx`` for one element of activation `kind` (PyTorch's derivative formulas)."""
    if kind == "ReLU":
        return select(ops, y > 0, dy, 0.0)
    if kind == "ReLU6":
        return select(ops, 0 < x < 6, dy, 0.0, compares=2)
    if kind in ("LeakyReLU", "PReLU"):
        neg = dy * slope
        return select(ops, x > 0, dy, neg)
    if kind == "ELU":
        neg = dy * alpha * exp(Num(x, ops))
        return select(ops, x > 0, dy, neg)
    if kind == "Sigmoid":
        return dy * y * (1 - Num(y, ops))
    if kind == "Tanh":
        return dy * (1 - Num(y, ops) * y)
    if kind == "SiLU":
        s = 1 / (1 + exp(-Num(x, ops)))
        return dy * s * (1 + x * (1 - s))
    if kind == "Hardswish":
        mid = dy * (Num(x, ops) / 3 + 0.5)
        return select(ops, x < -3, 0.0, select(ops, x <= 3, mid, dy))
    if kind == "Hardsigmoid":
        return select(ops, -3 < x < 3, dy * (1 / 6), 0.0, compares=2)
    if kind == "GELU" and approximate == "none":
        X = Num(x, ops)
        cdf = 0.5 * (1 + erf(X * (1 / math.sqrt(2))))
        pdf = (2 / math.sqrt(math.pi) * (1 / math.sqrt(2)) * 0.5) * exp(X * X * -0.5)
        return dy * (cdf + X * pdf)
    if kind == "GELU":
        X = Num(x, ops)
        beta = math.sqrt(2) * 2 / math.sqrt(math.pi) * 0.5
        kappa = 0.044715
        x_sq = X * X
        x_cube = x_sq * X
        inner = beta * (X + kappa * x_cube)
        t = tanh(inner)
        left = 0.5 * X
        right = 1 + t
        left_d = 0.5 * right
        tanh_d = 1 - t * t
        inner_d = beta * (1 + (3 * kappa) * x_sq)
        right_d = left * tanh_d * inner_d
        return dy * (left_d + right_d)
    raise KeyError(kind)


# -- pooling --------------------------------------------------------------------------------------
def maxpool_backward(n_out, argmax, n_in, dy):
    """Scatter-add of every output gradient at its argmax into a zeroed input gradient."""
    dx = [0.0] * n_in
    for o in range(n_out):
        dx[argmax[o]] = dx[argmax[o]] + dy[o]
    return dx


def avgpool_backward(windows, divisors, n_in, dy):
    """Each output gradient divided by its divisor and added to its window's valid taps."""
    dx = [None] * n_in
    for o, taps in enumerate(windows):
        g = dy[o] / divisors[o]
        for i in taps:
            dx[i] = accumulate(dx[i], g)
    return dx


def pool_windows(shape, k, s, p, d, ceil_mode):
    """Per output position (row-major), the valid flat input indices of each window."""
    axes = []
    for n, kk, ss, pp, dd in zip(shape, k, s, p, d):
        a = n + 2 * pp - dd * (kk - 1) - 1
        if ceil_mode:
            last = min(a + ss - 1, n + pp - 1)
        else:
            last = a
        o = last // ss + 1
        axes.append([[j * ss - pp + t * dd for t in range(kk) if 0 <= j * ss - pp + t * dd < n]
                     for j in range(o)])
    out = []
    for combo in itertools.product(*axes):
        taps = []
        for idx in itertools.product(*combo):
            flat = 0
            for ii, n in zip(idx, shape):
                flat = flat * n + ii
            taps.append(flat)
        out.append(taps)
    return out


# -- recurrent -------------------------------------------------------------------------------------
def _sig(z):
    return 1 / (1 + math.exp(-z))


def _matvec_t(w, v):
    """``W^T v`` with dots: ``W`` ``[rows][cols]``, ``v`` of length rows -> length cols."""
    cols = len(w[0])
    out = []
    for c in range(cols):
        acc = None
        for r in range(len(w)):
            acc = accumulate(acc, v[r] * w[r][c])
        out.append(acc)
    return out


def rnn_backward(kind, xs, h0, w_ih, w_hh, b_ih, b_hh, dys, need_x, ops, nonlinearity="tanh"):
    """One layer, one direction, batch 1: the forward in plain floats, then back-propagation
    through time with counted numbers (the formulas of `layercalc.backward.recurrent_grads`).
    Returns (dx per step, dW_ih, dW_hh, db_ih, db_hh)."""
    T, H = len(xs), len(h0)
    G = {"RNN": 1, "GRU": 3, "LSTM": 4}[kind]

    def mv(w, v, b):
        return [sum(w[r][c] * v[c] for c in range(len(v))) + (b[r] if b else 0.0)
                for r in range(len(w))]

    hs, cs, cache = [list(h0)], [[0.0] * H], []
    for t in range(T):
        gi = mv(w_ih, xs[t], b_ih)
        gh = mv(w_hh, hs[-1], b_hh)
        if kind == "RNN":
            z = [a + b for a, b in zip(gi, gh)]
            h = [math.tanh(v) if nonlinearity == "tanh" else max(v, 0.0) for v in z]
            cache.append({"h": h})
        elif kind == "LSTM":
            g4 = [a + b for a, b in zip(gi, gh)]
            i_, f_, g_, o_ = ([_sig(v) for v in g4[:H]], [_sig(v) for v in g4[H:2 * H]],
                              [math.tanh(v) for v in g4[2 * H:3 * H]],
                              [_sig(v) for v in g4[3 * H:]])
            c = [f * cp + i * g for f, cp, i, g in zip(f_, cs[-1], i_, g_)]
            tc = [math.tanh(v) for v in c]
            h = [o * v for o, v in zip(o_, tc)]
            cache.append(dict(i=i_, f=f_, g=g_, o=o_, c=c, tc=tc, cp=cs[-1]))
            cs.append(c)
        else:  # GRU: r, z, n; h' = (h - n)*z + n
            r_ = [_sig(a + b) for a, b in zip(gi[:H], gh[:H])]
            z_ = [_sig(a + b) for a, b in zip(gi[H:2 * H], gh[H:2 * H])]
            n_ = [math.tanh(a + r * b) for a, r, b in zip(gi[2 * H:], r_, gh[2 * H:])]
            h = [(hp - n) * z + n for hp, n, z in zip(hs[-1], n_, z_)]
            cache.append(dict(r=r_, z=z_, n=n_, ghn=gh[2 * H:], hp=hs[-1]))
        hs.append(h)
    I = len(xs[0])
    dgates = [None] * T
    dh_next = None
    dc_next = None
    for t in range(T - 1, -1, -1):
        dh = dys[t] if dh_next is None else [a + b for a, b in zip(dys[t], dh_next)]
        cc = cache[t]
        if kind == "RNN":
            if nonlinearity == "tanh":
                dz = [d * (1 - Num(hv, ops) * hv) for d, hv in zip(dh, cc["h"])]
            else:
                dz = [select(ops, hv > 0, d, 0.0) for d, hv in zip(dh, cc["h"])]
            dgh = dgi = dz
        elif kind == "LSTM":
            do = [d * v for d, v in zip(dh, cc["tc"])]
            dtc = [d * o for d, o in zip(dh, cc["o"])]
            dc = [d * (1 - Num(v, ops) * v) for d, v in zip(dtc, cc["tc"])]
            if dc_next is not None:
                dc = [a + b for a, b in zip(dc, dc_next)]
            df = [d * cp for d, cp in zip(dc, cc["cp"])]
            di = [d * g for d, g in zip(dc, cc["g"])]
            dg = [d * i for d, i in zip(dc, cc["i"])]
            dc_next = [d * f for d, f in zip(dc, cc["f"])] if t > 0 else None

            def dsig(d, s):
                return d * s * (1 - Num(s, ops))
            dgate = ([dsig(d, s) for d, s in zip(di, cc["i"])]
                     + [dsig(d, s) for d, s in zip(df, cc["f"])]
                     + [d * (1 - Num(g, ops) * g) for d, g in zip(dg, cc["g"])]
                     + [dsig(d, s) for d, s in zip(do, cc["o"])])
            dgh = dgi = dgate
        else:
            da = [d * z for d, z in zip(dh, cc["z"])]
            a = [hp - n for hp, n in zip(cc["hp"], cc["n"])]
            dz = [d * av for d, av in zip(dh, a)]
            dn = [d - x for d, x in zip(dh, da)]
            du = [d * (1 - Num(n, ops) * n) for d, n in zip(dn, cc["n"])]
            dr = [d * g for d, g in zip(du, cc["ghn"])]
            dghn = [d * r for d, r in zip(du, cc["r"])]

            def dsig(d, s):
                return d * s * (1 - Num(s, ops))
            drp = [dsig(d, s) for d, s in zip(dr, cc["r"])]
            dzp = [dsig(d, s) for d, s in zip(dz, cc["z"])]
            dgh = drp + dzp + dghn
            dgi = drp + dzp + du
        dgates[t] = (dgi, dgh, da if kind == "GRU" else None)
        if t > 0:
            back = _matvec_t(w_hh, dgh)
            if kind == "GRU":
                back = [a + b for a, b in zip(back, da)]
            dh_next = back
    dx = [_matvec_t(w_ih, dgates[t][0]) for t in range(T)] if need_x else None
    dW_ih = [[None] * I for _ in range(G * H)]
    dW_hh = [[None] * H for _ in range(G * H)]
    for t in range(T):
        dgi, dgh, _ = dgates[t]
        for r in range(G * H):
            for c in range(I):
                dW_ih[r][c] = accumulate(dW_ih[r][c], dgi[r] * xs[t][c])
            for c in range(H):
                dW_hh[r][c] = accumulate(dW_hh[r][c], dgh[r] * hs[t][c])
    db_ih = [None] * (G * H)
    db_hh = [None] * (G * H)
    if b_ih is not None:
        for t in range(T):
            dgi, dgh, _ = dgates[t]
            for r in range(G * H):
                db_ih[r] = accumulate(db_ih[r], dgi[r])
                db_hh[r] = accumulate(db_hh[r], dgh[r])
    return dx, dW_ih, dW_hh, db_ih, db_hh
