"""``pl.core``: a set of loss terms, their models, and the solve / eval entry points."""

from __future__ import annotations

import logging
import time
from collections import Counter

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..backends import OptaxBackend
from ..compile.loss import CompiledLoss
from ..compile.program import Program, point_key
from ..errors import ConfigurationError, NonFiniteLossError, ShapeError
from ..trace import Node
from ..trace.ops import as_node
from .history import History
from .loop import Carry, make_chunk_runner
from .progress import Progress, progress_enabled

log = logging.getLogger("pinnlang")

DEFAULT_LEARNING_RATE = 1e-3


class Core:
    """Loss terms compiled into one solver.

    Args:
        losses: scalar loss expressions (``residual.mse``, ...).
        weights: one weight per term (default ones).
        names: display names of the terms.
        seed: integer seed of every random choice the core makes (noise, resampling).
        key: a ``jax.random`` key instead of ``seed``.
    """

    def __init__(self, losses, weights=None, *, names=None, seed: int = 0, key=None):
        self.loss = CompiledLoss(losses, weights, names)
        self.key = jax.random.PRNGKey(seed) if key is None else key
        self.noise_key = jax.random.fold_in(self.key, 0)
        self.history = History(self.loss.names)
        self.epoch = 0
        self._opt_states: dict = {}
        self._runners: dict = {}
        self._evaluators: dict = {}
        self._default_transforms: dict = {}
        names = Counter(h.name for h in self.handles.values())
        for n, c in names.items():
            if c > 1:
                log.warning("%d models/parameters share the name %r; give them distinct name= for clear logs", c, n)

    @property
    def handles(self) -> dict:
        """``{key_name: Model | Parameter}`` appearing in the losses."""
        return self.loss.program.handles

    # -- solve -----------------------------------------------------------------------------
    def _backends(self) -> dict:
        out = {}
        for k, h in self.handles.items():
            if h.frozen:
                continue
            if h.transform is None and k not in self._default_transforms:
                self._default_transforms[k] = optax.adam(DEFAULT_LEARNING_RATE)
            out[k] = OptaxBackend(h.transform if h.transform is not None else self._default_transforms[k])
        return out

    def _resamplers(self, resample_every):
        if not resample_every:
            return {}
        out = {}
        for pk, ps in self.loss.program.analysis.point_sets.items():
            fn = getattr(ps.domain, "resampler", lambda tag: None)(ps.tag)
            if fn is not None:
                out[pk] = fn
        if not out:
            raise ConfigurationError(
                "resample_every was given but no point set of this problem is randomly sampled; build the domain "
                "with sampler='uniform' (or 'sobol', 'halton', 'lhs') and num_points=..., or drop resample_every"
            )
        return out

    def solve(self, epochs: int, print_rate: int | None = None, *, resample_every: int | None = None,
              progress: bool | None = None) -> History:
        """Train (and later: sample) every handle for ``epochs`` steps.

        The steps run inside ``jax.lax.scan`` chunks of ``print_rate`` steps (one dispatch and
        one host transfer per chunk). Calling ``solve`` again continues from where it stopped.

        Args:
            epochs: number of steps (> 0).
            print_rate: steps per chunk (progress/history cadence); default ``min(epochs, 500)``.
            resample_every: redraw randomly sampled collocation points every this many epochs.
            progress: force the progress bar on/off (default: on for an interactive terminal, off in CI).

        Returns:
            The core's :class:`History` (all solves so far).

        Raises:
            NonFiniteLossError: a loss term became NaN/inf; values are restored to the last finite step.
        """
        if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs <= 0:
            raise ConfigurationError(f"solve(epochs) needs a positive integer number of steps, got {epochs!r}")
        epochs = int(epochs)
        print_rate = min(epochs, 500) if print_rate is None else int(print_rate)
        if print_rate <= 0:
            raise ConfigurationError(f"print_rate must be a positive integer, got {print_rate}")
        if resample_every is not None and (not isinstance(resample_every, int) or resample_every <= 0):
            raise ConfigurationError(f"resample_every must be a positive integer, got {resample_every!r}")
        backends = self._backends()
        if not backends:
            raise ConfigurationError("every model and parameter in these losses is frozen: nothing to solve for")
        resamplers = self._resamplers(resample_every)
        program = self.loss.program
        statics = program.statics()
        params = {k: self.handles[k].get_trainable() for k in backends}
        frozen = {k: h.get_trainable() for k, h in self.handles.items() if k not in backends}
        states = {}
        for k, b in backends.items():
            h = self.handles[k]
            prev = self._opt_states.get(k)
            if prev is not None and prev[0] == h.version and prev[1] is b.transform:
                states[k] = prev[2]
            else:
                states[k] = b.init(params[k])
        sig = (tuple((k, id(b.transform)) for k, b in backends.items()), tuple(sorted(frozen)),
               resample_every, tuple(sorted(resamplers)), _static_signature(statics))
        if sig not in self._runners:
            loss = lambda p, d: self.loss(p, d, statics)  # noqa: E731
            self._runners[sig] = make_chunk_runner(loss, backends, resamplers, resample_every)
        run = self._runners[sig]
        data = program.data(self.noise_key)
        carry = Carry(params, states, data, jnp.asarray(self.epoch, jnp.int32), jax.random.fold_in(self.key, 1))
        bar = Progress(epochs, progress_enabled(progress))
        t_start = time.perf_counter()
        steady_steps, steady_time = 0, 0.0
        done = 0
        previous = None  # (carry, length) at the start of the previous chunk, for NaN recovery
        try:
            while done < epochs:
                length = min(print_rate, epochs - done)
                t0 = time.perf_counter()
                start = carry
                carry, (totals, terms) = run(carry, frozen, length)
                totals, terms = jax.device_get((totals, terms))
                dt = time.perf_counter() - t0
                if done > 0:
                    steady_steps, steady_time = steady_steps + length, steady_time + dt
                ep = np.arange(self.epoch + done, self.epoch + done + length)
                if not np.all(np.isfinite(totals)):
                    self._fail(run, frozen, start, previous, totals, terms, ep, backends)
                self.history.append(ep, totals, terms)
                done += length
                previous = (start, length)
                bar.update(length, self.history.last())
        finally:
            bar.close()
            self.history.wall_time += time.perf_counter() - t_start
        self.history.steps_per_second = steady_steps / steady_time if steady_time > 0 else epochs / (
            time.perf_counter() - t_start)
        self.epoch += epochs
        for k, b in backends.items():
            self.handles[k].set_trainable(carry.params[k])
            self._opt_states[k] = (self.handles[k].version, b.transform, carry.states[k])
        return self.history

    def _fail(self, run, frozen, start, previous, totals, terms, epochs, backends):
        """Record up to the first non-finite step, restore the last finite values, raise."""
        bad = int(np.argmax(~np.isfinite(totals)))
        self.history.append(epochs[: bad + 1], totals[: bad + 1], terms[: bad + 1])
        # the values at step `bad` gave the non-finite loss; those of step `bad - 1` were the last finite ones
        if bad >= 1:
            restored = run(start, frozen, bad - 1)[0] if bad > 1 else start
        elif previous is not None:
            restored = run(previous[0], frozen, previous[1] - 1)[0] if previous[1] > 1 else previous[0]
        else:
            restored = None  # the very first values already fail: keep them as the user gave them
        if restored is not None:
            for k in backends:
                self.handles[k].set_trainable(restored.params[k])
        names = [n for n, v in zip(self.loss.names, terms[bad]) if not np.isfinite(v)] or ["total (weights)"]
        self.epoch = int(epochs[bad])
        raise NonFiniteLossError(
            f"loss term(s) {', '.join(repr(n) for n in names)} became non-finite at epoch {int(epochs[bad])}; "
            "models and parameters were restored to their last finite values. Lower the learning rate, rescale "
            "the inputs/outputs, or check the residual for divisions by zero or logs of negative numbers."
        )

    # -- eval ------------------------------------------------------------------------------
    def eval(self, exprs, domain=None):
        """Evaluate expressions (fields, derivatives, residuals) at the current values.

        Args:
            exprs: an expression or a list of them.
            domain: evaluate on this domain's point sets (matched by tag) instead of the originals.

        Returns:
            One array ``(n, ...)`` for a single expression (or a one-element list), else a list.
        """
        single = isinstance(exprs, Node) or not isinstance(exprs, (list, tuple))
        nodes = [as_node(e) for e in ([exprs] if single else exprs)]
        if not nodes:
            raise ConfigurationError("eval needs at least one expression")
        prog_key = tuple(n.key for n in nodes)
        if prog_key not in self._evaluators:
            program = Program(nodes)
            statics = program.statics()
            self._evaluators[prog_key] = (program, jax.jit(lambda p, d: program.evaluate(p, d, statics)))
        program, fn = self._evaluators[prog_key]
        params = {k: h.get_trainable() for k, h in program.handles.items()}
        data = program.data(self.noise_key, domain)
        try:
            out = fn(params, data)
        except (TypeError, ValueError) as err:
            if domain is None:
                raise
            raise ShapeError(
                f"cannot evaluate on domain {getattr(domain, 'name', domain)!r}: {err}. Array constants with one row "
                "per point (data) only fit the point set they were built for; evaluate expressions without them."
            ) from None
        return out[0] if len(out) == 1 else out


def _static_signature(statics: dict):
    """A hashable summary of the models' non-trainable parts (recompile only when it changes)."""
    out = []
    for k, v in sorted(statics.items()):
        leaves, treedef = jax.tree_util.tree_flatten(v)
        try:
            hash(tuple(leaves))
            out.append((k, treedef, tuple(leaves)))
        except TypeError:
            out.append((k, treedef, tuple(id(l) for l in leaves)))
    return tuple(out)


def core(losses, weights=None, **kwargs) -> Core:
    """Build a :class:`Core` from loss terms (see there)."""
    return Core(losses, weights, **kwargs)

__all__ = ["Core", "core", "point_key"]
