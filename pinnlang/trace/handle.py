"""Configuration shared by every trainable thing (wrapped models and parameters).

A handle records *how* its values are updated as plain data; the solver reads
that data at the start of each ``solve()``. Nothing here imports later stages.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import equinox as eqx
import jax
import numpy as np

from ..errors import ConfigurationError
from .node import next_uid

log = logging.getLogger("pinnlang")


def _call(config) -> str:
    """``.bayesian(nuts)`` or ``.vi(meanfield_vi)``: how ``config`` was set, for messages."""
    return f"{'.vi' if config.family == 'variational' else '.bayesian'}({config.name})"


class Trainable:
    """Mixin: per-handle update rule, freezing and initialisation.

    Attributes:
        name: display name (messages, trackers); need not be unique.
        key_name: process-unique identity string; compiled pytrees use the problem's keys instead
            (``pinnlang.compile.keys``), which do not depend on how many handles the process made.
        key_stem: the stem of those keys: the user-given name, or ``model``/``param``.
        uid: process-unique integer identity.
        frozen: excluded from every update when True.
        posterior_samples: the chain after a Bayesian solve, else ``None``.
    """

    def _init_handle(self, name: str | None, prefix: str):
        self.uid = next_uid()
        self.name = name if name is not None else f"{prefix}_{self.uid}"
        self.key_name = f"{self.name}#{self.uid}"
        self.key_stem = name if name is not None else prefix  # no uid: it would reach the compiled programs
        self.frozen = False
        self.transform = None  # an optax GradientTransformation, None = default adam(1e-3)
        self.per_chain = False  # replicate the optimised values per chain (K independent joint runs)
        self.map_prior = None  # a prior of the optimised values: the optimiser then finds the MAP
        self.batch_size = None  # minibatch size of the optimiser
        self.sampler = None  # a SamplingConfig after .bayesian(...) on the whole pytree
        self.masked_groups = []  # MaskedGroup per .mask(M).bayesian(...)
        self._pending_masks = []  # .mask(M) views not yet configured
        self._solved = False  # a solve has run with the current configuration
        self._used = ()  # the whole-pytree sampler and masked groups of the last solve (see _mark_solved)
        self.version = 0  # bumps on every configuration change
        self._posterior = None  # written by the solver after a solve that samples this handle
        self.initializer = None  # a log-density-aware initialiser (pl.bayesian.pathfinder, ...) not yet run
        self.initialization = None  # what the last one returned: (starting position, kernel arguments)

    # -- results ------------------------------------------------------------------------
    @property
    def posterior_samples(self):
        """The draws of the last sampling solve, ``(K, N, ...)`` per leaf, or ``None``.

        A Parameter gives its constrained values ``(K, N, *shape)``; a Model an Equinox module
        whose array leaves are ``(K, N, *leaf_shape)``. Leaves that did not move (outside a mask,
        frozen) are read-only broadcast views of one copy.
        """
        return None if self._posterior is None else self._posterior.samples()

    @posterior_samples.setter
    def posterior_samples(self, samples):
        """Attach draws made elsewhere (another sampler, a file): ``crux.eval`` then pushes them forward."""
        from ..solve.posterior import Posterior

        self._posterior = None if samples is None else Posterior.from_samples(self, samples)

    @property
    def posterior_diagnostics(self):
        """``{field: (K, N)}`` kernel diagnostics of the draws (``None`` without draws or fields)."""
        return None if self._posterior is None else self._posterior.diagnostics

    @posterior_diagnostics.setter
    def posterior_diagnostics(self, diagnostics):
        if self._posterior is None:
            raise ConfigurationError(f"{self.name} has no posterior draws; set posterior_samples first")
        self._posterior.diagnostics = None if diagnostics is None else {k: np.asarray(v) for k, v in
                                                                        dict(diagnostics).items()}

    @property
    def posterior_logdensity(self):
        """``(K, N)`` log-density (unnormalised log posterior) of each draw, where the kernel reports it."""
        return None if self._posterior is None else self._posterior.logdensity

    # -- values (implemented by subclasses) ------------------------------------------
    def get_trainable(self) -> Any:
        """The pytree of inexact arrays the solver updates."""
        raise NotImplementedError

    def set_trainable(self, value) -> None:
        """Write back values produced by a solve."""
        raise NotImplementedError

    @property
    def fixed_flags(self) -> tuple[bool, ...] | None:
        """Per leaf of :meth:`get_trainable`: whether no optimiser or sampler may move it (``None``: none is fixed)."""
        return None

    def _touch(self):
        self.version += 1
        self._solved = False

    def _mark_solved(self):
        """Called by the solver at the start of a solve: the current configuration is in use."""
        self._solved = True
        self._used = (self.sampler, *self.masked_groups)

    def _was_used(self, config_or_group) -> bool:
        """Whether a solve ran with this sampler or masked group (then replacing it is a new experiment)."""
        return config_or_group is not None and any(u is config_or_group for u in self._used)

    def _replaces(self, old: str, new: str, hint: str = "", used: bool = False):
        """Say that ``new`` replaces ``old``: a WARNING unless a solve already used ``old``."""
        level = logging.INFO if self._solved or used else logging.WARNING
        log.log(level, "%s: %s replaces the earlier %s%s", self.name, new, old, hint)

    @property
    def configured(self) -> bool:
        """Whether any update rule was set explicitly (optimiser, sampler or masked groups)."""
        return self.transform is not None or self.sampler is not None or bool(self.masked_groups)

    # -- configurators -----------------------------------------------------------------
    def optimizer(self, transform, *, per_chain: bool = False, prior=None, batch_size: int | None = None):
        """Train this handle with an optax ``GradientTransformation`` (e.g. ``optax.adam(1e-3)``).

        With masked Bayesian groups (``.mask(M).bayesian(...)``) the optimiser trains the
        complement of the masks (a trained body under a sampled head). ``.optimizer(None)`` removes it: after
        a first solve, ``net.optimizer(None)`` and ``net.mask(head).bayesian(...)`` sample the head on the body
        frozen at its trained values (Pattern A).

        Args:
            transform: the optax transformation, or ``None`` to remove the optimiser.
            per_chain: under ``num_chains=K`` sampling, keep one copy of these values per chain, each
                trained against its own chain (K independent joint runs). The default trains one shared
                copy on the gradient averaged over the chains (a Monte Carlo EM step).
            prior: a log-density of the values (``pl.bayesian.priors.gaussian(1.0)``, ...): ``-log prior`` is
                added to the loss, so the optimiser finds the maximum a posteriori estimate (with a
                normalised likelihood such as ``gaussian_nll``). For a constrained parameter the prior is of
                the constrained value, and the MAP is the mode in the unconstrained space (log-Jacobian
                included), as a sampler of the same parameter sees it.
            batch_size: train on minibatches of this many points per point set (shuffled once per data epoch,
                every point used once per epoch); sums such as ``gaussian_nll`` are scaled to unbiased estimates
                of the full loss. All optimised handles of a solve share the batch size.

        Returns:
            self, so configurators chain.
        """
        if transform is None:  # remove the optimiser: under masks the complement is then held fixed (Pattern A)
            if self.transform is not None:
                log.info("%s: .optimizer(None) removes its optimiser%s", self.name,
                         "; the leaves outside its masks stay at their values" if self.masked_groups or
                         self._pending_masks else "; without masks the default adam(1e-3) trains it")
            self.transform, self.per_chain, self.map_prior, self.batch_size = None, False, None, None
            self._touch()
            return self
        if not hasattr(transform, "init") or not hasattr(transform, "update"):
            raise ConfigurationError(
                f"{self.name}.optimizer(...) needs an optax GradientTransformation such as "
                f"optax.adam(1e-3); got {type(transform).__name__}"
            )
        if not isinstance(per_chain, bool):
            raise ConfigurationError(f"{self.name}.optimizer(per_chain=...) must be True or False, got {per_chain!r}")
        if batch_size is not None:
            from ..validate import integer

            batch_size = integer(f"{self.name}.optimizer(batch_size)", batch_size, minimum=1)
        if prior is not None and not callable(prior):
            raise ConfigurationError(f"{self.name}.optimizer(prior=...) needs a log-density such as "
                                     f"pl.bayesian.priors.gaussian(1.0), got {type(prior).__name__}")
        if self.sampler is not None:
            self._replaces(f".bayesian({self.sampler.name})", ".optimizer(...)")
            self.sampler = None
        self.transform = transform
        self.per_chain = per_chain
        self.map_prior = prior
        self.batch_size = batch_size
        self.frozen = False
        self._touch()
        return self

    def bayesian(self, kernel_factory, **kwargs):
        """Sample this handle's values with a blackjax MCMC kernel instead of optimising them.

        Handles configured with the same kernel and settings (priors may differ) are sampled
        jointly by one kernel; different settings make Metropolis-within-Gibbs blocks.

        Args:
            kernel_factory: ``blackjax.nuts``, ``hmc``, ``mala``, ``rmh``, ``sgld``, ``sghmc`` or any
                ``(logdensity_fn, **kw) -> SamplingAlgorithm``.
            **kwargs: ``prior``, ``warmup``, ``keep``, ``thin``, ``num_chains``, ``chain_method``,
                ``init_jitter``, ``adapt``, ``likelihood_scale``, ``batch_size``, ``block`` and kernel
                arguments such as ``step_size`` (see ``docs/guide/bayesian.md``).

        Returns:
            self.
        """
        from .sampling_config import make_config

        if self.frozen:
            raise ConfigurationError(
                f"{self.name} is frozen; .bayesian() would sample values that must stay fixed. Call "
                f"{self.name}.unfreeze() first, or put .bayesian() on another model or parameter."
            )
        return self._configure_whole(make_config(self.name, kernel_factory, **kwargs), "bayesian")

    def vi(self, vi_factory, **kwargs):
        """Fit a Gaussian approximation q of this handle's posterior by variational inference.

        The ELBO is optimised inside ``solve()`` (one optimiser step per epoch on a Monte Carlo estimate
        with ``num_samples`` draws of q); afterwards ``posterior_draws`` i.i.d. draws of q are
        ``posterior_samples``, ``(1, posterior_draws, ...)``, pushed forward by ``crux.eval`` like a chain.
        ``history.trace("elbo/<name>")`` is the ELBO per epoch.

        Args:
            vi_factory: ``blackjax.meanfield_vi`` (independent Gaussians) or ``blackjax.fullrank_vi``
                (a full covariance: needed when the posterior is correlated).
            **kwargs: ``optimizer`` (optax, required), ``num_samples=8``, ``posterior_draws=500``,
                ``prior=None`` (default N(0, 10²)), ``likelihood_scale=1.0``, ``init_mu_at_position=True`` (q's mean
                starts at the current values), ``init_log_std=-3.0`` (q's standard deviations start at e^-3),
                ``block=None``.

        Returns:
            self.
        """
        from .vi_config import make_vi_config

        if self.frozen:
            raise ConfigurationError(f"{self.name} is frozen; call {self.name}.unfreeze() before .vi(...)")
        return self._configure_whole(make_vi_config(self.name, vi_factory, **kwargs), "vi")

    def _configure_whole(self, cfg, method: str):
        """Set ``cfg`` (``.bayesian`` or ``.vi``) on the whole pytree, saying what it replaces."""
        self._check_not_both(cfg)
        call = f".{method}({cfg.name})"
        if self.transform is not None:
            self._replaces(".optimizer(...)", call,
                           " on the whole pytree (nothing is optimised now); for a head on a trained body, keep "
                           f".optimizer(...) and call {self.name}.mask(M).{method}(...)")
            self.transform = None
        if self.masked_groups:
            self._replaces(f"{len(self.masked_groups)} masked group(s)", f"{call} on the whole pytree")
            self.masked_groups = []
        if self._was_used(self.sampler) and (self.sampler.family == "variational") != (cfg.family == "variational"):
            self._replaces(_call(self.sampler), call, used=True)
        self.sampler = cfg
        self._touch()
        return self

    def _check_not_both(self, cfg):
        """``.vi`` and ``.bayesian`` on the same leaves is an error naming both (they are two answers to one question),
        unless a solve used the old one: then the new one replaces it (the next experiment on the same handle)."""
        old = self.sampler
        if self._was_used(old):
            return
        if old is not None and (getattr(old, "family", None) == "variational") != (cfg.family == "variational"):
            raise ConfigurationError(
                f"{self.name} is configured with {_call(old)}; {_call(cfg)} on the same parameters would be a second "
                "posterior for them. Choose one, or give each part its own mask: "
                f"{self.name}.mask(M1).bayesian(...), {self.name}.mask(M2).vi(...)")

    def mask(self, mask):
        """Select leaves of this handle's pytree for a masked group: ``.mask(M).bayesian(...)``."""
        raise ConfigurationError(
            f"{self.name} is a parameter: one array, which a mask cannot split into leaves. Use separate "
            "parameters for the parts that need different update rules.")

    def _add_masked_group(self, view, group):
        if self.frozen:
            raise ConfigurationError(f"{self.name} is frozen; call {self.name}.unfreeze() before .mask(M).bayesian()")
        if self.sampler is not None:
            self._replaces(f".bayesian({self.sampler.name}) on the whole pytree",
                           f".mask(M).bayesian({group.config.name})")
            self.sampler = None
        for i, g in enumerate(self.masked_groups):
            same_family = (g.config.family == "variational") == (group.config.family == "variational")
            used = self._was_used(g)  # after a solve with it, .vi may replace .bayesian (and back): a new experiment
            if tuple(g.flags) == tuple(group.flags) and (same_family or used):  # the same mask: a new configuration
                self._replaces(f"{_call(g.config)} of mask {i}", _call(group.config), used=used)
                self.masked_groups[i] = group
                if view in self._pending_masks:
                    self._pending_masks.remove(view)
                self._touch()
                return
            leaf = g.overlap(group.flags)
            if leaf is not None and (g.config.family == "variational") != (group.config.family == "variational"):
                kinds = {True: ".vi", False: ".bayesian"}
                raise ConfigurationError(
                    f"{self.name}: the leaf {self._leaf_path(leaf)} is in mask {i}, configured with "
                    f"{kinds[g.config.family == 'variational']}({g.config.name}), and in the new mask, configured with "
                    f"{kinds[group.config.family == 'variational']}({group.config.name}): choose one for it")
            if leaf is not None:
                raise ConfigurationError(
                    f"{self.name}: masked groups must be disjoint, but the leaf {self._leaf_path(leaf)} is in mask "
                    f"{i} and in the new mask; remove it from one of them")
        self.masked_groups.append(group)
        if view in self._pending_masks:
            self._pending_masks.remove(view)
        self._touch()

    def _leaf_path(self, index: int) -> str:
        return f"#{index}"

    def freeze(self):
        """Keep the current values fixed in later solves (no optimiser, no sampler)."""
        self.frozen = True
        self.sampler = None
        self.masked_groups = []
        self._touch()
        return self

    def unfreeze(self):
        """Undo :meth:`freeze`."""
        self.frozen = False
        self._touch()
        return self

    def initialize(self, source, *, key=None):
        """Set the starting values.

        One round trip for files, one for values (they differ only for constrained parameters):

        * a **file** holds the *trainable* values, the pytree the solver updates: write it with
          ``eqx.tree_serialise_leaves(path, handle.get_trainable())`` (or a ``pl.io`` checkpoint) and
          ``handle.initialize(path)`` restores exactly those values. For a constrained parameter these
          are the unconstrained raw values.
        * a **pytree or number** is a value as expressions see it: ``p.initialize(p.value)`` keeps a
          constrained parameter where it is (the constraint is undone to get the raw value).

        A **log-density-aware initialiser** (``pl.bayesian.pathfinder(...)``, ``laplace(...)``,
        ``svgd(...)`` or any object with ``requires_logdensity = True``) runs at the start of the next
        ``solve()`` on the posterior of this handle's sampled group, and gives each chain its start (and the
        kernel a mass matrix); see :mod:`pinnlang.bayesian.initializers`.

        Args:
            source: a path written by ``eqx.tree_serialise_leaves`` (or ``pl.io`` checkpoints),
                a pytree with the same structure as the current values, a callable
                ``(shape, dtype, key) -> array`` applied to every trainable leaf (giving values; fixed
                leaves such as LoRA base weights keep theirs), or a log-density-aware initialiser.
            key: ``jax.random`` key for a callable initialiser (default ``PRNGKey(0)``).

        Raises:
            ConfigurationError: no such file, a file of another architecture (naming the first leaf
                whose shape differs), or a pytree of another structure or other leaf shapes.
            DataError: values holding NaN or inf.
        """
        import numpy as np

        from ..errors import DataError
        from ..validate import check_finite
        from .leaf_files import load_leaves
        from ..bayesian.initializers import check_protocol, is_initializer

        if is_initializer(source):
            check_protocol(source, f"{self.name}.initialize")
            self.initializer = source
            self._touch()
            return self
        current = self.get_trainable()
        from_file = isinstance(source, (str, os.PathLike))
        if from_file:
            if not os.path.exists(source):
                raise ConfigurationError(f"{self.name}.initialize: no file at {os.fspath(source)!r}")
            new = load_leaves(self.name, source, current)
        elif callable(source) and not isinstance(source, eqx.Module):
            key = jax.random.PRNGKey(0) if key is None else key
            leaves, treedef = jax.tree_util.tree_flatten(current)
            keys = jax.random.split(key, max(len(leaves), 1))
            fixed = self.fixed_flags or (False,) * len(leaves)  # fixed leaves (LoRA bases) keep their values
            new = jax.tree_util.tree_unflatten(
                treedef, [l if f else source(l.shape, l.dtype, k) for l, k, f in zip(leaves, keys, fixed)]
            )
        else:
            new = eqx.filter(source, eqx.is_inexact_array) if isinstance(source, eqx.Module) else source
            s_new = jax.tree_util.tree_structure(new)
            s_cur = jax.tree_util.tree_structure(current)
            if s_new != s_cur:
                raise ConfigurationError(
                    f"{self.name}.initialize: the pytree structure does not match the current values "
                    f"(got {s_new}, expected {s_cur})"
                )
        shapes_new = [getattr(l, "shape", np.shape(l)) for l in jax.tree_util.tree_leaves(new)]
        shapes_cur = [l.shape for l in jax.tree_util.tree_leaves(current)]
        if shapes_new != shapes_cur:
            raise ConfigurationError(
                f"{self.name}.initialize: leaf shapes {shapes_new} do not match the current {shapes_cur}"
            )
        for path, leaf in jax.tree_util.tree_flatten_with_path(new)[0]:
            check_finite(f"{self.name}.initialize: leaf {jax.tree_util.keystr(path) or 'value'}", np.asarray(leaf),
                         "give finite starting values", DataError)
        self.set_trainable(new if from_file else self.from_user(new))
        self._touch()
        return self

    def from_user(self, value):
        """The trainable pytree for values given by the user (parameters undo their constraint).

        Files given to :meth:`initialize` hold trainable values already and skip this step.
        """
        return value
