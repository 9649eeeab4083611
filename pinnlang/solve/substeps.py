"""Substeps: an epoch as a sequence of stages, each a loss over some terms updating some groups.

``crux.solve(epochs, substeps=[(["pde", "ic"], 1), (["data"], 1, [kappa])])`` runs, every epoch, one
step of the first stage (the groups its terms depend on, on the loss of its terms), then one of the
second (only ``kappa``'s group, on the data term: the surrogate is held fixed there). A stage may take
several steps per epoch. Every stage is a step of the same kind as a plain solve's (gradient groups on
one ``value_and_grad`` of the stage's loss, then density groups in turn on the stage's log-density),
restricted to its groups; the stages are unrolled inside the one compiled epoch, so a solve with
substeps is still one program per chunk. Each group keeps one state: a group updated by two stages
moves its one position (and optimiser state) in both.

The history records, per term, its value at the last step of the last stage containing it.
"""

from __future__ import annotations

import logging
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..backends.base import GRADIENT
from ..errors import ConfigurationError
from ..validate import integer
from .plan import Plan
from ..host_keys import fold_all
from .step import make_step, make_step_keys, mean_loss
from .streams import SUBSTEP_STREAM

log = logging.getLogger("pinnlang")



class Substep(NamedTuple):
    """One stage: the term indices of its loss, its steps per epoch, the groups it updates."""

    terms: tuple
    steps: int
    groups: tuple
    label: str


def parse_substeps(spec, loss, plan: Plan) -> tuple:
    """Validate ``substeps=`` into :class:`Substep` stages (errors name the fix)."""
    from ..compile.program import GraphAnalysis

    if not isinstance(spec, (list, tuple)) or not spec:
        raise ConfigurationError("substeps must be a non-empty list of (terms, steps) or (terms, steps, update) "
                                 "stages, e.g. substeps=[(['pde'], 1), (['data'], 1, [kappa])]")
    names = list(loss.names)
    stages, used = [], set()
    for s, entry in enumerate(spec):
        if not isinstance(entry, (list, tuple)) or len(entry) not in (2, 3):
            raise ConfigurationError(f"substeps[{s}] is {entry!r}; a stage is (terms, steps) or (terms, steps, "
                                     "update): term names or indices, steps per epoch, the models/parameters updated")
        terms = entry[0] if isinstance(entry[0], (list, tuple)) else [entry[0]]
        idx = []
        for t in terms:
            if isinstance(t, str):
                if t not in names:
                    raise ConfigurationError(f"substeps[{s}]: no loss term named {t!r}; the terms are {names}")
                idx.append(names.index(t))
            else:
                i = integer(f"substeps[{s}] term index", t, minimum=0)
                if i >= len(names):
                    raise ConfigurationError(f"substeps[{s}]: term index {i} out of range; there are {len(names)} "
                                             f"terms {names}")
                idx.append(i)
        if not idx:
            raise ConfigurationError(f"substeps[{s}] has no loss terms; give it at least one")
        idx = tuple(sorted(set(idx)))
        steps = integer(f"substeps[{s}] steps", entry[1], minimum=1)
        depends = set()
        for i in idx:
            depends |= set(GraphAnalysis([loss.terms_nodes[i]], loss.program.keys).handles)
        if len(entry) == 3:
            update = entry[2] if isinstance(entry[2], (list, tuple)) else [entry[2]]
            keys = []
            for h in update:
                key = loss.program.keys.get(h)
                if key not in plan.handles:
                    raise ConfigurationError(f"substeps[{s}] updates {getattr(h, 'name', h)!r}, which is not a model "
                                             "or parameter of these losses")
                if key not in depends:
                    raise ConfigurationError(f"substeps[{s}] updates {h.name}, but its terms "
                                             f"{[names[i] for i in idx]} do not depend on it")
                keys.append(key)
        else:
            keys = sorted(depends)
        groups = tuple(g.index for g in plan.groups if any(m.key in keys for m in g.members))
        if not groups:
            raise ConfigurationError(f"substeps[{s}] updates nothing (its models/parameters are frozen); give it "
                                     "terms that depend on a trained or sampled model, or drop it")
        used |= set(idx)
        label = f"substep {s} ({', '.join(names[i] for i in idx)} -> {', '.join(plan.groups[g].label for g in groups)})"
        stages.append(Substep(idx, steps, groups, label))
    missing = [names[i] for i in range(len(names)) if i not in used]
    if missing:
        raise ConfigurationError(f"the loss terms {missing} are in no substep: nothing would minimise them; add them "
                                 "to a stage (or build the core without them)")
    moved = {g for st in stages for g in st.groups}
    for g in plan.groups:
        if g.index not in moved:
            if g.kind == "sampled":
                raise ConfigurationError(f"{g.label} is sampled but no substep updates it (its draws would be "
                                         "constant); add it to a stage, e.g. (['data'], 1, [its handle])")
            log.warning("%s is updated by no substep and stays at its values", g.label)
    return tuple(stages)


