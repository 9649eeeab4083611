"""Constraints of parameters: bijections from an unconstrained raw value to the support.

Optimisers and samplers work on the raw value; expressions see the constrained one. Samplers add
the log-Jacobian so the prior is a density of the constrained value.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from ..errors import ConfigurationError


class Bijector(NamedTuple):
    """``forward(raw) -> value``, ``inverse(value) -> raw`` and ``log|d value / d raw|`` (elementwise)."""

    name: str
    forward: callable
    inverse: callable
    log_det_jacobian: callable


def _softplus(r):
    return jnp.logaddexp(r, 0.0)


IDENTITY = Bijector("none", lambda r: r, lambda v: v, lambda r: jnp.zeros_like(r))
POSITIVE = Bijector(
    "positive",
    _softplus,
    lambda v: v + jnp.log(-jnp.expm1(-v)),  # inverse softplus, stable for small and large v
    lambda r: -_softplus(-r),  # log sigmoid(r)
)


def bounded(lo: float, hi: float) -> Bijector:
    """``lo + (hi - lo) · sigmoid(raw)``."""
    lo, hi = float(lo), float(hi)
    if not hi > lo:
        raise ConfigurationError(f"a bounded constraint needs lo < hi, got ({lo}, {hi})")
    width = hi - lo

    def forward(r):
        return lo + width / (1.0 + jnp.exp(-r))

    def inverse(v):
        u = (v - lo) / width
        return jnp.log(u) - jnp.log1p(-u)

    def log_det(r):
        return jnp.log(width) - _softplus(-r) - _softplus(r)

    return Bijector(f"bounded({lo:g}, {hi:g})", forward, inverse, log_det)


def as_bijector(constraint) -> Bijector:
    """``None`` | ``"positive"`` | ``(lo, hi)`` -> :class:`Bijector`."""
    if constraint is None or constraint == "none":
        return IDENTITY
    if constraint == "positive":
        return POSITIVE
    if isinstance(constraint, (tuple, list)) and len(constraint) == 2:
        return bounded(*constraint)
    raise ConfigurationError(f"unknown constraint {constraint!r}; use None, 'positive' or a (lo, hi) pair")
