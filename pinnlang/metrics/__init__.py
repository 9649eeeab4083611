"""Accuracy and calibration metrics (``pl.metrics``), on NumPy arrays of predictions and draws.

Regression: :func:`relative_l2`, :func:`r2_score`, :func:`credible_interval`, :func:`coverage`,
:func:`interval_width`, :func:`gaussian_nll`, :func:`crps` (from draws), :func:`crps_gaussian` (closed form).
Classification: :func:`accuracy`, :func:`categorical_nll`, :func:`brier_score`, :func:`expected_calibration_error`,
:func:`calibration_bins`, :func:`entropy_decomposition` (total / aleatoric / epistemic).
"""

from .classification import (CalibrationBins, EntropyDecomposition, accuracy, brier_score, calibration_bins,
                             categorical_nll, entropy_decomposition, expected_calibration_error)
from .regression import (coverage, credible_interval, crps, crps_gaussian, gaussian_nll, interval_width, r2_score,
                         relative_l2)

__all__ = [
    "CalibrationBins", "EntropyDecomposition", "accuracy", "brier_score", "calibration_bins", "categorical_nll",
    "coverage", "credible_interval", "crps", "crps_gaussian", "entropy_decomposition", "expected_calibration_error",
    "gaussian_nll", "interval_width", "r2_score", "relative_l2",
]
