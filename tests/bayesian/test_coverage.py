"""Calibration: over many synthetic datasets, 90 % credible intervals cover the truth about 90 % of the time."""

import time

import blackjax
import numpy as np

import pinnlang as pl

SIGMA, TAU, N_OBS, DATASETS = 0.5, 1.0, 10, 200  # binomial sd of the rate: 0.021


def test_ninety_percent_intervals_cover_80_to_98_percent_of_true_values():
    rng = np.random.default_rng(42)
    dom = pl.domain.from_array({"obs": np.zeros((N_OBS, 1), np.float32)})
    y, _ = dom.variable("obs")
    theta = pl.np.parameter((1,), name="theta", init=0.0)
    prior = pl.bayesian.priors.gaussian(sigma=TAU)
    crux = pl.core([(theta - y).gaussian_nll(SIGMA)])
    covered, t0 = 0, time.perf_counter()
    for i in range(DATASETS):
        true = TAU * rng.normal()  # the truth is drawn from the prior: then coverage is exactly nominal
        dom.context["obs"] = (true + SIGMA * rng.normal(size=(N_OBS, 1))).astype(np.float32)
        theta.initialize(np.zeros(1, np.float32))
        theta.bayesian(blackjax.nuts, warmup=150, keep=300, prior=prior)  # a fresh chain per dataset
        crux.solve(450, progress=False)
        lo, hi = np.quantile(theta.posterior_samples.reshape(-1), [0.05, 0.95])
        covered += lo <= true <= hi
    assert len(crux._runners) == 1  # one compiled sampler serves every dataset
    rate = covered / DATASETS
    print(f"coverage of the 90 % interval over {DATASETS} datasets: {rate:.3f}")
    assert 0.80 <= rate <= 0.98, rate
    assert time.perf_counter() - t0 < 120
