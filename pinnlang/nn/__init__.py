"""Ready Equinox modules for PINNs, low-rank adapters, and ``wrap`` for any module."""

from .embeddings import FourierFeatures, PeriodicEmbedding
from .lora import LoRALinear, lora, merge
from .mlp import MLP, mlp
from .wrap import wrap

__all__ = ["MLP", "FourierFeatures", "LoRALinear", "PeriodicEmbedding", "lora", "merge", "mlp", "wrap"]
