"""`layercalc.training`: the dataflow (which inputs need gradients, fan-out accumulation,
tied weights), recomputation, optimizers and precisions, parallelism, time and rendering."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import sympy as sp

import importlib

import layercalc as lc
dims_module = importlib.import_module("layercalc.dims")  # lc.dims is the field helper
from layercalc.errors import LayerCalcError, UnknownNameError
from layercalc.peers import ConventionError

EXACT = lc.get_convention("exact")


def tiny_gpt(**kw):
    cfg = dict(n_layer=2, n_embd=32, n_head=4, vocab_size=101, n_positions=64)
    cfg.update(kw)
    return lc.zoo.gpt2(**cfg)


# -- the dataflow --------------------------------------------------------------------------------
def test_no_input_gradient_before_the_first_parameter():
    """Autograd computes no gradient for the data, nor for anything computed from it before
    the first parameter: a pool on the input and the first convolution get no dgrad."""
    net = lc.Sequential(lc.MaxPool2d(2), lc.Conv2d(3, 4, 3, padding=1), lc.ReLU(),
                        lc.Conv2d(4, 4, 3, padding=1))
    t = lc.training(lc.analyze(net, (3, 8, 8), batch=2))
    assert [r.dgrad == lc.Cost() for r in t.rows] == [True, True, False, False]
    assert t.rows[1].wgrad.macs == t.rows[1].forward.macs
    assert t.rows[3].dgrad.macs == t.rows[3].forward.macs


def test_residual_input_gradients_are_summed_once():
    """A residual block uses its input twice (body and shortcut): autograd adds the two
    gradients, one add per element, at the tensor's producer."""
    block = lc.Residual(lc.Sequential(lc.Conv2d(4, 4, 3, padding=1)))
    net = lc.Sequential(lc.Conv2d(3, 4, 1), block)
    t = lc.training(lc.analyze(net, (3, 5, 5), batch=3))
    assert dict(t.rows[0].accumulation.ops) == {"add": 3 * 4 * 5 * 5}
    assert all(r.accumulation == lc.Cost() for r in t.rows[1:])


def test_tied_lm_head_adds_its_gradient_to_the_embedding_table():
    """GPT-2's lm_head shares wte's weights: the two weight gradients are summed (V*E adds),
    and the parameters are counted once in memory."""
    t = lc.training(lc.analyze(tiny_gpt(), (8,), batch=2))
    head = t.rows[-1]
    assert head.path == "lm_head" and dict(head.accumulation.ops) == {"add": 101 * 32}
    params = lc.analyze(tiny_gpt(), (8,)).total.params
    assert t.memory.weights == 4 * params and t.memory.gradients == 4 * params


def test_attention_value_and_rope_dataflow():
    """Llama's SDPA row lists q and k as sources; the value comes from v_proj and RoPE
    replaces q and k: every projection gets its backward."""
    cfg = dict(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=1,
               num_attention_heads=4, num_key_value_heads=2)
    t = lc.training(lc.analyze(lc.zoo.llama(**cfg), (6,)))
    rows = {r.path.rsplit(".", 1)[-1]: r for r in t.rows}
    for name in ("q_proj", "k_proj", "v_proj"):
        assert rows[name].wgrad.macs == rows[name].forward.macs
    assert rows["rotary_emb"].needs == (True, True) and rows["sdpa"].needs == (True,) * 3


def test_totals_are_sums_of_rows():
    t = lc.training(lc.analyze(lc.zoo.resnet18(), (3, 64, 64), batch=2))
    assert t.backward == lc.Cost.sum([t.dgrad, t.wgrad] + [r.accumulation for r in t.rows])
    assert t.memory.activations == sum(r.activations for r in t.rows)
    parts = t.row_flops("exact")
    assert t.flops("exact") == sum(parts.values())
    assert parts["forward"] == EXACT.flops(t.forward)


def test_training_forward_counts_batch_statistics_and_masks():
    """The eval forward of BatchNorm uses running statistics and Dropout is the identity; the
    training forward computes batch statistics and multiplies masks."""
    net = lc.Sequential(lc.Linear(8, 8), lc.BatchNorm1d(8), lc.Dropout(0.5))
    report = lc.analyze(net, (8,), batch=4)
    t = lc.training(report)
    assert t.rows[2].forward.ops == {"div": 32, "mul": 32}
    assert report.rows[2].cost == lc.Cost()
    assert t.rows[1].forward.ops["sqrt"] == 8 and EXACT.flops(t.rows[1].forward) > \
        EXACT.flops(report.rows[1].cost)


