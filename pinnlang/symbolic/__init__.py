"""sympy interop: ``expr.to_sympy()``, ``pl.latex(expr)``, ``pl.from_sympy(sympy_expr, {symbol: variable})``."""

from .from_sympy import from_sympy
from .to_sympy import SympyConversionError, latex, to_sympy

__all__ = ["SympyConversionError", "from_sympy", "latex", "to_sympy"]
