"""``crux.predictive``: draws of ``y = f + σ ε`` have the likelihood's noise, per draw, reproducibly.

The statistics are of the noise ``y - f`` only, which is exactly ``N(0, σ²)`` per entry: the sample
mean of ``M`` standardised residuals is within 4 standard errors ``1/sqrt(M)`` of 0, their sample
variance within the exact ``χ²_{M-1}`` band at ``P_CHECK`` (tests/stats_helpers.py), and the mean of
products of residuals of *different* draws (or entries) within 4/sqrt(M) of 0 (1 if the noise were
reused). Each check fails a correct implementation with probability below 1e-4, for any seed.
"""

import blackjax
import jax
import numpy as np
import optax
import pytest
from scipy import stats

import pinnlang as pl
from stats_helpers import P_CHECK, assert_close, assert_in_band, seed_for

pytestmark = pytest.mark.statistical

SIGMA = 0.3


def assert_standard_normal(z, check: str):
    """The entries of ``z`` look like i.i.d. N(0, 1): mean, variance (exact chi-square band), independence."""
    z = np.asarray(z, np.float64)
    flat = z.ravel()
    m = flat.size
    assert_close(flat.mean(), 0.0, 1.0 / np.sqrt(m), f"{check}: mean")
    lo, hi = stats.chi2.ppf(P_CHECK / 2, m - 1) / (m - 1), stats.chi2.isf(P_CHECK / 2, m - 1) / (m - 1)
    assert_in_band(flat.var(ddof=1), lo, hi, 1.0, f"{check}: variance")
    draws = z.reshape(-1, *z.shape[2:]).reshape(z.shape[0] * z.shape[1], -1)
    across = (draws[1:] * draws[:-1]).ravel()  # the same entry in successive draws: fresh noise per draw
    assert_close(across.mean(), 0.0, 1.0 / np.sqrt(across.size), f"{check}: independent across draws")
    if draws.shape[1] > 1:
        within = (draws[:, 1:] * draws[:, :-1]).ravel()  # neighbouring entries of one draw
        assert_close(within.mean(), 0.0, 1.0 / np.sqrt(within.size), f"{check}: independent across entries")


def _problem(seed_label):
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    rng = np.random.default_rng(seed_for("predictive", seed_label, "data"))
    xs = dom.context["interior"]
    y = (2.0 * np.sin(np.pi * xs) + SIGMA * rng.normal(size=xs.shape)).astype(np.float32)
    return dom, x, pl.np.array(y, name="y")


@pytest.fixture(scope="module")
def sampled():
    """``a`` and ``s`` sampled by NUTS in one solve: ``u = a sin(πx)``, ``data ~ N(u, s²)``."""
    dom, x, data = _problem("sampled")
    a = pl.np.parameter((1,), name="a", init=1.5)
    s = pl.np.parameter((1,), name="s", init=0.5, constraint="positive")
    a.bayesian(blackjax.nuts, warmup=100, keep=150, num_chains=2, init_jitter=0.1)
    s.bayesian(blackjax.nuts, warmup=100, keep=150, num_chains=2, init_jitter=0.1,
               prior=pl.bayesian.priors.half_normal(1.0))
    u = a * pl.np.sin(np.pi * x)
    crux = pl.core([(u - data).gaussian_nll(s)], seed=seed_for("predictive", "sampled", "solve"))
    crux.solve(250, progress=False)
    return dom, x, a, s, u, crux


def test_fixed_sigma_noise_has_the_likelihood_variance(sampled):
    dom, x, a, s, u, crux = sampled
    out = crux.predictive(u, noise=SIGMA, seed=seed_for("predictive", "fixed"))
    n = dom.num_points("interior")
    assert out.f.shape == out.y.shape == (2, 150, n, 1) and out.sigma.shape == (1, 1, 1, 1)
    np.testing.assert_allclose(out.f, crux.eval(u), rtol=1e-6)  # f is the pushforward of eval
    assert_standard_normal((out.y - out.f) / SIGMA, "fixed sigma")


def test_sampled_sigma_is_each_draws_own(sampled):
    dom, x, a, s, u, crux = sampled
    out = crux.predictive(u, s, seed=seed_for("predictive", "sampled-sigma"))
    assert out.sigma.shape == (2, 150, 1, 1)
    np.testing.assert_array_equal(np.asarray(out.sigma)[:, :, 0, 0], s.posterior_samples[..., 0])
    np.testing.assert_allclose(out.f, crux.eval(u), rtol=1e-6)
    assert_standard_normal((out.y - out.f) / out.sigma, "sampled sigma")


