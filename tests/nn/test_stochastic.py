"""Stochastic models (MC dropout): a fresh key per step, chain, call and point in training; inference mode in
a plain eval; a fresh key per draw in ``crux.eval(..., num_samples=S)``; deterministic by seed.

Exact checks recompute the documented key scheme by hand (training: ``fold_in(fold_in(fold_in(fold_in(
solve key, MODEL_STREAM), chain), step), call)``, then point ``i``; eval: ``fold_in(key, draw)``, then call
and point). The statistical checks are of dropout itself: inverted dropout ``z h / q``, ``z ~ Bernoulli(q)``,
is unbiased with variance ``h² p / q`` per entry, so the standardised MC error of ``S`` draws summed over
``m`` independent entries is ``N(0, 1)`` (checked at 4 standard errors), its squares ``χ²_m`` (exact band at
``P_CHECK``), and products of standardised entries at neighbouring points have mean 0 (they would have mean
``1`` if the points shared a mask). Each check fails a correct implementation with probability below 1e-4.
"""

import logging

import blackjax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy import stats

import pinnlang as pl
from pinnlang.solve.streams import MODEL_STREAM
from stats_helpers import P_CHECK, assert_close, assert_in_band, seed_for

P = 0.3  # the dropout rate
Q = 1.0 - P
H = 6  # hidden width


class DropNet(eqx.Module):
    """``x (1,) -> w2 · dropout(tanh(w1 x + b1))``: one dropout layer between two linear maps."""

    lin: eqx.nn.Linear
    head: eqx.nn.Linear
    drop: eqx.nn.Dropout

    def __init__(self, key, p=P, out=1):
        k1, k2 = jax.random.split(key)
        self.lin = eqx.nn.Linear(1, H, key=k1)
        self.head = eqx.nn.Linear(H, out, key=k2)
        self.drop = eqx.nn.Dropout(p)

    def __call__(self, x, *, key=None):
        return self.head(self.drop(jnp.tanh(self.lin(x)), key=key))


class Hidden(eqx.Module):
    """``x -> dropout(tanh(w x + b))``, ``(1,) -> (H,)``: the dropout layer's output itself."""

    lin: eqx.nn.Linear
    drop: eqx.nn.Dropout

    def __init__(self, key):
        self.lin = eqx.nn.Linear(1, H, key=key)
        self.drop = eqx.nn.Dropout(P)

    def __call__(self, x, *, key=None):
        return self.drop(jnp.tanh(self.lin(x)), key=key)


class NoKey(eqx.Module):
    lin: eqx.nn.Linear

    def __call__(self, x):
        return self.lin(x)


def _line(h=0.25):
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=h)
    x, _ = dom.variable("interior")
    return dom, x, jnp.asarray(dom.context["interior"])


def _point_keys(key, n):
    return jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(n))


def _by_hand(module, xs, key):
    """The module on every point with point ``i`` on ``fold_in(key, i)``: ``(n, k)``."""
    return jax.vmap(lambda x, k: module(x, key=k))(xs, _point_keys(key, xs.shape[0]))


def _train_key(seed, step, chain=0, call=0):
    """The key of stochastic call ``call`` of chain ``chain`` at training step ``step`` of ``pl.core(seed=seed)``."""
    solve_key = jax.random.fold_in(jax.random.PRNGKey(seed), 1)
    k = jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(solve_key, MODEL_STREAM), chain), step)
    return jax.random.fold_in(k, call)


# -- detection ------------------------------------------------------------------------------------------

def test_detection_and_overrides(key):
    assert pl.nn.wrap(DropNet(key)).stochastic
    assert pl.nn.wrap(eqx.nn.Sequential([eqx.nn.Linear(1, 3, key=key), eqx.nn.Dropout(0.5)])).stochastic
    # deterministic Equinox layers take an unused key too: the keyword alone does not make a model random
    assert not pl.nn.wrap(pl.nn.mlp(1, key=key)).stochastic
    assert not pl.nn.wrap(eqx.nn.MLP(1, 1, 4, 1, key=key)).stochastic
    assert not pl.nn.wrap(DropNet(key, p=0.0)).stochastic
    assert not pl.nn.wrap(eqx.nn.inference_mode(DropNet(key))).stochastic
    assert pl.nn.wrap(pl.nn.mlp(1, key=key), stochastic=True).stochastic  # takes key: allowed
    assert not pl.nn.wrap(DropNet(key), stochastic=False).stochastic
    with pytest.raises(pl.errors.ConfigurationError, match="takes no key argument"):
        pl.nn.wrap(NoKey(eqx.nn.Linear(1, 1, key=key)), name="nk", stochastic=True)
    with pytest.raises(pl.errors.ConfigurationError, match="True, False or None"):
        pl.nn.wrap(DropNet(key), stochastic="yes")


