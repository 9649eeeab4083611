"""Burgers 1-D: u_t + u u_x = ν u_xx on [-1, 1] × [0, 1], ν = 0.01/π, u(x, 0) = -sin(πx), u(±1, t) = 0.

Reference: the exact Cole–Hopf solution by Gauss–Hermite quadrature (``solvers.reference.burgers``).
Collocation points are Latin-hypercube samples redrawn every 1000 epochs during Adam, then L-BFGS.
Run: ``python solvers/burgers_1d.py [--epochs N] [--plot out.png]``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jax  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import pinnlang as pl  # noqa: E402
from solvers.common import Timer, parse_args, relative_l2, report, save_figure  # noqa: E402
from solvers.reference.burgers import burgers_grid  # noqa: E402

NU = 0.01 / np.pi


def build(seed: int = 0):
    """The problem as a pinnlang script; returns ``(crux, net)``."""
    space = pl.domain.line(x_range=(-1.0, 1.0), num_points=4000, num_boundary_points=200, sampler="lhs",
                           key=jax.random.PRNGKey(seed))
    dom = pl.domain(constructor=space, time=pl.domain.time(t_range=(0.0, 1.0)))
    x, t = dom.variable("interior")
    xb, tb = dom.variable("boundary")
    x0, t0 = dom.variable("initial")
    net = pl.nn.wrap(pl.nn.mlp(2, hidden_dims=32, num_layers=6, key=jax.random.PRNGKey(seed + 1)), name="u")
    net.optimizer(optax.adam(optax.exponential_decay(2e-3, 2000, 0.7)))
    u = net(x, t)
    pde = pl.diff(u, t) + u * pl.diff(u, x) - NU * pl.diff(u, x, order=2)
    ic = net(x0, t0) + pl.np.sin(pl.np.pi * x0)
    losses = [pde.mse, ic.mse, net(xb, tb).mse]
    return pl.core(losses, weights=[1.0, 10.0, 10.0], names=["pde", "initial", "boundary"]), net


def main():
    args = parse_args(__doc__.splitlines()[0], epochs=15000)
    crux, net = build(args.seed)
    with Timer() as timer:
        adam_rate = crux.solve(args.epochs, print_rate=min(args.epochs, 1000), resample_every=1000).steps_per_second
        net.optimizer(optax.lbfgs())
        crux.solve(20 if args.smoke else 2000, print_rate=20 if args.smoke else 500)
    xg, tg, ref = burgers_grid(nx=256, nt=100, nu=NU)
    grid = pl.io.eval_on_grid(crux, net, xg, tg)
    X, T = grid.mesh
    pred = grid.values
    err = relative_l2(pred, ref)
    report("burgers_1d", err, timer.seconds, adam_rate)
    if args.plot:
        save_figure(pl.plot.fields_2d(T, X, pred, ref, labels=("t", "x"),
                                      titles=["pinnlang", "Cole–Hopf reference", "|error|"]), args.plot)
    return err


if __name__ == "__main__":
    main()
