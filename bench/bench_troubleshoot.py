"""Benchmark: a troubleshooting lab, one trainee, then the proof of a class's variants.

    .venv/bin/python bench/bench_troubleshoot.py [--lab troubleshoot-system] [--trainees 12] [--copies 2] [--no-class] [--json]

Runs the real command line on the real virtual lab (as root), with a fixed seed:

1. one trainee: wall time of ``up`` (built, provisioned: the faults injected and the ledger
   recorded), ``grade`` of the injected lab, ``solve`` (the reference repair), ``grade`` (score:
   must be the maximum), ``down``; the ledger's size and the hosts' memory;
2. ``tspcr-lab variants`` for a class of ``--trainees`` (ids t01.., exam seed 2026), ``--copies``
   proofs side by side: its wall time, the distinct sets of faults, every proof ok.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench_vlans import host_processes, memory, mib, results_score, tspcr, up_split

SEEDS = {"troubleshoot-network": 4242, "troubleshoot-system": 4240}


def single(work: Path, lab: str) -> dict:
    instance, seed = "bench-ts" + lab.split("-")[1][0], SEEDS[lab]
    tspcr("down", lab, "--instance", instance, ok=(0, 1, 2))
    out: dict = {"instance": instance, "seed": seed}
    out["up"], proc = tspcr("up", lab, "--instance", instance, "--seed", str(seed))
    out["up_split"] = up_split(proc)
    out["grade_injected"], _ = tspcr("grade", lab, "--instance", instance, "--out", str(work / "injected"), ok=(0, 1))
    out["score_injected"] = results_score(work / "injected" / "results.json")
    out["solve"], _ = tspcr("solve", lab, "--instance", instance)
    out["grade"], _ = tspcr("grade", lab, "--instance", instance, "--out", str(work / "solved"), ok=(0, 1))
    out["score"] = results_score(work / "solved" / "results.json")
    ledger = Path("/run/tspcr-lab") / instance / "fault-ledger.json"
    out["ledger_bytes"] = ledger.stat().st_size if ledger.exists() else None
    out["memory"] = memory(host_processes(instance))
    out["down"], _ = tspcr("down", lab, "--instance", instance)
    return out


def klass(work: Path, lab: str, trainees: int, copies: int) -> dict:
    class_file = work / "class.toml"
    class_file.write_text('[class]\nname = "bench"\nseed = 2026\n' + "".join(
        f'[[trainees]]\nid = "t{i:02d}"\nname = "Trainee {i:02d}"\n' for i in range(1, trainees + 1)), encoding="utf-8")
    seconds, proc = tspcr("variants", lab, "--class", str(class_file), "--copies", str(copies), "--json", ok=(0, 1))
    report = json.loads(proc.stdout)
    return {"trainees": trainees, "copies": copies, "seconds": seconds, "ok": report["ok"],
            "distinct_sets": len({tuple(sorted(p["faults"])) for p in report["proofs"]}),
            "per_proof": [p["seconds"] for p in report["proofs"]],
            "not_ok": {p["trainee"]: [c for c in p["cases"] if not c["ok"]] for p in report["proofs"] if not p["ok"]}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", default="troubleshoot-network", choices=sorted(SEEDS))
    parser.add_argument("--trainees", type=int, default=12)
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--no-class", action="store_true")
    parser.add_argument("--no-single", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-troubleshoot-") as folder:
        work = Path(folder)
        if not args.no_single:
            out["single"] = single(work, args.lab)
        if not args.no_class:
            out["class"] = klass(work, args.lab, args.trainees, args.copies)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    if "single" in out:
        s = out["single"]
        print(f"{args.lab}, one trainee: up {s['up']:.1f} s {s['up_split']}, grade (injected) {s['grade_injected']:.1f} s "
              f"({s['score_injected']}), solve {s['solve']:.1f} s, grade {s['grade']:.1f} s ({s['score']}), "
              f"down {s['down']:.1f} s; ledger {s['ledger_bytes'] / 1e6:.1f} MB; memory PSS {mib(s['memory']['pss'])} "
              f"({s['memory']['processes']} processes)")
    if "class" in out:
        c = out["class"]
        print(f"variants of a class of {c['trainees']} ({c['copies']} copies): {c['seconds']:.0f} s, "
              f"{c['distinct_sets']} distinct sets, {'all proven' if c['ok'] else 'NOT ALL PROVEN: ' + json.dumps(c['not_ok'])}; "
              f"per proof {min(c['per_proof']):.0f}-{max(c['per_proof']):.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
