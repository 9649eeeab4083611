"""Prior factories against scipy.stats log-densities, summed over the entries of a pytree."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from pinnlang.bayesian import priors
from pinnlang.errors import ConfigurationError


@pytest.fixture
def tree():
    """A small MLP-like pytree: Linear(3 -> 5) and Linear(5 -> 2), plus non-float leaves."""
    rng = np.random.default_rng(0)
    return {
        "l1": {"weight": jnp.asarray(rng.normal(size=(5, 3)), jnp.float32),
               "bias": jnp.asarray(rng.normal(size=(5,)), jnp.float32)},
        "l2": {"weight": jnp.asarray(rng.normal(size=(2, 5)), jnp.float32),
               "bias": jnp.asarray(rng.normal(size=(2,)), jnp.float32)},
        "scale": jnp.asarray(0.7, jnp.float32),
        "count": jnp.arange(4),  # integer leaf: ignored
        "flag": True,  # Python leaf: ignored
        "name": None,
    }


def _float_leaves(tree):
    return [np.asarray(leaf, np.float64) for leaf in jax.tree_util.tree_leaves(tree)
            if hasattr(leaf, "dtype") and jnp.issubdtype(leaf.dtype, jnp.floating)]


def _ref(tree, logpdf):
    return sum(float(np.sum(logpdf(leaf))) for leaf in _float_leaves(tree))


def _close(value, ref):
    assert jnp.shape(value) == ()
    np.testing.assert_allclose(float(value), ref, rtol=2e-6)


def test_gaussian(tree):
    _close(priors.gaussian()(tree), _ref(tree, stats.norm(0, 10.0).logpdf))
    _close(priors.gaussian(sigma=0.3)(tree), _ref(tree, stats.norm(0, 0.3).logpdf))


def test_gaussian_fan_in_aware(tree):
    def ref(leaf):
        sigma = 2.0 / math.sqrt(leaf.shape[-1]) if leaf.ndim >= 2 else 2.0
        return stats.norm(0, sigma).logpdf(leaf)

    _close(priors.gaussian(sigma=2.0, fan_in_aware=True)(tree), _ref(tree, ref))


def test_fan_in_on_equinox_linear():
    """eqx.nn.Linear(in=7, out=3) has a (3, 7) weight: fan-in 7, the last axis."""
    lin = eqx.nn.Linear(7, 3, key=jax.random.PRNGKey(0))
    assert lin.weight.shape == (3, 7)
    w, b = np.asarray(lin.weight, np.float64), np.asarray(lin.bias, np.float64)
    expected = (stats.norm(0, 1.5 / math.sqrt(7)).logpdf(w).sum()
                + stats.norm(0, 0.5).logpdf(b).sum())
    _close(priors.layerwise_gaussian(base_sigma=1.5, default_sigma=0.5)(lin), expected)
    expected_g = (stats.norm(0, 1.5 / math.sqrt(7)).logpdf(w).sum()
                  + stats.norm(0, 1.5).logpdf(b).sum())
    _close(priors.gaussian(sigma=1.5, fan_in_aware=True)(lin), expected_g)


def test_layerwise_gaussian(tree):
    def ref(fan_in_aware):
        def logpdf(leaf):
            if leaf.ndim < 2:
                return stats.norm(0, 0.4).logpdf(leaf)
            sigma = 1.2 / math.sqrt(leaf.shape[-1]) if fan_in_aware else 1.2
            return stats.norm(0, sigma).logpdf(leaf)
        return logpdf

    for aware in (True, False):
        prior = priors.layerwise_gaussian(base_sigma=1.2, default_sigma=0.4, fan_in_aware=aware)
        _close(prior(tree), _ref(tree, ref(aware)))


def test_laplace(tree):
    _close(priors.laplace()(tree), _ref(tree, stats.laplace(0, 1.0).logpdf))
    _close(priors.laplace(scale=0.5)(tree), _ref(tree, stats.laplace(0, 0.5).logpdf))


def test_student_t(tree):
    _close(priors.student_t()(tree), _ref(tree, stats.t(4.0, 0, 1.0).logpdf))
    _close(priors.student_t(df=2.5, scale=3.0)(tree), _ref(tree, stats.t(2.5, 0, 3.0).logpdf))


def test_half_normal(tree):
    positive = jax.tree_util.tree_map(lambda a: jnp.abs(a) if hasattr(a, "dtype") else a, tree)
    positive["l1"]["bias"] = positive["l1"]["bias"].at[0].set(0.0)  # the support includes 0
    _close(priors.half_normal(scale=2.0)(positive), _ref(positive, stats.halfnorm(0, 2.0).logpdf))
    assert priors.half_normal()({"x": jnp.array([1.0, -0.1])}) == -jnp.inf


def test_half_cauchy(tree):
    positive = jax.tree_util.tree_map(lambda a: jnp.abs(a) if hasattr(a, "dtype") else a, tree)
    positive["l1"]["bias"] = positive["l1"]["bias"].at[0].set(0.0)
    _close(priors.half_cauchy()(positive), _ref(positive, stats.halfcauchy(0, 1.0).logpdf))
    _close(priors.half_cauchy(scale=0.3)(positive), _ref(positive, stats.halfcauchy(0, 0.3).logpdf))
    assert priors.half_cauchy()({"x": jnp.array([1.0, -0.1])}) == -jnp.inf
    assert repr(priors.half_cauchy(2)) == "half_cauchy(scale=2.0)"
    with pytest.raises(ConfigurationError, match="half_cauchy: scale must be positive"):
        priors.half_cauchy(scale=0.0)


def test_jit_and_grad(tree):
    floats = {"w": tree["l1"]["weight"], "b": tree["l1"]["bias"]}
    prior = priors.gaussian(sigma=2.0)
    value, grad = jax.jit(jax.value_and_grad(prior))(floats)
    _close(value, _ref(floats, stats.norm(0, 2.0).logpdf))
    np.testing.assert_allclose(grad["w"], -floats["w"] / 4.0, rtol=1e-6)


def test_no_float_leaves_gives_zero():
    assert float(priors.laplace()({"n": jnp.arange(3), "s": "x"})) == 0.0


def test_repr():
    assert repr(priors.gaussian()) == "gaussian(sigma=10.0)"
    assert repr(priors.gaussian(1, fan_in_aware=True)) == "gaussian(sigma=1.0, fan_in_aware=True)"
    assert repr(priors.laplace(0.5)) == "laplace(scale=0.5)"
    assert repr(priors.student_t()) == "student_t(df=4.0, scale=1.0)"
    assert repr(priors.layerwise_gaussian()) == "layerwise_gaussian(base_sigma=1.0, default_sigma=1.0)"
    assert repr(priors.half_normal(2)) == "half_normal(scale=2.0)"


def test_argument_validation():
    with pytest.raises(ConfigurationError, match="df must be > 2 for a finite variance"):
        priors.student_t(df=2.0)
    with pytest.raises(ConfigurationError, match="df must be > 2"):
        priors.student_t(df=1)
    with pytest.raises(ConfigurationError, match="sigma must be positive"):
        priors.gaussian(sigma=0.0)
    with pytest.raises(ConfigurationError, match="scale must be positive"):
        priors.laplace(scale=-1.0)
    with pytest.raises(ConfigurationError, match="scale must be positive"):
        priors.half_normal(scale=float("inf"))
    with pytest.raises(ConfigurationError, match="base_sigma"):
        priors.layerwise_gaussian(base_sigma=-2.0)
    with pytest.raises(ConfigurationError, match="default_sigma must be a positive number"):
        priors.layerwise_gaussian(default_sigma="wide")
    with pytest.raises(ConfigurationError, match="fan_in_aware must be True or False"):
        priors.gaussian(fan_in_aware=1)
    with pytest.raises(ConfigurationError, match="complex"):
        priors.gaussian()({"z": jnp.ones(2, jnp.complex64)})


def test_check_prior(tree):
    assert math.isclose(priors.check_prior(priors.laplace(), tree),
                        _ref(tree, stats.laplace().logpdf), rel_tol=2e-6)
    assert priors.check_prior(lambda p: 0.0, tree) == 0.0

    def per_entry(p):
        return -jnp.square(p["l1"]["weight"])

    with pytest.raises(ConfigurationError, match=r"shape \(5, 3\)"):
        priors.check_prior(per_entry, tree)
    with pytest.raises(ConfigurationError, match="finite"):
        priors.check_prior(priors.half_normal(), {"x": jnp.array([-1.0])})
    with pytest.raises(ConfigurationError, match="not a number"):
        priors.check_prior(lambda p: "zero", tree)
    with pytest.raises(ConfigurationError, match="callable"):
        priors.check_prior(3.0, tree)
