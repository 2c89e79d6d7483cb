"""Benchmark: wall time of `up`, `solve`, `grade` and `down` for every lab (or those named).

    .venv/bin/python bench/bench_labs.py [LAB ...] [--runs N]

Runs the real command line on the real virtual lab (as root), each lab in its own instance, and
prints one line per lab with the median of N runs of each step, and the score after `solve`
(which must be the maximum).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tspcr_lab.labfile import available_labs  # noqa: E402


def timed(*args: str, ok=(0,)) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tspcr_lab", *args], capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in ok:
        sys.exit(f"tspcr-lab {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout[-400:]}")
    return elapsed


def bench(lab: str, runs: int) -> tuple[dict[str, list[float]], list[str]]:
    instance = f"bench-{lab}"[:20]
    steps: dict[str, list[float]] = {k: [] for k in ("up", "solve", "grade", "down")}
    scores = []
    subprocess.run([sys.executable, "-m", "tspcr_lab", "down", lab, "--instance", instance], capture_output=True)
    with tempfile.TemporaryDirectory(prefix="tspcr-bench-") as tmp:
        for i in range(runs):
            steps["up"].append(timed("up", lab, "--instance", instance, "--seed", str(100 + i)))
            steps["solve"].append(timed("solve", lab, "--instance", instance))
            steps["grade"].append(timed("grade", lab, "--instance", instance, "--out", f"{tmp}/{i}",
                                        "--key", f"{tmp}/exam.key"))
            results = json.loads(Path(f"{tmp}/{i}/results.json").read_text())
            scores.append(f"{results['score']:g}/{results['max_score']:g}")
            steps["down"].append(timed("down", lab, "--instance", instance))
    return steps, scores


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("labs", nargs="*")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    labs = options.labs or available_labs()
    print(f"median of {options.runs} runs (wall time, seconds)")
    print(f"  {'lab':18s} {'up':>6s} {'solve':>6s} {'grade':>6s} {'down':>6s}  score after solve")
    for lab in labs:
        steps, scores = bench(lab, options.runs)
        med = {k: statistics.median(v) for k, v in steps.items()}
        print(f"  {lab:18s} {med['up']:6.2f} {med['solve']:6.2f} {med['grade']:6.2f} {med['down']:6.2f}  "
              f"{', '.join(sorted(set(scores)))}", flush=True)


if __name__ == "__main__":
    main()
