"""Integration steps per draw and the cost of the draws (``pl.io.sampling_cost``).

References are independent of the code under test: blackjax's documented step counts (HMC takes exactly
``num_integration_steps`` leapfrog steps, NUTS ``2^(d-1) <= n <= 2^d - 1`` at tree depth ``d``), the
kernels' fixed costs (MALA and SGLD one gradient, random-walk Metropolis none), and ESS / gradients
recomputed by hand from the stored arrays with ArviZ's ESS.
"""

import arviz as az
import blackjax
import numpy as np
import pytest

import pinnlang as pl

STEPS, DEPTH = "num_integration_steps", "num_trajectory_expansions"
D = 3


def gaussian_core(factory, *, warmup, keep, thin=1, num_chains=2, seed=0, extra=None, **kw):
    """θ in R^D with a standard Gaussian posterior (a unit-σ observation of 0 and a flat prior)."""
    theta = pl.np.parameter((D,), name="theta", init=0.0)
    theta.bayesian(factory, warmup=warmup, keep=keep, thin=thin, num_chains=num_chains, init_jitter=0.1,
                   prior=pl.bayesian.priors.gaussian(sigma=1e4), **kw)
    terms = [(theta - pl.np.array(np.zeros((1, D), np.float32))).gaussian_nll(1.0)]
    if extra is not None:
        terms.append(extra)
    crux = pl.core(terms, seed=seed)
    return crux, theta


def solve(factory, *, warmup, keep, thin=1, burn=0, **kw):
    crux, theta = gaussian_core(factory, warmup=warmup, keep=keep, thin=thin, **kw)
    crux.solve(warmup + burn + keep * thin, progress=False)
    return crux, theta


def test_hmc_reports_its_fixed_steps_and_thinning_sums_them():
    L = 7
    crux, theta = solve(blackjax.hmc, num_integration_steps=L, warmup=20, keep=30, thin=3, burn=5)
    steps = theta.posterior_diagnostics[STEPS]
    assert steps.shape == (2, 30) and np.issubdtype(steps.dtype, np.integer)
    np.testing.assert_array_equal(steps, 3 * L)  # every kept draw: the thin=3 steps of its block
    cost = pl.io.sampling_cost(crux)["theta"]
    np.testing.assert_array_equal(cost.kept_gradients, [30 * 3 * L] * 2)
    assert cost.total_gradients == (20 + 5 + 30 * 3) * L  # warmup and burn-in: L per transition
    assert f"{STEPS}/theta" not in crux.history.traces  # a fixed count costs the loop nothing to record


def test_nuts_steps_are_positive_and_match_the_tree_depth():
    crux, theta = solve(blackjax.nuts, warmup=100, keep=200, max_num_doublings=6)
    d = theta.posterior_diagnostics
    n, depth = d[STEPS], d[DEPTH]
    assert n.shape == depth.shape == (2, 200)
    assert np.issubdtype(n.dtype, np.integer) and np.all(n >= 1)
    assert np.all((depth >= 1) & (depth <= 6))
    # the last doubling may stop early (a U-turn inside it), the ones before it are complete
    assert np.all(n <= 2 ** depth - 1) and np.all(n >= 2 ** (depth - 1))
    idata = pl.io.to_arviz(crux, log_likelihood=False)
    np.testing.assert_array_equal(idata.sample_stats["n_steps"].values, n)
    np.testing.assert_array_equal(idata.sample_stats["tree_depth"].values, depth)


def test_nuts_thinned_steps_are_block_sums_of_the_step_trace():
    """With thin=2 each kept draw carries the steps of its block; the history trace holds the chain mean of the
    same block sums, and warmup steps before them."""
    crux, theta = solve(blackjax.nuts, warmup=50, keep=40, thin=2)
    n = theta.posterior_diagnostics[STEPS]
    epochs, values = crux.history.traces[f"{STEPS}/theta"]
    collect = values[-40:]  # the kept draws' blocks come last
    np.testing.assert_allclose(collect, n.mean(axis=0), rtol=1e-6)
    assert np.all(n >= 2)  # two transitions of at least one step each
    np.testing.assert_array_equal(epochs[-40:], 50 + 2 * np.arange(1, 41) - 1)
    cost = pl.io.sampling_cost(crux)["theta"]
    np.testing.assert_array_equal(cost.kept_gradients, n.sum(axis=1))
    assert cost.total_gradients == pytest.approx(float(values.sum()), rel=1e-9)
    assert cost.total_gradients > cost.kept_gradients.mean()  # warmup cost something


