"""Shared fixtures: small domains and networks; the base seed of the statistical tests."""

import os
import sys
from pathlib import Path

import jax
import pytest

os.environ.setdefault("PINNLANG_SMOKE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/stats_helpers.py for every test module

import stats_helpers  # noqa: E402


@pytest.fixture
def key():
    """A fixed key, for tests whose assertions hold exactly for every key (shapes, bounds, equalities)."""
    return jax.random.PRNGKey(0)


try:  # property-based tests: a fixed, bounded and deterministic run (the whole suite has a time budget)
    from hypothesis import HealthCheck, settings

    settings.register_profile("pinnlang", max_examples=40, deadline=None, derandomize=True, database=None,
                              print_blob=True, suppress_health_check=[HealthCheck.too_slow,
                                                                      HealthCheck.data_too_large])
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "pinnlang"))
except ImportError:  # hypothesis is a dev dependency; tests/test_properties.py skips without it
    pass


@pytest.fixture
def base_seed():
    """The base seed ``$PINNLANG_TEST_SEED`` (default 0); statistical tests derive theirs with ``seed_for``."""
    return stats_helpers.BASE_SEED


def pytest_report_header(config):
    return f"statistical tests: {stats_helpers.ENV_SEED}={stats_helpers.BASE_SEED} (docs/testing.md)"
