"""``pl.core``: a set of loss terms, their models, and the solve / eval entry points."""

from __future__ import annotations

import logging
import os
import time
from collections import Counter

import jax
import jax.numpy as jnp
import numpy as np

from ..bayesian.health import chain_warnings
from ..compile import check_resampling
from ..compile.loss import CompiledLoss
from ..compile.program import static_signature
from ..errors import ConfigurationError
from ..host_keys import fold_in
from .checks import check_minibatches, check_priors
from .engine import Engine
from .evaluate import Evaluation
from .history import History
from .hooks import Hooks, posterior_metrics
from .plan import Plan, SAMPLED
from .posterior import DrawBuffer, Posterior
from .progress import Progress, progress_enabled
from .run import Execution, RunRecord, chunk_plan, to_host
from .state import as_members, member_positions
from .stochastic import check_stochastic_kernels, warn_stochastic_initializers
from .streams import WARM_STREAM
from .substeps import Substep, parse_substeps, stage_loss
from .warm_start import pending_initializers, run_initializers
from ..validate import integer

log = logging.getLogger("pinnlang")

GIB = 1 << 30


def _integer(name: str, value, *, allow_none: bool = False):
    """``value`` as a positive Python int (NumPy integers accepted, bools and floats rejected)."""
    if value is None and allow_none:
        return None
    return integer(name, value, minimum=1)


