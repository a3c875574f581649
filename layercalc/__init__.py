"""layercalc: exact, symbolic cost accounting for neural networks.

The public API, re-exported; nothing is defined here. See README.md and layercalc/README.md.
"""

from . import blocks as blocks
from . import layers as layers
from . import transformer as transformer
from . import zoo as zoo
from .compare import Comparison as Comparison
from .compare import compare as compare
from .conventions import CONVENTIONS as CONVENTIONS
from .conventions import Convention as Convention
from .conventions import flops as flops
from .conventions import get_convention as get_convention
from .peers import TOOL_CONVENTIONS as TOOL_CONVENTIONS
from .peers import ToolConvention as ToolConvention
from .cost import Cost as Cost
from .errors import ArgumentError as ArgumentError
from .errors import LayerCalcError as LayerCalcError
from .errors import LimitError as LimitError
from .errors import LayerSpecError as LayerSpecError
from .errors import ParseError as ParseError
from .errors import ShapeError as ShapeError
from .errors import UnknownNameError as UnknownNameError
from .parse import parse_dims as parse_dims
from .evaluate import evaluate as evaluate
from .evaluate import sweep as sweep
from .layers import *  # noqa: F401,F403  (the layer catalog: layers.__all__)
from .hardware import PRESETS as HARDWARE_PRESETS
from .hardware import Hardware as Hardware
from .hardware import get_hardware as get_hardware
from .hardware import memory_bandwidth as memory_bandwidth
from .layers import LAYERS as LAYERS
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
from .transformer import BertLayer as BertLayer
from .transformer import GPT2Block as GPT2Block
from .transformer import LlamaDecoderLayer as LlamaDecoderLayer
from .transformer import Transformer as Transformer
from .transformer import TransformerDecoder as TransformerDecoder
from .transformer import TransformerDecoderLayer as TransformerDecoderLayer
from .transformer import TransformerEncoder as TransformerEncoder
from .transformer import TransformerEncoderLayer as TransformerEncoderLayer
from .transformer import ViTEncoderBlock as ViTEncoderBlock

__version__ = "0.1.0"

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
    "transformer", "Transformer", "TransformerEncoder", "TransformerEncoderLayer",
    "TransformerDecoder", "TransformerDecoderLayer", "GPT2Block", "BertLayer",
    "LlamaDecoderLayer", "ViTEncoderBlock",
    *layers.__all__[3:],
]
