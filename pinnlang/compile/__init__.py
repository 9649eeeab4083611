"""Lowering of the placeholder graph to pure JAX functions."""

from .loss import CompiledLoss, check_loss_terms
from .program import GraphAnalysis, Program
from .resampling import check_resampling

__all__ = ["CompiledLoss", "GraphAnalysis", "Program", "check_loss_terms", "check_resampling"]
