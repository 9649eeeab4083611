"""Update rules, one file each: NamedTuples of pure functions over a group's part of the parameters."""

from .base import DENSITY, GRADIENT, Backend, Problem, Tuning
from .mcmc import mcmc_backend
from .optax_backend import OptState, optax_backend
from .sgmcmc import sgmcmc_backend
from .vi import vi_backend

__all__ = ["Backend", "DENSITY", "GRADIENT", "OptState", "Problem", "Tuning", "mcmc_backend", "optax_backend",
           "sgmcmc_backend", "vi_backend"]
