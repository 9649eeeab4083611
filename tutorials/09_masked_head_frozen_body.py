"""09 — A Bayesian head on a frozen random body: ``net.mask(M).bayesian(...)`` (Pattern A).

32 noisy observations of sin(πx) on [-1, 1] (σ = 0.05), a 1 → 16 → 16 → 1 tanh network. Only the
output layer (the "head": a 1×16 weight and a bias, 17 numbers) is sampled, by SGLD; the hidden layers
(304 numbers) keep their random initial values. This is Bayesian linear regression on the random
features the body happens to compute:

    net.mask(lambda m: m.output_layer).bayesian(blackjax.sgld, step_size=1e-3, warmup=1500, keep=400,
                                                thin=2)

``lambda m: m.output_layer`` selects every leaf of the output layer (its weight and bias); the script builds
the same mask as a pytree of booleans with the module's structure, ``pl.nn.mask_of(net.module, where)``,
to tell the head's leaves from the body's in its check. The model has no ``.optimizer(...)``, so the leaves outside the mask stay where
they are (tutorial 10 trains them instead). ``net.posterior_samples`` is the full module with leading
(chains, draws) axes on every leaf; the body's leaves are stored once and broadcast, so sampling a
17-number head of a large network costs 17 numbers per draw.

The likelihood is the spec's ``((u - y) / σ).mse``: a mean, i.e. the Gaussian log-likelihood divided by
the number of points (a tempered posterior, wider than the exact one). The predictive band is what SGLD
samples from that.
"""

import time

import _common  # noqa: F401
import blackjax
import equinox as eqx
import jax
import numpy as np

import pinnlang as pl
from _common import check, epochs, figure_path, record, sine_observations

SIGMA = 0.05
x_train, y_train = sine_observations(32, SIGMA)  # 32 noisy observations of sin(πx)

train = pl.domain.from_array({"train": x_train})
x, _ = train.variable("train")
net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=16, num_layers=2, key=jax.random.PRNGKey(0)), name="u")

warmup, keep, thin = epochs(1500, 10), epochs(400, 10), 2
net.mask(lambda m: m.output_layer).bayesian(blackjax.sgld, step_size=1e-3, warmup=warmup, keep=keep, thin=thin)

crux = pl.core([((net(x) - y_train) / SIGMA).mse], names=["data"])
t0 = time.perf_counter()
crux.solve(warmup + keep * thin)
solve_s = time.perf_counter() - t0

# ---- the contract: the head moves along the chain, the body does not ---------------------------------
head = pl.nn.mask_of(net.module, lambda m: m.output_layer)  # the same selection as a bool pytree
chain = eqx.filter(net.posterior_samples, eqx.is_inexact_array)
flags = [f for f, leaf in zip(jax.tree_util.tree_leaves(head), jax.tree_util.tree_leaves(net.module))
         if eqx.is_inexact_array(leaf)]
var = [float(np.max(np.var(np.asarray(l, np.float64), axis=1))) for l in jax.tree_util.tree_leaves(chain)]
body_var_max = max(v for v, f in zip(var, flags) if not f)
head_var_min = min(v for v, f in zip(var, flags) if f)

# ---- predictive band on a dense grid ------------------------------------------------------------------
grid = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.02)
xe, _ = grid.variable("interior")
u_chain = np.asarray(crux.eval(net(xe), domain=grid))            # (1, keep, n_eval, 1)
xs = np.asarray(grid.context["interior"])[:, 0]
truth = np.sin(np.pi * xs)
mean = u_chain.mean(axis=(0, 1))[:, 0]
lo, hi = np.quantile(u_chain, [0.05, 0.95], axis=(0, 1))
band = (hi - lo)[:, 0]
rel_l2 = float(np.linalg.norm(mean - truth) / np.linalg.norm(truth))
coverage = float(np.mean((lo[:, 0] <= truth) & (truth <= hi[:, 0])))
print(f"body max variance along the chain {body_var_max:.3e}, head min {head_var_min:.3e}")
print(f"posterior-mean relative L2 {rel_l2:.4f}, 90 % band median width {np.median(band):.4f}, "
      f"covers sin(πx) at {coverage:.0%} of the grid")

pl.plot.field_1d(xs, u_chain, reference=truth, reference_label="sin(πx)", observed=(x_train, y_train),
                 title="Pattern A: SGLD head, frozen random body", path=figure_path(__file__))

record(__file__, epochs=warmup + keep * thin, rel_L2=rel_l2, band_median=float(np.median(band)),
       band_max=float(band.max()), coverage_90=coverage, body_var_max=body_var_max, head_var_min=head_var_min,
       time_s=solve_s)
check(body_var_max < 1e-10, f"the body moved along the chain (max variance {body_var_max:.3e})")
check(head_var_min > 1e-8, f"the head did not move (min variance {head_var_min:.3e})")
check(rel_l2 < 2.0 and np.median(band) > 1e-4, f"rel L2 {rel_l2:.3f}, band median {np.median(band):.2e}")
