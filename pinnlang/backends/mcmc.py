"""Posterior sampling of one handle with a blackjax kernel, over K chains.

The kernel is rebuilt inside the compiled step from the current log-density (other handles
change between steps), which is what blackjax's ``SamplingAlgorithm`` protocol allows: building
is pure Python at trace time. Chains run with ``jax.vmap`` ("vectorized") or ``jax.lax.map``
("sequential": on CPU a vmapped NUTS pays for the deepest tree of any chain at every step).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import blackjax
import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from ..trace.sampling_config import FULL, STEP_ARGS, SamplingConfig, factory_signature


class ChainState(NamedTuple):
    """State of K chains.

    Attributes:
        kernel: the kernel states stacked on a leading chain axis (SG-MCMC: the positions).
        tuned: kernel arguments set by adaptation (``step_size``, ``inverse_mass_matrix``), as arrays.
    """

    kernel: object
    tuned: dict


def position_of(kernel_state):
    """The position of a kernel state (blackjax NamedTuples, dict states of user kernels, SG-MCMC positions)."""
    if hasattr(kernel_state, "position"):
        return kernel_state.position
    if isinstance(kernel_state, dict) and "position" in kernel_state:
        return kernel_state["position"]
    return kernel_state


def _map_chains(fn, method: str, *args):
    """``fn`` over the leading chain axis: vmap, lax.map, or a plain call for a single chain.

    A single chain is not vmapped: vmapping NUTS's while loops adds a select over the loop state
    at every iteration (measured 20 % slower).
    """
    if jax.tree_util.tree_leaves(args)[0].shape[0] == 1:
        out = fn(*jax.tree_util.tree_map(lambda a: a[0], args))
        return jax.tree_util.tree_map(lambda a: jnp.asarray(a)[None], out)
    if method == "sequential":
        return jax.lax.map(lambda a: fn(*a), args)
    return jax.vmap(fn)(*args)


class McmcBackend:
    """K chains of one kernel over one handle's values.

    Args:
        config: the handle's :class:`SamplingConfig`.
        reinit_each_step: re-initialise the kernel state from its position before each step
            (needed when other handles change between steps: a cached log-density would be stale).
    """

    def __init__(self, config: SamplingConfig, reinit_each_step: bool):
        self.config = config
        self.reinit = reinit_each_step
        params = factory_signature(config.factory).parameters
        kw = dict(config.kernel_kwargs)
        if config.family == FULL:
            self.step_kwargs = {}
            self.factory_kwargs = kw
            if "proposal_generator" in params and "step_size" not in params and "step_size" in kw:
                # random-walk Metropolis (blackjax.rmh): step_size is the scale of a Gaussian proposal
                scale = kw.pop("step_size")
                kw["proposal_generator"] = lambda key, pos: jax.tree_util.tree_map(
                    lambda p, e: p + scale * e, pos, _normal_like(key, pos))
        else:
            self.step_kwargs = {k: kw.pop(k) for k in STEP_ARGS if k in kw}
            self.factory_kwargs = {k: v for k, v in kw.items() if k in params}
            unknown = set(kw) - set(self.factory_kwargs)
            if unknown:
                from ..errors import ConfigurationError

                raise ConfigurationError(f"{config.name} does not take {sorted(unknown)}")

    @property
    def num_chains(self) -> int:
        return self.config.num_chains

    # -- building the kernel ------------------------------------------------------------
    def _algorithm(self, target: Callable, tuned: dict):
        kwargs = {**self.factory_kwargs, **tuned}
        if self.config.family == FULL and "inverse_mass_matrix" in factory_signature(self.config.factory).parameters:
            kwargs.setdefault("inverse_mass_matrix", None)
        return self.config.factory(target, **kwargs)

    def default_tuned(self, position) -> dict:
        """Kernel arguments before adaptation: identity inverse mass matrix of the right size."""
        if self.config.family != FULL:
            return {}
        if "inverse_mass_matrix" in factory_signature(self.config.factory).parameters and \
                "inverse_mass_matrix" not in self.factory_kwargs:
            flat, _ = ravel_pytree(position)
            return {"inverse_mass_matrix": jnp.ones(flat.shape[0], flat.dtype)}
        return {}

    # -- adaptation -----------------------------------------------------------------------
    def adapt(self, key, position, logdensity_fn: Callable):
        """Window adaptation (step size and diagonal inverse mass matrix) over ``warmup`` steps.

        Returns:
            ``(adapted position, tuned kwargs)``.
        """
        kw = dict(self.factory_kwargs)
        step0 = kw.pop("step_size", 1.0)
        imm0 = kw.pop("inverse_mass_matrix", None)
        wa = blackjax.window_adaptation(
            self.config.factory, logdensity_fn, is_mass_matrix_diagonal=True, initial_step_size=step0,
            initial_inverse_mass_matrix=imm0, adaptation_info_fn=blackjax.adaptation.base.get_filter_adapt_info_fn(),
            **kw)
        (state, params), _ = wa.run(key, position, num_steps=self.config.warmup)
        tuned = {k: params[k] for k in ("step_size", "inverse_mass_matrix") if k in params}
        return state.position, tuned

    # -- chains ---------------------------------------------------------------------------------
    def init(self, positions, target: Callable, tuned: dict) -> ChainState:
        """Chain states from positions with a leading chain axis ``(K, ...)``."""
        if self.config.family != FULL:
            return ChainState(positions, tuned)
        alg = self._algorithm(target, tuned)
        return ChainState(jax.vmap(alg.init)(positions), tuned)

    def positions(self, state: ChainState):
        """Current positions ``(K, ...)``."""
        return position_of(state.kernel)

    def step(self, key, state: ChainState, target: Callable):
        """One transition of every chain.

        Args:
            key: PRNG key.
            state: the chains.
            target: ``position -> log-density`` (full family) or ``(position, minibatch) -> gradient``
                (stochastic-gradient family, with the minibatch bound by the caller).

        Returns:
            ``(state, info)`` where ``info`` holds the captured diagnostics, each ``(K,)``.
        """
        keys = key[None] if self.num_chains == 1 else jax.random.split(key, self.num_chains)
        fields = self.config.diagnostics
        if self.config.family == FULL:
            alg = self._algorithm(target, state.tuned)

            def one(k, s):
                if self.reinit:
                    s = alg.init(position_of(s))
                s, info = alg.step(k, s)
                if isinstance(info, dict):
                    got = {f: info[f] for f in fields if f in info}
                else:
                    got = {f: getattr(info, f) for f in fields if hasattr(info, f)}
                return s, got

            kernel, info = _map_chains(one, self.config.chain_method, keys, state.kernel)
            return ChainState(kernel, state.tuned), info
        alg = self.config.factory(target, **self.factory_kwargs)

        def one_sg(k, pos):
            return alg.step(k, pos, None, **self.step_kwargs)

        kernel = _map_chains(one_sg, self.config.chain_method, keys, state.kernel)
        return ChainState(kernel, state.tuned), {}


def _normal_like(key, tree):
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    keys = jax.random.split(key, max(len(leaves), 1))
    return jax.tree_util.tree_unflatten(treedef, [jax.random.normal(k, l.shape, l.dtype) for k, l in zip(keys, leaves)])


def jitter(key, position, num_chains: int, scale: float):
    """``num_chains`` copies of ``position`` with Gaussian jitter of ``scale`` (chain axis first)."""
    keys = jax.random.split(key, num_chains)

    def one(k):
        if scale == 0.0:
            return position
        return jax.tree_util.tree_map(lambda p, e: p + scale * e, position, _normal_like(k, position))

    return jax.vmap(one)(keys)
