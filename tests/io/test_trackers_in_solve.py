"""Trackers and callbacks inside real solves: what the engine reports per chunk reaches them."""

import json

import blackjax
import jax
import numpy as np
import optax

import pinnlang as pl


def test_local_tracker_records_a_sampling_solve(tmp_path):
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    a = pl.np.parameter((1,), name="a")
    a.bayesian(blackjax.nuts, warmup=40, keep=60, num_chains=2)
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    net.optimizer(optax.inject_hyperparams(optax.adam)(learning_rate=1e-2))
    crux = pl.core([(a * x - x).gaussian_nll(0.2), (net(x) - x).mse], names=["fit", "net"])
    tracker = pl.io.LocalTracker(tmp_path / "run", figures=False)
    crux.solve(100, print_rate=20, trackers=[tracker])
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["loss"]["names"] == ["fit", "net"] and config["chains"] == 2
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [20, 40, 60, 80, 100]
    assert [r["phase"] for r in rows][:2] == ["warmup", "warmup"] and rows[-1]["phase"] == "sampling"
    last = rows[-1]
    assert last["posterior/a/n_samples"] == 60 and last["posterior/a/n_chains"] == 2
    assert abs(last["posterior/a/mean"] - float(a.posterior_samples.mean())) < 1e-6
    assert 0 <= last["posterior/a/mean_acceptance_rate"] <= 1 and "posterior/a/n_is_divergent" in last
    assert abs(last["lr/u"] - 1e-2) < 1e-9
    np.testing.assert_allclose(last["loss/net"], crux.history.term("net")[-1], rtol=1e-6)
    assert (tmp_path / "run" / "history.csv").exists()


def test_early_stopping_on_a_validation_expression_stops_a_real_solve():
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    val = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.05)
    xv, _ = val.variable("interior")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=8, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    net.optimizer(optax.adam(3e-2))
    crux = pl.core([(net(x) - pl.np.sin(3 * x)).mse])
    stop = pl.io.EarlyStopping((net(xv) - pl.np.sin(3 * xv)).mse, patience=2, min_delta=1e-3)
    crux.solve(20000, print_rate=100, callbacks=[stop])
    assert stop.stopped_epoch == crux.epoch < 20000
    values = [v for _, v in stop.values]
    assert min(values[-2:]) > stop.best - 1e-3  # the last two chunks did not improve by min_delta
    assert values[0] > 10 * stop.best  # it did learn first
