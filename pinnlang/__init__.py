"""pinnlang: PDE residuals and Bayesian inverse problems as symbolic scripts, compiled to JAX.

``import pinnlang as pl``; the public face is ``pl.domain``, ``pl.np``, ``pl.nn``,
``pl.diff`` (and ``grad``, ``laplacian``, ``div``), ``pl.core`` and ``pl.noise``.
"""

from . import logs  # first: warnings of everything below reach stderr by default (see pinnlang/logs.py)
from . import bayesian, domain, errors, nn, noise
from .solve import Core, History, core
from .trace import diff, div, grad, laplacian
from .trace import np  # noqa: F401  (pl.np namespace)

__version__ = "0.1.0"
__all__ = ["bayesian", "Core", "History", "core", "diff", "div", "domain", "errors", "grad", "laplacian", "logs", "nn", "noise", "np"]
