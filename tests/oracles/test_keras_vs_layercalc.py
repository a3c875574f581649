"""Keras oracle (keras 3 on its torch backend): TensorFlow/Keras ``padding="same"`` and the
Keras / TF-slim MobileNet variants, on real Keras objects.

* single layers (Conv2D, DepthwiseConv2D, MaxPooling2D, AveragePooling2D with
  ``padding="same"``): output shapes equal layercalc's ``padding_rule="tf"``, and the values
  of a ramp input show where the padding goes (``tf_same_padding``: the odd one at the end) and
  that pools never read it;
* ``keras.applications.MobileNet`` and ``MobileNetV2`` (``weights=None``) against
  ``zoo.mobilenet_v1(variant="keras")`` and ``zoo.mobilenet_v2(variant="tf")``: every layer's
  output shape and parameter count (Keras counts BatchNorm's moving statistics as parameters:
  layercalc's params + buffers), on BY J's 126x224 frames.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

from oracle_support import require_torch

require_torch()
os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="keras not installed: pip install -e '.[oracle]'")
if keras.backend.backend() != "torch":  # pragma: no cover - depends on the environment
    pytest.skip(f"keras runs on {keras.backend.backend()!r}; these tests need KERAS_BACKEND=torch",
                allow_module_level=True)

import layercalc as lc  # noqa: E402
from layercalc import analyze, zoo  # noqa: E402
from layercalc.shapes import tf_same_padding  # noqa: E402

CASES = [  # (H, W, kernel, stride, dilation): Keras forbids dilation > 1 with stride > 1
    (5, 7, 3, 2, 1), (6, 6, 3, 2, 1), (7, 9, 5, 3, 1), (8, 5, 4, 2, 1), (9, 9, 3, 1, 2),
    (4, 4, 1, 2, 1), (5, 5, 2, 4, 1), (63, 112, 3, 2, 1), (31, 56, 3, 2, 1), (7, 7, 2, 1, 3),
]


def _run(layer, x: np.ndarray) -> np.ndarray:
    return keras.ops.convert_to_numpy(layer(x[None]))[0]


def _ramp(h: int, w: int, c: int) -> np.ndarray:
    return (np.arange(h * w * c, dtype=np.float32).reshape(h, w, c) % 97) + 1


def _padded(x: np.ndarray, k: int, s: int, d: int, fill: float | None) -> np.ndarray:
    """`x` padded by tf_same_padding with `fill` (None: the edge value repeated)."""
    (t, b), (l, r) = tf_same_padding(x.shape[0], k, s, d), tf_same_padding(x.shape[1], k, s, d)
    if fill is None:
        return np.pad(x, ((t, b), (l, r), (0, 0)), mode="edge")
    return np.pad(x, ((t, b), (l, r), (0, 0)), constant_values=fill)


def _windows(xp: np.ndarray, k: int, s: int, d: int, oh: int, ow: int):
    for i in range(oh):
        for j in range(ow):
            yield i, j, xp[i * s: i * s + d * (k - 1) + 1: d, j * s: j * s + d * (k - 1) + 1: d]


@pytest.mark.parametrize("h, w, k, s, d", CASES)
def test_conv_same(h, w, k, s, d):
    """Conv2D and DepthwiseConv2D 'same': shape as layercalc, values as zero padding placed by
    tf_same_padding (all-ones kernel: each output is its window's sum)."""
    c = 2
    x = _ramp(h, w, c)
    ours = lc.Conv2d(c, 3, k, s, "same", d, padding_rule="tf")
    conv = keras.layers.Conv2D(3, k, s, padding="same", dilation_rate=d, use_bias=False,
                               kernel_initializer="ones")
    y = _run(conv, x)
    assert (y.shape[2], *y.shape[:2]) == ours.output_shape((c, h, w))
    xp = _padded(x, k, s, d, 0.0)
    for i, j, win in _windows(xp, k, s, d, y.shape[0], y.shape[1]):
        assert y[i, j, 0] == win.sum()
    dw = keras.layers.DepthwiseConv2D(k, s, padding="same", dilation_rate=d, use_bias=False,
                                      depthwise_initializer="ones")
    yd = _run(dw, x)
    ours_dw = lc.Conv2d(c, c, k, s, "same", d, groups=c, bias=False, padding_rule="tf")
    assert (yd.shape[2], *yd.shape[:2]) == ours_dw.output_shape((c, h, w))
    assert dw.count_params() == analyze(ours_dw, (c, h, w)).total.params


@pytest.mark.parametrize("h, w, k, s, d", [c for c in CASES if c[4] == 1])
def test_pools_same(h, w, k, s, d):
    """MaxPooling2D / AveragePooling2D 'same': shapes as layercalc, and the values of a ramp
    show the padding where tf_same_padding puts it. Max pooling never reads it. Average
    pooling on Keras's torch backend averages the input elements only when the padding is
    symmetric; when it is not, the backend pads by repeating the edge
    (keras/src/backend/torch/nn.py ``_apply_same_padding``, mode "replicate"), where
    TensorFlow, and layercalc's count, average the input elements only."""
    x = _ramp(h, w, 1)
    (t, b), (l, r) = tf_same_padding(h, k, s), tf_same_padding(w, k, s)
    symmetric = t == b and l == r
    for kl, ours, fill, fn in (
            (keras.layers.MaxPooling2D(k, s, padding="same"),
             lc.MaxPool2d(k, s, padding="same", padding_rule="tf"), -np.inf, np.max),
            (keras.layers.AveragePooling2D(k, s, padding="same"),
             lc.AvgPool2d(k, s, padding="same", padding_rule="tf", count_include_pad=False),
             np.nan if symmetric else None, np.nanmean)):
        y = _run(kl, x)
        assert (y.shape[2], *y.shape[:2]) == ours.output_shape((1, h, w))
        xp = _padded(x, k, s, 1, fill)
        for i, j, win in _windows(xp, k, s, 1, y.shape[0], y.shape[1]):
            assert np.isclose(y[i, j, 0], fn(win), rtol=1e-6)


# -- the MobileNets ------------------------------------------------------------------------------
def _chw(shape) -> tuple:
    *hw, c = shape[1:]
    return (c, *hw)


def _layers(model):
    return [lay for lay in model.layers if type(lay).__name__ != "InputLayer"]


def _compare(klayers, report, path_of):
    rows = {}
    for row in report.rows:
        rows[row.path] = row
    checked = 0
    for lay in klayers:
        path = path_of(lay.name)
        if path is None:
            continue
        row = rows[path]
        assert _chw(lay.output.shape) == row.output_shape, lay.name
        assert lay.count_params() == row.cost.params + row.cost.buffers, lay.name
        checked += 1
    return checked


def test_mobilenet_v1_keras_126x224():
    """keras.applications.MobileNet at 126x224: every layer by name (conv1, conv_dw_N, ...,
    conv_pad_N), shape and parameters; floor(H/2) after each padded stride-2 layer."""
    k = keras.applications.MobileNet(weights=None, include_top=False, input_shape=(126, 224, 3))
    r = analyze(zoo.mobilenet_v1(variant="keras"), (3, 126, 224), up_to="conv_pw_13_relu")
    n = _compare(_layers(k), r, lambda name: name)
    assert n == len(_layers(k)) == len(r.rows) == 85
    assert k.count_params() == r.total.params + r.total.buffers
    cut = analyze(zoo.mobilenet_v1(variant="keras"), (3, 126, 224), up_to="conv_pw_11_relu")
    assert cut.total.macs == 254_761_472 and cut.output_shape == _chw(
        k.get_layer("conv_pw_11_relu").output.shape)


def test_mobilenet_v1_keras_head_224():
    """The classifier head (include_top=True): global pool (keepdims), dropout, conv_preds,
    reshape_2, predictions; the whole model's parameter count."""
    k = keras.applications.MobileNet(weights=None, input_shape=(224, 224, 3))
    r = analyze(zoo.mobilenet_v1(variant="keras"), (3, 224, 224))
    named = {lay.name: lay for lay in _layers(k)}
    for name in ("conv_preds", "reshape_2", "predictions", "dropout"):
        row = next(row for row in r.rows if row.path == name)
        got = named[name].output.shape
        assert (_chw(got) if len(got) == 4 else tuple(got[1:])) == row.output_shape, name
    assert k.count_params() == r.total.params + r.total.buffers == 4_253_864


_V2_OPS = {"expand": "expand.Conv2D", "expand_BN": "expand.BatchNorm",
           "expand_relu": "expand.Relu6", "depthwise": "depthwise.depthwise",
           "depthwise_BN": "depthwise.BatchNorm", "depthwise_relu": "depthwise.Relu6",
           "project": "project.Conv2D", "project_BN": "project.BatchNorm", "add": "add"}
_V2_FIXED = {"Conv1": "Conv.Conv2D", "bn_Conv1": "Conv.BatchNorm", "Conv1_relu": "Conv.Relu6",
             "Conv_1": "Conv_1.Conv2D", "Conv_1_bn": "Conv_1.BatchNorm",
             "out_relu": "Conv_1.Relu6"}


def _v2_path(name: str) -> str | None:
    """Keras's MobileNetV2 name -> TF-slim scope path (block_N_* is expanded_conv_N; the
    first block is expanded_conv; block_N_pad is the correct_pad ZeroPadding2D that 'same'
    replaces)."""
    if name in _V2_FIXED:
        return _V2_FIXED[name]
    m = re.fullmatch(r"block_(\d+)_(\w+)", name)
    if m:
        return None if m.group(2) == "pad" else f"expanded_conv_{m.group(1)}.{_V2_OPS[m.group(2)]}"
    m = re.fullmatch(r"expanded_conv_(\w+)", name)
    return f"expanded_conv.{_V2_OPS[m.group(1)]}"


@pytest.mark.parametrize("alpha", [1.0, 1.4])
def test_mobilenet_v2_tf_126x224(alpha):
    """keras.applications.MobileNetV2(alpha) at 126x224 against the TF-slim-named variant:
    every conv, BatchNorm, ReLU6 and add; Keras's correct_pad + 'valid' is TensorFlow 'same'."""
    k = keras.applications.MobileNetV2(weights=None, include_top=False, alpha=alpha,
                                       input_shape=(126, 224, 3))
    r = analyze(zoo.mobilenet_v2(width_mult=alpha, variant="tf"), (3, 126, 224),
                up_to="Conv_1")
    n = _compare(_layers(k), r, _v2_path)
    pads = sum(1 for lay in _layers(k) if lay.name.endswith("_pad"))
    assert n == len(_layers(k)) - pads == len(r.rows)
    assert k.count_params() == r.total.params + r.total.buffers
    cut = analyze(zoo.mobilenet_v2(width_mult=alpha, variant="tf"), (3, 126, 224),
                  up_to="expanded_conv_12")
    assert cut.output_shape == _chw(k.get_layer("block_12_add").output.shape)
    assert cut.total.macs == {1.0: 119_562_240, 1.4: 230_694_912}[alpha]
