"""Calibration of NUTS credible intervals over many synthetic datasets (one compiled sampler for all).

Model: ``y_i ~ N(θ, σ²)``, i = 1..n, ``θ ~ N(0, τ²)``. When the true θ of every dataset is itself drawn
from the prior, the exact posterior's 90 % central interval covers it with probability exactly 0.9,
whatever the data (the defining property of a calibrated posterior). Over D datasets the number of
hits is then Binomial(D, p) with p = 0.9 for exact quantiles; the sample quantiles of 300 draws (ESS
about 300) blur the interval ends by ~0.12 posterior sd, which lowers the coverage by about 0.003
(second order in that blur), so p ∈ [0.89, 0.90]. The acceptance band is the exact binomial one:
below it with probability 5e-5 at p = 0.89 and above it with probability 5e-5 at p = 0.9
(``binomial_band``), i.e. [159, 194] hits of 200. A sampler with intervals 1.4x too narrow (coverage
0.76) or too wide (0.98) fails it.

Per-dataset means: ``z = (mean - m) / MCSE`` is N(0, 1) up to the noise of a one-chain ESS estimate
(~15 % relative, which scales z by at most ~1.15). ``max |z| < 6`` over 200 datasets then fails with
probability 200 · P(|N(0, 1)| > 6 / 1.15) ≈ 4e-5, while stale data (the first dataset's posterior
reused) gives |z| of order 100. The mean of the 200 z is within 4 of its standard errors of 0.

The data live in a ``pl.domain.from_array`` context that is overwritten between solves, and a fresh
``.bayesian(...)`` call per dataset restarts the chain: nothing about the compiled program changes, so
the solves after the first must not compile anything (checked with JAX's compile events).
"""

import time

import blackjax
import jax
import numpy as np
import pytest

import pinnlang as pl
from stats_helpers import assert_at_most, assert_close, assert_in_band, binomial_band, mean_mcse, rng_for, seed_for

pytestmark = pytest.mark.statistical

SIGMA, TAU, N_OBS, DATASETS = 0.5, 1.0, 10, 200
COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


def test_ninety_percent_intervals_are_calibrated_without_recompiling():
    rng = rng_for("calibration", "data")
    dom = pl.domain.from_array({"obs": np.zeros((N_OBS, 1), np.float32)})
    y, _ = dom.variable("obs")
    theta = pl.np.parameter((1,), name="theta", init=0.0)
    prior = pl.bayesian.priors.gaussian(sigma=TAU)
    crux = pl.core([(theta - y).gaussian_nll(SIGMA)], seed=seed_for("calibration", "sampler"))

    compiled = []

    def on_event(event, duration, **kw):
        if event == COMPILE_EVENT:
            compiled.append(kw.get("fun_name", "?"))

    jax.monitoring.register_event_duration_secs_listener(on_event)
    t0 = time.perf_counter()
    try:
        hits, z, post_means, exact_means, after_first = 0, [], [], [], None
        for i in range(DATASETS):
            true = TAU * rng.normal()
            obs = (true + SIGMA * rng.normal(size=(N_OBS, 1))).astype(np.float32)
            dom.context["obs"] = obs
            theta.initialize(np.zeros(1, np.float32))
            theta.bayesian(blackjax.nuts, warmup=150, keep=300, prior=prior)  # resets the chain
            crux.solve(450, progress=False)
            draws = np.asarray(theta.posterior_samples, np.float64)
            assert draws.shape == (1, 300, 1)
            lo, hi = np.quantile(draws.reshape(-1), [0.05, 0.95])
            hits += bool(lo <= true <= hi)
            # the exact posterior of this dataset: its mean must match within Monte-Carlo error
            s2 = 1.0 / (N_OBS / SIGMA**2 + 1.0 / TAU**2)
            m = s2 * obs.astype(np.float64).sum() / SIGMA**2
            post_mean, se, _ = mean_mcse(draws)
            z.append((post_mean - m) / se)
            post_means.append(draws.mean())
            exact_means.append(m)
            if i == 0:
                after_first = len(compiled)
    finally:
        jax.monitoring.unregister_event_duration_listener(on_event)
    elapsed = time.perf_counter() - t0

    rate = hits / DATASETS
    print(f"90 % interval coverage over {DATASETS} datasets: {rate:.3f}; {elapsed:.1f} s; "
          f"compilations: {after_first} in the first solve, {len(compiled) - after_first} after")
    lo, hi = binomial_band(DATASETS, 0.89)[0], binomial_band(DATASETS, 0.90)[1]
    assert_in_band(hits, lo, hi, 0.9 * DATASETS, "90 % interval coverage: hits")
    # every dataset's posterior mean is right (so the new data were used, not the first ones)
    z = np.asarray(z)
    assert_at_most(np.max(np.abs(z)), 6.0, "per-dataset mean: max |z| over 200")
    assert_close(np.mean(z), 0.0, np.std(z) / np.sqrt(DATASETS), "per-dataset mean: mean z")  # no systematic shift
    assert np.corrcoef(post_means, exact_means)[0, 1] > 0.99
    # one compiled sampler serves every dataset
    assert len(compiled) - after_first == 0, f"recompiled after the first dataset: {compiled[after_first:]}"
    assert elapsed < 40.0, elapsed
