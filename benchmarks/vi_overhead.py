"""Mean-field VI through pinnlang against a hand-written ``blackjax.meanfield_vi`` loop in ``lax.scan``.

Problem: tutorial 05's (A, B) inverse problem (99 points, σ = 0.1, N(0, 10²) priors), θ = (A, B) one
parameter; Adam(1e-2), 8 Monte Carlo draws per ELBO estimate. Both sides run ``--steps`` ELBO steps per
call; pinnlang's calls continue the same fit (the first call compiles). Interleaved, best of each
(target: within 1.1x). pinnlang records the ELBO of every step (its history), so the like-for-like
hand-written loop keeps it too, written in place; also timed: ``scan`` returning the infos (blackjax's
examples; slower, its stacked outputs are not written in place) and a loop keeping nothing (the floor:
XLA then also drops the ELBO's reduction). A solve also returns ``posterior_draws`` draws of q; one more
hand-written row draws them after each call too. The ratio is quoted against the like-for-like loop
without the draws.

Run: ``python benchmarks/vi_overhead.py [--steps N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import blackjax  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

import pinnlang as pl  # noqa: E402
from benchmarks.mcmc_overhead import PRIOR_SIGMA, SIGMA, START, make_data  # noqa: E402
from benchmarks.overhead import interleaved  # noqa: E402
from benchmarks.overhead import pinnlang_runner as timed_solves  # noqa: E402

DRAWS = 100  # posterior_draws of the VI solve: q's draws after every call


def pinnlang_runner(x, d, steps: int):
    dom = pl.domain.from_array({"interior": x[:, None]})
    xv, _ = dom.variable("interior")
    theta = pl.np.parameter((2,), name="theta", init=START)
    theta.vi(blackjax.meanfield_vi, optimizer=optax.adam(1e-2), num_samples=8, posterior_draws=DRAWS,
             prior=pl.bayesian.priors.gaussian(sigma=PRIOR_SIGMA))
    residual = theta[0:1] * pl.np.sin(pl.np.pi * xv) + theta[1:2] * pl.np.cos(pl.np.pi * xv) - pl.np.array(d[:, None])
    return timed_solves(pl.core([residual.gaussian_nll(SIGMA)], seed=0), steps)


def hand_runner(x, d, steps: int, keep: str = "none", draws: int = 0):
    """``advance()`` of a hand-written loop over ``meanfield_vi.step``; ``keep`` says what it records per step:
    ``"none"``, ``"ys"`` (``lax.scan`` returning the infos, as blackjax's examples do) or ``"elbo"`` (a
    ``fori_loop`` writing the ELBO into a preallocated buffer in place, the fastest way to keep it).
    ``draws``: also draw that many samples of q after each call and bring them to the host, as a
    ``solve`` with ``posterior_draws`` does."""
    sin, cos = jnp.sin(jnp.pi * jnp.asarray(x)), jnp.cos(jnp.pi * jnp.asarray(x))
    d = jnp.asarray(d)
    const = math.log(SIGMA) + 0.5 * math.log(2.0 * math.pi)

    def logdensity(theta):
        r = theta[0] * sin + theta[1] * cos - d
        prior = jnp.sum(-0.5 * jnp.square(theta / PRIOR_SIGMA) - math.log(PRIOR_SIGMA) - 0.5 * math.log(2 * math.pi))
        return -jnp.sum(0.5 * jnp.square(r / SIGMA) + const) + prior

    optimizer = optax.adam(1e-2)
    vi = blackjax.meanfield_vi(logdensity, optimizer, num_samples=8)

    @jax.jit
    def run(state, key):
        keys = jax.random.split(key, steps)
        if keep == "elbo":
            def body(i, c):
                s, elbo = c
                s, info = vi.step(keys[i], s)
                return s, jax.lax.dynamic_update_index_in_dim(elbo, -info.elbo, i, 0)

            return jax.lax.fori_loop(0, steps, body, (state, jnp.zeros(steps)))
        if keep == "ys":
            return jax.lax.scan(lambda s, k: vi.step(k, s), state, keys)
        return jax.lax.scan(lambda s, k: (vi.step(k, s)[0], None), state, keys)

    state = vi.init(jnp.asarray(START))
    box = [run(state, jax.random.PRNGKey(0))[0], jax.random.PRNGKey(1)]

    sample = jax.jit(lambda key, state: vi.sample(key, state, draws)) if draws else None

    def advance():
        t0 = time.perf_counter()
        key, sub = jax.random.split(box[1])
        box[0] = jax.block_until_ready(run(box[0], sub))[0]
        if sample is not None:
            jax.device_get(sample(jax.random.fold_in(sub, 1), box[0]))
        box[1] = key
        return steps / (time.perf_counter() - t0)

    return advance


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    x, d = make_data()
    best = interleaved({"pinnlang": pinnlang_runner(x, d, args.steps),
                        "elbo": hand_runner(x, d, args.steps, keep="elbo"),
                        "elbo_draws": hand_runner(x, d, args.steps, keep="elbo", draws=DRAWS),
                        "ys": hand_runner(x, d, args.steps, keep="ys"),
                        "none": hand_runner(x, d, args.steps, keep="none")}, args.repeats)
    print(f"mean-field VI, {args.steps} ELBO steps per call; steps/s and ratio to pinnlang "
          "(pinnlang keeps the ELBO of every step in its history):")
    rows = [("hand-written, ELBO kept in place (like for like)", "elbo"),
            (f"same, plus q's {DRAWS} posterior draws per call (what a solve returns)", "elbo_draws"),
            ("hand-written scan returning the infos (blackjax's idiom)", "ys"),
            ("hand-written scan keeping nothing (the floor)", "none"),
            ("pinnlang crux.solve", "pinnlang")]
    for label, k in rows:
        print(f"{label:<58} {best[k]:>10,.0f} {best[k] / best['pinnlang']:>8.3f}")


if __name__ == "__main__":
    main()
