"""``pl.io.to_arviz``: groups, names and shapes; ArviZ's diagnostics equal pinnlang's; the pointwise
log-likelihood equals scipy's normal log-density at every draw, so ``arviz.waic`` equals the hand formula."""

import types

import arviz as az
import blackjax
import numpy as np
import pytest
from scipy import special, stats

import pinnlang as pl

K, N, SIGMA = 2, 150, 0.1  # the layout and noise of the nuts_problem fixture (tests/io/conftest.py)


@pytest.fixture(scope="module")
def idata(nuts_problem):
    return pl.io.to_arviz(nuts_problem["crux"])


def test_groups_names_and_shapes(idata, nuts_problem):
    assert nuts_problem["theta"].posterior_samples.shape == (K, N, 2)
    assert {"posterior", "sample_stats", "log_likelihood", "observed_data"} <= set(idata.groups())
    assert list(idata.posterior.data_vars) == ["theta"]
    assert idata.posterior["theta"].shape == (K, N, 2)
    n = nuts_problem["xs"].size
    assert idata.log_likelihood["data"].shape == (K, N, n)
    assert idata.observed_data["data"].shape == (n,)
    np.testing.assert_array_equal(idata.posterior["theta"].values, nuts_problem["theta"].posterior_samples)


def test_sample_stats_are_the_kernel_diagnostics_in_arviz_names(idata, nuts_problem):
    diag = nuts_problem["theta"].posterior_diagnostics
    assert {"diverging", "acceptance_rate", "energy"} <= set(idata.sample_stats.data_vars)
    assert idata.sample_stats["diverging"].dtype == bool
    np.testing.assert_array_equal(idata.sample_stats["diverging"].values, diag["is_divergent"])
    np.testing.assert_allclose(idata.sample_stats["acceptance_rate"].values, diag["acceptance_rate"])
    np.testing.assert_allclose(idata.sample_stats["energy"].values, diag["energy"])


def test_observed_data_is_the_data_the_likelihood_sees(idata, nuts_problem):
    d = np.asarray(nuts_problem["crux"].eval(nuts_problem["target"]))[:, 0]
    np.testing.assert_allclose(idata.observed_data["data"].values, d, rtol=1e-6)


def test_pointwise_log_likelihood_matches_scipy_at_every_draw(idata, nuts_problem):
    th = np.asarray(nuts_problem["theta"].posterior_samples, np.float64)  # (K, N, 2)
    xs = nuts_problem["xs"]
    mean = th[..., 0:1] * np.sin(np.pi * xs) + th[..., 1:2] * np.cos(np.pi * xs)  # (K, N, n)
    d = idata.observed_data["data"].values
    want = stats.norm.logpdf(d, loc=mean, scale=SIGMA)
    np.testing.assert_allclose(idata.log_likelihood["data"].values, want, rtol=1e-4, atol=1e-4)
    # the loss term is the negated sum of the pointwise values at every draw
    total = -np.asarray(nuts_problem["crux"].eval(nuts_problem["crux"].loss.terms_nodes[0]))
    np.testing.assert_allclose(idata.log_likelihood["data"].values.sum(-1), total, rtol=1e-5, atol=1e-3)


def test_waic_and_loo_work_and_waic_equals_the_hand_formula(idata):
    ll = idata.log_likelihood["data"].values.reshape(K * N, -1).astype(np.float64)
    lppd = np.sum(special.logsumexp(ll, axis=0) - np.log(ll.shape[0]))
    p_waic = np.sum(np.var(ll, axis=0))  # ArviZ takes the plain (ddof=0) variance over draws
    waic = az.waic(idata)
    assert waic.elpd_waic == pytest.approx(lppd - p_waic, rel=1e-9)
    loo = az.loo(idata)
    assert np.all(np.isfinite(loo.pareto_k.values))
    assert abs(loo.elpd_loo - waic.elpd_waic) < 2 * waic.se  # two estimates of the same elpd


