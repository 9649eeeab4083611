"""16 — The regression masterclass: seven Bayesian regression models of one noisy sinc, scored by R².

The data and the seven models of the Equinox + NumPyro "regression masterclass" notebook
(docs/tutorials/16_regression_masterclass.md compares the two), written as pinnlang expressions:

* 100 observations of sinc(x) = sin(x)/x at uniform points of [-10, 10], noise σ = 0.05, drawn with the
  notebook's keys (``jax.random``, float64, then cast to float32), and a test grid of 400 points;
* every model has a Gaussian likelihood ``(f - y).gaussian_nll(sigma)`` with the noise scale ``sigma`` a
  positive parameter (half-normal prior) sampled or optimised with the model;
* scores: R² of the posterior predictive mean on the test grid against the notebook's, and a figure of
  the mean and the 95 % posterior predictive band (``crux.predictive``: y* = f + σ ε per draw).

| model | pinnlang |
|---|---|
| 1 Bayesian linear regression (NUTS) | ``w.bayesian(nuts)``, ``f = w₀ + w₁ x``: the negative control, R² ≈ 0 |
| 2 MLP by MAP | ``net.optimizer(adam, prior=gaussian(1))``: the MAP estimate, as SVI + ``AutoDelta`` |
| 3 MC-dropout MLP | a stochastic Equinox module (``eqx.nn.Dropout``): see ``mc_dropout_mlp`` below |
| 4 Bayesian MLP (NUTS) | ``net.bayesian(nuts, prior=gaussian(1))``: all 46 weights and σ in one NUTS block |
| 5 SVR via random Fourier features | ``f = Φ(x)·w``, Φ = √(2/D) cos(ωx + b) fixed, only w (and σ) sampled |
| 6 approximate GP, hierarchical RFF | ``w ~ N(0, amp² I)``, ``amp ~ HalfNormal(1)``: the centred form, its prior a term |
| 7 deep GP, two RFF layers | an Equinox module; ``net.mask(M).bayesian``: only its two weight arrays sampled |

Models 1, 5 and 6 are linear in ``w`` with a Gaussian prior, so their posterior predictive mean is known
up to a grid over (amp, σ) (``conjugate_mean``): the script checks NUTS against it. That also explains
the negative control: its exact R² on these data is about -0.024; the notebook's -0.015 averages 500
predictive draws with σ ≈ 0.4, whose noise moves R² by about ±0.006 (here the R² is that of the mean
of the noise-free draws of f, the same expectation without that noise).

Model 3 is a *stochastic model*: an Equinox module with an ``eqx.nn.Dropout`` whose ``__call__`` takes a
``key``. Training gives it a fresh dropout mask every step (and every point); ``crux.eval(f, num_samples=S,
seed=...)`` draws S MC-dropout predictions, ``(1, S, n, 1)``, like a chain.

Settings are the notebook's: NUTS with 300 warmup (window adaptation) and 500 draws, one chain
(deep GP: 200 + 300); MAP by Adam(5e-3), 2000 steps. σ starts at the median of its prior (NumPyro's
``AutoDelta`` starts there too). The times include compilation (a first call in a fresh process; the
persistent compilation cache may be warm); ``benchmarks/masterclass_numpyro.py`` compares them with
NumPyro's, first call and steady state, and reports ESS/s.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import _common  # noqa: F401
import blackjax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import pinnlang as pl
from _common import check, epochs, figure_path, record
from pinnlang.solve.predictive import PredictiveDraws

# the R² of each model on the test grid, as the notebook reports it (the targets, not results)
NOTEBOOK_R2 = {"linear": -0.015, "map": 0.992, "dropout": 0.906, "bnn": 0.994, "svr": 0.996, "gp": 0.996,
               "deep": 0.995}
priors = pl.bayesian.priors
SEED = 0  # of the samplers' and the predictive draws' keys (benchmarks/masterclass_numpyro.py varies it)


# ---- the notebook's data, drawn with its keys ----------------------------------------------------------


def rff_draw(key, n_features: int, lengthscale: float = 1.0):
    """Frequencies ω ~ N(0, 1/ℓ²) and phases b ~ U(0, 2π) of an RBF random-Fourier-feature map."""
    k_omega, k_phase = jax.random.split(key)
    omega = jax.random.normal(k_omega, (n_features,)) / lengthscale
    return omega, jax.random.uniform(k_phase, (n_features,), minval=0.0, maxval=2.0 * jnp.pi)


with jax.enable_x64(True):  # the notebook runs in float64; its draws depend on the dtype
    k_data, *k_models = jax.random.split(jax.random.PRNGKey(666), 16)
    k1, k2 = jax.random.split(k_data)
    x_train = jax.random.uniform(k1, (100,), minval=-10.0, maxval=10.0)
    y_train = jnp.sinc(x_train / jnp.pi) + 0.05 * jax.random.normal(k2, (100,))
    RFF_SVR = rff_draw(k_models[8], 40)                           # models 5 and 6 share this feature map
    kd1, kd2, kd3 = jax.random.split(k_models[13], 3)
    RFF_DEEP = rff_draw(kd1, 15), 0.1 * jax.random.normal(kd2, (15, 4)), rff_draw(kd3, 10)
    RFF_SVR, RFF_DEEP = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float32), (RFF_SVR, RFF_DEEP))

X_TRAIN = np.asarray(x_train, np.float32)[:, None]                  # (100, 1)
Y_TRAIN = np.asarray(y_train, np.float32)[:, None]
X_TEST = np.linspace(-10.0, 10.0, 400)[:, None].astype(np.float32)  # (400, 1)
Y_TEST = np.sinc(np.linspace(-10.0, 10.0, 400) / np.pi)             # the noise-free sinc, float64

train = pl.domain.from_array({"train": X_TRAIN})
test = pl.domain.from_array({"test": X_TEST})
x, _ = train.variable("train")
xt, _ = test.variable("test")


class Fit(NamedTuple):
    """One fitted model: its predictive draws on the test grid (``f`` and ``y``, ``(K, N, 400, 1)``)."""

    name: str
    label: str
    draws: PredictiveDraws
    seconds: float  # the solve (sampling or training), compilation included
    crux: pl.Core
    f: object      # the prediction on the test grid (an expression) and the noise scale σ (a parameter)
    sigma: object

    @property
    def mean(self) -> np.ndarray:
        """The posterior predictive mean E[y*] = E[f] on the test grid, ``(400,)``."""
        f = np.asarray(self.draws.f, np.float64)
        return f.reshape(-1, f.shape[2]).mean(0)

    @property
    def r2(self) -> float:
        return pl.metrics.r2_score(self.mean, Y_TEST)


def noise_scale(prior_scale: float, nuts: dict | None = None, optimizer=None):
    """σ > 0 with a HalfNormal(prior_scale) prior, started at the prior's median (0.674 · prior_scale);
    sampled with the model (``nuts``: its settings, so σ joins the model's NUTS block) or MAP-optimised."""
    sigma = pl.np.parameter((1,), name="sigma", init=0.674 * prior_scale, constraint="positive")
    if nuts is not None:
        sigma.bayesian(blackjax.nuts, prior=priors.half_normal(prior_scale), **nuts)
    else:
        sigma.optimizer(optimizer, prior=priors.half_normal(prior_scale))
    return sigma


def solve(name, label, terms, f_test, sigma, epochs_, **predictive_kw) -> Fit:
    """Solve ``terms`` for ``epochs_`` (timed) and draw y* = f + σ ε on the test grid."""
    crux = pl.core(terms, seed=SEED)
    t0 = time.perf_counter()
    crux.solve(epochs_, progress=False)
    seconds = time.perf_counter() - t0
    draws = crux.predictive(f_test, noise=sigma, domain=test, seed=SEED + 1, **predictive_kw)
    return Fit(name, label, draws, seconds, crux, f_test, sigma)


def total(nuts: dict) -> int:
    return nuts["warmup"] + nuts["keep"]


# ---- model 1: Bayesian linear regression (the negative control) ----------------------------------------


def bayesian_linear(nuts: dict) -> Fit:
    """f = w₀ + w₁ x, w ~ N(0, I), σ ~ HalfNormal(1): a line cannot follow the sinc (R² ≈ 0)."""
    w = pl.np.parameter((2,), name="w", init=0.0)
    w.bayesian(blackjax.nuts, prior=priors.gaussian(1.0), **nuts)
    sigma = noise_scale(1.0, nuts)
    line = lambda v: w[0:1] + w[1:2] * v  # noqa: E731
    return solve("linear", "1 Bayesian linear (NUTS)", [(line(x) - Y_TRAIN).gaussian_nll(sigma)], line(xt), sigma,
                 total(nuts))


# ---- model 2: an MLP by MAP ----------------------------------------------------------------------------


def map_mlp(steps: int) -> Fit:
    """A 1 → 30 → 1 tanh MLP, N(0, 1) priors on every weight: Adam on -log p(y, θ) (NumPyro: SVI + AutoDelta).

    A point estimate: the predictive band is the observation noise σ only (``num_samples`` draws of it)."""
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=30, num_layers=1, key=jax.random.PRNGKey(0)), name="mlp")
    net.optimizer(optax.adam(5e-3), prior=priors.gaussian(1.0))
    sigma = noise_scale(1.0, optimizer=optax.adam(5e-3))
    return solve("map", "2 MLP by MAP (Adam)", [(net(x) - Y_TRAIN).gaussian_nll(sigma)], net(xt), sigma, steps,
                 num_samples=200)


