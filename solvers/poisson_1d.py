"""Poisson 1-D: u'' = -π² sin(πx) on [-1, 1], u(±1) = 0; exact u = sin(πx).

Run: ``python solvers/poisson_1d.py [--epochs N] [--plot out.png]``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jax  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import pinnlang as pl  # noqa: E402
from solvers.common import Timer, parse_args, relative_l2, report, save_figure  # noqa: E402


def build(seed: int = 0):
    """The problem as a pinnlang script; returns ``(crux, net)``."""
    dom = pl.domain(constructor=pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.01))
    x, _ = dom.variable("interior")
    xb, _ = dom.variable("boundary")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=32, num_layers=3, key=jax.random.PRNGKey(seed)), name="u")
    net.optimizer(optax.adam(optax.exponential_decay(2e-3, 1000, 0.7)))
    u = net(x)
    pde = pl.diff(u, x, order=2) + pl.np.pi**2 * pl.np.sin(pl.np.pi * x)
    return pl.core([pde.mse, net(xb).mse], names=["pde", "bc"]), net


def main():
    args = parse_args(__doc__.splitlines()[0], epochs=5000)
    crux, net = build(args.seed)
    with Timer() as t:
        history = crux.solve(args.epochs)
    test = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.001)
    xt, _ = test.variable("interior")
    pred = np.asarray(crux.eval([net(xt)], domain=test))
    xs = test.context["interior"][:, 0]
    exact = np.sin(np.pi * xs)
    err = relative_l2(pred, exact)
    report("poisson_1d", err, t.seconds, history.steps_per_second)
    if args.plot:
        fig, axes = pl.plot.figure(2)
        pl.plot.field_1d(xs, pred, reference=exact, label="pinnlang", reference_label="exact sin(πx)", ax=axes[0, 0],
                         title=f"Poisson 1-D, rel. L2 = {err:.2e}")
        pl.plot.loss_history(history, ax=axes[0, 1])
        save_figure(fig, args.plot)
    return err


if __name__ == "__main__":
    main()
