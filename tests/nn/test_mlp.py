"""pl.nn.mlp: shapes, parameter counts, initialisation, masks, transforms, errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinnlang as pl
from pinnlang.errors import ConfigurationError, PinnlangError, ShapeError
from stats_helpers import assert_at_most, key_for


def n_params(tree):
    return sum(leaf.size for leaf in jax.tree_util.tree_leaves(eqx.filter(tree, eqx.is_inexact_array)))


def test_documented_example_shapes_and_counts(key):
    m = pl.nn.mlp(1, hidden_dims=16, num_layers=2, key=key)
    assert [l.weight.shape for l in m.layers] == [(16, 1), (16, 16)]
    assert n_params(m.layers) == 304
    assert m.output_layer.weight.shape == (1, 16) and m.output_layer.bias.shape == (1,)
    assert n_params(m.output_layer) == 17
    assert n_params(m) == 321
    assert (m.in_features, m.out_features, m.hidden_dims) == (1, 1, (16, 16))
    assert isinstance(m.output_layer, eqx.nn.Linear)
    assert m(jnp.array([0.3])).shape == (1,)


def test_sequence_widths_and_output_dim(key):
    m = pl.nn.mlp(3, output_dim=2, hidden_dims=[8, 5, 4], key=key)
    assert [(l.in_features, l.out_features) for l in m.layers] == [(3, 8), (8, 5), (5, 4)]
    assert (m.output_layer.in_features, m.output_layer.out_features) == (4, 2)
    assert m(jnp.ones(3)).shape == (2,)
    assert pl.nn.mlp(3, hidden_dims=(8, 5), num_layers=2, key=key).hidden_dims == (8, 5)
    with pytest.raises(ConfigurationError, match="num_layers=3"):
        pl.nn.mlp(3, hidden_dims=(8, 5), num_layers=3, key=key)


def test_default_depth_and_linear_model(key):
    assert pl.nn.mlp(2, key=key).hidden_dims == (64, 64)
    lin = pl.nn.mlp(2, output_dim=3, num_layers=0, key=key)
    assert lin.layers == () and lin.output_layer.weight.shape == (3, 2)
    x = jnp.array([0.5, -1.0])
    np.testing.assert_allclose(lin(x), lin.output_layer.weight @ x + lin.output_layer.bias, rtol=1e-6)


def test_forward_matches_manual_formula(key):
    m = pl.nn.mlp(2, output_dim=2, hidden_dims=[6, 4], activation="sin", final_activation="sigmoid", key=key)
    x = np.array([0.2, -0.7])
    h = x
    for l in m.layers:
        h = np.sin(np.asarray(l.weight) @ h + np.asarray(l.bias))
    out = np.asarray(m.output_layer.weight) @ h + np.asarray(m.output_layer.bias)
    np.testing.assert_allclose(m(jnp.asarray(x)), 1 / (1 + np.exp(-out)), rtol=1e-5, atol=1e-6)


@pytest.mark.statistical
def test_glorot_normal_statistics_and_zero_biases():
    """Sample std and mean of ≥ 60,000 N(0, e²) weights: their standard errors are e/sqrt(2n) < 0.003 e
    and e/sqrt(n) < 0.0041 e, so the bands 0.1 e are more than 24 standard errors wide (p < 1e-100)."""
    m = pl.nn.mlp(400, output_dim=200, hidden_dims=300, num_layers=1, key=key_for("glorot"))
    for layer in (*m.layers, m.output_layer):
        fan_out, fan_in = layer.weight.shape
        expected = np.sqrt(2.0 / (fan_in + fan_out))
        w = np.asarray(layer.weight)
        assert_at_most(abs(w.std() / expected - 1), 0.1, "glorot: relative std error")
        assert_at_most(abs(w.mean()) / expected, 0.1, "glorot: |mean| / std")
        assert np.all(np.asarray(layer.bias) == 0)


@pytest.mark.statistical
def test_lecun_uniform_option(key):
    """5000 U(-a, a) weights: the relative standard error of their sample std is sqrt(0.8/n)/2 = 0.0063
    (kurtosis 1.8), so the 10 % band is 16 standard errors wide."""
    m = pl.nn.mlp(100, hidden_dims=50, num_layers=1, init="lecun_uniform", key=key_for("lecun"))
    w = np.asarray(m.layers[0].weight)
    assert np.abs(w).max() <= 1 / np.sqrt(100) + 1e-7
    assert_at_most(abs(w.std() / (1 / np.sqrt(300)) - 1), 0.1, "lecun: relative std error")  # U(-a, a): std a/√3
    assert np.any(np.asarray(m.layers[0].bias) != 0)
    with pytest.raises(ConfigurationError, match="unknown init"):
        pl.nn.mlp(1, init="he_normal", key=key)


def test_same_key_same_network(key):
    a = pl.nn.mlp(2, hidden_dims=8, key=key)
    b = pl.nn.mlp(2, hidden_dims=8, key=key)
    c = pl.nn.mlp(2, hidden_dims=8, key=jax.random.PRNGKey(1))
    assert all(jax.tree_util.tree_leaves(jax.tree_util.tree_map(jnp.array_equal, a, b)))
    assert not np.array_equal(a.layers[0].weight, c.layers[0].weight)


def test_ensemble_by_filter_vmap_over_keys(key):
    ens = eqx.filter_vmap(lambda k: pl.nn.mlp(2, hidden_dims=4, key=k))(jax.random.split(key, 3))
    assert ens.output_layer.weight.shape == (3, 1, 4)
    assert not np.array_equal(ens.layers[0].weight[0], ens.layers[0].weight[1])
    assert eqx.filter_vmap(lambda m: m(jnp.ones(2)))(ens).shape == (3, 1)


def test_trainable_filter_is_exactly_weights_and_biases(key):
    m = pl.nn.mlp(2, hidden_dims=8, num_layers=2, activation="tanh", final_activation="softplus", key=key)
    leaves = jax.tree_util.tree_leaves(m)
    trainable = jax.tree_util.tree_leaves(eqx.filter(m, eqx.is_inexact_array))
    expected = [x for l in (*m.layers, m.output_layer) for x in (l.weight, l.bias)]
    assert len(leaves) == len(trainable) == len(expected) == 6
    assert all(a is b for a, b in zip(trainable, expected))


def test_output_layer_mask_recipe(key):
    m = pl.nn.mlp(1, hidden_dims=8, num_layers=2, key=key)
    mask = jax.tree_util.tree_map(lambda _: False, m)
    mask = eqx.tree_at(lambda t: t.output_layer, mask, replace=jax.tree_util.tree_map(lambda _: True, m.output_layer))
    head, body = eqx.partition(m, mask)
    assert n_params(head) == 9 and n_params(body) == 8 * 1 + 8 + 8 * 8 + 8
    # a gradient step on the head only leaves the hidden layers untouched
    loss = lambda h: jnp.sum(eqx.combine(h, body)(jnp.array([0.5])) ** 2)
    grads = jax.grad(loss)(head)
    new = eqx.combine(jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, head, grads), body)
    assert new.layers[0].weight is m.layers[0].weight
    assert not np.array_equal(new.output_layer.weight, m.output_layer.weight)


def test_jit_vmap_jvp_grad(key):
    m = pl.nn.mlp(2, output_dim=1, hidden_dims=8, num_layers=2, key=key)
    xs = jax.random.normal(jax.random.PRNGKey(5), (7, 2))
    v, eps = jnp.array([1.0, 0.0]), 1e-2

    @eqx.filter_jit
    def run(m, xs):
        batched = jax.vmap(m)(xs)
        single = m(xs[3])
        tangent = jax.jvp(m, (xs[0],), (v,))[1]
        fd = (m(xs[0] + eps * v) - m(xs[0] - eps * v)) / (2 * eps)
        hess = jax.hessian(lambda z: m(z)[0])(xs[0])  # second derivatives, as the derivative towers do
        grads = eqx.filter_grad(lambda mm: jnp.sum(jax.vmap(mm)(xs)))(m)
        return batched, single, tangent, fd, hess, grads

    batched, single, tangent, fd, hess, grads = run(m, xs)
    assert batched.shape == (7, 1)
    np.testing.assert_allclose(batched[3], single, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tangent, fd, rtol=1e-2, atol=1e-4)  # central difference, float32
    assert hess.shape == (2, 2) and np.all(np.isfinite(hess))
    assert grads.output_layer.bias.shape == (1,) and float(grads.output_layer.bias[0]) == 7.0


def test_input_width_error(key):
    m = pl.nn.mlp(2, hidden_dims=4, key=key)
    with pytest.raises(ShapeError, match=r"shape \(2,\).*width 3"):
        m(jnp.ones(3))
    with pytest.raises(ShapeError, match="expects an input of shape"):
        jax.jit(lambda z: m(z))(jnp.ones(1))
    with pytest.raises(ShapeError, match="jax.vmap"):
        m(jnp.ones((5, 2)))
    with pytest.raises(ShapeError, match="scalar"):
        pl.nn.mlp(1, key=key)(jnp.array(0.5))
    assert issubclass(ShapeError, PinnlangError)


@pytest.mark.parametrize(
    "name, fn",
    [("tanh", jnp.tanh), ("sin", jnp.sin), ("relu", jax.nn.relu), ("gelu", jax.nn.gelu),
     ("silu", jax.nn.silu), ("softplus", jax.nn.softplus), ("sigmoid", jax.nn.sigmoid)],
)
def test_activation_names(key, name, fn):
    by_name = pl.nn.mlp(2, hidden_dims=4, activation=name, key=key)
    by_fn = pl.nn.mlp(2, hidden_dims=4, activation=fn, key=key)
    x = jnp.array([0.3, -0.8])
    np.testing.assert_allclose(by_name(x), by_fn(x), rtol=1e-6)


def test_bad_arguments(key):
    with pytest.raises(ConfigurationError, match="unknown activation 'swish2'"):
        pl.nn.mlp(1, activation="swish2", key=key)
    with pytest.raises(ConfigurationError, match="final_activation"):
        pl.nn.mlp(1, final_activation="nope", key=key)
    with pytest.raises(ConfigurationError, match="in_features"):
        pl.nn.mlp(0, key=key)
    with pytest.raises(ConfigurationError, match="hidden_dims"):
        pl.nn.mlp(1, hidden_dims=[8, -1], key=key)
    with pytest.raises(ConfigurationError, match="num_layers"):
        pl.nn.mlp(1, hidden_dims=8, num_layers=-1, key=key)


def test_dtype_float64(key):
    with jax.enable_x64(True):
        m = pl.nn.mlp(1, hidden_dims=4, dtype=jnp.float64, key=key)
        assert m.output_layer.weight.dtype == jnp.float64
        assert m(jnp.array([0.5])).dtype == jnp.float64


def test_works_through_wrap(key):
    dom = pl.domain(constructor=pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.25))
    x, _ = dom.variable("interior")
    net = pl.nn.wrap(pl.nn.mlp(1, output_dim=2, hidden_dims=4, key=key), name="u")
    assert net.in_features == 1
    u = net(x)
    assert u.shape[-1] == 2
    with pytest.raises(ShapeError, match="expects 1 input column"):
        net(x, x)


@pytest.mark.parametrize("init", ["glorot_normal", "lecun_uniform"])
def test_initial_values_are_jax_randoms_bit_for_bit(init):
    """The weights drawn from bits hashed on the host are exactly those of ``jax.random.normal``/``uniform``
    (the compiled draw, which typed keys, other dtypes and traced keys use)."""
    import sys

    mlp_module = sys.modules["pinnlang.nn.mlp"]
    for dims in [(1, 16, 16, 1), (2, 64, 64, 64, 1), (3, 128, 2), (5, 1)]:
        for seed in range(3):
            key = jax.random.PRNGKey(seed)
            got = mlp_module._init_arrays(key, dims, init, jnp.float32)
            want = mlp_module._init_from_key(key, dims, init, jnp.float32)
            for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
                np.testing.assert_array_equal(np.asarray(g).view(np.uint32), np.asarray(w).view(np.uint32))
    n = mlp_module._draw_size((2, 8, 1), init)  # and they are the documented formula (to rounding)
    draw = jax.random.normal(key, (n,)) if init == "glorot_normal" else jax.random.uniform(key, (n,), minval=-1.0)
    scale = (2 / (2 + 8)) ** 0.5 if init == "glorot_normal" else 1 / 2**0.5
    net = pl.nn.mlp(2, hidden_dims=8, num_layers=1, key=key, init=init)
    np.testing.assert_allclose(np.asarray(net.layers[0].weight).ravel(), np.asarray(draw[:16]) * scale, rtol=1e-6)