class Core(Evaluation):
    """Loss terms compiled into one solver.

    Args:
        losses: scalar loss expressions (``residual.mse``, ...).
        weights: one weight per term (default ones).
        names: display names of the terms.
        seed: integer seed of every random choice the core makes (noise, resampling, chains).
        key: a ``jax.random`` key instead of ``seed``.
    """

    def __init__(self, losses, weights=None, *, names=None, seed: int = 0, key=None):
        self.loss = CompiledLoss(losses, weights, names)
        key = jax.random.PRNGKey(seed) if key is None else key
        if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
            key = jax.random.key_data(key)
        self.key = key
        self.noise_key = fold_in(self.key, 0)  # on the host: no compilation at set-up
        self.solve_key = fold_in(self.key, 1)
        self.history = History(self.loss.names)
        self.epoch = 0
        self._runners: dict = {}  # plan signature -> Engine
        self._executables: dict = {}  # id(engine) -> {(iterations, collect): compiled chunk}
        self._evaluators: dict = {}
        self._default_transforms: dict = {}
        self._handles_of: dict = {}
        self._state = None  # SolverState after the last chunk
        self._engine = None  # Engine of the last solve
        self._written: dict = {}  # handle key -> leaves written back by the last solve
        self._carry = None  # (state, {handle key: leaves}) at the last write-back: a solve may continue that state
        self._run = None  # RunRecord of the last solve
        self._buffer = None  # DrawBuffer of the last solve
        self._snapshot = None  # what rollback() restores
        self._warned: set = set()
        counts = Counter(h.name for h in self.handles.values())
        for n, c in counts.items():
            if c > 1:
                log.warning("%d models/parameters share the name %r; give them distinct name= for clear logs", c, n)

    @property
    def handles(self) -> dict:
        """``{key: Model | Parameter}`` of the losses, in program order (keys: :mod:`pinnlang.compile.keys`)."""
        return self.loss.program.handles

    # -- configuration -----------------------------------------------------------------------------
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
                "with sampler='uniform' (or 'sobol', 'halton', 'lhs') and num_points=..., or drop resample_every")
        check_resampling(self.loss.program.analysis, sorted(out))
        return out

    def _engine_for(self, plan: Plan, resample_every, stages: tuple = ()) -> Engine:
        resamplers = self._resamplers(resample_every)
        statics = self.loss.program.statics()
        stages = tuple(Substep(tuple(t), int(n), tuple(g), str(lab)) for t, n, g, lab in stages)
        sig = (plan.fingerprint(), resample_every, tuple(sorted(resamplers)), static_signature(statics), stages)
        if sig not in self._runners:
            loss_fn = lambda p, d: self.loss(p, d, statics)  # noqa: E731
            stage_losses = tuple(stage_loss(self.loss, statics, st.terms) for st in stages)
            self._runners[sig] = Engine(plan, loss_fn, self.loss.program.minibatch, resamplers, resample_every,
                                        stages, stage_losses, self.loss.weights,
                                        stochastic=bool(self.loss.program.analysis.stochastic_models))
        return self._runners[sig]

    def _untouched(self, key: str) -> bool:
        """The handle still holds exactly the values the last solve wrote back."""
        written = self._written.get(key)
        leaves = jax.tree_util.tree_leaves(self.handles[key].get_trainable())
        return written is not None and len(written) == len(leaves) and all(a is b for a, b in zip(written, leaves))

    def _kept_groups(self, engine: Engine) -> dict:
        """``{group index: (state, tuning)}`` of the groups unchanged since the last solve (they continue)."""
        plan = engine.plan
        kept = {}
        if self._state is not None and self._engine is not None:
            old = self._engine.plan
            index = {old.group_fingerprint(g): g.index for g in old.groups}
            for g in plan.groups:
                j = index.get(plan.group_fingerprint(g))
                if j is not None and all(self._untouched(m.key) for m in g.members):
                    kept[g.index] = (self._state.groups[j], self._state.tunings[j])
        return kept

    def _start_state(self, engine: Engine, kept: dict, pending: dict | None = None):
        """The solver state at the start of a solve (the ``kept`` groups continue, the others start fresh,
        the ``pending`` ones from their initialisers' warm starts)."""
        data = self.loss.program.data(self.noise_key)  # the domains' current arrays (users may swap data)
        if self._state is not None and engine.resampled:  # resampled points go on from where they were
            old = self._state.data["coords"]
            data["coords"].update({pk: old[pk] for pk in engine.resampled if pk in old})
        values = {k: h.get_trainable() for k, h in self.handles.items()}
        warm = {}
        if pending:
            key = jax.random.fold_in(jax.random.fold_in(self.solve_key, self.epoch), WARM_STREAM)
            warm = run_initializers(engine.plan, engine.backends, engine.group_loss, values, data, key, pending)
            for k, h in self.handles.items():
                mine = [w for g, w in warm.items() if any(m.key == k for m in engine.plan.groups[g].members)]
                if h.initializer is not None and mine:  # (starts (K, ...), kernel arguments) for inspection
                    h.initialization = mine[0]._replace(position=mine[0].position[k])
                    h.initializer = None  # used: later solves continue these chains
        if not pending and self._carries_over(engine, kept, values):
            # nothing changed since the last solve wrote back: its state goes on (a jitted start is a dispatch and
            # a wait, about 0.3 ms after a long chunk, a per-solve cost of short solves)
            return self._state._replace(data=data), sorted(kept)
        start = engine.start(frozenset(kept))
        return start(values, self.solve_key, self.epoch, data, kept, warm), sorted(kept)

    def _carries_over(self, engine: Engine, kept: dict, values: dict) -> bool:
        """The current state is exactly what a start would build: the same engine, every group kept, and every
        handle holding the very arrays it held when that state was written back."""
        carry = self._carry
        if carry is None or carry[0] is not self._state or self._engine is not engine:
            return False
        if len(kept) != len(engine.plan.groups) or set(carry[1]) != set(values):
            return False
        return all(len(carry[1][k]) == len(leaves) and all(a is b for a, b in zip(carry[1][k], leaves))
                   for k, leaves in ((k, jax.tree_util.tree_leaves(v)) for k, v in values.items()))

    # -- solve --------------------------------------------------------------------------------------
    def solve(self, epochs: int, print_rate: int | None = None, *, resample_every: int | None = None,
              progress: bool | None = None, callbacks=(), trackers=(), checkpoint=None,
              checkpoint_every: int | None = None, resume: bool = False, label: str | None = None,
              substeps=None) -> History:
        """Train and sample every configured group for ``epochs`` steps.

        Optimised groups take one optax step per epoch; sampled groups one kernel transition per
        epoch and chain: a remaining ``warmup`` (window adaptation for HMC-family kernels with
        ``adapt=True``), burn-in, then the last ``keep`` draws, one every ``thin`` epochs, into
        ``handle.posterior_samples``. The steps run in ``lax.scan`` chunks of ``print_rate`` steps (one
        dispatch and one host transfer per chunk). Calling ``solve`` again continues: optimiser states
        and chains go on where they stopped, without a new warmup, for the groups whose configuration
        and values did not change.

        Args:
            epochs: number of steps (> 0).
            print_rate: steps per chunk (progress, history, hooks and checkpoint cadence); default
                ``min(epochs, 500)``.
            resample_every: redraw randomly sampled collocation points every this many epochs.
            progress: force the progress bar on/off (default: on for an interactive terminal, off in CI).
            callbacks: functions ``report -> bool | None`` called after every chunk; ``True`` stops the
                solve cleanly (see :mod:`pinnlang.solve.hooks`).
            trackers: experiment trackers (``start``/``log``/``finish``); failures only log a warning.
            checkpoint: a path; the solve state is saved there every ``checkpoint_every`` epochs and at
                the end (see :meth:`save`).
            checkpoint_every: epochs between checkpoints (default: only at the end).
            resume: with ``checkpoint``: if the file exists, load it and finish the solve it holds (a
                rerun of an interrupted script continues where the last checkpoint left off).
            label: the name of this solve's history segment.
            substeps: stages of every epoch, ``[(terms, steps), (terms, steps, update), ...]``: term names or
                indices, steps per epoch, and optionally the models/parameters the stage updates (default: those
                its terms depend on); see :mod:`pinnlang.solve.substeps`.

        Returns:
            The core's :class:`History` (all solves so far).

        Raises:
            NonFiniteLossError: a loss term became NaN/inf; values are those of the last finite step.
        """
        epochs = _integer("solve(epochs)", epochs)
        print_rate = min(epochs, 500) if print_rate is None else _integer("print_rate", print_rate)
        resample_every = _integer("resample_every", resample_every, allow_none=True)
        checkpoint_every = _integer("checkpoint_every", checkpoint_every, allow_none=True)
        if checkpoint_every is not None and checkpoint is None:
            raise ConfigurationError("checkpoint_every needs checkpoint=<path> (where to write the checkpoints)")
        if not isinstance(resume, bool):
            raise ConfigurationError(f"resume must be True or False, got {resume!r}")
        if resume and checkpoint is None:
            raise ConfigurationError("resume=True needs checkpoint=<path> (the checkpoint to resume from)")
        hooks = Hooks(callbacks, trackers)
        if resume and os.path.exists(checkpoint):
            self.load(checkpoint)
            if self._run is None or self._run.finished:
                log.info("%s holds a finished solve (epoch %d); nothing to resume", checkpoint, self.epoch)
                return self.history
            if self._run.epochs != epochs:
                raise ConfigurationError(
                    f"{checkpoint} holds a solve of {self._run.epochs} epochs, this call asks for {epochs}; call "
                    "solve with the same epochs to finish it, or resume=False to start a new solve")
            return self.resume(callbacks=callbacks, trackers=trackers, progress=progress)
        plan = Plan(self.handles, self._default_transforms)
        if not plan.groups:
            raise ConfigurationError("every model and parameter in these losses is frozen: nothing to solve for")
        stages = () if substeps is None else parse_substeps(substeps, self.loss, plan)
        engine = self._engine_for(plan, resample_every, stages)
        pending = pending_initializers(plan)
        kept_groups = {g: v for g, v in self._kept_groups(engine).items() if g not in pending}
        check_priors(plan, skip=set(kept_groups))
        check_minibatches(plan, self.loss)
        check_stochastic_kernels(plan, self.loss, stages)
        warn_stochastic_initializers(plan, self.loss, stages, pending)
        state, kept = self._start_state(engine, kept_groups, pending)
        warmup_left = self._warmup_left(engine, state)
        if plan.sampled and warmup_left and epochs <= warmup_left:
            raise ConfigurationError(
                f"solve({epochs}) leaves no epochs for sampling after warmup={warmup_left}; run warmup + keep*thin = "
                f"{warmup_left + plan.keep * plan.thin} epochs")
        self._snapshot = self._take_snapshot()
        for k in plan.updated_keys():
            self.handles[k]._posterior = None
        for h in self.handles.values():
            h._mark_solved()
        self.history.truncate_from(self.epoch)  # after a non-finite stop
        self._state, self._engine = state, engine
        chunks = chunk_plan(epochs, print_rate, plan.thin, plan.keep, warmup_left, bool(plan.mcmc))
        record = RunRecord(epochs, print_rate, self.epoch, chunks, plan.thin, label or self._default_label(plan),
                           checkpoint=None if checkpoint is None else os.fspath(checkpoint),
                           checkpoint_every=checkpoint_every, last_checkpoint=self.epoch,
                           resample_every=resample_every,
                           stages=[[list(s.terms), s.steps, list(s.groups), s.label] for s in stages] or None)
        buffer = self._draw_buffer(engine, chunks)
        self._log_plan(engine, kept, warmup_left, epochs, chunks)
        self.history.begin(record.label)
        return self._execute(engine, record, buffer, hooks, progress)

    def resume(self, *, callbacks=(), trackers=(), progress: bool | None = None) -> History:
        """Finish the last solve after an interrupt (``KeyboardInterrupt``) or a :meth:`load` of a
        checkpoint written mid-solve: the result equals the uninterrupted solve, draw for draw."""
        if self._run is None or self._run.finished or self._engine is None:
            raise ConfigurationError("there is no interrupted solve to resume; call solve(epochs) to run more steps")
        plan = Plan(self.handles, self._default_transforms)
        if plan.fingerprint() != self._engine.plan.fingerprint():
            raise ConfigurationError("the configuration changed since the interrupted solve (a .optimizer/.bayesian/"
                                     ".mask/.freeze call); resume needs the same configuration, or call solve(...)")
        return self._execute(self._engine, self._run, self._buffer, Hooks(callbacks, trackers), progress)

    def _execute(self, engine, record, buffer, hooks, progress) -> History:
        self._run, self._buffer, self._engine = record, buffer, engine
        remaining = sum(n * (record.thin if c else 1) for n, c, _ in record.chunks[record.done:])
        bar = Progress(remaining, progress_enabled(progress))
        if hooks.trackers:
            hooks.start(self, self.describe())
        t0 = time.perf_counter()
        try:
            rate = Execution(self, engine, record, buffer, hooks, bar).execute()
            self.history.steps_per_second = rate
        except KeyboardInterrupt:
            self._write_back(buffer, final=True)
            log.warning("solve interrupted at epoch %d; the models hold the values of the last completed chunk and "
                        "the history is consistent. crux.resume() finishes the solve", self.epoch)
            raise
        finally:
            bar.close()
            self.history.wall_time += time.perf_counter() - t0
            hooks.finish(self)
        if engine.plan.variational and record.finished and not record.failed:
            buffer = self._buffer = self._variational_draws(engine, buffer)
        self._write_back(buffer, final=True)
        if record.checkpoint:
            self.save(record.checkpoint)
        self._report_chains(engine, buffer)
        return self.history

    def _variational_draws(self, engine: Engine, buffer):
        """After the solve, draws of every VI group's q into the draw buffer.

        Alone, VI groups give ``posterior_draws`` draws each (the other groups' leaves at their final values);
        with MCMC groups (Pattern E) q gives as many i.i.d. draws as the chains kept, and they replace the VI
        groups' entries in the MCMC draws, draw ``i`` of q paired with draw ``i`` of the chain.
        """
        plan, state = engine.plan, self._state
        n = plan.keep if buffer is None else buffer.n
        keys = set(engine.posterior_keys)
        drawn = engine.q_draws(n)(self.solve_key, np.int32(self.epoch), state.groups)
        vi = {g: jax.tree_util.tree_map(lambda a: np.swapaxes(a, 0, 1), {k: v for k, v in draws.items() if k in keys})
              for g, draws in to_host(drawn).items()}  # (n, K, ...)
        if buffer is None:
            positions = [{k: v for k, v in pos.items() if k in keys}
                         for pos in member_positions(plan, engine.backends, state.groups)]
            buffer = DrawBuffer(plan, positions, n)
            draws = [vi[g.index] if g.index in vi else
                     jax.tree_util.tree_map(lambda a: np.broadcast_to(np.asarray(a), (n,) + a.shape), positions[g.index])
                     for g in plan.groups]  # (n, K, ...) for chained groups, (n, ...) for shared ones
            buffer.append(tuple(draws), {})
            return buffer
        for g, draws in vi.items():
            for dst, src in zip(jax.tree_util.tree_leaves(buffer.positions[g]), jax.tree_util.tree_leaves(draws)):
                dst[:n] = src
        return buffer

    def _warmup_left(self, engine: Engine, state) -> int:
        """Epochs until every sampled group has taken its warmup transitions (substeps may take several a epoch)."""
        left = 0
        for g in engine.plan.sampled:
            t = int(np.asarray(state.tunings[g.index].t))
            n = engine.transitions.get(g.index, 1)
            left = max(left, -(-(engine.backends[g.index].warmup - t) // n))
        return max(left, 0)

    def _draw_buffer(self, engine: Engine, chunks) -> DrawBuffer | None:
        n_draws = sum(n for n, collect, _ in chunks if collect)
        if n_draws == 0:
            return None
        keys = set(engine.posterior_keys)
        template = [{k: v for k, v in pos.items() if k in keys}
                    for pos in member_positions(engine.plan, engine.backends, self._state.groups)]
        per_draw = sum(int(np.prod(a.shape)) * a.dtype.itemsize for a in jax.tree_util.tree_leaves(template))
        need = per_draw * n_draws
        physical = _physical_memory()
        if physical and need > 0.8 * physical:
            raise ConfigurationError(
                f"this solve would keep {need / GIB:.1f} GiB of draws ({n_draws} draws x {per_draw / 1e6:.1f} MB), "
                f"more than this machine's memory ({physical / GIB:.1f} GiB). Lower keep, raise thin, sample fewer "
                "leaves (net.mask(M).bayesian(...)) or use fewer chains")
        if need > GIB:
            log.warning("this solve will keep %.2f GiB of draws (%d draws x %.1f MB); lower keep or raise thin if "
                        "that is more than you need", need / GIB, n_draws, per_draw / 1e6)
        return DrawBuffer(engine.plan, template, n_draws)

    def _default_label(self, plan: Plan) -> str:
        kinds = []
        if plan.optimised:
            kinds.append("optimise")
        if plan.sampled:
            kinds.append("sample")
        return f"{'+'.join(kinds)} {len(self.history.segments)}"

    def _log_plan(self, engine, kept, warmup_left, epochs, chunks):
        plan = engine.plan
        log.info("solve plan: %s; %d chain(s); continuing groups %s", plan.describe_blocks(), plan.num_chains,
                 kept or "none")
        if plan.mcmc:
            n_draws = sum(n for n, c, _ in chunks if c)
            log.info("sampling: %d warmup epochs left, then %d draws (thin=%d) in %d chunk(s)", warmup_left, n_draws,
                     plan.thin, len(chunks))
            if n_draws < plan.keep:
                log.warning("solve(%d) keeps %d draws, fewer than keep=%d; run warmup + keep*thin = %d epochs for all "
                            "of them", epochs, n_draws, plan.keep, warmup_left + plan.keep * plan.thin)
            shared = [g for g in plan.optimised if not g.chained and self._sees_chains(engine, g)]
            if shared and plan.num_chains > 1 and "em" not in self._warned:
                self._warned.add("em")
                log.warning("%s: one shared point estimate trained on the gradient averaged over the %d chains (a "
                            "Monte Carlo EM step); pass .optimizer(..., per_chain=True) for %d independent joint "
                            "runs", ", ".join(g.label for g in shared), plan.num_chains, plan.num_chains)

    def _sees_chains(self, engine, g) -> bool:
        """Whether optimised group ``g``'s loss depends on a sampled handle (else the chains do not enter its
        gradient: under substeps, a stage without sampled handles)."""
        if not engine.stages:
            return True
        from ..compile.program import GraphAnalysis

        sampled = {m.key for s in engine.plan.sampled for m in s.members}
        for st in engine.stages:
            if g.index in st.groups:
                handles = set().union(*(GraphAnalysis([self.loss.terms_nodes[i]], self.loss.program.keys).handles
                                        for i in st.terms))
                if handles & sampled:
                    return True
        return False

    # -- results written back -------------------------------------------------------------------------
    def _write_back(self, buffer, final: bool):
        """Handles get chain 0's values of the current state; sampled handles their draws so far."""
        engine, state = self._engine, self._state
        if engine is None or state is None:
            return
        plan = engine.plan
        values = engine.chain0_values(state)
        for k in plan.updated_keys():
            h = self.handles[k]
            h.set_trainable(values[k])
            self._written[k] = tuple(jax.tree_util.tree_leaves(h.get_trainable()))
        if buffer is not None and buffer.n > 0:
            epochs = None if self._run is None else (self._run.start_epoch, self.epoch)  # the solve's steps
            for k in engine.posterior_keys:
                self.handles[k]._posterior = Posterior(self.handles[k], plan, buffer, state.fixed, k, epochs,
                                                         engine.transitions)
        held = {k: tuple(jax.tree_util.tree_leaves(h.get_trainable())) for k, h in self.handles.items()}
        self._carry = (state, held)

    def _report_chains(self, engine, buffer):
        """Solve-end log lines per sampled handle (and warnings about chains that do not move)."""
        if buffer is None:
            return
        for k in engine.posterior_keys:
            h = self.handles[k]
            post = h._posterior
            if post is None:
                continue
            diag = post.diagnostics or {}
            parts = []
            if "is_divergent" in diag:
                nd, tot = int(diag["is_divergent"].sum()), diag["is_divergent"].size
                parts.append(f"{nd}/{tot} divergent ({100.0 * nd / max(tot, 1):.2f}%)")
            if "acceptance_rate" in diag:
                parts.append(f"mean_accept={float(np.mean(diag['acceptance_rate'])):.2f}")
            if "energy" in diag:
                parts.append(f"mean_energy={float(np.mean(diag['energy'])):.4g}")
            if "num_integration_steps" in diag:  # summed over each thinning block
                parts.append(f"mean_steps_per_draw={float(np.mean(diag['num_integration_steps'])):.4g}")
            log.info("Model %r: %d chain(s) x %d draws%s", h.name, post.num_chains, post.num_draws,
                     (", " + ", ".join(parts)) if parts else ", no kernel diagnostics")
            draws = post.sampled_draws()
            iid = any(m.key == k for g in engine.plan.variational for m in g.members)  # draws of q: nothing to mix
            for msg in chain_warnings(h.name, draws, post.diagnostics, mixing=not hasattr(h, "module") and not iid):
                log.warning(msg)

    def _chunk_metrics(self) -> dict:
        """Tracker metrics of the optimisers' learning rates and the sampled handles' draws so far."""
        import optax

        out = {}
        engine = self._engine
        for g, s in zip(engine.plan.groups, self._state.groups):
            if g.kind == SAMPLED:
                continue
            try:
                lr = optax.tree_utils.tree_get(s.opt_state, "learning_rate")
            except Exception:  # noqa: BLE001 - only optimisers built with inject_hyperparams expose it
                lr = None
            if lr is not None:
                out[f"lr/{g.label}"] = float(np.mean(np.asarray(lr)))
        out.update(posterior_metrics(self.handles))
        return out

    # -- results -------------------------------------------------------------------------------------------
    def approximate(self, handle, method, *, draws: int | None = None, seed: int = 0):
        """A Gaussian approximation of a sampled handle's posterior (``pl.bayesian.laplace()``, ``pathfinder()``);
        with ``draws``, its draws become ``handle.posterior_samples`` (see :func:`~pinnlang.solve.warm_start.approximate`)."""
        from .warm_start import approximate

        return approximate(self, handle, method, draws, seed)

    def to_arviz(self, **kwargs):
        """An ArviZ ``InferenceData`` of the draws, diagnostics and pointwise log-likelihoods (``pl.io.to_arviz``)."""
        from ..io import to_arviz

        return to_arviz(self, **kwargs)

    def summary(self, **kwargs):
        """Print and return the posterior summary table (``pl.io.summary``)."""
        from ..io import summary

        return summary(self, **kwargs)

    # -- undo, save, load ---------------------------------------------------------------------------------
    def _take_snapshot(self) -> dict:
        return {"values": {k: h.get_trainable() for k, h in self.handles.items()},
                "posteriors": {k: h._posterior for k, h in self.handles.items()},
                "state": self._state, "engine": self._engine, "written": dict(self._written), "epoch": self.epoch,
                "history": len(self.history), "segments": len(self.history.segments), "run": self._run,
                "buffer": self._buffer}

    def rollback(self):
        """Return to the start of the last solve: values, chains, optimiser states, draws and history.

        Useful after a :class:`~pinnlang.errors.NonFiniteLossError` (the last finite values of a diverging
        solve can be far from anything useful) or any solve you want to undo.
        """
        snap = self._snapshot
        if snap is None:
            raise ConfigurationError("nothing to roll back: no solve has run on this core")
        for k, h in self.handles.items():
            h.set_trainable(snap["values"][k])
            h._posterior = snap["posteriors"][k]
        self._state, self._engine = snap["state"], snap["engine"]
        self._written = {k: tuple(jax.tree_util.tree_leaves(self.handles[k].get_trainable()))
                         for k in snap["written"]}
        self.epoch, self._run, self._buffer = snap["epoch"], snap["run"], snap["buffer"]
        self.history.truncate(snap["history"])
        del self.history.segments[snap["segments"]:]
        self._snapshot = None
        return self

    def describe(self) -> dict:
        """The problem as JSON-able data: loss terms, handles and their leaves, groups, chains, data shapes."""
        from .checkpoint import describe

        return describe(self)

    def save(self, path):
        """Write the solver state, the draws and the history to ``path`` (``.npz`` + a JSON header; no pickle)."""
        from .checkpoint import save

        save(self, path)

    def load(self, path):
        """Restore what :meth:`save` wrote into this (identically configured) core."""
        from .checkpoint import load

        load(self, path)
        return self


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def core(losses, weights=None, **kwargs) -> Core:
    """Build a :class:`Core` from loss terms (see there)."""
    return Core(losses, weights, **kwargs)


__all__ = ["Core", "core"]
