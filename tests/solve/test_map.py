"""MAP estimates: a prior on an optimised group adds -log prior to its loss (the notebook's SVI + AutoDelta)."""

import jax
import numpy as np
import optax
import pytest

import pinnlang as pl
from pinnlang.errors import ConfigurationError

SIGMA, TAU = 0.5, 0.3


def observations(n=12, seed=0):
    return (1.3 + SIGMA * np.random.default_rng(seed).normal(size=(n, 1))).astype(np.float32)


def test_the_map_of_a_conjugate_gaussian_model_in_closed_form():
    """y_i ~ N(θ, σ²), θ ~ N(0, τ²): the MAP is the posterior mean s² Σy/σ², s² = 1/(n/σ² + 1/τ²)."""
    y = observations()
    theta = pl.np.parameter((1,), name="theta", init=0.0)
    theta.optimizer(optax.adam(optax.exponential_decay(0.05, 2000, 0.01)), prior=pl.bayesian.priors.gaussian(TAU))
    crux = pl.core([(theta - pl.np.array(y)).gaussian_nll(SIGMA)])
    crux.solve(4000)
    s2 = 1.0 / (len(y) / SIGMA**2 + 1.0 / TAU**2)
    np.testing.assert_allclose(np.asarray(theta.value), [s2 * y.sum() / SIGMA**2], atol=1e-4)
    mle = pl.np.parameter((1,), name="mle", init=0.0)
    mle.optimizer(optax.adam(optax.exponential_decay(0.05, 2000, 0.01)))
    pl.core([(mle - pl.np.array(y)).gaussian_nll(SIGMA)]).solve(4000)
    np.testing.assert_allclose(np.asarray(mle.value), [y.mean()], atol=1e-4)  # without a prior: the mean


def test_a_map_network_is_ridge_regression_on_its_last_layer():
    """A frozen body and a linear head with a Gaussian prior: the MAP head is the ridge solution."""
    xs = np.linspace(-1, 1, 30)[:, None].astype(np.float32)
    ys = np.sin(3 * xs) + 0.1 * np.random.default_rng(1).normal(size=xs.shape).astype(np.float32)
    dom = pl.domain.from_array({"d": xs})
    x, _ = dom.variable("d")
    body = pl.nn.wrap(pl.nn.mlp(1, output_dim=8, hidden_dims=8, num_layers=1, key=jax.random.PRNGKey(0)), name="body")
    body.freeze()
    w = pl.np.parameter((8,), name="w", init=0.0)
    w.optimizer(optax.lbfgs(), prior=pl.bayesian.priors.gaussian(0.5))
    crux = pl.core([(pl.np.dot(body(x), w) - pl.np.array(ys)).gaussian_nll(0.1)])
    crux.solve(200)
    phi = np.asarray(crux.eval([body(x)]))
    ridge = np.linalg.solve(phi.T @ phi / 0.1**2 + np.eye(8) / 0.5**2, phi.T @ ys / 0.1**2)
    np.testing.assert_allclose(np.asarray(w.value), ridge[:, 0], rtol=1e-3, atol=1e-4)


def test_a_map_prior_must_be_a_log_density():
    theta = pl.np.parameter((1,), name="theta")
    with pytest.raises(ConfigurationError, match="prior"):
        theta.optimizer(optax.adam(1e-2), prior=3.0)
