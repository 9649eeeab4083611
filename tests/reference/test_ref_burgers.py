"""The Cole–Hopf Burgers reference against its defining properties and an independent solver."""

import numpy as np
import pytest

from solvers.reference.burgers import NU, burgers_grid, burgers_reference, burgers_reference_ux


def test_initial_condition_is_minus_sine():
    x = np.linspace(-1, 1, 101)
    np.testing.assert_array_equal(burgers_reference(x, 0.0), -np.sin(np.pi * x))
    # Just after t = 0 the quadrature branch must agree with the initial data too.
    np.testing.assert_allclose(burgers_reference(x, 1e-8), -np.sin(np.pi * x), atol=1e-6)


def test_boundary_values_vanish():
    t = np.linspace(0, 1, 51)
    assert np.abs(burgers_reference(-1.0, t)).max() < 1e-12
    assert np.abs(burgers_reference(1.0, t)).max() < 1e-12


def test_odd_symmetry_and_shapes():
    x, t = np.meshgrid(np.linspace(-1, 1, 33), np.linspace(0, 1, 7), indexing="ij")
    u = burgers_reference(x, t)
    assert u.shape == (33, 7)
    np.testing.assert_allclose(u, -burgers_reference(-x, t), atol=1e-13)


def test_trapezoid_quadrature_agrees():
    """A different quadrature of the same integral (4×10⁴-point trapezoid in z) agrees to 1e-12."""
    x = np.linspace(-1, 1, 41)[:, None]
    for t in (0.05, 0.5, 1.0):
        z = np.linspace(-40, 40, 40001)[None, :]
        y = x - np.sqrt(4 * NU * t) * z
        logp = -(z**2) - np.cos(np.pi * y) / (2 * np.pi * NU)
        p = np.exp(logp - logp.max(axis=1, keepdims=True))
        ref = -(p * np.sin(np.pi * y)).sum(1) / p.sum(1)
        np.testing.assert_allclose(burgers_reference(x[:, 0], t), ref, atol=1e-12)


def test_pde_residual_by_finite_differences_is_small_away_from_the_shock():
    x, t = np.meshgrid(np.linspace(-0.9, -0.2, 36), np.linspace(0.05, 0.95, 19), indexing="ij")
    x = np.concatenate([x, -x])  # both sides of the shock at x = 0
    t = np.concatenate([t, t])
    h = k = 1e-4
    u = burgers_reference(x, t)
    u_t = (burgers_reference(x, t + k) - burgers_reference(x, t - k)) / (2 * k)
    u_x = (burgers_reference(x + h, t) - burgers_reference(x - h, t)) / (2 * h)
    u_xx = (burgers_reference(x + h, t) - 2 * u + burgers_reference(x - h, t)) / h**2
    residual = u_t + u * u_x - NU * u_xx
    assert np.abs(u_t).max() > 0.5  # the terms themselves are O(1)
    assert np.abs(residual).max() < 1e-6, np.abs(residual).max()
    np.testing.assert_allclose(burgers_reference_ux(x, t), u_x, atol=1e-6)


def _method_of_lines(n, t_final):
    """Conservative central differences on ``n + 1`` points, RK45 (scipy) to ``t_final``."""
    from scipy.integrate import solve_ivp

    x = np.linspace(-1, 1, n + 1)
    h = x[1] - x[0]

    def rhs(_, v):
        u = np.concatenate([[0.0], v, [0.0]])
        flux = 0.5 * u**2
        return -(flux[2:] - flux[:-2]) / (2 * h) + NU * (u[2:] - 2 * u[1:-1] + u[:-2]) / h**2

    sol = solve_ivp(rhs, (0, t_final), -np.sin(np.pi * x[1:-1]), rtol=1e-8, atol=1e-10)
    return x, np.concatenate([[0.0], sol.y[:, -1], [0.0]])


def test_agrees_with_an_independent_method_of_lines_solution_at_t_half():
    x, u = _method_of_lines(1000, 0.5)  # h = 2e-3 resolves the shock (width ~ ν ≈ 3e-3)
    probes = np.array([-0.8, -0.5, -0.25, -0.1, 0.1, 0.25, 0.5, 0.8])
    idx = np.array([np.argmin(np.abs(x - p)) for p in probes])
    np.testing.assert_allclose(burgers_reference(x[idx], 0.5), u[idx], atol=1e-4)
    # Across the whole grid, shock included, the second-order solver is within 1e-2.
    assert np.abs(burgers_reference(x, 0.5) - u).max() < 1e-2


def test_steepest_gradient_matches_basdevant():
    """Basdevant et al. (1986): max |u_x| = 152.00516 at x = 0, t = 1.6037/π (ν = 0.01/π)."""
    t_star = 1.6037 / np.pi
    assert burgers_reference_ux(0.0, t_star) == pytest.approx(-152.00516, abs=1e-4)
    ts = np.linspace(0.3, 0.7, 81)
    slopes = burgers_reference_ux(np.zeros_like(ts), ts)
    assert abs(ts[np.argmin(slopes)] - t_star) < 0.01  # the steepest moment is there
    # At t = 1/π (when the inviscid solution first breaks) the slope is still moderate, ≈ -34.2.
    assert burgers_reference_ux(0.0, 1 / np.pi) == pytest.approx(-34.2263, abs=1e-3)


def test_grid_layout_matches_raissi():
    x, t, U = burgers_grid()
    assert x.shape == (256,) and t.shape == (100,) and U.shape == (256, 100)
    np.testing.assert_allclose(t[:3], [0.0, 0.01, 0.02])
    assert t[-1] == pytest.approx(0.99)
    np.testing.assert_allclose(U[:, 0], -np.sin(np.pi * x), atol=1e-15)
    np.testing.assert_allclose(U[100, 50], burgers_reference(x[100], t[50]))


def test_too_many_nodes_is_refused():
    with pytest.raises(ValueError, match="n_nodes"):
        burgers_reference(0.1, 0.5, n_nodes=1000)
