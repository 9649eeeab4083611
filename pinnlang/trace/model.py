"""Wrapped Equinox models and their calls on variables."""

from __future__ import annotations

import logging

import equinox as eqx
import jax

from ..errors import ConfigurationError, ShapeError
from .handle import Trainable
from .node import Node, common_points
from .ops import Concatenate, as_node
from .stochastic import apply_stochastic, inference_module, resolve_stochastic

log = logging.getLogger("pinnlang")


class Model(Trainable):
    """A handle on an Equinox module: call it on variables to get an expression.

    ``net(x)`` or ``net(x, t)`` concatenates the inputs column-wise to ``(n, d)`` and
    applies the module to every point (``jax.vmap`` over the point axis, so the module
    follows Equinox's single-sample convention ``(d,) -> (k,)``).

    A *stochastic* model (a module with ``eqx.nn.Dropout`` whose ``__call__`` takes ``key``) draws a
    fresh key per point at every training step, runs in inference mode (dropout off) in a plain
    ``crux.eval``, and gets a fresh key per draw in ``crux.eval(..., num_samples=S)``; see
    :mod:`pinnlang.trace.stochastic`.

    Attributes:
        module: the current module (trained values are written back after each solve).
        stochastic: whether calls of the model take a key (read-only; set by ``pl.nn.wrap``).
    """

    def __init__(self, module: eqx.Module, name: str | None = None, stochastic: bool | None = None):
        if not callable(module):
            raise TypeError(f"pl.nn.wrap needs a callable Equinox module, got {type(module).__name__}")
        self._init_handle(name, "model")
        self.module = module
        self._adapters_only = False  # set by .lora(...): only the adapters move while the module has them
        self._stochastic, self._inference_only = resolve_stochastic(module, stochastic, self.name)

    @property
    def stochastic(self) -> bool:
        """Calls of this model are random (train mode with a key; inference mode without one)."""
        return self._stochastic

    # -- values --------------------------------------------------------------------------
    def get_trainable(self):
        return eqx.filter(self.module, eqx.is_inexact_array)

    def set_trainable(self, value):
        self.module = eqx.combine(value, eqx.filter(self.module, eqx.is_inexact_array, inverse=True))

    @property
    def static_part(self):
        """The non-array part of the module (activations, fixed embeddings, ...)."""
        return eqx.filter(self.module, eqx.is_inexact_array, inverse=True)

    @property
    def fixed_flags(self):
        """Per leaf of :meth:`get_trainable`: whether no group may update it (LoRA base weights), or ``None``."""
        from .groups import fixed_flags

        return fixed_flags(self.module, adapters_only=self._adapters_only)

    def lora(self, rank, alpha: float = 1.0, *, key=None, where=None):
        """Add low-rank adapters to the module's ``eqx.nn.Linear`` layers; only the adapters are trained after this.

        Each adapted layer computes ``W x + b + (alpha / rank) · B A x`` with ``W`` and ``b`` fixed, ``A`` ``(rank, in)``
        random and ``B`` ``(out, rank)`` zero, so the model is unchanged until a solve moves ``B``. From then on
        ``.optimizer(...)``, ``.bayesian(...)``, ``.vi(...)`` and ``.mask(M)`` act on the adapters ``A`` and ``B`` only:
        every other leaf (base weights, layers left out by ``where``, other arrays of the module) is fixed, while
        ``net.module``, ``crux.eval``, posterior draws and checkpoints hold the whole adapted module.
        ``pl.nn.merge(net.module)`` folds the adapters into plain weights (the module is then trained whole again).
        To train some layers fully next to adapters, wrap ``pl.nn.lora(module, ...)`` yourself: then only the
        adapted layers' base weights are fixed.

        Args:
            rank: positive integer, at most ``min(in, out)`` of every adapted layer; or per layer a dict
                ``{layer path: rank}`` (``{"layers[0]": 4, "output_layer": 1}``: only those layers) or a callable
                ``eqx.nn.Linear -> int``; rank 0 leaves a layer without adapter (then it is fixed whole).
            alpha: positive scale of the update (each layer's is ``alpha / its rank``).
            key: PRNG key for ``A`` (default ``PRNGKey(0)``).
            where: optional ``module -> Linear | tuple of Linears`` choosing the layers (default: all); not with
                a dict ``rank``.

        Returns:
            self.

        Raises:
            ConfigurationError: see :func:`pinnlang.nn.lora.lora`; also when masks were set on the unadapted module.
        """
        from ..nn.lora import lora  # nn sits beside trace and imports it; a load-time import here would be a cycle

        if self.masked_groups or self._pending_masks:
            raise ConfigurationError(
                f"{self.name}.lora(...) changes the module's leaves, so the masks set on it before no longer fit; "
                f"call {self.name}.lora(...) first, then {self.name}.mask(M)")
        module = lora(self.module, rank, alpha, key=jax.random.PRNGKey(0) if key is None else key, where=where)
        if self._posterior is not None:
            log.warning("%s.lora(...): the %d posterior draws of the unadapted module are dropped (they do not fit "
                        "the adapted one)", self.name, self._posterior.num_draws)
            self._posterior = None
        self.module = module
        self._adapters_only = True
        self._touch()
        return self

    def mask(self, mask):
        """Select whole leaves of the module for a masked group: ``net.mask(M).bayesian(...)``.

        ``net.mask(lambda m: m.output_layer)`` selects every leaf of the output layer;
        ``lambda m: (m.layers[0], m.output_layer.weight)`` a layer and one weight. A callable that returns the
        module's own subtrees is a selection; one that returns bools is a mask (see
        :mod:`pinnlang.trace.selection`). ``pl.nn.mask_of(net.module, where)`` gives the bool pytree itself.

        Args:
            mask: a callable ``module -> subtree | tuple of subtrees`` of the module, a pytree of bools with
                the module's structure (or that of its trainable part), or a callable ``module -> such a pytree``.

        Returns:
            a :class:`~pinnlang.trace.groups.MaskedView`; call ``.bayesian(...)`` on it.
        """
        from .groups import MaskedView, normalise_mask

        flags = normalise_mask(self.module, mask, self.name)
        fixed = self.fixed_flags
        hit = next((i for i, (f, x) in enumerate(zip(flags, fixed or ())) if f and x), None)
        if hit is not None:
            raise ConfigurationError(
                f"{self.name}.mask: the mask selects {self._leaf_path(hit)}, a fixed leaf (after .lora(...) only "
                "the adapters A and B are trained or sampled); select adapters only, e.g. "
                f"{self.name}.mask(lambda m: (m.output_layer.A, m.output_layer.B))")
        view = MaskedView(self, flags)
        self._pending_masks.append(view)
        return view

    def _leaf_path(self, index: int) -> str:
        from .groups import trainable_paths

        return trainable_paths(self.module)[index]

    @property
    def in_features(self):
        return getattr(self.module, "in_features", None)

    def __call__(self, *inputs) -> "ModelCall":
        if not inputs:
            raise ShapeError(f"model {self.name!r} called with no inputs; pass variables, e.g. net(x) or net(x, t)")
        return ModelCall(self, tuple(as_node(i) for i in inputs))

    def __repr__(self) -> str:
        leaves = jax.tree_util.tree_leaves(self.get_trainable())
        fixed = self.fixed_flags or (False,) * len(leaves)
        n = sum(l.size for l, f in zip(leaves, fixed) if not f)
        held = f" ({sum(l.size for l, f in zip(leaves, fixed) if f)} fixed)" if any(fixed) else ""
        random = ", stochastic" if self._stochastic else ""
        return f"<Model {self.name}: {type(self.module).__name__}, {n} trainable values{held}{random}>"


