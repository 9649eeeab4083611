"""``pl.io.summary(crux)``: a posterior table per sampled parameter and an aggregate per sampled network.

In the spirit of NumPyro's ``print_summary``: mean, sd, the highest-density interval (``arviz.hdi``),
the Monte Carlo standard error of the mean, bulk and tail ESS, R-hat (pinnlang's own
``pl.bayesian.ess`` / ``rhat``, which equal ArviZ's) and the divergences of the handle's kernel.
A network has hundreds of weights, so it gets one line: the worst R-hat and the smallest ESS over
its leaves (and over a predictive expression's values when one is given). A line per handle gives the cost of
the draws: gradient evaluations and bulk ESS per 1000 of them (:mod:`pinnlang.io.cost`).
"""

from __future__ import annotations

import io
import math
import sys
from dataclasses import asdict, dataclass, field

import numpy as np

from ..bayesian import ess, rhat
from ._optional import require
from .cost import handle_cost, min_bulk_ess
from .posterior import chain_layout, diagnostics, display_names, is_array_valued, leaf_draws, sampled_handles

PARAM_COLUMNS = ("mean", "sd", "hdi_low", "hdi_high", "mcse_mean", "ess_bulk", "ess_tail", "r_hat", "divergences")


@dataclass
class ParameterRow:
    """One scalar component of a sampled parameter (``a``, or ``theta[1]``)."""

    name: str
    mean: float
    sd: float
    hdi_low: float
    hdi_high: float
    mcse_mean: float
    ess_bulk: float
    ess_tail: float
    r_hat: float
    divergences: int | None


@dataclass
class ModelRow:
    """Aggregate diagnostics of a sampled network (or of a predictive expression, ``kind="predictive"``)."""

    name: str
    kind: str
    n_values: int
    n_constant: int
    worst_r_hat: float
    worst_r_hat_at: str
    min_ess_bulk: float
    min_ess_bulk_at: str
    min_ess_tail: float
    divergences: int | None


@dataclass
class Summary:
    """The structured table :func:`summary` returns (``str(summary)`` is the printed text).

    Attributes:
        parameters: one :class:`ParameterRow` per scalar component of every sampled parameter.
        models: one :class:`ModelRow` per sampled network and per predictive expression.
        costs: one :class:`~pinnlang.io.cost.SamplingCost` per handle whose kernel counts its integration steps.
        hdi_prob: the probability mass of the HDI columns.
        num_chains, num_draws: the chain layout ``(K, N)``.
    """

    parameters: list = field(default_factory=list)
    models: list = field(default_factory=list)
    costs: list = field(default_factory=list)
    hdi_prob: float = 0.9
    num_chains: int = 0
    num_draws: int = 0

    def to_dict(self) -> dict:
        """``{"parameters": {name: {column: value}}, "models": {name: {...}}, ...}`` (JSON-able)."""
        return {"parameters": {r.name: _clean(asdict(r)) for r in self.parameters},
                "models": {r.name: _clean(asdict(r)) for r in self.models},
                "costs": {c.name: c.to_dict() for c in self.costs},
                "hdi_prob": self.hdi_prob, "num_chains": self.num_chains, "num_draws": self.num_draws}

    def to_dataframe(self):
        """The parameter rows as a ``pandas.DataFrame`` indexed by name (pandas comes with arviz)."""
        pd = require("pandas", "arviz", "Summary.to_dataframe")
        return pd.DataFrame([asdict(r) for r in self.parameters]).set_index("name")

    def __str__(self) -> str:
        out = io.StringIO()
        lo, hi = f"{100 * (1 - self.hdi_prob) / 2:g}%", f"{100 * (1 + self.hdi_prob) / 2:g}%"
        out.write(f"posterior: {self.num_chains} chain(s) x {self.num_draws} draws\n")
        if self.parameters:
            w = max(8, *(len(r.name) for r in self.parameters))
            head = ["mean", "sd", f"hdi_{lo}", f"hdi_{hi}", "mcse", "ess_bulk", "ess_tail", "r_hat", "diverg."]
            out.write(" " * w + "".join(f"{h:>10}" for h in head) + "\n")
            for r in self.parameters:
                vals = [_num(r.mean), _num(r.sd), _num(r.hdi_low), _num(r.hdi_high), _num(r.mcse_mean),
                        _int(r.ess_bulk), _int(r.ess_tail), f"{r.r_hat:.3f}", _int(r.divergences)]
                out.write(f"{r.name:>{w}}" + "".join(f"{v:>10}" for v in vals) + "\n")
        for r in self.models:
            what = "network" if r.kind == "model" else "predictive"
            const = f" ({r.n_constant} constant, left out)" if r.n_constant else ""
            div = f", {r.divergences} divergences" if r.divergences is not None else ""
            out.write(f"{what} {r.name}: {r.n_values} values{const}; worst r_hat {r.worst_r_hat:.3f} "
                      f"at {r.worst_r_hat_at}; min ess_bulk {_int(r.min_ess_bulk)} at {r.min_ess_bulk_at}; "
                      f"min ess_tail {_int(r.min_ess_tail)}{div}\n")
        for c in self.costs:
            out.write(f"{c}\n")
        return out.getvalue().rstrip("\n")

    __repr__ = __str__


def _num(v) -> str:
    return "nan" if v is None or not math.isfinite(v) else f"{v:.4g}"


def _int(v) -> str:
    return "-" if v is None else ("nan" if not math.isfinite(v) else f"{v:.0f}")


