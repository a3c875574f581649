"""Importers: models from other frameworks as layercalc graphs (re-exports only)."""

from .from_torch import from_torch as from_torch
from .from_torch import register_torch as register_torch
