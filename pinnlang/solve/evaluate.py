"""``crux.eval``: expressions at the current values, or pushed forward through the posterior draws."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..compile.program import GraphAnalysis, Program, static_signature, with_model_key
from ..errors import ConfigurationError, ShapeError
from ..validate import integer
from ..trace import Node
from ..trace.ops import as_node
from . import predictive as predictive_draws
from .posterior import CONSTANT, DRAWS, STEPS
from .stochastic import mc_request
from .streams import EVAL_STREAM

OUTPUT_BUDGET = 1 << 26  # values per chunk of draws (256 MB of float32 outputs)


class Evaluation:
    """The evaluation half of :class:`~pinnlang.solve.core.Core` (a mixin)."""

    def eval(self, exprs, domain=None, samples: str = "auto", chunk_size: int | None = None, *,
             num_samples: int | None = None, key=None, seed: int | None = None):
        """Evaluate expressions (fields, derivatives, whole residuals) at the current values or over draws.

        Stochastic models (dropout) run in inference mode unless ``num_samples``, ``key`` or ``seed`` is
        given: then every draw gets a fresh key (and every point its own), MC dropout.

        Args:
            exprs: an expression or a list of them.
            domain: evaluate on this domain's point sets (matched by tag) instead of the originals.
            samples: ``"auto"``: push each expression through the draws of the sampled handles it depends
                on (``(K, N, ...)`` results), point values otherwise; ``"chain"``: the same, but an error
                when nothing it depends on has draws; ``"point"``: current values (chain 0's last draw
                for sampled handles).
            chunk_size: draws evaluated at once (default: sized to keep outputs near 256 MB).
            num_samples: ``S`` draws of the stochastic models for expressions without posterior draws:
                ``(1, S, ...)`` results (expressions of deterministic models repeat their value).
            key: the ``jax.random`` key of those draws; with posterior draws (and no ``num_samples``) each
                posterior draw gets its own key from it. Default with ``num_samples``: a key from the core's
                seed that advances with each call (same script, same draws).
            seed: an integer instead of ``key``.

        Returns:
            One array for a single expression (or a one-element list), else a list.
        """
        from ..domain.domain import Domain

        if samples not in ("auto", "chain", "point"):
            raise ConfigurationError(f"samples must be 'auto', 'chain' or 'point', got {samples!r}")
        if chunk_size is not None:
            chunk_size = integer("eval(chunk_size) (draws evaluated at once)", chunk_size, minimum=1)
        if domain is not None and not isinstance(domain, Domain):
            raise ConfigurationError(
                f"eval(domain=...) takes a pl.domain (e.g. pl.domain.line(...) or pl.domain.from_array({{'tag': "
                f"points}})), got {type(domain).__name__}")
        single = isinstance(exprs, Node) or not isinstance(exprs, (list, tuple))
        nodes = [as_node(e) for e in ([exprs] if single else exprs)]
        if not nodes:
            raise ConfigurationError("eval needs at least one expression")
        sampled = {k: h for k, h in self.handles_in(nodes).items() if h._posterior is not None}
        deps = [set(self.handles_in([n])) & set(sampled) if samples != "point" else set() for n in nodes]
        if samples == "chain" and not any(deps):
            raise ConfigurationError("samples='chain' but none of these expressions depends on a model or parameter "
                                     "with posterior samples; use samples='auto' or 'point'")
        model_key, num_samples = mc_request([self.handles_in([n]) for n in nodes], [bool(d) for d in deps],
                                            num_samples, key, seed,
                                            lambda: self._next_key(EVAL_STREAM, "_eval_calls"))
        out = [None] * len(nodes)
        point = [i for i, d in enumerate(deps) if not d]
        chained = [i for i, d in enumerate(deps) if d]
        for idx, with_draws in ((point, False), (chained, True)):
            if not idx:
                continue
            posts = {k: sampled[k]._posterior for k in set().union(*(deps[i] for i in idx))} if with_draws else {}
            draws = (model_key, None) if with_draws else (model_key, num_samples) if num_samples else None
            for i, value in zip(idx, self._evaluate([nodes[i] for i in idx], domain, posts, chunk_size, draws)):
                out[i] = value
        return out[0] if len(out) == 1 else out

    def predictive(self, expr=None, noise=None, *, key=None, seed=None, num_samples=None, domain=None,
                   samples: str = "auto", chunk_size: int | None = None):
        """Posterior predictive draws ``y = f + noise · eps`` of a Gaussian observation model, with ``f``.

        Args:
            expr: the noise-free prediction ``f`` (``(n, k)`` over a point set, or point-free). ``None``: the
                prediction side of the loss's only ``gaussian_nll`` data term ``(prediction - data)``, broadcast
                to the data's shape.
            noise: the standard deviation: a positive number, or an expression (a parameter, ``pl.np.exp(s)``,
                a per-point array) evaluated at the same draw as ``f``. ``None``: the sigma of the
                ``gaussian_nll`` term whose residual is ``expr - data`` (an error unless exactly one noise
                scale qualifies).
            key: a ``jax.random`` key of ``eps`` (split into the models' key and eps's when a stochastic model
                is called). Default: a key from the core's seed that advances with each
                call (same script, same draws).
            seed: an integer instead of ``key`` (at most one of them).
            num_samples: draws ``S`` when neither ``expr`` nor ``noise`` has posterior draws (then ``(1, S)``);
                a stochastic model (dropout) then draws a fresh key per draw: MC-dropout predictive draws.
            domain: as for :meth:`eval`.
            samples: as for :meth:`eval`.
            chunk_size: as for :meth:`eval`.

        Returns:
            :class:`~pinnlang.solve.predictive.PredictiveDraws` ``(f, y, sigma)``, ``f`` and ``y`` of shape
            ``(K, N, *shape)``, ``eps ~ N(0, 1)`` independent per entry and draw.
        """
        default = self._next_key(predictive_draws.PREDICTIVE_STREAM, "_predictive_calls")
        return predictive_draws.predictive(self, expr, noise, key=key, seed=seed, num_samples=num_samples,
                                           domain=domain, samples=samples, chunk_size=chunk_size, default_key=default)

    def _next_key(self, stream: int, counter: str):
        """``fold_in(fold_in(core key, stream), call)``: a default key that advances with each call."""
        calls = getattr(self, counter, 0)
        setattr(self, counter, calls + 1)
        return jax.random.fold_in(jax.random.fold_in(self.key, stream), calls)

    def handles_in(self, nodes) -> dict:
        """``{key: handle}`` that the expressions depend on (cached per expression)."""
        found = {}
        for n in nodes:
            if n.key not in self._handles_of:
                self._handles_of[n.key] = GraphAnalysis([n], self.loss.program.keys).handles
            found.update(self._handles_of[n.key])
        return found

    def _evaluate(self, nodes, domain, posts: dict, chunk_size, draws=None):
        """Compiled (and cached) evaluation of ``nodes``: point values, or pushed through ``posts``.

        ``draws``: ``(model_key, num_samples)`` of the stochastic models' draws (``num_samples`` ``None``
        with ``posts``: one key per posterior draw); ``None``: inference mode."""
        prog_key = tuple(n.key for n in nodes)
        if prog_key not in self._evaluators:
            self._evaluators[prog_key] = (Program(nodes, self.loss.program.keys), {})
        program, by_statics = self._evaluators[prog_key]
        statics = program.statics()  # read now: a module replaced since the last call (net.lora(...)) has new ones
        sig = static_signature(statics)
        if sig not in by_statics:
            by_statics[sig] = (lambda p, d: program.evaluate(p, d, statics), {})
        fn, compiled = by_statics[sig]
        params = {k: h.get_trainable() for k, h in program.handles.items()}
        data = program.data(self.noise_key, domain, [n.uid for n in self.loss.program.analysis.noises])
        try:
            if not posts and draws is None:
                if "point" not in compiled:
                    compiled["point"] = jax.jit(fn)
                return compiled["point"](params, data)
            return _push_forward(fn, compiled, params, posts, data, chunk_size, *(draws or (None, None)))
        except (TypeError, ValueError) as err:
            if domain is None:
                raise
            raise ShapeError(
                f"cannot evaluate on domain {getattr(domain, 'name', domain)!r}: {err}. Array constants with one row "
                "per point (data) only fit the point set they were built for; evaluate expressions without them."
            ) from None


def _push_forward(fn, compiled: dict, params: dict, posts: dict, data, chunk_size, model_key=None,
                  num_samples=None):
    """``fn`` at every draw ``(k, n)`` of the posteriors, ``chunk_size`` draws at a time: ``(K, N, ...)`` each.

    Leaves that vary per chain and draw are gathered per draw; leaves shared by the chains (a trained
    body under a sampled head) per draw index; constant leaves are passed once, never copied K·N times.
    With ``model_key``, draw ``i = k·N + n`` runs the stochastic models on ``fold_in(model_key, i)``;
    without ``posts`` the layout is ``(1, num_samples)``.
    """
    layouts = {(p.num_chains, p.num_draws) for p in posts.values()} or {(1, num_samples)}
    solves = {p.solve_id for p in posts.values()}
    names = ", ".join(sorted(p.handle.name for p in posts.values()))
    if len(solves) > 1 or len(layouts) > 1:
        raise ConfigurationError(
            f"the draws of {names} come from different solves ({sorted(layouts)} chains x draws); they are not joint "
            "draws and cannot be paired. Sample them together in one solve, or evaluate with samples='point'")
    K, N = layouts.pop()
    keys = sorted(posts)
    kinds = tuple((k, tuple(kind for kind, _ in posts[k].sources), posts[k].treedef) for k in keys)
    arrays = {k: [jax.device_put(a) for _, a in posts[k].sources] for k in keys}  # jnp.asarray compiles per shape
    if chunk_size is None:
        def first(arrays):  # one draw's outputs, traced only: indexing eagerly compiles two programs per leaf
            theta = {k: jax.tree_util.tree_unflatten(posts[k].treedef, [_at(kind, a, 0, 0) for (kind, _), a
                                                                        in zip(posts[k].sources, arrays[k])])
                     for k in keys}
            return fn({**params, **theta}, data)

        per = sum(int(np.prod(o.shape)) for o in jax.eval_shape(first, arrays))
        chunk_size = max(1, min(K * N, OUTPUT_BUDGET // max(per, 1)))
    chunk_size = min(int(chunk_size), K * N)
    m = -(-K * N // chunk_size)
    cache_key = ("draws", kinds, K, N, chunk_size, m, model_key is not None)
    if cache_key not in compiled and m == 1:
        compiled[cache_key] = jax.jit(_all_draws_at_once(fn, kinds, K, N))
    if cache_key not in compiled:
        def run(arrays, params, data, model_key):
            def one(i):
                c, n = i // N, i % N
                theta = {}
                for k, kinds_k, treedef in kinds:
                    theta[k] = jax.tree_util.tree_unflatten(
                        treedef, [_at(kind, a, c, n) for kind, a in zip(kinds_k, arrays[k])])
                d = data if model_key is None else with_model_key(data, jax.random.fold_in(model_key, i))
                return fn({**params, **theta}, d)

            idx = jnp.minimum(jnp.arange(m * chunk_size), K * N - 1).reshape(m, chunk_size)
            out = jax.lax.map(jax.vmap(one), idx)
            return [jnp.reshape(o, (m * chunk_size,) + o.shape[2:])[: K * N].reshape((K, N) + o.shape[2:])
                    for o in out]

        compiled[cache_key] = jax.jit(run)
    return compiled[cache_key](arrays, params, data, model_key)


def _all_draws_at_once(fn, kinds, K: int, N: int):
    """``run(arrays, params, data, model_key) -> [(K, N, ...)]``: ``fn`` vmapped over chains, then draws.

    The leaves enter the two ``vmap``s on their own axes (draws ``(N, K, ...)`` on both, steps ``(N, ...)``
    on the draws only, constants on neither): no index arithmetic nor gathers to compile.
    """
    def run(arrays, params, data, model_key):
        def one(i, leaves):
            theta = {k: jax.tree_util.tree_unflatten(treedef, leaves[k]) for k, _, treedef in kinds}
            d = data if model_key is None else with_model_key(data, jax.random.fold_in(model_key, i))
            return fn({**params, **theta}, d)

        chain_axes = {k: [1 if kind == DRAWS else None for kind in kinds_k] for k, kinds_k, _ in kinds}
        draw_axes = {k: [None if kind == CONSTANT else 0 for kind in kinds_k] for k, kinds_k, _ in kinds}
        per_draw = jax.vmap(one, in_axes=(0, draw_axes))
        index = jnp.arange(K * N).reshape(K, N)  # draw i = k·N + n, as the chunked path numbers them
        return jax.vmap(per_draw, in_axes=(0, chain_axes))(index, arrays)

    return run


def _at(kind: str, a, c, n):
    """One draw's value of a leaf stored as ``kind`` (draws ``(N, K, ...)``, steps ``(N, ...)``, constant)."""
    if kind == DRAWS:
        return a[n, c]
    if kind == STEPS:
        return a[n]
    assert kind == CONSTANT
    return a
