"""Benchmark: the proxy lab (squid on a gateway, nginx on a lab internet host, two PCs), one trainee.

    .venv/bin/python bench/bench_proxy.py [--json]

Runs the real command line on the real virtual lab (as root), with a fixed seed:

1. wall time of ``up`` (with its split: built, provisioned), a ``grade`` of the untouched lab
   (direct web attempts that succeed, a proxy that refuses), ``solve``, ``grade`` of the solved lab
   twice (the second is the figure the 5 s target is about), ``reboot`` of gw then a ``grade``,
   and ``down``; the scores (the solved ones must be the maximum);
2. the slowest checks of the solved grade: the time of the commands and probes in each check's
   evidence (curl as the users, SYN probes that wait for no answer, the log wait);
3. the memory of gw (squid), of web (nginx) and of a PC, as bench_vlans.py measures it.

Targets (2 cores): ``up`` under 10 s and ``grade`` under 5 s for one trainee.
Everything this run builds is taken down at the end (also on failure or Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_vlans import GRADE_TARGET, ROOT, UP_TARGET, host_memory, mark, mib, results_score, tspcr, up_split

LAB = "proxy"
INSTANCE = "bench-proxy"
SEED = 4242


def check_times(results: Path, top: int = 6) -> list[dict]:
    """The checks whose evidence took longest (commands and probes), slowest first."""
    data = json.loads(results.read_text())
    rows = [{"id": c["id"], "seconds": sum(e.get("duration", 0.0) or 0.0 for e in c["evidence"]),
             "steps": len(c["evidence"])} for c in data["checks"]]
    return sorted(rows, key=lambda r: -r["seconds"])[:top]


def single(work: Path) -> dict:
    tspcr("down", LAB, "--instance", INSTANCE, ok=(0, 1, 2))
    out: dict = {"instance": INSTANCE, "seed": SEED}
    out["up"], proc = tspcr("up", LAB, "--instance", INSTANCE, "--seed", str(SEED))
    out["up_split"] = up_split(proc)
    out["grade_untouched"], _ = tspcr("grade", LAB, "--instance", INSTANCE, "--out", str(work / "untouched"), ok=(1,))
    out["grade_untouched_score"] = results_score(work / "untouched" / "results.json")
    out["solve"], _ = tspcr("solve", LAB, "--instance", INSTANCE)
    for name in ("grade_first", "grade"):
        out[name], _ = tspcr("grade", LAB, "--instance", INSTANCE, "--out", str(work / name))
        out[f"{name}_score"] = results_score(work / name / "results.json")
    out["slowest"] = check_times(work / "grade" / "results.json")
    out["memory"] = {h: host_memory(INSTANCE, h) for h in ("gw", "web", "pc1")}
    out["reboot_gw"], _ = tspcr("reboot", "gw", "--instance", INSTANCE)
    out["grade_rebooted"], _ = tspcr("grade", LAB, "--instance", INSTANCE, "--out", str(work / "rebooted"))
    out["grade_rebooted_score"] = results_score(work / "rebooted" / "results.json")
    return out


def report(s: dict) -> None:
    split = s["up_split"]
    print(f"proxy, one trainee (instance {s['instance']}, seed {s['seed']}, 4 hosts, 2 probe ports)")
    print(f"  up      {s['up']:6.2f} s   (built {split.get('built', 0):.2f} s, provisioned "
          f"{split.get('provisioned', 0):.2f} s)   target < {UP_TARGET:g} s: {mark(s['up'] < UP_TARGET)}")
    print(f"  grade   {s['grade_untouched']:6.2f} s   untouched, score {s['grade_untouched_score']}")
    print(f"  solve   {s['solve']:6.2f} s")
    print(f"  grade   {s['grade_first']:6.2f} s   right after solve, score {s['grade_first_score']}")
    print(f"  grade   {s['grade']:6.2f} s   again, score {s['grade_score']}   target < {GRADE_TARGET:g} s: "
          f"{mark(s['grade'] < GRADE_TARGET)}")
    print(f"  reboot  {s['reboot_gw']:6.2f} s   gw; grade {s['grade_rebooted']:.2f} s, score {s['grade_rebooted_score']}")
    print(f"  down    {s['down']:6.2f} s")
    print("  slowest checks (their commands and probes):")
    for row in s["slowest"]:
        print(f"    {row['seconds']:5.2f} s  {row['steps']:2d} steps  {row['id']}")
    for host, m in s["memory"].items():
        print(f"  memory of {host} ({m['role']}): {m['processes']:2d} processes, PSS {mib(m['pss'])}, "
              f"USS {mib(m['uss'])}, writable layer {mib(m['layer'])}  ({' '.join(m['names'])})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the virtual lab needs root")
    work = Path(tempfile.mkdtemp(prefix="tspcr-bench-proxy-"))
    res: dict = {}
    try:
        res = single(work)
        res["down"], _ = tspcr("down", LAB, "--instance", INSTANCE)
    finally:
        subprocess.run([sys.executable, "-m", "tspcr_lab", "down", LAB, "--instance", INSTANCE],
                       capture_output=True, cwd=ROOT)
        shutil.rmtree(work, ignore_errors=True)
    if options.json:
        print(json.dumps(res, indent=1))
    else:
        report(res)
    scores = [res["grade_first_score"], res["grade_score"], res["grade_rebooted_score"]]
    if any(a != b for a, b in (x.split("/") for x in scores)):
        raise SystemExit(f"scores of the solved lab: {scores}")


if __name__ == "__main__":
    main()
