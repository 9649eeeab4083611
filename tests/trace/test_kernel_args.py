"""Issue 7 item 4: ``.bayesian(...)`` keywords are checked against the kernel factory when it is called."""


import blackjax
import numpy as np
import pytest

import pinnlang as pl
from pinnlang.errors import ConfigurationError
from pinnlang.trace.kernel_args import check_kernel_kwargs, kernel_keywords


@pytest.fixture
def a():
    return pl.np.parameter((1,), name="a", init=0.5)


@pytest.mark.parametrize("factory,kw,suggest", [
    (blackjax.nuts, {"keeep": 5}, "'keep'"),
    (blackjax.mala, {"stepsize": 0.1}, "'step_size'"),
    (blackjax.mala, {"step_size": 0.1, "num_chain": 2}, "'num_chains'"),
    (blackjax.hmc, {"num_integration_step": 5}, "'num_integration_steps'"),
    (blackjax.sgld, {"step_size": 1e-3, "temprature": 1.0}, "'temperature'"),
    (blackjax.nuts, {"warmpu": 10}, "'warmup'"),
])
def test_misspelled_keywords_suggest_the_closest_name(a, factory, kw, suggest):
    with pytest.raises(ConfigurationError, match="unknown keyword argument") as err:
        a.bayesian(factory, **kw)
    msg = str(err.value)
    assert f"did you mean {suggest}" in msg and "a.bayesian" in msg
    assert ".bayesian itself takes prior, warmup, keep" in msg  # lists what is valid
    assert a.sampler is None  # nothing was configured


def test_an_argument_of_another_kernel_is_rejected(a):
    with pytest.raises(ConfigurationError, match=r"'num_integration_steps'.*nuts takes step_size"):
        a.bayesian(blackjax.nuts, num_integration_steps=3)


def test_the_log_density_is_not_a_keyword(a):
    with pytest.raises(ConfigurationError, match="pinnlang builds logdensity_fn"):
        a.bayesian(blackjax.nuts, logdensity_fn=lambda p: 0.0)


@pytest.mark.parametrize("factory,value", [
    (blackjax.mala, 0.0), (blackjax.mala, -1e-3), (blackjax.mala, "1e-3"), (blackjax.mala, float("nan")),
    (blackjax.mala, True), (blackjax.rmh, 0.0), (blackjax.sgld, -1.0), (blackjax.nuts, -0.1),
    (blackjax.mala, np.array([0.1, 0.2])),
])
def test_step_size_must_be_a_positive_number(a, factory, value):
    with pytest.raises(ConfigurationError, match=r"step_size=\.\.\.\) must be a positive number") as err:
        a.bayesian(factory, step_size=value)
    assert "e.g. step_size=1e-3" in str(err.value) and "adapt=True" in str(err.value)


@pytest.mark.parametrize("kw,match", [
    ({"num_integration_steps": 0}, "positive integer"),
    ({"num_integration_steps": 2.5}, "positive integer"),
    ({"num_integration_steps": True}, "True/False"),
])
def test_integer_kernel_arguments(a, kw, match):
    with pytest.raises(ConfigurationError, match=match):
        a.bayesian(blackjax.hmc, **kw)


def test_sgmcmc_temperature_must_be_non_negative(a):
    with pytest.raises(ConfigurationError, match="temperature.*non-negative"):
        a.bayesian(blackjax.sgld, step_size=1e-3, temperature=-1.0)


def test_valid_calls_are_accepted_and_numpy_integers_normalised(a):
    a.bayesian(blackjax.hmc, num_integration_steps=np.int64(5), keep=np.int64(10), warmup=np.int32(20),
               num_chains=np.int64(2), thin=np.int64(1))
    cfg = a.sampler
    assert (cfg.keep, cfg.warmup, cfg.num_chains, cfg.thin) == (10, 20, 2, 1)
    assert all(type(v) is int for v in (cfg.keep, cfg.warmup, cfg.num_chains, cfg.thin))
    assert type(cfg.kernel_kwargs["num_integration_steps"]) is int
    a.bayesian(blackjax.nuts, step_size=np.float32(0.1), max_num_doublings=6)
    a.bayesian(blackjax.mala, step_size=np.asarray(0.1))  # 0-d arrays are numbers
    a.bayesian(blackjax.rmh, step_size=0.1)  # rmh: pinnlang builds the Gaussian proposal from step_size
    a.bayesian(blackjax.sgld, step_size=1e-3, temperature=0.5)  # SG-MCMC step arguments
    a.bayesian(blackjax.sghmc, step_size=1e-3, num_integration_steps=3, alpha=0.1)
    a.bayesian(blackjax.nuts, block=None)  # the engine's keyword is let through


def test_bools_stay_rejected_for_schedule_options(a):
    with pytest.raises(ConfigurationError, match=r"keep.*True"):
        a.bayesian(blackjax.nuts, keep=True)


def test_a_user_factory_with_var_keywords_accepts_any_name(a):
    def factory(logdensity_fn, **kw):
        return blackjax.mala(logdensity_fn, kw["step_size"])

    assert kernel_keywords(factory) is None
    a.bayesian(factory, step_size=0.1, anything=3)
    with pytest.raises(ConfigurationError, match="positive number"):
        a.bayesian(factory, step_size=-0.1)  # known names are still checked


def test_kernel_keywords_of_the_blackjax_kernels():
    assert kernel_keywords(blackjax.mala) == ("step_size",)
    assert set(kernel_keywords(blackjax.sgld)) == {"step_size", "temperature"}
    assert "step_size" in kernel_keywords(blackjax.rmh) and "proposal_generator" in kernel_keywords(blackjax.rmh)
    assert "num_integration_steps" in kernel_keywords(blackjax.hmc)


def test_an_sgmcmc_argument_of_a_sibling_kernel_is_refused_naming_that_kernel(a):
    kw = {"step_size": 1e-3, "num_integration_steps": 3}
    with pytest.raises(ConfigurationError, match=r"does not take 'num_integration_steps'.*blackjax\.sghmc"):
        check_kernel_kwargs("a", blackjax.sgld, kw)
