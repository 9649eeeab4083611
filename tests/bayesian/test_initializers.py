"""Log-density-aware initialisers: Laplace is exact on a Gaussian, pathfinder and SVGD starts lie in the
posterior's bulk, the behaviour with ``adapt``, masks, user-written initialisers and their errors."""

import logging

import blackjax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pinnlang as pl
from pinnlang.backends.mcmc import mcmc_backend
from pinnlang.errors import ConfigurationError
from pinnlang.trace.sampling_config import make_config
from stats_helpers import assert_mixing

RHO, S1, S2 = 0.8, 0.1, 0.2
MU = np.array([1.0, -2.0])
COV = np.array([[S1 * S1, RHO * S1 * S2], [RHO * S1 * S2, S2 * S2]])
PREC = np.linalg.inv(COV)
PRIOR_SD = 1e3
CHI2_2D_99_99 = 18.42  # P(chi²_2 > 18.42) = 1e-4: a draw of the posterior lies inside with probability 0.9999


def gaussian_problem(init=None, start=(30.0, 40.0), **bayes):
    """The posterior N(MU, COV) (times a wide Gaussian prior), written as one loss term, started far away."""
    th = pl.np.parameter((2,), name="theta", init=list(start))
    d0, d1 = th[0] - MU[0], th[1] - MU[1]
    quad = 0.5 * (PREC[0, 0] * d0 * d0 + 2 * PREC[0, 1] * d0 * d1 + PREC[1, 1] * d1 * d1)
    if init is not None:
        th.initialize(init)
    kw = dict(warmup=200, keep=200, num_chains=4, prior=pl.bayesian.priors.gaussian(PRIOR_SD))
    kw.update(bayes)
    th.bayesian(bayes.pop("kernel", blackjax.nuts), **{k: v for k, v in kw.items() if k != "kernel"})
    return pl.core([quad.sum], seed=0), th


def exact_posterior():
    """The Gaussian posterior of the quadratic loss times the N(0, PRIOR_SD²) prior: (mean, covariance)."""
    post_prec = PREC + np.eye(2) / PRIOR_SD**2
    cov = np.linalg.inv(post_prec)
    return cov @ PREC @ MU, cov


def mahalanobis2(points):
    d = np.asarray(points).reshape(-1, 2) - MU
    return np.einsum("ni,ij,nj->n", d, PREC, d)


def test_laplace_is_exact_on_a_conjugate_gaussian_in_float64():
    with jax.enable_x64(True):
        crux, th = gaussian_problem(start=(3.0, 4.0))
        mean, cov = exact_posterior()
        q = crux.approximate(th, pl.bayesian.laplace(hessian="full"))
        np.testing.assert_allclose(np.asarray(q.mean), mean, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(q.covariance), cov, rtol=1e-6)
        qd = crux.approximate(th, pl.bayesian.laplace(hessian="diagonal"))
        np.testing.assert_allclose(np.asarray(qd.covariance), 1.0 / np.diag(np.linalg.inv(cov)), rtol=1e-6)
        # on its own as a posterior: i.i.d. draws of q become the draws crux.eval pushes forward
        n = 4000
        crux.approximate(th, pl.bayesian.laplace(hessian="full"), draws=n, seed=1)
        d = th.posterior_samples
        assert d.shape == (1, n, 2)
        sd = np.sqrt(np.diag(cov))
        assert np.all(np.abs(d[0].mean(0) - mean) < 4 * sd / np.sqrt(n))
        assert np.all(np.abs(d[0].std(0) / sd - 1) < 4 / np.sqrt(2 * n))
        assert abs(np.corrcoef(d[0].T)[0, 1] - RHO) < 4 * (1 - RHO**2) / np.sqrt(n)


