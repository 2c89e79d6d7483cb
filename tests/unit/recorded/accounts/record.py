"""Record the account probes' outputs on a real virtual host (run as root from the repository):

    .venv/bin/tspcr-lab up local-accounts --instance dev-accounts --seed 7
    .venv/bin/python tests/unit/recorded/accounts/record.py dev-accounts

Runs each probe's own command() on pc1, first on the untouched lab, then after `solve`, then
with a few broken states made for the purpose; writes runs.json and NAME.out next to this file.
The instance is left solved and altered: take it down afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tspcr_lab.labfile import load_lab
from tspcr_lab.params import generate
from tspcr_lab.probes.accounts import ArchiveFile, ArchiveMembers, PasswordQualityPolicy, Shadow, UserGroups
from tspcr_lab.targets import virtual_target

HERE = Path(__file__).parent


def main(instance: str) -> None:
    lab = load_lab("local-accounts")
    target = virtual_target(lab, instance)
    expected = generate(lab, target.seed).expected
    pc1 = target.hosts()["pc1"]
    runs: dict[str, dict] = {}
    candidates = list(expected["candidates"].values())

    def record(name: str, probe, context: str) -> None:
        result = pc1.run(probe.command())
        (HERE / f"{name}.out").write_text(result.stdout)
        runs[name] = {"command": result.command, "rc": result.rc, "stderr": result.stderr, "context": context}

    def sh(script: str) -> None:
        result = pc1.run("sh -ec %s", script)
        assert result.rc == 0, result

    untouched = "local-accounts seed 7, untouched (deploy only)"
    record("shadow-untouched", Shadow(), untouched)
    record("groups-departing", UserGroups(expected["departing"]["login"]), untouched)
    record("groups-missing", UserGroups(expected["users"][0]["login"]), untouched)
    record("pwquality-default", PasswordQualityPolicy(*candidates), untouched)
    record("archive-missing", ArchiveMembers(expected["archive"]), untouched)
    record("archive-not-tar", ArchiveMembers("/etc/hostname"), untouched)

    subprocess.run([sys.executable, "-m", "tspcr_lab", "solve", "local-accounts", "--instance", instance], check=True)
    solved = "local-accounts seed 7, solved"
    record("shadow-solved", Shadow(), solved)
    record("groups-two", UserGroups(expected["users"][1]["login"]), solved)
    record("pwquality-solved", PasswordQualityPolicy(*candidates), solved)
    record("pwquality-settings", PasswordQualityPolicy(), solved)
    record("archive", ArchiveMembers(expected["archive"]), solved)
    document = next(rel for rel in expected["departing"]["files"] if rel.startswith("Documents/"))
    record("archive-file", ArchiveFile(expected["archive"], f"{expected['departing']['login']}/{document}"), solved)
    record("archive-file-missing", ArchiveFile(expected["archive"], "no/such/member"), solved)

    sh("chage -E 0 " + expected["users"][0]["login"] + "; usermod -p '' " + expected["users"][1]["login"]
       + "; chage -M -1 -W -1 " + expected["users"][2]["login"])
    record("shadow-expired-empty", Shadow(), solved + "; then user1 expired (chage -E 0), user2 with an empty "
           "password (usermod -p ''), user3 with ageing off (chage -M -1 -W -1)")
    sh("printf 'minlen = 9\\nfoo = 1\\n' > /etc/security/pwquality.conf;"
       " sed -i 's/pam_pwquality.so retry=3/pam_pwquality.so retry=3 minclass=2 enforcing=0/' /etc/pam.d/common-password")
    record("pwquality-pam-options", PasswordQualityPolicy(*candidates), solved + "; then pwquality.conf 'minlen = 9' "
           "and an unknown 'foo = 1', PAM line 'pam_pwquality.so retry=3 minclass=2 enforcing=0'")
    sh("sed -i '/pam_pwquality/d' /etc/pam.d/common-password")
    record("pwquality-no-pam", PasswordQualityPolicy(), solved + "; then the pam_pwquality line deleted from common-password")
    (HERE / "runs.json").write_text(json.dumps(runs, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "dev-accounts")
