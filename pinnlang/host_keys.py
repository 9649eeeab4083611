"""``jax.random.fold_in`` and ``jax.random.bits`` of raw threefry keys, computed on the host.

A core derives its noise and solve keys from its seed when it is built, and a solve the bases of its
per-step keys (:mod:`pinnlang.solve.streams`). Eagerly, ``fold_in`` compiles an XLA program of the
threefry hash (about 0.07 s on a first run, more than the rest of building a small problem), and inside
the chunk program every hash compiles again (about 0.05 s each on a CPU); the hash on two 32-bit words
is a few NumPy operations, with the same bits, elementwise over arrays of keys. A network's initial
weights start from :func:`bits32` for the same reason (the draw's XLA program took 0.2 s to compile).
"""

from __future__ import annotations

import jax
import numpy as np

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def _rotl(x, d: int):
    return (x << np.uint32(d)) | (x >> np.uint32(32 - d))


def threefry2x32(key, x0, x1):
    """Threefry-2x32 (20 rounds) of the words ``(x0, x1)`` under ``key`` (``(..., 2)`` ``uint32``), as JAX computes
    it; elementwise, broadcasting the keys' leading axes against the words."""
    with np.errstate(over="ignore"):  # uint32 arithmetic wraps, as in XLA
        key = np.asarray(key, np.uint32)
        k = [key[..., 0], key[..., 1]]
        ks = [k[0], k[1], k[0] ^ k[1] ^ np.uint32(0x1BD11BDA)]
        x = [np.asarray(x0, np.uint32) + ks[0], np.asarray(x1, np.uint32) + ks[1]]
        for i in range(5):
            for r in _ROTATIONS[i % 2]:
                x[0] = x[0] + x[1]
                x[1] = _rotl(x[1], r) ^ x[0]
            x[0] = x[0] + ks[(i + 1) % 3]
            x[1] = x[1] + ks[(i + 2) % 3] + np.uint32(i + 1)
    return x[0], x[1]


def raw_threefry(keys) -> bool:
    """``keys`` are raw ``uint32[..., 2]`` threefry keys (what this module hashes on the host)."""
    return (isinstance(keys, (np.ndarray, jax.Array)) and keys.ndim >= 1 and keys.shape[-1] == 2
            and keys.dtype == np.uint32 and jax.config.jax_default_prng_impl == "threefry2x32")


def fold_all(keys, data) -> np.ndarray:
    """``fold_in(keys[i], data[i])`` elementwise, as a NumPy array: ``keys`` ``(..., W)`` raw keys (W = 2 for threefry),
    ``data`` integers in ``[0, 2**32)`` broadcasting against the keys' leading axes. Raw threefry keys are
    hashed in NumPy; other keys go to JAX's ``fold_in``."""
    keys, data = np.asarray(keys), np.asarray(data, np.uint64)
    shape = np.broadcast_shapes(keys.shape[:-1], data.shape)
    keys, data = np.broadcast_to(keys, shape + keys.shape[-1:]), np.broadcast_to(data.astype(np.uint32), shape)
    if not raw_threefry(keys):
        f = jax.random.fold_in
        for _ in shape:
            f = jax.vmap(f)
        return np.asarray(f(keys, data))
    return np.stack(threefry2x32(keys, np.zeros_like(data), data), axis=-1)


def fold_in(key, data: int):
    """``jax.random.fold_in(key, data)`` for a raw ``uint32[2]`` threefry key (a JAX array, like JAX's);
    any other key goes to JAX."""
    if not (raw_threefry(key) and key.shape == (2,)) or not isinstance(data, int) or not 0 <= data < 1 << 32:
        return jax.random.fold_in(key, data)
    # fold_in hashes the seed words of uint32 data, (0, data)
    return jax.device_put(np.array(threefry2x32(np.asarray(key), np.uint32(0), np.uint32(data)), np.uint32))


def bits32(key, n: int) -> np.ndarray | None:
    """``jax.random.bits(key, (n,), uint32)`` as a NumPy array, or ``None`` where JAX's algorithm is not the
    one reproduced here (a typed or non-threefry key, ``jax_threefry_partitionable`` off) or the key is traced."""
    if isinstance(key, jax.core.Tracer) or not (raw_threefry(key) and key.shape == (2,)
                                                 and jax.config.jax_threefry_partitionable):
        return None
    counter = np.arange(n, dtype=np.uint64)  # the partitionable scheme hashes each element's 64-bit index
    hi, lo = (counter >> np.uint64(32)).astype(np.uint32), (counter & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    x0, x1 = threefry2x32(np.asarray(key), hi, lo)
    return x0 ^ x1
