"""Stan's window adaptation, one step at a time, shared by K chains.

blackjax runs its window adaptation as one closed ``scan``; a solve needs it step by step so the
warmup runs inside the solve's own chunks (with history, optimised groups training alongside,
checkpoints and interrupts). This module rebuilds the same algorithm from blackjax's parts
(``build_schedule``, dual averaging, the Welford metric core) with one difference: the K chains
of a block share one step size and mass matrix, fed by all of them. Dual averaging sees the mean
acceptance rate of the chains (K chains at one step size measure the same quantity once, with
less noise, as blackjax's multi-chain engine does); the Welford estimator receives every chain's
position. With K = 1 the updates are exactly blackjax's ``window_adaptation``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from blackjax.adaptation.metric_recipes import lookup_recipe
from blackjax.adaptation.staged_adaptation import build_schedule
from blackjax.adaptation.step_size import dual_averaging_adaptation
from jax.flatten_util import ravel_pytree


class WindowState(NamedTuple):
    """Dual averaging state, Welford state, and the step size and inverse mass matrix in force."""

    ss_state: Any
    imm_state: Any
    step_size: jax.Array
    inverse_mass_matrix: jax.Array


class WindowAdaptation(NamedTuple):
    """``init(dim, step_size) -> state``, ``update(state, t, positions, acceptance) -> state``,
    ``final(state) -> (step_size, inverse_mass_matrix)``."""

    init: Any
    update: Any
    final: Any
    num_steps: int


def window_adaptation(num_steps: int, target_acceptance_rate: float = 0.8, diagonal: bool = True,
                      initial_inverse_mass_matrix=None) -> WindowAdaptation:
    """The warmup of ``num_steps`` transitions (see the module docstring).

    Args:
        num_steps: warmup length; the schedule is Stan's (fast, doubling slow windows, fast).
        target_acceptance_rate: the dual averaging target.
        diagonal: adapt a diagonal (else dense) inverse mass matrix.
        initial_inverse_mass_matrix: the metric before the first slow window ends (default identity).
    """
    core = lookup_recipe("welford_diag" if diagonal else "welford_dense").build_core(
        imm_shrinkage_to_previous=0.0, initial_inverse_mass_matrix=initial_inverse_mass_matrix)
    da_init, da_update, da_final = dual_averaging_adaptation(target_acceptance_rate)
    schedule = jnp.asarray(build_schedule(num_steps)).reshape(num_steps, 2)

    def init(dim: int, step_size) -> WindowState:
        imm_state = core.init(dim)
        return WindowState(da_init(step_size), imm_state, jnp.asarray(step_size), imm_state.inverse_mass_matrix)

    def welford(imm_state, flat_positions):
        return jax.lax.scan(lambda s, p: (core.update(s, p, None), None), imm_state, flat_positions)[0]

    def update(state: WindowState, t, positions, acceptance) -> WindowState:
        """One warmup step ``t`` (0-based) after the chains moved to ``positions`` ``(K, ...)``."""
        stage, window_end = schedule[t, 0], schedule[t, 1]
        ss = da_update(state.ss_state, jnp.mean(acceptance))
        flat = jax.vmap(lambda p: ravel_pytree(p)[0])(positions)
        imm_state = jax.lax.cond(stage == 1, welford, lambda s, _: s, state.imm_state, flat)
        state = WindowState(ss, imm_state, jnp.exp(ss.log_step_size), state.inverse_mass_matrix)

        def close_window(s: WindowState) -> WindowState:
            imm = core.final(s.imm_state)
            ss2 = da_init(da_final(s.ss_state))
            return WindowState(ss2, imm, jnp.exp(ss2.log_step_size), imm.inverse_mass_matrix)

        return jax.lax.cond(window_end.astype(bool), close_window, lambda s: s, state)

    def final(state: WindowState):
        return jnp.exp(state.ss_state.log_step_size_avg), state.imm_state.inverse_mass_matrix

    return WindowAdaptation(init, update, final, num_steps)