def test_2macs_is_three_forwards_minus_the_data_dgrad():
    """For matmul layers under 2*macs: forward, dgrad and wgrad each equal the forward's MACs,
    except the first layer's dgrad (its input is the data)."""
    net = lc.Sequential(lc.Linear(16, 32, bias=False), lc.ReLU(), lc.Linear(32, 8))
    t = lc.training(lc.analyze(net, (16,), batch=5))
    first = 2 * 5 * 16 * 32
    assert t.flops("2*macs") == 3 * lc.flops(t.forward, "2*macs") - first


# -- recomputation ---------------------------------------------------------------------------
def test_full_recompute_keeps_block_inputs_and_recomputes_blocks():
    report = lc.analyze(tiny_gpt(), (8,), batch=2)
    none = lc.training(report)
    full = lc.training(report, recompute="full")
    blocks = [r for r in full.rows if r.path.startswith("transformer.h.")]
    assert all(r.recomputed for r in blocks)
    assert not any(r.recomputed for r in full.rows if not r.path.startswith("transformer.h."))
    assert full.recompute == lc.Cost.sum(r.forward for r in blocks)
    per_block = [sum(r.activations for r in blocks if r.path.startswith(f"transformer.h.{i}."))
                 for i in range(2)]
    assert per_block == [2 * 8 * 32 * 4] * 2  # each block's input, fp32
    assert full.memory.activations < none.memory.activations
    assert full.memory.recompute_peak > 0


def test_selective_recompute_only_drops_the_attention_core():
    report = lc.analyze(tiny_gpt(), (8,), batch=2)
    kw = dict(activations="korthikanti", precision="bf16-mixed")
    sel = lc.training(report, recompute="selective", **kw)
    assert {r.kind for r in sel.rows if r.recomputed} == {"ScaledDotProductAttention"}
    none = lc.training(report, **kw)
    scores = 8 * 8 * 4 * 2  # s^2 * heads * batch
    # per layer the softmax output (2 bytes), its dropout mask (1) and output (2): 5as^2b
    assert none.memory.activations - sel.memory.activations == 2 * 5 * scores


def test_recompute_paths_and_unknown_paths():
    report = lc.analyze(tiny_gpt(), (8,))
    t = lc.training(report, recompute={"transformer.h.1.mlp"})
    assert {r.path for r in t.rows if r.recomputed} == {
        "transformer.h.1.mlp.c_fc", "transformer.h.1.mlp.act", "transformer.h.1.mlp.c_proj",
        "transformer.h.1.mlp.dropout"}
    with pytest.raises(UnknownNameError, match="transformer.h.1.mpl"):
        lc.training(report, recompute=["transformer.h.1.mpl"])
    with pytest.raises(UnknownNameError, match="unknown recompute 'ful'; did you mean 'full'"):
        lc.training(report, recompute="ful")


# -- optimizers and precisions -------------------------------------------------------------------
def _linear_report(n_in=64, n_out=100):
    return lc.analyze(lc.Linear(n_in, n_out, bias=False), (n_in,))


@pytest.mark.parametrize("optimizer, precision, per_param, extra", [
    ("sgd", "fp32", 4 + 4 + 0, 0),
    ("sgd-momentum", "fp32", 4 + 4 + 4, 0),
    ("adam", "fp32", 4 + 4 + 8, 4),
    ("adamw", "bf16", 2 + 2 + 4, 4),
    ("adam", "fp16-mixed", 2 + 2 + 12, 4),  # Rajbhandari et al.: 16 bytes a parameter
    ("adamw", "bf16-mixed", 2 + 2 + 12, 4),
    ("sgd-momentum", "bf16-mixed", 2 + 2 + 4 + 4, 0),
])
def test_model_state_bytes_per_parameter(optimizer, precision, per_param, extra):
    t = lc.training(_linear_report(), optimizer=optimizer, precision=precision)
    m = t.memory
    assert m.weights + m.gradients + m.optimizer_states == per_param * 6400 + extra


def test_adam_8bit_follows_bitsandbytes():
    """bitsandbytes Adam8bit: tensors of >= 4096 elements keep uint8 moments and one fp32
    absmax per 256-element block each; smaller ones keep fp32 moments; plus the two shared
    256-entry fp32 quantization maps."""
    big = lc.training(_linear_report(64, 100), optimizer="adam-8bit").memory  # 6400 elements
    assert dict(big.detail) == {"moments (uint8)": 2 * 6400,
                                "absmax (fp32 per 256-element block)": 8 * 25,
                                "quantization maps (2 x 256 fp32)": 2048}
    small = lc.training(_linear_report(8, 10), optimizer="adam-8bit").memory
    assert dict(small.detail) == {"moments (fp32, tensors under 4096 elements)": 8 * 80}


def test_adafactor_factors_matrices():
    m = lc.training(_linear_report(64, 100), optimizer="adafactor").memory
    assert dict(m.detail) == {"row and column variances": 4 * (100 + 64),
                              "step counters (fp32 scalar per tensor)": 4}
    with pytest.raises(LayerCalcError, match="adafactor factors each parameter matrix"):
        lc.training(_linear_report(), optimizer="adafactor", parallel=lc.Parallelism(dp=2, zero=1))


