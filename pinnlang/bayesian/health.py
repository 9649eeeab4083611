"""Health of posterior chains: the warnings a solve prints when sampling went wrong.

A sampler that rejects every proposal, chains that stay at one value, or chains that end up in
different places still return arrays of the right shape; only the numbers say that they are no
posterior sample. :func:`chain_warnings` reads the draws (and the kernel's per-step diagnostics)
and returns one human-readable message per problem, naming the handle, the numbers and what to
change. The solve logs each as a WARNING at its end.

Thresholds (module constants) are deliberately loose: a warning means "these draws are not a
sample", not "a stricter diagnostic would like more draws".
"""

from __future__ import annotations

import jax
import numpy as np

from .diagnostics import MIN_DRAWS, ess, rhat

ACCEPTANCE_FLOOR = 0.05  # mean acceptance below this: the sampler barely moves
RHAT_LIMIT = 1.1  # rank R-hat above this: the chains do not agree (Gelman et al.'s classic bound)
MIN_ESS = 10.0  # fewer effective draws than this: means and quantiles are noise
DIVERGENT_LIMIT = 0.01  # fraction of divergent transitions above which geometry is a problem
MAX_COMPONENTS = 512  # R-hat/ESS on at most this many components (evenly spaced) to bound the cost

_STEP_ADVICE = ("lower step_size (e.g. by a factor of 10), or use blackjax.nuts (or hmc) with adapt=True and "
                "warmup > 0 so that window adaptation tunes it")


def _leaves(samples):
    """``[(name, array (K, N, m))]`` for every leaf of ``samples`` (at least one axis of components)."""
    out = []
    for path, leaf in jax.tree_util.tree_flatten_with_path(samples)[0]:
        a = np.asarray(leaf)
        if a.ndim < 2:
            continue
        out.append((jax.tree_util.keystr(path) or "", a.reshape(a.shape[0], a.shape[1], -1)))
    return out


def _fmt(values) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def _acceptance(name: str, acc: np.ndarray) -> list[str]:
    per_chain = np.nanmean(acc.reshape(acc.shape[0], -1), axis=1)
    mean = float(np.nanmean(per_chain))
    if mean >= ACCEPTANCE_FLOOR and not (per_chain < ACCEPTANCE_FLOOR).any():
        return []
    low = [k for k, v in enumerate(per_chain) if v < ACCEPTANCE_FLOOR]
    chains = "" if len(per_chain) == 1 else f" (per chain: {_fmt(per_chain)}; below {ACCEPTANCE_FLOOR}: {low})"
    return [f"{name}: the mean acceptance rate is {mean:.3f}{chains}, so the sampler rejects almost every proposal "
            f"and its chains barely move; {_STEP_ADVICE}."]


def _divergences(name: str, div: np.ndarray) -> list[str]:
    count, total = int(np.sum(div)), int(div.size)
    if total == 0 or count / total <= DIVERGENT_LIMIT:
        return []
    return [f"{name}: {count} of {total} transitions ({100 * count / total:.1f}%) diverged: the sampler met regions "
            "it cannot integrate with its step size, and the draws there are biased. Lower step_size (with "
            "adapt=True: a higher target acceptance), rescale the parameter, or give it a constraint (e.g. "
            "constraint='positive') so its log-density is smooth."]


def _stuck_chains(leaves) -> list[int]:
    """Chains whose draws are all identical in every component."""
    k = leaves[0][1].shape[0]
    moved = np.zeros(k, dtype=bool)
    for _, a in leaves:
        moved |= np.any(a.max(axis=1) != a.min(axis=1), axis=1)
    return [int(i) for i in np.flatnonzero(~moved)]


def _columns(leaves):
    """``(K, N, m)`` float64 of at most MAX_COMPONENTS components, and a label for each."""
    index = [(i, j) for i, (_, a) in enumerate(leaves) for j in range(a.shape[2])]
    if len(index) > MAX_COMPONENTS:
        index = [index[int(t)] for t in np.unique(np.linspace(0, len(index) - 1, MAX_COMPONENTS).round())]
    cols = np.stack([leaves[i][1][:, :, j].astype(np.float64) for i, j in index], axis=2)
    labels = [f"{leaves[i][0]}[{j}]" if leaves[i][0] else f"[{j}]" for i, j in index]
    return cols, labels


