"""Stochastic models in a solve and at evaluation (MC dropout).

Training: the step gives each chain's loss its own model key every step
(``fold_in(fold_in(fold_in(solve key, MODEL_STREAM), chain), step)``, see
:func:`~pinnlang.solve.step.make_step_keys`); each call of a stochastic model folds in its index in
the graph, each point its row (:mod:`pinnlang.trace.stochastic`). Anything evaluated without a key
(``crux.eval(expr)``, the loss recorded after a sampling-only chunk, initialisers) runs the models in
inference mode.

Full-data MCMC kernels (NUTS, HMC, MALA, random-walk MH) compare log-densities within a transition
and assume the same one at every step; a log-density that draws a new dropout mask every step has no
such target, so :func:`check_stochastic_kernels` refuses it at the start of a solve (SG-MCMC and VI
work with noisy gradients and accept it).

Evaluation: ``crux.eval(expr, num_samples=S, key=...)`` gives ``(1, S, ...)`` draws, draw ``s`` on
``fold_in(key, s)``; with posterior draws, draw ``(c, n)`` is index ``c·N + n`` of the same stream.
"""

from __future__ import annotations

import logging

import jax
import jax.numpy as jnp

from ..compile.program import GraphAnalysis
from ..errors import ConfigurationError
from ..trace.sampling_config import FULL, SamplingConfig
from ..validate import integer
from .streams import EVAL_STREAM

log = logging.getLogger("pinnlang")


def stochastic_names(nodes=(), handles=None) -> list[str]:
    """Names of the stochastic models that ``nodes`` call (or among ``handles``, ``{key: handle}``)."""
    found = GraphAnalysis(list(nodes)).handles if handles is None else handles
    return sorted(h.name for h in found.values() if getattr(h, "stochastic", False))


def group_stochastic_models(loss, stages, g: int) -> list[str]:
    """Names of the stochastic models group ``g``'s log-density calls (the terms of its stages, else all)."""
    mine = [st.terms for st in stages if g in st.groups]
    terms = sorted({i for t in mine for i in t}) if mine else range(len(loss.terms_nodes))
    return stochastic_names(loss.terms_nodes[i] for i in terms)


def warn_stochastic_initializers(plan, loss, stages, pending: dict):
    """A WARNING for each initialiser fitted to a log-density that calls a stochastic model.

    An initialiser evaluates its log-density many times and needs one fixed function, so it runs with the
    models in inference mode (dropout off): its starts and mass matrix approximate that posterior, not the
    noisy one the kernel then samples.
    """
    if not loss.program.analysis.stochastic_models:
        return
    for g, init in pending.items():
        names = group_stochastic_models(loss, stages, g)
        if names:
            log.warning("%s: the initialiser %r is fitted with %s in inference mode (dropout off): a fixed "
                        "log-density, unlike the kernel's, which draws new masks every step; its starts and mass "
                        "matrix are those of the deterministic network", plan.groups[g].label, init, ", ".join(names))


def check_stochastic_kernels(plan, loss, stages=()):
    """A :class:`ConfigurationError` when a full-data MCMC group's log-density calls a stochastic model.

    Args:
        plan: the solve's plan.
        loss: the :class:`~pinnlang.compile.loss.CompiledLoss`.
        stages: the substeps (a group's log-density is the loss of the stages that update it).
    """
    if not loss.program.analysis.stochastic_models:
        return
    for g in plan.sampled:
        cfg = plan.configs[g.index]
        if not (isinstance(cfg, SamplingConfig) and cfg.family == FULL):
            continue
        names = group_stochastic_models(loss, stages, g.index)
        if names:
            raise ConfigurationError(
                f"{g.label} is sampled by {cfg.name}, a full-data kernel whose accept/reject step needs one fixed "
                f"log-density, but its log-density calls the stochastic model(s) {', '.join(names)} (a new dropout "
                "mask every step), so the chain would target no posterior. Either train the model with "
                ".optimizer(...) and draw MC-dropout predictions with crux.eval(expr, num_samples=S); or sample "
                "with an SG-MCMC kernel (blackjax.sgld, sghmc) or .vi(...), which accept noisy gradients; or wrap "
                "the module with pl.nn.wrap(module, stochastic=False) to sample it with dropout off")


def resolve_key(key, seed, default_key, what: str):
    """``key`` (a ``jax.random`` key), else ``PRNGKey(seed)``, else ``default_key`` (a key, or a function
    returning one: called only when needed), as raw ``(2,) uint32``."""
    if key is not None and seed is not None:
        raise ConfigurationError(f"pass key= or seed= to {what}, not both")
    if seed is not None:
        return jax.random.PRNGKey(integer(f"{what}(seed)", seed, minimum=0))
    if key is None:
        return default_key() if callable(default_key) else default_key
    dtype = getattr(key, "dtype", None)
    if dtype is not None and jnp.issubdtype(dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    try:
        key = jnp.asarray(key)
    except TypeError:
        key = None
    if key is None or key.shape != (2,) or key.dtype != jnp.uint32:
        raise ConfigurationError(f"{what}(key=...) takes a jax.random key (jax.random.PRNGKey(0) or "
                                 "jax.random.key(0)); for an integer use seed=")
    return key


def mc_request(handles: list, posterior: list, num_samples, key, seed, default_key):
    """``(model_key, num_samples)`` of ``crux.eval``'s stochastic draws, ``(None, None)`` when none are asked for.

    Args:
        handles: per expression, the handles it depends on (``{key: handle}``).
        posterior: per expression, whether it is pushed through posterior draws.
        num_samples, key, seed: as given to ``crux.eval``.
        default_key: the key when only ``num_samples`` is given (or a function returning it).
    """
    if num_samples is None and key is None and seed is None:
        return None, None
    model_key = resolve_key(key, seed, default_key, "eval")
    random = [bool(stochastic_names(handles=h)) for h in handles]
    if not any(random):
        raise ConfigurationError(
            "num_samples/key/seed draw the randomness of stochastic models (dropout), but these expressions call "
            "none: a model is stochastic when its __call__ takes key and it holds an active eqx.nn.Dropout (or "
            "pl.nn.wrap(module, stochastic=True)). Drop num_samples/key/seed for the deterministic values")
    if num_samples is not None:
        num_samples = integer("eval(num_samples) (MC draws of the stochastic models)", num_samples, minimum=1)
        if any(posterior):
            raise ConfigurationError(
                f"num_samples={num_samples} is for expressions without posterior draws; here each posterior draw "
                "gets its own dropout key (pass key= or seed= alone), so the number of draws is the posterior's. "
                "Evaluate the expressions without posterior draws in a separate call, or pass samples='point'")
    elif any(r and not p for r, p in zip(random, posterior)):
        raise ConfigurationError(
            "key/seed without num_samples: an expression of stochastic models without posterior draws needs "
            "num_samples=S, the number of MC-dropout draws, e.g. crux.eval(u, num_samples=100, seed=0)")
    return model_key, num_samples
