"""Heat-equation references: closed forms against the PDE, Crank–Nicolson against closed forms."""

import numpy as np

from solvers.reference.heat import heat_exact, heat_fd_reference, heat_sine_series


def test_closed_form_solves_the_pde():
    x, t, alpha, h = np.linspace(0.05, 0.95, 19), 0.3, 0.4, 1e-4
    u_t = (heat_exact(x, t + h, alpha) - heat_exact(x, t - h, alpha)) / (2 * h)
    u_xx = (heat_exact(x + h, t, alpha) - 2 * heat_exact(x, t, alpha) + heat_exact(x - h, t, alpha)) / h**2
    np.testing.assert_allclose(u_t, alpha * u_xx, atol=1e-5)
    np.testing.assert_allclose(heat_exact(x, 0.0), np.sin(np.pi * x))
    np.testing.assert_allclose(heat_exact(np.array([0.0, 1.0, -1.0]), 0.7), 0.0, atol=1e-15)


def test_sine_series_reduces_to_closed_form():
    x, t = np.meshgrid(np.linspace(0, 1, 11), np.linspace(0, 1, 5), indexing="ij")
    np.testing.assert_allclose(heat_sine_series(x, t, [1.0], alpha=0.3), heat_exact(x, t, 0.3), atol=1e-15)


def test_crank_nicolson_converges_at_second_order():
    errors = []
    for n in (20, 40, 80):
        x = np.linspace(0, 1, n + 1)
        u = heat_fd_reference(lambda s: np.sin(np.pi * s), 0.1, x, 1.0, nt=n)
        errors.append(np.abs(u - heat_exact(x, 1.0, 0.1)).max())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert errors[-1] < 1e-4
    np.testing.assert_allclose(ratios, 4.0, rtol=0.05)


def test_crank_nicolson_multi_mode_nonzero_ends_and_history():
    x = np.linspace(0, 2, 201)
    b = [1.0, 0.5, -0.3]
    u = heat_fd_reference(heat_sine_series(x, 0.0, b, 0.2, 2.0), 0.2, x, 0.5, 200)
    np.testing.assert_allclose(u, heat_sine_series(x, 0.5, b, 0.2, 2.0), atol=1e-4)
    # Fixed unequal ends: the linear profile is a steady state; a bump relaxes onto it.
    x = np.linspace(-1, 1, 81)
    hist = heat_fd_reference(1 + x + np.cos(np.pi * x / 2), 1.0, x, 10.0, 400, return_history=True)
    assert hist.shape == (401, 81)
    np.testing.assert_allclose(hist[:, [0, -1]], np.broadcast_to([0.0, 2.0], (401, 2)), atol=1e-15)
    np.testing.assert_allclose(hist[-1], 1 + x, atol=1e-8)  # bump decays as exp(-π²t/4)
