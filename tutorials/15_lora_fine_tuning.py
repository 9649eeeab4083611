"""15 — LoRA fine-tuning of a PINN to a new coefficient, and a Bayesian posterior over the adapters.

Steady advection–diffusion on [0, 1]: u'' = Pe · u', u(0) = 0, u(1) = 1, exact u = (e^{Pe x} − 1)/(e^{Pe} − 1).
A larger Péclet number Pe sharpens the boundary layer at x = 1.

1. A PINN (1 → 32 → 32 → 1, tanh, 1153 values) is trained by Adam for Pe₀ = 2.
2. ``net.lora(1)`` adds rank-1 adapters to its three linear layers: each computes W x + b + (α/r) B A x with
   W and b fixed, A random and B zero (so the network is unchanged at first), 130 trainable values in all.
   Adam on the adapters fits the PINN loss for Pe₁ = 6. We count the Adam steps until the relative L2 error
   against the exact Pe₁ solution falls below 0.3 %, and compare with training all 1153 values from the Pe₀
   network (full fine-tuning) and with training a fresh network from scratch (same learning rate). One run
   each is an anecdote, not a benchmark: the docs page gives the spread over other random keys.
3. A Bayesian LoRA posterior: suppose Pe is not known for the new regime, only 12 noisy readings of u
   (σ = 0.02) and the boundary values. Fresh rank-1 adapters on the Pe₀ network are fitted to the readings
   by Adam (a MAP warm start), then ``.bayesian(blackjax.nuts, ...)`` samples the 130 adapter values; the
   base weights stay fixed along the chain (``net.posterior_samples`` is the whole adapted module, its base
   leaves constant). The 90 % band of u over the draws is checked against the exact Pe₁ solution.

``pl.nn.merge(net.module)`` folds trained adapters into plain weights (W + (α/r) B A) when a plain network
is wanted afterwards.
"""

import time

import _common  # noqa: F401
import blackjax
import equinox as eqx
import jax
import numpy as np
import optax

import pinnlang as pl
from _common import check, epochs, figure_path, record

PE0, PE1 = 2.0, 6.0
TOL = 3e-3                   # the accuracy to reach on the new coefficient (relative L2)
LR, CHUNK = 1e-2, 50         # every run uses adam(1e-2); the error is measured every 50 steps
W_BC = 100.0                 # weight of the boundary term (unweighted, Adam first finds the flat u = 1/2)
SIGMA = 0.02                 # noise of the readings in part 3


def exact(pe, x):
    return np.expm1(pe * x) / np.expm1(pe)


dom = pl.domain(constructor=pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.02))
x, _ = dom.variable("interior")
xb, _ = dom.variable("boundary")
test = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.002)
xt, _ = test.variable("interior")
xs = np.asarray(test.context["interior"])[:, 0]


def pinn(net, pe):
    """The PINN loss for Péclet number ``pe``: residual u'' − Pe u' and the boundary values u(0)=0, u(1)=1."""
    u = net(x)
    pde = pl.diff(u, x, order=2) - pe * pl.diff(u, x)
    return pl.core([pde.mse, (net(xb) - xb).mse], names=["pde", "bc"], weights=[1.0, W_BC])


def rel_l2(crux, net, pe):
    pred = np.asarray(crux.eval(net(xt), domain=test))[:, 0]
    return float(pl.metrics.relative_l2(pred, exact(pe, xs)))


def train_until(net, pe, max_steps):
    """Adam on ``net`` for ``pe`` until the relative L2 error is below TOL: (steps, error, curve, seconds)."""
    crux = pinn(net, pe)
    curve = []

    def measure(report):  # a callback: called after every chunk of CHUNK steps; True stops the solve
        curve.append((report.epoch, rel_l2(report.core, net, pe)))
        return curve[-1][1] < TOL

    t0 = time.perf_counter()
    crux.solve(max_steps, print_rate=CHUNK, callbacks=[measure])
    return curve[-1][0], curve[-1][1], np.array(curve), time.perf_counter() - t0


