"""14 — Substeps: a surrogate trained by Adam and a coefficient sampled by NUTS, in one solve; its failure and cure.

Problem: u_t = κ u_xx on x ∈ [0, 1], t ∈ [0, 1], u(x, 0) = sin(πx) + ½ sin(3πx), u(0, t) = u(1, t) = 0,
κ unknown (true 0.1), u observed at 120 random (x, t) with noise σ = 0.005. For any κ the solution is
u_κ = e^(-κπ²t) sin(πx) + ½ e^(-9κπ²t) sin(3πx), so the exact posterior of κ is a 1-D integral.

A network u_θ(x, t, κ) learns the family of solutions for κ ∈ [0.05, 0.15] (κ is an input coordinate of the
physics terms), and κ — a parameter constrained to that range — is sampled from the data under it. The
two updates are stages of every epoch of one solve:

    crux.solve(epochs, substeps=[(["pde", "ic", "bc"], 1),      # Adam on θ, physics only
                                 (["data"], 1, [kappa])])       # one NUTS transition on κ, θ held fixed

Stage 0's terms do not depend on the parameter κ (its κ is a coordinate), stage 1 would update θ as well
(the data term depends on it) but is told to move only κ: the surrogate is never fitted to the data, which
keeps the physics honest. The NUTS step size and metric adapt during the first 500 epochs, on exactly the
log-density the kernel samples.

**The failure.** After 3000 epochs the surrogate looks fair (relative L2 of about 3e-2 over the whole
(x, t, κ) box), NUTS reports no divergences, and the 90 % interval of κ even contains the truth — but it is
fifteen times wider than the exact posterior's, and it is not a posterior of anything: the surrogate is
still moving under the chain, and where the data live its error is several times the noise σ. Two checks
show it without the exact solution:

* the data misfit Σ((y - u_θ)/σ)²/n at the posterior draws, ≈ 1 for a forward model whose error is
  below the noise: here about 5;
* the surrogate's PDE residual where the data live, u_t - κ u_xx at the observation points and the
  posterior's κ draws: here 3e-2, far above what the noise allows.

**The cure.** Continue the same solve (the chain and the Adam state go on): after 30 000 epochs the misfit
is ≈ 1.3, the residual at the data 4e-3, and the interval covers the truth with the width of the exact
posterior. What is left is a bias of about one posterior standard deviation, the surrogate's remaining
error (rel. L2 7e-3) seen through the data: the posterior of κ is conditional on the surrogate, and only
the checks above tell how far to trust it. The script asserts that the checks flag the short run and that
the cured posterior covers the truth, matches the exact width within 15 % and its mean within 1.5
standard deviations.
"""

import time

import _common  # noqa: F401
import blackjax
import jax
import numpy as np
import optax

import pinnlang as pl
from _common import SMOKE, check, epochs, figure_path, record

K_TRUE, SIGMA, K_RANGE = 0.1, 0.005, (0.05, 0.15)
pi = np.pi


def u_family(x, t, kappa):
    """The exact solution (NumPy, broadcasting)."""
    return np.exp(-kappa * pi**2 * t) * np.sin(pi * x) + 0.5 * np.exp(-9 * kappa * pi**2 * t) * np.sin(3 * pi * x)


rng = np.random.default_rng(0)
n_pde, n_ic, n_bc, n_obs = 2000, 200, 200, 120
lo, hi = np.array([0.0, 0.0, K_RANGE[0]]), np.array([1.0, 1.0, K_RANGE[1]])
interior = lo + (hi - lo) * rng.random((n_pde, 3))
ic = lo + (hi - lo) * rng.random((n_ic, 3))
ic[:, 1] = 0.0
bc = lo + (hi - lo) * rng.random((n_bc, 3))
bc[:, 0] = np.round(bc[:, 0])
obs_xt = np.stack([rng.random(n_obs), 0.1 + 0.9 * rng.random(n_obs)], axis=1)
y_obs = (u_family(obs_xt[:, 0], obs_xt[:, 1], K_TRUE) + SIGMA * rng.normal(size=n_obs))[:, None]

