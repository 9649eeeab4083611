"""Bayesian building blocks: priors, warm-start initialisers, convergence diagnostics (R-hat, ESS), chain health."""

from . import priors
from .initializers import GaussianApproximation, Initializer, laplace, pathfinder, svgd
from .diagnostics import ess, rhat
from .health import chain_warnings

__all__ = ["GaussianApproximation", "Initializer", "chain_warnings", "ess", "laplace", "pathfinder", "priors", "rhat",
           "svgd"]
