"""01 — Poisson 1-D: a forward PINN in ten lines.

Solve u'' = -π² sin(πx) on [-1, 1] with u(±1) = 0 (exact: u = sin(πx)).
Shows: domains and tags, a wrapped network, pl.diff, .mse losses, solve, eval on a finer grid.
"""

import time

import _common  # noqa: F401  (path setup, smoke mode)
import jax
import numpy as np
import optax

import pinnlang as pl
from _common import check, epochs, figure_path, record

dom = pl.domain(constructor=pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.01))
x, _ = dom.variable("interior")
xb, _ = dom.variable("boundary")

net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=32, num_layers=3, key=jax.random.PRNGKey(0)), name="u")
net.optimizer(optax.adam(optax.exponential_decay(2e-3, 1000, 0.7)))

u = net(x)
pde = pl.diff(u, x, order=2) + pl.np.pi**2 * pl.np.sin(pl.np.pi * x)
crux = pl.core([pde.mse, net(xb).mse], names=["pde", "bc"])

n_epochs = epochs(5000)
t0 = time.perf_counter()
history = crux.solve(n_epochs)
seconds = time.perf_counter() - t0

test = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.001)
xt, _ = test.variable("interior")
pred = np.asarray(crux.eval([net(xt)], domain=test))[:, 0]
exact = np.sin(np.pi * test.context["interior"][:, 0])
rel_l2 = pl.metrics.relative_l2(pred, exact)

fig, axes = pl.plot.figure(2)
pl.plot.field_1d(test.context["interior"], pred, reference=exact, label="pinnlang", reference_label="exact sin(πx)",
                 ax=axes[0, 0], title=f"Poisson 1-D, relative L2 {rel_l2:.2e}")
pl.plot.loss_history(history, ax=axes[0, 1])
pl.plot.save(fig, figure_path(__file__))

record(__file__, epochs=n_epochs, rel_L2=rel_l2, final_loss=float(history.total[-1]), time_s=seconds,
       steps_per_s=history.steps_per_second)
check(rel_l2 < 1e-2, f"relative L2 {rel_l2:.3e} should be below 1e-2")
