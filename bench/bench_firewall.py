"""Benchmark: the firewall lab (fw with nftables, adm, gst, web, srv1, three probe ports), one
trainee, then a class.

    .venv/bin/python bench/bench_firewall.py [--trainees 12] [--no-class] [--json]

Runs the real command line on the real virtual lab (as root), with a fixed seed:

1. wall time of ``up`` (with its split: built, provisioned), ``solve``, ``grade`` (score: must be
   the maximum), ``down``; the memory of fw (a router) and of web (a server), as bench_vlans.py
   measures it (PSS/USS of the host's processes, its writable layer); the time of each check
   (results.json), the probes' share of it;
2. a class of ``--trainees`` (default 12): ``up --class``, a solve per trainee, ``grade --class``
   (every score the maximum), the copies' memory and state tmpfs, ``down --class``
   (bench_vlans.klass).

Targets (2 cores): ``up`` under 10 s and ``grade`` under 5 s for one trainee.
Everything this run builds is taken down at the end (also on failure or Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_vlans import GRADE_TARGET, ROOT, UP_TARGET, host_memory, klass, mark, mib, results_score, tspcr, up_split

LAB = "firewall"
INSTANCE = "bench-firewall"
SEED = 4242


def single(work: Path) -> dict:
    tspcr("down", LAB, "--instance", INSTANCE, ok=(0, 1, 2))
    out: dict = {"instance": INSTANCE, "seed": SEED}
    out["up"], proc = tspcr("up", LAB, "--instance", INSTANCE, "--seed", str(SEED))
    out["up_split"] = up_split(proc)
    out["solve"], _ = tspcr("solve", LAB, "--instance", INSTANCE)
    out["grade"], _ = tspcr("grade", LAB, "--instance", INSTANCE, "--out", str(work / "grade"), ok=(0, 1))
    out["score"] = results_score(work / "grade" / "results.json")
    results = json.loads((work / "grade" / "results.json").read_text())
    out["checks"] = {c["id"]: round(c.get("duration") or 0.0, 3) for c in results["checks"]}
    out["memory"] = {"fw": host_memory(INSTANCE, "fw"), "web": host_memory(INSTANCE, "web")}
    out["down"], _ = tspcr("down", LAB, "--instance", INSTANCE)
    return out


def report(res: dict) -> None:
    s = res["single"]
    split = s["up_split"]
    print(f"firewall, one trainee (instance {s['instance']}, seed {s['seed']}, 5 hosts, 3 probe ports)")
    print(f"  up      {s['up']:6.2f} s   (built {split.get('built', 0):.2f} s, provisioned "
          f"{split.get('provisioned', 0):.2f} s)   target < {UP_TARGET:g} s: {mark(s['up'] < UP_TARGET)}")
    print(f"  solve   {s['solve']:6.2f} s")
    print(f"  grade   {s['grade']:6.2f} s   score {s['score']}   target < {GRADE_TARGET:g} s: "
          f"{mark(s['grade'] < GRADE_TARGET)}")
    print(f"  down    {s['down']:6.2f} s")
    slow = sorted(s["checks"].items(), key=lambda kv: -kv[1])[:5]
    print(f"  checks: {sum(s['checks'].values()):.2f} s in all; slowest " + ", ".join(f"{k} {v:.2f} s" for k, v in slow))
    for host, m in s["memory"].items():
        print(f"  memory of {host} ({m['role']}): {m['processes']:2d} processes, PSS {mib(m['pss'])}, "
              f"USS {mib(m['uss'])}, writable layer {mib(m['layer'])}  ({' '.join(m['names'])})")
    k = res.get("class")
    if k:
        n, split, m = k["trainees"], k["up_split"], k["memory"]
        print(f"firewall, a class of {n} (trainees v01..v{n:02d}, {5 * n} hosts)")
        print(f"  up --class     {k['up']:6.2f} s   (built {split.get('built', 0):.2f} s, provisioned "
              f"{split.get('provisioned', 0):.2f} s)")
        print(f"  solve (x{n})     {k['solve']:6.2f} s   one after the other, median "
              f"{statistics.median(k['solve_each']):.2f} s each")
        print(f"  grade --class  {k['grade']:6.2f} s   scores {', '.join(k['scores'])}")
        print(f"  down --class   {k['down']:6.2f} s")
        print(f"  memory of the {n} copies: {m['processes']} processes, PSS {mib(m['pss'])}, USS {mib(m['uss'])}; "
              f"state tmpfs +{mib(m['tmpfs_used']).strip()} ({mib(m['tmpfs_folders']).strip()} in the copies' folders)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trainees", type=int, default=12)
    parser.add_argument("--no-class", action="store_true", help="only the single trainee")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the virtual lab needs root")
    work = Path(tempfile.mkdtemp(prefix="tspcr-bench-firewall-"))
    res: dict = {}
    class_file = work / "class.toml"
    try:
        res["single"] = single(work)
        if not options.no_class:
            res["class"] = klass(work, options.trainees, lab=LAB, seed=SEED)
    finally:
        # Whatever happened: nothing of this run stays up.
        subprocess.run([sys.executable, "-m", "tspcr_lab", "down", LAB, "--instance", INSTANCE],
                       capture_output=True, cwd=ROOT)
        if class_file.exists():
            subprocess.run([sys.executable, "-m", "tspcr_lab", "down", LAB, "--class", str(class_file)],
                           capture_output=True, cwd=ROOT)
        shutil.rmtree(work, ignore_errors=True)
    if options.json:
        print(json.dumps(res, indent=1))
    else:
        report(res)
    scores = [res["single"]["score"], *res.get("class", {}).get("scores", [])]
    if any(a != b for a, b in (x.split("/") for x in scores)):
        raise SystemExit(f"scores after solve: {scores}")


if __name__ == "__main__":
    main()
