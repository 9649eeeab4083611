"""Every bad input of the foundation raises a clear pinnlang error naming the fix."""

import jax
import numpy as np
import optax
import pytest

import pinnlang as pl
from pinnlang.errors import (ConfigurationError, NonFiniteLossError, PinnlangError, PointSetError, ShapeError,
                             TagError)


@pytest.fixture
def setup():
    dom = pl.domain(constructor=pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1))
    x, _ = dom.variable("interior")
    xb, _ = dom.variable("boundary")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=8, num_layers=2, key=jax.random.PRNGKey(0)), name="u")
    return dom, x, xb, net


def test_unreduced_constraint(setup):
    dom, x, xb, net = setup
    with pytest.raises(ConfigurationError, match=r"\.mse"):
        pl.core([pl.diff(net(x), x, 2) + 1.0])


def test_shapes_that_do_not_broadcast(setup):
    dom, x, xb, net = setup
    with pytest.raises(ShapeError, match="cannot combine operands of shapes"):
        net(x) + np.ones((3, 2), np.float32)


def test_unknown_tag(setup):
    dom, *_ = setup
    with pytest.raises(TagError, match="interior"):
        dom.variable("inside")


def test_variables_of_two_point_sets_mixed(setup):
    dom, x, xb, net = setup
    with pytest.raises(PointSetError, match="one point set"):
        net(x) + net(xb)
    other = pl.domain.line(x_range=(0.0, 2.0), mesh_size=0.1)
    xo, _ = other.variable("interior")
    with pytest.raises(PointSetError):
        x * xo


def test_model_called_with_wrong_input_width(setup):
    dom, x, xb, net = setup
    with pytest.raises(ShapeError, match="expects 1 input column"):
        net(x, x)


def test_diff_wrt_non_variable(setup):
    dom, x, xb, net = setup
    a = pl.np.parameter((1,), name="a")
    with pytest.raises(PinnlangError, match="coordinate variables"):
        pl.diff(net(x), a)
    with pytest.raises(PinnlangError, match="coordinate variables"):
        pl.diff(net(x), net(x))


def test_diff_wrt_variable_of_other_point_set(setup):
    dom, x, xb, net = setup
    with pytest.raises(PointSetError, match="same point set"):
        pl.diff(net(xb), x)


@pytest.mark.parametrize("epochs", [0, -5, 2.5, "10"])
def test_bad_epochs(setup, epochs):
    dom, x, xb, net = setup
    crux = pl.core([net(xb).mse])
    with pytest.raises(ConfigurationError, match="positive integer"):
        crux.solve(epochs)


def test_nan_loss_names_term_and_epoch_and_keeps_finite_values(setup):
    dom, x, xb, net = setup
    a = pl.np.parameter((1,), name="a", init=1.0)
    # minimising log(a) with sgd(2): a = 1 -> 1 - 2/1 = -1, where log is nan (epoch 1)
    crux = pl.core([(a * 0.0).mse, pl.np.log(a).sum], names=["zero", "logterm"])
    a.optimizer(optax.sgd(2.0))
    with pytest.raises(NonFiniteLossError, match=r"'logterm'.*epoch 1\b"):
        crux.solve(50, print_rate=10)
    np.testing.assert_allclose(np.asarray(a.value), [1.0])  # the last values with a finite loss
    assert np.isfinite(crux.history.total[:-1]).all() and not np.isfinite(crux.history.total[-1])


def test_bad_weights_and_empty_losses(setup):
    dom, x, xb, net = setup
    with pytest.raises(ConfigurationError, match="one weight per term"):
        pl.core([net(xb).mse], weights=[1.0, 2.0])
    with pytest.raises(ConfigurationError, match="non-empty"):
        pl.core([])


def test_errors_are_value_errors():
    assert issubclass(PinnlangError, ValueError)


def test_bad_optimizer(setup):
    dom, x, xb, net = setup
    with pytest.raises(ConfigurationError, match="GradientTransformation"):
        net.optimizer("adam")


def test_all_frozen(setup):
    dom, x, xb, net = setup
    net.freeze()
    with pytest.raises(ConfigurationError, match="frozen"):
        pl.core([net(xb).mse]).solve(10)


@pytest.mark.parametrize("print_rate", [1, 3])
def test_nan_at_a_chunk_boundary_restores_the_previous_chunk(print_rate):
    a = pl.np.parameter((1,), name="a", init=1.0)
    crux = pl.core([pl.np.log(a).sum])
    a.optimizer(optax.sgd(0.25))  # a: 1, .75, .4167, -.18 (nan at epoch 3)
    with pytest.raises(NonFiniteLossError, match=r"epoch 3\b"):
        crux.solve(10, print_rate=print_rate)
    np.testing.assert_allclose(np.asarray(a.value), [1.0 - 0.25 - 0.25 / 0.75], rtol=1e-6)
