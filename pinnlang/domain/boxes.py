"""Axis-aligned boxes: ``line`` (1-D), ``rect`` (2-D), ``box`` (3-D).

Tags: ``interior`` (strictly inside), ``boundary`` (every boundary point once) and one tag per
side, each side with its edges and corners (so corners belong to two sides, and once to ``boundary``).
"""

from __future__ import annotations

import numpy as np

from .config import Sampling, check_range, grid_nodes, resolve_sampling
from .domain import Domain
from .patches import Geometry, Patch, open_interval

_SIDES = {
    1: (("left", "right"),),
    2: (("left", "right"), ("bottom", "top")),
    3: (("left", "right"), ("front", "back"), ("bottom", "top")),
}
_AXES = ("x", "y", "z")


def _grid(ranges, sampling: Sampling) -> dict[str, np.ndarray]:
    d = len(ranges)
    steps = sampling.steps(_AXES[:d])
    axes = [grid_nodes(_AXES[j], lo, hi, steps[j]) for j, (lo, hi) in enumerate(ranges)]
    index = np.stack([g.ravel() for g in np.meshgrid(*[np.arange(len(a)) for a in axes], indexing="ij")], axis=1)
    points = np.stack([axes[j][index[:, j]] for j in range(d)], axis=1)
    last = np.array([len(a) - 1 for a in axes])
    low, high = index == 0, index == last
    out = {"interior": points[~(low | high).any(axis=1)], "boundary": points[(low | high).any(axis=1)]}
    for j, (lo_name, hi_name) in enumerate(_SIDES[d]):
        out[lo_name] = points[low[:, j]]
        out[hi_name] = points[high[:, j]]
    return out


def _side_embed(ranges, axis: int, value: float):
    others = [j for j in range(len(ranges)) if j != axis]

    def embed(u, xp):
        cols = [None] * len(ranges)
        cols[axis] = xp.full((u.shape[0],), np.float32(value), dtype=xp.float32)
        for k, j in enumerate(others):
            cols[j] = open_interval(u[:, k], *ranges[j], xp=xp)
        return xp.stack(cols, axis=1)

    return embed


def box_geometry(ranges) -> Geometry:
    """The random-sampling description of the box ``ranges[0] x ranges[1] x ...``."""
    d = len(ranges)
    lengths = [hi - lo for lo, hi in ranges]

    def interior(u, xp):
        return xp.stack([open_interval(u[:, j], *ranges[j], xp=xp) for j in range(d)], axis=1)

    sides = {}
    for j, names in enumerate(_SIDES[d]):
        measure = float(np.prod([lengths[k] for k in range(d) if k != j]))
        for s, (name, value) in enumerate(zip(names, ranges[j])):
            sides[name] = Patch(1 + 2 * j + s, d - 1, measure, _side_embed(ranges, j, value))
    return Geometry(d, Patch(0, d, float(np.prod(lengths)), interior), sides)


def _hyperrect(ranges, sampling: Sampling) -> Domain:
    d = len(ranges)
    name = {1: "line", 2: "rect", 3: "box"}[d] + "x".join(f"[{lo:g}, {hi:g}]" for lo, hi in ranges)
    geometry = box_geometry(ranges)
    common = dict(sampling=sampling, geometry=geometry)
    if not sampling.is_random:
        return Domain(name, _AXES[:d], fixed=_grid(ranges, sampling), **common)
    draws = geometry.spatial_draws(sampling.sampler, sampling.num_points, sampling.num_boundary_points)
    return Domain(name, _AXES[:d], random=draws, key=sampling.key, **common)


