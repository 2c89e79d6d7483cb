"""Record LoginTrial and MembershipTrial on a real virtual host (run as root from the repository):

    .venv/bin/tspcr-lab up user-environment --instance rec-env --seed 4242
    .venv/bin/python tests/unit/recorded/trial/record.py rec-env
    .venv/bin/tspcr-lab down user-environment --instance rec-env

Solves the lab, snapshots pc1's solved files, then runs each probe's own command() on pc1: on the
solved lab, then after each of a few faults of labs/user-environment/faults.toml (pc1 restored to
its solved files before each, as the self-test does). Writes runs.json and NAME.out next to this
file. The instance is left altered: take it down afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tspcr_lab.labfile import load_cases, load_lab
from tspcr_lab.params import generate
from tspcr_lab.probes.session import LoginTrial, MembershipTrial
from tspcr_lab.targets import virtual_target
from tspcr_lab.virtual.lab import VirtualLab

HERE = Path(__file__).parent
LAB = "user-environment"
SNAPSHOT = "rec-solved"


def main(instance: str) -> None:
    lab = load_lab(LAB)
    vlab = VirtualLab(lab, instance)
    target = virtual_target(lab, instance)
    given = generate(lab, target.seed)
    values, expected = {"params": given.params, "expected": given.expected}, given.expected
    cases = {case.id: case for case in load_cases(lab)}
    runs: dict[str, dict] = {}
    users = expected["users"]
    leaver = next(u["name"] for u in users.values() if u["member"])
    joiner = next(u["name"] for u in users.values() if not u["member"])

    def login_trial(slot: str, **kw) -> LoginTrial:
        user = users[slot]
        return LoginTrial(user["name"], kw.pop("home", user["home"]), expected["link_name"], user["folder"],
                          expected["tool"], expected["share_root"], **kw)

    def membership() -> MembershipTrial:
        return MembershipTrial(expected["group"], leaver, joiner)

    def record(name: str, probe, context: str, **args) -> None:
        pc1 = target.hosts()["pc1"]
        result = pc1.run(probe.command(), timeout=120)
        (HERE / f"{name}.out").write_text(result.stdout)
        runs[name] = {"command": result.command, "rc": result.rc, "stderr": result.stderr, **args,
                      "context": context}
        print(name, result.rc, len(result.stdout), flush=True)

    def fault(case_id: str) -> str:
        vlab.restore("pc1", SNAPSHOT)
        script = cases[case_id].script("pc1", values)
        subprocess.run(vlab.console_argv("pc1", ["sh", "-ec", script]), check=True, timeout=120)
        return f"{LAB} seed {target.seed}, solved, then fault {case_id} of faults.toml"

    def login_args(slot: str) -> dict:
        user = users[slot]
        return {"user": user["name"], "home": user["home"], "link": expected["link_name"], "folder": user["folder"],
                "tool": expected["tool"], "elsewhere": expected["share_root"]}

    group_args = {"group": expected["group"], "leave": leaver, "join": joiner}

    subprocess.run([sys.executable, "-m", "tspcr_lab", "solve", LAB, "--instance", instance], check=True)
    vlab.snapshot("pc1", SNAPSHOT)
    solved = f"{LAB} seed {target.seed}, solved"
    record("login-solved", login_trial("user1"), solved, **login_args("user1"))
    record("login-solved-other", login_trial("user3"), solved, **login_args("user3"))
    record("login-no-home", login_trial("user1", home="/home/no-such-home"),
           solved + "; the probe given a home folder that does not exist",
           **{**login_args("user1"), "home": "/home/no-such-home"})
    record("membership-solved", membership(), solved, **group_args)

    for case_id in ("script-interactive-only", "script-in-bashrc", "link-not-repaired", "link-duplicated",
                    "script-exits", "variables-in-bash-bashrc"):
        record(f"login-{case_id}", login_trial("user1"), fault(case_id), **login_args("user1"))
    for case_id in ("banner-named-users", "banner-for-everybody", "banner-primary-group"):
        record(f"membership-{case_id}", membership(), fault(case_id), **group_args)
    # A logon script that never ends: every login times out.
    vlab.restore("pc1", SNAPSHOT)
    subprocess.run(vlab.console_argv("pc1", ["sh", "-ec", "echo 'sleep 30' >> " + expected["logon_script"]]),
                   check=True, timeout=60)
    hang = solved + "; then 'sleep 30' appended to the logon script (logins never finish)"
    record("login-script-hangs", login_trial("user1", states=("missing",), seconds=2), hang,
           **login_args("user1"), states=["missing"], seconds=2)
    record("membership-script-hangs", MembershipTrial(expected["group"], leaver, joiner, seconds=2), hang,
           **group_args, seconds=2)
    (HERE / "runs.json").write_text(json.dumps(runs, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "rec-env")
