"""``expr.to_sympy()``: a pinnlang graph as a sympy expression.

One walk over the graph (``pinnlang.trace.walk``, children first) and a dispatch table on node
types. Every node becomes a NumPy *object* array of sympy expressions with the node's value shape
(the point axis dropped), so broadcasting, indexing and concatenation follow the same rules as the
arrays they describe. Coordinates are real symbols named like their axes, models undefined
functions of their inputs (``u(x, t)``), derivatives ``sympy.Derivative``, parameters symbols,
array constants (data) and noise opaque symbols, reductions undefined functions (``mse(r)``).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy as sp

from ..errors import PinnlangError
from ..trace import (Apply, Concatenate, Constant, Derivative, GaussianNoise, Index, ModelCall, Node, Parameter,
                     Reduction, Variable, walk)
from ..trace.ops import as_node


class SympyConversionError(PinnlangError):
    """An expression (or sympy object) that has no counterpart on the other side."""


def _vec(fn):
    return np.vectorize(fn, otypes=[object])


def _piecewise(c, a, b):
    return sp.Piecewise((a, c), (b, True))


# Apply nodes by operation name: sympy functions of the (broadcast) component arrays.
_ELEMENTWISE = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "truediv": lambda a, b: a / b, "divide": lambda a, b: a / b, "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b, "pow": lambda a, b: a**b, "power": lambda a, b: a**b,
    "mod": sp.Mod, "floordiv": lambda a, b: sp.floor(a / b), "neg": lambda a: -a, "abs": sp.Abs,
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "arcsin": sp.asin, "arccos": sp.acos, "arctan": sp.atan,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "arcsinh": sp.asinh, "arccosh": sp.acosh,
    "arctanh": sp.atanh, "exp": sp.exp, "expm1": lambda a: sp.exp(a) - 1, "log": sp.log,
    "log1p": lambda a: sp.log(1 + a), "log2": lambda a: sp.log(a, 2), "log10": lambda a: sp.log(a, 10),
    "sqrt": sp.sqrt, "cbrt": sp.cbrt, "sign": sp.sign, "square": lambda a: a**2, "floor": sp.floor,
    "ceil": sp.ceiling, "sinc": lambda a: sp.sinc(sp.pi * a),  # numpy's sinc is the normalised one
    "sigmoid": lambda a: 1 / (1 + sp.exp(-a)), "softplus": lambda a: sp.log(1 + sp.exp(a)),
    "relu": lambda a: sp.Max(a, 0), "maximum": sp.Max, "minimum": sp.Min, "arctan2": sp.atan2,
    "hypot": lambda a, b: sp.sqrt(a**2 + b**2), "logaddexp": lambda a, b: sp.log(sp.exp(a) + sp.exp(b)),
    "lt": sp.StrictLessThan, "less": sp.StrictLessThan, "le": sp.LessThan, "less_equal": sp.LessThan,
    "gt": sp.StrictGreaterThan, "greater": sp.StrictGreaterThan, "ge": sp.GreaterThan,
    "greater_equal": sp.GreaterThan, "equal": sp.Eq, "not_equal": sp.Ne, "logical_and": sp.And,
    "logical_or": sp.Or, "logical_not": sp.Not, "where": _piecewise, "clip": lambda a, lo, hi: sp.Min(sp.Max(a, lo), hi),
    "heaviside": lambda a, h: sp.Heaviside(a, h),
}
_REDUCING = {  # over the last (component) axis, keeping it with size 1
    "dot": lambda a, b: np.sum(a * b, axis=-1, keepdims=True),
    "sum_components": lambda a: np.sum(a, axis=-1, keepdims=True),
}


def nice_number(v):
    """A Python number as sympy: integers and small fractions exactly, ``q·π^k`` (q with a denominator up to 1000, |k| <= 3) and ``e`` recognised."""
    if isinstance(v, bool):
        return sp.true if v else sp.false
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 2**53):
        return sp.Integer(int(v))
    if v == math.e:
        return sp.E
    q = Fraction(v).limit_denominator(1000)
    if float(q) == v:
        return sp.Rational(q.numerator, q.denominator)
    for k in (1, 2, 3):  # q·π^k and q/π^k, as a script would write them (pl.np.pi**2, 0.01 / np.pi)
        for scaled, rebuild in ((v / math.pi**k, lambda f: f * math.pi**k), (v * math.pi**k, lambda f: f / math.pi**k)):
            q = Fraction(scaled).limit_denominator(1000)
            if q != 0 and rebuild(float(q)) == v:
                return sp.Rational(q.numerator, q.denominator) * (sp.pi**k if rebuild(2.0) > 2.0 else sp.pi**-k)
    return sp.Float(v)


class _Converter:
    """State of one conversion: the symbols made so far and what they stand for."""

    def __init__(self):
        self.symbols: dict = {}  # sympy Symbol / function name -> pinnlang node, handle or callable
        self.noise_index: dict = {}
        self.data_index: dict = {}

    def symbol(self, name: str, target, **assumptions):
        s = sp.Symbol(name, **assumptions)
        self.symbols.setdefault(s, target)
        return s

    def array(self, shape, make):
        out = np.empty(shape, dtype=object)
        for idx in np.ndindex(*shape):
            out[idx] = make(idx)
        return out

    # -- one handler per node type ---------------------------------------------------------
    def variable(self, node: Variable, args):
        return np.array([self.symbol(node.name, node, real=True)], dtype=object)

    def constant(self, node: Constant, args):
        if node.is_scalar:
            return np.array(nice_number(node.value), dtype=object)
        value = np.asarray(node.value)
        if value.ndim <= 1:  # a small coefficient vector: its numbers
            return np.vectorize(lambda v: nice_number(v.item()), otypes=[object])(value)
        # per-point data (n, k): one symbol per component, d_<i> for the i-th data array met
        i = self.data_index.setdefault(node.key, len(self.data_index))
        k = int(np.prod(value.shape[1:], dtype=int))
        if k == 1:
            return np.array([self.symbol(f"d_{i}", node, real=True)], dtype=object).reshape(value.shape[1:])
        cols = [self.symbol(f"d_{i}_{j}", _column(node, j), real=True) for j in range(k)]
        return np.array(cols, dtype=object).reshape(value.shape[1:])

    def parameter(self, node: Parameter, args):
        shape = tuple(node.shape)
        if int(np.prod(shape, dtype=int)) == 1:
            s = self.symbol(node.name, node, real=True)
            return np.array(s, dtype=object).reshape(shape)
        return self.array(shape, lambda idx: self.symbol(
            f"{node.name}_{'_'.join(map(str, idx))}", Index(node, idx if len(idx) > 1 else idx[0]), real=True))

    def noise(self, node: GaussianNoise, args):
        i = self.noise_index.setdefault(node.uid, len(self.noise_index))
        shape = tuple(node.value_shape)
        if int(np.prod(shape, dtype=int)) == 1:
            return np.array(self.symbol(f"epsilon_{i}", node, real=True), dtype=object).reshape(shape)
        return self.array(shape, lambda idx: self.symbol(f"epsilon_{i}_{'_'.join(map(str, idx))}", node[idx[-1]],
                                                         real=True))

    def apply(self, node: Apply, args):
        if node.name in _REDUCING:
            return _REDUCING[node.name](*[np.atleast_1d(a) for a in args])
        if node.name not in _ELEMENTWISE:
            raise SympyConversionError(f"to_sympy: no sympy counterpart for the operation {node.name!r}")
        params = dict(node.params)
        fn = _ELEMENTWISE[node.name]
        return _vec(lambda *a: fn(*a, **params))(*args)

    def index(self, node: Index, args):
        out = np.asarray(args[0], dtype=object)[node._idx]
        return np.asarray(out, dtype=object).reshape(1) if np.ndim(out) == 0 else out

    def concatenate(self, node: Concatenate, args):
        parts = [np.asarray(a, dtype=object).reshape(-1) if np.ndim(a) <= 1 else a for a in args]
        return np.concatenate(parts, axis=-1)

    def model_call(self, node: ModelCall, args):
        inputs = list(np.asarray(args[0], dtype=object).reshape(-1))
        k = int(np.prod(node.value_shape, dtype=int))
        name = node.model.name
        if k == 1:
            self.symbols.setdefault(name, node.model)
            return np.array([sp.Function(name, real=True)(*inputs)], dtype=object).reshape(node.value_shape)
        outs = []
        for j in range(k):
            self.symbols.setdefault(f"{name}_{j}", _component(node.model, j))
            outs.append(sp.Function(f"{name}_{j}", real=True)(*inputs))
        return np.array(outs, dtype=object).reshape(node.value_shape)

    def derivative(self, node: Derivative, args):
        names = node.points.domain.axis_names
        counts: dict = {}
        for d in node.dims:
            counts[d] = counts.get(d, 0) + 1
        wrt = [(sp.Symbol(names[d], real=True), c) for d, c in sorted(counts.items())]
        return _vec(lambda e: sp.Derivative(e, *wrt))(args[0])

    def reduction(self, node: Reduction, args):
        comps = [c for a in args for c in np.asarray(a, dtype=object).reshape(-1)]
        return np.array(sp.Function(node.kind)(*comps), dtype=object)


_HANDLERS = {
    Variable: _Converter.variable, Constant: _Converter.constant, Parameter: _Converter.parameter,
    GaussianNoise: _Converter.noise, Apply: _Converter.apply, Index: _Converter.index,
    Concatenate: _Converter.concatenate, ModelCall: _Converter.model_call, Derivative: _Converter.derivative,
    Reduction: _Converter.reduction,
}


def _column(node: Constant, j: int) -> Node:
    return Apply(f"column_{j}", lambda v: v.reshape(v.shape[0], -1)[:, j:j + 1], [node])


def _component(model, j: int):
    return lambda *inputs: model(*inputs)[j]


def _handler(node):
    for cls in type(node).__mro__:
        if cls in _HANDLERS:
            return _HANDLERS[cls]
    raise SympyConversionError(f"to_sympy: no conversion for {type(node).__name__} nodes")


def convert(expr) -> tuple[np.ndarray, dict]:
    """``(object array of the value shape, {symbol or function name: what it stands for})``."""
    conv = _Converter()
    values: dict = {}
    for node in walk([as_node(expr)]):
        # a derivative's value comes from its base expression; the base is converted like any child
        args = [values[c.key] for c in node.children()]
        values[node.key] = _handler(node)(conv, node, args)
    return values[as_node(expr).key], conv.symbols


def to_sympy(expr, *, return_symbols: bool = False):
    """The sympy form of a pinnlang expression.

    Derivatives are unevaluated ``sympy.Derivative`` objects (``.doit()`` evaluates them), models
    undefined functions of their inputs (``u(x, t)``; components ``u_0``, ``u_1`` of a vector
    output), coordinates real symbols named like their axes, parameters real symbols under their
    ``name`` (``theta_0``... for vectors), per-point data arrays ``d_0``, ``d_1``..., noise
    ``epsilon_0``..., reductions undefined functions (``mse(r)``, ``gaussian_nll(r, sigma)``).

    Args:
        expr: a pinnlang expression.
        return_symbols: also return ``{symbol or function name: node/handle}``, the mapping
            :func:`pinnlang.symbolic.from_sympy` needs to rebuild the expression.

    Returns:
        A sympy expression for a scalar value (value shape ``()`` or ``(1,)``), a column ``Matrix``
        for a vector, a sympy ``Array`` otherwise; with ``return_symbols``, ``(that, mapping)``.
    """
    value, symbols = convert(expr)
    value = np.asarray(value, dtype=object)
    if value.size == 1:
        out = value.reshape(-1)[0]
    elif value.ndim == 1:
        out = sp.Matrix(list(value))
    else:
        out = sp.Array(value.tolist())
    return (out, symbols) if return_symbols else out


def latex(expr, **kwargs) -> str:
    """LaTeX of a pinnlang expression (``sympy.latex`` of :func:`to_sympy`; keyword arguments pass through)."""
    return sp.latex(to_sympy(expr), **kwargs)
