"""12 — Mean-field VI against NUTS on a Bayesian neural network with a gap in the data.

About 100 noisy observations of sin(πx) (σ = 0.1, known) on [-1, -0.3] and [0.3, 1], none in the gap
between. The model is a 1 → 16 → 16 → 1 tanh network, all 321 weights with N(0, 1) priors, and the
normalised likelihood ``gaussian_nll(σ)`` (so ``likelihood_scale=1`` is the true posterior). A Bayesian
answer should be sure of u(x) on the data and unsure in the gap; the figure of merit is the ratio of
the mean width of the 90 % band of u(x) in the gap to its mean width on the data.

Four fits of that one posterior, all through ``crux.solve``:

* NUTS, 4 chains: the reference;
* mean-field VI (``net.vi(blackjax.meanfield_vi, ...)``) with q's mean started at an ordinary
  least-squares fit of the network (``init_mu_at_position=True`` starts q where the network is);
* the same mean-field VI started at the random initial weights instead;
* full-rank VI (``blackjax.fullrank_vi``) from the same least-squares fit: 51 681 covariance parameters.

The script reports, per method, the gap/data band ratio, how often the truth lies in the band on the
data, the relative L2 error of the predictive mean on [-1, 1], the ELBO (VI) and the wall time; for
NUTS the R-hat of the predictive mean across the chains.
"""

import time

import _common  # noqa: F401
import blackjax
import jax
import numpy as np
import optax

import pinnlang as pl
from _common import check, epochs, figure_path, record, sine_observations

SIGMA, GAP = 0.1, 0.3
x_all, y_all = sine_observations(141, SIGMA)
observed = np.abs(x_all[:, 0]) > GAP  # drop the points of the gap (-0.3, 0.3): 99 observations remain
x_train, y_train = x_all[observed], y_all[observed]
x, _ = pl.domain.from_array({"train": x_train}).variable("train")
grid = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.01)
xe, _ = grid.variable("interior")
xs = np.asarray(grid.context["interior"])[:, 0]
truth = np.sin(np.pi * xs)
in_gap = np.abs(xs) < GAP

prior = pl.bayesian.priors.gaussian(1.0)
fit_steps, vi_steps = epochs(3000, 20), epochs(6000, 20)
warmup, keep, chains = epochs(300, 10), epochs(300, 10), 4


def fresh_net():
    return pl.nn.wrap(pl.nn.mlp(1, hidden_dims=16, num_layers=2, key=jax.random.PRNGKey(0)), name="u")


def likelihood(net):
    return pl.core([(net(x) - y_train).gaussian_nll(SIGMA)], names=["data"], seed=0)


def least_squares_fit(net):
    """The network's maximum-likelihood fit by Adam: where the VI runs marked "from the fit" start q's mean."""
    net.optimizer(optax.adam(5e-3))
    likelihood(net).solve(fit_steps)
    return net


def fit_vi(factory, net, learning_rate):
    schedule = optax.cosine_decay_schedule(learning_rate, vi_steps, alpha=0.05)
    net.vi(factory, optimizer=optax.adam(schedule), num_samples=8, posterior_draws=1000, prior=prior,
           init_log_std=-3.0)
    crux = likelihood(net)
    crux.solve(vi_steps)
    return crux, np.asarray(crux.history.trace("elbo/u"))


def final_elbo(trace):
    """The ELBO of the fitted q: the mean of the last 500 one-step estimates (the learning rate has decayed)."""
    return float(np.mean(trace[-500:]))


def summarise(u, seconds, **extra):
    """u: (K, N, n) draws of u on the grid."""
    draws = u.reshape(-1, u.shape[-1])
    lo, hi = np.quantile(draws, [0.05, 0.95], axis=0)
    width = hi - lo
    mean = draws.mean(0)
    return dict(draws=draws, lo=lo, hi=hi, width=width, ratio=float(width[in_gap].mean() / width[~in_gap].mean()),
                width_data=float(width[~in_gap].mean()), width_gap=float(width[in_gap].mean()),
                coverage=float(np.mean(((lo <= truth) & (truth <= hi))[~in_gap])),
                coverage_gap=float(np.mean(((lo <= truth) & (truth <= hi))[in_gap])),
                rel_L2=float(np.linalg.norm(mean - truth) / np.linalg.norm(truth)), seconds=seconds, **extra)


results = {}

# ---- NUTS, the reference ---------------------------------------------------------------------------------
net = fresh_net()
net.bayesian(blackjax.nuts, warmup=warmup, keep=keep, num_chains=chains, init_jitter=0.1, prior=prior,
             chain_method="sequential")  # sequential: on a CPU, vmapped chains wait for the deepest tree
crux = likelihood(net)
t0 = time.perf_counter()
crux.solve(warmup + keep)
u = np.asarray(crux.eval(net(xe), domain=grid))[..., 0]  # (4, keep, n)
diag = net.posterior_diagnostics
results["NUTS"] = summarise(u, time.perf_counter() - t0, rhat=float(np.max(pl.bayesian.rhat(u))),
                            divergent=int(np.sum(diag["is_divergent"])))

