"""Accuracy and calibration of real-valued predictions: relative L2, R², intervals, Gaussian NLL, CRPS."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..errors import ConfigurationError, ShapeError


def _same_size(a, b, who: str):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.size != b.size:
        raise ShapeError(f"{who}: the arrays have {a.size} and {b.size} entries (shapes {a.shape}, {b.shape}); "
                         "pass values at the same points")
    return a.ravel(), b.ravel()


def relative_l2(pred, exact) -> float:
    """``‖pred - exact‖₂ / ‖exact‖₂`` over all entries (shapes may differ, sizes must not)."""
    p, e = _same_size(pred, exact, "relative_l2")
    return float(np.linalg.norm(p - e) / np.linalg.norm(e))


def r2_score(pred, truth) -> float:
    """Coefficient of determination ``1 - Σ (truth - pred)² / Σ (truth - mean(truth))²`` over all entries.

    1 is a perfect prediction, 0 that of the constant ``mean(truth)``; worse predictions are negative.
    The arguments are ordered like :func:`relative_l2` (prediction first; scikit-learn's ``r2_score``
    takes the truth first). Shapes may differ, sizes must not.
    """
    p, t = _same_size(pred, truth, "r2_score")
    total = float(np.sum((t - t.mean()) ** 2))
    if total == 0.0:
        raise ConfigurationError("r2_score: the true values are all equal, so R² is undefined")
    return 1.0 - float(np.sum((t - p) ** 2)) / total


def _draws(draws, sample_axes: int) -> np.ndarray:
    """``draws`` with its ``sample_axes`` leading axes merged into one ``(S, ...)``."""
    d = np.asarray(draws, np.float64)
    if sample_axes not in (1, 2) or d.ndim < sample_axes:
        raise ShapeError(f"sample_axes must be 1 (draws (S, ...)) or 2 (chains (K, N, ...)), got {sample_axes} "
                         f"for an array of shape {d.shape}")
    return d.reshape((-1,) + d.shape[sample_axes:])


def credible_interval(draws, level: float = 0.9, sample_axes: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed interval of posterior draws: the ``(1 ∓ level) / 2`` quantiles.

    Args:
        draws: ``(S, ...)`` draws, or ``(K, N, ...)`` chains with ``sample_axes=2``.
        level: probability mass inside the interval.

    Returns:
        ``(lower, upper)``, each of shape ``...``.
    """
    if not 0.0 < level < 1.0:
        raise ConfigurationError(f"level must lie strictly between 0 and 1, got {level}")
    d = _draws(draws, sample_axes)
    lo, hi = np.quantile(d, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi


def coverage(truth, lower, upper) -> float:
    """Fraction of entries with ``lower <= truth <= upper``."""
    t = np.asarray(truth, np.float64)
    lo, hi = np.broadcast_arrays(np.asarray(lower, np.float64), np.asarray(upper, np.float64))
    if t.size != lo.size:
        raise ShapeError(f"coverage: truth has {t.size} entries, the interval {lo.size}")
    t = t.reshape(lo.shape)
    return float(np.mean((lo <= t) & (t <= hi)))


def interval_width(lower, upper) -> float:
    """Mean width ``upper - lower`` over all entries."""
    return float(np.mean(np.asarray(upper, np.float64) - np.asarray(lower, np.float64)))


def gaussian_nll(y, mean, std) -> float:
    """Mean negative log density of ``y`` under ``N(mean, std²)``, per entry (nats).

    ``½ ((y - μ)/σ)² + log σ + ½ log 2π``, averaged; ``mean`` and ``std`` broadcast against ``y``.
    """
    y = np.asarray(y, np.float64)
    mean, std = np.broadcast_to(mean, y.shape).astype(np.float64), np.broadcast_to(std, y.shape).astype(np.float64)
    if np.any(std <= 0):
        raise ConfigurationError("gaussian_nll needs std > 0 everywhere")
    return float(np.mean(0.5 * ((y - mean) / std) ** 2 + np.log(std) + 0.5 * math.log(2 * math.pi)))


def crps(draws, y, sample_axes: int = 1) -> np.ndarray:
    """Continuous ranked probability score of an ensemble, per entry: ``E|X - y| - ½ E|X - X'|``.

    The expectation over pairs is the plain (V-statistic) mean over all ``S²`` pairs, computed in
    ``O(S log S)`` from the sorted draws: ``½ E|X - X'| = Σ_i (2i - S - 1) x_(i) / S²``. Lower is
    better; for a point forecast it is the absolute error.

    Args:
        draws: ``(S, ...)`` draws, or ``(K, N, ...)`` chains with ``sample_axes=2``.
        y: observations of shape ``...``.

    Returns:
        ``(...)`` CRPS per entry (average it for a score).
    """
    d = _draws(draws, sample_axes)
    y = np.asarray(y, np.float64)
    if y.shape != d.shape[1:]:
        if y.size != int(np.prod(d.shape[1:], dtype=int)):
            raise ShapeError(f"crps: observations of shape {y.shape} do not fit draws of shape {d.shape}")
        y = y.reshape(d.shape[1:])
    s = d.shape[0]
    spread = np.mean(np.abs(d - y), axis=0)
    ranks = (2 * np.arange(1, s + 1) - s - 1).reshape((s,) + (1,) * (d.ndim - 1))
    half_pairs = np.sum(ranks * np.sort(d, axis=0), axis=0) / s**2
    return spread - half_pairs


def crps_gaussian(y, mean, std) -> np.ndarray:
    """Closed-form CRPS of ``N(mean, std²)`` at ``y``: ``σ [z (2Φ(z) - 1) + 2φ(z) - 1/√π]``, ``z = (y-μ)/σ``.

    Gneiting & Raftery (2007), eq. (21). Broadcasting; returns the per-entry scores.
    """
    y, mean, std = (np.asarray(v, np.float64) for v in (y, mean, std))
    z = (y - mean) / std
    pdf = np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
    return std * (z * (2 * special.ndtr(z) - 1) + 2 * pdf - 1 / math.sqrt(math.pi))
