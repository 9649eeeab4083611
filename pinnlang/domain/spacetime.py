"""Time intervals and space-time products (time is the last coordinate).

Three ways to combine space and time, chosen by the samplers:

* grid space x grid time: the tensor product, time-major (all spatial nodes at the first time
  after ``t0``, then at the next, ...).
* random space x time range: pairs drawn jointly with the space's sampler in the unit cube of one
  more dimension (so Sobol, Halton and LHS stratify time too), times in ``(t0, t1]``. Counts:
  ``num_points`` interior pairs; ``num_boundary_points`` (default: the interior spacing in space-time,
  ``ceil(|dOmega| T (n / (|Omega| T)) ** (d / (d + 1)))``) pairs on the spatial boundary; ``initial``
  holds the spatial domain's own interior and boundary draws at ``t0``.
* grid space x random times: each spatial node at ``num_points`` random times in ``(t0, t1]``,
  the same times for every tag (the tensor product with a random time grid).

Tags: each tag of the spatial constructor (``interior``, ``boundary``, sides) with ``t > t0``, and
``initial`` (spatial interior and boundary at ``t = t0``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np

from ..errors import ConfigurationError
from .config import check_mesh_size, check_range, resolve_key
from .domain import Domain, check_domain
from .patches import Geometry, Patch, PatchDraw, default_boundary_count, half_open_interval
from .samplers import check_sampler, draw_unit


@dataclass(frozen=True)
class TimeInterval:
    """A time axis ``[t0, t1]`` and how to place times on it (not a Domain by itself).

    Attributes:
        t_range: ``(t0, t1)``.
        mesh_size: time step of a grid.
        num_points: number of random times (grid space x random time only).
        sampler: ``"grid"`` or a random sampler.
        key: PRNG key of random times.
    """

    t_range: tuple[float, float]
    mesh_size: float | None = None
    num_points: int | None = None
    sampler: str = "grid"
    key: Any = None

    @property
    def range_only(self) -> bool:
        """True when only the range is given (the times then come from a random space's draws)."""
        return self.mesh_size is None and self.num_points is None and self.key is None

    def grid(self) -> np.ndarray:
        """``(m,)`` float64 grid times, ``t0`` first and ``t1`` last."""
        t0, t1 = self.t_range
        m = int(round((t1 - t0) / self.mesh_size)) + 1
        return np.linspace(t0, t1, m)


def time(t_range=(0.0, 1.0), mesh_size=None, num_points=None, sampler="grid", key=None, *,
         seed=None) -> TimeInterval:
    """A time interval for ``pl.domain(constructor=..., time=...)``.

    Args:
        t_range: ``(t0, t1)`` with ``t0 < t1``.
        mesh_size: time step (grid space); adjusted to fit the range exactly.
        num_points: number of random times per spatial node (grid space with a random ``sampler``).
        sampler: ``"grid"`` (default) or ``"uniform"``, ``"sobol"``, ``"halton"``, ``"lhs"``.
        key: PRNG key of random times (or give ``seed``).
        seed: integer seed, instead of ``key``.

    Returns:
        A :class:`TimeInterval`. With a randomly sampled space give only ``t_range``: times are then
        drawn jointly with the spatial points.
    """
    t0, t1 = check_range("t_range", t_range)
    check_sampler(sampler)
    key = resolve_key(key, seed)
    if mesh_size is not None:
        mesh_size = check_mesh_size(mesh_size)
        if isinstance(mesh_size, tuple):
            raise ConfigurationError(f"the time axis takes one mesh_size (the time step), got {mesh_size}")
        if sampler != "grid":
            raise ConfigurationError(f"mesh_size is for sampler='grid'; with sampler={sampler!r} give num_points")
        if not mesh_size > 0:
            raise ConfigurationError(f"mesh_size must be a positive number, got {mesh_size!r}")
        if mesh_size > t1 - t0:
            raise ConfigurationError(f"mesh_size={mesh_size} is larger than the time interval (length {t1 - t0}); "
                                     "use a smaller mesh_size")
    if num_points is not None:
        if sampler == "grid":
            raise ConfigurationError("num_points is for random times; pass sampler='uniform' (or 'sobol', 'halton', "
                                     "'lhs') with it, or use mesh_size=... for a time grid")
        if isinstance(num_points, bool) or not isinstance(num_points, (int, np.integer)) or num_points <= 0:
            raise ConfigurationError(f"num_points must be a positive integer, got {num_points!r}")
        num_points = int(num_points)
    return TimeInterval((t0, t1), mesh_size, num_points, sampler, key)


def _with_time(points: np.ndarray, times: np.ndarray) -> np.ndarray:
    """``(n, d)`` points x ``(m,)`` times -> ``(m n, d + 1)``, time-major."""
    n, m = len(points), len(times)
    return np.concatenate([np.tile(points, (m, 1)), np.repeat(times, n)[:, None]], axis=1)


def _initial(space: Domain, t0: float) -> np.ndarray:
    pts = np.concatenate([space.context["interior"], space.context["boundary"]], axis=0)
    return _with_time(pts, np.array([t0], dtype=np.float32))


def _grid_product(space: Domain, interval: TimeInterval, name: str, axes) -> Domain:
    if interval.mesh_size is None:
        raise ConfigurationError("a grid space needs a time grid: pass mesh_size=... to pl.domain.time, or "
                                 "sampler='uniform' (etc.) with num_points=... and seed=... for random times")
    times = interval.grid().astype(np.float32)
    fixed = {tag: _with_time(space.context[tag], times[1:]) for tag in space.geometry_tags}
    fixed["initial"] = _initial(space, times[0])
    return Domain(name, axes, has_time=True, fixed=fixed, sampling=space.sampling, time_range=interval.t_range)


@dataclass(frozen=True)
class _TimesDraw:
    """Fixed spatial points, each at the same ``num_points`` random times in ``(t0, t1]`` (time-major)."""

    points: np.ndarray
    sampler: str
    num_points: int
    t_range: tuple[float, float]
    is_random: bool = True

    def sample(self, key, xp=jnp):
        times = half_open_interval(draw_unit(self.sampler, self.num_points, 1, key, 0, xp)[:, 0], *self.t_range,
                                   xp=xp)
        pts = xp.asarray(self.points)
        m, n = times.shape[0], pts.shape[0]
        return xp.concatenate([xp.tile(pts, (m, 1)), xp.repeat(times, n)[:, None]], axis=1)


def _random_times_product(space: Domain, interval: TimeInterval, name: str, axes) -> Domain:
    if interval.num_points is None or interval.key is None:
        raise ConfigurationError(f"random times (sampler={interval.sampler!r}) need num_points=... and seed=... "
                                 "(or key=...) in pl.domain.time")
    random = {tag: _TimesDraw(space.context[tag], interval.sampler, interval.num_points, interval.t_range)
              for tag in space.geometry_tags}
    return Domain(name, axes, has_time=True, fixed={"initial": _initial(space, interval.t_range[0])},
                  random=random, key=interval.key, sampling=space.sampling, time_range=interval.t_range,
                  tag_order=(*space.geometry_tags, "initial"))


def _lift(patch: Patch, t0: float, t1: float) -> Patch:
    k = patch.dim

    def embed(u, xp):
        t = half_open_interval(u[:, k], t0, t1, xp=xp)
        return xp.concatenate([patch.embed(u[:, :k], xp), t[:, None]], axis=1)

    return Patch(patch.index, k + 1, patch.measure * (t1 - t0), embed)


def _at_t0(patch: Patch, t0: float) -> Patch:
    def embed(u, xp):
        x = patch.embed(u, xp)
        return xp.concatenate([x, xp.full((x.shape[0], 1), np.float32(t0), dtype=xp.float32)], axis=1)

    return Patch(patch.index + 100, patch.dim, patch.measure, embed)


def _random_product(space: Domain, interval: TimeInterval, name: str, axes) -> Domain:
    sampling = space.sampling
    if not interval.range_only or interval.sampler not in ("grid", sampling.sampler):
        raise ConfigurationError(
            f"with a randomly sampled space (sampler={sampling.sampler!r}) times are drawn jointly with the "
            "spatial points: build the time axis as pl.domain.time(t_range) only; the number of points comes from "
            "the spatial constructor's num_points / num_boundary_points and its seed"
        )
    (t0, t1), g = interval.t_range, space.geometry
    st = Geometry(g.dims + 1, _lift(g.interior, t0, t1), {s: _lift(p, t0, t1) for s, p in g.sides.items()})
    n, nb = sampling.num_points, sampling.num_boundary_points
    if nb is None:
        nb = default_boundary_count(n, st.interior.measure, st.boundary_measure, st.dims, len(st.sides))
    draws = st.draws(sampling.sampler, n, nb)
    spatial = g.spatial_draws(sampling.sampler, n, sampling.num_boundary_points)
    parts = spatial["interior"].parts + spatial["boundary"].parts
    draws["initial"] = PatchDraw(sampling.sampler, tuple((_at_t0(p, t0), c) for p, c in parts))
    return Domain(name, axes, has_time=True, random=draws, key=sampling.key, sampling=sampling,
                  time_range=interval.t_range)


def product(space: Domain, interval: TimeInterval) -> Domain:
    """The space-time domain ``space x interval`` (see the module docstring for the three cases).

    Args:
        space: a spatial constructor's domain (``line``, ``rect``, ``box``, ``disk``).
        interval: from :func:`time`.

    Returns:
        A :class:`Domain` with ``has_time=True``, axes ``(*space.axis_names, "t")``, tags of ``space``
        (at ``t > t0``) and ``initial``.
    """
    check_domain(space)
    if not isinstance(interval, TimeInterval):
        raise ConfigurationError(f"time must come from pl.domain.time(...), got {type(interval).__name__}")
    if space.has_time:
        raise ConfigurationError(f"domain {space.name!r} already has a time axis; pass its spatial constructor")
    if space.geometry is None:
        raise ConfigurationError(f"domain {space.name!r} is a data set; space-time products need a geometry "
                                 "(line, rect, box, disk). Give data points their time column directly")
    name = f"{space.name} x time[{interval.t_range[0]:g}, {interval.t_range[1]:g}]"
    axes = (*space.axis_names, "t")
    if space.sampling.is_random:
        return _random_product(space, interval, name, axes)
    if interval.sampler == "grid":
        return _grid_product(space, interval, name, axes)
    return _random_times_product(space, interval, name, axes)


__all__ = ["TimeInterval", "product", "time"]
