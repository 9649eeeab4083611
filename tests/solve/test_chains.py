"""K chains are K independent joint chains; equal settings sample jointly; the defects of the old loop stay fixed."""

import logging

import blackjax
import jax
import numpy as np
import optax
import pytest

import pinnlang as pl
from pinnlang.errors import ConfigurationError
from stats_helpers import assert_mixing

K, KEEP = 4, 1000
RIDGE_ESS_FLOOR = 200  # bulk / folded ESS of 4 x 1000 NUTS draws on the ridge: 378-735 (seeds 0-5, both spellings)


def ridge(two_handles: bool, seed: int = 0, kernel=blackjax.nuts, **kw):
    """``((a + b) x - 2x)`` on 21 points with σ = 0.1 and N(0, 1) priors: a + b is pinned, a - b is the prior's."""
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.05)
    x, _ = dom.variable("interior")
    prior = pl.bayesian.priors.gaussian(1.0)
    settings = dict(num_chains=K, init_jitter=2.0, prior=prior, warmup=500, keep=KEEP, **kw)
    if two_handles:
        a, b = pl.np.parameter((1,), name="a"), pl.np.parameter((1,), name="b")
        for p in (a, b):
            p.bayesian(kernel, **settings)
        s = a + b
    else:
        ab = pl.np.parameter((2,), name="ab")
        ab.bayesian(kernel, **settings)
        s = ab[0] + ab[1]
    crux = pl.core([(s * x - 2 * x).gaussian_nll(0.1)], seed=seed)
    crux.solve(500 + KEEP)
    if two_handles:
        return crux, np.concatenate([a.posterior_samples, b.posterior_samples], axis=-1)
    return crux, ab.posterior_samples


def cross_chain_correlation(draws):
    c = np.corrcoef(draws)
    return np.abs(c[~np.eye(len(draws), dtype=bool)]).max()


@pytest.mark.parametrize("two_handles", [False, True])
def test_ridge_chains_are_independent_and_the_prior_spread_is_recovered(two_handles):
    """Every spelling of the problem gives the same answer.

    Independent chains have cross-chain correlations of order 1/sqrt(ESS per chain); 5/sqrt(ESS) is a
    bound exceeded with negligible probability (the coupled loop gave 0.996). Bulk and folded ESS stay
    above ``RIDGE_ESS_FLOOR`` and R-hat below ``rhat_bound(4, 1000, 200)`` ≈ 1.090 (p = 1e-4; the coupled
    loop gave 1.53). a - b is untouched by the
    likelihood, so its posterior sd is the prior's, sqrt(2): checked within 4 standard errors of an sd
    estimated from ESS draws (relative SE 1/sqrt(2 ESS)).
    """
    crux, draws = ridge(two_handles)
    assert draws.shape == (K, KEEP, 2)
    diff = draws[..., 0] - draws[..., 1]
    ess_diff = float(pl.bayesian.ess(diff[..., None])[0])
    ess_per_chain = np.asarray(pl.bayesian.ess(draws)).min() / K
    assert cross_chain_correlation(draws[..., 0]) < 5 / np.sqrt(ess_per_chain)
    for i in range(2):
        assert_mixing(draws[..., i:i + 1], RIDGE_ESS_FLOOR, f"ridge component {i}")
    assert abs(diff.std() / np.sqrt(2.0) - 1.0) < 4 / np.sqrt(2 * ess_diff), (diff.std(), ess_diff)
    assert len(crux._engine.plan.sampled) == 1  # one kernel over (a, b): one adaptation, one mass matrix


def test_handles_with_equal_settings_form_one_block_and_block_names_split_them(caplog):
    a, b, c = (pl.np.parameter((1,), name=n) for n in "abc")
    prior = pl.bayesian.priors.gaussian(1.0)
    a.bayesian(blackjax.nuts, warmup=20, keep=5, prior=prior)
    b.bayesian(blackjax.nuts, warmup=20, keep=5, prior=pl.bayesian.priors.gaussian(3.0))  # priors may differ
    c.bayesian(blackjax.nuts, warmup=20, keep=5, prior=prior, block="own")
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.25)
    x, _ = dom.variable("interior")
    crux = pl.core([((a + b + c) * x - x).gaussian_nll(0.5)])
    with caplog.at_level(logging.INFO, logger="pinnlang"):
        crux.solve(25)
    groups = [[m.key.split("#")[0] for m in g.members] for g in crux._engine.plan.sampled]
    assert groups == [["a", "b"], ["c"]]
    assert any("[nuts: a + b (joint)]" in r.message for r in caplog.records)


def test_gibbs_blocks_of_different_kernels_keep_chains_apart():
    """a by NUTS, b by MALA: chain k of a only meets chain k of b, so chains stay independent."""
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.05)
    x, _ = dom.variable("interior")
    a, b = pl.np.parameter((1,), name="a"), pl.np.parameter((1,), name="b")
    prior = pl.bayesian.priors.gaussian(1.0)
    a.bayesian(blackjax.nuts, num_chains=K, init_jitter=1.0, prior=prior, warmup=300, keep=600)
    b.bayesian(blackjax.mala, step_size=3e-4, num_chains=K, init_jitter=1.0, prior=prior, warmup=300, keep=600)
    crux = pl.core([((a + 0.5 * b) * x - x).gaussian_nll(0.2)])
    crux.solve(900)
    A = a.posterior_samples[..., 0]
    ess_per_chain = float(pl.bayesian.ess(a.posterior_samples)[0]) / K
    assert cross_chain_correlation(A) < 5 / np.sqrt(ess_per_chain)
    assert not np.allclose(A.mean(axis=1), A.mean(axis=1)[0], atol=1e-3)


