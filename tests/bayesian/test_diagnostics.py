"""R-hat and ESS against ArviZ (an independent implementation of Vehtari et al. 2021)."""

import logging
import warnings

import numpy as np
import pytest

from pinnlang.bayesian.diagnostics import ESS_METHODS, RHAT_METHODS, ess, rhat
from pinnlang.errors import ConfigurationError, ShapeError
from stats_helpers import assert_at_least, assert_at_most, rhat_bound, rng_for

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import arviz as az
    from arviz.stats import diagnostics as az_diag

logging.getLogger("arviz").setLevel(logging.CRITICAL)  # its shape/NaN warnings are expected here
RTOL = 1e-6
PROBS = {"quantile": 0.3, "local": (0.2, 0.7)}


def _ar1(rng, k, n, rho, start_sd=1.0):
    x = np.empty((k, n))
    x[:, 0] = rng.normal(size=k) * start_sd
    noise = rng.normal(size=(k, n)) * np.sqrt(1.0 - rho**2)
    for t in range(1, n):
        x[:, t] = rho * x[:, t - 1] + noise[:, t]
    return x


def _cases():
    rng = np.random.default_rng(2021)
    return {
        "iid_4x500": rng.normal(size=(4, 500)),
        "ar1_rho095": _ar1(rng, 4, 500, 0.95, start_sd=5.0),
        "different_means": rng.normal(size=(4, 500)) + np.array([0.0, 0.5, 1.0, 3.0])[:, None],
        "cauchy": rng.standard_cauchy(size=(4, 500)),
        "odd_n501": _ar1(rng, 4, 501, 0.5),
        "single_chain": _ar1(rng, 1, 400, 0.8),
        "ties": np.round(rng.normal(size=(3, 101))),
        "constant": np.full((4, 100), 2.5),
        "n_equals_4": rng.normal(size=(3, 4)),
        "with_inf": np.where(rng.uniform(size=(3, 50)) < 0.03, np.inf, rng.normal(size=(3, 50))),
    }


CASES = _cases()


