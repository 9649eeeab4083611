"""Samplers against the closed-form posterior of a conjugate Gaussian model.

y_i ~ N(θ, σ²), θ ~ N(0, τ²): the posterior is N(m, s²) with s² = 1/(n/σ² + 1/τ²), m = s² Σy/σ².
Tolerances are Monte-Carlo ones: |mean - m| < 4 MCSE with MCSE = sd / sqrt(bulk ESS), and the
variance within 4·sqrt(2/ESS) relative (the standard error of a variance estimate from ESS draws).
"""

import blackjax
import numpy as np
import pytest

import pinnlang as pl

SIGMA, TAU, N_OBS = 0.5, 2.0, 20


def data(seed=0):
    rng = np.random.default_rng(seed)
    return (1.3 + SIGMA * rng.normal(size=(N_OBS, 1))).astype(np.float32)


def exact(y):
    s2 = 1.0 / (len(y) / SIGMA**2 + 1.0 / TAU**2)
    return s2 * y.sum() / SIGMA**2, s2


def sample(factory, *, keep=800, warmup=300, num_chains=2, seed=0, **kw):
    y = data(seed)
    theta = pl.np.parameter((1,), name="theta", init=0.0)
    theta.bayesian(factory, warmup=warmup, keep=keep, num_chains=num_chains, init_jitter=0.5,
                   prior=pl.bayesian.priors.gaussian(sigma=TAU), **kw)
    crux = pl.core([(theta - pl.np.array(y)).gaussian_nll(SIGMA)], seed=seed)
    crux.solve(warmup + keep * kw.get("thin", 1))
    return theta.posterior_samples, exact(y), theta


def check(chain, m, s2, var_tol=None):
    ess = float(pl.bayesian.ess(chain)[0])
    draws = chain.reshape(-1)
    mcse = draws.std() / np.sqrt(ess)
    assert abs(draws.mean() - m) < 4 * mcse, (draws.mean(), m, mcse, ess)
    tol = var_tol if var_tol is not None else 4 * np.sqrt(2.0 / ess)
    assert abs(draws.var() / s2 - 1.0) < tol, (draws.var(), s2, ess)
    return ess


@pytest.mark.parametrize("name,factory,kw", [
    ("nuts", blackjax.nuts, {}),
    ("hmc", blackjax.hmc, {"num_integration_steps": 8}),
    ("mala", blackjax.mala, {"step_size": 0.02}),
    ("rmh", blackjax.rmh, {"step_size": 0.2}),
])
def test_full_data_kernels_match_the_closed_form(name, factory, kw):
    chain, (m, s2), theta = sample(factory, **kw)
    assert chain.shape == (2, 800, 1)
    ess = check(chain, m, s2)
    assert ess > 50
    assert float(pl.bayesian.rhat(chain)[0]) < 1.05


def test_nuts_diagnostics_layout_and_values():
    chain, _, theta = sample(blackjax.nuts, keep=200, warmup=200)
    d = theta.posterior_diagnostics
    assert set(d) == {"is_divergent", "acceptance_rate", "energy"}
    assert all(v.shape == (2, 200) for v in d.values())
    assert d["is_divergent"].sum() == 0 and 0.5 < d["acceptance_rate"].mean() <= 1.0


def test_sgld_matches_its_discretised_langevin_stationary_law():
    """SGLD with step ε on a Gaussian target N(m, s²) is the AR(1) recursion
    θ' = θ + ε ∇log p(θ) + sqrt(2ε) ξ = (1 - ε/s²) θ + ε m/s² + sqrt(2ε) ξ,
    whose stationary law is N(m, 2ε / (1 - (1 - ε/s²)²)) = N(m, s² / (1 - ε/(2 s²))): the known step-size bias."""
    eps = 2e-3
    chain, (m, s2), _ = sample(blackjax.sgld, step_size=eps, keep=3000, warmup=500, num_chains=2)
    biased = s2 / (1.0 - eps / (2.0 * s2))
    ess = check(chain, m, biased)
    assert biased / s2 > 1.05  # the bias is real at this step size, and the test resolves it
    assert ess > 100


def test_thinning_and_sequential_chains_give_the_same_posterior():
    chain, (m, s2), _ = sample(blackjax.nuts, keep=400, thin=2, chain_method="sequential", num_chains=3)
    assert chain.shape == (3, 400, 1)
    check(chain, m, s2)
    assert not np.allclose(chain[0], chain[1])


def test_custom_kernel_factory():
    import jax
    import jax.numpy as jnp

    def my_rwm(logdensity_fn, step_size):
        def init_fn(position):
            return {"position": position, "logdensity": logdensity_fn(position)}

        def step_fn(rng_key, state):
            k1, k2 = jax.random.split(rng_key)
            prop = state["position"] + step_size * jax.random.normal(k1, state["position"].shape)
            new = logdensity_fn(prop)
            accept = jnp.log(jax.random.uniform(k2)) < new - state["logdensity"]
            return ({"position": jnp.where(accept, prop, state["position"]),
                     "logdensity": jnp.where(accept, new, state["logdensity"])}, {"acceptance_rate": accept * 1.0})

        return blackjax.SamplingAlgorithm(init_fn, step_fn)

    chain, (m, s2), theta = sample(my_rwm, step_size=0.25, keep=2000, warmup=200)
    check(chain, m, s2)
    assert set(theta.posterior_diagnostics) == {"acceptance_rate"}


def test_positive_parameter_posterior_against_quadrature():
    """Unknown noise scale σ > 0 with a half-normal prior: the posterior mean by numerical integration."""
    y = (0.8 * np.random.default_rng(3).normal(size=(15, 1))).astype(np.float32)
    s = pl.np.parameter((1,), name="s", init=1.0, constraint="positive")
    s.bayesian(blackjax.nuts, warmup=300, keep=1500, num_chains=2, prior=pl.bayesian.priors.half_normal(2.0))
    crux = pl.core([(pl.np.array(y) * 1.0 + 0.0 * s).gaussian_nll(s)])
    crux.solve(1800)
    grid = np.linspace(1e-3, 5.0, 20001)
    logpost = (-len(y) * np.log(grid) - (y**2).sum() / (2 * grid**2) - grid**2 / (2 * 2.0**2))
    w = np.exp(logpost - logpost.max())
    m = (grid * w).sum() / w.sum()
    sd = np.sqrt(((grid - m) ** 2 * w).sum() / w.sum())
    draws = s.posterior_samples.reshape(-1)
    assert (draws > 0).all()
    ess = float(pl.bayesian.ess(s.posterior_samples)[0])
    assert abs(draws.mean() - m) < 4 * sd / np.sqrt(ess), (draws.mean(), m)
