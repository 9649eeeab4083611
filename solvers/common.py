"""Shared command-line plumbing of the solver scripts: arguments, error report, writing the figure."""

from __future__ import annotations

import argparse
import os
import time


def parse_args(description: str, epochs: int):
    """``--epochs``, ``--plot PATH`` and ``--smoke`` (also ``PINNLANG_SMOKE=1``: a few steps only)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--plot", type=str, default=None, help="write a PNG of the solution here")
    p.add_argument("--smoke", action="store_true", help="run a few steps only (CI)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if args.smoke or os.environ.get("PINNLANG_SMOKE") == "1":
        args.epochs = min(args.epochs, 50)
        args.smoke = True
    return args


def relative_l2(pred, exact) -> float:
    """``‖pred - exact‖₂ / ‖exact‖₂`` over all entries (``pl.metrics.relative_l2``)."""
    import pinnlang as pl

    return pl.metrics.relative_l2(pred, exact)


class Timer:
    """``with Timer() as t: ...; t.seconds``."""

    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0


def report(name: str, rel_l2: float, seconds: float, steps_per_second: float | None = None):
    """Print the one-line result every solver ends with."""
    rate = f" | {steps_per_second:,.0f} steps/s (Adam)" if steps_per_second else ""
    print(f"{name}: relative L2 error {rel_l2:.3e} | wall time {seconds:.1f} s{rate}")


def save_figure(fig, path: str | None):
    """Write a ``pl.plot`` figure to ``path`` (creating folders) when a path is given."""
    if path is None:
        return
    import pinnlang as pl

    pl.plot.save(fig, path)
    print(f"plot written to {path}")
