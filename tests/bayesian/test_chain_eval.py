"""``crux.eval`` over posterior chains: shapes of the three modes, and values pushed forward exactly.

Every value is compared with the closed-form expression evaluated by hand at each posterior sample
(``a.posterior_samples``), so a walker that skipped a node kind (derivatives, reductions, residuals)
or paired the samples of two parameters wrongly would show up as a mismatch, not as a shape.
"""

import blackjax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pinnlang as pl

K, N = 3, 40
PI = np.pi


@pytest.fixture(scope="module")
def sampled():
    """a, b sampled by MALA (3 chains x 40 draws) in u = a sin(πx), v = u + b cos(πx) fitted to 2 sin(πx)."""
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    a = pl.np.parameter((1,), name="a", init=1.0)
    b = pl.np.parameter((1,), name="b", init=0.0)
    for p in (a, b):
        p.bayesian(blackjax.mala, step_size=1e-3, warmup=20, keep=N, num_chains=K, init_jitter=0.1)
    u = a * pl.np.sin(PI * x)
    v = u + b * pl.np.cos(PI * x)
    crux = pl.core([(v - 2.0 * pl.np.sin(PI * x)).gaussian_nll(0.1)])
    crux.solve(20 + N, progress=False)
    xs = np.asarray(dom.context["interior"], np.float64)  # (n, 1)
    A = np.asarray(a.posterior_samples, np.float64)[:, :, None, :]  # (K, N, 1, 1)
    B = np.asarray(b.posterior_samples, np.float64)[:, :, None, :]
    return dict(dom=dom, x=x, a=a, b=b, u=u, v=v, crux=crux, xs=xs, A=A, B=B)


def close(got, want, tol=2e-4):
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=tol, atol=tol)


def test_chains_move_and_are_paired(sampled):
    A, B = sampled["A"], sampled["B"]
    assert A.shape == B.shape == (K, N, 1, 1)
    assert np.std(A) > 1e-4 and np.std(B) > 1e-4  # the chains explore (else the value checks prove little)


def test_shapes_of_auto_chain_and_point(sampled):
    s = sampled
    crux, u, x = s["crux"], s["u"], s["x"]
    n = s["dom"].num_points("interior")
    assert crux.eval([u]).shape == (K, N, n, 1)
    assert crux.eval([u], samples="chain").shape == (K, N, n, 1)
    assert crux.eval([u], samples="point").shape == (n, 1)
    assert crux.eval([u.mse]).shape == (K, N)
    assert crux.eval([u.mse], samples="point").shape == ()
    assert crux.eval([s["a"]]).shape == (K, N, 1)  # a parameter alone is its chain
    assert crux.eval([pl.np.sin(PI * x)]).shape == (n, 1)  # deterministic: a point value under auto
    assert crux.eval(u).shape == (K, N, n, 1)  # a bare expression as well as a list
    got = crux.eval([u, u.mse])
    assert isinstance(got, (list, tuple)) and [g.shape for g in got] == [(K, N, n, 1), (K, N)]


def test_auto_is_per_expression_in_a_mixed_list(sampled):
    s = sampled
    n = s["dom"].num_points("interior")
    field, det = s["crux"].eval([s["u"], pl.np.sin(PI * s["x"])])
    assert field.shape == (K, N, n, 1)
    assert det.shape == (n, 1)


def test_fields_and_reductions_push_forward(sampled):
    s = sampled
    crux, xs, A, B = s["crux"], s["xs"], s["A"], s["B"]
    sin, cos = np.sin(PI * xs), np.cos(PI * xs)
    close(crux.eval([s["a"]]), A[:, :, 0, :])
    close(crux.eval([s["u"]]), A * sin)
    close(crux.eval([s["v"]]), A * sin + B * cos)  # a and b taken at the same sample index
    close(crux.eval([s["u"].mse]), np.mean((A * sin) ** 2, axis=(2, 3)))
    nll = crux.eval([(s["v"] - 2.0 * pl.np.sin(PI * s["x"])).gaussian_nll(0.1)])
    r = A * sin + B * cos - 2.0 * sin
    close(nll, np.sum(0.5 * (r / 0.1) ** 2 + np.log(0.1) + 0.5 * np.log(2 * PI), axis=(2, 3)), tol=1e-3)


