"""Benchmark: a class of 12 trainees on the ip-plan lab (48 virtual hosts).

    .venv/bin/python bench/bench_class.py [--trainees 12] [--workers N]

Builds the class (`up --class`), applies the solution to half of the trainees, grades the whole
class (`grade --class`: parallel forked workers) and takes it down,
printing the wall time of each step, the checks per second and the peak memory of the grading
(the whole process tree). Then, for the same checks on the same hosts, a naive run: one trainee
after the other, each in its own pytest process; and
the ratio of the two. Both runs must give every trainee the same score.

Targets (2 cores): the whole class graded in under 30 s and at least 5 times faster than the naive
run; `up` of 48 hosts under 30 s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def tspcr(*args: str, ok=(0,)) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tspcr_lab", *args], capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in ok:
        sys.exit(f"tspcr-lab {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout[-500:]}")
    return elapsed, proc


def peak_tree_rss(argv: list[str]) -> tuple[float, int, subprocess.CompletedProcess]:
    """Run argv; return (wall time, peak memory of it and its children, result)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not done.is_set():
            total = 0
            for p in [root, *root.children(recursive=True)]:
                try:  # proportional set size: pages shared by forked workers count once in all
                    total += p.memory_full_info().pss
                except psutil.Error:
                    pass
            peak = max(peak, total)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    elapsed = time.perf_counter() - t0
    done.set()
    sampler.join()
    return elapsed, peak, subprocess.CompletedProcess(argv, proc.returncode, out, err)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trainees", type=int, default=12)
    parser.add_argument("--workers", type=int)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tspcr-bench-class-"))
    ids = [f"b{i:02d}" for i in range(1, options.trainees + 1)]
    class_file = work / "class.toml"
    class_file.write_text("[class]\nname = \"bench\"\nseed = 4242\n" + "".join(
        f'\n[[trainees]]\nid = "{tid}"\nname = "Trainee {tid}"\n' for tid in ids))
    tspcr("down", "ip-plan", "--class", str(class_file))

    up, _ = tspcr("up", "ip-plan", "--class", str(class_file))
    t0 = time.perf_counter()
    for tid in ids[::2]:
        tspcr("solve", "ip-plan", "--instance", f"ip-plan-{tid}")
    solve = time.perf_counter() - t0

    out = work / "class-results"
    argv = [sys.executable, "-m", "tspcr_lab", "grade", "ip-plan", "--class", str(class_file), "--out", str(out),
            "--key", str(work / "exam.key")]
    if options.workers:
        argv += ["--workers", str(options.workers)]
    grade, peak, proc = peak_tree_rss(argv)
    if proc.returncode not in (0, 1):
        sys.exit(f"grade --class failed ({proc.returncode}): {proc.stderr.strip()}")
    parallel = {tid: json.loads((out / tid / "results.json").read_text()) for tid in ids}
    checks = sum(len(r["checks"]) for r in parallel.values())

    # The naive way: one trainee after the other, each in a pytest process of its own.
    t0 = time.perf_counter()
    naive = {}
    for tid in ids:
        result = work / "naive" / f"{tid}.json"
        subprocess.run([sys.executable, "-m", "pytest", "checks/ip-plan", "-p", "no:cacheprovider", "-q",
                        "--lab", "ip-plan", "--instance", f"ip-plan-{tid}", "--results", str(result)],
                       capture_output=True, cwd=ROOT)
        naive[tid] = json.loads(result.read_text())
    naive_time = time.perf_counter() - t0

    down, _ = tspcr("down", "ip-plan", "--class", str(class_file))
    same = all(parallel[t]["score"] == naive[t]["score"] and parallel[t]["complete"] for t in ids)
    hosts = 4 * len(ids)
    print(f"class of {len(ids)} trainees on ip-plan ({hosts} hosts, {checks} checks), half of them solved")
    print(f"  up --class      {up:6.2f} s   (target < 30 s)")
    print(f"  solve (x{len(ids[::2])})      {solve:6.2f} s")
    print(f"  grade --class   {grade:6.2f} s   {checks / grade:6.1f} checks/s   peak memory {peak / 2**20:.0f} MiB (PSS)"
          f"   (target < 30 s)")
    print(f"  naive grading   {naive_time:6.2f} s   {checks / naive_time:6.1f} checks/s"
          f"   (one trainee after the other, a pytest process each)")
    print(f"  speed-up        {naive_time / grade:6.1f} x   (target >= 5 x)")
    print(f"  down --class    {down:6.2f} s")
    print(f"  same scores in both runs: {'yes' if same else 'NO'}; "
          f"scores: {sorted({r['score'] for r in parallel.values()})}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
