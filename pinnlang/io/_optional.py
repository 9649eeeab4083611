"""Optional dependencies: import them on first use, with an error naming the extra to install."""

from __future__ import annotations

import importlib

from ..errors import PinnlangError


class MissingDependencyError(PinnlangError, ImportError):
    """An optional package that a results feature needs is not installed."""


def require(module: str, extra: str, what: str):
    """Import ``module`` or raise :class:`MissingDependencyError` naming ``pip install pinnlang[extra]``.

    Args:
        module: the import name (``"wandb"``, ``"matplotlib"``, ...).
        extra: the pyproject extra that installs it.
        what: the feature that needs it, for the message.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingDependencyError(
            f"{what} needs the optional package {module!r}, which is not installed ({err}); install it with "
            f"`pip install pinnlang[{extra}]` (or `pip install {module}`)") from None
