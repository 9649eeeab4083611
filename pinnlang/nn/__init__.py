"""Ready Equinox modules for PINNs, and ``wrap`` for any module."""

from .embeddings import FourierFeatures, PeriodicEmbedding
from .mlp import MLP, mlp
from .wrap import wrap

__all__ = ["MLP", "FourierFeatures", "PeriodicEmbedding", "mlp", "wrap"]
