"""NumPy functions called on expressions: ``np.sin(x)`` means ``pl.np.sin(x)``.

NumPy hands a ufunc call with a pinnlang operand to ``Node.__array_ufunc__``. A ufunc that has a
``pl.np`` counterpart of the same meaning (or a Python operator) is dispatched to it, so
``np.sin(x)``, ``np.exp(-u)`` and ``data - u`` (an ndarray on the left) build the same nodes as
``pl.np.sin(x)``, ``pl.np.exp(-u)`` and ``pl.np.array(data) - u``. Everything else raises an
:class:`~pinnlang.errors.ExpressionTypeError` that names the pl.np replacement. Non-ufunc NumPy
functions (``np.sum``, ``np.concatenate``, ...) go through ``__array_function__``: only those with
the same pointwise meaning are dispatched (``np.where``, ``np.clip``); the others would mean
something else on an expression (``np.concatenate`` stacks rows, ``np.sum`` is a reduction), so
they raise with the pinnlang spelling.
"""

from __future__ import annotations

import operator

from ..errors import ExpressionTypeError
from .node import Node

# ufuncs that are Python operators: dispatched through the operator so the node is the one `a - b` builds
_OPERATORS = {
    "add": operator.add, "subtract": operator.sub, "multiply": operator.mul, "divide": operator.truediv,
    "true_divide": operator.truediv, "floor_divide": operator.floordiv, "power": operator.pow,
    "remainder": operator.mod, "less": operator.lt, "less_equal": operator.le, "greater": operator.gt,
    "greater_equal": operator.ge, "negative": operator.neg, "positive": operator.pos, "absolute": abs,
}
# ufuncs whose pl.np function has another name
_RENAMED = {"fabs": "abs", "rint": "round"}
# array functions with the same pointwise meaning in pl.np
_ARRAY_FUNCTIONS = ("where", "clip")
_SUGGEST = {
    "sum": "expr.sum (a property: the scalar sum over points and components) or pl.np.sum_components(expr) (the "
           "sum over components at each point)",
    "mean": "expr.mean (a property: the scalar mean over points and components)",
    "concatenate": "pl.np.concatenate([a, b]) (stacks components column-wise; NumPy's would stack points)",
    "stack": "pl.np.stack([a, b]) (stacks scalar fields column-wise)",
    "hstack": "pl.np.concatenate([a, b])",
    "dot": "pl.np.dot(a, b) (the inner product of two vector fields at each point)",
    "linalg.norm": "expr.norm (a property) or pl.np.sqrt(pl.np.dot(u, u)) at each point",
    "norm": "expr.norm (a property) or pl.np.sqrt(pl.np.dot(u, u)) at each point",
}


def _plnp():
    from . import np as plnp  # late: pl.np imports the node classes

    return plnp


def _as_operand(x):
    from .ops import as_node

    return as_node(x)


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """``Node.__array_ufunc__``: dispatch ``ufunc(*inputs)`` to its pl.np counterpart or raise."""
    name = ufunc.__name__
    if method != "__call__":
        raise ExpressionTypeError(
            f"numpy.{name}.{method} cannot take a pinnlang expression; reductions of expressions are the properties "
            ".sum, .mean, .mse and .norm (scalar loss terms) and pl.np.sum_components (per point)"
        )
    if kwargs:
        raise ExpressionTypeError(
            f"numpy.{name}(..., {', '.join(f'{k}=' for k in kwargs)}) on a pinnlang expression: keyword arguments "
            f"such as out=, where= or dtype= are not supported; call pl.np.{_RENAMED.get(name, name)}(...) without them"
        )
    if name in _OPERATORS:
        first, *rest = inputs
        return _OPERATORS[name](_as_operand(first), *rest)
    plnp = _plnp()
    target = _RENAMED.get(name, name)
    if target in plnp.__all__:
        return getattr(plnp, target)(*inputs)
    raise ExpressionTypeError(
        f"numpy.{name} has no pinnlang counterpart, so it cannot take an expression; build it from the pl.np functions "
        "(pl.np.sin, exp, log, sqrt, tanh, power, maximum, where, ... see docs/guide/expressions.md) and arithmetic, "
        "e.g. 2.0 ** x for numpy.exp2(x)"
    )


def array_function(self, func, types, args, kwargs):
    """``Node.__array_function__``: dispatch ``np.where``/``np.clip`` to pl.np, raise for the rest."""
    name = func.__name__
    module = getattr(func, "__module__", "") or ""
    full = "linalg.norm" if module.endswith("linalg") and name == "norm" else name
    if name in _ARRAY_FUNCTIONS and not kwargs:
        return getattr(_plnp(), name)(*args)
    hint = _SUGGEST.get(full)
    if hint is None:
        plnp = _plnp()
        hint = f"pl.np.{name}" if name in plnp.__all__ else "the pl.np functions and arithmetic"
    raise ExpressionTypeError(f"numpy.{full} cannot take a pinnlang expression; use {hint}")


def no_number(self, *args):
    """``float(expr)``/``int(expr)``: an expression has no value at trace time."""
    raise ExpressionTypeError(
        f"{self!r} is a symbolic expression, not a number: it has no value until it is evaluated. Use the pl.np "
        "functions (pl.np.sin, pl.np.exp, ...) instead of math.* on expressions, or crux.eval(expr) for its values"
    )


Node.__array_ufunc__ = array_ufunc
Node.__array_function__ = array_function
Node.__float__ = no_number
Node.__int__ = no_number
Node.__complex__ = no_number
