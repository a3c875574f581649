"""Every output-size and window-count formula, once.

Pure functions of one spatial axis. Each accepts ints (exact integer arithmetic) or SymPy
expressions. Floors are kept as ``floor(numerator / stride)`` with an explicit numerator so that
two floors over the same stride can be compared through their numerators, which SymPy cannot do
on the floors themselves.

Formulas follow PyTorch's documentation of ``nn.Conv2d``, ``nn.ConvTranspose2d`` and
``nn.MaxPool2d`` (including its ceil_mode rule that the last window must start inside the input
or the left padding).
"""

from __future__ import annotations

import math

import sympy as sp

from .dims import Dim, as_count, cdiv, exact_div, fdiv, ge, smax, smin, to_expr, truth
from .errors import LimitError

__all__ = [
    "effective_kernel",
    "conv_out",
    "conv_transpose_out",
    "pool_out",
    "pool_last_start",
    "same_padding",
    "tf_same_padding",
    "valid_taps",
    "transposed_products",
    "transposed_covered",
    "adaptive_window_sum",
]


def _min(a: Dim, b: Dim) -> Dim:
    """min(a, b), deciding through SymPy where possible (the numerators here differ by
    constants), ``Min`` otherwise."""
    if type(a) is int and type(b) is int:
        return min(a, b)
    t = truth(to_expr(a) <= b)
    if t is not None:
        return a if t else b
    return sp.Min(a, b)


def effective_kernel(k: Dim, d: Dim) -> Dim:
    """Span of a dilated kernel, ``d*(k - 1) + 1``."""
    return d * (k - 1) + 1


def conv_out(n: Dim, k: Dim, s: Dim = 1, p: Dim = 0, d: Dim = 1) -> Dim:
    """Output size of a convolution (or floor-mode pooling) along one axis.

    ``floor((n + 2p - d(k - 1) - 1) / s) + 1``  (PyTorch, ``nn.Conv2d`` docs)

    >>> conv_out(224, 7, 2, 3)
    112
    >>> import sympy as sp
    >>> H = sp.Symbol("H", integer=True, positive=True)
    >>> conv_out(H, 3, 1, 1)
    H
    """
    return fdiv(n + 2 * p - d * (k - 1) - 1, s) + 1


def pool_last_start(n: Dim, k: Dim, s: Dim, p: Dim, d: Dim, ceil_mode: bool) -> Dim:
    """Numerator ``N`` such that the pooling output size is ``floor(N / s) + 1``.

    Floor mode: ``N = n + 2p - d(k-1) - 1``, as for convolution.
    Ceil mode: the window count is rounded up, then the last window is dropped if it would
    start in the right padding (PyTorch's rule ``(out - 1)*s >= n + p``). That equals
    ``min(ceil(a/s), floor((n + p - 1)/s)) + 1`` with ``a = n + 2p - d(k-1) - 1``, i.e.
    ``N = min(a + s - 1, n + p - 1)``.
    """
    a = n + 2 * p - d * (k - 1) - 1
    if not ceil_mode:
        return a
    return _min(a + s - 1, n + p - 1)


def pool_out(n: Dim, k: Dim, s: Dim, p: Dim = 0, d: Dim = 1, ceil_mode: bool = False) -> Dim:
    """Output size of max/avg pooling along one axis, PyTorch semantics.

    >>> pool_out(112, 3, 2, 1)
    56
    >>> pool_out(6, 3, 2, 0, 1, ceil_mode=True), pool_out(6, 3, 2, 0, 1, ceil_mode=False)
    (3, 2)
    >>> pool_out(5, 2, 2, 1, 1, ceil_mode=True)  # last window would start in the padding
    3
    """
    return fdiv(pool_last_start(n, k, s, p, d, ceil_mode), s) + 1


