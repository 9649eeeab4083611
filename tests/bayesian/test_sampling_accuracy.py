"""Sampling accuracy of every kernel family against closed-form or quadrature posteriors.

Model: ``y_i ~ N(θ, σ²)`` (σ known), ``θ ~ N(0, τ²)``. The posterior is ``N(m, s²)`` with
``s² = 1 / (n/σ² + 1/τ²)`` and ``m = s² Σy / σ²``.

Tolerances are Monte-Carlo ones, taken from the chains themselves (never from earlier runs):

* mean: ``|θ̄ - m| < 4 MCSE`` with ``MCSE = sd / sqrt(ESS_bulk)``;
* variance: the variance estimate is the mean of ``z = (θ - θ̄)²``, so its standard error is
  ``sd(z) / sqrt(ESS(z))``. For independent Gaussian draws this is ``s² sqrt(2 / N)``, the textbook
  ``relative 4·sqrt(2/ESS)`` band; using the ESS *of z* rather than the bulk ESS of θ keeps the
  band honest for antithetic samplers (NUTS often has ESS(θ) > N while ESS(θ²) < N).

Four standard errors give a false-alarm rate below 1e-4 per check; the seeds are fixed anyway.
"""

import blackjax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinnlang as pl

SIGMA, TAU, N_OBS, TRUE = 0.5, 2.0, 20, 1.3
RNG_DATA = np.random.default_rng(2024)
Y = (TRUE + SIGMA * RNG_DATA.normal(size=(N_OBS, 1))).astype(np.float32)


def exact(y=Y, sigma=SIGMA, tau=TAU, scale=1.0):
    """Closed-form posterior ``(mean, variance)``; ``scale`` multiplies the log-likelihood."""
    s2 = 1.0 / (scale * len(y) / sigma**2 + 1.0 / tau**2)
    return float(s2 * scale * y.astype(np.float64).sum() / sigma**2), float(s2)


M, S2 = exact()


def sample(factory, *, keep, warmup, num_chains=2, seed=0, init_jitter=0.1, **kw):
    """Sample θ of the conjugate model; returns ``(theta, chain (K, N, 1))``."""
    theta = pl.np.parameter((1,), name="theta", init=0.0)
    theta.bayesian(factory, warmup=warmup, keep=keep, num_chains=num_chains, init_jitter=init_jitter,
                   prior=pl.bayesian.priors.gaussian(sigma=TAU), **kw)
    crux = pl.core([(theta - pl.np.array(Y)).gaussian_nll(SIGMA)], seed=seed)
    crux.solve(warmup + keep * kw.get("thin", 1), progress=False)
    return theta, np.asarray(theta.posterior_samples, np.float64)


def mean_mcse(chain):
    """``(mean, MCSE, bulk ESS)`` of a ``(K, N, 1)`` chain."""
    ess = float(pl.bayesian.ess(chain)[0])
    return chain.mean(), chain.std() / np.sqrt(ess), ess


def var_mcse(chain):
    """``(variance, MCSE of the variance)``: the mean of ``z = (θ - θ̄)²`` and ``sd(z)/sqrt(ESS(z))``."""
    z = (chain - chain.mean()) ** 2
    ess_z = float(pl.bayesian.ess(z)[0])
    return z.mean(), z.std() / np.sqrt(ess_z)


def assert_posterior(chain, m, v, n_se=4.0):
    mean, se, ess = mean_mcse(chain)
    assert abs(mean - m) < n_se * se, f"mean {mean:.5f} vs exact {m:.5f} (MCSE {se:.2e}, ESS {ess:.0f})"
    var, se_v = var_mcse(chain)
    assert abs(var - v) < n_se * se_v, f"variance {var:.3e} vs exact {v:.3e} (MCSE {se_v:.1e}, ESS {ess:.0f})"
    return ess


# -- full-data kernels ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def nuts_four_chains():
    return sample(blackjax.nuts, keep=600, warmup=300, num_chains=4, init_jitter=0.1)


def test_nuts_matches_the_closed_form_posterior(nuts_four_chains):
    _, chain = nuts_four_chains
    ess = assert_posterior(chain, M, S2)
    assert ess > 400  # NUTS on a 1-D Gaussian is nearly independent: a low ESS means a broken adaptation


