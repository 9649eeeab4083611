"""Eval over posterior chains: shapes, values, derivatives and residuals pushed forward."""

import blackjax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pinnlang as pl


@pytest.fixture(scope="module")
def sampled():
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    a = pl.np.parameter((1,), name="a", init=1.0)
    target = 2.0 * pl.np.sin(np.pi * x)
    a.bayesian(blackjax.mala, step_size=1e-3, warmup=20, keep=40, num_chains=3, init_jitter=0.1)
    u = a * pl.np.sin(np.pi * x)
    crux = pl.core([(u - target).gaussian_nll(0.1)])
    crux.solve(60)
    return dom, x, a, u, crux


def test_shapes_auto_chain_point(sampled):
    dom, x, a, u, crux = sampled
    n = dom.num_points("interior")
    assert crux.eval([u]).shape == (3, 40, n, 1)
    assert crux.eval([u], samples="chain").shape == (3, 40, n, 1)
    assert crux.eval([u], samples="point").shape == (n, 1)
    assert crux.eval([u.mse]).shape == (3, 40)
    assert crux.eval([pl.np.sin(x)]).shape == (n, 1)  # deterministic: a point value under auto
    with pytest.raises(pl.errors.ConfigurationError, match="none of these expressions"):
        crux.eval([pl.np.sin(x)], samples="chain")


def test_derivatives_and_residuals_push_forward_exactly(sampled):
    dom, x, a, u, crux = sampled
    uxx, res = crux.eval([pl.diff(u, x, 2), (pl.diff(u, x, 2) + np.pi**2 * u)])
    A = a.posterior_samples  # (3, 40, 1)
    xs = dom.context["interior"][:, 0]
    want = -(np.pi**2) * A[..., None, :] * np.sin(np.pi * xs)[None, None, :, None]
    np.testing.assert_allclose(uxx, want, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(res, 0.0, atol=1e-3)


def test_chunking_and_other_domain(sampled):
    dom, x, a, u, crux = sampled
    full = crux.eval([u])
    np.testing.assert_allclose(crux.eval([u], chunk_size=7), full, rtol=1e-6)
    fine = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.01)
    got = crux.eval([u], domain=fine)
    assert got.shape == (3, 40, fine.num_points("interior"), 1)
    np.testing.assert_allclose(got, a.posterior_samples[..., None, :] * np.sin(np.pi * fine.context["interior"]),
                               rtol=1e-5, atol=1e-6)


def test_sampled_network_pytree_and_mixed_mode():
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=6, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    c = pl.np.parameter((1,), name="c", init=0.0)
    c.optimizer(optax.adam(1e-2))
    net.bayesian(blackjax.sgld, step_size=1e-4, warmup=10, keep=15, num_chains=2)
    crux = pl.core([(net(x) + c - pl.np.sin(x)).gaussian_nll(0.1)])
    crux.solve(25)
    assert c.posterior_samples is None
    samples = net.posterior_samples
    w = samples.output_layer.weight
    assert w.shape == (2, 15) + net.module.output_layer.weight.shape
    got = crux.eval([net(x)])
    xs = jnp.asarray(dom.context["interior"])
    params, static = eqx.partition(samples, eqx.is_inexact_array)
    want = jax.vmap(jax.vmap(lambda p: jax.vmap(eqx.combine(p, static))(xs)))(params)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert crux.eval([net(x) + c]).shape == (2, 15, xs.shape[0], 1)
