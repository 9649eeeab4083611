"""Reductions: turn a pointwise residual into a scalar loss term."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .node import Node

REDUCTIONS = {
    "mse": lambda v: jnp.mean(jnp.square(v)),
    "mean": jnp.mean,
    "sum": jnp.sum,
    "norm": lambda v: jnp.sqrt(jnp.sum(jnp.square(v))),
}


class Reduction(Node):
    """A scalar summary of all entries of ``child`` (over points and value axes).

    Args:
        kind: one of ``"mse"``, ``"mean"``, ``"sum"``, ``"norm"``.
        child: the expression to reduce, shape ``(n, ...)`` or point-free.
    """

    def __init__(self, kind: str, child: Node):
        if kind not in REDUCTIONS:
            raise ValueError(f"unknown reduction {kind!r}; use one of {sorted(REDUCTIONS)}")
        self.kind = kind
        self.child = child
        self.points = None
        self.aval = jax.ShapeDtypeStruct((), child.aval.dtype)

    def children(self):
        return (self.child,)

    def static(self):
        return self.kind

    def lower(self, env, args):
        return REDUCTIONS[self.kind](args[0])

    def __repr__(self) -> str:
        return f"<{self.kind} of {self.child!r}>"
