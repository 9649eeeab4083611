"""Shared sub-expressions are evaluated once per compiled function."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import pinnlang as pl


class Counting(eqx.Module):
    """An MLP that counts how often its Python body runs (once per trace of a call site)."""

    mlp: eqx.nn.MLP
    in_features: int = eqx.field(static=True)
    calls: list = eqx.field(static=True)

    def __call__(self, z):
        self.calls.append(z.shape)
        return self.mlp(z)


def make(calls):
    return Counting(eqx.nn.MLP(1, 1, 8, 2, activation=jnp.tanh, key=jax.random.PRNGKey(0)), 1, calls)


def test_model_on_same_points_runs_once_with_its_derivative_tower():
    calls = []
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    xb, _ = dom.variable("boundary")
    net = pl.nn.wrap(make(calls))
    # u used three times, built twice separately, with first and second derivatives
    pde = pl.diff(net(x), x, order=2) + net(x) * pl.diff(net(x), x)
    data_fit = net(x) - pl.np.sin(x)
    crux = pl.core([pde.mse, data_fit.mse, net(xb).mse])
    calls.clear()
    jax.make_jaxpr(lambda p, d: crux.loss(p, d))(
        {k: h.get_trainable() for k, h in crux.handles.items()}, crux.loss.program.data(crux.noise_key))
    # one traced call for the interior tower (u, u_x, u_xx in one nested jvp) + one for the boundary
    assert len(calls) == 2, calls


def test_structurally_equal_nodes_share_keys():
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.25)
    x, _ = dom.variable("interior")
    net = pl.nn.wrap(make([]))
    assert net(x).key == net(x).key
    assert pl.diff(net(x), x, 2).key == pl.diff(pl.diff(net(x), x), x).key
    assert (pl.np.sin(x) + 1.0).key != (pl.np.sin(x) + 2.0).key


def test_separate_towers_in_two_directions_each_trace_once():
    calls = []
    g = np.linspace(0, 1, 5, dtype=np.float32)
    X, Y = np.meshgrid(g, g)
    dom = pl.domain.from_array({"p": np.stack([X.ravel(), Y.ravel()], 1)})
    x, y, _ = dom.variable("p")

    class Two(Counting):
        pass

    net = pl.nn.wrap(Counting(eqx.nn.MLP(2, 1, 8, 2, activation=jnp.tanh, key=jax.random.PRNGKey(0)), 2, calls))
    lap = pl.diff(net(x, y), x, 2) + pl.diff(net(x, y), y, 2)
    crux = pl.core([lap.mse])
    calls.clear()
    jax.make_jaxpr(lambda p, d: crux.loss(p, d))(
        {k: h.get_trainable() for k, h in crux.handles.items()}, crux.loss.program.data(crux.noise_key))
    assert len(calls) == 2  # one tower per direction (u_xx needs x only, u_yy needs y only)
