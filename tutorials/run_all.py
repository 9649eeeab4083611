"""Run every numbered tutorial in order; regenerates ``tutorial_results.txt`` (not in smoke mode)."""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(p for p in HERE.glob("[0-9][0-9]_*.py"))
    results = HERE.parent / "tutorial_results.txt"
    if os.environ.get("PINNLANG_SMOKE") != "1" and "PINNLANG_RESULTS" not in os.environ:
        results.write_text("")
    failed = []
    for s in scripts:
        print(f"== {s.name}", flush=True)
        if subprocess.run([sys.executable, str(s)], cwd=HERE).returncode != 0:
            failed.append(s.name)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
