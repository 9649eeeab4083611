"""Where pinnlang's log records go when the user has not configured logging.

pinnlang logs through the standard ``logging`` module, on the logger ``"pinnlang"``. Warnings a user
must see (too few samples, chains that do not move, duplicate names, ...) are WARNING records, and
they reach stderr by default; INFO records (what a solve does and why) are opt-in::

    logging.getLogger("pinnlang").setLevel(logging.INFO)   # the one line that turns INFO on

The default is :data:`DEFAULT_HANDLER`, a small handler on the ``"pinnlang"`` logger that writes
``pinnlang WARNING: ...`` lines to ``sys.stderr`` only while no other handler would receive the
record: it is Python's ``logging.lastResort`` for pinnlang, except that it follows the
``"pinnlang"`` logger's level (so INFO can be turned on with one line) and names the library. As
soon as the application configures logging (``logging.basicConfig()``, a handler on the root or the
``"pinnlang"`` logger, pytest's log capture) the records go there instead, never twice. To silence
the default without configuring anything, remove it::

    logging.getLogger("pinnlang").removeHandler(pl.logs.DEFAULT_HANDLER)
"""

from __future__ import annotations

import logging
import sys

LOGGER_NAME = "pinnlang"


def _handled_elsewhere(logger: logging.Logger, own: logging.Handler) -> bool:
    """Whether a record of ``logger`` reaches a handler other than ``own`` (the lookup ``callHandlers`` does)."""
    current = logger
    while current is not None:
        if any(h is not own for h in current.handlers):
            return True
        if not current.propagate:
            return False
        current = current.parent
    return False


class DefaultHandler(logging.Handler):
    """Writes pinnlang records to ``sys.stderr`` when no other handler receives them."""

    def __init__(self):
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter("pinnlang %(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if _handled_elsewhere(logging.getLogger(record.name), self):
            return
        try:
            stream = sys.stderr  # looked up per record, so redirected or captured stderr is honoured
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:  # noqa: BLE001 - logging must never raise into the library
            self.handleError(record)


def install_default_handler() -> DefaultHandler:
    """Attach :data:`DEFAULT_HANDLER` to the ``"pinnlang"`` logger once (idempotent; returns it)."""
    logger = logging.getLogger(LOGGER_NAME)
    for h in logger.handlers:
        if type(h).__name__ == "DefaultHandler" and type(h).__module__ == __name__:
            return h
    handler = DefaultHandler()
    logger.addHandler(handler)
    return handler


DEFAULT_HANDLER = install_default_handler()

__all__ = ["DEFAULT_HANDLER", "DefaultHandler", "LOGGER_NAME", "install_default_handler"]
