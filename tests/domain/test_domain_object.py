"""The Domain object: tags, context, predicate tags, resamplers, data sets, ``pl.domain(...)``."""

import jax
import numpy as np
import pytest

import pinnlang as pl
from pinnlang.errors import ShapeError, TagError


def test_pl_domain_is_module_and_callable():
    line = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.1)
    assert pl.domain(constructor=line) is line
    assert pl.domain(line, time=None) is line
    assert isinstance(line, pl.domain.Domain)
    for name in ("line", "rect", "box", "disk", "time", "from_array", "sobol", "halton", "uniform",
                 "latin_hypercube"):
        assert callable(getattr(pl.domain, name))


def test_uids_are_unique_and_names_readable():
    a, b = pl.domain.line(mesh_size=0.1), pl.domain.line(mesh_size=0.1)
    assert a.uid != b.uid
    assert a.name == "line[0, 1]"
    assert pl.domain.rect((0, 1), (0, 2), mesh_size=0.5).name == "rect[0, 1]x[0, 2]"


def test_repr_lists_tags_and_counts():
    text = repr(pl.domain.rect(sampler="uniform", num_points=10, seed=0, num_boundary_points=8))
    assert "rect[0, 1]x[0, 1]" in text and "uniform" in text
    assert "interior" in text and "10 points" in text and "resampled" in text
    assert "left" in text and "2 points" in text


def test_unknown_tag_error_lists_tags_and_how_to_define():
    dom = pl.domain.line(mesh_size=0.1)
    with pytest.raises(TagError, match=r"no tag 'inlet'.*\['interior', 'boundary', 'left', 'right'\].*dom.tag"):
        dom.variable("inlet")
    with pytest.raises(TagError, match="no tag 'inlet'"):
        dom.num_points("inlet")
    with pytest.raises(TagError, match="no tag 'inlet'"):
        dom.resampler("inlet")


def test_variable_returns_coordinates_then_time():
    pytest.importorskip("pinnlang.trace.variables")
    x, t = pl.domain.line(mesh_size=0.1).variable("interior")
    assert t is None and x is not None
    xs = pl.domain.box(mesh_size=0.5).variable("boundary")
    assert len(xs) == 4 and xs[-1] is None


def test_predicate_tag_selects_points():
    dom = pl.domain.rect(mesh_size=0.1)
    out = dom.tag("inlet", lambda p: p[:, 1] < 0.5, of="left")
    assert out is dom
    pts = dom.context["inlet"]
    assert (pts[:, 0] == 0).all() and (pts[:, 1] < 0.5).all()
    assert len(pts) == int((dom.context["left"][:, 1] < 0.5).sum())
    assert dom.tags[-1] == "inlet" and dom.resampler("inlet") is None
    dom.tag("column", lambda p: (np.abs(p[:, 0] - 0.5) < 1e-6)[:, None])  # (n, 1) masks are fine too
    assert dom.num_points("column") == 9


def test_predicate_tag_errors():
    dom = pl.domain.line(mesh_size=0.1)
    with pytest.raises(TagError, match="selects none of the 9 points of 'interior'"):
        dom.tag("empty", lambda p: p[:, 0] > 5)
    with pytest.raises(ShapeError, match=r"returned shape \(3,\).*\(9,\)"):
        dom.tag("bad", lambda p: np.ones(3, bool))
    with pytest.raises(ShapeError, match="return a boolean mask"):
        dom.tag("bad", lambda p: p[:, 0])
    with pytest.raises(TagError, match="already has a tag 'left'"):
        dom.tag("left", lambda p: p[:, 0] > 0)
    with pytest.raises(TagError, match="no tag 'nowhere'"):
        dom.tag("x", lambda p: p[:, 0] > 0, of="nowhere")


