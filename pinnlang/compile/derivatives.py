"""Derivative towers: every derivative of one expression from shared forward-mode passes.

Values over a point set are batched ``(n, ...)`` and every supported expression is
pointwise (row ``i`` of the output depends only on row ``i`` of the coordinates), so
a Jacobian-vector product with the tangent "ones in column ``j``" gives ``∂/∂x_j`` at
every point at once. Nesting ``k`` such products along a multi-index ``α`` returns all
derivatives ``∂^s`` for the sub-multi-indices ``s ⊆ α`` in the same pass (for
``α = (x, x)``: ``u``, ``u_x`` and ``u_xx``), so a derivative tower costs one pass
instead of one per order.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp


def maximal_multi_indices(requested: set[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """The requested multi-indices not contained (as multisets) in another requested one.

    Args:
        requested: sorted tuples of coordinate columns.

    Returns:
        A covering list: every requested multi-index is a sub-multiset of one entry.
    """

    def contains(big, small):
        rest = list(big)
        for d in small:
            if d not in rest:
                return False
            rest.remove(d)
        return True

    keep = []
    for a in sorted(requested, key=lambda t: (-len(t), t)):
        if not any(contains(b, a) for b in keep):
            keep.append(a)
    return keep


def _direction(x: jax.Array, dim: int) -> jax.Array:
    return jnp.zeros_like(x).at[:, dim].set(1.0)


def tower(fn: Callable[[jax.Array], jax.Array], x: jax.Array, dims: tuple[int, ...]) -> dict:
    """All partial derivatives of a pointwise ``fn`` along sub-multi-indices of ``dims``.

    Args:
        fn: ``(n, d) -> (n, ...)``, pointwise in the rows.
        x: coordinates ``(n, d)``.
        dims: multi-index (coordinate columns, repeats allowed), e.g. ``(0, 0)`` for ``∂²/∂x²``.

    Returns:
        ``{sub_multi_index (sorted tuple): value (n, ...)}``; the key ``()`` holds ``fn(x)``.
    """

    def build(k: int):
        if k == 0:
            return lambda y: {(): fn(y)}
        inner = build(k - 1)
        d = dims[k - 1]

        def step(y):
            primal, tangent = jax.jvp(inner, (y,), (_direction(y, d),))
            out = dict(primal)
            for s, v in tangent.items():
                out.setdefault(tuple(sorted(s + (d,))), v)
            return out

        return step

    return build(len(dims))(x)


def _multiset_minus(big: tuple, small: tuple) -> list:
    rest = list(big)
    for d in small:
        if d in rest:
            rest.remove(d)
    return rest


def shared_prefix_plan(maximal: list[tuple[int, ...]]):
    """A prefix ``P`` and directions ``D`` with every ``α`` in ``maximal`` inside ``P + (d,)``, or ``None``.

    When it exists, one ``jax.linearize`` of the prefix tower serves every direction
    (e.g. Burgers: ``u_xx`` and ``u_t`` from the x-tower linearised along ``x`` and ``t``).
    """
    if len(maximal) < 2:
        return None
    longest = max(maximal, key=len)
    prefix = longest[:-1]
    directions = []
    for a in maximal:
        extra = _multiset_minus(a, prefix)  # never empty: a maximal index is not inside `longest`
        if len(extra) > 1:
            return None
        d = extra[0]
        if d not in directions:
            directions.append(d)
    return prefix, tuple(directions)


def linearized_tower(fn: Callable[[jax.Array], jax.Array], x: jax.Array, prefix: tuple[int, ...],
                     directions: tuple[int, ...]) -> dict:
    """Derivatives along sub-multi-indices of ``prefix + (d,)`` for every ``d`` in ``directions``.

    The prefix tower is linearised once (its forward pass shared) and the linear map is
    applied to each direction.
    """
    primal, lin = jax.linearize(lambda y: tower(fn, y, prefix), x)
    out = dict(primal)
    for d in directions:
        for s, v in lin(_direction(x, d)).items():
            out.setdefault(tuple(sorted(s + (d,))), v)
    return out
