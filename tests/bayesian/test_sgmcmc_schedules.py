"""SG-MCMC extensions: step-size schedules, and SGHMC with a persistent momentum redrawn every N steps."""

import blackjax
import numpy as np
import optax
import pytest

import pinnlang as pl
from pinnlang.errors import ConfigurationError
from stats_helpers import assert_posterior, seed_for

pytestmark = pytest.mark.statistical

SIGMA, TAU, N_OBS = 0.5, 2.0, 20


def conjugate(factory, seed, **kw):
    rng = np.random.default_rng(seed_for("sgmcmc-schedules", seed))
    y = (1.3 + SIGMA * rng.normal(size=(N_OBS, 1))).astype(np.float32)
    theta = pl.np.parameter((1,), name="theta", init=1.0)
    theta.bayesian(factory, prior=pl.bayesian.priors.gaussian(TAU), **kw)
    crux = pl.core([(theta - pl.np.array(y)).gaussian_nll(SIGMA)], seed=seed_for("sgmcmc-schedules", seed, "core"))
    s2 = 1.0 / (N_OBS / SIGMA**2 + 1.0 / TAU**2)
    return crux, theta, (s2 * float(y.sum()) / SIGMA**2, s2)


def test_persistent_momentum_sghmc_samples_the_conjugate_posterior():
    crux, theta, (m, s2) = conjugate(blackjax.sghmc, 0, step_size=0.002, alpha=20.0, momentum_resample_every=10,
                                     warmup=1000, keep=5000, thin=5, num_chains=2, init_jitter=0.3)
    crux.solve(1000 + 5000 * 5)
    # blackjax's SGHMC update is an explicit Euler step with no Metropolis correction: its stationary variance
    # is biased. For this Gaussian target the discrete recursion's stationary covariance (a discrete Lyapunov
    # equation) is 1.008 x the posterior's at step 0.002, friction 20 (5 x at step 0.01, friction 1), well
    # inside the Monte Carlo tolerance here
    assert_posterior(np.asarray(theta.posterior_samples, np.float64)[..., 0], m, s2, "sghmc-persistent")


def test_a_constant_schedule_equals_the_constant_step_and_a_schedule_at_zero_stops_the_chain():
    a, ta, _ = conjugate(blackjax.sgld, 1, step_size=1e-3, warmup=0, keep=100)
    a.solve(100)
    b, tb, _ = conjugate(blackjax.sgld, 1, step_size=optax.constant_schedule(1e-3), warmup=0, keep=100)
    b.solve(100)
    np.testing.assert_array_equal(ta.posterior_samples, tb.posterior_samples)
    c, tc, _ = conjugate(blackjax.sgld, 1, step_size=optax.piecewise_constant_schedule(1e-3, {50: 0.0}), warmup=0,
                         keep=100)
    c.solve(100)
    d = np.asarray(tc.posterior_samples)[0, :, 0]
    assert np.all(np.diff(d[:49]) != 0) and np.all(d[50:] == d[50])  # the step after t = 49 is zero


def test_schedule_and_momentum_errors():
    theta = pl.np.parameter((1,), name="theta")
    with pytest.raises(ConfigurationError, match="positive integer"):
        theta.bayesian(blackjax.sghmc, step_size=1e-3, momentum_resample_every=0)
    with pytest.raises(ConfigurationError, match="unknown keyword argument 'momentum_resample_every'"):
        theta.bayesian(blackjax.sgld, step_size=1e-3, momentum_resample_every=10)
    with pytest.raises(ConfigurationError, match="schedule failed at t = 0"):
        theta.bayesian(blackjax.sgld, step_size=lambda t: 1 / "x")
    crux, _, _ = conjugate(blackjax.sghmc, 2, step_size=1e-3, momentum_resample_every=10, num_integration_steps=5,
                           warmup=0, keep=10)
    with pytest.raises(ConfigurationError, match="Pass one of them"):
        crux.solve(10)
