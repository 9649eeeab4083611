"""Derivatives with respect to coordinate variables: ``diff``, ``grad``, ``laplacian``, ``div``.

A :class:`Derivative` is a node ``∂^|α| expr / ∂x^α`` with a multi-index ``α`` (a
sorted tuple of coordinate columns). Nesting merges multi-indices, so
``diff(diff(u, x), y)`` and ``diff(diff(u, y), x)`` are the same node and share work.
The compiler evaluates all derivatives of one expression together (see
``pinnlang.compile.derivatives``).
"""

from __future__ import annotations

from ..errors import PinnlangError, PointSetError, ShapeError
from ..validate import integer
from .node import Node, walk
from .ops import Concatenate, as_node
from .reductions import Reduction
from .variables import Variable


class Derivative(Node):
    """``∂^|α| base / ∂x^α`` at every point of ``base``'s point set.

    Args:
        base: the differentiated expression (must live on a point set).
        dims: sorted tuple of coordinate column indices (the multi-index).
    """

    lowers_children = True  # the compiler evaluates the base inside a derivative tower

    def __init__(self, base: Node, dims: tuple[int, ...]):
        self.base = base
        self.dims = tuple(sorted(dims))
        self.points = base.points
        self.aval = base.aval

    def children(self):
        return (self.base,)

    def static(self):
        return self.dims

    def lower(self, env, args):  # the compiler computes derivative towers itself
        return env.derivative(self)

    def __repr__(self) -> str:
        return f"<Derivative d^{len(self.dims)}/d{self.dims} of {self.base!r}>"


def _check_var(var, what: str) -> Variable:
    if not isinstance(var, Variable):
        raise PinnlangError(
            f"{what} differentiates with respect to coordinate variables from dom.variable(tag), "
            f"got {type(var).__name__}; to differentiate with respect to a parameter use jax.grad "
            "outside pinnlang or make it an input variable."
        )
    return var


def _check_pointwise(expr: Node):
    """Reject reductions over the differentiated point set inside a derivative."""
    for node in walk([expr]):
        if isinstance(node, Reduction) and node.child.points == expr.points:
            raise PinnlangError(
                f"cannot differentiate an expression that contains a reduction ({node.kind}) over the same "
                "points: derivatives are taken point by point. Differentiate the pointwise field first, "
                "then reduce."
            )


def diff(expr, var, order: int = 1) -> Node:
    """The ``order``-th partial derivative of ``expr`` with respect to ``var``.

    Args:
        expr: any expression over the variable's point set, shape ``(n, ...)``.
        var: a coordinate variable from ``dom.variable(tag)``.
        order: a positive integer (any order; nested jvp / Taylor towers evaluate it exactly).

    Returns:
        An expression of the same shape as ``expr``. Mixed partials: nest calls,
        ``diff(diff(u, x), y)``.
    """
    expr = as_node(expr)
    var = _check_var(var, "pl.diff")
    order = integer("pl.diff order", order, minimum=0, error=PinnlangError)
    if order == 0:
        return expr
    if expr.points is None:
        raise PointSetError(
            f"pl.diff: the expression {expr!r} does not depend on any point set; its derivative "
            f"with respect to {var.name} is zero everywhere. Differentiate a field such as net(x)."
        )
    if expr.points != var.points:
        raise PointSetError(
            f"pl.diff: the expression lives on {expr.points} but the variable {var.name} belongs to "
            f"{var.points}; differentiate with respect to a variable of the same point set."
        )
    if isinstance(expr, Derivative):
        return Derivative(expr.base, expr.dims + (var.dim,) * order)
    _check_pointwise(expr)
    return Derivative(expr, (var.dim,) * order)


def _spatial_vars(expr: Node, variables):
    if variables is not None:
        return [_check_var(v, "pl.grad/laplacian/div") for v in variables]
    if expr.points is None:
        raise PointSetError("pass the variables explicitly: the expression has no point set")
    from .variables import coordinate_variables

    dom = expr.points.domain
    return [v for v in coordinate_variables(dom, expr.points.tag)[: dom.spatial_dims]]


def _scalar(expr: Node, what: str):
    if expr.value_shape != (1,):
        raise ShapeError(f"{what} takes a scalar field (n, 1); got value shape {expr.value_shape}. Use u[i].")


def grad(expr, variables=None) -> Node:
    """Gradient of a scalar field: ``(n, 1) -> (n, d)`` (columns in the order of ``variables``).

    Args:
        expr: scalar field.
        variables: the variables to differentiate by (default: all spatial ones of its domain).
    """
    expr = as_node(expr)
    _scalar(expr, "pl.grad")
    return Concatenate([diff(expr, v) for v in _spatial_vars(expr, variables)])


def laplacian(expr, variables=None) -> Node:
    """Sum of second derivatives ``Σ_i ∂²u/∂x_i²`` of a scalar field ``(n, 1)``."""
    expr = as_node(expr)
    _scalar(expr, "pl.laplacian")
    terms = [diff(expr, v, 2) for v in _spatial_vars(expr, variables)]
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def div(field, variables=None) -> Node:
    """Divergence ``Σ_i ∂F_i/∂x_i`` of a vector field ``(n, d)`` -> ``(n, 1)``."""
    field = as_node(field)
    vs = _spatial_vars(field, variables)
    if field.value_shape != (len(vs),):
        raise ShapeError(
            f"pl.div needs a vector field with one component per variable ({len(vs)}), "
            f"got value shape {field.value_shape}"
        )
    out = diff(field[0], vs[0])
    for i, v in enumerate(vs[1:], start=1):
        out = out + diff(field[i], v)
    return out


__all__ = ["Derivative", "diff", "grad", "laplacian", "div"]
