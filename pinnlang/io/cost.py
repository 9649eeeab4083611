"""``pl.io.sampling_cost(crux)``: the gradient evaluations behind the draws, and bulk ESS per 1000 of them.

Samplers are compared by effective draws per unit of work, and the work of a gradient-based kernel is its
gradient evaluations: one per integrator step. The count is the kernel's ``num_integration_steps``
(``handle.posterior_diagnostics``): the leapfrog steps of a NUTS or HMC transition, 1 for MALA and SGLD
(one stochastic gradient), SGHMC's ``num_integration_steps``, 0 for random-walk Metropolis. Each kept
draw carries the sum over its thinning block, so the kept draws' sum is the cost of the whole collection
phase. NUTS's counts vary: the steps before the collection (warmup, burn-in) are in
``history.traces["num_integration_steps/<group>"]`` (one chain-mean value per epoch, transferred once per
chunk); the other kernels' counts are fixed per transition and are not recorded, so their whole solve's
cost is that count times the transitions.

Not counted: the gradient a Metropolis-within-Gibbs kernel evaluates when it re-initialises from its
position (one per transition of every gradient kernel, when other groups or points move between
transitions), and the other blocks' gradients of a sweep (add their handles' counts for the sweep's cost).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ..bayesian import ess
from ..trace.sampling_config import STEPS
from .posterior import display_names, leaf_draws, sampled_handles



@dataclass
class SamplingCost:
    """The cost of one sampled handle's draws.

    Attributes:
        name: the handle's display name.
        num_chains, num_draws: ``K`` and ``N``.
        kept_gradients: ``(K,)`` gradient evaluations per chain of the collection phase (every step from
            the first kept draw's block to the last, thinning steps included; no warmup), summed over the
            handle's blocks when masks split it into several.
        total_gradients: per chain (mean over chains) over every step of the solve: warmup, burn-in and
            collection; ``None`` when the steps before the collection were not recorded (a user kernel
            whose info may lack the count, draws set by hand).
        ess_bulk_min, ess_bulk_min_at: the smallest bulk ESS over the handle's varying components, and where.
        ess_per_1k_gradients: ``1000 * ess_bulk_min / sum(kept_gradients)`` (NaN without gradients: RMH).
        ess_per_1k_gradients_total: ``1000 * ess_bulk_min / (K * total_gradients)``, or ``None``.
    """

    name: str
    num_chains: int
    num_draws: int
    kept_gradients: np.ndarray
    total_gradients: float | None
    ess_bulk_min: float
    ess_bulk_min_at: str
    ess_per_1k_gradients: float
    ess_per_1k_gradients_total: float | None

    def to_dict(self) -> dict:
        """JSON-able (arrays as lists, NaN as ``None``)."""
        d = asdict(self)
        d["kept_gradients"] = [int(v) for v in self.kept_gradients]
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}

    def __str__(self) -> str:
        kept = float(np.mean(self.kept_gradients))
        total = "" if self.total_gradients is None else f" ({self.total_gradients:.0f} with warmup)"
        per_total = "" if self.ess_per_1k_gradients_total is None else \
            f" ({_num(self.ess_per_1k_gradients_total)} with warmup)"
        return (f"cost {self.name}: {kept:.0f} gradients per chain for the kept draws{total}; "
                f"{_num(self.ess_per_1k_gradients)} bulk ESS per 1000 gradients{per_total}")


def _num(v: float) -> str:
    return "nan" if not math.isfinite(v) else f"{v:.3g}"


def min_bulk_ess(leaves: dict[str, np.ndarray]) -> tuple[float, str]:
    """The smallest bulk ESS over the varying components of ``{name: (K, N, ...)}``, and its component's name."""
    low, at = math.inf, "-"
    for lname, a in leaves.items():
        k, n = a.shape[:2]
        flat = a.reshape(k, n, -1)
        live = np.flatnonzero(np.ptp(flat, axis=(0, 1)) > 0)  # constant components (outside a mask) have no ESS
        if live.size == 0:
            continue
        b = np.atleast_1d(ess(flat[:, :, live], "bulk"))
        if np.nanmin(b) < low:
            j = int(np.nanargmin(b))
            low = float(b[j])
            at = lname if a.ndim == 2 else f"{lname}[{','.join(map(str, np.unravel_index(live[j], a.shape[2:])))}]"
    return (low if math.isfinite(low) else math.nan), at


def _traced_total(post, history) -> float | None:
    """Mean gradient evaluations per chain over every step of the solve, from the history's step traces."""
    if post.epochs is None or history is None or not post.group_labels:
        return None
    first, stop = post.epochs
    total = 0.0
    for label in post.group_labels:
        if label in post.fixed_gradients:  # a fixed count per transition: nothing was recorded
            total += float(post.fixed_gradients[label] * (stop - first))
            continue
        trace = history.traces.get(f"{STEPS}/{label}")
        if trace is None:
            return None
        epochs, values = trace
        total += float(np.sum(np.asarray(values)[(epochs >= first) & (epochs < stop)]))
    return total


def handle_cost(handle, name: str, history, ess_min: float, ess_at: str) -> SamplingCost | None:
    """The :class:`SamplingCost` of one handle given its smallest bulk ESS; ``None`` without step counts."""
    post = getattr(handle, "_posterior", None)
    diag = getattr(handle, "posterior_diagnostics", None) or {}
    counts = [np.asarray(v) for f, v in diag.items() if f.partition("/")[0] == STEPS]  # one per block
    if post is None or not counts:
        return None
    kept = np.sum([c.astype(np.int64).sum(axis=1) for c in counts], axis=0)
    total = _traced_total(post, history)
    k, n = counts[0].shape
    spent = float(kept.sum())
    per_1k = 1000.0 * ess_min / spent if spent > 0 else math.nan
    per_1k_total = None if total is None else (1000.0 * ess_min / (k * total) if total > 0 else math.nan)
    return SamplingCost(name, k, n, kept, total, ess_min, ess_at, per_1k, per_1k_total)


def sampling_cost(crux) -> dict[str, SamplingCost]:
    """Gradient evaluations and bulk ESS per 1000 gradient evaluations of every sampled handle.

    Args:
        crux: a solved core.

    Returns:
        ``{handle name: SamplingCost}`` for the handles whose kernel counts its integration steps (not VI
        draws, nor a user kernel whose info lacks ``num_integration_steps``).
    """
    handles = sampled_handles(crux.handles)
    names = display_names(handles)
    out = {}
    for h in handles:
        if not any(f.partition("/")[0] == STEPS for f in (h.posterior_diagnostics or {})):
            continue  # no counts: skip the ESS
        low, at = min_bulk_ess(leaf_draws(h, names[id(h)]))
        cost = handle_cost(h, names[id(h)], crux.history, low, at)
        if cost is not None:
            out[names[id(h)]] = cost
    return out
