"""Bayesian handles inside a solve: log-density targets, chain set-up, posterior assembly, logs."""

from __future__ import annotations

import logging

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..backends.mcmc import McmcBackend, jitter
from ..errors import ConfigurationError
from ..trace.sampling_config import FULL

log = logging.getLogger("pinnlang")


def default_prior():
    """``gaussian(sigma=10)``: wide, and normalised."""
    from ..bayesian.priors import gaussian

    return gaussian(sigma=10.0)


def make_targets(loss, handles: dict):
    """``targets(key_name, params, data)``: the closure a Bayesian handle's kernel needs.

    Full-data kernels get ``θ -> -likelihood_scale · Σ w_i term_i + log p(θ)`` (with the
    log-Jacobian of a constrained parameter); stochastic-gradient kernels get
    ``(θ, minibatch) -> ∇ log p̂(θ)`` on the data of the current step.
    """

    def targets(k, params, data):
        h = handles[k]
        cfg = h.sampler
        prior = cfg.prior if cfg.prior is not None else default_prior()
        bij = getattr(h, "bijector", None)

        def logdensity(theta):
            total, _ = loss({**params, k: theta}, data)
            value = bij.forward(theta) if bij is not None else theta
            lp = prior(value)
            if bij is not None:
                lp = lp + jnp.sum(bij.log_det_jacobian(theta))
            return -cfg.likelihood_scale * total + lp

        if cfg.family == FULL:
            return logdensity
        grad = jax.grad(logdensity)
        return lambda position, minibatch: grad(position)

    return targets


def common_schedule(samplers: dict) -> tuple[int, int, int, int]:
    """``(num_chains, warmup, keep, thin)`` shared by all Bayesian handles of a solve (else an error)."""
    values = {k: (c.num_chains, c.warmup, c.keep, c.thin) for k, c in samplers.items()}
    distinct = set(values.values())
    if len(distinct) > 1:
        names = ", ".join(f"{k.split('#')[0]}: chains={v[0]}, warmup={v[1]}, keep={v[2]}, thin={v[3]}"
                          for k, v in values.items())
        raise ConfigurationError(
            "all Bayesian models in one solve must share num_chains, warmup, keep and thin (" + names + "); "
            "pass the same values to every .bayesian(...)"
        )
    return distinct.pop()


def check_priors(handles: dict, bayesian: list):
    """Each Bayesian handle's prior returns a finite scalar on its current values (else a clear error)."""
    from ..bayesian.priors import check_prior

    for k in bayesian:
        h = handles[k]
        prior = h.sampler.prior if h.sampler.prior is not None else default_prior()
        value = h.bijector.forward(h.get_trainable()) if hasattr(h, "bijector") else h.get_trainable()
        try:
            check_prior(prior, value)
        except ConfigurationError as err:
            raise ConfigurationError(f"prior of {h.name!r}: {err}") from None


def start_chains(key, backends: dict, params: dict, targets, frozen: dict, data: dict):
    """Adapt (where configured) and initialise K chains per Bayesian handle.

    Returns:
        ``(params, states)``: chain-0 positions and the :class:`ChainState` of every handle.
    """
    states = {}
    params = dict(params)
    for i, (k, b) in enumerate(sorted(backends.items())):
        kk = jax.random.fold_in(key, i)
        full = {**frozen, **params}
        position = params[k]
        tuned = b.default_tuned(position)
        if b.config.adapts:
            position, tuned = b.adapt(jax.random.fold_in(kk, 0), position, targets(k, full, data))
        positions = jitter(jax.random.fold_in(kk, 1), position, b.num_chains, b.config.init_jitter)
        params[k] = jax.tree_util.tree_map(lambda a: a[0], positions)
        states[k] = b.init(positions, targets(k, {**frozen, **params}, data), tuned)
    return params, states


def store_posterior(handle, chunks: list, infos: list, keep: int):
    """Set ``posterior_samples`` ``(K, N, ...)`` and ``posterior_diagnostics`` ``{field: (K, N)}``.

    Args:
        handle: the Model or Parameter.
        chunks: per-chunk raw positions ``(L, K, ...)``.
        infos: per-chunk diagnostics ``{field: (L, K)}``.
        keep: the number of (last) samples kept.
    """
    raw = jax.tree_util.tree_map(lambda *a: np.concatenate(a, axis=0)[-keep:].swapaxes(0, 1), *chunks)
    handle._raw_samples = raw
    if hasattr(handle, "bijector"):
        handle.posterior_samples = np.asarray(handle.bijector.forward(jnp.asarray(raw)))
    else:
        handle.posterior_samples = eqx.combine(raw, handle.static_part)
    diag = {}
    for f in infos[0] if infos else ():
        diag[f] = np.concatenate([i[f] for i in infos], axis=0)[-keep:].swapaxes(0, 1)
    handle.posterior_diagnostics = diag or None
    n = next(iter(jax.tree_util.tree_leaves(raw))).shape[1] if jax.tree_util.tree_leaves(raw) else 0
    if n < keep:
        log.warning("Model %r: collected %d samples, fewer than keep=%d; run more epochs "
                    "(warmup + keep·thin)", handle.name, n, keep)
    parts = []
    if "is_divergent" in diag:
        nd, tot = int(diag["is_divergent"].sum()), diag["is_divergent"].size
        parts.append(f"{nd}/{tot} divergent ({100.0 * nd / max(tot, 1):.2f}%)")
    if "acceptance_rate" in diag:
        parts.append(f"mean_accept={float(np.mean(diag['acceptance_rate'])):.2f}")
    if "energy" in diag:
        parts.append(f"mean_energy={float(np.mean(diag['energy'])):.4g}")
    log.info("Model %r: %d chain(s) x %d samples%s", handle.name, raw_chains(raw), n,
             (", " + ", ".join(parts)) if parts else ", no kernel diagnostics (SG-MCMC)")


def raw_chains(raw) -> int:
    leaves = jax.tree_util.tree_leaves(raw)
    return int(leaves[0].shape[0]) if leaves else 0


def build_backends(handles: dict, bayesian_keys: list, num_updated: int) -> dict:
    """One :class:`McmcBackend` per Bayesian handle (re-initialising kernels when others move)."""
    return {k: McmcBackend(handles[k].sampler, reinit_each_step=num_updated > 1) for k in bayesian_keys}
