"""Benchmark: wall time of `up`, `solve`, `grade`, `reboot` and `down` for the ip-plan lab, and
the cost of one command a check runs on a host (through the host's console).

    .venv/bin/python bench/bench_ip_plan.py [--runs N]

Runs the real command line on the real virtual lab (as root) in its own instance, and prints one
line per step with the median and the worst of N runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

INSTANCE = "bench-ipplan"


def timed(*args: str, ok=(0,)) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tspcr_lab", *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in ok:
        sys.exit(f"tspcr-lab {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed


def command_round_trip(count: int = 200) -> float:
    from tspcr_lab.context import open_context

    context = open_context("ip-plan", instance=INSTANCE)
    host = context.hosts["pc1"]
    host.run("true")
    t0 = time.perf_counter()
    for _ in range(count):
        host.run("true")
    context.hosts.close()
    return (time.perf_counter() - t0) / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    steps: dict[str, list[float]] = {k: [] for k in ("up", "solve", "grade", "reboot", "down")}
    rtt: list[float] = []
    subprocess.run([sys.executable, "-m", "tspcr_lab", "down", "ip-plan", "--instance", INSTANCE], capture_output=True)
    for i in range(runs):
        steps["up"].append(timed("up", "ip-plan", "--instance", INSTANCE, "--seed", str(i)))
        steps["solve"].append(timed("solve", "ip-plan", "--instance", INSTANCE))
        steps["grade"].append(timed("grade", "ip-plan", "--instance", INSTANCE, "--out", f"/tmp/{INSTANCE}-results"))
        steps["reboot"].append(timed("reboot", "pc1", "--instance", INSTANCE))
        rtt.append(command_round_trip())
        steps["down"].append(timed("down", "ip-plan", "--instance", INSTANCE))
    print(f"ip-plan (4 hosts, 14 checks), {runs} runs: median / worst")
    for name, values in steps.items():
        print(f"  {name:7s} {statistics.median(values):6.2f} s / {max(values):6.2f} s")
    print(f"  one command through the host's console: {statistics.median(rtt) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
