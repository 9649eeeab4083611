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
from ..compile.program import GraphAnalysis, Program, point_key
from ..errors import ConfigurationError, NonFiniteLossError, ShapeError
from ..trace import Node
from ..trace.ops import as_node
from .history import History
from .loop import Carry, make_chunk_runner
from .sampling import build_backends, check_priors, common_schedule, make_targets, start_chains, store_posterior
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
        self._handles_of: dict = {}
        names = Counter(h.name for h in self.handles.values())
        for n, c in names.items():
            if c > 1:
                log.warning("%d models/parameters share the name %r; give them distinct name= for clear logs", c, n)

    @property
    def handles(self) -> dict:
        """``{key_name: Model | Parameter}`` appearing in the losses."""
        return self.loss.program.handles

    # -- solve -----------------------------------------------------------------------------
    def _plan(self):
        """Split handles into optax-updated, sampled and frozen ones."""
        optax_backends, bayesian = {}, []
        for k, h in self.handles.items():
            if h.frozen:
                continue
            if h.sampler is not None:
                bayesian.append(k)
                continue
            if h.transform is None and k not in self._default_transforms:
                self._default_transforms[k] = optax.adam(DEFAULT_LEARNING_RATE)
            optax_backends[k] = OptaxBackend(h.transform if h.transform is not None else self._default_transforms[k])
        return optax_backends, sorted(bayesian)

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
        """Train and sample every handle for ``epochs`` steps.

        Optimised handles take one optax step per epoch; Bayesian handles (``.bayesian(...)``) one
        kernel transition per epoch and chain. With Bayesian handles the epochs are
        ``warmup`` (window adaptation for HMC-family kernels with ``adapt=True``, else discarded
        steps) followed by sampling, one kept sample every ``thin`` epochs; the last ``keep``
        samples are stored in ``handle.posterior_samples``. The steps run inside ``jax.lax.scan``
        chunks of ``print_rate`` steps (one dispatch and one host transfer per chunk). Calling
        ``solve`` again continues from where it stopped (chains continue without a new warmup).

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
        optax_backends, bayesian = self._plan()
        if not optax_backends and not bayesian:
            raise ConfigurationError("every model and parameter in these losses is frozen: nothing to solve for")
        resamplers = self._resamplers(resample_every)
        program = self.loss.program
        statics = program.statics()
        updated = list(optax_backends) + bayesian
        params = {k: self.handles[k].get_trainable() for k in updated}
        frozen = {k: h.get_trainable() for k, h in self.handles.items() if k not in updated}
        states = {}
        for k, b in optax_backends.items():
            prev = self._opt_states.get(k)
            fresh = prev is None or prev[0] != self.handles[k].version or prev[1] is not b.transform
            states[k] = b.init(params[k]) if fresh else prev[2]
        loss = lambda p, d: self.loss(p, d, statics)  # noqa: E731
        mcmc = build_backends(self.handles, bayesian, len(updated))
        schedule = (1, 0, 0, 1)  # (num_chains, warmup, keep, thin)
        if bayesian:
            schedule = common_schedule({k: self.handles[k].sampler for k in bayesian})
            check_priors(self.handles, bayesian)
        _, _, keep, thin = schedule
        sig = (tuple((k, id(b.transform)) for k, b in optax_backends.items()),
               tuple((k, self.handles[k].sampler.fingerprint()) for k in bayesian), tuple(sorted(frozen)),
               resample_every, tuple(sorted(resamplers)), _static_signature(statics))
        if sig not in self._runners:
            targets = make_targets(loss, self.handles)
            run = make_chunk_runner(loss, optax_backends, mcmc, targets, resamplers, resample_every, thin,
                                    program.minibatch)
            start = jax.jit(lambda p, f, d, kk: start_chains(kk, mcmc, p, targets, f, d))
            self._runners[sig] = (run, targets, start)
        run, targets, start = self._runners[sig]
        data = program.data(self.noise_key)
        key = jax.random.fold_in(self.key, 1 + self.epoch)
        bar = Progress(epochs, progress_enabled(progress))
        t_start = time.perf_counter()
        try:
            if bayesian:
                params, states, phases = self._sampling_phases(epochs, print_rate, schedule, params, states, frozen,
                                                               data, key, mcmc, start, optax_backends, bayesian, bar)
            else:
                phases = [(epochs, False)]
            carry = Carry(params, states, data, jnp.asarray(self.epoch, jnp.int32), key)
            carry, samples, infos, rate = self._run_phases(run, carry, frozen, phases, print_rate, thin,
                                                           optax_backends, bayesian, bar)
        finally:
            bar.close()
            self.history.wall_time += time.perf_counter() - t_start
        self.history.steps_per_second = rate
        for k, b in optax_backends.items():
            self.handles[k].set_trainable(carry.params[k])
            self._opt_states[k] = (self.handles[k].version, b.transform, carry.states[k])
        for k in bayesian:
            h = self.handles[k]
            h.set_trainable(carry.params[k])
            self._opt_states[k] = (h.version, None, carry.states[k])
            store_posterior(h, [s[k] for s in samples], [i[k] for i in infos], keep)
        return self.history

    def _sampling_phases(self, epochs, print_rate, schedule, params, states, frozen, data, key, mcmc, start,
                         optax_backends, bayesian, bar):
        """Continue existing chains, or adapt/initialise new ones; returns ``(params, states, phases)``.

        ``phases`` lists ``(epochs, collect)`` runs of the scan: discarded warmup (when no window
        adaptation consumed it) and sampling.
        """
        _, warmup, keep, thin = schedule
        previous = {k: self._opt_states.get(k) for k in bayesian}
        if all(v is not None and v[0] == self.handles[k].version for k, v in previous.items()):
            return params, {**states, **{k: previous[k][2] for k in bayesian}}, [(epochs, True)]
        if epochs <= warmup:
            raise ConfigurationError(f"solve({epochs}) leaves no epochs for sampling after warmup={warmup}; "
                                     f"run warmup + keep·thin = {warmup + keep * thin} epochs")
        adapts = any(mcmc[k].config.adapts for k in bayesian)
        if optax_backends and any(mcmc[k].num_chains > 1 for k in bayesian):
            log.warning("optimised models are trained against chain 0 of the %d chains of the sampled ones (a "
                        "stochastic-approximation EM scheme), not against each chain; use num_chains=1 for "
                        "independent joint runs", mcmc[bayesian[0]].num_chains)
        if adapts and optax_backends:
            log.warning("window adaptation tunes the kernel with the optimised models held at their current values "
                        "(they are not trained during the %d warmup epochs); consider adapt=False with a "
                        "hand-picked step_size for a joint problem", warmup)
        params, chain_states = start(params, frozen, data, jax.random.fold_in(key, 7))
        phases = []
        if adapts:  # blackjax's window adaptation ran the warmup epochs (no loss history for them)
            bar.update(warmup, {})
            self.epoch += warmup
        elif warmup:
            phases.append((warmup, False))
        phases.append((epochs - warmup, True))
        log.info("sampling path: %s over %d sampling epochs (thin=%d) chunked at print_rate=%d",
                 "joint optax + MCMC scan" if optax_backends else "MCMC-only scan (no optimiser gradient pass)",
                 epochs - warmup, thin, print_rate)
        return params, {**states, **chain_states}, phases

    def _run_phases(self, run, carry, frozen, phases, print_rate, thin, optax_backends, bayesian, bar):
        """Run the scan chunks of every phase; returns ``(carry, samples, infos, steps/s)``."""
        samples, infos = [], []
        steady_steps, steady_time, t_all, n_all = 0, 0.0, 0.0, 0
        previous = None  # (carry, length, collect) at the start of the previous chunk, for NaN recovery
        for phase_epochs, collect in phases:
            per = thin if collect else 1
            iterations = phase_epochs // per
            if collect and iterations == 0:
                raise ConfigurationError(f"{phase_epochs} sampling epochs are fewer than thin={thin}")
            chunk = max(1, print_rate // per)
            done = 0
            while done < iterations:
                length = min(chunk, iterations - done)
                t0 = time.perf_counter()
                start = carry
                carry, out = run(carry, frozen, length, collect)
                totals, terms = jax.device_get(out[:2])
                dt = time.perf_counter() - t0
                t_all, n_all = t_all + dt, n_all + length * per
                if done > 0 or previous is not None:
                    steady_steps, steady_time = steady_steps + length * per, steady_time + dt
                ep = self.epoch + per * np.arange(1, length + 1) - 1
                ep = ep if len(totals) == length else ep[-1:]  # sampling only: one record per chunk
                if not np.all(np.isfinite(totals)):
                    self._fail(run, frozen, start, previous, totals, terms, ep, optax_backends, bayesian, collect)
                if collect:
                    samples.append(jax.device_get(out[2]))
                    infos.append(jax.device_get(out[3]))
                self.history.append(ep, totals, terms)
                self.epoch += length * per
                done += length
                previous = (start, length, collect)
                bar.update(length * per, self.history.last())
        rate = steady_steps / steady_time if steady_time > 0 else (n_all / t_all if t_all > 0 else float("nan"))
        return carry, samples, infos, rate

    def _fail(self, run, frozen, start, previous, totals, terms, epochs, optax_backends, bayesian, collect):
        """Record up to the first non-finite step, restore the last finite values, raise."""
        bad = int(np.argmax(~np.isfinite(totals)))
        self.history.append(epochs[: bad + 1], totals[: bad + 1], terms[: bad + 1])
        # the values at iteration `bad` gave the non-finite loss; those of `bad - 1` were the last finite ones
        if len(totals) == 1 and not optax_backends:
            restored = start  # one record per chunk: the chunk started from values with a finite loss
        elif bad >= 1:
            restored = run(start, frozen, bad - 1, collect)[0] if bad > 1 else start
        elif previous is not None:
            p_start, p_len, p_collect = previous
            restored = run(p_start, frozen, p_len - 1, p_collect)[0] if p_len > 1 else p_start
        else:
            restored = None  # the very first values already fail: keep them as the user gave them
        if restored is not None:
            for k in list(optax_backends) + list(bayesian):
                self.handles[k].set_trainable(restored.params[k])
        names = [n for n, v in zip(self.loss.names, terms[bad]) if not np.isfinite(v)] or ["total (weights)"]
        self.epoch = int(epochs[bad])
        raise NonFiniteLossError(
            f"loss term(s) {', '.join(repr(n) for n in names)} became non-finite at epoch {int(epochs[bad])}; "
            "models and parameters were restored to their last finite values. Lower the learning rate, rescale "
            "the inputs/outputs, or check the residual for divisions by zero or logs of negative numbers."
        )

    # -- eval ------------------------------------------------------------------------------
    def eval(self, exprs, domain=None, samples: str = "auto", chunk_size: int | None = None):
        """Evaluate expressions (fields, derivatives, whole residuals) at the current values or over chains.

        Args:
            exprs: an expression or a list of them.
            domain: evaluate on this domain's point sets (matched by tag) instead of the originals.
            samples: ``"auto"``: push each evaluation forward through the posterior samples of the Bayesian
                models the expressions depend on (``(K, N, ...)`` results), point values otherwise;
                ``"chain"``: the same but an error when nothing is Bayesian; ``"point"``: current values
                (the last sample of chain 0 for Bayesian models).
            chunk_size: posterior samples evaluated at once (default: sized to keep outputs near 256 MB).

        Returns:
            One array for a single expression (or a one-element list), else a list.
        """
        if samples not in ("auto", "chain", "point"):
            raise ConfigurationError(f"samples must be 'auto', 'chain' or 'point', got {samples!r}")
        single = isinstance(exprs, Node) or not isinstance(exprs, (list, tuple))
        nodes = [as_node(e) for e in ([exprs] if single else exprs)]
        if not nodes:
            raise ConfigurationError("eval needs at least one expression")
        sampled = {k: h for k, h in self.handles_in(nodes).items() if getattr(h, "_raw_samples", None) is not None}
        deps = [set(self.handles_in([n])) & set(sampled) if samples != "point" else set() for n in nodes]
        if samples == "chain" and not any(deps):
            raise ConfigurationError("samples='chain' but none of these expressions depends on a model or parameter "
                                     "with posterior samples; use samples='auto' or 'point'")
        out = [None] * len(nodes)
        point = [i for i, d in enumerate(deps) if not d]
        chained = [i for i, d in enumerate(deps) if d]
        for idx, with_chains in ((point, False), (chained, True)):
            if not idx:
                continue
            chains = {k: sampled[k]._raw_samples for k in set().union(*(deps[i] for i in idx))} if with_chains else {}
            for i, value in zip(idx, self._evaluate([nodes[i] for i in idx], domain, chains, chunk_size)):
                out[i] = value
        return out[0] if len(out) == 1 else out

    def handles_in(self, nodes) -> dict:
        """``{key_name: handle}`` that the expressions depend on (cached per expression)."""
        found = {}
        for n in nodes:
            if n.key not in self._handles_of:
                self._handles_of[n.key] = GraphAnalysis([n]).handles
            found.update(self._handles_of[n.key])
        return found

    def _evaluate(self, nodes, domain, chains: dict, chunk_size):
        """Compiled (and cached) evaluation of ``nodes``: point values, or pushed through ``chains``."""
        prog_key = tuple(n.key for n in nodes)
        if prog_key not in self._evaluators:
            program = Program(nodes)
            statics = program.statics()
            self._evaluators[prog_key] = (program, lambda p, d: program.evaluate(p, d, statics), {})
        program, fn, compiled = self._evaluators[prog_key]
        params = {k: h.get_trainable() for k, h in program.handles.items()}
        data = program.data(self.noise_key, domain)
        try:
            if not chains:
                if "point" not in compiled:
                    compiled["point"] = jax.jit(fn)
                return compiled["point"](params, data)
            return self._eval_chains(fn, compiled, params, chains, data, chunk_size)
        except (TypeError, ValueError) as err:
            if domain is None:
                raise
            raise ShapeError(
                f"cannot evaluate on domain {getattr(domain, 'name', domain)!r}: {err}. Array constants with one row "
                "per point (data) only fit the point set they were built for; evaluate expressions without them."
            ) from None

    @staticmethod
    def _eval_chains(fn, compiled, params, chains, data, chunk_size):
        """``fn`` pushed forward through ``(K, N)`` posterior samples, ``chunk_size`` samples at a time."""
        lead = {k: jax.tree_util.tree_leaves(v)[0].shape[:2] for k, v in chains.items()}
        if len(set(lead.values())) > 1:
            raise ConfigurationError(f"the Bayesian models in this expression have different (chains, samples) "
                                     f"layouts {lead}; give them the same num_chains and keep")
        K, N = next(iter(lead.values()))
        flat = {k: jax.tree_util.tree_map(lambda a: jnp.reshape(a, (K * N,) + a.shape[2:]), v)
                for k, v in chains.items()}
        if chunk_size is None:
            first = {k: jax.tree_util.tree_map(lambda a: a[0], v) for k, v in flat.items()}
            per = sum(int(np.prod(o.shape)) for o in jax.eval_shape(lambda th: fn({**params, **th}, data), first))
            chunk_size = max(1, min(K * N, (1 << 26) // max(per, 1)))
        chunk_size = min(int(chunk_size), K * N)
        m = -(-K * N // chunk_size)
        pad = m * chunk_size - K * N
        key = ("chain", chunk_size, m)
        if key not in compiled:
            def run(th, params, data):
                one = lambda t: fn({**params, **t}, data)  # noqa: E731
                th = jax.tree_util.tree_map(
                    lambda a: jnp.reshape(jnp.concatenate([a, jnp.repeat(a[-1:], pad, 0)]) if pad else a,
                                          (m, chunk_size) + a.shape[1:]), th)
                out = jax.lax.map(jax.vmap(one), th)
                return [jnp.reshape(o, (m * chunk_size,) + o.shape[2:])[: K * N].reshape((K, N) + o.shape[2:])
                        for o in out]

            compiled[key] = jax.jit(run)
        return compiled[key](flat, params, data)


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
