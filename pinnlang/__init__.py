"""pinnlang: PDE residuals and Bayesian inverse problems as symbolic scripts, compiled to JAX.

``import pinnlang as pl``; the public face is ``pl.domain``, ``pl.np``, ``pl.nn``,
``pl.diff`` (and ``grad``, ``laplacian``, ``div``), ``pl.core`` and ``pl.noise``; results:
``pl.io`` (ArviZ export, summary, trackers), ``pl.plot``, ``pl.metrics``, ``pl.latex``,
``pl.from_sympy`` and ``expr.to_sympy()``.
"""

import importlib as _importlib

from . import logs  # first: warnings of everything below reach stderr by default (see pinnlang/logs.py)
from . import compilation_cache
from . import import_freeze as _import_freeze
from . import bayesian, domain, errors, nn, noise
from .solve import Core, History, core
from .trace import diff, div, grad, laplacian
from .trace import np  # noqa: F401  (pl.np namespace)
from .trace import Node as _Node

# The results packages load on first use (sympy, scipy.stats, ... cost time every `import pinnlang` otherwise).
_LAZY = {"io": "io", "plot": "plot", "metrics": "metrics", "symbolic": "symbolic", "latex": "symbolic",
         "from_sympy": "symbolic"}


def __getattr__(name):
    if name in _LAZY:
        module = _importlib.import_module(f".{_LAZY[name]}", __name__)
        return module if name == _LAZY[name] else getattr(module, name)
    raise AttributeError(f"module 'pinnlang' has no attribute {name!r}")


def _to_sympy(self, *, return_symbols: bool = False):
    """The sympy form of this expression (see :func:`pinnlang.symbolic.to_sympy`)."""
    from .symbolic import to_sympy

    return to_sympy(self, return_symbols=return_symbols)


_Node.to_sympy = _to_sympy  # bound here, not in trace, so that trace imports nothing from later stages

compilation_cache.enable_by_default()

__version__ = "0.1.0"
__all__ = ["bayesian", "Core", "History", "core", "diff", "div", "domain", "errors", "from_sympy", "grad", "io",
           "laplacian", "latex", "logs", "compilation_cache", "metrics", "nn", "noise", "np", "plot", "symbolic"]

_import_freeze.freeze_by_default()  # last: everything the import made (see pinnlang/import_freeze.py)
