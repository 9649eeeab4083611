"""``pl.io.summary``: every column equals ArviZ's ``az.summary`` of the export (to 1e-8); network aggregates
equal the extremes of ArviZ's per-leaf diagnostics; the predictive row equals those of the evaluated values."""

import arviz as az
import numpy as np
import pytest

import pinnlang as pl


def test_parameter_rows_equal_arviz_summary(nuts_problem, capsys):
    crux, theta = nuts_problem["crux"], nuts_problem["theta"]
    table = pl.io.summary(crux)
    printed = capsys.readouterr().out
    assert "theta[0]" in printed and "theta[1]" in printed and "ess_bulk" in printed
    ref = az.summary(pl.io.to_arviz(crux, log_likelihood=False), hdi_prob=0.9, round_to="none")
    assert [r.name for r in table.parameters] == list(ref.index) == ["theta[0]", "theta[1]"]
    for row in table.parameters:
        want = ref.loc[row.name]
        for ours, theirs in [("mean", "mean"), ("sd", "sd"), ("hdi_low", "hdi_5%"), ("hdi_high", "hdi_95%"),
                             ("mcse_mean", "mcse_mean"), ("ess_bulk", "ess_bulk"), ("ess_tail", "ess_tail"),
                             ("r_hat", "r_hat")]:
            assert getattr(row, ours) == pytest.approx(want[theirs], rel=1e-8, abs=1e-12), (row.name, ours)
        assert row.divergences == int(theta.posterior_diagnostics["is_divergent"].sum())
    assert table.num_chains == 2 and table.num_draws == 150


def test_structured_outputs(nuts_problem):
    table = pl.io.summary(nuts_problem["crux"], show=False)
    d = table.to_dict()
    assert set(d["parameters"]) == {"theta[0]", "theta[1]"} and d["hdi_prob"] == 0.9
    df = table.to_dataframe()
    assert list(df.index) == ["theta[0]", "theta[1]"]
    assert df.loc["theta[0]", "mean"] == pytest.approx(d["parameters"]["theta[0]"]["mean"])
    assert "theta[1]" in str(table) and str(table) == repr(table)


def test_network_aggregate_and_predictive_rows(mala_network):
    crux, net, x = mala_network["crux"], mala_network["net"], mala_network["x"]
    table = pl.io.summary(crux, predictive={"u(x)": net(x)}, show=False)
    assert [r.name for r in table.parameters] == ["c"]
    (model,) = [r for r in table.models if r.kind == "model"]
    (pred,) = [r for r in table.models if r.kind == "predictive"]
    idata = pl.io.to_arviz(crux, log_likelihood=False)
    leaves = [v for v in idata.posterior.data_vars if v.startswith("u.")]
    rhats = np.concatenate([np.ravel(az.rhat(idata, var_names=[v])[v].values) for v in leaves])
    bulk = np.concatenate([np.ravel(az.ess(idata, var_names=[v])[v].values) for v in leaves])
    tail = np.concatenate([np.ravel(az.ess(idata, var_names=[v], method="tail")[v].values) for v in leaves])
    assert model.n_values == 4 + 4 + 4 + 1 and model.n_constant == 0
    assert model.worst_r_hat == pytest.approx(np.max(rhats), rel=1e-8)
    assert model.min_ess_bulk == pytest.approx(np.min(bulk), rel=1e-8)
    assert model.min_ess_tail == pytest.approx(np.min(tail), rel=1e-8)
    assert model.worst_r_hat_at.startswith("u.")
    values = np.asarray(crux.eval(net(x)))[..., 0]  # (K, N, n)
    assert pred.n_values == values.shape[-1]
    assert pred.worst_r_hat == pytest.approx(np.max(az.rhat(az.convert_to_dataset(values))["x"].values), rel=1e-8)
    assert pred.min_ess_bulk == pytest.approx(np.min(pl.bayesian.ess(values)), rel=1e-8)
    assert "network u" in str(table) and "predictive u(x)" in str(table)


def test_constant_leaves_are_counted_and_left_out(mala_network):
    from pinnlang.io.summary import aggregate_row

    draws = np.random.default_rng(0).normal(size=(2, 50, 3))
    leaves = {"w": draws, "frozen": np.ones((2, 50, 2))}
    row = aggregate_row("m", "model", leaves, None)
    assert row.n_values == 5 and row.n_constant == 2
    assert row.worst_r_hat == pytest.approx(np.max(pl.bayesian.rhat(draws)), rel=1e-12)


def test_predictive_without_sampled_dependency_is_an_error(nuts_problem):
    with pytest.raises(pl.errors.ConfigurationError, match="does not depend on the sampled handles"):
        pl.io.summary(nuts_problem["crux"], predictive=pl.np.sin(nuts_problem["x"]), show=False)
