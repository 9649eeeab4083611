"""Stochastic-gradient kernels (blackjax.sgld, sghmc) as density backends.

Their state is the position itself, their step takes ``(key, position, minibatch, step_size)``
and returns only a position: no info (their fixed number of stochastic gradients per step, SGLD 1,
SGHMC its ``num_integration_steps``, is filled into the draws' diagnostics after the solve). The
solve hands the backend the group's log-density on this step's minibatch (sums rescaled to the full
data), and the gradient estimator is its gradient.

Two extensions of blackjax's interface, for the long SG-MCMC runs of deep-learning practice:

* ``step_size`` may be a schedule ``t -> step size`` (an optax schedule), ``t`` the group's transition count;
* ``blackjax.sghmc`` with ``momentum_resample_every=N``: the momentum persists across steps (each step one
  SGHMC update on its own minibatch) and is redrawn from N(0, I) every N steps, as in the SGHMC samplers of
  Springenberg et al. 2016 and PyTorch practice; blackjax's own step redraws it every step and integrates
  ``num_integration_steps`` updates on one minibatch.
"""

from __future__ import annotations

import jax

from typing import Any, NamedTuple

import jax.numpy as jnp

from ..errors import ConfigurationError
from ..trace.sampling_config import STEP_ARGS, STOCHASTIC, SamplingConfig, factory_signature
from .base import DENSITY, Backend, count, counting_tuning

MOMENTUM_RESAMPLE = "momentum_resample_every"


class MomentumState(NamedTuple):
    """SGHMC with a persistent momentum: the position and the momentum (same pytree)."""

    position: Any
    momentum: Any


def _normal_like(key, tree):
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    keys = jax.random.split(key, max(len(leaves), 1))
    return jax.tree_util.tree_unflatten(treedef, [jax.random.normal(k, l.shape, l.dtype) for k, l in zip(keys, leaves)])


def sgmcmc_backend(config: SamplingConfig) -> Backend:
    """A density backend for a stochastic-gradient kernel (``config.family == "stochastic-gradient"``)."""
    assert config.family == STOCHASTIC
    params = factory_signature(config.factory).parameters
    kw = dict(config.kernel_kwargs)
    every = kw.pop(MOMENTUM_RESAMPLE, None)
    step_kwargs = {k: kw.pop(k) for k in STEP_ARGS if k in kw}
    factory_kwargs = {k: v for k, v in kw.items() if k in params}
    unknown = sorted(set(kw) - set(factory_kwargs))
    if unknown:
        raise ConfigurationError(f"{config.name} does not take {unknown}; its arguments are "
                                 f"{sorted(set(params) - {'grad_estimator'}) + list(STEP_ARGS)}")
    schedule = step_kwargs.get("step_size")

    def step_args(tuning) -> dict:
        if callable(schedule):
            return {**step_kwargs, "step_size": jnp.asarray(schedule(tuning.t))}
        return step_kwargs

    if every is not None:
        return _persistent_sghmc(config, factory_kwargs, step_args, every)

    def init(key, position, tuning, problem):
        del key, tuning, problem
        return position

    def step(key, state, tuning, problem):
        grad = jax.grad(problem.logdensity_fn)
        alg = config.factory(lambda position, minibatch: grad(position), **factory_kwargs)
        return alg.step(key, state, None, **step_args(tuning)), {}

    return Backend(config.name, DENSITY, init, step, lambda s: s, counting_tuning, count, (), config.warmup)


def _persistent_sghmc(config, factory_kwargs, step_args, every: int) -> Backend:
    """SGHMC whose momentum lives in the state and is redrawn every ``every`` steps (see the module docstring)."""
    from blackjax.sgmcmc.diffusions import sghmc

    if "num_integration_steps" in factory_kwargs:
        raise ConfigurationError(
            f"{config.name}: {MOMENTUM_RESAMPLE}=... makes every epoch one SGHMC update on its own minibatch, with the "
            "momentum kept between epochs; num_integration_steps (updates per step on one minibatch, momentum redrawn "
            "each step) is the other scheme. Pass one of them")
    update = sghmc(factory_kwargs.get("alpha", 0.01), factory_kwargs.get("beta", 0.0))

    def init(key, position, tuning, problem):
        del key, tuning, problem
        return MomentumState(position, jax.tree_util.tree_map(jnp.zeros_like, position))

    def step(key, state, tuning, problem):
        k_momentum, k_noise = jax.random.split(key)
        args = step_args(tuning)
        momentum = jax.lax.cond(tuning.t % every == 0, lambda: _normal_like(k_momentum, state.momentum),
                                lambda: state.momentum)
        grad = jax.grad(problem.logdensity_fn)(state.position)
        position, momentum = update(k_noise, state.position, momentum, grad, args["step_size"],
                                    args.get("temperature", 1.0))
        return MomentumState(position, momentum), {}

    return Backend(config.name, DENSITY, init, step, lambda s: s.position, counting_tuning, count, (),
                   config.warmup)
