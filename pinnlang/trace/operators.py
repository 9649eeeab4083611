"""Python operators and reduction properties on nodes (``u + v``, ``u[0]``, ``r.mse``)."""

from __future__ import annotations

import operator

import jax.numpy as jnp
import numpy as np

from ..errors import ConfigurationError, ShapeError
from ..validate import is_real
from .node import Node
from .noise import GaussianNoise
from .ops import Apply, Index, as_node
from .reductions import Reduction


def bind_noise(args):
    """Give unbound noise sources the shape of the other operand."""
    args = [as_node(a) for a in args]
    shaped = [a for a in args if not (isinstance(a, GaussianNoise) and not a.bound)]
    if len(shaped) == len(args) or not shaped:
        return args
    like = max(shaped, key=lambda a: (a.points is not None, len(a.shape)))
    return [a.bind(like) if isinstance(a, GaussianNoise) else a for a in args]


def binary(name, fn):
    def op(self, other):
        return Apply(name, fn, bind_noise([self, other]))

    def rop(self, other):
        return Apply(name, fn, bind_noise([other, self]))

    return op, rop


_BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "pow": jnp.power,
    "mod": jnp.mod,
    "floordiv": jnp.floor_divide,
}

for _n, _f in _BINARY.items():
    _op, _rop = binary(_n, _f)
    setattr(Node, f"__{_n}__", _op)
    setattr(Node, f"__r{_n}__", _rop)

for _n, _f in {"lt": jnp.less, "le": jnp.less_equal, "gt": jnp.greater, "ge": jnp.greater_equal}.items():
    setattr(Node, f"__{_n}__", binary(_n, _f)[0])

Node.__neg__ = lambda self: Apply("neg", operator.neg, [self])
Node.__pos__ = lambda self: self
Node.__abs__ = lambda self: Apply("abs", jnp.abs, [self])
Node.__getitem__ = lambda self, index: Index(self, index)

Node.mse = property(lambda self: Reduction("mse", self), doc="Mean of squares over all entries (scalar).")
Node.mean = property(lambda self: Reduction("mean", self), doc="Mean over all entries (scalar).")
Node.sum = property(lambda self: Reduction("sum", self), doc="Sum over all entries (scalar).")
def gaussian_nll(self, sigma):
    """Negative log-likelihood of this residual under ``N(0, sigma²)`` noise, summed over all entries.

    ``Σ [½ (r/σ)² + log σ + ½ log 2π]``; ``sigma`` is a number, or a positive parameter
    (``pl.np.parameter(..., constraint="positive")``) that is itself optimised or sampled.
    With this term the log-density ``-Σ terms + log prior`` is a normalised Gaussian likelihood.
    """
    return Reduction("gaussian_nll", self, (_check_sigma(sigma),))


def _check_sigma(sigma) -> Node:
    """``sigma`` as a node that cannot be zero or negative where that can be known at trace time."""
    from .ops import Constant
    from .parameter import Parameter

    if isinstance(sigma, (bool, np.bool_)):
        raise ConfigurationError(f"gaussian_nll needs sigma > 0 (a number or a positive parameter), got {sigma!r}")
    if is_real(sigma) and not float(sigma) > 0:
        raise ConfigurationError(f"gaussian_nll needs sigma > 0, got {sigma}; pass the noise standard deviation")
    node = as_node(sigma)
    if isinstance(node, Constant) and not node.is_scalar and not np.all(np.asarray(node.value) > 0):
        raise ConfigurationError(
            f"gaussian_nll needs sigma > 0 everywhere; the array sigma of shape {node.shape} has "
            f"{int(np.sum(~(np.asarray(node.value) > 0)))} entries <= 0"
        )
    if isinstance(node, Parameter):
        b = node.bijector
        lower = float(b.forward(-np.inf)) if b.name.startswith("bounded") else None
        if b.name == "none" or (lower is not None and lower < 0):
            raise ConfigurationError(
                f"gaussian_nll(sigma): the parameter {node.name!r} used as sigma has the constraint {b.name!r}, so "
                "an optimiser or sampler can move it to zero or below (log sigma is then NaN). Create it with "
                "pl.np.parameter(..., constraint='positive') (or a (lo, hi) constraint with lo >= 0), or pass a "
                "positive expression such as pl.np.exp(log_sigma)"
            )
    return node


def categorical_nll(self, labels):
    """``-Σ_i log softmax(logits_i)[labels_i]`` for logits ``(n, C)`` and integer labels ``(n,)``/``(n, 1)``."""
    from .ops import Constant

    node = as_node(labels)
    if isinstance(node, Constant) and not node.is_scalar and self.shape:
        values, classes = np.asarray(node.value), self.shape[-1]
        if not np.all(values == np.round(values)) or values.min() < 0 or values.max() >= classes:
            raise ShapeError(
                f"categorical_nll: labels must be integers in 0..{classes - 1} (one per row of the logits "
                f"{self.shape}); got values from {values.min()} to {values.max()}"
            )
    return Reduction("categorical_nll", self, (node,))


Node.gaussian_nll = gaussian_nll
Node.categorical_nll = categorical_nll
Node.norm = property(lambda self: Reduction("norm", self), doc="Euclidean norm of all entries (scalar).")
