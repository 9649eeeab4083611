"""Shared command-line plumbing of the solver scripts: arguments, error report, plots."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np


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
    """``‖pred - exact‖₂ / ‖exact‖₂`` over all entries."""
    pred, exact = np.asarray(pred).ravel(), np.asarray(exact).ravel()
    return float(np.linalg.norm(pred - exact) / np.linalg.norm(exact))


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
    """Write ``fig`` to ``path`` (creating folders) when a path is given."""
    if path is None:
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    print(f"plot written to {path}")


def eval_on_grid(crux, net, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``net`` evaluated on the grid ``(A, B)`` (two meshgrid arrays of one shape); returns that shape."""
    import pinnlang as pl

    grid = pl.domain.from_array({"grid": np.stack([A.ravel(), B.ravel()], 1).astype(np.float32)})
    a, b, _ = grid.variable("grid")
    return np.asarray(crux.eval([net(a, b)]))[:, 0].reshape(A.shape)


def plot_fields(path: str | None, H: np.ndarray, V: np.ndarray, panels: list, labels=("x", "y")):
    """Colour maps of ``panels = [(field, title), ...]`` over the grid ``(H, V)``, written to ``path``."""
    if path is None:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), constrained_layout=True)
    for ax, (field, title) in zip(np.atleast_1d(axes), panels):
        im = ax.pcolormesh(H, V, field, shading="auto")
        fig.colorbar(im, ax=ax), ax.set_title(title), ax.set_xlabel(labels[0]), ax.set_ylabel(labels[1])
    save_figure(fig, path)
