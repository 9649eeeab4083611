"""Stochastic-gradient kernels (blackjax.sgld, sghmc) as density backends.

Their state is the position itself, their step takes ``(key, position, minibatch, step_size)``
and returns only a position: no info, so no diagnostics. The solve hands the backend the
group's log-density on this step's minibatch (sums rescaled to the full data), and the
gradient estimator is its gradient.
"""

from __future__ import annotations

import jax

from ..errors import ConfigurationError
from ..trace.sampling_config import STEP_ARGS, STOCHASTIC, SamplingConfig, factory_signature
from .base import DENSITY, Backend, count, counting_tuning


def sgmcmc_backend(config: SamplingConfig) -> Backend:
    """A density backend for a stochastic-gradient kernel (``config.family == "stochastic-gradient"``)."""
    assert config.family == STOCHASTIC
    params = factory_signature(config.factory).parameters
    kw = dict(config.kernel_kwargs)
    step_kwargs = {k: kw.pop(k) for k in STEP_ARGS if k in kw}
    factory_kwargs = {k: v for k, v in kw.items() if k in params}
    unknown = sorted(set(kw) - set(factory_kwargs))
    if unknown:
        raise ConfigurationError(f"{config.name} does not take {unknown}; its arguments are "
                                 f"{sorted(set(params) - {'grad_estimator'}) + list(STEP_ARGS)}")

    def init(key, position, tuning, problem):
        del key, tuning, problem
        return position

    def step(key, state, tuning, problem):
        del tuning
        grad = jax.grad(problem.logdensity_fn)
        alg = config.factory(lambda position, minibatch: grad(position), **factory_kwargs)
        return alg.step(key, state, None, **step_kwargs), {}

    return Backend(config.name, DENSITY, init, step, lambda s: s, counting_tuning, count, (), config.warmup)
