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
from _common import check, epochs, record

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
X, T = np.meshgrid(g, g, indexing="ij")
test = pl.domain.from_array({"grid": np.stack([X.ravel(), T.ravel()], 1)})
xt, tt = test.variable("grid")[:2]
pred = np.asarray(crux.eval([net(xt, tt)]))[:, 0]
exact = np.exp(-ALPHA * np.pi**2 * T.ravel()) * np.sin(np.pi * X.ravel())
rel_l2 = float(np.linalg.norm(pred - exact) / np.linalg.norm(exact))

record(__file__, epochs=n_epochs, rel_L2=rel_l2, time_s=seconds, steps_per_s=history.steps_per_second)
check(rel_l2 < 2e-2, f"relative L2 {rel_l2:.3e} should be below 2e-2")
