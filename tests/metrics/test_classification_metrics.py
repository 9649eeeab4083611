"""Classifier metrics against hand-worked values, closed forms of miscalibration and scipy's entropy."""

import math

import numpy as np
import pytest
from scipy import stats

import pinnlang as pl


def test_brier_score_worked_example():
    probs = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4]])
    labels = np.array([0, 1, 1])
    # (0.3² + 0.3²), (0.2² + 0.2²), (0.6² + 0.6²) averaged = (0.18 + 0.08 + 0.72) / 3
    assert pl.metrics.brier_score(probs, labels) == pytest.approx(0.98 / 3, rel=1e-12)
    assert pl.metrics.brier_score(np.eye(3), [0, 1, 2]) == 0.0


def test_ece_of_a_known_miscalibration_and_of_a_calibrated_classifier():
    rng = np.random.default_rng(0)
    n = 20000
    # every prediction says 0.9 for class 0, and class 0 occurs 60 % of the time: ECE = |0.6 - 0.9| = 0.3
    probs = np.tile([0.9, 0.1], (n, 1))
    labels = (rng.uniform(size=n) > 0.6).astype(int)
    acc = np.mean(labels == 0)
    assert pl.metrics.expected_calibration_error(probs, labels) == pytest.approx(abs(acc - 0.9), rel=1e-12)
    # labels drawn from the predicted probabilities: calibrated, ECE of order 1/sqrt(n per bin)
    p1 = rng.uniform(size=n)
    probs = np.stack([1 - p1, p1], 1)
    labels = (rng.uniform(size=n) < p1).astype(int)
    assert pl.metrics.expected_calibration_error(probs, labels, n_bins=10) < 0.02
    b = pl.metrics.calibration_bins(probs, labels, n_bins=10)
    assert b.count.sum() == n and np.all(b.count[:5] == 0)  # top-label confidence is >= 0.5 for two classes


def test_entropy_decomposition_against_scipy_and_extreme_cases():
    rng = np.random.default_rng(1)
    draws = rng.dirichlet([1.0, 2.0, 3.0], size=(50, 4))  # (S, n, C)
    dec = pl.metrics.entropy_decomposition(draws)
    np.testing.assert_allclose(dec.total, stats.entropy(draws.mean(0), axis=-1), rtol=1e-12)
    np.testing.assert_allclose(dec.aleatoric, stats.entropy(draws, axis=-1).mean(0), rtol=1e-12)
    assert np.all(dec.epistemic >= 0) and np.allclose(dec.total, dec.aleatoric + dec.epistemic)
    # two confident draws that disagree: all the uncertainty is epistemic (log 2); identical draws: none
    disagree = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    d = pl.metrics.entropy_decomposition(disagree)
    assert d.total[0] == pytest.approx(math.log(2)) and d.aleatoric[0] == 0.0
    same = np.tile([[[0.5, 0.5]]], (3, 1, 1))
    d = pl.metrics.entropy_decomposition(same)
    assert d.epistemic[0] == pytest.approx(0.0, abs=1e-15) and d.aleatoric[0] == pytest.approx(math.log(2))
    chains = draws.reshape(2, 25, 4, 3)
    np.testing.assert_allclose(pl.metrics.entropy_decomposition(chains, sample_axes=2).total, dec.total)


def test_shape_errors():
    with pytest.raises(pl.errors.ShapeError):
        pl.metrics.brier_score(np.ones((2, 2, 2)), [0, 1])
    with pytest.raises(pl.errors.ConfigurationError):
        pl.metrics.brier_score(np.ones((2, 2)) / 2, [0, 2])


def test_accuracy_and_categorical_nll_against_numpy_and_scipy_references():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(200, 5)) * 3
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    labels = rng.integers(0, 5, size=200)
    # a straightforward loop, and scipy's log-softmax of the logits
    want_acc = sum(int(np.argmax(p) == y) for p, y in zip(probs, labels)) / 200
    assert pl.metrics.accuracy(probs, labels) == want_acc
    assert pl.metrics.accuracy(logits, labels[:, None]) == want_acc  # logits have the same argmax; (n, 1) labels
    from scipy.special import log_softmax
    want_nll = -np.mean(log_softmax(logits, axis=1)[np.arange(200), labels])
    assert pl.metrics.categorical_nll(probs, labels) == pytest.approx(want_nll, rel=1e-12)
    # a uniform prediction costs log C per input; a certain wrong one is infinite (no clipping)
    assert pl.metrics.categorical_nll(np.full((3, 4), 0.25), [0, 1, 2]) == pytest.approx(math.log(4))
    assert pl.metrics.categorical_nll(np.eye(2), [1, 0]) == math.inf
    with pytest.raises(pl.errors.ConfigurationError, match="probabilities"):
        pl.metrics.categorical_nll(logits, labels)
