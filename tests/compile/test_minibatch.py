"""Minibatches for stochastic-gradient kernels: rows, data arrays and noise follow; sums are unbiased."""

import jax
import numpy as np
import pytest

import pinnlang as pl
from stats_helpers import assert_close, key_for, seed_for


def setup():
    xs = np.linspace(0.0, 1.0, 40, dtype=np.float32).reshape(-1, 1)
    ys = (2.0 * xs + 0.3).astype(np.float32)
    dom = pl.domain.from_array({"obs": xs})
    x, _ = dom.variable("obs")
    a = pl.np.parameter((1,), name="a", init=1.5)
    resid = a * x - pl.np.array(ys) + pl.noise.gaussian(std=0.2)
    return dom, x, a, resid


def compiled(term, seed_key=None, seed=0):
    """``(program, full data, params)`` of a one-term core."""
    crux = pl.core([term], seed=seed)
    program = crux.loss.program
    params = {k: h.get_trainable() for k, h in crux.handles.items()}
    return program, program.data(crux.noise_key if seed_key is None else seed_key), params


def minibatch_estimates(term, batch: int, draws: int = 400, label: str = ""):
    """The full-data value of ``term`` and ``draws`` minibatch estimates of it (seeds from the base seed)."""
    program, data, params = compiled(term, seed=seed_for("minibatch", label, "noise"))
    full = float(program.evaluate(params, data)[0])
    f = jax.jit(jax.vmap(lambda k: program.evaluate(params, program.minibatch(data, k, batch))[0]))
    return full, np.asarray(f(jax.random.split(key_for("minibatch", label, "rows"), draws)), np.float64)


def test_minibatch_rows_follow_for_coordinates_data_and_noise():
    dom, x, a, resid = setup()
    program, data, params = compiled(resid.gaussian_nll(0.5))
    assert np.isfinite(np.asarray(program.evaluate(params, data)[0]))
    rows = np.asarray(next(iter(program.minibatch(data, jax.random.PRNGKey(3), 8)["rows"].values())))
    assert len(set(rows.tolist())) == 8
    prog_resid, d_full, _ = compiled(resid.mse)
    r_full = np.asarray(prog_resid.env(params, d_full).value(resid))
    r_batch = np.asarray(prog_resid.env(params, prog_resid.minibatch(d_full, jax.random.PRNGKey(3), 8)).value(resid))
    np.testing.assert_allclose(r_batch, r_full[rows], rtol=1e-6, atol=1e-6)


@pytest.mark.statistical
def test_minibatch_sum_is_an_unbiased_estimate_of_the_full_sum():
    """400 independent minibatches of 10 of 40 rows: their mean is within 4 standard errors
    (sd / sqrt(400), a t-statistic with 399 degrees of freedom: p = 7e-5) of the full-data value."""
    dom, x, a, resid = setup()
    full, est = minibatch_estimates(resid.gaussian_nll(0.5), 10, label="nll")
    assert_close(est.mean(), full, est.std(ddof=1) / np.sqrt(len(est)), "minibatch gaussian_nll: mean")
    # a mean-type term needs no rescaling
    full2, est2 = minibatch_estimates(resid.mse, 10, label="mse")
    assert_close(est2.mean(), full2, est2.std(ddof=1) / np.sqrt(len(est2)), "minibatch mse: mean")
