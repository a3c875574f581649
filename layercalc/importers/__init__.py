"""Importers: models from other frameworks as layercalc graphs (re-exports only)."""

from .from_torch import from_torch as from_torch
from .from_torch import register_torch as register_torch
from .from_hf import HF_MODEL_TYPES as HF_MODEL_TYPES
from .from_hf import from_hf_config as from_hf_config
