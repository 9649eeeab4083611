"""Sampled hyperparameters inside model expressions, against posteriors computed by quadrature.

* ``f = amp · g(x / ell)`` with ``g`` a fixed network: amplitude and lengthscale positive
  (``constraint="positive"``) with half-normal priors, sampled by NUTS as one block; the reference is
  the posterior on a 2-D grid, with ``g`` evaluated by Equinox directly.
* The hierarchical linear model of an approximate GP (the RFF model of the regression notebook),
  ``f = Φ w``, ``w ~ N(0, amp² I)``, ``amp ~ HalfNormal(1)``, in its two forms: *centred* (``w``
  sampled with a flat prior and the hierarchical prior written as the term ``w.gaussian_nll(amp)``) and
  *non-centred* (``f = amp · head(Φ)``, the head's weights ``z ~ N(0, 1)``). The reference integrates
  ``w`` out in closed form, ``y | amp ~ N(0, amp² ΦΦᵀ + σ² I)``, and ``amp`` by quadrature.
  Each form is run where NUTS handles it: centred with informative data (``σ = 0.05``: ``w`` is pinned,
  so there is no funnel), non-centred with weak data (``σ = 1``: ``z`` is nearly its prior). In the
  opposite regimes the ESS of ``amp`` drops by a factor of about 2 (centred, the funnel) and 10
  (non-centred, the ridge ``amp · z = w``); docs/guide/bayesian.md explains the choice.

Tolerances are Monte Carlo ones (tests/stats_helpers.py): means and variances within 4 MCSE.
"""

import blackjax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinnlang as pl
from stats_helpers import assert_at_least, assert_posterior, seed_for

pytestmark = pytest.mark.statistical

priors = pl.bayesian.priors
NUTS = dict(warmup=200, keep=500, num_chains=2, init_jitter=0.1)


def grid_moments(logpost, axes):
    """Means and variances of each axis of a posterior tabulated on a product grid ``logpost[i, j, ...]``."""
    w = np.exp(logpost - logpost.max())
    w /= w.sum()
    out = []
    for k, grid in enumerate(axes):
        marginal = w.sum(axis=tuple(j for j in range(len(axes)) if j != k))
        m = float(np.sum(marginal * grid))
        out.append((m, float(np.sum(marginal * (grid - m) ** 2))))
    return out


# -- amplitude and lengthscale of a fixed network ----------------------------------------------------

AMP, ELL, SIG_NET, SCALE = 1.5, 0.7, 0.1, 1.5


def test_amplitude_and_lengthscale_of_a_network_against_a_2d_grid():
    g = pl.nn.mlp(1, hidden_dims=8, num_layers=1, key=jax.random.PRNGKey(3))  # a fixed tanh network
    dom = pl.domain.line(x_range=(0.0, 3.0), mesh_size=0.125)
    x, _ = dom.variable("interior")
    xs = np.asarray(dom.context["interior"], np.float64)

    def g_at(z):  # (m,) -> (m,), Equinox directly (not through pinnlang's graph)
        return np.asarray(jax.vmap(g)(jnp.asarray(z, jnp.float32)[:, None])[:, 0], np.float64)

    rng = np.random.default_rng(seed_for("hierarchical", "network", "data"))
    y = AMP * g_at(xs[:, 0] / ELL) + SIG_NET * rng.normal(size=len(xs))

    net = pl.nn.wrap(g, name="g").freeze()
    amp = pl.np.parameter((1,), name="amp", init=1.0, constraint="positive")
    ell = pl.np.parameter((1,), name="ell", init=1.0, constraint="positive")
    for p in (amp, ell):  # equal settings: one NUTS block over (amp, ell)
        p.bayesian(blackjax.nuts, prior=priors.half_normal(SCALE), **NUTS)
    f = amp * net(x / ell)
    crux = pl.core([(f - pl.np.array(y[:, None].astype(np.float32))).gaussian_nll(SIG_NET)],
                   seed=seed_for("hierarchical", "network", "sampler"))
    crux.solve(700, progress=False)

    def logpost(amps, ells):  # amp enters linearly: the likelihood needs Σ y g, Σ g² per lengthscale
        G = g_at((xs[None, :, 0] / ells[:, None]).ravel()).reshape(len(ells), -1)
        syg, sgg = G @ y, np.sum(G**2, axis=1)
        ll = -(np.sum(y**2) - 2 * amps[None, :] * syg[:, None] + amps[None, :] ** 2 * sgg[:, None]) / (2 * SIG_NET**2)
        return ll - amps[None, :] ** 2 / (2 * SCALE**2) - ells[:, None] ** 2 / (2 * SCALE**2)

    # a coarse grid over the prior's range finds the posterior, a fine one over ±10 sd integrates it
    ells, amps = np.linspace(1e-3, 6.0, 600), np.linspace(1e-3, 6.0, 600)
    (ml, vl), (ma, va) = grid_moments(logpost(amps, ells), (ells, amps))
    ells = np.linspace(max(ml - 10 * vl**0.5, 1e-4), ml + 10 * vl**0.5, 801)
    amps = np.linspace(max(ma - 10 * va**0.5, 1e-4), ma + 10 * va**0.5, 801)
    (ml, vl), (ma, va) = grid_moments(logpost(amps, ells), (ells, amps))

    A, L = np.asarray(amp.posterior_samples, np.float64), np.asarray(ell.posterior_samples, np.float64)
    assert A.shape == L.shape == (2, 500, 1) and (A > 0).all() and (L > 0).all()
    assert_at_least(assert_posterior(A, ma, va, "amp of amp*g(x/ell)"), 100, "amp*g(x/ell): ESS of amp")
    assert_at_least(assert_posterior(L, ml, vl, "ell of amp*g(x/ell)"), 100, "amp*g(x/ell): ESS of ell")
    # the pushforward is the network at each draw's own (amp, ell)
    want = A[..., None, :] * g_at((xs[None, :, 0] / L.reshape(-1, 1)).ravel()).reshape(2, 500, -1, 1)
    np.testing.assert_allclose(crux.eval(f), want, rtol=1e-4, atol=1e-5)


