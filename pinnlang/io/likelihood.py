"""Pointwise log-likelihoods of the ``gaussian_nll`` / ``categorical_nll`` loss terms, as expressions.

A likelihood term ``r.gaussian_nll(σ)`` sums ``½ (r/σ)² + log σ + ½ log 2π`` over every entry of
``r``; the same summand, negated and *not* summed, is a pointwise expression built from the
reduction's own children, so ``crux.eval`` pushes it through the posterior draws like any other.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ..trace import Apply, Constant, ModelCall, Node, Parameter, Reduction, walk

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
LIKELIHOODS = ("gaussian_nll", "categorical_nll")


def _gaussian_loglik(r, sigma):
    sigma = jnp.broadcast_to(sigma, r.shape)
    return -(0.5 * jnp.square(r / sigma) + jnp.log(sigma) + _HALF_LOG_2PI)


def _categorical_loglik(logits, labels):
    labels = jnp.reshape(labels, logits.shape[:-1]).astype(jnp.int32)
    logp = jax.nn.log_softmax(logits, axis=-1)
    return jnp.take_along_axis(logp, labels[..., None], axis=-1)


class LikelihoodTerm(NamedTuple):
    """One likelihood loss term.

    Attributes:
        name: the loss term's name (``crux.loss.names``).
        kind: ``"gaussian_nll"`` or ``"categorical_nll"``.
        weight: the term's loss weight (its log-likelihood enters the log-density times it).
        pointwise: expression of the per-entry log-likelihood, the shape of the residual ``(n, ...)``
            for Gaussian terms, ``(n, 1)`` for categorical ones.
        observed: expression of the observed values (handle-free), or ``None`` when the residual is
            not ``prediction - data`` (a PDE residual: the observation is 0 at every entry).
        zero_shape: the residual's shape, for the all-zero pseudo-observation.
    """

    name: str
    kind: str
    weight: float
    pointwise: Node
    observed: Node | None
    zero_shape: tuple


def depends_on_handles(node: Node) -> bool:
    """Whether ``node`` involves a model or a parameter."""
    return any(isinstance(n, (Parameter, ModelCall)) for n in walk([node]))


def observed_part(residual: Node) -> Node | None:
    """The handle-free side of ``prediction - data`` (or ``data - prediction``), else ``None``."""
    if isinstance(residual, Apply) and residual.name == "sub" and len(residual.args) == 2:
        left, right = residual.args
        if depends_on_handles(left) and not depends_on_handles(right):
            return right
        if depends_on_handles(right) and not depends_on_handles(left):
            return left
    return None


def likelihood_terms(crux) -> list[LikelihoodTerm]:
    """The terms of ``crux.loss`` that are ``gaussian_nll`` or ``categorical_nll`` reductions.

    Only whole loss terms count; a likelihood reduction nested in a larger term (``2 * r.gaussian_nll(σ)``)
    is not a pointwise log-likelihood of the model and is left out, and so is a term over no points (a
    prior written as a loss term, ``w.gaussian_nll(amp)`` for a centred hierarchical weight): it has no
    observations, and counting it would distort LOO and WAIC.
    """
    out = []
    for node, name, weight in zip(crux.loss.terms_nodes, crux.loss.names, crux.loss.weights):
        if not isinstance(node, Reduction) or node.kind not in LIKELIHOODS:
            continue
        if node.child.points is None:
            continue
        child, extra = node.child, node.extra[0]
        if node.kind == "gaussian_nll":
            pointwise = Apply("pinnlang_gaussian_loglik", _gaussian_loglik, [child, extra])
            observed = observed_part(child)
            shape = tuple(child.shape)
        else:
            pointwise = Apply("pinnlang_categorical_loglik", _categorical_loglik, [child, extra])
            observed = extra if not isinstance(extra, Constant) or not extra.is_scalar else None
            shape = tuple(child.shape[:-1]) + (1,)
        out.append(LikelihoodTerm(str(name), node.kind, float(weight), pointwise, observed, shape))
    return out
