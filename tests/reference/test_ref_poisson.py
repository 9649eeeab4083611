"""Poisson closed forms and the 5-point solver, with second-order convergence."""

import numpy as np

from solvers.reference.poisson import (
    poisson_1d_exact,
    poisson_1d_source,
    poisson_2d_exact,
    poisson_2d_source,
    poisson_fd_1d,
    poisson_fd_2d,
)


def test_closed_forms_satisfy_their_equations():
    x, h = np.linspace(-0.9, 0.9, 19), 1e-4
    u_xx = (poisson_1d_exact(x + h) - 2 * poisson_1d_exact(x) + poisson_1d_exact(x - h)) / h**2
    np.testing.assert_allclose(u_xx, poisson_1d_source(x), atol=1e-5)
    np.testing.assert_allclose(poisson_1d_exact(np.array([-1.0, 1.0])), 0.0, atol=1e-15)
    X, Y = np.meshgrid(np.linspace(0.1, 0.9, 9), np.linspace(0.1, 0.9, 9), indexing="ij")
    lap = sum(
        (poisson_2d_exact(X + dx, Y + dy) - 2 * poisson_2d_exact(X, Y) + poisson_2d_exact(X - dx, Y - dy)) / h**2
        for dx, dy in ((h, 0.0), (0.0, h))
    )
    np.testing.assert_allclose(-lap, poisson_2d_source(X, Y), atol=1e-4)


def test_2d_solver_converges_at_second_order():
    errors = []
    for n in (16, 32, 64):
        x, y, U = poisson_fd_2d(poisson_2d_source, nx=n, ny=n)
        errors.append(np.abs(U - poisson_2d_exact(x[:, None], y[None, :])).max())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    np.testing.assert_allclose(ratios, 4.0, rtol=0.02)
    assert errors[-1] < 3e-4


def test_1d_solver_converges_at_second_order():
    errors = []
    for n in (20, 40):
        x, u = poisson_fd_1d(poisson_1d_source, n=n)
        errors.append(np.abs(u - poisson_1d_exact(x)).max())
    assert 3.9 < errors[0] / errors[1] < 4.1
    x, u = poisson_fd_1d(lambda s: 6.0 * s, x_range=(0.0, 2.0), n=10, bc=(1.0, 9.0))  # u = x³ + 1
    np.testing.assert_allclose(u, x**3 + 1, atol=1e-12)


def test_2d_solver_with_dirichlet_data_on_a_rectangle():
    # A cubic is reproduced exactly by the 5-point stencil: only rounding remains.
    g = lambda X, Y: X**2 + Y**3  # noqa: E731
    x, y, U = poisson_fd_2d(lambda X, Y: -2.0 - 6.0 * Y, g, x_range=(-1, 2), y_range=(0, 1), nx=24, ny=40)
    assert U.shape == (25, 41)
    np.testing.assert_allclose(U, g(x[:, None], y[None, :]), atol=1e-12)
    # A non-polynomial solution converges at second order with unequal spacings.
    g = lambda X, Y: np.exp(X) * np.cos(2 * Y)  # noqa: E731
    f = lambda X, Y: 3 * np.exp(X) * np.cos(2 * Y)  # noqa: E731
    e = []
    for n in (16, 32):
        x, y, U = poisson_fd_2d(f, g, (-1, 2), (0, 1), n, n // 2)
        e.append(np.abs(U - g(x[:, None], y[None, :])).max())
    assert 3.8 < e[0] / e[1] < 4.2
