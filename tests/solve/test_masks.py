"""Masked groups: validation, and Patterns A (frozen body), B (trained body), D (two masked blocks)."""

import logging

import blackjax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pinnlang as pl
from pinnlang.errors import ConfigurationError
from pinnlang.solve.posterior import CONSTANT, DRAWS, STEPS
from stats_helpers import assert_mixing, assert_posterior

SIGMA = 0.05


def regression(seed=0, hidden=16):
    """32 noisy observations of sin(πx) on [-1, 1] (the spec's masked-head problem)."""
    rng = np.random.default_rng(seed)
    xs = np.linspace(-1.0, 1.0, 32, dtype=np.float32).reshape(-1, 1)
    ys = (np.sin(np.pi * xs) + SIGMA * rng.normal(size=xs.shape)).astype(np.float32)
    dom = pl.domain.from_array({"train": xs})
    x, _ = dom.variable("train")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=hidden, num_layers=2, key=jax.random.PRNGKey(0)), name="u")
    return dom, x, net, ys


def head_mask(net):
    all_false = jax.tree_util.tree_map(lambda _: False, net.module)
    return eqx.tree_at(lambda m: m.output_layer, all_false,
                       replace=jax.tree_util.tree_map(lambda _: True, net.module.output_layer))


def first_layer_mask(net):
    all_false = jax.tree_util.tree_map(lambda _: False, net.module)
    return eqx.tree_at(lambda m: m.layers[0], all_false,
                       replace=jax.tree_util.tree_map(lambda _: True, net.module.layers[0]))


def leaf_variances(net, mask):
    """Max and min variance along the draws of the masked leaves; max range (max - min) of the others."""
    chain = eqx.filter(net.posterior_samples, eqx.is_inexact_array)
    leaves = [np.asarray(l, np.float64) for l in jax.tree_util.tree_leaves(chain)]
    var = [float(np.max(np.var(l, axis=1))) for l in leaves]
    spread = [float(np.max(np.ptp(l, axis=1))) for l in leaves]
    flags = [f for f, l in zip(jax.tree_util.tree_leaves(mask), jax.tree_util.tree_leaves(net.module))
             if eqx.is_inexact_array(l)]
    inside = [v for v, f in zip(var, flags) if f]
    outside = [v for v, f in zip(spread, flags) if not f]
    return max(inside), min(inside), max(outside) if outside else 0.0


# -- validation ----------------------------------------------------------------------------------------
def test_mask_with_another_structure_names_the_first_differing_path():
    _, _, net, _ = regression()
    other = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=16, num_layers=3, key=jax.random.PRNGKey(0)))
    with pytest.raises(ConfigurationError, match=r"pytree structure.*layers.*output_layer|pytree structure.*\[2\]"):
        net.mask(head_mask(other))


def test_mask_entries_must_be_bools_selecting_whole_leaves():
    _, _, net, _ = regression()
    mask = jax.tree_util.tree_map(lambda l: jnp.ones(l.shape, bool) if eqx.is_array(l) else False, net.module)
    with pytest.raises(ConfigurationError, match="whole leaves"):
        net.mask(mask)


def test_empty_and_overlapping_masks_are_errors():
    _, _, net, _ = regression()
    with pytest.raises(ConfigurationError, match="selects no trainable leaf"):
        net.mask(jax.tree_util.tree_map(lambda _: False, net.module))
    net.mask(head_mask(net)).bayesian(blackjax.sgld, step_size=1e-4)
    weight_only = eqx.tree_at(lambda m: m.output_layer.weight, jax.tree_util.tree_map(lambda _: False, net.module),
                              replace=True)
    with pytest.raises(ConfigurationError, match=r"disjoint.*output_layer"):
        net.mask(weight_only).bayesian(blackjax.sgld, step_size=1e-4)


def test_the_same_mask_again_replaces_its_configuration(caplog):
    _, _, net, _ = regression()
    net.mask(head_mask(net)).bayesian(blackjax.sgld, step_size=1e-4)
    with caplog.at_level(logging.WARNING, logger="pinnlang"):
        net.mask(head_mask(net)).bayesian(blackjax.nuts, warmup=10, keep=5)
    assert "replaces the earlier .bayesian(sgld) of mask 0" in caplog.text
    assert len(net.masked_groups) == 1 and net.masked_groups[0].config.name == "nuts"


def test_mask_on_a_parameter_and_unfinished_mask_are_errors():
    dom, x, net, ys = regression()
    a = pl.np.parameter((3,), name="a")
    with pytest.raises(ConfigurationError, match="separate parameters"):
        a.mask([True, False, True])
    net.mask(head_mask(net))  # never followed by .bayesian(...)
    crux = pl.core([(net(x) - ys).mse])
    with pytest.raises(ConfigurationError, match=r"never followed by \.bayesian"):
        crux.solve(5)


