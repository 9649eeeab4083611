"""The plan of a solve: which leaves form which group, which backend updates each, the chain layout.

A handle's trainable pytree is split into groups by *labels*: one label per leaf, the index of
the group that updates it, or ``FIXED``. Groups are built from the handles' configuration:

* ``.optimizer(t)`` (or nothing: ``adam(1e-3)``) → an optimised group over the handle's leaves
  outside any mask;
* leaves a handle declares fixed (``fixed_flags``: the base weights of LoRA layers) join no group;
* ``.bayesian(...)`` and ``.mask(M).bayesian(...)`` → members of sampled blocks: members whose
  kernel and settings are equal (priors may differ) form one block, sampled jointly by one kernel,
  unless they are two masks of the same model (Pattern D: one block each, updated in turn) or
  ``block=`` names differ.

The plan is hashable data (its ``fingerprint`` is the compile key).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import jax
import optax

from ..errors import ConfigurationError
from ..trace.sampling_config import SamplingConfig, _ident
from ..trace.vi_config import VIConfig

SAMPLERS = (SamplingConfig, VIConfig)  # configurations of sampled (posterior) groups

log = logging.getLogger("pinnlang")

FIXED = -1
OPTIMISED, SAMPLED = "optimised", "sampled"
DEFAULT_LEARNING_RATE = 1e-3


@dataclass(frozen=True)
class Member:
    """One handle's part of a group: ``flags`` selects its leaves (``None``: all of them)."""

    key: str
    flags: tuple | None = None


@dataclass(frozen=True)
class GroupSpec:
    """A group of leaves updated by one backend.

    Attributes:
        index: position in the plan's group list (also the update order within a kind).
        kind: ``"optimised"`` or ``"sampled"``.
        members: the handles' parts.
        chained: whether the group carries a leading chain axis (sampled groups; per-chain optimisers).
        label: a readable name for logs.
    """

    index: int
    kind: str
    members: tuple
    chained: bool
    label: str


