"""The disk: tags ``interior`` (strictly inside the circle) and ``boundary`` (on the circle)."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigurationError
from .config import Sampling, grid_nodes, resolve_sampling
from .domain import Domain
from .patches import Geometry, Patch

_MARGIN = 1e-6  # interior points keep a relative distance of at least this from the circle (float32 safety)


def _check(center, radius) -> tuple[tuple[float, float], float]:
    try:
        cx, cy = (float(c) for c in center)
    except (TypeError, ValueError):
        raise ConfigurationError(f"center must be a pair (x, y) of numbers, got {center!r}") from None
    try:
        r = float(radius)
    except (TypeError, ValueError):
        raise ConfigurationError(f"radius must be a number, got {radius!r}") from None
    if not all(math.isfinite(v) for v in (cx, cy, r)):
        raise ConfigurationError(f"center and radius must be finite, got center={center!r}, radius={radius!r}")
    if r <= 0:
        raise ConfigurationError(f"radius must be positive, got {radius!r}")
    return (cx, cy), r


def _grid(center, radius, sampling: Sampling) -> dict[str, np.ndarray]:
    (cx, cy), h = center, sampling.mesh_size
    if isinstance(h, tuple):
        if len(set(h)) > 1:
            raise ConfigurationError(f"a disk's grid is square: give one mesh_size, got {h}")
        h = h[0]
    if h > 2 * radius:
        raise ConfigurationError(f"mesh_size={h} is larger than the disk (diameter {2 * radius}); use a smaller "
                                 "mesh_size")
    xs = grid_nodes("x", cx - radius, cx + radius, h)
    ys = grid_nodes("y", cy - radius, cy + radius, h)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    nodes = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    dist = np.hypot(nodes[:, 0] - cx, nodes[:, 1] - cy)
    interior = nodes[dist < radius * (1 - _MARGIN)]
    m = int(round(2 * math.pi * radius / h))
    theta = 2 * math.pi * np.arange(m) / m
    boundary = np.stack([cx + radius * np.cos(theta), cy + radius * np.sin(theta)], axis=1)
    return {"interior": interior, "boundary": boundary}


def disk_geometry(center, radius) -> Geometry:
    """The random-sampling description of a disk (uniform in area: ``r = R sqrt(u)``)."""
    cx, cy = np.float32(center[0]), np.float32(center[1])
    r_max = np.float32(radius * (1 - _MARGIN))

    two_pi, big_r = np.float32(2 * np.pi), np.float32(radius)

    def interior(u, xp):
        r = xp.minimum(big_r * xp.sqrt(u[:, 0]), r_max)
        theta = two_pi * u[:, 1]
        return xp.stack([cx + r * xp.cos(theta), cy + r * xp.sin(theta)], axis=1).astype(xp.float32)

    def circle(u, xp):
        theta = two_pi * u[:, 0]
        return xp.stack([cx + big_r * xp.cos(theta), cy + big_r * xp.sin(theta)], axis=1).astype(xp.float32)

    return Geometry(2, Patch(0, 2, math.pi * radius**2, interior),
                    {"boundary": Patch(1, 1, 2 * math.pi * radius, circle)})


def disk(center=(0.0, 0.0), radius=1.0, mesh_size=None, num_points=None, sampler="grid", key=None,
         num_boundary_points=None, *, seed=None) -> Domain:
    """The disk of ``radius`` around ``center``.

    Grid: ``interior`` holds the nodes of the square grid of spacing ``mesh_size`` that lie strictly
    inside the circle; ``boundary`` holds ``round(2 pi radius / mesh_size)`` equispaced points on it,
    the first at angle 0. Random samplers draw ``num_points`` interior points uniformly in area and
    ``num_boundary_points`` on the circle (default ``ceil(2 sqrt(pi num_points))``, the interior spacing).

    Args:
        center: ``(x, y)`` of the centre.
        radius: positive radius.
        mesh_size, num_points, sampler, key, num_boundary_points, seed: as for :func:`pinnlang.domain.rect`.

    Returns:
        A :class:`Domain` with axes ``("x", "y")``.
    """
    center, radius = _check(center, radius)
    sampling = resolve_sampling(sampler, mesh_size, num_points, key, seed, num_boundary_points)
    name = f"disk(center=({center[0]:g}, {center[1]:g}), radius={radius:g})"
    geometry = disk_geometry(center, radius)
    if not sampling.is_random:
        return Domain(name, ("x", "y"), fixed=_grid(center, radius, sampling), sampling=sampling, geometry=geometry)
    draws = geometry.spatial_draws(sampling.sampler, sampling.num_points, sampling.num_boundary_points)
    return Domain(name, ("x", "y"), random=draws, key=sampling.key, sampling=sampling, geometry=geometry)
