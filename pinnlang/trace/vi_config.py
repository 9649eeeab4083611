"""``.vi(...)``: the variational-inference configuration a handle records as plain data.

Nothing here fits anything; ``pinnlang.solve`` reads the configuration at solve start. A VI group
optimises a Gaussian approximation q of its posterior (blackjax's ``meanfield_vi`` or
``fullrank_vi``) inside the same ``solve()``; afterwards ``posterior_draws`` i.i.d. draws of q become
its ``posterior_samples``, ``(1, posterior_draws, ...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..errors import ConfigurationError
from .sampling_config import _ident
from ..validate import integer, real

VI = "variational"
FAMILIES = {"meanfield_vi": "meanfield", "fullrank_vi": "fullrank"}


def vi_name(factory) -> str | None:
    """``"meanfield_vi"`` / ``"fullrank_vi"`` for blackjax's Gaussian VI factories, else ``None``."""
    target = getattr(factory, "differentiable", factory)  # blackjax's API objects wrap their top-level function
    mod = getattr(target, "__module__", "") or ""
    name = mod.split(".")[-1] if mod.startswith("blackjax.vi") else getattr(target, "__name__", "")
    return name if name in FAMILIES else None


@dataclass
class VIConfig:
    """A handle's variational configuration (see ``Trainable.vi``)."""

    factory: Callable
    name: str
    optimizer: Any
    num_samples: int
    posterior_draws: int
    prior: Any
    likelihood_scale: float
    init_mu_at_position: bool
    init_log_std: float
    block: str | None = None
    family: str = VI
    num_chains: int = 1
    chain_method: str = "vectorized"
    warmup: int = 0
    thin: int = 1
    batch_size: None = None
    init_jitter: float = 0.0

    @property
    def keep(self) -> int:
        """Draws per chain in the posterior layout (``posterior_draws``)."""
        return self.posterior_draws

    @property
    def gaussian(self) -> str:
        """``"meanfield"`` or ``"fullrank"``."""
        return FAMILIES[self.name]

    def settings(self) -> tuple:
        """Hashable identity without the prior: members with equal settings share one joint q."""
        return (VI, _ident(self.factory), _ident(self.optimizer), self.num_samples, self.posterior_draws,
                self.likelihood_scale, self.init_mu_at_position, self.init_log_std, self.block, self.num_chains,
                self.chain_method, self.init_jitter)

    def fingerprint(self) -> tuple:
        return self.settings() + (_ident(self.prior),)

    def describe(self) -> dict:
        return {"vi": self.name, "num_samples": self.num_samples, "posterior_draws": self.posterior_draws,
                "likelihood_scale": self.likelihood_scale, "init_mu_at_position": self.init_mu_at_position,
                "init_log_std": self.init_log_std, "block": self.block, "prior": repr(self.prior),
                "num_chains": self.num_chains, "chain_method": self.chain_method, "init_jitter": self.init_jitter,
                "optimizer": type(self.optimizer).__name__}


def make_vi_config(handle_name: str, factory, *, optimizer=None, num_samples=8, posterior_draws=500, prior=None,
                   likelihood_scale=1.0, init_mu_at_position=True, init_log_std=-3.0, block=None, num_chains=1,
                   chain_method="vectorized", init_jitter=0.0, **unknown) -> VIConfig:
    """Validate ``.vi(...)`` arguments into a :class:`VIConfig` (errors name the fix)."""
    if unknown:
        import difflib

        valid = ["optimizer", "num_samples", "posterior_draws", "prior", "likelihood_scale", "init_mu_at_position",
                 "init_log_std", "block", "num_chains", "chain_method", "init_jitter"]
        name = sorted(unknown)[0]
        close = difflib.get_close_matches(name, valid, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigurationError(f"{handle_name}.vi: unknown keyword argument {name!r}; {hint}.vi takes "
                                 f"{', '.join(valid)}")
    name = vi_name(factory)
    if name is None:
        raise ConfigurationError(
            f"{handle_name}.vi needs blackjax.meanfield_vi or blackjax.fullrank_vi, got {factory!r}; for MCMC "
            "kernels use .bayesian(...)")
    if optimizer is None or not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise ConfigurationError(f"{handle_name}.vi({name}) needs optimizer=<an optax transformation>, e.g. "
                                 f"optimizer=optax.adam(1e-2); got {optimizer!r}")
    if prior is not None and not callable(prior):
        raise ConfigurationError(f"prior must be a callable pytree -> log-density, got {type(prior).__name__}")
    if block is not None and not isinstance(block, str):
        raise ConfigurationError(f"block must be a string naming a block, got {block!r}")
    if not isinstance(init_mu_at_position, bool):
        raise ConfigurationError(f"init_mu_at_position must be True or False, got {init_mu_at_position!r}")
    if chain_method not in ("vectorized", "sequential"):
        raise ConfigurationError(f"chain_method must be 'vectorized' or 'sequential', got {chain_method!r}")
    return VIConfig(factory, name, optimizer, integer(f"{handle_name}.vi(num_samples)", num_samples, minimum=1),
                    integer(f"{handle_name}.vi(posterior_draws)", posterior_draws, minimum=1), prior,
                    real("likelihood_scale", likelihood_scale, positive=True), init_mu_at_position,
                    real("init_log_std", init_log_std), block,
                    num_chains=integer(f"{handle_name}.vi(num_chains)", num_chains, minimum=1),
                    chain_method=chain_method,
                    init_jitter=real(f"{handle_name}.vi(init_jitter)", init_jitter, non_negative=True))