def test_pathfinder_starts_lie_in_the_bulk_and_give_the_marginal_variances():
    crux, th = gaussian_problem(pl.bayesian.pathfinder(), num_chains=8)
    crux.solve(400)
    starts = np.asarray(th.initialization.position)
    assert starts.shape == (8, 2)
    assert len({tuple(s) for s in starts}) == 8  # K distinct starts, drawn from q
    assert np.all(mahalanobis2(starts) < CHI2_2D_99_99)
    imm = np.asarray(th.initialization.update["inverse_mass_matrix"])
    np.testing.assert_allclose(imm, np.diag(COV), rtol=0.05)
    assert th.initializer is None  # used once: a later solve continues the chains
    assert_mixing(th.posterior_samples[..., 1:], 200, "pathfinder start, 8 x 200 NUTS")  # ESS 384-477, seeds 0-4


def test_svgd_particles_match_the_targets_mean_and_covariance():
    n = 200
    sv = pl.bayesian.svgd(num_iters=1000, num_particles=n)
    ld = lambda t: -0.5 * (t - MU) @ PREC @ (t - MU)  # noqa: E731
    p = np.asarray(jax.jit(lambda k, x: sv.particles(k, ld, x, n)[0])(jax.random.PRNGKey(0), jnp.array([30.0, 40.0])))
    sd = np.sqrt(np.diag(COV))
    # SVGD particles are spread more evenly than i.i.d. draws; its known bias is a slightly low variance
    assert np.all(np.abs(p.mean(0) - MU) < 0.05 * sd)
    np.testing.assert_allclose(p.std(0), sd, rtol=0.08)
    assert abs(np.corrcoef(p.T)[0, 1] - RHO) < 0.05


def test_svgd_gives_each_chain_a_particle():
    crux, th = gaussian_problem(pl.bayesian.svgd(num_iters=300), num_chains=4)
    crux.solve(400)
    starts = np.asarray(th.initialization.position)
    assert starts.shape == (4, 2) and len({tuple(s) for s in starts}) == 4
    assert np.all(mahalanobis2(starts) < CHI2_2D_99_99)


def test_adapt_false_keeps_the_users_step_size_and_uses_the_initialisers_mass_matrix():
    crux, th = gaussian_problem(pl.bayesian.laplace(), adapt=False, warmup=0, step_size=0.05, num_chains=2)
    crux.solve(50)
    params = crux._state.tunings[0].params
    np.testing.assert_allclose(float(params["step_size"]), 0.05)
    np.testing.assert_allclose(np.asarray(params["inverse_mass_matrix"]), 1.0 / np.diag(PREC + np.eye(2) / PRIOR_SD**2),
                               rtol=1e-4)


def test_adapt_true_starts_the_window_at_the_initialisers_metric():
    cfg = make_config("theta", blackjax.nuts, warmup=100, step_size=0.3)
    b = mcmc_backend(cfg, reinit=False)
    imm = jnp.array([0.01, 0.04])
    tuning = b.init_tuning(jnp.zeros(2), {"inverse_mass_matrix": imm})
    np.testing.assert_allclose(np.asarray(tuning.params["inverse_mass_matrix"]), imm)
    np.testing.assert_allclose(np.asarray(tuning.adaptation.inverse_mass_matrix), imm)
    np.testing.assert_allclose(float(tuning.params["step_size"]), 0.3)
    # a dense metric from a user initialiser: the diagonal window takes its diagonal
    dense = b.init_tuning(jnp.zeros(2), {"inverse_mass_matrix": jnp.asarray(COV)})
    np.testing.assert_allclose(np.asarray(dense.params["inverse_mass_matrix"]), np.diag(COV), rtol=1e-6)


def test_a_kernel_without_a_mass_matrix_gets_the_starts_and_drops_the_rest(caplog):
    with caplog.at_level(logging.DEBUG, logger="pinnlang"):
        crux, th = gaussian_problem(pl.bayesian.laplace(), kernel=blackjax.mala, warmup=0, step_size=0.02,
                                    num_chains=2)
        crux.solve(20)
    assert "does not take inverse_mass_matrix" in caplog.text
    assert np.all(mahalanobis2(th.posterior_samples[:, 0]) < CHI2_2D_99_99)


class FixedStarts:
    """A user-written initialiser: given starts and mass matrix, ignoring the log-density."""

    requires_logdensity = True

    def __init__(self, starts, imm):
        self.starts, self.imm = starts, imm

    def __call__(self, rng_key, logdensity_fn, position, num_chains):
        assert jnp.shape(logdensity_fn(position)) == ()
        return jnp.asarray(self.starts[:num_chains]), {"inverse_mass_matrix": jnp.asarray(self.imm),
                                                       "not_a_kernel_argument": 1.0}


