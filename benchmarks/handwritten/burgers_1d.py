"""Hand-written PINN for Burgers ``u_t + u u_x - (0.01/π) u_xx = 0`` (plain JAX + optax).

Data (numpy seed 0): 2000 interior points uniform in ``[-1, 1] × (0, 1]``; 200 boundary points, 100
at each of ``x = ±1`` with uniform ``t``; 200 initial points ``t = 0``, uniform ``x``, target
``-sin(πx)``. MLP ``(x, t)`` → 4×32 tanh → 1, adam(1e-3), loss
``mean(pde²) + mean(bc²) + mean(ic²)``; boundary and initial points share one plain forward pass.

Ways to get ``u, u_x, u_t, u_xx`` (``deriv``), fastest first on a 2-core CPU (best of 15 interleaved
300-step chunks: linearize ~480 steps/s, jvp2 ~410, manual ~400, jvp_vmap ~40):

- ``"linearize"`` (default): ``jax.linearize`` of the ``x``-jvp ``y -> (u, u_x)``, its linear map
  applied to ``e_x`` (giving ``u_xx``) and to ``e_t`` (giving ``u_t``). One primal pass.
- ``"jvp2"``: nested ``jvp`` in ``x`` plus a separate ``jvp`` in ``t``; XLA's CSE merges the
  repeated primal pass, so it costs about what the hand-written tower does.
- ``"manual"``: the hand-propagated tower (:mod:`benchmarks.handwritten.tower`), one stacked matmul
  per layer.
- ``"jvp_vmap"``: the outer ``jvp`` vmapped over the tangents ``e_x, e_t``. Correct but ~10× slower
  on CPU (63 dots in the compiled gradient against 26); kept as a warning, left out of ``run.py``.
"""

from __future__ import annotations


import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.handwritten.mlp import mlp
from benchmarks.handwritten.tower import mlp_tower
from benchmarks.handwritten.train import trainers

SIZES = [2, 32, 32, 32, 32, 1]
LEARNING_RATE = 1e-3
NU = 0.01 / np.pi


def make_data(seed: int = 0):
    """Collocation sets, float32.

    Returns:
        ``(xt_f, xt_b, xt_0, u_0)``: interior ``(2000, 2)``, boundary ``(200, 2)``, initial
        ``(200, 2)`` points (columns ``x, t``) and the initial target ``(200, 1)``.
    """
    rng = np.random.default_rng(seed)
    xt_f = np.stack([rng.uniform(-1, 1, 2000), 1.0 - rng.uniform(0, 1, 2000)], axis=1)  # t in (0, 1]
    xt_b = np.stack([np.repeat([-1.0, 1.0], 100), rng.uniform(0, 1, 200)], axis=1)
    x0 = rng.uniform(-1, 1, 200)
    xt_0 = np.stack([x0, np.zeros(200)], axis=1)
    f32 = lambda a: jnp.asarray(a, jnp.float32)  # noqa: E731
    return f32(xt_f), f32(xt_b), f32(xt_0), f32(-np.sin(np.pi * x0)[:, None])


def _directions(xt):
    return jnp.zeros_like(xt).at[:, 0].set(1.0), jnp.zeros_like(xt).at[:, 1].set(1.0)


def derivs_jvp2(params, xt):
    """``(u, u_x, u_t, u_xx)``, each ``(n, 1)``: nested jvp in ``x`` and a separate jvp in ``t``."""
    ex, et = _directions(xt)
    f = lambda y: mlp(params, y)  # noqa: E731
    (u, u_x), (_, u_xx) = jax.jvp(lambda y: jax.jvp(f, (y,), (ex,)), (xt,), (ex,))
    _, u_t = jax.jvp(f, (xt,), (et,))
    return u, u_x, u_t, u_xx


def derivs_jvp_vmap(params, xt):
    """``(u, u_x, u_t, u_xx)``: the outer jvp of the ``x``-jvp, vmapped over tangents ``e_x, e_t``."""
    ex, et = _directions(xt)
    f = lambda y: mlp(params, y)  # noqa: E731
    inner = lambda y: jax.jvp(f, (y,), (ex,))  # noqa: E731
    outer = lambda v: jax.jvp(inner, (xt,), (v,))  # noqa: E731
    (u, u_x), (d_u, d_ux) = jax.vmap(outer, out_axes=(None, 0))(jnp.stack([ex, et]))
    return u, u_x, d_u[1], d_ux[0]


def derivs_linearize(params, xt):
    """``(u, u_x, u_t, u_xx)``: ``jax.linearize`` of the ``x``-jvp, applied to ``e_x`` and ``e_t``."""
    ex, et = _directions(xt)
    f = lambda y: mlp(params, y)  # noqa: E731
    (u, u_x), lin = jax.linearize(lambda y: jax.jvp(f, (y,), (ex,)), xt)
    _, u_xx = lin(ex)
    u_t, _ = lin(et)
    return u, u_x, u_t, u_xx


def derivs_manual(params, xt):
    """``(u, u_x, u_t, u_xx)`` by the hand-propagated tower."""
    u, d1, d2 = mlp_tower(params, xt, first=(1,), second=(0,))
    return u, d1[0], d1[1], d2[0]


DERIVATIVES = {
    "linearize": derivs_linearize,
    "jvp2": derivs_jvp2,
    "manual": derivs_manual,
    "jvp_vmap": derivs_jvp_vmap,
}


def make_loss(deriv: str = "linearize", seed: int = 0):
    """The PINN loss ``params -> scalar`` with its collocation data baked in as constants."""
    xt_f, xt_b, xt_0, u_0 = make_data(seed)
    xt_b0 = jnp.concatenate([xt_b, xt_0])
    nb = xt_b.shape[0]
    derivs = DERIVATIVES[deriv]

    def loss(params):
        u, u_x, u_t, u_xx = derivs(params, xt_f)
        pde = u_t + u * u_x - NU * u_xx
        ub0 = mlp(params, xt_b0)
        return jnp.mean(pde**2) + jnp.mean(ub0[:nb] ** 2) + jnp.mean((ub0[nb:] - u_0) ** 2)

    return loss


build, build_python_loop, steps_per_second = trainers(make_loss, SIZES, LEARNING_RATE, "linearize")
"""``build(seed, deriv)``, ``build_python_loop(seed, deriv)``, ``steps_per_second(n_steps, repeats, loop, deriv)``:
see :func:`benchmarks.handwritten.train.trainers`."""
