"""Classifier metrics: accuracy, negative log-likelihood, Brier score, expected calibration error, reliability bins,
entropy decomposition."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import ConfigurationError, ShapeError


def _probs_labels(probs, labels):
    p = np.asarray(probs, np.float64)
    if p.ndim != 2:
        raise ShapeError(f"class probabilities must be (n, C), got shape {p.shape}; average posterior draws first")
    y = np.asarray(labels).reshape(-1).astype(int)
    if y.shape[0] != p.shape[0]:
        raise ShapeError(f"{p.shape[0]} predictions but {y.shape[0]} labels")
    if y.min(initial=0) < 0 or y.max(initial=0) >= p.shape[1]:
        raise ConfigurationError(f"labels must lie in 0..{p.shape[1] - 1}")
    return p, y


def accuracy(probs, labels) -> float:
    """Fraction of inputs whose most probable class is the label (ties go to the lowest class index).

    Args:
        probs: ``(n, C)`` predicted class probabilities (or logits: only their argmax is used).
        labels: ``(n,)`` or ``(n, 1)`` integer labels.
    """
    p, y = _probs_labels(probs, labels)
    return float(np.mean(p.argmax(axis=1) == y))


def categorical_nll(probs, labels) -> float:
    """Mean negative log probability of the label, ``-mean_i log p_i[y_i]`` (nats; 0 is perfect).

    No clipping: a label given probability 0 makes it ``inf``. For a posterior predictive average the
    draws' probabilities first (``probs = softmax(logits).mean(draw axes)``), computed in float64 so that
    confident draws do not underflow.

    Args:
        probs: ``(n, C)`` predicted class probabilities.
        labels: ``(n,)`` or ``(n, 1)`` integer labels.
    """
    p, y = _probs_labels(probs, labels)
    if np.any(p < 0):
        raise ConfigurationError("categorical_nll needs probabilities >= 0 (pass softmax(logits), not logits)")
    with np.errstate(divide="ignore"):
        return float(-np.mean(np.log(p[np.arange(p.shape[0]), y])))


def brier_score(probs, labels) -> float:
    """Multi-class Brier score ``mean_i Σ_c (p_ic - [y_i = c])²`` (Brier 1950; 0 is perfect, 2 the worst).

    Args:
        probs: ``(n, C)`` predicted class probabilities.
        labels: ``(n,)`` or ``(n, 1)`` integer labels.
    """
    p, y = _probs_labels(probs, labels)
    onehot = np.eye(p.shape[1])[y]
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


class CalibrationBins(NamedTuple):
    """Top-label reliability statistics per confidence bin.

    Attributes:
        edges: ``(B + 1,)`` bin edges over ``[0, 1]``.
        confidence: ``(B,)`` mean top-label probability in each bin (NaN for an empty bin).
        accuracy: ``(B,)`` fraction of correct top labels in each bin (NaN for an empty bin).
        count: ``(B,)`` predictions in each bin.
    """

    edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    count: np.ndarray


def calibration_bins(probs, labels, n_bins: int = 15) -> CalibrationBins:
    """Bin the top-label confidence into ``n_bins`` equal-width bins ``(lo, hi]`` (the first includes 0)."""
    p, y = _probs_labels(probs, labels)
    if n_bins < 1:
        raise ConfigurationError(f"n_bins must be >= 1, got {n_bins}")
    conf, pred = p.max(axis=1), p.argmax(axis=1)
    correct = (pred == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.bincount(idx, conf, n_bins) / count
        accuracy = np.bincount(idx, correct, n_bins) / count
    return CalibrationBins(edges, confidence, accuracy, count)


def expected_calibration_error(probs, labels, n_bins: int = 15) -> float:
    """``ECE = Σ_b (n_b / n) |accuracy_b - confidence_b|`` over equal-width top-label bins (Guo et al. 2017)."""
    b = calibration_bins(probs, labels, n_bins)
    used = b.count > 0
    return float(np.sum(b.count[used] / b.count.sum() * np.abs(b.accuracy[used] - b.confidence[used])))


class EntropyDecomposition(NamedTuple):
    """Predictive uncertainty of a sampled classifier, per input, in nats.

    Attributes:
        total: ``H[E_θ p(y|x, θ)]``, the entropy of the posterior predictive.
        aleatoric: ``E_θ H[p(y|x, θ)]``, the expected entropy of each draw's prediction.
        epistemic: ``total - aleatoric``, the mutual information between ``y`` and ``θ`` (>= 0).
    """

    total: np.ndarray
    aleatoric: np.ndarray
    epistemic: np.ndarray


def _entropy(p, axis=-1):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=axis)


def entropy_decomposition(prob_draws, sample_axes: int = 1) -> EntropyDecomposition:
    """Split the predictive entropy of posterior draws of class probabilities (Depeweg et al. 2018).

    Args:
        prob_draws: ``(S, n, C)`` class probabilities per draw, or ``(K, N, n, C)`` with ``sample_axes=2``.

    Returns:
        An :class:`EntropyDecomposition` of ``(n,)`` arrays.
    """
    d = np.asarray(prob_draws, np.float64)
    if sample_axes not in (1, 2) or d.ndim != sample_axes + 2:
        raise ShapeError(f"prob_draws must be (S, n, C) (or (K, N, n, C) with sample_axes=2), got {d.shape}")
    d = d.reshape((-1,) + d.shape[sample_axes:])
    total = _entropy(d.mean(axis=0))
    aleatoric = _entropy(d).mean(axis=0)
    return EntropyDecomposition(total, aleatoric, np.maximum(total - aleatoric, 0.0))