def apply_module(module, inputs, batched: bool):
    """Apply ``module`` to ``inputs``: ``(n, d) -> (n, k)`` when ``batched`` else ``(d,) -> (k,)``."""
    out = jax.vmap(module)(inputs) if batched else module(inputs)
    if batched and out.ndim == 1:
        out = out[:, None]
    elif not batched and out.ndim == 0:
        out = out[None]
    return out


class ModelCall(Node):
    """``model(*inputs)``: evaluates to ``(n, k)`` over the inputs' point set."""

    def __init__(self, model: Model, inputs: tuple[Node, ...]):
        self.model = model
        self.inputs = inputs
        self.points = common_points(inputs, f"model {model.name!r}")
        self.concat = Concatenate(inputs)
        width = self.concat.value_shape[-1]
        expected = model.in_features
        if expected is not None and expected != width:
            raise ShapeError(
                f"model {model.name!r} expects {expected} input column(s) but was called with {width} "
                f"({len(inputs)} input(s) concatenated); pass exactly the variables it was built for."
            )
        batched = self.points is not None
        try:
            self.aval = jax.eval_shape(lambda v: self._apply(model.module, v, jax.random.PRNGKey(0)),
                                       self.concat.aval)
        except Exception as err:  # noqa: BLE001 - any failure here is a width/shape problem
            raise ShapeError(
                f"model {model.name!r} cannot be applied to inputs of width {width}: {type(err).__name__}: {err}"
            ) from None

    def children(self):
        return (self.concat,)

    def static(self):
        return self.model.uid

    def _apply(self, module, inputs, key):
        """The module on ``inputs``: train mode with ``key`` for a stochastic model, else inference mode when
        the model is stochastic or ``stochastic=False`` was asked for, else the module as it is."""
        batched = self.points is not None
        if self.model.stochastic and key is not None:
            return apply_stochastic(module, inputs, batched, key)
        if self.model.stochastic or self.model._inference_only:
            module = inference_module(module)
        return apply_module(module, inputs, batched)

    def lower(self, env, args):
        key = env.analysis.keys(self.model)
        module = eqx.combine(env.params[key], env.statics[key])
        key = env.call_key(self) if self.model.stochastic else None
        return self._apply(module, args[0], key)

    def __repr__(self) -> str:
        return f"<{self.model.name}(...) {self.shape} on {self.points}>"
