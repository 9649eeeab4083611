"""``.bayesian(...)``: the sampling configuration a handle records as plain data.

Nothing here runs a sampler; ``pinnlang.solve`` reads the configuration at solve start.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..errors import ConfigurationError
from ..validate import real

log = logging.getLogger("pinnlang")

FULL = "full"  # first parameter `logdensity_fn`: blackjax.nuts, hmc, mala, rmh, user factories
STOCHASTIC = "stochastic-gradient"  # first parameter `grad_estimator`: blackjax.sgld, sghmc
STEP_ARGS = ("step_size", "temperature")  # SG-MCMC arguments of step(), not of the factory
STEPS = "num_integration_steps"  # integrator steps (= gradient evaluations) of a transition, summed over a thin block
TREE_DEPTH = "num_trajectory_expansions"  # NUTS's tree depth (ArviZ's tree_depth), the last of a thin block
DIAGNOSTIC_FIELDS = ("is_divergent", "acceptance_rate", "energy", STEPS)
# kernels whose info has no step count, but whose every transition takes a known number of gradients
FIXED_STEPS = {"mala": 1, "barker": 1, "rmh": 0, "random_walk": 0, "sgld": 1}


def factory_signature(factory: Callable) -> inspect.Signature:
    """The signature of a kernel factory (blackjax's API objects expose ``differentiable``)."""
    target = getattr(factory, "differentiable", factory)
    try:
        return inspect.signature(target)
    except (TypeError, ValueError):
        raise ConfigurationError(f"cannot inspect the kernel factory {factory!r}; pass a blackjax kernel such as "
                                 "blackjax.nuts or a function (logdensity_fn, **kw) -> SamplingAlgorithm") from None


def kernel_name(factory: Callable) -> str:
    target = getattr(factory, "differentiable", factory)
    mod = getattr(target, "__module__", "") or ""
    if mod.startswith("blackjax."):
        return mod.split(".")[-1]
    return getattr(target, "__name__", type(factory).__name__)


def family_of(factory: Callable) -> str:
    """``"full"`` or ``"stochastic-gradient"`` from the factory's first parameter name."""
    params = list(factory_signature(factory).parameters)
    first = params[0] if params else None
    if first == "logdensity_fn":
        return FULL
    if first == "grad_estimator":
        return STOCHASTIC
    raise ConfigurationError(
        f"unknown kernel family for {kernel_name(factory)!r}: its first parameter is {first!r}. A kernel factory's "
        "first parameter must be `logdensity_fn` (full-data MCMC: blackjax.nuts, hmc, mala, rmh, your own "
        "(logdensity_fn, **kw) -> SamplingAlgorithm) or `grad_estimator` (blackjax.sgld, sghmc)."
    )


def is_hmc_family(factory: Callable) -> bool:
    """Kernels tunable by window adaptation (they take an ``inverse_mass_matrix``)."""
    return "inverse_mass_matrix" in factory_signature(factory).parameters


def _positive_int(name, value, allow_zero=False):
    ok = isinstance(value, int) and not isinstance(value, bool) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        need = "a non-negative" if allow_zero else "a positive"
        raise ConfigurationError(f".bayesian({name}=...) needs {need} integer, got {value!r}")
    return value


def _ident(v):
    try:
        hash(v)
        return v
    except TypeError:
        return ("id", id(v))


def _plain(v):
    """A JSON-able stand-in for a kernel argument (numbers stay numbers)."""
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return repr(v)


@dataclass
class SamplingConfig:
    """A handle's sampler configuration (see ``Trainable.bayesian``)."""

    factory: Callable
    family: str
    name: str
    prior: Any
    warmup: int
    keep: int
    thin: int
    num_chains: int
    chain_method: str
    init_jitter: float
    adapt: bool
    likelihood_scale: float
    batch_size: int | None
    kernel_kwargs: dict = field(default_factory=dict)
    block: str | None = None

    def settings(self) -> tuple:
        """Hashable identity of the kernel and its settings, without the prior.

        Handles whose settings (and ``block``) are equal are sampled jointly by one kernel.
        """
        kw = tuple(sorted((k, _ident(v)) for k, v in self.kernel_kwargs.items()))
        return (_ident(self.factory), self.family, self.warmup, self.keep, self.thin, self.num_chains,
                self.chain_method, self.init_jitter, self.adapt, self.likelihood_scale, self.batch_size, kw,
                self.block)

    def fingerprint(self) -> tuple:
        """Hashable identity of everything that shapes the compiled sampler (not the chain state)."""
        return self.settings() + (_ident(self.prior),)

    def describe(self) -> dict:
        """JSON-able settings (checkpoint headers, trackers)."""
        return {"kernel": self.name, "family": self.family, "warmup": self.warmup, "keep": self.keep,
                "thin": self.thin, "num_chains": self.num_chains, "chain_method": self.chain_method,
                "init_jitter": self.init_jitter, "adapt": self.adapts, "likelihood_scale": self.likelihood_scale,
                "batch_size": self.batch_size, "block": self.block, "prior": repr(self.prior),
                "kernel_kwargs": {k: _plain(v) for k, v in sorted(self.kernel_kwargs.items())}}

    @property
    def adapts(self) -> bool:
        """Window adaptation runs (HMC-family kernel, adapt=True, warmup > 0)."""
        return self.family == FULL and self.adapt and self.warmup > 0 and is_hmc_family(self.factory)

    @property
    def diagnostics(self) -> tuple[str, ...]:
        """Info fields captured per step (none for SG-MCMC kernels: they return only a position). Kernels with a
        fixed step count (:attr:`fixed_steps`) do not record it: the draws' counts are filled in after the solve."""
        if self.family == STOCHASTIC:
            return ()
        name = self.name
        if name == "nuts":
            return DIAGNOSTIC_FIELDS + (TREE_DEPTH,)
        if name == "hmc":
            return tuple(f for f in DIAGNOSTIC_FIELDS if f != STEPS)
        if name in ("mala", "rmh", "random_walk"):
            return ("acceptance_rate",)
        return DIAGNOSTIC_FIELDS  # user kernels: whichever of these their info carries

    @property
    def fixed_steps(self) -> int | None:
        """Integrator steps (gradient evaluations) of every transition when the kernel fixes them: MALA 1,
        random-walk Metropolis 0, HMC its ``num_integration_steps``, SGLD 1, SGHMC its
        ``num_integration_steps`` (1 with a persistent momentum); ``None`` for NUTS (its info reports the
        count of each transition) and user kernels."""
        if self.name in ("sghmc", "hmc"):
            if self.name == "sghmc" and "momentum_resample_every" in self.kernel_kwargs:
                return 1  # one update per step (pinnlang.backends.sgmcmc)
            param = factory_signature(self.factory).parameters.get("num_integration_steps")
            value = self.kernel_kwargs.get("num_integration_steps", None if param is None else param.default)
            return int(value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else None
        return FIXED_STEPS.get(self.name)


def make_config(handle_name: str, factory, *, prior=None, warmup=500, keep=1000, thin=1, num_chains=1,
                chain_method="vectorized", init_jitter=0.0, adapt=True, likelihood_scale=1.0, batch_size=None,
                block=None, **kernel_kwargs) -> SamplingConfig:
    """Validate ``.bayesian(...)`` arguments into a :class:`SamplingConfig` (errors name the fix)."""
    if not callable(factory):
        raise ConfigurationError(f"{handle_name}.bayesian needs a kernel factory such as blackjax.nuts, got {factory!r}")
    family = family_of(factory)
    from .kernel_args import check_bayesian_call  # late import: kernel_args imports this module
    warmup, keep, thin, num_chains = check_bayesian_call(handle_name, factory, kernel_kwargs, warmup, keep, thin,
                                                         num_chains)
    _positive_int("warmup", warmup, allow_zero=True)
    _positive_int("keep", keep)
    _positive_int("thin", thin)
    _positive_int("num_chains", num_chains)
    if chain_method not in ("vectorized", "sequential"):
        raise ConfigurationError(f"chain_method must be 'vectorized' or 'sequential', got {chain_method!r}")
    if not (isinstance(init_jitter, (int, float)) and init_jitter >= 0):
        raise ConfigurationError(f"init_jitter must be a non-negative number, got {init_jitter!r}")
    likelihood_scale = real("likelihood_scale", likelihood_scale, positive=True)
    if batch_size is not None:
        _positive_int("batch_size", batch_size)
        if family != STOCHASTIC:
            raise ConfigurationError(
                "batch_size (minibatching) is for stochastic-gradient kernels (blackjax.sgld, sghmc); full-data "
                "kernels such as NUTS need the exact log-density. Drop batch_size or use blackjax.sgld."
            )
    if block is not None and not isinstance(block, str):
        raise ConfigurationError(f"block must be a string naming a sampling block, got {block!r}")
    if prior is not None and not callable(prior):
        raise ConfigurationError(f"prior must be a callable pytree -> log-density, got {type(prior).__name__}")
    name = kernel_name(factory)
    cfg = SamplingConfig(factory, family, name, prior, warmup, keep, thin, num_chains, chain_method,
                         float(init_jitter), bool(adapt), float(likelihood_scale), batch_size, dict(kernel_kwargs), block)
    has_proposal = "proposal_generator" in kernel_kwargs
    if "step_size" not in kernel_kwargs and not cfg.adapts and not has_proposal:
        why = ("window adaptation is off (adapt=False)" if is_hmc_family(factory) and not adapt else
               "warmup=0 leaves no adaptation phase" if is_hmc_family(factory) else
               f"{name} has no adaptation")
        raise ConfigurationError(
            f"{handle_name}.bayesian({name}) needs step_size=...: {why}. Pass step_size (e.g. step_size=1e-3), or "
            "use an HMC-family kernel (blackjax.nuts, blackjax.hmc) with adapt=True and warmup > 0."
        )
    diag = ", ".join(cfg.diagnostics) if cfg.diagnostics else "none (kernel API has no info object)"
    log.info("Model %r: Bayesian sampling via %r (kind=%s, warmup=%d, keep=%d, thin=%d, chains=%d, adapt=%s, "
             "diagnostics=%s)", handle_name, name, family, warmup, keep, thin, num_chains, cfg.adapts, diag)
    return cfg
