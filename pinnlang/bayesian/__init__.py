"""Bayesian building blocks: priors, convergence diagnostics (R-hat, ESS) and chain health warnings."""

from . import priors
from .diagnostics import ess, rhat
from .health import chain_warnings

__all__ = ["chain_warnings", "ess", "priors", "rhat"]
