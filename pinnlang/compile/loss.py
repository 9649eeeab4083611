"""The loss closure (and the log-density built on it)."""

from __future__ import annotations

from typing import Sequence

import jax.numpy as jnp
import numpy as np

from ..errors import ConfigurationError
from ..validate import is_real
from ..trace import Node
from ..trace.ops import as_node
from .program import Program


def check_loss_terms(losses: Sequence) -> list[Node]:
    """Each constraint must be a scalar (a reduced residual); raise otherwise."""
    if isinstance(losses, Node):
        losses = [losses]
    if not isinstance(losses, (list, tuple)) or not losses:
        raise ConfigurationError("pl.core needs a non-empty list of loss terms, e.g. pl.core([pde.mse, bc.mse])")
    out = []
    for i, term in enumerate(losses):
        if not isinstance(term, Node):
            raise ConfigurationError(f"loss term {i} is a {type(term).__name__}, not a pinnlang expression")
        if term.points is not None or term.shape != ():
            raise ConfigurationError(
                f"loss term {i} has shape {term.shape} (it is not reduced to a scalar). A constraint must be "
                "reduced: write residual.mse for a mean squared residual (or .mean/.sum/.norm). Minimising an "
                "unreduced residual would silently minimise its signed mean."
            )
        out.append(as_node(term))
    return out


class CompiledLoss:
    """``loss(params, data) -> (total, terms)`` with ``total = Σ_i w_i · term_i``.

    Args:
        losses: scalar loss expressions.
        weights: one non-negative weight per term (default all ones).
        names: display names of the terms (default ``loss_0``, ``loss_1``, ...).
    """

    def __init__(self, losses, weights=None, names=None):
        self.terms_nodes = check_loss_terms(losses)
        n = len(self.terms_nodes)
        if weights is None:
            weights = [1.0] * n
        weights = list(weights) if isinstance(weights, (list, tuple, np.ndarray)) else [weights] * n
        if len(weights) != n:
            raise ConfigurationError(f"got {len(weights)} weights for {n} loss terms; give one weight per term")
        for i, w in enumerate(weights):
            if not is_real(w) or not np.isfinite(float(w)) or float(w) < 0:
                raise ConfigurationError(
                    f"loss weights must be non-negative finite numbers, got {w!r} for term {i} (weights {weights}); "
                    "a NaN or inf weight makes the total loss NaN"
                )
        weights = [float(w) for w in weights]
        self.weights = weights
        self.names = list(names) if names is not None else [f"loss_{i}" for i in range(n)]
        if len(self.names) != n:
            raise ConfigurationError(f"got {len(self.names)} names for {n} loss terms")
        self.program = Program(self.terms_nodes)

    def terms(self, params, data, statics=None) -> jnp.ndarray:
        """Unweighted term values ``(T,)``."""
        return jnp.stack([jnp.asarray(v, dtype=jnp.result_type(float)) for v in
                          self.program.evaluate(params, data, statics)])

    def __call__(self, params, data, statics=None):
        """``(total, terms)`` with ``total`` the weighted sum (scalar) and ``terms`` ``(T,)``."""
        t = self.terms(params, data, statics)
        return jnp.dot(jnp.asarray(self.weights, t.dtype), t), t

    def log_density(self, params, data, log_prior=None, likelihood_scale: float = 1.0, statics=None):
        """``-likelihood_scale · Σ w_i term_i + log_prior(params)`` (scalar)."""
        total, _ = self(params, data, statics)
        lp = 0.0 if log_prior is None else log_prior(params)
        return -likelihood_scale * total + lp
