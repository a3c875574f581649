"""The zoo's graph models (inception_v3, googlenet, unet) against their plain-PyTorch twins
in ``twins_graph.py``, module by module, as test_zoo_vs_torch.py does for the others:

* parameter and buffer counts equal the twin's (and the published ``num_params``);
* every leaf module's output shape and own parameter count equal the report row of the same
  path, at the model's input size and at other sizes (forward passes on the meta device, so
  only shapes are computed); where PyTorch rejects a size, layercalc does too;
* the auxiliary heads (which torchvision runs in training only) are checked by running the
  twin's head on the tensor it reads; where the head cannot run (Inception v3 at 75x75, which
  torchvision's inference accepts), the analysis does not fail either, and says so.
"""

from __future__ import annotations

import pytest

from oracle_support import require_torch

torch = require_torch()

import twins_graph as tg  # noqa: E402

from layercalc import LayerCalcError, analyze  # noqa: E402
from layercalc.zoo import MODELS  # noqa: E402

#: (model, zoo kwargs, twin kwargs, input sizes: the model's own first)
CASES = [
    ("inception_v3", {}, {}, [(3, 299, 299), (3, 224, 224), (3, 75, 75), (3, 74, 80)]),
    ("googlenet", {}, {}, [(3, 224, 224), (3, 193, 171), (3, 15, 15)]),
    ("googlenet", {"aux_logits": True}, {"aux_logits": True}, [(3, 224, 224)]),
    ("unet", {}, {}, [(1, 572, 572), (1, 188, 204), (1, 573, 573)]),
]
#: the side heads: (head module path, the module whose output it reads)
AUX = {"inception_v3": [("AuxLogits", "Mixed_6e")],
       "googlenet": [("aux1", "inception4a"), ("aux2", "inception4d")]}


def _meta(builder, **kw):
    with torch.device("meta"):
        return builder(**kw).eval()


def _leaf_calls(model, x, extra=()):
    """[(path, class name, output shape without batch, own params)] per leaf module call; the
    forward, then each ``(head, source)`` head run on its source module's output."""
    calls, hooks, seen = [], [], {}
    for path, mod in model.named_modules():
        if next(mod.children(), None) is None:
            own = sum(p.numel() for p in mod.parameters(recurse=False))

            def hook(m, _i, out, path=path, own=own):
                calls.append((path, type(m).__name__, tuple(out.shape[1:]), own))
            hooks.append(mod.register_forward_hook(hook))
    for _head, src in extra:
        hooks.append(model.get_submodule(src).register_forward_hook(
            lambda m, _i, out, src=src: seen.__setitem__(src, out)))
    failed = []
    try:
        with torch.no_grad():
            y = model(x)
            for head, src in extra:
                n = len(calls)
                try:
                    model.get_submodule(head)(seen[src])
                except RuntimeError:  # the head cannot run at this size; inference can
                    del calls[n:]
                    failed.append(head)
    finally:
        for h in hooks:
            h.remove()
    return tuple(y.shape[1:]), calls, failed


@pytest.mark.parametrize("name, zoo_kw, twin_kw, sizes", CASES,
                         ids=[f"{c[0]}{'-aux' if c[1] else ''}" for c in CASES])
def test_graph_model_against_twin(name, zoo_kw, twin_kw, sizes):
    twin = _meta(tg.MODEL_BUILDERS[name], **twin_kw)
    zoo_model = MODELS[name](**zoo_kw)
    params = sum(p.numel() for p in twin.parameters())
    if not twin_kw:
        assert params == tg.EXPECTED_NUM_PARAMS[name]  # the twin itself is right
    first = analyze(zoo_model, sizes[0])
    assert first.total.params == params
    buffers = sum(b.numel() for n, b in twin.named_buffers()
                  if not n.endswith("num_batches_tracked"))
    assert first.total.buffers == buffers
    extra = AUX.get(name, ()) if any(r.side for r in first.rows) else ()
    for shape in sizes:
        x = torch.empty(1, *shape, device="meta")
        try:
            y, calls, failed = _leaf_calls(twin, x, extra)
        except RuntimeError:
            with pytest.raises(LayerCalcError):
                analyze(zoo_model, shape)
            assert shape != sizes[0]
            continue
        report = analyze(zoo_model, shape)
        assert report.output_shape == y
        for head in failed:  # reported at the built sizes, for its parameters, and said so
            assert any(n.startswith(f"{head}: the side output cannot run") for n in report.notes)
        if failed:
            report_rows = [r for r in report.rows if r.path.split(".")[0] not in failed]
        else:
            report_rows = report.rows
        ours: dict[str, list] = {}
        for r in report_rows:
            ours.setdefault(r.path, []).append((tuple(r.output_shape), r.cost.params))
        theirs: dict[str, list] = {}
        for path, _k, out, own in calls:
            theirs.setdefault(path, []).append((out, own))
        missing = sorted(set(theirs) - set(ours))
        assert not missing, f"torch leaf modules with no row of the same path: {missing}"
        bad = [(p, t, ours[p]) for p, t in theirs.items() if ours[p] != t]
        assert not bad, f"(path, torch (shape, params), layercalc): {bad}"
        kinds = {(r.path, r.kind) for r in report.rows}
        assert {(p, k) for p, k, _s, _o in calls} <= kinds
