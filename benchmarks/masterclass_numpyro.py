"""NUTS on the regression masterclass's models: pinnlang against the notebook's NumPyro code.

The five NUTS models of tutorial 16 (Bayesian linear regression, the Bayesian MLP, SVR and the
hierarchical approximate GP on random Fourier features, the two-layer RFF deep GP), on the same data
(the notebook's sinc, float32 on both sides), the same priors and the same settings: one chain, 300
warmup (window adaptation) + 500 draws (deep GP 200 + 300), NumPyro's and blackjax's default target
acceptance 0.8 and maximum tree depth 10. pinnlang runs the tutorial's own model functions
(``tutorials/16_regression_masterclass.py``); NumPyro runs the notebook's model functions (``jnp`` in place of
``einops``, the deep GP's loop over hidden units vectorised), ``MCMC(NUTS(model), ...).run`` with the
notebook's keys.

Per model and library:

* **first call**: the first run in a fresh process (after the imports and the data set-up), so tracing
  and XLA compilation are included. JAX's persistent compilation cache is off for both, unless
  ``--cache`` (a fresh, empty folder): pinnlang turns that cache on by default, and in one process it
  serves NumPyro's programs too;
* then ``--repeats`` runs in one process, run r with seed r (r = 0: the notebook's keys), medians
  reported. pinnlang builds the model anew with the tutorial's function each time (new handles, new
  core: it traces and compiles again); NumPyro calls ``mcmc.run`` again on the same ``MCMC`` object,
  which traces and compiles again on every call. **wall** is the time of ``crux.solve`` / ``mcmc.run``,
  **cpu** its process CPU time (the machine may be shared), **compile** its lowering and XLA
  compilation (JAX's monitoring events, the same measurement for both) and **sampling** = wall -
  compile: warmup and draws without compilation, the steady state of a program that is compiled once;
* **ESS**: bulk ESS (``pl.bayesian.ess``, ArviZ's estimator, for both) of σ and of the predictive
  f(x*) at the 400 test points (the median over the points; network weights are not identifiable, f is);
  **ESS f/s** divides it by the sampling time; plus divergences (summed over the runs), mean acceptance
  and the R² of the predictive mean.

Run (NumPyro is a benchmark-only dependency, the extra ``bench``; ``make bench-numpyro`` installs it into an
environment of its own, ``.venv-bench``, and runs this script)::

    python -m venv .venv-bench && .venv-bench/bin/pip install -e ".[bench]"
    .venv-bench/bin/python benchmarks/masterclass_numpyro.py [--repeats 3] [--models bnn,svr] [--cache]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ["PINNLANG_COMPILATION_CACHE"] = "0"  # pinnlang's default cache off (before the import); --cache: a fresh one
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tutorials"))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import numpyro  # noqa: E402
import numpyro.distributions as dist  # noqa: E402
from numpyro.infer import MCMC, NUTS, Predictive  # noqa: E402

import pinnlang as pl  # noqa: E402


def load_tutorial():
    spec = importlib.util.spec_from_file_location("masterclass", ROOT / "tutorials" / "16_regression_masterclass.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses (Equinox modules) look their module up
    spec.loader.exec_module(module)
    return module


T = load_tutorial()
X, Y = jnp.asarray(T.X_TRAIN[:, 0]), jnp.asarray(T.Y_TRAIN[:, 0])
X_TEST = jnp.asarray(T.X_TEST[:, 0])


# ---- the notebook's NumPyro models ---------------------------------------------------------------------


def rff(x, omega, phase):
    return jnp.sqrt(2.0 / omega.size) * jnp.cos(x[:, None] * omega + phase)


def model_linear(x, y=None):
    w = numpyro.sample("w", dist.Normal(jnp.zeros(2), 1.0))
    f = numpyro.deterministic("f", jnp.stack([jnp.ones_like(x), x], -1) @ w)
    sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))
    numpyro.sample("obs", dist.Normal(f, sigma), obs=y)


def model_bnn(x, y=None, hidden=15):
    W1 = numpyro.sample("W1", dist.Normal(jnp.zeros((1, hidden)), 1.0))
    b1 = numpyro.sample("b1", dist.Normal(jnp.zeros(hidden), 1.0))
    W2 = numpyro.sample("W2", dist.Normal(jnp.zeros((hidden, 1)), 1.0))
    b2 = numpyro.sample("b2", dist.Normal(0.0, 1.0))
    f = numpyro.deterministic("f", (jnp.tanh(x[:, None] @ W1 + b1) @ W2)[:, 0] + b2)
    sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))
    numpyro.sample("obs", dist.Normal(f, sigma), obs=y)


def model_svr(x, y=None):
    Phi = rff(x, *map(jnp.asarray, T.RFF_SVR))
    w = numpyro.sample("w", dist.Normal(jnp.zeros(Phi.shape[1]), 1.0))
    sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))
    f = numpyro.deterministic("f", Phi @ w)
    numpyro.sample("obs", dist.Normal(f, sigma), obs=y)


def model_gp(x, y=None):
    Phi = rff(x, *map(jnp.asarray, T.RFF_SVR))
    amplitude = numpyro.sample("amplitude", dist.HalfNormal(1.0))
    w = numpyro.sample("w", dist.Normal(jnp.zeros(Phi.shape[1]), amplitude))
    sigma = numpyro.sample("sigma", dist.HalfNormal(0.1))
    f = numpyro.deterministic("f", Phi @ w)
    numpyro.sample("obs", dist.Normal(f, sigma), obs=y)


def model_deep(x, y=None):
    (om1, ph1), _, (om2, ph2) = jax.tree_util.tree_map(jnp.asarray, T.RFF_DEEP)
    W1 = numpyro.sample("W1", dist.Normal(jnp.zeros((om1.size, 4)), 1.0))
    w2 = numpyro.sample("w2", dist.Normal(jnp.zeros(om2.size), 1.0))
    h = rff(x, om1, ph1) @ W1                                                    # (n, inner)
    Phi2 = jnp.sqrt(2.0 / om2.size) * jnp.cos(h[..., None] * om2 + ph2).mean(1)  # (n, D2)
    f = numpyro.deterministic("f", Phi2 @ w2)
    sigma = numpyro.sample("sigma", dist.HalfNormal(0.1))
    numpyro.sample("obs", dist.Normal(f, sigma), obs=y)


# name: (NumPyro model, pinnlang model function, warmup, draws, the notebook's key of MCMC.run)
MODELS = {
    "linear": (model_linear, T.bayesian_linear, 300, 500, 0),
    "bnn": (model_bnn, T.bayesian_mlp, 300, 500, 6),
    "svr": (model_svr, T.svr_rff, 300, 500, 9),
    "gp": (model_gp, T.gp_rff, 300, 500, 11),
    "deep": (model_deep, T.deep_gp_rff, 200, 300, 14),
}


COMPILE_EVENTS = ("/jax/core/compile/jaxpr_to_mlir_module_duration", "/jax/core/compile/backend_compile_duration")
_compile = {"s": 0.0}


def _on_event(event, duration, **_):
    if event in COMPILE_EVENTS:
        _compile["s"] += duration


jax.monitoring.register_event_duration_secs_listener(_on_event)


def timed(fn) -> dict:
    """Wall time, process CPU time and the lowering + XLA compilation time (JAX's monitoring events) of ``fn()``."""
    c0, t0, x0 = time.process_time(), time.perf_counter(), _compile["s"]
    fn()
    return dict(wall=time.perf_counter() - t0, cpu=time.process_time() - c0, compile=_compile["s"] - x0)


def numpyro_runner(name):
    model, _, warmup, keep, k = MODELS[name]
    mcmc = MCMC(NUTS(model), num_warmup=warmup, num_samples=keep, progress_bar=False)

    def sample(seed):
        key = T.k_models[k] if seed == 0 else jax.random.fold_in(T.k_models[k], seed)  # 0: the notebook's key
        mcmc.run(key, X, Y, extra_fields=("diverging", "accept_prob"))
        jax.block_until_ready(mcmc.get_samples())

    def summary():
        samples = mcmc.get_samples()
        f = Predictive(model, posterior_samples=samples, return_sites=["f"])(jax.random.PRNGKey(1), X_TEST)["f"]
        extra = mcmc.get_extra_fields()
        return dict(f=np.asarray(f)[None], sigma=np.asarray(samples["sigma"])[None],
                    divergent=int(np.sum(extra["diverging"])), accept=float(np.mean(extra["accept_prob"])))

    return lambda seed: timed(lambda: sample(seed)), summary, None


_solve, _last_solve = pl.Core.solve, {}


def _timed_solve(self, *args, **kwargs):
    """``Core.solve`` with its timings kept (the predictive draws after it compile an evaluation of their own),
    and the values the handles had before the core's first solve (the steady-state runs restart from them)."""
    if not hasattr(self, "bench_start"):
        self.bench_start = {k: h.get_trainable() for k, h in self.handles.items()}
    out = {}
    _last_solve.update(timed(lambda: out.setdefault("result", _solve(self, *args, **kwargs))))
    return out["result"]


pl.Core.solve = _timed_solve


def pinnlang_runner(name):
    """``run(seed)`` builds the model anew with the tutorial's function (it traces and compiles again, like
    NumPyro's ``run``) and times its ``crux.solve``; ``steady()`` restarts that core's chains from the same
    starting values (the handles' values written back, so every group starts over with a new warmup) and
    solves again: the same compiled program, nothing traced or compiled."""
    _, build, warmup, keep, _ = MODELS[name]
    state = {}

    def run(seed):
        T.SEED = seed
        state["fit"] = build(dict(warmup=warmup, keep=keep, num_chains=1))
        state["draws"] = state["fit"].draws
        return dict(_last_solve)

    def steady():
        fit = state["fit"]
        for k, h in fit.crux.handles.items():
            h.set_trainable(fit.crux.bench_start[k])
        fit.crux.solve(warmup + keep, progress=False)
        state["draws"] = fit.crux.predictive(fit.f, noise=fit.sigma, domain=T.test, seed=1)
        return dict(_last_solve)

    def summary():
        fit, draws = state["fit"], state["draws"]
        d = next(h.posterior_diagnostics for h in fit.crux.handles.values() if h.posterior_diagnostics)  # one block
        return dict(f=np.asarray(draws.f)[..., 0], sigma=np.asarray(draws.sigma)[:, :, 0, 0],
                    divergent=int(np.sum(d["is_divergent"])), accept=float(np.mean(d["acceptance_rate"])))

    return run, summary, steady


def scores(s: dict, seconds: float) -> dict:
    ess_f = float(np.median(np.asarray(pl.bayesian.ess(s["f"]))))
    ess_sigma = float(np.asarray(pl.bayesian.ess(s["sigma"])))
    mean = s["f"].reshape(-1, s["f"].shape[-1]).mean(0)
    return dict(ess_sigma=ess_sigma, ess_f=ess_f, ess_f_per_s=ess_f / seconds,
                r2=pl.metrics.r2_score(mean, T.Y_TEST), divergent=s["divergent"], accept=s["accept"])


def first_call(lib: str, name: str, cache_dir: str | None) -> dict:
    """The first run of one model in a fresh process (after the imports and the data set-up)."""
    cmd = [sys.executable, __file__, "--first-call", lib, name] + (["--cache-dir", cache_dir] if cache_dir else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="runs per library and model after the first call; run r "
                                                          "uses seed r (0: the notebook's keys); medians reported")
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of " + ", ".join(MODELS))
    p.add_argument("--cache", action="store_true", help="use JAX's persistent compilation cache (a fresh folder)")
    p.add_argument("--first-call", nargs=2, metavar=("LIBRARY", "MODEL"), help=argparse.SUPPRESS)
    p.add_argument("--cache-dir", help=argparse.SUPPRESS)
    args = p.parse_args()
    cache_dir = args.cache_dir or (tempfile.mkdtemp(prefix="masterclass-xla-") if args.cache else None)
    if cache_dir:
        pl.compilation_cache.enable(cache_dir)
    if args.first_call:
        lib, name = args.first_call
        run = (numpyro_runner if lib == "numpyro" else pinnlang_runner)(name)[0]
        print(json.dumps(run(0)))
        return
    print(f"jax {jax.__version__}, numpyro {numpyro.__version__}, device {jax.devices()[0].device_kind}, "
          f"{os.cpu_count()} CPUs, float32, persistent compilation cache {'on (empty at start)' if cache_dir else 'off'}")
    print("first: a fresh process's first run. Then in one process, runs with seeds 0.."
          f"{args.repeats - 1} (medians): again = the model built and run again (wall; compile: its lowering + XLA "
          "compilation, JAX's monitoring events; again-c = again - compile); steady = pinnlang's core restarted from "
          "the same start and solved again (nothing compiled), for NumPyro again-c (its run recompiles every call). "
          "ESS f/s per steady second; divergences summed over the runs; seconds of wall time")
    header = (f"{'model':<7} {'library':<9} {'first':>7} {'again':>7} {'compile':>8} {'again-c':>8} {'steady':>7} "
              f"{'ESS σ':>6} {'ESS f':>6} {'ESS f/s':>8} {'div':>4} {'accept':>6} {'R²':>7}")
    print(header)
    rows = []
    for name in args.models.split(","):
        runners = {"numpyro": numpyro_runner(name), "pinnlang": pinnlang_runner(name)}
        first = {lib: first_call(lib, name, cache_dir)["wall"] for lib in runners}
        for lib, (run, _, _) in runners.items():  # this process's first call: compiles what the repeats share
            run(0)
        runs = {lib: [] for lib in runners}
        for seed in range(args.repeats):
            for lib, (run, summary, steady) in runners.items():
                t = run(seed)
                t["again_c"] = max(t["wall"] - t["compile"], 1e-9)
                t["steady"] = steady()["wall"] if steady else t["again_c"]
                runs[lib].append({**t, **scores(summary(), t["steady"])})
        for lib in runners:
            med = {k: float(np.median([r[k] for r in runs[lib]])) for k in runs[lib][0]}
            med["divergent"] = int(sum(r["divergent"] for r in runs[lib]))
            row = dict(model=name, library=lib, first=first[lib], **med)
            rows.append(row)
            print(f"{name:<7} {lib:<9} {row['first']:>7.2f} {row['wall']:>7.2f} {row['compile']:>8.2f} "
                  f"{row['again_c']:>8.2f} {row['steady']:>7.2f} {row['ess_sigma']:>6.0f} {row['ess_f']:>6.0f} "
                  f"{row['ess_f_per_s']:>8.0f} {row['divergent']:>4d} {row['accept']:>6.3f} {row['r2']:>7.4f}",
                  flush=True)
    print("\nNumPyro / pinnlang (> 1: pinnlang faster or more efficient):")
    for name in args.models.split(","):
        r = {row["library"]: row for row in rows if row["model"] == name}
        n, o = r["numpyro"], r["pinnlang"]
        print(f"  {name:<7} first call {n['first'] / o['first']:5.2f}, again {n['wall'] / o['wall']:5.2f}, "
              f"again-c {n['again_c'] / o['again_c']:5.2f}, steady {n['steady'] / o['steady']:5.2f}, "
              f"ESS(f)/s {o['ess_f_per_s'] / n['ess_f_per_s']:5.2f}")


if __name__ == "__main__":
    main()
