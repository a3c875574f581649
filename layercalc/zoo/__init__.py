"""The model zoo: reference networks with torchvision's names, options and module paths.

Each function returns a fresh model (a `Sequential` whose child names give torchvision-like
paths such as ``features.0``, ``layer3.0.conv2``, ``classifier.1``) and sets nothing global.
`MODELS` maps names to functions; `get_model` looks one up with "did you mean" on a typo.

>>> from layercalc import analyze
>>> r = analyze(get_model("resnet18")(), (3, 224, 224))
>>> r.total.params, r.output_shape
(11689512, (1000,))
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

from ..errors import lookup
from .alexnet import alexnet, seed_alexnet
from .bert import bert, bert_base, bert_large
from .convnext import convnext, convnext_base, convnext_large, convnext_small, convnext_tiny
from .efficientnet import efficientnet_b0
from .gpt2 import GPT2_SIZES, gpt2, gpt2_large, gpt2_medium, gpt2_xl, kaplan_forward_flops
from .llama import (
    LLAMA_PRESETS, llama, llama2_7b, llama2_13b, llama2_70b, llama3_8b, llama3_70b,
    llama_intermediate_size,
)
from .maxvit import maxvit, maxvit_t
from .mobilenet import mobilenet_v1, mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small
from .resnet import resnet18, resnet34, resnet50, resnet101, resnet152
from .vgg import vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn
from .swin import (
    swin_b, swin_s, swin_t, swin_transformer, swin_v2_b, swin_v2_s, swin_v2_t,
)
from .vit import vision_transformer, vit_b_16, vit_b_32, vit_h_14, vit_l_16, vit_l_32

__all__ = [
    "MODELS", "get_model",
    "alexnet", "seed_alexnet",
    "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small",
    "efficientnet_b0",
    "vision_transformer", "vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14",
    "gpt2", "gpt2_medium", "gpt2_large", "gpt2_xl", "GPT2_SIZES", "kaplan_forward_flops",
    "bert", "bert_base", "bert_large",
    "llama", "llama2_7b", "llama2_13b", "llama2_70b", "llama3_8b", "llama3_70b",
    "LLAMA_PRESETS", "llama_intermediate_size", "DEFAULT_INPUTS",
    "convnext", "convnext_tiny", "convnext_small", "convnext_base", "convnext_large",
    "swin_transformer", "swin_t", "swin_s", "swin_b", "swin_v2_t", "swin_v2_s", "swin_v2_b",
    "maxvit", "maxvit_t",
]

#: Every zoo model by name (read-only).
MODELS: MappingProxyType[str, Callable] = MappingProxyType({
    f.__name__: f for f in (
        alexnet, seed_alexnet,
        vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn,
        resnet18, resnet34, resnet50, resnet101, resnet152,
        mobilenet_v1, mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small,
        efficientnet_b0,
        vit_b_16, vit_b_32, vit_l_16, vit_l_32, vit_h_14,
        gpt2, gpt2_medium, gpt2_large, gpt2_xl,
        bert_base, bert_large,
        llama2_7b, llama2_13b, llama2_70b, llama3_8b, llama3_70b,
        convnext_tiny, convnext_small, convnext_base, convnext_large,
        swin_t, swin_s, swin_b, swin_v2_t, swin_v2_s, swin_v2_b,
        maxvit_t,
    )
})

#: Default per-sample input of the models that do not take an image ``(3, H, W)`` of any size
#: (every other model does, and is usually analyzed at ``(3, 224, 224)``): token ids ``(T,)``
#: at the context length for language models, and the image size ViT's positional embedding
#: was built for (torchvision asserts it).
DEFAULT_INPUTS: MappingProxyType[str, tuple] = MappingProxyType({
    **{name: (3, 224, 224) for name in ("vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32",
                                        "vit_h_14")},
    **{name: (1024,) for name in ("gpt2", "gpt2_medium", "gpt2_large", "gpt2_xl")},
    **{name: (512,) for name in ("bert_base", "bert_large")},
    **{name: (4096,) for name in ("llama2_7b", "llama2_13b", "llama2_70b")},
    **{name: (8192,) for name in ("llama3_8b", "llama3_70b")},
    # the crop size of torchvision's weights (Swin V2 takes any size; MaxViT only its own)
    **{name: (3, 256, 256) for name in ("swin_v2_t", "swin_v2_s", "swin_v2_b")},
    "maxvit_t": (3, 224, 224),
})


def get_model(name: str) -> Callable:
    """The model function called `name`.

    >>> get_model("resnet18") is resnet18
    True
    >>> get_model("resnet5O")
    Traceback (most recent call last):
    layercalc.errors.UnknownNameError: unknown model 'resnet5O'; did you mean 'resnet50' or 'resnet152' or 'resnet34'?
    """
    return lookup(MODELS, "model", name)
