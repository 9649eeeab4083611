"""Full-data blackjax kernels (NUTS, HMC, MALA, RMH, user factories) as density backends.

The kernel is rebuilt inside the compiled step from the group's current log-density, which the
``SamplingAlgorithm`` protocol allows (building is pure Python at trace time). When anything else
in the loss moves between two transitions of the group (other groups, optimised values,
resampled points), the kernel state's cached log-density and gradient are stale, so the state is
re-initialised from its position before each transition: that is the Metropolis-within-Gibbs
step on the current conditional. A group alone in a sampling-only solve skips it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from ..errors import ConfigurationError
from ..trace.sampling_config import FULL, STEPS, SamplingConfig, factory_signature
from .adaptation import window_adaptation
from .base import DENSITY, Backend, Tuning

LP = "lp"  # the log-density of the draw, under ArviZ's name


def position_of(kernel_state):
    """The position of a kernel state (blackjax NamedTuples, or dict states of user kernels)."""
    if isinstance(kernel_state, dict):
        return kernel_state["position"]
    return kernel_state.position


def _logdensity_of(kernel_state):
    if isinstance(kernel_state, dict):
        return kernel_state.get("logdensity")
    return getattr(kernel_state, "logdensity", None)


def _field(info, name):
    if isinstance(info, dict):
        return info.get(name)
    return getattr(info, name, None)


def _normal_like(key, tree):
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    keys = jax.random.split(key, max(len(leaves), 1))
    return jax.tree_util.tree_unflatten(treedef, [jax.random.normal(k, l.shape, l.dtype) for k, l in zip(keys, leaves)])


def kernel_arguments(config: SamplingConfig) -> dict:
    """The factory's keyword arguments from ``.bayesian(...)`` (RMH's ``step_size`` becomes a proposal)."""
    params = factory_signature(config.factory).parameters
    kw = dict(config.kernel_kwargs)
    if "proposal_generator" in params and "step_size" not in params and "step_size" in kw:
        scale = kw.pop("step_size")  # random-walk Metropolis: the scale of a Gaussian proposal
        kw["proposal_generator"] = lambda key, pos: jax.tree_util.tree_map(
            lambda p, e: p + scale * e, pos, _normal_like(key, pos))
    return kw


def mcmc_backend(config: SamplingConfig, reinit: bool) -> Backend:
    """A density backend for a full-data kernel (``config.family == "full"``).

    Args:
        config: the group's sampling configuration.
        reinit: rebuild the kernel state from its position before each transition (see above).
    """
    assert config.family == FULL
    kw = kernel_arguments(config)
    adapts = config.adapts
    window = window_adaptation(config.warmup) if adapts else None
    tuned = [k for k in ("step_size", "inverse_mass_matrix") if k in factory_signature(config.factory).parameters]
    fixed = {k: v for k, v in kw.items() if k not in tuned}  # step size and metric live in the tuning
    fields = tuple(config.diagnostics)
    # NUTS's step count varies per transition: each one's, warmup included, goes to history.traces (the cost of
    # the whole solve). Fixed counts (HMC, MALA, RMH) are known without recording them; user kernels' infos may
    # lack the field, and a traced field must be in every step's info
    traced = (STEPS,) if config.name == "nuts" else ()

    def init_tuning(position, update=None) -> Tuning:
        """The block's tuning at the start; ``update`` (a warm start's kernel arguments) overrides ``.bayesian``'s."""
        update = dict(update or {})
        flat, _ = ravel_pytree(position)
        params, adaptation = {}, ()
        if "inverse_mass_matrix" in tuned:
            params["inverse_mass_matrix"] = jnp.asarray(kw.get("inverse_mass_matrix", jnp.ones(flat.shape[0], flat.dtype)))
        if "step_size" in tuned and "step_size" in kw:
            params["step_size"] = jnp.asarray(kw["step_size"], flat.dtype)
        params.update({k: jnp.asarray(v) for k, v in update.items()})
        if adapts:
            adaptation = window.init(flat.shape[0], jnp.asarray(params.get("step_size", 1.0), flat.dtype))
            imm = params["inverse_mass_matrix"]  # the window's metric until its first slow window closes
            adaptation = adaptation._replace(inverse_mass_matrix=jnp.diagonal(imm) if imm.ndim == 2 else imm)
            params.update(step_size=adaptation.step_size, inverse_mass_matrix=adaptation.inverse_mass_matrix)
        return Tuning(jnp.zeros((), jnp.int32), params, adaptation)

    def algorithm(logdensity_fn, tuning: Tuning):
        return config.factory(logdensity_fn, **{**fixed, **tuning.params})

    def init(key, position, tuning, problem):
        del key
        return algorithm(problem.logdensity_fn, tuning).init(position)

    def step(key, state, tuning, problem):
        alg = algorithm(problem.logdensity_fn, tuning)
        if reinit:
            state = alg.init(position_of(state))
        state, info = alg.step(key, state)
        out = {f: jnp.asarray(_field(info, f)) for f in fields if _field(info, f) is not None}
        if adapts:
            if _field(info, "acceptance_rate") is None:
                raise ConfigurationError(
                    f"{config.name}: window adaptation tunes the step size from the kernel's acceptance rate, but "
                    "its info has no acceptance_rate; return it in info, or pass adapt=False and a step_size")
            out["acceptance_rate"] = jnp.asarray(_field(info, "acceptance_rate"))
        lp = _logdensity_of(state)
        if lp is not None:
            out[LP] = jnp.asarray(lp)
        return state, out

    def tune(tuning: Tuning, positions, infos) -> Tuning:
        if not adapts:
            return tuning._replace(t=tuning.t + 1)

        def adapt(tn: Tuning) -> Tuning:
            w = window.update(tn.adaptation, tn.t, positions, infos["acceptance_rate"])
            last = tn.t == window.num_steps - 1
            step_size, imm = window.final(w)
            params = {"step_size": jnp.where(last, step_size, w.step_size),
                      "inverse_mass_matrix": jnp.where(last, imm, w.inverse_mass_matrix)}
            return Tuning(tn.t, params, w)

        tuning = jax.lax.cond(tuning.t < window.num_steps, adapt, lambda tn: tn, tuning)
        return tuning._replace(t=tuning.t + 1)

    accepts = frozenset(factory_signature(config.factory).parameters) - {"logdensity_fn"}
    return Backend(config.name, DENSITY, init, step, position_of, init_tuning, tune, fields + (LP,), config.warmup,
                   traced=traced, accepts=accepts)
