"""JAX's persistent compilation cache, on by default: a rerun of a script skips XLA compilation.

XLA takes a second or more on a CPU to compile the step of a solve, and a script also compiles dozens
of small eager operations; a rerun of an unchanged script (the usual edit-and-rerun workflow) compiles
exactly the same programs again. pinnlang therefore points JAX's persistent compilation cache at
``$PINNLANG_CACHE_DIR`` (default ``~/.cache/pinnlang/xla``, or under ``$XDG_CACHE_HOME``) and caches every
program, however quick to compile. Entries are keyed by the program, the JAX/XLA versions and the
device, so a stale entry is never used.

It is left alone when the application already set ``jax_compilation_cache_dir``; set
``PINNLANG_COMPILATION_CACHE=0`` to turn it off, or call :func:`disable`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import jax

log = logging.getLogger("pinnlang")


def default_dir() -> Path:
    """``$PINNLANG_CACHE_DIR``, else ``$XDG_CACHE_HOME/pinnlang/xla``, else ``~/.cache/pinnlang/xla``."""
    if os.environ.get("PINNLANG_CACHE_DIR"):
        return Path(os.environ["PINNLANG_CACHE_DIR"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "pinnlang" / "xla"


def enable(path=None) -> Path | None:
    """Cache compiled programs in ``path`` (default :func:`default_dir`); returns the folder, or ``None``
    when it cannot be created (then nothing changes)."""
    folder = Path(path) if path is not None else default_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        log.info("no persistent compilation cache (%s): %s", folder, err)
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder


def disable() -> None:
    """Stop writing and reading the persistent cache (for this process)."""
    jax.config.update("jax_compilation_cache_dir", None)


def enable_by_default() -> None:
    """What ``import pinnlang`` does: :func:`enable`, unless turned off or configured by the application."""
    if os.environ.get("PINNLANG_COMPILATION_CACHE", "1").strip().lower() in ("0", "false", "no", "off"):
        return
    if jax.config.jax_compilation_cache_dir:
        return
    enable()