class Plan:
    """Groups, their configurations and the chain layout of one solve.

    Args:
        handles: ``{key: handle}`` in program order.
        default_transforms: per-core cache of the default optimiser per handle (kept across solves so
            its state can continue).
    """

    def __init__(self, handles: dict, default_transforms: dict):
        self.handles = handles
        self.treedefs = {k: jax.tree_util.tree_structure(h.get_trainable()) for k, h in handles.items()}
        self.num_leaves = {k: d.num_leaves for k, d in self.treedefs.items()}
        specs = []
        sampled = []  # (member, SamplingConfig)
        for k, h in handles.items():
            if h.frozen:
                continue
            pending = getattr(h, "_pending_masks", [])
            if pending:
                raise ConfigurationError(
                    f"{h.name}.mask(...) was called but never followed by .bayesian(...); finish it, e.g. "
                    f"{h.name}.mask(M).bayesian(blackjax.nuts, ...), or drop the .mask(...) call")
            fixed = h.fixed_flags  # leaves no group may take (LoRA base weights), or None
            if h.sampler is not None:
                sampled.append((Member(k, None if fixed is None else tuple(not f for f in fixed)), h.sampler))
                continue
            covered = list(fixed or (False,) * self.num_leaves[k])
            for g in h.masked_groups:
                sampled.append((Member(k, g.flags), g.config))
                covered = [a or b for a, b in zip(covered, g.flags)]
            if h.masked_groups and h.transform is None:
                continue  # Pattern A: the complement stays at its values
            rest = tuple(not c for c in covered)
            if not any(rest):
                log.info("%s: the masks cover every leaf; its .optimizer(...) has nothing left to train", h.name)
                continue
            transform = h.transform
            if transform is None:
                transform = default_transforms.setdefault(k, optax.adam(DEFAULT_LEARNING_RATE))
            member = Member(k, rest if h.masked_groups or fixed is not None else None)
            specs.append(("opt", member, transform, bool(getattr(h, "per_chain", False)), getattr(h, "map_prior", None)))
        self.num_chains, self.chain_method, self.keep, self.thin = _common_schedule(sampled, handles)
        self.groups: list[GroupSpec] = []
        self.configs: list = []  # optax transform | SamplingConfig per group
        self.priors: list = []  # per group: {member key: prior} (sampled groups; optimised ones with a MAP prior)
        for _, member, transform, per_chain, map_prior in specs:
            chained = per_chain and self.num_chains > 1
            self.groups.append(GroupSpec(len(self.groups), OPTIMISED, (member,), chained,
                                         _member_label(handles, member)))
            self.configs.append(transform)
            self.priors.append({} if map_prior is None else {member.key: map_prior})  # a prior: MAP estimation
        for members, cfg in _blocks(sampled):
            label = " + ".join(_member_label(handles, m) for m in members)
            self.groups.append(GroupSpec(len(self.groups), SAMPLED, tuple(members), True, label))
            self.configs.append(cfg)
            self.priors.append({m.key: _prior_of(handles[m.key], m, sampled) for m in members})
        self.labels = self._labels()
        self.grad_batch_size = _grad_batch_size(handles, self.optimised)

    # -- layout ---------------------------------------------------------------------------------
    def _labels(self) -> dict:
        labels = {k: [FIXED] * n for k, n in self.num_leaves.items()}
        for g in self.groups:
            for m in g.members:
                for i in range(self.num_leaves[m.key]):
                    if m.flags is None or m.flags[i]:
                        labels[m.key][i] = g.index
        return {k: tuple(v) for k, v in labels.items()}

    @property
    def sampled(self) -> list[GroupSpec]:
        return [g for g in self.groups if g.kind == SAMPLED]

    def batch_size(self, g: int) -> int | None:
        """Group ``g``'s kernel minibatch size (``.bayesian(..., batch_size=B)``), ``None`` for full data."""
        return getattr(self.configs[g], "batch_size", None)

    @property
    def mcmc(self) -> list[GroupSpec]:
        """Sampled groups whose draws are collected along chains (not VI)."""
        return [g for g in self.sampled if not isinstance(self.configs[g.index], VIConfig)]

    @property
    def variational(self) -> list[GroupSpec]:
        """Groups fitting a variational approximation (their draws come from q after the solve)."""
        return [g for g in self.sampled if isinstance(self.configs[g.index], VIConfig)]

    @property
    def optimised(self) -> list[GroupSpec]:
        return [g for g in self.groups if g.kind == OPTIMISED]

    def updated_keys(self) -> list[str]:
        """Handles with at least one leaf in a group."""
        return [k for k, lab in self.labels.items() if any(x != FIXED for x in lab)]

    def fingerprint(self) -> tuple:
        """Hashable identity of the plan (groups, their configurations, chains)."""
        cfg = tuple(c.fingerprint() if isinstance(c, SAMPLERS) else ("optax", id(c)) for c in self.configs)
        priors = tuple(tuple(sorted((k, _ident(p)) for k, p in pr.items())) for pr in self.priors)
        return (tuple(self.groups), cfg, priors, self.num_chains, self.chain_method, self.keep, self.thin,
                tuple(sorted(self.labels.items())), self.grad_batch_size)

    def group_fingerprint(self, g: GroupSpec) -> tuple:
        """Identity of one group across plans (state reuse between solves)."""
        c = self.configs[g.index]
        cfg = c.fingerprint() if isinstance(c, SAMPLERS) else ("optax", id(c))
        return (g.kind, g.members, g.chained, cfg, self.num_chains if g.chained else 1)

    def describe_blocks(self) -> str:
        parts = []
        for g in self.groups:
            c = self.configs[g.index]
            name = c.name if isinstance(c, SAMPLERS) else "optimiser"
            joint = " (joint)" if len(g.members) > 1 else ""
            parts.append(f"[{name}: {g.label}{joint}]")
        return " then ".join(parts)

    def describe(self) -> list:
        """JSON-able description of the groups (checkpoint headers, trackers)."""
        keys = list(self.handles)
        out = []
        for g in self.groups:
            c = self.configs[g.index]
            entry = {"kind": g.kind, "chained": g.chained, "label": g.label,
                     "members": [[keys.index(m.key), None if m.flags is None else [int(f) for f in m.flags]]
                                 for m in g.members]}
            if isinstance(c, SAMPLERS):
                entry["sampler"] = c.describe()
                entry["priors"] = [repr(self.priors[g.index][m.key]) for m in g.members]
            else:
                entry["optimiser"] = _describe_transform(c, self, g)
            out.append(entry)
        return out