def test_masks_accept_the_trainable_structure_and_callables():
    _, _, net, _ = regression()
    trainable = eqx.filter(net.module, eqx.is_inexact_array)
    m1 = jax.tree_util.tree_map(lambda _: False, trainable)
    m1 = eqx.tree_at(lambda m: m.output_layer.weight, m1, replace=True)
    assert sum(net.mask(m1).flags) == 1
    def callable_mask(module):  # optax's convention: params -> mask
        return eqx.tree_at(lambda m: m.output_layer, jax.tree_util.tree_map(lambda _: False, module),
                           replace=jax.tree_util.tree_map(lambda _: True, module.output_layer))

    assert net.mask(callable_mask).flags == net.mask(head_mask(net)).flags


def test_optimizer_then_bayesian_on_the_whole_model_warns_and_points_to_masks(caplog):
    _, _, net, _ = regression()
    net.optimizer(optax.adam(1e-3))
    with caplog.at_level(logging.WARNING, logger="pinnlang"):
        net.bayesian(blackjax.sgld, step_size=1e-4)
    assert any("replaces" in r.message and ".mask(M).bayesian" in r.message and r.levelno == logging.WARNING
               for r in caplog.records)


def test_two_phase_workflow_replaces_quietly(caplog):
    """Train, solve, then sample: the replacement is what the user meant (INFO, not WARNING)."""
    dom, x, net, ys = regression()
    net.optimizer(optax.adam(1e-3))
    crux = pl.core([(net(x) - ys).mse])
    crux.solve(5)
    with caplog.at_level(logging.INFO, logger="pinnlang"):
        net.bayesian(blackjax.sgld, step_size=1e-5, warmup=0, keep=3)
    levels = [r.levelno for r in caplog.records if "replaces" in r.message]
    assert levels == [logging.INFO]


# -- Pattern A -----------------------------------------------------------------------------------------
def test_pattern_a_head_sampled_body_stays_and_is_stored_once():
    dom, x, net, ys = regression()
    body_before = [np.asarray(l) for l in jax.tree_util.tree_leaves(eqx.filter(net.module.layers, eqx.is_array))]
    mask = head_mask(net)
    net.mask(mask).bayesian(blackjax.sgld, step_size=1e-3, warmup=100, keep=50, thin=2)
    crux = pl.core([((net(x) - ys) / SIGMA).mse])
    crux.solve(200)
    head_max, head_min, body_max = leaf_variances(net, mask)
    assert body_max == 0.0 and head_min > 1e-8
    kinds = [kind for kind, _ in net._posterior.sources]
    assert kinds.count(DRAWS) == 2 and kinds.count(CONSTANT) == len(kinds) - 2  # weight and bias of the head
    assert net._posterior.nbytes() < 2 * 50 * 17 * 4 + sum(b.nbytes for b in body_before) + 1
    for a, b in zip(body_before, jax.tree_util.tree_leaves(eqx.filter(net.module.layers, eqx.is_array))):
        np.testing.assert_array_equal(a, np.asarray(b))
    u = crux.eval(net(x))
    assert u.shape == (1, 50, 32, 1) and np.all(np.isfinite(u))


def test_pattern_a_pushforward_equals_the_model_at_each_draw():
    dom, x, net, ys = regression()
    net.mask(head_mask(net)).bayesian(blackjax.sgld, step_size=1e-3, warmup=10, keep=8)
    crux = pl.core([((net(x) - ys) / SIGMA).mse])
    crux.solve(18)
    u = crux.eval(net(x))
    chain = net.posterior_samples
    xs = jnp.asarray(dom.context["train"])
    for n in (0, 3, 7):
        module = jax.tree_util.tree_map(lambda l: l[0, n] if eqx.is_array(l) else l, chain)
        np.testing.assert_allclose(u[0, n], jax.vmap(module)(xs), rtol=1e-5, atol=1e-6)


def test_pattern_a_with_a_selection_is_bit_identical_to_the_bool_pytree_spelling():
    """``net.mask(lambda m: m.layers[-1])`` and the hand-built bool pytree: the same group, the same draws."""
    def run(spell):
        dom, x, _, ys = regression()
        net = pl.nn.wrap(eqx.nn.MLP(1, 1, 16, 2, activation=jnp.tanh, key=jax.random.PRNGKey(0)), name="u")
        net.mask(spell(net.module)).bayesian(blackjax.sgld, step_size=1e-3, warmup=5, keep=6)
        crux = pl.core([((net(x) - ys) / SIGMA).mse], seed=3)
        crux.solve(11)
        return net, np.asarray(crux.eval(net(x)))

    def hand_built(module):
        all_false = jax.tree_util.tree_map(lambda _: False, module)
        return eqx.tree_at(lambda m: m.layers[-1], all_false,
                           replace=jax.tree_util.tree_map(lambda _: True, module.layers[-1]))

    net_s, u_s = run(lambda module: (lambda m: m.layers[-1]))
    net_b, u_b = run(hand_built)
    assert net_s.masked_groups[0].flags == net_b.masked_groups[0].flags == (False,) * 4 + (True, True)
    for a, b in zip(jax.tree_util.tree_leaves(eqx.filter(net_s.posterior_samples, eqx.is_array)),
                    jax.tree_util.tree_leaves(eqx.filter(net_b.posterior_samples, eqx.is_array))):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(u_s, u_b)
    assert u_s.shape == (1, 6, 32, 1) and np.ptp(u_s, axis=1).max() > 0  # the head did move along the chain


