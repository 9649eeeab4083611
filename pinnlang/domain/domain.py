"""The Domain: named point sets (tags) over a geometry, and the variables that live on them."""

from __future__ import annotations

import functools
import itertools
from typing import Callable, Protocol

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigurationError, DataError, ShapeError, TagError
from ..validate import check_finite
from .config import Sampling
from .patches import Geometry

_uids = itertools.count()


class RandomTag(Protocol):
    """A randomly drawn point set: ``sample(key, xp)`` gives ``(n, d)`` float32 points."""

    is_random: bool

    def sample(self, key, xp): ...


def as_points(name: str, value, width: int | None = None) -> np.ndarray:
    """``value`` as a C-contiguous ``(n, d)`` float32 array (1-D input becomes ``(n, 1)``).

    Raises:
        ShapeError: not 1-D or 2-D, no points, or ``d != width`` when a width is given.
        DataError: NaN or inf coordinates.
    """
    try:
        arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise ShapeError(f"points of {name!r} must be an (n,) or (n, d) array of numbers, got "
                         f"{type(value).__name__}") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ShapeError(f"points of {name!r} must be an (n,) or (n, d) array, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ShapeError(f"points of {name!r} are empty; give at least one point")
    if width is not None and arr.shape[1] != width:
        raise ShapeError(f"points of {name!r} have {arr.shape[1]} columns but the domain has {width} "
                         "coordinates per point (spatial dimensions, then time)")
    check_finite(f"the point array of tag {name!r}", arr, "drop those rows (points = "
                 "points[np.isfinite(points).all(axis=1)]) and the matching rows of any data measured at them",
                 DataError)
    return np.ascontiguousarray(arr)


class PointSets(dict):
    """A ``dict`` tag -> ``(n, d)`` float32 points; assigning converts (and checks the width of) the new points."""

    def __init__(self, width: int):
        super().__init__()
        self._width = width

    def __setitem__(self, tag: str, value) -> None:
        if not isinstance(tag, str) or not tag:
            raise TagError(f"tags are non-empty strings, got {tag!r}")
        super().__setitem__(tag, as_points(tag, value, self._width))

    def update(self, *args, **kwargs) -> None:
        for tag, value in dict(*args, **kwargs).items():
            self[tag] = value

    def setdefault(self, tag: str, default=None):
        if tag not in self:
            self[tag] = default
        return self[tag]

    def __ior__(self, other):
        self.update(other)
        return self

    def reorder(self, order) -> None:
        """Put the tags in ``order`` first, in that order (the points are kept as they are)."""
        items = {t: dict.__getitem__(self, t) for t in (*order, *self) if t in self}
        dict.clear(self)
        dict.update(self, items)

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{t!r}: array{a.shape}" for t, a in self.items()) + "}"


