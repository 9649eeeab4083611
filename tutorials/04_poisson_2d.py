"""04 — Poisson 2-D on the unit square: -Δu = 2π² sin(πx) sin(πy), u = 0 on the boundary.

Exact u = sin(πx) sin(πy). Shows: a rectangle with its boundary tag, pl.laplacian, L-BFGS
polishing after Adam (two solves on one core; the second continues from the first).
"""

import time

import _common  # noqa: F401
import jax
import numpy as np
import optax

import pinnlang as pl
from _common import check, epochs, figure_path, record

dom = pl.domain.rect(x_range=(0.0, 1.0), y_range=(0.0, 1.0), mesh_size=0.05)
x, y, _ = dom.variable("interior")
xb, yb, _ = dom.variable("boundary")

net = pl.nn.wrap(pl.nn.mlp(2, hidden_dims=32, num_layers=3, key=jax.random.PRNGKey(0)), name="u")
net.optimizer(optax.adam(optax.exponential_decay(3e-3, 1000, 0.6)))

u = net(x, y)
source = 2 * pl.np.pi**2 * pl.np.sin(pl.np.pi * x) * pl.np.sin(pl.np.pi * y)
pde = pl.laplacian(u, [x, y]) + source
crux = pl.core([pde.mse, net(xb, yb).mse], weights=[1.0, 10.0], names=["pde", "bc"])

n_adam, n_lbfgs = epochs(3000), epochs(300, smoke=5)
start = time.perf_counter()
crux.solve(n_adam)
net.optimizer(optax.lbfgs())
crux.solve(n_lbfgs, print_rate=100)
seconds = time.perf_counter() - start

g = np.linspace(0.0, 1.0, 51, dtype=np.float32)
grid = pl.io.eval_on_grid(crux, net, g, g)                  # net(x, y) on the 51 x 51 grid
X, Y = grid.mesh
pred = grid.values
exact = np.sin(np.pi * X) * np.sin(np.pi * Y)
rel_l2 = pl.metrics.relative_l2(pred, exact)
pl.plot.fields_2d(X, Y, pred, exact, path=figure_path(__file__))

record(__file__, adam_epochs=n_adam, lbfgs_epochs=n_lbfgs, rel_L2=rel_l2, time_s=seconds)
check(rel_l2 < 1e-2, f"relative L2 {rel_l2:.3e} should be below 1e-2")
