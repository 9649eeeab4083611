"""The hand-written JAX baselines compute the right derivatives and train (smoke sizes only)."""

import jax
import numpy as np
import pytest

from benchmarks.handwritten import burgers_1d, poisson_1d
from benchmarks.handwritten.mlp import init_mlp, mlp


def _scalar(params):
    return lambda s: mlp(params, s[None])[0, 0]


@pytest.mark.parametrize("deriv", sorted(poisson_1d.DERIVATIVES))
def test_poisson_second_derivative_matches_hessian(deriv):
    params = init_mlp(jax.random.PRNGKey(1), poisson_1d.SIZES)
    x = jax.numpy.linspace(-1, 1, 7)[:, None]
    expected = jax.vmap(jax.hessian(_scalar(params)))(x)[:, 0]
    np.testing.assert_allclose(poisson_1d.DERIVATIVES[deriv](params, x), expected, atol=1e-5)


@pytest.mark.parametrize("deriv", sorted(burgers_1d.DERIVATIVES))
def test_burgers_derivatives_match_autodiff(deriv):
    params = init_mlp(jax.random.PRNGKey(1), burgers_1d.SIZES)
    xt = jax.random.uniform(jax.random.PRNGKey(2), (9, 2))
    g = _scalar(params)
    grad, hess = jax.vmap(jax.grad(g))(xt), jax.vmap(jax.hessian(g))(xt)
    u, u_x, u_t, u_xx = burgers_1d.DERIVATIVES[deriv](params, xt)
    assert u.shape == u_x.shape == u_t.shape == u_xx.shape == (9, 1)
    np.testing.assert_allclose(u[:, 0], jax.vmap(g)(xt), atol=1e-6)
    np.testing.assert_allclose(u_x[:, 0], grad[:, 0], atol=1e-5)
    np.testing.assert_allclose(u_t[:, 0], grad[:, 1], atol=1e-5)
    np.testing.assert_allclose(u_xx[:, 0], hess[:, 0, 0], atol=1e-5)


def test_burgers_data_layout():
    xt_f, xt_b, xt_0, u_0 = burgers_1d.make_data()
    assert xt_f.shape == (2000, 2) and xt_b.shape == xt_0.shape == (200, 2) and u_0.shape == (200, 1)
    assert float(xt_f[:, 1].min()) > 0.0 and float(xt_f[:, 1].max()) <= 1.0
    np.testing.assert_array_equal(np.abs(np.asarray(xt_b[:, 0])), 1.0)
    np.testing.assert_allclose(u_0[:, 0], -np.sin(np.pi * xt_0[:, 0]), atol=1e-6)


@pytest.mark.parametrize("module", [poisson_1d, burgers_1d])
def test_scan_and_python_loops_train_identically(module):
    state, run = module.build(0)
    _, scan_losses = run(state, 30)
    state, run = module.build_python_loop(0)
    _, loop_losses = run(state, 30)
    assert scan_losses.shape == loop_losses.shape == (30,)
    np.testing.assert_allclose(scan_losses, loop_losses, rtol=1e-3)
    assert scan_losses[-1] < scan_losses[0]