def test_arviz_summary_gives_pinnlangs_rhat_and_ess(idata, nuts_problem):
    chains = nuts_problem["theta"].posterior_samples
    s = az.summary(idata, round_to="none")
    np.testing.assert_allclose(s["r_hat"].values, pl.bayesian.rhat(chains), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(s["ess_bulk"].values, pl.bayesian.ess(chains, "bulk"), rtol=1e-8)
    np.testing.assert_allclose(s["ess_tail"].values, pl.bayesian.ess(chains, "tail"), rtol=1e-8)


def test_plot_trace_runs(idata):
    axes = az.plot_trace(idata)
    assert np.asarray(axes).shape == (1, 2)
    import matplotlib.pyplot as plt

    plt.close("all")


def test_network_leaves_are_named_by_key_path_with_their_shapes(mala_network):
    crux, net = mala_network["crux"], mala_network["net"]
    idata = pl.io.to_arviz(crux)
    names = set(idata.posterior.data_vars)
    assert {"u.layers.0.weight", "u.layers.0.bias", "u.output_layer.weight", "u.output_layer.bias", "c"} == names
    assert idata.posterior["u.layers.0.weight"].shape == (2, 40, 4, 1)
    np.testing.assert_array_equal(idata.posterior["u.layers.0.weight"].values,
                                  net.posterior_samples.layers[0].weight)
    # two kernels (Metropolis-within-Gibbs): per-handle statistics, and 'diverging' would be their union
    assert {"acceptance_rate_u", "acceptance_rate_c"} <= set(idata.sample_stats.data_vars)
    assert "lp" in idata.sample_stats.data_vars  # the log posterior of each draw, once
    for leaf in ("u.layers.0.weight", "u.output_layer.bias"):
        got = az.rhat(idata, var_names=[leaf])[leaf].values
        np.testing.assert_allclose(got, pl.bayesian.rhat(idata.posterior[leaf].values), rtol=1e-8, atol=1e-8)
        got = az.ess(idata, var_names=[leaf], method="tail")[leaf].values
        np.testing.assert_allclose(got, pl.bayesian.ess(idata.posterior[leaf].values, "tail"), rtol=1e-8)


def test_vi_draws_export_the_same_way():
    """A (1, N) posterior (VI draws): ESS agrees with ArviZ; ArviZ's R-hat of one chain is NaN by design."""
    p = pl.np.parameter((1,), name="w")
    p.posterior_samples = np.random.default_rng(0).normal(2.0, 0.5, size=(1, 400, 1))
    core = types.SimpleNamespace(handles={"w#0": p},
                                 loss=types.SimpleNamespace(terms_nodes=[], names=[], weights=[]))
    idata = pl.io.to_arviz(core)
    assert idata.posterior["w"].shape == (1, 400)
    s = az.summary(idata, round_to="none")
    np.testing.assert_allclose(s.loc["w", "ess_bulk"], pl.bayesian.ess(p.posterior_samples, "bulk")[0], rtol=1e-8)
    np.testing.assert_allclose(s.loc["w", "ess_tail"], pl.bayesian.ess(p.posterior_samples, "tail")[0], rtol=1e-8)
    assert s.loc["w", "mean"] == pytest.approx(float(p.posterior_samples.mean()), rel=1e-12)


def test_no_sampled_handle_is_a_clear_error(trained_core):
    with pytest.raises(pl.errors.ConfigurationError, match="no model or parameter of this core has posterior"):
        pl.io.to_arviz(trained_core["crux"])


def test_jointly_sampled_handles_share_one_kernels_stats():
    """a and b with equal settings form one NUTS block: its statistics appear once, under ArviZ's names."""
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    a, b = pl.np.parameter((1,), name="a"), pl.np.parameter((1,), name="b")
    for p in (a, b):
        p.bayesian(blackjax.nuts, warmup=50, keep=40, num_chains=2, prior=pl.bayesian.priors.gaussian(1.0))
    crux = pl.core([((a + b) * x - x).gaussian_nll(0.2)])
    crux.solve(90)
    stats = pl.io.to_arviz(crux).sample_stats
    assert {"diverging", "acceptance_rate", "energy", "lp"} <= set(stats.data_vars)
    assert not any(v.endswith(("_a", "_b")) for v in stats.data_vars)
    np.testing.assert_array_equal(stats["lp"].values, a.posterior_logdensity)


def test_a_prior_written_as_a_loss_term_is_not_a_log_likelihood():
    import blackjax

    from pinnlang.io.likelihood import likelihood_terms

    x, _ = pl.domain.from_array({"obs": np.linspace(0, 1, 8)[:, None].astype(np.float32)}).variable("obs")
    w = pl.np.parameter((1,), name="w", init=0.5)
    w.bayesian(blackjax.nuts, warmup=10, keep=10)
    data = (w * x - pl.np.array(np.ones((8, 1), np.float32))).gaussian_nll(0.1)
    crux = pl.core([data, w.gaussian_nll(2.0)], names=["data", "prior_w"])
    assert [t.name for t in likelihood_terms(crux)] == ["data"]
