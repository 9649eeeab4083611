"""A hand-propagated derivative tower through the tanh MLP: value, first and pure second derivatives.

The forward-mode rules per layer, for ``z = h Wᵀ + b`` and ``a = tanh(z)``, ``s = 1 - a²``::

    z_i  = h_i Wᵀ                 a_i  = s z_i
    z_ii = h_ii Wᵀ                a_ii = s z_ii - 2 a s z_i²

All streams go through one matmul per layer (stacked along rows). This is what ``jax.jvp`` of
``jax.jvp`` computes, written out so that nothing is recomputed.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from benchmarks.handwritten.mlp import Params


def mlp_tower(params: Params, x: jax.Array, first: tuple[int, ...], second: tuple[int, ...]):
    """Value, first derivatives along ``first`` axes and pure second derivatives along ``second``.

    Args:
        params: MLP parameters (see :func:`benchmarks.handwritten.mlp.init_mlp`).
        x: Inputs ``(n, d)``.
        first: Input axes ``i`` whose ``∂u/∂x_i`` is wanted.
        second: Input axes ``j`` whose ``∂²u/∂x_j²`` is wanted (their first derivatives come along).

    Returns:
        ``(u, d1, d2)``: ``u`` of shape ``(n, d_out)``; ``d1`` a dict axis → ``(n, d_out)`` for
        every axis in ``first`` or ``second``; ``d2`` a dict axis → ``(n, d_out)`` for ``second``.
    """
    n = x.shape[0]
    axes1 = tuple(sorted(set(first) | set(second)))
    w, b = params[0]
    # First layer: h_i is the unit vector e_i, so z_i = W[:, i] on every row and z_ii = 0.
    z = x @ w.T + b
    z1 = [jnp.broadcast_to(w[:, i], z.shape) for i in axes1]
    z2 = [jnp.zeros_like(z) for _ in second]
    for layer, (w, b) in enumerate(params[1:], start=1):
        a = jnp.tanh(z)
        s = 1.0 - a * a
        h1 = [s * zi for zi in z1]
        h2 = [s * zj2 - 2.0 * a * s * z1[axes1.index(j)] ** 2 for j, zj2 in zip(second, z2)]
        stacked = jnp.concatenate([a, *h1, *h2], axis=0) @ w.T
        z = stacked[:n] + b
        z1 = [stacked[n * (k + 1) : n * (k + 2)] for k in range(len(h1))]
        z2 = [stacked[n * (1 + len(h1) + k) : n * (2 + len(h1) + k)] for k in range(len(h2))]
    return z, dict(zip(axes1, z1)), dict(zip(second, z2))
