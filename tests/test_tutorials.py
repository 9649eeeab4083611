"""Every tutorial runs in smoke mode and appends its result line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS = sorted((Path(__file__).resolve().parent.parent / "tutorials").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_smoke(script, tmp_path):
    results = tmp_path / "results.txt"
    env = {**os.environ, "PINNLANG_SMOKE": "1", "PINNLANG_RESULTS": str(results), "CI": "1"}
    proc = subprocess.run([sys.executable, str(script)], cwd=script.parent, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = results.read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tutorials/{script.name} | ")


def test_inverse_tutorial_recovers_parameters_within_2_percent(tmp_path):
    """Full run of tutorial 02 (a few seconds): its own assertion checks the 2 % bar on 1 %-noisy data."""
    script = next(p for p in TUTORIALS if p.name.startswith("02_"))
    results = tmp_path / "results.txt"
    env = {k: v for k, v in os.environ.items() if k != "PINNLANG_SMOKE"}
    env.update(PINNLANG_RESULTS=str(results), CI="1")
    proc = subprocess.run([sys.executable, str(script)], cwd=script.parent, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    fields = dict(kv.split("=") for kv in results.read_text().strip().split(" | ")[1:])
    assert float(fields["rel_err_kappa"]) < 0.02 and float(fields["rel_err_k"]) < 0.02
