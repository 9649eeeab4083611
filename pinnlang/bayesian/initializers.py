"""Log-density-aware initialisers: warm starts for MCMC chains, fitted on the group's own posterior.

``handle.initialize(init)`` with an object whose ``requires_logdensity`` is ``True`` defers the
initialisation to the start of the next ``solve()``, where the object is called with the log-density
of the handle's sampled group (conditioned on every other value, masked to the group's leaves)::

    init(rng_key, logdensity_fn, position, num_chains) -> (position, kernel_kwargs_update)

``position`` comes back with a leading ``(num_chains,)`` axis when ``num_chains > 1`` (one start per
chain); ``kernel_kwargs_update`` (e.g. ``{"inverse_mass_matrix": (d,)}``) is merged into the kernel's
arguments, keys the kernel does not take being dropped. The call runs under ``jit``.

The built-in ones fit a Gaussian approximation q = N(m, Σ) and return the mode (one chain) or K
i.i.d. draws of q (K chains: over-dispersed starts), and the diagonal of Σ as inverse mass matrix:

* :func:`pathfinder` — L-BFGS along the log-density, the best normal approximation of its path
  (Zhang et al. 2022, through ``blackjax.vi.pathfinder``);
* :func:`laplace` — the mode by optax, Σ the inverse Hessian of the negative log-density there
  (diagonal or full); also a posterior of its own (``crux.approximate``);
* :func:`svgd` — Stein variational gradient descent particles (Liu & Wang 2016, ``blackjax.svgd``).
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from ..errors import ConfigurationError
from ..validate import integer, real

PROTOCOL = ("an initialiser is an object with requires_logdensity = True and __call__(rng_key, logdensity_fn, "
            "position, num_chains) -> (position, kernel_kwargs_update): position with a leading (num_chains,) axis "
            "when num_chains > 1, kernel_kwargs_update a dict (e.g. {'inverse_mass_matrix': ...}) or {}")


class GaussianApproximation(NamedTuple):
    """q = N(mean, covariance) over a position pytree.

    Attributes:
        mean: the flat mean ``(d,)``.
        covariance: ``(d, d)``, or ``(d,)`` variances for a diagonal q.
        unravel: flat ``(d,)`` -> position pytree.
    """

    mean: jax.Array
    covariance: jax.Array
    unravel: Callable

    @property
    def variance(self) -> jax.Array:
        """``(d,)`` marginal variances."""
        return self.covariance if self.covariance.ndim == 1 else jnp.diagonal(self.covariance)

    @property
    def mode(self):
        """The mean as a position pytree."""
        return self.unravel(self.mean)

    def sample(self, key, num_draws: int):
        """``num_draws`` i.i.d. draws: the position pytree with a leading ``(num_draws,)`` axis."""
        z = jax.random.normal(key, (num_draws,) + self.mean.shape, self.mean.dtype)
        if self.covariance.ndim == 1:
            flat = self.mean + z * jnp.sqrt(self.covariance)
        else:
            chol = jnp.linalg.cholesky(self.covariance)
            flat = self.mean + z @ chol.T
        return jax.vmap(self.unravel)(flat)


class Initializer:
    """Base of the built-in initialisers: a Gaussian fit, then starts and a diagonal mass matrix.

    Subclasses implement :meth:`approximate`; user-written initialisers need only the protocol
    (``requires_logdensity = True`` and ``__call__``), not this class.
    """

    requires_logdensity: ClassVar[bool] = True
    name: ClassVar[str] = "initializer"

    def approximate(self, rng_key, logdensity_fn: Callable, position) -> GaussianApproximation:
        raise NotImplementedError

    def starts(self, rng_key, approximation: GaussianApproximation, num_chains: int):
        """The mode for one chain, else ``num_chains`` i.i.d. draws of q (a leading chain axis)."""
        if num_chains == 1:
            return approximation.mode
        return approximation.sample(rng_key, num_chains)

    def __call__(self, rng_key, logdensity_fn: Callable, position, num_chains: int):
        k_fit, k_start = jax.random.split(rng_key)
        q = self.approximate(k_fit, logdensity_fn, position)
        return self.starts(k_start, q, num_chains), {"inverse_mass_matrix": q.variance}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"pl.bayesian.{self.name}({args})"


class Pathfinder(Initializer):
    """See :func:`pathfinder`."""

    name = "pathfinder"

    def __init__(self, maxiter: int, num_samples: int, maxcor: int):
        self.maxiter, self.num_samples, self.maxcor = maxiter, num_samples, maxcor

    def approximate(self, rng_key, logdensity_fn, position) -> GaussianApproximation:
        from blackjax.vi import pathfinder as bj_pathfinder

        flat, unravel = ravel_pytree(position)
        state, _ = bj_pathfinder.approximate(rng_key, lambda x: logdensity_fn(unravel(x)), flat,
                                             num_samples=self.num_samples, maxiter=self.maxiter, maxcor=self.maxcor)
        # q's covariance is alpha + beta gamma beta^T (the L-BFGS inverse Hessian at the chosen point)
        cov = jnp.diag(state.alpha) + state.beta @ state.gamma @ state.beta.T
        return GaussianApproximation(state.position, 0.5 * (cov + cov.T), unravel)


class Laplace(Initializer):
    """See :func:`laplace`."""

    name = "laplace"

    def __init__(self, hessian: str, steps: int, learning_rate: float):
        self.hessian, self.steps, self.learning_rate = hessian, steps, learning_rate

    def mode(self, logdensity_fn, flat0):
        """The maximum of the log-density from ``flat0`` by optax L-BFGS (zoom line search)."""
        f = lambda x: -logdensity_fn(x)  # noqa: E731
        opt = optax.lbfgs(learning_rate=self.learning_rate)
        value_and_grad = optax.value_and_grad_from_state(f)

        def body(carry, _):
            x, s = carry
            v, g = value_and_grad(x, state=s)
            u, s = opt.update(g, s, x, value=v, grad=g, value_fn=f)
            return (optax.apply_updates(x, u), s), None

        (x, _), _ = jax.lax.scan(body, (flat0, opt.init(flat0)), None, length=self.steps)
        return x

    def approximate(self, rng_key, logdensity_fn, position) -> GaussianApproximation:
        del rng_key
        flat0, unravel = ravel_pytree(position)
        ld = lambda x: logdensity_fn(unravel(x))  # noqa: E731
        x = self.mode(ld, flat0)
        if self.hessian == "full":
            h = -jax.hessian(ld)(x)
            lam, vec = jnp.linalg.eigh(0.5 * (h + h.T))
            cov = (vec / _curvature_floor(lam)) @ vec.T
            return GaussianApproximation(x, 0.5 * (cov + cov.T), unravel)
        # the diagonal of the Hessian, one Hessian-vector product per dimension (never the d x d matrix)
        hvp = lambda v: jax.jvp(jax.grad(ld), (x,), (v,))[1]  # noqa: E731
        diag = -jax.vmap(lambda e: jnp.vdot(e, hvp(e)))(jnp.eye(x.shape[0], dtype=x.dtype))
        return GaussianApproximation(x, 1.0 / _curvature_floor(diag), unravel)


def _curvature_floor(curvatures):
    """Curvatures of -log p with the non-positive ones (a saddle or a flat direction: a network's symmetries,
    an unfinished optimisation) raised to a small positive floor, so Σ stays a covariance: 1e-6 of the largest,
    the variance along such directions then at most 1e6 times the smallest one."""
    floor = 1e-6 * jnp.max(jnp.abs(curvatures))
    return jnp.maximum(curvatures, jnp.where(floor > 0, floor, 1.0))


DEFAULT_PARTICLES = 32  # enough for a usable variance (the mass matrix) in a few dimensions; cheap (32² pairs)


class SVGD(Initializer):
    """See :func:`svgd`."""

    name = "svgd"

    def __init__(self, num_iters: int, num_particles: int | None, learning_rate: float, init_scale: float,
                 mode_steps: int):
        self.num_iters, self.num_particles = num_iters, num_particles
        self.learning_rate, self.init_scale, self.mode_steps = learning_rate, init_scale, mode_steps

    def particles(self, rng_key, logdensity_fn, position, num_particles: int):
        """``(num_particles, d)`` flat particles, and the unravel function.

        The particles start around the mode (L-BFGS, ``mode_steps``) with the Laplace diagonal's spread, and
        move in coordinates whitened by it: the kernel's bandwidth and Adam's steps are then on the posterior's
        scale whatever the units of the parameters.
        """
        import blackjax

        flat0, unravel = ravel_pytree(position)
        ld = lambda x: logdensity_fn(unravel(x))  # noqa: E731
        q = Laplace("diagonal", self.mode_steps, None).approximate(None, logdensity_fn, position)
        m, sd = q.mean, jnp.sqrt(jnp.where(q.variance > 0, q.variance, 1.0))
        grad_ld = jax.grad(lambda u: ld(m + sd * u))
        schedule = optax.cosine_decay_schedule(self.learning_rate, self.num_iters, alpha=0.01)
        svgd = blackjax.svgd(grad_ld, optax.adam(schedule))
        u0 = self.init_scale * jax.random.normal(rng_key, (num_particles,) + flat0.shape, flat0.dtype)
        state = svgd.init(u0, {"length_scale": jnp.ones((), flat0.dtype)})
        state = jax.lax.fori_loop(0, self.num_iters, lambda _, st: svgd.step(st), state)
        return m + sd * state.particles, unravel

    def approximate(self, rng_key, logdensity_fn, position) -> GaussianApproximation:
        n = self.num_particles or DEFAULT_PARTICLES
        p, unravel = self.particles(rng_key, logdensity_fn, position, n)
        return GaussianApproximation(jnp.mean(p, axis=0), jnp.var(p, axis=0), unravel)

    def __call__(self, rng_key, logdensity_fn, position, num_chains: int):
        """K particles become the K chains' starts (the first K when there are more)."""
        n = self.num_particles or max(num_chains, DEFAULT_PARTICLES)
        if n < num_chains:
            raise ConfigurationError(f"svgd(num_particles={n}) gives fewer particles than the {num_chains} chains; "
                                     f"use num_particles >= {num_chains} (or leave it unset: one per chain)")
        p, unravel = self.particles(rng_key, logdensity_fn, position, n)
        starts = jax.vmap(unravel)(p[:num_chains])
        if num_chains == 1:
            starts = jax.tree_util.tree_map(lambda a: a[0], starts)
        return starts, {"inverse_mass_matrix": jnp.var(p, axis=0) if n > 1 else jnp.ones(p.shape[1], p.dtype)}


