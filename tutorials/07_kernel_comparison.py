"""07 — Four blackjax kernels on one posterior: NUTS, HMC, MALA and SGLD against the exact answer.

The (A, B) problem of tutorial 05 — d(x) = A·sin(πx) + B·cos(πx) + N(0, 0.1²) noise on 99 points — with
θ = (A, B) as one parameter of shape (2,), so every kernel moves both coefficients jointly. The exact
posterior is Gaussian (Bayesian linear regression), which makes it a clean test bench:

* ``blackjax.nuts``: no tuning by hand; window adaptation (``adapt=True``) tunes the step size and a
  diagonal mass matrix during ``warmup``, and the trajectory length is chosen per step.
* ``blackjax.hmc``: the same adaptation, but a fixed number of leapfrog steps
  (``num_integration_steps``) that you choose. On a Gaussian posterior a trajectory rotates the
  (whitened) position by about L·ε radians, and the adaptation puts ε near 1 here: L = 3 turns it by
  almost π, each draw nearly mirrors the last, and the chains keep their distance from the mean (R-hat
  1.50 on the folded draws); L = 6 turns it by almost 2π (bulk ESS 128 of 4000); L = 8 gives R-hat 1.09.
  L = 5 (about 4.8 radians) mixes well. NUTS chooses the length per step and has no such resonance.
* ``blackjax.mala``: one Langevin step plus a Metropolis correction; ``step_size`` by hand, no
  adaptation (``warmup`` steps are simply discarded).
* ``blackjax.sgld``: the Langevin step *without* correction (built for minibatches); ``step_size`` by
  hand. Its samples are biased by the discretisation: the variance comes out too large by about a
  factor 1/(1 - ε·λ/2) for a direction of curvature λ, so a small step and thinning are needed.

For each kernel the script reports the posterior mean and standard deviation against the closed form,
the mean acceptance rate (NUTS/HMC/MALA; SGLD has none), the bulk ESS per second of sampling and per
1000 gradient evaluations (``pl.io.sampling_cost``: the cost measure that does not depend on the machine). The
speed is measured on a *second* ``solve`` that continues the chains (same compiled code, no new
warmup), so compilation and adaptation are not counted. Mean errors are judged in units of the Monte
Carlo standard error std/√ESS, with the ESS of the raw draws (ArviZ's ``method="mean"``, the one
that measures the variance of a mean): an exact sampler lands within a few of them.
"""

import time

import _common  # noqa: F401
import blackjax
import numpy as np

import pinnlang as pl
from _common import check, epochs, figure_path, record

A_TRUE, B_TRUE, SIGMA, PRIOR_SIGMA, CHAINS = 3.14, -2.71, 0.1, 10.0, 4
pi = pl.np.pi

dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.01)
x, _ = dom.variable("interior")
target = A_TRUE * pl.np.sin(pi * x) + B_TRUE * pl.np.cos(pi * x) + pl.noise.gaussian(std=SIGMA)

KERNELS = {  # name: (factory, kernel arguments, warmup, keep, thin)
    "nuts": (blackjax.nuts, {}, epochs(500, 20), epochs(1000, 20), 1),
    "hmc": (blackjax.hmc, {"num_integration_steps": 5}, epochs(500, 20), epochs(1000, 20), 1),
    "mala": (blackjax.mala, {"step_size": 1e-4}, epochs(1000, 20), epochs(2000, 20), 1),
    "sgld": (blackjax.sgld, {"step_size": 1e-5}, epochs(1000, 20), epochs(1000, 20), epochs(10, 1)),
}


def sample(factory, kwargs, warmup, keep, thin):
    """Compile + warm up + sample once, then time a second solve that continues the chains."""
    theta = pl.np.parameter((2,), name="theta", init=0.0)
    theta.bayesian(factory, warmup=warmup, keep=keep, thin=thin, num_chains=CHAINS, init_jitter=0.1,
                   prior=pl.bayesian.priors.gaussian(sigma=PRIOR_SIGMA), **kwargs)
    residual = theta[0:1] * pl.np.sin(pi * x) + theta[1:2] * pl.np.cos(pi * x) - target
    crux = pl.core([residual.gaussian_nll(SIGMA)], seed=0)
    crux.solve(warmup + keep * thin)
    t0 = time.perf_counter()
    crux.solve(keep * thin)  # the kept draws of this solve replace the first ones
    seconds = time.perf_counter() - t0
    return crux, theta, seconds


