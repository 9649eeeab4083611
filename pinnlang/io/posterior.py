"""The sampled handles of a core and their draws as named ``(K, N, ...)`` arrays.

Shared by the ArviZ export, the summary table and the tracker metrics, so all three name a
network leaf the same way (``u.layers.0.weight``) and agree on the chain layout.
"""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np

from ..errors import ConfigurationError


def as_handle_list(handles) -> list:
    """``crux.handles`` (a dict), or any iterable of handles, as a list."""
    return list(handles.values()) if isinstance(handles, dict) else list(handles)


def sampled_handles(handles) -> list:
    """The handles that hold posterior draws (``posterior_samples`` set), in the given order."""
    return [h for h in as_handle_list(handles) if getattr(h, "posterior_samples", None) is not None]


def display_names(handles) -> dict:
    """``{id(handle): name}`` with a duplicated ``name`` made unique by a ``_<i>`` suffix."""
    out, seen = {}, {}
    for h in handles:
        n = seen.get(h.name, 0)
        seen[h.name] = n + 1
        out[id(h)] = h.name if n == 0 else f"{h.name}_{n}"
    return out


def is_array_valued(handle) -> bool:
    """Whether the handle's draws are one array (a parameter) rather than a module pytree."""
    return isinstance(handle.posterior_samples, (np.ndarray, jax.Array))


def _path_part(entry) -> str:
    for attr in ("name", "key", "idx"):
        if hasattr(entry, attr):
            return str(getattr(entry, attr))
    return str(entry)


def leaf_draws(handle, name: str | None = None) -> dict[str, np.ndarray]:
    """The draws of one handle as ``{variable name: (K, N, *shape)}`` float64 arrays.

    A parameter gives one variable under its name; one of shape ``(1,)`` is squeezed to a scalar
    variable ``(K, N)`` (``a`` rather than ``a[0]`` in tables). A model gives one variable per array
    leaf, named from its Equinox key path: ``u.layers.0.weight``, ``u.output_layer.bias``.
    """
    name = handle.name if name is None else name
    samples = handle.posterior_samples
    if is_array_valued(handle):
        a = np.asarray(samples, np.float64)
        return {name: a[..., 0] if a.shape[2:] == (1,) else a}
    leaves, _ = jax.tree_util.tree_flatten_with_path(eqx.filter(samples, eqx.is_array))
    return {".".join([name] + [_path_part(p) for p in path]): np.asarray(leaf, np.float64) for path, leaf in leaves}


def chain_layout(handles) -> tuple[int, int]:
    """The common ``(K, N)`` of the sampled handles (an error when they differ or none is sampled)."""
    layouts = {}
    for h in sampled_handles(handles):
        for v in leaf_draws(h).values():
            layouts.setdefault(v.shape[:2], h.name)
    if not layouts:
        raise ConfigurationError("no model or parameter of this core has posterior samples; configure one with "
                                 ".bayesian(...) or .vi(...) and solve first")
    if len(layouts) > 1:
        raise ConfigurationError(f"the sampled handles have different (chains, draws) layouts "
                                 f"{ {v: k for k, v in layouts.items()} }; they cannot share one posterior")
    return next(iter(layouts))


def diagnostics(handle) -> dict[str, np.ndarray]:
    """``{field: (K, N) array}`` of the kernel's per-draw diagnostics (empty when the kernel has none)."""
    return {k: np.asarray(v) for k, v in (getattr(handle, "posterior_diagnostics", None) or {}).items()}
