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
