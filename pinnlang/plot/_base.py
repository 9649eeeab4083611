"""Figures without pyplot state: ``matplotlib.figure.Figure`` objects, saved on request."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..io._optional import require


def matplotlib():
    """The matplotlib module, or an error naming ``pip install pinnlang[plot]``."""
    return require("matplotlib", "plot", "pl.plot")


def figure(ncols: int = 1, nrows: int = 1, *, width: float = 4.6, height: float = 3.4, **subplot_kw):
    """A new ``(Figure, axes)`` with ``nrows × ncols`` axes (constrained layout); ``axes`` is an array.

    The figure is not registered with pyplot, so scripts that make many figures keep no state and
    need no ``plt.close``; in a notebook a returned figure still displays.
    """
    matplotlib()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, axes


def target_axes(ax, **kw):
    """``(fig, ax)``: the given axes and their figure, or a new one-panel figure."""
    if ax is not None:
        return ax.figure, ax
    fig, axes = figure(**kw)
    return fig, axes[0, 0]


def save(fig, path=None, dpi: int = 120):
    """Write ``fig`` to ``path`` (creating folders; format from the suffix) when a path is given; returns ``fig``."""
    if path is not None:
        path = Path(os.fspath(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return fig


def squeeze_unit(a) -> np.ndarray:
    """``a`` as float64 with a trailing component axis of size 1 removed."""
    a = np.asarray(a, np.float64)
    return a[..., 0] if a.ndim >= 1 and a.shape[-1] == 1 else a


def as_draws(values, n_points: int) -> np.ndarray | None:
    """``(S, n)`` draws from ``(S, n)`` / ``(K, N, n)`` (trailing unit axis allowed), or ``None`` for ``(n,)``."""
    v = squeeze_unit(values) if np.ndim(values) > 1 else np.asarray(values, np.float64)
    if v.ndim == 1:
        return None
    if v.shape[-1] != n_points:
        from ..errors import ShapeError

        raise ShapeError(f"values of shape {np.shape(values)} do not end with the {n_points} points of x")
    return v.reshape(-1, n_points)
