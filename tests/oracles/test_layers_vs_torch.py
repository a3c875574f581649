"""Each layer family against the ``torch.nn`` module of the same name, on random small
configurations (Hypothesis).

Every example builds the layer twice from **one** keyword dictionary, ``torch.nn.<Name>(**kw)``
and ``layercalc.<Name>(**kw)`` (so argument names and meanings must match PyTorch's), runs
PyTorch's forward on a zero batch and compares:

* PyTorch accepts (construction and forward): layercalc must accept too, with the same output
  shape (batch removed), the same parameter count, and the same buffer count (BatchNorm /
  InstanceNorm running statistics; ``num_batches_tracked`` is a step counter and not counted);
* PyTorch rejects (any ``RuntimeError``/``ValueError``/``AssertionError``, at construction or
  in forward: a window that does not fit, padding over half the kernel, ``'same'`` with a
  stride, ``proj_size >= hidden_size``, ...): layercalc must raise a ``LayerCalcError``.

Families: Conv1d/2d/3d (stride, integer / ``'same'`` / ``'valid'`` padding, padding_mode,
dilation, groups, bias), ConvTranspose1d/2d/3d (output_padding, dilation, groups),
Max/AvgPool 1-3d (ceil_mode, padding, dilation, count_include_pad, divisor_override),
AdaptiveAvg/MaxPool 1-3d, RNN, LSTM (num_layers, bidirectional, proj_size, bias,
batch_first), GRU, MultiheadAttention (kdim, vdim, bias, add_bias_kv, add_zero_attn,
batch_first), Linear, Embedding, BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, LayerNorm,
GroupNorm, RMSNorm.
"""

from __future__ import annotations

import os
import warnings

import pytest
from hypothesis import assume, event, given, settings
from hypothesis.control import currently_in_test_context
from hypothesis import strategies as st

from oracle_support import require_torch

torch = require_torch()

import layercalc as lc  # noqa: E402
from layercalc import LayerCalcError  # noqa: E402

#: 40 examples per test keeps the file under ten seconds; set LAYERCALC_ORACLE_EXAMPLES for a
#: deeper search (e.g. 2000).
EXAMPLES = settings(max_examples=int(os.environ.get("LAYERCALC_ORACLE_EXAMPLES", "40")))
TORCH_REJECTS = (RuntimeError, ValueError, AssertionError)


# -- the comparison ------------------------------------------------------------------------
def _torch_outcome(name, kw, inputs, batch_axis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = getattr(torch.nn, name)(**kw).eval()
        with torch.no_grad():
            out = module(*inputs)
    if isinstance(out, tuple):  # RNNs: (output, h_n); MHA: (output, weights); return_indices
        out = out[0]
    shape = list(out.shape)
    del shape[batch_axis]
    params = sum(p.numel() for p in module.parameters())
    buffers = sum(b.numel() for n, b in module.named_buffers()
                  if not n.endswith("num_batches_tracked"))
    return tuple(shape), params, buffers


def _lc_outcome(name, kw, shapes):
    layer = getattr(lc, name)(**kw)
    y = layer.output_shape(*shapes)
    cost = layer.cost(*shapes)
    return tuple(y), cost.params, cost.buffers


def _event(label):
    if currently_in_test_context():  # test_known_cases calls check() outside Hypothesis
        event(label)


def check(name, kw, shapes, inputs=None, batch_axis=0):
    """Compare ``torch.nn.<name>(**kw)`` on `inputs` (default: zero tensors of `shapes` with a
    batch of one in front) with ``layercalc.<name>(**kw)`` on `shapes` (batch excluded)."""
    if inputs is None:
        inputs = [torch.zeros(1, *s) for s in shapes]
    where = f"{name}(**{kw!r}) on input shape(s) {shapes}"
    try:
        expected = _torch_outcome(name, kw, inputs, batch_axis)
        if 0 in expected[0]:
            # PyTorch returns an empty tensor (a transposed convolution whose padding crops
            # everything); layercalc requires every size >= 1 and raises: both produce nothing.
            raise ValueError(f"empty output {expected[0]}")
    except TORCH_REJECTS as e:
        _event("both reject")
        try:
            got = _lc_outcome(name, kw, shapes)
        except LayerCalcError:
            return
        pytest.fail(f"PyTorch rejects {where} ({type(e).__name__}: {e}); layercalc accepts it: "
                    f"(shape, params, buffers) = {got}")
    _event("both accept")
    try:
        got = _lc_outcome(name, kw, shapes)
    except LayerCalcError as e:
        pytest.fail(f"PyTorch accepts {where} -> (shape, params, buffers) = {expected}; "
                    f"layercalc raises {type(e).__name__}: {e}")
    assert got == expected, f"{where}: (shape, params, buffers) layercalc {got}, PyTorch {expected}"


def per_axis(values, ndim):
    """One value (broadcast) or an ``ndim``-tuple, as PyTorch accepts either."""
    return st.one_of(values, st.tuples(*[values] * ndim))


# -- convolution ---------------------------------------------------------------------------
@st.composite
def conv_kwargs(draw, ndim):
    g = draw(st.integers(1, 3))
    kw = dict(
        in_channels=g * draw(st.integers(1, 3)),
        out_channels=g * draw(st.integers(1, 3)),
        kernel_size=draw(per_axis(st.integers(1, 4), ndim)),
        stride=draw(st.one_of(st.just(1), per_axis(st.integers(1, 3), ndim))),
        padding=draw(st.one_of(st.sampled_from(["same", "valid"]),
                               per_axis(st.integers(0, 3), ndim))),
        dilation=draw(per_axis(st.integers(1, 3), ndim)),
        groups=g,
        bias=draw(st.booleans()),
        padding_mode=draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate",
                                           "circular"])),
    )
    return kw


