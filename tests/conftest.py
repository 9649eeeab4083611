"""Shared fixtures: small domains and networks."""

import os

import jax
import pytest

os.environ.setdefault("PINNLANG_SMOKE", "1")


@pytest.fixture
def key():
    return jax.random.PRNGKey(0)

try:  # property-based tests: a fixed, bounded and deterministic run (the whole suite has a time budget)
    from hypothesis import HealthCheck, settings

    settings.register_profile("pinnlang", max_examples=40, deadline=None, derandomize=True, database=None,
                              print_blob=True, suppress_health_check=[HealthCheck.too_slow,
                                                                      HealthCheck.data_too_large])
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "pinnlang"))
except ImportError:  # hypothesis is a dev dependency; tests/test_properties.py skips without it
    pass
