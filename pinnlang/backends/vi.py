"""Gaussian variational inference (blackjax's ``meanfield_vi`` and ``fullrank_vi``) as a density backend.

Each step takes one optimiser step on a Monte Carlo estimate of the variational objective of the
group's log-density (conditioned, like a kernel's, on the current values of every other group). The
group's *position* — what the other groups and the handles see — is the mean of q. After a solve,
``sample`` draws the group's posterior from q.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from ..trace.vi_config import VIConfig
from .base import DENSITY, Backend, count, counting_tuning

ELBO = "elbo"


def vi_backend(config: VIConfig) -> Backend:
    """A density backend fitting q for one group (``config`` from ``.vi(...)``)."""
    api = config.factory

    def algorithm(logdensity_fn):
        return api(logdensity_fn, config.optimizer, num_samples=config.num_samples)

    def init(key, position, tuning, problem):
        del key, tuning
        state = algorithm(problem.logdensity_fn).init(position)
        mu = position if config.init_mu_at_position else state.mu
        if config.gaussian == "meanfield":
            rho = jax.tree_util.tree_map(lambda r: jnp.full_like(r, config.init_log_std), state.rho)
            return state._replace(mu=mu, rho=rho, opt_state=config.optimizer.init((mu, rho)))
        dim = ravel_pytree(position)[0].shape[0]
        chol = state.chol_params.at[:dim].set(config.init_log_std)  # log of the Cholesky diagonal first
        return state._replace(mu=mu, chol_params=chol, opt_state=config.optimizer.init((mu, chol)))

    def step(key, state, tuning, problem):
        del tuning
        state, info = algorithm(problem.logdensity_fn).step(key, state)
        return state, {ELBO: -jnp.asarray(info.elbo)}  # blackjax reports the variational loss, -ELBO

    def sample(key, state, num_draws: int):
        """``num_draws`` i.i.d. draws of q: the position pytree with a leading ``(num_draws,)`` axis."""
        return api.sample(key, state, num_draws)

    return Backend(config.name, DENSITY, init, step, lambda s: s.mu, counting_tuning, count, (ELBO,), 0,
                   traced=(ELBO,), sample=sample)
