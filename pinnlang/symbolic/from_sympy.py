"""``pl.from_sympy(sympy_expr, {symbol: variable})``: a sympy expression as a pinnlang expression.

For manufactured solutions and their source terms computed by sympy, and exact solutions for
error reports. A walk over the sympy tree with a dispatch table on sympy's function classes.
"""

from __future__ import annotations

import functools
import operator

import sympy as sp
from sympy.core.function import AppliedUndef

from .. import trace
from ..trace import np as pnp
from ..trace.ops import as_node
from ..trace.reductions import REDUCTIONS
from .to_sympy import SympyConversionError

_UNARY = {
    sp.sin: pnp.sin, sp.cos: pnp.cos, sp.tan: pnp.tan, sp.asin: pnp.arcsin, sp.acos: pnp.arccos,
    sp.atan: pnp.arctan, sp.sinh: pnp.sinh, sp.cosh: pnp.cosh, sp.tanh: pnp.tanh, sp.asinh: pnp.arcsinh,
    sp.acosh: pnp.arccosh, sp.atanh: pnp.arctanh, sp.exp: pnp.exp, sp.Abs: pnp.abs, sp.sign: pnp.sign,
    sp.floor: pnp.floor, sp.ceiling: pnp.ceil,
    sp.sec: lambda a: 1.0 / pnp.cos(a), sp.csc: lambda a: 1.0 / pnp.sin(a), sp.cot: lambda a: 1.0 / pnp.tan(a),
    sp.sinc: lambda a: pnp.sinc(a / sp.pi.evalf()),  # sympy's sinc is unnormalised, numpy's normalised
}
_RELATIONS = {
    sp.StrictLessThan: operator.lt, sp.LessThan: operator.le, sp.StrictGreaterThan: operator.gt,
    sp.GreaterThan: operator.ge, sp.Eq: pnp.equal, sp.Ne: pnp.not_equal,
}


def _lookup(mapping: dict, key, name: str):
    if key in mapping:
        return mapping[key]
    return mapping.get(name)


class _Builder:
    def __init__(self, mapping: dict):
        self.mapping = dict(mapping or {})

    def __call__(self, e):
        if isinstance(e, (sp.Matrix, sp.ImmutableMatrix)) or isinstance(e, sp.NDimArray):
            return pnp.concatenate([self(c) for c in list(e)])
        if e.is_Number or e.is_NumberSymbol or isinstance(e, (sp.core.numbers.ImaginaryUnit,)):
            if not e.is_real:
                raise SympyConversionError(f"from_sympy: {e} is not a real number")
            return int(e) if e.is_Integer else float(e)
        if e is sp.true or e is sp.false:
            return bool(e)
        if isinstance(e, sp.Symbol):
            found = _lookup(self.mapping, e, e.name)
            if found is None:
                raise SympyConversionError(
                    f"from_sympy: the symbol {e.name!r} has no pinnlang counterpart; pass it in the mapping, "
                    f"e.g. from_sympy(expr, {{{e.name}: x}}) with x from dom.variable(...) (missing: "
                    f"{sorted(s.name for s in e.free_symbols)})")
            return found
        if isinstance(e, sp.Derivative):
            return self.derivative(e)
        if isinstance(e, AppliedUndef):
            return self.undefined(e)
        return self.function(e)

    def derivative(self, e):
        out = self(e.expr)
        for var, count in e.variable_count:
            v = self(var)
            if not isinstance(v, trace.Variable):
                raise SympyConversionError(f"from_sympy: differentiate with respect to coordinate variables; "
                                           f"{var} maps to {v!r}")
            out = trace.diff(out, v, int(count))
        return out

    def undefined(self, e):
        name = type(e).__name__
        target = _lookup(self.mapping, type(e), name)
        args = [self(a) for a in e.args]
        if target is not None:
            return target(*args) if callable(target) else target
        if name in REDUCTIONS:  # mse(r), gaussian_nll(r, sigma), ... as written by to_sympy
            child = as_node(args[0])
            return trace.Reduction(name, child, tuple(as_node(a) for a in args[1:]))
        raise SympyConversionError(f"from_sympy: the function {name!r} has no pinnlang counterpart; map it to a "
                                   f"model: from_sympy(expr, {{..., '{name}': net}})")

    def function(self, e):
        f, args = e.func, e.args
        if f is sp.Add:
            return functools.reduce(operator.add, [self(a) for a in args])
        if f is sp.Mul:
            return functools.reduce(operator.mul, [self(a) for a in args])
        if f is sp.Pow:
            base, ex = args
            if ex == sp.Rational(1, 2):
                return pnp.sqrt(self(base))
            if ex == -1:
                return 1.0 / self(base)
            if base is sp.E:
                return pnp.exp(self(ex))
            return self(base) ** self(ex)
        if f in _UNARY:
            return _UNARY[f](self(args[0]))
        if f is sp.log:
            return pnp.log(self(args[0])) if len(args) == 1 else pnp.log(self(args[0])) / float(sp.log(args[1]))
        if f in (sp.Max, sp.Min):
            op = pnp.maximum if f is sp.Max else pnp.minimum
            return functools.reduce(op, [self(a) for a in args])
        if f is sp.atan2:
            return pnp.arctan2(self(args[0]), self(args[1]))
        if f is sp.Mod:
            return pnp.mod(self(args[0]), self(args[1]))
        if f is sp.Heaviside:
            return pnp.heaviside(self(args[0]), float(args[1]) if len(args) > 1 else 0.5)
        if f in _RELATIONS:
            return _RELATIONS[f](as_node(self(args[0])), self(args[1]))
        if f in (sp.And, sp.Or):
            op = pnp.logical_and if f is sp.And else pnp.logical_or
            return functools.reduce(op, [self(a) for a in args])
        if f is sp.Not:
            return pnp.logical_not(self(args[0]))
        if f is sp.Piecewise:
            return self.piecewise(args)
        raise SympyConversionError(f"from_sympy: no pinnlang counterpart for sympy's {f.__name__}")

    def piecewise(self, pairs):
        *rest, (last, cond) = pairs
        if cond is not sp.true:
            raise SympyConversionError("from_sympy: a Piecewise needs a final (value, True) branch")
        out = self(last)
        for value, c in reversed(rest):
            out = pnp.where(self(c), self(value), out)
        return out


def from_sympy(expr, mapping: dict | None = None):
    """Build a pinnlang expression from a sympy expression.

    Args:
        expr: a sympy expression (a ``Matrix`` becomes a vector field, its entries concatenated).
        mapping: what each free symbol and undefined function stands for. Keys are sympy symbols,
            undefined functions (``sympy.Function("u")``) or their names as strings; values are
            variables from ``dom.variable(...)``, any pinnlang expression, numbers, and for functions
            a model (``net``) or a callable of the converted arguments. ``to_sympy(e,
            return_symbols=True)`` returns the mapping that rebuilds ``e``.

    Returns:
        A pinnlang expression (a number when ``expr`` has no free symbols).

    Raises:
        SympyConversionError: a symbol without a counterpart, or a sympy function pinnlang lacks.
    """
    return _Builder(mapping)(sp.sympify(expr))
