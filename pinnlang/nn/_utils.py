"""Helpers shared by the modules of ``pl.nn``: activation names, input checks, frozen arrays."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigurationError, ShapeError

ACTIVATIONS: dict[str, Callable] = {
    "tanh": jnp.tanh,
    "sin": jnp.sin,
    "relu": jax.nn.relu,
    "gelu": jax.nn.gelu,
    "silu": jax.nn.silu,
    "softplus": jax.nn.softplus,
    "sigmoid": jax.nn.sigmoid,
}


def resolve_activation(activation: str | Callable | None, what: str = "activation") -> Callable | None:
    """The callable for ``activation``: a callable passes through, a name is looked up, ``None`` stays."""
    if activation is None or callable(activation):
        return activation
    if isinstance(activation, str):
        try:
            return ACTIVATIONS[activation.lower()]
        except KeyError:
            raise ConfigurationError(
                f"unknown {what} {activation!r}; use one of {sorted(ACTIVATIONS)} or pass any callable "
                f"(e.g. jax.numpy.tanh)"
            ) from None
    raise ConfigurationError(f"{what} must be a callable or a name among {sorted(ACTIVATIONS)}, got {activation!r}")


def positive_int(value, name: str) -> int:
    """``value`` as an ``int`` if it is a positive integer, else a :class:`ConfigurationError`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigurationError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_input(x, in_features: int, module: str):
    """Raise a :class:`ShapeError` unless ``x`` has shape ``(in_features,)`` (checked at trace time)."""
    shape = jnp.shape(x)
    if shape != (in_features,):
        got = shape[-1] if len(shape) else "a scalar"
        hint = " (one point at a time: use jax.vmap over a batch)" if len(shape) > 1 else ""
        raise ShapeError(
            f"{module} expects an input of shape ({in_features},) (width {in_features}) but got shape "
            f"{shape} (width {got}){hint}"
        )


class FrozenArray:
    """A hashable, read-only numpy array, fit for an ``eqx.field(static=True)``.

    A static field must be hashable and comparable (it becomes part of the pytree structure that
    ``jax.jit`` caches on), and must not hold a raw array (Equinox warns). This wrapper is a single
    opaque pytree-free object, so the array is invisible to ``eqx.filter``, optimisers and samplers.
    """

    __slots__ = ("array", "_hash")

    def __init__(self, array):
        array = np.array(array)
        array.flags.writeable = False
        self.array = array
        self._hash = hash((array.shape, array.dtype.str, array.tobytes()))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other) -> bool:
        if not isinstance(other, FrozenArray):
            return NotImplemented
        a, b = self.array, other.array
        return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b))

    def __repr__(self) -> str:
        return f"FrozenArray(shape={self.array.shape}, dtype={self.array.dtype})"
