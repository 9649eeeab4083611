"""The unscrambled Sobol sequence, from the Joe–Kuo direction numbers.

Points come in Gray-code order, the order of ``scipy.stats.qmc.Sobol(d, scramble=False)``
(so the first ``2**m`` points of both are the same list). Dimension 1 is the van der Corput
sequence in base 2.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigurationError

_BITS = 30  # points are multiples of 2**-30; at most 2**30 of them

# Joe & Kuo (2008), file new-joe-kuo-6.21201, dimensions 2..21: (primitive polynomial with its
# leading and trailing 1 bits, initial direction numbers m_1..m_s).
_TABLE = (
    (3, (1,)),
    (7, (1, 3)),
    (11, (1, 3, 1)),
    (13, (1, 1, 1)),
    (19, (1, 1, 3, 3)),
    (25, (1, 3, 5, 13)),
    (37, (1, 1, 5, 5, 17)),
    (41, (1, 1, 5, 5, 5)),
    (47, (1, 1, 7, 11, 19)),
    (55, (1, 1, 5, 1, 1)),
    (59, (1, 1, 1, 3, 11)),
    (61, (1, 3, 5, 5, 31)),
    (67, (1, 3, 3, 9, 7, 49)),
    (91, (1, 1, 1, 15, 21, 21)),
    (97, (1, 3, 1, 13, 27, 49)),
    (103, (1, 1, 1, 15, 7, 5)),
    (109, (1, 3, 1, 15, 13, 25)),
    (115, (1, 1, 5, 5, 19, 61)),
    (131, (1, 3, 7, 11, 23, 15, 103)),
    (137, (1, 3, 7, 13, 13, 15, 69)),
)

MAX_DIM = len(_TABLE) + 1


def _direction_numbers(dim: int) -> list[int]:
    """Direction numbers ``v_1..v_B`` (integers scaled by ``2**B``) of one dimension (0-based)."""
    if dim == 0:
        return [1 << (_BITS - k) for k in range(1, _BITS + 1)]
    poly, m = _TABLE[dim - 1]
    s = poly.bit_length() - 1
    a = (poly >> 1) & ((1 << (s - 1)) - 1)
    v = [m[k] << (_BITS - 1 - k) for k in range(s)]
    for i in range(s, _BITS):
        x = v[i - s] ^ (v[i - s] >> s)
        for k in range(1, s):
            if (a >> (s - 1 - k)) & 1:
                x ^= v[i - k]
        v.append(x)
    return v


def sobol(n: int, d: int) -> np.ndarray:
    """The first ``n`` points of the unscrambled ``d``-dimensional Sobol sequence.

    The first point is the origin. Deterministic; combine with a random shift modulo 1
    (:func:`pinnlang.domain.samplers.rotate`) for randomised quasi-Monte Carlo.

    Args:
        n: number of points (``0 <= n <= 2**30``).
        d: dimension (``1 <= d <= 21``).

    Returns:
        ``(n, d)`` float64 array in ``[0, 1)``.
    """
    if not 1 <= d <= MAX_DIM:
        raise ConfigurationError(f"sobol supports 1 to {MAX_DIM} dimensions, got d={d}; use sampler='halton' "
                                 "or 'uniform' for more dimensions")
    if not 0 <= n <= 1 << _BITS:
        raise ConfigurationError(f"sobol draws between 0 and 2**{_BITS} points, got n={n}")
    idx = np.arange(n, dtype=np.uint64)
    gray = idx ^ (idx >> np.uint64(1))
    out = np.zeros((n, d), dtype=np.uint64)
    for j in range(d):
        v = np.asarray(_direction_numbers(j), dtype=np.uint64)
        for b in range(_BITS):
            bit = (gray >> np.uint64(b)) & np.uint64(1)
            out[:, j] ^= bit * v[b]
    return out.astype(np.float64) / float(1 << _BITS)
