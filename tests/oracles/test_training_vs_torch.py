"""`layercalc.training` against real autograd (torch 2.13, CPU).

For each twin small enough to run a training step here, at batch 1 and 4:

* ``training(...).flops("flopcountermode")`` equals ``FlopCounterMode``'s total over the
  forward and the backward of ``y.sum()``;
* ``training(..., activations="pytorch-cpu").memory.activations`` equals the bytes of the
  storages ``saved_tensors_hooks`` sees during the forward (each storage once; parameters and
  buffers excluded: model state, counted as weights);
* optimizer states equal a real ``torch.optim`` optimizer's after one step.

Where a twin differs from the layercalc model it is compared with, the difference is computed
by name (efficientnet's stochastic depth, the tiny Llama's per-call RoPE tables and repeated
KV heads), never absorbed by a tolerance.
"""

from __future__ import annotations

import pytest

from oracle_support import require_torch, zoo_builder

torch = require_torch()

import torch_models as tm  # noqa: E402
import torch_training as tr  # noqa: E402
import torch_transformers as tt  # noqa: E402
from torch import nn  # noqa: E402

import layercalc as lc  # noqa: E402

BATCHES = [1, 4]


def _step(report, **kw):
    return lc.training(report, activations="pytorch-cpu", **kw)


# -- convolutional nets ---------------------------------------------------------------------------
CONV = ["resnet18", "mobilenet_v2", "mobilenet_v3_small"]
#: Small resolutions: BatchNorm in training needs more than one value per channel, so the
#: 1x1 last stage of a 32x32 input is fine at batch 4, not at batch 1.
RES = {1: 64, 4: 32}


@pytest.mark.parametrize("name", CONV)
@pytest.mark.parametrize("batch", BATCHES)
def test_conv_net(name, batch):
    res = RES[batch]
    torch.manual_seed(0)
    flops, saved = tr.measure(tm.MODEL_BUILDERS[name](), torch.randn(batch, 3, res, res))
    t = _step(lc.analyze(zoo_builder(name)(), (3, res, res), batch=batch))
    assert t.flops("flopcountermode") == flops
    assert t.memory.activations == saved
    assert not t.not_counted


@pytest.mark.parametrize("batch", BATCHES)
def test_efficientnet_b0_with_stochastic_depth(batch):
    """torchvision's StochasticDepth(p, "row") saves one noise value per sample (fp32) in each
    block with p > 0, in training; the zoo's StochasticDepth rows say so, so the saved bytes
    and the FLOPs equal autograd's (FlopCounterMode counts no elementwise work)."""
    torch.manual_seed(0)
    twin = tm.MODEL_BUILDERS["efficientnet_b0"]()
    res = RES[batch]
    flops, saved = tr.measure(twin, torch.randn(batch, 3, res, res))
    sd = [m.stochastic_depth for m in twin.modules()  # it runs only before a residual add
          if getattr(m, "use_res_connect", False) and m.stochastic_depth.p > 0]
    assert sd  # the model has blocks whose noise is saved
    t = _step(lc.analyze(lc.zoo.efficientnet_b0(), (3, res, res), batch=batch))
    assert t.flops("flopcountermode") == flops
    assert t.memory.activations == saved
    assert not t.not_counted


# -- transformers ----------------------------------------------------------------------------------
ENCODERS = [dict(dropout=0.0), dict(dropout=0.1), dict(dropout=0.0, norm_first=True),
            dict(dropout=0.1, norm_first=True, activation="gelu")]


@pytest.mark.parametrize("kw", ENCODERS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
@pytest.mark.parametrize("batch", BATCHES)
def test_transformer_encoder(kw, batch):
    """nn.TransformerEncoder in training: without dropout CPU runs the flash kernel (not
    counted by FlopCounterMode, saves the log-sum-exp); with dropout the math path (two bmm,
    the probabilities and a dropout mask in the input dtype)."""
    E, L = 32, 10
    torch.manual_seed(0)
    twin = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, 4, 64, batch_first=True, **kw),
                                 2, enable_nested_tensor=False)
    flops, saved = tr.measure(twin, torch.randn(batch, L, E))
    model = lc.TransformerEncoder(lc.TransformerEncoderLayer(E, 4, 64, batch_first=True, **kw), 2)
    t = _step(lc.analyze(model, (L, E), batch=batch))
    assert t.flops("flopcountermode") == flops
    assert t.memory.activations == saved


@pytest.mark.parametrize("batch", BATCHES)
def test_gpt2_tiny(batch):
    torch.manual_seed(0)
    twin = tt.GPT2LMHeadModel(n_layer=2, d=32, n_head=4, vocab_size=101, n_positions=16)
    flops, saved = tr.measure(twin, torch.randint(0, 101, (batch, 8)))
    model = lc.zoo.gpt2(n_layer=2, n_embd=32, n_head=4, vocab_size=101, n_positions=16)
    t = _step(lc.analyze(model, (8,), batch=batch))
    assert t.flops("flopcountermode") == flops
    assert t.memory.activations == saved