def transitions_per_epoch(stages) -> dict:
    """``{group index: steps it takes per epoch}``."""
    out: dict = {}
    for st in stages:
        for g in st.groups:
            out[g] = out.get(g, 0) + st.steps
    return out


def stage_loss(loss, statics, terms: tuple) -> Callable:
    """``(params, data) -> (Σ_{i in terms} w_i term_i, (len(terms),) values)``: only these terms are computed
    (the others are traced and removed as dead code by XLA; shared sub-expressions are computed once)."""
    w = jnp.asarray([loss.weights[i] for i in terms])

    def fn(params, data):
        values = loss.program.evaluate(params, data, statics)
        t = jnp.stack([jnp.asarray(values[i], dtype=jnp.result_type(float)) for i in terms])
        return jnp.dot(w.astype(t.dtype), t), t

    return fn


def make_substepped(plan: Plan, backends: list, stages, stage_losses: list, num_terms: int, weights,
                    *, minibatch: Callable | None = None, resample: Callable | None = None,
                    stochastic: bool = False):
    """``(step, bases)``: one epoch through every stage, and the bases of the keys it uses (see
    :func:`~pinnlang.solve.step.make_step_keys`)."""
    from .loop import _accumulate, _finish

    steps = [make_step(plan, backends, fn, minibatch=minibatch, active=frozenset(st.groups), advance=False)
             for st, fn in zip(stages, stage_losses)]
    key_fns = [make_step_keys(plan, backends, active=frozenset(st.groups), stochastic=stochastic) for st in stages]
    has_grad = [any(backends[g].consumes == GRADIENT for g in st.groups) for st in stages]
    w = jnp.asarray(weights)

    def bases(key):
        """Per stage, its steps' bases stacked: stage ``s``'s step ``j`` keys from ``fold_in(fold_in(key,
        SUBSTEP_STREAM + s), j)`` on."""
        out = []
        for s, (st, kf) in enumerate(zip(stages, key_fns)):
            stage = fold_all(fold_all(key, SUBSTEP_STREAM + s)[None], np.arange(st.steps))  # (steps, 2)
            per_j = [kf(k) for k in stage]
            out.append(jax.tree_util.tree_map(lambda *b: np.stack(b), *per_j))
        return tuple(out)

    def epoch(state, keys):
        if resample is not None:
            state = state._replace(data=resample(state.data, state.step, state.key))
        terms = jnp.zeros((num_terms,))
        infos = {}
        for s, st in enumerate(stages):
            stage_keys = keys[s]
            if st.steps == 1:
                state, (_, trm, info) = steps[s](state, jax.tree_util.tree_map(lambda a: a[0], stage_keys))
            else:
                probe = jax.eval_shape(steps[s], state, jax.tree_util.tree_map(lambda a: a[0], stage_keys))[1]

                def one(j, c, s=s, stage_keys=stage_keys):
                    st_, (_, _, acc) = c
                    st_, (tot, trm, info) = steps[s](st_, jax.tree_util.tree_map(lambda a: a[j], stage_keys))
                    acc = {g: {f: _accumulate(f, acc[g][f], v) for f, v in fl.items()} for g, fl in info.items()}
                    return st_, (tot, trm, acc)

                start = jax.tree_util.tree_map(lambda a: jnp.zeros(a.shape, a.dtype), probe)
                state, (_, trm, acc) = jax.lax.fori_loop(0, st.steps, one, (state, start))
                info = {g: {f: _finish(f, v, st.steps) for f, v in fl.items()} for g, fl in acc.items()}
            if not has_grad[s]:  # density stages compute no loss: evaluate the stage's terms once at its end
                trm = mean_loss(plan, backends, stage_losses[s], state)[1]
            terms = terms.at[jnp.asarray(st.terms)].set(trm.astype(terms.dtype))
            infos.update(info)
        total = jnp.dot(w.astype(terms.dtype), terms)
        return state._replace(step=state.step + 1), (total, terms, infos)

    return epoch, bases
