"""Worst margins of the statistical checks over the seeds logged in ``$PINNLANG_STATS_LOG``.

Usage: ``python tests/stats_report.py LOG.jsonl [TOP]`` (``make test-seeds`` writes ``outputs/stats_seeds.jsonl``).
A margin is observed statistic / tolerance: every check passes with margin < 1; the table lists, per check,
the worst margin over all seeds and the seed that gave it (a check logged twice under one seed counts
with its last value).
"""

import json
import sys
from collections import defaultdict


def main(path: str, top: int | None = None) -> None:
    latest = {}  # a check rerun under the same seed counts once, with its last value
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            latest[(r["test"], r["check"], r["seed"])] = r
    worst = {}
    seeds = defaultdict(set)
    for (test, check, seed), r in latest.items():
        key = (test, check)
        seeds[key].add(seed)
        if key not in worst or r["ratio"] > worst[key]["ratio"]:
            worst[key] = r
    print(f"{'worst':>6}  {'seeds':>5}  {'at':>4}  check")
    for (test, check), r in sorted(worst.items(), key=lambda kv: -kv[1]["ratio"])[:top]:
        short = test.split("::", 1)[-1]
        print(f"{r['ratio']:6.3f}  {len(seeds[(test, check)]):5d}  {r['seed']:4d}  {short} | {check}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None)
