"""Export: a champion as a standalone PyTorch source file, its weights (safetensors) and a JSON card."""

from evoforge.export._export import export_champion
from evoforge.export._source import model_source

__all__ = ["export_champion", "model_source"]
