"""Trainable unknowns: ``pl.np.parameter``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigurationError, DataError
from ..validate import check_finite, integer, is_integer
from .constraints import IDENTITY, as_bijector
from .handle import Trainable
from .node import Node


class Parameter(Node, Trainable):
    """A trainable array that broadcasts over points (an unknown coefficient).

    Evaluates to its value of shape ``shape``; combined with a field ``(n, 1)`` a
    parameter of shape ``(1,)`` broadcasts to ``(n, 1)``.

    Args:
        shape: the value shape, e.g. ``(1,)``.
        key: ``jax.random`` key for the default initialisation (standard normal).
        name: display name.
        init: a number, an array of ``shape``, or a callable ``(key, shape, dtype) -> array``.
            Without ``init``: standard normal when ``key`` is given, else zeros.
        dtype: defaults to float32 (float64 when ``jax_enable_x64`` is on).
        constraint: ``None``, ``"positive"`` (softplus of an unconstrained raw value) or ``(lo, hi)``.
            Optimisers and samplers update the raw value; samplers add the log-Jacobian.
    """

    def __init__(self, shape=(1,), *, key=None, name=None, init=None, dtype=None, constraint=None):
        shape = _check_shape(shape)
        dtype = dtype or (jnp.float64 if jax.config.jax_enable_x64 else jnp.float32)
        self.bijector = as_bijector(constraint)
        if init is None:
            if self.bijector is IDENTITY:
                value = jax.random.normal(key, shape, dtype) if key is not None else jnp.zeros(shape, dtype)
            else:  # start at raw N(0,1) (or 0): inside the support
                raw = jax.random.normal(key, shape, dtype) if key is not None else jnp.zeros(shape, dtype)
                value = self.bijector.forward(raw)
        elif callable(init):
            value = jnp.asarray(init(key if key is not None else jax.random.PRNGKey(0), shape, dtype), dtype)
        else:
            value = jnp.broadcast_to(jnp.asarray(init, dtype), shape)
        if value.shape != shape:
            raise ConfigurationError(f"parameter init gave shape {value.shape}, expected {shape}")
        check_finite(f"the init of parameter {name or 'param'!r}", value, "give finite initial values", DataError)
        self._init_handle(name, "param")
        self.points = None
        self.aval = jax.ShapeDtypeStruct(shape, dtype)
        self.raw = self._to_raw(value)

    def static(self):
        return self.uid

    def lower(self, env, args):
        return self.bijector.forward(env.params[env.analysis.keys(self)])

    def _to_raw(self, value):
        value = jnp.asarray(value, self.aval.dtype).reshape(self.aval.shape)
        raw = self.bijector.inverse(value)
        if not bool(jnp.all(jnp.isfinite(raw))):
            raise ConfigurationError(f"parameter {self.name!r}: initial value {value} is outside its constraint "
                                     f"{self.bijector.name}")
        return raw

    @property
    def value(self):
        """The current (constrained) value, shape ``shape``."""
        return self.bijector.forward(self.raw)

    def get_trainable(self):
        return self.raw

    def set_trainable(self, value):
        self.raw = jnp.asarray(value, self.aval.dtype).reshape(self.aval.shape)

    def from_user(self, value):
        """Raw value for a user-supplied (constrained) value (``initialize``)."""
        return self._to_raw(value)

    def __repr__(self) -> str:
        return f"<Parameter {self.name} {self.shape} = {np.asarray(self.value)}>"


def _check_shape(shape) -> tuple[int, ...]:
    """A parameter shape: an integer or a sequence of positive integers (NumPy integers accepted, bools not)."""
    if is_integer(shape) or isinstance(shape, (bool, np.bool_)):
        shape = (shape,)
    try:
        entries = tuple(shape)
    except TypeError:
        raise ConfigurationError(f"a parameter shape is an integer or a tuple of integers, got {shape!r}") from None
    return tuple(integer(f"each entry of the parameter shape {shape!r}", s, minimum=1) for s in entries)


def parameter(shape=(1,), *, key=None, name=None, init=None, dtype=None, constraint=None) -> Parameter:
    """A trainable unknown of ``shape`` (see :class:`Parameter`)."""
    return Parameter(shape, key=key, name=name, init=init, dtype=dtype, constraint=constraint)
