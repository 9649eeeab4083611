"""The compiled training loop: ``lax.scan`` over steps, one dispatch per chunk."""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp


class Carry(NamedTuple):
    """State threaded through the scan.

    Attributes:
        params: ``{key_name: values}`` of the handles being updated.
        states: ``{key_name: optimiser state}``.
        data: coordinates/constants/noise keys (coordinates change when resampling).
        step: global epoch counter.
        key: PRNG key for resampling.
    """

    params: dict
    states: dict
    data: dict
    step: jax.Array
    key: jax.Array


def make_chunk_runner(loss: Callable, backends: dict, resamplers: dict, resample_every: int | None):
    """Build ``run(carry, frozen, length) -> (carry, (totals (L,), terms (L, T)))``, jitted.

    The step carries no finiteness bookkeeping (a per-step select over every parameter and
    optimiser state costs about 25 % on small networks); the caller checks the chunk's losses
    and, after a non-finite one, replays the chunk up to the last finite step.

    Args:
        loss: ``(params, data) -> (total, terms)``.
        backends: ``{key_name: OptaxBackend}`` for every updated handle.
        resamplers: ``{point key: key -> (n, d) points}`` for point sets drawn at random.
        resample_every: redraw those points every this many epochs (``None``: never).
    """

    def run(carry: Carry, frozen: dict, length: int):
        def total_fn(params, data):
            return loss({**frozen, **params}, data)

        def resample(data, step, key):
            if not resamplers or not resample_every:
                return data
            due = (step > 0) & (step % resample_every == 0)

            def fresh(d):
                k = jax.random.fold_in(key, step)
                coords = dict(d["coords"])
                for i, (pk, draw) in enumerate(sorted(resamplers.items())):
                    coords[pk] = draw(jax.random.fold_in(k, i)).astype(coords[pk].dtype)
                return {**d, "coords": coords}

            return jax.lax.cond(due, fresh, lambda d: d, data)

        def step(c: Carry, _):
            data = resample(c.data, c.step, c.key)
            (total, terms), grads = jax.value_and_grad(total_fn, has_aux=True)(c.params, data)
            new_params, new_states = {}, {}
            for k, backend in backends.items():
                value_fn = lambda p, k=k: total_fn({**c.params, k: p}, data)[0]  # noqa: E731
                new_params[k], new_states[k] = backend.step(c.params[k], grads[k], c.states[k], total, value_fn)
            return Carry(new_params, new_states, data, c.step + 1, c.key), (total, terms)

        return jax.lax.scan(step, carry, None, length=length)

    return jax.jit(run, static_argnums=2)
