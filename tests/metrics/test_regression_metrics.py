"""Regression metrics against independent references: scipy densities and quantiles, quadrature of the
CRPS integral, the Gaussian CRPS closed form, and brute-force pair sums."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

import pinnlang as pl


def test_relative_l2():
    exact = np.array([3.0, 4.0])  # norm 5
    assert pl.metrics.relative_l2(exact + np.array([0.3, -0.4]), exact) == pytest.approx(0.1, rel=1e-12)
    assert pl.metrics.relative_l2(exact[:, None], exact) == 0.0  # shapes may differ, sizes not
    with pytest.raises(pl.errors.ShapeError):
        pl.metrics.relative_l2(np.zeros(3), exact)


def test_credible_interval_coverage_and_width_against_scipy():
    rng = np.random.default_rng(0)
    S, n = 20000, 200
    draws = rng.normal(1.0, 2.0, size=(S, n))
    lo, hi = pl.metrics.credible_interval(draws, 0.9)
    want_lo, want_hi = stats.norm.ppf([0.05, 0.95], loc=1.0, scale=2.0)
    # quantile of 20000 draws: standard error sqrt(p(1-p)/S)/pdf(q) ≈ 0.03 here; 5 of them
    assert np.abs(lo - want_lo).max() < 0.15 and np.abs(hi - want_hi).max() < 0.15
    assert pl.metrics.interval_width(lo, hi) == pytest.approx(want_hi - want_lo, abs=0.05)
    truth = rng.normal(1.0, 2.0, size=(50, n))  # fresh draws from the same distribution
    cov = np.mean([pl.metrics.coverage(t, lo, hi) for t in truth])
    assert abs(cov - 0.9) < 4 * math.sqrt(0.9 * 0.1 / truth.size)  # binomial standard error
    chains = draws.reshape(4, S // 4, n)
    np.testing.assert_allclose(pl.metrics.credible_interval(chains, 0.9, sample_axes=2)[0], lo)
    assert pl.metrics.coverage(np.array([0.0, 2.0]), np.array([-1.0, -1.0]), np.array([1.0, 1.0])) == 0.5


def test_gaussian_nll_against_scipy():
    rng = np.random.default_rng(1)
    y, mu, sd = rng.normal(size=100), rng.normal(size=100), rng.uniform(0.5, 2.0, size=100)
    assert pl.metrics.gaussian_nll(y, mu, sd) == pytest.approx(-np.mean(stats.norm.logpdf(y, mu, sd)), rel=1e-12)
    with pytest.raises(pl.errors.ConfigurationError):
        pl.metrics.gaussian_nll(y, mu, 0.0)


def test_crps_gaussian_closed_form_against_quadrature():
    """CRPS(F, y) = ∫ (F(x) - 1{x >= y})² dx for F = N(0.3, 1.5²), by scipy.integrate.quad."""
    mu, sd = 0.3, 1.5
    for y in (-2.0, 0.3, 1.7):
        left = integrate.quad(lambda x: stats.norm.cdf(x, mu, sd) ** 2, -np.inf, y)[0]
        right = integrate.quad(lambda x: (1 - stats.norm.cdf(x, mu, sd)) ** 2, y, np.inf)[0]
        assert pl.metrics.crps_gaussian(y, mu, sd) == pytest.approx(left + right, rel=1e-8)


def test_crps_of_draws_against_pairs_and_the_gaussian_formula():
    rng = np.random.default_rng(2)
    small = rng.normal(size=(37, 3))
    y = np.array([0.1, -1.0, 2.0])
    brute = np.mean(np.abs(small - y), 0) - 0.5 * np.mean(np.abs(small[:, None] - small[None]), axis=(0, 1))
    np.testing.assert_allclose(pl.metrics.crps(small, y), brute, rtol=1e-12)
    draws = rng.normal(0.5, 1.2, size=(40000, 3))
    want = pl.metrics.crps_gaussian(y, 0.5, 1.2)
    # the V-statistic is biased low by E|X-X'|/(2S) ≈ 2e-5 here; Monte Carlo error ≈ 5e-3
    np.testing.assert_allclose(pl.metrics.crps(draws, y), want, atol=0.02)
    assert pl.metrics.crps(np.full((5, 1), 2.0), [3.5])[0] == pytest.approx(1.5)  # a point forecast: |error|


def test_r2_score_against_its_definition_and_least_squares():
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, 200)
    y = np.sin(3 * x) + 0.1 * rng.normal(size=200)
    assert pl.metrics.r2_score(y, y) == 1.0
    assert pl.metrics.r2_score(np.full(200, y.mean()), y) == pytest.approx(0.0, abs=1e-12)
    # a least-squares line with intercept: R² is the squared correlation
    slope, intercept = np.polyfit(x, y, 1)
    assert pl.metrics.r2_score(slope * x + intercept, y) == pytest.approx(np.corrcoef(x, y)[0, 1] ** 2, rel=1e-10)
    assert pl.metrics.r2_score(-y, y[:, None]) < 0  # worse than the mean; shapes may differ
    with pytest.raises(pl.errors.ShapeError):
        pl.metrics.r2_score(np.zeros(3), y)
    with pytest.raises(pl.errors.ConfigurationError):
        pl.metrics.r2_score(y, np.ones(200))
