"""Posterior draws stored by what varies: per chain and draw, per draw, or once.

A solve writes every group's position at each kept draw into host buffers: sampled groups (and
per-chain optimisers) as ``(N, K, ...)``, shared optimised groups as ``(N, ...)`` (one value per
draw, common to the chains). Leaves no group updates are not stored per draw at all. A handle's
:class:`Posterior` points into these buffers and assembles the full ``(K, N, ...)`` pytree on
access with read-only broadcast views, so a frozen body under a sampled head costs one copy.
"""

from __future__ import annotations

import itertools
import logging

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..backends.mcmc import LP
from ..trace.sampling_config import STEPS as STEP_COUNT
from .plan import FIXED, SAMPLED, Plan

log = logging.getLogger("pinnlang")
DRAWS, STEPS, CONSTANT = "draws", "steps", "constant"
_solve_ids = itertools.count(1)


class DrawBuffer:
    """Host buffers of one solve's kept draws.

    Args:
        plan: the groups.
        template: per group, a position (``(K, ...)`` leaves for chained groups).
        keep: capacity (draws).
    """

    def __init__(self, plan: Plan, template, keep: int):
        self.plan = plan
        self.keep = keep
        self.n = 0
        self.positions = [jax.tree_util.tree_map(lambda a: np.empty((keep,) + tuple(a.shape), a.dtype), p)
                          for p in template]
        self.infos: dict = {}
        self.solve_id = next(_solve_ids)

    def append(self, draws, infos: dict):
        """Write a chunk's draws (``L`` leading) and diagnostics ``{group: {field: (L, K)}}``."""
        length = jax.tree_util.tree_leaves(draws)[0].shape[0] if jax.tree_util.tree_leaves(draws) else 0
        length = min(length, self.keep - self.n)
        if length <= 0:
            return
        sl = slice(self.n, self.n + length)
        for buf, d in zip(self.positions, draws):
            for b, a in zip(jax.tree_util.tree_leaves(buf), jax.tree_util.tree_leaves(d)):
                b[sl] = np.asarray(a)[:length]
        for g, fields in infos.items():
            store = self.infos.setdefault(g, {})
            for f, v in fields.items():
                v = np.asarray(v)
                if f not in store:
                    if self.n > 0:  # new since the earlier draws (a checkpoint of an older version)
                        continue  # a field known for only some draws would be garbage for the others
                    store[f] = np.empty((self.keep,) + v.shape[1:], v.dtype)
                store[f][sl] = v[:length]
        self.n += length

    def state(self) -> dict:
        """The filled part as plain arrays (checkpoints)."""
        return {"n": self.n, "positions": [jax.tree_util.tree_map(lambda a: a[: self.n], p) for p in self.positions],
                "infos": {str(g): {f: v[: self.n] for f, v in fs.items()} for g, fs in self.infos.items()}}

    def restore(self, saved: dict):
        """Refill from :meth:`state` output."""
        self.n = 0
        self.append(saved["positions"], {int(g): fs for g, fs in saved["infos"].items()})


