"""Fixed noise realisations for synthetic data."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..errors import ShapeError
from ..validate import real
from .node import Node, next_uid


class GaussianNoise(Node):
    """Zero-mean Gaussian noise, one fixed draw per entry, reused at every step.

    Created unbound by :func:`gaussian`; it takes its shape and point set from the
    expression it is first combined with (``target = f(x) + pl.noise.gaussian(0.1)``).
    The draw depends only on the key and the shape, so the same data come back in
    every step, every solve, and every ``eval`` on the same points.

    Args:
        std: standard deviation (a number).
        key: a ``jax.random`` key; when ``None`` one is derived from the core's seed.
    """

    def __init__(self, std: float, key=None, uid: int | None = None, like: Node | None = None):
        self.std = real("pl.noise.gaussian(std=...)", std, non_negative=True)
        self.noise_key = key
        self.uid = next_uid() if uid is None else uid
        self.bound = like is not None
        self.points = like.points if like is not None else None
        self.aval = jax.ShapeDtypeStruct(like.shape if like is not None else (), jnp.float32)

    def bind(self, like: Node) -> "GaussianNoise":
        """This noise source shaped like ``like`` (same point set and shape)."""
        if self.bound:
            return self
        return GaussianNoise(self.std, self.noise_key, self.uid, like)

    def static(self):
        return (self.uid, self.std, self.shape)

    def lower(self, env, args):
        if not self.bound:
            raise ShapeError(
                "pl.noise.gaussian(...) was used on its own; add it to an expression over points "
                "(e.g. target = f(x) + pl.noise.gaussian(std=0.1)) so it knows its shape."
            )
        key = self.noise_key if self.noise_key is not None else env.noise_keys[self.uid]
        rows = getattr(env, "rows", {}).get(self.points) if self.points is not None else None
        if rows is not None:  # a minibatch: the same draws as on the full point set, then its rows
            full = jax.random.normal(key, (self.points.num_points,) + self.value_shape, dtype=jnp.float32)
            return self.std * full[rows]
        shape = self.shape if self.points is None else (env.coords[self.points].shape[0],) + self.value_shape
        return self.std * jax.random.normal(key, shape, dtype=jnp.float32)


def gaussian(std: float = 1.0, key=None) -> GaussianNoise:
    """Additive Gaussian noise with standard deviation ``std`` (fixed realisation).

    Args:
        std: standard deviation.
        key: optional ``jax.random`` key; without it the draw derives from ``pl.core(seed=...)``.
    """
    return GaussianNoise(std, key)
