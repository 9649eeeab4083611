"""Point estimates with an optax transformation, as a gradient backend."""

from __future__ import annotations

from typing import Any, NamedTuple

import optax

from .base import GRADIENT, Backend, count, counting_tuning


class OptState(NamedTuple):
    """Values of an optimised group and the optimiser's state."""

    params: Any
    opt_state: Any


def optax_backend(transform: optax.GradientTransformation, name: str = "optax") -> Backend:
    """A :class:`~pinnlang.backends.base.Backend` taking one optax step per solve step.

    ``ExtraArgs`` transformations (``optax.lbfgs`` and other line searches) also receive ``value``,
    ``grad`` and ``value_fn``; ``value_fn`` holds every other group at the start of the step, so
    the line search sees one fixed function whose value at the start point is ``value``.
    """
    extra = isinstance(transform, optax.GradientTransformationExtraArgs)

    def init(key, position, tuning, problem):
        del key, tuning, problem
        return OptState(position, transform.init(position))

    def step(key, state, tuning, problem):
        del key, tuning
        if extra:
            updates, opt_state = transform.update(problem.grad, state.opt_state, state.params, value=problem.value,
                                                  grad=problem.grad, value_fn=problem.value_fn)
        else:
            updates, opt_state = transform.update(problem.grad, state.opt_state, state.params)
        return OptState(optax.apply_updates(state.params, updates), opt_state), {}

    return Backend(name, GRADIENT, init, step, lambda s: s.params, counting_tuning, count)
