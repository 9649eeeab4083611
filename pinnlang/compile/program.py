"""Lowering a placeholder graph to one pure JAX function of (params, data)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ShapeError, TagError
from ..host_keys import fold_in
from ..trace import Constant, Derivative, GaussianNoise, ModelCall, Parameter, Reduction, Variable, walk
from .env import LoweringEnv
from .keys import HandleKeys


MODEL_KEY = "model_key"  # data[MODEL_KEY]: the key of stochastic models (absent: inference mode)


def with_model_key(data: dict, key) -> dict:
    """``data`` whose stochastic models run in train mode on ``key`` (``None``: ``data`` as it is)."""
    return data if key is None else {**data, MODEL_KEY: key}


def _per_point_constants(node, n: int):
    """Array constants with one row per point that reach a pointed node through point-free ``node``.

    ``data`` itself, or the data inside ``a * data`` or ``data[:, :1]``: every point-free node on the
    way keeps the point axis first (``shape[0] == n``); reductions, parameters and other point sets stop
    the search.
    """
    if node.points is not None or isinstance(node, (Reduction, Parameter)) or not node.shape \
            or node.shape[0] != n:
        return
    if isinstance(node, Constant):
        if not node.is_scalar:
            yield node
        return
    for c in node.children():
        yield from _per_point_constants(c, n)


def static_signature(statics: dict) -> tuple:
    """A hashable summary of the models' non-array parts (a compiled function closing over them is reused only
    while it is unchanged)."""
    out = []
    for k, v in sorted(statics.items()):
        leaves, treedef = jax.tree_util.tree_flatten(v)
        try:
            hash(tuple(leaves))
            out.append((k, treedef, tuple(leaves)))
        except TypeError:
            out.append((k, treedef, tuple(id(l) for l in leaves)))
    return tuple(out)


class GraphAnalysis:
    """What a graph needs: handles, point sets, constants, noise sources and derivative groups.

    Pytree keys (handles, point sets, noise sources) are ordinals within the graph, never process-unique
    ids, so the same problem built twice compiles to the same program (see :mod:`pinnlang.compile.keys`).

    Args:
        roots: the output nodes.
        keys: the problem's :class:`~pinnlang.compile.keys.HandleKeys` (a core passes its own, so every
            expression it evaluates keys a handle as its loss does); default: fresh ones.
    """

    def __init__(self, roots, keys: HandleKeys | None = None):
        self.roots = list(roots)
        self.nodes = list(walk(self.roots))
        self.keys = keys if keys is not None else HandleKeys()
        self.handles = {}
        self._domains: dict = {}  # domain uid -> ordinal in this graph
        self.point_sets = {}
        self.constants = {}
        self.constant_nodes = {}  # Constant.data_key -> the Constant (its label and shape, for messages)
        self.noises = []
        self.constant_points = {}  # Constant.data_key -> point key, for per-point data arrays
        self.derivative_nodes = []
        self.stochastic_calls = {}  # ModelCall.key -> index, for the calls of stochastic models (their key stream)
        self._derivs: dict = {}
        self._depends: dict = {}
        for n in self.nodes:
            if isinstance(n, Parameter):
                self.handles.setdefault(self.keys(n), n)
            elif isinstance(n, ModelCall):
                self.handles.setdefault(self.keys(n.model), n.model)
                if n.model.stochastic:
                    self.stochastic_calls.setdefault(n.key, len(self.stochastic_calls))
            elif isinstance(n, Variable):
                self._add_points(n.points)
            elif isinstance(n, Constant) and not n.is_scalar:
                self.constants[n.data_key] = n.value
                self.constant_nodes.setdefault(n.data_key, n)
            elif isinstance(n, GaussianNoise):
                if n.points is not None:
                    self._add_points(n.points)
                if n.uid not in [m.uid for m in self.noises]:
                    self.noises.append(n)
            owner = n.child.points if isinstance(n, Reduction) else n.points  # labels/sigma follow the residual
            if owner is not None:
                for c in n.children():
                    for const in _per_point_constants(c, owner.num_points):
                        self.constant_points.setdefault(const.data_key, self._add_points(owner))
            if isinstance(n, Derivative):
                self.derivative_nodes.append(n)
                self._derivs.setdefault(n.base.key, set()).add(n.dims)

    def _add_points(self, points) -> str:
        self._domains.setdefault(points.domain_uid, len(self._domains))
        key = self.point_key(points)
        self.point_sets.setdefault(key, points)
        return key

    def point_key(self, points) -> str | None:
        """String key of a point set in the data pytree: ``"<domain ordinal>:<tag>"`` (``None`` when its
        domain is not in this graph)."""
        i = self._domains.get(points.domain_uid)
        return None if i is None else f"{i}:{points.tag}"

    @property
    def stochastic_models(self) -> dict:
        """``{key: Model}`` of the stochastic models the graph calls."""
        return {k: h for k, h in self.handles.items() if getattr(h, "stochastic", False)}

    def derivatives_of(self, base) -> set:
        """Multi-indices requested anywhere in the graph for ``base``."""
        return self._derivs.get(base.key, set())

    def depends_on(self, node, points) -> bool:
        """Whether ``node``'s value depends on the coordinates of ``points``."""
        k = (node.key, points)
        if k not in self._depends:
            if isinstance(node, Variable):
                self._depends[k] = node.points == points
            else:
                self._depends[k] = any(self.depends_on(c, points) for c in node.children())
        return self._depends[k]