def spatial(ndim, lo=1, hi=None):
    hi = hi or {1: 12, 2: 10, 3: 6}[ndim]
    return st.tuples(*[st.integers(lo, hi)] * ndim)


def _pads(kw, ndim):
    """Per-axis (left, right) padding PyTorch applies for `kw`."""
    k, d, p = (v if isinstance(v, tuple) else (v,) * ndim
               for v in (kw["kernel_size"], kw["dilation"], kw["padding"]))
    if kw["padding"] == "same":
        return [(t // 2, t - t // 2) for t in (di * (ki - 1) for ki, di in zip(k, d))]
    if kw["padding"] == "valid":
        return [(0, 0)] * ndim
    return [(pi, pi) for pi in p]


@pytest.mark.parametrize("ndim", [1, 2, 3])
@EXAMPLES
@given(data=st.data())
def test_conv(ndim, data):
    kw = data.draw(conv_kwargs(ndim), "kwargs")
    size = data.draw(spatial(ndim), "spatial")
    check(f"Conv{ndim}d", kw, [(kw["in_channels"], *size)])


@pytest.mark.parametrize("mode, n, p", [("reflect", 2, 2), ("reflect", 1, 1),
                                        ("circular", 2, 3)])
def test_padding_mode_size_check(mode, n, p):
    check("Conv1d", dict(in_channels=1, out_channels=1, kernel_size=1, padding=p,
                         padding_mode=mode), [(1, n)])


@st.composite
def conv_transpose_kwargs(draw, ndim):
    g = draw(st.integers(1, 3))
    return dict(
        in_channels=g * draw(st.integers(1, 3)),
        out_channels=g * draw(st.integers(1, 3)),
        kernel_size=draw(per_axis(st.integers(1, 4), ndim)),
        stride=draw(per_axis(st.integers(1, 3), ndim)),
        padding=draw(per_axis(st.integers(0, 3), ndim)),
        output_padding=draw(per_axis(st.integers(0, 2), ndim)),
        groups=g,
        bias=draw(st.booleans()),
        dilation=draw(per_axis(st.integers(1, 3), ndim)),
    )


@pytest.mark.parametrize("ndim", [1, 2, 3])
@EXAMPLES
@given(data=st.data())
def test_conv_transpose(ndim, data):
    kw = data.draw(conv_transpose_kwargs(ndim), "kwargs")
    size = data.draw(spatial(ndim, hi={1: 8, 2: 6, 3: 4}[ndim]), "spatial")
    check(f"ConvTranspose{ndim}d", kw, [(kw["in_channels"], *size)])


# -- pooling -------------------------------------------------------------------------------
@pytest.mark.parametrize("ndim", [1, 2, 3])
@EXAMPLES
@given(data=st.data())
def test_max_pool(ndim, data):
    kw = dict(
        kernel_size=data.draw(per_axis(st.integers(1, 4 if ndim < 3 else 3), ndim),
                              "kernel_size"),
        stride=data.draw(st.one_of(st.none(), per_axis(st.integers(1, 3), ndim)), "stride"),
        padding=data.draw(per_axis(st.integers(0, 2), ndim), "padding"),
        dilation=data.draw(per_axis(st.integers(1, 3), ndim), "dilation"),
        return_indices=data.draw(st.booleans(), "return_indices"),
        ceil_mode=data.draw(st.booleans(), "ceil_mode"),
    )
    size = data.draw(spatial(ndim), "spatial")
    check(f"MaxPool{ndim}d", kw, [(data.draw(st.integers(1, 3), "C"), *size)])


def avg_pool3d_input_smaller_than_kernel(kw, size):
    """PyTorch's avg_pool3d (only it) requires the *unpadded* input to be at least the kernel
    along every axis; layercalc does not (see test_avg_pool3d_input_size_check)."""
    k = kw["kernel_size"] if isinstance(kw["kernel_size"], tuple) else (kw["kernel_size"],) * 3
    return len(size) == 3 and any(n < ki for n, ki in zip(size, k))


@pytest.mark.parametrize("kw, shape", [
    (dict(kernel_size=2, ceil_mode=True), (1, 1, 1, 1)),
    (dict(kernel_size=3, padding=1), (1, 2, 5, 5)),
    (dict(kernel_size=3, padding=1), (1, 3, 3, 3)),  # the smallest input it accepts
])
def test_issue14_avg_pool3d_input_size_check(kw, shape):
    """PyTorch's AvgPool3d rejects an input smaller than the kernel along any axis even when
    padding or ceil_mode would give an output ('input image ... smaller than kernel size');
    layercalc reproduces it (was a strict xfail)."""
    check("AvgPool3d", kw, [shape])


@pytest.mark.parametrize("ndim", [1, 2, 3])
@EXAMPLES
@given(data=st.data())
def test_avg_pool(ndim, data):
    kw = dict(
        kernel_size=data.draw(per_axis(st.integers(1, 4 if ndim < 3 else 3), ndim),
                              "kernel_size"),
        stride=data.draw(st.one_of(st.none(), per_axis(st.integers(1, 3), ndim)), "stride"),
        padding=data.draw(per_axis(st.integers(0, 2), ndim), "padding"),
        ceil_mode=data.draw(st.booleans(), "ceil_mode"),
        count_include_pad=data.draw(st.booleans(), "count_include_pad"),
    )
    if ndim > 1:  # AvgPool1d has no divisor_override
        kw["divisor_override"] = data.draw(st.one_of(st.none(), st.integers(1, 3)),
                                           "divisor_override")
    size = data.draw(spatial(ndim), "spatial")
    assume(not avg_pool3d_input_smaller_than_kernel(kw, size))
    check(f"AvgPool{ndim}d", kw, [(data.draw(st.integers(1, 3), "C"), *size)])


@pytest.mark.parametrize("kind", ["Avg", "Max"])
@pytest.mark.parametrize("ndim", [1, 2, 3])
@EXAMPLES
@given(data=st.data())
def test_adaptive_pool(kind, ndim, data):
    size_or_none = st.one_of(st.integers(1, 7), st.none()) if ndim > 1 else st.integers(1, 7)
    kw = dict(output_size=data.draw(st.one_of(st.integers(1, 7),
                                              st.tuples(*[size_or_none] * ndim)), "output_size"))
    if kind == "Max":
        kw["return_indices"] = data.draw(st.booleans(), "return_indices")
    size = data.draw(spatial(ndim), "spatial")
    check(f"Adaptive{kind}Pool{ndim}d", kw, [(data.draw(st.integers(1, 3), "C"), *size)])


@pytest.mark.parametrize("name, kw, shape", [
    # PyTorch: "pad should be at most half of effective kernel size"
    ("MaxPool2d", dict(kernel_size=3, padding=2), (1, 8, 8)),
    ("AvgPool1d", dict(kernel_size=2, padding=2), (1, 8)),
    # the window does not fit: output size 0
    ("MaxPool2d", dict(kernel_size=3, stride=2), (1, 2, 8)),
    ("AvgPool3d", dict(kernel_size=4), (1, 3, 8, 8)),
    ("MaxPool1d", dict(kernel_size=2, dilation=4), (1, 4)),
    # ceil_mode: the last window would start in the right padding and is dropped
    ("MaxPool2d", dict(kernel_size=2, stride=2, padding=1, ceil_mode=True), (1, 5, 6)),
    ("AvgPool2d", dict(kernel_size=3, stride=2, ceil_mode=True), (1, 6, 7)),
    ("MaxPool1d", dict(kernel_size=3, stride=3, ceil_mode=True), (1, 2)),
    # convolutions: window too large, 'same' with a stride, groups not dividing channels
    ("Conv2d", dict(in_channels=2, out_channels=2, kernel_size=5), (2, 4, 9)),
    ("Conv1d", dict(in_channels=2, out_channels=2, kernel_size=3, stride=2, padding="same"),
     (2, 9)),
    ("Conv2d", dict(in_channels=3, out_channels=4, kernel_size=1, groups=2), (3, 4, 4)),
    ("ConvTranspose2d", dict(in_channels=2, out_channels=2, kernel_size=2, stride=2,
                             output_padding=2), (2, 3, 3)),
    ("ConvTranspose1d", dict(in_channels=1, out_channels=1, kernel_size=1, padding=2), (1, 2)),
])
def test_known_cases(name, kw, shape):
    check(name, kw, [shape])


# -- recurrent -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@EXAMPLES
@given(data=st.data())
def test_recurrent(name, data):
    hidden = data.draw(st.integers(1, 6), "hidden_size")
    kw = dict(
        input_size=data.draw(st.integers(1, 6), "input_size"),
        hidden_size=hidden,
        num_layers=data.draw(st.integers(1, 3), "num_layers"),
        bias=data.draw(st.booleans(), "bias"),
        batch_first=data.draw(st.booleans(), "batch_first"),
        dropout=data.draw(st.sampled_from([0.0, 0.25]), "dropout"),
        bidirectional=data.draw(st.booleans(), "bidirectional"),
    )
    if name == "LSTM":  # proj_size >= hidden_size is rejected by both
        kw["proj_size"] = data.draw(st.one_of(st.just(0), st.integers(0, hidden + 1)),
                                    "proj_size")
    if name == "RNN":
        kw["nonlinearity"] = data.draw(st.sampled_from(["tanh", "relu"]), "nonlinearity")
    t = data.draw(st.integers(1, 5), "T")
    n = data.draw(st.integers(1, 2), "N")
    x = (torch.zeros(n, t, kw["input_size"]) if kw["batch_first"]
         else torch.zeros(t, n, kw["input_size"]))
    check(name, kw, [(t, kw["input_size"])], [x], batch_axis=0 if kw["batch_first"] else 1)


# -- attention -----------------------------------------------------------------------------
@EXAMPLES
@given(data=st.data())
def test_multihead_attention(data):
    heads = data.draw(st.integers(1, 4), "num_heads")
    # mostly divisible (as PyTorch requires); sometimes not, which both must reject
    embed = data.draw(st.one_of(st.integers(1, 4).map(lambda d: d * heads),
                                st.integers(1, 12)), "embed_dim")
    kw = dict(
        embed_dim=embed,
        num_heads=heads,
        bias=data.draw(st.booleans(), "bias"),
        add_bias_kv=data.draw(st.booleans(), "add_bias_kv"),
        add_zero_attn=data.draw(st.booleans(), "add_zero_attn"),
        kdim=data.draw(st.one_of(st.none(), st.integers(1, 6)), "kdim"),
        vdim=data.draw(st.one_of(st.none(), st.integers(1, 6)), "vdim"),
        batch_first=data.draw(st.booleans(), "batch_first"),
    )
    length = data.draw(st.integers(1, 5), "L")
    source = data.draw(st.integers(1, 5), "S")
    n = data.draw(st.integers(1, 2), "N")
    shapes = [(length, embed), (source, kw["kdim"] or embed), (source, kw["vdim"] or embed)]
    if kw["batch_first"]:
        inputs = [torch.zeros(n, a, b) for a, b in shapes]
    else:
        inputs = [torch.zeros(a, n, b) for a, b in shapes]
    check("MultiheadAttention", kw, shapes, inputs, batch_axis=0 if kw["batch_first"] else 1)


def test_multihead_attention_self():
    """Self-attention: layercalc's key and value default to the query."""
    kw = dict(embed_dim=8, num_heads=2, add_bias_kv=True)
    m = torch.nn.MultiheadAttention(**kw)
    x = torch.zeros(5, 1, 8)
    y = m(x, x, x)[0]
    layer = lc.MultiheadAttention(**kw)
    assert layer.output_shape((5, 8)) == (y.shape[0], y.shape[2])
    assert layer.cost((5, 8)).params == sum(p.numel() for p in m.parameters())


# -- linear, embedding, normalisation -----------------------------------------------------
lead = st.lists(st.integers(1, 4), max_size=2).map(tuple)


@EXAMPLES
@given(i=st.integers(1, 8), o=st.integers(1, 8), bias=st.booleans(), lead=lead)
def test_linear(i, o, bias, lead):
    check("Linear", dict(in_features=i, out_features=o, bias=bias), [(*lead, i)])


@EXAMPLES
@given(data=st.data())
def test_embedding(data):
    num = data.draw(st.integers(1, 10), "num_embeddings")
    kw = dict(num_embeddings=num, embedding_dim=data.draw(st.integers(1, 6), "embedding_dim"),
              padding_idx=data.draw(st.one_of(st.none(), st.integers(0, num - 1)),
                                    "padding_idx"))
    shape = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), "shape")
    check("Embedding", kw, [shape], [torch.zeros(1, *shape, dtype=torch.long)])


