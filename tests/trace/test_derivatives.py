"""Derivatives against analytic values: orders 1-4, mixed partials, Laplacian, grad, div."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinnlang as pl


def line(n=41):
    return pl.domain.from_array({"pts": np.linspace(-1.0, 1.0, n, dtype=np.float32).reshape(-1, 1)})


def square(n=9):
    g = np.linspace(0.1, 0.9, n, dtype=np.float32)
    X, Y = np.meshgrid(g, g, indexing="ij")
    return pl.domain.from_array({"pts": np.stack([X.ravel(), Y.ravel()], 1)})


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_diff_of_expression_matches_analytic(order):
    dom = line()
    x, _ = dom.variable("pts")
    f = pl.np.sin(2.0 * x) * pl.np.exp(0.5 * x)
    d = pl.diff(f, x, order=order)
    crux = pl.core([(d * 0.0).mse])
    got = np.asarray(crux.eval([d]))[:, 0]
    xs = dom.context["pts"][:, 0].astype(np.float64)
    # d^k/dx^k Im(e^{(0.5+2i)x}) = Im((0.5+2i)^k e^{(0.5+2i)x})
    z = (0.5 + 2j) ** order * np.exp((0.5 + 2j) * xs)
    np.testing.assert_allclose(got, z.imag, rtol=2e-4, atol=2e-4 * np.abs(z).max())


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_diff_of_model_matches_autodiff_reference(order):
    """Derivatives of a network against jax.grad applied point by point (an independent route)."""
    dom = line(17)
    x, _ = dom.variable("pts")
    mlp = pl.nn.mlp(1, hidden_dims=8, num_layers=2, key=jax.random.PRNGKey(3))
    net = pl.nn.wrap(mlp)
    d = pl.diff(net(x), x, order=order)
    got = np.asarray(pl.core([(d * 0.0).mse]).eval([d]))[:, 0]

    f = lambda s: mlp(jnp.reshape(s, (1,)))[0]  # noqa: E731
    for _ in range(order):
        f = jax.grad(f)
    want = np.asarray(jax.vmap(f)(jnp.asarray(dom.context["pts"][:, 0])))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


def test_mixed_partials_2d():
    dom = square()
    x, y, _ = dom.variable("pts")
    f = pl.np.sin(x * y) + x**3 * y**2
    fxy = pl.diff(pl.diff(f, x), y)
    fyx = pl.diff(pl.diff(f, y), x)
    fxxy = pl.diff(pl.diff(f, x, order=2), y)
    assert fxy.key == fyx.key  # same node: shared work
    got_xy, got_xxy = pl.core([(fxy * 0).mse]).eval([fxy, fxxy])
    P = dom.context["pts"].astype(np.float64)
    X, Y = P[:, 0], P[:, 1]
    want_xy = np.cos(X * Y) - X * Y * np.sin(X * Y) + 6 * X**2 * Y
    want_xxy = -2 * Y * np.sin(X * Y) - X * Y**2 * np.cos(X * Y) + 12 * X * Y
    np.testing.assert_allclose(np.asarray(got_xy)[:, 0], want_xy, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(got_xxy)[:, 0], want_xxy, rtol=1e-4, atol=1e-4)


def test_laplacian_grad_div():
    dom = square()
    x, y, _ = dom.variable("pts")
    u = pl.np.sin(np.pi * x) * pl.np.sin(np.pi * y)
    lap = pl.laplacian(u, [x, y])
    g = pl.grad(u, [x, y])
    dv = pl.div(g, [x, y])
    got_lap, got_g, got_div = pl.core([(lap * 0).mse]).eval([lap, g, dv])
    P = dom.context["pts"].astype(np.float64)
    X, Y = P[:, 0], P[:, 1]
    ref = np.sin(np.pi * X) * np.sin(np.pi * Y)
    np.testing.assert_allclose(np.asarray(got_lap)[:, 0], -2 * np.pi**2 * ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(got_div)[:, 0], -2 * np.pi**2 * ref, rtol=1e-4, atol=1e-4)
    assert got_g.shape == (len(X), 2)
    np.testing.assert_allclose(np.asarray(got_g)[:, 0], np.pi * np.cos(np.pi * X) * np.sin(np.pi * Y), atol=1e-5)
    np.testing.assert_allclose(np.asarray(got_g)[:, 1], np.pi * np.sin(np.pi * X) * np.cos(np.pi * Y), atol=1e-5)


def test_laplacian_defaults_to_spatial_variables():
    dom = pl.domain.rect(x_range=(0.0, 1.0), y_range=(0.0, 1.0), mesh_size=0.25)
    x, y, _ = dom.variable("interior")
    u = x**2 + 3.0 * y**2
    got = pl.core([(u * 0).mse]).eval([pl.laplacian(u)])
    np.testing.assert_allclose(np.asarray(got), 8.0, rtol=1e-5)


def test_derivative_of_vector_component_and_time():
    dom = pl.domain(constructor=pl.domain.line((0.0, 1.0), mesh_size=0.25),
                    time=pl.domain.time((0.0, 1.0), mesh_size=0.25))
    x, t = dom.variable("interior")
    v = pl.np.concatenate([x * t, x**2 * t**3])
    got_t, got_tt = pl.core([(x * 0).mse]).eval([pl.diff(v[1], t), pl.diff(v[1], t, order=2)])
    P = dom.context["interior"]
    np.testing.assert_allclose(np.asarray(got_t)[:, 0], 3 * P[:, 0] ** 2 * P[:, 1] ** 2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(got_tt)[:, 0], 6 * P[:, 0] ** 2 * P[:, 1], rtol=1e-5, atol=1e-6)


def test_shared_prefix_tower_for_mixed_directions():
    """u_t with u_x, u_xx (Burgers pattern) come from one linearised x-tower; values stay exact."""
    from pinnlang.compile.derivatives import shared_prefix_plan

    assert shared_prefix_plan([(0, 0), (1,)]) == ((0,), (0, 1))
    assert shared_prefix_plan([(0, 0), (1, 1)]) is None
    dom = square()
    x, t, _ = dom.variable("pts")
    f = pl.np.sin(2 * x) * pl.np.exp(t) + x**2 * t
    outs = pl.core([(f * 0).mse]).eval([pl.diff(f, t), pl.diff(f, x), pl.diff(f, x, 2), f])
    P = dom.context["pts"].astype(np.float64)
    X, T = P[:, 0], P[:, 1]
    wants = [np.sin(2 * X) * np.exp(T) + X**2, 2 * np.cos(2 * X) * np.exp(T) + 2 * X * T,
             -4 * np.sin(2 * X) * np.exp(T) + 2 * T, np.sin(2 * X) * np.exp(T) + X**2 * T]
    for got, want in zip(outs, wants):
        np.testing.assert_allclose(np.asarray(got)[:, 0], want, rtol=1e-5, atol=1e-5)
