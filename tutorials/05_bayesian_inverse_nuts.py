"""05 — Bayesian inverse problem: credible intervals for (A, B) with NUTS, checked against the exact posterior.

Data d(x) = A·sin(πx) + B·cos(πx) + ε on 99 grid points of (0, 1), noise ε ~ N(0, 0.1²), true
A = 3.14, B = -2.71. Instead of optimising (a, b) we *sample* them: ``.bayesian(blackjax.nuts, ...)``
replaces the optimiser of each parameter by one NUTS transition per epoch, on the log-density

    log p(a, b | d) = -Σ_i [½ (r_i/σ)² + log σ + ½ log 2π] + log prior(a) + log prior(b),

with r = a·sin(πx) + b·cos(πx) - d. The sum is exactly ``residual.gaussian_nll(σ)``: a normalised
Gaussian likelihood, so the default ``likelihood_scale=1`` gives the true posterior. (``residual.mse``
is a *mean* of r²; used as a likelihood it would need ``likelihood_scale = N / (2σ²)`` — writing
``N / σ²`` instead, a classic slip, halves the posterior variance without any visible failure.)

Four chains start from jittered copies of the initial values (``init_jitter``); NUTS's window adaptation
tunes the step size and a diagonal mass matrix during the ``warmup`` epochs, so
``epochs = warmup + keep``. a and b are two handles configured with the same kernel and settings, so
they form one sampling block: one NUTS over (a, b), one adaptation, one mass matrix (as NumPyro and
Stan would do); different settings, or ``block="..."`` names, would make Metropolis-within-Gibbs
blocks instead. Each of the four chains is an independent joint chain of (a, b).
Convergence is judged with the rank-normalised R-hat and bulk ESS (``pl.bayesian.rhat`` / ``ess``,
which match ArviZ).

Because the model is linear in (a, b) and the prior is Gaussian, the posterior is known in closed form
(Bayesian linear regression with design matrix [sin πx, cos πx]); the script compares the sampled
mean and standard deviation with it.
"""

import time

import _common  # noqa: F401
import blackjax
import jax
import numpy as np

import pinnlang as pl
from _common import check, epochs, figure_path, record

A_TRUE, B_TRUE, SIGMA, PRIOR_SIGMA = 3.14, -2.71, 0.1, 10.0
pi = pl.np.pi

dom = pl.domain(constructor=pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.01))
x, _ = dom.variable("interior")
target = A_TRUE * pl.np.sin(pi * x) + B_TRUE * pl.np.cos(pi * x) + pl.noise.gaussian(std=SIGMA)

k1, k2 = jax.random.split(jax.random.PRNGKey(0))
a = pl.np.parameter((1,), key=k1, name="a")
b = pl.np.parameter((1,), key=k2, name="b")
warmup, keep = epochs(500, 20), epochs(1000, 20)
for p in (a, b):
    p.bayesian(blackjax.nuts, warmup=warmup, keep=keep, num_chains=4, init_jitter=0.1,
               prior=pl.bayesian.priors.gaussian(sigma=PRIOR_SIGMA))

fit = a * pl.np.sin(pi * x) + b * pl.np.cos(pi * x)
residual = fit - target
crux = pl.core([residual.gaussian_nll(SIGMA)], names=["likelihood"], seed=0)

t0 = time.perf_counter()
crux.solve(warmup + keep)
seconds = time.perf_counter() - t0

# ---- posterior summaries -------------------------------------------------------------------------------
chains = np.concatenate([a.posterior_samples, b.posterior_samples], axis=-1)  # (K, N, 2)
draws = chains.reshape(-1, 2)
mean, std = draws.mean(0), draws.std(0, ddof=1)
lo, hi = np.quantile(draws, [0.05, 0.95], axis=0)
rhat = np.asarray(pl.bayesian.rhat(chains))
ess = np.asarray(pl.bayesian.ess(chains))
divergent = int(a.posterior_diagnostics["is_divergent"].sum())
for i, (name, truth) in enumerate([("A", A_TRUE), ("B", B_TRUE)]):
    print(f"{name} = {mean[i]:.4f} ± {std[i]:.4f}, 90 % interval [{lo[i]:.4f}, {hi[i]:.4f}] (true {truth}), "
          f"R-hat {rhat[i]:.4f}, bulk ESS {ess[i]:.0f}")

# ---- the exact posterior: Bayesian linear regression with a N(0, 10²) prior -----------------------------
xs = np.asarray(dom.context["interior"][:, 0], np.float64)
d = np.asarray(crux.eval([target]), np.float64)[:, 0]          # the same noisy data the likelihood sees
X = np.stack([np.sin(np.pi * xs), np.cos(np.pi * xs)], axis=1)
precision = X.T @ X / SIGMA**2 + np.eye(2) / PRIOR_SIGMA**2
cov = np.linalg.inv(precision)
exact_mean = cov @ X.T @ d / SIGMA**2
exact_std = np.sqrt(np.diag(cov))
rel_mean = np.abs(mean - exact_mean) / np.abs(exact_mean)
rel_std = np.abs(std - exact_std) / exact_std
print(f"exact posterior: mean {exact_mean}, std {exact_std}")

# ---- figure: marginals against the exact posterior, and the fitted observations with their predictive band ----
fig, axes = pl.plot.figure(3)
pl.plot.marginals(crux, exact={"a": (exact_mean[0], exact_std[0]), "b": (exact_mean[1], exact_std[1])},
                  truth={"a": A_TRUE, "b": B_TRUE}, axes=axes[0, :2])
pl.plot.predictive_band(xs, crux.eval(fit), d, noise_std=SIGMA, ax=axes[0, 2])
pl.plot.save(fig, figure_path(__file__))
pl.io.summary(crux)                                             # mean, sd, HDI, MCSE, ESS, R-hat, divergences

record(__file__, warmup=warmup, keep=keep, chains=4, A_mean=float(mean[0]), A_lo=float(lo[0]), A_hi=float(hi[0]),
       B_mean=float(mean[1]), B_lo=float(lo[1]), B_hi=float(hi[1]), rhat_max=float(rhat.max()),
       ess_bulk_min=float(ess.min()), divergent=divergent, rel_err_mean_vs_exact=float(rel_mean.max()),
       rel_err_std_vs_exact=float(rel_std.max()), time_s=seconds)
check(lo[0] <= A_TRUE <= hi[0] and lo[1] <= B_TRUE <= hi[1],
      f"90 % intervals A [{lo[0]:.3f}, {hi[0]:.3f}], B [{lo[1]:.3f}, {hi[1]:.3f}] should contain the truth")
# R-hat - 1 of converged chains fluctuates at order 1/ESS: with a bulk ESS above a thousand, 1.01 is
# exceeded now and then on another CPU (about 1 run in 250), 1.02 essentially never (docs/testing.md)
check(rhat.max() < 1.02, f"R-hat {rhat.max():.4f} should be below 1.02")
check(rel_std.max() < 0.1, f"posterior std off the exact one by {rel_std.max():.1%} (more than 10 %)")
