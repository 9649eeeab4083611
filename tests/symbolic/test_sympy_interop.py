"""sympy interop: round trips evaluate equal, manufactured sources make residuals vanish, LaTeX renders."""

import jax
import numpy as np
import pytest
import sympy as sp

import pinnlang as pl

EPS32 = np.finfo(np.float32).eps


@pytest.fixture(scope="module")
def spacetime():
    dom = pl.domain(constructor=pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.05),
                    time=pl.domain.time(t_range=(0.0, 1.0), mesh_size=0.1))
    x, t = dom.variable("interior")
    net = pl.nn.wrap(pl.nn.mlp(2, hidden_dims=8, num_layers=2, key=jax.random.PRNGKey(0)), name="u")
    k = pl.np.parameter((1,), name="k", init=0.7)
    return dom, x, t, net, k


def roundtrip(expr):
    s, symbols = pl.symbolic.to_sympy(expr, return_symbols=True)
    return s, pl.from_sympy(s, symbols)


def test_residual_round_trip_evaluates_equal(spacetime):
    dom, x, t, net, k = spacetime
    u = net(x, t)
    pde = (pl.diff(u, t) + u * pl.diff(u, x) - 0.01 / np.pi * pl.diff(u, x, order=2) + k * pl.np.tanh(u)
           - pl.np.sin(pl.np.pi * x) * pl.np.exp(-t))
    s, back = roundtrip(pde)
    assert s.atoms(sp.Derivative) and isinstance(s.atoms(sp.Derivative).pop(), sp.Derivative)
    assert sp.Function("u", real=True)(*sp.symbols("x t", real=True)) in s.atoms(sp.core.function.AppliedUndef)
    crux = pl.core([pde.mse])
    a, b = crux.eval([pde, back])
    np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5 * np.abs(a).max())
    loss, loss_back = roundtrip(pde.mse)
    assert str(loss).startswith("mse(")
    np.testing.assert_allclose(crux.eval(loss_back), crux.eval(pde.mse), rtol=1e-5)


def test_many_node_kinds_round_trip():
    dom = pl.domain.rect(x_range=(0.0, 1.0), y_range=(0.0, 1.0), mesh_size=0.25)
    x, y, _ = dom.variable("interior")
    n = dom.num_points("interior")
    net = pl.nn.wrap(pl.nn.mlp(2, 2, hidden_dims=6, num_layers=1, key=jax.random.PRNGKey(1)), name="v")
    theta = pl.np.parameter((2,), name="theta", init=np.array([0.5, -1.5]))
    data = pl.np.array(np.linspace(0, 1, n, dtype=np.float32)[:, None])
    v = net(x, y)
    exprs = [
        pl.laplacian(v[0], [x, y]) + pl.div(v, [x, y]),
        pl.np.where(x > 0.5, pl.np.sqrt(1 + x**2), pl.np.abs(y - 0.3)),
        theta[0:1] * pl.np.concatenate([x, y])[1] + theta[1:2] ** 2 - data,
        pl.np.dot(v, pl.np.concatenate([y, x])) + pl.np.log1p(x) / pl.np.cosh(y) + pl.np.arctan2(y, x + 1),
        pl.np.maximum(x, y) * pl.np.sigmoid(x) - pl.np.softplus(-y) + pl.np.expm1(0.5 * x),
    ]
    crux = pl.core([e.mse for e in exprs])
    for e in exprs:
        _, back = roundtrip(e)
        a, b = crux.eval([e, back])
        np.testing.assert_allclose(b, a, rtol=2e-5, atol=2e-5 * max(1.0, np.abs(a).max()))


def test_manufactured_source_makes_the_residual_vanish(spacetime):
    """Heat equation u_t - α u_xx = f with f computed by sympy from u = exp(-t) sin(πx) + x² t."""
    dom, x, t, _, _ = spacetime
    X, T = sp.symbols("x t", real=True)
    alpha = sp.Rational(1, 5)
    u_exact = sp.exp(-T) * sp.sin(sp.pi * X) + X**2 * T
    f = sp.diff(u_exact, T) - alpha * sp.diff(u_exact, X, 2)
    mapping = {X: x, T: t}
    U, F = pl.from_sympy(u_exact, mapping), pl.from_sympy(f, mapping)
    residual = pl.diff(U, t) - 0.2 * pl.diff(U, x, order=2) - F
    crux = pl.core([residual.mse])
    r, fv = crux.eval([residual, F])
    scale = np.abs(fv).max() + 0.2 * np.pi**2  # size of the terms that cancel
    assert np.abs(r).max() < 20 * EPS32 * scale
    # the exact solution itself, for error reports, against NumPy
    pts = np.asarray(dom.context["interior"], np.float64)
    want = np.exp(-pts[:, 1]) * np.sin(np.pi * pts[:, 0]) + pts[:, 0] ** 2 * pts[:, 1]
    np.testing.assert_allclose(np.asarray(crux.eval(U))[:, 0], want, rtol=1e-6, atol=1e-6)


def test_to_sympy_forms_and_latex():
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.5)
    x, _ = dom.variable("interior")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    X = sp.Symbol("x", real=True)
    pde = pl.diff(net(x), x, order=2) + pl.np.pi**2 * pl.np.sin(pl.np.pi * x)
    s = pde.to_sympy()
    assert s == sp.Derivative(sp.Function("u", real=True)(X), (X, 2)) + sp.pi**2 * sp.sin(sp.pi * X)
    tex = pl.latex(pde)
    assert r"\frac{d^{2}}{d x^{2}} u{\left(x \right)}" in tex and r"\pi^{2} \sin{\left(\pi x \right)}" in tex
    assert pde._repr_latex_() == f"${tex}$"
    explicit = pl.diff(pl.np.sin(x) * x, x).to_sympy()
    assert sp.simplify(explicit.doit() - (sp.cos(X) * X + sp.sin(X))) == 0
    assert pl.symbolic.to_sympy(0.1 * x) == X / 10 and pl.symbolic.to_sympy(x * (0.01 / np.pi)) == X / (100 * sp.pi)
    noisy = (x + pl.noise.gaussian(0.1)).to_sympy()
    assert noisy == X + sp.Symbol("epsilon_0", real=True)


def test_conversion_errors():
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.5)
    x, _ = dom.variable("interior")
    X, Y = sp.symbols("x y")
    with pytest.raises(pl.symbolic.SympyConversionError, match="'y' has no pinnlang counterpart"):
        pl.from_sympy(X + Y, {X: x})
    with pytest.raises(pl.symbolic.SympyConversionError, match="function 'g'"):
        pl.from_sympy(sp.Function("g")(X), {"x": x})
    with pytest.raises(pl.symbolic.SympyConversionError, match="erf"):
        pl.from_sympy(sp.erf(X), {"x": x})
    assert pl.from_sympy(sp.pi / 2) == pytest.approx(np.pi / 2)