pts = pl.domain.from_array({"pde": interior.astype(np.float32), "ic": ic.astype(np.float32),
                            "bc": bc.astype(np.float32)})
x, t, kap, _ = pts.variable("pde")
x0, t0, k0, _ = pts.variable("ic")
xb, tb, kb, _ = pts.variable("bc")
obs = pl.domain.from_array({"obs": obs_xt.astype(np.float32)})
xo, to, _ = obs.variable("obs")

net = pl.nn.wrap(pl.nn.mlp(3, hidden_dims=32, num_layers=3, key=jax.random.PRNGKey(0)), name="u")
net.optimizer(optax.adam(optax.exponential_decay(3e-3, 4000, 0.5)))
kappa = pl.np.parameter((1,), name="kappa", init=0.08, constraint=K_RANGE)
warmup, keep = epochs(500, 10), epochs(1000, 10)
kappa.bayesian(blackjax.nuts, warmup=warmup, keep=keep, num_chains=4, init_jitter=0.2)

u = net(x, t, kap)
pde = pl.diff(u, t) - kap * pl.diff(u, x, order=2)
ic_res = net(x0, t0, k0) - (pl.np.sin(pi * x0) + 0.5 * pl.np.sin(3 * pi * x0))
k_col = 0.0 * xo + kappa                                    # κ broadcast to one value per observation
u_at_data = net(xo, to, k_col)
data = (u_at_data - pl.np.array(y_obs.astype(np.float32))).gaussian_nll(SIGMA)
crux = pl.core([pde.mse, ic_res.mse, net(xb, tb, kb).mse, data], names=["pde", "ic", "bc", "data"], seed=0)
stages = [(["pde", "ic", "bc"], 1), (["data"], 1, [kappa])]

# the exact posterior of κ: the exact forward model on a 1-D grid, the default N(0, 10²) prior (flat here)
kg = np.linspace(*K_RANGE, 8001)
logp = -0.5 * np.sum((u_family(obs_xt[:, 0], obs_xt[:, 1], kg[:, None]) - y_obs[:, 0]) ** 2, axis=1) / SIGMA**2
w = np.exp(logp - logp.max())
w /= w.sum()
exact_mean = float(np.sum(w * kg))
exact_std = float(np.sqrt(np.sum(w * (kg - exact_mean) ** 2)))
cdf = np.cumsum(w)
exact_lo, exact_hi = float(kg[np.searchsorted(cdf, 0.05)]), float(kg[np.searchsorted(cdf, 0.95)])
print(f"exact posterior of κ: {exact_mean:.5f} ± {exact_std:.5f}, 90 % [{exact_lo:.5f}, {exact_hi:.5f}]")

grid = np.stack(np.meshgrid(np.linspace(0, 1, 21), np.linspace(0, 1, 21), np.linspace(*K_RANGE, 11)), -1)
grid = grid.reshape(-1, 3).astype(np.float32)
gdom = pl.domain.from_array({"grid": grid})
gx, gt, gk, _ = gdom.variable("grid")
residual_at_data = pl.diff(u_at_data, to) - k_col * pl.diff(u_at_data, xo, order=2)


