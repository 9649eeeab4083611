"""Geometries: point counts, ranges, boundaries, sides and corners, for grids and random samplers."""

import jax
import numpy as np
import pytest

import pinnlang as pl
from stats_helpers import assert_close, seed_for

RANDOM = ["uniform", "sobol", "halton", "lhs"]


def _rows(a):
    return {tuple(r) for r in np.asarray(a).tolist()}


# -- line -------------------------------------------------------------------------------------
def test_line_grid_counts_and_ends():
    dom = pl.domain.line(x_range=(-1.0, 1.0), mesh_size=0.01)
    assert dom.num_points("interior") == 199 and dom.num_points("boundary") == 2
    assert dom.context["interior"].shape == (199, 1) and dom.context["interior"].dtype == np.float32
    assert dom.context["interior"].flags.c_contiguous
    x = dom.context["interior"][:, 0]
    assert (x > -1).all() and (x < 1).all()
    np.testing.assert_allclose(np.diff(x), 0.01, atol=1e-6)
    assert dom.context["boundary"][:, 0].tolist() == [-1.0, 1.0]
    assert dom.context["left"].tolist() == [[-1.0]] and dom.context["right"].tolist() == [[1.0]]
    assert (dom.spatial_dims, dom.has_time, dom.axis_names) == (1, False, ("x",))
    assert dom.tags == ["interior", "boundary", "left", "right"]


def test_mesh_size_not_dividing_the_range_is_adjusted():
    dom = pl.domain.line((0, 1), mesh_size=0.3)  # round(3.33) + 1 = 4 nodes, spacing 1/3
    np.testing.assert_allclose(dom.context["interior"][:, 0], [1 / 3, 2 / 3], rtol=1e-6)


@pytest.mark.parametrize("sampler", RANDOM)
def test_line_random_interior_is_open(sampler):
    dom = pl.domain.line((-1, 1), sampler=sampler, num_points=500, seed=0)
    x = dom.context["interior"][:, 0]
    assert x.shape == (500,) and (x > -1).all() and (x < 1).all()
    assert dom.context["boundary"][:, 0].tolist() == [-1.0, 1.0]
    assert dom.resampler("boundary") is None and dom.resampler("interior") is not None


# -- rect -------------------------------------------------------------------------------------
def test_rect_grid_tags_and_corners():
    dom = pl.domain.rect(x_range=(0, 1), y_range=(0, 2), mesh_size=0.25)  # 5 x 9 nodes
    assert dom.num_points("interior") == 3 * 7
    assert dom.num_points("boundary") == 5 * 9 - 3 * 7
    assert len(_rows(dom.context["boundary"])) == dom.num_points("boundary")  # each node once
    sides = {"left": (0, 0.0), "right": (0, 1.0), "bottom": (1, 0.0), "top": (1, 2.0)}
    for tag, (axis, value) in sides.items():
        pts = dom.context[tag]
        assert (pts[:, axis] == value).all()
        assert len(pts) == (9 if axis == 0 else 5)  # corners included
        assert _rows(pts) <= _rows(dom.context["boundary"])
    corners = {(0.0, 0.0), (1.0, 0.0), (0.0, 2.0), (1.0, 2.0)}
    assert corners <= _rows(dom.context["boundary"])
    assert (0.0, 0.0) in _rows(dom.context["left"]) and (0.0, 0.0) in _rows(dom.context["bottom"])
    p = dom.context["interior"]
    assert ((p[:, 0] > 0) & (p[:, 0] < 1) & (p[:, 1] > 0) & (p[:, 1] < 2)).all()
    assert dom.axis_names == ("x", "y")


@pytest.mark.parametrize("sampler", RANDOM)
def test_rect_random(sampler):
    dom = pl.domain.rect((0, 2), (-1, 1), sampler=sampler, num_points=400, seed=3, num_boundary_points=60)
    p = dom.context["interior"]
    assert p.shape == (400, 2)
    assert ((p[:, 0] > 0) & (p[:, 0] < 2) & (p[:, 1] > -1) & (p[:, 1] < 1)).all()
    assert dom.num_points("boundary") == 60
    counts = [dom.num_points(s) for s in ("left", "right", "bottom", "top")]
    assert sum(counts) == 60 and counts == [15, 15, 15, 15]  # sides of equal length 2
    assert (dom.context["left"][:, 0] == 0).all() and (dom.context["top"][:, 1] == 1).all()
    # the sides are the boundary's pieces (drawn from the same keys)
    np.testing.assert_array_equal(np.concatenate([dom.context[s] for s in ("left", "right", "bottom", "top")]),
                                  dom.context["boundary"])


