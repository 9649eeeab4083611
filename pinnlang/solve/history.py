"""Loss history of solves."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class History:
    """Per-step loss values of every solve on a core, concatenated.

    Attributes:
        names: loss term names.
        epochs: ``(S,)`` global epoch index of each recorded step.
        total: ``(S,)`` weighted total loss at each step.
        terms: ``(S, T)`` unweighted term values.
        wall_time: seconds spent in solves (compilation included).
        compile_time: seconds of the first chunk of each solve beyond a steady chunk (estimate).
        steps_per_second: steady-state rate of the last solve (chunks after the first).
    """

    names: list
    epochs: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    total: np.ndarray = field(default_factory=lambda: np.zeros((0,)))
    terms: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    wall_time: float = 0.0
    steps_per_second: float = float("nan")

    def append(self, epochs, total, terms):
        """Add a chunk of steps."""
        terms = np.asarray(terms)
        self.epochs = np.concatenate([self.epochs, np.asarray(epochs)])
        self.total = np.concatenate([self.total, np.asarray(total)])
        self.terms = terms if self.terms.size == 0 else np.concatenate([self.terms, terms])

    @property
    def total_loss(self) -> np.ndarray:
        """``(S,)`` total loss per recorded step."""
        return self.total

    def term(self, name_or_index) -> np.ndarray:
        """``(S,)`` values of one term, by name or index."""
        i = self.names.index(name_or_index) if isinstance(name_or_index, str) else int(name_or_index)
        return self.terms[:, i]

    def last(self) -> dict:
        """``{name: value}`` at the last recorded step, plus ``"total"``."""
        if len(self.total) == 0:
            return {}
        out = {n: float(v) for n, v in zip(self.names, self.terms[-1])}
        out["total"] = float(self.total[-1])
        return out

    def __len__(self) -> int:
        return len(self.total)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v:.3e}" for k, v in self.last().items())
        return f"History({len(self)} steps, {self.steps_per_second:.0f} steps/s, {last})"
