"""Python operators and reduction properties on nodes (``u + v``, ``u[0]``, ``r.mse``)."""

from __future__ import annotations

import operator

import jax.numpy as jnp

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
    if isinstance(sigma, (int, float)) and sigma <= 0:
        raise ValueError(f"gaussian_nll needs sigma > 0, got {sigma}")
    return Reduction("gaussian_nll", self, (as_node(sigma),))


def categorical_nll(self, labels):
    """``-Σ_i log softmax(logits_i)[labels_i]`` for logits ``(n, C)`` and integer labels ``(n,)``/``(n, 1)``."""
    return Reduction("categorical_nll", self, (as_node(labels),))


Node.gaussian_nll = gaussian_nll
Node.categorical_nll = categorical_nll
Node.norm = property(lambda self: Reduction("norm", self), doc="Euclidean norm of all entries (scalar).")
