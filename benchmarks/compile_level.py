"""Compile time and run time of pinnlang's solves at XLA's default CPU level and at LLVM level 1.

On a CPU most of XLA's compile time is LLVM optimising the generated code;
``XLA_FLAGS=--xla_backend_optimization_level=1`` lowers LLVM's level for every program of a process.
This script measures what level 1 buys and what it costs, on six problems that stress
different code (PINNs with second derivatives, 32 units wide in 2-D and 64 wide in 1-D, NUTS with
window adaptation over 4 chains, a NUTS-sampled small Bayesian network, Pattern B, mean-field VI on a
network). Each problem runs in a fresh process per
level with an empty compilation cache: the first ``solve`` reports its compile time
(``history.compile_time``), a second, longer ``solve`` on the compiled program its steps per second.
Levels are interleaved and the best of ``--repeats`` runs is kept.

Run: ``python benchmarks/compile_level.py [--repeats R]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LEVELS = {"XLA default": "", "level 1": "--xla_backend_optimization_level=1"}


def problems():
    import blackjax
    import equinox as eqx
    import jax
    import numpy as np
    import optax

    import pinnlang as pl

    key = jax.random.PRNGKey(0)

    def pinn_2d():
        dom = pl.domain.rect(mesh_size=0.05)
        x, y, _ = dom.variable("interior")
        u = pl.nn.wrap(pl.nn.mlp(2, hidden_dims=32, num_layers=3, key=key), name="u")
        u.optimizer(optax.adam(1e-3))
        f = 2 * np.pi**2 * pl.np.sin(np.pi * x) * pl.np.sin(np.pi * y)
        return pl.core([(pl.laplacian(u(x, y), [x, y]) + f).mse]), 200, 2000

    def pinn_64():
        dom = pl.domain.line(mesh_size=0.005)
        x, _ = dom.variable("interior")
        u = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=64, num_layers=3, key=key), name="u")
        u.optimizer(optax.adam(1e-3))
        return pl.core([(pl.diff(u(x), x, 2) + np.pi**2 * pl.np.sin(np.pi * x)).mse]), 100, 1000

    def nuts_chains():
        dom = pl.domain.line(mesh_size=0.01)
        x, _ = dom.variable("interior")
        xs = np.asarray(dom.context["interior"])
        d = 3.14 * np.sin(np.pi * xs) - 2.71 * np.cos(np.pi * xs)
        a, b = pl.np.parameter((1,), name="a"), pl.np.parameter((1,), name="b")
        for p in (a, b):
            p.bayesian(blackjax.nuts, warmup=200, keep=2000, num_chains=4, init_jitter=0.5)
        return pl.core([(a * pl.np.sin(np.pi * x) + b * pl.np.cos(np.pi * x) - d).gaussian_nll(0.1)]), 300, 2000

    def bnn_nuts():
        dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.04)
        x, _ = dom.variable("interior")
        y = np.sin(np.pi * np.asarray(dom.context["interior"]))
        u = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=16, num_layers=2, key=key), name="u")
        u.bayesian(blackjax.nuts, warmup=100, keep=300, prior=pl.bayesian.priors.gaussian(1.0))
        return pl.core([(u(x) - y).gaussian_nll(0.1)]), 150, 300

    def pattern_b():
        dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=2 / 31)
        x, _ = dom.variable("interior")
        y = np.sin(np.pi * np.asarray(dom.context["interior"]))
        u = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=16, num_layers=2, key=key), name="u")
        head = eqx.tree_at(lambda m: m.output_layer, jax.tree_util.tree_map(lambda _: False, u.module),
                           replace=jax.tree_util.tree_map(lambda _: True, u.module.output_layer))
        u.optimizer(optax.adam(5e-3))
        u.mask(head).bayesian(blackjax.sgld, step_size=5e-4, warmup=0, keep=10000, thin=2)
        return pl.core([((u(x) - y) / 0.05).mse]), 200, 20000

    def vi_network():
        dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.04)
        x, _ = dom.variable("interior")
        y = np.sin(np.pi * np.asarray(dom.context["interior"]))
        u = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=16, num_layers=2, key=key), name="u")
        u.vi(blackjax.meanfield_vi, optimizer=optax.adam(1e-2), num_samples=8, posterior_draws=100)
        return pl.core([(u(x) - y).gaussian_nll(0.1)]), 200, 10000

    return {f.__name__: f for f in (pinn_2d, pinn_64, nuts_chains, bnn_nuts, pattern_b, vi_network)}


def worker(name: str):
    crux, first, second = problems()[name]()
    crux.solve(first, progress=False)
    compile_s = crux.history.compile_time
    t0 = time.perf_counter()
    crux.solve(second, progress=False)
    print(json.dumps({"compile_s": compile_s, "steps_per_s": second / (time.perf_counter() - t0)}))


def measure(name: str, level: str) -> dict:
    flags = " ".join(f for f in (os.environ.get("XLA_FLAGS", ""), level) if f)
    env = {**os.environ, "XLA_FLAGS": flags, "PINNLANG_CACHE_DIR": tempfile.mkdtemp(),
           "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, __file__, "--worker", name], env=env, capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--worker")
    args = p.parse_args()
    if args.worker:
        return worker(args.worker)
    names = list(problems())
    print(f"{'problem':<12} {'levels':<20} {'compile (s)':>12} {'steps/s':>10} {'compile ratio':>14} "
          f"{'speed ratio':>12}")
    for name in names:
        best = {label: {"compile_s": float("inf"), "steps_per_s": 0.0} for label in LEVELS}
        for _ in range(args.repeats):
            for label, level in LEVELS.items():
                r = measure(name, level)
                best[label] = {"compile_s": min(best[label]["compile_s"], r["compile_s"]),
                               "steps_per_s": max(best[label]["steps_per_s"], r["steps_per_s"])}
        base = best["XLA default"]
        for label in LEVELS:
            b = best[label]
            print(f"{name:<12} {label:<20} {b['compile_s']:>12.3f} {b['steps_per_s']:>10,.0f} "
                  f"{b['compile_s'] / base['compile_s']:>14.3f} {b['steps_per_s'] / base['steps_per_s']:>12.3f}")


if __name__ == "__main__":
    main()
