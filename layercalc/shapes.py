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

import sympy as sp

from .dims import Dim, as_count, cdiv, fdiv, smax, truth, to_expr

__all__ = [
    "effective_kernel",
    "conv_out",
    "conv_transpose_out",
    "pool_out",
    "pool_last_start",
    "same_padding",
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


def valid_taps(n: Dim, k: Dim, s: Dim, p: Dim, d: Dim, last: Dim) -> Dim:
    """Kernel taps that land inside the input (not on padding), summed over all output
    positions of one axis.

    Output positions are ``j = 0 .. floor(last/s)`` (``last`` from `pool_last_start`); tap ``t``
    of window ``j`` reads input index ``j*s - p + t*d``. For each tap ``t`` the valid ``j`` form
    the range ``max(0, ceil((p - t d)/s)) .. floor(min(last, n - 1 + p - t d)/s)``, so the sum
    is exact for every input size, symbols included.

    >>> valid_taps(5, 3, 1, 1, 1, pool_last_start(5, 3, 1, 1, 1, False))  # 2+3+3+3+2
    13
    """
    if type(k) is not int:
        t = sp.Dummy("t", integer=True, nonnegative=True)
        term = _tap_count(n, t, s, p, d, last)
        return as_count(sp.Sum(term, (t, 0, k - 1)))
    total: Dim = 0
    for t in range(k):
        total = total + _tap_count(n, t, s, p, d, last)
    return as_count(total)


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
    n - 1 + min(0, floor((d(k-1-t) + output_padding - p)/s))``.

    >>> transposed_products(3, 3, 1, 0, 1, 0)  # no cropping: every product lands
    9
    >>> transposed_products(3, 3, 1, 1, 1, 0)  # padding 1 crops one product at each end
    7
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
    total: Dim = 0
    for t in range(k):
        total = total + count(t)
    return as_count(total)


def _covered_numeric(n: int, k: int, s: int, p: int, d: int, output_padding: int) -> int:
    out = conv_transpose_out(n, k, s, p, d, output_padding)
    hit = {i * s + t * d - p for i in range(n) for t in range(k)}
    return sum(1 for o in hit if 0 <= o < out)


def transposed_covered(
    n: Dim, k: Dim, s: Dim, p: Dim, d: Dim, output_padding: Dim
) -> tuple[Dim, str]:
    """Output positions of one axis that receive at least one product in a transposed
    convolution, and an assumption note ('' when exact).

    Numbers: counted exactly. A symbolic size ``n`` with numeric kernel, stride, padding and
    dilation: past a small ``n0`` the hit pattern is periodic and shifts by ``s`` per input, so
    the count is exactly ``a*n + b``; ``a, b`` are fitted at ``n0, n0 + 1`` and every ``n < n0``
    is checked, with a ``Piecewise`` for sizes where the line does not hold. Symbolic kernel or
    stride: exact when no two products can meet (``s >= d(k-1) + 1`` provably, or the
    contiguous case ``d = 1, k >= s``), otherwise the no-overlap count with a note.
    """
    params = (k, s, p, d, output_padding)
    if all(type(v) is int for v in params):
        if type(n) is int:
            return _covered_numeric(n, k, s, p, d, output_padding), ""
        n0 = 2 * (d * k + p + output_padding) // s + 4
        v0 = _covered_numeric(n0, k, s, p, d, output_padding)
        v1 = _covered_numeric(n0 + 1, k, s, p, d, output_padding)
        a, b = v1 - v0, v0 - (v1 - v0) * n0
        line = a * to_expr(n) + b
        exceptions = []
        for m in range(1, n0):
            if conv_transpose_out(m, k, s, p, d, output_padding) < 1:
                continue
            v = _covered_numeric(m, k, s, p, d, output_padding)
            if v != a * m + b:
                exceptions.append((v, sp.Eq(n, m)))
        if not exceptions:
            return as_count(line), ""
        return sp.Piecewise(*exceptions, (line, True)), ""
    products = transposed_products(n, k, s, p, d, output_padding)
    if truth(to_expr(s) >= d * (k - 1) + 1):
        return products, ""  # taps of neighbouring inputs never meet
    if truth(sp.Eq(d, 1)) and truth(to_expr(k) >= s):
        # contiguous hits [0, (n-1)s + k - 1], cropped by the window [p, p + out)
        out = conv_transpose_out(n, k, s, p, d, output_padding)
        return as_count(sp.Min(out, (n - 1) * s + k - p) - sp.Max(0, -p)), ""
    return products, (
        "ConvTranspose exact add count assumes no two products meet in one output "
        "(symbolic kernel/stride/dilation)"
    )


def adaptive_window_sum(n: Dim, m: Dim) -> Dim:
    """Sum of window sizes of adaptive pooling from ``n`` to ``m`` positions along one axis.

    PyTorch's window ``o`` is ``[floor(o*n/m), ceil((o+1)*n/m))``.

    >>> adaptive_window_sum(10, 3)  # windows [0,4) [3,7) [6,10)
    12
    >>> adaptive_window_sum(7, 7), adaptive_window_sum(14, 7)
    (7, 14)
    """
    if type(m) is int:
        total: Dim = 0
        for o in range(m):
            total = total + cdiv((o + 1) * n, m) - fdiv(o * n, m)
        return as_count(total)
    o = sp.Dummy("o", integer=True, nonnegative=True)
    return sp.Sum(sp.ceiling((o + 1) * n / m) - sp.floor(o * n / m), (o, 0, m - 1))

