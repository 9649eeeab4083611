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

from ..errors import ConfigurationError
from .node import next_uid

log = logging.getLogger("pinnlang")

class Trainable:
    """Mixin: per-handle update rule, freezing and initialisation.

    Attributes:
        name: display name (messages, trackers); need not be unique.
        key_name: unique key of this handle in the solver's trainable pytree.
        uid: process-unique integer identity.
        frozen: excluded from every update when True.
        posterior_samples: the chain after a Bayesian solve, else ``None``.
    """

    def _init_handle(self, name: str | None, prefix: str):
        self.uid = next_uid()
        self.name = name if name is not None else f"{prefix}_{self.uid}"
        self.key_name = f"{self.name}#{self.uid}"  # unique key in the trainable pytree
        self.frozen = False
        self.transform = None  # an optax GradientTransformation, None = default adam(1e-3)
        self.sampler = None  # a SamplingConfig after .bayesian(...)
        self.version = 0  # bumps on every configuration change
        self.posterior_samples = None
        self.posterior_diagnostics = None

    # -- values (implemented by subclasses) ------------------------------------------
    def get_trainable(self) -> Any:
        """The pytree of inexact arrays the solver updates."""
        raise NotImplementedError

    def set_trainable(self, value) -> None:
        """Write back values produced by a solve."""
        raise NotImplementedError

    def _touch(self):
        self.version += 1

    # -- configurators -----------------------------------------------------------------
    def optimizer(self, transform):
        """Train this handle with an optax ``GradientTransformation`` (e.g. ``optax.adam(1e-3)``).

        Returns:
            self, so configurators chain.
        """
        if not hasattr(transform, "init") or not hasattr(transform, "update"):
            raise ConfigurationError(
                f"{self.name}.optimizer(...) needs an optax GradientTransformation such as "
                f"optax.adam(1e-3); got {type(transform).__name__}"
            )
        self.transform = transform
        self.frozen = False
        if self.sampler is not None:
            log.info("%s: .optimizer(...) replaces the earlier .bayesian(...) configuration", self.name)
            self.sampler = None
        self._touch()
        return self

    def bayesian(self, kernel_factory, **kwargs):
        """Sample this handle's values with a blackjax MCMC kernel instead of optimising them.

        Args:
            kernel_factory: ``blackjax.nuts``, ``hmc``, ``mala``, ``rmh``, ``sgld``, ``sghmc`` or any
                ``(logdensity_fn, **kw) -> SamplingAlgorithm``.
            **kwargs: ``prior``, ``warmup``, ``keep``, ``thin``, ``num_chains``, ``chain_method``,
                ``init_jitter``, ``adapt``, ``likelihood_scale``, ``batch_size`` and kernel arguments
                such as ``step_size`` (see ``docs/guide/bayesian.md``).

        Returns:
            self.
        """
        from .sampling_config import make_config

        if self.frozen:
            raise ConfigurationError(
                f"{self.name} is frozen; .bayesian() would sample values that must stay fixed. Call "
                f"{self.name}.unfreeze() first, or put .bayesian() on another model or parameter."
            )
        self.sampler = make_config(self.name, kernel_factory, **kwargs)
        self._touch()
        return self

    def freeze(self):
        """Keep the current values fixed in later solves (no optimiser, no sampler)."""
        self.frozen = True
        self.sampler = None
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

        Args:
            source: a path written by ``eqx.tree_serialise_leaves`` (or ``pl.io`` checkpoints),
                a pytree with the same structure as the current values, or a callable
                ``(shape, dtype, key) -> array`` applied to every trainable leaf (giving values).
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
            new = jax.tree_util.tree_unflatten(
                treedef, [source(l.shape, l.dtype, k) for l, k in zip(leaves, keys)]
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
