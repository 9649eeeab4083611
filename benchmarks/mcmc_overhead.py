"""Overhead of pinnlang's MCMC loop against the same NUTS kernel driven by a hand-written ``lax.scan``.

Problem: d(x) = A·sin(πx) + B·cos(πx) + N(0, 0.1²) on 99 grid points of (0, 1); θ = (A, B) is one
parameter of shape (2,). Both sides sample the same log-density

    log p(θ | d) = -Σ_i [½ (r_i/σ)² + log σ + ½ log 2π] + Σ_j log N(θ_j; 0, 10²)

with ``blackjax.nuts`` at a fixed step size and identity inverse mass matrix (no adaptation), one
chain, float32, from the same start. pinnlang: ``theta.bayesian(blackjax.nuts, adapt=False, ...)``,
timed on repeated ``crux.solve(steps)`` calls that continue the chain (the first call compiles).
Hand-written: plain JAX + blackjax, a jitted ``lax.scan`` over ``nuts.step`` emitting the positions.
A third runner is the hand-written loop with the one chain stepped through ``jax.vmap`` (a leading
chain axis of size 1), as a K-chain driver does: NUTS's tree building is a ``while_loop``, and vmapping
it adds a select over the loop state at every iteration, which on CPU is most of the difference
between the first two rows. NUTS does a random amount of work per step (the tree depth), so all run
long enough that the mean work per sample is the same (compare the acceptance rates printed); the
runs are interleaved and the best rate of each is kept (target: pinnlang within 1.1x of hand-written).

Run: ``python benchmarks/mcmc_overhead.py [--steps N] [--repeats R] [--step-size EPS]``.
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
import numpy as np  # noqa: E402

import pinnlang as pl  # noqa: E402
from benchmarks.overhead import interleaved  # noqa: E402

A_TRUE, B_TRUE, SIGMA, PRIOR_SIGMA = 3.14, -2.71, 0.1, 10.0
START = np.array([3.0, -2.5], np.float32)


def make_data(seed: int = 0):
    """``(x, d)``: the 99 interior nodes of a 0.01 grid on [0, 1] and noisy data there, float32 ``(99,)``."""
    x = np.linspace(0.0, 1.0, 101)[1:-1]
    noise = SIGMA * np.random.default_rng(seed).standard_normal(x.size)
    d = A_TRUE * np.sin(np.pi * x) + B_TRUE * np.cos(np.pi * x) + noise
    return x.astype(np.float32), d.astype(np.float32)


def pinnlang_runner(x, d, step_size: float, steps: int):
    """``advance()`` timing one ``crux.solve(steps)`` that continues the chain (compiled by a first call)."""
    dom = pl.domain.from_array({"interior": x[:, None]})
    xv, _ = dom.variable("interior")
    theta = pl.np.parameter((2,), name="theta", init=START)
    theta.bayesian(blackjax.nuts, step_size=step_size, adapt=False, warmup=0, keep=steps, num_chains=1,
                   prior=pl.bayesian.priors.gaussian(sigma=PRIOR_SIGMA))
    residual = theta[0:1] * pl.np.sin(pl.np.pi * xv) + theta[1:2] * pl.np.cos(pl.np.pi * xv) - pl.np.array(d[:, None])
    crux = pl.core([residual.gaussian_nll(SIGMA)], seed=0)
    crux.solve(steps, print_rate=steps, progress=False)

    def advance():
        t0 = time.perf_counter()
        crux.solve(steps, print_rate=steps, progress=False)
        return steps / (time.perf_counter() - t0)

    return advance, theta


def hand_runner(x, d, step_size: float, steps: int, vmapped: bool = False):
    """``advance()`` timing one chunk of a hand-written ``lax.scan`` over ``blackjax.nuts(...).step``.

    ``vmapped``: step the one chain through ``jax.vmap`` on a leading chain axis of size 1, as a
    K-chain driver does (this isolates what vectorising over chains costs NUTS's while loops).
    """
    sin, cos = jnp.sin(jnp.pi * jnp.asarray(x)), jnp.cos(jnp.pi * jnp.asarray(x))  # (99,) each
    d = jnp.asarray(d)
    const = math.log(SIGMA) + 0.5 * math.log(2.0 * math.pi)

    def logdensity(theta):
        r = theta[0] * sin + theta[1] * cos - d  # elementwise: a (99, 2) matvec is slower on CPU
        loglik = -jnp.sum(0.5 * jnp.square(r / SIGMA) + const)
        logprior = jnp.sum(-0.5 * jnp.square(theta / PRIOR_SIGMA) - math.log(PRIOR_SIGMA) - 0.5 * math.log(2 * math.pi))
        return loglik + logprior

    nuts = blackjax.nuts(logdensity, step_size=step_size, inverse_mass_matrix=jnp.ones(2, jnp.float32))
    step = jax.vmap(nuts.step) if vmapped else nuts.step

    @jax.jit
    def run(state, key):
        def one(s, k):
            s, info = step(k[None] if vmapped else k, s)
            return s, (s.position, info.acceptance_rate)

        return jax.lax.scan(one, state, jax.random.split(key, steps))

    state = nuts.init(jnp.asarray(START))
    if vmapped:
        state = jax.tree_util.tree_map(lambda a: a[None], state)
    box = [state, jax.random.PRNGKey(1)]
    box[0], out = run(box[0], box[1])
    jax.block_until_ready(out)
    samples = []

    def advance():
        t0 = time.perf_counter()
        key, sub = jax.random.split(box[1])
        state, out = run(box[0], sub)
        out = jax.device_get(out)  # the samples reach the host, as pinnlang's do
        rate = steps / (time.perf_counter() - t0)
        box[0], box[1] = state, key
        samples.append(out)
        return rate

    return advance, samples


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--step-size", type=float, default=0.005)
    args = p.parse_args()
    print(f"device: {jax.devices()[0].device_kind}, jax {jax.__version__}, blackjax {blackjax.__version__}")
    x, d = make_data()
    ours, theta = pinnlang_runner(x, d, args.step_size, args.steps)
    hand, hand_samples = hand_runner(x, d, args.step_size, args.steps)
    hand_vmap, _ = hand_runner(x, d, args.step_size, args.steps, vmapped=True)
    best = interleaved({"pinnlang": ours, "hand": hand, "hand_vmap": hand_vmap}, args.repeats)
    # Same posterior and same work per sample: means and acceptance agree within Monte Carlo error.
    hs = np.concatenate([s[0] for s in hand_samples]).reshape(-1, 2)
    acc_hand = float(np.mean(np.concatenate([s[1] for s in hand_samples])))
    ps = theta.posterior_samples[0]
    acc_ours = float(np.mean(theta.posterior_diagnostics["acceptance_rate"]))
    print(f"posterior mean  hand-written {hs.mean(0)}  pinnlang (last solve) {ps.mean(0)}; "
          f"mean acceptance {acc_hand:.3f} / {acc_ours:.3f}")
    o = best["pinnlang"]
    print(f"NUTS on the (A, B) problem, eps={args.step_size:g}, 1 chain, {args.steps} samples per call; samples/s:")
    print(f"{'driver':<40} {'samples/s':>10} {'ratio to pinnlang':>18}")
    for name, label in [("hand", "hand-written lax.scan over nuts.step"),
                        ("hand_vmap", "hand-written, vmapped over 1 chain"), ("pinnlang", "pinnlang crux.solve")]:
        print(f"{label:<40} {best[name]:>10,.0f} {best[name] / o:>18.3f}")


if __name__ == "__main__":
    main()
