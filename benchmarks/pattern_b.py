"""Pattern B (Adam-trained body, SGLD-sampled head) against the same computation written by hand.

Problem: the specification's Bayesian-last-layer example: 32 noisy observations of sin(πx), a
1 → 16 → 16 → 1 tanh MLP, loss ``mean(((u - y) / σ)²)``. Every step: one ``value_and_grad`` of the loss
with respect to the whole network, an Adam(5e-3) update of the body (everything but the output layer),
then one SGLD(5e-4) step of the head on the log-density ``-loss`` at the new body. Draws are kept every
``thin = 2`` steps and reach the host: pinnlang keeps the loss of every iteration and, since the body
moves, the body with each head draw; the hand-written loop is timed keeping the same, and keeping the
head draws only. Both sides run the same number of steps per call
inside one jitted ``lax.scan``; pinnlang runs ``crux.solve(steps)`` calls that continue the chain (the
first call compiles). The runs are interleaved and the best rate of each is kept (target: within 1.1x).

Run: ``python benchmarks/pattern_b.py [--steps N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import blackjax  # noqa: E402
import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import pinnlang as pl  # noqa: E402
from benchmarks.overhead import interleaved  # noqa: E402
from benchmarks.overhead import pinnlang_runner as timed_solves  # noqa: E402

SIGMA, THIN = 0.05, 2


def data():
    rng = np.random.default_rng(0)
    x = np.linspace(-1.0, 1.0, 32).astype(np.float32).reshape(-1, 1)
    y = (np.sin(np.pi * x) + SIGMA * rng.normal(size=x.shape)).astype(np.float32)
    return x, y


def network():
    return pl.nn.mlp(1, hidden_dims=16, num_layers=2, key=jax.random.PRNGKey(0))


def pinnlang_runner(steps: int):
    x_np, y_np = data()
    dom = pl.domain.from_array({"train": x_np})
    x, _ = dom.variable("train")
    net = pl.nn.wrap(network(), name="u")
    head = eqx.tree_at(lambda m: m.output_layer, jax.tree_util.tree_map(lambda _: False, net.module),
                       replace=jax.tree_util.tree_map(lambda _: True, net.module.output_layer))
    net.optimizer(optax.adam(5e-3))
    net.mask(head).bayesian(blackjax.sgld, step_size=5e-4, warmup=0, keep=steps // THIN, thin=THIN,
                            prior=pl.bayesian.priors.gaussian(10.0))
    return timed_solves(pl.core([((net(x) - y_np) / SIGMA).mse]), steps)


def hand_runner(steps: int, like_for_like: bool = False):
    """The same update by hand: eqx.partition into body and head, optax on the body, blackjax.sgld on the head.

    ``like_for_like``: also keep what pinnlang keeps, the loss of every iteration and the body with each
    head draw (the body moves: each head draw is conditioned on the body of its step); otherwise only the
    head draws."""
    x_np, y_np = data()
    x, y = jnp.asarray(x_np), jnp.asarray(y_np)
    params, static = eqx.partition(network(), eqx.is_inexact_array)
    is_head = eqx.tree_at(lambda m: m.output_layer, jax.tree_util.tree_map(lambda _: False, params),
                          replace=jax.tree_util.tree_map(lambda _: True, params.output_layer))
    is_body = jax.tree_util.tree_map(lambda m: not m, is_head)
    body, head = eqx.filter(params, is_body), eqx.filter(params, is_head)
    opt = optax.adam(5e-3)
    sgld = blackjax.sgld
    log_2pi = float(np.log(2 * np.pi))

    def loss(p):
        return jnp.mean(jnp.square((jax.vmap(eqx.combine(p, static))(x) - y) / SIGMA))

    def log_prior(h):  # the default N(0, 10²), normalised
        return sum(jnp.sum(-0.5 * jnp.square(l / 10.0) - np.log(10.0) - 0.5 * log_2pi)
                   for l in jax.tree_util.tree_leaves(h))

    def step(carry, key):
        body, head, opt_state, _ = carry
        value, grads = jax.value_and_grad(loss)(eqx.combine(body, head))
        g_body = eqx.filter(grads, is_body)
        updates, opt_state = opt.update(g_body, opt_state, body)
        body = optax.apply_updates(body, updates)
        grad_head = jax.grad(lambda h: -loss(eqx.combine(body, h)) + log_prior(h))
        head = sgld(lambda pos, mb: grad_head(pos)).step(key, head, None, 5e-4)
        return (body, head, opt_state, value if like_for_like else carry[3]), None  # the floor drops the loss

    @jax.jit
    def run(carry, key):
        def block(c, k):
            c, _ = jax.lax.scan(step, c, jax.random.split(k, THIN))
            return c, ((c[0], c[1], c[3]) if like_for_like else c[1])

        return jax.lax.scan(block, carry, jax.random.split(key, steps // THIN))

    box = [(body, head, opt.init(body), jnp.zeros(())), jax.random.PRNGKey(1)]
    box[0], draws = run(*box)
    jax.block_until_ready(draws)

    def advance():
        t0 = time.perf_counter()
        key, sub = jax.random.split(box[1])
        carry, draws = run(box[0], sub)
        jax.device_get(draws)  # the draws reach the host, as pinnlang's do
        box[0], box[1] = carry, key
        return steps / (time.perf_counter() - t0)

    return advance


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args()
    print(f"device: {jax.devices()[0].device_kind}, jax {jax.__version__}, blackjax {blackjax.__version__}")
    best = interleaved({"pinnlang": pinnlang_runner(args.steps), "like": hand_runner(args.steps, like_for_like=True),
                        "head": hand_runner(args.steps)}, args.repeats)
    print(f"Pattern B (Adam body, SGLD head), {args.steps} steps per call; steps/s:")
    print(f"{'driver':<62} {'steps/s':>10} {'ratio hand/pinnlang':>20}")
    rows = [("hand-written, keeping loss, body and head per draw (like for like)", "like"),
            ("hand-written, keeping the head draws only", "head"), ("pinnlang crux.solve", "pinnlang")]
    for label, k in rows:
        print(f"{label:<62} {best[k]:>10,.0f} {best[k] / best['pinnlang']:>20.3f}")


if __name__ == "__main__":
    main()
