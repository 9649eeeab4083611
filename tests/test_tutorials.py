"""Every tutorial runs in smoke mode and appends its result line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stats_helpers import assert_at_least, assert_at_most, rhat_bound

TUTORIALS = sorted((Path(__file__).resolve().parent.parent / "tutorials").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_smoke(script, tmp_path):
    results = tmp_path / "results.txt"
    env = {**os.environ, "PINNLANG_SMOKE": "1", "PINNLANG_RESULTS": str(results), "PINNLANG_FIGURES": str(tmp_path),
           "CI": "1"}
    proc = subprocess.run([sys.executable, str(script)], cwd=script.parent, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    if proc.stdout.startswith("SKIPPED: "):  # an optional extra is missing (tutorial 17: pinnlang[mnist])
        pytest.skip(proc.stdout.strip())
    lines = results.read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tutorials/{script.name} | ")
    figure = (tmp_path / script.name).with_suffix(".png")  # written through pl.plot
    assert figure.read_bytes().startswith(b"\x89PNG") and figure.stat().st_size > 5000


def run_full(prefix: str, tmp_path) -> dict:
    """Run one tutorial in full mode (its own assertions are its quality bar); return its recorded fields."""
    script = next(p for p in TUTORIALS if p.name.startswith(prefix))
    results = tmp_path / "results.txt"
    env = {k: v for k, v in os.environ.items() if k != "PINNLANG_SMOKE"}
    env.update(PINNLANG_RESULTS=str(results), PINNLANG_FIGURES=str(tmp_path), CI="1")
    proc = subprocess.run([sys.executable, str(script)], cwd=script.parent, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(kv.split("=") for kv in results.read_text().strip().split(" | ")[1:])


def test_inverse_tutorial_recovers_parameters_within_2_percent(tmp_path):
    """Tutorial 02 (a few seconds): two coefficients from 1 %-noisy data.

    Deterministic: fixed data (the tutorial's seed) and a deterministic optimiser; the errors are
    0.13 % and 0.29 % (tutorial_results.txt), so the 2 % bound leaves room for rounding differences
    between CPUs to move the trained point.
    """
    fields = run_full("02_", tmp_path)
    assert float(fields["rel_err_kappa"]) < 0.02 and float(fields["rel_err_k"]) < 0.02


def test_bayesian_inverse_tutorial_intervals_cover_truth_with_converged_chains(tmp_path):
    """Tutorial 05 (about 10 s): NUTS, 4 chains x 1000, (A, B) 90 % intervals contain the truth, chains mixed.

    The tutorial fixes its seed, so its data are fixed, and the assertions are on a Monte Carlo run of
    that one data set (whose trajectory differs from CPU to CPU). Measured over 8 Monte Carlo seeds on
    the tutorial's data (docs/testing.md): the truth sits at +0.17 and -1.16 posterior sd, the 5 %
    quantile of B at -1.60 to -1.81 sd, so coverage holds with a margin of at least 0.44 sd, about 7
    standard errors of a 5 % quantile at ESS 1200 (0.062 sd). Bulk ESS was 1176-2003: the floor is 600,
    and R-hat is asserted below ``rhat_bound(4, 1000, 600)`` ≈ 1.030 (p = 1e-4). The tutorial's own
    ``check(R-hat < 1.01)`` (tutorials/05, not a test) needs an ESS of about 1700 at that level and fails
    with probability up to ~4e-3 per run on another CPU (at its lowest observed ESS, 1176).
    """
    f = run_full("05_", tmp_path)
    assert float(f["A_lo"]) <= 3.14 <= float(f["A_hi"]) and float(f["B_lo"]) <= -2.71 <= float(f["B_hi"])
    assert int(f["divergent"]) == 0
    assert_at_least(float(f["ess_bulk_min"]), 600, "tutorial 05: bulk ESS")
    assert_at_most(float(f["rhat_max"]), rhat_bound(4, 1000, 600), "tutorial 05: R-hat", baseline=1.0)
