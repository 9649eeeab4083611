"""Hand-written PINN for ``u'' = -π² sin(πx)`` on ``[-1, 1]``, ``u(±1) = 0`` (plain JAX + optax).

201 collocation points ``np.linspace(-1, 1, 201)``, boundary ``x = ±1``, an MLP 1 → 3×32 tanh → 1,
adam(1e-3), loss ``mean(pde²) + mean(bc²)``. ``u, u_x, u_xx`` come from one nested forward-mode
pass: since rows are independent, ``jvp`` with a tangent of ones gives every row's derivative::

    (u, u_x), (u_x, u_xx) = jvp(lambda x: jvp(f, (x,), (ones,)), (x,), (ones,))

``deriv="manual"`` swaps in the hand-propagated tower of :mod:`benchmarks.handwritten.tower`.
"""

from __future__ import annotations


import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.handwritten.mlp import mlp
from benchmarks.handwritten.tower import mlp_tower
from benchmarks.handwritten.train import trainers

SIZES = [1, 32, 32, 32, 1]
LEARNING_RATE = 1e-3


def second_derivative_jvp(params, x):
    """``u_xx`` of the MLP at every row of ``x`` ``(n, 1)`` by nested ``jax.jvp``; shape ``(n, 1)``."""
    ones = jnp.ones_like(x)
    f = lambda y: mlp(params, y)  # noqa: E731
    _, (_, u_xx) = jax.jvp(lambda y: jax.jvp(f, (y,), (ones,)), (x,), (ones,))
    return u_xx


def second_derivative_manual(params, x):
    """``u_xx`` by the hand-propagated tower; shape ``(n, 1)``."""
    _, _, d2 = mlp_tower(params, x, first=(), second=(0,))
    return d2[0]


DERIVATIVES = {"jvp": second_derivative_jvp, "manual": second_derivative_manual}


def make_loss(deriv: str = "jvp"):
    """The PINN loss ``params -> scalar`` with its collocation data baked in as constants."""
    x = jnp.asarray(np.linspace(-1.0, 1.0, 201)[:, None], jnp.float32)
    xb = jnp.asarray([[-1.0], [1.0]], jnp.float32)
    source = -(jnp.pi**2) * jnp.sin(jnp.pi * x)
    u_xx_fn = DERIVATIVES[deriv]

    def loss(params):
        pde = u_xx_fn(params, x) - source
        bc = mlp(params, xb)
        return jnp.mean(pde**2) + jnp.mean(bc**2)

    return loss


build, build_python_loop, steps_per_second = trainers(make_loss, SIZES, LEARNING_RATE, "jvp")
"""``build(seed, deriv)``, ``build_python_loop(seed, deriv)``, ``steps_per_second(n_steps, repeats, loop, deriv)``:
see :func:`benchmarks.handwritten.train.trainers`."""