def test_multichain_layout_distinct_chains_and_rhat(nuts_four_chains):
    theta, chain = nuts_four_chains
    assert chain.shape == (4, 600, 1)
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.allclose(chain[i], chain[j]), f"chains {i} and {j} are identical: keys not split"
    assert float(pl.bayesian.rhat(chain)[0]) < 1.01
    assert float(pl.bayesian.rhat(chain, strategy="multichain")[0]) < 1.01
    # every chain on its own is a sample of the posterior, not only their pool
    for i in range(4):
        c = chain[i:i + 1]
        mean, se, _ = mean_mcse(c)
        assert abs(mean - M) < 4.5 * se, (i, mean, M, se)
    d = theta.posterior_diagnostics
    assert set(d) == {"is_divergent", "acceptance_rate", "energy"}
    assert all(np.shape(v) == (4, 600) for v in d.values())
    assert int(np.sum(d["is_divergent"])) == 0
    assert 0.6 < float(np.mean(d["acceptance_rate"])) <= 1.0  # window adaptation targets 0.8


@pytest.mark.parametrize("factory,kw,min_ess", [
    (blackjax.hmc, {"num_integration_steps": 10}, 300),  # adapt=True: window adaptation picks the step
    (blackjax.mala, {"step_size": 0.015}, 500),  # ≈ optimal: sqrt(2h) ≈ 1.5 s for s ≈ 0.11
    (blackjax.rmh, {"step_size": 0.25}, 150),  # Gaussian random walk of scale ≈ 2.4 s
], ids=["hmc", "mala", "rmh"])
def test_full_data_kernels_match_the_closed_form_posterior(factory, kw, min_ess):
    warmup = 300 if factory is blackjax.hmc else 100
    theta, chain = sample(factory, keep=1500, warmup=warmup, num_chains=2, **kw)
    assert chain.shape == (2, 1500, 1)
    ess = assert_posterior(chain, M, S2)
    assert ess > min_ess
    acc = theta.posterior_diagnostics["acceptance_rate"]
    assert acc.shape == (2, 1500) and 0.2 < float(acc.mean()) <= 1.0


def test_likelihood_scale_tempers_the_likelihood():
    """``likelihood_scale = c`` multiplies the log-likelihood: the posterior of n observations with σ²/c."""
    theta = pl.np.parameter((1,), name="theta", init=0.0)
    theta.bayesian(blackjax.mala, step_size=0.004, warmup=100, keep=2000, num_chains=2, init_jitter=0.05,
                   likelihood_scale=4.0, prior=pl.bayesian.priors.gaussian(sigma=TAU))
    crux = pl.core([(theta - pl.np.array(Y)).gaussian_nll(SIGMA)])
    crux.solve(2100, progress=False)
    chain = np.asarray(theta.posterior_samples, np.float64)
    m4, v4 = exact(scale=4.0)
    assert_posterior(chain, m4, v4)
    _, se_v = var_mcse(chain)
    assert abs(chain.var() - S2) > 4 * se_v  # the unscaled posterior is excluded: the scale is applied


def test_sequential_chains_sample_the_same_posterior():
    theta, chain = sample(blackjax.nuts, keep=500, warmup=200, num_chains=3, chain_method="sequential", thin=2)
    assert chain.shape == (3, 500, 1)
    assert not np.allclose(chain[0], chain[1])
    assert_posterior(chain, M, S2)
    assert float(pl.bayesian.rhat(chain)[0]) < 1.02
    assert all(np.shape(v) == (3, 500) for v in theta.posterior_diagnostics.values())


# -- stochastic-gradient Langevin ---------------------------------------------------------------------

def test_sgld_matches_the_discretised_langevin_stationary_law():
    """SGLD with step ε (full-data gradient) on the Gaussian posterior N(m, s²) is the AR(1) recursion

        θ' = θ + ε ∇log p(θ) + sqrt(2ε) ξ = a θ + (1 - a) m + sqrt(2ε) ξ,    a = 1 - ε/s²,

    stable for 0 < ε < 2 s². Its stationary law is N(m, v) with v (1 - a²) = 2ε, i.e.

        v = 2ε / ((ε/s²)(2 - ε/s²)) = s² / (1 - ε/(2 s²)),

    larger than s² by the step-size bias. The lag-k autocorrelation is a^k, so the bulk ESS of N
    draws is about N (1 - a)/(1 + a), which checks that the chain really is this recursion.
    """
    eps = 0.01  # ε/s² ≈ 0.80: a ≈ 0.20, v ≈ 1.67 s²
    theta, chain = sample(blackjax.sgld, step_size=eps, keep=4000, warmup=200, num_chains=2)
    assert theta.posterior_diagnostics is None  # SG-MCMC kernels have no info object
    r = eps / S2
    assert 0.0 < r < 2.0
    v = S2 / (1.0 - r / 2.0)
    ess = assert_posterior(chain, M, v)
    _, se_v = var_mcse(chain)
    assert abs(chain.var() - S2) > 4 * se_v  # the bias is resolved: the exact posterior variance is excluded
    a = 1.0 - r
    n = chain.shape[0] * chain.shape[1]
    assert 0.8 < ess / (n * (1 - a) / (1 + a)) < 1.25, (ess, n * (1 - a) / (1 + a))


