"""``crux.predictive``: posterior predictive draws ``y = f + σ·ε`` of a Gaussian observation model.

``f`` is an expression pushed through the posterior draws exactly as ``crux.eval`` does; ``σ`` is a
number, or an expression (a parameter, ``pl.np.exp(log_s)``, a per-point array) that is evaluated at
the *same* draw as ``f``: its value when it is fixed or optimised, its own draw when it is sampled.
``ε`` is standard normal, fresh for every entry of every draw. This is NumPyro's
``Predictive(model, samples)(key, x)["obs"]`` for ``obs ~ Normal(f, σ)``, with ``f`` alongside.

When ``f`` or ``σ`` calls a stochastic model (dropout), every draw also runs it on a fresh key
(``crux.eval(..., key=...)``): ``num_samples`` MC-dropout draws at the current values, or one per
posterior draw. The key given is split into the models' key and the key of ``ε``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigurationError, ShapeError
from ..trace import Apply, Constant, ModelCall, Node, Parameter, Reduction, as_node, walk
from ..validate import integer, is_real
from .stochastic import resolve_key, stochastic_names
from .streams import PREDICTIVE_STREAM



class PredictiveDraws(NamedTuple):
    """Posterior predictive draws of one expression.

    Attributes:
        f: ``(K, N, *shape)`` the noise-free expression at each posterior draw (``K`` chains of ``N``
            draws; ``(1, num_samples, ...)`` copies of the point value when nothing it depends on is sampled).
        y: ``(K, N, *shape)`` new observations ``f + sigma * eps``, ``eps ~ N(0, 1)`` independent per entry.
        sigma: the noise scale of each draw with ``y.ndim`` axes, broadcastable to ``y``: ``(K, N, ...)``
            when it varies over the draws, ``(1, 1, ...)`` when it does not.
    """

    f: jax.Array
    y: jax.Array
    sigma: jax.Array


def predictive(crux, expr=None, noise=None, *, key=None, seed=None, num_samples=None, domain=None,
               samples: str = "auto", chunk_size=None, default_key=None) -> PredictiveDraws:
    """Draws of ``y = f + σ ε`` (see :meth:`~pinnlang.solve.evaluate.Evaluation.predictive`)."""
    key = resolve_key(key, seed, default_key, "predictive")
    if isinstance(expr, (list, tuple)):
        raise ConfigurationError("predictive takes one expression (with one noise scale); call it once per expression")
    obs_shape = None
    if expr is None or noise is None:
        found, sigma_node, residual = likelihood_noise(crux, None if expr is None else as_node(expr))
        if expr is None:
            expr = found
            obs_shape = tuple(residual.shape) if domain is None else None  # one draw per observed entry
        noise = sigma_node if noise is None else noise
    expr, sigma = as_node(expr), _noise_operand(noise)
    nodes = [expr] + ([sigma] if isinstance(sigma, Node) else [])
    drawn = [samples != "point" and any(h._posterior is not None for h in crux.handles_in([n]).values())
             for n in nodes]
    mc = {}  # the stochastic models' draws: eval's key (and num_samples without posterior draws)
    random = stochastic_names(handles=crux.handles_in(nodes))
    if random:
        if not any(drawn) and num_samples is None:
            raise ConfigurationError(
                f"the prediction calls the stochastic model(s) {', '.join(random)} and nothing "
                "it depends on has posterior draws; pass num_samples=S for S MC-dropout predictive draws")
        key, model_key = jax.random.split(key)
        mc = {"key": model_key, "num_samples": None if any(drawn) else num_samples}
    values = crux.eval(nodes, domain=domain, samples=samples, chunk_size=chunk_size, **mc)
    values = values if isinstance(values, list) else [values]
    if mc.get("num_samples"):  # eval gave every expression (1, S) draws; deterministic ones are copies
        drawn = [bool(stochastic_names(handles=crux.handles_in([n]))) for n in nodes]
        values = [v if r else v[0, 0] for v, r in zip(values, drawn)]
    f, f_drawn = values[0], drawn[0]
    s, s_drawn = (values[1], drawn[1]) if len(nodes) == 2 else (jnp.asarray(sigma, f.dtype), False)
    layout = _layout(f if f_drawn else s if s_drawn else None, None if mc.get("num_samples") else num_samples)
    f_shape = tuple(f.shape[2:] if f_drawn else f.shape)
    if obs_shape is not None and _broadcasts(f_shape, obs_shape):
        f_shape = obs_shape
    s_shape = tuple(s.shape[2:] if s_drawn else s.shape)
    if not _broadcasts(s_shape, f_shape):
        raise ShapeError(
            f"the noise scale of shape {s_shape} does not fit the prediction of shape {f_shape}: it must broadcast "
            "to it without enlarging it. Give one sigma (a number or a (1,) parameter), one per output column "
            f"({f_shape[-1:]}), or one per entry ({f_shape})")
    sigma_b = _with_layout(s, s_drawn, len(f_shape))
    _check_positive(sigma_b)
    f_b = jnp.broadcast_to(_with_layout(f, f_drawn, len(f_shape)), layout + f_shape)
    y = _add_noise(key, f_b, sigma_b.astype(f_b.dtype))
    return PredictiveDraws(f_b, y, sigma_b)


def _layout(drawn, num_samples) -> tuple:
    """``(K, N)`` of the draws (``drawn``: an array with them, or ``None``), else ``(1, num_samples)``."""
    if drawn is not None:
        if num_samples is not None:
            raise ConfigurationError(
                f"num_samples={num_samples!r} is for predictions without posterior draws; here every posterior "
                "draw gets its own noise draw, so the number of draws is the posterior's (chains x draws). Drop "
                "num_samples, or pass samples='point' to draw noise around the current values")
        return tuple(drawn.shape[:2])
    if num_samples is None:
        raise ConfigurationError(
            "neither the expression nor the noise scale depends on a model or parameter with posterior draws "
            "(optimised or fixed values only), so there is no draw to add noise to; pass num_samples=S to "
            "draw S noisy observations around the current prediction")
    return 1, integer("predictive(num_samples) (noise draws around the point prediction)", num_samples, minimum=1)


@jax.jit
def _add_noise(key, f, sigma):
    """``f + sigma * eps`` with ``eps ~ N(0, 1)`` of ``f``'s shape ``(K, N, ...)``."""
    return f + sigma * jax.random.normal(key, f.shape, f.dtype)