def _mixing(name: str, leaves) -> list[str]:
    cols, labels = _columns(leaves)
    k, n = cols.shape[:2]
    moving = np.ptp(cols, axis=(0, 1)) > 0  # components constant everywhere have R-hat NaN: no information
    if n < MIN_DRAWS or not moving.any():
        return []
    cols, labels = cols[:, :, moving], [lab for lab, m in zip(labels, moving) if m]
    r = np.atleast_1d(rhat(cols))
    e = np.atleast_1d(ess(cols))
    worst_r = int(np.nanargmax(np.where(np.isfinite(r), r, -np.inf))) if np.isfinite(r).any() else None
    worst_e = int(np.nanargmin(np.where(np.isfinite(e), e, np.inf))) if np.isfinite(e).any() else None
    total = 2 * k * (n // 2)
    if worst_r is not None and r[worst_r] > RHAT_LIMIT:
        what = "the chains do not mix" if k > 1 else "the chain's two halves disagree (it has not converged)"
        return [f"{name}: {what}: R-hat up to {r[worst_r]:.3g} (component {labels[worst_r]}; below 1.01 is good, "
                f"above {RHAT_LIMIT} means the chains sample different regions) and a bulk ESS as low as "
                f"{e[worst_e]:.1f} of {total} draws. Run longer (more warmup and keep), use blackjax.nuts with "
                "adapt=True, lower step_size for mala/rmh/sgld, or start the chains closer together (a smaller "
                "init_jitter, or a better starting point from an optimisation)."]
    if worst_e is not None and e[worst_e] < MIN_ESS:
        return [f"{name}: only {e[worst_e]:.1f} effective draws (bulk ESS, component {labels[worst_e]}) out of "
                f"{total}: the chains move so slowly that means and quantiles are unreliable. Keep more draws "
                f"(keep=...), or {_STEP_ADVICE}."]
    return []


def chain_warnings(name: str, samples, diagnostics: dict | None, *, mixing: bool = True) -> list[str]:
    """Human-readable warnings about the posterior chains of one handle (empty when they look healthy).

    Checks, in order: NaN or inf draws; an acceptance rate near zero; divergent transitions; chains
    that stayed at one value; chains that do not mix (rank R-hat > 1.1) or carry fewer than 10
    effective draws. Each message names the handle, the numbers, and what to change.

    Args:
        name: the handle's display name (``"theta"``, ``"net"``).
        samples: a pytree of arrays with leading ``(K, N)`` axes (chains, kept draws).
        diagnostics: ``{field: (K, N) array}`` from the kernel's info (``acceptance_rate``,
            ``is_divergent``, ...), or ``None`` (SG-MCMC kernels have none).
        mixing: run the R-hat/ESS check. The solve turns it off for networks: their weights are not
            identifiable (hidden units permute and flip sign), so chains agreeing on every prediction can
            still disagree on every weight; check the R-hat of a prediction instead
            (``pl.bayesian.rhat(crux.eval(net(x)))``).

    Returns:
        A list of messages (strings), one per problem found.
    """
    leaves = _leaves(samples)
    if not leaves:
        return []
    out: list[str] = []
    bad = [lab or "value" for lab, a in leaves if not np.all(np.isfinite(a))]
    if bad:
        out.append(f"{name}: the draws contain NaN or inf (in {', '.join(bad)}): the log-density is not finite "
                   "somewhere the chain went. Check the prior's support and the parameters' constraints (e.g. "
                   f"constraint='positive' for a scale), or {_STEP_ADVICE}.")
        return out
    diagnostics = diagnostics or {}
    if diagnostics.get("acceptance_rate") is not None:
        out += _acceptance(name, np.asarray(diagnostics["acceptance_rate"], dtype=np.float64))
    if diagnostics.get("is_divergent") is not None:
        out += _divergences(name, np.asarray(diagnostics["is_divergent"]))
    k, n = leaves[0][1].shape[:2]
    stuck = _stuck_chains(leaves)
    if stuck and n > 1:
        which = "its chain" if k == 1 else (f"all {k} chains" if len(stuck) == k else
                                            f"chain(s) {stuck} of {k}")
        out.append(f"{name}: {which} stayed at one value for all {n} kept draws (every proposal was rejected, or "
                   f"every step was zero): these are copies of the starting point, not a posterior sample. "
                   f"{_STEP_ADVICE[0].upper()}"
                   f"{_STEP_ADVICE[1:]}, or check that the log-density is finite around the start (init_jitter, "
                   "the prior's support).")
        return out
    if mixing:
        out += _mixing(name, leaves)
    return out


__all__ = ["ACCEPTANCE_FLOOR", "DIVERGENT_LIMIT", "MIN_ESS", "RHAT_LIMIT", "chain_warnings"]
