"""Forward PINN accuracy on the 1-D Poisson problem against its closed form."""

import jax
import numpy as np
import optax

import pinnlang as pl


def test_poisson_1d_reaches_relative_l2_below_1e_2():
    dom = pl.domain(constructor=pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.02))
    x, _ = dom.variable("interior")
    xb, _ = dom.variable("boundary")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=32, num_layers=3, key=jax.random.PRNGKey(0)), name="u")
    net.optimizer(optax.adam(2e-3))
    u = net(x)
    pde = pl.diff(u, x, order=2) + pl.np.pi**2 * pl.np.sin(pl.np.pi * x)
    crux = pl.core([pde.mse, net(xb).mse])
    crux.solve(3000, print_rate=1000)
    test = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.005)
    xt, _ = test.variable("interior")
    pred = np.asarray(crux.eval([net(xt)], domain=test))[:, 0]
    exact = np.sin(np.pi * test.context["interior"][:, 0])
    rel = np.linalg.norm(pred - exact) / np.linalg.norm(exact)
    assert rel < 1e-2, rel
