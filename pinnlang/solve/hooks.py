"""What a solve tells the outside world after each chunk: callbacks and experiment trackers.

A *callback* is any callable ``callback(report) -> bool | None``; returning ``True`` ends the
solve cleanly after that chunk (early stopping). A *tracker* has three methods::

    tracker.start(core, config)   # config: the JSON-able description of the problem (core.describe())
    tracker.log(report)           # once per chunk, a ChunkReport
    tracker.finish(core)          # once at the end (also after an interrupt or a failure)

A hook that raises is logged as a WARNING naming it and is not called again during that solve;
it never stops or corrupts the solve (``KeyboardInterrupt`` still propagates).
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import jax
import numpy as np

log = logging.getLogger("pinnlang")


class ChunkReport(NamedTuple):
    """One chunk of a solve, as seen by callbacks and trackers.

    Attributes:
        epoch: the global epoch reached at the end of the chunk.
        epochs: ``(L,)`` global epochs recorded in the chunk.
        total: ``(L,)`` total loss at those epochs (mean over chains when sampling).
        terms: ``{term name: (L,) values}``.
        metrics: flat ``{key: float}`` for trackers: ``loss/<term>``, ``loss/total``,
            ``steps_per_second``, ``lr/<handle name>`` (optimisers built with
            ``optax.inject_hyperparams``), and for each sampled handle
            ``posterior/<name>/n_samples``, ``n_chains``, ``mean`` (scalar parameters),
            ``n_is_divergent``, ``mean_acceptance_rate``, ``mean_energy`` (where the kernel has them).
        phase: ``"train"``, ``"warmup"`` or ``"sampling"``.
        core: the :class:`~pinnlang.solve.core.Core`; handles hold the chunk's values, so
            ``core.eval(...)`` works inside a callback (validation expressions).
    """

    epoch: int
    epochs: np.ndarray
    total: np.ndarray
    terms: dict
    metrics: dict
    phase: str
    core: Any


class Hooks:
    """The callbacks and trackers of one solve, each isolated from the others' failures."""

    def __init__(self, callbacks=(), trackers=()):
        for t in trackers:
            missing = [m for m in ("start", "log", "finish") if not callable(getattr(t, m, None))]
            if missing:
                from ..errors import ConfigurationError

                raise ConfigurationError(
                    f"tracker {t!r} lacks {', '.join(missing)}; a tracker has start(core, config), "
                    "log(report) and finish(core) (see pinnlang.solve.hooks), or pass a plain function "
                    "as a callback instead")
        for c in callbacks:
            if not callable(c):
                from ..errors import ConfigurationError

                raise ConfigurationError(f"callback {c!r} is not callable; pass functions report -> bool | None")
        self.callbacks = list(callbacks)
        self.trackers = list(trackers)
        self._dead: set = set()

    def __bool__(self) -> bool:
        return bool(self.callbacks or self.trackers)

    def _call(self, owner, fn, *args):
        if id(owner) in self._dead:
            return None
        try:
            return fn(*args)
        except KeyboardInterrupt:
            raise
        except Exception as err:  # noqa: BLE001 - a hook must never stop the solve
            self._dead.add(id(owner))
            log.warning("%s failed (%s: %s); it is skipped for the rest of this solve", _name(owner),
                        type(err).__name__, err)
            return None

    def start(self, core, config: dict):
        for t in self.trackers:
            self._call(t, t.start, core, config)

    def chunk(self, report: ChunkReport) -> bool:
        """Log the chunk; ``True`` when a callback asked to stop."""
        for t in self.trackers:
            self._call(t, t.log, report)
        stop = False
        for c in self.callbacks:
            stop = bool(self._call(c, c, report)) or stop
        return stop

    def finish(self, core):
        for t in self.trackers:
            self._call(t, t.finish, core)


def posterior_metrics(handles) -> dict[str, float]:
    """The spec's per-handle posterior statistics, for ``ChunkReport.metrics`` and trackers.

    For each handle with posterior draws (a repeated ``name`` gets a ``_<i>`` suffix):
    ``posterior/<name>/n_samples`` (draws per chain ``N``), ``n_chains`` (``K``), ``mean`` (parameters
    with one value only), ``n_is_divergent``, ``mean_acceptance_rate``, ``mean_energy`` (where the
    kernel reports them).

    Args:
        handles: ``crux.handles`` (a dict) or an iterable of handles.
    """
    items = list(handles.values()) if isinstance(handles, dict) else list(handles)
    out: dict[str, float] = {}
    seen: dict = {}
    for h in items:
        samples = h.posterior_samples
        if samples is None:
            continue
        n = seen.get(h.name, 0)
        seen[h.name] = n + 1
        p = f"posterior/{h.name if n == 0 else f'{h.name}_{n}'}"
        first = jax.tree_util.tree_leaves(samples)[0] if not isinstance(samples, np.ndarray) else samples
        out[f"{p}/n_samples"] = float(first.shape[1])
        out[f"{p}/n_chains"] = float(first.shape[0])
        if isinstance(samples, np.ndarray) and samples[0, 0].size == 1:
            out[f"{p}/mean"] = float(np.mean(samples))
        diag = h.posterior_diagnostics or {}
        if "is_divergent" in diag:
            out[f"{p}/n_is_divergent"] = float(np.sum(diag["is_divergent"]))
        for field in ("acceptance_rate", "energy", "num_integration_steps"):
            if field in diag:
                out[f"{p}/mean_{field}"] = float(np.mean(diag[field]))
    return out


def _name(obj) -> str:
    return getattr(obj, "__name__", None) or type(obj).__name__
