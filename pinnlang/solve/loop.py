"""The compiled chunk: one loop over steps, one dispatch and one host transfer per chunk.

One program serves every chunk of a plan: the number of iterations, the steps per iteration (1, or
``thin`` when collecting draws) and whether draws are collected are arguments, not compile-time
constants. Warmup chunks, collection chunks, a last shorter chunk, the replay after a non-finite
loss and a ``solve`` with other epochs all run the same executable (XLA compiles a solve's step in a
second or more on a CPU; before, a solve compiled two to four variants of it).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..backends.base import GRADIENT
from .plan import Plan
from .rows import Rows
from .state import member_positions
from .step import fold_step, mean_loss

KEY_BLOCK = 256  # iterations whose step keys are derived at once: vectorised (per step in the loop costs
# microseconds), in blocks so that a short chunk does not derive the keys of a whole record buffer


def make_chunk_runner(plan: Plan, backends: list, loss_fn: Callable, step: Callable, step_keys: Callable,
                      keys, max_iterations: int, max_draws: int, needs_loss: bool | None = None,
                      end_loss: Callable | None = None) -> "ChunkRunner":
    """The chunk program ``run(state, iterations, inner, collect, bases) -> (state, buffers)``, jitted, every
    argument dynamic, and the host function that cuts its buffers into records (:class:`ChunkRunner`).

    Args:
        plan, backends, loss_fn, step, step_keys: the engine's pieces (``bases``, an argument of ``run``, is
            ``step_keys(state.key)``, computed on the host once per solve).
        keys: handles whose positions are drawn (those with a sampled leaf).
        max_iterations: the most iterations one chunk runs (the size of the record buffers).
        max_draws: the most draws one chunk collects (the size of the draw buffers).
        needs_loss: the step returns the loss (default: when a group consumes the gradient).
        end_loss: ``state -> (total, terms)`` recorded at the end of a chunk whose steps return no loss
            (default: the full loss, averaged over chains).

    One iteration runs ``inner`` steps (``1``, or ``plan.thin`` when collecting) and records the loss
    at the start of its last step; when ``collect``, it also writes every drawn group's position and
    the density groups' diagnostics of the block (any divergence, mean acceptance, last value of the
    others). The program returns the record rows as written (``max_iterations`` and ``max_draws`` of them);
    ``unpack`` gives ``(totals (I,), terms (I, T), draws, infos, traces)`` for the chunk's ``I`` iterations:
    draws and ``{group: {field: (I, K)}}`` infos when collecting, and ``traces`` ``{group: {field: (I, K)}}``
    of the backends' ``traced`` fields at every iteration (the ELBO of a VI group). Without gradient groups
    no step needs the loss (kernels evaluate their own log-density): ``end_loss`` is evaluated once, at the
    end of the chunk, and the totals and terms have one entry.

    The loop runs over steps, in blocks of ``KEY_BLOCK`` iterations whose keys are derived at once; each
    step writes its iteration's two rows (records, and the kept draw), so the last step of an iteration
    writes last (see :mod:`pinnlang.solve.rows` for why rows and not leaves).

    The steps carry no finiteness bookkeeping (a per-step select over every value and optimiser
    state costs about 25 % on small networks); the caller checks the chunk's losses and, after a
    non-finite one, replays the chunk up to the last finite step.
    """
    thin = plan.thin
    if needs_loss is None:
        needs_loss = any(b.consumes == GRADIENT for b in backends)
    traced = {i: b.traced for i, b in enumerate(backends) if b.traced}
    if end_loss is None:
        end_loss = lambda s: mean_loss(plan, backends, loss_fn, s)  # noqa: E731
    collects = bool(plan.mcmc)  # no chain to collect (VI, optimisers): no draw writes to pay for at every step
    # jitted, the step is traced once: the probe of its output shapes and the loop body share the trace
    # (JAX caches a jitted function's trace by its argument types; XLA inlines the call)
    step = jax.jit(step)

    def keys_for(s, bases):
        """The keys of the next ``block_len * thin`` steps from ``s``: ``{name: (block_len * thin, ...)}``."""
        return jax.vmap(lambda t: fold_step(bases, t))(s.step + jnp.arange(block_len * thin))

    def drawn(s):
        return tuple({k: v for k, v in pos.items() if k in keys} for pos in member_positions(plan, backends, s.groups))

    block_len = min(KEY_BLOCK, max_iterations)
    layouts_by_type: dict = {}

    def layouts(state, bases):
        """``(records, kept, info shapes)`` of a chunk from ``state``, built once per argument type."""
        leaves, treedef = jax.tree_util.tree_flatten((state, bases))
        sig = (treedef, tuple((a.shape, a.dtype) for a in leaves))
        if sig not in layouts_by_type:
            first = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape[1:], a.dtype),
                                           jax.eval_shape(keys_for, state, bases))
            probe = jax.eval_shape(step, state, first)[1]
            loss_shapes = jax.eval_shape(lambda s: mean_loss(plan, backends, loss_fn, s), state) if needs_loss else ()
            trace_shapes = {g: {f: probe[2][g][f] for f in fields} for g, fields in traced.items()}
            records = Rows({"loss": loss_shapes, "traces": trace_shapes}, max_iterations)
            kept = Rows({"draws": jax.eval_shape(drawn, state), "infos": probe[2]}, max_draws) if collects else None
            layouts_by_type[sig] = (records, kept, probe[2])
        return layouts_by_type[sig]

    def run(state, iterations, inner, collect, bases):
        records, kept, info_shapes = layouts(state, bases)
        acc0 = _block_start(info_shapes)

        def key_block(b, c):
            """Up to ``block_len`` iterations (``block_len * inner`` steps), on the keys of their steps derived at once.

            One flat loop over steps, not a loop over iterations of an inner loop over ``inner`` steps: entering
            a nested loop copies every buffer of the state it carries (a few microseconds a step on small
            networks). Every step writes its iteration's slot; the last step of the iteration writes last.
            """
            table = keys_for(c[0], bases)
            offset = b * block_len * inner

            def one(u, c):
                s, acc, rec_b, kept_b = c
                s, (total, term, info) = step(s, jax.tree_util.tree_map(lambda a: a[u], table))
                t = offset + u
                if thin == 1:  # one step an iteration: no index arithmetic nor accumulation to pay for every step
                    i, block_info = t, info
                else:
                    i, j = t // inner, t % inner
                    acc = {g: {f: jnp.where(j == 0, v, _accumulate(f, acc[g][f], v)) for f, v in fields.items()}
                           for g, fields in info.items()}
                    block_info = {g: {f: _finish(f, v, j + 1) for f, v in fields.items()} for g, fields in acc.items()}
                traces = {g: {f: block_info[g][f] for f in fields} for g, fields in traced.items()}
                # sampling-only steps compute no loss: the chunk records one at its end
                rec_b = records.put(rec_b, {"loss": (total, term) if needs_loss else (), "traces": traces}, i)
                if collects:
                    # an unconditional in-place write (a cond here costs more per step than the write); outside a
                    # collecting chunk it goes to the last slot, which nothing reads
                    slot = jnp.where(collect, jnp.minimum(i, max_draws - 1), max_draws - 1)
                    kept_b = kept.put(kept_b, {"draws": drawn(s), "infos": block_info}, slot)
                return s, acc, rec_b, kept_b

            return jax.lax.fori_loop(0, jnp.minimum(block_len * inner, iterations * inner - offset), one, c)

        num_blocks = (iterations + block_len - 1) // block_len
        start = (state, acc0, records.zeros(), kept.zeros() if collects else {})
        state, _, rec_b, kept_b = jax.lax.fori_loop(0, num_blocks, key_block, start)
        return state, (rec_b, kept_b, () if needs_loss else end_loss(state))

    def unpack(state, bases, buffers, iterations: int, collect: bool):
        """The host side of a chunk's outputs: ``(totals, terms, draws, infos, traces)``, NumPy arrays cut to the
        chunk (``iterations`` entries; one loss entry without a per-step loss; draws and infos ``None`` unless
        collecting)."""
        records, kept, _ = layouts(state, bases)
        rec_b, kept_b, end = buffers
        rec = records.unpack(rec_b, iterations)
        if needs_loss:
            totals, terms = rec["loss"]
        else:
            totals, terms = (np.asarray(a)[None] for a in end)
        draws = infos = None
        if collect and collects:
            out = kept.unpack(kept_b, iterations)
            draws, infos = out["draws"], out["infos"]
        return totals, terms, draws, infos, rec["traces"]

    return ChunkRunner(jax.jit(run), unpack)


class ChunkRunner(NamedTuple):
    """A plan's chunk program and the host function that cuts its outputs into records.

    ``program(state, iterations, inner, collect, bases) -> (state, buffers)`` is jitted;
    ``unpack(state, bases, buffers, iterations, collect) -> (totals, terms, draws, infos, traces)`` runs on the
    host (``state`` and ``bases`` the chunk's inputs, which fix the layout of its buffers).
    """

    program: Callable
    unpack: Callable

    def lower(self, *args):
        return self.program.lower(*args)


def _block_start(info_shapes: dict) -> dict:
    return {g: {f: jnp.zeros(a.shape, a.dtype) for f, a in fields.items()} for g, fields in info_shapes.items()}


def _accumulate(field: str, acc, value):
    """Diagnostics over a thinning block: any divergence, summed acceptance (averaged at the end) and integration
    steps (the block's cost), else the last."""
    if field == "is_divergent":
        return acc | value
    if field in ("acceptance_rate", "num_integration_steps"):
        return acc + value
    return value


def _finish(field: str, acc, inner):
    return acc / inner if field == "acceptance_rate" else acc
