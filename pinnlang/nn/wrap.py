"""``pl.nn.wrap``: turn any Equinox module into a model handle."""

from __future__ import annotations

from ..trace.model import Model


def wrap(module, name: str | None = None, stochastic: bool | None = None) -> Model:
    """A model handle around ``module``.

    Args:
        module: any Equinox module following the single-sample convention ``(d,) -> (k,)``
            (``pl.nn.mlp(...)``, ``eqx.nn.MLP``, ...).
        name: display name (logs, trackers).
        stochastic: whether the module is random. ``None`` detects it: ``__call__`` takes a ``key`` and
            the module holds an active ``eqx.nn.Dropout`` (or another layer with an ``inference`` flag
            that is off). A stochastic model gets a fresh key per point at every training step, runs in
            inference mode in a plain ``crux.eval`` and draws per sample in ``crux.eval(expr,
            num_samples=S)`` (MC dropout). ``True``: a module that uses its ``key`` in its own way
            (its ``__call__`` must take ``key``); ``False``: always inference mode (dropout off).

    Returns:
        A :class:`~pinnlang.trace.model.Model`; call it on variables: ``net(x)``, ``net(x, t)``.
    """
    return Model(module, name=name, stochastic=stochastic)
