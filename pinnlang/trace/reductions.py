"""Reductions: turn a pointwise residual into a scalar loss term."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from ..errors import ShapeError
from .node import Node

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _gaussian_nll(r, sigma):
    """``Σ [½ (r/σ)² + log σ + ½ log 2π]``: the negative log-likelihood of residuals ``r ~ N(0, σ²)``."""
    sigma = jnp.broadcast_to(sigma, r.shape)
    return jnp.sum(0.5 * jnp.square(r / sigma) + jnp.log(sigma) + _HALF_LOG_2PI)


def _categorical_nll(logits, labels):
    """``-Σ_i log softmax(logits_i)[label_i]`` for logits ``(n, C)`` and integer labels ``(n,)`` or ``(n, 1)``."""
    labels = jnp.reshape(labels, (logits.shape[0],)).astype(jnp.int32)
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.sum(jnp.take_along_axis(logp, labels[:, None], axis=-1))


REDUCTIONS = {
    "mse": lambda v: jnp.mean(jnp.square(v)),
    "mean": jnp.mean,
    "sum": jnp.sum,
    "norm": lambda v: jnp.sqrt(jnp.sum(jnp.square(v))),
    "gaussian_nll": _gaussian_nll,
    "categorical_nll": _categorical_nll,
}


class Reduction(Node):
    """A scalar summary of all entries of ``child`` (over points and value axes).

    Args:
        kind: one of ``"mse"``, ``"mean"``, ``"sum"``, ``"norm"``, ``"gaussian_nll"``, ``"categorical_nll"``.
        child: the expression to reduce, shape ``(n, ...)`` or point-free.
        extra: further operands (the noise scale of ``gaussian_nll``, the labels of ``categorical_nll``).
    """

    def __init__(self, kind: str, child: Node, extra: tuple = ()):
        if kind not in REDUCTIONS:
            raise ValueError(f"unknown reduction {kind!r}; use one of {sorted(REDUCTIONS)}")
        self.kind = kind
        self.child = child
        self.extra = tuple(extra)
        self.points = None
        try:
            self.aval = jax.eval_shape(REDUCTIONS[kind], child.aval, *[e.aval for e in self.extra])
        except (TypeError, ValueError) as err:
            shapes = ", ".join(str(n.shape) for n in (child, *self.extra))
            raise ShapeError(f".{kind} cannot combine shapes {shapes}: {err}") from None

    def children(self):
        return (self.child, *self.extra)

    def static(self):
        return self.kind

    def lower(self, env, args):
        value = REDUCTIONS[self.kind](*args)
        scale = getattr(env, "row_scale", lambda p: 1.0)(self.child.points)
        if scale == 1.0 or self.kind in ("mse", "mean"):
            return value  # means of a random subset are unbiased as they are
        return value * (scale ** 0.5 if self.kind == "norm" else scale)

    def __repr__(self) -> str:
        return f"<{self.kind} of {self.child!r}>"
