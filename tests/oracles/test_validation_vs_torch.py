"""Issue 14: every field validated as PyTorch validates it, checked on real ``torch.nn`` modules.

Each case builds ``torch.nn.<Name>(**kw)`` and runs its forward (eval mode, a zero batch of
one), and builds ``layercalc.<Name>(**kw)`` and asks for its output shape and cost, from the same
keyword dictionary:

* ``BOTH_REJECT``: PyTorch raises (at construction or in forward, any exception: a
  ``TypeError`` is how PyTorch rejects a value of the wrong type) and layercalc raises a
  `LayerCalcError`;
* ``BOTH_ACCEPT``: the boundary values PyTorch accepts, layercalc accepts too;
* ``STRICTER``: PyTorch accepts, layercalc deliberately rejects; each is stated in the layer's
  docstring (and in docs/input-validation.md), and this test keeps the list honest: if PyTorch
  starts rejecting one, it moves to ``BOTH_REJECT``.
"""

from __future__ import annotations

import warnings

import pytest

from oracle_support import require_torch

torch = require_torch()

import layercalc as lc  # noqa: E402

_LONG = {"Embedding"}  # layers whose input is integer indices
_SEQ = {"RNN", "LSTM", "GRU", "MultiheadAttention"}  # batch on axis 1 (batch_first=False)


