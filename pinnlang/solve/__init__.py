"""Solving: ``pl.core``, the scan-chunked loop, evaluation and history."""

from .core import Core, core
from .history import History

__all__ = ["Core", "History", "core"]