def pathfinder(maxiter: int = 30, num_samples: int = 200, maxcor: int = 10) -> Pathfinder:
    """Pathfinder warm start: L-BFGS on the log-density, the best Gaussian of its path.

    Args:
        maxiter: L-BFGS iterations.
        num_samples: draws per point of the path to estimate its ELBO.
        maxcor: L-BFGS history size.
    """
    return Pathfinder(integer("pathfinder(maxiter)", maxiter, minimum=1),
                      integer("pathfinder(num_samples)", num_samples, minimum=1),
                      integer("pathfinder(maxcor)", maxcor, minimum=1))


def laplace(hessian: str = "diagonal", steps: int = 200, learning_rate: float | None = None) -> Laplace:
    """Laplace approximation: the mode by optax L-BFGS, Σ = (-∇² log p)⁻¹ there.

    Non-positive curvatures (saddles, flat directions of a network) are raised to 1e-6 of the largest one, so
    Σ is always a covariance; on a Gaussian posterior nothing is changed and Σ is exact.

    Args:
        hessian: ``"diagonal"`` (d Hessian-vector products; q independent) or ``"full"`` (the d x d
            Hessian; q correlated, and its diagonal as mass matrix).
        steps: L-BFGS iterations to the mode.
        learning_rate: L-BFGS's learning rate (default ``None``: the line search chooses every step).
    """
    if hessian not in ("diagonal", "full"):
        raise ConfigurationError(f"laplace(hessian=...) must be 'diagonal' or 'full', got {hessian!r}")
    lr = None if learning_rate is None else real("laplace(learning_rate)", learning_rate, positive=True)
    return Laplace(hessian, integer("laplace(steps)", steps, minimum=1), lr)


