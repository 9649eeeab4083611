"""Start-up cost of a pinnlang script: the imports, one by one, and the interpreter's exit.

Each measurement is a fresh Python process that imports the modules before the one measured, then
times ``import <module>`` alone; the exit is the process's wall time minus its last line's time.
Reported: the best and median over ``--repeats`` processes, and the installed ``ml_dtypes`` version
(0.7.0 spent 0.6 s of every ``import jax`` registering NumPy ufunc loops; pyproject.toml excludes it).

Run: ``python benchmarks/startup.py [--repeats R]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHAIN = ("numpy", "ml_dtypes", "jax", "equinox", "optax", "blackjax", "pinnlang")
PROBE = """
import time, sys
for name in sys.argv[1:-1]:
    __import__(name)
t0 = time.perf_counter()
__import__(sys.argv[-1])
print(time.perf_counter() - t0, time.perf_counter(), flush=True)
"""


def once(before: tuple[str, ...], module: str) -> tuple[float, float]:
    """Seconds of ``import module`` after ``before``, and of the interpreter's exit afterwards."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", PROBE, *before, module], capture_output=True, text=True,
                         env=env, check=True).stdout.split()
    return float(out[0]), time.perf_counter() - float(out[1])  # perf_counter is system-wide on Linux


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    import ml_dtypes

    print(f"ml_dtypes {ml_dtypes.__version__}")
    print(f"{'import':<12} {'best (s)':>9} {'median (s)':>11}")
    exits = []
    for i, module in enumerate(CHAIN):
        runs = [once(CHAIN[:i], module) for _ in range(args.repeats)]
        times = [r[0] for r in runs]
        exits = [r[1] for r in runs]
        print(f"{module:<12} {min(times):>9.3f} {statistics.median(times):>11.3f}")
    print(f"{'exit':<12} {min(exits):>9.3f} {statistics.median(exits):>11.3f}   (after importing all of them)")


if __name__ == "__main__":
    main()
