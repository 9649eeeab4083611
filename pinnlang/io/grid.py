"""Evaluating an expression on a tensor grid in one call (meshgrid, a point domain, eval, reshape)."""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ..errors import ConfigurationError, ShapeError


class Grid(NamedTuple):
    """Values of an expression on a tensor grid.

    Attributes:
        axes: the 1-D coordinate arrays, one per grid dimension.
        mesh: ``np.meshgrid(*axes, indexing="ij")``, each of the grid shape ``(n_1, ..., n_d)``.
        values: ``(*lead, n_1, ..., n_d, *value_shape)``; ``lead`` is ``(K, N)`` when the expression
            depends on posterior samples, else empty; a scalar field's value shape ``(1,)`` is dropped.
        sampled: whether ``values`` carries the leading ``(K, N)`` draw axes.
    """

    axes: tuple
    mesh: tuple
    values: np.ndarray
    sampled: bool

    def mean(self) -> np.ndarray:
        """Posterior mean over ``(K, N)`` (the values themselves when there are no draws)."""
        return self.values.reshape((-1,) + self.shape).mean(0) if self.sampled else self.values

    def quantile(self, q) -> np.ndarray:
        """Quantile(s) ``q`` over the draws, shape ``(*q.shape, *grid_shape, ...)``."""
        if not self.sampled:
            raise ConfigurationError("Grid.quantile needs values over posterior draws (a sampled expression)")
        return np.quantile(self.values.reshape((-1,) + self.shape), q, axis=0)

    @property
    def shape(self) -> tuple:
        """Grid shape, with the value shape (point values without the draw axes)."""
        return self.values.shape[2:] if self.sampled else self.values.shape


def eval_on_grid(crux, fn: Callable, *axes, samples: str = "auto", chunk_size: int | None = None) -> Grid:
    """Evaluate ``fn(*variables)`` on the tensor grid ``axes[0] × axes[1] × ...``.

    Example: ``g = pl.io.eval_on_grid(crux, net, np.linspace(0, 1, 101), np.linspace(0, 1, 51))``
    gives ``g.values`` of shape ``(101, 51)`` for a scalar network ``u(x, t)``.

    Args:
        crux: a core (its ``eval`` is used, so sampled models give ``(K, N, ...)`` values).
        fn: a callable of one variable per axis returning an expression: a wrapped model, or
            e.g. ``lambda x, t: net(x, t) - exact(x, t)``.
        *axes: 1-D coordinate arrays (at least one).
        samples: passed to ``crux.eval`` (``"auto"``: over posterior draws where the expression has them).
        chunk_size: passed to ``crux.eval``.

    Returns:
        A :class:`Grid`.
    """
    from ..domain import from_array

    if not axes:
        raise ConfigurationError("eval_on_grid needs at least one 1-D coordinate array, e.g. np.linspace(0, 1, 101)")
    axes = tuple(np.asarray(a, np.float64) for a in axes)
    for i, a in enumerate(axes):
        if a.ndim != 1 or a.size == 0:
            raise ShapeError(f"grid axis {i} must be a non-empty 1-D array, got shape {a.shape}")
    mesh = tuple(np.meshgrid(*axes, indexing="ij"))
    points = np.stack([m.ravel() for m in mesh], axis=1).astype(np.float32)
    dom = from_array({"grid": points}, name="grid")
    variables = dom.variable("grid")[: len(axes)]
    expr = fn(*variables)
    if getattr(expr, "points", None) is None:
        raise ShapeError("eval_on_grid: fn(*variables) must give an expression over the grid points "
                         f"(got {expr!r}); return e.g. net(x, y)")
    values = np.asarray(crux.eval(expr, samples=samples, chunk_size=chunk_size))
    lead = values.shape[: values.ndim - len(expr.shape)]  # (K, N) over posterior draws, else ()
    value_shape = tuple(expr.shape[1:])
    value_shape = () if value_shape == (1,) else value_shape
    return Grid(axes, mesh, values.reshape(lead + mesh[0].shape + value_shape), bool(lead))