def single_value_statistics(name, kw, shape):
    """PyTorch refuses to compute normalisation statistics from one value per group (batch
    statistics of BatchNorm with track_running_stats=False, InstanceNorm's per-channel
    statistics, GroupNorm's per-group ones); layercalc counts them (see
    test_single_value_statistics). Batch of one sample here."""
    c, size = shape[0], shape[1:]
    n = 1
    for v in size:
        n *= v
    if name.startswith(("BatchNorm", "InstanceNorm")):
        return not kw["track_running_stats"] and n == 1
    if name == "GroupNorm":
        return c // kw["num_groups"] * n == 1
    return False


@pytest.mark.parametrize("name, kw, shape", [
    ("BatchNorm2d", dict(num_features=3, track_running_stats=False), (3, 1, 1)),
    ("BatchNorm1d", dict(num_features=4, track_running_stats=False), (4,)),
    ("InstanceNorm1d", dict(num_features=2), (2, 1)),
    ("GroupNorm", dict(num_groups=2, num_channels=2), (2, 1, 1)),
    ("BatchNorm2d", dict(num_features=3, track_running_stats=False), (3, 1, 2)),  # accepted
    ("InstanceNorm1d", dict(num_features=2, track_running_stats=True), (2, 1)),  # running
    ("GroupNorm", dict(num_groups=1, num_channels=2), (2, 1, 1)),  # 2 values per group
])
def test_issue14_single_value_statistics(name, kw, shape):
    """PyTorch raises ValueError ('Expected more than 1 value per channel' / 'more than 1
    spatial element') when statistics come from a single value, for a batch of one sample;
    layercalc reproduces it (was a strict xfail). BatchNorm and GroupNorm depend on the batch
    in PyTorch; layercalc's per-sample count is that of one sample (norm.py docstring)."""
    check(name, kw, [shape])


