"""Loss histories and fields: 1-D posterior bands, 2-D prediction / reference / error panels."""

from __future__ import annotations

import numpy as np

from ._base import as_draws, figure, save, squeeze_unit, target_axes


def loss_history(history, *, terms=None, total: bool = True, ax=None, path=None, title: str | None = "loss history"):
    """Every loss term (and the weighted total) against the epoch, on a log scale.

    A series with values <= 0 (a Gaussian NLL can be negative) switches the axis to ``symlog``.

    Args:
        history: a ``History`` (``names``, ``epochs (S,)``, ``total (S,)``, ``terms (S, T)``).
        terms: names of the terms to draw (default all).
        total: also draw the total.
        ax: draw into these axes instead of a new figure.
        path: write the figure here (PNG, PDF, SVG by suffix).

    Returns:
        The ``matplotlib`` figure.
    """
    fig, ax = target_axes(ax)
    epochs = np.asarray(history.epochs)
    values = np.asarray(history.terms).reshape(len(epochs), -1) if len(epochs) else np.zeros((0, 0))
    series = [(n, values[:, i]) for i, n in enumerate(history.names) if terms is None or n in terms]
    if total:
        series.append(("total", np.asarray(history.total)))
    positive = True
    for name, v in series:
        ax.plot(epochs, v, lw=1.6 if name == "total" else 1.1, color="k" if name == "total" else None,
                label=str(name))
        positive = positive and bool(np.all(v[np.isfinite(v)] > 0))
    ax.set_yscale("log" if positive else "symlog")
    ax.set_xlabel("epoch"), ax.set_ylabel("loss")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return save(fig, path)


def field_1d(x, values, *, reference=None, observed=None, level: float = 0.9, ax=None, path=None,
             label: str = "posterior mean", reference_label: str = "reference", band_label: str | None = None,
             xlabel: str = "x", ylabel: str = "u", title: str | None = None):
    """A 1-D field: its posterior mean and ``level`` credible band over draws (or a single curve).

    Args:
        x: ``(n,)`` or ``(n, 1)`` coordinates.
        values: ``(n,)`` / ``(n, 1)`` point values, or draws ``(S, n)`` / ``(K, N, n)`` / ``(K, N, n, 1)``
            (``crux.eval`` of a sampled expression).
        reference: ``(n,)`` exact or reference values (dashed black).
        observed: ``(x_obs, y_obs)`` data points.
        level: probability mass of the equal-tailed band.
        band_label: legend entry of the band (default ``"90 % credible band"`` for ``level=0.9``; say
            ``"95 % predictive band"`` for draws of new observations, ``crux.predictive(...).y``).

    Returns:
        The figure.
    """
    fig, ax = target_axes(ax)
    x = squeeze_unit(x).reshape(-1)
    order = np.argsort(x, kind="stable")
    draws = as_draws(values, x.size)
    if draws is None:
        ax.plot(x[order], squeeze_unit(values).reshape(-1)[order], "C0-", label=label)
    else:
        lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
        ax.fill_between(x[order], lo[order], hi[order], color="C0", alpha=0.3, lw=0,
                        label=band_label or f"{100 * level:g} % credible band")
        ax.plot(x[order], draws.mean(0)[order], "C0-", label=label)
    if reference is not None:
        ref = np.broadcast_to(squeeze_unit(reference).reshape(-1), x.shape)
        ax.plot(x[order], ref[order], "k--", lw=1, label=reference_label)
    if observed is not None:
        xo, yo = (squeeze_unit(a).reshape(-1) for a in observed)
        ax.plot(xo, yo, "o", color="C3", ms=3.5, label="observations")
    ax.set_xlabel(xlabel), ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return save(fig, path)