class Posterior:
    """The draws of one handle after a solve.

    Attributes:
        num_chains, num_draws: ``K`` and ``N``.
        solve_id: which solve produced them (draws of two handles are joint only within one solve).
        diagnostics: ``{field: (K, N)}`` of the sampled groups the handle belongs to (a handle in several
            groups gets ``"<field>/<i>"`` for its i-th group), or ``None``.
        logdensity: ``(K, N)`` log-density of each draw where the kernel state carries it (``None`` for
            SG-MCMC); ArviZ's ``lp``.
        group_labels: the labels of those groups, in the order of the ``"/<i>"`` suffixes (their step counts
            are the ``history.traces`` entries ``"num_integration_steps/<label>"``).
        epochs: ``(first, stop)`` epochs of the solve that drew them (``None`` for draws given by the user).
    """

    def __init__(self, handle, plan: Plan, buffer: DrawBuffer, fixed: dict, key: str, epochs: tuple | None = None,
                 per_epoch: dict | None = None):
        self.handle = handle
        self.key = key  # the handle's key in the plan
        self.num_chains, self.num_draws = plan.num_chains, buffer.n
        self.solve_id = buffer.solve_id
        treedef = plan.treedefs[self.key]
        self.treedef = treedef
        n = buffer.n
        self.sources = []  # per leaf: (kind, array); draws (N, K, ...), steps (N, ...), constant (...)
        self.sampled = [lab != FIXED and plan.groups[lab].kind == SAMPLED for lab in plan.labels[self.key]]
        cache = {}
        for i, lab in enumerate(plan.labels[self.key]):
            if lab == FIXED:
                if FIXED not in cache:
                    cache[FIXED] = treedef.flatten_up_to(fixed[self.key])
                self.sources.append((CONSTANT, np.asarray(cache[FIXED][i])))
                continue
            if lab not in cache:
                cache[lab] = treedef.flatten_up_to(buffer.positions[lab][self.key])
            kind = DRAWS if plan.groups[lab].chained else STEPS
            self.sources.append((kind, cache[lab][i][:n]))
        variational = {g.index for g in plan.variational}  # a VI group's per-step infos (the ELBO) are no draw stats
        steps = {g.index: getattr(plan.configs[g.index], "fixed_steps", None) for g in plan.mcmc}
        steps = {g: c for g, c in steps.items() if c is not None}  # kernels whose transitions cost a known count
        groups = sorted({lab for lab in plan.labels[self.key]
                         if lab != FIXED and (lab in buffer.infos or lab in steps) and lab not in variational})
        diag = {}
        for j, g in enumerate(groups):
            fields = {f: np.swapaxes(v[:n], 0, 1) for f, v in buffer.infos.get(g, {}).items() if f != LP}
            if g in steps:  # not recorded in the solve: the same for every draw, summed over its thinning block
                fields[STEP_COUNT] = np.full((plan.num_chains, n), steps[g] * plan.thin, np.int32)
            for f, v in fields.items():
                diag[f if len(groups) == 1 else f"{f}/{j}"] = v
        self.diagnostics = diag or None
        self.group_labels = [plan.groups[g].label for g in groups]
        # gradients per epoch of the groups whose count is fixed (their steps are in no history trace)
        self.fixed_gradients = {plan.groups[g].label: steps[g] * (per_epoch or {}).get(g, 1) for g in groups
                                if g in steps}
        self.epochs = epochs
        # the log posterior of the draw: what the last block of the sweep saw, after every block moved
        last = [g for g in sorted(buffer.infos) if LP in buffer.infos[g]]
        self.logdensity = np.swapaxes(buffer.infos[last[-1]][LP][:n], 0, 1) if last else None
        self._samples = None

    @classmethod
    def from_samples(cls, handle, samples) -> "Posterior":
        """Draws given by the user: ``(K, N, *shape)`` values for a parameter, a module with ``(K, N, ...)``
        leaves for a model (its trainable leaves are used)."""
        from ..errors import ShapeError

        self = cls.__new__(cls)
        self.handle, self.key = handle, None  # in no plan
        current = handle.get_trainable()
        self.treedef = jax.tree_util.tree_structure(current)
        bij = getattr(handle, "bijector", None)
        if bij is not None:
            values = np.asarray(samples)
            raw = [values if bij.name == "none" else np.asarray(bij.inverse(jnp.asarray(values, current.dtype)))]
        else:
            raw = [np.asarray(l) for l in jax.tree_util.tree_leaves(eqx.filter(samples, eqx.is_inexact_array))]
        want = [np.shape(l) for l in jax.tree_util.tree_leaves(current)]
        if len(raw) != len(want) or any(r.ndim < 2 or r.shape[2:] != w for r, w in zip(raw, want)) or \
                len({r.shape[:2] for r in raw}) != 1:
            raise ShapeError(f"{handle.name}.posterior_samples must have leading (chains, draws) axes on every leaf "
                             f"of shape {want}; got {[r.shape for r in raw]}")
        self.num_chains, self.num_draws = raw[0].shape[:2]
        self.solve_id = next(_solve_ids)
        self.sources = [(DRAWS, np.swapaxes(r, 0, 1)) for r in raw]
        self.sampled = [True] * len(raw)
        self.diagnostics, self.logdensity, self._samples = None, None, None
        self.group_labels, self.epochs, self.fixed_gradients = [], None, {}
        return self

    def raw_leaves(self) -> list:
        """``(K, N, ...)`` unconstrained leaves (read-only views where they do not vary)."""
        K, N = self.num_chains, self.num_draws
        out = []
        for kind, a in self.sources:
            if kind == DRAWS:
                out.append(np.swapaxes(a, 0, 1))
            elif kind == STEPS:
                out.append(np.broadcast_to(a[None], (K,) + a.shape))
            else:
                out.append(np.broadcast_to(a, (K, N) + a.shape))
        return out

    def samples(self):
        """The full ``(K, N, ...)`` pytree: a module for models, constrained values for parameters."""
        if self._samples is None:
            raw = jax.tree_util.tree_unflatten(self.treedef, self.raw_leaves())
            bij = getattr(self.handle, "bijector", None)
            if bij is not None:
                self._samples = np.asarray(bij.forward(jnp.asarray(raw))) if bij.name != "none" else np.asarray(raw)
            else:
                self._samples = eqx.combine(raw, self.handle.static_part)
        return self._samples

    def sampled_draws(self) -> dict:
        """``{leaf path: (K, N, ...)}`` of the leaves a kernel sampled (constrained values for a parameter);
        leaves an optimiser moved during sampling are a training trajectory, not draws."""
        samples = self.samples()
        if isinstance(samples, np.ndarray):
            return {"": samples} if self.sampled[0] else {}
        flat = jax.tree_util.tree_flatten_with_path(eqx.filter(samples, eqx.is_inexact_array))[0]
        return {jax.tree_util.keystr(p): leaf for (p, leaf), s in zip(flat, self.sampled) if s}

    def nbytes(self) -> int:
        return sum(a.nbytes for _, a in self.sources)
