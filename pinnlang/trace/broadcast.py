"""Point-free operands against fields: which broadcasts are deliberate and which are mistakes.

Over ``n`` points a field has shape ``(n, *value_shape)``. A point-free operand (an array constant,
a parameter, an expression of those) combined with it follows NumPy broadcasting, which silently
turns some common mistakes into other computations:

* data with one row per point but the wrong rank: ``(n,)`` against ``(n, 1)`` broadcasts to
  ``(n, n)`` (every point paired with every datum);
* data with one row per point and more components than the field: ``(n, 2)`` against ``(n, 1)``
  gives ``(n, 2)``;
* one value per point laid out as a row: ``(1, n)`` against ``(n, 1)`` gives ``(n, n)``.

These raise a :class:`~pinnlang.errors.ShapeError` that says what to reshape to. An operand with
one row per point (first axis ``n``) behaves like a field: it must have the field's rank, and it may
only broadcast a size-1 component axis against the field's (``(n, 1)`` data scales an ``(n, k)``
field). Every other broadcast is deliberate and allowed: scalars, a row ``(1, k)`` or a vector
``(k,)`` against an ``(n, k)`` field, and a ``(k,)`` vector against a scalar field (an outer product,
``(n, k)``) as long as ``k`` differs from the number of points.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError


def describe(node) -> str:
    """A short name of a point-free operand for messages."""
    from .ops import Constant
    from .parameter import Parameter

    if isinstance(node, Constant):
        label = f" {node.label!r}" if getattr(node, "label", None) else ""
        return f"the data array{label} of shape {node.shape}"
    if isinstance(node, Parameter):
        return f"parameter {node.name!r} of shape {node.shape}"
    return f"a point-free operand of shape {node.shape}"


def _reshape_hint(shape: tuple, field: tuple) -> str:
    n = field[0]
    target = (n, *field[1:])
    if int(np.prod(shape)) == int(np.prod(target)):
        return f"reshape it to {target} (e.g. data.reshape({', '.join(map(str, target))}))"
    return f"give it the shape {target} (one row per point, one column per component of the field)"


def check_operands(what: str, args, points) -> None:
    """Raise when a point-free operand of a pointwise operation broadcasts by mistake (see the module doc).

    Args:
        what: the operation, for messages (``"pl.np.add"``).
        args: the operand nodes; at least one lives on ``points``.
        points: the common point set of the pointed operands (``None``: nothing to check).

    Raises:
        ShapeError: naming the operand, both shapes and the reshape that fixes it.
    """
    if points is None:
        return
    n = points.num_points
    try:
        field = tuple(np.broadcast_shapes(*[a.shape for a in args if a.points is not None]))
    except ValueError:  # not a broadcasting operation (its own shape rule was checked by eval_shape)
        return
    for a in args:
        s = tuple(a.shape)
        if a.points is not None or s == () or n <= 1:
            continue
        try:
            merged = tuple(np.broadcast_shapes(s, field))
        except ValueError:
            continue
        name = describe(a)
        from .parameter import Parameter

        if isinstance(a, Parameter) and len(s) == 1 and merged == field:
            continue  # a parameter vector along the field's components (weights of features), even when k == n
        if s[0] == n:  # one row per point: it must line up with the field like a field does
            if len(s) != len(field):
                if len(s) == 1 and merged == field:
                    raise ShapeError(
                        f"{what}: {name} has as many entries as {points} has points ({n}) and as the field of shape "
                        f"{field} has components, so it is ambiguous: one value per point or one per component? "
                        f"For one per component give it the shape (1, {n}); for one per point, "
                        f"{_reshape_hint(s, (n, 1))}.")
                raise ShapeError(
                    f"{what}: {name} has one row per point of {points} but not the field's rank: against the "
                    f"field of shape {field} it would broadcast to {merged} and pair every point with every row. "
                    f"{_reshape_hint(s, field).capitalize()}."
                )
            if merged != field:
                raise ShapeError(
                    f"{what}: {name} has one row per point of {points} with value shape {s[1:]}, but the field "
                    f"has value shape {field[1:]}; broadcasting would silently give {merged}. Select the matching "
                    f"columns (e.g. data[:, [0]] for a scalar field) or build a field with as many components "
                    f"(pl.np.concatenate([...]))."
                )
        elif merged != field and n in s:
            raise ShapeError(
                f"{what}: {name} has {n} entries along an axis other than the first, as many as the points of "
                f"{points}; against the field of shape {field} it would broadcast to {merged}. If it holds one "
                f"value per point, {_reshape_hint(s, field)}."
            )


def check_concat_part(part, points) -> None:
    """A point-free piece of ``pl.np.concatenate`` (or of a model's inputs) with one value per point.

    ``(n,)`` would broadcast to ``n`` columns; it must be ``(n, 1)``.
    """
    if points is None or part.points is not None:
        return
    n = points.num_points
    if n > 1 and len(part.shape) == 1 and part.shape[0] == n:
        raise ShapeError(
            f"pl.np.concatenate (or a model's inputs): {describe(part)} has one entry per point of {points} but "
            f"no component axis, so it would become {n} columns; reshape it to ({n}, 1)."
        )


__all__ = ["check_concat_part", "check_operands", "describe"]
