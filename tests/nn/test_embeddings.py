"""pl.nn.FourierFeatures and pl.nn.PeriodicEmbedding: values, non-trainability, transforms, composition."""

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pinnlang as pl
from pinnlang.errors import ConfigurationError, ShapeError
from stats_helpers import assert_at_most, key_for


def trainable_leaves(tree):
    return jax.tree_util.tree_leaves(eqx.filter(tree, eqx.is_inexact_array))


# -- FourierFeatures ---------------------------------------------------------------------------
def test_fourier_values_match_numpy_formula(key):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no equinox warning about arrays in static fields
        ff = pl.nn.FourierFeatures(3, 16, sigma=2.5, key=key)
    assert (ff.in_features, ff.num_features, ff.out_features) == (3, 16, 32)
    B = ff.B
    assert B.shape == (16, 3) and isinstance(B, np.ndarray)
    x = np.array([0.1, -0.4, 0.7], dtype=np.float32)
    z = 2 * np.pi * B.astype(np.float64) @ x.astype(np.float64)
    expected = np.concatenate([np.cos(z), np.sin(z)])
    np.testing.assert_allclose(ff(jnp.asarray(x)), expected, atol=2e-5)


@pytest.mark.statistical
def test_fourier_frequency_statistics(key):
    """Sample std of n Gaussian frequencies: relative standard error 1/sqrt(2n), 0.0071 for the 10,000
    entries and 0.010 per column of 5000, so the 5 % bands are 7 and 5 standard errors (p < 6e-7 each)."""
    ff = pl.nn.FourierFeatures(2, 5000, sigma=3.0, key=key_for("fourier"))
    assert_at_most(abs(ff.B.std() / 3.0 - 1), 0.05, "fourier: relative std error")
    aniso = pl.nn.FourierFeatures(2, 5000, sigma=(1.0, 10.0), key=key_for("fourier", "aniso"))
    for j, sigma in enumerate((1.0, 10.0)):
        assert_at_most(abs(aniso.B[:, j].std() / sigma - 1), 0.05, f"fourier: column {j} relative std error")
    with pytest.raises(ConfigurationError, match="sigma"):
        pl.nn.FourierFeatures(2, 4, sigma=(1.0, 2.0, 3.0), key=key)
    with pytest.raises(ConfigurationError, match="positive"):
        pl.nn.FourierFeatures(2, 4, sigma=0.0, key=key)


def test_fourier_B_is_not_trainable_and_is_fixed(key):
    ff = pl.nn.FourierFeatures(2, 8, key=key)
    assert trainable_leaves(ff) == []
    assert jax.tree_util.tree_leaves(ff) == []
    with pytest.raises(ValueError):
        ff.B[0, 0] = 1.0  # read-only
    # an optimiser over the composed network sees only the MLP's weights and biases
    net = eqx.nn.Sequential([ff, pl.nn.mlp(ff.out_features, hidden_dims=4, num_layers=1, key=key)])
    params = eqx.filter(net, eqx.is_inexact_array)
    assert sum(p.size for p in jax.tree_util.tree_leaves(params)) == (16 * 4 + 4) + (4 + 1)
    opt = optax.adam(1e-1)

    @eqx.filter_jit
    def step(net, state):
        grads = eqx.filter_grad(lambda n: jnp.sum(n(jnp.array([0.2, 0.3])) ** 2))(net)
        updates, state = opt.update(grads, state)
        return eqx.apply_updates(net, updates)

    new = step(net, opt.init(params))
    assert np.array_equal(new.layers[0].B, ff.B)
    assert not np.array_equal(new.layers[1].output_layer.weight, net.layers[1].output_layer.weight)


def test_fourier_needs_a_concrete_key(key):
    with pytest.raises(ConfigurationError, match="outside jax.jit"):
        eqx.filter_vmap(lambda k: pl.nn.FourierFeatures(2, 4, key=k))(jax.random.split(key, 3))


def test_fourier_same_key_same_structure(key):
    """Equal B gives equal treedefs, so jit does not recompile; a different B is a different module."""
    a, b = pl.nn.FourierFeatures(2, 4, key=key), pl.nn.FourierFeatures(2, 4, key=key)
    c = pl.nn.FourierFeatures(2, 4, key=jax.random.PRNGKey(7))
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    assert jax.tree_util.tree_structure(a) != jax.tree_util.tree_structure(c)
    assert hash(a.frequencies) == hash(b.frequencies)


