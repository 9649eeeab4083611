"""A solve that a test kills mid-way and resumes (run as a script: mode, checkpoint path, output path)."""

import sys
import time

import blackjax
import jax
import numpy as np
import optax

import pinnlang as pl


def build():
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=8, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    c = pl.np.parameter((1,), name="c", init=0.5)
    net.optimizer(optax.adam(1e-2))
    c.bayesian(blackjax.nuts, warmup=60, keep=70, num_chains=2, init_jitter=0.1)
    target = pl.np.sin(np.pi * x)
    crux = pl.core([(net(x) - target).mse, (c * net(x) - 2.0 * target).gaussian_nll(0.1)], seed=3)
    return crux, net, c


def main(mode, path, out):
    crux, net, c = build()
    slow = (lambda report: time.sleep(0.4)) if mode == "slow" else (lambda report: None)
    crux.solve(200, print_rate=20, checkpoint=path, checkpoint_every=40, resume=True, callbacks=[slow])
    leaves = [np.asarray(l) for l in jax.tree_util.tree_leaves(net.get_trainable())]
    np.savez(out, c=c.posterior_samples, total=crux.history.total, epochs=crux.history.epochs,
             diag=c.posterior_diagnostics["acceptance_rate"], *leaves)


if __name__ == "__main__":
    main(*sys.argv[1:4])