class Domain:
    """Named point sets over a geometry.

    Points are float32 always (also under ``jax_enable_x64``), one row per point, the spatial
    coordinates first and time (if any) last.

    Attributes:
        uid: unique identity of this domain.
        name: a readable name (``"rect[0, 1]x[0, 1]"``).
        context: tag -> ``(n, d)`` float32 points, ``d = spatial_dims + has_time``. Entries may be
            replaced or added (they are converted to float32); a replaced random tag is no longer resampled.
        spatial_dims: number of spatial coordinates.
        has_time: whether the last coordinate is time.
        axis_names: coordinate names, e.g. ``("x", "y", "t")``.
    """

    def __init__(self, name: str, axis_names: tuple[str, ...], *, has_time: bool = False,
                 fixed: dict[str, np.ndarray] | None = None, random: dict[str, RandomTag] | None = None,
                 key=None, sampling: Sampling | None = None, geometry: Geometry | None = None,
                 time_range: tuple[float, float] | None = None, tag_order: tuple[str, ...] | None = None):
        """Build a domain from fixed point arrays and random draws.

        Args:
            name: readable name.
            axis_names: one name per coordinate (time last).
            has_time: whether the last coordinate is time.
            fixed: tag -> fixed ``(n, d)`` points (grids, data).
            random: tag -> random draw (``.sample(key, xp)``, ``.is_random``); the domain's points are
                drawn from ``key`` with NumPy, fresh ones (:meth:`resampler`) with JAX.
            key: the PRNG key of ``random``.
            sampling: how the constructor placed its points (kept for space-time products).
            geometry: the spatial geometry (kept for space-time products).
            time_range: ``(t0, t1)`` of a space-time domain.
            tag_order: order of the tags (default: fixed ones, then random ones).
        """
        self.uid = next(_uids)
        self.name = name
        self.axis_names = tuple(axis_names)
        self.has_time = bool(has_time)
        self.spatial_dims = len(self.axis_names) - int(self.has_time)
        self.sampling = sampling
        self.geometry = geometry
        self.time_range = time_range
        self.context = PointSets(len(self.axis_names))
        self._random: dict[str, RandomTag] = {}
        self._drawn: dict[str, np.ndarray] = {}
        for tag, points in (fixed or {}).items():
            self.context[tag] = points
        for tag, draw in (random or {}).items():
            self.context[tag] = draw.sample(key, np)
            if draw.is_random:
                self._random[tag] = draw
                self._drawn[tag] = self.context[tag]
        if tag_order is not None:
            self.context.reorder(tag_order)
        self.geometry_tags = tuple(self.context)

    # -- tags --------------------------------------------------------------------------------
    @property
    def tags(self) -> list[str]:
        """Names of the point sets, in definition order."""
        return list(self.context)

    def _check_tag(self, tag: str) -> None:
        if tag not in self.context:
            raise TagError(
                f"domain {self.name!r} has no tag {tag!r}; it defines {self.tags}. Define a new one with "
                f"dom.tag({tag!r}, predicate, of='interior') (predicate: (n, d) points -> (n,) bool mask) or "
                f"dom.context[{tag!r}] = points"
            )

    def num_points(self, tag: str) -> int:
        """Number of points of ``tag``."""
        self._check_tag(tag)
        return int(self.context[tag].shape[0])

    def variable(self, tag: str) -> tuple:
        """The coordinate variables on the points of ``tag``.

        Returns:
            A NamedTuple ``Variables(x, [y, [z,]] t)``: one field per spatial axis (named after the
            axis), then ``t``, which is ``None`` without a time axis. It unpacks as a tuple of
            ``spatial_dims + 1`` entries, ``x, _ = line.variable("interior")``,
            ``x, y, _ = rect.variable("interior")``, ``x, t = spacetime.variable("interior")``, or by
            name: ``v = dom.variable("interior"); v.x, v.t, v.spatial``.
        """
        self._check_tag(tag)
        from pinnlang.trace.variables import coordinate_variables

        return coordinate_variables(self, tag)

    def tag(self, name: str, predicate: Callable[[np.ndarray], np.ndarray], of: str = "interior") -> "Domain":
        """Define tag ``name`` as the points of tag ``of`` where ``predicate`` holds.

        Args:
            name: the new tag (must not exist yet).
            predicate: ``(n, d)`` float32 points -> ``(n,)`` boolean mask.
            of: the tag to select from.

        Returns:
            This domain (so calls chain). The new tag is a fixed subset: it is not resampled.
        """
        self._check_tag(of)
        if not isinstance(name, str) or not name:
            raise TagError(f"a tag name is a non-empty string, got {name!r}")
        if name in self.context:
            raise TagError(f"domain {self.name!r} already has a tag {name!r}; choose another name")
        points = self.context[of]
        mask = np.asarray(predicate(points))
        if mask.shape == (len(points), 1):
            mask = mask[:, 0]
        if mask.shape != (len(points),):
            raise ShapeError(f"the predicate of tag {name!r} returned shape {mask.shape}; it must return a boolean "
                             f"mask of shape ({len(points)},), one entry per point of {of!r}")
        if mask.dtype != np.bool_:
            raise ShapeError(f"the predicate of tag {name!r} returned {mask.dtype} values; return a boolean mask, "
                             "e.g. lambda p: p[:, 0] < 0.5")
        if not mask.any():
            raise TagError(f"the predicate of tag {name!r} selects none of the {len(points)} points of {of!r}; "
                           "check the predicate (or the tag it selects from)")
        self.context[name] = points[mask]
        return self

    # -- resampling --------------------------------------------------------------------------
    def resampler(self, tag: str) -> Callable[[jax.Array], jax.Array] | None:
        """A pure, jit-traceable ``key -> (n, d)`` float32 function drawing fresh points for ``tag``.

        Returns:
            The function for tags drawn at random (same sampler, same count), ``None`` for grid, data,
            user-defined and replaced tags.
        """
        self._check_tag(tag)
        draw = self._random.get(tag)
        if draw is None or self.context[tag] is not self._drawn[tag]:
            return None
        return functools.partial(draw.sample, xp=jnp)

    # -- display -----------------------------------------------------------------------------
    def __repr__(self) -> str:
        sampler = self.sampling.sampler if self.sampling is not None else "data"
        head = f"Domain {self.name!r} (axes {', '.join(self.axis_names)}; sampler {sampler})"
        width = max((len(t) for t in self.context), default=0)
        lines = []
        for t, a in self.context.items():
            note = "  resampled" if self.resampler(t) is not None else ""
            n = a.shape[0]
            lines.append(f"  {t:<{width}}  {n:>7} point{'s' if n != 1 else ''}{note}")
        return "\n".join([head, *lines])


def check_domain(value, what: str = "constructor") -> Domain:
    """``value`` if it is a Domain, else a ``ConfigurationError``."""
    if not isinstance(value, Domain):
        raise ConfigurationError(f"{what} must be a Domain (e.g. pl.domain.line(...)), got {type(value).__name__}")
    return value
