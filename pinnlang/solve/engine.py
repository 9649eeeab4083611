"""What a plan compiles to: backends, the step, the chunk runner, the start of a solve."""

from __future__ import annotations

import logging
from typing import Callable

import jax
import numpy as np

from ..backends import GRADIENT, mcmc_backend, optax_backend, sgmcmc_backend, vi_backend
from ..trace.sampling_config import FULL, SamplingConfig
from ..trace.vi_config import VIConfig
from .loop import make_chunk_runner
from .plan import Plan
from .start import make_start
from .state import as_members, assemble, member_positions
from .step import make_step, make_step_keys, mean_loss
from .streams import DRAW_STREAM, LOSS_BATCH_STREAM, RESAMPLE_STREAM
from .substeps import make_substepped, transitions_per_epoch

log = logging.getLogger("pinnlang")


def build_backends(plan: Plan, resampling: bool) -> list:
    """One backend per group; full-data kernels re-initialise when anything else moves between transitions
    (``resampling`` also stands for substeps: the log-density changes between stages)."""
    others_move = len(plan.groups) > 1 or resampling
    out = []
    for g in plan.groups:
        cfg = plan.configs[g.index]
        if isinstance(cfg, VIConfig):
            out.append(vi_backend(cfg))
        elif isinstance(cfg, SamplingConfig):
            out.append(mcmc_backend(cfg, reinit=others_move) if cfg.family == FULL else sgmcmc_backend(cfg))
        else:
            out.append(optax_backend(cfg))
    return out


def make_resample(resamplers: dict, every: int | None) -> Callable | None:
    """``(data, step, key) -> data`` redrawing the random point sets every ``every`` steps (``None``: never)."""
    if not resamplers or not every:
        return None

    def resample(data, step, key):
        due = (step > 0) & (step % every == 0)

        def fresh(d):
            k = jax.random.fold_in(jax.random.fold_in(key, step), RESAMPLE_STREAM)
            coords = dict(d["coords"])
            for i, (pk, draw) in enumerate(sorted(resamplers.items())):
                coords[pk] = draw(jax.random.fold_in(k, i)).astype(coords[pk].dtype)
            return {**d, "coords": coords}

        return jax.lax.cond(due, fresh, lambda d: d, data)

    return resample


def chunk_loss_estimate(plan: Plan, backends: list, loss_fn: Callable, minibatch: Callable) -> Callable | None:
    """The loss a sampling-only chunk records when every kernel takes minibatches: ``state -> (total, terms)``.

    Stochastic-gradient kernels never see the full data; evaluating it once per chunk for the history
    would cost a whole data epoch's forward pass (on a few thousand images, more than short chunks
    themselves). The estimate is the loss on one random minibatch of the kernels' size (sums scaled,
    so unbiased), drawn from ``LOSS_BATCH_STREAM`` at the chunk's last step. ``None`` (the full loss)
    otherwise.
    """
    dens = [g.index for g in plan.groups if backends[g.index].consumes != GRADIENT]
    sizes = {plan.batch_size(g) for g in dens}
    if len(dens) != len(plan.groups) or None in sizes:
        return None
    size = max(sizes)

    def estimate(state):
        key = jax.random.fold_in(jax.random.fold_in(state.key, state.step), LOSS_BATCH_STREAM)
        return mean_loss(plan, backends, loss_fn, state._replace(data=minibatch(state.data, key, size)))

    return estimate