# -- parallelism -----------------------------------------------------------------------------------
def test_tensor_parallel_plan_and_all_reduces():
    """Megatron: c_attn and c_fc column-parallel, c_proj row-parallel, attention split by
    heads; per layer two forward all-reduces (after each row-parallel linear) and two
    backward all-reduces (the inputs of the column-parallel ones), B*s*h elements each;
    plus the vocabulary-parallel embedding (forward) and head (backward)."""
    B, s = lc.symbols("B s")
    t = lc.training(lc.analyze(tiny_gpt(), (s,), batch=B), precision="bf16-mixed",
                    parallel=lc.Parallelism(tp=2))
    roles = {r.path: r.tp for r in t.rows if ".h.0." in r.path}
    assert roles["transformer.h.0.attn.c_attn"] == "column"
    assert roles["transformer.h.0.attn.c_proj"] == "row"
    assert roles["transformer.h.0.attn.sdpa"] == roles["transformer.h.0.mlp.act"] == "sharded"
    assert roles["transformer.h.0.ln_1"] == "replicated"
    c = t.communication
    assert c.all_reduce == (2 * 4 + 2) * B * s * 32 * 2
    assert c.all_gather == c.reduce_scatter == 0
    sp_ = lc.training(lc.analyze(tiny_gpt(), (s,), batch=B), precision="bf16-mixed",
                      parallel=lc.Parallelism(tp=2, sp=True)).communication
    assert sp_.all_reduce == 0 and sp_.reduce_scatter == c.all_reduce
    assert sp.expand(c.ring_bytes() - c.all_reduce) == 0  # 2(n - 1)/n = 1 for n = 2


def test_tensor_parallel_splits_work_and_weights():
    report = lc.analyze(tiny_gpt(), (8,), batch=2)
    one = lc.training(report)
    two = lc.training(report, parallel=lc.Parallelism(tp=2))
    mm = lambda t, pd: t.flops("2*macs", per_device=pd)  # noqa: E731
    assert mm(two, False) == mm(one, False)
    assert mm(two, True) == mm(one, True) // 2  # every matmul is split (lm_head too)
    assert two.memory.weights < one.memory.weights


def test_pipeline_stages_and_1f1b_activations():
    report = lc.analyze(lc.zoo.gpt2(n_layer=4, n_embd=32, n_head=4, vocab_size=101,
                                    n_positions=64), (8,), batch=4)
    t = lc.training(report, parallel=lc.Parallelism(pp=2))
    stages = {r.path: r.stage for r in t.rows}
    assert stages["transformer.wte"] == 0 and stages["transformer.h.1.add2"] == 0
    assert stages["transformer.h.2.ln_1"] == 1 and stages["lm_head"] == 1
    first = sum(r.activations for r in t.rows if r.stage == 0)
    assert t.memory.stage == 0 and t.memory.activations == first  # 2 of 2 microbatches
    assert t.communication.p2p == 2 * 4 * 8 * 32 * 4
    with pytest.raises(LayerCalcError, match="pp \\(=5\\) exceeds the 4 blocks"):
        lc.training(report, parallel=lc.Parallelism(pp=5))


def test_data_parallel_gradient_all_reduce():
    t = lc.training(_linear_report(), parallel=lc.Parallelism(dp=8))
    assert t.communication.all_reduce == 6400 * 4
    assert t.communication.ring_bytes() == sp.Rational(2 * 7, 8) * 6400 * 4


@pytest.mark.parametrize("kw, message", [
    (dict(tp=0), "Parallelism: tp (=0) must be a positive integer"),
    (dict(zero=4), "Parallelism: zero (=4) must be 0, 1, 2 or 3"),
    (dict(sp=True), "Parallelism: sp=True needs tp > 1"),
    (dict(dp=4, ep=3), "Parallelism: ep (=3) must divide dp (=4)"),
])
def test_parallelism_errors(kw, message):
    with pytest.raises(LayerCalcError, match=message.replace("(", "\\(").replace(")", "\\)")):
        lc.Parallelism(**kw)


def test_heads_must_split_evenly():
    with pytest.raises(LayerCalcError, match="num_heads \\(=4\\) must be divisible by tp"):
        lc.training(lc.analyze(tiny_gpt(), (8,)), parallel=lc.Parallelism(tp=3))


# -- symbols, tools, what is not counted -----------------------------------------------------
def test_symbolic_batch_and_sequence_substitute_to_numbers():
    B, T = lc.symbols("B T")
    sym = lc.training(lc.analyze(tiny_gpt(), (T,), batch=B), recompute="selective")
    num = lc.training(lc.analyze(tiny_gpt(), (12,), batch=3), recompute="selective")
    assert sp.sympify(sym.flops("exact")).subs({B: 3, T: 12}) == num.flops("exact")
    assert sp.sympify(sym.memory.total).subs({B: 3, T: 12}) == num.memory.total