# -- evaluation -----------------------------------------------------------------------------------------

def test_eval_without_draws_is_the_inference_mode_module(key):
    dom, x, xs = _line()
    net = pl.nn.wrap(DropNet(key), name="u")
    crux = pl.core([net(x).mse], seed=0)
    expected = jax.vmap(eqx.nn.inference_mode(net.module))(xs)
    np.testing.assert_allclose(crux.eval(net(x)), expected, rtol=1e-6)
    np.testing.assert_array_equal(crux.eval(net(x)), crux.eval(net(x)))  # deterministic
    off = pl.nn.wrap(DropNet(key), name="off", stochastic=False)  # dropout off everywhere
    np.testing.assert_allclose(pl.core([off(x).mse]).eval(off(x)), expected, rtol=1e-6)


def test_eval_draws_shape_differ_and_repeat_per_key(key):
    dom, x, xs = _line()
    net = pl.nn.wrap(DropNet(key, out=2), name="u")
    u = net(x)
    crux = pl.core([u.mse], seed=0)
    S, n = 7, xs.shape[0]
    a = crux.eval(u, num_samples=S, seed=3)
    assert a.shape == (1, S, n, 2)
    np.testing.assert_array_equal(a, crux.eval(u, num_samples=S, seed=3))
    np.testing.assert_array_equal(a, crux.eval(u, num_samples=S, key=jax.random.PRNGKey(3)))
    np.testing.assert_array_equal(a, crux.eval(u, num_samples=S, seed=3, chunk_size=3))  # chunking changes nothing
    assert not np.array_equal(a, crux.eval(u, num_samples=S, seed=4))
    assert len({np.asarray(a[0, s]).tobytes() for s in range(S)}) == S  # every draw its own masks
    k = jax.random.PRNGKey(3)
    for s in (0, S - 1):  # draw s: call 0 of the eval program on fold_in(key, s), point i on fold_in(., i)
        call_key = jax.random.fold_in(jax.random.fold_in(k, s), 0)
        np.testing.assert_allclose(a[0, s], _by_hand(net.module, xs, call_key), rtol=1e-6)
    # default keys come from the core's seed and advance: a script gives the same draws, calls differ
    b1, b2 = crux.eval(u, num_samples=S), crux.eval(u, num_samples=S)
    assert not np.array_equal(b1, b2)
    again = pl.core([u.mse], seed=0)
    np.testing.assert_array_equal(b1, again.eval(u, num_samples=S))


def test_derivatives_see_the_same_masks_as_the_values(key):
    dom, x, xs = _line()
    net = pl.nn.wrap(DropNet(key), name="u")
    u = net(x)
    ux = pl.diff(u, x)
    crux = pl.core([u.mse], seed=0)
    vals, ders = crux.eval([u, ux], num_samples=3, seed=5)
    for s in range(3):
        call_key = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(5), s), 0)
        pk = _point_keys(call_key, xs.shape[0])
        by_hand = jax.vmap(lambda xi, k: jax.jacfwd(lambda y: net.module(y, key=k))(xi)[:, 0])(xs, pk)
        np.testing.assert_allclose(vals[0, s], _by_hand(net.module, xs, call_key), rtol=1e-6)
        np.testing.assert_allclose(ders[0, s], by_hand, rtol=1e-5, atol=1e-6)


