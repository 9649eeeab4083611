"""Arguments of solve/eval and the History API (issue 7, items 9 and 10): clear errors, segments, compile time."""

import jax
import numpy as np
import optax
import pytest

import pinnlang as pl
from pinnlang.errors import ConfigurationError


def problem():
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    return pl.core([(net(x) - pl.np.sin(x)).mse], names=["fit"]), net, x


@pytest.mark.parametrize("value", [2.7, True, 0, "5"])
def test_print_rate_must_be_a_positive_integer(value):
    crux, *_ = problem()
    with pytest.raises(ConfigurationError, match="print_rate"):
        crux.solve(10, print_rate=value)


def test_numpy_integers_are_accepted():
    crux, *_ = problem()
    crux.solve(np.int64(10), print_rate=np.int32(5))
    assert crux.epoch == 10


def test_eval_arguments_are_checked():
    crux, net, x = problem()
    crux.solve(5)
    with pytest.raises(ConfigurationError, match="chunk_size"):
        crux.eval(net(x), chunk_size=0)
    with pytest.raises(ConfigurationError, match=r"pl\.domain"):
        crux.eval(net(x), domain=np.zeros((3, 1)))


def test_history_term_names_the_terms_and_suggests_the_closest():
    crux, *_ = problem()
    crux.solve(5)
    with pytest.raises(ConfigurationError, match=r"did you mean 'fit'\?"):
        crux.history.term("fitt")
    np.testing.assert_array_equal(crux.history.term("fit"), crux.history.terms[:, 0])


def test_history_segments_separate_the_phases_and_compile_time_is_reported():
    crux, net, x = problem()
    net.optimizer(optax.adam(1e-2))
    crux.solve(30, print_rate=10, label="adam")
    net.optimizer(optax.sgd(1e-3))
    crux.solve(20, print_rate=10, label="sgd")
    h = crux.history
    assert [(s.label, s.start, s.stop) for s in h.segments] == [("adam", 0, 30), ("sgd", 30, 50)]
    np.testing.assert_array_equal(h.segment("sgd").epochs, np.arange(30, 50))
    with pytest.raises(ConfigurationError, match="did you mean 'adam'"):
        h.segment("adan")
    assert h.compile_time > 0 and h.wall_time > h.compile_time and np.isfinite(h.steps_per_second)
    compiled = h.compile_time
    crux.solve(17, print_rate=10, label="sgd")  # same configuration, other epochs: nothing to compile
    assert h.compile_time == compiled
    assert "segments [adam: 30, sgd: 20, sgd: 17]" in repr(h)


def test_eval_of_part_of_a_problem_sees_the_noise_the_loss_saw():
    """Two noise sources: evaluating the second alone must give the draw the loss used, not a re-keyed one."""
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.1)
    x, _ = dom.variable("interior")
    d1 = pl.np.sin(x) + pl.noise.gaussian(std=0.1)
    d2 = pl.np.cos(x) + pl.noise.gaussian(std=0.1)
    a = pl.np.parameter((1,), name="a")
    crux = pl.core([(a * x - d1).mse, (a * x - d2).mse])
    crux.solve(3)
    both = crux.eval([d1, d2])
    np.testing.assert_array_equal(crux.eval(d2), both[1])
    np.testing.assert_array_equal(crux.eval(d1), both[0])
    assert not np.allclose(both[0] - np.sin(dom.context["interior"]), both[1] - np.cos(dom.context["interior"]))