def test_fourier_jit_vmap_jvp(key):
    ff = pl.nn.FourierFeatures(2, 6, sigma=0.5, key=key)
    xs = jax.random.uniform(jax.random.PRNGKey(3), (9, 2))
    v = jnp.array([0.3, -1.0])
    out, tangent = jax.jit(lambda xs: (jax.vmap(ff)(xs), jax.jvp(ff, (xs[0],), (v,))[1]))(xs)
    # numpy references: the formula, and d cos(2π Bx) = -2π sin(2π Bx) (B v), d sin = 2π cos (B v)
    B, x = ff.B.astype(np.float64), np.asarray(xs, np.float64)
    z, bv = 2 * np.pi * x @ B.T, 2 * np.pi * B @ np.asarray(v, np.float64)
    np.testing.assert_allclose(out, np.concatenate([np.cos(z), np.sin(z)], axis=1), atol=2e-5)
    np.testing.assert_allclose(tangent, np.concatenate([-np.sin(z[0]) * bv, np.cos(z[0]) * bv]), atol=1e-4)
    with pytest.raises(ShapeError, match=r"FourierFeatures expects an input of shape \(2,\)"):
        ff(jnp.ones(3))


def test_fourier_then_mlp_in_sequential(key):
    k1, k2 = jax.random.split(key)
    emb = pl.nn.FourierFeatures(2, 8, sigma=1.0, key=k1)
    head = pl.nn.mlp(emb.out_features, output_dim=3, hidden_dims=16, key=k2)
    net = eqx.nn.Sequential([emb, head])
    xs = jax.random.normal(k1, (5, 2))

    @jax.jit
    def run(xs):
        return jax.vmap(net)(xs), jax.vmap(lambda x: head(emb(x)))(xs), jax.hessian(lambda x: net(x)[0])(xs[0])

    out, composed, hess = run(xs)
    assert out.shape == (5, 3)
    np.testing.assert_allclose(out, composed, rtol=1e-6)
    assert hess.shape == (2, 2) and np.all(np.isfinite(hess))


# -- PeriodicEmbedding -------------------------------------------------------------------------
def test_periodic_layout_and_values():
    pe = pl.nn.PeriodicEmbedding([2.0, None, 0.5])
    assert (pe.in_features, pe.out_features, pe.periods) == (3, 5, (2.0, None, 0.5))
    x = np.array([0.3, 1.7, -0.2])
    expected = [np.cos(np.pi * 0.3), np.sin(np.pi * 0.3), 1.7, np.cos(4 * np.pi * -0.2), np.sin(4 * np.pi * -0.2)]
    np.testing.assert_allclose(pe(jnp.asarray(x, dtype=jnp.float32)), expected, atol=1e-6)
    assert trainable_leaves(pe) == []


def test_periodic_is_exactly_periodic():
    with jax.enable_x64(True):
        pe = pl.nn.PeriodicEmbedding([1.0, 2.5, None])
        xs = np.random.default_rng(0).uniform(-3.0, 3.0, (50, 3))
        shifts = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.5, 0.0], [-3.0, 5.0, 0.0], [0.0, 0.0, 1.0]])
        out = np.asarray(jax.jit(jax.vmap(jax.vmap(pe)))(xs[None] + shifts[:, None]))
        for shifted in out[1:4]:
            np.testing.assert_allclose(shifted, out[0], atol=1e-6)
        assert not np.allclose(out[4], out[0])  # the None dimension is not periodic
    # float32 too: a network after the embedding repeats across periods
    net = eqx.nn.Sequential([pl.nn.PeriodicEmbedding([2.0]), pl.nn.mlp(2, hidden_dims=8, key=jax.random.PRNGKey(1))])
    xs = jnp.linspace(-1.0, 1.0, 33)[:, None]
    a, b = jax.jit(lambda xs: (jax.vmap(net)(xs + 2.0), jax.vmap(net)(xs)))(xs)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_periodic_derivatives_are_analytic():
    pe = pl.nn.PeriodicEmbedding([3.0, None])
    # near and across a period boundary: the reduction must not disturb derivatives
    jac, d2 = jax.jit(lambda: (jax.jacfwd(pe)(jnp.array([2.9, 0.4])),
                               jax.hessian(lambda z: pe(z)[1])(jnp.array([3.1, 0.0]))))()
    w = 2 * np.pi / 3.0
    expected = np.array([[-w * np.sin(w * 2.9), 0.0], [w * np.cos(w * 2.9), 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(jac, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(d2[0, 0], -(w**2) * np.sin(w * 3.1), rtol=1e-4, atol=1e-5)  # (sin wx)'' = -w² sin wx


def test_periodic_errors():
    with pytest.raises(ConfigurationError, match="positive"):
        pl.nn.PeriodicEmbedding([1.0, -2.0])
    with pytest.raises(ConfigurationError, match="non-empty sequence"):
        pl.nn.PeriodicEmbedding(2.0)
    with pytest.raises(ShapeError, match="width 1"):
        pl.nn.PeriodicEmbedding([1.0, None])(jnp.ones(1))