# ---- 1. the base PINN for Pe0 --------------------------------------------------------------------------------
net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=32, num_layers=2, key=jax.random.PRNGKey(0)), name="u")
net.optimizer(optax.adam(LR))
crux0 = pinn(net, PE0)
crux0.solve(epochs(3000))
err_base = rel_l2(crux0, net, PE0)
err_base_on_new = rel_l2(crux0, net, PE1)
base = net.module                                    # Equinox modules are immutable: this copy stays as it is
n_full = sum(l.size for l in jax.tree_util.tree_leaves(eqx.filter(base, eqx.is_inexact_array)))
print(f"base PINN: relative L2 {err_base:.2e} for Pe={PE0:g}, {err_base_on_new:.2f} against the Pe={PE1:g} solution")

# ---- 2. LoRA fine-tuning to Pe1, against full fine-tuning and training from scratch ----------------------------
max_steps = epochs(6000, 2 * CHUNK)
net.lora(1).optimizer(optax.adam(LR))                # rank 1 on every linear layer; only A and B train
n_lora = sum(l.size for l, f in zip(jax.tree_util.tree_leaves(net.get_trainable()), net.fixed_flags) if not f)
print(net)
steps_lora, err_lora, curve_lora, t_lora = train_until(net, PE1, max_steps)
full = pl.nn.wrap(base, name="full").optimizer(optax.adam(LR))
steps_full, err_full, curve_full, _ = train_until(full, PE1, max_steps)
scratch = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=32, num_layers=2, key=jax.random.PRNGKey(0)), name="scratch")
scratch.optimizer(optax.adam(LR))
steps_scratch, err_scratch, curve_scratch, _ = train_until(scratch, PE1, max_steps)
print(f"steps to relative L2 < {TOL:g} for Pe={PE1:g}: LoRA ({n_lora} values) {steps_lora}, full fine-tuning "
      f"({n_full}) {steps_full}, from scratch ({n_full}) {steps_scratch}")

base_same = all(np.array_equal(a, b) for a, b in zip(
    jax.tree_util.tree_leaves(base), jax.tree_util.tree_leaves([l.base for l in (*net.module.layers,
                                                                                  net.module.output_layer)])))
merged = pl.nn.merge(net.module)
merge_err = float(np.max(np.abs(jax.vmap(merged)(xs[:, None]) - jax.vmap(net.module)(xs[:, None]))))

# ---- 3. a Bayesian LoRA posterior from 12 noisy readings -------------------------------------------------------
rng = np.random.default_rng(0)
x_obs = np.sort(rng.uniform(0.0, 1.0, 12)).astype(np.float32).reshape(-1, 1)
y_obs = (exact(PE1, x_obs) + SIGMA * rng.normal(size=x_obs.shape)).astype(np.float32)
readings = pl.domain.from_array({"obs": x_obs})
xo, _ = readings.variable("obs")

bnet = pl.nn.wrap(base, name="u_bayes").lora(1, key=jax.random.PRNGKey(1))
bnet.optimizer(optax.adam(LR))
crux_b = pl.core([(bnet(xo) - y_obs).gaussian_nll(SIGMA), (bnet(xb) - xb).gaussian_nll(1e-3)],
                 names=["data", "bc"], seed=0)
crux_b.solve(epochs(2000))                          # MAP warm start of the adapters
warmup, keep = epochs(600, 10), epochs(300, 10)
bnet.bayesian(blackjax.nuts, warmup=warmup, keep=keep, prior=pl.bayesian.priors.gaussian(1.0))
t0 = time.perf_counter()
crux_b.solve(warmup + keep)
t_nuts = time.perf_counter() - t0

