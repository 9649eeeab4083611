"""Reading a file written by ``eqx.tree_serialise_leaves`` against the current values of a handle.

Equinox stores the array leaves one after the other as ``.npy`` records, without names, so a file of
another architecture fails deep inside the deserialiser (or, when the sizes happen to fit, loads
arrays into the wrong leaves). :func:`load_leaves` reads the records one by one against the current
leaves and names the first leaf that differs, with both shapes.
"""

from __future__ import annotations

import os

import equinox as eqx
import jax
import numpy as np

from ..errors import ConfigurationError


def _leaf_name(path) -> str:
    name = jax.tree_util.keystr(path)
    return name if name else "the value"


def first_mismatch(path: str | os.PathLike, like) -> str | None:
    """A description of the first record of the file that does not fit ``like``'s leaves, or ``None``.

    Args:
        path: a file written by ``eqx.tree_serialise_leaves``.
        like: the pytree the file is read into (the handle's current trainable values).
    """
    leaves = jax.tree_util.tree_flatten_with_path(like)[0]
    with open(path, "rb") as f:
        for i, (kp, leaf) in enumerate(leaves):
            try:
                arr = np.load(f, allow_pickle=False)
            except (ValueError, EOFError, OSError):
                return (f"the file ends (or stops being an array) at leaf {_leaf_name(kp)}: it holds {i} array(s), "
                        f"the current values have {len(leaves)} leaves")
            want = tuple(np.shape(leaf))
            if tuple(arr.shape) != want:
                return (f"leaf {_leaf_name(kp)} (array {i + 1} of {len(leaves)}) has shape {tuple(arr.shape)} in the "
                        f"file but {want} in the current values")
        if f.read(1):
            return f"the file holds more arrays than the {len(leaves)} leaves of the current values"
    return None


def load_leaves(handle_name: str, path: str | os.PathLike, like):
    """``like`` with its leaves read from ``path``; a :class:`ConfigurationError` names the first misfit.

    Args:
        handle_name: the model or parameter, for messages.
        path: a file written by ``eqx.tree_serialise_leaves`` from values of the same architecture.
        like: the current trainable values.
    """
    where = os.fspath(path)
    problem = first_mismatch(path, like)
    if problem is None:
        try:
            return eqx.tree_deserialise_leaves(path, like)
        except (RuntimeError, ValueError, TypeError) as err:  # e.g. a dtype that does not fit
            problem = f"{type(err).__name__}: {err}"
    raise ConfigurationError(
        f"{handle_name}.initialize({where!r}): the file does not hold values of this architecture: {problem}. "
        "Save with eqx.tree_serialise_leaves(path, handle.get_trainable()) from a model built with the same "
        "layer sizes (or rebuild the model with the sizes the file was written from)."
    )


__all__ = ["first_mismatch", "load_leaves"]
