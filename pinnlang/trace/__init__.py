"""The symbolic language: nodes, operators, calculus, reductions, handles and noise."""

from . import operators as _operators  # noqa: F401  (attaches Python operators to Node)
from . import ufuncs as _ufuncs  # noqa: F401  (np.sin(x) -> pl.np.sin(x), clear errors for the rest)
from .calculus import Derivative, diff, div, grad, laplacian
from .model import Model, ModelCall
from .node import Node, walk
from .noise import GaussianNoise
from .ops import Apply, Concatenate, Constant, Index, as_node
from .parameter import Parameter, parameter
from .reductions import Reduction
from .variables import PointSet, Variable, coordinate_variables

__all__ = [
    "Apply", "Concatenate", "Constant", "Derivative", "GaussianNoise", "Index", "Model", "ModelCall", "Node",
    "Parameter", "PointSet", "Reduction", "Variable", "as_node", "coordinate_variables", "diff", "div", "grad",
    "laplacian", "parameter", "walk",
]
