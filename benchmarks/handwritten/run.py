"""Print steady-state steps/s of the hand-written baselines: ``python -m benchmarks.handwritten.run``.

Each row builds the trainer, runs one untimed chunk (compile + warm-up), then times ``--repeats``
chunks of ``n`` steps, each closed by ``block_until_ready``; it prints the median and best rate.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics

import jax

from benchmarks.handwritten import burgers_1d, poisson_1d
from benchmarks.handwritten.train import time_steps

# (problem module, loop, deriv, steps per timed chunk)
CASES = [
    (poisson_1d, "scan", "jvp", 2000),
    (poisson_1d, "python", "jvp", 1000),
    (poisson_1d, "scan", "manual", 2000),
    (burgers_1d, "scan", "linearize", 200),
    (burgers_1d, "python", "linearize", 200),
    (burgers_1d, "scan", "jvp2", 200),
    (burgers_1d, "scan", "manual", 200),
]
SLOW_CASES = [(burgers_1d, "scan", "jvp_vmap", 50)]


def measure(module, loop: str, deriv: str, n_steps: int, repeats: int) -> list[float]:
    """Rates in steps/s of ``repeats`` timed chunks of one case."""
    builder = module.build if loop == "scan" else module.build_python_loop
    state, run = builder(0, deriv)
    return time_steps(run, state, n_steps, repeats)


def main(argv=None) -> None:
    """Parse ``--repeats``, ``--scale`` (multiplies chunk lengths) and ``--all``; print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--scale", type=float, default=1.0, help="multiply every chunk length")
    p.add_argument("--all", action="store_true", help="also time the slow jvp_vmap Burgers variant")
    args = p.parse_args(argv)
    print(f"jax {jax.__version__} on {jax.default_backend()} ({platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs), float32")
    print(f"{'problem':<12}{'loop':<8}{'deriv':<11}{'steps':>6}{'median/s':>11}{'best/s':>10}")
    for module, loop, deriv, n in CASES + (SLOW_CASES if args.all else []):
        n = max(1, int(n * args.scale))
        rates = measure(module, loop, deriv, n, args.repeats)
        name = module.__name__.rsplit(".", 1)[-1]
        print(f"{name:<12}{loop:<8}{deriv:<11}{n:>6}{statistics.median(rates):>11.0f}{max(rates):>10.0f}", flush=True)


if __name__ == "__main__":
    main()
