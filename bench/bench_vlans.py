"""Benchmark: the vlans lab (two Open vSwitch switches, five PCs), for one trainee and for a class.

    .venv/bin/python bench/bench_vlans.py [--trainees 12] [--calls 50] [--json]

Runs the real command line on the real virtual lab (as root), with a fixed seed:

1. one trainee (instance ``bench-vlans``): wall time of ``up`` (with the split it prints: built,
   provisioned), ``solve``, ``grade`` and ``down``, the score after ``solve`` (must be the maximum),
   and the memory of a switch (sw1) and of a PC (pc1): PSS and USS of the host's processes (its
   PID 1 and every descendant), and its writable layer on the state tmpfs;
2. per-command latency of the device drivers on that lab, in this process, over the console
   transport a check uses (``virtual_target(...).hosts()``): median and p95 of each getter of
   OvsDriver on sw1 and LinuxDriver on pc1 (``--calls`` calls each, the commands each call runs),
   and of a bare ``host.run("true")`` on each host for comparison;
3. a class (trainee ids v01..v12): ``up --class``, ``solve --instance vlans-<id>`` for each
   trainee one after the other (there is no class-wide solve), ``grade --class``, the memory of
   the copies (PSS and USS of every host process of every copy, and what the state tmpfs
   /run/tspcr-lab holds: its use and the copies' folders), and ``down --class``.

Targets (2 cores): ``up`` under 10 s and ``grade`` under 5 s for one trainee.
Everything this run builds is taken down at the end (also on failure or Ctrl-C), and its
temporary folder removed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tspcr_lab.devices import LinuxDriver  # noqa: E402
from tspcr_lab.devices.ovs import OvsDriver  # noqa: E402
from tspcr_lab.labfile import load_lab  # noqa: E402
from tspcr_lab.targets import virtual_target  # noqa: E402
from tspcr_lab.virtual.lab import STATE_ROOT, load_instance_state  # noqa: E402

LAB = "vlans"
INSTANCE = "bench-vlans"
SEED = 4242
UP_TARGET, GRADE_TARGET = 10.0, 5.0
SPLIT = re.compile(r"built in ([\d.]+) s, provisioned in ([\d.]+) s")


def tspcr(*args: str, ok=(0,)) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tspcr_lab", *args], capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in ok:
        raise SystemExit(f"tspcr-lab {' '.join(args)} failed ({proc.returncode}): "
                         f"{proc.stderr.strip() or proc.stdout[-500:]}")
    return elapsed, proc


def up_split(proc: subprocess.CompletedProcess) -> dict[str, float]:
    match = SPLIT.search(proc.stdout)
    return {"built": float(match[1]), "provisioned": float(match[2])} if match else {}


def host_processes(instance: str, names=None) -> list[psutil.Process]:
    """The processes of an instance's hosts: each host's PID 1 (as the machine sees it) and every
    descendant (daemons that detach are re-parented to that PID 1, inside the host); a radio VM
    (qemu, which holds its wireless hosts) when one of its hosts is asked for."""
    state = load_instance_state(instance)
    roots = [hs.pid for name, hs in state.hosts.items() if not hs.radio and (names is None or name in names)]
    roots += [vm.pid for vm in state.radios.values() if names is None or set(vm.hosts) & set(names)]
    procs = []
    for pid in roots:
        try:
            root = psutil.Process(pid)
            procs += [root, *root.children(recursive=True)]
        except psutil.Error:
            pass
    return procs


def memory(procs: list[psutil.Process]) -> dict[str, int]:
    pss = uss = count = 0
    for p in procs:
        try:
            info = p.memory_full_info()
        except psutil.Error:
            continue
        pss, uss, count = pss + info.pss, uss + info.uss, count + 1
    return {"processes": count, "pss": pss, "uss": uss}


def tree_bytes(path: Path) -> int:
    """Space the files under ``path`` take (hard links once)."""
    seen, total = set(), 0
    for top, dirs, files in os.walk(path):
        for name in dirs + files:
            try:
                st = os.lstat(os.path.join(top, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


def tmpfs_used() -> int:
    st = os.statvfs(STATE_ROOT)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def host_memory(instance: str, host: str) -> dict[str, int]:
    state = load_instance_state(instance)
    mem = memory(host_processes(instance, {host}))
    mem["layer"] = tree_bytes(STATE_ROOT / instance / "hosts" / host)
    mem["role"] = state.hosts[host].role
    mem["names"] = sorted(p.name() for p in host_processes(instance, {host}))
    return mem


def results_score(path: Path) -> str:
    results = json.loads(path.read_text())
    return f"{results['score']:g}/{results['max_score']:g}"


# --- 1. one trainee -------------------------------------------------------------------------------

def single(work: Path) -> dict:
    tspcr("down", LAB, "--instance", INSTANCE, ok=(0, 1, 2))
    out: dict = {"instance": INSTANCE, "seed": SEED}
    out["up"], proc = tspcr("up", LAB, "--instance", INSTANCE, "--seed", str(SEED))
    out["up_split"] = up_split(proc)
    out["solve"], _ = tspcr("solve", LAB, "--instance", INSTANCE)
    out["grade"], _ = tspcr("grade", LAB, "--instance", INSTANCE, "--out", str(work / "single"),
                            "--key", str(work / "exam.key"), ok=(0, 1))
    out["score"] = results_score(work / "single" / "results.json")
    out["memory"] = {"sw1": host_memory(INSTANCE, "sw1"), "pc1": host_memory(INSTANCE, "pc1")}
    return out


# --- 2. driver latency ----------------------------------------------------------------------------

def latency(calls: int) -> dict:
    hosts = virtual_target(load_lab(LAB), INSTANCE).hosts()
    commands = [0]

    def count(_result) -> None:
        commands[0] += 1

    ovs, linux = OvsDriver(hosts["sw1"], bridge="br0"), LinuxDriver(hosts["pc1"])
    cases = [("sw1", "run('true')", lambda: hosts["sw1"].run("true"))]
    cases += [("sw1", f"ovs.{g}()", getattr(ovs, g))
              for g in ("facts", "switchports", "vlans", "interfaces", "mac_table", "running_config")]
    cases += [("pc1", "run('true')", lambda: hosts["pc1"].run("true"))]
    cases += [("pc1", f"linux.{g}()", getattr(linux, g)) for g in ("facts", "interfaces", "routes")]
    out = []
    for host, name, call in cases:
        hosts[host].recorder = count
        call()  # once before timing
        commands[0], times = 0, []
        for _ in range(calls):
            t0 = time.perf_counter()
            call()
            times.append(time.perf_counter() - t0)
        times.sort()
        out.append({"host": host, "call": name, "calls": calls, "commands_per_call": commands[0] / calls,
                    "median_ms": statistics.median(times) * 1000,
                    "p95_ms": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))] * 1000})
        hosts[host].recorder = None
    for host in hosts.values():
        host.close()
    return {"calls": out}


# --- 3. a class -----------------------------------------------------------------------------------

def klass(work: Path, trainees: int, lab: str = LAB, seed: int = SEED) -> dict:
    """``up --class``, a solve per trainee, ``grade --class``, memory and ``down --class`` of a
    class of ``trainees`` on ``lab`` (trainee ids v01...: instances LAB-v01...)."""
    ids = [f"v{i:02d}" for i in range(1, trainees + 1)]
    class_file = work / "class.toml"
    class_file.write_text(f"[class]\nname = \"bench-{lab}\"\nseed = {seed}\n" + "".join(
        f'\n[[trainees]]\nid = "{tid}"\nname = "Trainee {tid}"\n' for tid in ids))
    tspcr("down", lab, "--class", str(class_file))
    out: dict = {"trainees": len(ids)}
    before = tmpfs_used()
    out["up"], proc = tspcr("up", lab, "--class", str(class_file))
    out["up_split"] = up_split(proc)
    out["solve_each"] = []
    for tid in ids:
        elapsed, _ = tspcr("solve", lab, "--instance", f"{lab}-{tid}")
        out["solve_each"].append(elapsed)
    out["solve"] = sum(out["solve_each"])
    grade_argv = ["grade", lab, "--class", str(class_file), "--out", str(work / "class"), "--key", str(work / "exam.key")]
    out["grade"], _ = tspcr(*grade_argv, ok=(0, 1))
    out["scores"] = sorted({results_score(work / "class" / tid / "results.json") for tid in ids})
    instances = [f"{lab}-{tid}" for tid in ids]
    mem = memory([p for inst in instances for p in host_processes(inst)])
    mem["tmpfs_used"] = tmpfs_used() - before
    mem["tmpfs_folders"] = sum(tree_bytes(STATE_ROOT / inst) for inst in instances)
    out["memory"] = mem
    out["down"], _ = tspcr("down", lab, "--class", str(class_file))
    out["class_file"] = str(class_file)
    return out


# --- report ---------------------------------------------------------------------------------------

def mib(n: float) -> str:
    return f"{n / 2**20:6.1f} MiB"


def mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report(res: dict) -> None:
    s = res.get("single")
    if s:
        split = s["up_split"]
        print(f"vlans, one trainee (instance {s['instance']}, seed {s['seed']}, 7 hosts)")
        print(f"  up      {s['up']:6.2f} s   (built {split.get('built', 0):.2f} s, provisioned "
              f"{split.get('provisioned', 0):.2f} s)   target < {UP_TARGET:g} s: {mark(s['up'] < UP_TARGET)}")
        print(f"  solve   {s['solve']:6.2f} s")
        print(f"  grade   {s['grade']:6.2f} s   score {s['score']}   target < {GRADE_TARGET:g} s: "
              f"{mark(s['grade'] < GRADE_TARGET)}")
        print(f"  down    {s['down']:6.2f} s")
        for host, m in s["memory"].items():
            print(f"  memory of {host} ({m['role']}): {m['processes']:2d} processes, PSS {mib(m['pss'])}, "
                  f"USS {mib(m['uss'])}, writable layer {mib(m['layer'])}  ({' '.join(m['names'])})")
    lat = res.get("latency")
    if lat:
        print(f"driver latency over the console transport ({lat['calls'][0]['calls']} calls each)")
        print(f"  {'host':4s} {'call':22s} {'cmds':>4s} {'median':>9s} {'p95':>9s}")
        for c in lat["calls"]:
            print(f"  {c['host']:4s} {c['call']:22s} {c['commands_per_call']:4g} {c['median_ms']:6.1f} ms "
                  f"{c['p95_ms']:6.1f} ms")
    k = res.get("class")
    if k:
        n, split, m = k["trainees"], k["up_split"], k["memory"]
        print(f"vlans, a class of {n} (trainees v01..v{n:02d}, {7 * n} hosts)")
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
    parser.add_argument("--calls", type=int, default=50, help="calls of each getter for the latency")
    parser.add_argument("--no-class", action="store_true", help="only the single trainee and the latency")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the virtual lab needs root")
    work = Path(tempfile.mkdtemp(prefix="tspcr-bench-vlans-"))
    res: dict = {}
    class_file = work / "class.toml"
    try:
        res["single"] = single(work)
        res["latency"] = latency(options.calls)
        res["single"]["down"], _ = tspcr("down", LAB, "--instance", INSTANCE)
        if not options.no_class:
            res["class"] = klass(work, options.trainees)
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
    problems = []
    if res["single"]["score"].split("/")[0] != res["single"]["score"].split("/")[1]:
        problems.append(f"single trainee's score after solve is {res['single']['score']}")
    if "class" in res and any(a != b for a, b in (x.split("/") for x in res["class"]["scores"])):
        problems.append(f"class scores after solve: {res['class']['scores']}")
    if problems:
        raise SystemExit("; ".join(problems))


if __name__ == "__main__":
    main()
