"""Data of the B-PINN nonlinear Poisson benchmark (Yang, Meng & Karniadakis 2021, §4.2).

``λ u_xx + k tanh(u) = f`` on ``x ∈ [-0.7, 0.7]`` with ``λ = 0.01``, true ``k = 0.7`` and
``u = sin³(6x)``. By hand, with ``s = sin(6x)``, ``c = cos(6x)``::

    u'  = 18 s² c
    u'' = 18 (2 s c · 6 c + s² · (-6 s)) = 216 s c² - 108 s³ = 108 s (2c² - s²)

so ``f = 0.01 · 108 s (2c² - s²) + k tanh(s³)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

LAMBDA = 0.01
K_TRUE = 0.7
X_RANGE = (-0.7, 0.7)


def u_exact(x: np.ndarray) -> np.ndarray:
    """``sin³(6x)``, shape of ``x``."""
    return np.sin(6.0 * np.asarray(x, np.float64)) ** 3


def u_xx_exact(x: np.ndarray) -> np.ndarray:
    """``108 sin(6x) (2cos²(6x) - sin²(6x))``, shape of ``x``."""
    x = np.asarray(x, np.float64)
    s, c = np.sin(6.0 * x), np.cos(6.0 * x)
    return 108.0 * s * (2.0 * c**2 - s**2)


def f_source(x: np.ndarray, k: float = K_TRUE) -> np.ndarray:
    """``f = 0.01 u_xx + k tanh(u)`` for ``u = sin³(6x)``, shape of ``x``."""
    return LAMBDA * u_xx_exact(x) + k * np.tanh(u_exact(x))


class BPINNData(NamedTuple):
    """Sensor data of the benchmark; every array is a column ``(n, 1)``.

    Attributes:
        x_u, u_obs, u_true: ``n_u`` u-sensors, their noisy and clean values.
        x_f, f_obs, f_true: ``n_f`` f-sensors, their noisy and clean values.
        sigma: Noise standard deviation used for both.
        k: The true ``k`` the data were made with.
    """

    x_u: np.ndarray
    u_obs: np.ndarray
    u_true: np.ndarray
    x_f: np.ndarray
    f_obs: np.ndarray
    f_true: np.ndarray
    sigma: float
    k: float


def _rng(key_or_seed) -> np.random.Generator:
    """A numpy generator from an int seed or any integer array (e.g. a raw JAX PRNG key)."""
    if isinstance(key_or_seed, (int, np.integer)):
        return np.random.default_rng(int(key_or_seed))
    if "key<" in str(getattr(key_or_seed, "dtype", "")):  # a typed JAX key, jax.random.key(0)
        import jax

        key_or_seed = jax.random.key_data(key_or_seed)
    words = np.asarray(key_or_seed).ravel().astype(np.uint64)
    return np.random.default_rng([int(w) for w in words])


def make_bpinn_data(key_or_seed=0, n_u: int = 8, n_f: int = 32, sigma: float = 0.1, k: float = K_TRUE) -> BPINNData:
    """Noisy sensors: ``n_u`` u-sensors and ``n_f`` f-sensors evenly spaced on ``[-0.7, 0.7]``.

    Both sensor sets include the two end points; the noise is i.i.d. ``N(0, sigma²)``, u-noise drawn
    first, then f-noise, from one numpy generator, so the same seed gives the same data.

    Args:
        key_or_seed: An int seed, or an integer array such as ``jax.random.PRNGKey(0)``.
        n_u: Number of u-sensors.
        n_f: Number of f-sensors.
        sigma: Noise standard deviation.
        k: The ``k`` used to make ``f``.

    Returns:
        A :class:`BPINNData`.
    """
    rng = _rng(key_or_seed)
    x_u = np.linspace(*X_RANGE, n_u)[:, None]
    x_f = np.linspace(*X_RANGE, n_f)[:, None]
    u_true, f_true = u_exact(x_u), f_source(x_f, k)
    u_obs = u_true + sigma * rng.standard_normal(u_true.shape)
    f_obs = f_true + sigma * rng.standard_normal(f_true.shape)
    return BPINNData(x_u, u_obs, u_true, x_f, f_obs, f_true, float(sigma), float(k))
