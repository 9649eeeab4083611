"""Pieces of a geometry parameterised by the unit cube, and the random draws built from them.

A random tag is a :class:`PatchDraw`: ``(Patch, count)`` pairs, each ``count`` unit samples of
the patch's dimension mapped by ``patch.embed`` into the geometry, concatenated. The same code
draws with NumPy (to build a domain, no compilation) and with JAX (to resample inside a solve).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import jax.numpy as jnp
import numpy as np

from ..errors import ConfigurationError
from .samplers import draw_unit


@dataclass(frozen=True)
class Patch:
    """A piece of a geometry (its interior, a side, a circle) as the image of the unit cube.

    Attributes:
        index: a small integer, unique within a domain: the random stream of the patch's draws, so a
            side drawn for ``"left"`` and for ``"boundary"`` gets the same points.
        dim: dimension ``k`` of the unit cube (0 for a point).
        measure: length, area or volume of the piece (1 for a point); sets its share of a point budget.
        embed: ``(u, xp) -> points``: ``(c, k)`` unit samples to ``(c, width)`` float32 points, written
            with the array module ``xp`` (``numpy`` or ``jax.numpy``), any ``c``.
    """

    index: int
    dim: int
    measure: float
    embed: Callable


@dataclass(frozen=True)
class PatchDraw:
    """A random tag: ``count`` points on each patch, drawn with ``sampler``, concatenated in order."""

    sampler: str
    parts: tuple[tuple[Patch, int], ...]

    @property
    def is_random(self) -> bool:
        """Whether anything is random (points, i.e. 0-dimensional patches, are not)."""
        return any(p.dim > 0 and c > 0 for p, c in self.parts)

    def sample(self, key, xp=jnp):
        """``(sum of counts, width)`` float32 points; pure JAX with ``xp=jax.numpy``, NumPy with ``xp=numpy``."""
        out = [p.embed(draw_unit(self.sampler, c, p.dim, key, p.index, xp), xp) for p, c in self.parts if c > 0]
        return out[0] if len(out) == 1 else xp.concatenate(out, axis=0)


def allocate(total: int, patches: Sequence[Patch], what: str = "num_boundary_points") -> list[int]:
    """Split ``total`` points over patches in proportion to their measures (largest remainders), at least 1 each.

    Returns:
        One count per patch, summing to ``total``.
    """
    k = len(patches)
    if total < k:
        raise ConfigurationError(f"{what}={total} is fewer than the {k} sides of the domain; give at least {k}")
    weights = np.array([p.measure for p in patches], dtype=np.float64)
    share = total * weights / weights.sum()
    counts = np.floor(share).astype(int)
    order = np.argsort(-(share - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    for i in np.flatnonzero(counts == 0):  # a tiny side still gets a point, from the largest one
        counts[np.argmax(counts)] -= 1
        counts[i] = 1
    return [int(c) for c in counts]


def default_boundary_count(num_points: int, volume: float, area: float, dim: int, sides: int) -> int:
    """Boundary points at the interior's spacing: ``ceil(area * (num_points / volume) ** ((dim - 1) / dim))``.

    ``area`` is the boundary's measure (a point counts 1), ``dim`` the dimension of the interior. The result is
    at least ``sides`` (one point per side).
    """
    return max(sides, math.ceil(area * (num_points / volume) ** ((dim - 1) / dim)))


def open_interval(u, low: float, high: float, xp=jnp):
    """Map unit samples into the open interval ``(low, high)`` (float32, ends never reached).

    Args:
        u: ``(c,)`` or ``(c, k)`` samples in ``[0, 1)``.
        xp: ``numpy`` or ``jax.numpy``.
    """
    lo, hi = np.float32(low), np.float32(high)
    x = lo + (hi - lo) * u.astype(xp.float32)
    return xp.clip(x, np.nextafter(lo, hi), np.nextafter(hi, lo))


def half_open_interval(u, low: float, high: float, xp=jnp):
    """Map unit samples into ``(low, high]`` (float32): the high end may be hit, the low end never."""
    lo, hi = np.float32(low), np.float32(high)
    x = hi - (hi - lo) * u.astype(xp.float32)
    return xp.clip(x, np.nextafter(lo, hi), hi)


@dataclass(frozen=True)
class Geometry:
    """The random-sampling description of a spatial constructor.

    Attributes:
        dims: spatial dimension ``d``.
        interior: the open interior (a patch of dimension ``d``).
        sides: side tag -> patch of dimension ``d - 1`` (``{"boundary": circle}`` for a disk).
    """

    dims: int
    interior: Patch
    sides: dict[str, Patch]

    @property
    def boundary_measure(self) -> float:
        return float(sum(p.measure for p in self.sides.values()))

    def draws(self, sampler: str, num_points: int, num_boundary_points: int) -> dict[str, PatchDraw]:
        """Tags -> draws: ``interior``, ``boundary`` (all sides; a side once), and each side."""
        faces = list(self.sides.values())
        counts = allocate(num_boundary_points, faces)
        out = {"interior": PatchDraw(sampler, ((self.interior, num_points),))}
        out["boundary"] = PatchDraw(sampler, tuple(zip(faces, counts)))
        for (name, face), c in zip(self.sides.items(), counts):
            if name != "boundary":
                out[name] = PatchDraw(sampler, ((face, c),))
        return out

    def spatial_draws(self, sampler: str, num_points: int, num_boundary_points: int | None) -> dict[str, PatchDraw]:
        """The draws of the spatial domain itself; a line's ends are one point each whatever the budget."""
        if all(p.dim == 0 for p in self.sides.values()):
            num_boundary_points = len(self.sides)
        elif num_boundary_points is None:
            num_boundary_points = default_boundary_count(
                num_points, self.interior.measure, self.boundary_measure, self.dims, len(self.sides))
        return self.draws(sampler, num_points, num_boundary_points)
