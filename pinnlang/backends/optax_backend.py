"""Point estimates with an optax transformation."""

from __future__ import annotations

from typing import Callable, NamedTuple

import optax


class OptaxBackend(NamedTuple):
    """Gradient-based updates of one handle's values.

    Attributes:
        transform: the optax ``GradientTransformation`` (``ExtraArgs`` variants such as
            ``optax.lbfgs`` receive ``value``, ``grad`` and ``value_fn``).
    """

    transform: optax.GradientTransformation

    @property
    def needs_value_fn(self) -> bool:
        return isinstance(self.transform, optax.GradientTransformationExtraArgs)

    def init(self, params):
        """Optimiser state for ``params``."""
        return self.transform.init(params)

    def step(self, params, grads, state, value, value_fn: Callable):
        """One update: ``(params, state) -> (params, state)``.

        Args:
            params: this handle's values.
            grads: gradient of the total loss with respect to them.
            state: optimiser state.
            value: the total loss at ``params``.
            value_fn: ``params -> total loss`` with every other handle fixed (line searches).
        """
        if self.needs_value_fn:
            updates, state = self.transform.update(grads, state, params, value=value, grad=grads, value_fn=value_fn)
        else:
            updates, state = self.transform.update(grads, state, params)
        return optax.apply_updates(params, updates), state
