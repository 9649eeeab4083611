"""``pl.noise``: fixed noise realisations for synthetic data."""

from .trace.noise import GaussianNoise, gaussian

__all__ = ["GaussianNoise", "gaussian"]