# ---- model 3: an MC-dropout MLP (needs stochastic models) ----------------------------------------------


class DropoutMLP(eqx.Module):
    """tanh(W₁x + b₁), dropout p on the hidden units (inverted: kept units scaled by 1/(1-p)), then W₂h + b₂."""

    hidden: eqx.nn.Linear
    dropout: eqx.nn.Dropout
    output: eqx.nn.Linear

    def __init__(self, width: int, p: float, *, key):
        k1, k2 = jax.random.split(key)
        self.hidden = eqx.nn.Linear(1, width, key=k1)
        self.dropout = eqx.nn.Dropout(p)
        self.output = eqx.nn.Linear(width, 1, key=k2)

    def __call__(self, x, *, key=None):
        return self.output(self.dropout(jnp.tanh(self.hidden(x)), key=key))


def mc_dropout_mlp(steps: int, num_samples: int = 100) -> Fit:
    """MAP training with a fresh dropout mask at every step, then ``num_samples`` predictive draws, each
    with its own masks (Gal & Ghahramani 2016). Needs pinnlang's stochastic models: a wrapped module whose
    ``__call__`` takes ``key`` gets fresh keys per step and per point, and ``crux.predictive(...,
    num_samples=S)`` draws S dropout masks."""
    net = pl.nn.wrap(DropoutMLP(30, 0.1, key=jax.random.PRNGKey(0)), name="dropout_mlp")
    net.optimizer(optax.adam(5e-3), prior=priors.gaussian(1.0))
    sigma = noise_scale(1.0, optimizer=optax.adam(5e-3))
    return solve("dropout", "3 MC-dropout MLP", [(net(x) - Y_TRAIN).gaussian_nll(sigma)], net(xt), sigma, steps,
                 num_samples=num_samples)