def test_rect_boundary_split_follows_side_lengths():
    dom = pl.domain.rect((0, 3), (0, 1), sampler="uniform", num_points=10, seed=0, num_boundary_points=80)
    assert [dom.num_points(s) for s in ("left", "right", "bottom", "top")] == [10, 10, 30, 30]


def test_rect_default_boundary_count():
    dom = pl.domain.rect(sampler="uniform", num_points=1000, seed=0)
    assert dom.num_points("boundary") == int(np.ceil(4 * np.sqrt(1000)))


def test_random_points_reproducible_and_key_dependent():
    a = pl.domain.rect(sampler="uniform", num_points=50, key=jax.random.PRNGKey(4))
    b = pl.domain.rect(sampler="uniform", num_points=50, seed=4)
    c = pl.domain.rect(sampler="uniform", num_points=50, seed=5)
    np.testing.assert_array_equal(a.context["interior"], b.context["interior"])
    assert not np.allclose(a.context["interior"], c.context["interior"])


def test_sobol_interior_is_a_rotated_sobol_set():
    dom = pl.domain.rect(sampler="sobol", num_points=64, seed=0)
    u = dom.context["interior"].astype(np.float64)
    base = pl.domain.sobol(64, 2)
    shift = (u[0] - base[0]) % 1
    np.testing.assert_allclose(np.sort((base + shift) % 1, axis=0), np.sort(u, axis=0), atol=1e-6)


# -- box --------------------------------------------------------------------------------------
def test_box_grid():
    dom = pl.domain.box((0, 1), (0, 1), (0, 2), mesh_size=0.5)  # 3 x 3 x 5 nodes
    assert dom.num_points("interior") == 1 * 1 * 3
    assert dom.num_points("boundary") == 45 - 3
    faces = {"left": (0, 0.0), "right": (0, 1.0), "front": (1, 0.0), "back": (1, 1.0), "bottom": (2, 0.0),
             "top": (2, 2.0)}
    for tag, (axis, value) in faces.items():
        assert (dom.context[tag][:, axis] == value).all()
    assert dom.num_points("left") == 15 and dom.num_points("bottom") == 9
    assert dom.axis_names == ("x", "y", "z") and dom.context["interior"].shape[1] == 3


@pytest.mark.parametrize("sampler", ["sobol", "lhs"])
def test_box_random(sampler):
    dom = pl.domain.box(sampler=sampler, num_points=300, seed=1, num_boundary_points=60)
    p = dom.context["interior"]
    assert p.shape == (300, 3) and ((p > 0) & (p < 1)).all()
    assert dom.num_points("boundary") == 60 and all(dom.num_points(f) == 10 for f in ("front", "top"))
    assert (dom.context["back"][:, 1] == 1).all()


# -- disk -------------------------------------------------------------------------------------
def test_disk_grid():
    dom = pl.domain.disk(center=(1.0, -2.0), radius=0.5, mesh_size=0.05)
    p = dom.context["interior"].astype(np.float64)
    assert (np.hypot(p[:, 0] - 1, p[:, 1] + 2) < 0.5).all()
    b = dom.context["boundary"].astype(np.float64)
    assert len(b) == round(2 * np.pi * 0.5 / 0.05)
    np.testing.assert_allclose(np.hypot(b[:, 0] - 1, b[:, 1] + 2), 0.5, rtol=1e-6)
    # every grid node strictly inside is kept: count against the square grid directly
    g = np.linspace(-0.5, 0.5, 21)
    gx, gy = np.meshgrid(g, g)
    assert len(p) == int((np.hypot(gx, gy) < 0.5 - 1e-6).sum())
    assert dom.tags == ["interior", "boundary"]


@pytest.mark.statistical
@pytest.mark.parametrize("sampler", RANDOM)
def test_disk_random_uniform_in_area(sampler):
    """Uniform in area: P(r < 2/√2) = 1/2, so the fraction inside is Binomial(4096, ½)/4096 for i.i.d.
    draws (sd 0.0078; the quasi-random samplers are closer): within 4 sd, i.e. ±0.031 (p = 6e-5)."""
    dom = pl.domain.disk(radius=2.0, sampler=sampler, num_points=4096, seed=seed_for("disk", sampler))
    p = dom.context["interior"].astype(np.float64)
    r = np.hypot(p[:, 0], p[:, 1])
    assert (r < 2).all()
    assert_close((r < 2 / np.sqrt(2)).mean(), 0.5, np.sqrt(0.25 / len(r)), f"disk {sampler}: inner half")
    b = dom.context["boundary"].astype(np.float64)
    assert len(b) == int(np.ceil(2 * np.sqrt(np.pi * 4096)))
    np.testing.assert_allclose(np.hypot(b[:, 0], b[:, 1]), 2.0, rtol=1e-6)
