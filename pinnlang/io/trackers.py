"""Experiment trackers (the protocol of :mod:`pinnlang.solve.hooks`) and the posterior metrics they log.

A tracker has ``start(core, config)``, ``log(report)`` and ``finish(core)``; pass instances to
``crux.solve(..., trackers=[...])``. :class:`LocalTracker` needs no service: a run folder with
``config.json``, ``metrics.csv`` / ``metrics.jsonl`` (one row per chunk), and at the end
``history.csv``, ``summary.txt`` / ``summary.json`` and figures. The W&B tracker is in
:mod:`pinnlang.io.wandb`. A tracker that cannot write (a full disk) logs a WARNING and carries on:
the solve never depends on it.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
from pathlib import Path

import numpy as np

from ..solve.hooks import posterior_metrics  # noqa: F401  (re-exported as pl.io.posterior_metrics)
from .posterior import is_array_valued, sampled_handles

log = logging.getLogger("pinnlang")


def report_metrics(report) -> dict[str, float]:
    """``report.metrics``, completed with ``loss/<term>`` and ``loss/total`` (last value of the chunk)."""
    out = {k: float(v) for k, v in dict(report.metrics or {}).items()}
    for name, values in dict(report.terms or {}).items():
        values = np.asarray(values)
        if values.size:
            out.setdefault(f"loss/{name}", float(values.reshape(-1)[-1]))
    total = np.asarray(report.total)
    if total.size:
        out.setdefault("loss/total", float(total.reshape(-1)[-1]))
    return out


def jsonable(obj):
    """``json.dumps`` default: arrays and numbers as lists/floats, anything else as its ``repr``."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    return repr(obj)


def _finite(v):
    return v if not isinstance(v, float) or math.isfinite(v) else None


class LocalTracker:
    """A run folder that needs no service.

    Files: ``config.json`` (at start), ``metrics.csv`` and ``metrics.jsonl`` (one row per chunk:
    ``epoch``, ``phase`` and every metric), and at the end ``history.csv`` (every recorded step),
    ``summary.txt`` / ``summary.json`` (when handles were sampled) and ``loss.png`` /
    ``posterior.png`` (when matplotlib is installed and ``figures=True``).

    Args:
        run_dir: the folder (created if missing).
        figures: write the final figures.
    """

    def __init__(self, run_dir, *, figures: bool = True):
        self.run_dir = Path(run_dir)
        self.figures = figures
        self.rows: list[dict] = []
        self._columns: list[str] = []
        self._warned: set = set()

    # -- the tracker protocol ------------------------------------------------------------------
    def start(self, core, config: dict):
        """Create the folder and write ``config.json``."""
        self.rows, self._columns = [], []
        self._write("config.json", lambda f: json.dump(config, f, indent=2, default=jsonable))

    def log(self, report):
        """Append one row to ``metrics.jsonl`` and ``metrics.csv``."""
        row = {"epoch": int(report.epoch), "phase": str(report.phase), **report_metrics(report)}
        self.rows.append(row)
        self._write("metrics.jsonl", lambda f: f.write(json.dumps({k: _finite(v) for k, v in row.items()}) + "\n"),
                    mode="a")
        new = [k for k in row if k not in self._columns]
        if new or not self._columns:  # a new column: rewrite the file with the wider header
            self._columns += new
            self._write("metrics.csv", self._write_csv)
        else:
            self._write("metrics.csv", lambda f: csv.writer(f).writerow(self._csv_row(row)), mode="a")

    def finish(self, core):
        """Write ``history.csv``, the summary (if sampled) and the figures."""
        from .history import history_to_csv

        history = getattr(core, "history", None)
        if history is not None and len(history.total):
            self._guard("history.csv", lambda: history_to_csv(history, self.run_dir / "history.csv"))
        if sampled_handles(core.handles):
            self._guard("summary", lambda: self._write_summary(core))
        if self.figures:
            self._guard("figures", lambda: self._write_figures(core))

    # -- files ---------------------------------------------------------------------------------
    def _csv_row(self, row: dict) -> list:
        return [row.get(c, "") for c in self._columns]

    def _write_csv(self, f):
        w = csv.writer(f)
        w.writerow(self._columns)
        for r in self.rows:
            w.writerow(self._csv_row(r))

    def _write_summary(self, core):
        from .summary import summary

        table = summary(core, show=False)
        self._write("summary.txt", lambda f: f.write(str(table) + "\n"))
        self._write("summary.json", lambda f: json.dump(table.to_dict(), f, indent=2, default=jsonable))

    def _write_figures(self, core):
        from .. import plot

        history = getattr(core, "history", None)
        if history is not None and len(history.total):
            plot.loss_history(history, path=self.run_dir / "loss.png")
        params = [h for h in sampled_handles(core.handles) if is_array_valued(h)]
        if params:
            plot.marginals(core, path=self.run_dir / "posterior.png")

    def _write(self, name: str, fn, mode: str = "w"):
        def go():
            self.run_dir.mkdir(parents=True, exist_ok=True)
            with open(self.run_dir / name, mode, newline="" if name.endswith(".csv") else None) as f:
                fn(f)

        self._guard(name, go)

    def _guard(self, what: str, fn):
        """Run ``fn``; a failure (full disk, missing optional package) is a WARNING, not an error."""
        try:
            return fn()
        except (OSError, ImportError, ValueError, RuntimeError) as err:
            level = logging.WARNING if what not in self._warned else logging.DEBUG
            self._warned.add(what)
            log.log(level, "LocalTracker(%s): could not write %s (%s: %s); the solve goes on",
                    os.fspath(self.run_dir), what, type(err).__name__, err)
            return None
