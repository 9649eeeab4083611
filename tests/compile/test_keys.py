"""Pytree keys are ordinals within a problem: the same problem built twice compiles to the same program.

JAX names a program's inputs and outputs after their pytree paths; keys carrying process-unique ids
(handle, domain and noise uids) made every rebuild in one process a new program and a miss in the
persistent compilation cache.
"""

import blackjax
import jax
import numpy as np
import optax

import pinnlang as pl
from pinnlang.solve.run import Execution

X = np.linspace(-1.0, 1.0, 8, dtype=np.float32).reshape(-1, 1)


def build(sampled: bool):
    """A problem with every kind of key: a named and an unnamed model, a parameter, a domain, noise."""
    dom = pl.domain.from_array({"train": X})
    x, _ = dom.variable("train")
    body = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    head = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=1, key=jax.random.PRNGKey(1)))
    a = pl.np.parameter((1,), init=0.5)
    body.optimizer(optax.adam(1e-3))
    if sampled:
        head.bayesian(blackjax.sgld, step_size=1e-4, warmup=2, keep=2, thin=1)
    crux = pl.core([(body(x) + a * head(x) - np.sin(X) + pl.noise.gaussian(0.1)).mse])
    return crux, (body, head, a), x


def chunk_program(crux) -> str:
    """The lowered text of the solve's chunk runner, as the persistent cache keys it."""
    crux.solve(4)
    run = Execution(crux, crux._engine, crux._run, None, None, None)
    args = run.chunk_args(crux._state, 2, False)
    return crux._engine.runner(crux._run.print_rate).lower(*args).as_text()


def test_the_same_problem_built_twice_lowers_to_the_same_program():
    for sampled in (False, True):
        first = chunk_program(build(sampled)[0])
        second = chunk_program(build(sampled)[0])
        assert first == second
        assert "#" in first  # the handle keys do name the program's outputs (so they must be deterministic)


def test_keys_are_name_and_ordinal_in_program_order():
    crux, (body, head, a), _ = build(False)
    assert list(crux.handles) == ["u#0", "param#0", "model#0"]
    assert list(crux.loss.program.analysis.point_sets) == ["0:train"]


def test_two_handles_with_the_same_name_get_distinct_keys_and_values():
    dom = pl.domain.from_array({"train": X})
    x, _ = dom.variable("train")
    u1 = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    u2 = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=1, key=jax.random.PRNGKey(1)), name="u")
    crux = pl.core([(u1(x) - np.sin(X)).mse, (u2(x) + np.sin(X)).mse])
    assert list(crux.handles) == ["u#0", "u#1"]
    assert crux.handles["u#0"] is u1 and crux.handles["u#1"] is u2
    crux.solve(3)
    v1, v2 = crux.eval([u1(x), u2(x)])
    np.testing.assert_allclose(np.asarray(v1), np.asarray(jax.vmap(u1.module)(X)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(v2), np.asarray(jax.vmap(u2.module)(X)), rtol=1e-5, atol=1e-6)
    assert crux.handles_in([u2(x)]) == {"u#1": u2}  # a sub-expression keys u2 as the loss does


def test_a_handle_shared_by_two_problems_may_have_a_different_key_in_each():
    dom = pl.domain.from_array({"train": X})
    x, _ = dom.variable("train")
    shared = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    other = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=1, key=jax.random.PRNGKey(1)), name="u")
    alone = pl.core([(shared(x) - np.sin(X)).mse])
    joint = pl.core([(other(x) - np.cos(X)).mse, (shared(x) - np.sin(X)).mse])
    assert alone.handles == {"u#0": shared}
    assert joint.handles == {"u#0": other, "u#1": shared}
    alone.solve(3)
    joint.solve(3)
    alone.solve(2)  # the first problem still compiles and runs with its own keys
    want = np.asarray(jax.vmap(shared.module)(X))
    np.testing.assert_allclose(np.asarray(alone.eval(shared(x))), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(joint.eval(shared(x))), want, rtol=1e-5, atol=1e-6)
