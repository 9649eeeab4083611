"""Pointwise operation nodes: constants, elementwise functions, indexing, concatenation."""

from __future__ import annotations

import hashlib
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import DataError, ExpressionTypeError, ShapeError
from ..validate import check_finite, is_integer
from .broadcast import check_concat_part, check_operands
from .node import Node, common_points
from .variables import Variable

# Python operators keep their symbol in messages; pl.np functions their name.
_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "pow": "**", "mod": "%", "floordiv": "//",
            "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "neg": "unary -"}


def op_label(name: str) -> str:
    """``"the operator -"`` for Python operators, ``"pl.np.sin"`` for functions (used in messages)."""
    return f"the operator {_SYMBOLS[name]}" if name in _SYMBOLS else f"pl.np.{name}"


class Constant(Node):
    """A fixed number or array. Arrays are passed to the compiled function as data.

    Args:
        value: a Python number (kept weakly typed, so it never promotes float32) or an array.
            Arrays must be finite (a NaN or inf raises :class:`~pinnlang.errors.DataError`).
        label: an optional name of the array, used in messages only (not part of its identity).
    """

    def __init__(self, value, label: str | None = None):
        self.points = None
        self.label = label
        if isinstance(value, (int, float, bool)) and not isinstance(value, np.ndarray):
            self.value = value
            self.is_scalar = True
            self.aval = jax.ShapeDtypeStruct((), _jax_dtype(value), weak_type=True)
            self._digest = ("scalar", type(value).__name__, value)
        else:
            arr = np.asarray(value)
            if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
                raise ExpressionTypeError(
                    f"cannot use an array of {arr.dtype} values in a pinnlang expression; give numbers (to "
                    "combine expressions use pl.np.concatenate([...]) or arithmetic, not a list or an array of them)"
                )
            name = f"the data array {label!r}" if label else f"the data array of shape {arr.shape}"
            check_finite(name, arr, "drop or fill those entries before building the expression (for measurements, "
                         "keep the finite rows and the matching points: rows = np.isfinite(y).all(axis=1))",
                         error=DataError)
            if arr.dtype == np.float64 and not jax.config.jax_enable_x64:
                arr = arr.astype(np.float32)
            self.value = arr
            self.is_scalar = False
            self.aval = jax.ShapeDtypeStruct(arr.shape, _jax_dtype(arr[:0] if arr.ndim else arr))
            sha = hashlib.sha1(arr.tobytes()).hexdigest()[:16]
            self._digest = ("array", arr.shape, str(arr.dtype), sha)
            self.data_key = f"c{sha}_{'x'.join(map(str, arr.shape))}_{arr.dtype}"

    def static(self):
        return self._digest

    def lower(self, env, args):
        if self.is_scalar:
            return self.value
        return env.constants[self.data_key]


def _jax_dtype(value):
    """The dtype ``jnp.asarray(value)`` would have, found by tracing: run eagerly, ``jnp.asarray`` compiles a
    small XLA program per dtype and shape (tens of milliseconds on a first run)."""
    return jax.eval_shape(jnp.asarray, value).dtype


def as_node(x) -> Node:
    """Wrap numbers and arrays as :class:`Constant`; nodes pass through."""
    if isinstance(x, Node):
        return x
    if isinstance(x, (int, float, bool, np.ndarray, np.generic, jax.Array)):
        return Constant(x if not isinstance(x, np.generic) else x.item())
    if isinstance(x, (list, tuple)):
        if any(isinstance(v, Node) for v in x):
            raise ExpressionTypeError(
                "a list or tuple that holds pinnlang expressions cannot be used as a value; stack the fields with "
                "pl.np.concatenate([...]) (column-wise) or combine them with arithmetic"
            )
        return Constant(np.asarray(x))
    raise ExpressionTypeError(
        f"cannot use {type(x).__name__} in a pinnlang expression; use numbers, NumPy arrays (data), "
        "variables from dom.variable(tag), models, parameters or pl.np functions of them"
    )


def _abstract(node: Node):
    return node.aval


class Apply(Node):
    """An elementwise/broadcasting JAX function of its children.

    Args:
        name: the operation's name (used in the structural key and messages).
        fn: ``fn(*child_values, **params) -> array``; must be pointwise (row ``i`` of the
            result depends only on row ``i`` of the inputs).
        args: child nodes.
        params: hashable static keyword arguments.
    """

    def __init__(self, name: str, fn: Callable, args, params: tuple = ()):
        self.name = name
        self.fn = fn
        self.args = tuple(as_node(a) for a in args)
        self.params = tuple(params)
        self.points = common_points(self.args, op_label(name))
        try:
            self.aval = jax.eval_shape(lambda *a: fn(*a, **dict(self.params)), *[_abstract(a) for a in self.args])
        except (TypeError, ValueError) as err:
            shapes = ", ".join(str(a.shape) for a in self.args)
            raise ShapeError(
                f"{op_label(name)} cannot combine operands of shapes {shapes}: {err}. Over n points a "
                "scalar field is (n, 1); select components with u[i] or make the value shapes agree."
            ) from None
        if self.points is not None and (len(self.aval.shape) == 0 or self.aval.shape[0] != self.points.num_points):
            raise ShapeError(
                f"{op_label(name)} over {self.points} gave shape {tuple(self.aval.shape)}, which lost the point "
                "axis; an array constant must broadcast against (n, ...) values (use shape (k,) or (n, k))."
            )
        check_operands(op_label(name), self.args, self.points)

    def children(self):
        return self.args

    def static(self):
        return (self.name, self.params)

    def lower(self, env, args):
        return self.fn(*args, **dict(self.params))