def _torch_accepts(name, kw, shape):
    inputs = torch.zeros(1, *shape, dtype=torch.long if name in _LONG else torch.float32)
    if name in _SEQ:
        inputs = inputs.transpose(0, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            module = getattr(torch.nn, name)(**kw).eval()
            with torch.no_grad():
                if name == "MultiheadAttention":
                    module(inputs, inputs, inputs)
                else:
                    module(inputs)
        except Exception as e:  # noqa: BLE001 - any exception is PyTorch rejecting the case
            return False, f"{type(e).__name__}: {e}"
    return True, ""


def _layercalc_accepts(name, kw, shape):
    try:
        layer = getattr(lc, name)(**kw)
        layer.output_shape(shape)
        layer.cost(shape)
    except lc.LayerCalcError as e:
        return False, str(e)
    return True, ""


BOTH_REJECT = [
    # norms: eps and momentum types, eps sign (batch_norm checks eps >= 0)
    ("BatchNorm2d", dict(num_features=3, eps=-1.0), (3, 2, 2)),
    ("BatchNorm2d", dict(num_features=3, eps="a"), (3, 2, 2)),
    ("BatchNorm2d", dict(num_features=3, momentum="a"), (3, 2, 2)),
    ("BatchNorm1d", dict(num_features=3, eps=None), (3, 2)),
    ("LayerNorm", dict(normalized_shape=3, eps="a"), (2, 3)),
    ("GroupNorm", dict(num_groups=1, num_channels=3, eps="a"), (3, 2)),
    # activations: slopes must be numbers
    ("LeakyReLU", dict(negative_slope="a"), (3,)),
    ("ELU", dict(alpha="a"), (3,)),
    ("PReLU", dict(num_parameters=1, init="a"), (3,)),
    ("Softmax", dict(dim=1.0), (3,)),
    # dropout p in [0, 1] (nn.Dropout and nn.RNN check at construction)
    ("Dropout", dict(p=2), (3,)),
    ("Dropout", dict(p=-0.1), (3,)),
    ("Dropout", dict(p="a"), (3,)),
    ("Dropout1d", dict(p=1.5), (3, 4)),
    ("Dropout2d", dict(p=-1), (3, 4, 4)),
    ("RNN", dict(input_size=3, hidden_size=4, dropout=2.0), (5, 3)),
    ("LSTM", dict(input_size=3, hidden_size=4, dropout=-0.5), (5, 3)),
    ("GRU", dict(input_size=3, hidden_size=4, dropout="a"), (5, 3)),
    ("LSTM", dict(input_size=3, hidden_size=4, proj_size=-1), (5, 3)),
    ("LSTM", dict(input_size=3, hidden_size=4, proj_size=4), (5, 3)),
    # Embedding: padding_idx within [-num_embeddings, num_embeddings), types of the options
    ("Embedding", dict(num_embeddings=10, embedding_dim=3, padding_idx=10), (4,)),
    ("Embedding", dict(num_embeddings=10, embedding_dim=3, padding_idx=-11), (4,)),
    ("Embedding", dict(num_embeddings=10, embedding_dim=3, padding_idx=2.0), (4,)),
    ("Embedding", dict(num_embeddings=10, embedding_dim=3, padding_idx="2"), (4,)),
    ("Embedding", dict(num_embeddings=10, embedding_dim=3, max_norm="a"), (4,)),
    ("Embedding", dict(num_embeddings=10, embedding_dim=3, max_norm=1.0, norm_type="a"), (4,)),
    ("Embedding", dict(num_embeddings=10, embedding_dim=3, scale_grad_by_freq="a"), (4,)),
    ("Embedding", dict(num_embeddings=10, embedding_dim=3, sparse="a"), (4,)),
    # Upsample: align_corners only with the interpolating modes, and a bool
    ("Upsample", dict(scale_factor=2, align_corners=False), (1, 2)),
    ("Upsample", dict(scale_factor=2, mode="nearest", align_corners=True), (1, 2, 2)),
    ("Upsample", dict(scale_factor=2, mode="linear", align_corners="a"), (1, 2)),
    ("Upsample", dict(scale_factor=float("nan")), (1, 2)),
    # adaptive pooling: None keeps a size only in 2d and 3d
    ("AdaptiveAvgPool1d", dict(output_size=(None,)), (1, 4)),
    ("AdaptiveAvgPool1d", dict(output_size=None), (1, 4)),
    ("AdaptiveMaxPool1d", dict(output_size=(None,)), (1, 4)),
    ("AdaptiveAvgPool2d", dict(output_size=2.0), (1, 4, 4)),
    # padding value must be a number
    ("ConstantPad1d", dict(padding=1, value="a"), (1, 4)),
    # sizes are integers
    ("Conv2d", dict(in_channels=3, out_channels=4, kernel_size=2.0), (3, 5, 5)),
    ("Linear", dict(in_features=3.0, out_features=4), (3,)),
    ("Conv1d", dict(in_channels=3, out_channels=4, kernel_size="3"), (3, 5)),
    ("MaxPool2d", dict(kernel_size=3, padding=2, dilation=2), (1, 9, 9)),  # pad <= k/2
    # the two former strict xfails
    ("AvgPool3d", dict(kernel_size=3, padding=1), (1, 2, 5, 5)),
    ("InstanceNorm2d", dict(num_features=2), (2, 1, 1)),
]

BOTH_ACCEPT = [
    ("Embedding", dict(num_embeddings=10, embedding_dim=3, padding_idx=-10), (4,)),
    ("Embedding", dict(num_embeddings=10, embedding_dim=3, padding_idx=9), (4,)),
    ("Embedding", dict(num_embeddings=10, embedding_dim=3, max_norm=1.0, norm_type=1.0), (4,)),
    ("BatchNorm2d", dict(num_features=3, eps=0.0, momentum=None), (3, 2, 2)),
    ("BatchNorm2d", dict(num_features=3, momentum=2.0), (3, 2, 2)),  # range unchecked
    ("LeakyReLU", dict(negative_slope=float("inf")), (3,)),
    ("ConstantPad1d", dict(padding=1, value=float("nan")), (1, 4)),
    ("ConstantPad2d", dict(padding=1, value=float("-inf")), (1, 2, 2)),
    ("Dropout", dict(p=0), (3,)),
    ("Dropout", dict(p=1.0), (3,)),
    ("Upsample", dict(scale_factor=2, mode="linear", align_corners=True), (1, 2)),
    ("AdaptiveAvgPool2d", dict(output_size=(None, 2)), (1, 4, 4)),
    ("AvgPool3d", dict(kernel_size=3, padding=1), (1, 3, 3, 3)),
    ("GroupNorm", dict(num_groups=1, num_channels=2), (2, 1, 1)),
    ("RMSNorm", dict(normalized_shape=1), (1,)),
]

STRICTER = [
    # where layercalc is stricter than PyTorch, and the docstring that says so
    ("MultiheadAttention", dict(embed_dim=4, num_heads=2, dropout=2.0), (3, 4),
     "MultiheadAttention"),  # PyTorch checks dropout only when training
    ("LayerNorm", dict(normalized_shape=3, eps=-1.0), (2, 3), "norm"),  # sqrt of a negative
    ("InstanceNorm1d", dict(num_features=2, eps=-1e-5), (2, 4), "norm"),
    ("Upsample", dict(scale_factor=2, recompute_scale_factor="a"), (1, 2), "flag"),
    ("Conv2d", dict(in_channels=3, out_channels=4, kernel_size=True), (3, 5, 5), "as_dim"),
    ("Linear", dict(in_features=3, out_features=4, bias="no"), (3,), "flag"),
]


def _id(case):
    return f"{case[0]}-" + "-".join(f"{k}={v!r}" for k, v in case[1].items())


@pytest.mark.parametrize("name, kw, shape", BOTH_REJECT, ids=[_id(c) for c in BOTH_REJECT])
def test_issue14_both_reject(name, kw, shape):
    torch_ok, why = _torch_accepts(name, kw, shape)
    assert not torch_ok, f"PyTorch accepts {name}(**{kw}) on {shape}: move it to BOTH_ACCEPT"
    ok, _ = _layercalc_accepts(name, kw, shape)
    assert not ok, f"PyTorch rejects {name}(**{kw}) on {shape} ({why}); layercalc accepts it"


@pytest.mark.parametrize("name, kw, shape", BOTH_ACCEPT, ids=[_id(c) for c in BOTH_ACCEPT])
def test_issue14_both_accept(name, kw, shape):
    torch_ok, why = _torch_accepts(name, kw, shape)
    assert torch_ok, f"PyTorch rejects {name}(**{kw}) on {shape}: {why}"
    ok, err = _layercalc_accepts(name, kw, shape)
    assert ok, f"PyTorch accepts {name}(**{kw}) on {shape}; layercalc raises {err}"


@pytest.mark.parametrize("name, kw, shape, where", STRICTER, ids=[_id(c) for c in STRICTER])
def test_issue14_deliberately_stricter(name, kw, shape, where):
    torch_ok, why = _torch_accepts(name, kw, shape)
    assert torch_ok, f"PyTorch now rejects {name}(**{kw}) too ({why}): move it to BOTH_REJECT"
    ok, _ = _layercalc_accepts(name, kw, shape)
    assert not ok


def test_issue14_embedding_padding_idx_normalised_as_torch():
    """A negative padding_idx is stored as padding_idx + num_embeddings, as PyTorch does."""
    for i in (-1, -10, 0, 9):
        assert lc.Embedding(10, 3, padding_idx=i).padding_idx == \
            torch.nn.Embedding(10, 3, padding_idx=i).padding_idx
