"""03 — Space-time: the heat equation u_t = α u_xx on [0, 1] × [0, 1].

u(x, 0) = sin(πx), u(0, t) = u(1, t) = 0; exact u = exp(-α π² t) sin(πx) with α = 0.2.
Shows: a time interval combined with a line, the "initial" tag, a network of (x, t).
"""

import time

import _common  # noqa: F401
import jax
import numpy as np
import optax

import pinnlang as pl
from _common import check, epochs, figure_path, record

ALPHA = 0.2
dom = pl.domain(constructor=pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.05),
                time=pl.domain.time(t_range=(0.0, 1.0), mesh_size=0.05))
x, t = dom.variable("interior")
xb, tb = dom.variable("boundary")
x0, t0 = dom.variable("initial")

net = pl.nn.wrap(pl.nn.mlp(2, hidden_dims=32, num_layers=3, key=jax.random.PRNGKey(0)), name="u")
net.optimizer(optax.adam(optax.exponential_decay(3e-3, 2000, 0.6)))

u = net(x, t)
pde = pl.diff(u, t) - ALPHA * pl.diff(u, x, order=2)
ic = net(x0, t0) - pl.np.sin(pl.np.pi * x0)
bc = net(xb, tb)
crux = pl.core([pde.mse, ic.mse, bc.mse], names=["pde", "initial", "boundary"])

n_epochs = epochs(6000)
start = time.perf_counter()
history = crux.solve(n_epochs)
seconds = time.perf_counter() - start

g = np.linspace(0.0, 1.0, 41, dtype=np.float32)
grid = pl.io.eval_on_grid(crux, net, g, g)                  # net(x, t) on the 41 x 41 grid, shape (41, 41)
X, T = grid.mesh
pred = grid.values
exact = np.exp(-ALPHA * np.pi**2 * T) * np.sin(np.pi * X)
rel_l2 = pl.metrics.relative_l2(pred, exact)
pl.plot.fields_2d(T, X, pred, exact, labels=("t", "x"), path=figure_path(__file__))

record(__file__, epochs=n_epochs, rel_L2=rel_l2, time_s=seconds, steps_per_s=history.steps_per_second)
check(rel_l2 < 2e-2, f"relative L2 {rel_l2:.3e} should be below 2e-2")
