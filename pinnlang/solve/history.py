"""Loss history of the solves of one core."""

from __future__ import annotations

import csv
import difflib
import os
from collections.abc import MutableMapping
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigurationError


@dataclass
class Segment:
    """One solve's part of the history: records ``start:stop`` of the arrays."""

    label: str
    start: int
    stop: int


class Traces(MutableMapping):
    """``{name: (epochs (S',), values (S',))}`` whose entries grow by chunks without copying what came before.

    :meth:`add` appends a chunk in O(chunk); reading an entry joins its chunks once (later reads are free).
    Appending by ``np.concatenate`` copied the whole trace at every solve: quadratic in the number of calls.
    """

    def __init__(self, items=None):
        self._parts: dict = {}
        for name, (e, v) in dict(items or {}).items():
            self[name] = (e, v)

    def add(self, name: str, epochs, values):
        self._parts.setdefault(name, []).append((np.asarray(epochs, np.int64), np.asarray(values, np.float64)))

    def __getitem__(self, name):
        parts = self._parts[name]
        if len(parts) > 1:
            parts[:] = [(np.concatenate([e for e, _ in parts]), np.concatenate([v for _, v in parts]))]
        return parts[0]

    def __setitem__(self, name, value):
        e, v = value
        self._parts[name] = [(np.asarray(e, np.int64), np.asarray(v, np.float64))]

    def __delitem__(self, name):
        del self._parts[name]

    def __iter__(self):
        return iter(self._parts)

    def __len__(self):
        return len(self._parts)

    def __repr__(self):
        return f"Traces({ {k: len(self[k][0]) for k in self} })"


class _Records:
    """``(epochs (S,), total (S,), terms (S, T))`` that grow by chunks: appending is O(chunk), reading joins
    the chunks once (later reads are free until the next append), and the last record needs no join.

    Concatenating the whole history at every chunk made a long series of short solves quadratic."""

    def __init__(self, epochs, total, terms):
        self._parts = [(np.asarray(epochs, np.int64), np.asarray(total), np.asarray(terms))]
        self._len = len(self._parts[0][0])

    def joined(self):
        if len(self._parts) > 1:
            parts = [p for p in self._parts if len(p[0])] or self._parts[:1]
            self._parts = [tuple(np.concatenate(cols) for cols in zip(*parts))]
        return self._parts[0]

    def append(self, epochs, total, terms):
        self._parts.append((np.asarray(epochs, np.int64), np.asarray(total), np.asarray(terms)))
        self._len += len(self._parts[-1][0])

    def last(self):
        """``(epoch, total, terms)`` of the last record, or ``None``."""
        for e, t, tr in reversed(self._parts):
            if len(e):
                return e[-1], t[-1], tr[-1]
        return None

    def __len__(self):
        return self._len


