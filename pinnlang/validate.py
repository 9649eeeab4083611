"""Checks of user-given numbers and arrays, shared by every stage.

One rule for integers everywhere: Python ``int`` and integral NumPy scalars (``np.int64(2)``) are
accepted, ``bool`` is rejected (``True`` is an ``int`` to Python, never a count or an order to a
user). Arrays must be finite when they enter a problem (data, points, initial values), so a NaN is
reported by the name of the array it came in with, not later as a non-finite loss.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import ConfigurationError


def is_integer(value) -> bool:
    """``int`` or an integral NumPy scalar, but not ``bool`` (nor ``np.bool_``)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def integer(name: str, value, *, minimum: int | None = None, error=ConfigurationError) -> int:
    """``value`` as a Python ``int``, or an ``error`` naming ``name`` and the accepted range.

    Args:
        name: how the value is called in the message (e.g. ``"pl.diff order"``).
        value: the value to check.
        minimum: the smallest accepted value (``None``: any integer).
        error: the exception class to raise.
    """
    if not is_integer(value) or (minimum is not None and value < minimum):
        need = {None: "an integer", 0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer >= {minimum}")
        hint = " (True/False are not accepted as numbers)" if isinstance(value, (bool, np.bool_)) else ""
        raise error(f"{name} must be {need}, got {value!r}{hint}")
    return int(value)


def is_real(value) -> bool:
    """A real number (Python or NumPy scalar, or a 0-d real array), not a ``bool``."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, numbers.Real):
        return True
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    return shape == () and dtype is not None and np.issubdtype(dtype, np.number) \
        and not np.issubdtype(dtype, np.complexfloating) and dtype != np.bool_


def real(name: str, value, *, positive: bool = False, non_negative: bool = False,
         error=ConfigurationError) -> float:
    """``value`` as a finite ``float``, or an ``error`` naming ``name``.

    Args:
        name: how the value is called in the message.
        value: the value to check.
        positive: require ``value > 0``.
        non_negative: require ``value >= 0``.
        error: the exception class to raise.
    """
    kind = "a positive" if positive else "a non-negative" if non_negative else "a finite"
    if not is_real(value):
        raise error(f"{name} must be {kind} number, got {value!r} ({type(value).__name__})")
    v = float(value)
    if not math.isfinite(v) or (positive and v <= 0) or (non_negative and v < 0):
        raise error(f"{name} must be {kind} number, got {value!r}")
    return v


def non_finite_summary(arr: np.ndarray) -> str | None:
    """``None`` when every entry of ``arr`` is finite, else e.g. ``"2 NaN and 1 inf value(s) (the first at ...)"``."""
    a = np.asarray(arr)
    if a.dtype == object or not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.integer):
        return None
    bad = ~np.isfinite(a)
    if not bad.any():
        return None
    nan = int(np.isnan(a).sum())
    inf = int(bad.sum()) - nan
    parts = [f"{nan} NaN" if nan else "", f"{inf} inf" if inf else ""]
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    return f"{' and '.join(p for p in parts if p)} value(s) (the first at index {first})"


def check_finite(what: str, arr, fix: str, error=ConfigurationError) -> None:
    """Raise ``error`` when ``arr`` holds NaN or inf: ``what`` names the array, ``fix`` says what to do."""
    summary = non_finite_summary(arr)
    if summary is not None:
        raise error(f"{what} contains {summary}; {fix}")


__all__ = ["check_finite", "integer", "is_integer", "is_real", "non_finite_summary", "real"]
