"""Minibatches for stochastic-gradient kernels: rows, data arrays and noise follow; sums are unbiased."""

import jax
import numpy as np

import pinnlang as pl


def setup():
    xs = np.linspace(0.0, 1.0, 40, dtype=np.float32).reshape(-1, 1)
    ys = (2.0 * xs + 0.3).astype(np.float32)
    dom = pl.domain.from_array({"obs": xs})
    x, _ = dom.variable("obs")
    a = pl.np.parameter((1,), name="a", init=1.5)
    resid = a * x - pl.np.array(ys) + pl.noise.gaussian(std=0.2)
    return dom, x, a, resid


def compiled(term, seed_key=None):
    """``(program, full data, params)`` of a one-term core."""
    crux = pl.core([term])
    program = crux.loss.program
    params = {k: h.get_trainable() for k, h in crux.handles.items()}
    return program, program.data(crux.noise_key if seed_key is None else seed_key), params


def minibatch_estimates(term, batch: int, draws: int = 400):
    """The full-data value of ``term`` and ``draws`` minibatch estimates of it."""
    program, data, params = compiled(term)
    full = float(program.evaluate(params, data)[0])
    f = jax.jit(lambda k: program.evaluate(params, program.minibatch(data, k, batch))[0])
    return full, np.array([float(f(jax.random.PRNGKey(i))) for i in range(draws)])


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


def test_minibatch_sum_is_an_unbiased_estimate_of_the_full_sum():
    dom, x, a, resid = setup()
    full, est = minibatch_estimates(resid.gaussian_nll(0.5), 10)
    assert abs(est.mean() - full) < 4 * est.std() / np.sqrt(len(est)) + 1e-6, (est.mean(), full)
    # a mean-type term needs no rescaling
    full2, est2 = minibatch_estimates(resid.mse, 10)
    assert abs(est2.mean() - full2) < 4 * est2.std() / np.sqrt(len(est2)) + 1e-6, (est2.mean(), full2)