class Program:
    """A compiled evaluator of several expressions.

    ``program.evaluate(params, data)`` returns the list of root values; it is pure, so
    it can be jitted, differentiated and vmapped over posterior samples.

    Args:
        roots: the expressions to evaluate.
        keys: the problem's handle keys (see :class:`GraphAnalysis`).
    """

    def __init__(self, roots, keys: HandleKeys | None = None):
        self.analysis = GraphAnalysis(roots, keys)
        self.roots = self.analysis.roots

    @property
    def keys(self) -> HandleKeys:
        """The problem's handle keys."""
        return self.analysis.keys

    @property
    def handles(self) -> dict:
        """``{key: Model | Parameter}`` used by the graph."""
        return self.analysis.handles

    def statics(self) -> dict:
        """Non-trainable parts of the models (closed over by the compiled function)."""
        return {k: h.static_part for k, h in self.handles.items() if hasattr(h, "static_part")}

    def data(self, seed_key, domain=None, noise_order=()) -> dict:
        """The data pytree: coordinates, array constants and noise keys.

        Args:
            seed_key: PRNG key from which noise without an explicit key is drawn.
            domain: evaluate on this domain's point sets (same tags) instead of the originals.
            noise_order: uids of noise sources in the order of another program (the loss): a source listed
                there draws with the same key as in that program, so ``crux.eval`` of part of a problem sees
                the same noise as the loss did; other sources come after them.
        """
        coords = {}
        for k, ps in self.analysis.point_sets.items():
            src = ps.domain if domain is None else domain
            if ps.tag not in src.context:
                raise TagError(
                    f"domain {getattr(src, 'name', src)!r} has no point set {ps.tag!r} needed by the expression; "
                    f"it defines {sorted(src.context)}"
                )
            arr = np.asarray(src.context[ps.tag])
            arr = arr.reshape(-1, 1) if arr.ndim == 1 else arr
            if arr.shape[1] != ps.width:
                raise ShapeError(
                    f"point set {ps.tag!r} of {getattr(src, 'name', src)} has {arr.shape[1]} coordinate columns, "
                    f"the expression was built on {ps.width}"
                )
            # device_put of the host array: an eager jnp.asarray with a dtype costs ~0.2 ms a call, every solve
            coords[k] = jax.device_put(arr.astype(np.float64 if jax.config.jax_enable_x64 else np.float32, copy=False))
        order = list(noise_order) + [n.uid for n in self.analysis.noises if n.uid not in noise_order]
        noise_keys = {str(i): fold_in(seed_key, order.index(n.uid))  # keyed by ordinal, not uid
                      for i, n in enumerate(self.analysis.noises)}
        return {"coords": coords, "constants": dict(self.analysis.constants), "noise": noise_keys}

    def env(self, params, data, statics=None) -> LoweringEnv:
        """A fresh lowering environment over ``params`` and ``data``."""
        coords = {ps: data["coords"][k] for k, ps in self.analysis.point_sets.items()}
        noise_keys = {n.uid: data["noise"][str(i)] for i, n in enumerate(self.analysis.noises)}
        env = LoweringEnv(params, statics if statics is not None else self.statics(), coords,
                          data["constants"], noise_keys, self.analysis)
        env.rows = {ps: data["rows"][k] for k, ps in self.analysis.point_sets.items() if k in data.get("rows", {})}
        env.model_key = data.get(MODEL_KEY)
        return env

    def minibatch(self, data: dict, key, batch_size: int, step=None) -> dict:
        """A subset of ``batch_size`` rows of every point set (data arrays and noise follow).

        Without ``step``: a random subset (``key`` fresh every step). With ``step``: epochs of shuffled
        batches — the rows of a point set of ``n`` points are permuted once per data epoch (``n // batch_size``
        steps, the key of data epoch ``e`` being ``fold_in(key, e)``) and step ``step`` takes the next slice,
        so every row is used once per data epoch. Sum-type reductions (``sum``, ``gaussian_nll``, ...) scale
        by ``n / batch_size`` so the minibatch log-likelihood is an unbiased estimate of the full one; means
        need no scale.
        """
        coords, rows = {}, {}
        for i, (k, x) in enumerate(sorted(data["coords"].items())):
            n = x.shape[0]
            m = min(batch_size, n)
            if m >= n:
                idx = jnp.arange(n)
            elif step is None:
                idx = jax.random.choice(jax.random.fold_in(key, i), n, (m,), replace=False)
            else:
                per_epoch = n // m
                perm = jax.random.permutation(jax.random.fold_in(jax.random.fold_in(key, i), step // per_epoch), n)
                idx = jax.lax.dynamic_slice(perm, ((step % per_epoch) * m,), (m,))
            coords[k], rows[k] = jnp.asarray(x)[idx], idx
        owner = self.analysis.constant_points
        constants = {c: (jnp.asarray(v)[rows[owner[c]]] if c in owner else v) for c, v in data["constants"].items()}
        return {**data, "coords": coords, "constants": constants, "rows": rows}

    def evaluate(self, params, data, statics=None) -> list:
        """Values of the roots, each ``(n, ...)`` or point-free."""
        env = self.env(params, data, statics)
        for d in self.analysis.derivative_nodes:  # towers first, so their primals are shared
            env.value(d)
        return [env.value(r) for r in self.roots]
