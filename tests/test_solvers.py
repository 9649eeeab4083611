"""Every solver script runs in smoke mode and prints its error line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOLVERS = sorted(p for p in (ROOT / "solvers").glob("*.py") if p.name not in ("__init__.py", "common.py"))


@pytest.mark.parametrize("script", SOLVERS, ids=lambda p: p.name)
def test_solver_smoke(script, tmp_path):
    env = {**os.environ, "PINNLANG_SMOKE": "1", "CI": "1"}
    figure = tmp_path / "figure.png"
    proc = subprocess.run([sys.executable, str(script), "--smoke", "--plot", str(figure)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "relative L2 error" in proc.stdout or "posterior" in proc.stdout, proc.stdout[-2000:]
    assert figure.read_bytes().startswith(b"\x89PNG") and figure.stat().st_size > 5000  # written through pl.plot
