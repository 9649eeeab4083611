"""B-PINN nonlinear Poisson data: the hand-derived source against sympy, and the sensor layout."""

import numpy as np
import pytest
import sympy as sp

from solvers.reference.nonlinear_poisson import K_TRUE, f_source, make_bpinn_data, u_exact, u_xx_exact
from stats_helpers import assert_at_most, seed_for


def test_source_matches_sympy():
    xs, ks = sp.symbols("x k")
    u = sp.sin(6 * xs) ** 3
    f = sp.lambdify((xs, ks), sp.Rational(1, 100) * sp.diff(u, xs, 2) + ks * sp.tanh(u), "numpy")
    u_xx = sp.lambdify(xs, sp.diff(u, xs, 2), "numpy")
    x = np.linspace(-0.7, 0.7, 57)
    np.testing.assert_allclose(u_xx_exact(x), u_xx(x), atol=1e-11)
    np.testing.assert_allclose(f_source(x), f(x, 0.7), atol=1e-13)
    np.testing.assert_allclose(f_source(x, k=1.3), f(x, 1.3), atol=1e-13)


@pytest.mark.statistical
def test_data_layout_and_noise():
    """Layout, reproducibility, and the noise scale: the sample std of 2000 N(0, 0.1²) draws has
    standard error 0.1/sqrt(4000) = 0.0016, so the ±0.01 bands are 6.3 standard errors (p = 3e-10)."""
    d = make_bpinn_data(0)
    assert d.x_u.shape == d.u_obs.shape == (8, 1) and d.x_f.shape == d.f_obs.shape == (32, 1)
    np.testing.assert_allclose(d.x_u[[0, -1], 0], [-0.7, 0.7])
    np.testing.assert_allclose(d.x_f[[0, -1], 0], [-0.7, 0.7])
    np.testing.assert_allclose(np.diff(d.x_f[:, 0]), 1.4 / 31)
    np.testing.assert_allclose(d.u_true, u_exact(d.x_u))
    np.testing.assert_allclose(d.f_true, f_source(d.x_f, K_TRUE))
    assert d.k == 0.7 and d.sigma == 0.1
    # Same seed, same data; another seed, other noise; the noise has roughly the stated scale.
    np.testing.assert_array_equal(make_bpinn_data(0).f_obs, d.f_obs)
    assert not np.allclose(make_bpinn_data(1).f_obs, d.f_obs)
    big = make_bpinn_data(seed_for("bpinn data"), n_u=2000, n_f=2000, sigma=0.1)
    assert_at_most(abs(np.std(big.f_obs - big.f_true) - 0.1), 0.01, "bpinn data: f noise std")
    assert_at_most(abs(np.std(big.u_obs - big.u_true) - 0.1), 0.01, "bpinn data: u noise std")


def test_jax_keys_are_accepted():
    import jax

    a = make_bpinn_data(jax.random.PRNGKey(5))
    b = make_bpinn_data(jax.random.key(5))
    np.testing.assert_array_equal(a.u_obs, b.u_obs)
