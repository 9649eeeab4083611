"""11 — Two masked blocks of one network with different kernels (Pattern D), checked against one joint NUTS.

The data of tutorials 09 and 10 (32 noisy observations of sin(πx), σ = 0.05), with the normalised
likelihood ``gaussian_nll(σ)`` and N(0, 1) priors. The network's first layer and its head are both
sampled, each by its own kernel; the middle layer keeps its random initial values:

    net.mask(lambda m: m.layers[0]).bayesian(blackjax.hmc, num_integration_steps=16, ...)
    net.mask(lambda m: m.output_layer).bayesian(blackjax.nuts, ...)

Two masks of one model are two blocks, updated in a fixed order every epoch: HMC moves the first
layer given the current head, then NUTS moves the head given the new first layer (Metropolis-within-
Gibbs). Each block adapts its own step size and mass matrix during the warmup, and has its own
diagnostics (``net.posterior_diagnostics["acceptance_rate/0"]`` and ``[".../1"]``).

Gibbs sampling has the same stationary distribution as sampling both blocks at once. The script
checks that: the same two layers are sampled jointly by one NUTS
(``net.mask(lambda m: (m.layers[0], m.output_layer)).bayesian(...)``), and the predictive means of
u(x) must agree within their Monte Carlo standard errors (from the ESS of a mean, ArviZ's
``method="mean"``, of u at every grid point, across 4 chains each).

Gibbs blocks of coupled layers mix slowly: with 600 warmup epochs and 600 draws per chain the smallest
bulk ESS of u over the grid was 38-156 of 2400 (core seeds 0-3) and the largest R-hat 1.02-1.07; with
1000 and 2000 (below) it was 81-244 of 8000 and 1.016-1.036 (seeds 0-2).
"""

import time

import _common  # noqa: F401
import blackjax
import jax
import numpy as np

import pinnlang as pl
from _common import check, epochs, figure_path, record, sine_observations

SIGMA = 0.05
x_train, y_train = sine_observations(32, SIGMA)  # 32 noisy observations of sin(πx)
train = pl.domain.from_array({"train": x_train})
x, _ = train.variable("train")
grid = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.02)
xe, _ = grid.variable("interior")
xs = np.asarray(grid.context["interior"])[:, 0]
warmup, keep, chains = epochs(1000, 10), epochs(2000, 10), 4
prior = pl.bayesian.priors.gaussian(1.0)
common = dict(warmup=warmup, keep=keep, num_chains=chains, init_jitter=0.01, prior=prior, chain_method="sequential")


def sample(gibbs: bool):
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=16, num_layers=2, key=jax.random.PRNGKey(0)), name="u")
    if gibbs:
        net.mask(lambda m: m.layers[0]).bayesian(blackjax.hmc, num_integration_steps=16, **common)
        net.mask(lambda m: m.output_layer).bayesian(blackjax.nuts, **common)
    else:
        net.mask(lambda m: (m.layers[0], m.output_layer)).bayesian(blackjax.nuts, **common)
    crux = pl.core([(net(x) - y_train).gaussian_nll(SIGMA)], names=["data"])
    t0 = time.perf_counter()
    crux.solve(warmup + keep)
    seconds = time.perf_counter() - t0
    u = np.asarray(crux.eval(net(xe), domain=grid))[..., 0]     # (chains, keep, n_eval)
    return net, u, seconds


net, u_gibbs, t_gibbs = sample(gibbs=True)
_, u_joint, t_joint = sample(gibbs=False)
diag = net.posterior_diagnostics
acc = [float(np.mean(diag[f"acceptance_rate/{i}"])) for i in (0, 1)]


def mean_and_mcse(u):
    ess = np.asarray(pl.bayesian.ess(u, method="mean"))  # the ESS of a mean (ArviZ's mcse, method="mean")
    return u.mean(axis=(0, 1)), u.std(axis=(0, 1)) / np.sqrt(ess), np.asarray(pl.bayesian.rhat(u))


m_g, se_g, rhat_g = mean_and_mcse(u_gibbs)
m_j, se_j, rhat_j = mean_and_mcse(u_joint)
z = np.abs(m_g - m_j) / np.sqrt(se_g**2 + se_j**2)
band_g = np.diff(np.quantile(u_gibbs, [0.05, 0.95], axis=(0, 1)), axis=0)[0]
band_j = np.diff(np.quantile(u_joint, [0.05, 0.95], axis=(0, 1)), axis=0)[0]
truth = np.sin(np.pi * xs)
rel_l2 = float(np.linalg.norm(m_g - truth) / np.linalg.norm(truth))
print(f"Gibbs (HMC first layer, NUTS head): acceptance {acc[0]:.2f} / {acc[1]:.2f}, R-hat of u max {rhat_g.max():.3f}, "
      f"{t_gibbs:.1f} s")
print(f"joint NUTS over both layers: R-hat of u max {rhat_j.max():.3f}, {t_joint:.1f} s")
print(f"predictive means differ by {np.median(z):.2f} MCSE (median), {z.max():.2f} (max); band medians "
      f"{np.median(band_g):.4f} vs {np.median(band_j):.4f}; relative L2 {rel_l2:.4f}")

fig, axes = pl.plot.figure(2)
for ax, u, title in ((axes[0, 0], u_gibbs, "Gibbs: HMC + NUTS blocks"), (axes[0, 1], u_joint, "one joint NUTS")):
    pl.plot.field_1d(xs, u, reference=truth, reference_label="sin(πx)", observed=(x_train, y_train), ax=ax,
                     title=title)
pl.plot.save(fig, figure_path(__file__))

record(__file__, epochs=warmup + keep, chains=chains, accept_hmc=acc[0], accept_nuts=acc[1],
       rhat_u_max_gibbs=float(rhat_g.max()), rhat_u_max_joint=float(rhat_j.max()), z_median=float(np.median(z)),
       z_max=float(z.max()), band_median_gibbs=float(np.median(band_g)), band_median_joint=float(np.median(band_j)),
       rel_L2=rel_l2, time_gibbs_s=t_gibbs, time_joint_s=t_joint)
check(rhat_g.max() < 1.05 and rhat_j.max() < 1.05, f"chains disagree: R-hat {rhat_g.max():.3f}, {rhat_j.max():.3f}")
check(np.quantile(z, 0.95) < 4.0, f"Gibbs and joint predictive means differ by up to {z.max():.1f} MCSE")
check(abs(np.median(band_g) / np.median(band_j) - 1) < 0.25, "Gibbs and joint bands differ by more than 25 %")