def test_derivatives_and_residuals_push_forward(sampled):
    s = sampled
    crux, x, u, v, xs, A, B = s["crux"], s["x"], s["u"], s["v"], s["xs"], s["A"], s["B"]
    sin, cos = np.sin(PI * xs), np.cos(PI * xs)
    ux, uxx, vx = crux.eval([pl.diff(u, x), pl.diff(u, x, 2), pl.diff(v, x)])
    assert uxx.shape == (K, N, xs.shape[0], 1)
    close(ux, PI * A * cos)
    close(uxx, -(PI**2) * A * sin, tol=2e-3)
    close(vx, PI * (A * cos - B * sin))
    # a whole residual: u'' + f with f = π² · 2 sin(πx), zero only at a = 2
    res = crux.eval([pl.diff(u, x, 2) + PI**2 * 2.0 * pl.np.sin(PI * x)])
    close(res, PI**2 * (2.0 - A) * sin, tol=2e-3)
    # v'' + π² v = 0 for every sample (b cos is also an eigenfunction)
    close(crux.eval([pl.diff(v, x, 2) + PI**2 * v]), 0.0 * A * sin, tol=2e-3)


def test_point_mode_is_the_current_value(sampled):
    s = sampled
    a, b = s["a"], s["b"]
    # the current value of a Bayesian parameter is the last sample of chain 0
    close(np.asarray(a.value), np.asarray(a.posterior_samples)[0, -1], tol=1e-6)
    got = s["crux"].eval([s["v"]], samples="point")
    xs = s["xs"]
    want = np.asarray(a.value, np.float64) * np.sin(PI * xs) + np.asarray(b.value, np.float64) * np.cos(PI * xs)
    close(got, want)


def test_chain_mode_raises_without_bayesian_dependencies(sampled):
    s = sampled
    with pytest.raises(pl.errors.ConfigurationError, match="samples='chain'"):
        s["crux"].eval([pl.np.sin(s["x"])], samples="chain")
    with pytest.raises(pl.errors.ConfigurationError, match="samples must be"):
        s["crux"].eval([s["u"]], samples="mean")


def test_another_domain_and_chunking(sampled):
    s = sampled
    crux, u, A = s["crux"], s["u"], s["A"]
    full = crux.eval([u])
    for chunk in (7, 1, K * N, 10_000):  # 7 does not divide K·N = 120: the padded path
        np.testing.assert_allclose(crux.eval([u], chunk_size=chunk), full, rtol=1e-6, atol=1e-7)
    fine = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.025)
    m = fine.num_points("interior")
    assert m != s["xs"].shape[0]
    xf = np.asarray(fine.context["interior"], np.float64)
    got = crux.eval([u], domain=fine)
    assert got.shape == (K, N, m, 1)
    close(got, A * np.sin(PI * xf))
    close(crux.eval([pl.diff(u, s["x"])], domain=fine, chunk_size=7), PI * A * np.cos(PI * xf))


def test_constrained_parameter_pushes_forward_its_constrained_values():
    """The chain is stored raw; eval and posterior_samples both see the positive (softplus) values."""
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    s = pl.np.parameter((1,), name="s", init=1.0, constraint="positive")
    s.bayesian(blackjax.mala, step_size=1e-2, warmup=10, keep=20, num_chains=2, init_jitter=0.1,
               prior=pl.bayesian.priors.half_normal(1.0))
    crux = pl.core([(0.3 * pl.np.sin(x) + 0.0 * s).gaussian_nll(s)])
    crux.solve(30, progress=False)
    S = np.asarray(s.posterior_samples, np.float64)
    assert S.shape == (2, 20, 1) and (S > 0).all() and np.std(S) > 1e-3
    xs = np.asarray(dom.context["interior"], np.float64)
    close(crux.eval([s]), S)
    close(crux.eval([s * pl.np.sin(x)]), S[:, :, None, :] * np.sin(xs))


