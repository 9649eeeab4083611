"""Solve mechanics: continuation, optimisers, freezing, initialisation, resampling, noise, eval."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy import stats

import pinnlang as pl
from stats_helpers import P_CHECK, assert_in_band, seed_for


def small_problem(key=0):
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=8, num_layers=1, key=jax.random.PRNGKey(key)), name="u")
    return dom, x, net


def test_history_records_every_step_and_continues():
    dom, x, net = small_problem()
    crux = pl.core([(net(x) - pl.np.sin(x)).mse])
    h = crux.solve(30, print_rate=7)
    assert len(h) == 30 and h.terms.shape == (30, 1)
    np.testing.assert_array_equal(h.epochs, np.arange(30))
    crux.solve(20, print_rate=10)
    assert len(crux.history) == 50 and crux.epoch == 50
    np.testing.assert_array_equal(crux.history.epochs, np.arange(50))
    assert crux.history.total[-1] < crux.history.total[0]


def test_two_solves_equal_one_long_solve():
    """Continuation keeps optimiser state: 2 x 25 steps == 50 steps."""
    outs = []
    for split in (False, True):
        dom, x, net = small_problem()
        crux = pl.core([(net(x) - pl.np.sin(3 * x)).mse])
        if split:
            crux.solve(25, print_rate=5)
            crux.solve(25, print_rate=25)
        else:
            crux.solve(50, print_rate=50)
        outs.append(np.asarray(crux.eval([net(x)])))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)


def test_matches_hand_written_optax_loop():
    """The compiled solve equals a plain optax loop on the same loss (an independent implementation)."""
    dom, x, net = small_problem()
    xs = jnp.asarray(dom.context["interior"])
    module0 = net.module
    crux = pl.core([(net(x) - pl.np.cos(x)).mse])
    net.optimizer(optax.adam(1e-2))
    crux.solve(40)

    params, static = eqx.partition(module0, eqx.is_inexact_array)
    opt = optax.adam(1e-2)
    state = opt.init(params)
    loss = lambda p: jnp.mean((jax.vmap(eqx.combine(p, static))(xs) - jnp.cos(xs)) ** 2)  # noqa: E731
    for _ in range(40):
        g = jax.grad(loss)(params)
        upd, state = opt.update(g, state, params)
        params = optax.apply_updates(params, upd)
    for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(net.get_trainable())):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_lbfgs_and_per_handle_optimisers():
    dom, x, net = small_problem()
    a = pl.np.parameter((1,), name="a", init=0.0)
    target = 2.5 * pl.np.sin(x)
    a.optimizer(optax.lbfgs())
    net.freeze()
    crux = pl.core([(a * pl.np.sin(x) - target).mse])
    crux.solve(20)
    np.testing.assert_allclose(np.asarray(a.value), [2.5], rtol=1e-4)


def test_freeze_keeps_values_and_initialize_sets_them(tmp_path):
    dom, x, net = small_problem()
    a = pl.np.parameter((1,), name="a", init=0.5)
    before = jax.tree_util.tree_leaves(net.get_trainable())
    net.freeze()
    crux = pl.core([(net(x) * a - 1.0).mse])
    crux.solve(20)
    after = jax.tree_util.tree_leaves(net.get_trainable())
    for b, c in zip(before, after):
        np.testing.assert_array_equal(b, c)
    assert float(a.value[0]) != 0.5
    path = tmp_path / "u.eqx"
    eqx.tree_serialise_leaves(path, net.get_trainable())
    net.initialize(lambda shape, dtype, key: jnp.zeros(shape, dtype))
    assert all(float(jnp.abs(l).max()) == 0 for l in jax.tree_util.tree_leaves(net.get_trainable()))
    net.initialize(str(path))
    for b, c in zip(before, jax.tree_util.tree_leaves(net.get_trainable())):
        np.testing.assert_array_equal(b, c)
    with pytest.raises(pl.errors.ConfigurationError, match="structure"):
        net.initialize({"w": jnp.zeros(3)})


@pytest.mark.statistical
def test_noise_is_fixed_across_steps_and_reproducible():
    """The same seed gives the same noise; another seed other noise; its scale is the stated one.

    The scale: 99·std²/σ² of 99 draws is χ²(98) (``np.std`` subtracts the sample mean), so the band
    holds std with probability 1 - 1e-4 (exact chi-square quantiles), about ±21 % of σ.
    """
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.01)
    x, _ = dom.variable("interior")
    target = pl.np.sin(x) + pl.noise.gaussian(std=0.1)
    seed, other = seed_for("noise", "a"), seed_for("noise", "b")
    c1 = pl.core([(target * 0).mse], seed=seed)
    n1 = np.asarray(c1.eval([target])) - np.sin(dom.context["interior"])
    n1b = np.asarray(c1.eval([target])) - np.sin(dom.context["interior"])
    n2 = np.asarray(pl.core([(target * 0).mse], seed=seed).eval([target])) - np.sin(dom.context["interior"])
    n3 = np.asarray(pl.core([(target * 0).mse], seed=other).eval([target])) - np.sin(dom.context["interior"])
    np.testing.assert_array_equal(n1, n1b)
    np.testing.assert_array_equal(n1, n2)
    assert not np.allclose(n1, n3)
    assert n1.shape == (99, 1)
    lo, hi = (0.1 * np.sqrt(stats.chi2.ppf(q, 98) / 99) for q in (P_CHECK / 2, 1 - P_CHECK / 2))
    assert_in_band(n1.astype(np.float64).std(), lo, hi, 0.1, "noise std")


def test_eval_shapes_single_list_and_other_domain():
    dom, x, net = small_problem()
    crux = pl.core([(net(x) - 1.0).mse])
    u = net(x)
    assert crux.eval([u]).shape == (19, 1)
    assert crux.eval(u).shape == (19, 1)
    outs = crux.eval([u, pl.diff(u, x), (u - 1.0).mse])
    assert [o.shape for o in outs] == [(19, 1), (19, 1), ()]
    fine = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.01)
    assert crux.eval([pl.diff(u, x, 2)], domain=fine).shape == (199, 1)
    with pytest.raises(pl.errors.TagError, match="interior"):
        crux.eval([u], domain=pl.domain.from_array({"data": np.zeros((4, 1), np.float32)}))


def test_eval_follows_a_replaced_module_with_another_static_part():
    """eval, then a module with another activation (a non-array change): the next eval uses the new module."""
    dom, x, net = small_problem()
    crux = pl.core([(net(x) - 1.0).mse])
    crux.eval(net(x))
    net.module = pl.nn.mlp(1, hidden_dims=8, num_layers=1, activation="sin", key=jax.random.PRNGKey(0))
    pts = jnp.asarray(dom.context["interior"])
    np.testing.assert_allclose(crux.eval(net(x)), jax.vmap(net.module)(pts), rtol=1e-6, atol=1e-7)


def test_resampling_redraws_points_inside_the_scan():
    dom = pl.domain.line(x_range=(0.0, 1.0), num_points=32, sampler="uniform", key=jax.random.PRNGKey(0))
    x, _ = dom.variable("interior")
    a = pl.np.parameter((1,), name="a", init=0.0)
    # the loss depends on where the points are, so resampling shows in the history
    crux = pl.core([(x - a).mse])
    a.optimizer(optax.sgd(0.0))
    h = crux.solve(20, print_rate=20, resample_every=5)
    totals = h.total
    assert np.all(totals[0:5] == totals[0]) and totals[5] != totals[0] and totals[10] != totals[5]
    with pytest.raises(pl.errors.ConfigurationError, match="randomly sampled"):
        small = small_problem()
        pl.core([(small[2](small[1]) - 1.0).mse]).solve(5, resample_every=2)


def test_parameter_vector_and_indexing():
    dom, x, net = small_problem()
    p = pl.np.parameter((3,), name="p", init=jnp.array([1.0, 2.0, 3.0]))
    v = x * p  # (n, 3)
    assert v.shape == (19, 3)
    assert v[1].shape == (19, 1) and v[:, 2].shape == (19, 1)
    got = pl.core([v.mse]).eval([v[1], v[:, 2]])
    np.testing.assert_allclose(got[0], 2.0 * dom.context["interior"], rtol=1e-6)
    np.testing.assert_allclose(got[1], 3.0 * dom.context["interior"], rtol=1e-6)


def test_eval_of_per_point_data_on_another_domain_is_a_clear_error():
    dom, x, net = small_problem()
    data = pl.np.array(np.ones((19, 1), np.float32))
    crux = pl.core([(net(x) - data).mse])
    fine = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.01)
    with pytest.raises(pl.errors.ShapeError, match="one row per point"):
        crux.eval([net(x) - data], domain=fine)


def test_a_continued_solve_sees_new_values_of_frozen_handles_and_swapped_data():
    """Solves that change nothing continue the last state as it is; a frozen handle given new values, or a
    domain given new arrays, between two solves is seen by the second."""
    x_np = np.linspace(0.0, 1.0, 11, dtype=np.float32).reshape(-1, 1)
    dom = pl.domain.from_array({"pts": x_np})
    x, _ = dom.variable("pts")
    a = pl.np.parameter((1,), name="a", init=[0.0])
    b = pl.np.parameter((1,), name="b", init=[1.0]).freeze()
    a.optimizer(optax.sgd(0.5))
    crux = pl.core([((a - b) * x).mse])
    crux.solve(60)
    crux.solve(10)  # nothing changed: carried over
    np.testing.assert_allclose(np.asarray(a.value), [1.0], atol=1e-4)
    b.initialize(np.array([3.0], np.float32))
    crux.solve(60)
    np.testing.assert_allclose(np.asarray(a.value), [3.0], atol=1e-4)
    # the loss's minimiser does not depend on x, but its value does: zero data gives zero loss at any a
    dom.context["pts"] = np.zeros_like(x_np)
    a.initialize(np.array([-5.0], np.float32))
    crux.solve(1)
    assert crux.history.total[-1] == 0.0
