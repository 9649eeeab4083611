"""Lowering of the placeholder graph to pure JAX functions."""

from .loss import CompiledLoss, check_loss_terms
from .program import GraphAnalysis, Program

__all__ = ["CompiledLoss", "GraphAnalysis", "Program", "check_loss_terms"]
