"""The base node of the placeholder graph.

A node is an immutable description of a value: its children, the static data
that distinguishes it from its siblings, its abstract value (shape and dtype,
point axis included) and the point set it lives on. Two nodes built separately
from the same ingredients have the same structural ``key``, so the compiler
evaluates a shared sub-expression once.
"""

from __future__ import annotations

import itertools
from typing import Any, Iterator

import jax

from ..errors import PointSetError

_uids = itertools.count()


def next_uid() -> int:
    """A process-wide unique integer (for handles, domains and noise sources)."""
    return next(_uids)


class Node:
    """An expression over a point set (or over no points: parameters, reductions).

    Attributes:
        aval: ``jax.ShapeDtypeStruct`` of the evaluated value. Over a point set of
            ``n`` points the shape is ``(n, *value_shape)``; a scalar field is ``(n, 1)``.
        points: the ``PointSet`` the value lives on, or ``None``.
    """

    __array_priority__ = 1000
    __array_ufunc__ = None  # replaced in trace/ufuncs.py: np.sin(x) dispatches to pl.np.sin
    aval: jax.ShapeDtypeStruct
    points: Any

    # -- structure ---------------------------------------------------------------------
    def children(self) -> tuple["Node", ...]:
        """The direct inputs of this node."""
        return ()

    def static(self) -> Any:
        """Hashable data that, with the children, identifies this node's value."""
        raise NotImplementedError

    @property
    def key(self) -> tuple:
        """Structural key: equal keys evaluate to equal values."""
        try:
            return self._key
        except AttributeError:
            k = (type(self).__name__, self.static(), tuple(c.key for c in self.children()))
            object.__setattr__(self, "_key", k)
            return k

    def __hash__(self) -> int:  # nodes are dict keys by identity; compare keys for structure
        return id(self)

    # -- lowering ----------------------------------------------------------------------
    def lower(self, env, args: list) -> jax.Array:
        """Evaluate from the children's values ``args`` in the lowering environment ``env``."""
        raise NotImplementedError

    # -- shape helpers -----------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """Full evaluated shape (point axis first when the node has points)."""
        return tuple(self.aval.shape)

    @property
    def value_shape(self) -> tuple[int, ...]:
        """Shape of the value at one point (the point axis removed)."""
        return self.shape[1:] if self.points is not None else self.shape

    def __repr__(self) -> str:
        where = f" on {self.points}" if self.points is not None else ""
        return f"<{type(self).__name__} {self.shape}{where}>"

    def _repr_latex_(self):
        """LaTeX for notebooks (sympy form); ``None`` (plain repr) when the expression has no sympy form."""
        from ..symbolic import to_sympy  # results layer, imported lazily: trace imports no later stage

        try:
            import sympy

            return "$" + sympy.latex(to_sympy(self)) + "$"
        except Exception:  # noqa: BLE001 - a display hook must never raise
            return None

    def __bool__(self):
        raise TypeError(
            "a pinnlang expression has no truth value at trace time; use pl.np.where(cond, a, b) "
            "for a pointwise choice"
        )

    # -- operators (implemented in trace.ops, bound at import) ---------------------------
    # __add__, __mul__, ..., __getitem__, .mse, .mean, .sum, .norm are attached by
    # trace/operators.py so this file stays free of the op catalogue.


def walk(roots) -> Iterator[Node]:
    """Every node reachable from ``roots`` once, children before parents (by structural key)."""
    seen: set = set()
    order: list[Node] = []
    stack: list[tuple[Node, bool]] = [(r, False) for r in reversed(list(roots))]
    while stack:
        node, expanded = stack.pop()
        if node.key in seen:
            continue
        if expanded:
            seen.add(node.key)
            order.append(node)
            continue
        stack.append((node, True))
        for c in reversed(node.children()):
            if c.key not in seen:
                stack.append((c, False))
    return iter(order)


def common_points(nodes, what: str = "operation"):
    """The single point set shared by ``nodes`` (ignoring point-free ones), or ``None``.

    Raises:
        PointSetError: if two different point sets meet pointwise.
    """
    found = None
    for n in nodes:
        p = n.points
        if p is None:
            continue
        if found is None:
            found = p
        elif p != found:
            raise PointSetError(
                f"{what} combines values on {found} with values on {p}. Pointwise expressions "
                "must live on one point set; build separate loss terms (e.g. "
                "pl.core([residual_a.mse, residual_b.mse])) or call the model on the same variables."
            )
    return found
