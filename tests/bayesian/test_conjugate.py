"""Samplers against the closed-form posterior of a conjugate Gaussian model.

y_i ~ N(θ, σ²), θ ~ N(0, τ²): the posterior is N(m, s²) with s² = 1/(n/σ² + 1/τ²), m = s² Σy/σ².

Every assertion on the draws is a Monte Carlo one (tests/stats_helpers.py, docs/testing.md): the mean
within 4 MCSE (MCSE = sd / sqrt(bulk ESS)), the variance within 4 MCSE of the variance (the mean of
z = (θ - θ̄)², with the ESS of z), ESS floors set well below what every seed gives, and R-hat below
the level it exceeds with probability 1e-4 at that ESS floor. Data and sampler seeds derive from
``$PINNLANG_TEST_SEED``.
"""

import blackjax
import numpy as np
import pytest

import pinnlang as pl
from stats_helpers import assert_at_least, assert_close, assert_mixing, assert_posterior, mean_mcse, seed_for

pytestmark = pytest.mark.statistical

SIGMA, TAU, N_OBS = 0.5, 2.0, 20


def data(seed):
    rng = np.random.default_rng(seed)
    return (1.3 + SIGMA * rng.normal(size=(N_OBS, 1))).astype(np.float32)


def exact(y):
    y = y.astype(np.float64)
    s2 = 1.0 / (len(y) / SIGMA**2 + 1.0 / TAU**2)
    return s2 * y.sum() / SIGMA**2, s2


def sample(factory, *, label="", seed=None, keep=800, warmup=300, num_chains=2, init_jitter=0.5, **kw):
    """Sample θ; returns ``(chain (K, N, 1) float64, (m, s²), theta)``.

    ``seed`` (the sweeps of docs/testing.md) or else ``label`` picks the data and sampler seeds.
    """
    data_seed = seed if seed is not None else seed_for("conjugate", label, "data")
    core_seed = seed if seed is not None else seed_for("conjugate", label, "sampler")
    y = data(data_seed)
    theta = pl.np.parameter((1,), name="theta", init=0.0)
    theta.bayesian(factory, warmup=warmup, keep=keep, num_chains=num_chains, init_jitter=init_jitter,
                   prior=pl.bayesian.priors.gaussian(sigma=TAU), **kw)
    crux = pl.core([(theta - pl.np.array(y)).gaussian_nll(SIGMA)], seed=core_seed)
    crux.solve(warmup + keep * kw.get("thin", 1), progress=False)
    return np.asarray(theta.posterior_samples, np.float64), exact(y), theta


@pytest.mark.parametrize("name,factory,kw,ess_floor", [
    ("nuts", blackjax.nuts, {}, 150),
    ("hmc", blackjax.hmc, {"num_integration_steps": 2}, 300),
    ("mala", blackjax.mala, {"step_size": 0.02}, 200),
    ("rmh", blackjax.rmh, {"step_size": 0.2}, 100),
], ids=["nuts", "hmc", "mala", "rmh"])
def test_full_data_kernels_match_the_closed_form(name, factory, kw, ess_floor):
    """Two chains of 800 draws from over-dispersed starts (init_jitter = 0.5 ≈ 4.5 posterior sd).

    The ESS floors are at most half the smallest bulk or folded ESS seen over 40 seeds (NUTS 360,
    HMC 750, MALA 400, RMH 240; docs/testing.md), and R-hat is asserted below ``rhat_bound(2, 800,
    floor)``: 1.100, 1.051, 1.076, 1.148. R-hat - 1 fluctuates at order M / ESS (M = 4 half-chains), so
    a fixed 1.05 is only a safe threshold (p = 1e-4) once the ESS is known to be at least ~300.

    HMC has a fixed number of leapfrog steps L and no step-size jitter, and on a Gaussian target the
    leapfrog map is a rotation by L·θ(ε) in phase space (cos θ = 1 - ε²/2, ε the step in posterior-sd
    units). Window adaptation ends anywhere in ε ∈ [0.7, 1.1] (200 adaptation seeds), and with L = 8 that
    puts L·θ within reach of a multiple of 2π: a quarter of the seeds give a chain that nearly returns to
    its start (lag-1 autocorrelation 0.99, bulk ESS ≈ 9 of 1600, R-hat 1.06-1.17: issue 6 item 5).
    With L = 2 the lag-1 autocorrelation cos(2θ) stays in [-0.7, 0.2] over that whole range of ε, so the
    chain mixes for every adapted step size and the test checks the sampler, not the luck of one
    trajectory.
    """
    chain, (m, s2), theta = sample(factory, label=name, **kw)
    assert chain.shape == (2, 800, 1)
    assert_posterior(chain, m, s2, name)
    assert_mixing(chain, ess_floor, name)