# ---- model 4: a Bayesian MLP by NUTS --------------------------------------------------------------------


def bayesian_mlp(nuts: dict) -> Fit:
    """A 1 → 15 → 1 tanh MLP with N(0, 1) priors, every weight sampled: 46 weights and σ in one NUTS block."""
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=15, num_layers=1, key=jax.random.PRNGKey(0)), name="bnn")
    net.bayesian(blackjax.nuts, prior=priors.gaussian(1.0), **nuts)
    sigma = noise_scale(1.0, nuts)
    return solve("bnn", "4 Bayesian MLP (NUTS)", [(net(x) - Y_TRAIN).gaussian_nll(sigma)], net(xt), sigma,
                 total(nuts))


# ---- models 5 and 6: random Fourier features -----------------------------------------------------------


def features(v, rff):
    """Φ(v) = √(2/D) cos(ω v + b): an (n, D) expression; Φ(x)ᵀΦ(x') approximates an RBF kernel."""
    omega, phase = rff
    return np.sqrt(2.0 / omega.size) * pl.np.cos(v * omega + phase)


def svr_rff(nuts: dict) -> Fit:
    """f = Φ(x)·w with the feature map fixed, w ~ N(0, I): Bayesian linear regression on 40 features."""
    w = pl.np.parameter((40,), name="w", init=0.0)
    w.bayesian(blackjax.nuts, prior=priors.gaussian(1.0), **nuts)
    sigma = noise_scale(1.0, nuts)
    f = lambda v: pl.np.dot(features(v, RFF_SVR), w)  # noqa: E731
    return solve("svr", "5 SVR via RFF (NUTS)", [(f(x) - Y_TRAIN).gaussian_nll(sigma)], f(xt), sigma, total(nuts))


