"""Benchmark: the wifi-security lab (srv1 on the machine, ap1 and the laptop in a radio VM: qemu
TCG, the image's kernel, mac80211_hwsim), one trainee, then a class.

    .venv/bin/python bench/bench_wifi.py [--trainees 6] [--no-class] [--json]

Runs the real command line on the real virtual lab (as root), with a fixed seed:

1. wall time of ``up`` (built, provisioned), ``solve``, ``grade`` (score: must be the maximum),
   ``down``; the memory of the radio VM (qemu: the guest's RAM it touched and TCG's code cache)
   and of srv1; the time of each check;
2. a class of ``--trainees`` (one radio VM each): ``up --class``, a solve per trainee,
   ``grade --class`` (every score the maximum), memory, ``down --class`` (bench_vlans.klass);
   with ``--up-only``, ``up --class``, memory and ``down --class`` only (a solve costs ~2 min
   per trainee in an emulated CPU).

Target (2 cores): ``up`` under 45 s for one trainee.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from bench_vlans import host_processes, klass, memory, mib, results_score, tmpfs_used, tspcr, up_split

LAB = "wifi-security"
INSTANCE = "bench-wifi"
SEED = 4242
UP_TARGET = 45.0


def single(work: Path) -> dict:
    tspcr("down", LAB, "--instance", INSTANCE, ok=(0, 1, 2))
    out: dict = {}
    out["up"], proc = tspcr("up", LAB, "--instance", INSTANCE, "--seed", str(SEED))
    out["up_split"] = up_split(proc)
    out["solve"], _ = tspcr("solve", LAB, "--instance", INSTANCE)
    out["grade"], _ = tspcr("grade", LAB, "--instance", INSTANCE, "--out", str(work / "one"), "--key",
                            str(work / "exam.key"), ok=(0, 1))
    results = json.loads((work / "one" / "results.json").read_text())
    out["score"] = results_score(work / "one" / "results.json")
    out["checks"] = sorted(((c["id"], round(c.get("duration", 0.0), 1)) for c in results["checks"]),
                           key=lambda item: -item[1])
    out["memory"] = {"radio VM": memory(host_processes(INSTANCE, ["ap1", "laptop"])),
                     "srv1": memory(host_processes(INSTANCE, ["srv1"]))}
    out["down"], _ = tspcr("down", LAB, "--instance", INSTANCE)
    return out


def class_up(work: Path, trainees: int) -> dict:
    """``up --class`` of ``trainees`` (a radio VM each), the memory of their processes, ``down``."""
    ids = [f"v{i:02d}" for i in range(1, trainees + 1)]
    class_file = work / "class.toml"
    class_file.write_text(f"[class]\nname = \"bench-{LAB}\"\nseed = {SEED}\n" + "".join(
        f'\n[[trainees]]\nid = "{tid}"\nname = "Trainee {tid}"\n' for tid in ids))
    tspcr("down", LAB, "--class", str(class_file), ok=(0, 1, 2))
    before = tmpfs_used()
    out: dict = {"trainees": trainees}
    try:
        out["up"], proc = tspcr("up", LAB, "--class", str(class_file))
        out["up_split"] = up_split(proc)
        instances = [f"{LAB}-{tid}" for tid in ids]
        out["memory"] = memory([p for inst in instances for p in host_processes(inst)])
        out["memory"]["tmpfs_used"] = tmpfs_used() - before
    finally:
        out["down"], _ = tspcr("down", LAB, "--class", str(class_file), ok=(0, 1, 2))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=6)
    parser.add_argument("--no-class", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--up-only", action="store_true", help="the class: up, memory and down only")
    parser.add_argument("--no-single", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tspcr-bench-wifi-"))
    try:
        res = {} if args.no_single else {"single": single(work)}
        if not args.no_class:
            res["class"] = class_up(work, args.trainees) if args.up_only else klass(work, args.trainees, LAB, SEED)
    finally:
        tspcr("down", LAB, "--instance", INSTANCE, ok=(0, 1, 2))
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(res, indent=1))
        return
    one = res.get("single")
    if one:
        print(f"one trainee: up {one['up']:.1f} s {one['up_split']} ({'ok' if one['up'] < UP_TARGET else 'MISSED'} "
          f"< {UP_TARGET:.0f} s), solve {one['solve']:.1f} s, grade {one['grade']:.1f} s, score {one['score']}, "
          f"down {one['down']:.1f} s")
        for what, mem in one["memory"].items():
            print(f"  memory {what}: PSS {mib(mem['pss'])}, USS {mib(mem['uss'])} ({mem['processes']} processes)")
        print("  slowest checks: " + ", ".join(f"{cid} {sec} s" for cid, sec in one["checks"][:5]))
    if "class" in res:
        c = res["class"]
        print(f"class of {c['trainees']} ({c['trainees']} radio VMs): up {c['up']:.1f} s {c['up_split']}, "
              + (f"solve {c['solve']:.1f} s in all, grade {c['grade']:.1f} s, scores {c['scores']}, " if "solve" in c else "")
              + f"down {c['down']:.1f} s")
        print(f"  memory: PSS {mib(c['memory']['pss'])}, USS {mib(c['memory']['uss'])}, state tmpfs "
              f"{mib(c['memory']['tmpfs_used'])}")


if __name__ == "__main__":
    sys.exit(main())
