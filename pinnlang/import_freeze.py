"""The objects of the imports kept out of Python's cyclic garbage collector (``gc.freeze``).

``import pinnlang`` brings in jax, equinox, optax and blackjax: about 140,000 objects that the collector
tracks (modules, functions, types, their dicts), alive until the interpreter exits. Python's full
collections visit every one of them, at 30-80 ms each (one lands in a script's ``crux.eval`` or metrics), and the interpreter's exit
visits them again, 0.25-0.35 s of every script on a 2-core CPU (``benchmarks/startup.py``).
:func:`gc.freeze` moves the objects alive at the end of the import into the permanent generation,
which collections skip. Reference counting still frees them as usual; only a reference cycle among
them would stay until exit, and an import's objects are not garbage before then.

Done in scripts only: in an interactive session (IPython, Jupyter, ``python -i``) the objects made
before ``import pinnlang`` are the user's, and a session is long-lived, so nothing is frozen there.
Set ``PINNLANG_GC_FREEZE=0`` to turn it off; :func:`gc.unfreeze` undoes it.
"""

from __future__ import annotations

import gc
import os
import sys


def interactive() -> bool:
    """Whether this is an interactive session (a REPL, ``python -i``, IPython or a Jupyter kernel)."""
    return bool(sys.flags.interactive) or hasattr(sys, "ps1") or "IPython" in sys.modules


def freeze_by_default() -> bool:
    """What ``import pinnlang`` does: ``gc.freeze()`` unless turned off or interactive; whether it froze."""
    if os.environ.get("PINNLANG_GC_FREEZE", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if interactive():
        return False
    gc.freeze()
    return True
