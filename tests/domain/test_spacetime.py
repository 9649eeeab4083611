"""Space-time products: tags, counts, the initial slice, time in the last column."""

import jax
import numpy as np
import pytest

import pinnlang as pl


def _rows(a):
    return {tuple(r) for r in np.asarray(a).tolist()}


def test_grid_times_grid():
    space = pl.domain.line((-1, 1), mesh_size=0.02)
    st = pl.domain(constructor=space, time=pl.domain.time((0.0, 1.0), mesh_size=0.02))
    assert (st.spatial_dims, st.has_time, st.axis_names) == (1, True, ("x", "t"))
    assert st.tags == ["interior", "boundary", "left", "right", "initial"]
    assert st.num_points("interior") == 99 * 50 and st.num_points("boundary") == 2 * 50
    t = st.context["interior"][:, 1]
    assert (t > 0).all() and t.max() == 1.0
    np.testing.assert_allclose(np.unique(t), np.linspace(0, 1, 51)[1:], rtol=1e-6)
    # time-major: the first rows are the spatial interior at the first time step
    np.testing.assert_array_equal(st.context["interior"][:99, 0], space.context["interior"][:, 0])
    init = st.context["initial"]
    assert (init[:, 1] == 0).all() and len(init) == 101
    assert set(init[:, 0].tolist()) == set(np.concatenate([space.context["interior"],
                                                              space.context["boundary"]])[:, 0].tolist())
    assert (st.context["left"][:, 0] == -1).all() and (st.context["left"][:, 1] > 0).all()
    assert st.resampler("interior") is None and st.name == "line[-1, 1] x time[0, 1]"


def test_grid_rect_times_grid_tags():
    st = pl.domain(pl.domain.rect(mesh_size=0.25), pl.domain.time((0.0, 2.0), mesh_size=0.5))
    assert st.axis_names == ("x", "y", "t") and st.context["interior"].shape == (9 * 4, 3)
    assert st.num_points("top") == 5 * 4 and st.num_points("initial") == 25
    assert _rows(st.context["left"]) <= _rows(st.context["boundary"])
    assert (st.context["top"][:, 1] == 1).all()


@pytest.mark.parametrize("sampler", ["uniform", "sobol", "halton", "lhs"])
def test_random_space_times_time_range(sampler):
    space = pl.domain.rect(sampler=sampler, num_points=256, seed=0)
    st = pl.domain(space, pl.domain.time((1.0, 3.0)))
    p = st.context["interior"]
    assert p.shape == (256, 3)
    assert ((p[:, :2] > 0) & (p[:, :2] < 1)).all() and (p[:, 2] > 1).all() and (p[:, 2] <= 3).all()
    # default boundary budget: the interior spacing in space-time, shared by the four sides
    nb = int(np.ceil(4 * 2 * (256 / 2) ** (2 / 3)))
    assert st.num_points("boundary") == nb
    assert sum(st.num_points(s) for s in ("left", "right", "bottom", "top")) == nb
    assert (st.context["right"][:, 0] == 1).all() and (st.context["right"][:, 2] > 1).all()
    init = st.context["initial"]
    assert (init[:, 2] == 1).all() and len(init) == 256 + space.num_points("boundary")
    for tag in st.tags:  # traceable, right shape (values are checked in test_domain_object)
        fn = st.resampler(tag)
        assert fn is not None and jax.eval_shape(fn, jax.random.PRNGKey(5)).shape == st.context[tag].shape


def test_random_time_is_stratified_jointly_with_lhs():
    st = pl.domain(pl.domain.line(sampler="lhs", num_points=40, seed=2), pl.domain.time((0.0, 1.0)))
    t = st.context["interior"][:, 1].astype(np.float64)
    # (0, 1] is mapped from [0, 1) by t = 1 - u: one time per stratum
    assert sorted(np.floor((1 - t) * 40 + 1e-6).astype(int)) == list(range(40))


def test_random_line_times_time_counts():
    st = pl.domain(pl.domain.line(sampler="uniform", num_points=100, seed=1, num_boundary_points=30),
                   pl.domain.time((0.0, 1.0), sampler="uniform"))
    assert st.num_points("left") == 15 and st.num_points("boundary") == 30
    assert st.num_points("initial") == 102
    assert len(np.unique(st.context["left"][:, 1])) == 15


def test_grid_space_times_random_times():
    space = pl.domain.line(mesh_size=0.25)
    st = pl.domain(space, pl.domain.time((0.0, 1.0), sampler="sobol", num_points=8, seed=0))
    assert st.num_points("interior") == 3 * 8 and st.num_points("initial") == 5
    t = st.context["interior"][:, 1]
    assert len(np.unique(t)) == 8 and (t > 0).all() and (t <= 1).all()
    assert set(np.unique(st.context["boundary"][:, 1])) == set(np.unique(t))  # one time grid for all tags
    fn = st.resampler("interior")
    assert fn is not None and jax.jit(fn)(jax.random.PRNGKey(0)).shape == (24, 2)
    assert st.resampler("initial") is None
    assert st.tags == ["interior", "boundary", "left", "right", "initial"]


def test_disk_times_grid():
    st = pl.domain(pl.domain.disk(mesh_size=0.25), pl.domain.time((0, 1), mesh_size=0.5))
    space = pl.domain.disk(mesh_size=0.25)
    assert st.num_points("interior") == 2 * space.num_points("interior")
    assert st.tags == ["interior", "boundary", "initial"]


def test_user_tags_are_not_carried_but_can_be_defined_on_the_product():
    space = pl.domain.line(mesh_size=0.1).tag("half", lambda p: p[:, 0] < 0.5)
    st = pl.domain(space, pl.domain.time((0, 1), mesh_size=0.5))
    assert "half" not in st.tags
    st.tag("late", lambda p: p[:, 1] > 0.75)
    assert (st.context["late"][:, 1] == 1).all()
