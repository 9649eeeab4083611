"""Trackers through the solve-hook protocol (ChunkReports built by hand, ``Hooks`` called directly):
files and values of the LocalTracker, failures that only warn, the W&B tracker (fake module, offline run,
missing package) and the posterior metrics against direct NumPy reductions of the draws."""

import csv
import json
import logging
import sys
import types

import numpy as np
import pytest

import pinnlang as pl
from pinnlang.solve.hooks import ChunkReport, Hooks

PNG = b"\x89PNG\r\n\x1a\n"


def reports(core, n=3, extra_from=None):
    out = []
    for i in range(n):
        epochs = np.arange(10 * i, 10 * i + 10)
        terms = {"data": np.linspace(1.0, 0.5, 10) / (i + 1)}
        metrics = {"loss/data": float(terms["data"][-1]), "loss/total": float(terms["data"][-1]),
                   "steps_per_second": 100.0 + i}
        if extra_from is not None and i >= extra_from:
            metrics["lr/theta"] = 1e-3
        out.append(ChunkReport(int(epochs[-1]) + 1, epochs, terms["data"], terms, metrics, "sampling", core))
    return out


def test_posterior_metrics_are_the_spec_keys_and_values(nuts_problem, mala_network):
    theta = nuts_problem["theta"]
    m = pl.io.posterior_metrics(nuts_problem["crux"].handles)
    diag = theta.posterior_diagnostics
    assert m == {
        "posterior/theta/n_samples": 150.0, "posterior/theta/n_chains": 2.0,
        "posterior/theta/n_is_divergent": float(np.sum(diag["is_divergent"])),
        "posterior/theta/mean_acceptance_rate": pytest.approx(float(np.mean(diag["acceptance_rate"]))),
        "posterior/theta/mean_energy": pytest.approx(float(np.mean(diag["energy"]))),
        "posterior/theta/mean_num_integration_steps": pytest.approx(float(np.mean(diag["num_integration_steps"]))),
    }  # no mean: theta has two values
    m = pl.io.posterior_metrics(mala_network["crux"].handles)
    c = mala_network["c"].posterior_samples
    assert m["posterior/c/mean"] == pytest.approx(float(np.mean(c)))
    assert m["posterior/u/n_samples"] == 40.0 and "posterior/u/mean" not in m
    assert "posterior/u/n_is_divergent" not in m  # MALA reports no divergences
    assert m["posterior/u/mean_acceptance_rate"] == pytest.approx(
        float(np.mean(mala_network["net"].posterior_diagnostics["acceptance_rate"])))
    assert m["posterior/u/mean_num_integration_steps"] == 1.0  # one gradient per MALA step


def test_local_tracker_writes_the_run_folder(nuts_problem, tmp_path):
    crux = nuts_problem["crux"]
    tracker = pl.io.LocalTracker(tmp_path / "run")
    hooks = Hooks(trackers=[tracker])
    config = {"epochs": 250, "terms": ["data"], "sigma": np.float32(0.1)}
    hooks.start(crux, config)
    reps = reports(crux, 3, extra_from=2)
    for r in reps:
        assert hooks.chunk(r) is False
    hooks.finish(crux)
    run = tmp_path / "run"
    assert json.loads((run / "config.json").read_text()) == {"epochs": 250, "terms": ["data"],
                                                             "sigma": pytest.approx(0.1)}
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [r.epoch for r in reps]
    assert rows[1]["loss/data"] == pytest.approx(reps[1].metrics["loss/data"])
    with open(run / "metrics.csv") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 3 and table[0]["lr/theta"] == "" and float(table[2]["lr/theta"]) == 1e-3  # widened header
    assert float(table[2]["steps_per_second"]) == 102.0 and table[0]["phase"] == "sampling"
    assert "theta[0]" in (run / "summary.txt").read_text()
    assert set(json.loads((run / "summary.json").read_text())["parameters"]) == {"theta[0]", "theta[1]"}
    hist = np.loadtxt(run / "history.csv", delimiter=",", skiprows=1, ndmin=2)
    np.testing.assert_allclose(hist[:, 1], crux.history.total)
    for png in ("loss.png", "posterior.png"):
        data = (run / png).read_bytes()
        assert data.startswith(PNG) and len(data) > 5000