def report(stage: str) -> dict:
    """The posterior of κ, the surrogate's error, and the two checks a user can run without the truth."""
    chain = np.asarray(kappa.posterior_samples)[..., 0]            # (4, keep)
    k_lo, k_hi = (float(q) for q in np.quantile(chain, [0.05, 0.95]))
    pred = np.asarray(crux.eval([net(gx, gt, gk)], domain=gdom))[:, 0]
    exact = u_family(grid[:, 0], grid[:, 1], grid[:, 2])
    fit = np.asarray(crux.eval([u_at_data]))[..., 0]                 # (4, keep, n_obs) at the κ draws
    misfit = float(np.mean(((fit - y_obs[:, 0]) / SIGMA) ** 2))
    res = np.asarray(crux.eval([residual_at_data]))[..., 0]
    out = {"k_mean": float(chain.mean()), "k_std": float(chain.std(ddof=1)), "k_lo": k_lo, "k_hi": k_hi,
           "covers": bool(k_lo <= K_TRUE <= k_hi), "rhat": float(pl.bayesian.rhat(chain[..., None])[0]),
           "surrogate_rel_L2": float(np.linalg.norm(pred - exact) / np.linalg.norm(exact)),
           "data_misfit": misfit, "pde_residual_at_data": float(np.sqrt(np.mean(res**2)))}
    print(f"[{stage}] κ = {out['k_mean']:.5f} ± {out['k_std']:.5f}, 90 % [{k_lo:.5f}, {k_hi:.5f}] "
          f"({'covers' if out['covers'] else 'MISSES'} {K_TRUE}), R-hat {out['rhat']:.4f}; surrogate rel. L2 "
          f"{out['surrogate_rel_L2']:.2e}; data misfit Σ(r/σ)²/n = {misfit:.2f}; PDE residual at the data "
          f"{out['pde_residual_at_data']:.2e}")
    return out


t_start = time.perf_counter()
crux.solve(epochs(3000, 30), substeps=stages, progress=False)
t_short = time.perf_counter() - t_start
short = report("3000 epochs")
t_start = time.perf_counter()
crux.solve(epochs(27000, 30), substeps=stages, progress=False)
t_long = time.perf_counter() - t_start
cured = report("30000 epochs")

fig, axes = pl.plot.figure(2)
pl.plot.marginals(crux, exact={"kappa": (kg, w / (kg[1] - kg[0]))}, truth={"kappa": K_TRUE}, axes=axes[0, :1])
axes[0, 0].set_xlim(exact_mean - 8 * exact_std, exact_mean + 8 * exact_std)
axes[0, 0].set_title("κ after the cure (histogram) vs the exact posterior")
axes[0, 1].bar(["misfit 3k", "misfit 30k"], [short["data_misfit"], cured["data_misfit"]], color=["C3", "C0"])
axes[0, 1].axhline(1.0, color="k", lw=0.8, ls="--")
axes[0, 1].set_title("data misfit Σ(r/σ)²/n (1 = at the noise level)")
pl.plot.save(fig, figure_path(__file__))

record(__file__, epochs_short=epochs(3000, 30), epochs_long=epochs(3000, 30) + epochs(27000, 30),
       short_k_mean=short["k_mean"], short_k_std=short["k_std"], short_covers=short["covers"],
       short_misfit=short["data_misfit"], short_rel_L2=short["surrogate_rel_L2"],
       short_residual=short["pde_residual_at_data"],
       k_mean=cured["k_mean"], k_std=cured["k_std"], k_lo=cured["k_lo"], k_hi=cured["k_hi"], covers=cured["covers"],
       misfit=cured["data_misfit"], rel_L2=cured["surrogate_rel_L2"], residual=cured["pde_residual_at_data"],
       rhat=cured["rhat"], exact_mean=exact_mean, exact_std=exact_std, time_short_s=t_short, time_long_s=t_long)
check(short["data_misfit"] > 2.0, f"the short run's misfit {short['data_misfit']:.2f} should flag the surrogate")
check(cured["covers"], f"the cured 90 % interval [{cured['k_lo']:.5f}, {cured['k_hi']:.5f}] should cover {K_TRUE}")
check(cured["data_misfit"] < 1.5, f"the cured misfit {cured['data_misfit']:.2f} should be near the noise level")
check(abs(cured["k_mean"] - exact_mean) < 1.5 * exact_std and abs(cured["k_std"] / exact_std - 1) < 0.15,
      f"cured posterior {cured['k_mean']:.5f} ± {cured['k_std']:.5f} vs exact {exact_mean:.5f} ± {exact_std:.5f}")
check(cured["rhat"] < 1.02, f"R-hat {cured['rhat']:.4f}")
