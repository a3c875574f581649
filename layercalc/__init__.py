"""layercalc: exact, symbolic cost accounting for neural networks.

The public API, re-exported; nothing is defined here. See README.md and layercalc/README.md.
"""

from ._version import __version__ as __version__
from . import blocks as blocks
from . import format as format
from . import layers as layers
from . import table as table
from . import transformer as transformer
from . import vision as vision
from . import zoo as zoo
from .compare import Comparison as Comparison
from .compare import compare as compare
from .conventions import DEFAULT_CONVENTION as DEFAULT_CONVENTION
from .conventions import Convention as Convention
from .registry import CONVENTIONS as CONVENTIONS
from .registry import convention_note as convention_note
from .registry import flops as flops
from .registry import get_convention as get_convention
from .peers import TOOL_CONVENTIONS as TOOL_CONVENTIONS
from .peers import ToolConvention as ToolConvention
from .cost import Cost as Cost
from .errors import ArgumentError as ArgumentError
from .errors import LayerCalcError as LayerCalcError
from .errors import LimitError as LimitError
from .errors import LayerSpecError as LayerSpecError
from .errors import MissingDependencyError as MissingDependencyError
from .errors import ParseError as ParseError
from .errors import ShapeError as ShapeError
from .errors import UnknownNameError as UnknownNameError
from .parse import parse_dims as parse_dims
from .errors import GraphError as GraphError
from .evaluate import evaluate as evaluate
from .graph import Graph as Graph
from .graph import GraphNode as GraphNode
from .graph import Input as Input
from .graph import Tensor as Tensor
from .graph import apply as apply
from .graph import cat as cat
from .graph import chunk as chunk
from .graph import split as split
from .graph import stack as stack
from .evaluate import sweep as sweep
from .layers import *  # noqa: F401,F403  (the layer catalog: layers.__all__)
from .hardware import PRESETS as HARDWARE_PRESETS
from .hardware import Hardware as Hardware
from .hardware import get_hardware as get_hardware
from .hardware import memory_bandwidth as memory_bandwidth
from .layers import LAYERS as LAYERS
from .layers._base import choice as choice
from .layers._base import dim as dim
from .layers._base import dims as dims
from .layers._base import flag as flag
from .layers import Layer as Layer
from .layers.attention import visible_scores as visible_scores
from .memory import DTYPE_BYTES as DTYPE_BYTES
from .memory import MEMORY_MODELS as MEMORY_MODELS
from .memory import MemoryModel as MemoryModel
from .memory import MemoryTraffic as MemoryTraffic
from .memory import memory as memory
from .memory import model_size as model_size
from .memory import PeakMemory as PeakMemory
from .memory import peak_memory as peak_memory
from .network import Functional as Functional
from .network import Parallel as Parallel
from .network import Residual as Residual
from .network import Sequential as Sequential
from .network import Tied as Tied
from .network import analyze as analyze
from .printouts import PRINTOUTS as PRINTOUTS
from .printouts import Printout as Printout
from .printouts import printout as printout
from .printouts import render_as as render_as
from .report import Report as Report
from .report import Row as Row
from .roofline import Roofline as Roofline
from .roofline import RooflinePoint as RooflinePoint
from .roofline import critical_batch as critical_batch
from .roofline import critical_resolution as critical_resolution
from .roofline import critical_value as critical_value
from .roofline import roofline as roofline
from .roofline import utilization as utilization
from .fuse import FuseReport as FuseReport
from .fuse import FusedActivation as FusedActivation
from .fuse import fold_batchnorm as fold_batchnorm
from .fuse import fuse as fuse
from .fuse import fuse_report as fuse_report
from .plot import plot_roofline as plot_roofline
from .symbolic import assume_divisible as assume_divisible
from .symbolic import break_even as break_even
from .symbolic import closed_form as closed_form
from .symbolic import leading_term as leading_term
from .symbolic import ratio as ratio
from .symbolic import sensitivity as sensitivity
from .symbolic import solve_budget as solve_budget
from .symbols import symbols as symbols
from .importers import from_torch as from_torch
from .importers import register_torch as register_torch
from .importers import from_hf_config as from_hf_config
from .serving import INFERENCE_PROFILES as INFERENCE_PROFILES
from .serving import InferenceReport as InferenceReport
from .serving import Stage as Stage
from .serving import StageRow as StageRow
from .serving import Traffic as Traffic
from .serving import inference as inference
from .serving import kv_cache_bytes as kv_cache_bytes
from .moe import MixtralDecoderLayer as MixtralDecoderLayer
from .moe import MoE as MoE
from .moe import active_params as active_params
from .quant import WEIGHT_FORMATS as WEIGHT_FORMATS
from .quant import WeightFormat as WeightFormat
from .quant import get_weight_format as get_weight_format
from .quant import matrix_bytes as matrix_bytes
from .ssm import MambaBlock as MambaBlock
from .ssm import MambaMixer as MambaMixer
from .backward import BackwardRule as BackwardRule
from .backward import backward_rule as backward_rule
from .backward import register_backward as register_backward
from .training import OPTIMIZERS as OPTIMIZERS
from .training import PRECISIONS as PRECISIONS
from .training import Communication as Communication
from .training import Parallelism as Parallelism
from .training import StepTime as StepTime
from .training import TrainingMemory as TrainingMemory
from .training import TrainingReport as TrainingReport
from .training import TrainingRow as TrainingRow
from .training import training as training
from . import published as published
from .transformer import BertLayer as BertLayer
from .transformer import GPT2Block as GPT2Block
from .transformer import LlamaDecoderLayer as LlamaDecoderLayer
from .transformer import Transformer as Transformer
from .transformer import TransformerDecoder as TransformerDecoder
from .transformer import TransformerDecoderLayer as TransformerDecoderLayer
from .transformer import TransformerEncoder as TransformerEncoder
from .transformer import TransformerEncoderLayer as TransformerEncoderLayer
from .transformer import ViTEncoderBlock as ViTEncoderBlock


