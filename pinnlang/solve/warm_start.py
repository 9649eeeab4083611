"""Log-density-aware initialisers at solve start: each chain's starting point and the kernel's arguments.

A handle's pending initialiser (``handle.initialize(pl.bayesian.pathfinder(...))``) runs once, jitted,
on the log-density of every MCMC group the handle is a member of, given every other group at its
current values (masked groups see their own leaves only). Its result replaces the jittered starts of
that group's K chains and updates the kernel's arguments (an inverse mass matrix); arguments the kernel
does not take are dropped with a DEBUG line.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import jax
import numpy as np

from ..bayesian.initializers import PROTOCOL
from ..errors import ConfigurationError
from ..trace.vi_config import VIConfig
from .plan import Plan
from .state import as_kernel, as_members, fixed_values, group_position
from .step import group_logdensity
from .streams import WARM_STREAM

log = logging.getLogger("pinnlang")


class WarmStart(NamedTuple):
    """One group's warm start.

    Attributes:
        position: ``{member key: partial}`` with a leading ``(K,)`` chain axis.
        update: kernel arguments for the backend's tuning (only keys it accepts).
    """

    position: dict
    update: dict


def logdensity_at_values(plan: Plan, g: int, loss_fn, values: dict, data: dict):
    """``(logdensity, position)`` of group ``g`` with every group at the handles' ``values`` (no chain axis):
    what an initialiser or a Gaussian approximation of the group is fitted to."""
    view = [group_position(plan, gg, values) for gg in plan.groups]
    logdensity = group_logdensity(plan, g, loss_fn, fixed_values(plan, values), view, data)
    return logdensity, as_kernel(plan.groups[g], view[g])


def pending_initializers(plan: Plan) -> dict:
    """``{group index: initialiser}`` of the MCMC groups with a member whose handle has a pending one.

    Raises:
        ConfigurationError: an initialiser on a handle with no MCMC group (optimised, or VI), or two
            different initialisers in one joint block.
    """
    out = {}
    covered = set()
    for g in plan.sampled:
        inits = {id(plan.handles[m.key].initializer): plan.handles[m.key] for m in g.members
                 if plan.handles[m.key].initializer is not None}
        if not inits:
            continue
        if isinstance(plan.configs[g.index], VIConfig):
            h = next(iter(inits.values()))
            raise ConfigurationError(
                f"{h.name}.initialize({h.initializer!r}) with .vi(...): VI fits its own approximation, starting from "
                f"the current values, so a warm start has nothing to do; drop the initialiser or use .bayesian(...)")
        if len(inits) > 1:
            names = ", ".join(h.name for h in inits.values())
            raise ConfigurationError(
                f"{names} are sampled jointly ({g.label}) but carry different initialisers; one initialiser warms up "
                "the whole block: give it to one of them, or sample them in separate blocks (block=...)")
        h = next(iter(inits.values()))
        out[g.index] = h.initializer
        covered.update(m.key for m in g.members)
    for k, h in plan.handles.items():
        if h.initializer is not None and k not in covered and not h.frozen:
            raise ConfigurationError(
                f"{h.name}.initialize({h.initializer!r}) warms up MCMC chains, but {h.name} is not sampled; add "
                f"{h.name}.bayesian(blackjax.nuts, ...) (or .mask(M).bayesian(...)), or initialise it with values")
    return out


def run_initializers(plan: Plan, backends: list, loss_of, values: dict, data: dict, key, pending: dict) -> dict:
    """``{group index: WarmStart}`` for the ``pending`` groups (see the module docstring).

    ``loss_of(g)`` is the loss group ``g`` is updated on (under substeps, its stage's).
    """
    out = {}
    K = plan.num_chains
    for gi, init in pending.items():
        g = plan.groups[gi]
        logdensity, position = logdensity_at_values(plan, gi, loss_of(gi), values, data)
        if plan.configs[gi].init_jitter:
            log.info("%s: the initialiser %r gives the chains' starts; init_jitter=%g is not used", g.label, init,
                     plan.configs[gi].init_jitter)
        try:
            result = jax.jit(lambda k, p, init=init, ld=logdensity: init(k, ld, p, K))(
                jax.random.fold_in(key, gi), position)
        except ConfigurationError:
            raise
        except Exception as err:  # noqa: BLE001 - a user initialiser failing is named with the protocol
            raise ConfigurationError(f"{g.label}: the initialiser {init!r} failed: {type(err).__name__}: {err}. "
                                     f"{PROTOCOL}") from None
        start, update = _check_result(g.label, init, result, position, K)
        accepted = backends[gi].accepts
        dropped = sorted(set(update) - accepted)
        if dropped:
            log.debug("%s: %s does not take %s; the initialiser's value is dropped", g.label, backends[gi].name,
                      ", ".join(dropped))
        out[gi] = WarmStart(as_members(g, start), {k: v for k, v in update.items() if k in accepted})
        log.info("%s: warm start by %r for %d chain(s)%s", g.label, init, K,
                 f", kernel arguments {sorted(set(update) & accepted)}" if set(update) & accepted else "")
    return out


def _check_result(label, init, result, position, K):
    """The starts with a leading chain axis, and the update dict (else an error naming the protocol)."""
    if not (isinstance(result, tuple) and len(result) == 2):
        raise ConfigurationError(f"{label}: the initialiser {init!r} returned {type(result).__name__}, not a "
                                 f"(position, kernel_kwargs_update) pair; {PROTOCOL}")
    start, update = result
    update = {} if update is None else update
    if not isinstance(update, dict):
        raise ConfigurationError(f"{label}: the initialiser's kernel_kwargs_update is {type(update).__name__}, not a "
                                 f"dict; {PROTOCOL}")
    want, got = jax.tree_util.tree_structure(position), jax.tree_util.tree_structure(start)
    if want != got:
        raise ConfigurationError(f"{label}: the initialiser returned a position of structure {got}, but the group's "
                                 f"position is {want}; {PROTOCOL}")
    leaves = []
    for ref, new in zip(jax.tree_util.tree_leaves(position), jax.tree_util.tree_leaves(start)):
        shape = tuple(np.shape(new))
        if shape == tuple(ref.shape) and K == 1:
            new = new[None]
        elif shape != (K,) + tuple(ref.shape):
            raise ConfigurationError(
                f"{label}: the initialiser returned a leaf of shape {shape} for a leaf of shape {tuple(ref.shape)} "
                f"under {K} chain(s); expected {(K,) + tuple(ref.shape)}"
                + ("" if K > 1 else f" or {tuple(ref.shape)}") + f". {PROTOCOL}")
        if not np.all(np.isfinite(np.asarray(new))):
            raise ConfigurationError(f"{label}: the initialiser {init!r} returned non-finite starting values; check "
                                     "that the log-density is finite near the current values (or start elsewhere)")
        leaves.append(new.astype(ref.dtype))
    return jax.tree_util.tree_unflatten(want, leaves), update


def approximate(core, handle, method, draws: int | None = None, seed: int = 0):
    """A Gaussian approximation of ``handle``'s posterior by ``method`` (``pl.bayesian.laplace(...)``, ...).

    The posterior is that of the handle's MCMC group as configured by ``.bayesian(...)`` (its prior,
    likelihood scale, mask), every other value at its current value. With ``draws``, ``draws`` i.i.d. draws of q
    become ``handle.posterior_samples`` ``(1, draws, ...)`` (``crux.eval`` pushes them forward).

    Returns:
        the :class:`~pinnlang.bayesian.initializers.GaussianApproximation` over the group's position.
    """
    from jax.flatten_util import ravel_pytree

    from .plan import Plan
    from .posterior import Posterior

    if not hasattr(method, "approximate"):
        raise ConfigurationError(f"crux.approximate needs a Gaussian approximation such as pl.bayesian.laplace(...) "
                                 f"or pathfinder(...), got {method!r}")
    plan = Plan(core.handles, core._default_transforms)
    hkey = core.loss.program.keys.get(handle)
    groups = [g for g in plan.mcmc if any(m.key == hkey for m in g.members)]
    if not groups:
        raise ConfigurationError(f"crux.approximate({handle.name}, ...) approximates the posterior of a sampled "
                                 f"handle; configure it first with {handle.name}.bayesian(...) (its prior and settings "
                                 "define the posterior)")
    g = groups[0]
    engine = core._engine_for(plan, None)
    values = {k: h.get_trainable() for k, h in core.handles.items()}
    data = core.loss.program.data(core.noise_key)
    logdensity, position = logdensity_at_values(plan, g.index, engine.loss_fn, values, data)
    key = jax.random.PRNGKey(seed)
    mean, cov = jax.jit(lambda k, p: tuple(method.approximate(k, logdensity, p))[:2])(key, position)
    from ..bayesian.initializers import GaussianApproximation

    q = GaussianApproximation(mean, cov, ravel_pytree(position)[1])
    if draws is not None:
        from ..validate import integer

        n = integer("crux.approximate(draws)", draws, minimum=1)
        sample = as_members(g, q.sample(jax.random.fold_in(key, 1), n))[hkey]
        treedef = plan.treedefs[hkey]
        current = treedef.flatten_up_to(values[hkey])
        moved = treedef.flatten_up_to(sample)
        leaves = [np.asarray(s)[None] if lab == g.index else np.broadcast_to(np.asarray(c), (1, n) + np.shape(c))
                  for c, s, lab in zip(current, moved, plan.labels[hkey])]
        raw = jax.tree_util.tree_unflatten(treedef, leaves)
        bij = getattr(handle, "bijector", None)
        handle._posterior = Posterior.from_samples(handle, raw if bij is None else np.asarray(bij.forward(raw)))
    return q
