"""Overhead of pinnlang against the same training loop written by hand in plain JAX + optax.

Both sides use the same collocation points, network shape (tanh MLP), optimiser (adam 1e-3) and a
``lax.scan`` over steps; the hand-written side takes u, u_x, u_xx from one nested forward-mode pass.
Prints the best steady-state steps/s of each over interleaved rounds, and the ratio (target: pinnlang within 1.1x).

Run: ``python benchmarks/overhead.py [--steps N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jax  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import pinnlang as pl  # noqa: E402
from benchmarks.handwritten import burgers_1d as hand_burgers  # noqa: E402
from benchmarks.handwritten import poisson_1d as hand_poisson  # noqa: E402


def pinnlang_poisson():
    """Poisson 1-D on the hand-written problem's 201 points (3x32 tanh, adam 1e-3)."""
    pts = np.linspace(-1.0, 1.0, 201, dtype=np.float32)[:, None]
    dom = pl.domain.from_array({"interior": pts, "boundary": np.array([[-1.0], [1.0]], np.float32)})
    x, _ = dom.variable("interior")
    xb, _ = dom.variable("boundary")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=32, num_layers=3, key=jax.random.PRNGKey(0)), name="u")
    net.optimizer(optax.adam(1e-3))
    pde = pl.diff(net(x), x, order=2) + pl.np.pi**2 * pl.np.sin(pl.np.pi * x)
    return pl.core([pde.mse, net(xb).mse])


def pinnlang_burgers():
    """Burgers 1-D on the hand-written problem's points (2000/200/200, 4x32 tanh, adam 1e-3)."""
    xt_f, xt_b, xt_0, u0 = (np.asarray(a) for a in hand_burgers.make_data(0))
    dom = pl.domain.from_array({"interior": xt_f, "boundary": xt_b, "initial": xt_0})
    x, t, _ = dom.variable("interior")
    xb, tb, _ = dom.variable("boundary")
    x0, t0, _ = dom.variable("initial")
    net = pl.nn.wrap(pl.nn.mlp(2, hidden_dims=32, num_layers=4, key=jax.random.PRNGKey(0)), name="u")
    net.optimizer(optax.adam(1e-3))
    u = net(x, t)
    pde = pl.diff(u, t) + u * pl.diff(u, x) - hand_burgers.NU * pl.diff(u, x, order=2)
    return pl.core([pde.mse, net(xb, tb).mse, (net(x0, t0) - pl.np.array(u0)).mse])


def pinnlang_runner(crux, steps: int):
    """``advance()`` running one timed ``crux.solve(steps)`` (compiled by a first untimed call)."""
    crux.solve(steps, print_rate=steps, progress=False)

    def advance():
        t0 = time.perf_counter()
        crux.solve(steps, print_rate=steps, progress=False)
        return steps / (time.perf_counter() - t0)

    return advance


def hand_runner(module, steps: int, deriv: str):
    """``advance()`` running one timed chunk of the hand-written scan loop."""
    state, run = module.build(0, deriv)
    box = [run(state, steps)[0]]
    jax.block_until_ready(box[0])

    def advance():
        t0 = time.perf_counter()
        state, losses = run(box[0], steps)
        jax.block_until_ready(losses)
        box[0] = state
        return steps / (time.perf_counter() - t0)

    return advance


def interleaved(runners: dict, repeats: int) -> dict:
    """Best steps/s of each runner over ``repeats`` rounds, alternating so machine noise hits all alike."""
    rates = {k: [] for k in runners}
    for _ in range(repeats):
        for k, advance in runners.items():
            rates[k].append(advance())
    return {k: max(v) for k, v in rates.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    print(f"device: {jax.devices()[0].device_kind}, jax {jax.__version__}")
    print(f"{'problem':<10} {'hand-written (derivatives)':>30} {'pinnlang':>10} {'ratio hand/pinnlang':>20}")
    for name, hand, ours, steps, derivs in [
        ("poisson", hand_poisson, pinnlang_poisson, args.steps, ["jvp"]),
        ("burgers", hand_burgers, pinnlang_burgers, max(args.steps // 5, 100), ["jvp2", "linearize"]),
    ]:
        runners = {"pinnlang": pinnlang_runner(ours(), steps)}
        runners.update({d: hand_runner(hand, steps, d) for d in derivs})
        best = interleaved(runners, args.repeats)
        o = best["pinnlang"]
        for deriv in derivs:
            h = best[deriv]
            print(f"{name:<10} {f'{h:,.0f} ({deriv})':>30} {o:>10,.0f} {h / o:>20.3f}")


if __name__ == "__main__":
    main()
