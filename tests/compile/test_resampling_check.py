"""Issue 7 item 3: point sets that carry per-point data or noise must not be resampled.

``check_resampling(analysis, point_keys)`` is what the solve engine calls before a solve with
``resample_every``; these tests call it directly on a :class:`GraphAnalysis`.
"""

import jax
import numpy as np
import pytest

import pinnlang as pl
from pinnlang.compile import GraphAnalysis, Program, check_resampling
from pinnlang.errors import ConfigurationError

N = 16


@pytest.fixture
def problem():
    dom = pl.domain.line(x_range=(0.0, 1.0), num_points=N, sampler="uniform", seed=0)
    x, _ = dom.variable("interior")
    xb, _ = dom.variable("boundary")
    a = pl.np.parameter((1,), name="a", init=0.5)
    return dom, x, xb, a


def keys(analysis, *variables):
    return [analysis.point_key(v.points) for v in variables]


def test_per_point_data_on_a_resampled_set_is_refused_naming_set_array_and_fix(problem):
    dom, x, xb, a = problem
    y = pl.np.array(np.ones((N, 1), np.float32), name="y_obs")
    analysis = GraphAnalysis([(a * x - y).mse, (a * xb).mse])
    with pytest.raises(ConfigurationError) as err:
        check_resampling(analysis, keys(analysis, x, xb))
    msg = str(err.value)
    assert "'interior' of line" in msg and "'y_obs'" in msg and f"({N}, 1)" in msg
    assert "keep that point set fixed" in msg and "from the variable" in msg  # the two ways out
    assert "boundary" not in msg.split("Either")[0]  # only the set with data is named


def test_data_inside_point_free_expressions_and_likelihood_operands_count(problem):
    dom, x, xb, a = problem
    y = np.ones((N, 1), np.float32)
    for term in [(a * x - 2.0 * pl.np.array(y)).mse,  # data scaled before it meets the field
                 (a * x - pl.np.array(np.ones((N, 2), np.float32))[:, 0:1]).mse,  # a column of it
                 (a * x).gaussian_nll(pl.np.array(y + 1.0)),  # per-point sigma
                 pl.np.concatenate([a * x, a * x]).categorical_nll(np.zeros(N, np.int32))]:  # labels
        analysis = GraphAnalysis([term])
        with pytest.raises(ConfigurationError, match="per-point data"):
            check_resampling(analysis, keys(analysis, x))


def test_per_point_noise_is_refused(problem):
    dom, x, xb, a = problem
    analysis = GraphAnalysis([(a * x - pl.np.sin(x) - pl.noise.gaussian(0.1)).mse])
    with pytest.raises(ConfigurationError, match=r"pl\.noise\.gaussian\(std=0\.1\)"):
        check_resampling(analysis, keys(analysis, x))


def test_what_may_be_resampled(problem):
    dom, x, xb, a = problem
    y = pl.np.array(np.ones((N, 1), np.float32))
    analysis = GraphAnalysis([(a * x - pl.np.sin(np.pi * x)).mse, (a * xb - np.ones((2, 1), np.float32)).mse])
    check_resampling(analysis, keys(analysis, x))  # data computed from the variable follows the points
    check_resampling(analysis, [])  # nothing resampled
    other = GraphAnalysis([(a * x - y).mse])
    check_resampling(other, keys(other, xb))  # data on another point set
    row = pl.np.concatenate([x, x]) - np.ones((1, 2), np.float32)  # a broadcast row is not per-point data
    broadcast = GraphAnalysis([row.mse])
    check_resampling(broadcast, keys(broadcast, x))


def test_minibatches_slice_per_point_operands_found_the_same_way(problem):
    """The same per-point search decides which constants a minibatch slices (labels, scaled data)."""
    dom, x, xb, a = problem
    labels = np.arange(N) % 2
    logits = pl.np.concatenate([a * x, -a * x])
    y = np.linspace(0, 1, N, dtype=np.float32)[:, None]
    program = Program([logits.categorical_nll(labels), (a * x - 2.0 * pl.np.array(y)).mse])
    data = program.data(jax.random.PRNGKey(0))
    batch = program.minibatch(data, jax.random.PRNGKey(1), 4)
    sliced = [k for k, v in batch["constants"].items() if v.shape[0] == 4]
    assert len(sliced) == 2  # the labels and y, each cut to the batch rows
    out = program.evaluate({k: h.get_trainable() for k, h in program.handles.items()}, batch)
    assert all(np.isfinite(np.asarray(v)).all() for v in out)
