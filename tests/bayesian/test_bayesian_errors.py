"""Every configuration error of ``.bayesian(...)`` is a ``ConfigurationError`` whose message names the fix.

Errors that depend on the whole problem (chains of two handles, the prior's output shape, the number
of epochs) are raised when ``solve`` starts, before any sampling, and leave the handles usable.
"""

import blackjax
import jax.numpy as jnp
import numpy as np
import pytest

import pinnlang as pl
from pinnlang.errors import ConfigurationError, PinnlangError


def problem():
    a = pl.np.parameter((1,), name="a", init=0.5)
    b = pl.np.parameter((1,), name="b", init=-0.5)
    y = pl.np.array(np.ones((5, 1), np.float32))
    return a, b, y


def test_configuration_errors_are_pinnlang_value_errors():
    assert issubclass(ConfigurationError, PinnlangError) and issubclass(ConfigurationError, ValueError)
    assert pl.errors.ConfigurationError is ConfigurationError


# -- step_size ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("factory,kw,why", [
    (blackjax.mala, {}, "no adaptation"),
    (blackjax.rmh, {}, "no adaptation"),
    (blackjax.sgld, {}, "no adaptation"),
    (blackjax.nuts, {"adapt": False}, "adapt=False"),
    (blackjax.hmc, {"adapt": False, "num_integration_steps": 5}, "adapt=False"),
    (blackjax.nuts, {"warmup": 0}, "warmup=0"),
    (blackjax.hmc, {"warmup": 0, "num_integration_steps": 5}, "warmup=0"),
], ids=["mala", "rmh", "sgld", "nuts-no-adapt", "hmc-no-adapt", "nuts-no-warmup", "hmc-no-warmup"])
def test_missing_step_size_names_the_reason_and_the_fix(factory, kw, why):
    a, *_ = problem()
    with pytest.raises(ConfigurationError, match="step_size") as err:
        a.bayesian(factory, **kw)
    msg = str(err.value)
    assert why in msg and "a.bayesian" in msg  # names the handle and why no step size can be chosen
    assert "step_size=" in msg  # says what to pass
    assert a.sampler is None  # a failed configuration leaves the handle as it was


@pytest.mark.parametrize("factory,kw", [
    (blackjax.nuts, {}),  # window adaptation picks the step size
    (blackjax.hmc, {"num_integration_steps": 5}),
    (blackjax.nuts, {"adapt": False, "step_size": 0.1}),
    (blackjax.mala, {"step_size": 0.1}),
    (blackjax.sgld, {"step_size": 1e-3}),
])
def test_valid_step_size_configurations_are_accepted(factory, kw):
    a, *_ = problem()
    assert a.bayesian(factory, **kw) is a and a.sampler is not None


# -- kernel family ---------------------------------------------------------------------------------------

def test_unknown_kernel_family_names_both_accepted_first_parameters():
    a, *_ = problem()

    def weird(position_fn, step_size):
        return blackjax.mala(position_fn, step_size)

    with pytest.raises(ConfigurationError) as err:
        a.bayesian(weird, step_size=0.1)
    msg = str(err.value)
    assert "position_fn" in msg and "logdensity_fn" in msg and "grad_estimator" in msg


def test_a_factory_without_parameters_and_a_non_callable_are_rejected():
    a, *_ = problem()
    with pytest.raises(ConfigurationError, match="logdensity_fn"):
        a.bayesian(lambda: None, step_size=0.1)
    with pytest.raises(ConfigurationError, match="kernel factory"):
        a.bayesian("nuts", step_size=0.1)


# -- schedule -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("field,value", [
    ("keep", 0), ("keep", -5), ("keep", 2.5), ("keep", 10.0), ("keep", True),
    ("thin", 0), ("thin", -1), ("thin", 1.5),
    ("warmup", -1), ("warmup", 1.5), ("warmup", 100.0),
    ("num_chains", 0), ("num_chains", 2.0),
])
def test_invalid_schedule_values(field, value):
    a, *_ = problem()
    with pytest.raises(ConfigurationError, match=field) as err:
        a.bayesian(blackjax.mala, step_size=0.1, **{field: value})
    assert repr(value) in str(err.value)  # the message shows what was given
    assert "integer" in str(err.value)


def test_zero_warmup_is_valid_for_kernels_with_a_step_size():
    a, *_ = problem()
    a.bayesian(blackjax.mala, step_size=0.1, warmup=0, keep=5)
    assert a.sampler.warmup == 0


# -- problem-level checks at solve start ----------------------------------------------------------------------