__all__ = [
    "ArgumentError", "LimitError", "parse_dims",
    "CONVENTIONS", "visible_scores", "Comparison", "Convention", "Cost", "Functional", "TOOL_CONVENTIONS",
    "ToolConvention", "compare", "LAYERS", "Layer", "LayerCalcError", "LayerSpecError",
    "Parallel", "ParseError", "Report", "Residual", "Row", "Sequential", "ShapeError", "Tied",
    "UnknownNameError", "analyze", "assume_divisible", "break_even", "closed_form", "evaluate",
    "blocks", "flops", "get_convention", "layers", "zoo", "leading_term", "ratio", "sensitivity", "solve_budget",
    "sweep", "symbols", "DTYPE_BYTES", "HARDWARE_PRESETS", "Hardware", "MEMORY_MODELS",
    "MemoryModel", "MemoryTraffic", "Roofline", "RooflinePoint", "critical_batch",
    "get_hardware", "memory", "memory_bandwidth", "model_size", "roofline", "utilization",
    "PeakMemory", "peak_memory", "critical_resolution", "critical_value", "FuseReport",
    "FusedActivation", "fold_batchnorm", "fuse", "fuse_report", "plot_roofline",
    "transformer", "vision", "Transformer", "TransformerEncoder", "TransformerEncoderLayer",
    "TransformerDecoder", "TransformerDecoderLayer", "GPT2Block", "BertLayer",
    "LlamaDecoderLayer", "ViTEncoderBlock", "PRINTOUTS", "Printout", "printout", "render_as",
    "DEFAULT_CONVENTION", "convention_note", "MissingDependencyError", "format", "table",
    "MoE", "active_params", "MixtralDecoderLayer", "MambaMixer", "MambaBlock",
    "WEIGHT_FORMATS", "WeightFormat", "get_weight_format", "matrix_bytes",
    "inference", "InferenceReport", "Stage", "StageRow", "Traffic", "kv_cache_bytes",
    "INFERENCE_PROFILES",
    "BackwardRule", "backward_rule", "register_backward", "OPTIMIZERS", "PRECISIONS",
    "Communication", "Parallelism", "StepTime", "TrainingMemory", "TrainingReport",
    "TrainingRow", "training", "published",
    "Graph", "GraphNode", "GraphError", "Input", "Tensor", "apply", "cat", "chunk", "split",
    "stack", "dim", "dims", "choice", "flag", "from_torch", "register_torch", "from_hf_config",
    *layers.__all__[3:],
]
