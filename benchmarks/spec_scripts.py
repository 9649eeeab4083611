"""End-to-end time of the specification's tutorials 10 and 14, ported to pinnlang (``benchmarks/spec/``).

Each script runs in a fresh Python process (imports, problem set-up, ``solve(2300)`` with its
compilation, evaluation and metrics), as a user runs it. Reported: the best and median over
``--repeats`` runs of the whole process and of the solve alone (printed by the script). The reference
times are jNO's on this machine, from the issue: 3.1 s (T10) and 2.5 s (T14) for ``solve(2300)``
including compilation, 6.4 s and 4.6 s for the whole scripts; the target is at least 2x faster.
Two rows per script: *cold* (an empty persistent compilation cache: a first run) and *warm* (a rerun,
the usual edit-and-rerun case; pinnlang keeps JAX's persistent compilation cache on by default).

Run: ``python benchmarks/spec_scripts.py [--repeats R]``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
JNO = {"t10_masked_head.py": (3.1, 6.4), "t14_pattern_b.py": (2.5, 4.6)}


def run(script: Path, cold: bool) -> tuple[float, float]:
    env = {**os.environ, "CI": "1", "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    if cold:  # an empty compilation cache: every program is compiled, as on a first run
        env["PINNLANG_CACHE_DIR"] = tempfile.mkdtemp(prefix="pinnlang-cold-cache-")
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, check=True).stdout
    whole = time.perf_counter() - t0
    return float(re.search(r"solve_s=([0-9.]+)", out).group(1)), whole


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    print(f"{'script':<29} {'solve best/median (s)':>22} {'jNO':>6} {'whole best/median (s)':>22} {'jNO':>6}")
    for name, (jno_solve, jno_whole) in JNO.items():
        run(HERE / "spec" / name, cold=False)  # fills the default cache for the warm rows
        for cold in (True, False):
            times = [run(HERE / "spec" / name, cold) for _ in range(args.repeats)]
            solves, wholes = [t[0] for t in times], [t[1] for t in times]
            label = f"{name} ({'cold' if cold else 'warm'})"
            print(f"{label:<29} {f'{min(solves):.2f} / {statistics.median(solves):.2f}':>22} {jno_solve:>6.1f} "
                  f"{f'{min(wholes):.2f} / {statistics.median(wholes):.2f}':>22} {jno_whole:>6.1f}")


if __name__ == "__main__":
    main()
