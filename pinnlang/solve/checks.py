"""Checks at solve start: priors give finite values, minibatched terms are unbiased estimates."""

from __future__ import annotations

import jax

from ..errors import ConfigurationError
from ..trace.sampling_config import _ident
from .plan import Plan


def check_priors(plan: Plan, skip=()):
    """Each sampled member's prior gives a finite scalar on its current values (else a clear error).

    Groups in ``skip`` (continuing chains) were checked when they started.
    """
    from ..bayesian.priors import check_prior
    from .state import group_position

    values = {k: h.get_trainable() for k, h in plan.handles.items()}
    for g in plan.groups:
        if g.index in skip or not plan.priors[g.index]:
            continue
        members = group_position(plan, g, values)
        for m in g.members:
            h = plan.handles[m.key]
            value = members[m.key]
            bij = getattr(h, "bijector", None)
            try:
                check_prior(_CompiledPrior(plan.priors[g.index][m.key], bij), value)
            except ConfigurationError as err:
                raise ConfigurationError(f"prior of {h.name!r}: {err}") from None


_PRIOR_CHECKS: dict = {}


class _CompiledPrior:
    """A prior (of the constrained value) as one jitted call on the raw value: evaluated op by op, a
    prior costs a compilation per elementary operation on a first run."""

    def __init__(self, prior, bijector):
        self.prior = prior
        self.__name__ = getattr(prior, "__name__", repr(prior))
        key = (_ident(prior), getattr(bijector, "name", None))
        if key not in _PRIOR_CHECKS:  # one compiled check per prior and constraint, reused by later solves
            forward = bijector.forward if bijector is not None else (lambda v: v)
            _PRIOR_CHECKS[key] = jax.jit(lambda v: prior(forward(v)))
        self._fn = _PRIOR_CHECKS[key]

    def __call__(self, value):
        return self._fn(value)

    def __repr__(self) -> str:
        return repr(self.prior)


UNBIASED = ("mse", "mean", "sum", "gaussian_nll", "categorical_nll")  # minibatch estimates of these are unbiased


def check_minibatches(plan: Plan, loss):
    """With ``batch_size``, every loss term must be a sum or mean over points (else the estimate is biased)."""
    from ..trace import Reduction

    batched = [plan.batch_size(g.index) for g in plan.sampled if plan.batch_size(g.index)]
    if plan.optimised and plan.grad_batch_size:
        batched.append(plan.grad_batch_size)
    if not batched:
        return
    if not loss.program.analysis.point_sets:
        raise ConfigurationError(
            f"batch_size={batched[0]} minibatches the points of the problem, but its loss terms have no point set "
            "(no domain variable): there is nothing to split. Put the data on a domain, e.g. "
            "x, _ = pl.domain.from_array({'obs': X}).variable('obs'), or drop batch_size")
    for name, term in zip(loss.names, loss.terms_nodes):
        if not (isinstance(term, Reduction) and term.kind in UNBIASED):
            what = f".{term.kind}" if isinstance(term, Reduction) else "an expression of reductions"
            raise ConfigurationError(
                f"batch_size={batched[0]} minibatches every loss term, but term {name!r} is {what}: a "
                "minibatch estimate of it is biased (only sums and means over points, such as .mse, .sum, "
                ".gaussian_nll or .categorical_nll, scale up without bias). Write the term as one of those, or drop "
                "batch_size (train on the full data, or sample with a full-data kernel)")