class Index(Node):
    """Component access on the value axes: ``u[0]`` -> ``(n, 1)`` for a vector field ``(n, k)``.

    An integer on the last value axis keeps that axis with size 1, so components of a
    vector field are scalar fields ``(n, 1)``. A leading ``:`` addressing the point axis
    (``u[:, 1]``) is accepted and means the same as ``u[1]``.
    """

    def __init__(self, child: Node, index):
        self.child = child
        self.points = child.points
        idx = index if isinstance(index, tuple) else (index,)
        nv = len(child.value_shape)
        if self.points is not None and len(idx) == nv + 1 and isinstance(idx[0], slice) and idx[0] == slice(None):
            idx = idx[1:]
        if len(idx) > nv:
            raise ShapeError(
                f"index {index!r} has {len(idx)} entries but the value at each point has shape "
                f"{child.value_shape}; index only the value axes (u[i] for component i)."
            )
        idx = tuple(_index_entry(i, index) for i in idx)
        _check_in_range(idx, child.value_shape, index)
        norm = tuple((i.start, i.stop, i.step) if isinstance(i, slice) else i for i in idx)
        self.index = norm
        self._idx = idx
        try:
            self.aval = jax.eval_shape(self._apply, child.aval)
        except IndexError as err:
            raise ShapeError(f"index {index!r} out of range for value shape {child.value_shape}: {err}") from None

    def _apply(self, v):
        lead = (slice(None),) if self.points is not None else ()
        out = v[lead + self._idx]
        if out.ndim == len(lead):  # all value axes consumed: keep a unit component axis
            out = out[..., None]
        return out

    def children(self):
        return (self.child,)

    def static(self):
        return self.index

    def lower(self, env, args):
        return self._apply(args[0])


def _index_entry(i, index):
    """One entry of an index as an ``int`` or a ``slice`` of ints (NumPy integers accepted, bools rejected)."""
    if is_integer(i):
        return int(i)
    if isinstance(i, slice):
        parts = (i.start, i.stop, i.step)
        if all(p is None or is_integer(p) for p in parts):
            return slice(*(None if p is None else int(p) for p in parts))
    raise ShapeError(
        f"index {index!r}: only integers and slices of integers may index an expression (u[0], u[1:3]), got {i!r}; "
        "for a pointwise choice use pl.np.where(cond, a, b)"
    )


def _check_in_range(idx, value_shape, index):
    """Out-of-range components raise (JAX would clamp ``u[3]`` of a 1-component field to ``u[0]``)."""
    for axis, (i, size) in enumerate(zip(idx, value_shape)):
        if isinstance(i, int) and not -size <= i < size:
            raise ShapeError(
                f"index {index!r}: component {i} is out of range along value axis {axis}, which has {size} "
                f"component(s) (valid: 0 to {size - 1}, or -{size} to -1); the value at each point has shape "
                f"{value_shape}"
            )
        if isinstance(i, slice) and len(range(*i.indices(size))) == 0:
            raise ShapeError(
                f"index {index!r}: the slice {i.start}:{i.stop}:{i.step} selects no component along value axis "
                f"{axis}, which has {size} component(s); the value at each point has shape {value_shape}"
            )


def _concat(*vals, pointed=()):
    """Concatenate along the last axis; point-free pieces broadcast over the point axis."""
    n = next((v.shape[0] for v, p in zip(vals, pointed) if p), None)
    cols = []
    for v, p in zip(vals, pointed):
        v = jnp.asarray(v)
        v = v.reshape(v.shape + (1,) * (1 - v.ndim)) if v.ndim == 0 else v
        if n is not None and not p:
            v = jnp.broadcast_to(v, (n,) + v.shape[-1:])
        cols.append(v)
    return jnp.concatenate(cols, axis=-1)


class Concatenate(Node):
    """Stack value columns: ``(n, a)``, ``(n, b)`` -> ``(n, a + b)``; point-free pieces broadcast."""

    def __init__(self, parts):
        self.parts = tuple(as_node(p) for p in parts)
        self.points = common_points(self.parts, "pl.np.concatenate")
        n = self.points.num_points if self.points is not None else None
        for p in self.parts:
            # a point-free (n, k) array next to fields is per-point data: k values at each point
            per_point = p.points is None and n is not None and len(p.shape) == 2 and p.shape[0] == n
            value_shape = p.shape[1:] if per_point else p.value_shape
            if len(value_shape) > 1:
                raise ShapeError(
                    f"concatenate takes scalar or vector values at each point, got value shape {value_shape}"
                )
            check_concat_part(p, self.points)
        self.pointed = tuple(p.points is not None for p in self.parts)
        # net(x, t) on all columns of a point set in order: the coordinates array itself
        self.whole_points = self.points is not None and [getattr(p, "dim", None) for p in self.parts] == list(
            range(self.points.width)) and all(isinstance(p, Variable) for p in self.parts)
        try:
            self.aval = jax.eval_shape(lambda *a: _concat(*a, pointed=self.pointed), *[p.aval for p in self.parts])
        except (TypeError, ValueError) as err:
            shapes = ", ".join(str(p.shape) for p in self.parts)
            raise ShapeError(
                f"pl.np.concatenate cannot stack pieces of shapes {shapes}: {err}. Over n points every piece is "
                "(n, k) or point-free (k,) / (1, k) (broadcast to every point)."
            ) from None

    def children(self):
        return self.parts

    def static(self):
        return None

    def lower(self, env, args):
        if self.whole_points:
            return env.coords[self.points]
        return _concat(*args, pointed=self.pointed)
