"""Export of a :class:`~pinnlang.solve.history.History` as a dict of arrays or a CSV file (no pandas)."""

from __future__ import annotations

import csv
import os

import numpy as np


def history_to_dict(history) -> dict[str, np.ndarray]:
    """The loss history as columns.

    Args:
        history: a ``History`` (reads ``names``, ``epochs (S,)``, ``total (S,)``, ``terms (S, T)``).

    Returns:
        ``{"epoch": (S,), "total": (S,), <term name>: (S,), ...}`` in term order; a term named
        ``"epoch"`` or ``"total"`` gets the prefix ``"term:"`` so no column is lost.
    """
    epochs = np.asarray(history.epochs)
    terms = np.asarray(history.terms).reshape(len(epochs), -1) if len(epochs) else np.zeros((0, len(history.names)))
    out = {"epoch": epochs, "total": np.asarray(history.total)}
    for i, name in enumerate(history.names):
        key = f"term:{name}" if name in ("epoch", "total") or name in out else str(name)
        out[key] = terms[:, i]
    return out


def history_to_csv(history, path) -> str:
    """Write the loss history as CSV: a header ``epoch,total,<terms>`` and one row per recorded step.

    Floats are written with ``repr`` precision, so reading the file back gives the same float64 values.

    Args:
        history: a ``History``.
        path: file to write (parent folders are created).

    Returns:
        The path written, as a string.
    """
    columns = history_to_dict(history)
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(columns))
        for row in zip(*columns.values()):
            w.writerow([int(v) if k == "epoch" else repr(float(v)) for k, v in zip(columns, row)])
    return path
