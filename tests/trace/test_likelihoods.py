"""Normalised likelihood terms and parameter constraints against independent references."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import pinnlang as pl
from pinnlang.trace.constraints import POSITIVE, as_bijector


def test_gaussian_nll_equals_scipy_negative_log_pdf():
    r = np.random.default_rng(0).normal(size=(30, 1)).astype(np.float32)
    dom = pl.domain.from_array({"p": np.zeros((30, 1), np.float32)})
    x, _ = dom.variable("p")
    sigma = pl.np.parameter((1,), name="s", init=0.7, constraint="positive")
    term = (x * 0.0 + pl.np.array(r)).gaussian_nll(sigma)
    got = float(pl.core([term]).eval([term]))
    want = -stats.norm(0.0, 0.7).logpdf(r).sum()
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_categorical_nll_equals_log_softmax_reference():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(12, 4)).astype(np.float32)
    labels = rng.integers(0, 4, size=12)
    term = pl.np.array(logits).categorical_nll(labels)
    got = float(pl.core([term]).eval([term]))
    z = logits - logits.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    np.testing.assert_allclose(got, -logp[np.arange(12), labels].sum(), rtol=1e-5)


def test_gaussian_nll_rejects_non_positive_sigma():
    with pytest.raises(ValueError, match="sigma > 0"):
        pl.np.array(np.ones((3, 1), np.float32)).gaussian_nll(0.0)


@pytest.mark.parametrize("constraint", ["positive", (-2.0, 3.0)])
def test_constraints_round_trip_and_log_jacobian(constraint):
    jax.config.update("jax_enable_x64", True)
    try:
        b = as_bijector(constraint)
        raw = jnp.linspace(-4.0, 4.0, 9, dtype=jnp.float64)
        np.testing.assert_allclose(b.inverse(b.forward(raw)), raw, rtol=1e-9, atol=1e-9)
        numeric = jax.vmap(jax.grad(lambda r: b.forward(r)))(raw)
        np.testing.assert_allclose(b.log_det_jacobian(raw), np.log(numeric), rtol=1e-9, atol=1e-12)
    finally:
        jax.config.update("jax_enable_x64", False)


def test_constrained_parameter_value_and_errors():
    s = pl.np.parameter((2,), name="s", init=[0.5, 2.0], constraint="positive")
    np.testing.assert_allclose(np.asarray(s.value), [0.5, 2.0], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(s.get_trainable()), np.asarray(POSITIVE.inverse(jnp.array([0.5, 2.0]))),
                               rtol=1e-6)
    with pytest.raises(pl.errors.ConfigurationError, match="outside its constraint"):
        pl.np.parameter((1,), init=-1.0, constraint="positive")
    with pytest.raises(pl.errors.ConfigurationError, match="unknown constraint"):
        pl.np.parameter((1,), constraint="negative")


def test_parameter_repr_shows_its_constrained_value():
    s = pl.np.parameter((2,), name="s", init=[0.5, 2.0], constraint="positive")
    assert "Parameter s (2,)" in repr(s) and "2." in repr(s)
