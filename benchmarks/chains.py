"""Cost of K chains against one: NUTS on tutorial 05's (A, B) problem, 500 warmup + 1000 draws.

Both a and b are sampled jointly by one NUTS (window adaptation shared by the chains). Reported: the
wall time of ``solve(1500)`` for K = 1 and K = 8 chains, each in a fresh core and excluding the
first-call compilation (a second identical core runs after a first one compiled the programs), with
``chain_method="vectorized"`` (vmap) and ``"sequential"`` (lax.map). Target: 8 chains under 3x one.

Run: ``python benchmarks/chains.py [--repeats R]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import blackjax  # noqa: E402
import jax  # noqa: E402

import pinnlang as pl  # noqa: E402

A_TRUE, B_TRUE, SIGMA = 3.14, -2.71, 0.1


def solve_time(num_chains: int, method: str) -> float:
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.01)
    x, _ = dom.variable("interior")
    target = A_TRUE * pl.np.sin(pl.np.pi * x) + B_TRUE * pl.np.cos(pl.np.pi * x) + pl.noise.gaussian(std=SIGMA)
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    a = pl.np.parameter((1,), key=k1, name="a")
    b = pl.np.parameter((1,), key=k2, name="b")
    for p in (a, b):
        p.bayesian(blackjax.nuts, warmup=500, keep=1000, num_chains=num_chains, init_jitter=0.1,
                   chain_method=method, prior=pl.bayesian.priors.gaussian(sigma=10.0))
    residual = a * pl.np.sin(pl.np.pi * x) + b * pl.np.cos(pl.np.pi * x) - target
    crux = pl.core([residual.gaussian_nll(SIGMA)], seed=0)
    t0 = time.perf_counter()
    crux.solve(1500, progress=False)
    return time.perf_counter() - t0 - crux.history.compile_time


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    print(f"{'chains':>6} {'method':>11} {'solve(1500) s':>14} {'ratio to 1 chain':>17}")
    one = min(solve_time(1, "vectorized") for _ in range(args.repeats))
    print(f"{1:>6} {'-':>11} {one:>14.3f} {1.0:>17.2f}")
    for method in ("vectorized", "sequential"):
        t = min(solve_time(8, method) for _ in range(args.repeats))
        print(f"{8:>6} {method:>11} {t:>14.3f} {t / one:>17.2f}")


if __name__ == "__main__":
    main()