def test_only_flopcountermode_has_tool_backward_rules():
    t = lc.training(lc.analyze(lc.Linear(4, 4), (4,)))
    assert t.flops("flopcountermode") == 2 * (2 * 16)  # forward and wgrad (input is the data)
    with pytest.raises(ConventionError, match="no backward rule for Linear"):
        t.flops("fvcore")


def test_kinds_without_rules_are_listed_never_zero():
    """A layer kind with no backward rule is listed by name; so is a configuration a rule
    does not cover (interpolating upsampling)."""
    net = lc.Sequential(lc.Conv2d(3, 4, 3, padding=1),
                        lc.Upsample(scale_factor=2, mode="bilinear"), lc.Conv2d(4, 2, 1))
    t = lc.training(lc.analyze(net, (3, 4, 4)))
    assert dict(t.not_counted) == {
        "Upsample(mode='bilinear'): interpolating backward not counted": ("1",)}
    assert "Backward not counted" in t.to_text()
    decode = lc.training(lc.analyze(lc.KVCacheDecode(4, 8, 16), (1, 32)))
    assert dict(decode.not_counted) == {"KVCacheDecode": ("kvcachedecode",)}


def test_unknown_names():
    r = _linear_report()
    with pytest.raises(UnknownNameError, match="unknown optimizer 'adan'; did you mean 'adam'"):
        lc.training(r, optimizer="adan")
    with pytest.raises(UnknownNameError, match="unknown precision 'bf16mixed'"):
        lc.training(r, precision="bf16mixed")
    with pytest.raises(UnknownNameError, match="unknown activations mode 'torch'"):
        lc.training(r, activations="torch")
    with pytest.raises(TypeError, match="training\\(\\) takes a Report"):
        lc.training(lc.Linear(2, 2))


# -- time and rendering ---------------------------------------------------------------------
def test_time_is_a_roofline_lower_bound_and_mfu_inverts():
    t = lc.training(lc.analyze(lc.Linear(4096, 4096), (4096,), batch=512),
                    precision="bf16-mixed")
    st = t.time("h100-sxm")
    peak = lc.get_hardware("h100-sxm").peak("bf16")
    assert st.method == "roofline" and st.dtype == "bf16" and st.convention == "exact"
    assert st.seconds >= sp.Rational(t.flops("exact"), peak)
    at = t.time("h100-sxm", mfu=0.5, convention="2*macs")
    assert at.seconds == sp.Rational(2 * t.flops("2*macs"), peak)
    assert t.mfu("h100-sxm", at.seconds, convention="2*macs") == sp.Rational(1, 2)


def test_renderings_name_the_convention_and_stay_compact():
    t = lc.training(lc.analyze(lc.zoo.resnet18(), (3, 64, 64)), parallel=lc.Parallelism(dp=2))
    text = t.to_text()
    assert "Forward (exact)" in text and "Memory per device" in text and "all-reduce" in text
    assert "FLOPs (2*macs) per step" in t.to_text("2*macs", depth=1)
    assert text.splitlines()[1].startswith("FLOPs: exact convention")  # the default, stated
    r = repr(t)
    assert len(r) < 2000 and "\n" not in r
    assert r == (f"<TrainingReport model: batch 1, adamw fp32, dp=2, tp=1, pp=1, zero=0, "
                 f"{lc.format.rate(t.flops(), 'FLOP/step')} (exact), "
                 f"{lc.format.nbytes(t.memory.total)}/device>")
    assert "<caption" in t._repr_html_()


def test_register_backward_makes_a_kind_counted():
    from dataclasses import dataclass

    from layercalc.layers import Layer

    @dataclass(frozen=True)
    class Square(Layer):
        def output_shape(self, x):
            return self._input(x)

        def cost(self, x):
            return lc.Cost(ops={"mul": dims_module.prod(self._input(x))})

    net = lc.Sequential(OrderedDict(fc=lc.Linear(3, 3), sq=Square()))
    before = lc.training(lc.analyze(net, (3,)))
    assert dict(before.not_counted) == {"Square": ("sq",)}
    lc.register_backward(Square, grads=lambda ctx: lc.backward.Grads(
        dgrad=lc.Cost(ops={"mul": 2 * ctx.n_in})), saved=lambda ctx: (lc.backward.IN(0),),
        tp="pointwise")
    after = lc.training(lc.analyze(net, (3,)))
    assert not after.not_counted and after.rows[1].dgrad.ops == {"mul": 6}
    assert after.rows[1].activations == 12
