"""Bayesian building blocks: priors and convergence diagnostics (R-hat, ESS)."""

from . import priors
from .diagnostics import ess, rhat

__all__ = ["ess", "priors", "rhat"]