def test_sigma_taken_from_the_gaussian_likelihood(sampled):
    dom, x, a, s, u, crux = sampled
    auto = crux.predictive(u, seed=3)
    explicit = crux.predictive(u, noise=s, seed=3)
    np.testing.assert_array_equal(auto.y, explicit.y)
    whole = crux.predictive(seed=3)  # the prediction of the only data term
    np.testing.assert_array_equal(whole.y, explicit.y)


def test_wide_per_draw_sigma_scales_each_draw():
    """User-given draws of σ spread over two decades: a noise of any common scale would fail the test."""
    dom, x, data = _problem("wide")
    s = pl.np.parameter((1,), name="s", init=1.0, constraint="positive")
    a = pl.np.parameter((1,), name="a", init=2.0)
    u = a * pl.np.sin(np.pi * x)
    crux = pl.core([(u - data).gaussian_nll(s)])
    sig = np.exp(np.random.default_rng(seed_for("predictive", "wide")).uniform(np.log(0.1), np.log(10.0),
                                                                              (3, 200, 1)))
    s.posterior_samples = sig.astype(np.float32)
    out = crux.predictive(u, seed=seed_for("predictive", "wide", "noise"))  # f has no draws, sigma has
    n = dom.num_points("interior")
    assert out.f.shape == out.y.shape == (3, 200, n, 1)
    np.testing.assert_allclose(out.f[1, 7], crux.eval(u), rtol=1e-6)
    np.testing.assert_allclose(out.sigma[..., 0, 0], sig[..., 0], rtol=1e-5)
    assert_standard_normal((out.y - out.f) / out.sigma, "wide sigma")


def test_optimised_sigma_uses_its_trained_value_and_point_predictions_need_num_samples():
    dom, x, data = _problem("optimised")
    a = pl.np.parameter((1,), name="a", init=1.0)
    s = pl.np.parameter((1,), name="s", init=1.0, constraint="positive")
    for p in (a, s):
        p.optimizer(optax.adam(5e-2))
    u = a * pl.np.sin(np.pi * x)
    crux = pl.core([(u - data).gaussian_nll(s)])
    crux.solve(300, progress=False)
    with pytest.raises(pl.errors.ConfigurationError, match="num_samples"):
        crux.predictive(u)
    out = crux.predictive(u, num_samples=400, seed=seed_for("predictive", "optimised"))
    n = dom.num_points("interior")
    assert out.y.shape == (1, 400, n, 1)
    np.testing.assert_allclose(out.f[0, 123], crux.eval(u), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(out.sigma).ravel(), s.value, rtol=1e-6)
    assert_standard_normal((out.y - out.f) / float(s.value[0]), "optimised sigma")


def test_per_point_sigma_and_expression_sigma(sampled):
    dom, x, a, s, u, crux = sampled
    n = dom.num_points("interior")
    per_point = np.linspace(0.1, 2.0, n, dtype=np.float32)[:, None]
    out = crux.predictive(u, noise=pl.np.array(per_point), seed=seed_for("predictive", "per-point"))
    assert out.sigma.shape == (1, 1, n, 1)
    assert_standard_normal((out.y - out.f) / per_point, "per-point sigma")
    twice = crux.predictive(u, noise=2.0 * s, seed=5)
    once = crux.predictive(u, noise=s, seed=5)
    np.testing.assert_allclose(twice.y - twice.f, 2.0 * (once.y - once.f), rtol=1e-5, atol=1e-6)


def test_other_domain(sampled):
    dom, x, a, s, u, crux = sampled
    fine = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.02)
    out = crux.predictive(u, domain=fine, seed=1)
    assert out.y.shape == (2, 150, fine.num_points("interior"), 1)
    np.testing.assert_allclose(out.f, crux.eval(u, domain=fine), rtol=1e-6)


def test_reproducible_per_key_and_fresh_per_call(sampled):
    dom, x, a, s, u, crux = sampled
    y1 = crux.predictive(u, seed=11).y
    np.testing.assert_array_equal(y1, crux.predictive(u, seed=11).y)
    np.testing.assert_array_equal(y1, crux.predictive(u, key=jax.random.PRNGKey(11)).y)
    np.testing.assert_array_equal(y1, crux.predictive(u, key=jax.random.key(11)).y)
    assert not np.allclose(y1, crux.predictive(u, seed=12).y)
    # without a key each call draws new noise, in a sequence fixed by the core's seed
    assert not np.allclose(crux.predictive(u).y, crux.predictive(u).y)


