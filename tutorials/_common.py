"""Helpers shared by the tutorials: smoke mode and the results file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SMOKE = os.environ.get("PINNLANG_SMOKE") == "1"


def epochs(full: int, smoke: int = 30) -> int:
    """``full`` normally, ``smoke`` when ``PINNLANG_SMOKE=1`` (CI runs every tutorial that way)."""
    return smoke if SMOKE else full


def record(script: str, **values) -> str:
    """Append ``script | key=value | ...`` to the results file and return the line.

    The file is ``tutorial_results.txt`` at the repository root, or ``$PINNLANG_RESULTS``.
    """
    parts = [f"tutorials/{Path(script).name}"]
    for k, v in values.items():
        parts.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}")
    if SMOKE:
        parts.append("mode=smoke")
    line = " | ".join(parts)
    path = Path(os.environ.get("PINNLANG_RESULTS", ROOT / "tutorial_results.txt"))
    with open(path, "a") as f:
        f.write(line + "\n")
    print(line)
    return line


def figure_path(script: str) -> Path:
    """Where the tutorial writes its figure: ``docs/figures/<name>.png`` (the documentation shows it).

    Smoke runs write to ``outputs/smoke/`` instead (so they never replace the documented figures), and
    ``$PINNLANG_FIGURES`` overrides both.
    """
    name = Path(script).stem + ".png"
    if os.environ.get("PINNLANG_FIGURES"):
        return Path(os.environ["PINNLANG_FIGURES"]) / name
    return ROOT / ("outputs/smoke" if SMOKE else "docs/figures") / name


def sine_observations(n: int = 32, sigma: float = 0.05, seed: int = 0):
    """``(x, y)``, each ``(n, 1)`` float32: ``n`` evenly spaced points of [-1, 1] and sin(πx) plus N(0, σ²) noise
    (the masked-head problem of tutorials 09–11)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = np.linspace(-1.0, 1.0, n).astype(np.float32).reshape(-1, 1)
    return x, (np.sin(np.pi * x) + sigma * rng.normal(size=x.shape)).astype(np.float32)


def check(condition: bool, message: str):
    """The tutorial's quality bar; skipped in smoke mode (too few steps to mean anything)."""
    if not SMOKE and not condition:
        raise AssertionError(message)