def predictive_band(x, draws, observed, *, noise_std=None, level: float = 0.9, seed: int = 0, ax=None, path=None,
                    xlabel: str = "x", ylabel: str = "observation", title: str | None = None):
    """The fitted observations of an inverse problem: posterior band of the fit and the data over it.

    Draws the ``level`` credible band of the fitted values at the observation points and, with
    ``noise_std``, the wider posterior *predictive* band (each draw plus ``N(0, noise_std²)`` noise,
    a fixed ``seed``), in which about a ``level`` fraction of the observations should lie; the title
    reports that fraction.

    Args:
        x: ``(n,)`` observation coordinates.
        draws: fitted values over the draws, ``(S, n)`` or ``(K, N, n[, 1])``.
        observed: ``(n,)`` observed values.
        noise_std: the observation noise (a number or ``(n,)``; a sampled noise scale: its draws ``(S,)``).

    Returns:
        The figure.
    """
    fig, ax = target_axes(ax)
    x = squeeze_unit(x).reshape(-1)
    y = squeeze_unit(observed).reshape(-1)
    fit = as_draws(draws, x.size)
    if fit is None:
        fit = squeeze_unit(draws).reshape(1, -1)
    order = np.argsort(x, kind="stable")
    qs = [(1 - level) / 2, (1 + level) / 2]
    text = title
    if noise_std is not None:
        sd = np.asarray(noise_std, np.float64)
        sd = sd.reshape(-1, 1) if sd.ndim == 1 and sd.size == fit.shape[0] and sd.size != x.size else sd
        rng = np.random.default_rng(seed)
        pred = fit + np.broadcast_to(sd, fit.shape) * rng.standard_normal(fit.shape)
        plo, phi = np.quantile(pred, qs, axis=0)
        ax.fill_between(x[order], plo[order], phi[order], color="C1", alpha=0.2, lw=0,
                        label=f"{100 * level:g} % posterior predictive")
        inside = float(np.mean((plo <= y) & (y <= phi)))
        text = (title + "\n" if title else "") + f"{100 * inside:.0f} % of the observations inside the predictive band"
    lo, hi = np.quantile(fit, qs, axis=0)
    ax.fill_between(x[order], lo[order], hi[order], color="C0", alpha=0.35, lw=0, label=f"{100 * level:g} % band of the fit")
    ax.plot(x[order], fit.mean(0)[order], "C0-", lw=1.2, label="posterior mean fit")
    ax.plot(x, y, "o", color="C3", ms=3.5, label="observations")
    ax.set_xlabel(xlabel), ax.set_ylabel(ylabel)
    if text:
        ax.set_title(text, fontsize=10)
    ax.legend(fontsize=8)
    return save(fig, path)


def fields_2d(X, Y, prediction, reference=None, *, error: str | None = "abs", labels=("x", "y"),
              titles=None, path=None, cmap: str = "viridis"):
    """Colour maps over a 2-D grid: prediction, reference and their error side by side.

    Args:
        X: horizontal grid coordinates (``np.meshgrid`` or ``pl.io.eval_on_grid(...).mesh``).
        Y: vertical grid coordinates, of the same shape.
        prediction: values of that shape (draws ``(S, ...)`` / ``(K, N, ...)``: their mean is drawn).
        reference: exact or reference values of that shape; adds the reference and error panels.
        error: ``"abs"`` (``|prediction - reference|``), ``"signed"``, or ``None`` (no error panel).
        labels: axis labels of the horizontal and vertical coordinates.
        titles: panel titles (default "prediction", "reference", "|error|").

    Returns:
        The figure.
    """
    X, Y = np.asarray(X, np.float64), np.asarray(Y, np.float64)
    pred = np.asarray(prediction, np.float64)
    if pred.shape != X.shape:
        pred = pred.reshape((-1,) + X.shape).mean(0)
    panels = [pred]
    names = ["prediction"]
    if reference is not None:
        ref = np.asarray(reference, np.float64).reshape(X.shape)
        panels.append(ref), names.append("reference")
        if error is not None:
            panels.append(np.abs(pred - ref) if error == "abs" else pred - ref)
            names.append("|error|" if error == "abs" else "prediction - reference")
    names = list(titles) if titles is not None else names
    fig, axes = figure(len(panels), width=4.8, height=3.8)
    shared = (min(np.min(pred), np.min(panels[1])), max(np.max(pred), np.max(panels[1]))) if reference is not None \
        else (None, None)
    for i, (ax, field, name) in enumerate(zip(axes[0], panels, names)):
        vmin, vmax = shared if i < 2 else (None, None)  # prediction and reference share one colour scale
        im = ax.pcolormesh(X, Y, field, shading="auto", cmap=cmap if i < 2 else "magma", vmin=vmin, vmax=vmax)
        fig.colorbar(im, ax=ax)
        ax.set_title(name), ax.set_xlabel(labels[0]), ax.set_ylabel(labels[1])
    return save(fig, path)
