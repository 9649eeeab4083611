"""The one solver state, and the split and join of parameter values by group.

Everything a solve carries lives in :class:`SolverState`: the step, the base key, the values no
group updates, every group's backend state (its position included) and shared tuning, and the
data (coordinates move when points are resampled). Handles hold only configuration and the
values written back after a solve. The chain axis of chained groups and the point axis of the
data are explicit leading axes, the axes a device mesh would split.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from .plan import FIXED, Plan


class SolverState(NamedTuple):
    """The state of a solve (a pytree; checkpoints serialise exactly this).

    Attributes:
        step: ``()`` int32 global epoch; randomness of step ``t`` is ``fold_in(key, t)``.
        key: the solve's base PRNG key.
        fixed: ``{handle key: partial pytree}`` of the leaves no group updates (``None`` elsewhere).
        groups: per group, its backend state; chained groups carry a leading ``(K,)`` axis.
        tunings: per group, the :class:`~pinnlang.backends.base.Tuning` its chains share.
        data: coordinates, constants and noise keys.
    """

    step: Any
    key: Any
    fixed: dict
    groups: tuple
    tunings: tuple
    data: dict


def _partial(plan: Plan, key: str, value, keep: Callable[[int], bool]):
    treedef = plan.treedefs[key]
    leaves = treedef.flatten_up_to(value)
    return jax.tree_util.tree_unflatten(treedef, [l if keep(lab) else None for l, lab in zip(leaves, plan.labels[key])])


def group_position(plan: Plan, g, values: dict) -> dict:
    """``{member key: partial pytree}``: the leaves of group ``g`` taken from full ``values``."""
    return {m.key: _partial(plan, m.key, values[m.key], lambda lab: lab == g.index) for m in g.members}


def as_members(g, position) -> dict:
    """A group's position as ``{member key: partial}`` (kernels of one member see the partial itself)."""
    return {g.members[0].key: position} if len(g.members) == 1 else position


def as_kernel(g, members: dict):
    """The position a group's backend sees: the member's partial pytree, or the dict for joint groups."""
    return members[g.members[0].key] if len(g.members) == 1 else members


def member_positions(plan: Plan, backends: list, groups) -> list:
    """Every group's position in ``{member key: partial}`` form."""
    return [as_members(g, b.position(s)) for g, b, s in zip(plan.groups, backends, groups)]


def fixed_values(plan: Plan, values: dict) -> dict:
    """``{handle key: partial pytree}`` of the leaves no group updates (handles with none are left out)."""
    out = {}
    for k, labels in plan.labels.items():
        if FIXED in labels:
            out[k] = _partial(plan, k, values[k], lambda lab: lab == FIXED)
    return out


def assemble(plan: Plan, fixed: dict, positions) -> dict:
    """Full values ``{handle key: trainable pytree}`` from the fixed part and every group's position.

    Args:
        plan: the plan.
        fixed: see :func:`fixed_values`.
        positions: per group, ``{member key: partial pytree}`` for one chain.
    """
    out = {}
    for k, treedef in plan.treedefs.items():
        sources = {}
        leaves = []
        for i, lab in enumerate(plan.labels[k]):
            if lab not in sources:
                src = fixed[k] if lab == FIXED else positions[lab][k]
                sources[lab] = treedef.flatten_up_to(src)
            leaves.append(sources[lab][i])
        out[k] = jax.tree_util.tree_unflatten(treedef, leaves)
    return out


def map_chains(fn: Callable, chained, shared, num_chains: int, method: str):
    """``fn(chained_k, shared)`` for every chain ``k``; outputs stacked on a leading chain axis.

    ``chained`` carries a leading ``(K,)`` axis on every leaf. A single chain is not vmapped
    (vmapping NUTS's while loops adds selects over the loop state at every iteration);
    ``method="sequential"`` uses ``lax.map`` (on CPU a vmapped NUTS pays for the deepest tree of
    any chain at every step).
    """
    if num_chains == 1:
        out = fn(jax.tree_util.tree_map(lambda a: a[0], chained), shared)
        return jax.tree_util.tree_map(lambda a: jnp.asarray(a)[None], out)
    if method == "sequential":
        return jax.lax.map(lambda c: fn(c, shared), chained)
    return jax.vmap(fn, in_axes=(0, None))(chained, shared)


def chain_keys(key, num_chains: int):
    """``(K,)`` keys, one per chain: ``fold_in(key, k)``."""
    return jax.vmap(lambda k: jax.random.fold_in(key, k))(jnp.arange(num_chains))


def jitter(key, position, num_chains: int, scale: float):
    """``num_chains`` copies of ``position`` with independent Gaussian jitter of ``scale`` (chain axis first)."""
    leaves, treedef = jax.tree_util.tree_flatten(position)

    def one(k):
        if scale == 0.0:
            return leaves
        keys = jax.random.split(k, max(len(leaves), 1))
        return [l + scale * jax.random.normal(kk, l.shape, l.dtype) for l, kk in zip(leaves, keys)]

    stacked = jax.vmap(one)(chain_keys(key, num_chains))
    return jax.tree_util.tree_unflatten(treedef, stacked)
