"""``pl.nn.wrap``: turn any Equinox module into a model handle."""

from __future__ import annotations

from ..trace.model import Model


def wrap(module, name: str | None = None) -> Model:
    """A model handle around ``module``.

    Args:
        module: any Equinox module following the single-sample convention ``(d,) -> (k,)``
            (``pl.nn.mlp(...)``, ``eqx.nn.MLP``, ...).
        name: display name (logs, trackers).

    Returns:
        A :class:`~pinnlang.trace.model.Model`; call it on variables: ``net(x)``, ``net(x, t)``.
    """
    return Model(module, name=name)