def line(x_range=(0.0, 1.0), mesh_size=None, num_points=None, sampler="grid", key=None,
         num_boundary_points=None, *, seed=None) -> Domain:
    """The interval ``[a, b]``.

    Tags: ``interior`` (grid: the ``round((b - a) / mesh_size) - 1`` nodes strictly inside; random:
    ``num_points`` points in ``(a, b)``), ``boundary`` (both ends), ``left`` (``a``), ``right`` (``b``).

    Args:
        x_range: ``(a, b)`` with ``a < b``.
        mesh_size: grid spacing (``sampler="grid"``); adjusted so the nodes fit ``[a, b]`` exactly. For
            ``rect`` and ``box`` either one number for every axis or one per axis (``(hx, hy)``).
        num_points: number of random interior points.
        sampler: ``"grid"``, ``"uniform"``, ``"sobol"``, ``"halton"`` or ``"lhs"``.
        key: JAX PRNG key of the random draws (or give ``seed``).
        num_boundary_points: only used in a space-time product, as the number of ``(end, time)`` points
            (the ends of a line alone are its two points).
        seed: integer seed, instead of ``key``.

    Returns:
        A :class:`Domain` with axis ``("x",)``; points have shape ``(n, 1)``.
    """
    sampling = resolve_sampling(sampler, mesh_size, num_points, key, seed, num_boundary_points)
    return _hyperrect([check_range("x_range", x_range)], sampling)


def rect(x_range=(0.0, 1.0), y_range=(0.0, 1.0), mesh_size=None, num_points=None, sampler="grid", key=None,
         num_boundary_points=None, *, seed=None) -> Domain:
    """The rectangle ``x_range x y_range``.

    Tags: ``interior`` (strictly inside), ``boundary``, ``left`` (``x = x0``), ``right`` (``x = x1``),
    ``bottom`` (``y = y0``), ``top`` (``y = y1``). A grid's corners lie on two sides and once on the
    boundary. Random samplers draw ``num_points`` points in the open rectangle and
    ``num_boundary_points`` on the sides, shared in proportion to side lengths (at least one a side);
    by default as many as the interior spacing gives, ``ceil(perimeter * sqrt(num_points / area))``.

    Args:
        x_range, y_range: ``(low, high)`` with ``low < high``.
        mesh_size: grid spacing, one number for both axes or a pair ``(hx, hy)`` (e.g. a parameter
            axis of another range than the space axis).
        num_points, sampler, key, num_boundary_points, seed: as for :func:`line`;
            ``num_boundary_points`` is the total over the four sides.

    Returns:
        A :class:`Domain` with axes ``("x", "y")``; points have shape ``(n, 2)``.
    """
    sampling = resolve_sampling(sampler, mesh_size, num_points, key, seed, num_boundary_points)
    return _hyperrect([check_range("x_range", x_range), check_range("y_range", y_range)], sampling)


def box(x_range=(0.0, 1.0), y_range=(0.0, 1.0), z_range=(0.0, 1.0), mesh_size=None, num_points=None,
        sampler="grid", key=None, num_boundary_points=None, *, seed=None) -> Domain:
    """The box ``x_range x y_range x z_range``.

    Tags: ``interior``, ``boundary``, ``left``/``right`` (``x`` ends), ``front``/``back`` (``y`` ends),
    ``bottom``/``top`` (``z`` ends). Random boundary points are shared over the faces by area; by
    default ``ceil(surface * (num_points / volume) ** (2 / 3))``.

    Args:
        x_range, y_range, z_range: ``(low, high)`` with ``low < high``.
        mesh_size: grid spacing, one number for all axes or ``(hx, hy, hz)``.
        num_points, sampler, key, num_boundary_points, seed: as for :func:`rect`.

    Returns:
        A :class:`Domain` with axes ``("x", "y", "z")``; points have shape ``(n, 3)``.
    """
    sampling = resolve_sampling(sampler, mesh_size, num_points, key, seed, num_boundary_points)
    ranges = [check_range(f"{a}_range", r) for a, r in zip(_AXES, (x_range, y_range, z_range))]
    return _hyperrect(ranges, sampling)


__all__ = ["box", "box_geometry", "line", "rect"]
