"""Every misconfiguration of .bayesian(...) raises a ConfigurationError that names the fix."""

import blackjax
import jax.numpy as jnp
import numpy as np
import pytest

import pinnlang as pl
from pinnlang.errors import ConfigurationError


def problem():
    a = pl.np.parameter((1,), name="a", init=0.5)
    b = pl.np.parameter((1,), name="b", init=0.5)
    y = pl.np.array(np.ones((5, 1), np.float32))
    return a, b, y


@pytest.mark.parametrize("factory,kw", [
    (blackjax.mala, {}),
    (blackjax.sgld, {}),
    (blackjax.nuts, {"adapt": False}),
    (blackjax.nuts, {"warmup": 0}),
])
def test_missing_step_size(factory, kw):
    a, *_ = problem()
    with pytest.raises(ConfigurationError, match="step_size"):
        a.bayesian(factory, **kw)


def test_unknown_family():
    a, *_ = problem()

    def weird(position_fn, step_size):
        return None

    with pytest.raises(ConfigurationError, match="unknown kernel family.*logdensity_fn.*grad_estimator"):
        a.bayesian(weird, step_size=0.1)


@pytest.mark.parametrize("field,value", [("keep", 0), ("thin", -1), ("warmup", -3), ("keep", 2.5),
                                         ("num_chains", 0)])
def test_invalid_schedule(field, value):
    a, *_ = problem()
    with pytest.raises(ConfigurationError, match=field):
        a.bayesian(blackjax.mala, step_size=0.1, **{field: value})


def test_mismatched_chains_raise_at_solve_start():
    a, b, y = problem()
    a.bayesian(blackjax.mala, step_size=0.1, num_chains=2)
    b.bayesian(blackjax.mala, step_size=0.1, num_chains=4)
    crux = pl.core([(a + b - y).gaussian_nll(1.0)])
    with pytest.raises(ConfigurationError, match="share num_chains"):
        crux.solve(1500)


def test_frozen_model_cannot_be_sampled():
    a, *_ = problem()
    a.freeze()
    with pytest.raises(ConfigurationError, match="frozen.*unfreeze"):
        a.bayesian(blackjax.nuts)


def test_prior_returning_a_vector_is_named_at_solve_start():
    a, b, y = problem()
    a.bayesian(blackjax.mala, step_size=0.1, prior=lambda p: -0.5 * p**2)
    crux = pl.core([(a - y).gaussian_nll(1.0)])
    with pytest.raises(ConfigurationError, match=r"prior of 'a'.*shape \(1,\)"):
        crux.solve(1500)


def test_student_t_needs_df_above_two():
    with pytest.raises(ConfigurationError, match="df"):
        pl.bayesian.priors.student_t(df=2.0)


def test_batch_size_only_for_stochastic_gradient_kernels():
    a, *_ = problem()
    with pytest.raises(ConfigurationError, match="batch_size.*sgld"):
        a.bayesian(blackjax.nuts, batch_size=8)


def test_epochs_must_exceed_warmup():
    a, b, y = problem()
    a.bayesian(blackjax.mala, step_size=0.1, warmup=100, keep=10)
    crux = pl.core([(a - y).gaussian_nll(1.0)])
    with pytest.raises(ConfigurationError, match="no epochs for sampling"):
        crux.solve(100)


def test_unknown_sgmcmc_argument():
    a, b, y = problem()
    with pytest.raises(ConfigurationError, match="does not take"):  # at configuration time, not at solve
        a.bayesian(blackjax.sgld, step_size=1e-3, num_integration_steps=3)


def test_prior_must_be_callable():
    a, *_ = problem()
    with pytest.raises(ConfigurationError, match="prior must be a callable"):
        a.bayesian(blackjax.nuts, prior=3.0)


def test_bad_chain_method_and_jitter():
    a, *_ = problem()
    with pytest.raises(ConfigurationError, match="chain_method"):
        a.bayesian(blackjax.nuts, chain_method="parallel")
    with pytest.raises(ConfigurationError, match="init_jitter"):
        a.bayesian(blackjax.nuts, init_jitter=-1.0)
    assert jnp.asarray(a.value).shape == (1,)