# ---- VI: mean-field from the least-squares fit and from the random init; full-rank from the fit -----------
def vi_result(factory, from_fit: bool, learning_rate: float):
    """Fit q and summarise its draws; the time includes the least-squares fit where there is one."""
    net = fresh_net()
    t0 = time.perf_counter()
    if from_fit:
        least_squares_fit(net)
    crux, trace = fit_vi(factory, net, learning_rate)
    u = np.asarray(crux.eval(net(xe), domain=grid))[..., 0]  # (1, 1000, n): i.i.d. draws of q
    return summarise(u, time.perf_counter() - t0, elbo=final_elbo(trace), trace=trace)


results["mean-field VI, from the fit"] = vi_result(blackjax.meanfield_vi, True, 1e-2)
results["mean-field VI, from the random init"] = vi_result(blackjax.meanfield_vi, False, 1e-2)
# full-rank at 1e-3: at 1e-2 Adam's noise on the 51 681 Cholesky entries swamps q (a band of 1.45 everywhere)
results["full-rank VI, from the fit"] = vi_result(blackjax.fullrank_vi, True, 1e-3)

print(f"{'method':<38}{'gap/data':>9}{'width data':>11}{'width gap':>10}{'cover data':>11}{'cover gap':>10}"
      f"{'rel L2':>8}{'ELBO':>9}{'time s':>8}")
for name, r in results.items():
    print(f"{name:<38}{r['ratio']:>9.2f}{r['width_data']:>11.3f}{r['width_gap']:>10.3f}{r['coverage']:>11.2f}"
          f"{r['coverage_gap']:>10.2f}{r['rel_L2']:>8.3f}{r.get('elbo', float('nan')):>9.1f}{r['seconds']:>8.1f}")
print(f"NUTS: R-hat of the predictive mean, max over x {results['NUTS']['rhat']:.3f}; "
      f"{results['NUTS']['divergent']} divergent of {chains * keep}")

# ---- figure: each method's band (shaded; NUTS's band as grey lines), the band widths, the ELBOs ------------
fig, axes = pl.plot.figure(3, 2, width=4.4, height=3.3)
axes = axes.ravel()
nuts = results["NUTS"]
for k, (ax, (name, r)) in enumerate(zip(axes, results.items())):
    pl.plot.field_1d(xs, r["draws"], reference=truth, reference_label="sin(πx)", observed=(x_train, y_train),
                     ax=ax, title=f"{name}: gap/data {r['ratio']:.2f}")
    ax.axvspan(-GAP, GAP, color="0.92", zorder=0)
    if k:
        ax.plot(xs, nuts["lo"], color="0.35", lw=0.8, label="NUTS 90 % band")
        ax.plot(xs, nuts["hi"], color="0.35", lw=0.8)
    ax.set_ylim(-2.0, 2.0)
    if k > 1:
        ax.get_legend().remove()
    elif k == 1:
        ax.legend(handles=ax.get_lines()[-2:-1], fontsize=8, loc="upper left")
for (name, r), color in zip(results.items(), ("k", "C1", "C2", "C3")):
    axes[4].plot(xs, r["width"], color=color, label=name)
    if "trace" in r:
        axes[5].plot(np.arange(1, len(r["trace"]) + 1), r["trace"], color=color, lw=0.5, label=name)
axes[4].axvspan(-GAP, GAP, color="0.92", zorder=0)
axes[4].set(xlabel="x", ylabel="width of the 90 % band", title="band widths (gap shaded)")
axes[4].legend(fontsize=7)
axes[5].set(xlabel="VI step", ylabel="ELBO estimate", ylim=(-1000, -100), title="ELBO per step")
axes[5].legend(fontsize=7)
pl.plot.save(fig, figure_path(__file__))

mf, mf0, fr = (results[k] for k in ("mean-field VI, from the fit", "mean-field VI, from the random init",
                                    "full-rank VI, from the fit"))
fields = dict(vi_steps=vi_steps, nuts_chains=chains, nuts_keep=keep)
for prefix, r in (("mf", mf), ("mf_random", mf0), ("fr", fr), ("nuts", nuts)):
    fields.update({f"{prefix}_ratio": r["ratio"], f"{prefix}_coverage": r["coverage"],
                   f"{prefix}_coverage_gap": r["coverage_gap"], f"{prefix}_rel_L2": r["rel_L2"]})
    fields.update({f"{prefix}_elbo": r["elbo"]} if "elbo" in r else {})
    fields[f"{prefix}_time_s"] = r["seconds"]
record(__file__, **fields, nuts_rhat_u_max=nuts["rhat"], nuts_divergent=nuts["divergent"])
check(mf["ratio"] >= 2.0, f"mean-field VI's band is only {mf['ratio']:.2f}x wider in the gap than on the data")
check(mf["coverage"] >= 0.8, f"mean-field VI's band covers the truth on {mf['coverage']:.0%} of the data region")
check(nuts["ratio"] >= 2.0 and nuts["rhat"] < 1.1, "NUTS reference: gap/data ratio or R-hat off")
