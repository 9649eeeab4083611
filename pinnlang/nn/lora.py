"""Low-rank adapters (LoRA, Hu et al. 2021) on the ``eqx.nn.Linear`` layers of any Equinox module.

An adapted layer computes ``base(x) + (alpha / rank) · B (A x)`` with the base layer's weight ``W``
``(out, in)`` and bias kept fixed, ``A`` ``(rank, in)`` drawn small and random and ``B`` ``(out, rank)``
zero, so an adapted module equals its base exactly until ``B`` moves. Only ``A`` and ``B`` are trained
or sampled: :class:`LoRALinear` declares its ``base`` field fixed (``fixed_fields``), and a model
handle leaves the leaves of fixed fields out of every group (they stay in the module, so evaluation,
posterior draws and checkpoints see the whole adapted network).

``pl.nn.lora(module, rank, key=key)`` adapts a module (``rank`` one integer, or per layer: a dict of layer
paths or a callable, rank 0 leaving a layer without adapter), ``pl.nn.merge(module)`` folds the adapters back
into plain ``Linear`` weights ``W + (alpha / rank) · B A``; ``net.lora(rank)`` does the first on a model
handle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from ..errors import ConfigurationError
from ..validate import integer, real


class LoRALinear(eqx.Module):
    """``base(x) + (alpha / rank) · B @ (A @ x)``: a linear layer with a fixed base and a low-rank update.

    Attributes:
        base: the original ``eqx.nn.Linear`` (weight ``(out, in)``, bias ``(out,)`` or ``None``); fixed.
        A: ``(rank, in)`` down-projection.
        B: ``(out, rank)`` up-projection (zero at the start).
        alpha: the scale numerator (static); the update is scaled by ``alpha / rank``.
        rank: the rank of the update (static).
    """

    fixed_fields: ClassVar[tuple[str, ...]] = ("base",)  # pinnlang never updates the arrays under these fields

    base: eqx.nn.Linear
    A: jax.Array
    B: jax.Array
    alpha: float = eqx.field(static=True)
    rank: int = eqx.field(static=True)

    @property
    def scale(self) -> float:
        return self.alpha / self.rank

    def __call__(self, x: jax.Array, *, key: jax.Array | None = None) -> jax.Array:
        """The adapted layer at one input ``x`` (``(in,)``, or ``()`` for a ``"scalar"`` base); shape of ``base(x)``."""
        y = self.base(x)
        delta = self.B @ (self.A @ jnp.reshape(x, (self.A.shape[1],)))
        return y + self.scale * jnp.reshape(delta, y.shape)


def _layers(module) -> list[tuple[str, eqx.nn.Linear]]:
    """``(key path, layer)`` of every ``eqx.nn.Linear`` and :class:`LoRALinear` in ``module``, in order."""
    def is_layer(x):
        return isinstance(x, (eqx.nn.Linear, LoRALinear))

    flat = jax.tree_util.tree_flatten_with_path(module, is_leaf=is_layer)[0]
    return [(jax.tree_util.keystr(p) or "(the module)", leaf) for p, leaf in flat if is_layer(leaf)]


def _selected(module, where, layers) -> set[int]:
    """``id`` of the layers ``where(module)`` names (every ``Linear`` when ``where`` is ``None``)."""
    if where is None:
        return {id(layer) for _, layer in layers}
    picked = where(module)
    picked = picked if isinstance(picked, (tuple, list)) else (picked,)
    ids = {id(layer) for _, layer in layers}
    for p in picked:
        if not isinstance(p, eqx.nn.Linear) or id(p) not in ids:
            raise ConfigurationError(
                f"lora(where=...) must return eqx.nn.Linear layers of the module (one, or a tuple), got "
                f"{type(p).__name__}; e.g. where=lambda m: m.layers[1:] + (m.output_layer,)")
    return {id(p) for p in picked}


def _path_key(path: str) -> str:
    """A layer path as the error messages write it: ``"layers[0]"`` and ``".layers[0]"`` are one layer."""
    return path if path.startswith((".", "[", "(")) else "." + path


def _check_rank(rank, path: str, layer, how: str, allow_zero: bool) -> int:
    """``rank`` for the layer at ``path``: an integer in ``[0 or 1, min(in, out)]``, else an error naming both."""
    out_f, in_f = layer.weight.shape
    rank = integer(f"lora rank of the layer {path} ({in_f} -> {out_f}, from {how})", rank,
                   minimum=0 if allow_zero else 1)
    if rank > min(out_f, in_f):
        raise ConfigurationError(
            f"lora rank {rank} exceeds min(in, out) = {min(out_f, in_f)} of the layer {path} "
            f"({in_f} -> {out_f}); use rank <= {min(out_f, in_f)}, or leave that layer out with "
            + ("rank 0 there" if allow_zero else
               "where=... (e.g. where=lambda m: m.layers[1:] for the hidden layers of a pl.nn.mlp)"))
    return rank


def _ranks(module, rank, where, layers) -> dict[int, int]:
    """``{id(layer): rank}`` of the layers to adapt (rank > 0), from an int, a dict of paths or a callable."""
    if isinstance(rank, dict):
        if where is not None:
            raise ConfigurationError(
                "lora(rank={path: rank}, where=...): the dict already chooses the layers (unlisted ones get no "
                "adapter); drop where=..., or pass a callable rank=lambda layer: ... with where=...")
        by_path = {path: layer for path, layer in layers}
        out = {}
        for key, r in rank.items():
            path = _path_key(key) if isinstance(key, str) else key
            if path not in by_path:
                raise ConfigurationError(
                    f"lora rank names the layer {key!r}, which the {type(module).__name__} module does not have; "
                    f"its linear layers are {list(by_path)}")
            out[id(by_path[path])] = _check_rank(r, path, by_path[path], "the rank dict", allow_zero=True)
    elif callable(rank):
        chosen = _selected(module, where, layers)
        out = {id(layer): _check_rank(rank(layer), path, layer, "the rank callable", allow_zero=True)
               for path, layer in layers if id(layer) in chosen}
    else:
        rank = integer("lora rank", rank, minimum=1)
        chosen = _selected(module, where, layers)
        out = {id(layer): _check_rank(rank, path, layer, "rank", allow_zero=False)
               for path, layer in layers if id(layer) in chosen}
    out = {i: r for i, r in out.items() if r > 0}  # rank 0: the layer keeps no adapter
    if not out:
        raise ConfigurationError(
            f"lora rank={rank!r} gives every layer rank 0: nothing would be adapted; give at least one of "
            f"{[path for path, _ in layers]} a positive rank")
    return out


def lora(module, rank, alpha: float = 1.0, *, key: jax.Array, where: Callable | None = None):
    """``module`` with every ``eqx.nn.Linear`` (or those ``rank``/``where`` select) replaced by a :class:`LoRALinear`.

    Args:
        module: any Equinox module (``pl.nn.mlp(...)``, ``eqx.nn.MLP``, a user module with nested linears).
        rank: the rank ``r`` of the updates, one of

            * a positive integer, the same for every selected layer;
            * a dict ``{layer path: rank}`` keyed by the paths the error messages use (``".layers[0]"``, or
              ``"layers[0]"``; ``".blocks[1]['inner']"``): only the listed layers are adapted;
            * a callable ``eqx.nn.Linear -> int`` called on every selected layer, e.g.
              ``lambda l: 4 if l.out_features > 1 else 0``.

            Rank 0 (dict or callable) leaves that layer without an adapter; every rank is at most
            ``min(in, out)`` of its layer.
        alpha: positive scale; each layer's update is ``(alpha / rank) · B A`` with its own rank.
        key: PRNG key for ``A`` (entries ``N(0, 1 / in)``, one key per layer); ``B`` starts at zero.
        where: optional ``module -> Linear | tuple of Linears`` (``eqx.tree_at``'s convention) choosing the
            layers to adapt; default every ``Linear``. Not with a dict ``rank`` (the dict chooses).

    Returns:
        The adapted module; it computes exactly what ``module`` computes until ``B`` is changed.

    Raises:
        ConfigurationError: a rank out of range (naming the layer and its shape), a dict naming a layer the
            module does not have (listing those it has), ranks that adapt nothing, ``alpha`` out of range, a
            module with no ``eqx.nn.Linear``, or one that already has adapters.
    """
    alpha = real("lora alpha", alpha, positive=True)
    layers = _layers(module)
    adapted = [path for path, layer in layers if isinstance(layer, LoRALinear)]
    if adapted:
        raise ConfigurationError(
            f"the module already has LoRA adapters (at {adapted[0]}); adapting it again would stack adapters on "
            "adapters. Fold the present ones into the weights first: pl.nn.lora(pl.nn.merge(module), ...)")
    if not layers:
        raise ConfigurationError(
            f"lora found no eqx.nn.Linear in the {type(module).__name__} module; LoRA adapts linear layers "
            "(pl.nn.mlp, eqx.nn.MLP, or a module holding eqx.nn.Linear fields)")
    ranks = _ranks(module, rank, where, layers)
    keys = iter(jax.random.split(key, len(layers)))

    def adapt(layer):
        if not isinstance(layer, eqx.nn.Linear):
            return layer
        k = next(keys)  # one key per Linear in flattening order, so `where` does not change the others' draws
        if id(layer) not in ranks:
            return layer
        r = ranks[id(layer)]
        out_f, in_f = layer.weight.shape
        dtype = layer.weight.dtype
        A = jax.random.normal(k, (r, in_f), dtype) / jnp.sqrt(jnp.asarray(in_f, dtype))
        return LoRALinear(layer, A, jnp.zeros((out_f, r), dtype), alpha, r)

    return jax.tree_util.tree_map(adapt, module, is_leaf=lambda x: isinstance(x, eqx.nn.Linear))


def merge(module):
    """``module`` with every :class:`LoRALinear` folded into an ``eqx.nn.Linear`` of weight ``W + (alpha/rank) · B A``.

    Args:
        module: a module adapted by :func:`lora` (possibly trained); other modules come back unchanged.

    Returns:
        A module of the original structure, computing what the adapted one computes (up to rounding).
    """
    def fold(layer):
        if not isinstance(layer, LoRALinear):
            return layer
        weight = layer.base.weight + layer.scale * (layer.B @ layer.A)
        return eqx.tree_at(lambda l: l.weight, layer.base, weight)

    return jax.tree_util.tree_map(fold, module, is_leaf=lambda x: isinstance(x, LoRALinear))


__all__ = ["LoRALinear", "lora", "merge"]
