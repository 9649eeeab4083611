"""06 — Bayesian PINN: predictive bands for a PDE solution with SGLD, after a MAP warm start.

Solve u'' = -π² sin(πx) on [-1, 1], u(±1) = 0 (exact u = sin(πx)), but instead of one network we want a
*distribution* over networks: the residuals are treated as Gaussian noise,

    pde_i ~ N(0, σ_pde²) at the 199 interior points,  bc_j ~ N(0, σ_bc²) at the two ends,

so the log-likelihood is ``-(pde.gaussian_nll(σ_pde) + bc.gaussian_nll(σ_bc))``. ``gaussian_nll`` is the
normalised sum Σ[½(r/σ)² + log σ + ½ log 2π], so no ``likelihood_scale`` is needed; with ``.mse`` (a mean)
one would have to pass ``likelihood_scale = N / (2σ²)`` by hand, per term. σ_pde says how well the
equation is trusted (0.1 is 1 % of the source amplitude π²), σ_bc how well the boundary values are.

Two phases on the same ``crux``:

1. ``net.optimizer(optax.adam(...))``: a point estimate (the maximum-likelihood network).
2. ``net.bayesian(blackjax.sgld, ...)``: stochastic-gradient Langevin dynamics from there,
   θ ← θ + ε ∇log p(θ | data) + √(2ε) ξ. SGLD has no accept/reject step, so the step size ε is bounded
   by the stiffest direction of the posterior (PDE residuals of second derivatives are stiff: at
   ε = 1e-6 the chain already makes unstable excursions here, so ε = 3e-7); ``warmup`` steps are
   discarded and one sample is kept every ``thin`` steps.

The Adam warm start matters: from random weights SGLD at such a small step would need millions of
steps to reach the region of good networks. A constant-step chain started at the MAP explores the
well-determined directions well and the flat (prior-dominated) ones hardly at all — those move u
little, which is why the band is still useful, but it is an approximation to the full posterior.

``crux.eval([u])`` pushes the expression through every kept network: (K, N, n_points, 1); the mean and
the 5 % / 95 % quantiles over the draws give the predictive band.
"""

import time

import _common  # noqa: F401
import blackjax
import jax
import numpy as np
import optax

import pinnlang as pl
from _common import check, epochs, figure_path, record

SIGMA_PDE, SIGMA_BC = 0.1, 0.01

dom = pl.domain(constructor=pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.01))
x, _ = dom.variable("interior")
xb, _ = dom.variable("boundary")
net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=20, num_layers=2, key=jax.random.PRNGKey(0)), name="u")

u = net(x)
pde = pl.diff(u, x, order=2) + pl.np.pi**2 * pl.np.sin(pl.np.pi * x)
bc = net(xb)
crux = pl.core([pde.gaussian_nll(SIGMA_PDE), bc.gaussian_nll(SIGMA_BC)], names=["pde", "bc"], seed=0)

# ---- phase 1: MAP warm start with Adam ---------------------------------------------------------------------
adam_epochs = epochs(3000)
net.optimizer(optax.adam(optax.exponential_decay(2e-3, 1000, 0.7)))
t0 = time.perf_counter()
crux.solve(adam_epochs)

# ---- phase 2: SGLD from the trained network ----------------------------------------------------------------
warmup, keep, thin = epochs(10000, 10), epochs(1000, 10), epochs(20, 1)
net.bayesian(blackjax.sgld, step_size=3e-7, warmup=warmup, keep=keep, thin=thin,
             prior=pl.bayesian.priors.gaussian(sigma=1.0))
crux.solve(warmup + keep * thin)
seconds = time.perf_counter() - t0

# ---- predictive band on a finer grid -----------------------------------------------------------------------
test = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.005)
xt, _ = test.variable("interior")
xs = np.asarray(test.context["interior"][:, 0])
exact = np.sin(np.pi * xs)
u_chain = np.asarray(crux.eval([net(xt)], domain=test))[..., 0]        # (K, N, n_points)
draws = u_chain.reshape(-1, xs.size)
u_mean = draws.mean(0)
u_lo, u_hi = np.quantile(draws, [0.05, 0.95], axis=0)
rel_l2 = float(np.linalg.norm(u_mean - exact) / np.linalg.norm(exact))
coverage = float(np.mean((exact >= u_lo) & (exact <= u_hi)))
width = float(np.mean(u_hi - u_lo))
mid = int(np.argmin(np.abs(xs - 0.5)))
ess_mid = float(pl.bayesian.ess(u_chain[:, :, mid]))                    # bulk ESS of u(0.5) over the chain
print(f"posterior mean rel. L2 {rel_l2:.2e}, exact solution inside the 90 % band at {coverage:.0%} of points, "
      f"mean band width {width:.3g}, bulk ESS of u(0.5) {ess_mid:.0f}/{draws.shape[0]}")

fig, axes = pl.plot.figure(2)
pl.plot.field_1d(xs, u_chain, reference=exact, reference_label="exact sin(πx)", ax=axes[0, 0],
                 title="B-PINN (SGLD): predictive band")
pl.plot.field_1d(xs, u_chain - exact, reference=0.0 * exact, reference_label="0", label="mean - exact",
                 ylabel="u - exact", ax=axes[0, 1], title="error and band, relative to the exact solution")
pl.plot.save(fig, figure_path(__file__))

record(__file__, adam_epochs=adam_epochs, sgld_warmup=warmup, keep=keep, thin=thin, rel_L2=rel_l2,
       coverage_90=coverage, band_width=width, ess_u_mid=ess_mid, time_s=seconds)
check(rel_l2 < 0.01, f"relative L2 of the posterior mean {rel_l2:.2e} should be below 1e-2")
check(coverage > 0.9, f"the exact solution lies inside the 90 % band at only {coverage:.0%} of the points")