def test_nuts_diagnostics_layout_and_values():
    """Layout of the NUTS diagnostics; no divergence (impossible on a 1-D Gaussian at an adapted step:
    it takes an energy error of 1000), and the mean acceptance over 400 draws above 0.5 (the adaptation
    targets 0.8; every seed gives 0.85-0.97)."""
    chain, _, theta = sample(blackjax.nuts, label="diagnostics", keep=200, warmup=200)
    d = theta.posterior_diagnostics
    assert set(d) == {"is_divergent", "acceptance_rate", "energy", "num_integration_steps",
                      "num_trajectory_expansions"}
    assert all(v.shape == (2, 200) for v in d.values())
    assert d["is_divergent"].sum() == 0
    assert float(d["acceptance_rate"].mean()) <= 1.0
    assert_at_least(d["acceptance_rate"].mean(), 0.5, "nuts: mean acceptance")


def test_sgld_matches_its_discretised_langevin_stationary_law():
    """SGLD with step ε on a Gaussian target N(m, s²) is the AR(1) recursion
    θ' = θ + ε ∇log p(θ) + sqrt(2ε) ξ = (1 - ε/s²) θ + ε m/s² + sqrt(2ε) ξ,
    whose stationary law is N(m, 2ε / (1 - (1 - ε/s²)²)) = N(m, s² / (1 - ε/(2 s²))): the known step-size bias.

    With ε/s² = 0.16 the lag-1 autocorrelation is a = 0.84, so 6000 draws carry ESS ≈ 6000 (1-a)/(1+a)
    ≈ 520. The ESS estimate of such a chain is noisy (between-chain disagreement lowers it): over 20,000
    simulated AR(1) chains of this a and length its 1e-4 quantile was 263 and its minimum 226 (60 seeds
    of this test: 373-653), hence the floor of 150. This file does not claim to resolve the 9 % bias
    (test_sampling_accuracy.py does, at a larger step); it checks the chain against the biased law.
    """
    eps = 2e-3
    chain, (m, s2), _ = sample(blackjax.sgld, label="sgld", step_size=eps, keep=3000, warmup=500, num_chains=2)
    biased = s2 / (1.0 - eps / (2.0 * s2))
    assert biased / s2 > 1.05  # the bias is real at this step size
    ess = assert_posterior(chain, m, biased, "sgld")
    assert_at_least(ess, 150, "sgld: bulk ESS")


def test_thinning_and_sequential_chains_give_the_same_posterior():
    chain, (m, s2), _ = sample(blackjax.nuts, label="sequential", keep=400, thin=2, chain_method="sequential",
                               num_chains=3)
    assert chain.shape == (3, 400, 1)
    assert_posterior(chain, m, s2, "nuts sequential thin=2")
    assert not np.allclose(chain[0], chain[1])


def my_rwm(logdensity_fn, step_size):
    import jax
    import jax.numpy as jnp

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


def test_custom_kernel_factory():
    chain, (m, s2), theta = sample(my_rwm, label="custom", step_size=0.25, keep=2000, warmup=200)
    assert_posterior(chain, m, s2, "custom random walk")
    assert set(theta.posterior_diagnostics) == {"acceptance_rate"}


def test_positive_parameter_posterior_against_quadrature():
    """Unknown noise scale σ > 0 with a half-normal prior: the posterior mean by numerical integration.

    The grid [1e-3, 5] holds the posterior of any data set of this size: the sample sd of 15 draws of
    N(0, 0.8²) is below 2 with probability 1 - 1e-12, and the posterior sd is about 0.15 of it.
    """
    y = (0.8 * np.random.default_rng(seed_for("conjugate", "positive", "data")).normal(size=(15, 1))).astype(np.float32)
    s = pl.np.parameter((1,), name="s", init=1.0, constraint="positive")
    s.bayesian(blackjax.nuts, warmup=300, keep=1500, num_chains=2, prior=pl.bayesian.priors.half_normal(2.0))
    crux = pl.core([(pl.np.array(y) * 1.0 + 0.0 * s).gaussian_nll(s)], seed=seed_for("conjugate", "positive", "sampler"))
    crux.solve(1800, progress=False)
    grid = np.linspace(1e-3, 5.0, 20001)
    yy = float((y.astype(np.float64) ** 2).sum())
    logpost = (-len(y) * np.log(grid) - yy / (2 * grid**2) - grid**2 / (2 * 2.0**2))
    w = np.exp(logpost - logpost.max())
    m = (grid * w).sum() / w.sum()
    draws = np.asarray(s.posterior_samples, np.float64)
    assert (draws > 0).all()
    mean, se, _ = mean_mcse(draws)
    assert_close(mean, m, se, "positive sigma: mean")
