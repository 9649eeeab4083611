"""The solver state at the start of a solve: fresh groups from the handles' values, kept groups as they were."""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from ..backends.base import GRADIENT, Problem
from .plan import Plan
from .state import SolverState, as_kernel, as_members, fixed_values, group_position, jitter, map_chains
from .step import _views, group_logdensity
from .streams import INIT_STREAM



def make_start(plan: Plan, backends: list, loss_fn: Callable, reused: frozenset) -> Callable:
    """``start(values, key, step, data, kept, warm) -> SolverState``, jitted.

    Args:
        plan: the groups.
        backends: one per group.
        loss_fn: ``(params, data) -> (total, terms)``.
        reused: indices of the groups whose state continues (``kept[g] = (state, tuning)``); the others
            start from ``values``: optimised groups at the values, sampled groups at K jittered copies
            (``init_jitter``), their kernel states initialised on the log-density given every other group
            of the same chain. ``warm[g]`` (a :class:`~pinnlang.solve.warm_start.WarmStart`) replaces the
            jittered starts of group ``g`` and updates its kernel arguments.
    """
    K, method = plan.num_chains, plan.chain_method

    def start(values: dict, key, step, data: dict, kept: dict, warm: dict) -> SolverState:
        fixed = fixed_values(plan, values)
        k0 = jax.random.fold_in(jax.random.fold_in(key, step), INIT_STREAM)
        pos, tunings = [], []  # positions in {member key: partial} form; chained ones (K, ...)
        for g in plan.groups:
            b = backends[g.index]
            if g.index in reused:
                state, tuning = kept[g.index]
                pos.append(as_members(g, b.position(state)))
                tunings.append(tuning)
                continue
            p0 = group_position(plan, g, values)
            if g.index in warm:
                tunings.append(b.init_tuning(as_kernel(g, p0), warm[g.index].update))
                pos.append(warm[g.index].position)
                continue
            tunings.append(b.init_tuning(as_kernel(g, p0)))
            if b.consumes == GRADIENT:
                pos.append(jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (K,) + a.shape), p0) if g.chained
                           else p0)
            else:
                pos.append(jitter(jax.random.fold_in(k0, g.index), p0, K, plan.configs[g.index].init_jitter))
        chained = {g.index: pos[g.index] for g in plan.groups if g.chained}
        shared = {g.index: pos[g.index] for g in plan.groups if not g.chained}
        groups = []
        for g in plan.groups:
            b = backends[g.index]
            if g.index in reused:
                groups.append(kept[g.index][0])
                continue
            key_g = jax.random.fold_in(k0, 1000 + g.index)
            if not g.chained:
                groups.append(b.init(key_g, as_kernel(g, pos[g.index]), tunings[g.index], Problem()))
                continue

            def one(ch, sh, g=g, b=b, key_g=key_g):
                problem = Problem()
                if b.consumes != GRADIENT:
                    view = _views(plan, ch, sh)
                    problem = Problem(logdensity_fn=group_logdensity(plan, g.index, loss_fn, fixed, view, data))
                return b.init(key_g, as_kernel(g, ch[g.index]), tunings[g.index], problem)

            groups.append(map_chains(one, chained, shared, K, method))
        return SolverState(jnp.asarray(step, jnp.int32), key, fixed, tuple(groups), tuple(tunings), data)

    return jax.jit(start)