results, crux = {}, None
for name, (factory, kwargs, warmup, keep, thin) in KERNELS.items():
    crux, theta, seconds = sample(factory, kwargs, warmup, keep, thin)
    chains = theta.posterior_samples                                   # (K, N, 2)
    draws = chains.reshape(-1, 2)
    ess = np.asarray(pl.bayesian.ess(chains))                         # bulk ESS: what the table reports
    ess_mean = np.asarray(pl.bayesian.ess(chains, method="mean"))     # the ESS of a mean, for its MCSE
    diag = theta.posterior_diagnostics  # SGLD has no acceptance rate, only its one gradient per step
    cost = pl.io.sampling_cost(crux)["theta"]  # gradients of the kept draws (the timed solve, no warmup)
    results[name] = dict(chains=chains, mean=draws.mean(0), std=draws.std(0, ddof=1), ess=ess, ess_mean=ess_mean,
                         seconds=seconds,
                         rhat=np.asarray(pl.bayesian.rhat(chains)), ess_per_1k_grad=cost.ess_per_1k_gradients,
                         accept=float(np.mean(diag["acceptance_rate"])) if "acceptance_rate" in diag else float("nan"))

# ---- the exact posterior (same noisy data as the likelihood) -------------------------------------------------
xs = np.asarray(dom.context["interior"][:, 0], np.float64)
d = np.asarray(crux.eval([target]), np.float64)[:, 0]
X = np.stack([np.sin(np.pi * xs), np.cos(np.pi * xs)], axis=1)
cov = np.linalg.inv(X.T @ X / SIGMA**2 + np.eye(2) / PRIOR_SIGMA**2)
exact_mean, exact_std = cov @ X.T @ d / SIGMA**2, np.sqrt(np.diag(cov))

print(f"exact: mean ({exact_mean[0]:.4f}, {exact_mean[1]:.4f}), std ({exact_std[0]:.4f}, {exact_std[1]:.4f})")
print(f"{'kernel':<6} {'mean A':>8} {'mean B':>8} {'std/exact':>14} {'|err|/MCSE':>12} {'accept':>7} "
      f"{'ESS min':>8} {'ESS/s':>8} {'ESS/1k grad':>11} {'R-hat':>6}")
values = {}
for name, r in results.items():
    mcse = r["std"] / np.sqrt(r["ess_mean"])  # ArviZ mcse(method="mean")
    r["z"] = np.abs(r["mean"] - exact_mean) / mcse
    r["std_ratio"] = r["std"] / exact_std
    r["ess_per_s"] = float(r["ess"].min() / r["seconds"])
    print(f"{name:<6} {r['mean'][0]:8.4f} {r['mean'][1]:8.4f} {r['std_ratio'][0]:6.3f} {r['std_ratio'][1]:6.3f} "
          f"{r['z'].max():12.2f} {r['accept']:7.2f} {r['ess'].min():8.0f} {r['ess_per_s']:8.0f} "
          f"{r['ess_per_1k_grad']:11.3g} {r['rhat'].max():6.3f}")
    values.update({f"{name}_z": float(r["z"].max()), f"{name}_std_ratio": float(r["std_ratio"].max()),
                   f"{name}_accept": r["accept"], f"{name}_ess": float(r["ess"].min()),
                   f"{name}_ess_per_s": r["ess_per_s"], f"{name}_ess_per_1k_grad": r["ess_per_1k_grad"]})

fig, axes = pl.plot.figure(2, len(results), height=2.6)
for row, (name, r) in zip(axes, results.items()):
    pl.plot.marginals({f"{name}: A": r["chains"][..., 0], f"{name}: B": r["chains"][..., 1]}, axes=row,
                      exact={f"{name}: A": (exact_mean[0], exact_std[0]), f"{name}: B": (exact_mean[1], exact_std[1])})
pl.plot.save(fig, figure_path(__file__))

record(__file__, chains=CHAINS, **values)
for name in ("nuts", "hmc", "mala"):
    z = results[name]["z"].max()
    check(z < 4.0, f"{name}: posterior mean is {z:.1f} Monte Carlo standard errors from the exact one (>= 4)")
