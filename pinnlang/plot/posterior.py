"""Posterior plots of sampled parameters, drawn by ArviZ: marginals, pairs, traces."""

from __future__ import annotations

import numpy as np

from ..errors import ConfigurationError
from ..io._optional import require
from ._base import figure, save


def scalar_draws(source, var_names=None) -> dict[str, np.ndarray]:
    """``{label: (K, N)}`` for every scalar component of the posterior (``theta[1]`` for vectors).

    Args:
        source: a solved core, an ``arviz.InferenceData``, or ``{name: (K, N, ...)}`` draws.
        var_names: restrict to these variables (default: every sampled *parameter*; network leaves
            only when named here).
    """
    if hasattr(source, "posterior") and not hasattr(source, "handles"):
        post = {k: np.asarray(v) for k, v in source.posterior.data_vars.items()}
        default = list(post)
    elif hasattr(source, "handles"):
        from ..io.posterior import display_names, is_array_valued, leaf_draws, sampled_handles

        hs = sampled_handles(source.handles)
        names = display_names(hs)
        post = {}
        for h in hs:
            post.update(leaf_draws(h, names[id(h)]))
        default = [names[id(h)] for h in hs if is_array_valued(h)]
    else:
        post = {k: np.asarray(v) for k, v in dict(source).items()}
        default = list(post)
    wanted = list(var_names) if var_names is not None else default
    missing = [v for v in wanted if v not in post]
    if missing:
        raise ConfigurationError(f"no posterior variable(s) {missing}; there are {sorted(post)}")
    out = {}
    for name in wanted:
        a = np.asarray(post[name], np.float64)
        if a.ndim == 2:
            out[name] = a
            continue
        flat = a.reshape(a.shape[:2] + (-1,))
        for j, idx in enumerate(np.ndindex(*a.shape[2:])):
            out[f"{name}[{','.join(map(str, idx))}]"] = flat[:, :, j]
    if not out:
        raise ConfigurationError("nothing to plot: no sampled parameter; pass var_names for network leaves")
    return out


def _dataset(draws: dict):
    az = require("arviz", "plot", "pl.plot posterior plots")
    # brackets are not valid in every ArviZ code path; plot under safe names and relabel the axes
    safe = {f"v{i}": v for i, v in enumerate(draws.values())}
    return az, az.from_dict(posterior=safe), list(safe), list(draws)


def _gaussian(mean, std):
    g = np.linspace(mean - 4 * std, mean + 4 * std, 200)
    return g, np.exp(-0.5 * ((g - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))


def marginals(source, var_names=None, *, truth: dict | None = None, exact: dict | None = None,
              hdi_prob: float = 0.9, kind: str = "hist", axes=None, path=None):
    """One panel per scalar parameter: ``arviz.plot_posterior`` (histogram or KDE with its HDI), truth and exact curves.

    Args:
        source: a solved core, an ``InferenceData`` or ``{name: (K, N, ...)}``.
        var_names: variables to draw (default every sampled parameter).
        truth: ``{label: value}`` drawn as a red dashed line (e.g. the value that generated the data).
        exact: ``{label: (mean, std)}`` of a Gaussian, or ``{label: (grid, density)}``, drawn in black.
        hdi_prob: mass of the highest-density interval ArviZ marks.
        kind: ``"hist"`` or ``"kde"``.
        axes: draw into these axes (at least one per scalar variable) instead of a new figure.

    Returns:
        The figure.
    """
    draws = scalar_draws(source, var_names)
    az, data, safe, labels = _dataset(draws)
    n = len(labels)
    if axes is None:
        ncols = min(n, 3)
        fig, axes = figure(ncols, -(-n // ncols), width=4.2, height=3.2)
    flat = np.ravel(axes)
    if flat.size < n:
        raise ConfigurationError(f"marginals needs {n} axes (one per scalar variable {labels}), got {flat.size}")
    fig = flat[0].figure
    az.plot_posterior(data, var_names=safe, hdi_prob=hdi_prob, kind=kind, ax=flat[:n], textsize=9,
                      **({"bins": 40, "density": True} if kind == "hist" else {}))  # density: exact curves overlay
    for ax, label in zip(flat, labels):
        ax.set_title(label)
        if exact and label in exact:
            a, b = exact[label]
            g, dens = _gaussian(float(a), float(b)) if np.ndim(a) == 0 else (np.asarray(a), np.asarray(b))
            ax.plot(g, dens, "k-", lw=1.2, label="exact posterior")
        if truth and label in truth:
            ax.axvline(float(truth[label]), color="C3", ls="--", lw=1.2, label="truth")
        if (exact and label in exact) or (truth and label in truth):
            ax.legend(fontsize=7, loc="upper left")
    for ax in flat[n:]:
        ax.set_visible(False)
    return save(fig, path)


def pair(source, var_names=None, *, divergences: bool = True, path=None):
    """Pairwise scatter of the draws with marginals on the diagonal (``arviz.plot_pair``), divergences in red."""
    draws = scalar_draws(source, var_names)
    if len(draws) < 2:
        raise ConfigurationError(f"a pair plot needs at least two scalar variables, got {list(draws)}")
    az, data, safe, labels = _dataset(draws)
    n = len(labels)
    stats = _divergence_stats(source)
    if stats is not None and divergences:
        data = az.from_dict(posterior={k: data.posterior[k].values for k in safe}, sample_stats=stats)
    fig, axes = figure(n, n, width=2.6, height=2.4)
    az.plot_pair(data, var_names=safe, marginals=True, divergences=divergences and stats is not None,
                 ax=axes, textsize=9, scatter_kwargs={"alpha": 0.3, "s": 4})
    for i, label in enumerate(labels):
        axes[-1, i].set_xlabel(label)
        axes[i, 0].set_ylabel(label if i > 0 else "")
    return save(fig, path)


def _divergence_stats(source):
    if hasattr(source, "sample_stats") and "diverging" in getattr(source, "sample_stats", {}):
        return {"diverging": np.asarray(source.sample_stats["diverging"])}
    if hasattr(source, "handles"):
        from ..io.arviz import sample_stats_dict

        stats = sample_stats_dict(source)
        return {"diverging": stats["diverging"]} if "diverging" in stats else None
    return None


def trace(source, var_names=None, *, path=None):
    """Trace plots (``arviz.plot_trace``): per-chain densities on the left, draws against iteration on the right."""
    draws = scalar_draws(source, var_names)
    az, data, safe, labels = _dataset(draws)
    fig, axes = figure(2, len(labels), width=4.4, height=2.2)
    az.plot_trace(data, var_names=safe, axes=axes, compact=False)
    for i, label in enumerate(labels):
        axes[i, 0].set_title(label), axes[i, 1].set_title(label)
    return save(fig, path)
