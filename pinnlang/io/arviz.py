"""``pl.io.to_arviz(crux)``: the posterior of a solved core as an ``arviz.InferenceData``."""

from __future__ import annotations

import logging

import numpy as np

from ._optional import require
from .likelihood import likelihood_terms
from .posterior import chain_layout, diagnostics, display_names, leaf_draws, sampled_handles

log = logging.getLogger("pinnlang")

# pinnlang's diagnostic fields (blackjax info names) -> ArviZ's sample_stats names
STAT_NAMES = {"is_divergent": "diverging", "acceptance_rate": "acceptance_rate", "energy": "energy", "lp": "lp",
              "num_integration_steps": "n_steps", "num_trajectory_expansions": "tree_depth"}
INTEGER_STATS = ("num_integration_steps", "num_trajectory_expansions")


def posterior_dict(crux) -> dict[str, np.ndarray]:
    """``{variable: (K, N, ...)}`` of every sampled handle (see :func:`pinnlang.io.posterior.leaf_draws`)."""
    handles = sampled_handles(crux.handles)
    names = display_names(handles)
    out = {}
    for h in handles:
        out.update(leaf_draws(h, names[id(h)]))
    return out


def sample_stats_dict(crux) -> dict[str, np.ndarray]:
    """``{ArviZ stat: (K, N)}`` from the kernels' diagnostics.

    With one kernel reporting a field (handles sampled jointly share their kernel's stats), the field
    keeps ArviZ's plain name. With several kernels (Metropolis-within-Gibbs blocks) each gets
    ``<stat>_<handle name>`` (``_<i>`` for the i-th masked block of one model), and ``diverging`` is
    also given plainly as "any kernel diverged at this draw", so ArviZ's divergence markers and counts
    still work. ``lp`` is the log posterior of each draw.
    """
    handles = sampled_handles(crux.handles)
    names = display_names(handles)
    per_field: dict[str, list] = {}
    for h in handles:
        fields = diagnostics(h)
        if getattr(h, "posterior_logdensity", None) is not None:
            fields["lp"] = np.asarray(h.posterior_logdensity)
        for field, value in fields.items():
            base, _, block = field.partition("/")  # "<field>/<i>": the i-th masked block of one model
            if base in STAT_NAMES:
                entries = per_field.setdefault(base, [])
                if not any(np.array_equal(value, v) for _, v in entries):  # one kernel over several handles
                    entries.append((names[id(h)] + (f"_{block}" if block else ""), value))
    out = {}
    for field, entries in per_field.items():
        stat = STAT_NAMES[field]
        if len(entries) == 1:
            out[stat] = _stat_array(field, entries[0][1])
            continue
        for name, value in entries:
            out[f"{stat}_{name}"] = _stat_array(field, value)
        if field == "is_divergent":
            out["diverging"] = np.any([np.asarray(v, bool) for _, v in entries], axis=0)
    return out


def _stat_array(field: str, value) -> np.ndarray:
    if field == "is_divergent":
        return np.asarray(value, bool)
    return np.asarray(value, np.int64) if field in INTEGER_STATS else np.asarray(value, np.float64)


def likelihood_dicts(crux, layout: tuple[int, int]) -> tuple[dict, dict]:
    """``(log_likelihood, observed_data)``: per likelihood term, ``(K, N, n, ...)`` and ``(n, ...)`` arrays.

    A term's pointwise log-likelihood is multiplied by its loss weight (the weight tempers the
    likelihood in the log-density). Trailing unit value axes are dropped, so a scalar residual over
    ``n`` points gives ``n`` observations.
    """
    terms = likelihood_terms(crux)
    if not terms:
        return {}, {}
    loglik = crux.eval([t.pointwise for t in terms])
    loglik = loglik if isinstance(loglik, (list, tuple)) else [loglik]
    observed_nodes = [t.observed for t in terms if t.observed is not None]
    observed_values = crux.eval(observed_nodes, samples="point") if observed_nodes else []
    observed_values = list(observed_values) if isinstance(observed_values, (list, tuple)) else [observed_values]
    ll_out, obs_out = {}, {}
    for t, value in zip(terms, loglik):
        value = np.asarray(value, np.float64) * t.weight
        if value.shape[:2] != layout:  # the term does not depend on the sampled handles: same at every draw
            value = np.broadcast_to(value, layout + value.shape).copy()
        ll_out[t.name] = _drop_unit(value, 2)
        obs = np.asarray(observed_values.pop(0)) if t.observed is not None else np.zeros(t.zero_shape)
        obs_out[t.name] = _drop_unit(np.broadcast_to(obs, t.zero_shape), 0)
    return ll_out, obs_out


def _drop_unit(a: np.ndarray, lead: int) -> np.ndarray:
    """Remove trailing size-1 axes after the first ``lead + 1`` (keep the point axis)."""
    while a.ndim > lead + 1 and a.shape[-1] == 1:
        a = a[..., 0]
    return a


def to_arviz(crux, *, log_likelihood: bool = True, coords: dict | None = None, dims: dict | None = None):
    """Export the posterior draws of a solved core as ``arviz.InferenceData``.

    Groups: ``posterior`` (every sampled parameter under its ``name``, each array leaf of a sampled
    network as ``<name>.<key path>``, e.g. ``u.layers.0.weight``, all ``(chain, draw, ...)``);
    ``sample_stats`` (``diverging``, ``acceptance_rate``, ``energy``, ``lp``, ``n_steps`` (integration
    steps, summed over a thinning block), ``tree_depth`` (NUTS) where the kernel gives them);
    ``log_likelihood`` and ``observed_data`` (one variable per ``gaussian_nll`` / ``categorical_nll``
    loss term, named like the term). VI draws, ``(1, N, ...)``, export the same way.
    ``arviz.loo``/``waic`` then take ``var_name=<term>`` when there are several likelihood terms.

    Args:
        crux: a solved core with at least one sampled handle.
        log_likelihood: also build ``log_likelihood``/``observed_data`` (one ``crux.eval`` pass).
        coords: passed to ``arviz.from_dict`` (coordinate values of named dimensions).
        dims: passed to ``arviz.from_dict`` (dimension names per variable).

    Returns:
        ``arviz.InferenceData``.
    """
    az = require("arviz", "arviz", "pl.io.to_arviz")
    layout = chain_layout(crux.handles)
    groups = {"posterior": posterior_dict(crux)}
    stats = sample_stats_dict(crux)
    if stats:
        groups["sample_stats"] = stats
    if log_likelihood:
        ll, obs = likelihood_dicts(crux, layout)
        if ll:
            groups["log_likelihood"], groups["observed_data"] = ll, obs
    for h in sampled_handles(crux.handles):
        scale = getattr(getattr(h, "sampler", None), "likelihood_scale", 1.0)
        if log_likelihood and scale not in (None, 1, 1.0):
            log.warning("%s samples with likelihood_scale=%s; the exported log_likelihood is the unscaled "
                        "pointwise likelihood of the loss terms", h.name, scale)
    return az.from_dict(**groups, coords=coords, dims=dims)
