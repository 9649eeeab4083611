"""Minibatches for optimised groups: shuffled data epochs, unbiased estimates, the same optimum."""

import numpy as np
import optax
import pytest

import pinnlang as pl
from pinnlang.errors import ConfigurationError

N, B, SIGMA = 20, 5, 0.5


def problem(batch_size, transform, seed=0):
    y = np.random.default_rng(seed).normal(size=(N, 1)).astype(np.float32) + 2.0
    x, _ = pl.domain.from_array({"obs": np.linspace(0, 1, N)[:, None]}).variable("obs")
    theta = pl.np.parameter((1,), name="theta", init=0.0)
    theta.optimizer(transform, batch_size=batch_size)
    crux = pl.core([(theta + 0.0 * x - pl.np.array(y)).gaussian_nll(SIGMA)], seed=seed)
    return crux, theta, y


def test_each_data_epoch_uses_every_point_once_so_the_epoch_mean_is_the_full_loss():
    crux, theta, y = problem(B, optax.sgd(0.0))  # values fixed: the history holds the minibatch estimates
    crux.solve(3 * N // B)
    est = np.asarray(crux.history.total)
    full = float(np.sum(0.5 * (y[:, 0] / SIGMA) ** 2 + np.log(SIGMA) + 0.5 * np.log(2 * np.pi)))
    per_epoch = est.reshape(3, N // B)
    np.testing.assert_allclose(per_epoch.mean(axis=1), full, rtol=1e-5)  # unbiased, exactly, per data epoch
    assert np.std(per_epoch[0]) > 0.01 * full  # the batches differ
    assert not np.allclose(per_epoch[0], per_epoch[1])  # each data epoch has its own shuffle


def test_minibatch_adam_reaches_the_full_data_optimum_and_repeats_per_seed():
    crux, theta, y = problem(B, optax.adam(optax.exponential_decay(0.05, 1500, 0.01)))
    crux.solve(3000)
    np.testing.assert_allclose(np.asarray(theta.value), [y.mean()], atol=2e-3)
    again, theta2, _ = problem(B, optax.adam(optax.exponential_decay(0.05, 1500, 0.01)))
    again.solve(3000)
    np.testing.assert_array_equal(np.asarray(theta.value), np.asarray(theta2.value))


def test_optimised_handles_share_one_batch_size():
    a = pl.np.parameter((1,), name="a").optimizer(optax.adam(1e-2), batch_size=4)
    b = pl.np.parameter((1,), name="b").optimizer(optax.adam(1e-2), batch_size=8)
    x, _ = pl.domain.from_array({"obs": np.linspace(0, 1, 16)[:, None]}).variable("obs")
    y = pl.np.array(np.zeros((16, 1), np.float32))
    crux = pl.core([(a + b + 0.0 * x - y).mse])
    with pytest.raises(ConfigurationError, match="share one minibatch"):
        crux.solve(2)
    with pytest.raises(ConfigurationError, match="no point set"):
        b.optimizer(optax.adam(1e-2), batch_size=4)
        pl.core([(a + b - pl.np.array(np.zeros((1,), np.float32))).sum]).solve(2)
    with pytest.raises(ConfigurationError, match="positive integer"):
        a.optimizer(optax.adam(1e-2), batch_size=0)
