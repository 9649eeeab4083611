"""Samplers of the unit hypercube ``[0, 1)^d``.

``uniform`` and ``latin_hypercube`` are pure JAX functions of a key (jit-traceable);
``sobol`` and ``halton`` are deterministic NumPy sequences, randomised by :func:`rotate`
(a Cranley–Patterson rotation: a random shift modulo 1). :func:`draw_unit` puts the four behind
one signature, in JAX (for resampling inside a solve) or in NumPy (to build a domain without
compiling anything), so geometries never care which sampler they use. No SciPy here: the tests
check Sobol and Halton against ``scipy.stats.qmc``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigurationError
from .sobol import sobol

SAMPLERS = ("grid", "uniform", "sobol", "halton", "lhs")
RANDOM_SAMPLERS = SAMPLERS[1:]

_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97)


def uniform(key: jax.Array, n: int, d: int) -> jax.Array:
    """Independent uniform points.

    Args:
        key: a JAX PRNG key.
        n: number of points.
        d: dimension.

    Returns:
        ``(n, d)`` float32 array in ``[0, 1)``.
    """
    return jax.random.uniform(key, (n, d), dtype=jnp.float32)


def latin_hypercube(key: jax.Array, n: int, d: int) -> jax.Array:
    """A Latin hypercube sample: along each axis, each of the ``n`` strata ``[i/n, (i+1)/n)`` holds one point.

    Args:
        key: a JAX PRNG key.
        n: number of points.
        d: dimension.

    Returns:
        ``(n, d)`` float32 array in ``[0, 1)``.
    """
    k_perm, k_jitter = jax.random.split(key)
    strata = jnp.argsort(jax.random.uniform(k_perm, (d, n)), axis=1).T  # a random permutation per axis
    jitter = jax.random.uniform(k_jitter, (n, d), dtype=jnp.float32)
    return _in_strata(jnp, strata, jitter, n)


def _in_strata(xp, strata, jitter, n: int):
    """``(strata + jitter) / n``, kept inside ``[s/n, (s+1)/n)`` despite float32 rounding."""
    s = strata.astype(xp.float32)
    u = (s + jitter) / xp.float32(n)
    low = xp.where(strata == 0, xp.float32(0), xp.nextafter(s / xp.float32(n), xp.float32(1)))
    high = xp.nextafter((s + 1) / xp.float32(n), xp.float32(0))
    return xp.clip(u, low, high)


def halton(n: int, d: int, skip: int = 0) -> np.ndarray:
    """The unscrambled Halton sequence: radical inverses of ``skip, skip+1, ...`` in the first ``d`` primes.

    With ``skip=0`` the first point is the origin and the list equals
    ``scipy.stats.qmc.Halton(d, scramble=False).random(n)``.

    Args:
        n: number of points.
        d: dimension (``1 <= d <= 25``).
        skip: index of the first point.

    Returns:
        ``(n, d)`` float64 array in ``[0, 1)``.
    """
    if not 1 <= d <= len(_PRIMES):
        raise ConfigurationError(f"halton supports 1 to {len(_PRIMES)} dimensions, got d={d}; use sampler='uniform'")
    if n < 0 or skip < 0:
        raise ConfigurationError(f"halton needs n >= 0 and skip >= 0, got n={n}, skip={skip}")
    out = np.empty((n, d))
    for j, base in enumerate(_PRIMES[:d]):
        i = np.arange(skip, skip + n, dtype=np.int64)
        x = np.zeros(n)
        scale = 1.0 / base
        while np.any(i > 0):
            x += (i % base) * scale
            i //= base
            scale /= base
        out[:, j] = x
    return out


def rotate(points: jax.Array, key: jax.Array) -> jax.Array:
    """Cranley–Patterson rotation: shift all points by one uniform vector, modulo 1.

    Args:
        points: ``(n, d)`` points in ``[0, 1)``.
        key: a JAX PRNG key.

    Returns:
        ``(n, d)`` float32 array in ``[0, 1)``; each point is still uniform, the set keeps its low discrepancy.
    """
    shift = jax.random.uniform(key, (1, points.shape[1]), dtype=jnp.float32)
    x = jnp.asarray(points, jnp.float32) + shift
    return x - jnp.floor(x)


@lru_cache(maxsize=64)
def _sequence(name: str, n: int, d: int) -> np.ndarray:
    points = sobol(n, d) if name == "sobol" else halton(n, d)
    points = points.astype(np.float32)
    points.setflags(write=False)
    return points


def check_sampler(sampler: str) -> str:
    """Return ``sampler`` if it is a known sampler name, else raise a ``ConfigurationError``."""
    if sampler not in SAMPLERS:
        raise ConfigurationError(f"unknown sampler {sampler!r}; use one of {', '.join(map(repr, SAMPLERS))}")
    return sampler


def key_words(key) -> list[int]:
    """The raw 32-bit words of a JAX PRNG key (raw ``uint32`` or typed ``jax.random.key``)."""
    try:
        data = jax.random.key_data(key) if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key) else key
        words = np.asarray(data)
    except (AttributeError, TypeError):
        words = None
    if words is None or words.dtype != np.uint32 or words.size == 0:
        raise ConfigurationError(f"key must be a JAX PRNG key (jax.random.PRNGKey(0) or jax.random.key(0)), got "
                                 f"{key!r}; or pass seed=<int>")
    return [int(w) for w in words.ravel()]


def _numpy_unit(name: str, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    if name == "uniform":
        return rng.random((n, d), dtype=np.float32)
    if name == "lhs":
        strata = rng.permuted(np.tile(np.arange(n), (d, 1)), axis=1).T
        return _in_strata(np, strata, rng.random((n, d), dtype=np.float32), n)
    x = _sequence(name, n, d) + rng.random((1, d), dtype=np.float32)
    return x - np.floor(x)


def draw_unit(name: str, n: int, d: int, key, index: int, xp=jnp):
    """Draw ``n`` points of ``[0, 1)^d`` with sampler ``name`` from ``key`` and a stream ``index``.

    With ``xp=jax.numpy`` this is pure JAX (jit-traceable; the stream key is
    ``jax.random.fold_in(key, index)``). With ``xp=numpy`` the same kind of draw runs in NumPy, seeded
    from the key's words and ``index`` (fast, no compilation: used to build domains); the two give
    different, equally distributed, points. Sobol and Halton use the first ``n`` points of the sequence
    rotated by a random shift modulo 1.

    Args:
        name: ``"uniform"``, ``"lhs"``, ``"sobol"`` or ``"halton"``.
        n: number of points.
        d: dimension (``0`` gives an empty ``(n, 0)`` array).
        key: a JAX PRNG key.
        index: stream number (draws with different indices are independent).
        xp: ``jax.numpy`` or ``numpy``.

    Returns:
        ``(n, d)`` float32 array in ``[0, 1)``.
    """
    check_sampler(name)
    if name == "grid":
        raise ConfigurationError("the grid sampler has no random draws; use mesh_size=... instead")
    if xp is np:
        if d == 0:
            return np.zeros((n, 0), np.float32)
        return _numpy_unit(name, n, d, np.random.default_rng([*key_words(key), index]))
    if d == 0:
        return jnp.zeros((n, 0), jnp.float32)
    key = jax.random.fold_in(key, index)
    if name == "uniform":
        return uniform(key, n, d)
    if name == "lhs":
        return latin_hypercube(key, n, d)
    return rotate(jnp.asarray(_sequence(name, n, d)), key)


def unit_sampler(name: str, n: int, d: int) -> Callable[[jax.Array], jax.Array]:
    """A pure JAX function ``key -> (n, d)`` float32 points in ``[0, 1)`` drawn with sampler ``name``."""
    check_sampler(name)
    if name == "grid":
        raise ConfigurationError("the grid sampler has no random draws; use mesh_size=... instead")
    return lambda key: draw_unit(name, n, d, key, 0)
