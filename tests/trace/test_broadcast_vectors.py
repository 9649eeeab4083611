"""A parameter vector along a field's components is a weight vector, even when its length equals the points."""

import numpy as np
import pytest

import pinnlang as pl
from pinnlang.errors import ShapeError


def features():
    dom = pl.domain.line(x_range=(0.0, 1.0), mesh_size=0.25)  # 3 interior points
    x, _ = dom.variable("interior")
    return pl.np.concatenate([pl.np.sin(x), pl.np.cos(x), x])  # (3, 3): as many features as points


def test_a_parameter_vector_weights_the_features_when_its_length_equals_the_points():
    phi = features()
    w = pl.np.parameter((3,), name="w", init=[1.0, 2.0, 3.0])
    crux = pl.core([pl.np.dot(phi, w).mse])
    xs = np.asarray(crux.eval([pl.np.concatenate([pl.np.dot(phi, w), phi])]))
    np.testing.assert_allclose(xs[:, 0], xs[:, 1:] @ np.array([1.0, 2.0, 3.0]), rtol=1e-6)


def test_a_data_vector_of_that_length_is_ambiguous_and_the_error_gives_both_readings():
    with pytest.raises(ShapeError, match=r"ambiguous.*\(1, 3\).*\(3, 1\)"):
        pl.np.dot(features(), pl.np.array(np.ones(3, np.float32)))
