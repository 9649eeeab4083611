"""Reliability diagram of a classifier's top-label confidence."""

from __future__ import annotations

import numpy as np

from ..metrics import calibration_bins, expected_calibration_error
from ._base import figure, save


def reliability(probs, labels, *, n_bins: int = 10, path=None, title: str | None = None):
    """Accuracy against confidence per bin (bars), the diagonal of perfect calibration, and the bin counts.

    Args:
        probs: ``(n, C)`` class probabilities (average posterior draws first: the posterior predictive).
        labels: ``(n,)`` integer labels.
        n_bins: equal-width confidence bins.

    Returns:
        The figure (the title gives the expected calibration error).
    """
    b = calibration_bins(probs, labels, n_bins)
    ece = expected_calibration_error(probs, labels, n_bins)
    fig, axes = figure(1, 2, width=4.4, height=2.4, gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    ax, hist = axes[0, 0], axes[1, 0]
    centres, width = (b.edges[:-1] + b.edges[1:]) / 2, np.diff(b.edges)
    used = b.count > 0
    ax.bar(centres[used], b.accuracy[used], width=width[used], color="C0", alpha=0.7, edgecolor="k", lw=0.5,
           label="accuracy")
    ax.bar(centres[used], b.confidence[used] - b.accuracy[used], bottom=b.accuracy[used], width=width[used],
           color="C3", alpha=0.25, edgecolor="C3", lw=0.5, label="gap to confidence")
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    ax.set_xlim(0, 1), ax.set_ylim(0, 1), ax.set_ylabel("accuracy")
    ax.set_title((title + "\n" if title else "") + f"ECE = {ece:.3f} ({n_bins} bins)", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    hist.bar(centres, b.count, width=width, color="0.5")
    hist.set_xlabel("confidence (top-label probability)"), hist.set_ylabel("count")
    return save(fig, path)