# -- a sampled network ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sampled_net():
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=6, num_layers=1, key=jax.random.PRNGKey(3)), name="u")
    net.bayesian(blackjax.sgld, step_size=1e-4, warmup=10, keep=15, num_chains=2, init_jitter=0.01,
                 prior=pl.bayesian.priors.gaussian(sigma=1.0))
    crux = pl.core([(net(x) - pl.np.sin(PI * x)).gaussian_nll(0.1)])
    crux.solve(25, progress=False)
    return dom, x, net, crux


def _per_sample(samples, fn):
    """``fn(module)`` for every sample of a ``(K, N)``-leading module pytree, stacked ``(K, N, ...)``."""
    params, static = eqx.partition(samples, eqx.is_inexact_array)
    return jax.vmap(jax.vmap(lambda p: fn(eqx.combine(p, static))))(params)


def test_network_posterior_is_a_stacked_module(sampled_net):
    dom, x, net, crux = sampled_net
    samples = net.posterior_samples
    assert isinstance(samples, type(net.module))
    leaves = jax.tree_util.tree_leaves(eqx.filter(samples, eqx.is_inexact_array))
    ref = jax.tree_util.tree_leaves(eqx.filter(net.module, eqx.is_inexact_array))
    assert len(leaves) == len(ref) > 0
    for got, want in zip(leaves, ref):
        assert got.shape == (2, 15) + want.shape
    w = np.asarray(leaves[0])
    assert not np.allclose(w[:, 0], w[:, -1])  # SGLD moves every draw
    assert not np.allclose(w[0], w[1])  # and the two chains differ


def test_network_pushforward_equals_applying_each_sample(sampled_net):
    dom, x, net, crux = sampled_net
    xs = jnp.asarray(dom.context["interior"])
    got, gx = crux.eval([net(x), pl.diff(net(x), x)])
    assert got.shape == (2, 15, xs.shape[0], 1)
    want = _per_sample(net.posterior_samples, lambda mod: jax.vmap(mod)(xs))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # the derivative through each sampled network (forward-mode by hand)
    want_x = _per_sample(net.posterior_samples,
                         lambda mod: jax.vmap(lambda p: jax.jvp(mod, (p,), (jnp.ones_like(p),))[1])(xs))
    np.testing.assert_allclose(gx, want_x, rtol=1e-4, atol=1e-5)


def test_mixed_optax_and_sampled_parameters():
    """An optax-trained parameter c and a sampled a in one solve: only a has a posterior."""
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    c = pl.np.parameter((1,), name="c", init=0.0)
    c.optimizer(optax.adam(5e-2))
    a = pl.np.parameter((1,), name="a", init=1.0)
    a.bayesian(blackjax.mala, step_size=1e-3, warmup=10, keep=30, num_chains=2, init_jitter=0.05)
    u = a * pl.np.sin(PI * x) + c
    crux = pl.core([(u - (2.0 * pl.np.sin(PI * x) + 0.5)).gaussian_nll(0.1)])
    crux.solve(40, progress=False)
    assert c.posterior_samples is None and c.posterior_diagnostics is None
    assert np.asarray(a.posterior_samples).shape == (2, 30, 1)
    assert abs(float(np.asarray(c.value)[0])) > 0.1  # c was trained towards 0.5
    xs = np.asarray(dom.context["interior"], np.float64)
    A = np.asarray(a.posterior_samples, np.float64)[:, :, None, :]
    got = crux.eval([u])
    assert got.shape == (2, 30, xs.shape[0], 1)
    close(got, A * np.sin(PI * xs) + float(np.asarray(c.value)[0]))
    assert crux.eval([c + 0.0 * x]).shape == (xs.shape[0], 1)  # c alone stays a point value