# -- a user kernel ---------------------------------------------------------------------------------

def my_rwm(logdensity_fn, step_size):
    """The random-walk Metropolis factory of the specification, verbatim in behaviour."""

    def init_fn(position):
        return {"position": position, "logdensity": logdensity_fn(position)}

    def step_fn(rng_key, state):
        k1, k2 = jax.random.split(rng_key)
        prop = jax.tree.map(lambda p: p + step_size * jax.random.normal(k1, p.shape, p.dtype), state["position"])
        new_logd = logdensity_fn(prop)
        accept = jnp.log(jax.random.uniform(k2)) < new_logd - state["logdensity"]
        new_state = {
            "position": jax.tree.map(lambda x, y: jnp.where(accept, y, x), state["position"], prop),
            "logdensity": jnp.where(accept, new_logd, state["logdensity"]),
        }
        return new_state, {"accepted": accept}

    return blackjax.SamplingAlgorithm(init_fn, step_fn)


def test_custom_kernel_factory_samples_the_posterior():
    theta, chain = sample(my_rwm, step_size=0.25, keep=2500, warmup=100, num_chains=2)
    assert chain.shape == (2, 2500, 1)
    ess = assert_posterior(chain, M, S2)
    assert ess > 200
    # its info carries none of the captured diagnostic fields: nothing is invented
    assert not theta.posterior_diagnostics


# -- constrained parameters against 1-D quadrature --------------------------------------------------------

def quadrature(logpost, grid):
    """Posterior mean and variance on a uniform grid (trapezoid weights cancel in the ratio)."""
    w = np.exp(logpost - logpost.max())
    m = np.sum(grid * w) / np.sum(w)
    return m, np.sum((grid - m) ** 2 * w) / np.sum(w)


def test_positive_noise_scale_against_quadrature():
    """``y_i ~ N(0, σ²)`` with σ unknown, ``σ ~ HalfNormal(2)``: p(σ | y) ∝ σ^-n exp(-Σy²/2σ²) exp(-σ²/8).

    The sampler works on an unconstrained raw value; the log-Jacobian makes the chain a sample of this
    density in σ. Mean and variance are checked against quadrature on a fine grid.
    """
    y = (0.8 * np.random.default_rng(7).normal(size=(15, 1))).astype(np.float32)
    s = pl.np.parameter((1,), name="s", init=1.0, constraint="positive")
    s.bayesian(blackjax.nuts, warmup=300, keep=1000, num_chains=2, init_jitter=0.1,
               prior=pl.bayesian.priors.half_normal(2.0))
    crux = pl.core([(pl.np.array(y) + 0.0 * s).gaussian_nll(s)])
    crux.solve(1300, progress=False)
    chain = np.asarray(s.posterior_samples, np.float64)
    assert chain.shape == (2, 1000, 1) and (chain > 0).all()
    grid = np.linspace(1e-3, 4.0, 40001)
    yy = float((y.astype(np.float64) ** 2).sum())
    m, v = quadrature(-len(y) * np.log(grid) - yy / (2 * grid**2) - grid**2 / (2 * 2.0**2), grid)
    assert_posterior(chain, m, v)


def test_bounded_parameter_against_quadrature():
    """θ ∈ (0, 1.4) with a flat prior and the data of mean ≈ 1.3: a truncated Gaussian posterior."""
    lo, hi = 0.0, 1.4
    theta = pl.np.parameter((1,), name="theta", init=0.7, constraint=(lo, hi))
    theta.bayesian(blackjax.nuts, warmup=300, keep=1000, num_chains=2, init_jitter=0.1,
                   prior=lambda v: 0.0 * jnp.sum(v))  # flat on the support
    crux = pl.core([(theta - pl.np.array(Y)).gaussian_nll(SIGMA)])
    crux.solve(1300, progress=False)
    chain = np.asarray(theta.posterior_samples, np.float64)
    assert ((chain > lo) & (chain < hi)).all()
    grid = np.linspace(lo, hi, 40001)[1:-1]
    y = Y.astype(np.float64)
    m, v = quadrature(-((grid[:, None] - y[None, :, 0]) ** 2).sum(axis=1) / (2 * SIGMA**2), grid)
    assert_posterior(chain, m, v)
    _, se, _ = mean_mcse(chain)
    m_flat, v_flat = exact(tau=1e6)  # the untruncated posterior: the truncation does bite, and the test sees it
    assert abs(m - m_flat) > 4 * se and v < 0.8 * v_flat, (m, m_flat, v, v_flat)
