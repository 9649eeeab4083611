"""A spec script run several times in one process: the second and later runs build the same problem again.

Their programs must be the same as the first run's (pytree keys are ordinals within the problem, not
process-unique ids), so they load from the persistent compilation cache instead of compiling. Reported
per run: the wall time of the whole script (set-up, ``solve(2300)``, eval, metrics), its ``solve_s``
and the persistent-cache hits and misses. The cache is a fresh temporary folder, so run 1 compiles
everything (cold) and later runs show what a rebuild in the same process costs.

Run: ``python benchmarks/rebuild.py [--script t14_pattern_b.py] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import runpy
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("CI", "1")  # no progress bar
os.environ["PINNLANG_CACHE_DIR"] = tempfile.mkdtemp(prefix="pinnlang-rebuild-cache-")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--script", default="t14_pattern_b.py", help="a script of benchmarks/spec/")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    import pinnlang  # noqa: F401  (turns the persistent cache on, at the folder above)
    from jax._src import monitoring

    events = []
    monitoring.register_event_listener(lambda name, **kw: events.append(name))
    for i in range(args.runs):
        events.clear()
        out = io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(out):
            runpy.run_path(str(HERE / "spec" / args.script), run_name="__main__")
        wall = time.perf_counter() - t0
        solve = float(re.search(r"solve_s=([0-9.]+)", out.getvalue()).group(1))
        hits = events.count("/jax/compilation_cache/cache_hits")
        misses = events.count("/jax/compilation_cache/cache_misses")
        print(f"run {i + 1}: script {wall:.2f} s, solve {solve:.2f} s, persistent cache {hits} hits / {misses} misses")


if __name__ == "__main__":
    main()