def _clean(d: dict) -> dict:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def _divergences(handle) -> int | None:
    d = diagnostics(handle).get("is_divergent")
    return None if d is None else int(np.sum(d))


def _component_names(name: str, shape: tuple) -> list[str]:
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(*shape)]


def parameter_rows(name: str, draws: np.ndarray, hdi_prob: float, divergences) -> list[ParameterRow]:
    """Rows for one parameter's ``(K, N, *shape)`` draws, one per scalar component."""
    az = require("arviz", "arviz", "pl.io.summary")
    k, n = draws.shape[:2]
    flat = draws.reshape(k, n, -1)
    r_hat, bulk, tail, ess_mean = (np.atleast_1d(v) for v in (
        rhat(flat), ess(flat, "bulk"), ess(flat, "tail"), ess(flat, "mean")))
    rows = []
    for j, cname in enumerate(_component_names(name, draws.shape[2:])):
        x = flat[:, :, j]
        sd = float(np.std(x, ddof=1))
        lo, hi = (float(v) for v in az.hdi(x.ravel(), hdi_prob=hdi_prob))
        rows.append(ParameterRow(cname, float(np.mean(x)), sd, lo, hi, sd / math.sqrt(float(ess_mean[j])),
                                 float(bulk[j]), float(tail[j]), float(r_hat[j]), divergences))
    return rows


def aggregate_row(name: str, kind: str, leaves: dict[str, np.ndarray], divergences) -> ModelRow:
    """Worst R-hat and smallest ESS over every component of ``leaves`` (``{name: (K, N, ...)}``).

    Components constant over all draws (leaves outside a mask, say) have no R-hat; they are counted
    in ``n_constant`` and left out of the extremes.
    """
    worst, worst_at, low_bulk, low_at, low_tail = -np.inf, "-", np.inf, "-", np.inf
    n_values = n_const = 0
    for lname, a in leaves.items():
        k, n = a.shape[:2]
        flat = a.reshape(k, n, -1)
        n_values += flat.shape[2]
        const = np.ptp(flat, axis=(0, 1)) == 0
        n_const += int(const.sum())
        if const.all():
            continue
        live = flat[:, :, ~const]
        names = np.asarray(_component_names(lname, a.shape[2:]))[~const]
        r, b, t = (np.atleast_1d(v) for v in (rhat(live), ess(live, "bulk"), ess(live, "tail")))
        if np.nanmax(r) > worst:
            worst, worst_at = float(np.nanmax(r)), str(names[int(np.nanargmax(r))])
        if np.nanmin(b) < low_bulk:
            low_bulk, low_at = float(np.nanmin(b)), str(names[int(np.nanargmin(b))])
        low_tail = min(low_tail, float(np.nanmin(t)))
    nan = float("nan")
    return ModelRow(name, kind, n_values, n_const, worst if np.isfinite(worst) else nan, worst_at,
                    low_bulk if np.isfinite(low_bulk) else nan, low_at, low_tail if np.isfinite(low_tail) else nan,
                    divergences)


def summary(crux, *, predictive=None, domain=None, hdi_prob: float = 0.9, show: bool = True,
            file=None) -> Summary:
    """Print and return the posterior summary of a solved core.

    Args:
        crux: a core whose sampled handles hold posterior draws.
        predictive: an expression, or ``{name: expression}``, whose values over the draws get an
            aggregate row too (worst R-hat and smallest ESS over its points), e.g. ``{"u(x)": net(x)}``.
        domain: evaluate ``predictive`` on this domain (as ``crux.eval(..., domain=)``).
        hdi_prob: probability mass of the highest-density interval (NumPyro's 0.9 by default).
        show: print the table (to ``file``, default ``sys.stdout``).

    Returns:
        A :class:`Summary`.
    """
    k, n = chain_layout(crux.handles)
    handles = sampled_handles(crux.handles)
    names = display_names(handles)
    table = Summary(hdi_prob=hdi_prob, num_chains=k, num_draws=n)
    for h in handles:
        draws = leaf_draws(h, names[id(h)])
        first = next(iter(draws.values()))
        if is_array_valued(h):
            table.parameters += parameter_rows(names[id(h)], first, hdi_prob, _divergences(h))
            low, at = min_bulk_ess(draws)
        else:
            table.models.append(aggregate_row(names[id(h)], "model", draws, _divergences(h)))
            low, at = table.models[-1].min_ess_bulk, table.models[-1].min_ess_bulk_at
        cost = handle_cost(h, names[id(h)], crux.history, low, at)
        if cost is not None:
            table.costs.append(cost)
    if predictive is not None:
        exprs = predictive if isinstance(predictive, dict) else {"predictive": predictive}
        values = crux.eval(list(exprs.values()), domain=domain)
        values = values if isinstance(values, (list, tuple)) else [values]
        for pname, v in zip(exprs, values):
            v = np.asarray(v, np.float64)
            if v.ndim < 2 or v.shape[:2] != (table.num_chains, table.num_draws):
                from ..errors import ConfigurationError

                raise ConfigurationError(f"predictive expression {pname!r} does not depend on the sampled handles "
                                         f"(its value has shape {v.shape}); pass an expression such as net(x)")
            table.models.append(aggregate_row(pname, "predictive", {pname: v}, None))
    if show:
        # the table the user asked to see (show=True), not a log message
        (file if file is not None else sys.stdout).write(str(table) + "\n")
    return table
