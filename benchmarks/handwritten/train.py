"""The two training loops every benchmark shares, and their steady-state timing.

Both take a loss ``params -> scalar`` and an optax transformation. State is ``(params, opt_state)``.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Callable

import jax
import numpy as np
import optax


def make_step(loss_fn: Callable, opt: optax.GradientTransformation):
    """One optimiser step ``(state, _) -> (state, loss)``, shaped for ``lax.scan``."""
    value_and_grad = jax.value_and_grad(loss_fn)

    def step(state, _=None):
        params, opt_state = state
        loss, grads = value_and_grad(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    return step


def make_scan_runner(loss_fn: Callable, opt: optax.GradientTransformation):
    """``run_chunk(state, n_steps) -> (state, losses (n_steps,))``: a jitted ``lax.scan``.

    ``n_steps`` is static (one compile per chunk length); the state is donated.
    """
    step = make_step(loss_fn, opt)

    @partial(jax.jit, static_argnums=1, donate_argnums=0)
    def run_chunk(state, n_steps: int):
        return jax.lax.scan(step, state, None, length=n_steps)

    return run_chunk


def make_jit_step(loss_fn: Callable, opt: optax.GradientTransformation):
    """``step(state) -> (state, loss)`` jitted with the state donated, for a Python loop."""
    step = make_step(loss_fn, opt)
    return jax.jit(lambda state: step(state), donate_argnums=0)


def python_loop(step: Callable, state, n_steps: int):
    """Run ``n_steps`` of a jitted step from Python; returns ``(state, losses (n_steps,))``."""
    losses = []
    for _ in range(n_steps):
        state, loss = step(state)
        losses.append(loss)
    return state, jax.numpy.stack(losses)


def time_steps(advance: Callable, state, n_steps: int, repeats: int) -> list[float]:
    """Steps per second of ``advance(state, n_steps) -> (state, losses)`` for each repeat.

    One untimed call first compiles and warms up; every timed call ends with
    ``block_until_ready`` on the losses.

    Returns:
        ``repeats`` rates in steps/s.
    """
    state, losses = advance(state, n_steps)
    jax.block_until_ready(losses)
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        state, losses = advance(state, n_steps)
        jax.block_until_ready(losses)
        rates.append(n_steps / (time.perf_counter() - t0))
    if not np.all(np.isfinite(np.asarray(losses))):
        raise FloatingPointError("loss became non-finite during timing")
    return rates


def trainers(make_loss: Callable, sizes: list, learning_rate: float, default_deriv: str):
    """The ``build``, ``build_python_loop`` and ``steps_per_second`` functions of one benchmark problem.

    Args:
        make_loss: ``deriv -> (params -> scalar loss)``.
        sizes: MLP layer widths.
        learning_rate: adam learning rate.
        default_deriv: the derivative strategy used when none is named.

    Returns:
        ``build(seed, deriv) -> (state, run_chunk)`` (scan loop, state donated),
        ``build_python_loop(seed, deriv)`` (same contract, Python loop over a jitted step) and
        ``steps_per_second(n_steps, repeats, loop, deriv)`` (median steady-state rate).
    """
    from benchmarks.handwritten.mlp import init_mlp

    def init(seed: int):
        opt = optax.adam(learning_rate)
        params = init_mlp(jax.random.PRNGKey(seed), sizes)
        return opt, (params, opt.init(params))

    def build(seed: int = 0, deriv: str = default_deriv):
        opt, state = init(seed)
        return state, make_scan_runner(make_loss(deriv), opt)

    def build_python_loop(seed: int = 0, deriv: str = default_deriv):
        opt, state = init(seed)
        step = make_jit_step(make_loss(deriv), opt)
        return state, lambda s, n_steps: python_loop(step, s, n_steps)

    def steps_per_second(n_steps: int = 200, repeats: int = 5, loop: str = "scan", deriv: str = default_deriv):
        state, run = (build if loop == "scan" else build_python_loop)(0, deriv)
        return float(np.median(time_steps(run, state, n_steps, repeats)))

    return build, build_python_loop, steps_per_second
