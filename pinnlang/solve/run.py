"""Running a solve chunk by chunk: history, draws, hooks, checkpoints, interrupts and non-finite losses.

A solve is a list of chunks fixed at its start (:class:`RunRecord`): warmup, burn-in and the
collection of the last ``keep`` draws, each cut at ``print_rate`` steps. Each chunk is one
dispatch of the compiled runner and one host transfer; its results (history, draws, state) are
committed together, with ``KeyboardInterrupt`` deferred during the commit, so an interrupted
solve stops at the last completed chunk and can be resumed exactly.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from dataclasses import asdict, dataclass

import jax
import numpy as np

from ..errors import NonFiniteLossError
from .hooks import ChunkReport

log = logging.getLogger("pinnlang")


@dataclass
class RunRecord:
    """The chunks of one solve and how far it got (JSON-able, stored in checkpoints).

    Attributes:
        epochs: steps requested.
        print_rate: steps per chunk.
        start_epoch: the global epoch at the start of the solve.
        chunks: ``[iterations, collect, phase]`` per chunk (an iteration is ``thin`` steps when collecting).
        thin: steps per kept draw.
        done: chunks completed.
        label: the history segment's label.
        checkpoint, checkpoint_every: where and how often to save.
        last_checkpoint: the epoch of the last checkpoint written.
        stages: the substeps of the solve, if any.
    """

    epochs: int
    print_rate: int
    start_epoch: int
    chunks: list
    thin: int
    label: str
    done: int = 0
    checkpoint: str | None = None
    checkpoint_every: int | None = None
    last_checkpoint: int = 0
    resample_every: int | None = None
    failed: bool = False
    stages: list | None = None  # substeps: [[term indices], steps, [group indices], label] per stage

    @property
    def finished(self) -> bool:
        return self.failed or self.done >= len(self.chunks)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> "RunRecord":
        return cls(**d)


def chunk_plan(epochs: int, print_rate: int, thin: int, keep: int, warmup_left: int, sampled: bool) -> list:
    """``[iterations, collect, phase]`` chunks of a solve.

    Sampling solves run the remaining warmup, then burn-in, then collect the last
    ``min(keep, (epochs - warmup) // thin)`` draws, one every ``thin`` steps.
    """
    if not sampled:
        phases = [(epochs, False, "train")]
    else:
        n_draws = min(keep, (epochs - warmup_left) // thin) if epochs > warmup_left else 0
        burn = epochs - n_draws * thin
        w = min(warmup_left, burn)
        phases = [(w, False, "warmup"), (burn - w, False, "sampling"), (n_draws, True, "sampling")]
    chunks = []
    for length, collect, phase in phases:
        size = max(1, print_rate // (thin if collect else 1))
        while length > 0:
            n = min(size, length)
            chunks.append([n, collect, phase])
            length -= n
    return chunks


@contextlib.contextmanager
def deferred_interrupt():
    """Hold ``KeyboardInterrupt`` until the block ends (main thread only), so commits are atomic."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda *a: caught.append(a))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt


class Execution:
    """The loop over the chunks of a :class:`RunRecord` on a core (see :meth:`Core.solve`)."""

    def __init__(self, core, engine, record: RunRecord, buffer, hooks, bar):
        self.core, self.engine, self.record = core, engine, record
        self.buffer, self.hooks, self.bar = buffer, hooks, bar
        self.previous = None  # (state, chunk) at the start of the last completed chunk, for NaN recovery

    def chunk_epochs(self, start: int, iterations: int, collect: bool, records: int) -> np.ndarray:
        per = self.record.thin if collect else 1
        ep = start + per * np.arange(1, iterations + 1) - 1
        return ep if records == iterations else ep[-1:]

    def compiled(self, args):
        """The engine's chunk program as an executable, compiled (and timed) on first use."""
        run = self.engine.runner(self.record.print_rate)
        key = (id(self.engine), run)
        if key not in self.core._executables:
            t0 = time.perf_counter()
            self.core._executables[key] = run.lower(*args).compile()
            self.core.history.compile_time += time.perf_counter() - t0
        return self.core._executables[key]

    def chunk_args(self, state, iterations: int, collect: bool):
        return (state, np.int32(iterations), np.int32(self.record.thin if collect else 1), np.bool_(collect),
                self.engine.step_bases(state.key))

    def run_chunk(self, state, iterations: int, collect: bool):
        """One chunk: ``(state, totals, terms, draws, infos, traces)``, host arrays cut to the chunk's length
        (``draws``/``infos`` are ``None`` unless collecting)."""
        args = self.chunk_args(state, iterations, collect)
        new_state, buffers = self.compiled(args)(*args)
        run = self.engine.runner(self.record.print_rate)
        return (new_state,) + run.unpack(state, args[4], buffers, iterations, collect)

    def execute(self):
        """Run the remaining chunks; returns the steps per second (compilation excluded)."""
        core, rec = self.core, self.record
        steps, seconds = 0, 0.0
        while rec.done < len(rec.chunks):
            iterations, collect, phase = rec.chunks[rec.done]
            state = core._state
            self.compiled(self.chunk_args(state, iterations, collect))  # outside the timed region
            t0 = time.perf_counter()
            new_state, totals, terms, draws, infos, traces = self.run_chunk(state, iterations, collect)
            dt = time.perf_counter() - t0
            per = rec.thin if collect else 1
            steps, seconds = steps + iterations * per, seconds + dt
            ep = self.chunk_epochs(core.epoch, iterations, collect, len(totals))
            if not np.all(np.isfinite(totals)):
                self.fail(state, (iterations, collect, phase), totals, terms, ep, traces)
            with deferred_interrupt():
                core.history.append(ep, totals, terms)
                self.record_traces(core.epoch, iterations, collect, traces)
                if collect:
                    self.buffer.append(draws, infos)
                self.previous = (state, (iterations, collect, phase))
                core._state = new_state
                core.epoch += iterations * per
                rec.done += 1
            self.bar.update(iterations * per, core.history.last())
            self.after_chunk(phase, ep, totals, terms, steps / max(seconds, 1e-12))
        return steps / seconds if seconds > 0 else float("nan")

    def record_traces(self, start: int, iterations: int, collect: bool, traces: dict):
        """Every-step fields of the backends (the ELBO of VI groups) into ``history.traces``."""
        if not traces:
            return
        ep = self.chunk_epochs(start, iterations, collect, iterations)
        for g, fields in traces.items():
            label = self.engine.plan.groups[g].label
            for f, values in fields.items():
                self.core.history.add_trace(f"{f}/{label}", ep, _per_iteration(values))

    def after_chunk(self, phase, ep, totals, terms, rate):
        core, rec = self.core, self.record
        if self.hooks:
            core._write_back(self.buffer, final=False)
            names = core.loss.names
            terms = np.asarray(terms)
            metrics = {f"loss/{n}": float(terms[-1, i]) for i, n in enumerate(names)}
            metrics["loss/total"] = float(np.asarray(totals)[-1])
            metrics["steps_per_second"] = float(rate)
            metrics.update(core._chunk_metrics())
            report = ChunkReport(core.epoch, ep, np.asarray(totals), {n: terms[:, i] for i, n in enumerate(names)},
                                 metrics, phase, core)
            if self.hooks.chunk(report):
                log.info("a callback stopped the solve at epoch %d", core.epoch)
                rec.chunks = rec.chunks[: rec.done]
        if rec.checkpoint and rec.checkpoint_every and core.epoch - rec.last_checkpoint >= rec.checkpoint_every \
                and rec.done < len(rec.chunks):
            self.checkpoint()

    def checkpoint(self):
        rec = self.record
        rec.last_checkpoint = self.core.epoch
        self.core._write_back(self.buffer, final=False)
        self.core.save(rec.checkpoint)

    def fail(self, state, chunk, totals, terms, ep, traces=None):
        """Restore the last values with a finite loss, record the chunk up to the failure, raise.

        The history keeps the non-finite record for inspection; the next solve continues from the
        restored epoch and replaces the records from there, so no epoch appears twice. Without a loss per
        step (sampling-only solves), a backend's per-step trace (the ELBO of VI) locates the failure.
        """
        core, rec = self.core, self.record
        iterations, collect, _ = chunk
        bad = int(np.argmax(~np.isfinite(totals)))
        first = _first_non_finite(traces) if not self.engine.per_step_loss else None
        if first is not None:  # the traces locate the step: replay the chunk up to it, keep their finite part
            core._state = state
            start = core.epoch
            keep = max(first - 1, 0)  # step j's trace is computed at the values of its start, s_j: s_(first-1) is finite
            if keep > 0:
                self.replay(state, keep, collect)
            # recorded even when empty (a failure at the first steps): the trace exists, with its finite part
            self.record_traces(start, keep, collect, jax.tree_util.tree_map(lambda a: a[:keep], traces))
            epoch = int(self.chunk_epochs(start, iterations, collect, iterations)[first])
            core.history.append(np.asarray([epoch]), totals[-1:], terms[-1:])
            rec.failed = True
            core._write_back(self.buffer, final=True)
            fields = sorted({f"{f}/{self.engine.plan.groups[g].label}" for g, fl in traces.items() for f, v in fl.items()
                             if not np.all(np.isfinite(np.asarray(v)[first]))})
            raise NonFiniteLossError(
                f"{', '.join(fields)} became non-finite at epoch {epoch}; the models and parameters hold the values of "
                f"epoch {core.epoch}, the last finite one (crux.rollback() returns to the start of this solve). Lower "
                "the learning rate, start q narrower (init_log_std), or check the log-density for logs of negative "
                "numbers.", epoch=epoch, terms=fields)
        if not self.engine.per_step_loss:  # one record per chunk: the chunk started from a finite loss
            core._state = state
        elif bad >= 1:  # the values entering record `bad - 1` were the last with a finite loss
            core._state = state
            if bad > 1:
                self.replay(state, bad - 1, collect)
        elif self.previous is not None:  # the chunk's very first values failed: the previous chunk but one step
            p_state, (p_it, p_collect, _) = self.previous
            per = rec.thin if p_collect else 1
            core.epoch -= p_it * per
            if p_collect:
                self.buffer.n -= p_it
            core._state = p_state
            if p_it > 1:
                self.replay(p_state, p_it - 1, p_collect)
        core.history.append(ep[: bad + 1], totals[: bad + 1], terms[: bad + 1])
        rec.failed = True
        core._write_back(self.buffer, final=True)
        names = [n for n, v in zip(core.loss.names, terms[bad]) if not np.isfinite(v)] or ["total (weights)"]
        epoch = int(ep[bad])
        raise NonFiniteLossError(
            f"loss term(s) {', '.join(repr(n) for n in names)} became non-finite at epoch {epoch}; the models and "
            f"parameters hold the values of epoch {core.epoch}, the last with a finite loss (crux.rollback() returns "
            "to the start of this solve). Lower the learning rate or step size, rescale the inputs/outputs, or check "
            "the residual for divisions by zero or logs of negative numbers.",
            epoch=epoch, terms=names)

    def replay(self, state, iterations: int, collect: bool):
        """Re-run ``iterations`` of a chunk from ``state`` (deterministic: keys come from the step)."""
        core = self.core
        new_state, _, _, draws, infos, _ = self.run_chunk(state, iterations, collect)
        if collect:
            self.buffer.append(draws, infos)
        core._state = new_state
        core.epoch += iterations * (self.record.thin if collect else 1)


def _per_iteration(values) -> np.ndarray:
    """``(iterations,)`` float64: a traced field ``(iterations, ...)`` (chains, leaves) averaged per iteration."""
    values = np.asarray(values)
    if values.size == 0:
        return np.zeros((len(values),))
    flat = values.reshape(len(values), -1)
    if flat.shape[1] == 1:  # one chain, one value: no reduction to pay for
        return flat[:, 0].astype(np.float64)
    return flat.mean(axis=1, dtype=np.float64)


def to_host(tree):
    """The arrays of ``tree`` as NumPy arrays, after the program that computes them has run.

    ``np.asarray`` per leaf, not ``jax.device_get``: on a CPU, ``device_get`` of a solve's chunk outputs
    took about 0.25 ms an array (an asynchronous copy per leaf, then a wait), 1 ms a chunk, a tenth of a
    10,000-step VI solve; ``np.asarray`` reads the finished buffer in microseconds.
    """
    return jax.tree_util.tree_map(np.asarray, tree)


def _first_non_finite(traces) -> int | None:
    """The first iteration at which any traced field is non-finite, or ``None``."""
    firsts = []
    for fields in (traces or {}).values():
        for values in fields.values():
            v = np.asarray(values).reshape(len(values), -1)
            bad = ~np.all(np.isfinite(v), axis=1)
            if bad.any():
                firsts.append(int(np.argmax(bad)))
    return min(firsts) if firsts else None
