"""Issue 7: what used to compute something other than what the user wrote now raises, naming the fix.

One block per item of the issue (broadcasting, components, non-finite data, integers, weights,
NumPy functions, sigma, initialize); each test asserts the error type and that the message says
what to do instead.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinnlang as pl
from pinnlang.errors import (ConfigurationError, DataError, ExpressionTypeError, PinnlangError, ShapeError)

N = 9


@pytest.fixture
def field():
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.1)  # 9 interior points
    x, _ = dom.variable("interior")
    net = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=1, key=jax.random.PRNGKey(0)), name="u")
    return x, net(x)


def evaluate(expr):
    return np.asarray(pl.core([(expr * 0.0).sum]).eval(expr))


# -- 1. data broadcast against fields ---------------------------------------------------------------------------

@pytest.mark.parametrize("data", [np.ones(N), np.ones((1, N)), [1.0] * N], ids=["(n,)", "(1,n)", "list"])
def test_per_point_data_of_the_wrong_rank_names_the_reshape(field, data):
    x, u = field
    with pytest.raises(ShapeError, match=rf"(?i)reshape it to \({N}, 1\)") as err:
        u - data
    assert f"({N}, {N})" in str(err.value)  # says what the broadcast would have computed


def test_per_point_data_with_more_components_than_the_field(field):
    x, u = field
    with pytest.raises(ShapeError, match=r"value shape \(2,\).*data\[:, \[0\]\]"):
        u - np.ones((N, 2), np.float32)


def test_per_point_data_on_the_left_and_inside_point_free_expressions(field):
    x, u = field
    a = pl.np.parameter((1,), name="a")
    with pytest.raises(ShapeError, match="reshape"):
        np.ones(N, np.float32) - u  # an ndarray on the left goes through __array_ufunc__
    with pytest.raises(ShapeError, match="reshape"):
        u - a * np.ones(N, np.float32)  # per-point data inside a point-free product
    with pytest.raises(ShapeError, match=r"parameter 'q'.*reshape"):
        u - pl.np.parameter((N,), name="q")


def test_per_point_data_in_concatenate_and_model_inputs(field):
    x, u = field
    with pytest.raises(ShapeError, match=rf"reshape it to \({N}, 1\)"):
        pl.np.concatenate([u, np.ones(N, np.float32)])
    with pytest.raises(ShapeError, match="scalar or vector values"):
        pl.np.concatenate([u, np.ones((1, N), np.float32)])
    net2 = pl.nn.wrap(pl.nn.mlp(2, hidden_dims=4, num_layers=1, key=jax.random.PRNGKey(0)))
    with pytest.raises(ShapeError, match=rf"reshape it to \({N}, 1\)"):
        net2(x, np.ones(N, np.float32))
    assert net2(x, np.ones((N, 1), np.float32)).shape == (N, 1)
    assert pl.np.concatenate([u, np.ones(2, np.float32)]).shape == (N, 3)  # constant columns


def test_deliberate_broadcasting_stays_allowed(field):
    x, u = field
    u2 = pl.np.concatenate([u, 2.0 * u])  # (n, 2)
    assert (u2 - np.ones((1, 2), np.float32)).shape == (N, 2)  # a row against an (n, k) field
    assert (u2 * np.array([1.0, 2.0], np.float32)).shape == (N, 2)  # a (k,) vector
    assert (u2 * np.ones((N, 1), np.float32)).shape == (N, 2)  # per-point scale of a vector field
    assert (x * np.arange(3, dtype=np.float32)).shape == (N, 3)  # outer product, k != n
    data = np.linspace(0, 1, N, dtype=np.float32)[:, None]
    np.testing.assert_allclose(evaluate(x - data), np.asarray(x.points.domain.context["interior"]) - data,
                               atol=1e-6)


# -- 2. out-of-range components -------------------------------------------------------------------------------

@pytest.mark.parametrize("index", [3, 1, -2])
def test_out_of_range_component_of_a_scalar_field(field, index):
    x, u = field
    with pytest.raises(ShapeError, match=r"out of range.*valid: 0 to 0"):
        u[index]


def test_out_of_range_component_of_a_vector_field_and_empty_slices(field):
    x, u = field
    u2 = pl.np.concatenate([u, u])
    with pytest.raises(ShapeError, match=r"component 7 is out of range.*2 component"):
        u2[7]
    with pytest.raises(ShapeError, match="selects no component"):
        u2[5:9]
    assert u2[-1].shape == (N, 1) and u2[np.int64(1)].shape == (N, 1) and u2[:, 1].shape == (N, 1)
    np.testing.assert_allclose(evaluate(u2[-1]), evaluate(u2[1]))


@pytest.mark.parametrize("index", [True, 1.0, np.array([0]), "0"])
def test_component_index_types(field, index):
    x, u = field
    with pytest.raises(ShapeError, match="only integers and slices"):
        pl.np.concatenate([u, u])[index]


# -- 8. NaN / inf in data ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_data_is_reported_when_it_enters(field, bad):
    x, u = field
    y = np.zeros((N, 1), np.float32)
    y[4, 0] = bad
    with pytest.raises(DataError, match=r"'y_obs' contains 1 (NaN|inf).*index \(4, 0\).*np.isfinite"):
        u - pl.np.array(y, name="y_obs")
    with pytest.raises(DataError, match=r"data array of shape \(9, 1\)"):
        u - y  # unnamed arrays are named by their shape


def test_non_finite_parameter_init_and_initialize(field):
    with pytest.raises(DataError, match="init of parameter 'k'.*finite"):
        pl.np.parameter((2,), name="k", init=[1.0, np.nan])
    k = pl.np.parameter((2,), name="k")
    with pytest.raises(DataError, match="k.initialize.*NaN"):
        k.initialize(np.array([np.nan, 1.0], np.float32))


# -- 9. integers, weights, NumPy functions, sigma, initialize -----------------------------------------------------

def test_integers_accept_numpy_and_reject_bools(field):
    x, u = field
    assert pl.diff(u, x, order=np.int64(2)).dims == (0, 0)
    for bad in (True, 1.0, -1):
        with pytest.raises(PinnlangError, match="order must be a non-negative integer"):
            pl.diff(u, x, order=bad)
    assert pl.np.parameter(np.int64(3)).shape == (3,)
    assert pl.np.parameter((np.int32(2), 2)).shape == (2, 2)
    for bad in (True, (2.5,), (0,)):
        with pytest.raises(ConfigurationError, match="positive integer"):
            pl.np.parameter(bad)


@pytest.mark.parametrize("weights", [[float("nan")], [float("inf")], [-1.0], ["1"], [True]])
def test_bad_loss_weights(field, weights):
    x, u = field
    with pytest.raises(ConfigurationError, match="non-negative finite numbers"):
        pl.core([u.mse], weights=weights)


def test_numpy_weights_are_fine(field):
    x, u = field
    assert pl.core([u.mse, x.mse], weights=np.array([1.0, 0.5])).loss.weights == [1.0, 0.5]


@pytest.mark.parametrize("np_fn,pl_fn", [(np.sin, pl.np.sin), (np.exp, pl.np.exp), (np.abs, pl.np.abs),
                                         (np.tanh, pl.np.tanh), (np.sqrt, pl.np.sqrt)])
def test_numpy_ufuncs_dispatch_to_pl_np(field, np_fn, pl_fn):
    x, u = field
    assert np_fn(x).key == pl_fn(x).key
    np.testing.assert_allclose(evaluate(np_fn(x)), evaluate(pl_fn(x)), rtol=1e-6)


def test_numpy_binary_ufuncs_build_the_operator_nodes(field):
    x, u = field
    data = np.linspace(0, 1, N, dtype=np.float32)[:, None]
    assert (data - u).key == (pl.np.array(data) - u).key
    assert np.power(2.0, x).key == (2.0 ** x).key
    assert np.maximum(u, x).key == pl.np.maximum(u, x).key
    assert np.where(x > 0.5, u, 0.0).key == pl.np.where(x > 0.5, u, 0.0).key


@pytest.mark.parametrize("call,hint", [
    (lambda x: np.exp2(x), "pl.np"),
    (lambda x: np.sum(x), "expr.sum"),
    (lambda x: np.mean(x), "expr.mean"),
    (lambda x: np.concatenate([x, x]), "pl.np.concatenate"),
    (lambda x: np.add.reduce(x), ".sum"),
    (lambda x: np.sin(x, out=np.empty((N, 1))), "pl.np.sin"),
    (lambda x: float(x), "pl.np functions"),
    (lambda x: x + [x, x], "pl.np.concatenate"),
    (lambda x: x + "1", "cannot use str"),
], ids=["exp2", "sum", "mean", "concatenate", "reduce", "out=", "float", "list-of-nodes", "str"])
def test_unsupported_numpy_calls_name_the_pinnlang_spelling(field, call, hint):
    x, u = field
    with pytest.raises(ExpressionTypeError) as err:
        call(x)
    assert hint in str(err.value)
    assert isinstance(err.value, TypeError) and isinstance(err.value, PinnlangError)


def test_gaussian_nll_needs_a_positive_sigma(field):
    x, u = field
    s = pl.np.parameter((1,), name="s", init=0.5)
    with pytest.raises(ConfigurationError, match=r"'s'.*constraint='positive'"):
        u.gaussian_nll(s)
    with pytest.raises(ConfigurationError, match="lo >= 0"):
        u.gaussian_nll(pl.np.parameter((1,), name="b", init=0.5, constraint=(-1.0, 2.0)))
    for bad in (0.0, -1.0, True, np.float32(-2.0)):
        with pytest.raises(ConfigurationError, match="sigma > 0"):
            u.gaussian_nll(bad)
    with pytest.raises(ConfigurationError, match="entries <= 0"):
        u.gaussian_nll(np.array([[1.0]] * 8 + [[0.0]], np.float32))
    # accepted: positive constraints, bounded at 0, positive expressions, numbers
    u.gaussian_nll(pl.np.parameter((1,), name="p", init=0.5, constraint="positive"))
    u.gaussian_nll(pl.np.parameter((1,), name="q", init=0.5, constraint=(0.0, 2.0)))
    u.gaussian_nll(pl.np.exp(s))
    u.gaussian_nll(np.float32(0.3))


def test_categorical_labels_must_be_classes():
    logits = pl.np.array(np.zeros((4, 3), np.float32))
    with pytest.raises(ShapeError, match=r"integers in 0\.\.2"):
        logits.categorical_nll(np.array([0, 1, 3, 0]))
    with pytest.raises(ShapeError, match="integers"):
        logits.categorical_nll(np.array([0.0, 1.5, 2.0, 0.0]))


def test_initialize_from_a_file_of_another_architecture_names_the_leaf(tmp_path):
    small = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=2, key=jax.random.PRNGKey(0)), name="u")
    wide = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=5, num_layers=2, key=jax.random.PRNGKey(0)), name="v")
    deep = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=3, key=jax.random.PRNGKey(0)), name="w")
    path = tmp_path / "u.eqx"
    eqx.tree_serialise_leaves(path, small.get_trainable())
    with pytest.raises(ConfigurationError, match=r"leaf \.layers\[0\]\.weight.*\(4, 1\) in the file but \(5, 1\)"):
        wide.initialize(path)
    with pytest.raises(ConfigurationError, match=r"layers\[2\]\.weight.*same layer sizes"):
        deep.initialize(path)
    shallow = pl.nn.wrap(pl.nn.mlp(1, hidden_dims=4, num_layers=1, key=jax.random.PRNGKey(0)), name="s")
    with pytest.raises(ConfigurationError, match=r"output_layer\.weight"):
        shallow.initialize(path)


def test_initialize_round_trips_of_a_constrained_parameter(tmp_path):
    p = pl.np.parameter((1,), name="s", init=2.0, constraint="positive")
    path = tmp_path / "s.eqx"
    eqx.tree_serialise_leaves(path, p.get_trainable())  # a file holds trainable (raw) values
    p.initialize(np.array([5.0], np.float32))  # a value is a constrained value
    np.testing.assert_allclose(np.asarray(p.value), [5.0], rtol=1e-6)
    p.initialize(path)
    np.testing.assert_allclose(np.asarray(p.value), [2.0], rtol=1e-6)  # not 1.8546: the file is not re-inverted
    p.initialize(p.value)
    np.testing.assert_allclose(np.asarray(p.value), [2.0], rtol=1e-6)
    b = pl.np.parameter((1,), name="b", init=0.25, constraint=(0.0, 1.0))
    raw = b.get_trainable()
    eqx.tree_serialise_leaves(tmp_path / "b.eqx", raw)
    b.initialize(np.array([0.9], np.float32)).initialize(tmp_path / "b.eqx")
    np.testing.assert_allclose(np.asarray(b.value), [0.25], rtol=1e-6)
    assert jnp.allclose(b.get_trainable(), raw)


def test_integers_and_numbers_elsewhere():
    net = pl.nn.mlp(1, hidden_dims=np.int64(3), num_layers=np.int64(2), key=jax.random.PRNGKey(0))
    assert len(net.layers) == 2
    with pytest.raises(ConfigurationError, match="num_layers"):
        pl.nn.mlp(1, hidden_dims=3, num_layers=True, key=jax.random.PRNGKey(0))
    for bad in (float("nan"), -0.1, True, "0.1"):
        with pytest.raises(ConfigurationError, match="std"):
            pl.noise.gaussian(bad)
    assert pl.noise.gaussian(np.float32(0.5)).std == 0.5
