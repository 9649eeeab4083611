"""SG-MCMC extensions: step-size schedules, SGHMC with a persistent momentum redrawn every N steps, the chunk loss."""

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


def _euler_sghmc_stationary_var(step, alpha, curvature):
    """Stationary variance of x under x' = x + h p, p' = (1 - αh) p - hλ x + sqrt(2αh) ε (None when unstable)."""
    from scipy.linalg import solve_discrete_lyapunov

    a = np.array([[1.0, step], [-step * curvature, 1.0 - alpha * step]])
    if np.max(np.abs(np.linalg.eigvals(a))) >= 1.0:
        return None
    return solve_discrete_lyapunov(a, np.diag([0.0, 2.0 * alpha * step]))[0, 0]


def test_persistent_sghmc_is_stable_only_with_friction_above_step_times_curvature():
    """The explicit Euler step is stable along curvature λ only when ``alpha > step_size · λ``; its stationary
    variance is then ``1 / (1 - step_size · λ / alpha)`` times the exact ``1 / λ`` (docs/guide/bayesian.md)."""
    step, lam = 1e-3, 1e4  # N(0, 0.01²): step_size · λ = 10
    assert _euler_sghmc_stationary_var(step, 5.0, lam) is None
    for alpha in (20.0, 50.0, 100.0):
        ratio = _euler_sghmc_stationary_var(step, alpha, lam) * lam
        assert ratio == pytest.approx(1.0 / (1.0 - step * lam / alpha), rel=0.02)
    x, _ = pl.domain.from_array({"obs": np.zeros((1, 1), np.float32)}).variable("obs")
    sds = {}
    for alpha in (5.0, 100.0):
        theta = pl.np.parameter((1,), name="theta", init=0.0)
        theta.bayesian(blackjax.sghmc, step_size=step, alpha=alpha, momentum_resample_every=10**6, warmup=1000,
                       keep=2000, prior=lambda v: 0.0)
        crux = pl.core([(theta + 0.0 * x).gaussian_nll(0.01)], seed=seed_for("sghmc-stability", alpha))
        crux.solve(3000)
        sds[alpha] = float(np.std(np.asarray(theta.posterior_samples, np.float64)))
    assert sds[5.0] > 1.0  # 100 posterior standard deviations: the chain diverges
    # alpha = 100: exact sd ratio sqrt(1.11) = 1.055; relaxation time 1 / (λ step / alpha) = 10 steps, so the 2000
    # draws hold ~100 independent ones and the sd is known to ~7 %: the 30 % band is > 4 standard errors
    assert 0.7 < sds[100.0] / 0.01 * (1 - step * lam / 100.0) ** 0.5 < 1.3


def test_a_minibatched_sampling_only_solve_records_an_unbiased_minibatch_estimate_of_the_loss():
    """With every kernel on minibatches, a chunk records the loss on one random minibatch (sums scaled by n / B),
    not a full-data pass. Held still after its first step (a schedule at zero), 400 one-step chunks give 400
    independent estimates of the same full loss: they vary, and their mean is within 4 standard errors of it."""
    rng = np.random.default_rng(seed_for("sgmcmc-loss-estimate", 0))
    y = (1.3 + SIGMA * rng.normal(size=(N_OBS, 1))).astype(np.float32)
    obs, _ = pl.domain.from_array({"obs": y}).variable("obs")
    theta = pl.np.parameter((1,), name="theta", init=1.0)
    theta.bayesian(blackjax.sgld, step_size=optax.piecewise_constant_schedule(1e-3, {1: 0.0}), batch_size=5,
                   warmup=0, keep=400, prior=pl.bayesian.priors.gaussian(TAU))
    crux = pl.core([(theta - obs).gaussian_nll(SIGMA)], seed=seed_for("sgmcmc-loss-estimate", 0, "core"))
    crux.solve(400, print_rate=1)
    th = float(np.asarray(theta.posterior_samples)[0, -1, 0])
    est = np.asarray(crux.history.total, np.float64)
    full = np.sum(0.5 * ((th - y.astype(np.float64)) / SIGMA) ** 2 + np.log(SIGMA) + 0.5 * np.log(2 * np.pi))
    assert est.shape == (400,) and np.unique(est).size > 100
    assert abs(est.mean() - full) < 4 * est.std() / np.sqrt(est.size), (est.mean(), full)