def test_a_user_initialiser_following_the_protocol():
    starts = np.array([[1.0, -2.0], [1.1, -2.1]], np.float32)
    crux, th = gaussian_problem(FixedStarts(starts, [0.02, 0.05]), adapt=False, warmup=0, step_size=0.01,
                                num_chains=2)
    crux.solve(5)
    np.testing.assert_allclose(np.asarray(th.initialization.position), starts)
    assert set(th.initialization.update) == {"inverse_mass_matrix"}
    np.testing.assert_allclose(np.asarray(crux._state.tunings[0].params["inverse_mass_matrix"]), [0.02, 0.05])
    # the first draws are one small-step transition away from the given starts
    assert np.all(np.abs(th.posterior_samples[:, 0] - starts) < 0.5)


def test_protocol_errors_name_the_protocol():
    class NoArgs:
        requires_logdensity = True

        def __call__(self):
            return None

    th = pl.np.parameter((2,), name="theta")
    with pytest.raises(ConfigurationError, match="rng_key, logdensity_fn, position, num_chains"):
        th.initialize(NoArgs())

    class WrongShape(FixedStarts):
        def __call__(self, rng_key, logdensity_fn, position, num_chains):
            return jnp.zeros(3), {}

    crux, th = gaussian_problem(WrongShape(None, None), num_chains=2)
    with pytest.raises(ConfigurationError, match=r"shape \(3,\).*expected \(2, 2\)"):
        crux.solve(400)

    class NotAPair(FixedStarts):
        def __call__(self, rng_key, logdensity_fn, position, num_chains):
            return position

    crux, th = gaussian_problem(NotAPair(None, None), num_chains=1)
    with pytest.raises(ConfigurationError, match="not a \\(position, kernel_kwargs_update\\) pair"):
        crux.solve(400)


def test_an_initialiser_needs_an_mcmc_group():
    th = pl.np.parameter((2,), name="theta", init=[0.0, 0.0])
    th.initialize(pl.bayesian.pathfinder())
    crux = pl.core([(th * th).sum])
    with pytest.raises(ConfigurationError, match="not sampled"):
        crux.solve(10)
    th.vi(blackjax.meanfield_vi, optimizer=optax.adam(1e-2))
    with pytest.raises(ConfigurationError, match="VI fits its own approximation"):
        crux.solve(10)


def test_a_masked_group_is_warmed_up_on_its_own_leaves():
    xs = np.linspace(-1, 1, 16)[:, None]
    dom = pl.domain.from_array({"d": xs})
    x, _ = dom.variable("d")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    head = eqx.tree_at(lambda m: m.output_layer, jax.tree_util.tree_map(lambda _: False, net.module),
                       replace=jax.tree_util.tree_map(lambda _: True, net.module.output_layer))
    seen = {}

    class Record(pl.bayesian.Initializer):
        def approximate(self, rng_key, logdensity_fn, position):
            seen["leaves"] = len(jax.tree_util.tree_leaves(position))
            return pl.bayesian.laplace().approximate(rng_key, logdensity_fn, position)

    net.initialize(Record())
    net.mask(head).bayesian(blackjax.nuts, warmup=50, keep=20, num_chains=2, prior=pl.bayesian.priors.gaussian(1.0))
    body_before = [np.asarray(l) for l in jax.tree_util.tree_leaves(eqx.filter(net.module.layers, eqx.is_array))]
    crux = pl.core([(net(x) - np.sin(np.pi * xs)).gaussian_nll(0.1)])
    crux.solve(70)
    assert seen["leaves"] == 2  # the head's weight and bias only
    body_after = [np.asarray(l) for l in jax.tree_util.tree_leaves(eqx.filter(net.module.layers, eqx.is_array))]
    assert all(np.array_equal(a, b) for a, b in zip(body_before, body_after))
    w = np.asarray(net.posterior_samples.output_layer.weight)
    assert w.shape[:2] == (2, 20) and np.std(w) > 0
