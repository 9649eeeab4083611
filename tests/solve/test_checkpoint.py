"""Checkpoints and interrupts: save → load → continue equals one uninterrupted solve, bit for bit."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import blackjax
import jax
import numpy as np
import optax
import pytest

import pinnlang as pl
from run_helpers import assert_save_load_continue_is_one_run
from pinnlang.errors import CheckpointError, ConfigurationError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def trained(hidden=8, seed=0):
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=hidden, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    net.optimizer(optax.adam(1e-2))
    crux = pl.core([(net(x) - pl.np.sin(3 * x)).mse], seed=seed)
    return crux, net


def sampled(seed=0):
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    a = pl.np.parameter((2,), name="a")
    a.bayesian(blackjax.nuts, warmup=30, keep=40, num_chains=3, init_jitter=0.5)
    crux = pl.core([((a[0] + a[1]) * x - x).gaussian_nll(0.2)], seed=seed)
    return crux, a


def leaves(handle):
    return [np.asarray(l) for l in jax.tree_util.tree_leaves(handle.get_trainable())]


def assert_same(xs, ys):
    assert len(xs) == len(ys)
    for u, v in zip(xs, ys):
        np.testing.assert_array_equal(u, v)


def test_save_load_continue_equals_one_uninterrupted_optimisation(tmp_path):
    again, ref = assert_save_load_continue_is_one_run(trained, tmp_path / "ck")
    np.testing.assert_array_equal(again.history.total, ref.history.total)
    np.testing.assert_array_equal(again.history.epochs, np.arange(60))


def test_interrupted_solve_keeps_the_last_chunk_and_resumes_exactly():
    ref, ref_net = trained()
    ref.solve(100, print_rate=10)
    short, short_net = trained()
    short.solve(30, print_rate=10)

    crux, net = trained()
    calls = []

    def interrupt(report):
        calls.append(report.epoch)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        crux.solve(100, print_rate=10, callbacks=[interrupt])
    assert crux.epoch == 30 and len(crux.history) == 30
    assert_same(leaves(net), leaves(short_net))  # the values of the last completed chunk
    crux.resume()
    assert_same(leaves(net), leaves(ref_net))
    np.testing.assert_array_equal(crux.history.total, ref.history.total)


def test_interrupted_sampling_resumes_draw_for_draw(tmp_path):
    ref, ref_a = sampled()
    ref.solve(70, print_rate=10)
    crux, a = sampled()

    def interrupt(report):
        if report.epoch == 50:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        crux.solve(70, print_rate=10, callbacks=[interrupt])
    assert a.posterior_samples.shape == (3, 20, 2)  # the draws so far are kept
    crux.save(tmp_path / "mid")
    fresh, fresh_a = sampled()
    fresh.load(tmp_path / "mid")
    fresh.resume()
    crux.resume()
    for got in (a, fresh_a):
        np.testing.assert_array_equal(got.posterior_samples, ref_a.posterior_samples)
        np.testing.assert_array_equal(got.posterior_diagnostics["energy"], ref_a.posterior_diagnostics["energy"])
    np.testing.assert_array_equal(fresh.eval(fresh_a[0]), ref.eval(ref_a[0]))


def test_killed_process_resumed_from_its_checkpoint_matches_the_uninterrupted_run(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    script = str(HERE / "checkpoint_script.py")
    full = tmp_path / "full.npz"
    subprocess.run([sys.executable, script, "fast", str(tmp_path / "full.ck"), str(full)], check=True, env=env)
    ck = tmp_path / "killed.ck"
    proc = subprocess.Popen([sys.executable, script, "slow", str(ck), str(tmp_path / "never.npz")], env=env)
    try:
        deadline = time.time() + 120
        while not ck.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert ck.exists(), "no checkpoint was written"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (tmp_path / "never.npz").exists()  # it really died mid-solve
    resumed = tmp_path / "resumed.npz"
    subprocess.run([sys.executable, script, "fast", str(ck), str(resumed)], check=True, env=env)
    a, b = np.load(full), np.load(resumed)
    assert sorted(a.files) == sorted(b.files)
    for k in a.files:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_corrupted_missing_and_mismatched_checkpoints_are_clear_errors(tmp_path):
    crux, net = trained()
    crux.solve(10)
    path = tmp_path / "ck"
    crux.save(path)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        trained()[0].load(tmp_path / "nothing")
    broken = tmp_path / "broken"
    broken.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        trained()[0].load(broken)
    with pytest.raises(CheckpointError, match=r"differently configured.*shape"):
        trained(hidden=12)[0].load(path)
    with pytest.raises(CheckpointError, match=r"differently configured.*key"):
        trained(seed=1)[0].load(path)
    other, other_net = trained()
    other_net.freeze()
    with pytest.raises(CheckpointError, match="frozen"):
        other.load(path)


def test_resume_needs_an_interrupted_solve_and_the_same_configuration():
    crux, net = trained()
    with pytest.raises(ConfigurationError, match="no interrupted solve"):
        crux.resume()

    def stop(report):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        crux.solve(20, print_rate=5, callbacks=[stop])
    net.optimizer(optax.sgd(1e-2))
    with pytest.raises(ConfigurationError, match="configuration changed"):
        crux.resume()


def test_a_failing_tracker_only_warns_and_the_solve_goes_on(caplog):
    class Broken:
        def start(self, core, config):
            raise OSError("disk full")

        def log(self, report):
            raise OSError("disk full")

        def finish(self, core):
            pass

    seen = []
    crux, net = trained()
    crux.solve(30, print_rate=10, trackers=[Broken()], callbacks=[lambda r: seen.append(r.metrics["loss/total"])])
    assert len(crux.history) == 30 and len(seen) == 3
    assert any("Broken failed" in r.message and "disk full" in r.message for r in caplog.records)


def test_a_callback_can_stop_the_solve_early():
    crux, net = trained()
    crux.solve(100, print_rate=10, callbacks=[lambda r: r.epoch >= 40])
    assert crux.epoch == 40 and len(crux.history) == 40


def test_rollback_returns_to_the_start_of_the_failing_solve():
    from pinnlang.errors import NonFiniteLossError

    a = pl.np.parameter((1,), name="a", init=1.0)
    crux = pl.core([pl.np.log(a).sum])
    a.optimizer(optax.sgd(0.1))
    crux.solve(3)
    before = float(a.value[0])
    a.optimizer(optax.sgd(50.0))
    with pytest.raises(NonFiniteLossError) as err:
        crux.solve(20, print_rate=4)
    assert err.value.terms == ["loss_0"] and err.value.epoch is not None
    crux.rollback()
    assert float(a.value[0]) == before and crux.epoch == 3 and len(crux.history) == 3