def _grad_batch_size(handles, optimised) -> int | None:
    """The minibatch size of the optimised groups (they share one gradient: one size, or none)."""
    sizes = {handles[g.members[0].key].name: getattr(handles[g.members[0].key], "batch_size", None) for g in optimised}
    if len(set(sizes.values())) > 1:
        rows = ", ".join(f"{n}: {b}" for n, b in sizes.items())
        raise ConfigurationError(
            f"the optimised models and parameters of one solve share one minibatch (one gradient of the loss), but "
            f"their .optimizer(batch_size=...) differ ({rows}); give all of them the same batch_size")
    return next(iter(sizes.values()), None)


def _member_label(handles, m: Member) -> str:
    name = handles[m.key].name
    if m.flags is None:
        return name
    return f"{name}[{sum(m.flags)}/{len(m.flags)} leaves]"


def _prior_of(handle, member, sampled):
    from ..bayesian.priors import gaussian

    for m, cfg in sampled:
        if m == member:
            return cfg.prior if cfg.prior is not None else gaussian(sigma=10.0)
    raise AssertionError(member)


def _blocks(sampled):
    """Join members with equal settings into blocks; two masks of one model stay apart."""
    blocks: list[tuple[list, SamplingConfig]] = []
    for member, cfg in sampled:
        for members, bcfg in blocks:
            if bcfg.settings() == cfg.settings() and all(m.key != member.key for m in members):
                members.append(member)
                break
        else:
            blocks.append(([member], cfg))
    return blocks


def _common_schedule(sampled, handles) -> tuple[int, str, int, int]:
    """``(num_chains, chain_method, keep, thin)`` shared by every sampled group (else an error).

    VI groups contribute ``posterior_draws`` draws of q; with MCMC groups in the same solve, as many as the
    chains keep (q's draws are i.i.d., each is paired with one MCMC draw by index).
    """
    if not sampled:
        return 1, "vectorized", 0, 1
    mcmc = [(m, c) for m, c in sampled if not isinstance(c, VIConfig)]
    vi = [(m, c) for m, c in sampled if isinstance(c, VIConfig)]
    if vi:
        draws = {c.posterior_draws for _, c in vi}
        if len(draws) > 1:
            raise ConfigurationError(
                "the VI groups of one solve must share posterior_draws (their draws are paired by index), got "
                + "; ".join(f"{handles[m.key].name}: {c.posterior_draws}" for m, c in vi))
        chains = {}
        for m, c in sampled:
            chains.setdefault((c.num_chains, c.chain_method), []).append(handles[m.key].name)
        if len(chains) > 1:
            rows = "; ".join(f"{', '.join(n)}: num_chains={k[0]}, chain_method={k[1]!r}" for k, n in chains.items())
            raise ConfigurationError(
                f"the VI and MCMC groups of one solve share num_chains and chain_method (chain k of every group is one "
                f"joint run), but got {rows}; pass the same values to every .vi(...) and .bayesian(...)")
        if mcmc and {c.keep for _, c in mcmc} != draws:
            log.info("VI and MCMC groups in one solve: q gives as many draws as the chains keep (%s), each paired "
                     "with one MCMC draw; posterior_draws=%s applies to VI-only solves",
                     sorted({c.keep for _, c in mcmc}), sorted(draws))
        if not mcmc:
            (k, method), = chains
            return k, method, draws.pop(), 1
    values = {}
    for m, c in mcmc:
        values.setdefault((c.num_chains, c.chain_method, c.keep, c.thin), []).append(handles[m.key].name)
    if len(values) > 1:
        rows = "; ".join(f"{', '.join(names)}: num_chains={v[0]}, chain_method={v[1]!r}, keep={v[2]}, thin={v[3]}"
                         for v, names in values.items())
        raise ConfigurationError(
            "all sampled models and parameters of one solve share num_chains, chain_method, keep and thin (their "
            f"draws form one (chains, draws) layout), but got {rows}; pass the same values to every .bayesian(...)")
    return next(iter(values))


def _describe_transform(transform, plan: Plan, g: GroupSpec) -> str:
    """A structural fingerprint of an optax transformation: the paths and shapes of its state."""
    from .state import as_kernel, group_position

    try:
        position = as_kernel(g, group_position(plan, g, {k: h.get_trainable() for k, h in plan.handles.items()}))
        shapes = jax.eval_shape(transform.init, position)
        flat, _ = jax.tree_util.tree_flatten_with_path(shapes)
        return ";".join(f"{jax.tree_util.keystr(p)}:{tuple(l.shape)}" for p, l in flat)
    except Exception:  # noqa: BLE001 - a description is best effort
        return type(transform).__name__