def conv_transpose_out(
    n: Dim, k: Dim, s: Dim = 1, p: Dim = 0, d: Dim = 1, output_padding: Dim = 0
) -> Dim:
    """Output size of a transposed convolution along one axis.

    ``(n - 1)s - 2p + d(k - 1) + output_padding + 1``  (PyTorch, ``nn.ConvTranspose2d`` docs)

    >>> conv_transpose_out(7, 4, 2, 1)
    14
    """
    return as_count((n - 1) * s - 2 * p + d * (k - 1) + output_padding + 1)


def same_padding(k: Dim, d: Dim = 1) -> tuple[Dim, Dim]:
    """PyTorch's ``padding='same'``: total ``d(k-1)``, the odd one extra on the right.

    >>> same_padding(3), same_padding(4), same_padding(3, 2)
    ((1, 1), (1, 2), (2, 2))
    """
    total = d * (k - 1)
    left = fdiv(total, 2)
    return left, as_count(total - left)


def tf_same_padding(n: Dim, k: Dim, s: Dim = 1, d: Dim = 1) -> tuple[Dim, Dim]:
    """TensorFlow's ``padding='SAME'`` along one axis of size `n`: ``(before, after)``.

    The output has ``ceil(n/s)`` positions, and the input is padded by just enough for the
    last window to fit: ``total = max((ceil(n/s) - 1)*s + d*(k - 1) + 1 - n, 0)``, with
    ``floor(total/2)`` before and the rest (the odd one) after. Source: TensorFlow,
    ``tf.nn.convolution`` documentation ("Notes on padding"); Keras ``padding="same"``.
    With stride 1 it equals PyTorch's `same_padding`. The output size from these pads,
    ``floor((n + total - d(k - 1) - 1)/s) + 1``, is ``ceil(n/s)`` for every ``n >= 1``.

    >>> tf_same_padding(126, 3, 2), tf_same_padding(63, 3, 2), tf_same_padding(4, 1, 2)
    ((0, 1), (1, 1), (0, 0))
    >>> tf_same_padding(5, 3, 1) == same_padding(3)
    True
    """
    out = cdiv(n, s)
    total = smax(0, as_count((out - 1) * s + d * (k - 1) + 1 - n))
    before = fdiv(total, 2)
    return before, as_count(total - before)


#: Kernels up to this size are summed tap by tap (short, familiar symbolic forms); larger ones
#: use the closed forms below, so a huge kernel never means a huge loop.
SMALL_KERNEL = 64
#: Most terms a closed form may still need to list one by one (edge taps of a dilated kernel,
#: residue classes of a transposed convolution, small-size exceptions) before `LimitError`:
#: symbolic sizes / numeric sizes.
MAX_TERMS = 128
MAX_NUMERIC_TERMS = 1_000_000
#: Most divisors of a numeric size in the symbolic adaptive-pooling window count (every
#: divisor costs a floor and a ceiling, and SymPy builds each in milliseconds); 48 covers every
#: output size below 5040 (the first number with more divisors).
MAX_DIVISORS = 48


def _limit(what: str, count: Any, symbolic: bool) -> None:
    limit = MAX_TERMS if symbolic else MAX_NUMERIC_TERMS
    if count > limit:
        raise LimitError(
            "layercalc", f"{what} needs {count} separate terms (at most {limit})",
            "Give numeric sizes, or a smaller kernel, stride, padding or dilation."
            if symbolic else "Use a smaller kernel, stride, padding or dilation.")