# -- Pattern B -----------------------------------------------------------------------------------------
def test_pattern_b_body_trains_while_the_head_is_sampled():
    dom, x, net, ys = regression()
    mask = head_mask(net)
    net.optimizer(optax.adam(5e-3))
    net.mask(mask).bayesian(blackjax.sgld, step_size=5e-4, warmup=300, keep=100, thin=2)
    crux = pl.core([((net(x) - ys) / SIGMA).mse])
    crux.solve(500, print_rate=100)
    loss = crux.history.total
    # the body's features improve the fit (medians: the sampled head makes single records noisy)
    assert np.median(loss[-100:]) < 0.3 * np.median(loss[:20])
    head_max, head_min, body_max = leaf_variances(net, mask)
    assert head_min > 1e-8 and body_max > 0.0  # the body moves (trained) during sampling
    kinds = [kind for kind, _ in net._posterior.sources]
    assert kinds.count(DRAWS) == 2 and kinds.count(STEPS) == len(kinds) - 2


def test_pattern_b_with_chains_shares_the_body_or_replicates_it(caplog):
    dom, x, net, ys = regression()
    net.optimizer(optax.adam(5e-3))
    net.mask(head_mask(net)).bayesian(blackjax.sgld, step_size=5e-4, warmup=20, keep=10, num_chains=3,
                                      init_jitter=0.1)
    crux = pl.core([((net(x) - ys) / SIGMA).mse])
    with caplog.at_level(logging.WARNING, logger="pinnlang"):
        crux.solve(30)
    assert any("averaged over the 3 chains" in r.message for r in caplog.records)
    kinds = {kind for kind, _ in net._posterior.sources}
    assert kinds == {DRAWS, STEPS}
    body = np.asarray(net.posterior_samples.layers[0].weight)
    np.testing.assert_array_equal(body[0], body[1])  # one shared body per draw

    net.optimizer(optax.adam(5e-3), per_chain=True)
    crux.solve(30)
    kinds = {kind for kind, _ in net._posterior.sources}
    assert kinds == {DRAWS}
    body = np.asarray(net.posterior_samples.layers[0].weight)
    assert not np.allclose(body[0], body[1])  # each chain trains its own body against its own head


# -- Pattern D -----------------------------------------------------------------------------------------
def test_pattern_d_gibbs_blocks_sample_the_exact_linear_regression_posterior():
    """y = w x + b + ε with Gaussian priors: weight and bias in two masked blocks (NUTS, then MALA).

    The exact posterior is Gaussian with precision XᵀX/σ² + I/τ²; Metropolis-within-Gibbs over the two
    blocks must reproduce its means and standard deviations within Monte Carlo error (4 MCSE).
    """
    sigma, tau = 0.3, 2.0
    rng = np.random.default_rng(7)
    xs = np.linspace(-1, 1, 25, dtype=np.float32).reshape(-1, 1)
    ys = (0.7 * xs - 0.4 + sigma * rng.normal(size=xs.shape)).astype(np.float32)
    dom = pl.domain.from_array({"obs": xs})
    x, _ = dom.variable("obs")
    lin = pl.nn.wrap(eqx.nn.Linear(1, 1, key=jax.random.PRNGKey(0)), name="lin")
    prior = pl.bayesian.priors.gaussian(tau)
    w_mask = eqx.tree_at(lambda m: m.weight, jax.tree_util.tree_map(lambda _: False, lin.module), replace=True)
    b_mask = eqx.tree_at(lambda m: m.bias, jax.tree_util.tree_map(lambda _: False, lin.module), replace=True)
    common = dict(warmup=300, keep=1500, num_chains=4, init_jitter=0.5, prior=prior)
    lin.mask(w_mask).bayesian(blackjax.nuts, **common)
    lin.mask(b_mask).bayesian(blackjax.mala, step_size=2e-3, **common)
    crux = pl.core([(lin(x) - ys).gaussian_nll(sigma)])
    crux.solve(1800)
    assert len(crux._engine.plan.sampled) == 2  # two blocks, in turn
    X = np.hstack([xs, np.ones_like(xs)]).astype(np.float64)
    cov = np.linalg.inv(X.T @ X / sigma**2 + np.eye(2) / tau**2)
    mean = cov @ X.T @ ys[:, 0].astype(np.float64) / sigma**2
    post = lin.posterior_samples
    draws = np.stack([np.asarray(post.weight)[..., 0, 0], np.asarray(post.bias)[..., 0]], axis=-1)  # (K, N, 2)
    for i in range(2):  # bulk / folded ESS 2100-3700 over seeds 0-4; R-hat below rhat_bound(4, 1500, 1000) ~ 1.018
        assert_mixing(draws[..., i:i + 1], 1000, f"Pattern D component {i}")
        assert_posterior(draws[..., i:i + 1], mean[i], cov[i, i], f"Pattern D component {i}")
    diag = lin.posterior_diagnostics
    assert set(diag) >= {"acceptance_rate/0", "acceptance_rate/1", "is_divergent/0"}
