"""Issue 7, domain side: non-finite points (item 8), ``variable`` as a NamedTuple (10), per-axis mesh_size (11)."""

import numpy as np
import pytest

import pinnlang as pl
from pinnlang.errors import ConfigurationError, DataError, ShapeError
from pinnlang.trace.variables import variables_type

# -- 8. NaN / inf points ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_points_are_named_by_tag(bad):
    pts = np.linspace(0, 1, 5)
    pts[3] = bad
    with pytest.raises(DataError, match=r"tag 'sensors' contains 1 (NaN|inf).*index \(3, 0\).*np.isfinite"):
        pl.domain.from_array({"sensors": pts})
    dom = pl.domain.line(mesh_size=0.25)
    with pytest.raises(DataError, match="tag 'extra'"):
        dom.context["extra"] = pts[:, None]


def test_points_that_are_not_numbers():
    with pytest.raises(ShapeError, match="array of numbers"):
        pl.domain.from_array({"a": ["x", "y"]})


# -- 10. variable() returns a NamedTuple ----------------------------------------------------------------------------

def test_variables_unpack_as_before_and_have_names():
    line = pl.domain.line(mesh_size=0.25)
    v = line.variable("interior")
    x, t = v
    assert t is None and v.x is x and v.t is None and v.time is None and v.spatial == (x,)
    assert type(v).__name__ == "Variables" and v._fields == ("x", "t") and isinstance(v, tuple)
    x, y, z, t = pl.domain.box(mesh_size=0.5).variable("interior")
    assert (x.name, y.name, z.name, t) == ("x", "y", "z", None)
    st = pl.domain(constructor=pl.domain.rect(mesh_size=0.5), time=pl.domain.time((0, 1), mesh_size=0.5))
    v = st.variable("interior")
    assert v._fields == ("x", "y", "t") and v.t.is_time and v.time is v.t and len(v.spatial) == 2
    data = pl.domain.from_array({"p": np.zeros((3, 4), np.float32)})
    assert data.variable("p")._fields == ("x", "y", "z", "x3", "t")


def test_one_class_per_axis_layout():
    a = pl.domain.rect(mesh_size=0.5).variable("interior")
    b = pl.domain.rect(mesh_size=0.25).variable("boundary")
    assert type(a) is type(b) is variables_type(("x", "y"))


# -- 11. per-axis mesh_size -----------------------------------------------------------------------------------------

def test_rect_with_one_spacing_per_axis():
    dom = pl.domain.rect(x_range=(0, 1), y_range=(0, 10), mesh_size=(0.1, 1.0))
    xs, ys = (np.unique(dom.context["boundary"][:, j]) for j in (0, 1))
    assert len(xs) == 11 and len(ys) == 11  # 10 cells along each axis
    np.testing.assert_allclose(np.diff(xs), 0.1, rtol=1e-5)
    np.testing.assert_allclose(np.diff(ys), 1.0, rtol=1e-5)
    assert dom.num_points("interior") == 81
    same = pl.domain.rect(x_range=(0, 1), y_range=(0, 1), mesh_size=[0.25, 0.25])
    np.testing.assert_array_equal(same.context["interior"],
                                  pl.domain.rect(x_range=(0, 1), y_range=(0, 1), mesh_size=0.25).context["interior"])


def test_box_per_axis_and_in_space_time():
    dom = pl.domain.box(mesh_size=(0.5, 0.25, 0.5))
    assert dom.num_points("interior") == 1 * 3 * 1
    st = pl.domain(constructor=pl.domain.rect(mesh_size=(0.5, 0.25)), time=pl.domain.time((0, 1), mesh_size=0.5))
    assert st.num_points("interior") == 1 * 3 * 2


@pytest.mark.parametrize("build,match", [
    (lambda: pl.domain.rect(mesh_size=(0.1, 0.1, 0.1)), r"3 spacing\(s\) but the domain has 2"),
    (lambda: pl.domain.line(mesh_size=(0.1, 0.2)), r"2 spacing\(s\) but the domain has 1"),
    (lambda: pl.domain.rect(mesh_size=(0.1, -1.0)), "positive number"),
    (lambda: pl.domain.rect(mesh_size=True), "positive number"),
    (lambda: pl.domain.rect(mesh_size=()), "no spacing"),
    (lambda: pl.domain.rect(mesh_size=(0.1, 2.0)), "larger than the domain along y"),
    (lambda: pl.domain.disk(mesh_size=(0.1, 0.2)), "square"),
    (lambda: pl.domain.time((0, 1), mesh_size=(0.1, 0.1)), "one mesh_size"),
])
def test_bad_per_axis_mesh_sizes(build, match):
    with pytest.raises(ConfigurationError, match=match):
        build()


def test_integers_in_domain_constructors():
    assert pl.domain.line(num_points=np.int64(8), sampler="uniform", seed=np.int32(1)).num_points("interior") == 8
    with pytest.raises(ConfigurationError, match="positive integer"):
        pl.domain.line(num_points=True, sampler="uniform", seed=0)
    with pytest.raises(ConfigurationError, match="seed must be an integer"):
        pl.domain.line(num_points=8, sampler="uniform", seed=True)
