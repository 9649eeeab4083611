"""Coordinate variables and the point sets they live on."""

from __future__ import annotations

import collections
import functools
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp

from .node import Node


@dataclass(frozen=True)
class PointSet:
    """The points of one tag of one domain.

    Attributes:
        domain_uid: identity of the domain.
        tag: the tag within the domain (``"interior"``, ``"boundary"``, ...).
        domain: the domain object itself (not part of equality).
    """

    domain_uid: int
    tag: str
    domain: object = field(compare=False, hash=False, repr=False)

    def __str__(self) -> str:
        name = getattr(self.domain, "name", f"domain#{self.domain_uid}")
        n = self.num_points
        return f"'{self.tag}' of {name} ({n} points)"

    @property
    def num_points(self) -> int:
        return int(self.domain.context[self.tag].shape[0])

    @property
    def width(self) -> int:
        """Number of coordinate columns (spatial dims, plus time)."""
        return int(self.domain.context[self.tag].shape[1])


class Variable(Node):
    """One coordinate column of a point set: evaluates to ``(n, 1)``.

    Args:
        points: the point set.
        dim: the column index into the point array ``(n, d)``.
        name: axis name for messages (``"x"``, ``"t"``, ...).
        is_time: whether this is the time axis.
    """

    def __init__(self, points: PointSet, dim: int, name: str, is_time: bool = False):
        self.points = points
        self.dim = dim
        self.name = name
        self.is_time = is_time
        self.aval = jax.ShapeDtypeStruct((points.num_points, 1), jnp.float32)

    def static(self):
        return (self.points.domain_uid, self.points.tag, self.dim)

    def lower(self, env, args):
        coords = env.coords[self.points]
        return coords[:, self.dim : self.dim + 1]

    def __repr__(self) -> str:
        return f"<Variable {self.name} on {self.points}>"


class _VariablesMixin:
    """Named access on top of the tuple ``(*spatial, time)`` that ``dom.variable(tag)`` returns."""

    __slots__ = ()

    @property
    def spatial(self) -> tuple:
        """The spatial variables, in axis order (without the time entry)."""
        return tuple(self)[:-1]

    @property
    def time(self):
        """The time variable, or ``None`` when the domain has no time axis (the same as ``.t``)."""
        return self[-1]


@functools.lru_cache(maxsize=None)
def variables_type(spatial_names: tuple[str, ...]) -> type:
    """The NamedTuple class ``Variables(<spatial names>..., t)`` for domains with these spatial axes.

    One class per axis layout, cached: ``line`` gives ``(x, t)``, ``rect`` ``(x, y, t)``, ``box``
    ``(x, y, z, t)``, ``from_array`` with ``d`` columns ``(x, y, z, x3, ..., t)``.
    """
    base = collections.namedtuple("Variables", (*spatial_names, "t"))
    doc = (f"The coordinate variables of one point set: ``{', '.join(spatial_names)}``, then ``t`` "
           "(``None`` without a time axis). Unpacks like a tuple: ``x, _ = line.variable('interior')``.")
    return type("Variables", (_VariablesMixin, base), {"__slots__": (), "__doc__": doc,
                                                      "__module__": __name__})


def coordinate_variables(domain, tag: str) -> tuple:
    """The coordinate variables of ``domain``'s point set ``tag``.

    Returns:
        A NamedTuple ``Variables(*spatial_variables, t)`` (fields named after the axes, e.g.
        ``(x, y, t)`` on a rectangle); ``t`` is ``None`` when the domain has no time axis, so the
        tuple always has ``spatial_dims + 1`` entries: ``x, _ = line.variable("interior")``,
        ``x, y, t = rect_in_time.variable("interior")``, or by name ``v = dom.variable(tag); v.x, v.t``.
        ``.spatial`` is the tuple of spatial variables and ``.time`` the same as ``.t``.
    """
    ps = PointSet(domain.uid, tag, domain)
    names = tuple(domain.axis_names)
    spatial = tuple(Variable(ps, j, names[j]) for j in range(domain.spatial_dims))
    if domain.has_time:
        t = Variable(ps, domain.spatial_dims, names[domain.spatial_dims], is_time=True)
    else:
        t = None
    return variables_type(names[: domain.spatial_dims])(*spatial, t)
