"""Domains of given points (measurements, evaluation sets)."""

from __future__ import annotations

from typing import Mapping

from ..errors import ConfigurationError, ShapeError
from .domain import Domain, as_points

_NAMES = ("x", "y", "z")


def axis_names(d: int) -> tuple[str, ...]:
    """``x, y, z, x3, x4, ...`` for ``d`` coordinates."""
    return tuple(_NAMES[j] if j < len(_NAMES) else f"x{j}" for j in range(d))


def from_array(arrays: Mapping[str, object], name: str = "data") -> Domain:
    """A domain whose tags are the given point arrays.

    Args:
        arrays: tag -> ``(n,)`` or ``(n, d)`` points (1-D becomes ``(n, 1)``); every tag has the same ``d``.
        name: readable name of the domain.

    Returns:
        A :class:`Domain` with ``spatial_dims = d``, no time axis, axes ``x, y, z, x3, ...``, float32
        points; its tags are fixed (never resampled).
    """
    if not isinstance(arrays, Mapping) or not arrays:
        raise ConfigurationError("from_array takes a non-empty dict {tag: points}, e.g. "
                                 "pl.domain.from_array({'train': x.reshape(-1, 1)})")
    points = {tag: as_points(tag, a) for tag, a in arrays.items()}
    widths = {tag: p.shape[1] for tag, p in points.items()}
    if len(set(widths.values())) > 1:
        raise ShapeError(f"all tags of from_array need the same number of columns, got {widths}; reshape them "
                         "to (n, d) with one d")
    d = next(iter(widths.values()))
    return Domain(name, axis_names(d), fixed=points)