class History:
    """Per-step loss values of every solve on a core, concatenated (one object for all solves).

    Attributes:
        names: loss term names.
        epochs: ``(S,)`` global epoch of each record.
        total: ``(S,)`` weighted total loss (mean over chains when sampling).
        terms: ``(S, T)`` unweighted term values.
        segments: one :class:`Segment` per solve (``solve(..., label=...)``), so the phases of a
            workflow (Adam, then L-BFGS, then sampling) can be told apart: ``history.segment("lbfgs")``.
        wall_time: seconds spent in solves, compilation included.
        compile_time: seconds spent compiling (exact: the chunks are compiled ahead of their first run).
        steps_per_second: execution rate of the last solve, compilation excluded.
        traces: ``{name: (epochs (S',), values (S',))}`` of quantities recorded at every step besides the
            loss, e.g. ``"elbo/<group>"`` for a VI group (:meth:`trace`).

    Sampling-only chunks need no loss per step; they record one value per chunk. The records grow by
    chunks and are joined when first read.
    """

    def __init__(self, names, epochs=None, total=None, terms=None, segments=None, traces=None,
                 wall_time: float = 0.0, compile_time: float = 0.0, steps_per_second: float = float("nan")):
        self.names = names
        self._records = _Records(np.zeros((0,), np.int64) if epochs is None else epochs,
                                 np.zeros((0,)) if total is None else total,
                                 np.zeros((0, 0)) if terms is None else terms)
        self.segments = [] if segments is None else segments
        self.traces = Traces() if traces is None else traces
        self.wall_time, self.compile_time, self.steps_per_second = wall_time, compile_time, steps_per_second

    def _column(i):  # noqa: N805 (a property factory of the class body)
        def get(self):
            return self._records.joined()[i]

        def set_(self, value):
            cols = list(self._records.joined())
            cols[i] = value
            self._records = _Records(*cols)

        return property(get, set_)

    epochs, total, terms = _column(0), _column(1), _column(2)
    del _column

    def append(self, epochs, total, terms):
        """Add a chunk of records."""
        terms = np.asarray(terms)
        if not len(self._records):  # the first chunk sets the number of terms (the empty start is (0, 0))
            self._records = _Records(epochs, total, terms)
        else:
            self._records.append(epochs, total, terms)
        if self.segments:
            self.segments[-1].stop = len(self._records)

    def add_trace(self, name: str, epochs, values):
        """Append ``values`` at ``epochs`` to the trace ``name``."""
        self.traces.add(name, epochs, values)

    def trace(self, name: str) -> np.ndarray:
        """``(S',)`` values of a trace (``history.traces[name]``'s values), e.g. ``history.trace("elbo/a")``."""
        if name not in self.traces:
            close = difflib.get_close_matches(name, list(self.traces), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigurationError(f"no trace named {name!r}; the traces are {sorted(self.traces)}{hint}")
        return self.traces[name][1]

    def truncate_from(self, epoch: int):
        """Drop the records (and traces) from ``epoch`` on: a solve that continues after a non-finite stop
        replaces them. Reads nothing when the last record is before ``epoch`` (every other solve)."""
        last = self._records.last()
        if last is not None and last[0] >= epoch:
            self.truncate(int(np.searchsorted(self.epochs, epoch)))

    def truncate(self, length: int):
        """Keep the first ``length`` records (and the traces up to the same epoch)."""
        length = max(0, int(length))
        if length < len(self):
            first_dropped = int(self.epochs[length])
            for name, (e, v) in list(self.traces.items()):
                self.traces[name] = (e[e < first_dropped], v[e < first_dropped])
        self.epochs, self.total, self.terms = self.epochs[:length], self.total[:length], self.terms[:length]
        for s in self.segments:
            s.start, s.stop = min(s.start, length), min(s.stop, length)

    def begin(self, label: str):
        """Open the segment of a new solve."""
        n = len(self)
        self.segments.append(Segment(label, n, n))

    def segment(self, label_or_index) -> "History":
        """The records of one solve, by label (the last with that label) or index, as a History."""
        if isinstance(label_or_index, str):
            matches = [s for s in self.segments if s.label == label_or_index]
            if not matches:
                labels = sorted({s.label for s in self.segments})
                close = difflib.get_close_matches(label_or_index, labels, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigurationError(f"no segment labelled {label_or_index!r}; the segments are {labels}{hint}")
            s = matches[-1]
        else:
            s = self.segments[int(label_or_index)]
        return History(list(self.names), self.epochs[s.start:s.stop], self.total[s.start:s.stop],
                       self.terms[s.start:s.stop], [Segment(s.label, 0, s.stop - s.start)])

    @property
    def total_loss(self) -> np.ndarray:
        """``(S,)`` total loss per record."""
        return self.total

    def term(self, name_or_index) -> np.ndarray:
        """``(S,)`` values of one term, by name or index."""
        if isinstance(name_or_index, str):
            if name_or_index not in self.names:
                close = difflib.get_close_matches(name_or_index, self.names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigurationError(f"no loss term named {name_or_index!r}; the terms are {self.names}{hint}")
            return self.terms[:, self.names.index(name_or_index)]
        i = int(name_or_index)
        if not -len(self.names) <= i < len(self.names):
            raise ConfigurationError(f"term index {i} is out of range for {len(self.names)} terms {self.names}")
        return self.terms[:, i]

    def last(self) -> dict:
        """``{name: value}`` at the last record, plus ``"total"``."""
        last = self._records.last()
        if last is None:
            return {}
        out = {n: float(v) for n, v in zip(self.names, last[2])}
        out["total"] = float(last[1])
        return out

    def to_dict(self) -> dict:
        """The records as columns: ``{"epoch": (S,), "total": (S,), <term name>: (S,), ...}``.

        A term named ``"epoch"`` or ``"total"`` (or a repeated name) gets the prefix ``"term:"``, so no
        column is lost.
        """
        epochs = np.asarray(self.epochs)
        terms = np.asarray(self.terms).reshape(len(epochs), -1) if len(epochs) else np.zeros((0, len(self.names)))
        out = {"epoch": epochs.copy(), "total": np.asarray(self.total).copy()}
        for i, name in enumerate(self.names):
            key = f"term:{name}" if name in out else str(name)
            out[key] = terms[:, i].copy()
        return out

    def to_csv(self, path) -> str:
        """Write :meth:`to_dict` as CSV: a header line, then one row per record.

        Floats are written with ``repr`` precision, so reading the file back gives the same values.

        Returns:
            The path written (parent folders are created).
        """
        columns = self.to_dict()
        path = os.fspath(path)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(list(columns))
            for row in zip(*columns.values()):
                w.writerow([int(v) if k == "epoch" else repr(float(v)) for k, v in zip(columns, row)])
        return path

    def __len__(self) -> int:
        return len(self._records)

    def __repr__(self) -> str:
        if not len(self):
            return f"History(0 records; terms {self.names})"
        last = ", ".join(f"{k}={v:.3e}" for k, v in self.last().items())
        segs = ", ".join(f"{s.label}: {s.stop - s.start}" for s in self.segments)
        return (f"History({len(self)} records to epoch {int(self.epochs[-1])}; last {last}; "
                f"{self.steps_per_second:.0f} steps/s; compile {self.compile_time:.2f} s; segments [{segs}])")