def valid_taps(n: Dim, k: Dim, s: Dim, p: Dim, d: Dim, last: Dim) -> Dim:
    """Kernel taps that land inside the input (not on padding), summed over all output
    positions of one axis.

    Output positions are ``j = 0 .. J`` with ``J = floor(last/s)`` (``last`` from
    `pool_last_start`); tap ``t`` of window ``j`` reads input index ``j*s - p + t*d``. For each
    tap ``t`` the valid ``j`` form the range ``max(0, ceil((p - t d)/s)) .. floor(min(last, n -
    1 + p - t d)/s)``, so the sum is exact for every input size, symbols included. Kernels of
    up to `SMALL_KERNEL` taps are summed tap by tap. Larger ones:

    - ``d = 1`` (every AvgPool, most MaxPools): window ``j`` covers ``[js - p, js - p + k - 1]``,
      so it loses ``max(0, p - js)`` taps on the left and ``max(0, js - p + k - n)`` on the
      right, and ``taps = k(J + 1) - L - R`` with ``L = (M + 1)p - s M(M + 1)/2``, ``M =
      min(J, floor((p - 1)/s))`` and ``R = N c + s N(2a + N - 1)/2``, ``c = k - p - n``, ``a =
      max(0, floor((n + p - k)/s) + 1)``, ``N = max(0, J - a + 1)``: a closed form in any
      sizes. (Valid while every window overlaps the input, which PyTorch's rules guarantee:
      padding at most half the kernel, no window starting in the right padding.)
    - ``d > 1``: the taps with ``t d >= p`` and ``t d <= n - 1 + p - last`` see every window
      (``J + 1`` each); the others (near the two ends of the kernel) are summed one by one,
      at most `MAX_TERMS` of them for symbolic sizes (else `LimitError`).

    >>> valid_taps(5, 3, 1, 1, 1, pool_last_start(5, 3, 1, 1, 1, False))  # 2+3+3+3+2
    13
    >>> valid_taps(10**12, 2**20, 2**20, 0, 1, pool_last_start(10**12, 2**20, 2**20, 0, 1, False))
    ... # 953674 full windows of 2**20 taps, at once
    999999668224
    """
    if type(k) is not int:
        t = sp.Dummy("t", integer=True, nonnegative=True)
        term = _tap_count(n, t, s, p, d, last)
        return as_count(sp.Sum(term, (t, 0, k - 1)))
    if k <= SMALL_KERNEL:
        total: Dim = 0
        for t in range(k):
            total = total + _tap_count(n, t, s, p, d, last)
        return as_count(total)
    numeric = all(type(v) is int for v in (n, s, p, d, last))
    J = fdiv(last, s)
    if type(d) is int and d == 1 and truth(ge(k, 2 * p)):
        left: Dim = 0
        if not (type(p) is int and p == 0):
            M = smin(J, fdiv(p - 1, s))
            left = as_count((M + 1) * p - s * exact_div(as_count(M * (M + 1)), 2))
        a = smax(0, fdiv(n + p - k, s) + 1)
        N = smax(0, as_count(J - a + 1))
        right = as_count(N * (k - p - n) + s * exact_div(as_count(N * (2 * a + N - 1)), 2))
        return as_count(k * (J + 1) - left - right)
    reach = as_count(n - 1 + p - last)  # taps t with t*d <= reach see the last window
    if type(d) is not int or type(p) is not int or type(reach) is not int:
        _limit("the valid-tap count of a large kernel with symbolic dilation or padding", k,
               True)
        return as_count(sp.Add(*[_tap_count(n, t, s, p, d, last) for t in range(k)]))
    t_lo = -(-p // d)  # first tap never on the left padding
    t_hi = min(k - 1, reach // d) if reach >= 0 else -1
    middle = max(0, t_hi - t_lo + 1)
    edges = [t for t in range(min(k, t_lo))] if middle else list(range(k))
    if middle:
        _limit("the valid-tap count of a large dilated kernel", k - middle, not numeric)
        edges += list(range(t_hi + 1, k))
    else:
        _limit("the valid-tap count of a large dilated kernel", k, not numeric)
    terms = [_tap_count(n, t, s, p, d, last) for t in edges]
    return as_count(sp.Add(middle * (J + 1), *terms) if not numeric else
                    middle * (J + 1) + sum(terms))


def _tap_count(n: Dim, t: Dim, s: Dim, p: Dim, d: Dim, last: Dim) -> Dim:
    lo = smax(0, cdiv(p - t * d, s))
    hi_num = _min(last, n - 1 + p - t * d)
    count = fdiv(hi_num, s) - lo + 1
    if type(count) is int:
        return max(0, count)
    # floor(hi_num/s) >= lo - 1  <=>  hi_num >= (lo - 1)*s, decidable on the numerator
    if truth(to_expr(hi_num) >= (lo - 1) * s):
        return count
    return sp.Max(0, count)


def transposed_products(n: Dim, k: Dim, s: Dim, p: Dim, d: Dim, output_padding: Dim) -> Dim:
    """Number of (input index, tap) pairs of a transposed convolution whose product lands inside
    the output window (not cropped by ``padding``), along one axis.

    Input ``i`` with tap ``t`` lands at ``i*s + t*d - p``, which must lie in ``[0, out)``. For
    each tap the valid ``i`` are ``max(0, ceil((p - t d)/s)) ..
    n - 1 + min(0, floor((d(k-1-t) + output_padding - p)/s))``. A kernel larger than
    `SMALL_KERNEL` is not summed tap by tap: the taps cropped by neither end (``t d >= p`` and
    ``d(k-1-t) + output_padding >= p``) each give ``n`` products, and only the others are
    listed (at most `MAX_TERMS` of them for a symbolic size, else `LimitError`).

    >>> transposed_products(3, 3, 1, 0, 1, 0)  # no cropping: every product lands
    9
    >>> transposed_products(3, 3, 1, 1, 1, 0)  # padding 1 crops one product at each end
    7
    >>> transposed_products(10**9, 10**6, 1, 0, 1, 0)
    1000000000000000
    """

    def count(t: Dim) -> Dim:
        lo = smax(0, cdiv(p - t * d, s))
        hi = n - 1 + _min(0, fdiv(d * (k - 1 - t) + output_padding - p, s))
        c = as_count(hi - lo + 1)
        if type(c) is int:
            return max(0, c)
        return c if truth(to_expr(c) >= 0) else sp.Max(0, c)

    if type(k) is not int:
        t = sp.Dummy("t", integer=True, nonnegative=True)
        return as_count(sp.Sum(count(t), (t, 0, k - 1)))
    if k > SMALL_KERNEL and all(type(v) is int for v in (s, p, d, output_padding)):
        t_lo = -(-p // d)  # taps with t*d >= p: not cropped on the left
        reach = d * (k - 1) + output_padding - p  # taps with d(k-1-t) >= p - op: not on the right
        t_hi = min(k - 1, reach // d) if reach >= 0 else -1
        middle = max(0, t_hi - t_lo + 1)
        edges = list(range(min(k, t_lo))) + list(range(max(t_hi + 1, min(k, t_lo)), k)) \
            if middle else list(range(k))
        _limit("the product count of a large transposed-convolution kernel", len(edges),
               type(n) is not int)
        terms = [count(t) for t in edges]
        if type(n) is int:
            return as_count(middle * n + sum(terms))
        return as_count(sp.Add(middle * n, *terms))
    if k > SMALL_KERNEL:
        _limit("the product count of a large transposed-convolution kernel", k, True)
    total = 0
    for t in range(k):
        total = total + count(t)
    return as_count(total)


def _covered_classes(k: int, s: int, p: int, d: int, output_padding: int,
                     symbolic: bool = False) -> list:
    """Per residue class of a transposed convolution's hits (see `transposed_covered`):
    ``(m, lo, e)``: the class's number of taps, the first class coordinate inside the output
    window, and ``hi = n - 1 + e`` for the last one."""
    g = math.gcd(s, d)
    s1, d1 = s // g, d // g
    classes = min(s1, k)
    _limit("the covered-output count of a transposed convolution (residue classes)", classes,
           symbolic)
    out = []
    for c in range(classes):
        m = (k - 1 - c) // s1 + 1
        lo = -((c * d - p) // s)  # ceil((p - c d)/s)
        e = (d * (k - 1) + output_padding - p - c * d) // s
        out.append((m, lo, e))
    return out


def _covered_count(n: int, k: int, s: int, p: int, d: int, output_padding: int) -> int:
    """Exact covered outputs for numbers, class by class (no per-output loop)."""
    d1 = d // math.gcd(s, d)
    total = 0
    for m, lo, e in _covered_classes(k, s, p, d, output_padding):
        start, stop = max(lo, 0), n + e  # class coordinates [start, stop)
        if stop <= start:
            continue
        if n >= d1:  # the taps' runs overlap: one run [0, (m-1) d1 + n)
            top = (m - 1) * d1 + n
            total += max(0, min(stop, top) - min(start, top))
        else:  # m runs of n, d1 apart

            def below(x: int) -> int:
                q, r = divmod(x, d1)
                return n * min(q, m) + (min(r, n) if q < m else 0)

            total += max(0, below(stop) - below(start))
    return total


def transposed_covered(
    n: Dim, k: Dim, s: Dim, p: Dim, d: Dim, output_padding: Dim
) -> tuple[Dim, str]:
    """Output positions of one axis that receive at least one product in a transposed
    convolution, and an assumption note ('' when exact).

    Product ``(i, t)`` hits ``h - p`` with ``h = i s + t d``. With ``g = gcd(s, d)``, ``s' =
    s/g``, ``d' = d/g``, the hits fall into ``min(s', k)`` residue classes mod ``s``: taps ``t = c
    + u s'`` (``u < m_c``) give ``h = c d + s x`` with ``x`` in ``m_c`` runs ``[u d', u d' + n -
    1]``, which merge into one run ``[0, (m_c - 1) d' + n - 1]`` when ``n >= d'``. Intersecting
    each class with the output window is a few integer operations per class, so any numeric
    size is counted at once; a symbolic ``n`` with numeric kernel, stride, padding and dilation
    gets the exact ``sum_c Max(0, n + min(e_c, (m_c - 1) d') - max(lo_c, 0))`` (valid for ``n >=
    d'``; smaller sizes are listed in a ``Piecewise`` where they differ). Symbolic kernel or
    stride: exact when no two products can meet (``s >= d(k-1) + 1`` provably, or the
    contiguous case ``d = 1, k >= s``), otherwise the no-overlap count capped at the output size,
    with a note.

    >>> transposed_covered(7, 4, 2, 1, 1, 0)  # every one of the 14 outputs
    (14, '')
    >>> transposed_covered(3, 2, 3, 0, 1, 0)  # stride 3, kernel 2: gaps between inputs
    (6, '')
    >>> transposed_covered(10**12, 3, 2, 1, 1, 1)[0] == 2 * 10**12  # no loop over outputs
    True
    """
    params = (k, s, p, d, output_padding)
    if all(type(v) is int for v in params):
        if type(n) is int:
            return _covered_count(n, *params), ""
        d1 = d // math.gcd(s, d)
        terms: dict[int, int] = {}
        for m, lo, e in _covered_classes(*params, symbolic=True):
            kappa = min(e, (m - 1) * d1) - max(lo, 0)
            terms[kappa] = terms.get(kappa, 0) + 1
        line = as_count(sp.Add(*[c * sp.Max(0, n + kappa) for kappa, c in terms.items()]))
        if d1 == 1:
            return line, ""
        _limit("the covered-output count of a dilated transposed convolution (small sizes)",
               d1, True)
        exceptions = []
        for size in range(1, d1):
            if conv_transpose_out(size, *params) < 1:
                continue
            v = _covered_count(size, *params)
            if v != as_count(to_expr(line).subs(n, size)):
                exceptions.append((v, sp.Eq(n, size)))
        if not exceptions:
            return line, ""
        return sp.Piecewise(*exceptions, (line, True)), ""
    products = transposed_products(n, k, s, p, d, output_padding)
    if truth(to_expr(s) >= d * (k - 1) + 1):
        return products, ""  # taps of neighbouring inputs never meet
    out = conv_transpose_out(n, k, s, p, d, output_padding)
    if truth(sp.Eq(d, 1)) and truth(to_expr(k) >= s):
        # contiguous hits [0, (n-1)s + k - 1], cropped by the window [p, p + out)
        return as_count(sp.Min(out, (n - 1) * s + k - p) - sp.Max(0, -p)), ""
    # products may meet: at most one covered output per product, and never more than outputs
    return as_count(sp.Min(out, products)), (
        "ConvTranspose exact add count assumes no two products meet in one output "
        "(symbolic kernel/stride/dilation)"
    )


def adaptive_window_sum(n: Dim, m: Dim) -> Dim:
    """Sum of window sizes of adaptive pooling from ``n`` to ``m`` positions along one axis.

    PyTorch's window ``o`` is ``[floor(o*n/m), ceil((o+1)*n/m))``. Summed over ``o``, the ceilings
    and floors telescope except where ``m`` does not divide ``o*n``::

        sum_o (ceil((o+1) n/m) - floor(o n/m)) = n + m - gcd(n, m)

    (``sum_{o=1}^{m} ceil(o n/m) = sum_{o=1}^{m} floor(o n/m) + m - gcd(n, m)``, and the floors
    of ``o = 0 .. m-1`` and ``1 .. m`` differ by ``n``). For a symbolic size and a numeric one
    ``q``, ``gcd(n, q) = sum_{e | q} phi(e) [e | n]`` with ``[e | n] = floor(n/e) - ceiling(n/e)
    + 1``: one term per divisor of ``q`` (`LimitError` past `MAX_DIVISORS` divisors, or when ``q``
    cannot be factored quickly). Two symbolic sizes: an unevaluated ``Sum``.

    >>> adaptive_window_sum(10, 3)  # windows [0,4) [3,7) [6,10)
    12
    >>> adaptive_window_sum(7, 7), adaptive_window_sum(14, 7), adaptive_window_sum(10**18, 10**9)
    (7, 14, 1000000000000000000)
    >>> H = sp.Symbol("H", integer=True, positive=True)
    >>> adaptive_window_sum(H, 2)
    H + ceiling(H/2) - floor(H/2)
    """
    if type(n) is int and type(m) is int:
        return n + m - math.gcd(n, m)
    if type(m) is int or type(n) is int:
        q, other = (m, n) if type(m) is int else (n, m)
        return as_count(n + m - _symbolic_gcd(other, q))
    o = sp.Dummy("o", integer=True, nonnegative=True)
    return sp.Sum(sp.ceiling((o + 1) * n / m) - sp.floor(o * n / m), (o, 0, m - 1))


def _symbolic_gcd(x: Dim, q: int) -> Dim:
    """``gcd(x, q)`` for a symbolic positive integer `x`: ``sum_{e | q} phi(e) [e | x]``."""
    from sympy import divisor_count, factorint, totient

    factors = factorint(q, limit=10**6) if q > 10**12 else factorint(q)
    if any(not sp.isprime(f) for f in factors):
        raise LimitError("layercalc", f"the size {q} cannot be factored quickly to count "
                         "adaptive-pooling windows over a symbolic size",
                         "Give the other size as a number.")
    divisors = int(divisor_count(q))
    if divisors > MAX_DIVISORS:
        raise LimitError("layercalc", f"the adaptive-pooling window count over a symbolic size "
                         f"needs one term per divisor of {q}, {divisors} of them (at most "
                         f"{MAX_DIVISORS})", "Give the other size as a number.")
    terms = [totient(e) * (fdiv(x, e) - cdiv(x, e) + 1) for e in sp.divisors(q)]
    return as_count(sp.Add(*terms))  # one Add: summing one by one is quadratic
