"""Validation of the keyword arguments of ``.bayesian(...)`` against the kernel factory's signature.

``.bayesian(kernel, **kwargs)`` takes its own options (``warmup``, ``keep``, ...) and passes every
other keyword to the kernel. Without a check, a misspelled option (``keeep=``, ``stepsize=``) or a
bad value (``step_size=-0.1``, ``step_size="1e-3"``) reaches blackjax only inside the compiled
solve, as a ``TypeError`` many frames deep or as a sampler that silently never moves. Here each
keyword is checked when ``.bayesian(...)`` is called: unknown names raise a
:class:`~pinnlang.errors.ConfigurationError` suggesting the closest valid name, and the values of
the common kernel arguments are checked (``step_size > 0``, integer counts).

Valid kernel keywords are the factory's parameters after its first one (``logdensity_fn`` or
``grad_estimator``, which pinnlang supplies), plus ``step_size`` and ``temperature`` for SG-MCMC
kernels (arguments of their ``step``) and ``step_size`` for ``blackjax.rmh`` (pinnlang turns it into
a Gaussian proposal). A factory with ``**kwargs`` accepts any name.
"""

from __future__ import annotations

import difflib
import inspect

from ..errors import ConfigurationError
from ..validate import integer, is_integer, real
from .sampling_config import STEP_ARGS, STOCHASTIC, factory_signature, family_of, kernel_name


# The options of .bayesian(...) itself (`block` is added by the solve engine's groups).
BAYESIAN_KEYWORDS = ("prior", "warmup", "keep", "thin", "num_chains", "chain_method", "init_jitter", "adapt",
                     "likelihood_scale", "batch_size", "block")
ENGINE_KEYWORDS = ("block",)
# Arguments of the other blackjax SG-MCMC factories (sghmc, sgnht): given to a kernel that does not
# take them they are a mix-up of kernels, not a typo, and the message says so.
SG_SIBLING_ARGS = ("num_integration_steps", "alpha", "beta")
_POSITIVE_REALS = ("step_size", "divergence_threshold", "L")
_NON_NEGATIVE_REALS = ("temperature",)
_POSITIVE_INTS = ("num_integration_steps", "max_num_doublings", "period", "momentum_resample_every")
_CALLABLES = ("proposal_generator", "integrator", "random_step", "proposal_distribution")
_HINTS = {
    "step_size": " (e.g. step_size=1e-3; a zero or negative step never moves the chain). With blackjax.nuts or "
                 "blackjax.hmc, adapt=True and warmup > 0 you can leave it out: window adaptation chooses it",
    "temperature": " (1.0 samples the posterior; 0 is an optimiser)",
    "num_integration_steps": " (leapfrog steps per HMC transition, e.g. 10)",
}


def kernel_keywords(factory) -> tuple[str, ...] | None:
    """The keyword arguments ``.bayesian(factory, ...)`` passes on to the kernel; ``None``: any name."""
    params = list(factory_signature(factory).parameters.values())
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    names = [p.name for p in params[1:] if p.kind is not inspect.Parameter.VAR_POSITIONAL]
    if family_of(factory) == STOCHASTIC:
        names += [a for a in STEP_ARGS if a not in names]
        if "num_integration_steps" in names:  # sghmc: a persistent momentum, redrawn every N steps
            names.append("momentum_resample_every")
    elif "proposal_generator" in names and "step_size" not in names:
        names.append("step_size")  # rmh: the engine builds a Gaussian random-walk proposal from it
    return tuple(names)