@pytest.mark.parametrize("name, ndim", [
    ("BatchNorm1d", 0), ("BatchNorm1d", 1), ("BatchNorm2d", 2), ("BatchNorm3d", 3),
    ("InstanceNorm1d", 1), ("InstanceNorm2d", 2), ("InstanceNorm3d", 3),
])
@EXAMPLES
@given(data=st.data())
def test_channel_norm(name, ndim, data):
    c = data.draw(st.integers(1, 6), "num_features")
    kw = dict(num_features=c, affine=data.draw(st.booleans(), "affine"),
              track_running_stats=data.draw(st.booleans(), "track_running_stats"))
    size = data.draw(st.tuples(*[st.integers(1, 5)] * ndim), "spatial")
    assume(not single_value_statistics(name, kw, (c, *size)))
    check(name, kw, [(c, *size)])


@EXAMPLES
@given(data=st.data())
def test_layer_norm(data):
    normalized = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
                           "normalized_shape")
    kw = dict(normalized_shape=normalized if len(normalized) > 1 or data.draw(st.booleans())
              else normalized[0],
              elementwise_affine=data.draw(st.booleans(), "elementwise_affine"),
              bias=data.draw(st.booleans(), "bias"))
    check("LayerNorm", kw, [(*data.draw(lead, "lead"), *normalized)])


@EXAMPLES
@given(data=st.data())
def test_rms_norm(data):
    normalized = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=2).map(tuple),
                           "normalized_shape")
    kw = dict(normalized_shape=normalized,
              elementwise_affine=data.draw(st.booleans(), "elementwise_affine"))
    check("RMSNorm", kw, [(*data.draw(lead, "lead"), *normalized)])


@EXAMPLES
@given(data=st.data())
def test_group_norm(data):
    groups = data.draw(st.integers(1, 4), "num_groups")
    channels = data.draw(st.one_of(st.integers(1, 3).map(lambda m: m * groups),
                                   st.integers(1, 8)), "num_channels")
    kw = dict(num_groups=groups, num_channels=channels,
              affine=data.draw(st.booleans(), "affine"))
    size = data.draw(st.lists(st.integers(1, 4), max_size=2).map(tuple), "spatial")
    assume(channels % groups or not single_value_statistics("GroupNorm", kw, (channels, *size)))
    check("GroupNorm", kw, [(channels, *size)])
