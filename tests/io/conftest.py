"""Small solved problems shared by the results-layer tests (module-independent, built once per session)."""

import blackjax
import jax
import numpy as np
import optax
import pytest

import pinnlang as pl

K, N = 2, 150
SIGMA = 0.1


@pytest.fixture(scope="session")
def nuts_problem():
    """θ = (A, B) sampled by NUTS (2 chains x 150 draws) from d = 1.5 sin(πx) - 0.7 cos(πx) + N(0, 0.1²)."""
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.05)
    x, _ = dom.variable("interior")
    target = 1.5 * pl.np.sin(pl.np.pi * x) - 0.7 * pl.np.cos(pl.np.pi * x) + pl.noise.gaussian(std=SIGMA)
    theta = pl.np.parameter((2,), name="theta", init=0.0)
    theta.bayesian(blackjax.nuts, warmup=100, keep=N, num_chains=K, init_jitter=0.1,
                   prior=pl.bayesian.priors.gaussian(sigma=10.0))
    fit = theta[0:1] * pl.np.sin(pl.np.pi * x) + theta[1:2] * pl.np.cos(pl.np.pi * x)
    crux = pl.core([(fit - target).gaussian_nll(SIGMA)], names=["data"], seed=0)
    crux.solve(100 + N, progress=False)
    xs = np.asarray(dom.context["interior"][:, 0], np.float64)
    return dict(crux=crux, theta=theta, x=x, xs=xs, fit=fit, target=target, dom=dom)


@pytest.fixture(scope="session")
def mala_network():
    """A 1-4-1 network (and a scalar c) sampled by MALA, 2 chains x 40 draws, on u(x) ≈ sin(πx) + c."""
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.2)
    x, _ = dom.variable("interior")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    c = pl.np.parameter((1,), name="c", init=0.0)
    for h in (net, c):  # separate blocks: two MALA kernels in turn (Metropolis-within-Gibbs)
        h.bayesian(blackjax.mala, step_size=1e-4, warmup=10, keep=40, num_chains=2, init_jitter=0.05,
                   prior=pl.bayesian.priors.gaussian(sigma=1.0), block=h.name)
    crux = pl.core([(net(x) + c - pl.np.sin(pl.np.pi * x)).gaussian_nll(0.2)], names=["fit"], seed=1)
    crux.solve(50, progress=False)
    return dict(crux=crux, net=net, c=c, x=x, dom=dom)


@pytest.fixture(scope="session")
def trained_core():
    """An optax-trained parameter fit (two terms, 60 epochs in chunks of 20): a History to export and plot."""
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    a = pl.np.parameter((1,), name="a", init=0.0)
    a.optimizer(optax.adam(0.1))
    crux = pl.core([(a * x - 2.0 * x).mse, (a - 2.0).mse], names=["fit", "prior"], seed=0)
    crux.solve(60, print_rate=20, progress=False)
    return dict(crux=crux, a=a, x=x)