def test_ess_per_1000_gradients_is_ess_over_the_stored_counts():
    crux, theta = solve(blackjax.nuts, warmup=100, keep=150)
    cost = pl.io.sampling_cost(crux)["theta"]
    draws = np.asarray(theta.posterior_samples, np.float64)  # (K, N, D)
    bulk = az.ess(az.convert_to_dataset(draws), method="bulk")["x"].values  # ArviZ's, not pinnlang's
    n = theta.posterior_diagnostics[STEPS]
    assert cost.ess_bulk_min == pytest.approx(bulk.min(), rel=1e-8)
    assert cost.ess_bulk_min_at == f"theta[{int(np.argmin(bulk))}]"
    assert cost.ess_per_1k_gradients == pytest.approx(1000 * bulk.min() / n.sum(), rel=1e-8)
    _, values = crux.history.traces[f"{STEPS}/theta"]
    assert cost.ess_per_1k_gradients_total == pytest.approx(1000 * bulk.min() / (2 * values.sum()), rel=1e-8)
    table = pl.io.summary(crux, show=False)
    (row,) = table.costs
    assert row.ess_per_1k_gradients == pytest.approx(cost.ess_per_1k_gradients, rel=1e-12)
    assert "bulk ESS per 1000 gradients" in str(table)
    assert table.to_dict()["costs"]["theta"]["kept_gradients"] == [int(v) for v in n.sum(axis=1)]


@pytest.mark.parametrize("factory, kw, per_step", [
    (blackjax.mala, {"step_size": 0.5}, 1),
    (blackjax.rmh, {"step_size": 0.5}, 0),
    (blackjax.sgld, {"step_size": 0.05}, 1),
    (blackjax.sghmc, {"step_size": 0.01, "num_integration_steps": 4}, 4),
    (blackjax.sghmc, {"step_size": 0.01, "momentum_resample_every": 10}, 1),
])
def test_fixed_cost_kernels_report_their_gradients_per_step(factory, kw, per_step):
    crux, theta = solve(factory, warmup=10, keep=20, thin=2, **kw)
    np.testing.assert_array_equal(theta.posterior_diagnostics[STEPS], 2 * per_step)
    cost = pl.io.sampling_cost(crux)["theta"]
    assert cost.total_gradients == (10 + 40) * per_step
    if per_step == 0:  # random-walk Metropolis: no gradient to normalise by
        assert np.isnan(cost.ess_per_1k_gradients) and np.isnan(cost.ess_per_1k_gradients_total)


def test_steps_under_metropolis_within_gibbs_are_per_block():
    """Two blocks (θ by HMC with L = 3, c by MALA): each handle's count is its own kernel's."""
    c = pl.np.parameter((1,), name="c", init=0.0)
    c.bayesian(blackjax.mala, step_size=0.3, warmup=10, keep=20, num_chains=2, init_jitter=0.1,
               prior=pl.bayesian.priors.gaussian(sigma=1.0), block="c")
    crux, theta = gaussian_core(blackjax.hmc, num_integration_steps=3, warmup=10, keep=20, step_size=0.3,
                                adapt=False, extra=(c - 1.0).gaussian_nll(1.0))
    crux.solve(30, progress=False)
    np.testing.assert_array_equal(theta.posterior_diagnostics[STEPS], 3)
    np.testing.assert_array_equal(c.posterior_diagnostics[STEPS], 1)
    costs = pl.io.sampling_cost(crux)
    assert costs["theta"].total_gradients == 30 * 3 and costs["c"].total_gradients == 30


def test_draws_set_by_hand_have_no_cost():
    crux, theta = solve(blackjax.mala, step_size=0.5, warmup=5, keep=10)
    theta.posterior_samples = np.zeros((2, 10, D), np.float32)
    assert pl.io.sampling_cost(crux) == {}