def svgd(num_iters: int = 500, num_particles: int | None = None, learning_rate: float = 0.1,
         init_scale: float = 1.0, mode_steps: int = 100) -> SVGD:
    """Stein variational gradient descent warm start: particles pushed towards the posterior.

    Args:
        num_iters: SVGD steps (Adam on the Stein direction).
        num_particles: particles (default: 32, or one per chain if there are more chains); the first K start
            the K chains, all of them give the mass matrix (their variances).
        learning_rate: Adam's initial learning rate in whitened coordinates (units of the Laplace standard
            deviations), decayed to 1 % of it by a cosine schedule.
        init_scale: the particles start at the mode plus init_scale x the Laplace standard deviations x N(0, 1).
        mode_steps: L-BFGS iterations to the mode, from the current values.
    """
    n = None if num_particles is None else integer("svgd(num_particles)", num_particles, minimum=1)
    return SVGD(integer("svgd(num_iters)", num_iters, minimum=1), n,
                real("svgd(learning_rate)", learning_rate, positive=True),
                real("svgd(init_scale)", init_scale, positive=True), integer("svgd(mode_steps)", mode_steps, minimum=1))


def is_initializer(obj: Any) -> bool:
    """Whether ``handle.initialize(obj)`` defers to a log-density-aware initialiser."""
    return bool(getattr(obj, "requires_logdensity", False))


def check_protocol(obj: Any, where: str) -> None:
    """A clear error unless ``obj(rng_key, logdensity_fn, position, num_chains)`` can be called."""
    import inspect

    if not callable(obj):
        raise ConfigurationError(f"{where}: {type(obj).__name__} has requires_logdensity = True but is not callable; "
                                 f"{PROTOCOL}")
    try:
        inspect.signature(obj).bind(None, None, None, 1)
    except TypeError as err:
        raise ConfigurationError(f"{where}: {type(obj).__name__}.__call__ does not take (rng_key, logdensity_fn, "
                                 f"position, num_chains) ({err}); {PROTOCOL}") from None
    except ValueError:
        pass  # builtins without a signature: checked when called