def _unknown(handle_name: str, kernel: str, name: str, valid: tuple[str, ...]) -> ConfigurationError:
    options = [k for k in BAYESIAN_KEYWORDS if k not in ENGINE_KEYWORDS]
    close = difflib.get_close_matches(name, list(valid) + options, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    takes = ", ".join(valid) if valid else "no keyword arguments"
    return ConfigurationError(
        f"{handle_name}.bayesian({kernel}): unknown keyword argument {name!r}; {hint}blackjax.{kernel} takes "
        f"{takes}, and .bayesian itself takes {', '.join(options)} (see docs/guide/bayesian.md)."
    )


def _check_value(handle_name: str, kernel: str, name: str, value, factory=None):
    """The value of a known kernel argument, normalised (NumPy integers to ``int``)."""
    what = f"{handle_name}.bayesian({kernel}, {name}=...)"
    if name == "step_size" and callable(value) and factory is not None and family_of(factory) == STOCHASTIC:
        try:  # a schedule t -> step size (SG-MCMC): checked at its first step
            first = float(value(0))
        except Exception as err:  # noqa: BLE001 - any failure of a user schedule is named
            raise ConfigurationError(f"{what}: the step-size schedule failed at t = 0: {type(err).__name__}: {err}; "
                                     "pass a function t -> step size such as optax.exponential_decay(1e-4, ...)") from None
        real(f"{what} at t = 0", first, positive=True)
        return value
    try:
        if name in _POSITIVE_REALS:
            real(what, value, positive=True)
            return value
        if name in _NON_NEGATIVE_REALS:
            real(what, value, non_negative=True)
            return value
        if name in _POSITIVE_INTS:
            return integer(what, value, minimum=1)
    except ConfigurationError as err:
        raise ConfigurationError(f"{err}{_HINTS.get(name, '')}") from None
    if name in _CALLABLES and not callable(value):
        raise ConfigurationError(f"{what} must be a function, got {type(value).__name__}")
    return value


def check_kernel_kwargs(handle_name: str, factory, kernel_kwargs: dict) -> None:
    """Check (and normalise in place) the kernel keyword arguments of ``.bayesian(factory, **kernel_kwargs)``.

    Args:
        handle_name: the model or parameter being configured, for messages.
        factory: the blackjax kernel factory (``blackjax.nuts``, ...) or a user factory.
        kernel_kwargs: the keywords that are not options of ``.bayesian`` itself; NumPy integer values
            of integer arguments are replaced by Python ints.

    Raises:
        ConfigurationError: an unknown keyword (with the closest valid name), or a bad value
            (``step_size`` not a positive number, a count that is not a positive integer).
    """
    kernel = kernel_name(factory)
    valid = kernel_keywords(factory)
    first = next(iter(factory_signature(factory).parameters), None)
    for name in list(kernel_kwargs):
        if name in ENGINE_KEYWORDS:
            continue
        if name == first:
            raise ConfigurationError(f"{handle_name}.bayesian({kernel}, {name}=...): pinnlang builds {name} from the "
                                     "loss terms and the prior; drop it")
        if valid is not None and name not in valid:
            if family_of(factory) == STOCHASTIC and name in SG_SIBLING_ARGS:
                raise ConfigurationError(
                    f"{handle_name}.bayesian({kernel}): blackjax.{kernel} does not take {name!r}, an argument of "
                    f"another SG-MCMC kernel (blackjax.sghmc); drop it or sample with that kernel")
            raise _unknown(handle_name, kernel, name, valid)
        kernel_kwargs[name] = _check_value(handle_name, kernel, name, kernel_kwargs[name], factory)


def check_bayesian_call(handle_name: str, factory, kernel_kwargs: dict, warmup, keep, thin, num_chains):
    """Validate the kernel keywords of a ``.bayesian(...)`` call and normalise its integer options.

    Integral NumPy scalars (``keep=np.int64(500)``) become Python ints; anything else is returned as
    given for ``make_config``'s own checks (which reject bools, floats and non-positive values).

    Returns:
        ``(warmup, keep, thin, num_chains)``.
    """
    check_kernel_kwargs(handle_name, factory, kernel_kwargs)
    return tuple(int(v) if is_integer(v) else v for v in (warmup, keep, thin, num_chains))


__all__ = ["BAYESIAN_KEYWORDS", "check_bayesian_call", "check_kernel_kwargs", "kernel_keywords"]