def test_reconfigured_chains_are_not_stale():
    """num_chains=2, keep=6, then num_chains=3, keep=4: draws and eval follow the new layout."""
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    a = pl.np.parameter((1,), name="a")
    crux = pl.core([(a * x - x).gaussian_nll(0.1)])
    a.bayesian(blackjax.mala, step_size=1e-3, num_chains=2, keep=6, warmup=4)
    crux.solve(10)
    assert a.posterior_samples.shape == (2, 6, 1) and crux.eval(a * x).shape == (2, 6, 9, 1)
    a.bayesian(blackjax.mala, step_size=1e-3, num_chains=3, keep=4, warmup=4)
    crux.solve(8)
    assert a.posterior_samples.shape == (3, 4, 1) and crux.eval(a * x).shape == (3, 4, 9, 1)
    a.optimizer(optax.adam(1e-2))
    crux.solve(5)
    assert a.posterior_samples is None
    np.testing.assert_allclose(crux.eval(a * x), np.asarray(a.value) * dom.context["interior"], rtol=1e-6)


def test_draws_of_different_solves_are_not_paired():
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    a, b = pl.np.parameter((1,), name="a"), pl.np.parameter((1,), name="b")
    crux = pl.core([((a + b) * x - x).gaussian_nll(0.1)])
    a.bayesian(blackjax.mala, step_size=1e-3, keep=5, warmup=0)
    b.freeze()
    crux.solve(5)
    a.freeze()
    b.unfreeze().bayesian(blackjax.mala, step_size=1e-3, keep=5, warmup=0)
    crux.solve(5)
    with pytest.raises(ConfigurationError, match="different solves"):
        crux.eval(a + b)
    assert crux.eval(a + b, samples="point").shape == (1,)


def test_line_searches_see_one_fixed_function():
    """Two handles on L-BFGS: each value_fn, at its start point, equals the value it was handed."""
    import jax.numpy as jnp

    def recording_lbfgs():
        inner = optax.lbfgs()

        def init(params):
            return (inner.init(params), jnp.zeros(()))

        def update(grads, state, params, *, value, grad, value_fn, **kw):
            gap = jnp.maximum(state[1], jnp.abs(value_fn(params) - value))
            updates, s = inner.update(grads, state[0], params, value=value, grad=grad, value_fn=value_fn)
            return updates, (s, gap)

        return optax.GradientTransformationExtraArgs(init, update)

    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    a, b = pl.np.parameter((1,), name="a", init=0.3), pl.np.parameter((1,), name="b", init=-0.2)
    a.optimizer(recording_lbfgs())
    b.optimizer(recording_lbfgs())
    crux = pl.core([(a * pl.np.sin(x) + b * x**2 - pl.np.sin(x) - 0.5 * x**2).mse])
    crux.solve(20)
    gaps = [float(s.opt_state[1]) for s in crux._state.groups]
    assert max(gaps) < 1e-6, gaps
    np.testing.assert_allclose([float(a.value[0]), float(b.value[0])], [1.0, 0.5], atol=1e-3)


def test_requests_beyond_memory_are_refused_before_running():
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=256, num_layers=4, key=jax.random.PRNGKey(0)), name="big")
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.5)
    x, _ = dom.variable("interior")
    net.bayesian(blackjax.sgld, step_size=1e-6, warmup=0, keep=10_000_000, num_chains=4)
    crux = pl.core([net(x).mse])
    with pytest.raises(ConfigurationError, match=r"GiB of draws.*Lower keep"):
        crux.solve(10_000_000)
    assert net.posterior_samples is None


def test_large_but_possible_draws_warn_with_the_byte_count(caplog, monkeypatch):
    import importlib

    core_module = importlib.import_module("pinnlang.solve.core")
    monkeypatch.setattr(core_module, "GIB", 1000)  # pretend 1 kB is a lot
    a = pl.np.parameter((50,), name="a")
    a.bayesian(blackjax.mala, step_size=1e-3, warmup=0, keep=20)
    crux = pl.core([(a - 1.0).mse])
    with caplog.at_level(logging.WARNING, logger="pinnlang"):
        crux.solve(20)
    assert any("of draws" in r.message and "20 draws" in r.message for r in caplog.records)


def test_minibatches_refuse_terms_whose_estimate_would_be_biased():
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.05)
    x, _ = dom.variable("interior")
    a = pl.np.parameter((1,), name="a")
    a.bayesian(blackjax.sgld, step_size=1e-4, warmup=0, keep=5, batch_size=5)
    crux = pl.core([(a * x - x).gaussian_nll(0.1), (a * x).norm], names=["data", "size"])
    with pytest.raises(ConfigurationError, match=r"term 'size' is \.norm.*biased"):
        crux.solve(5)
