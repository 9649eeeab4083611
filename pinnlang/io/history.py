"""Export of a :class:`~pinnlang.solve.history.History` as a dict of arrays or a CSV file (no pandas)."""

from __future__ import annotations

import numpy as np


def history_to_dict(history) -> dict[str, np.ndarray]:
    """The loss history as columns (see :meth:`~pinnlang.solve.history.History.to_dict`)."""
    return history.to_dict()


def history_to_csv(history, path) -> str:
    """Write the loss history as CSV (see :meth:`~pinnlang.solve.history.History.to_csv`)."""
    return history.to_csv(path)
