"""Poisson closed forms and a pure-numpy 5-point finite-difference solver on a rectangle.

- 1-D: ``u'' = -π² sin(πx)`` on ``[-1, 1]``, ``u(±1) = 0``  →  ``u = sin(πx)``.
- 2-D: ``-Δu = 2π² sin(πx) sin(πy)`` on ``[0, 1]²``, ``u = 0`` on the edge  →  ``u = sin(πx) sin(πy)``.

:func:`poisson_fd_2d` solves ``-Δu = f`` with Dirichlet data exactly for the 5-point stencil by
diagonalising the two 1-D second-difference matrices (sine eigenvectors), so no sparse solver is
needed: the cost is a few dense ``(n, n)`` products.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Field2D = Callable[[np.ndarray, np.ndarray], np.ndarray]


def poisson_1d_exact(x: np.ndarray) -> np.ndarray:
    """``sin(πx)``, shape of ``x``."""
    return np.sin(np.pi * np.asarray(x, np.float64))


def poisson_1d_source(x: np.ndarray) -> np.ndarray:
    """Right side of ``u'' = f``: ``-π² sin(πx)``, shape of ``x``."""
    return -(np.pi**2) * np.sin(np.pi * np.asarray(x, np.float64))


def poisson_2d_exact(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``sin(πx) sin(πy)``, broadcast shape of ``x`` and ``y``."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return np.sin(np.pi * x) * np.sin(np.pi * y)


def poisson_2d_source(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Right side of ``-Δu = f``: ``2π² sin(πx) sin(πy)``, broadcast shape of ``x`` and ``y``."""
    return 2.0 * np.pi**2 * poisson_2d_exact(x, y)


def poisson_fd_1d(f: Callable[[np.ndarray], np.ndarray], x_range=(-1.0, 1.0), n: int = 100, bc=(0.0, 0.0)):
    """Second-order finite differences for ``u'' = f`` with ``u(a) = bc[0]``, ``u(b) = bc[1]``.

    Args:
        f: Source, maps positions ``(m,)`` to values ``(m,)``.
        x_range: ``(a, b)``.
        n: Number of intervals; the grid has ``n + 1`` points.
        bc: End values.

    Returns:
        ``(x, u)``, each ``(n + 1,)``.
    """
    x = np.linspace(x_range[0], x_range[1], n + 1)
    h = x[1] - x[0]
    m = n - 1
    a = (-2.0 * np.eye(m) + np.eye(m, k=1) + np.eye(m, k=-1)) / h**2
    rhs = np.asarray(f(x[1:-1]), np.float64).copy()
    rhs[0] -= bc[0] / h**2
    rhs[-1] -= bc[1] / h**2
    u = np.concatenate([[bc[0]], np.linalg.solve(a, rhs), [bc[1]]])
    return x, u


def _sine_basis(m: int, h: float):
    """Eigenpairs of the ``(m, m)`` matrix ``-(second difference)/h²`` with zero ends.

    Returns:
        ``(S, lam)``: orthonormal eigenvectors as columns ``(m, m)`` and eigenvalues ``(m,)``.
    """
    k = np.arange(1, m + 1)
    s = np.sqrt(2.0 / (m + 1)) * np.sin(np.pi * np.outer(k, k) / (m + 1))
    lam = (4.0 / h**2) * np.sin(np.pi * k / (2 * (m + 1))) ** 2
    return s, lam


def poisson_fd_2d(
    f: Field2D,
    g: Field2D | None = None,
    x_range=(0.0, 1.0),
    y_range=(0.0, 1.0),
    nx: int = 64,
    ny: int = 64,
):
    """5-point finite differences for ``-Δu = f`` on a rectangle with ``u = g`` on its edge.

    The linear system is solved exactly (to rounding) in the sine eigenbasis of the 1-D operators,
    so the only error is the stencil's ``O(h²)``.

    Args:
        f: Source, maps grids ``X, Y`` of shape ``(nx + 1, ny + 1)`` to values of that shape.
        g: Dirichlet data, same calling convention (only edge values are used); zero if ``None``.
        x_range, y_range: The rectangle ``[a, b] × [c, d]``.
        nx, ny: Intervals in ``x`` and ``y``.

    Returns:
        ``(x, y, U)`` with ``x`` ``(nx + 1,)``, ``y`` ``(ny + 1,)`` and ``U[i, j] = u(x[i], y[j])``
        of shape ``(nx + 1, ny + 1)``.
    """
    x = np.linspace(x_range[0], x_range[1], nx + 1)
    y = np.linspace(y_range[0], y_range[1], ny + 1)
    hx, hy = x[1] - x[0], y[1] - y[0]
    X, Y = np.meshgrid(x, y, indexing="ij")
    U = np.zeros_like(X) if g is None else np.array(np.broadcast_to(g(X, Y), X.shape), np.float64)
    U[1:-1, 1:-1] = 0.0
    rhs = np.array(np.broadcast_to(f(X, Y), X.shape), np.float64)[1:-1, 1:-1]
    # Known edge values move to the right side: -(u_W - 2u + u_E)/hx² has +u_W/hx² there.
    rhs[0, :] += U[0, 1:-1] / hx**2
    rhs[-1, :] += U[-1, 1:-1] / hx**2
    rhs[:, 0] += U[1:-1, 0] / hy**2
    rhs[:, -1] += U[1:-1, -1] / hy**2
    sx, lx = _sine_basis(nx - 1, hx)
    sy, ly = _sine_basis(ny - 1, hy)
    coef = (sx.T @ rhs @ sy) / (lx[:, None] + ly[None, :])
    U[1:-1, 1:-1] = sx @ coef @ sy.T
    return x, y, U