def test_mismatched_num_chains_raise_at_solve_start_and_name_both():
    a, b, y = problem()
    a.bayesian(blackjax.mala, step_size=0.1, num_chains=2, warmup=0, keep=5)
    b.bayesian(blackjax.mala, step_size=0.1, num_chains=4, warmup=0, keep=5)
    crux = pl.core([(a + b - y).gaussian_nll(1.0)])
    with pytest.raises(ConfigurationError, match="num_chains") as err:
        crux.solve(5, progress=False)
    msg = str(err.value)
    assert "chains=2" in msg and "chains=4" in msg and "a:" in msg and "b:" in msg
    assert a.posterior_samples is None and b.posterior_samples is None  # nothing ran
    # the fix the message suggests works
    b.bayesian(blackjax.mala, step_size=0.1, num_chains=2, warmup=0, keep=5)
    crux.solve(5, progress=False)
    assert np.shape(a.posterior_samples) == np.shape(b.posterior_samples) == (2, 5, 1)


def test_frozen_model_cannot_be_sampled():
    a, *_ = problem()
    a.freeze()
    with pytest.raises(ConfigurationError, match="frozen") as err:
        a.bayesian(blackjax.nuts)
    assert "unfreeze()" in str(err.value)
    a.unfreeze()
    a.bayesian(blackjax.nuts)  # the fix works


def test_frozen_wrapped_network_cannot_be_sampled():
    import jax

    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=1, key=jax.random.PRNGKey(0)), name="net")
    net.freeze()
    with pytest.raises(ConfigurationError, match="net is frozen"):
        net.bayesian(blackjax.sgld, step_size=1e-3)


@pytest.mark.parametrize("prior,shape", [
    (lambda p: -0.5 * p**2, "(1,)"),
    (lambda p: jnp.stack([jnp.sum(p), jnp.sum(p)]), "(2,)"),
])
def test_prior_returning_a_non_scalar_is_named_at_solve_start(prior, shape):
    a, b, y = problem()
    a.bayesian(blackjax.mala, step_size=0.1, warmup=0, keep=5, prior=prior)  # accepted: shapes need the values
    crux = pl.core([(a - y).gaussian_nll(1.0)])
    with pytest.raises(ConfigurationError, match="prior") as err:
        crux.solve(5, progress=False)
    msg = str(err.value)
    assert "'a'" in msg and f"shape {shape}" in msg and "scalar" in msg
    assert a.posterior_samples is None


def test_prior_non_finite_at_the_start_is_named():
    """A half-normal prior on an unconstrained parameter whose value is negative: -inf at the start."""
    a, b, y = problem()
    b.bayesian(blackjax.mala, step_size=0.1, warmup=0, keep=5, prior=pl.bayesian.priors.half_normal(1.0))
    with pytest.raises(ConfigurationError, match="prior of 'b'.*finite"):
        pl.core([(b - y).gaussian_nll(1.0)]).solve(5, progress=False)


def test_prior_must_be_callable():
    a, *_ = problem()
    with pytest.raises(ConfigurationError, match="prior must be a callable"):
        a.bayesian(blackjax.nuts, prior=3.0)


@pytest.mark.parametrize("df", [2.0, 2, 1.5, 0.5, 0.0, -3.0])
def test_student_t_needs_df_above_two(df):
    with pytest.raises(ConfigurationError, match="df"):
        pl.bayesian.priors.student_t(df=df)


def test_student_t_above_two_is_fine():
    assert np.isfinite(float(pl.bayesian.priors.student_t(df=2.5)(jnp.ones(3))))


@pytest.mark.parametrize("factory,kw", [
    (blackjax.nuts, {}),
    (blackjax.hmc, {"num_integration_steps": 5}),
    (blackjax.mala, {"step_size": 0.1}),
    (blackjax.rmh, {"step_size": 0.1}),
])
def test_batch_size_with_a_full_data_kernel(factory, kw):
    a, *_ = problem()
    with pytest.raises(ConfigurationError, match="batch_size") as err:
        a.bayesian(factory, batch_size=8, **kw)
    assert "sgld" in str(err.value)


def test_batch_size_is_accepted_for_sgld_and_validated():
    a, *_ = problem()
    a.bayesian(blackjax.sgld, step_size=1e-3, batch_size=4)
    with pytest.raises(ConfigurationError, match="batch_size"):
        a.bayesian(blackjax.sgld, step_size=1e-3, batch_size=0)


@pytest.mark.parametrize("epochs", [100, 60, 1])
def test_epochs_must_exceed_warmup(epochs):
    a, b, y = problem()
    a.bayesian(blackjax.mala, step_size=0.1, warmup=100, keep=10)
    crux = pl.core([(a - y).gaussian_nll(1.0)])
    with pytest.raises(ConfigurationError, match="no epochs for sampling") as err:
        crux.solve(epochs, progress=False)
    assert "warmup=100" in str(err.value) and "110" in str(err.value)  # says how many epochs to run
    assert a.posterior_samples is None


@pytest.mark.parametrize("kw,field", [
    ({"chain_method": "parallel"}, "chain_method"),
    ({"init_jitter": -0.1}, "init_jitter"),
    ({"likelihood_scale": 0.0}, "likelihood_scale"),
    ({"likelihood_scale": -2.0}, "likelihood_scale"),
])
def test_other_invalid_options(kw, field):
    a, *_ = problem()
    with pytest.raises(ConfigurationError, match=field):
        a.bayesian(blackjax.nuts, **kw)
