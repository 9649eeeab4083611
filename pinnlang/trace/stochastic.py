"""Stochastic models: Equinox modules whose ``__call__`` takes a ``key`` (``eqx.nn.Dropout`` inside).

A stochastic model is applied in one of two modes:

* *train mode*, with a key: every point gets its own key ``fold_in(key, i)`` (``i`` the row in the
  point set being evaluated), so dropout masks are independent per point; the caller supplies a fresh
  key per step (training) or per draw (``crux.eval(..., num_samples=S)``);
* *inference mode*, without a key: ``eqx.nn.inference_mode(module)`` (every ``inference`` flag on,
  dropout off) called without a key; deterministic.
"""

from __future__ import annotations

import inspect

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu

from ..errors import ConfigurationError


def accepts_key(module) -> bool:
    """``module.__call__`` takes a ``key`` keyword (or ``**kwargs``)."""
    try:
        params = inspect.signature(module.__call__).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: assume not
        return False
    return any((p.name == "key" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
               or p.kind == p.VAR_KEYWORD for p in params)


def _has_key_parameter(module) -> bool:
    """``__call__`` names ``key`` explicitly (``**kwargs`` alone says nothing about randomness)."""
    try:
        params = inspect.signature(module.__call__).parameters
    except (TypeError, ValueError):
        return False
    p = params.get("key")
    return p is not None and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)


def mode_layers(module) -> list:
    """Every sub-module with an ``inference`` flag (the layers ``eqx.nn.inference_mode`` switches)."""
    out = []

    def visit(node):
        is_flagged = lambda x: hasattr(x, "inference") and x is not node  # noqa: E731
        if hasattr(node, "inference"):
            out.append(node)
        for leaf in jtu.tree_leaves(node, is_leaf=is_flagged):
            if is_flagged(leaf):
                visit(leaf)

    visit(module)
    return out


def has_active_randomness(module) -> bool:
    """A layer with its ``inference`` flag off that would draw (an ``eqx.nn.Dropout`` with ``p > 0``)."""
    for layer in mode_layers(module):
        p = getattr(layer, "p", None)
        if layer.inference is False and not (isinstance(p, (int, float)) and p == 0):
            return True
    return False


def resolve_stochastic(module, stochastic, name: str) -> tuple[bool, bool]:
    """``(stochastic, inference_only)`` of a wrapped module.

    ``stochastic=None`` detects: stochastic when ``__call__`` takes ``key`` *and* the module holds a
    layer that draws (an active ``eqx.nn.Dropout``); Equinox's deterministic layers (``eqx.nn.MLP``,
    ``pl.nn.mlp``) take an unused ``key`` too, so the keyword alone decides nothing. ``True`` forces
    train mode (a module that uses its key in its own way); ``False`` runs the module in inference mode
    everywhere (``inference_only``).
    """
    if stochastic is not None and not isinstance(stochastic, bool):
        raise ConfigurationError(f"pl.nn.wrap(stochastic=...) takes True, False or None (detect), got {stochastic!r}")
    if stochastic is None:
        return _has_key_parameter(module) and has_active_randomness(module), False
    if stochastic and not accepts_key(module):
        raise ConfigurationError(
            f"model {name!r}: stochastic=True, but {type(module).__name__}.__call__ takes no key argument, so it "
            "cannot receive its randomness. Define it as __call__(self, x, *, key=None) and pass key to its "
            "random layers (eqx.nn.Dropout(p)(h, key=key)), or drop stochastic=True")
    return stochastic, not stochastic


def point_keys(key, n: int):
    """``(n, 2)`` keys ``fold_in(key, i)``: one per point (the parent key is only ever folded, never drawn from)."""
    return jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(n))


def apply_stochastic(module, inputs, batched: bool, key):
    """``module`` in train mode: ``(n, d) -> (n, k)`` with point ``i`` on ``fold_in(key, i)``, or
    ``(d,) -> (k,)`` on ``key`` itself when not ``batched``."""
    if batched:
        out = jax.vmap(lambda x, k: module(x, key=k))(inputs, point_keys(key, inputs.shape[0]))
        return out[:, None] if out.ndim == 1 else out
    out = module(inputs, key=key)
    return out[None] if out.ndim == 0 else out


def inference_module(module):
    """``module`` with every ``inference`` flag on (dropout off); itself when it has none."""
    return eqx.nn.inference_mode(module) if mode_layers(module) else module
