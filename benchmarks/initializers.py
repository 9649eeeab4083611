"""Wall time of the warm-start initialisers, and what they buy: a solve with each, against the cold solve.

Problem: tutorial 13's decay model (θ = (A, k, c), 40 observations) and a 1 → 16 → 1 tanh network (49
weights) fitted to 32 noisy sine points, both started far from the posterior. For each initialiser the
script times (a) the initialiser alone, jitted, first call (compile + run) and a second call (run only),
and (b) for the decay model, the whole 4-chain NUTS solve (warmup 100, 500 draws) with it, against the cold
solve, with the smallest bulk ESS of the draws.

Run: ``python benchmarks/initializers.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import blackjax  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import pinnlang as pl  # noqa: E402
from pinnlang.solve.plan import Plan  # noqa: E402
from pinnlang.solve.warm_start import logdensity_at_values  # noqa: E402

SIGMA = 0.05


def decay_problem():
    rng = np.random.default_rng(0)
    ts = np.linspace(0.0, 5.0, 40)[:, None]
    ys = (2.0 * np.exp(-1.3 * ts) + 0.5 + SIGMA * rng.normal(size=ts.shape)).astype(np.float32)
    t, _ = pl.domain.from_array({"obs": ts}).variable("obs")
    theta = pl.np.parameter((3,), name="theta", init=[10.0, 5.0, -3.0])
    model = theta[0] * pl.np.exp(-theta[1] * t) + theta[2]
    return theta, [(model - pl.np.array(ys)).gaussian_nll(SIGMA)]


def network_problem():
    rng = np.random.default_rng(1)
    xs = np.linspace(-1.0, 1.0, 32)[:, None]
    ys = (np.sin(np.pi * xs) + 0.1 * rng.normal(size=xs.shape)).astype(np.float32)
    x, _ = pl.domain.from_array({"obs": xs}).variable("obs")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=16, num_layers=1, key=jax.random.PRNGKey(3)), name="u")
    return net, [(net(x) - pl.np.array(ys)).gaussian_nll(0.1)]


def logdensity_of(handle, terms):
    """The handle's group log-density and position, as the solve hands them to an initialiser."""
    crux = pl.core(terms, seed=0)
    plan = Plan(crux.handles, crux._default_transforms)
    engine = crux._engine_for(plan, None)
    values = {k: h.get_trainable() for k, h in crux.handles.items()}
    return logdensity_at_values(plan, 0, engine.loss_fn, values, crux.loss.program.data(crux.noise_key))


def time_initializer(init, ld, position, num_chains=4):
    fn = jax.jit(lambda k, p: init(k, ld, p, num_chains))
    t0 = time.perf_counter()
    jax.block_until_ready(fn(jax.random.PRNGKey(0), position))
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    jax.block_until_ready(fn(jax.random.PRNGKey(1), position))
    return first, time.perf_counter() - t0


def time_solve(make, init, warmup=100, keep=500):
    handle, terms = make()
    if init is not None:
        handle.initialize(init)
    handle.bayesian(blackjax.nuts, warmup=warmup, keep=keep, num_chains=4, init_jitter=0.5,
                    prior=pl.bayesian.priors.gaussian(10.0))
    crux = pl.core(terms, seed=0)
    t0 = time.perf_counter()
    crux.solve(warmup + keep, progress=False)
    seconds = time.perf_counter() - t0
    samples = handle.posterior_samples
    leaves = [samples] if not hasattr(samples, "layers") else jax.tree_util.tree_leaves(samples)
    ess = min(float(np.min(pl.bayesian.ess(np.asarray(l).reshape(4, keep, -1)))) for l in leaves)
    return seconds, ess


def main(solve_labels=("decay model, d = 3",)):
    inits = {"pathfinder": pl.bayesian.pathfinder(), "laplace (diagonal)": pl.bayesian.laplace(),
             "laplace (full)": pl.bayesian.laplace(hessian="full"), "svgd": pl.bayesian.svgd(num_iters=300)}
    for label, make in (("decay model, d = 3", decay_problem), ("1-16-1 network, d = 49", network_problem)):
        handle, terms = make()
        handle.bayesian(blackjax.nuts, warmup=10, keep=10)
        ld, position = logdensity_of(handle, terms)
        print(f"\n{label}")
        print(f"  {'initialiser':<20} {'first call (s)':>15} {'run (s)':>9} {'solve (s)':>10} {'min ESS':>8} {'ESS/s':>7}")
        solve = label in solve_labels  # NUTS on the network's multimodal posterior needs far more than 500 draws
        if solve:
            seconds, ess = time_solve(make, None)
            print(f"  {'cold':<20} {'':>15} {'':>9} {seconds:10.2f} {ess:8.0f} {ess / seconds:7.0f}")
        for name, init in inits.items():
            first, run = time_initializer(init, ld, position)
            row = f"  {name:<20} {first:15.2f} {run:9.3f}"
            if solve:
                seconds, ess = time_solve(make, init)
                row += f" {seconds:10.2f} {ess:8.0f} {ess / seconds:7.0f}"
            print(row)


if __name__ == "__main__":
    jnp.zeros(())  # start the backend before timing
    main()
