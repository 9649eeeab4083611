"""The specification's tutorial 10 (head-only Bayesian regression, Pattern A) ported to pinnlang, as is.

Same data (32 noisy observations of sin(πx), σ = 0.05), network (1 → 16 → 16 → 1), mask, kernel
(SGLD, step 1e-3), schedule (warmup 1500, keep 400, thin 2, ``solve(2300)``), likelihood
(``((u - y) / σ).mse``), diagnostics, 0.02 evaluation grid, metrics and assertions. Prints the
solve's wall time (compilation included) as ``solve_s=...``; ``benchmarks/spec_scripts.py`` times the
whole script.
"""

import time

import blackjax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import pinnlang as pl

sigma_obs = 0.05
rng_np = np.random.default_rng(0)
x_train_np = np.linspace(-1.0, 1.0, 32).astype(np.float32)
y_train_np = (np.sin(np.pi * x_train_np) + sigma_obs * rng_np.normal(size=x_train_np.shape)).astype(np.float32)
train_dom = pl.domain.from_array({"train": x_train_np.reshape(-1, 1)})
x_train_var, _ = train_dom.variable("train")
y_train_const = jnp.asarray(y_train_np).reshape(-1, 1)

u_net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=16, num_layers=2, key=jax.random.PRNGKey(0)))
all_false = jax.tree_util.tree_map(lambda _: False, u_net.module)
head_all_true = jax.tree_util.tree_map(lambda _: True, u_net.module.output_layer)
head_mask = eqx.tree_at(lambda m: m.output_layer, all_false, replace=head_all_true)
u_net.mask(head_mask).bayesian(blackjax.sgld, step_size=1e-3, warmup=1500, keep=400, thin=2)

residual = (u_net(x_train_var) - y_train_const) / sigma_obs
crux = pl.core([residual.mse])
t0 = time.perf_counter()
crux.solve(2300)
solve_s = time.perf_counter() - t0

chain = eqx.filter(u_net.posterior_samples, eqx.is_inexact_array)
var = [float(jnp.mean(jnp.var(leaf, axis=1))) for leaf in jax.tree_util.tree_leaves(chain)]
flags = [f for f, leaf in zip(jax.tree_util.tree_leaves(head_mask), jax.tree_util.tree_leaves(u_net.module))
         if eqx.is_inexact_array(leaf)]
body_var_max = max(v for v, m in zip(var, flags) if not m)
head_var_min = min(v for v, m in zip(var, flags) if m)

eval_dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.02)
x_eval, _ = eval_dom.variable("interior")
u_chain = crux.eval([u_net(x_eval)], domain=eval_dom)
u_mean = jnp.mean(u_chain, axis=(0, 1))
u_lo, u_hi = jnp.quantile(u_chain, jnp.array([0.05, 0.95]), axis=(0, 1))
band_width = np.asarray(u_hi - u_lo).reshape(-1)
u_truth = np.sin(np.pi * np.asarray(eval_dom.context["interior"]).reshape(-1))
rel_l2 = float(np.linalg.norm(np.asarray(u_mean).reshape(-1) - u_truth) / (np.linalg.norm(u_truth) + 1e-8))
print(f"[masked-bnn-head] body max var {body_var_max:.3e}, head min var {head_var_min:.3e}, rel-L2 {rel_l2:.4f}, "
      f"band median {np.median(band_width):.4f}")
print(f"solve_s={solve_s:.3f}")
assert body_var_max < 1e-10 and head_var_min > 1e-8 and rel_l2 < 2.0 and np.median(band_width) > 1e-4
