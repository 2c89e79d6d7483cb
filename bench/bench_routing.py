"""Benchmark: the routing lab (three FRR routers, a provider's router, three PCs), one trainee.

    .venv/bin/python bench/bench_routing.py [--calls 30] [--json]

Runs the real command line on the real virtual lab (as root), with a fixed seed:

1. wall time of ``up`` (with its split: built, provisioned), ``solve``, a first ``grade`` right
   after ``solve`` (it includes OSPF converging: the checks wait for it, at most their budget),
   a second ``grade`` on the converged lab (the figure the 5 s target is about) and ``down``; the
   score of both grades (must be the maximum); the memory of a router (r1) and of a PC (pc1), as
   bench_vlans.py measures it (PSS/USS of the host's processes, its writable layer);
2. per-command latency of the FRR driver on r1, in this process, over netmiko (``cisco_ios`` over
   SSH to vtysh, from the lab's management namespace: what a check uses) and over the router's
   console (``VtyshConnection``: the fallback), median and p95 of each getter (``--calls`` calls
   each), and the time of an SSH login (refused, accepted).

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
import time
from pathlib import Path

from bench_vlans import GRADE_TARGET, ROOT, UP_TARGET, host_memory, mark, mib, results_score, tspcr, up_split

from tspcr_lab.devices import DeviceSessions, FrrDriver, LoginFailed, VtyshConnection
from tspcr_lab.labfile import load_lab
from tspcr_lab.params import generate
from tspcr_lab.targets import virtual_target

LAB = "routing"
INSTANCE = "bench-routing"
SEED = 4242
GETTERS = ("facts", "interfaces", "routes", "ospf_neighbors", "ospf_interfaces", "ospf_router_id", "running_config")


def single(work: Path) -> dict:
    tspcr("down", LAB, "--instance", INSTANCE, ok=(0, 1, 2))
    out: dict = {"instance": INSTANCE, "seed": SEED}
    out["up"], proc = tspcr("up", LAB, "--instance", INSTANCE, "--seed", str(SEED))
    out["up_split"] = up_split(proc)
    out["solve"], _ = tspcr("solve", LAB, "--instance", INSTANCE)
    for name in ("grade_converging", "grade"):
        out[name], _ = tspcr("grade", LAB, "--instance", INSTANCE, "--out", str(work / name), ok=(0, 1))
        out[f"{name}_score"] = results_score(work / name / "results.json")
    out["memory"] = {"r1": host_memory(INSTANCE, "r1"), "pc1": host_memory(INSTANCE, "pc1")}
    return out


def timed(call, calls: int) -> dict:
    call()  # once before timing
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"calls": calls, "median_ms": statistics.median(times) * 1000,
            "p95_ms": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))] * 1000}


def latency(calls: int) -> dict:
    lab = load_lab(LAB)
    target = virtual_target(lab, INSTANCE)
    admin = generate(lab, SEED).expected["admin"]
    hosts = target.hosts()
    out: dict = {"logins": {}, "getters": []}
    sessions = DeviceSessions(target.endpoints)
    t0 = time.perf_counter()
    try:
        sessions.login("r1", admin["user"], admin["default_password"], driver=FrrDriver)
    except LoginFailed:
        pass
    out["logins"]["refused_ms"] = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    ssh = sessions.login("r1", admin["user"], admin["password"], driver=FrrDriver)
    out["logins"]["accepted_ms"] = (time.perf_counter() - t0) * 1000
    console = FrrDriver(VtyshConnection(hosts["r1"]), name="r1")
    for via, driver in (("netmiko", ssh), ("console", console)):
        for getter in GETTERS:
            out["getters"].append({"via": via, "getter": getter, **timed(getattr(driver, getter), calls)})
    sessions.close()
    for host in hosts.values():
        host.close()
    return out


def report(res: dict) -> None:
    s = res["single"]
    split = s["up_split"]
    print(f"routing, one trainee (instance {s['instance']}, seed {s['seed']}, 7 hosts)")
    print(f"  up      {s['up']:6.2f} s   (built {split.get('built', 0):.2f} s, provisioned "
          f"{split.get('provisioned', 0):.2f} s)   target < {UP_TARGET:g} s: {mark(s['up'] < UP_TARGET)}")
    print(f"  solve   {s['solve']:6.2f} s")
    print(f"  grade   {s['grade_converging']:6.2f} s   right after solve (OSPF converging), score {s['grade_converging_score']}")
    print(f"  grade   {s['grade']:6.2f} s   converged, score {s['grade_score']}   target < {GRADE_TARGET:g} s: "
          f"{mark(s['grade'] < GRADE_TARGET)}")
    print(f"  down    {s['down']:6.2f} s")
    for host, m in s["memory"].items():
        print(f"  memory of {host} ({m['role']}): {m['processes']:2d} processes, PSS {mib(m['pss'])}, "
              f"USS {mib(m['uss'])}, writable layer {mib(m['layer'])}  ({' '.join(m['names'])})")
    lat = res["latency"]
    print(f"FRR driver on r1: SSH login refused {lat['logins']['refused_ms']:.0f} ms, accepted "
          f"{lat['logins']['accepted_ms']:.0f} ms; getters ({lat['getters'][0]['calls']} calls each)")
    print(f"  {'via':8s} {'getter':18s} {'median':>9s} {'p95':>9s}")
    for g in lat["getters"]:
        print(f"  {g['via']:8s} {g['getter']:18s} {g['median_ms']:6.1f} ms {g['p95_ms']:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=30, help="calls of each getter for the latency")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the virtual lab needs root")
    work = Path(tempfile.mkdtemp(prefix="tspcr-bench-routing-"))
    res: dict = {}
    try:
        res["single"] = single(work)
        res["latency"] = latency(options.calls)
        res["single"]["down"], _ = tspcr("down", LAB, "--instance", INSTANCE)
    finally:
        subprocess.run([sys.executable, "-m", "tspcr_lab", "down", LAB, "--instance", INSTANCE],
                       capture_output=True, cwd=ROOT)
        shutil.rmtree(work, ignore_errors=True)
    if options.json:
        print(json.dumps(res, indent=1))
    else:
        report(res)
    scores = [res["single"]["grade_converging_score"], res["single"]["grade_score"]]
    if any(a != b for a, b in (x.split("/") for x in scores)):
        raise SystemExit(f"scores after solve: {scores}")


if __name__ == "__main__":
    main()
