"""The model zoo: reference networks with torchvision's names, options and module paths.

Each function returns a fresh model (a `Sequential` whose child names give torchvision-like
paths such as ``features.0``, ``layer3.0.conv2``, ``classifier.1``, or a `Graph` whose node
names do, for the networks that are graphs: ``inception_v3``, ``googlenet``, ``unet``) and
sets nothing global.
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
from . import _builder, _config, _kwargs  # noqa: F401  (private helpers, before the models)
from .alexnet import alexnet, seed_alexnet
from .bert import bert, bert_base, bert_large
from .convnext import convnext, convnext_base, convnext_large, convnext_small, convnext_tiny
from .densenet import densenet, densenet121, densenet161, densenet169, densenet201
from .efficientnet import (
    efficientnet_b0, efficientnet_b1, efficientnet_b2, efficientnet_b3, efficientnet_b4,
    efficientnet_b5, efficientnet_b6, efficientnet_b7, efficientnet_v2_l, efficientnet_v2_m,
    efficientnet_v2_s,
)
from .gpt2 import GPT2_SIZES, gpt2, gpt2_large, gpt2_medium, gpt2_xl, kaplan_forward_flops
from .inception import inception_v3
from .googlenet import googlenet  # after inception: it shares torchvision's BasicConv2d
from .llama import (
    LLAMA_PRESETS, llama, llama2_7b, llama2_13b, llama2_70b, llama3_8b, llama3_70b,
    llama_intermediate_size,
)
from .maxvit import maxvit, maxvit_t
from .mnasnet import mnasnet, mnasnet0_5, mnasnet0_75, mnasnet1_0, mnasnet1_3
from .mamba import (
    MAMBA_PRESETS, mamba, mamba_1_4b, mamba_2_8b, mamba_130m, mamba_370m, mamba_790m,
)
from .mixtral import MIXTRAL_PRESETS, mixtral, mixtral_8x7b, mixtral_8x22b
from .mobilenet import mobilenet_v1, mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small
from .regnet import (
    BlockParams, regnet, regnet_x_1_6gf, regnet_x_3_2gf, regnet_x_8gf, regnet_x_16gf,
    regnet_x_32gf, regnet_x_400mf, regnet_x_800mf, regnet_y_1_6gf, regnet_y_3_2gf,
    regnet_y_8gf, regnet_y_16gf, regnet_y_32gf, regnet_y_128gf, regnet_y_400mf,
    regnet_y_800mf,
)
from .resnet import (
    resnet, resnet18, resnet34, resnet50, resnet101, resnet152, resnext50_32x4d,
    resnext101_32x8d, resnext101_64x4d, wide_resnet50_2, wide_resnet101_2,
)
from .shufflenet import (
    shufflenet_v2, shufflenet_v2_x0_5, shufflenet_v2_x1_0, shufflenet_v2_x1_5,
    shufflenet_v2_x2_0,
)
from .qwen2_moe import QWEN2_MOE_PRESETS, qwen1_5_moe_a2_7b, qwen2_moe
from .squeezenet import squeezenet, squeezenet1_0, squeezenet1_1
from .unet import unet
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
    # torchvision's CNN families (issue 12): generic builders, then every named variant
    "WEIGHTS_INPUTS", "densenet", "shufflenet_v2", "squeezenet", "mnasnet", "regnet",
    "BlockParams", "resnet",
    "densenet121", "densenet161", "densenet169", "densenet201", "shufflenet_v2_x0_5",
    "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0", "squeezenet1_0",
    "squeezenet1_1", "regnet_x_400mf", "regnet_x_800mf", "regnet_x_1_6gf", "regnet_x_3_2gf",
    "regnet_x_8gf", "regnet_x_16gf", "regnet_x_32gf", "regnet_y_400mf", "regnet_y_800mf",
    "regnet_y_1_6gf", "regnet_y_3_2gf", "regnet_y_8gf", "regnet_y_16gf", "regnet_y_32gf",
    "regnet_y_128gf", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3",
    "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "efficientnet_b4",
    "efficientnet_b5", "efficientnet_b6", "efficientnet_b7", "efficientnet_v2_s",
    "efficientnet_v2_m", "efficientnet_v2_l", "wide_resnet50_2", "wide_resnet101_2",
    "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d",
    "mixtral", "mixtral_8x7b", "mixtral_8x22b", "MIXTRAL_PRESETS",
    "qwen2_moe", "qwen1_5_moe_a2_7b", "QWEN2_MOE_PRESETS",
    "mamba", "mamba_130m", "mamba_370m", "mamba_790m", "mamba_1_4b", "mamba_2_8b",
    "MAMBA_PRESETS",
    "convnext", "convnext_tiny", "convnext_small", "convnext_base", "convnext_large",
    "swin_transformer", "swin_t", "swin_s", "swin_b", "swin_v2_t", "swin_v2_s", "swin_v2_b",
    "maxvit", "maxvit_t",
    "inception_v3", "googlenet", "unet",
]

#: torchvision's CNN families added with issue 12 (DenseNet, ShuffleNet V2, SqueezeNet, RegNet,
#: MNASNet, EfficientNet B1-B7 and V2, wide ResNet, ResNeXt), in torchvision's order.
_CNN = (
    densenet121, densenet161, densenet169, densenet201,
    shufflenet_v2_x0_5, shufflenet_v2_x1_0, shufflenet_v2_x1_5, shufflenet_v2_x2_0,
    squeezenet1_0, squeezenet1_1,
    regnet_x_400mf, regnet_x_800mf, regnet_x_1_6gf, regnet_x_3_2gf, regnet_x_8gf,
    regnet_x_16gf, regnet_x_32gf,
    regnet_y_400mf, regnet_y_800mf, regnet_y_1_6gf, regnet_y_3_2gf, regnet_y_8gf,
    regnet_y_16gf, regnet_y_32gf, regnet_y_128gf,
    mnasnet0_5, mnasnet0_75, mnasnet1_0, mnasnet1_3,
    efficientnet_b1, efficientnet_b2, efficientnet_b3, efficientnet_b4, efficientnet_b5,
    efficientnet_b6, efficientnet_b7, efficientnet_v2_s, efficientnet_v2_m, efficientnet_v2_l,
    wide_resnet50_2, wide_resnet101_2, resnext50_32x4d, resnext101_32x8d, resnext101_64x4d,
)

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
        *_CNN,
        mixtral_8x7b, mixtral_8x22b, qwen1_5_moe_a2_7b,
        mamba_130m, mamba_370m, mamba_790m, mamba_1_4b, mamba_2_8b,
        convnext_tiny, convnext_small, convnext_base, convnext_large,
        swin_t, swin_s, swin_b, swin_v2_t, swin_v2_s, swin_v2_b,
        maxvit_t,
        inception_v3, googlenet, unet,
    )
})

#: Default per-sample input of the models that do not take an image ``(3, H, W)`` of any size
#: (every other model does, and is usually analyzed at ``(3, 224, 224)``): token ids ``(T,)``
#: at the context length for language models, and the image size ViT's positional embedding
#: was built for (torchvision asserts it). A zoo `Graph` declares its own input instead
#: (``graph.input_shape``: ``inception_v3`` at 3x299x299, ``unet`` at 1x572x572).
DEFAULT_INPUTS: MappingProxyType[str, tuple] = MappingProxyType({
    **{name: (3, 224, 224) for name in ("vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32",
                                        "vit_h_14")},
    **{name: (1024,) for name in ("gpt2", "gpt2_medium", "gpt2_large", "gpt2_xl")},
    **{name: (512,) for name in ("bert_base", "bert_large")},
    **{name: (4096,) for name in ("llama2_7b", "llama2_13b", "llama2_70b")},
    **{name: (8192,) for name in ("llama3_8b", "llama3_70b")},
    **{name: (32768,) for name in ("mixtral_8x7b", "mixtral_8x22b")},
    "qwen1_5_moe_a2_7b": (8192,),
    **{name: (2048,) for name in ("mamba_130m", "mamba_370m", "mamba_790m", "mamba_1_4b",
                                  "mamba_2_8b")},
    # the crop size of torchvision's weights (Swin V2 takes any size; MaxViT only its own)
    **{name: (3, 256, 256) for name in ("swin_v2_t", "swin_v2_s", "swin_v2_b")},
    "maxvit_t": (3, 224, 224),
})


#: The input at which torchvision's default weights (``Weights.DEFAULT``) of an image model
#: were evaluated, their ``transforms`` crop size, for the models where it is not 224x224.
#: Unlike `DEFAULT_INPUTS`, these models take any ``(3, H, W)``; torchvision's published
#: ``_ops`` GFLOPS hold at this size. Other weights of a model may use other crops
#: (regnet_y_16gf / 32gf: SWAG end-to-end weights at 384; regnet_y_128gf: SWAG linear at 224),
#: listed in docs/zoo.md and tests/golden/zoo_cnn.toml.
WEIGHTS_INPUTS: MappingProxyType[str, tuple] = MappingProxyType({
    "efficientnet_b1": (3, 240, 240), "efficientnet_b2": (3, 288, 288),
    "efficientnet_b3": (3, 300, 300), "efficientnet_b4": (3, 380, 380),
    "efficientnet_b5": (3, 456, 456), "efficientnet_b6": (3, 528, 528),
    "efficientnet_b7": (3, 600, 600), "efficientnet_v2_s": (3, 384, 384),
    "efficientnet_v2_m": (3, 480, 480), "efficientnet_v2_l": (3, 480, 480),
    "regnet_y_128gf": (3, 384, 384),
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
