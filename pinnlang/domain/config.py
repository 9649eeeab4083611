"""Validation of constructor arguments: ranges, mesh sizes, sampler settings.

Every check raises :class:`pinnlang.errors.ConfigurationError` with what was wrong and what to do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from ..errors import ConfigurationError
from ..validate import is_real
from .samplers import RANDOM_SAMPLERS, check_sampler, key_words


@dataclass(frozen=True)
class Sampling:
    """How a constructor places its points.

    Attributes:
        sampler: one of ``"grid"``, ``"uniform"``, ``"sobol"``, ``"halton"``, ``"lhs"``.
        mesh_size: grid spacing (grid only): one float for every axis, or a tuple with one per axis.
        num_points: number of interior points (random samplers only).
        num_boundary_points: number of boundary points asked for, or ``None`` for the default.
        key: the JAX PRNG key of the random draws (random samplers only).
    """

    sampler: str
    mesh_size: float | tuple[float, ...] | None = None
    num_points: int | None = None
    num_boundary_points: int | None = None
    key: Any = None

    @property
    def is_random(self) -> bool:
        return self.sampler != "grid"

    def steps(self, axes: tuple[str, ...]) -> tuple[float, ...]:
        """One grid spacing per axis of ``axes`` (a single ``mesh_size`` applies to all of them).

        Raises:
            ConfigurationError: a per-axis ``mesh_size`` with another number of entries than ``axes``.
        """
        if not isinstance(self.mesh_size, tuple):
            return (self.mesh_size,) * len(axes)
        if len(self.mesh_size) != len(axes):
            raise ConfigurationError(
                f"mesh_size={self.mesh_size} gives {len(self.mesh_size)} spacing(s) but the domain has "
                f"{len(axes)} axis/axes ({', '.join(axes)}); give one number for all axes or one per axis"
            )
        return self.mesh_size


def check_range(name: str, value) -> tuple[float, float]:
    """``(low, high)`` as floats, or an error when it is not two finite numbers with ``low < high``."""
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a pair (low, high) of numbers, got {value!r}") from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ConfigurationError(f"{name} must be finite, got {value!r}")
    if not low < high:
        raise ConfigurationError(f"{name} must satisfy low < high, got {value!r}; swap or widen the range")
    return low, high


def check_mesh_size(value) -> float | tuple[float, ...]:
    """A grid spacing: one positive finite number, or a sequence of them (one per axis)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        steps = tuple(check_mesh_size(v) for v in np.ravel(np.asarray(value, dtype=object)))
        if not steps:
            raise ConfigurationError("mesh_size=() gives no spacing; give one number, or one per axis")
        return steps
    if not is_real(value) or not (math.isfinite(float(value)) and float(value) > 0):
        raise ConfigurationError(f"mesh_size must be a positive number (or one per axis, e.g. mesh_size=(0.05, "
                                 f"0.1)), got {value!r}")
    return float(value)


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def resolve_key(key, seed):
    """The PRNG key from ``key`` or ``seed`` (exactly one of them), or ``None`` when neither is given."""
    if key is not None and seed is not None:
        raise ConfigurationError("give either key=... or seed=..., not both")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ConfigurationError(f"seed must be an integer, got {seed!r}")
        return jax.random.PRNGKey(int(seed))
    if key is not None:
        key_words(key)  # raises a ConfigurationError for anything but a JAX key
    return key


def resolve_sampling(sampler="grid", mesh_size=None, num_points=None, key=None, seed=None,
                     num_boundary_points=None) -> Sampling:
    """Check the sampling arguments of a constructor and bundle them.

    Raises:
        ConfigurationError: unknown sampler, a grid without ``mesh_size``, a random sampler without
            ``num_points`` or key/seed, or arguments that belong to the other kind of sampler.
    """
    check_sampler(sampler)
    key = resolve_key(key, seed)
    if sampler == "grid":
        if num_points is not None:
            raise ConfigurationError(
                f"num_points={num_points!r} was given with sampler='grid'; pass sampler='uniform' (or "
                f"{', '.join(map(repr, RANDOM_SAMPLERS[1:]))}) to draw num_points random points, or use mesh_size=..."
            )
        if num_boundary_points is not None:
            raise ConfigurationError("num_boundary_points is for random samplers; a grid's boundary nodes follow "
                                     "from mesh_size")
        if mesh_size is None:
            raise ConfigurationError("sampler='grid' needs mesh_size=... (the grid spacing); or choose a random "
                                     "sampler ('uniform', 'sobol', 'halton', 'lhs') with num_points=... and seed=...")
        return Sampling("grid", mesh_size=check_mesh_size(mesh_size))
    if mesh_size is not None:
        raise ConfigurationError(f"mesh_size is for sampler='grid'; with sampler={sampler!r} give num_points=... "
                                 "instead")
    if num_points is None:
        raise ConfigurationError(f"sampler={sampler!r} needs num_points=... (how many interior points to draw)")
    num_points = _positive_int("num_points", num_points)
    if num_boundary_points is not None:
        num_boundary_points = _positive_int("num_boundary_points", num_boundary_points)
    if key is None:
        raise ConfigurationError(f"sampler={sampler!r} draws random points: pass seed=<int> or "
                                 "key=jax.random.PRNGKey(...)")
    return Sampling(sampler, num_points=num_points, num_boundary_points=num_boundary_points, key=key)


def grid_nodes(name: str, low: float, high: float, mesh_size: float) -> np.ndarray:
    """Grid nodes along one axis: ``round((high - low) / mesh_size) + 1`` equispaced nodes, ends included.

    The spacing is adjusted to fit the range exactly (as ``np.linspace`` does).

    Returns:
        ``(m,)`` float64 array, ``m >= 3`` (at least one interior node).
    """
    length = high - low
    if mesh_size > length:
        raise ConfigurationError(f"mesh_size={mesh_size} is larger than the domain along {name} (length {length}); "
                                 "use a smaller mesh_size")
    m = int(round(length / mesh_size)) + 1
    if m < 3:
        raise ConfigurationError(f"mesh_size={mesh_size} leaves no interior node along {name} (length {length}); "
                                 f"use mesh_size <= {length / 2}")
    return np.linspace(low, high, m)