def test_a_full_disk_only_warns_and_the_solve_goes_on(nuts_problem, tmp_path, monkeypatch, caplog):
    crux = nuts_problem["crux"]
    tracker = pl.io.LocalTracker(tmp_path / "run", figures=False)
    import builtins

    real_open = builtins.open

    def full_disk(path, *args, **kwargs):
        if str(tmp_path) in str(path):
            raise OSError(28, "No space left on device")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", full_disk)
    hooks = Hooks(trackers=[tracker])
    with caplog.at_level(logging.WARNING, logger="pinnlang"):
        hooks.start(crux, {"a": 1})
        stops = [hooks.chunk(r) for r in reports(crux, 2)]
        hooks.finish(crux)
    assert stops == [False, False]
    assert "No space left on device" in caplog.text and "the solve goes on" in caplog.text
    assert len(tracker.rows) == 2  # it kept its rows, ready for when the disk frees up


def test_a_run_dir_that_cannot_exist_only_warns(nuts_problem, tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    tracker = pl.io.LocalTracker(blocker / "run")
    hooks = Hooks(trackers=[tracker])
    with caplog.at_level(logging.WARNING, logger="pinnlang"):
        hooks.start(nuts_problem["crux"], {})
        assert hooks.chunk(reports(nuts_problem["crux"], 1)[0]) is False
        hooks.finish(nuts_problem["crux"])
    assert "could not write config.json" in caplog.text


class FakeRun:
    def __init__(self, **kwargs):
        self.init = kwargs
        self.logged, self.summary, self.finished = [], {}, False

    def log(self, data, step=None):
        self.logged.append((step, data))

    def finish(self):
        self.finished = True


@pytest.fixture
def fake_wandb(monkeypatch):
    mod = types.ModuleType("wandb")
    mod.runs = []

    def init(**kwargs):
        run = FakeRun(**kwargs)
        mod.runs.append(run)
        return run

    mod.init = init
    mod.Table = lambda columns, data: ("table", columns, data)
    mod.Image = lambda fig: ("image", fig)
    monkeypatch.setitem(sys.modules, "wandb", mod)
    return mod


def test_wandb_tracker_logs_config_chunks_summary_and_figures(fake_wandb, nuts_problem):
    crux = nuts_problem["crux"]
    tracker = pl.io.WandbTracker(project="p", name="r", config={"extra": 1})
    hooks = Hooks(trackers=[tracker])
    hooks.start(crux, {"epochs": 250})
    reps = reports(crux, 2)
    for r in reps:
        hooks.chunk(r)
    hooks.finish(crux)
    (run,) = fake_wandb.runs
    assert run.init["mode"] == "offline" and run.init["project"] == "p"
    assert run.init["config"] == {"epochs": 250, "extra": 1}
    steps = [s for s, d in run.logged if s is not None]
    assert steps == [reps[0].epoch, reps[1].epoch]
    assert run.logged[0][1]["loss/data"] == pytest.approx(reps[0].metrics["loss/data"])
    assert run.summary["summary/theta[0]/r_hat"] == pytest.approx(float(pl.bayesian.rhat(
        nuts_problem["theta"].posterior_samples)[0]), rel=1e-12)
    final = {k for _, d in run.logged for k in d}
    assert {"posterior_summary", "figures/loss", "figures/posterior"} <= final
    assert run.finished


def test_wandb_init_failure_only_warns(fake_wandb, nuts_problem, caplog):
    def refuse(**kwargs):
        raise ConnectionError("no network")

    fake_wandb.init = refuse
    tracker = pl.io.WandbTracker(mode="online")
    with caplog.at_level(logging.WARNING, logger="pinnlang"):
        hooks = Hooks(trackers=[tracker])
        hooks.start(nuts_problem["crux"], {})
        assert hooks.chunk(reports(nuts_problem["crux"], 1)[0]) is False
        hooks.finish(nuts_problem["crux"])
    assert "wandb.init failed" in caplog.text


def test_missing_wandb_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)
    with pytest.raises(pl.io.MissingDependencyError, match=r"pip install pinnlang\[wandb\]"):
        pl.io.WandbTracker()


def test_real_wandb_offline_run(nuts_problem, tmp_path):
    pytest.importorskip("wandb")  # the optional extra; a few seconds (wandb starts its service process)
    crux = nuts_problem["crux"]
    tracker = pl.io.WandbTracker(project="pinnlang-test", dir=tmp_path, figures=False)
    hooks = Hooks(trackers=[tracker])
    hooks.start(crux, {"epochs": 250})
    for r in reports(crux, 2):
        hooks.chunk(r)
    hooks.finish(crux)
    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and list(runs[0].glob("*.wandb"))
