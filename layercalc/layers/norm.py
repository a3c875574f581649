"""Normalisation layers: BatchNorm, LayerNorm, GroupNorm, InstanceNorm, RMSNorm (inference).

Every class counts the *inference* forward pass, one sample, with one exact decomposition
of the arithmetic, the same for all of them. For a group of ``N`` elements whose statistics are
computed from the input (LayerNorm, GroupNorm, InstanceNorm, BatchNorm without running
statistics)::

    mean      m = sum(x) / N              N - 1 adds, 1 div
    centre    d_i = x_i - m               N adds (subtractions)
    variance  v = sum(d_i * d_i) / N      N muls, N - 1 adds, 1 div  (biased, as PyTorch)
    std       s = sqrt(v + eps)           1 add, 1 sqrt
    normalise y_i = d_i / s               N divs

so per group ``3N - 1`` adds, ``N`` muls, ``N + 2`` divs and 1 sqrt. With running statistics
(BatchNorm, InstanceNorm with ``track_running_stats=True``) the mean and variance are read, not
computed: per channel ``var + eps`` (1 add) and one sqrt; per element ``x - mean`` (1 add) and
one div. An affine transform ``y*gamma + beta`` adds 1 mul and 1 add per element (no add without
a bias). ``eps`` and ``momentum`` change no count.

Validation follows PyTorch: ``eps`` is a real number >= 0 (PyTorch's batch_norm checks this;
layercalc asks the same of InstanceNorm, LayerNorm, GroupNorm and RMSNorm, where PyTorch accepts
a negative ``eps`` and may take the square root of a negative number), ``momentum`` a real number or
``None`` (unchecked range, as in PyTorch). Statistics computed from the input need more than one
value per group (PyTorch's ``Expected more than 1 value per channel``); for BatchNorm with
``track_running_stats=False`` that is checked for the batch of one sample the count describes,
so layercalc rejects a ``(C, 1, 1)`` input that PyTorch would accept in a batch of several.

Memory (compulsory): the input is read once, the output written once, every parameter and
buffer read once (``weight_reads = params + buffers``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..cost import Cost
from ..dims import Dim, as_count, as_dim, divides, eq, exact_div, fmt, ge, prod, require
from ..errors import LayerSpecError, ShapeError
from ._base import Layer, dim, flag, real

__all__ = [
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm",
    "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "RMSNorm", "LayerNorm2d",
]

_LAYOUT = {1: "(C, L)", 2: "(C, H, W)", 3: "(C, D, H, W)"}


def _stats_ops(groups: Dim, n: Dim) -> dict[str, Dim]:
    """Ops of computing mean and biased variance of `groups` groups of `n` elements and
    normalising them (see the module docstring)."""
    return {
        "add": as_count(groups * (3 * n - 1)),
        "mul": as_count(groups * n),
        "div": as_count(groups * (n + 2)),
        "sqrt": as_count(groups),
    }


def _running_ops(channels: Dim, elements: Dim) -> dict[str, Dim]:
    """Ops of normalising with stored running mean and variance."""
    return {
        "add": as_count(elements + channels),
        "div": as_count(elements),
        "sqrt": as_count(channels),
    }


def _affine(ops: dict[str, Dim], elements: Dim, mul: bool, add: bool) -> dict[str, Dim]:
    out = dict(ops)
    if mul:
        out["mul"] = as_count(out.get("mul", 0) + elements)
    if add:
        out["add"] = as_count(out.get("add", 0) + elements)
    return out


def _shape_field() -> Any:
    """``normalized_shape``: an int or a sequence of ints, stored as a tuple."""

    def convert(layer: Layer, name: str, value: Any) -> tuple[Dim, ...]:
        if isinstance(value, (list, tuple)):
            if len(value) == 0:
                raise LayerSpecError(layer.kind, f"{name} must not be empty")
            return tuple(as_dim(v, layer.kind, name) for v in value)
        return (as_dim(value, layer.kind, name),)

    return field(metadata={"convert": convert, "kind": "dims", "minimum": 1, "per_axis": None})


# -- BatchNorm / InstanceNorm --------------------------------------------------------------
@dataclass(frozen=True)
class _ChannelNormNd(Layer):
    """Shared body of BatchNorm and InstanceNorm: per-channel statistics of a channel-first
    input ``(C, *spatial)``."""

    num_features: Dim = dim()
    eps: float = real(1e-5, minimum=0)
    momentum: Any = real(0.1, optional=True)
    affine: bool = flag(True)
    track_running_stats: bool = flag(True)

    def _ranks(self) -> tuple[int, ...]:
        return (self.ndim + 1,)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        ranks = self._ranks()
        if len(ranks) == 1:
            shape = self._input(x, ranks[0], layout=_LAYOUT[self.ndim])
        else:
            shape = self._input(x)
            if len(shape) not in ranks:
                raise ShapeError(self.kind, f"expected an input of rank 1 (C,) or 2 (C, L) "
                                 f"(batch excluded), got {fmt(shape)}")
        self._channels(shape, self.num_features)
        if not self.track_running_stats:
            self._check_statistics(shape)
        return shape

    def _check_statistics(self, shape: tuple[Dim, ...]) -> None:
        """Statistics computed from the input need more than one value per channel: PyTorch
        raises ``ValueError: Expected more than 1 value per channel`` (BatchNorm, for the batch
        of one sample counted here) or ``... more than 1 spatial element`` (InstanceNorm)."""
        n = prod(shape[1:])
        require(ge(n, 2), self.kind,
                lambda: f"statistics need more than 1 value per channel, got input shape "
                f"{fmt(shape)} (track_running_stats=False; PyTorch raises the same for one "
                "sample)", error=ShapeError)

    def _batch_stats_note(self) -> str:
        return ""

    def cost(self, x: Any) -> Cost:
        shape = self.output_shape(x)
        c = self.num_features
        elements = prod(shape)
        params = 2 * c if self.affine else 0
        buffers = 2 * c if self.track_running_stats else 0
        notes: tuple[str, ...] = ()
        if self.track_running_stats:
            ops = _running_ops(c, elements)
        else:
            ops = _stats_ops(c, prod(shape[1:]))
            note = self._batch_stats_note()
            notes = (note,) if note else ()
        ops = _affine(ops, elements, self.affine, self.affine)
        return Cost(
            params=params,
            buffers=buffers,
            ops=ops,
            weight_reads=as_count(params + buffers),
            act_reads=elements,
            writes=elements,
            notes=notes,
        )


@dataclass(frozen=True)
class _BatchNormNd(_ChannelNormNd):
    """Batch normalisation at inference, like ``torch.nn.BatchNorm2d``::

        y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta

    Counts for an input ``(C, *s)`` with ``E = C*prod(s)`` elements::

        params  = 2C (gamma, beta) if affine
        buffers = 2C (running mean and variance) if track_running_stats; the integer
                  ``num_batches_tracked`` counter is not counted (it is not a tensor of values)
        ops     = E + C adds (x - mean; var + eps), E divs, C sqrts,
                  + E muls and E adds if affine

    so a BatchNorm has ``4C`` values per layer, gamma/beta/mean/var (seed 004), and ``2C``
    learnable parameters (seed 000: "BN 层参数量 = 2*C_i"). With ``track_running_stats=False``
    PyTorch normalises with batch statistics even in eval mode; that is counted as the
    statistics of one sample (a note says so).

    At inference a BatchNorm after a convolution can be folded into the convolution's weights
    and bias (``W' = W*gamma/s``, ``b' = (b - mean)*gamma/s + beta``, seed 004), which removes
    every op counted here; ``layercalc.fuse`` is where that belongs. Counting tools disagree on
    BatchNorm: some report ``2E`` or ``4E`` FLOPs, some ignore it; these counts state each op.

    References
    ==========
    .. [1] Ioffe & Szegedy, "Batch Normalization", 2015, https://arxiv.org/abs/1502.03167,
       algorithm 2 (inference).
    .. [2] PyTorch, ``torch.nn.BatchNorm2d`` documentation.
    """

    def _batch_stats_note(self) -> str:
        return (f"{self.kind}: track_running_stats=False uses batch statistics at inference; "
                "counted for a batch of one sample")


@dataclass(frozen=True)
class BatchNorm1d(_BatchNormNd):
    """As `_BatchNormNd`, like ``torch.nn.BatchNorm1d``: input ``(C,)`` or ``(C, L)``.

    >>> BatchNorm1d(4).cost((4,)).ops
    mappingproxy({'add': 12, 'div': 4, 'mul': 4, 'sqrt': 4})
    """

    ndim = 1

    def _ranks(self) -> tuple[int, ...]:
        return (1, 2)


@dataclass(frozen=True)
class BatchNorm2d(_BatchNormNd):
    """As `_BatchNormNd`, like ``torch.nn.BatchNorm2d``: input ``(C, H, W)``.

    >>> bn = BatchNorm2d(64)
    >>> c = bn.cost((64, 56, 56))
    >>> c.params, c.buffers, c.weight_reads
    (128, 128, 256)
    >>> dict(c.ops)  # 64*56*56 = 200704 elements
    {'add': 401472, 'div': 200704, 'mul': 200704, 'sqrt': 64}
    >>> from layercalc import symbols
    >>> C, H, W = symbols("C H W")
    >>> BatchNorm2d(C).cost((C, H, W)).ops["add"]
    2*C*H*W + C
    """

    ndim = 2


@dataclass(frozen=True)
class BatchNorm3d(_BatchNormNd):
    """As `_BatchNormNd`, like ``torch.nn.BatchNorm3d``: input ``(C, D, H, W)``.

    >>> BatchNorm3d(8).cost((8, 2, 3, 4)).params
    16
    """

    ndim = 3


@dataclass(frozen=True)
class _InstanceNormNd(_ChannelNormNd):
    """Instance normalisation, like ``torch.nn.InstanceNorm2d``: each channel of each sample is
    normalised by its own mean and variance over the spatial axes.

    Counts for an input ``(C, *s)``, ``S = prod(s)``, ``E = C*S``: the statistics of ``C``
    groups of ``S`` elements (module docstring: ``C(3S - 1)`` adds, ``E`` muls, ``C(S + 2)``
    divs, ``C`` sqrts), plus ``E`` muls and ``E`` adds if affine. With
    ``track_running_stats=True`` eval mode uses the running statistics and counts as
    `_BatchNormNd`. params ``2C`` if affine, buffers ``2C`` if track_running_stats.

    The channel count must equal ``num_features`` (PyTorch only warns when ``affine=False``).

    References
    ==========
    .. [1] Ulyanov et al., "Instance Normalization", 2016, https://arxiv.org/abs/1607.08022.
    .. [2] PyTorch, ``torch.nn.InstanceNorm2d`` documentation.
    """

    affine: bool = flag(False)
    track_running_stats: bool = flag(False)


@dataclass(frozen=True)
class InstanceNorm1d(_InstanceNormNd):
    """As `_InstanceNormNd`, like ``torch.nn.InstanceNorm1d``: input ``(C, L)``.

    >>> dict(InstanceNorm1d(2).cost((2, 5)).ops)  # per channel: 14 adds, 5 muls, 7 divs
    {'add': 28, 'div': 14, 'mul': 10, 'sqrt': 2}
    """

    ndim = 1


@dataclass(frozen=True)
class InstanceNorm2d(_InstanceNormNd):
    """As `_InstanceNormNd`, like ``torch.nn.InstanceNorm2d``: input ``(C, H, W)``.

    >>> InstanceNorm2d(3, affine=True).cost((3, 4, 4)).params
    6
    """

    ndim = 2


@dataclass(frozen=True)
class InstanceNorm3d(_InstanceNormNd):
    """As `_InstanceNormNd`, like ``torch.nn.InstanceNorm3d``: input ``(C, D, H, W)``."""

    ndim = 3


# -- LayerNorm / RMSNorm ---------------------------------------------------------------------
def _trailing(layer: Layer, x: Any, normalized: tuple[Dim, ...]) -> tuple[Dim, ...]:
    shape = layer._input(x, min_rank=len(normalized))
    k = len(normalized)
    for have, want in zip(shape[len(shape) - k:], normalized):
        require(eq(have, want), layer.kind,
                lambda: f"expected an input whose last {k} size{'s' if k > 1 else ''} equal "
                f"normalized_shape (={fmt(normalized)}), got input shape {fmt(shape)}",
                error=ShapeError)
    return shape


@dataclass(frozen=True)
class LayerNorm(Layer):
    """Layer normalisation over the trailing ``normalized_shape`` axes, like
    ``torch.nn.LayerNorm``: input ``(*, *normalized_shape)``.

    Counts with ``N = prod(normalized_shape)`` and ``G = prod(*)`` groups (``E = G*N``): the
    statistics and normalisation of ``G`` groups of ``N`` (module docstring: ``G(3N - 1)`` adds,
    ``E`` muls, ``G(N + 2)`` divs, ``G`` sqrts), then ``E`` muls (gamma) and ``E`` adds (beta)
    when ``elementwise_affine``; no adds when ``bias=False``.
    params = ``2N`` (``N`` with ``bias=False``, 0 without ``elementwise_affine``).

    References
    ==========
    .. [1] Ba et al., "Layer Normalization", 2016, https://arxiv.org/abs/1607.06450.
    .. [2] PyTorch, ``torch.nn.LayerNorm`` documentation.

    >>> ln = LayerNorm(768)
    >>> c = ln.cost((128, 768))
    >>> c.params, dict(c.ops)
    (1536, {'add': 393088, 'div': 98560, 'mul': 196608, 'sqrt': 128})
    >>> LayerNorm([5, 5]).output_shape((10, 5, 5))
    (10, 5, 5)
    """

    normalized_shape: Any = _shape_field()
    eps: float = real(1e-5, minimum=0)
    elementwise_affine: bool = flag(True)
    bias: bool = flag(True)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        return _trailing(self, x, self.normalized_shape)

    def cost(self, x: Any) -> Cost:
        shape = self.output_shape(x)
        n = prod(self.normalized_shape)
        elements = prod(shape)
        groups = prod(shape[: len(shape) - len(self.normalized_shape)])
        affine = self.elementwise_affine
        params = (2 * n if self.bias else n) if affine else 0
        ops = _affine(_stats_ops(groups, n), elements, affine, affine and self.bias)
        return Cost(params=as_count(params), ops=ops, weight_reads=as_count(params),
                    act_reads=elements, writes=elements)


@dataclass(frozen=True)
class LayerNorm2d(LayerNorm):
    """Channels-first layer normalisation, as torchvision ConvNeXt's ``LayerNorm2d`` (a
    ``torch.nn.LayerNorm`` subclass whose forward permutes ``(N, C, H, W)`` to channels-last,
    calls ``F.layer_norm`` over ``C`` and permutes back): input ``(C, *spatial)``, each
    position normalised over its ``C`` channels (Liu et al. 2022, "A ConvNet for the 2020s",
    section 2.6: LayerNorm in place of BatchNorm).

    Counts are `LayerNorm`'s with ``N = C`` and ``G = prod(spatial)`` groups; params ``2C``.
    Arguments are ``nn.LayerNorm``'s (``normalized_shape`` must be the one channel count;
    torchvision's ConvNeXt passes ``eps=1e-6``). The permutes are views (``F.layer_norm``'s
    internal ``contiguous()`` copy is not counted).

    References
    ==========
    .. [1] torchvision 0.29.1, ``torchvision/models/convnext.py``, ``LayerNorm2d``.

    >>> c = LayerNorm2d(96, eps=1e-6).cost((96, 56, 56))
    >>> c.params, c.ops == LayerNorm(96).cost((56, 56, 96)).ops
    (192, True)
    """

    eps: float = 1e-5

    def check(self) -> None:
        if len(self.normalized_shape) != 1:
            raise LayerSpecError(self.kind, f"normalized_shape (={fmt(self.normalized_shape)}) "
                                 "must be one channel count")

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, min_rank=1, layout="(C, *spatial)")
        self._channels(shape, self.normalized_shape[0])
        return shape

    def cost(self, x: Any) -> Cost:
        shape = self.output_shape(x)
        layer = LayerNorm(self.normalized_shape, self.eps, self.elementwise_affine, self.bias)
        return layer.cost((*shape[1:], shape[0]))


@dataclass(frozen=True)
class RMSNorm(Layer):
    """Root-mean-square normalisation, like ``torch.nn.RMSNorm``::

        y = x / sqrt(mean(x**2) + eps) * weight

    Counts per group of ``N = prod(normalized_shape)`` elements: ``N`` muls (squares), ``N - 1``
    adds (sum), 1 div (mean), 1 add (``+ eps``; ``eps=None`` means PyTorch's machine epsilon,
    still one add), 1 sqrt, ``N`` divs; then ``N`` muls if ``elementwise_affine``. So per group
    ``N`` adds, ``N`` (or ``2N``) muls, ``N + 1`` divs, 1 sqrt. params = ``N`` if affine.

    References
    ==========
    .. [1] Zhang & Sennrich, "Root Mean Square Layer Normalization", 2019,
       https://arxiv.org/abs/1910.07467.
    .. [2] PyTorch, ``torch.nn.RMSNorm`` documentation.

    >>> c = RMSNorm(4096).cost((10, 4096))
    >>> c.params, dict(c.ops)
    (4096, {'add': 40960, 'div': 40970, 'mul': 81920, 'sqrt': 10})
    """

    normalized_shape: Any = _shape_field()
    eps: Any = real(None, minimum=0, optional=True)
    elementwise_affine: bool = flag(True)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        return _trailing(self, x, self.normalized_shape)

    def cost(self, x: Any) -> Cost:
        shape = self.output_shape(x)
        n = prod(self.normalized_shape)
        elements = prod(shape)
        groups = prod(shape[: len(shape) - len(self.normalized_shape)])
        ops = {
            "mul": elements,
            "add": elements,  # (N - 1) + 1 per group
            "div": as_count(elements + groups),
            "sqrt": groups,
        }
        affine = self.elementwise_affine
        ops = _affine(ops, elements, affine, False)
        params = n if affine else 0
        return Cost(params=params, ops=ops, weight_reads=params, act_reads=elements,
                    writes=elements)


# -- GroupNorm ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class GroupNorm(Layer):
    """Group normalisation, like ``torch.nn.GroupNorm``: input ``(C, *)``; the channels are
    split into ``num_groups`` groups, each normalised over its channels and all spatial axes.

    Counts for ``E = C*prod(*)`` elements and groups of ``N = E/num_groups``: the statistics of
    ``num_groups`` groups of ``N`` (module docstring), then ``E`` muls and ``E`` adds (per-channel
    gamma and beta) if affine. params = ``2C`` if affine.

    References
    ==========
    .. [1] Wu & He, "Group Normalization", 2018, https://arxiv.org/abs/1803.08494.
    .. [2] PyTorch, ``torch.nn.GroupNorm`` documentation.

    >>> gn = GroupNorm(32, 256)
    >>> gn.cost((256, 14, 14)).params
    512
    >>> GroupNorm(4, 30)
    Traceback (most recent call last):
    ...
    layercalc.errors.LayerSpecError: GroupNorm: num_channels (=30) must be divisible by num_groups (=4).
    """

    num_groups: Dim = dim()
    num_channels: Dim = dim()
    eps: float = real(1e-5, minimum=0)
    affine: bool = flag(True)

    def check(self) -> None:
        require(divides(self.num_groups, self.num_channels), self.kind,
                f"num_channels (={self.num_channels}) must be divisible by num_groups "
                f"(={self.num_groups})")

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, min_rank=1)
        self._channels(shape, self.num_channels)
        per_group = exact_div(prod(shape), self.num_groups)
        require(ge(per_group, 2), self.kind,
                lambda: f"statistics need more than 1 value per group, got input shape "
                f"{fmt(shape)} with num_groups={self.num_groups} (PyTorch raises the same)",
                error=ShapeError)
        return shape

    def cost(self, x: Any) -> Cost:
        shape = self.output_shape(x)
        elements = prod(shape)
        n = exact_div(elements, self.num_groups)
        ops = _affine(_stats_ops(self.num_groups, n), elements, self.affine, self.affine)
        params = 2 * self.num_channels if self.affine else 0
        return Cost(params=params, ops=ops, weight_reads=params, act_reads=elements,
                    writes=elements)
