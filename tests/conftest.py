"""Shared fixtures: small domains and networks."""

import os

import jax
import pytest

os.environ.setdefault("PINNLANG_SMOKE", "1")


@pytest.fixture
def key():
    return jax.random.PRNGKey(0)
