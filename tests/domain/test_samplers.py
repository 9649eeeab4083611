"""Unit-cube samplers: Sobol and Halton against SciPy, LHS stratification, keys."""

import jax
import numpy as np
import pytest

from pinnlang.domain import samplers
from pinnlang.domain.sobol import MAX_DIM
from pinnlang.errors import ConfigurationError

qmc = pytest.importorskip("scipy.stats.qmc")


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 6, MAX_DIM])
def test_sobol_matches_scipy(d):
    ours = samplers.sobol(64, d)
    ref = qmc.Sobol(d, scramble=False).random_base2(6)
    np.testing.assert_array_equal(ours, ref)


def test_sobol_long_run_matches_scipy():
    ours = samplers.sobol(1024, 6)
    np.testing.assert_allclose(ours, qmc.Sobol(6, scramble=False).random_base2(10), rtol=0, atol=0)


def test_sobol_first_dimension_is_van_der_corput():
    x = samplers.sobol(8, 1)[:, 0]
    assert sorted(x) == [i / 8 for i in range(8)]
    assert x[:2].tolist() == [0.0, 0.5]


@pytest.mark.parametrize("d", [1, 2, 6, 10])
def test_halton_matches_scipy(d):
    np.testing.assert_allclose(samplers.halton(64, d), qmc.Halton(d, scramble=False).random(64), rtol=0, atol=1e-15)


def test_halton_skip_continues_the_sequence():
    np.testing.assert_allclose(samplers.halton(10, 3, skip=5), samplers.halton(15, 3)[5:], atol=1e-15)


@pytest.mark.parametrize("n", [7, 1000])
def test_lhs_hits_each_stratum_once_per_dimension(key, n):
    d = 4
    for u in (samplers.latin_hypercube(key, n, d), samplers.draw_unit("lhs", n, d, key, 3, xp=np)):
        u = np.asarray(u)
        assert u.shape == (n, d) and u.dtype == np.float32
        assert ((u >= 0) & (u < 1)).all()
        for j in range(d):  # exact strata: s/n <= u < (s+1)/n, checked in float64
            assert sorted(np.floor(u[:, j].astype(np.float64) * n).astype(int)) == list(range(n))


@pytest.mark.parametrize("name", ["uniform", "lhs", "sobol", "halton"])
def test_numpy_draws_are_reproducible_and_stream_dependent(name, key):
    a = samplers.draw_unit(name, 40, 2, key, 0, xp=np)
    b = samplers.draw_unit(name, 40, 2, jax.random.PRNGKey(0), 0, xp=np)
    c = samplers.draw_unit(name, 40, 2, key, 1, xp=np)
    d = samplers.draw_unit(name, 40, 2, jax.random.key(0), 0, xp=np)  # typed keys hold the same words
    assert a.dtype == np.float32 and ((a >= 0) & (a < 1)).all()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, d)
    assert not np.allclose(a, c)


def test_uniform_and_lhs_are_reproducible_and_key_dependent(key):
    for fn in (samplers.uniform, samplers.latin_hypercube):
        a, b = np.asarray(fn(key, 20, 2)), np.asarray(fn(key, 20, 2))
        c = np.asarray(fn(jax.random.PRNGKey(1), 20, 2))
        np.testing.assert_array_equal(a, b)
        assert not np.allclose(a, c)


def test_rotation_stays_in_unit_cube_and_keeps_the_net(key):
    base = samplers.sobol(64, 2)
    u = np.asarray(samplers.rotate(base, key))
    assert ((u >= 0) & (u < 1)).all()
    # the rotated set is the base set shifted by one vector, modulo 1
    shift = (u[0] - base[0]) % 1.0
    np.testing.assert_allclose((base + shift) % 1.0, u, atol=1e-6)


@pytest.mark.parametrize("name", ["uniform", "lhs", "sobol", "halton"])
def test_unit_sampler_is_jittable(name, key):
    fn = jax.jit(samplers.unit_sampler(name, 33, 3))
    u = np.asarray(fn(key))
    assert u.shape == (33, 3) and u.dtype == np.float32
    assert ((u >= 0) & (u < 1)).all()
    assert not np.allclose(u, np.asarray(fn(jax.random.PRNGKey(7))))


def test_unit_sampler_zero_dimensions(key):
    assert samplers.unit_sampler("sobol", 4, 0)(key).shape == (4, 0)


def test_sampler_errors():
    with pytest.raises(ConfigurationError, match="unknown sampler 'random'.*'uniform'"):
        samplers.unit_sampler("random", 4, 2)
    with pytest.raises(ConfigurationError, match="grid sampler has no random draws"):
        samplers.unit_sampler("grid", 4, 2)
    with pytest.raises(ConfigurationError, match="sobol supports 1 to 21 dimensions"):
        samplers.sobol(4, 22)
    with pytest.raises(ConfigurationError, match="halton supports 1 to 25"):
        samplers.halton(4, 0)
    with pytest.raises(ConfigurationError, match="n >= 0"):
        samplers.halton(-1, 2)
    with pytest.raises(ConfigurationError, match="key must be a JAX PRNG key"):
        samplers.draw_unit("uniform", 3, 1, "abc", 0, xp=np)
