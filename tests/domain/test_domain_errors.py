"""Every configuration error of the domain package, with its message."""

import jax
import pytest

import pinnlang as pl
from pinnlang.errors import ConfigurationError

D = pl.domain


@pytest.mark.parametrize("build, match", [
    (lambda: D.line((1.0, 0.0), mesh_size=0.1), r"x_range must satisfy low < high, got \(1.0, 0.0\)"),
    (lambda: D.line((0.0, 0.0), mesh_size=0.1), "low < high"),
    (lambda: D.rect((0, 1), (2, 1), mesh_size=0.1), "y_range must satisfy low < high"),
    (lambda: D.box(z_range=(0, float("inf")), mesh_size=0.1), "z_range must be finite"),
    (lambda: D.line("ab", mesh_size=0.1), "x_range must be a pair"),
    (lambda: D.line((0, 1), mesh_size=2.0), "mesh_size=2.0 is larger than the domain along x"),
    (lambda: D.line((0, 1), mesh_size=0.8), r"leaves no interior node along x.*mesh_size <= 0.5"),
    (lambda: D.rect((0, 1), (0, 0.1), mesh_size=0.5), "larger than the domain along y"),
    (lambda: D.line(mesh_size=-0.1), "mesh_size must be a positive number"),
    (lambda: D.line(), r"sampler='grid' needs mesh_size"),
    (lambda: D.line(sampler="random", num_points=10, seed=0), r"unknown sampler 'random'; use one of 'grid', "
                                                                 r"'uniform', 'sobol', 'halton', 'lhs'"),
    (lambda: D.line(num_points=10), r"num_points=10 was given with sampler='grid'"),
    (lambda: D.line(sampler="uniform", num_points=10), r"pass seed=<int> or key=jax.random.PRNGKey"),
    (lambda: D.line(sampler="uniform", seed=0), r"sampler='uniform' needs num_points"),
    (lambda: D.line(sampler="uniform", num_points=0, seed=0), "num_points must be a positive integer"),
    (lambda: D.line(sampler="uniform", num_points=2.5, seed=0), "num_points must be a positive integer"),
    (lambda: D.line(sampler="sobol", num_points=10, seed=0, mesh_size=0.1), "mesh_size is for sampler='grid'"),
    (lambda: D.line(sampler="lhs", num_points=10, seed=0, key=jax.random.PRNGKey(0)), "either key=... or seed"),
    (lambda: D.line(sampler="lhs", num_points=10, seed="a"), "seed must be an integer"),
    (lambda: D.line(sampler="lhs", num_points=10, key=42), "key must be a JAX PRNG key"),
    (lambda: D.rect(mesh_size=0.1, num_boundary_points=10), "num_boundary_points is for random samplers"),
    (lambda: D.rect(sampler="uniform", num_points=10, seed=0, num_boundary_points=3),
     "num_boundary_points=3 is fewer than the 4 sides"),
    (lambda: D.rect(sampler="uniform", num_points=10, seed=0, num_boundary_points=-3),
     "num_boundary_points must be a positive integer"),
    (lambda: D.disk(radius=-1.0, mesh_size=0.1), "radius must be positive, got -1.0"),
    (lambda: D.disk(radius=0, mesh_size=0.1), "radius must be positive"),
    (lambda: D.disk(center=(0,), mesh_size=0.1), "center must be a pair"),
    (lambda: D.disk(radius=1.0, mesh_size=3.0), r"larger than the disk \(diameter 2.0\)"),
    (lambda: D.time((1, 0)), "t_range must satisfy low < high"),
    (lambda: D.time((0, 1), mesh_size=2.0), "larger than the time interval"),
    (lambda: D.time((0, 1), mesh_size=0.1, sampler="uniform"), "mesh_size is for sampler='grid'"),
    (lambda: D.time((0, 1), num_points=5), "num_points is for random times"),
    (lambda: D.time((0, 1), sampler="quasi"), "unknown sampler 'quasi'"),
])
def test_constructor_errors(build, match):
    with pytest.raises(ConfigurationError, match=match):
        build()


def test_product_errors():
    grid = D.line(mesh_size=0.1)
    rnd = D.line(sampler="sobol", num_points=16, seed=0)
    with pytest.raises(ConfigurationError, match="a grid space needs a time grid"):
        D(grid, D.time((0, 1)))
    with pytest.raises(ConfigurationError, match=r"times are drawn jointly.*pl.domain.time\(t_range\) only"):
        D(rnd, D.time((0, 1), mesh_size=0.1))
    with pytest.raises(ConfigurationError, match="times are drawn jointly"):
        D(rnd, D.time((0, 1), sampler="uniform"))
    with pytest.raises(ConfigurationError, match="times are drawn jointly"):
        D(rnd, D.time((0, 1), sampler="sobol", num_points=4))
    with pytest.raises(ConfigurationError, match="need num_points=... and seed"):
        D(grid, D.time((0, 1), sampler="uniform", num_points=4))
    st = D(grid, D.time((0, 1), mesh_size=0.5))
    with pytest.raises(ConfigurationError, match="already has a time axis"):
        D(st, D.time((0, 1), mesh_size=0.5))
    with pytest.raises(ConfigurationError, match="is a data set"):
        D(D.from_array({"a": [1.0, 2.0]}), D.time((0, 1), mesh_size=0.5))
    with pytest.raises(ConfigurationError, match="time must come from pl.domain.time"):
        D(grid, (0, 1))
    with pytest.raises(ConfigurationError, match=r"constructor must be a Domain \(e.g. pl.domain.line"):
        D(constructor=D.line)