def test_default_keys_follow_the_core_seed():
    dom, x, data = _problem("keys")
    a = pl.np.parameter((1,), name="a", init=2.0)
    u = a * pl.np.sin(np.pi * x)

    def draws(seed):
        crux = pl.core([(u - data).gaussian_nll(SIGMA)], seed=seed)
        return [np.asarray(crux.predictive(u, num_samples=3).y) for _ in range(2)]

    one, two = draws(4), draws(4)
    for p, q in zip(one, two):
        np.testing.assert_array_equal(p, q)  # same seed, same sequence
    assert not np.allclose(one[0], one[1])  # successive calls differ
    assert not np.allclose(one[0], draws(5)[0])  # another seed, other noise


def test_errors(sampled):
    dom, x, a, s, u, crux = sampled
    err = pl.errors.ConfigurationError
    with pytest.raises(err, match="not both"):
        crux.predictive(u, key=jax.random.PRNGKey(0), seed=0)
    with pytest.raises(err, match="jax.random key"):
        crux.predictive(u, key=3)
    with pytest.raises(err, match="seed"):
        crux.predictive(u, seed=-1)
    for bad in (-1.0, 0.0, float("nan"), True, "0.1"):
        with pytest.raises(err, match="noise"):
            crux.predictive(u, noise=bad)
    with pytest.raises(err, match="one expression"):
        crux.predictive([u, u])
    with pytest.raises(err, match="num_samples"):
        crux.predictive(u, num_samples=10)
    with pytest.raises(err, match="observes this expression"):
        crux.predictive(2.0 * u)  # not the prediction of the likelihood term: say the noise
    n = dom.num_points("interior")
    with pytest.raises(pl.errors.ShapeError, match="does not fit the prediction"):
        crux.predictive(u, noise=pl.np.array(np.ones((n, 2), np.float32)))
    negative = pl.np.parameter((1,), name="neg", init=-0.5)  # unconstrained: its value is no standard deviation
    with pytest.raises(err, match="not a positive finite number at 1 of 1"):
        crux.predictive(u, noise=negative)


def test_which_likelihood_term():
    dom, x, data = _problem("terms")
    a = pl.np.parameter((1,), name="a", init=2.0)
    b = pl.np.parameter((1,), name="b", init=1.0)
    u, v = a * pl.np.sin(np.pi * x), b * pl.np.cos(np.pi * x)
    err = pl.errors.ConfigurationError
    with pytest.raises(err, match="no gaussian_nll term"):
        pl.core([(u - data).mse]).predictive(u, num_samples=2)
    two = pl.core([(u - data).gaussian_nll(0.2), (v - data).gaussian_nll(0.5)], names=["du", "dv"])
    with pytest.raises(err, match=r"exactly one.*2 \('du', 'dv'\)"):
        two.predictive(num_samples=2)
    np.testing.assert_allclose(np.asarray(two.predictive(v, num_samples=2).sigma).ravel(), 0.5)
    same = pl.core([(u - data).gaussian_nll(0.2), (u - 2.0 * data).gaussian_nll(0.4)])
    with pytest.raises(err, match="different noise scales"):
        same.predictive(u, num_samples=2)
    # a centred prior written as a term (no data side) is never a likelihood to draw from
    w = pl.np.parameter((3,), name="w")
    amp = pl.np.parameter((1,), name="amp", init=1.0, constraint="positive")
    prior_term = pl.core([(u - data).gaussian_nll(0.2), w.gaussian_nll(amp)])
    np.testing.assert_allclose(np.asarray(prior_term.predictive(num_samples=2).sigma).ravel(), 0.2)


def test_point_free_data_term_draws_one_observation_per_datum():
    """``theta - y`` with a ``(1,)`` prediction: ``predictive()`` draws the data's shape ``(n, 1)``."""
    y = np.random.default_rng(seed_for("predictive", "scalar")).normal(1.0, SIGMA, (40, 1)).astype(np.float32)
    theta = pl.np.parameter((1,), name="theta", init=1.0)
    crux = pl.core([(theta - pl.np.array(y)).gaussian_nll(SIGMA)])
    out = crux.predictive(num_samples=50, seed=seed_for("predictive", "scalar", "noise"))
    assert out.y.shape == out.f.shape == (1, 50, 40, 1)
    assert crux.predictive(theta, num_samples=5).y.shape == (1, 5, 1)
    assert_standard_normal((out.y - out.f) / SIGMA, "scalar prediction")
