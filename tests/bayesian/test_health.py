"""Issue 7 item 5: chains that never move, or do not mix, produce warnings that name the handle and the fix."""

import blackjax
import numpy as np
import pytest

import pinnlang as pl
from pinnlang.bayesian import chain_warnings

RNG = np.random.default_rng(0)


def healthy(k=4, n=400, p=3):
    return RNG.normal(size=(k, n, p)).astype(np.float32)


def test_healthy_chains_give_no_warning():
    acc = np.full((4, 400), 0.8)
    assert chain_warnings("theta", {"w": healthy(), "b": healthy(p=1)}, {"acceptance_rate": acc}) == []
    assert chain_warnings("theta", healthy(k=1), None) == []


def test_acceptance_near_zero_names_handle_rate_and_fix():
    acc = np.full((2, 400), 0.01)
    (msg,) = chain_warnings("theta", healthy(k=2), {"acceptance_rate": acc})
    assert msg.startswith("theta:") and "0.010" in msg
    assert "lower step_size" in msg and "adapt=True" in msg and "nuts" in msg


def test_one_chain_with_low_acceptance_is_named():
    acc = np.full((3, 400), 0.7)
    acc[1] = 0.0
    (msg,) = chain_warnings("k", healthy(k=3), {"acceptance_rate": acc})
    assert "below 0.05: [1]" in msg


def test_chains_that_stay_at_one_value():
    stuck = np.broadcast_to(RNG.normal(size=(4, 1, 2)), (4, 300, 2)).copy()
    msgs = chain_warnings("theta", stuck, None)
    assert len(msgs) == 1 and "all 4 chains stayed at one value for all 300 kept draws" in msgs[0]
    assert "lower step_size" in msgs[0].lower()
    some = healthy(k=3)
    some[2] = some[2, 0]
    (msg,) = chain_warnings("net", {"layer": some}, None)
    assert "chain(s) [2] of 3 stayed at one value" in msg


def test_chains_that_do_not_mix():
    apart = RNG.normal(size=(4, 500, 1)) * 0.01 + np.arange(4)[:, None, None]  # each chain in its own place
    (msg,) = chain_warnings("theta", apart, None)
    assert "do not mix" in msg and "R-hat up to" in msg and "bulk ESS" in msg
    assert "Run longer" in msg and "init_jitter" in msg
    walk = np.cumsum(RNG.normal(size=(1, 2000, 1)), axis=1)  # one chain, a random walk: halves disagree
    (msg,) = chain_warnings("theta", walk, None)
    assert "two halves disagree" in msg


def test_few_effective_draws():
    sticky = np.repeat(RNG.normal(size=(4, 8, 1)), 50, axis=1)  # 8 distinct values per chain, each 50 times
    msgs = chain_warnings("theta", sticky, None)
    assert len(msgs) == 1 and ("effective draws" in msgs[0] or "do not mix" in msgs[0])


def test_divergences_and_non_finite_draws():
    div = np.zeros((4, 400), bool)
    div[:, :40] = True
    (msg,) = chain_warnings("s", healthy(), {"is_divergent": div})
    assert "160 of 1600 transitions (10.0%) diverged" in msg and "constraint" in msg
    bad = healthy()
    bad[0, 5, 1] = np.nan
    (msg,) = chain_warnings("s", {"w": bad}, None)
    assert "NaN or inf" in msg and "['w']" in msg


def test_a_component_constant_everywhere_alone_is_not_a_warning():
    x = healthy()
    x[:, :, 1] = 2.0  # e.g. a masked-out entry: R-hat NaN, ESS = S, as in ArviZ; nothing to tell
    assert chain_warnings("theta", x, None) == []


def test_large_pytrees_are_checked_on_a_bounded_subset():
    big = {"w": RNG.normal(size=(2, 200, 5000)).astype(np.float32)}
    assert chain_warnings("net", big, None) == []


@pytest.mark.parametrize("factory,kw", [(blackjax.rmh, {"step_size": 200.0}), (blackjax.mala, {"step_size": 50.0})])
def test_a_real_sampler_with_a_huge_step_is_reported(factory, kw):
    theta = pl.np.parameter((1,), name="theta", init=0.0)
    theta.bayesian(factory, warmup=0, keep=60, num_chains=2, init_jitter=0.1, **kw)
    y = np.random.default_rng(1).normal(1.0, 0.1, size=(50, 1)).astype(np.float32)
    crux = pl.core([(theta - pl.np.array(y)).gaussian_nll(0.1)], seed=0)
    crux.solve(60, progress=False)
    msgs = chain_warnings(theta.name, theta.posterior_samples, theta.posterior_diagnostics)
    assert msgs and all(m.startswith("theta:") for m in msgs)
    assert any("acceptance rate" in m for m in msgs) and any("step_size" in m for m in msgs)
