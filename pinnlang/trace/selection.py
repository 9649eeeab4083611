"""Masks from selections: ``net.mask(lambda m: m.output_layer)`` and ``pl.nn.mask_of(module, where)``.

A callable given to ``.mask(...)`` is read one of two ways, decided by the leaves of what it returns on
the module:

* **a selection**: every leaf is one of the module's own leaves (the same object, as ``m.output_layer``
  or ``(m.layers[0], m.output_layer.weight)`` return) and at least one is an inexact array. It selects
  every leaf inside those subtrees; the mask is built by ``eqx.tree_at(where, all_false, replace_fn=...)``.
* **a mask**: every leaf is a bool (``True``/``False``, or a bool array): optax's ``params -> mask``.

Anything else (a new array such as ``m.weight.T``, numbers, strings) is a :class:`ConfigurationError`.
Bools cannot be mistaken for a selection: a selection needs an array leaf, which a mask never has.
"""

from __future__ import annotations

from typing import Callable

import equinox as eqx
import jax
import numpy as np

from ..errors import ConfigurationError

SPELLING = "e.g. lambda m: m.output_layer, or lambda m: (m.layers[0], m.output_layer.weight)"


def _is_bool(x) -> bool:
    return isinstance(x, (bool, np.bool_)) or getattr(x, "dtype", None) == bool


def _first_foreign(result, module):
    """Key path and value of the first leaf of ``result`` that is not a leaf of ``module``, or ``None``."""
    own = {id(leaf) for leaf in jax.tree_util.tree_leaves(module)}
    for path, leaf in jax.tree_util.tree_flatten_with_path(result)[0]:
        if id(leaf) not in own:
            return jax.tree_util.keystr(path) or "the result", leaf
    return None


def is_selection(result, module) -> bool:
    """Whether ``result`` (what a callable returned on ``module``) is made of the module's own leaves, one an array."""
    leaves = jax.tree_util.tree_leaves(result)
    return (any(eqx.is_inexact_array(l) for l in leaves) and _first_foreign(result, module) is None)


def call_where(where: Callable, module, label: str):
    """``where(module)``, with an error naming the fix when it raises (``label``: ``"u.mask"``, ...)."""
    try:
        return where(module)
    except Exception as err:  # noqa: BLE001 - any failure of the user's callable is a configuration problem
        raise ConfigurationError(
            f"{label}: the callable raised {type(err).__name__}: {err}. It is called on the module "
            f"({type(module).__name__}) and must return a part of it ({SPELLING}) or a bool pytree "
            "with its structure") from err


def _describe(value) -> str:
    shape = getattr(value, "shape", None)
    return f"a new array of shape {tuple(shape)}" if shape is not None else f"{type(value).__name__} {value!r}"


def check_callable_result(result, module, label: str) -> bool:
    """``True`` for a selection, ``False`` for a bool mask; else a :class:`ConfigurationError` naming the fix."""
    if is_selection(result, module):
        return True
    leaves = jax.tree_util.tree_leaves(result)
    if leaves and all(_is_bool(l) for l in leaves):
        return False
    if leaves and _first_foreign(result, module) is None:
        raise ConfigurationError(
            f"{label}: the callable returned part of the module with no trainable array in it "
            f"({', '.join(type(l).__name__ for l in leaves[:4])}); select layers or weights, {SPELLING}")
    foreign = _first_foreign(result, module)
    where = f" ({foreign[0]} is {_describe(foreign[1])}, not a leaf of the module)" if foreign else " (no leaves)"
    raise ConfigurationError(
        f"{label}: the callable returned neither a part of the module nor a mask{where}. Return the "
        f"module's own subtrees unchanged ({SPELLING}) to select every leaf in them, or a pytree of bools "
        "with the module's structure; to sample part of a weight matrix, split the layer")


def selection_mask(module, where: Callable, label: str):
    """The bool pytree (the module's structure) that is ``True`` on every leaf inside ``where(module)``."""
    all_false = jax.tree_util.tree_map(lambda _: False, module)
    try:
        return eqx.tree_at(where, all_false, replace_fn=lambda sub: jax.tree_util.tree_map(lambda _: True, sub))
    except Exception as err:  # noqa: BLE001 - tree_at re-runs `where` on a bool copy of the module
        raise ConfigurationError(
            f"{label}: eqx.tree_at could not locate the selection ({type(err).__name__}: {err}). `where` must only "
            f"walk attributes and indices of the module ({SPELLING}), not compute with its arrays, and must not "
            "name one subtree twice") from err


def mask_of(module, where: Callable):
    """The bool pytree of ``module``'s structure selecting every leaf inside ``where(module)``.

    ``net.mask(where)`` builds the same mask; use this one to inspect it, combine masks, or pass the
    explicit form around. Equivalent to the hand-built ``eqx.tree_at(where, all_false, replace=all_true)``.

    Args:
        module: an Equinox module (``net.module``).
        where: ``module -> subtree | tuple or list of subtrees`` of the module (``eqx.tree_at``'s
            convention), e.g. ``lambda m: m.output_layer`` or ``lambda m: (m.layers[0], m.output_layer.weight)``.

    Returns:
        a pytree with ``module``'s structure: ``True`` on the selected leaves, ``False`` elsewhere.

    Raises:
        ConfigurationError: ``where`` raises, or returns something that is not the module's own subtrees
            with at least one array (a new array such as ``m.weight.T``, a bool mask, ...).
    """
    if not callable(where) or isinstance(where, eqx.Module):
        raise ConfigurationError(f"pl.nn.mask_of(module, where): where must be a callable, {SPELLING}; "
                                 f"got {type(where).__name__}")
    label = "pl.nn.mask_of"
    if not check_callable_result(call_where(where, module, label), module, label):
        raise ConfigurationError(f"{label}: where returned a bool mask, not a part of the module; return the "
                                 f"subtrees to select ({SPELLING}), or use the mask itself")
    return selection_mask(module, where, label)