# -- the hierarchical linear model, centred and non-centred -------------------------------------------

W_TRUE = np.array([0.6, -0.4, 0.5])
X_STAR = 5  # the interior point where the posterior of f is checked


def linear_problem(sigma, label):
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.2)
    x, _ = dom.variable("interior")
    xs = np.asarray(dom.context["interior"], np.float64)[:, 0]
    Phi = np.stack([np.sin(np.pi * xs), np.cos(np.pi * xs), xs], axis=1)
    y = Phi @ W_TRUE + sigma * np.random.default_rng(seed_for("hierarchical", label, "data")).normal(size=len(xs))
    features = pl.np.concatenate([pl.np.sin(np.pi * x), pl.np.cos(np.pi * x), x])  # (n, 3)
    return Phi, y, features, pl.np.array(y[:, None].astype(np.float32))


def linear_reference(Phi, y, sigma, phi_star):
    """Posterior ``(mean, var)`` of ``amp`` and of ``f* = φ*ᵀ w``: ``w`` integrated out, ``amp`` on a grid.

    With ``ΦΦᵀ = U Λ Uᵀ`` and ``d = amp² λ + σ²``: ``log p(y | amp) = -½ Σ log d - ½ Σ (Uᵀy)² / d``;
    given ``amp``, ``f*`` is Gaussian with mean ``amp² Σ v u / d`` and variance
    ``amp² |φ*|² - amp⁴ Σ v² / d`` (``u = Uᵀ y``, ``v = Uᵀ Φ φ*``).
    """
    lam, U = np.linalg.eigh(Phi @ Phi.T)
    u, v = U.T @ y, U.T @ (Phi @ phi_star)
    amps = np.linspace(1e-4, 8.0, 40001)  # HalfNormal(1) leaves < 1e-13 of its mass beyond 8
    d = amps[:, None] ** 2 * lam[None, :] + sigma**2
    logpost = -0.5 * np.log(d).sum(1) - 0.5 * (u**2 / d).sum(1) - amps**2 / 2.0
    w = np.exp(logpost - logpost.max())
    w /= w.sum()
    cond_mean = amps**2 * (v * u / d).sum(1)
    cond_var = amps**2 * (phi_star @ phi_star) - amps**4 * (v**2 / d).sum(1)
    ma = float(np.sum(w * amps))
    mf = float(np.sum(w * cond_mean))
    return (ma, float(np.sum(w * (amps - ma) ** 2))), (mf, float(np.sum(w * (cond_var + cond_mean**2)) - mf**2))


def check_against_reference(crux, amp, f, Phi, y, sigma, check):
    (ma, va), (mf, vf) = linear_reference(Phi, y, sigma, Phi[X_STAR])
    A = np.asarray(amp.posterior_samples, np.float64)
    assert (A > 0).all()
    assert_at_least(assert_posterior(A, ma, va, f"{check}: amp"), 100, f"{check}: ESS of amp")
    f_star = np.asarray(crux.eval(f), np.float64)[:, :, X_STAR, :]  # (K, N, 1)
    assert_posterior(f_star, mf, vf, f"{check}: f(x*)")


def test_centred_hierarchical_prior_as_a_term():
    sigma = 0.05
    Phi, y, features, data = linear_problem(sigma, "centred")
    amp = pl.np.parameter((1,), name="amp", init=1.0, constraint="positive")
    w = pl.np.parameter((3,), name="w", init=0.0)
    amp.bayesian(blackjax.nuts, prior=priors.half_normal(1.0), **NUTS)
    w.bayesian(blackjax.nuts, prior=lambda v: 0.0, **NUTS)  # flat: w's prior N(0, amp²) is the second term
    f = pl.np.dot(features, w)
    crux = pl.core([(f - data).gaussian_nll(sigma), w.gaussian_nll(amp)],
                   seed=seed_for("hierarchical", "centred", "sampler"))
    crux.solve(700, progress=False)
    check_against_reference(crux, amp, f, Phi, y, sigma, "centred")


def test_non_centred_amplitude_times_a_sampled_network():
    sigma = 1.0
    Phi, y, features, data = linear_problem(sigma, "non-centred")
    head = pl.nn.wrap(eqx.nn.Linear(3, 1, use_bias=False, key=jax.random.PRNGKey(0)), name="head")
    amp = pl.np.parameter((1,), name="amp", init=1.0, constraint="positive")
    head.bayesian(blackjax.nuts, prior=priors.gaussian(1.0), **NUTS)  # z ~ N(0, 1)
    amp.bayesian(blackjax.nuts, prior=priors.half_normal(1.0), **NUTS)
    f = amp * head(features)  # w = amp · z ~ N(0, amp² I)
    crux = pl.core([(f - data).gaussian_nll(sigma)], seed=seed_for("hierarchical", "non-centred", "sampler"))
    crux.solve(700, progress=False)
    check_against_reference(crux, amp, f, Phi, y, sigma, "non-centred")
    draws = crux.predictive(f, seed=seed_for("hierarchical", "non-centred", "predictive"))
    assert draws.y.shape == (2, 500, len(y), 1)  # sigma taken from the likelihood term that observes f
