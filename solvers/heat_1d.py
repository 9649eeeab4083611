"""Heat 1-D: u_t = α u_xx on [0, 1] × [0, 1], u(x, 0) = sin(πx), u(0, t) = u(1, t) = 0, α = 0.2.

Reference: the closed form exp(-απ²t) sin(πx). Run: ``python solvers/heat_1d.py [--epochs N] [--plot out.png]``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jax  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import pinnlang as pl  # noqa: E402
from solvers.common import Timer, parse_args, relative_l2, report, save_figure  # noqa: E402
from solvers.reference.heat import heat_exact  # noqa: E402

ALPHA = 0.2


def build(seed: int = 0):
    """The problem as a pinnlang script; returns ``(crux, net)``."""
    dom = pl.domain(constructor=pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.04),
                    time=pl.domain.time(t_range=(0.0, 1.0), mesh_size=0.04))
    x, t = dom.variable("interior")
    xb, tb = dom.variable("boundary")
    x0, t0 = dom.variable("initial")
    net = pl.nn.wrap(pl.nn.mlp(2, hidden_dims=32, num_layers=3, key=jax.random.PRNGKey(seed)), name="u")
    net.optimizer(optax.adam(optax.exponential_decay(3e-3, 2000, 0.6)))
    u = net(x, t)
    pde = pl.diff(u, t) - ALPHA * pl.diff(u, x, order=2)
    ic = net(x0, t0) - pl.np.sin(pl.np.pi * x0)
    return pl.core([pde.mse, ic.mse, net(xb, tb).mse], names=["pde", "initial", "boundary"]), net


def main():
    args = parse_args(__doc__.splitlines()[0], epochs=8000)
    crux, net = build(args.seed)
    with Timer() as timer:
        history = crux.solve(args.epochs)
    g = np.linspace(0.0, 1.0, 101, dtype=np.float32)
    grid = pl.io.eval_on_grid(crux, net, g, g)
    X, T = grid.mesh
    pred = grid.values
    exact = heat_exact(X, T, ALPHA)
    err = relative_l2(pred, exact)
    report("heat_1d", err, timer.seconds, history.steps_per_second)
    if args.plot:
        save_figure(pl.plot.fields_2d(T, X, pred, exact, labels=("t", "x"),
                                      titles=["pinnlang u(x, t)", "exp(-απ²t) sin(πx)", "|error|"]), args.plot)
    return err


if __name__ == "__main__":
    main()
