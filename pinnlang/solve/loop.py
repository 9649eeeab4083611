"""The compiled training/sampling loop: ``lax.scan`` over steps, one dispatch per chunk."""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from ..backends.mcmc import McmcBackend


class Carry(NamedTuple):
    """State threaded through the scan.

    Attributes:
        params: ``{key_name: values}`` of the handles being updated (Bayesian handles: chain 0).
        states: ``{key_name: optimiser state | ChainState}``.
        data: coordinates/constants/noise keys (coordinates change when resampling).
        step: global epoch counter.
        key: PRNG key.
    """

    params: dict
    states: dict
    data: dict
    step: jax.Array
    key: jax.Array


def _aggregate(info: dict) -> dict:
    """Diagnostics of a thinning block ``{field: (thin, K)}``: any divergence, mean acceptance, last energy."""
    out = {}
    for f, vals in info.items():
        if f == "is_divergent":
            out[f] = jnp.any(vals, axis=0)
        elif f == "acceptance_rate":
            out[f] = jnp.mean(vals, axis=0)
        else:
            out[f] = vals[-1]
    return out


def make_chunk_runner(loss: Callable, optax_backends: dict, mcmc_backends: dict[str, McmcBackend],
                      targets: Callable, resamplers: dict, resample_every: int | None, thin: int = 1,
                      minibatch: Callable | None = None):
    """Build ``run(carry, frozen, length, collect) -> (carry, outputs)``, jitted.

    One scan iteration runs ``thin`` epochs when ``collect`` (else one) and emits the loss at its last
    epoch; when collecting it also emits every Bayesian handle's chain positions ``(K, ...)`` and the
    kernel diagnostics of the block. Without optimised handles nothing needs the loss inside a step
    (kernels evaluate their own log-density), so it is evaluated once, at the end of the chunk:
    ``totals`` then has length 1.

    The step carries no finiteness bookkeeping (a per-step select over every parameter and
    optimiser state costs about 25 % on small networks); the caller checks the chunk's losses
    and, after a non-finite one, replays the chunk up to the last finite step.

    Args:
        loss: ``(params, data) -> (total, terms)``.
        optax_backends: ``{key_name: OptaxBackend}``.
        mcmc_backends: ``{key_name: McmcBackend}``.
        targets: ``(key_name, params, data) -> log-density or gradient-estimator closure`` for a Bayesian handle.
        resamplers: ``{point key: key -> (n, d) points}`` for point sets drawn at random.
        resample_every: redraw those points every this many epochs (``None``: never).
        thin: epochs per kept sample.
        minibatch: ``(data, key, batch_size) -> data`` for stochastic-gradient kernels with ``batch_size``.
    """

    def run(carry: Carry, frozen: dict, length: int, collect: bool):
        def total_fn(params, data):
            return loss({**frozen, **params}, data)

        def resample(data, step, key):
            if not resamplers or not resample_every:
                return data
            due = (step > 0) & (step % resample_every == 0)

            def fresh(d):
                k = jax.random.fold_in(key, step)
                coords = dict(d["coords"])
                for i, (pk, draw) in enumerate(sorted(resamplers.items())):
                    coords[pk] = draw(jax.random.fold_in(k, i)).astype(coords[pk].dtype)
                return {**d, "coords": coords}

            return jax.lax.cond(due, fresh, lambda d: d, data)

        def epoch(c: Carry):
            data = resample(c.data, c.step, c.key)
            params, states = dict(c.params), dict(c.states)
            if optax_backends:
                opt = {k: params[k] for k in optax_backends}
                (total, terms), grads = jax.value_and_grad(
                    lambda o: total_fn({**params, **o}, data), has_aux=True)(opt)
                for k, backend in optax_backends.items():
                    value_fn = lambda p, k=k: total_fn({**params, k: p}, data)[0]  # noqa: E731
                    params[k], states[k] = backend.step(params[k], grads[k], states[k], total, value_fn)
            else:
                total, terms = jnp.zeros(()), jnp.zeros(())  # not recorded per step (see above)
            infos = {}
            step_key = jax.random.fold_in(c.key, c.step)
            for i, (k, backend) in enumerate(sorted(mcmc_backends.items())):
                batch = backend.config.batch_size
                d = minibatch(data, jax.random.fold_in(step_key, 1000 + i), batch) if batch else data
                kernel_key = step_key if len(mcmc_backends) == 1 else jax.random.fold_in(step_key, i)
                states[k], infos[k] = backend.step(kernel_key, states[k],
                                                    targets(k, {**frozen, **params}, d))
                params[k] = jax.tree_util.tree_map(lambda a: a[0], backend.positions(states[k]))
            return Carry(params, states, data, c.step + 1, c.key), (total, terms, infos)

        def iteration(c: Carry, _):
            if not collect or thin == 1:
                c, (total, terms, infos) = epoch(c)
            else:  # a thinning block: `thin` epochs, diagnostics of every one of them aggregated
                c, (totals, termss, block) = jax.lax.scan(lambda cc, _: epoch(cc), c, None, length=thin)
                total, terms = totals[-1], termss[-1]
                infos = {k: _aggregate(v) for k, v in block.items()}
            if not collect:
                return c, (total, terms)
            samples = {k: b.positions(c.states[k]) for k, b in mcmc_backends.items()}
            return c, (total, terms, samples, infos)

        carry, out = jax.lax.scan(iteration, carry, None, length=length)
        if not optax_backends:  # the loss at the end of the chunk only
            total, terms = total_fn(carry.params, carry.data)
            out = (total[None], terms[None], *out[2:])
        return carry, out

    return jax.jit(run, static_argnums=(2, 3))