def test_context_assignment_converts_and_checks():
    dom = pl.domain.rect(mesh_size=0.5)
    dom.context["probe"] = [[0.25, 0.75], [0.5, 0.5]]
    assert dom.context["probe"].dtype == np.float32 and dom.context["probe"].shape == (2, 2)
    assert "probe" in dom.tags and isinstance(dom.context, dict)
    dom.context.update(probe2=[[0.1, 0.2]])
    assert dom.context["probe2"].dtype == np.float32
    with pytest.raises(ShapeError, match="3 columns but the domain has 2"):
        dom.context["bad"] = np.zeros((4, 3))
    with pytest.raises(ShapeError, match="empty"):
        dom.context["bad"] = np.zeros((0, 2))


@pytest.mark.parametrize("sampler", ["uniform", "sobol", "halton", "lhs"])
def test_resampler_is_pure_jittable_and_fresh(sampler):
    dom = pl.domain.rect((0, 2), (0, 1), sampler=sampler, num_points=64, seed=0)
    tags = ("interior", "boundary", "top")
    fn = jax.jit(lambda key: {tag: dom.resampler(tag)(key) for tag in tags})  # one compilation
    k1, k2 = jax.random.PRNGKey(1), jax.random.PRNGKey(2)
    a, b, c = fn(k1), fn(k1), fn(k2)
    for tag in tags:
        assert a[tag].shape == dom.context[tag].shape and a[tag].dtype == np.float32
        np.testing.assert_array_equal(np.asarray(a[tag]), np.asarray(b[tag]))
        assert not np.allclose(np.asarray(a[tag]), np.asarray(c[tag]))
        p = np.asarray(a[tag])
        assert (p[:, 0] >= 0).all() and (p[:, 0] <= 2).all() and (p[:, 1] >= 0).all() and (p[:, 1] <= 1).all()
    inner = np.asarray(a["interior"])
    assert (inner > 0).all() and (inner[:, 0] < 2).all() and (inner[:, 1] < 1).all()
    np.testing.assert_array_equal(np.asarray(a["top"])[:, 1], 1.0)


def test_resampler_inside_scan():
    dom = pl.domain.disk(sampler="uniform", num_points=32, seed=0)
    fn = dom.resampler("interior")

    def step(carry, key):
        pts = fn(key)
        return carry + pts.sum(), pts

    _, pts = jax.lax.scan(step, 0.0, jax.random.split(jax.random.PRNGKey(0), 5))
    assert pts.shape == (5, 32, 2)
    assert (np.hypot(pts[..., 0], pts[..., 1]) < 1).all()


def test_no_resampler_for_grid_data_or_replaced_tags():
    assert pl.domain.line(mesh_size=0.1).resampler("interior") is None
    assert pl.domain.from_array({"a": np.ones(3)}).resampler("a") is None
    dom = pl.domain.line(sampler="uniform", num_points=10, seed=0)
    assert dom.resampler("interior") is not None
    dom.context["interior"] = np.linspace(0.1, 0.9, 5)
    assert dom.resampler("interior") is None


def test_from_array():
    x = np.linspace(0, 1, 7)
    dom = pl.domain.from_array({"train": x, "test": x.reshape(-1, 1)[:3]})
    assert dom.context["train"].shape == (7, 1) and dom.context["test"].shape == (3, 1)
    assert dom.context["train"].dtype == np.float32
    assert (dom.spatial_dims, dom.has_time, dom.axis_names) == (1, False, ("x",))
    wide = pl.domain.from_array({"obs": np.zeros((4, 5), np.float64)})
    assert wide.axis_names == ("x", "y", "z", "x3", "x4") and wide.spatial_dims == 5


def test_from_array_errors():
    with pytest.raises(ShapeError, match="same number of columns"):
        pl.domain.from_array({"a": np.zeros((3, 2)), "b": np.zeros((3, 1))})
    with pytest.raises(ShapeError, match=r"\(n,\) or \(n, d\)"):
        pl.domain.from_array({"a": np.zeros((3, 2, 1))})
    with pytest.raises(pl.errors.ConfigurationError, match="non-empty dict"):
        pl.domain.from_array({})
