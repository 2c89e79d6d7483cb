"""Record NeomuttAliases and NeomuttComposed on a real virtual host (run as root from the repository):

    .venv/bin/tspcr-lab up mail-client --instance rec-mail --seed 4242
    .venv/bin/python tests/unit/recorded/neomutt/record.py rec-mail
    .venv/bin/tspcr-lab down mail-client --instance rec-mail

Seed 4242 gives the NeoMutt client. Solves the lab, snapshots pc1's solved files, then runs each
probe's own command() on pc1: on the solved lab, then after each of a few faults and alternatives
of labs/mail-client/faults.toml (pc1 restored to its solved files before each, as the self-test
does). Writes runs.json and NAME.out next to this file. The instance is left altered: take it down
afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tspcr_lab.labfile import load_cases, load_lab
from tspcr_lab.params import generate
from tspcr_lab.probes.mail import NeomuttAliases, NeomuttComposed
from tspcr_lab.targets import virtual_target
from tspcr_lab.virtual.lab import VirtualLab

HERE = Path(__file__).parent
LAB = "mail-client"
SNAPSHOT = "rec-solved"
NICKS = ["hugob", "inesg", "laurar"]  # the aliases of the solution (seed 4242)


def main(instance: str) -> None:
    lab = load_lab(LAB)
    vlab = VirtualLab(lab, instance)
    target = virtual_target(lab, instance)
    given = generate(lab, target.seed)
    values, expected = {"params": given.params, "expected": given.expected}, given.expected
    assert expected["client"] == "neomutt", "record with a seed that gives NeoMutt (4242)"
    cases = {case.id: case for case in load_cases(lab)}
    runs: dict[str, dict] = {}
    login = expected["login"]

    def record(name: str, probe, context: str, **args) -> None:
        pc1 = target.hosts()["pc1"]
        result = pc1.run(probe.command(), timeout=120)
        (HERE / f"{name}.out").write_text(result.stdout)
        runs[name] = {"command": result.command, "rc": result.rc, "stderr": result.stderr, **args,
                      "context": context}
        print(name, result.rc, len(result.stdout), flush=True)

    def sh(script: str) -> None:
        subprocess.run(vlab.console_argv("pc1", ["sh", "-ec", script]), check=True, timeout=120)

    def case(case_id: str) -> str:
        vlab.restore("pc1", SNAPSHOT)
        sh(cases[case_id].script("pc1", values))
        return f"{LAB} seed {target.seed}, solved, then {cases[case_id].kind} {case_id} of faults.toml"

    def both(suffix: str, context: str) -> None:
        record(f"aliases-{suffix}", NeomuttAliases(login, NICKS), context, user=login, nicks=NICKS)
        record(f"composed-{suffix}", NeomuttComposed(login), context, user=login)

    subprocess.run([sys.executable, "-m", "tspcr_lab", "solve", LAB, "--instance", instance], check=True)
    vlab.snapshot("pc1", SNAPSHOT)
    solved = f"{LAB} seed {target.seed}, solved"
    both("solved", solved)
    record("aliases-unknown-nick", NeomuttAliases(login, ["hugob", "nobody", "laurar"]),
           solved + "; the probe asked for a nick that is no alias", user=login, nicks=["hugob", "nobody", "laurar"])
    record("aliases-no-such-user", NeomuttAliases("no-such-user", NICKS), solved + "; a user that does not exist",
           user="no-such-user", nicks=NICKS)
    record("composed-no-such-user", NeomuttComposed("no-such-user"), solved + "; a user that does not exist",
           user="no-such-user")

    for case_id in ("identity-overridden", "wrong-identity-address", "address-book-unreadable",
                    "address-book-not-imported", "address-book-wrong-address", "identity-written-another-way",
                    "address-book-another-way"):
        both(case_id, case(case_id))

    # NeoMutt waiting for ever on the user's configuration: the composition times out.
    vlab.restore("pc1", SNAPSHOT)
    sh(f"echo 'source \"sleep 30|\"' >> {expected['home']}/.neomuttrc")
    record("composed-hangs", NeomuttComposed(login, seconds=2),
           solved + "; then 'source \"sleep 30|\"' appended to ~/.neomuttrc (NeoMutt never finishes)",
           user=login, seconds=2)
    # A ~/.neomuttrc NeoMutt refuses: it composes nothing.
    vlab.restore("pc1", SNAPSHOT)
    sh(f"echo 'sett use_from = yes' >> {expected['home']}/.neomuttrc")
    both("rc-error", solved + "; then 'sett use_from = yes' appended to ~/.neomuttrc (an unknown command)")
    (HERE / "runs.json").write_text(json.dumps(runs, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "rec-mail")
