"""Deterministic keys of the models and parameters in a problem's pytrees.

JAX names a compiled program's inputs and outputs after their pytree paths, so a dict keyed by a
process-unique id (a handle's ``uid``) gives a different program text, hence a miss in the persistent
compilation cache, every time the same problem is built again in one process. Keys are therefore
``"<name>#<i>"``: the handle's user-given name (``model``/``param`` when unnamed) and its ordinal among
the handles of that name that this problem has seen, in program order. Building the same problem
twice gives the same keys; two handles with the same name get different ordinals.
"""

from __future__ import annotations

from collections import Counter

from ..trace.handle import Trainable


class HandleKeys:
    """``handle -> key`` of one problem (a core and every expression it evaluates), stable once given."""

    def __init__(self):
        self._keys: dict[int, str] = {}  # handle.uid -> key (uids are never reused, ids can be)
        self._counts: Counter = Counter()

    def __call__(self, handle) -> str:
        """The key of ``handle``, given on first sight."""
        key = self._keys.get(handle.uid)
        if key is None:
            stem = handle.key_stem
            key = self._keys[handle.uid] = f"{stem}#{self._counts[stem]}"  # '#<digits>' last: no two stems collide
            self._counts[stem] += 1
        return key

    def get(self, handle) -> str | None:
        """The key of ``handle`` if this problem has seen it, else ``None`` (nothing is given)."""
        return self._keys.get(handle.uid) if isinstance(handle, Trainable) else None


__all__ = ["HandleKeys"]
