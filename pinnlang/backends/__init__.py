"""Update rules, one file each, as pure ``(init, step)`` pairs over a part of the parameter pytree."""

from .optax_backend import OptaxBackend

__all__ = ["OptaxBackend"]
