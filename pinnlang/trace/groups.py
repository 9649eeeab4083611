"""Masks over a model's trainable leaves, and the masked groups that ``.mask(M).bayesian(...)`` records.

A mask selects whole leaves of a model's pytree. It may be given with the structure of the module
(``jax.tree_util.tree_map(lambda _: False, net.module)`` edited with ``eqx.tree_at``, or
``pl.nn.mask_of(net.module, where)``), with the structure of its trainable part
(``eqx.filter(net.module, eqx.is_inexact_array)``), as a callable ``module -> such a pytree`` (optax's
convention), or as a callable selecting subtrees, ``lambda m: m.output_layer`` (``eqx.tree_at``'s
convention; :mod:`pinnlang.trace.selection` tells the two callables apart). Internally it becomes a
tuple of bools, one per trainable leaf in flattening order: hashable, and cheap to compare.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import equinox as eqx
import jax
import numpy as np

from ..errors import ConfigurationError


def trainable_paths(module) -> list[str]:
    """Key paths of the trainable (inexact array) leaves of ``module``, in flattening order."""
    trainable = eqx.filter(module, eqx.is_inexact_array)
    return [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(trainable)[0]]


def _declares_fixed(x) -> bool:
    return isinstance(x, eqx.Module) and bool(getattr(type(x), "fixed_fields", ()))


def _declared_paths(tree, prefix: tuple) -> tuple[set[str], set[str]]:
    """Key paths ``(fixed, adapters)`` of the leaves inside modules that declare ``fixed_fields``: those under
    a listed field, and the others of such modules (the adapters of a LoRA layer)."""
    if _declares_fixed(tree):
        fixed, adapters = set(), set()
        for f in dataclasses.fields(tree):
            if f.metadata.get("static", False):
                continue
            sub, here = getattr(tree, f.name), prefix + (jax.tree_util.GetAttrKey(f.name),)
            paths = {jax.tree_util.keystr(here + p) for p, _ in jax.tree_util.tree_flatten_with_path(sub)[0]}
            if f.name in type(tree).fixed_fields:
                fixed |= paths
            else:
                inner, _ = _declared_paths(sub, here)
                fixed |= inner
                adapters |= paths - inner
        return fixed, adapters
    fixed, adapters = set(), set()
    for p, node in jax.tree_util.tree_flatten_with_path(tree, is_leaf=_declares_fixed)[0]:
        if _declares_fixed(node):
            f, a = _declared_paths(node, prefix + p)
            fixed, adapters = fixed | f, adapters | a
    return fixed, adapters


def fixed_flags(module, adapters_only: bool = False) -> tuple[bool, ...] | None:
    """Per trainable leaf of ``module`` (flattening order): whether it is fixed, or ``None`` when none is.

    A module class may list fields in a ``fixed_fields`` class attribute (``pl.nn.LoRALinear`` lists its
    ``base``): the arrays under them stay in the module (evaluation, draws and checkpoints see them) but no
    optimiser or sampler updates them. With ``adapters_only`` (a model after ``.lora(...)``) every leaf
    outside such modules' other fields (the adapters) is fixed too, as long as the module has adapters.
    """
    fixed, adapters = _declared_paths(module, ())
    paths = trainable_paths(module)
    if adapters_only and any(p in adapters for p in paths):
        flags = tuple(p not in adapters for p in paths)
    else:
        flags = tuple(p in fixed for p in paths)
    return flags if any(flags) else None


def _as_bool(value, path: str, owner: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    shape = getattr(value, "shape", None)
    if shape == () and getattr(value, "dtype", None) == bool:
        return bool(value)
    if shape:
        raise ConfigurationError(
            f"{owner}.mask: the entry at {path} is an array of shape {shape}; a mask selects whole leaves, so "
            "each entry must be True or False. To sample part of a weight matrix, split the layer.")
    raise ConfigurationError(f"{owner}.mask: the entry at {path} is {value!r}; mask entries must be True or False")


def _common_prefix(a: list, b: list) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _first_difference(got: list[str], want: list[str]) -> str:
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return f"at leaf {i}: the mask has {g!r} where the model has {w!r}"
    if len(got) < len(want):
        return f"the mask stops before the model's leaf {want[len(got)]!r}"
    return f"the mask has an extra leaf {got[len(want)]!r}"


def normalise_mask(module, mask, owner: str) -> tuple[bool, ...]:
    """One bool per trainable leaf of ``module`` from a user mask (see the module docstring).

    Raises:
        ConfigurationError: the mask's structure differs from the module's (naming the first
            differing path), an entry is not a bool, or no trainable leaf is selected.
    """
    from .selection import SPELLING, call_where, check_callable_result, is_selection, selection_mask

    label = f"{owner}.mask"
    if callable(mask) and not isinstance(mask, eqx.Module):  # a selection or a bool mask: see .selection
        where = mask
        mask = call_where(where, module, label)
        if check_callable_result(mask, module, label):
            mask = selection_mask(module, where, label)
    elif is_selection(mask, module):  # net.mask(net.module.output_layer): the subtree itself, not a callable
        raise ConfigurationError(
            f"{label}: got {type(mask).__name__}, a part of the module, where a mask or a callable is expected; "
            f"pass a callable that returns it, {SPELLING}")
    full, full_def = jax.tree_util.tree_flatten_with_path(module)
    got, got_def = jax.tree_util.tree_flatten_with_path(mask)
    got_paths = [jax.tree_util.keystr(p) for p, _ in got]
    if got_def == full_def:
        flags = [_as_bool(v, jax.tree_util.keystr(p), owner) for (p, v), (_, leaf) in zip(got, full)
                 if eqx.is_inexact_array(leaf)]
    else:
        want = trainable_paths(module)
        if got_paths != want:
            full_paths = [jax.tree_util.keystr(p) for p, _ in full]
            ref = max((want, full_paths), key=lambda r: _common_prefix(got_paths, r))
            raise ConfigurationError(
                f"{owner}.mask: the mask does not have the model's pytree structure "
                f"({_first_difference(got_paths, ref)}). Select the leaves with a callable, "
                f"{owner}.mask(lambda m: m.output_layer), or build the mask from this module: "
                f"pl.nn.mask_of({owner}.module, lambda m: m.output_layer).")
        flags = [_as_bool(v, p, owner) for p, (_, v) in zip(got_paths, got)]
    if not any(flags):
        raise ConfigurationError(f"{owner}.mask: the mask selects no trainable leaf; select at least one "
                                 f"(trainable leaves: {', '.join(trainable_paths(module)[:6])}, ...)")
    return tuple(flags)


def mask_tree(module, flags: tuple[bool, ...]):
    """The bool pytree over ``module``'s trainable part (``None`` off the arrays) for ``flags``."""
    trainable = eqx.filter(module, eqx.is_inexact_array)
    leaves, treedef = jax.tree_util.tree_flatten(trainable)
    return jax.tree_util.tree_unflatten(treedef, list(flags))