def gp_rff(nuts: dict) -> Fit:
    """w ~ N(0, amp² I), amp ~ HalfNormal(1), σ ~ HalfNormal(0.1): an approximate GP with a learned signal scale.

    Centred form: w has a flat prior of its own and ``w.gaussian_nll(amp)`` (Σ -log N(w_j; 0, amp²)) is a
    term; the data pin w down (σ ≈ 0.05), where this form samples better than amp · z (the guide's
    "Hierarchical and constrained hyperparameters")."""
    amp = pl.np.parameter((1,), name="amp", init=0.674, constraint="positive")
    amp.bayesian(blackjax.nuts, prior=priors.half_normal(1.0), **nuts)
    w = pl.np.parameter((40,), name="w", init=0.0)
    w.bayesian(blackjax.nuts, prior=lambda v: 0.0, **nuts)
    sigma = noise_scale(0.1, nuts)
    f = lambda v: pl.np.dot(features(v, RFF_SVR), w)  # noqa: E731
    terms = [(f(x) - Y_TRAIN).gaussian_nll(sigma), w.gaussian_nll(amp)]
    return solve("gp", "6 approximate GP, hierarchical RFF (NUTS)", terms, f(xt), sigma, total(nuts))


# ---- model 7: a deep GP through two RFF layers -----------------------------------------------------------


class DeepRFF(eqx.Module):
    """Φ₁(x) (D₁ features) → h = Φ₁ W₁ (4 units) → the mean over units of Φ₂(h_j) (D₂ features) → Φ₂ · w₂.

    One point at a time, ``(1,) -> (1,)``. Only ``W1`` and ``w2`` are learnable; the two feature maps are
    fixed random draws (the mask below leaves them alone)."""

    rff1: tuple
    W1: jax.Array
    rff2: tuple
    w2: jax.Array

    def __call__(self, x):
        (om1, ph1), (om2, ph2) = self.rff1, self.rff2
        phi1 = jnp.sqrt(2.0 / om1.size) * jnp.cos(x[0] * om1 + ph1)              # (D1,)
        h = phi1 @ self.W1                                                        # (inner,)
        phi2 = jnp.sqrt(2.0 / om2.size) * jnp.cos(h[:, None] * om2 + ph2)         # (inner, D2)
        return (phi2.mean(0) @ self.w2)[None]


def deep_gp_rff(nuts: dict) -> Fit:
    """W₁ ~ N(0, 1), w₂ ~ N(0, 1), σ ~ HalfNormal(0.1); the mask selects the two weight arrays."""
    rff1, W1, rff2 = RFF_DEEP
    module = DeepRFF(tuple(map(jnp.asarray, rff1)), jnp.asarray(W1), tuple(map(jnp.asarray, rff2)), jnp.zeros(10))
    net = pl.nn.wrap(module, name="deep_rff")
    weights = DeepRFF(rff1=(False, False), W1=True, rff2=(False, False), w2=True)
    net.mask(weights).bayesian(blackjax.nuts, prior=priors.gaussian(1.0), **nuts)
    sigma = noise_scale(0.1, nuts)
    return solve("deep", "7 deep GP, two RFF layers (NUTS)", [(net(x) - Y_TRAIN).gaussian_nll(sigma)], net(xt),
                 sigma, total(nuts))


# ---- the closed form of the linear-Gaussian models (1, 5, 6) -------------------------------------------


def conjugate_mean(Phi, y, Phi_test, sigma_scale: float, amp_scale: float | None = None) -> np.ndarray:
    """E[f(x*) | y] for f = Φ w, w ~ N(0, amp² I), y ~ N(Φ w, σ² I), σ ~ HalfNormal(sigma_scale) and amp = 1
    (``amp_scale=None``) or amp ~ HalfNormal(amp_scale).

    w is integrated in closed form: with Φᵀ Φ = V Λ Vᵀ, z = Vᵀ Φᵀ y and d = amp² λ + σ²,
    log p(y | amp, σ) = -½ [(n - D) log σ² + Σ log d + (yᵀy - amp² Σ z²/d) / σ² + n log 2π] and
    E[w | y, amp, σ] = V (amp² z / d); (amp, σ) on log-spaced grids (posterior weights include the prior
    and the Jacobian of the log grid).
    """
    Phi, y, Phi_test = (np.asarray(a, np.float64) for a in (Phi, y, Phi_test))
    n, D = Phi.shape
    lam, V = np.linalg.eigh(Phi.T @ Phi)
    z = V.T @ (Phi.T @ y)
    sig = np.geomspace(1e-3, 5.0, 700) * sigma_scale
    amps = np.array([1.0]) if amp_scale is None else np.geomspace(1e-3, 5.0, 400) * amp_scale
    a2, s2 = amps[:, None, None] ** 2, sig[None, :, None] ** 2
    d = a2 * lam + s2                                                          # (n_amp, n_sig, D)
    loglik = -0.5 * ((n - D) * np.log(s2[..., 0]) + np.log(d).sum(-1) + (y @ y - (a2 * z**2 / d).sum(-1)) / s2[..., 0])
    logw = loglik - sig[None, :] ** 2 / (2 * sigma_scale**2) + np.log(sig)[None, :]
    if amp_scale is not None:
        logw = logw - amps[:, None] ** 2 / (2 * amp_scale**2) + np.log(amps)[:, None]
    weights = np.exp(logw - logw.max())
    weights /= weights.sum()
    mean_w = V @ np.einsum("as,asd->d", weights, a2 * z / d)
    return Phi_test @ mean_w