@pytest.mark.statistical
def test_mc_mean_of_dropout_is_unbiased_with_independent_masks(key):
    dom, x, xs = _line(h=0.05)
    net = pl.nn.wrap(Hidden(key), name="h")
    crux = pl.core([net(x).mse], seed=0)
    S = 400
    draws = np.asarray(crux.eval(net(x), num_samples=S, seed=seed_for("stochastic", "mc-mean")), np.float64)[0]
    h = np.asarray(crux.eval(net(x)), np.float64)  # inference mode: E[dropout(h)] = h
    assert draws.shape == (S,) + h.shape
    keep = np.abs(h) > 1e-3  # entries with a visible spread
    sd = np.abs(h) * np.sqrt(P / Q)
    z_mean = (draws.mean(0) - h)[keep] / (sd[keep] / np.sqrt(S))  # each ~ N(0, 1), independent
    m = z_mean.size
    assert_close(z_mean.sum() / np.sqrt(m), 0.0, 1.0, "MC-dropout mean: standardised sum")
    lo, hi = stats.chi2.ppf(P_CHECK / 2, m) / m, stats.chi2.isf(P_CHECK / 2, m) / m
    assert_in_band(np.mean(z_mean ** 2), lo, hi, 1.0, "MC-dropout mean: squared standardised errors")
    z = (draws - h) / np.where(keep, sd, 1.0)
    across = (z[:, 1:, :] * z[:, :-1, :])[:, keep[1:] & keep[:-1]].ravel()  # same unit, neighbouring points
    assert_close(across.mean(), 0.0, 1.0 / np.sqrt(across.size), "MC-dropout: masks independent across points")
    dropped = np.mean(draws[:, keep] == 0.0)  # the fraction of zeroed entries is p
    assert_close(dropped, P, np.sqrt(P * Q / (S * keep.sum())), "MC-dropout: drop rate")


# -- training -------------------------------------------------------------------------------------------

def _fixed_model_solve(seed, epochs, key):
    dom, x, xs = _line()
    net = pl.nn.wrap(DropNet(key), name="u").optimizer(optax.sgd(0.0))  # values stay: the loss is dropout's
    crux = pl.core([(net(x) - 1.0).mse], seed=seed)
    crux.solve(epochs, progress=False)
    return crux, net, xs


def test_training_draws_a_fresh_mask_every_step_as_documented(key):
    seed, T = 11, 6
    crux, net, xs = _fixed_model_solve(seed, T, key)
    losses = crux.history.total_loss
    assert losses.shape == (T,) and len(set(losses.tolist())) == T  # a new mask every step
    for t in range(T):
        by_hand = jnp.mean((_by_hand(net.module, xs, _train_key(seed, t)) - 1.0) ** 2)
        np.testing.assert_allclose(losses[t], by_hand, rtol=1e-5)