@pytest.mark.parametrize("batch", BATCHES)
def test_vit_tiny(batch):
    torch.manual_seed(0)
    twin = tt.VisionTransformer(32, 8, 2, 4, 32, 64, num_classes=10)
    flops, saved = tr.measure(twin, torch.randn(batch, 3, 32, 32))
    t = _step(lc.analyze(lc.zoo.vision_transformer(32, 8, 2, 4, 32, 64, num_classes=10),
                         (3, 32, 32), batch=batch))
    assert t.flops("flopcountermode") == flops
    assert t.memory.activations == saved


@pytest.mark.parametrize("batch", BATCHES)
def test_llama_tiny(batch):
    """FLOPs equal. Bytes: the twin recomputes RoPE's cos/sin in every call (4 tables per
    layer where Hugging Face computes 2 per forward) and repeats the KV heads before SDPA
    (``repeat_interleave``: the saved keys and values have ``H`` heads, not ``H_kv``); with
    those two named differences the bytes are equal."""
    cfg = dict(vocab_size=512, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
               num_attention_heads=8, num_key_value_heads=2, rms_norm_eps=1e-5)
    T, d, H, Hkv, layers = 8, 8, 8, 2, 2
    torch.manual_seed(0)
    flops, saved = tr.measure(tt.LlamaForCausalLM(**cfg), torch.randint(0, 512, (batch, T)))
    t = _step(lc.analyze(lc.zoo.llama(**cfg), (T,), batch=batch))
    assert t.flops("flopcountermode") == flops
    rope = (4 * layers - 2) * T * d * 4
    repeated_kv = layers * 2 * batch * T * (H - Hkv) * d * 4
    assert saved - t.memory.activations == rope + repeated_kv


# -- recurrent -------------------------------------------------------------------------------------
RNNS = [{}, {"num_layers": 2}, {"bidirectional": True},
        {"num_layers": 2, "dropout": 0.3, "bidirectional": True}]


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("kw", RNNS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items())
                         or "default")
@pytest.mark.parametrize("batch", BATCHES)
def test_recurrent(kind, kw, batch):
    """RNN and GRU run PyTorch's native cells on CPU: every backward mm counted. LSTM runs
    oneDNN's fused kernel: FlopCounterMode counts 0 for it (forward and backward) and it keeps
    an opaque workspace, so its bytes are compared with oneDNN off (the native cells)."""
    out = 32 if kw.get("bidirectional") else 16
    torch.manual_seed(0)

    def twin():
        return tr.SequenceModel(getattr(nn, kind)(8, 16, batch_first=True, **kw),
                                nn.Linear(out, 5))

    x = torch.randn(batch, 7, 8)
    flops, saved = tr.measure(twin(), x)
    model = lc.Sequential(getattr(lc, kind)(8, 16, batch_first=True, **kw), lc.Linear(out, 5))
    t = _step(lc.analyze(model, (7, 8), batch=batch))
    assert t.flops("flopcountermode") == flops
    if kind == "LSTM":
        _, saved = tr.measure(twin(), x, onednn=False)
    assert t.memory.activations == saved


# -- optimizer states ----------------------------------------------------------------------------
OPTIMIZERS = [
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.1)),
    ("sgd-momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    ("adam", lambda p: torch.optim.Adam(p)),
    ("adamw", lambda p: torch.optim.AdamW(p)),
    ("adafactor", lambda p: torch.optim.Adafactor(p)),
]


@pytest.mark.parametrize("name, make", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_optimizer_states_after_one_step(name, make, precision):
    """Moments at the parameters' dtype, a float32 ``step`` per tensor (Adam, AdamW,
    Adafactor), Adafactor's row and column variances for tensors of rank >= 2."""
    dtype = torch.float32 if precision == "fp32" else torch.bfloat16
    twin = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.Flatten(), nn.Linear(8 * 4 * 4, 10), nn.LayerNorm(10)).to(dtype)
    opt = make(twin.parameters())
    twin(torch.randn(2, 3, 4, 4, dtype=dtype)).sum().backward()
    opt.step()
    model = lc.Sequential(lc.Conv2d(3, 8, 3, padding=1), lc.BatchNorm2d(8), lc.ReLU(),
                          lc.Flatten(), lc.Linear(8 * 4 * 4, 10), lc.LayerNorm(10))
    t = lc.training(lc.analyze(model, (3, 4, 4), batch=2), optimizer=name, precision=precision)
    assert t.memory.optimizer_states == tr.optimizer_state_bytes(opt)
    grads = sum(p.grad.untyped_storage().nbytes() for p in twin.parameters())
    assert t.memory.gradients == grads