@dataclass(frozen=True)
class MaskedGroup:
    """A masked group of one model: its leaves (``flags``) and the configuration that updates them."""

    flags: tuple[bool, ...]
    config: Any

    def overlap(self, flags: tuple[bool, ...]) -> int | None:
        """Index of the first leaf selected by both, or ``None``."""
        for i, (a, b) in enumerate(zip(self.flags, flags)):
            if a and b:
                return i
        return None


class MaskedView:
    """``model.mask(M)``: configure the masked leaves with ``.bayesian(...)``.

    The complement keeps the model's ``.optimizer(...)`` if it has one (the body is trained while
    the head is sampled), else stays at its current values.
    """

    def __init__(self, handle, flags: tuple[bool, ...]):
        self.handle = handle
        self.flags = flags

    def bayesian(self, kernel_factory, **kwargs):
        """Sample the masked leaves with a blackjax kernel (arguments as for ``Model.bayesian``).

        Returns:
            the model, so configurators chain.
        """
        from .sampling_config import make_config

        h = self.handle
        cfg = make_config(f"{h.name}[mask]", kernel_factory, **kwargs)
        h._add_masked_group(self, MaskedGroup(self.flags, cfg))
        return h

    def vi(self, vi_factory, **kwargs):
        """Fit a Gaussian approximation of the masked leaves' posterior (arguments as for ``Model.vi``).

        Returns:
            the model.
        """
        from .vi_config import make_vi_config

        h = self.handle
        cfg = make_vi_config(f"{h.name}[mask]", vi_factory, **kwargs)
        h._add_masked_group(self, MaskedGroup(self.flags, cfg))
        return h

    def __repr__(self) -> str:
        return f"<mask of {self.handle.name}: {sum(self.flags)}/{len(self.flags)} leaves>"
