"""Ready Equinox modules for PINNs, low-rank adapters, ``wrap`` for any module, and ``mask_of`` for masks."""

from ..trace.selection import mask_of
from .embeddings import FourierFeatures, PeriodicEmbedding
from .lora import LoRALinear, lora, merge
from .mlp import MLP, mlp
from .wrap import wrap

__all__ = ["MLP", "FourierFeatures", "LoRALinear", "PeriodicEmbedding", "lora", "mask_of", "merge", "mlp", "wrap"]
