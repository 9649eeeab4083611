"""02 — Inverse problem: recover two coefficients of an ODE from 1 %-noisy data.

Unknown κ (diffusion) and k (reaction) in   κ u'' - k u = f   on [-1, 1], with f known and
u observed at 101 points with Gaussian noise of 1 % of its amplitude. The solution has two modes,
u = sin(πx) + 0.5 sin(2πx), so κ and k are both identifiable. A network represents u; the two
coefficients are trainable parameters fitted together with it.
"""

import time

import _common  # noqa: F401
import jax
import numpy as np
import optax

import pinnlang as pl
from _common import check, epochs, figure_path, record

KAPPA, K = 0.7, 2.0
pi = np.pi

dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.02)
x, _ = dom.variable("interior")

u_exact = pl.np.sin(pi * x) + 0.5 * pl.np.sin(2 * pi * x)
u_exact_xx = -(pi**2) * pl.np.sin(pi * x) - 2.0 * pi**2 * pl.np.sin(2 * pi * x)
f = KAPPA * u_exact_xx - K * u_exact                     # known source
u_obs = u_exact + pl.noise.gaussian(std=0.01 * 1.2)      # 1 % of max|u| ≈ 1.2

net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=32, num_layers=2, key=jax.random.PRNGKey(1)), name="u")
kappa = pl.np.parameter((1,), name="kappa", init=1.0)
k = pl.np.parameter((1,), name="k", init=1.0)
schedule = optax.exponential_decay(1e-2, 2000, 0.5)
for handle in (net, kappa, k):
    handle.optimizer(optax.adam(schedule))

u = net(x)
pde = kappa * pl.diff(u, x, order=2) - k * u - f
crux = pl.core([pde.mse, (u - u_obs).mse], weights=[1.0, 100.0], names=["pde", "data"], seed=0)

n_epochs = epochs(8000)
t0 = time.perf_counter()
history = crux.solve(n_epochs)
seconds = time.perf_counter() - t0

kappa_hat, k_hat = float(kappa.value[0]), float(k.value[0])
err_kappa, err_k = abs(kappa_hat - KAPPA) / KAPPA, abs(k_hat - K) / K
xs = dom.context["interior"]
u_fit, u_data, u_true = crux.eval([u, u_obs, u_exact])
fig, axes = pl.plot.figure(2)
pl.plot.field_1d(xs, u_fit, reference=u_true, observed=(xs, u_data), label="network u", reference_label="exact u",
                 ax=axes[0, 0], title=f"κ = {kappa_hat:.4f} (true {KAPPA}), k = {k_hat:.4f} (true {K})")
pl.plot.loss_history(history, ax=axes[0, 1])
pl.plot.save(fig, figure_path(__file__))

record(__file__, epochs=n_epochs, kappa=kappa_hat, k=k_hat, rel_err_kappa=err_kappa, rel_err_k=err_k,
       time_s=seconds)
check(err_kappa < 0.02 and err_k < 0.02, f"coefficients off by more than 2 %: κ={kappa_hat}, k={k_hat}")
