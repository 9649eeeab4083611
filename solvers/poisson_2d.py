"""Poisson 2-D: -Δu = 2π² sin(πx) sin(πy) on [0, 1]², u = 0 on the boundary; exact sin(πx) sin(πy).

Run: ``python solvers/poisson_2d.py [--epochs N] [--plot out.png]``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jax  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import pinnlang as pl  # noqa: E402
from solvers.common import Timer, parse_args, relative_l2, report, save_figure  # noqa: E402
from solvers.reference.poisson import poisson_2d_exact  # noqa: E402


def build(seed: int = 0):
    """The problem as a pinnlang script; returns ``(crux, net)``."""
    dom = pl.domain.rect(x_range=(0.0, 1.0), y_range=(0.0, 1.0), mesh_size=0.04)
    x, y, _ = dom.variable("interior")
    xb, yb, _ = dom.variable("boundary")
    net = pl.nn.wrap(pl.nn.mlp(2, hidden_dims=32, num_layers=3, key=jax.random.PRNGKey(seed)), name="u")
    net.optimizer(optax.adam(optax.exponential_decay(3e-3, 1000, 0.6)))
    source = 2 * pl.np.pi**2 * pl.np.sin(pl.np.pi * x) * pl.np.sin(pl.np.pi * y)
    pde = pl.laplacian(net(x, y), [x, y]) + source
    return pl.core([pde.mse, net(xb, yb).mse], weights=[1.0, 10.0], names=["pde", "bc"]), net


def main():
    args = parse_args(__doc__.splitlines()[0], epochs=4000)
    crux, net = build(args.seed)
    with Timer() as t:
        adam_rate = crux.solve(args.epochs).steps_per_second
        net.optimizer(optax.lbfgs())
        crux.solve(20 if args.smoke else 500, print_rate=100)
    g = np.linspace(0.0, 1.0, 101, dtype=np.float32)
    grid = pl.io.eval_on_grid(crux, net, g, g)
    X, Y = grid.mesh
    pred = grid.values
    exact = poisson_2d_exact(X, Y)
    err = relative_l2(pred, exact)
    report("poisson_2d", err, t.seconds, adam_rate)
    if args.plot:
        save_figure(pl.plot.fields_2d(X, Y, pred, exact, titles=["pinnlang u", "sin(πx) sin(πy)", "|error|"]),
                    args.plot)
    return err


if __name__ == "__main__":
    main()