chain = bnet.posterior_samples                      # the adapted module, every leaf (1, keep, ...)
base_leaves = [l.base for l in (*chain.layers, chain.output_layer)]
base_spread = max(float(np.ptp(np.asarray(l), axis=1).max()) for l in jax.tree_util.tree_leaves(base_leaves))
adapter_spread = min(float(np.ptp(np.asarray(l), axis=1).max()) for l in (chain.output_layer.A, chain.output_layer.B))
u_chain = np.asarray(crux_b.eval(bnet(xt), domain=test))       # (1, keep, n, 1)
truth = exact(PE1, xs)
mean = u_chain.mean(axis=(0, 1))[:, 0]
lo, hi = np.quantile(u_chain, [0.05, 0.95], axis=(0, 1))
band = (hi - lo)[:, 0]
post_err = float(pl.metrics.relative_l2(mean, truth))
coverage = float(np.mean((lo[:, 0] <= truth) & (truth <= hi[:, 0])))
divergent = float(np.mean(bnet.posterior_diagnostics["is_divergent"]))
print(f"Bayesian LoRA: posterior-mean relative L2 {post_err:.4f}, 90 % band median width {np.median(band):.4f}, "
      f"covers the exact solution at {coverage:.0%} of the grid; {divergent:.1%} divergent; largest change of a "
      f"base weight along the chain {base_spread:g}")

# ---- figure --------------------------------------------------------------------------------------------------
fig, axes = pl.plot.figure(2)
ax = axes[0, 0]
for curve, label in ((curve_lora, f"LoRA r=1 ({n_lora} values)"), (curve_full, f"full fine-tuning ({n_full})"),
                     (curve_scratch, f"from scratch ({n_full})")):
    ax.plot(curve[:, 0], curve[:, 1], marker=".", label=label)
ax.axhline(TOL, color="k", lw=0.8, ls=":")
ax.set_yscale("log"), ax.set_xlabel("Adam step"), ax.set_ylabel(f"relative L2 error (Pe={PE1:g})")
ax.set_title(f"fine-tuning a Pe={PE0:g} PINN to Pe={PE1:g}"), ax.legend(fontsize=8)
pl.plot.field_1d(xs, u_chain, reference=truth, reference_label=f"exact, Pe={PE1:g}", observed=(x_obs, y_obs),
                 ax=axes[0, 1], title="Bayesian LoRA: NUTS over 130 adapter values")
axes[0, 1].plot(xs, exact(PE0, xs), color="0.6", lw=1, ls="--", label=f"exact, Pe={PE0:g} (base)")
axes[0, 1].legend(fontsize=8)
pl.plot.save(fig, figure_path(__file__))

record(__file__, rel_L2_base=err_base, trainable_lora=n_lora, trainable_full=n_full, steps_lora=steps_lora,
       steps_full=steps_full, steps_scratch=steps_scratch, rel_L2_lora=err_lora, merge_err=merge_err,
       post_rel_L2=post_err, coverage_90=coverage, band_median=float(np.median(band)), divergent=divergent,
       base_spread=base_spread, time_lora_s=t_lora, time_nuts_s=t_nuts)
check(base_same and base_spread == 0.0, "the base weights moved: LoRA must leave them exactly as they were")
check(adapter_spread > 0.0, "the adapters did not move along the chain")
check(merge_err < 1e-5, f"merge() changed the network's output by {merge_err:.1e}")
check(err_base < 5e-3, f"the base PINN for Pe={PE0:g} has relative L2 {err_base:.2e}")
check(err_lora < TOL, f"LoRA did not reach relative L2 {TOL:g} in {max_steps} steps ({err_lora:.3e})")
check(steps_lora < steps_scratch, f"LoRA took {steps_lora} steps, from scratch {steps_scratch}")
check(post_err < 0.1 and np.median(band) < 0.1, f"posterior mean relative L2 {post_err:.3f}, band {np.median(band):.3f}")
check(coverage >= 0.75, f"the 90 % band covers the exact solution at only {coverage:.0%} of the grid")
