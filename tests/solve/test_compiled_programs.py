"""What a first solve and an evaluation compile: their own programs and nothing else.

On a CPU XLA compiles every fusion of a program as a kernel of its own and every eager ``jnp`` call on
a new shape as a program, so each extra program or kernel adds to a script's first run. These tests
pin what a Pattern B solve (Adam body, SGLD head) and its ``crux.eval`` compile, with the persistent
cache off so that every program is compiled.
"""

import blackjax
import equinox as eqx
import jax
import numpy as np
import optax
import pytest

import pinnlang as pl

COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


@pytest.fixture
def compiled_programs():
    """The names of the programs XLA compiles while the test runs (persistent cache off)."""
    names = []

    def on_event(event, duration, **kw):
        if event == COMPILE_EVENT:
            names.append(kw.get("fun_name", "?"))

    folder = jax.config.jax_compilation_cache_dir
    pl.compilation_cache.disable()
    jax.monitoring.register_event_duration_secs_listener(on_event)
    try:
        yield names
    finally:
        jax.monitoring.unregister_event_duration_listener(on_event)
        if folder:
            pl.compilation_cache.enable(folder)


def pattern_b():
    x_np = np.linspace(-1.0, 1.0, 12, dtype=np.float32).reshape(-1, 1)
    x, _ = pl.domain.from_array({"train": x_np}).variable("train")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=8, num_layers=2, key=jax.random.PRNGKey(3)))
    head = eqx.tree_at(lambda m: m.output_layer, jax.tree_util.tree_map(lambda _: False, net.module),
                       replace=jax.tree_util.tree_map(lambda _: True, net.module.output_layer))
    net.optimizer(optax.adam(1e-3))
    net.mask(head).bayesian(blackjax.sgld, step_size=1e-4, warmup=10, keep=10, thin=2)
    crux = pl.core([((net(x) - pl.np.array(np.sin(np.pi * x_np))) / 0.1).mse])
    return crux, net


def test_a_first_solve_compiles_its_prior_check_start_and_chunk_programs_only(compiled_programs):
    crux, net = pattern_b()
    compiled_programs.clear()  # the network's initial draw and the data are the script's
    crux.solve(40)
    # the prior check's program is shared by every solve with the same prior and shapes (maybe compiled earlier)
    names = set(compiled_programs)
    assert {"jit(run)", "jit(start)"} <= names <= {"jit(run)", "jit(start)", "jit(<lambda>)"}, compiled_programs
    assert len(compiled_programs) == len(names), compiled_programs
    leaves = jax.tree_util.tree_leaves(eqx.filter(net.module, eqx.is_inexact_array))
    assert all(isinstance(a, jax.Array) for a in leaves)  # the values written back are device arrays
    compiled_programs.clear()
    crux.solve(40)  # a second solve reuses every program
    assert compiled_programs == []


def test_an_evaluation_over_every_draw_compiles_one_program(compiled_programs):
    crux, net = pattern_b()
    crux.solve(40)
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    xe, _ = dom.variable("interior")
    compiled_programs.clear()
    u = crux.eval([net(xe)], domain=dom)
    assert compiled_programs == ["jit(run)"], compiled_programs
    assert np.shape(u) == (1, 10, 19, 1)
    points = np.asarray(dom.context["interior"])
    for n in (0, 9):  # the network of draw n, applied by hand
        drawn = jax.tree_util.tree_map(lambda a, n=n: a[0, n], net.posterior_samples)
        by_hand = np.stack([np.asarray(drawn(p)) for p in points])
        np.testing.assert_allclose(np.asarray(u)[0, n], by_hand.reshape(19, 1), rtol=1e-5, atol=1e-6)