class Engine:
    """The compiled pieces of one plan.

    Attributes:
        plan: the plan.
        backends: one per group.
        step: ``state -> (state, (total, terms, infos))``.
        run: the jitted chunk runner ``(state, length, collect) -> (state, outputs)``.
        posterior_keys: handles that get draws (those with a sampled leaf).
    """

    def __init__(self, plan: Plan, loss_fn: Callable, minibatch: Callable, resamplers: dict,
                 resample_every: int | None, stages: tuple = (), stage_losses: tuple = (), weights=(),
                 stochastic: bool = False):
        self.plan = plan
        self.loss_fn = loss_fn
        self.stages = stages
        self.backends = build_backends(plan, bool(resamplers and resample_every) or bool(stages))
        resample = make_resample(resamplers, resample_every)
        if stages:
            self.step, self._step_keys = make_substepped(plan, self.backends, stages, list(stage_losses),
                                                         len(weights), weights, minibatch=minibatch,
                                                         resample=resample, stochastic=stochastic)
            self.per_step_loss = True
            self.transitions = transitions_per_epoch(stages)
        else:
            self.step = make_step(plan, self.backends, loss_fn, minibatch=minibatch, resample=resample)
            self._step_keys = make_step_keys(plan, self.backends, stochastic=stochastic)
            self.per_step_loss = any(b.consumes == GRADIENT for b in self.backends)
            self.transitions = {g.index: 1 for g in plan.groups}
        self._group_loss = {g: stage_losses[s] for s in reversed(range(len(stages))) for g in stages[s].groups}
        self.resampled = sorted(resamplers) if resample_every else []
        self.posterior_keys = sorted({m.key for g in plan.sampled for m in g.members})
        self._runners: dict = {}
        self._starts: dict = {}
        self._bases = None  # (key, its step-key bases on the device) of the last solve
        self._end_loss = chunk_loss_estimate(plan, self.backends, loss_fn, minibatch) if not stages else None
        self._jitted_values = jax.jit(lambda state: self._values(state, _first_chain_in_program))
        self._on_cpu = None  # whether the solver state lives on CPU devices (known at the first write-back)

    def group_loss(self, g: int) -> Callable:
        """The loss group ``g`` is updated on: its first substep's, else the whole loss."""
        return self._group_loss.get(g, self.loss_fn)

    def chain0_values(self, state) -> dict:
        """The values handles hold: chain 0 of every chained group, the rest as they are.

        On a CPU the chains are cut on the host (views, copied to the device in one call): jitted, the cut
        compiled a program of its own at the end of every first solve. Elsewhere it is one jitted program.
        """
        if self._on_cpu is None:
            self._on_cpu = all(isinstance(a, jax.Array) and {d.platform for d in a.devices()} == {"cpu"}
                               for a in jax.tree_util.tree_leaves(state.groups))
        if not self._on_cpu:
            return self._jitted_values(state)
        return self._values(state, _first_chain_on_host)

    def _values(self, state, first_chain: Callable):
        """Full values from ``state``, ``first_chain`` cutting the chained groups' positions (a list) to chain 0."""
        plan = self.plan
        positions = member_positions(plan, self.backends, state.groups)
        firsts = iter(first_chain([p for g, p in zip(plan.groups, positions) if g.chained]))
        return assemble(plan, state.fixed, [next(firsts) if g.chained else p for g, p in zip(plan.groups, positions)])

    def runner(self, print_rate: int) -> Callable:
        """The jitted chunk program for chunks of up to ``print_rate`` steps (see :func:`make_chunk_runner`).

        Its buffers are sized by powers of two (at least 512 records), so solves with other epochs or
        ``print_rate`` values up to the same size reuse one compiled program.
        """
        records = max(512, 1 << (max(print_rate, 1) - 1).bit_length())
        draws = 1
        if self.plan.mcmc:
            most = max(1, min(self.plan.keep, print_rate // self.plan.thin))
            draws = 1 << (most - 1).bit_length()
        key = (records, draws)
        if key not in self._runners:
            self._runners[key] = make_chunk_runner(self.plan, self.backends, self.loss_fn, self.step,
                                                   self._step_keys, self.posterior_keys, records, draws,
                                                   needs_loss=self.per_step_loss, end_loss=self._end_loss)
        return self._runners[key]

    def step_bases(self, key):
        """The bases of the per-step keys of a solve on ``key``, computed once per key (host arrays; see
        :func:`~pinnlang.solve.step.make_step_keys`)."""
        raw = np.asarray(key)
        if self._bases is None or not np.array_equal(self._bases[0], raw):
            self._bases = (raw, jax.device_put(self._step_keys(raw)))
        return self._bases[1]

    def q_draws(self, n: int) -> Callable:
        """Jitted ``(solve key, epoch, group states) -> {VI group: {member key: (K, n, ...)}}``: ``n`` draws of each q.

        Group ``g``'s chain ``k`` draws with ``split(fold_in(base, g), K)[k]``, ``base`` the solve key's
        ``DRAW_STREAM`` at ``epoch`` (derived inside: eager ``fold_in`` calls cost about a millisecond each).
        """
        if ("q", n) not in self._runners:
            plan, backends = self.plan, self.backends

            def draws(key, epoch, groups):
                base = jax.random.fold_in(jax.random.fold_in(key, epoch), DRAW_STREAM)
                out = {}
                for g in plan.variational:
                    keys = jax.random.split(jax.random.fold_in(base, g.index), plan.num_chains)
                    sample = lambda k, s, b=backends[g.index]: b.sample(k, s, n)  # noqa: E731
                    out[g.index] = as_members(g, jax.vmap(sample)(keys, groups[g.index]))
                return out

            self._runners[("q", n)] = jax.jit(draws)
        return self._runners[("q", n)]

    def start(self, reused: frozenset) -> Callable:
        """The jitted start of a solve continuing the groups in ``reused`` (see :func:`make_start`)."""
        if reused not in self._starts:
            self._starts[reused] = make_start(self.plan, self.backends, self.loss_fn, reused)
        return self._starts[reused]


def _first_chain_in_program(positions: list) -> list:
    return jax.tree_util.tree_map(lambda a: a[0], positions)


def _first_chain_on_host(positions: list) -> list:
    """Chain 0 as host views, copied to the device in one call (exact: a slice)."""
    leaves, treedef = jax.tree_util.tree_flatten(positions)
    return jax.tree_util.tree_unflatten(treedef, jax.device_put([np.asarray(a)[0] for a in leaves]))
