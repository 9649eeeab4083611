"""Geometry, samplers and domains: ``pl.domain``.

``pl.domain`` is this package and also a function::

    dom = pl.domain(constructor=pl.domain.rect((0, 1), (0, 1), mesh_size=0.05),
                    time=pl.domain.time((0, 1), mesh_size=0.1))

returns the constructor's domain itself when ``time`` is ``None``, else the space-time product.
"""

from __future__ import annotations

import sys
import types

from . import samplers
from .boxes import box, line, rect
from .data import from_array
from .disk import disk
from .domain import Domain, check_domain
from .samplers import SAMPLERS, halton, latin_hypercube, sobol, uniform
from .spacetime import TimeInterval, product, time


def build(constructor: Domain, time: TimeInterval | None = None) -> Domain:
    """``pl.domain(constructor=..., time=...)``: the domain, or its product with a time interval.

    Args:
        constructor: a domain from ``line``, ``rect``, ``box``, ``disk`` (or ``from_array`` without time).
        time: a :class:`TimeInterval` from :func:`time`, or ``None``.

    Returns:
        ``constructor`` itself when ``time`` is ``None``, else the space-time :class:`Domain`.
    """
    check_domain(constructor)
    return constructor if time is None else product(constructor, time)


class _CallableModule(types.ModuleType):
    def __call__(self, constructor: Domain, time: TimeInterval | None = None) -> Domain:
        return build(constructor, time)


sys.modules[__name__].__class__ = _CallableModule

__all__ = [
    "SAMPLERS", "Domain", "TimeInterval", "box", "build", "disk", "from_array", "halton", "latin_hypercube", "line",
    "product", "rect", "samplers", "sobol", "time", "uniform",
]
