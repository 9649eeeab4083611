"""The documentation site builds with ``mkdocs build --strict`` (API pages from docstrings, every tutorial
page with its figure and result line). Skipped where mkdocs is not installed (`pip install -e .[docs]`)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.docs
def test_mkdocs_builds_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    pytest.importorskip("material")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    tutorial = (tmp_path / "site" / "tutorials" / "05_bayesian_inverse_nuts" / "index.html").read_text()
    assert "tutorials/05_bayesian_inverse_nuts.py | warmup=" in tutorial  # the result line, from the results file
    assert (tmp_path / "site" / "figures" / "05_bayesian_inverse_nuts.png").stat().st_size > 5000
    api = (tmp_path / "site" / "api" / "io" / "index.html").read_text()
    assert "to_arviz" in api and "Export the posterior draws" in api  # rendered from the docstring
