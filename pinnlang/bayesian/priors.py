"""Prior factories: each returns a callable ``pytree -> scalar log-density``.

The callables sum an elementwise log-density over every floating-point array leaf of the pytree
they are given (an Equinox module, a dict of arrays, ...); other leaves (integers, booleans, Python
scalars, functions) are ignored, and complex leaves are rejected. Under ``.mask(M).bayesian()`` the
pytree is the masked subset, so the factories work the same for masked and global sampling.

The log-densities are **normalised** (the ``-log sigma - log(2 pi)/2``-type constants are included).
This differs from the jno specification, whose built-in priors drop the constants: sampling is
unaffected, but the values are true log-densities, comparable across priors and usable for
evidence or model comparison.

All callables are pure JAX (jit- and grad-compatible) and carry a readable ``repr``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from ..errors import ConfigurationError

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _positive(name: str, value, factory: str) -> float:
    """``value`` as a positive, finite Python float, or a ``ConfigurationError``."""
    try:
        if isinstance(value, bool):
            raise TypeError
        out = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"{factory}: {name} must be a positive number, got {value!r}.") from None
    if not (math.isfinite(out) and out > 0.0):
        raise ConfigurationError(f"{factory}: {name} must be positive and finite, got {value!r}.")
    return out


def _flag(name: str, value, factory: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{factory}: {name} must be True or False, got {value!r}.")
    return value


def _float_leaves(tree) -> list:
    """The floating-point array leaves of ``tree`` (JAX or NumPy arrays, tracers included)."""
    leaves = []
    for leaf in jax.tree_util.tree_leaves(tree):
        dtype = getattr(leaf, "dtype", None)
        if dtype is None or not hasattr(leaf, "shape"):
            continue
        if jnp.issubdtype(dtype, jnp.complexfloating):
            raise ConfigurationError(
                f"priors are densities on real parameters; got a complex leaf of shape {leaf.shape}. "
                "Split it into real and imaginary parts.")
        if jnp.issubdtype(dtype, jnp.floating) and leaf.size > 0:
            leaves.append(leaf)
    return leaves


class Prior:
    """A log-density ``pytree -> ()``: the sum of ``log_pdf(leaf)`` over the floating leaves.

    Subclasses set ``name`` and implement :meth:`log_pdf`; ``_args`` is what ``repr`` shows.
    """

    name = "prior"

    def __init__(self, **args):
        self._args = args

    def log_pdf(self, leaf: jax.Array) -> jax.Array:
        """Elementwise log-density of one leaf (same shape as ``leaf``)."""
        raise NotImplementedError

    def __call__(self, tree) -> jax.Array:
        """Total log-density of ``tree``: a scalar ``()`` array (0.0 when it has no float leaves)."""
        total = jnp.zeros(())
        for leaf in _float_leaves(tree):
            total = total + jnp.sum(self.log_pdf(jnp.asarray(leaf)))
        return total

    def __repr__(self) -> str:
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in self._args.items())})"

    # equal settings make equal priors, so a new .bayesian(prior=gaussian(1.0)) reuses compiled samplers
    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self._args == other._args

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted((k, repr(v)) for k, v in self._args.items()))))


def _normal_log_pdf(x: jax.Array, sigma) -> jax.Array:
    return -0.5 * jnp.square(x / sigma) - jnp.log(sigma) - _HALF_LOG_2PI


def _fan_in_sigma(leaf: jax.Array, sigma: float) -> float:
    """``sigma / sqrt(fan_in)`` for a weight (``ndim >= 2``, ``fan_in = shape[-1]``), else ``sigma``.

    Equinox ``Linear`` weights are ``(out_features, in_features)``, so the last axis is the fan-in.
    """
    return sigma / math.sqrt(leaf.shape[-1]) if leaf.ndim >= 2 else sigma


class _Gaussian(Prior):
    name = "gaussian"

    def __init__(self, sigma, fan_in_aware):
        self.sigma = _positive("sigma", sigma, "gaussian")
        self.fan_in_aware = _flag("fan_in_aware", fan_in_aware, "gaussian")
        shown = {"sigma": self.sigma, **({"fan_in_aware": True} if self.fan_in_aware else {})}
        super().__init__(**shown)

    def log_pdf(self, leaf):
        sigma = _fan_in_sigma(leaf, self.sigma) if self.fan_in_aware else self.sigma
        return _normal_log_pdf(leaf, sigma)


class _LayerwiseGaussian(Prior):
    name = "layerwise_gaussian"

    def __init__(self, base_sigma, default_sigma, fan_in_aware):
        self.base_sigma = _positive("base_sigma", base_sigma, "layerwise_gaussian")
        self.default_sigma = _positive("default_sigma", default_sigma, "layerwise_gaussian")
        self.fan_in_aware = _flag("fan_in_aware", fan_in_aware, "layerwise_gaussian")
        shown = {"base_sigma": self.base_sigma, "default_sigma": self.default_sigma}
        super().__init__(**shown, **({} if self.fan_in_aware else {"fan_in_aware": False}))

    def log_pdf(self, leaf):
        if leaf.ndim < 2:
            return _normal_log_pdf(leaf, self.default_sigma)
        if self.fan_in_aware:
            return _normal_log_pdf(leaf, _fan_in_sigma(leaf, self.base_sigma))
        return _normal_log_pdf(leaf, self.base_sigma)


class _Laplace(Prior):
    name = "laplace"

    def __init__(self, scale):
        self.scale = _positive("scale", scale, "laplace")
        super().__init__(scale=self.scale)

    def log_pdf(self, leaf):
        return -jnp.abs(leaf) / self.scale - math.log(2.0 * self.scale)


class _StudentT(Prior):
    name = "student_t"

    def __init__(self, df, scale):
        self.df = _positive("df", df, "student_t")
        if self.df <= 2.0:
            raise ConfigurationError(
                f"student_t: df must be > 2 for a finite variance, got df={df!r}; use df=3 or 4 "
                "for a heavy-tailed prior.")
        self.scale = _positive("scale", scale, "student_t")
        super().__init__(df=self.df, scale=self.scale)
        nu = self.df
        self._const = (math.lgamma((nu + 1.0) / 2.0) - math.lgamma(nu / 2.0)
                       - 0.5 * math.log(nu * math.pi) - math.log(self.scale))

    def log_pdf(self, leaf):
        z = leaf / self.scale
        return self._const - 0.5 * (self.df + 1.0) * jnp.log1p(jnp.square(z) / self.df)


class _HalfNormal(Prior):
    name = "half_normal"

    def __init__(self, scale):
        self.scale = _positive("scale", scale, "half_normal")
        super().__init__(scale=self.scale)

    def log_pdf(self, leaf):
        inside = math.log(2.0) + _normal_log_pdf(leaf, self.scale)
        return jnp.where(leaf >= 0, inside, -jnp.inf)


class _HalfCauchy(Prior):
    name = "half_cauchy"

    def __init__(self, scale):
        self.scale = _positive("scale", scale, "half_cauchy")
        super().__init__(scale=self.scale)
        self._const = math.log(2.0 / (math.pi * self.scale))

    def log_pdf(self, leaf):
        inside = self._const - jnp.log1p(jnp.square(leaf / self.scale))
        return jnp.where(leaf >= 0, inside, -jnp.inf)


def gaussian(sigma: float = 10.0, fan_in_aware: bool = False) -> Prior:
    """Independent ``N(0, sigma**2)`` on every entry.

    Args:
        sigma: standard deviation (> 0). The default 10 is wide ("effectively flat") at unit scale.
        fan_in_aware: if True, a leaf with ``ndim >= 2`` uses ``sigma / sqrt(shape[-1])`` (its fan-in
            for Equinox ``(out, in)`` weights); leaves with ``ndim <= 1`` (biases) keep ``sigma``.

    Returns:
        Callable ``pytree -> ()`` normalised log-density.
    """
    return _Gaussian(sigma, fan_in_aware)


def laplace(scale: float = 1.0) -> Prior:
    """Independent ``Laplace(0, scale)``: ``-|x| / scale - log(2 scale)`` per entry (sparsity-friendly).

    Returns:
        Callable ``pytree -> ()`` normalised log-density.
    """
    return _Laplace(scale)


def student_t(df: float = 4.0, scale: float = 1.0) -> Prior:
    """Independent Student-t with ``df`` degrees of freedom and ``scale``, location 0 (heavy tails).

    Args:
        df: degrees of freedom, > 2 so that the variance is finite.
        scale: scale (> 0).

    Returns:
        Callable ``pytree -> ()`` normalised log-density.

    Raises:
        ConfigurationError: ``df <= 2`` or a non-positive scale.
    """
    return _StudentT(df, scale)


def layerwise_gaussian(base_sigma: float = 1.0, default_sigma: float = 1.0,
                       fan_in_aware: bool = True) -> Prior:
    """Per-leaf ``N(0, sigma_leaf**2)``, the standard BNN prior (Sun et al. 2019, Wenzel et al. 2020).

    Args:
        base_sigma: weights (leaves with ``ndim >= 2``) get ``base_sigma / sqrt(shape[-1])`` with
            ``fan_in_aware``, else ``base_sigma``.
        default_sigma: standard deviation of every other leaf (biases, scalars).
        fan_in_aware: scale the weight sigma by ``1 / sqrt(fan_in)``.

    Returns:
        Callable ``pytree -> ()`` normalised log-density.
    """
    return _LayerwiseGaussian(base_sigma, default_sigma, fan_in_aware)


def half_normal(scale: float = 1.0) -> Prior:
    """Independent half-normal for positive quantities: ``log 2 + log N(x; 0, scale**2)`` for
    ``x >= 0``, ``-inf`` for ``x < 0``.

    Returns:
        Callable ``pytree -> ()`` normalised log-density.
    """
    return _HalfNormal(scale)


def half_cauchy(scale: float = 1.0) -> Prior:
    """Independent half-Cauchy for positive scales (heavier tail than :func:`half_normal`):
    ``log(2 / (pi scale)) - log(1 + (x / scale)**2)`` for ``x >= 0``, ``-inf`` for ``x < 0``.

    Returns:
        Callable ``pytree -> ()`` normalised log-density.
    """
    return _HalfCauchy(scale)


def check_prior(prior, example_pytree) -> float:
    """Call ``prior(example_pytree)`` and check that it is a finite scalar log-density.

    Accepts any user callable (not only the factories above); use it before a long solve.

    Args:
        prior: callable ``pytree -> log-density``.
        example_pytree: a parameter pytree of the shape the sampler will pass (e.g. the model).

    Returns:
        The log-density as a Python float.

    Raises:
        ConfigurationError: ``prior`` is not callable, or returns something that is not a number,
            not of shape ``()``, or not finite.
    """
    label = repr(prior) if isinstance(prior, Prior) else getattr(prior, "__name__", repr(prior))
    if not callable(prior):
        raise ConfigurationError(f"prior must be a callable pytree -> log-density, got {label}.")
    value = prior(example_pytree)
    try:
        arr = jnp.asarray(value)
    except TypeError:
        raise ConfigurationError(
            f"prior {label} returned {type(value).__name__}, not a number; it must return a "
            "scalar log-density.") from None
    if arr.shape != ():
        raise ConfigurationError(
            f"prior {label} returned an array of shape {arr.shape}; it must return a scalar "
            "(shape ()) log-density. Sum over entries, e.g. jnp.sum(...).")
    if not jnp.issubdtype(arr.dtype, jnp.number) or jnp.issubdtype(arr.dtype, jnp.complexfloating):
        raise ConfigurationError(f"prior {label} returned dtype {arr.dtype}; it must be real.")
    if not math.isfinite(float(arr)):  # on the host: an eager jnp.isfinite compiles a program
        raise ConfigurationError(
            f"prior {label} returned {float(arr)} on the example; a log-density there must be "
            "finite (is the example outside the prior's support, e.g. negative for half_normal?).")
    return float(arr)
