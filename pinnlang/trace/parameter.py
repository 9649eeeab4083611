"""Trainable unknowns: ``pl.np.parameter``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigurationError
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
    """

    def __init__(self, shape=(1,), *, key=None, name=None, init=None, dtype=None):
        shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
        dtype = dtype or (jnp.float64 if jax.config.jax_enable_x64 else jnp.float32)
        if init is None:
            value = jax.random.normal(key, shape, dtype) if key is not None else jnp.zeros(shape, dtype)
        elif callable(init):
            value = jnp.asarray(init(key if key is not None else jax.random.PRNGKey(0), shape, dtype), dtype)
        else:
            value = jnp.broadcast_to(jnp.asarray(init, dtype), shape)
        if value.shape != shape:
            raise ConfigurationError(f"parameter init gave shape {value.shape}, expected {shape}")
        self._init_handle(name, "param")
        self.value = value
        self.points = None
        self.aval = jax.ShapeDtypeStruct(shape, dtype)

    def static(self):
        return self.uid

    def lower(self, env, args):
        return env.params[self.key_name]

    def get_trainable(self):
        return self.value

    def set_trainable(self, value):
        self.value = jnp.asarray(value, self.aval.dtype).reshape(self.aval.shape)

    def __repr__(self) -> str:
        return f"<Parameter {self.name} {self.shape} = {np.asarray(self.value)}>"


def parameter(shape=(1,), *, key=None, name=None, init=None, dtype=None) -> Parameter:
    """A trainable unknown of ``shape`` (see :class:`Parameter`)."""
    return Parameter(shape, key=key, name=name, init=init, dtype=dtype)
