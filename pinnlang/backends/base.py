"""The protocol every update rule follows: a NamedTuple of pure functions over NamedTuple states.

A *group* of parameters (one or more handles, each possibly masked) is updated by one backend.
The solve loop treats ``(group, backend)`` pairs as data: it never asks which family a backend
belongs to beyond what the backend declares it ``consumes``:

* ``GRADIENT`` backends (optax) receive their slice of one shared ``value_and_grad`` of the loss,
  computed at the values of the start of the step for every gradient group (Jacobi style);
* ``DENSITY`` backends (MCMC kernels) receive the log-density of their group conditioned on the
  current values of everything else, and take their transitions one group after the other
  (Metropolis-within-Gibbs).

Per-chain functions (``init``, ``step``, ``position``) see one chain; the solve maps them over
the chain axis. ``tuning`` is what a block's chains share (adapted step size and mass matrix,
counters); ``tune`` updates it once per step from all chains' results.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

GRADIENT = "gradient"
DENSITY = "density"


class Problem(NamedTuple):
    """What a group needs from the rest of the problem at one step.

    Attributes:
        logdensity_fn: ``position -> ()`` log-density of the group given every other value
            (density backends; for stochastic-gradient kernels, on this step's minibatch).
        value: the loss at the values of the start of the step (gradient backends).
        grad: the gradient of the loss with respect to this group's position (gradient backends).
        value_fn: ``position -> ()`` loss with everything else at the start of the step (line searches).
    """

    logdensity_fn: Callable | None = None
    value: Any = None
    grad: Any = None
    value_fn: Callable | None = None


class Tuning(NamedTuple):
    """State a block's chains share.

    Attributes:
        t: transitions taken by the block (``()`` int32).
        params: kernel arguments in force, e.g. ``{"step_size": (), "inverse_mass_matrix": (d,)}``.
        adaptation: the adaptation's own state (``()`` when the block does not adapt).
    """

    t: Any
    params: dict
    adaptation: Any = ()


class Backend(NamedTuple):
    """An update rule for one group.

    Attributes:
        name: what the logs call it (``"adam"``-like for optax, the kernel name for MCMC).
        consumes: ``GRADIENT`` or ``DENSITY``.
        init: ``(key, position, tuning, problem) -> state`` for one chain.
        step: ``(key, state, tuning, problem) -> (state, info)`` for one chain; ``info`` is a dict of
            scalars with the keys ``info_fields``.
        position: ``state -> position``.
        init_tuning: ``(position[, update]) -> Tuning`` (one chain's position; shared by all chains);
            ``update`` holds kernel arguments from a warm start (keys in ``accepts`` only).
        tune: ``(tuning, positions, infos) -> Tuning`` with ``positions`` and every ``infos`` entry
            carrying a leading chain axis ``(K, ...)``.
        info_fields: the diagnostics ``step`` reports.
        warmup: transitions of the block's warmup (0 for optimisers).
        traced: info fields recorded at every step into the history (``history.trace``), e.g. the ELBO.
        sample: ``(key, state, n) -> position with a leading (n,) axis`` for backends whose posterior is
            drawn after the solve (variational inference); ``None`` for the others.
        accepts: kernel arguments a warm start may set (``init_tuning``'s ``update``).
    """

    name: str
    consumes: str
    init: Callable
    step: Callable
    position: Callable
    init_tuning: Callable
    tune: Callable
    info_fields: tuple = ()
    warmup: int = 0
    traced: tuple = ()
    sample: Callable | None = None
    accepts: frozenset = frozenset()


def counting_tuning(position, update=None) -> Tuning:
    """A :class:`Tuning` with only the transition counter (backends that adapt nothing, and accept no
    warm-start arguments: ``update`` is empty)."""
    import jax.numpy as jnp

    del position, update
    return Tuning(jnp.zeros((), jnp.int32), {})


def count(tuning: Tuning, positions, infos) -> Tuning:
    """``tune`` of backends that adapt nothing: advance the counter."""
    del positions, infos
    return tuning._replace(t=tuning.t + 1)