def test_gradient_is_that_of_the_steps_masks(key):
    dom, x, xs = _line()
    seed, lr = 2, 0.1
    net = pl.nn.wrap(DropNet(key), name="u").optimizer(optax.sgd(lr))
    start = net.module
    crux = pl.core([(net(x) - 1.0).mse], seed=seed)
    crux.solve(1, progress=False)

    def loss(m):
        return jnp.mean((_by_hand(m, xs, _train_key(seed, 0)) - 1.0) ** 2)

    grad = eqx.filter_grad(loss)(start)
    expected = jax.tree_util.tree_map(lambda w, g: w - lr * g, eqx.filter(start, eqx.is_inexact_array),
                                      eqx.filter(grad, eqx.is_inexact_array))
    for a, b in zip(jax.tree_util.tree_leaves(net.get_trainable()), jax.tree_util.tree_leaves(expected)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_two_calls_of_one_model_draw_independent_masks(key):
    dom, x, xs = _line()
    seed = 4
    net = pl.nn.wrap(DropNet(key), name="u").optimizer(optax.sgd(0.0))
    crux = pl.core([net(x).mse, (net(2.0 * x) - 1.0).mse], seed=seed)  # two calls: indices 0 and 1
    crux.solve(1, progress=False)
    first = jnp.mean(_by_hand(net.module, xs, _train_key(seed, 0, call=0)) ** 2)
    second = jnp.mean((_by_hand(net.module, 2.0 * xs, _train_key(seed, 0, call=1)) - 1.0) ** 2)
    np.testing.assert_allclose(crux.history.terms[0], [first, second], rtol=1e-5)


def test_solve_is_deterministic_by_seed(key):
    def trained(seed, solves=(20,)):
        dom, x, _ = _line()
        net = pl.nn.wrap(DropNet(key), name="u").optimizer(optax.adam(1e-2))
        crux = pl.core([(net(x) - 1.0).mse], seed=seed)
        for epochs in solves:
            crux.solve(epochs, print_rate=7, progress=False)
        return jax.tree_util.tree_leaves(net.get_trainable())

    a, b, c = trained(0), trained(0), trained(1)
    for u, v, w in zip(a, b, trained(0, (8, 12))):  # a continued solve draws the same masks
        np.testing.assert_array_equal(u, v)
        np.testing.assert_array_equal(u, w)
    assert any(not np.array_equal(u, w) for u, w in zip(a, c))


def test_each_chain_draws_its_own_masks(key):
    """SGLD at temperature 0 from one start is gradient ascent: two chains differ only through their masks."""
    def chains(stochastic):
        dom, x, _ = _line()
        net = pl.nn.wrap(DropNet(key), name="u", stochastic=stochastic)
        net.bayesian(blackjax.sgld, step_size=1e-3, temperature=0.0, num_chains=2, init_jitter=0.0, warmup=0,
                     keep=3, prior=pl.bayesian.priors.gaussian(sigma=1.0))
        pl.core([(net(x) - 1.0).gaussian_nll(0.5)], seed=1).solve(3, progress=False)
        return np.asarray(net.posterior_samples.head.weight)

    det = chains(False)
    np.testing.assert_array_equal(det[0], det[1])  # the premise: without masks the chains coincide
    rand = chains(None)
    assert not np.array_equal(rand[0], rand[1])


def test_full_data_kernels_refuse_a_stochastic_log_density(key):
    dom, x, _ = _line()
    net = pl.nn.wrap(DropNet(key), name="u")
    net.bayesian(blackjax.nuts, warmup=2, keep=2)
    crux = pl.core([(net(x) - 1.0).gaussian_nll(0.5)])
    with pytest.raises(pl.errors.ConfigurationError, match="full-data kernel.*stochastic model.*u.*stochastic=False"):
        crux.solve(4, progress=False)
    off = pl.nn.wrap(DropNet(key), name="off", stochastic=False)  # dropout off: NUTS samples the network
    off.bayesian(blackjax.nuts, warmup=2, keep=2)
    pl.core([(off(x) - 1.0).gaussian_nll(0.5)]).solve(4, progress=False)
    assert off.posterior_samples.head.weight.shape == (1, 2, 1, H)


def test_full_data_kernel_on_terms_without_the_stochastic_model_is_fine(key):
    """A parameter sampled by NUTS on a stage whose terms do not call the dropout network."""
    dom, x, xs = _line()
    net = pl.nn.wrap(DropNet(key), name="u").optimizer(optax.adam(1e-3))
    a = pl.np.parameter((1,), name="a", init=0.5)
    a.bayesian(blackjax.nuts, warmup=3, keep=2, prior=pl.bayesian.priors.gaussian(sigma=1.0))
    data = pl.np.array(np.full(xs.shape, 0.3, np.float32), name="d")
    crux = pl.core([(net(x) - 1.0).mse, (a * x - data).gaussian_nll(0.5)], names=["fit", "data"])
    with pytest.raises(pl.errors.ConfigurationError, match="full-data kernel"):
        crux.solve(5, progress=False)  # without substeps a's log-density is the whole loss
    crux.solve(5, progress=False, substeps=[(["fit"], 1), (["data"], 1, [a])])
    assert a.posterior_samples.shape == (1, 2, 1)


# -- errors of eval's draws -----------------------------------------------------------------------------

def test_eval_draw_errors(key):
    dom, x, _ = _line()
    net = pl.nn.wrap(DropNet(key), name="u")
    det = pl.nn.wrap(pl.nn.mlp(1, key=key), name="v")
    crux = pl.core([net(x).mse, det(x).mse])
    err = pl.errors.ConfigurationError
    with pytest.raises(err, match="needs num_samples"):
        crux.eval(net(x), seed=0)
    with pytest.raises(err, match="call none"):
        crux.eval(det(x), num_samples=3)
    with pytest.raises(err, match="not both"):
        crux.eval(net(x), num_samples=3, seed=0, key=jax.random.PRNGKey(0))
    with pytest.raises(err, match="positive integer"):
        crux.eval(net(x), num_samples=0)
    with pytest.raises(err, match="jax.random key"):
        crux.eval(net(x), num_samples=2, key=3)
    both = crux.eval([net(x), det(x)], num_samples=4, seed=0)  # a deterministic expression repeats its value
    assert both[1].shape == (1, 4) + crux.eval(det(x)).shape
    np.testing.assert_array_equal(both[1][0, 0], both[1][0, 3])


@pytest.fixture(scope="module")
def sgld_dropout_net(keep=3):
    """A dropout network sampled by SGLD: 2 chains x 3 draws."""
    dom, x, xs = _line()
    net = pl.nn.wrap(DropNet(jax.random.PRNGKey(0)), name="u")
    net.bayesian(blackjax.sgld, step_size=1e-4, num_chains=2, warmup=0, keep=keep,
                 prior=pl.bayesian.priors.gaussian(sigma=1.0))
    crux = pl.core([(net(x) - 1.0).gaussian_nll(0.5)], seed=3)
    crux.solve(keep, progress=False)
    return crux, net, net(x), xs


def _draw(module, c, j):
    return jax.tree_util.tree_map(lambda a: a[c, j] if eqx.is_array(a) else a, module)


def test_posterior_draws_each_get_their_own_key(sgld_dropout_net):
    crux, net, u, xs = sgld_dropout_net
    K, N, n = 2, 3, xs.shape[0]
    post = net.posterior_samples
    plain = crux.eval(u)  # inference mode at every posterior draw
    k = jax.random.PRNGKey(9)
    mc = crux.eval(u, key=k)
    assert plain.shape == mc.shape == (K, N, n, 1)
    np.testing.assert_array_equal(mc, crux.eval(u, seed=9))
    for c, j in ((0, 0), (1, 2)):
        module = _draw(post, c, j)
        np.testing.assert_allclose(plain[c, j], jax.vmap(eqx.nn.inference_mode(module))(xs), rtol=1e-5)
        call_key = jax.random.fold_in(jax.random.fold_in(k, c * N + j), 0)
        np.testing.assert_allclose(mc[c, j], _by_hand(module, xs, call_key), rtol=1e-5)
    with pytest.raises(pl.errors.ConfigurationError, match="each posterior draw gets its own dropout key"):
        crux.eval(u, num_samples=4)


def test_predictive_draws_mc_dropout_then_noise(key):
    dom, x, xs = _line()
    net = pl.nn.wrap(DropNet(key), name="u")
    u = net(x)
    crux = pl.core([(u - 1.0).gaussian_nll(0.2)], seed=0)
    S, sigma = 5, 0.2
    out = crux.predictive(u, noise=sigma, num_samples=S, seed=7)
    assert out.f.shape == out.y.shape == (1, S, xs.shape[0], 1) and out.sigma.shape == (1, 1, 1, 1)
    eps_key, model_key = jax.random.split(jax.random.PRNGKey(7))  # the key is split: the models', then eps's
    np.testing.assert_array_equal(out.f, crux.eval(u, num_samples=S, key=model_key))
    np.testing.assert_allclose(out.y, out.f + sigma * jax.random.normal(eps_key, out.f.shape), rtol=1e-6)
    assert len({np.asarray(out.f[0, s]).tobytes() for s in range(S)}) == S  # f varies over draws: MC dropout
    again = crux.predictive(noise=sigma, num_samples=S, seed=7)  # the data term's prediction, same draws
    np.testing.assert_array_equal(again.y, out.y)
    with pytest.raises(pl.errors.ConfigurationError, match="pass num_samples=S for S MC-dropout"):
        crux.predictive(u, noise=sigma)


def test_predictive_with_posterior_draws_and_dropout(sgld_dropout_net):
    crux, net, u, xs = sgld_dropout_net
    out = crux.predictive(u, noise=0.5, seed=2)
    assert out.f.shape == (2, 3, xs.shape[0], 1)
    _, model_key = jax.random.split(jax.random.PRNGKey(2))
    np.testing.assert_array_equal(out.f, crux.eval(u, key=model_key))
    assert not np.allclose(out.f, crux.eval(u))  # dropout is on in the draws


def test_an_initialiser_on_a_stochastic_log_density_says_it_fits_inference_mode(caplog):
    dom, x, xs = _line()
    net = pl.nn.wrap(DropNet(jax.random.PRNGKey(0)), name="u")
    net.initialize(pl.bayesian.laplace(hessian="diagonal"))
    net.bayesian(blackjax.sgld, step_size=1e-4, warmup=0, keep=2, prior=pl.bayesian.priors.gaussian(sigma=1.0))
    crux = pl.core([(net(x) - 1.0).gaussian_nll(0.5)], seed=3)
    with caplog.at_level(logging.WARNING, logger="pinnlang"):
        crux.solve(2, progress=False)
    assert "fitted with u in inference mode (dropout off)" in caplog.text
    assert net.initialization is not None
