"""A minimal pure-JAX MLP: a list of ``(W, b)`` pairs, Glorot-normal weights, tanh hidden layers."""

from __future__ import annotations

import jax
import jax.numpy as jnp

Params = list[tuple[jax.Array, jax.Array]]


def init_mlp(key: jax.Array, sizes: list[int], dtype=jnp.float32) -> Params:
    """Glorot-normal weights and zero biases.

    Args:
        key: PRNG key.
        sizes: Layer widths ``[d_in, h_1, …, h_L, d_out]``.
        dtype: Parameter dtype.

    Returns:
        ``[(W, b), …]`` with ``W`` of shape ``(d_out_l, d_in_l)`` and ``b`` of shape ``(d_out_l,)``.
    """
    params = []
    for k, (n_in, n_out) in zip(jax.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])):
        std = jnp.sqrt(2.0 / (n_in + n_out)).astype(dtype)
        params.append((std * jax.random.normal(k, (n_out, n_in), dtype), jnp.zeros((n_out,), dtype)))
    return params


def mlp(params: Params, x: jax.Array) -> jax.Array:
    """Forward pass on a batch.

    Args:
        params: As from :func:`init_mlp`.
        x: Inputs ``(n, d_in)``.

    Returns:
        Outputs ``(n, d_out)``; tanh after every layer but the last.
    """
    for w, b in params[:-1]:
        x = jnp.tanh(x @ w.T + b)
    w, b = params[-1]
    return x @ w.T + b
