"""``pl.np``: the NumPy-like vocabulary of expressions.

Every function accepts nodes, numbers and arrays, and returns a node. Functions are
pointwise, so they commute with the point axis and with derivatives.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from .operators import bind_noise
from .ops import Apply, Concatenate, Constant, as_node
from .parameter import parameter

pi = math.pi
e = math.e
inf = math.inf


def _unary(name, fn):
    def f(x):
        return Apply(name, fn, [x])

    f.__name__ = name
    f.__doc__ = f"Elementwise ``{name}``."
    return f


_UNARY = {
    "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan, "arcsin": jnp.arcsin, "arccos": jnp.arccos,
    "arctan": jnp.arctan, "sinh": jnp.sinh, "cosh": jnp.cosh, "tanh": jnp.tanh, "arcsinh": jnp.arcsinh,
    "arccosh": jnp.arccosh, "arctanh": jnp.arctanh, "exp": jnp.exp, "expm1": jnp.expm1, "log": jnp.log,
    "log1p": jnp.log1p, "log2": jnp.log2, "log10": jnp.log10, "sqrt": jnp.sqrt, "cbrt": jnp.cbrt,
    "abs": jnp.abs, "sign": jnp.sign, "square": jnp.square, "floor": jnp.floor, "ceil": jnp.ceil,
    "round": jnp.round, "sinc": jnp.sinc, "logical_not": jnp.logical_not,
    "sigmoid": lambda v: 1.0 / (1.0 + jnp.exp(-v)),
    "softplus": lambda v: jnp.logaddexp(v, 0.0),
    "relu": lambda v: jnp.maximum(v, 0.0),
}
globals().update({n: _unary(n, f) for n, f in _UNARY.items()})
absolute = globals()["abs"]


def _binary(name, fn):
    def f(a, b):
        return Apply(name, fn, bind_noise([a, b]))

    f.__name__ = name
    f.__doc__ = f"Elementwise ``{name}`` with broadcasting."
    return f


_BINARY = {
    "power": jnp.power, "maximum": jnp.maximum, "minimum": jnp.minimum, "arctan2": jnp.arctan2,
    "hypot": jnp.hypot, "mod": jnp.mod, "add": jnp.add, "subtract": jnp.subtract, "multiply": jnp.multiply,
    "divide": jnp.divide, "less": jnp.less, "less_equal": jnp.less_equal, "greater": jnp.greater,
    "greater_equal": jnp.greater_equal, "equal": jnp.equal, "not_equal": jnp.not_equal,
    "logical_and": jnp.logical_and, "logical_or": jnp.logical_or, "logaddexp": jnp.logaddexp,
}
globals().update({n: _binary(n, f) for n, f in _BINARY.items()})


def where(cond, a, b):
    """``a`` where ``cond`` holds, else ``b`` (pointwise)."""
    return Apply("where", jnp.where, bind_noise([cond, a, b]))


def clip(x, lo, hi):
    """Clamp ``x`` into ``[lo, hi]``."""
    return Apply("clip", jnp.clip, [x, lo, hi])


def heaviside(x, at_zero=0.5):
    """Step function: 0 for x < 0, 1 for x > 0, ``at_zero`` at 0."""
    return Apply("heaviside", jnp.heaviside, [x, at_zero])


def concatenate(parts):
    """Stack scalar/vector fields column-wise: ``[(n, a), (n, b)] -> (n, a + b)``."""
    return Concatenate(parts)


def stack(parts):
    """Alias of :func:`concatenate` for scalar fields: ``k × (n, 1) -> (n, k)``."""
    return Concatenate(parts)


def dot(a, b):
    """Pointwise inner product of two vector fields ``(n, k)`` -> ``(n, 1)``."""
    return Apply("dot", lambda u, v: jnp.sum(u * v, axis=-1, keepdims=True), [a, b])


def sum_components(x):
    """Sum over the component axis: ``(n, k) -> (n, 1)``."""
    return Apply("sum_components", lambda v: jnp.sum(v, axis=-1, keepdims=True), [x])


def array(value, name: str | None = None):
    """An array constant (e.g. per-point data of shape ``(n, 1)``).

    Args:
        value: numbers; with one row per point of the field it meets it must have the field's shape
            (``(n, 1)`` against a scalar field, not ``(n,)``), and it must be finite.
        name: a name used in error messages (e.g. ``"u_measured"``).
    """
    return Constant(value, label=name)


constant = array

__all__ = (
    ["pi", "e", "inf", "where", "clip", "heaviside", "concatenate", "stack", "dot", "sum_components",
     "array", "constant", "parameter", "absolute", "as_node"]
    + list(_UNARY)
    + list(_BINARY)
)
