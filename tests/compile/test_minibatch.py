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


def test_minibatch_rows_follow_for_coordinates_data_and_noise():
    dom, x, a, resid = setup()
    crux = pl.core([resid.gaussian_nll(0.5)])
    program = crux.loss.program
    data = program.data(crux.noise_key)
    params = {k: h.get_trainable() for k, h in crux.handles.items()}
    full = np.asarray(program.evaluate(params, data)[0])
    batch = program.minibatch(data, jax.random.PRNGKey(3), 8)
    rows = np.asarray(next(iter(batch["rows"].values())))
    assert len(set(rows.tolist())) == 8
    prog_resid = pl.core([resid.mse]).loss.program
    d_full = prog_resid.data(crux.noise_key)
    r_full = np.asarray(prog_resid.env(params, d_full).value(resid))
    r_batch = np.asarray(prog_resid.env(params, prog_resid.minibatch(d_full, jax.random.PRNGKey(3), 8)).value(resid))
    np.testing.assert_allclose(r_batch, r_full[rows], rtol=1e-6, atol=1e-6)
    assert np.isfinite(full)


def test_minibatch_sum_is_an_unbiased_estimate_of_the_full_sum():
    dom, x, a, resid = setup()
    crux = pl.core([resid.gaussian_nll(0.5)])
    program = crux.loss.program
    data = program.data(crux.noise_key)
    params = {k: h.get_trainable() for k, h in crux.handles.items()}
    full = float(program.evaluate(params, data)[0])
    f = jax.jit(lambda k: program.evaluate(params, program.minibatch(data, k, 10))[0])
    est = np.array([float(f(jax.random.PRNGKey(i))) for i in range(400)])
    se = est.std() / np.sqrt(len(est))
    assert abs(est.mean() - full) < 4 * se + 1e-6, (est.mean(), full, se)
    # a mean-type term needs no rescaling
    prog2 = pl.core([resid.mse]).loss.program
    g = jax.jit(lambda k: prog2.evaluate(params, prog2.minibatch(prog2.data(crux.noise_key), k, 10))[0])
    est2 = np.array([float(g(jax.random.PRNGKey(i))) for i in range(400)])
    full2 = float(prog2.evaluate(params, prog2.data(crux.noise_key))[0])
    assert abs(est2.mean() - full2) < 4 * est2.std() / np.sqrt(400) + 1e-6
