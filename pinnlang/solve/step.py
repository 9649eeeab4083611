"""One step of a solve: a loop over ``(group, backend)`` pairs treated as data.

Per step: one ``value_and_grad`` of the loss serves every gradient group (all updated from the
values at the start of the step, Jacobi style; under K chains the shared ones get the gradient
averaged over chains); then the density groups take their transitions in order, each seeing the
current values of every other group of the same chain (Metropolis-within-Gibbs). The sweep is
mapped over chains, so chain k of one group only ever meets chain k of another.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ..backends.base import GRADIENT, Problem
from ..compile.program import MODEL_KEY, with_model_key
from ..host_keys import fold_all
from .plan import Plan
from .state import SolverState, as_kernel, as_members, assemble, map_chains, member_positions
from .streams import BATCH_OFFSET, CHAIN_STREAM, GRAD_BATCH_STREAM, MODEL_STREAM


def group_log_prior(plan: Plan, g: int) -> Callable:
    """``θ -> Σ log prior (+ log-Jacobians)`` of group ``g``'s members (``θ`` in ``{member key: partial}`` form).

    Priors see the constrained values of constrained parameters; the log-Jacobian of the constraint makes it
    a density of the raw (unconstrained) values, the space the group moves in.
    """
    spec, priors = plan.groups[g], plan.priors[g]
    bijectors = {}
    for m in spec.members:
        bij = getattr(plan.handles[m.key], "bijector", None)
        if bij is not None and bij.name != "none":
            bijectors[m.key] = bij

    def log_prior(theta):
        lp = jnp.zeros(())
        for m in spec.members:
            if m.key not in priors:
                continue
            raw = theta[m.key]
            bij = bijectors.get(m.key)
            if bij is None:
                lp = lp + priors[m.key](raw)
            else:
                lp = lp + priors[m.key](bij.forward(raw)) + jnp.sum(bij.log_det_jacobian(raw))
        return lp

    return log_prior


def group_logdensity(plan: Plan, g: int, loss_fn: Callable, fixed: dict, view: list, data: dict) -> Callable:
    """``θ -> -likelihood_scale · loss + Σ log prior (+ log-Jacobians)`` of group ``g`` in one chain.

    Args:
        view: one chain's position of every group, ``{member key: partial}`` each (``view[g]`` is replaced
            by ``θ``, given as the group's backend sees it).
    """
    spec, cfg = plan.groups[g], plan.configs[g]
    log_prior = group_log_prior(plan, g)

    def logdensity(theta):
        theta = as_members(spec, theta)
        v = list(view)
        v[g] = theta
        total, _ = loss_fn(assemble(plan, fixed, v), data)
        return -cfg.likelihood_scale * total + log_prior(theta).astype(total.dtype)

    return logdensity


def _views(plan: Plan, chained: dict, shared: dict) -> list:
    return [chained[g.index] if g.index in chained else shared[g.index] for g in plan.groups]


KEY_SLOT = -1  # the entry of the chained positions that carries each chain's model key (groups are >= 0)


def fold_step(bases, step):
    """The keys of a step: every ``(..., 2)`` key of ``bases`` (from :func:`make_step_keys`) with ``step`` folded
    in (inside a traced program)."""
    def fold(b):
        f = lambda k: jax.random.fold_in(k, step)  # noqa: E731
        for _ in range(b.ndim - 1):
            f = jax.vmap(f)
        return f(b)

    return jax.tree_util.tree_map(fold, bases)


def make_step_keys(plan: Plan, backends: list, active: frozenset | None = None,
                   stochastic: bool = False) -> Callable:
    """``bases(key)``: everything of a step's keys but the step, ``{"kernel": (K, D, 2)[, "batch": (K, D, 2)][,
    MODEL_KEY: (K, 2)]}`` host arrays; :func:`fold_step` gives the keys of a step from them.

    Chain k's density group g moves with ``fold_in(fold_in(fold_in(fold_in(key, CHAIN_STREAM), k), g), step)``
    (:mod:`pinnlang.solve.streams`). The keys depend only on the base key and the step, so chunking,
    interrupts and resumes change nothing. Everything before the step is hashed on the host once per
    solve (NumPy threefry, bit for bit JAX's), so the chunk program hashes only the step; the runner folds
    in the steps of a block at once (vectorised threefry: deriving them one step at a time inside the loop
    cost several microseconds a step on CPU), one hash per key and step.
    ``active``: only these groups (a substep's). ``stochastic``: the loss calls stochastic models; chain k's
    loss sees ``keys[MODEL_KEY][k]``. ``"batch"`` is there when a density group takes minibatches.
    """
    dens = [g.index for g in plan.groups if backends[g.index].consumes != GRADIENT
            and (active is None or g.index in active)]
    batched = any(plan.batch_size(g) for g in dens)
    chains = np.arange(plan.num_chains)

    def bases(key):
        out = {}
        if dens:
            per_chain = fold_all(fold_all(key, CHAIN_STREAM)[None], chains)  # (K, 2)
            out["kernel"] = fold_all(per_chain[:, None], np.asarray(dens)[None])  # (K, D, 2)
            if batched:  # only minibatched groups read them (deriving keys costs ~0.05 us each, every step)
                out["batch"] = fold_all(per_chain[:, None], BATCH_OFFSET + np.asarray(dens)[None])
        if stochastic:
            out[MODEL_KEY] = fold_all(fold_all(key, MODEL_STREAM)[None], chains)
        return out

    return bases


def make_step(plan: Plan, backends: list, loss_fn: Callable, *, minibatch: Callable | None = None,
              resample: Callable | None = None, active: frozenset | None = None, advance: bool = True) -> Callable:
    """``step(state, keys) -> (state, (total, terms, infos))``, ``keys`` from :func:`make_step_keys`.

    Args:
        plan: the groups.
        backends: one :class:`~pinnlang.backends.base.Backend` per group.
        loss_fn: ``(params, data) -> (total, terms)``.
        minibatch: ``(data, key, batch_size[, step]) -> data`` for groups with ``batch_size``.
        resample: ``(data, step, key) -> data`` redrawing random collocation points.
        active: update only these groups (a substep's; the others are held), default all.
        advance: count the step (``state.step + 1``); substeps count their epoch once.

    ``total`` and ``terms`` are the loss at the start of the step, averaged over chains (zeros when
    no group consumes the gradient: sampling-only steps need no loss); ``infos`` is
    ``{group index: {field: (K,)}}`` for the density groups.
    """
    K, method = plan.num_chains, plan.chain_method
    moving = [g.index for g in plan.groups if active is None or g.index in active]
    grad_ids = [g for g in moving if backends[g].consumes == GRADIENT]
    dens_ids = [g for g in moving if backends[g].consumes != GRADIENT]
    chained_ids = {g.index for g in plan.groups if g.chained}
    batch = {g: plan.batch_size(g) for g in dens_ids}
    map_priors = {g: group_log_prior(plan, g) for g in grad_ids if plan.priors[g]}  # MAP: - log prior in the loss
    grad_batch = plan.grad_batch_size if grad_ids else None

    def positions(groups) -> list:
        return member_positions(plan, backends, groups)

    def split(pos: list, keys: dict):
        """``(chained, shared)`` positions; the chains' model keys ride with the chained ones."""
        chained = {i: p for i, p in enumerate(pos) if i in chained_ids}
        if MODEL_KEY in keys:
            chained[KEY_SLOT] = keys[MODEL_KEY]
        return chained, {i: p for i, p in enumerate(pos) if i not in chained_ids}

    def chain_data(data, ch):
        """The data one chain's loss sees: with its model key when the models are stochastic."""
        return with_model_key(data, ch.get(KEY_SLOT))

    def step(state: SolverState, keys: dict):
        t = state.step
        data = resample(state.data, t, state.key) if resample is not None else state.data
        groups, tunings = list(state.groups), list(state.tunings)
        fixed = state.fixed

        gdata = data
        if grad_batch:  # the optimised groups' minibatch of this step: a slice of this data epoch's shuffle
            gdata = minibatch(data, jax.random.fold_in(state.key, GRAD_BATCH_STREAM), grad_batch, step=t)

        def objective(view, d):
            """The loss the gradient groups minimise: the loss, minus their MAP priors' log-densities."""
            tot = loss_fn(assemble(plan, fixed, view), d)[0]
            for h, log_prior in map_priors.items():
                tot = tot - log_prior(view[h]).astype(tot.dtype)
            return tot

        pos = positions(groups)
        total = terms = jnp.zeros(())
        if grad_ids:
            chained, shared = split(pos, keys)

            def value_and_grad(ch, sh):
                view, d = _views(plan, ch, sh), chain_data(gdata, ch)

                def f(gp):
                    v = list(view)
                    for g in grad_ids:
                        v[g] = gp[g]
                    tot, trm = loss_fn(assemble(plan, fixed, v), d)
                    for g, log_prior in map_priors.items():
                        tot = tot - log_prior(gp[g]).astype(tot.dtype)
                    return tot, trm

                (tot, trm), grads = jax.value_and_grad(f, has_aux=True)({g: view[g] for g in grad_ids})
                return tot, trm, {g: as_kernel(plan.groups[g], gr) for g, gr in grads.items()}

            tot_k, terms_k, grads_k = map_chains(value_and_grad, chained, shared, K, method)
            total, terms = jnp.mean(tot_k), jnp.mean(terms_k, axis=0)
            for g in grad_ids:
                b, key_g = backends[g], None  # optimisers take no randomness
                if g in chained_ids:
                    def one(ch, sh, g=g, b=b, key_g=key_g):
                        view = _views(plan, ch["pos"], sh)

                        def value_fn(p):
                            v = list(view)
                            v[g] = as_members(plan.groups[g], p)
                            return objective(v, chain_data(gdata, ch["pos"]))

                        problem = Problem(value=ch["total"], grad=ch["grad"], value_fn=value_fn)
                        return b.step(key_g, ch["state"], tunings[g], problem)[0]

                    ch = {"pos": chained, "total": tot_k, "grad": grads_k[g], "state": groups[g]}
                    groups[g] = map_chains(one, ch, shared, K, method)
                else:
                    def value_fn(p, g=g):
                        def one(ch, sh):
                            v = _views(plan, ch, sh)
                            v[g] = as_members(plan.groups[g], p)
                            return objective(v, chain_data(gdata, ch))

                        return jnp.mean(map_chains(one, chained, shared, K, method))

                    grad = jax.tree_util.tree_map(lambda a: jnp.mean(a, axis=0), grads_k[g])
                    groups[g] = b.step(key_g, groups[g], tunings[g], Problem(value=total, grad=grad,
                                                                             value_fn=value_fn))[0]
                tunings[g] = backends[g].tune(tunings[g], None, {})
            pos = positions(groups)

        infos = {}
        if dens_ids:
            chained, shared = split(pos, keys)
            ch = {"pos": {g: p for g, p in chained.items() if g not in dens_ids},
                  "states": {g: groups[g] for g in dens_ids}, "keys": keys}

            def sweep(c, sh):
                current = {g: as_members(plan.groups[g], backends[g].position(s)) for g, s in c["states"].items()}
                view = _views(plan, {**c["pos"], **current}, sh)
                states, out = dict(c["states"]), {}
                for j, g in enumerate(dens_ids):
                    d = chain_data(data, c["pos"])
                    if batch[g]:
                        d = minibatch(d, c["keys"]["batch"][j], batch[g])
                    problem = Problem(logdensity_fn=group_logdensity(plan, g, loss_fn, fixed, view, d))
                    states[g], out[g] = backends[g].step(c["keys"]["kernel"][j], states[g], tunings[g], problem)
                    view[g] = as_members(plan.groups[g], backends[g].position(states[g]))
                return states, out

            new_states, infos = map_chains(sweep, ch, shared, K, method)
            for g in dens_ids:
                groups[g] = new_states[g]
                tunings[g] = backends[g].tune(tunings[g], backends[g].position(groups[g]), infos[g])

        new = state._replace(step=t + 1 if advance else t, groups=tuple(groups), tunings=tuple(tunings), data=data)
        return new, (total, terms, infos)

    return step


def mean_loss(plan: Plan, backends: list, loss_fn: Callable, state: SolverState):
    """``(total, terms)`` at the state's values, averaged over chains."""
    pos = member_positions(plan, backends, state.groups)
    chained = {g.index: pos[g.index] for g in plan.groups if g.chained}
    shared = {g.index: pos[g.index] for g in plan.groups if not g.chained}

    def one(ch, sh):
        return loss_fn(assemble(plan, state.fixed, _views(plan, ch, sh)), state.data)

    tot, terms = map_chains(one, chained, shared, plan.num_chains, plan.chain_method)
    return jnp.mean(tot), jnp.mean(terms, axis=0)
