"""The compiled chunk: ``lax.scan`` over steps, one dispatch and one host transfer per chunk."""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from ..backends.base import GRADIENT
from .plan import Plan
from .state import member_positions
from .step import mean_loss


def _aggregate(info: dict) -> dict:
    """Diagnostics of a thinning block ``{field: (thin, K)}``: any divergence, mean acceptance, else the last."""
    out = {}
    for f, vals in info.items():
        if f == "is_divergent":
            out[f] = jnp.any(vals, axis=0)
        elif f == "acceptance_rate":
            out[f] = jnp.mean(vals, axis=0)
        else:
            out[f] = vals[-1]
    return out


def make_chunk_runner(plan: Plan, backends: list, loss_fn: Callable, step: Callable, step_keys: Callable,
                      keys) -> Callable:
    """``run(state, length, collect) -> (state, outputs)``, jitted with ``length`` and ``collect`` static.

    One scan iteration runs ``plan.thin`` steps when ``collect`` (else one). Outputs are
    ``(total (L,), terms (L, T))``, plus when collecting ``(positions, infos)``: every group's
    position after the iteration, restricted to the handles in ``keys`` (those that get draws),
    (``(L, K, ...)`` for chained groups, ``(L, ...)`` otherwise) and
    ``{group: {field: (L, K)}}`` diagnostics of the density groups. Without gradient groups no step
    needs the loss (kernels evaluate their own log-density), so it is evaluated once, at the end of
    the chunk: ``total`` then has length 1.

    The steps carry no finiteness bookkeeping (a per-step select over every value and optimiser
    state costs about 25 % on small networks); the caller checks the chunk's losses and, after a
    non-finite one, replays the chunk up to the last finite step.
    """
    thin = plan.thin
    needs_loss = any(b.consumes == GRADIENT for b in backends)

    def run(state, length: int, collect: bool):
        per = thin if collect else 1
        table = jax.vmap(lambda t: step_keys(state.key, t))(state.step + jnp.arange(length * per))
        table = jax.tree_util.tree_map(lambda a: a.reshape((length, per) + a.shape[1:]), table)

        def iteration(s, block_keys):
            if collect and thin > 1:
                s, (totals, termss, block) = jax.lax.scan(step, s, block_keys)
                total, terms = totals[-1], termss[-1]
                infos = {g: _aggregate(v) for g, v in block.items()}
            else:
                s, (total, terms, infos) = step(s, jax.tree_util.tree_map(lambda a: a[0], block_keys))
            if not collect:
                return s, (total, terms)
            draws = tuple({k: v for k, v in pos.items() if k in keys}
                          for pos in member_positions(plan, backends, s.groups))
            return s, (total, terms, draws, infos)

        state, out = jax.lax.scan(iteration, state, table, length=length)
        if not needs_loss:
            total, terms = mean_loss(plan, backends, loss_fn, state)
            out = (total[None], terms[None], *out[2:])
        return state, out

    return jax.jit(run, static_argnums=(1, 2))