def _az_ess(x, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return az.ess(x, method=method, prob=PROBS.get(method))


def _az_rhat(x, method):
    """ArviZ R-hat; for one chain ArviZ returns NaN, so apply its formula to the two halves."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if x.shape[0] > 1:
            return az.rhat(x, method=method)
        halves = az_diag._split_chains(x)
        bulk = az_diag._rhat(az_diag._z_scale(halves))
        tail = az_diag._rhat(az_diag._z_fold(halves))
        return {"rank": max(bulk, tail), "z_scale": bulk, "folded": tail,
                "split": az_diag._rhat(halves), "identity": az_diag._rhat(halves)}[method]


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("method", RHAT_METHODS)
def test_rhat_matches_arviz(name, method):
    x = CASES[name]
    np.testing.assert_allclose(rhat(x, method=method), _az_rhat(x, method), rtol=RTOL)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("method", ESS_METHODS)
def test_ess_matches_arviz(name, method):
    x = CASES[name]
    np.testing.assert_allclose(ess(x, method=method, prob=PROBS.get(method)), _az_ess(x, method),
                               rtol=RTOL)


def test_constant_and_odd_length_special_cases():
    assert np.isnan(rhat(CASES["constant"]))
    assert ess(CASES["constant"]) == 400.0  # ArviZ: constant -> the number of draws, not NaN
    assert ess(CASES["odd_n501"] * 0 + 1.0) == 4 * 500  # middle draw of each chain dropped


@pytest.mark.statistical
def test_reference_values_are_informative():
    """The cases exercise what they claim, on fresh draws of every seed: bad mixing is flagged,
    autocorrelation lowers ESS.

    * 4 i.i.d. chains of 500: ``rhat_bound(4, 500, 2000)`` = 1.0085 (p = 1e-4), below the 1.01 asserted;
    * chain means 0, 0.5, 1, 3 sd apart: R-hat ≈ sqrt(1 + var(means)) ≈ 1.5, far above 1.1;
    * AR(1) with ρ = 0.95: ESS ≈ 2000 (1-ρ)/(1+ρ) ≈ 51 (and lower with the over-dispersed starts),
      a quarter of the 200 asserted; i.i.d. draws: ESS ≈ 2000 ± 5 %.
    """
    rng = rng_for("diagnostics", "informative")
    iid = rng.normal(size=(4, 500))
    apart = rng.normal(size=(4, 500)) + np.array([0.0, 0.5, 1.0, 3.0])[:, None]
    sticky = _ar1(rng, 4, 500, 0.95, start_sd=5.0)
    assert rhat_bound(4, 500, 2000) < 1.01
    assert_at_most(rhat(iid), 1.01, "iid 4x500: R-hat", baseline=1.0)
    assert_at_least(rhat(apart) - 1.0, 0.1, "means apart: R-hat - 1")
    assert_at_most(ess(sticky), 200, "AR(1) 0.95: ESS")
    assert_at_least(ess(iid), 200, "iid 4x500: ESS")


def test_multidimensional_parameter_matches_arviz_dataset():
    rng = np.random.default_rng(3)
    x = _ar1(rng, 4, 300 * 6, 0.7).reshape(4, 300, 3, 2)
    x = x + np.arange(6).reshape(3, 2) * 0.1 * np.arange(4)[:, None, None, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = az.convert_to_dataset({"theta": x})
        ref = {"rhat": az.rhat(ds)["theta"].values, "bulk": az.ess(ds)["theta"].values,
               "tail": az.ess(ds, method="tail")["theta"].values}
    assert rhat(x).shape == ess(x).shape == (3, 2)
    np.testing.assert_allclose(rhat(x), ref["rhat"], rtol=RTOL)
    np.testing.assert_allclose(ess(x), ref["bulk"], rtol=RTOL)
    np.testing.assert_allclose(ess(x, method="tail"), ref["tail"], rtol=RTOL)


def test_nan_in_one_component_only_poisons_that_component():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 200, 2))
    x[1, 17, 0] = np.nan
    r, e = rhat(x), ess(x, method="tail")
    assert np.isnan(r[0]) and np.isnan(e[0])
    np.testing.assert_allclose(r[1], az.rhat(x[..., 1]), rtol=RTOL)
    np.testing.assert_allclose(e[1], _az_ess(x[..., 1], "tail"), rtol=RTOL)


def test_nan_tail_rhat_is_ignored_like_arviz():
    """Balanced +-1 draws: the folded draws are constant (tail R-hat NaN); ArviZ returns the bulk."""
    rng = np.random.default_rng(5)
    x = np.stack([rng.permutation(np.repeat([-1.0, 1.0], 50)) for _ in range(4)])
    assert np.isnan(rhat(x, method="folded"))
    assert np.isfinite(rhat(x))
    np.testing.assert_allclose(rhat(x), _az_rhat(x, "rank"), rtol=RTOL)


def test_jax_and_float32_inputs():
    jnp = pytest.importorskip("jax.numpy")
    x = CASES["ar1_rho095"]
    np.testing.assert_allclose(rhat(jnp.asarray(x)), rhat(x.astype(np.float32)), rtol=1e-12)
    np.testing.assert_allclose(ess(jnp.asarray(x)), az.ess(x.astype(np.float32)), rtol=1e-4)


def test_scalar_output_for_two_dimensional_input():
    r, e = rhat(CASES["iid_4x500"]), ess(CASES["iid_4x500"])
    assert np.ndim(r) == 0 and np.ndim(e) == 0
    assert rhat(CASES["iid_4x500"][..., None]).shape == (1,)


def test_strategies():
    one = CASES["single_chain"]
    many = CASES["ar1_rho095"]
    with pytest.raises(ConfigurationError, match="carries one chain"):
        rhat(one, strategy="multichain")
    # auto == split for K == 1 (two halves) and for every splitting method with K >= 2
    assert rhat(one, strategy="auto") == rhat(one, strategy="split")
    for method in ("rank", "split", "folded", "z_scale"):
        assert rhat(many, strategy="multichain", method=method) == rhat(many, method=method)
        assert rhat(many, strategy="split", method=method) == rhat(many, method=method)
    # identity: unsplit chains under auto/multichain, split chains under split
    np.testing.assert_allclose(rhat(many, method="identity"), az.rhat(many, method="identity"),
                               rtol=RTOL)
    assert rhat(many, strategy="split", method="identity") == rhat(many, method="split")
    assert rhat(one, method="identity") == rhat(one, method="split")


def test_bad_arguments():
    x = CASES["iid_4x500"]
    with pytest.raises(ConfigurationError, match="at least 4 draws"):
        rhat(x[:, :3])
    with pytest.raises(ConfigurationError, match="at least 4 draws"):
        ess(x[:, :3])
    with pytest.raises(ShapeError, match=r"\(K, N, \*param\)"):
        rhat(x[0])
    with pytest.raises(ConfigurationError, match="strategy"):
        rhat(x, strategy="pooled")
    with pytest.raises(ConfigurationError, match="method"):
        rhat(x, method="bulk")
    with pytest.raises(ConfigurationError, match="method"):
        ess(x, method="rank")
    with pytest.raises(ConfigurationError, match="single prob"):
        ess(x, method="quantile")
    with pytest.raises(ConfigurationError, match="between 0 and 1"):
        ess(x, method="tail", prob=1.5)
    with pytest.raises(ConfigurationError, match="takes no prob"):
        ess(x, method="bulk", prob=0.1)
    with pytest.raises(ConfigurationError, match="prob=\\(low, high\\)"):
        ess(x, method="local")


def test_tail_prob_forms():
    x = CASES["cauchy"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = az.ess(x, method="tail", prob=0.1)
    np.testing.assert_allclose(ess(x, method="tail", prob=0.1), ref, rtol=RTOL)
    np.testing.assert_allclose(ess(x, method="tail", prob=(0.1, 0.9)), ref, rtol=RTOL)
