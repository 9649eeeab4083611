"""Configuration changes between solves: compile only what changed."""

import blackjax
import jax
import numpy as np
import optax

import pinnlang as pl


def test_surrogate_then_sampled_coefficient_compiles_once_per_configuration():
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.05)
    x, _ = dom.variable("interior")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=8, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    k = pl.np.parameter((1,), name="k", init=1.0)
    net.optimizer(optax.adam(1e-2))
    k.freeze()
    data = pl.np.sin(3.0 * x)
    crux = pl.core([(net(x) - data).gaussian_nll(0.1), (k * net(x) - 2.0 * data).gaussian_nll(0.1)])
    crux.solve(50)
    crux.solve(50)
    assert len(crux._runners) == 1
    net.freeze()
    k.unfreeze().bayesian(blackjax.mala, step_size=1e-3, warmup=20, keep=30)
    crux.solve(50)
    assert len(crux._runners) == 2
    crux.solve(30)  # continues the chain: same compiled chunk, no new warmup
    assert len(crux._runners) == 2
    assert k.posterior_samples.shape == (1, 30, 1)
    assert net.posterior_samples is None
    assert np.isfinite(k.posterior_samples).all()


def trained_sine_net(epochs: int):
    """A 1-4-1 network fitted to sin(pi x) on 16 points by ``epochs`` Adam steps: ``(net, crux)``."""
    xs = np.linspace(-1, 1, 16)[:, None].astype(np.float32)
    x, _ = pl.domain.from_array({"d": xs}).variable("d")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    net.optimizer(optax.adam(1e-2))
    crux = pl.core([(net(x) - pl.np.array(np.sin(np.pi * xs))).gaussian_nll(0.1)])
    crux.solve(epochs)
    return net, crux


def test_optimizer_none_turns_a_trained_body_into_a_frozen_one_under_a_sampled_head():
    """Train, then .optimizer(None) and .mask(head).bayesian(...): the body stays at its trained values."""
    import blackjax
    import equinox as eqx
    import jax
    import numpy as np
    import optax

    import pinnlang as pl

    net, crux = trained_sine_net(200)
    trained = [np.asarray(l) for l in jax.tree_util.tree_leaves(eqx.filter(net.module.layers, eqx.is_array))]
    head = eqx.tree_at(lambda m: m.output_layer, jax.tree_util.tree_map(lambda _: False, net.module),
                       replace=jax.tree_util.tree_map(lambda _: True, net.module.output_layer))
    net.optimizer(None)
    net.mask(head).bayesian(blackjax.nuts, warmup=20, keep=10, prior=pl.bayesian.priors.gaussian(1.0))
    crux.solve(30)
    after = [np.asarray(l) for l in jax.tree_util.tree_leaves(eqx.filter(net.module.layers, eqx.is_array))]
    assert all(np.array_equal(a, b) for a, b in zip(trained, after))
    assert np.std(np.asarray(net.posterior_samples.output_layer.weight)) > 0


def test_one_handle_runs_several_head_experiments_each_from_the_trained_values(caplog):
    """Train; then SGLD, VI and SGLD again on the same mask of the same handle, each reset by ``initialize``.

    After a solve used a mask's configuration, configuring the same mask again replaces it, also across
    ``.bayesian``/``.vi`` (INFO); ``net.initialize(trained)`` makes the next solve start at the trained values
    rather than at the last draw (shown with a step so small that the first draw is the start).
    """
    import logging

    import equinox as eqx

    net, crux = trained_sine_net(100)
    trained = net.module
    head_w = np.asarray(trained.output_layer.weight)
    net.optimizer(None)
    net.mask(lambda m: m.output_layer).bayesian(blackjax.sgld, step_size=1e-3, warmup=0, keep=5)
    crux.solve(5)
    assert np.abs(np.asarray(net.module.output_layer.weight) - head_w).max() > 1e-3  # the chain moved the head
    with caplog.at_level(logging.INFO, logger="pinnlang"):
        net.mask(lambda m: m.output_layer).vi(blackjax.meanfield_vi, optimizer=optax.adam(1e-2), posterior_draws=7)
    assert [r.levelno for r in caplog.records if "replaces the earlier .bayesian(sgld) of mask 0" in r.message] \
        == [logging.INFO]
    net.initialize(trained)
    crux.solve(20)
    assert len(net.masked_groups) == 1 and net.posterior_samples.output_layer.weight.shape == (1, 7, 1, 4)
    body = jax.tree_util.tree_leaves(eqx.filter(net.module.layers, eqx.is_array))
    assert all(np.array_equal(a, b) for a, b in zip(body, jax.tree_util.tree_leaves(eqx.filter(trained.layers,
                                                                                                eqx.is_array))))
    net.mask(lambda m: m.output_layer).bayesian(blackjax.sgld, step_size=1e-12, warmup=0, keep=2)
    net.initialize(trained)
    crux.solve(2)
    first = np.asarray(net.posterior_samples.output_layer.weight)[0, 0]
    np.testing.assert_allclose(first, head_w, atol=1e-5)


def test_after_a_solve_vi_replaces_bayesian_on_a_whole_parameter():
    a = pl.np.parameter((1,), name="a")
    xs = np.linspace(0, 1, 8)[:, None].astype(np.float32)
    x, _ = pl.domain.from_array({"d": xs}).variable("d")
    a.bayesian(blackjax.mala, step_size=1e-2, warmup=0, keep=4)
    crux = pl.core([(a * x - 2.0 * pl.np.array(xs)).gaussian_nll(0.1)])
    crux.solve(4)
    a.vi(blackjax.meanfield_vi, optimizer=optax.adam(1e-2), posterior_draws=6)
    assert a.sampler.family == "variational"
    crux.solve(10)
    assert a.posterior_samples.shape == (1, 6, 1)
