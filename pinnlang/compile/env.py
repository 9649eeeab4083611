"""The lowering environment: evaluates graph nodes into JAX values inside a trace."""

from __future__ import annotations

import jax

from .derivatives import linearized_tower, maximal_multi_indices, shared_prefix_plan, tower


class LoweringEnv:
    """Memoised evaluation of nodes (by structural key) for one call of a compiled function.

    Args:
        params: ``{handle key: trainable pytree}`` (``analysis.keys(handle)``).
        statics: ``{model key: non-trainable part of the module}``.
        coords: ``{PointSet: (n, d) coordinates}``.
        constants: ``{Constant.data_key: array}``.
        noise_keys: ``{noise uid: PRNG key}`` for noise without an explicit key.
        analysis: the :class:`~pinnlang.compile.program.GraphAnalysis` of the graph.
        parent: the enclosing environment when evaluating inside a derivative tower.
        varying: the point set whose coordinates vary in this (tower) environment.
    """

    def __init__(self, params, statics, coords, constants, noise_keys, analysis, parent=None, varying=None):
        self.params = params
        self.statics = statics
        self.coords = coords
        self.constants = constants
        self.noise_keys = noise_keys
        self.analysis = analysis
        self.parent = parent
        self.varying = varying
        self.memo: dict = {}
        self.rows: dict = parent.rows if parent is not None else {}  # PointSet -> minibatch row indices
        self.model_key = parent.model_key if parent is not None else None  # stochastic models: train mode

    def row_scale(self, points) -> float:
        """``n / batch`` for a minibatched point set (1 otherwise): the weight of sums over its rows."""
        if points is None or points not in self.rows:
            return 1.0
        return points.num_points / self.rows[points].shape[0]

    def call_key(self, call):
        """The key of a stochastic model call: ``fold_in(model_key, its index in the graph)``, or ``None``
        (inference mode) when the evaluation has no model key. Towers see their parent's key, so a
        derivative of a dropout model is the derivative under the same masks."""
        if self.model_key is None:
            return None
        return jax.random.fold_in(self.model_key, self.analysis.stochastic_calls[call.key])

    def value(self, node):
        """The value of ``node`` (computed once per environment)."""
        k = node.key
        if k in self.memo:
            return self.memo[k]
        if self.parent is not None and not self.analysis.depends_on(node, self.varying):
            return self.parent.value(node)  # constant with respect to the varying coordinates
        args = [] if getattr(node, "lowers_children", False) else [self.value(c) for c in node.children()]
        v = node.lower(self, args)
        self.memo[k] = v
        return v

    def derivative(self, node):
        """Value of a Derivative node: computes the whole tower of its base expression once."""
        base, points = node.base, node.points
        requested = self.analysis.derivatives_of(base)
        x = self.coords[points]

        def fn(y):
            sub = LoweringEnv(
                self.params, self.statics, {**self.coords, points: y}, self.constants, self.noise_keys,
                self.analysis, parent=self, varying=points,
            )
            return sub.value(base)

        maximal = maximal_multi_indices(requested | {node.dims})
        plan = shared_prefix_plan(maximal)
        results = [linearized_tower(fn, x, *plan)] if plan else [tower(fn, x, a) for a in maximal]
        for values in results:
            for s, v in values.items():
                key = base.key if not s else ("Derivative", s, (base.key,))
                self.memo.setdefault(key, v)
        return self.memo[node.key]
