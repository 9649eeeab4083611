"""Substeps: stages of an epoch, each a loss over some terms updating some groups, in one compiled program."""

import blackjax
import jax
import numpy as np
import optax
import pytest

import pinnlang as pl
from pinnlang.errors import ConfigurationError
from stats_helpers import assert_posterior, seed_for


def two_parameters():
    """t0 = (a - 1)² depends on a; t1 = (a - 2)² + (b - a)² on both. Jointly: a = b = 1.5."""
    a = pl.np.parameter((1,), name="a", init=0.0)
    b = pl.np.parameter((1,), name="b", init=0.0)
    for h in (a, b):
        h.optimizer(optax.adam(optax.exponential_decay(0.05, 1500, 0.05)))
    t0 = ((a - 1.0) * (a - 1.0)).sum
    t1 = ((a - 2.0) * (a - 2.0) + (b - a) * (b - a)).sum
    return a, b, pl.core([t0, t1], names=["fit_a", "couple"])


def test_each_stage_updates_only_its_groups_on_its_terms():
    a, b, crux = two_parameters()
    crux.solve(3000, substeps=[(["fit_a"], 1), (["couple"], 1, [b])])
    # a sees only t0 (a -> 1); b sees t1 with a held (b -> a = 1); jointly both would be 1.5
    np.testing.assert_allclose(np.asarray(a.value), [1.0], atol=1e-3)
    np.testing.assert_allclose(np.asarray(b.value), [1.0], atol=1e-3)
    terms = crux.history.terms[-1]
    np.testing.assert_allclose(terms, [0.0, 1.0], atol=5e-3)  # each term from the stage that computes it
    a2, b2, joint = two_parameters()
    joint.solve(3000)
    np.testing.assert_allclose(np.asarray(a2.value), [1.5], atol=1e-3)


def test_a_stage_may_take_several_steps_and_by_default_updates_what_its_terms_depend_on():
    a, b, crux = two_parameters()
    crux.solve(200, substeps=[([0], 1), ([1], 5)])
    assert crux.epoch == 200 and len(crux.history.terms) == 200
    # stage 1 updates a too (its terms depend on it): a settles between the stages' pulls, not at 1
    assert float(np.asarray(a.value)[0]) > 1.05


SIGMA, TAU = 0.2, 2.0


@pytest.mark.statistical
def test_a_sampled_coefficient_given_a_surrogate_trained_in_the_other_stage():
    """Stage 0: u is trained on its own term (u -> 0.5); stage 1: NUTS on κ with the data y ~ N(κ u, σ²), u held.

    κ's draws must follow the conjugate posterior given u = 0.5 (prior N(0, τ²)).
    """
    rng = np.random.default_rng(seed_for("substeps", "data"))
    y = (0.5 * 3.0 + SIGMA * rng.normal(size=(30, 1))).astype(np.float32)
    u = pl.np.parameter((1,), name="u", init=2.0)
    u.optimizer(optax.adam(optax.exponential_decay(0.05, 600, 0.01)))
    kappa = pl.np.parameter((1,), name="kappa", init=0.0)
    kappa.bayesian(blackjax.nuts, warmup=300, keep=1000, num_chains=2, init_jitter=0.5,
                   prior=pl.bayesian.priors.gaussian(TAU))
    pde = ((u - 0.5) * (u - 0.5)).sum
    data = (kappa * u - pl.np.array(y)).gaussian_nll(SIGMA)
    crux = pl.core([pde, data], names=["pde", "data"], seed=seed_for("substeps", "sampler"))
    crux.solve(1300, substeps=[(["pde"], 1), (["data"], 1, [kappa])], progress=False)
    u_star = float(np.asarray(u.value)[0])
    assert abs(u_star - 0.5) < 1e-4
    prec = len(y) * u_star**2 / SIGMA**2 + 1 / TAU**2
    mean = (u_star * y.sum() / SIGMA**2) / prec
    assert_posterior(np.asarray(kappa.posterior_samples, np.float64)[..., 0], mean, 1 / prec, "substeps-kappa")


def test_substeps_errors_name_the_fix():
    a, b, crux = two_parameters()
    with pytest.raises(ConfigurationError, match="no loss term named 'nope'"):
        crux.solve(10, substeps=[(["nope"], 1)])
    with pytest.raises(ConfigurationError, match=r"\['couple'\] are in no substep"):
        crux.solve(10, substeps=[(["fit_a"], 1)])
    with pytest.raises(ConfigurationError, match="do not depend on it"):
        crux.solve(10, substeps=[(["fit_a"], 1, [b]), (["couple"], 1)])
    with pytest.raises(ConfigurationError, match="steps"):
        crux.solve(10, substeps=[(["fit_a"], 0), (["couple"], 1)])
    with pytest.raises(ConfigurationError, match="non-empty list"):
        crux.solve(10, substeps=[])
    kappa = pl.np.parameter((1,), name="kappa", init=0.0)
    kappa.bayesian(blackjax.nuts, warmup=10, keep=10)
    c2 = pl.core([((a - 1.0) * (a - 1.0)).sum, ((kappa - a) * (kappa - a)).sum])
    with pytest.raises(ConfigurationError, match="sampled but no substep updates it"):
        c2.solve(30, substeps=[([0], 1), ([1], 1, [a])])


def test_substeps_checkpoint_and_resume_equal_one_run(tmp_path):
    a, b, crux = two_parameters()
    crux.solve(300, substeps=[(["fit_a"], 1), (["couple"], 2, [b])])
    a2, b2, other = two_parameters()
    path = tmp_path / "sub.npz"
    other.solve(150, substeps=[(["fit_a"], 1), (["couple"], 2, [b2])], checkpoint=path)
    other.load(path)
    other.solve(150, substeps=[(["fit_a"], 1), (["couple"], 2, [b2])])
    np.testing.assert_array_equal(np.asarray(a.value), np.asarray(a2.value))
    np.testing.assert_array_equal(np.asarray(b.value), np.asarray(b2.value))


def test_an_initialiser_under_substeps_fits_its_stage_log_density():
    """The warm start of κ is fitted on the data term alone (its stage), with u at its start value 2."""
    rng = np.random.default_rng(seed_for("substeps", "init"))
    y = (1.5 + SIGMA * rng.normal(size=(30, 1))).astype(np.float32)
    u = pl.np.parameter((1,), name="u", init=2.0)
    kappa = pl.np.parameter((1,), name="kappa", init=-40.0)
    kappa.initialize(pl.bayesian.laplace())
    kappa.bayesian(blackjax.nuts, warmup=20, keep=10, num_chains=3, prior=pl.bayesian.priors.gaussian(TAU))
    crux = pl.core([((u - 0.5) * (u - 0.5)).sum, (kappa * u - pl.np.array(y)).gaussian_nll(SIGMA)])
    crux.solve(30, substeps=[([0], 1), ([1], 1, [kappa])])
    prec = len(y) * 4.0 / SIGMA**2 + 1 / TAU**2
    mean = (2.0 * y.sum() / SIGMA**2) / prec
    starts = np.asarray(kappa.initialization.position)[:, 0]
    assert starts.shape == (3,)
    assert np.all(np.abs(starts - mean) < 4.5 / np.sqrt(prec))  # draws of the stage's Laplace q (exact here)
    np.testing.assert_allclose(np.asarray(kappa.initialization.update["inverse_mass_matrix"]), [1 / prec], rtol=1e-3)