def _with_layout(value, drawn: bool, rank: int):
    """``value`` with ``2 + rank`` axes: ``(K, N)`` kept (or ``(1, 1)`` added), size-1 axes before its own."""
    value = jnp.asarray(value)
    lead = value.shape[:2] if drawn else (1, 1)
    own = value.shape[2:] if drawn else value.shape
    return jnp.reshape(value, lead + (1,) * (rank - len(own)) + tuple(own))


def _broadcasts(small: tuple, big: tuple) -> bool:
    """``small`` broadcasts to ``big`` without enlarging it."""
    try:
        return np.broadcast_shapes(small, big) == tuple(big)
    except ValueError:
        return False


def _check_positive(sigma):
    """Every evaluated noise scale is finite and > 0 (one reduction on the device, one number to the host)."""
    bad = int(jnp.sum(~(jnp.isfinite(sigma) & (sigma > 0))))
    if bad:
        raise ConfigurationError(
            f"the noise scale is not a positive finite number at {bad} of {sigma.size} entries (over the draws); "
            "sigma is a standard deviation: use a parameter with constraint='positive', pl.np.exp(log_sigma), "
            "or a positive number")


def _noise_operand(noise):
    """A positive number as a ``float``, anything else as an expression node."""
    if isinstance(noise, (bool, np.bool_)) or isinstance(noise, str):
        raise ConfigurationError(
            f"noise must be a positive number, a parameter or an expression of the noise standard deviation, "
            f"got {noise!r}")
    if is_real(noise):
        value = float(noise)
        if not (np.isfinite(value) and value > 0):
            raise ConfigurationError(
                f"noise must be a positive standard deviation, got {noise!r}; the noise-free prediction is "
                "the f of the result (or crux.eval(expr))")
        return value
    try:
        node = as_node(noise)
    except Exception as err:  # noqa: BLE001 - anything that is no expression is the same user error
        raise ConfigurationError(
            f"noise must be a number, a parameter or an expression, got {type(noise).__name__}: {err}") from None
    if isinstance(node, Constant) and node.is_scalar:  # a term's gaussian_nll(0.1): a number, nothing to compile
        return _noise_operand(np.asarray(node.value).item())
    return node


# -- the noise of the loss's Gaussian likelihood --------------------------------------------------

def likelihood_noise(crux, expr: Node | None):
    """``(prediction, sigma, residual)`` of the ``gaussian_nll`` loss term that observes ``expr``.

    A term observes ``expr`` when its residual is ``expr - data`` or ``data - expr`` (structurally
    the same expression). With ``expr=None`` the loss must have exactly one such data term. A term
    whose residual is no difference of a prediction and handle-free data (a centred prior
    ``w.gaussian_nll(amp)``, a residual ``u_xx + u``) is never taken, nor is a choice between terms
    with different noise scales.
    """
    gauss = [(name, node) for node, name in zip(crux.loss.terms_nodes, crux.loss.names)
             if isinstance(node, Reduction) and node.kind == "gaussian_nll"]
    if not gauss:
        raise ConfigurationError(
            "predictive needs the noise scale: the loss has no gaussian_nll term to take it from. Pass "
            "noise=sigma (a number, a parameter, or an expression of them)")
    data = [(name, pred, node.extra[0], node.child) for name, node in gauss
            if (pred := _prediction_side(node.child)) is not None]
    listed = ", ".join(repr(name) for name, *_ in data) or "none"
    if expr is None:
        if len(data) != 1:
            raise ConfigurationError(
                f"predictive() without an expression needs exactly one gaussian_nll term of the form "
                f"(prediction - data); the loss has {len(data)} ({listed}). Pass the expression to predict "
                "and noise=sigma")
        return data[0][1], data[0][2], data[0][3]
    hits = [t for t in data if t[1].key == expr.key]
    if not hits:
        raise ConfigurationError(
            f"no gaussian_nll term of the loss observes this expression (data terms: {listed}); a noise scale is "
            "only taken from the loss for the very expression a term compares with data. Pass noise=sigma")
    if len({t[2].key for t in hits}) > 1:
        raise ConfigurationError(
            f"the terms {', '.join(repr(t[0]) for t in hits)} observe this expression with different noise scales; "
            "pass noise= to say which")
    return hits[0][1], hits[0][2], hits[0][3]


def _depends_on_handles(node: Node) -> bool:
    return any(isinstance(n, (Parameter, ModelCall)) for n in walk([node]))


def _prediction_side(residual: Node) -> Node | None:
    """The handle-dependent side of ``prediction - data`` (or ``data - prediction``), else ``None``."""
    if isinstance(residual, Apply) and residual.name == "sub" and len(residual.args) == 2:
        left, right = residual.args
        if _depends_on_handles(left) != _depends_on_handles(right):
            return left if _depends_on_handles(left) else right
    return None