def design_features(v, rff):
    omega, phase = (np.asarray(a, np.float64) for a in rff)
    return np.sqrt(2.0 / omega.size) * np.cos(np.asarray(v, np.float64) * omega + phase)


def exact_r2() -> dict:
    """R² of the exact posterior predictive means of models 1, 5 and 6 on the test grid."""
    line = lambda v: np.c_[np.ones(len(v)), np.asarray(v, np.float64)]  # noqa: E731
    y = Y_TRAIN[:, 0]
    means = {"linear": conjugate_mean(line(X_TRAIN), y, line(X_TEST), sigma_scale=1.0),
             "svr": conjugate_mean(design_features(X_TRAIN, RFF_SVR), y, design_features(X_TEST, RFF_SVR), 1.0),
             "gp": conjugate_mean(design_features(X_TRAIN, RFF_SVR), y, design_features(X_TEST, RFF_SVR), 0.1,
                                  amp_scale=1.0)}
    return {k: pl.metrics.r2_score(m, Y_TEST) for k, m in means.items()}


def nuts_settings(warmup: int, keep: int) -> dict:
    return dict(warmup=epochs(warmup, 10), keep=epochs(keep, 10), num_chains=1)


MODELS = (
    lambda: bayesian_linear(nuts_settings(300, 500)),
    lambda: map_mlp(epochs(2000, 30)),
    lambda: mc_dropout_mlp(epochs(2000, 30)),
    lambda: bayesian_mlp(nuts_settings(300, 500)),
    lambda: svr_rff(nuts_settings(300, 500)),
    lambda: gp_rff(nuts_settings(300, 500)),
    lambda: deep_gp_rff(nuts_settings(200, 300)),
)


if __name__ == "__main__":
    t_script = time.perf_counter()
    fits = []
    for run in MODELS:
        fit = run()
        fits.append(fit)
        print(f"{fit.label:<44} R² = {fit.r2:7.4f}   (notebook {NOTEBOOK_R2[fit.name]:6.3f})   {fit.seconds:6.2f} s")
    exact = exact_r2()
    r2 = {f.name: f.r2 for f in fits}
    print("exact posterior predictive means: " + ", ".join(f"{k} R² = {v:.4f}" for k, v in exact.items()))

    fig, axes = pl.plot.figure(2, (len(fits) + 1) // 2, width=5.4, height=3.3)
    for ax, fit in zip(axes.ravel(), fits):
        pl.plot.field_1d(X_TEST, fit.draws.y, level=0.95, band_label="95 % predictive band", label="predictive mean",
                         reference=Y_TEST, reference_label="sin(x)/x", observed=(X_TRAIN, Y_TRAIN), ax=ax, ylabel="y",
                         title=f"{fit.label}: R² = {fit.r2:.3f}")
        ax.set_ylim(-0.7, 1.4)
        if ax is not axes[0, 0]:
            ax.get_legend().remove()  # one legend for all panels
    for ax in axes.ravel()[len(fits):]:
        ax.set_axis_off()
    pl.plot.save(fig, figure_path(__file__))

    record(__file__, **{f"r2_{k}": v for k, v in r2.items()}, **{f"nb_{k}": NOTEBOOK_R2[k] for k in r2},
           **{f"r2_exact_{k}": v for k, v in exact.items()},
           **{f"time_{f.name}_s": f.seconds for f in fits}, time_script_s=time.perf_counter() - t_script)

    for name, value in r2.items():
        if name != "linear":
            check(value >= NOTEBOOK_R2[name] - 0.01,
                  f"model {name}: R² {value:.4f} is more than 0.01 below the notebook's {NOTEBOOK_R2[name]}")
    check(r2["linear"] < 0.3, f"the negative control fits a line to the sinc: R² should be near 0, got {r2['linear']:.3f}")
    for name in exact:  # NUTS against the closed form; the tolerances are several Monte Carlo errors
        check(abs(r2[name] - exact[name]) < (0.01 if name == "linear" else 0.002),
              f"model {name}: R² {r2[name]:.4f} from NUTS, {exact[name]:.4f} exact")
