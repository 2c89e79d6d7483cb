"""Record the samba probes' real outputs from a shares lab (see README.txt in this folder).

    .venv/bin/tspcr-lab up shares --instance dev-shares --seed 7
    .venv/bin/python tests/unit/recorded/samba/record.py dev-shares untouched
    .venv/bin/tspcr-lab solve shares --instance dev-shares
    .venv/bin/python tests/unit/recorded/samba/record.py dev-shares solved

Each case runs a probe's own command() on the lab's host and stores NAME.out (standard output,
byte for byte) and its command, exit code, standard error and context in runs.json.
"""

from __future__ import annotations

import json
import pathlib
import sys

from tspcr_lab.context import open_context
from tspcr_lab.probes.samba import SambaAccounts, SambaConfig, SmbClient, SmbShares

HERE = pathlib.Path(__file__).parent


def main(instance: str, phase: str) -> None:
    context = open_context("shares", instance=instance)
    hosts, plan = context.hosts, context.params.expected
    server = plan["server"]
    u1, u3 = plan["users"]["user1"], plan["users"]["user3"]
    d1, d2 = plan["departments"]["dept1"]["share"], plan["departments"]["dept2"]["share"]
    docs, departed, legacy = plan["docs"]["share"], plan["departed"], plan["legacy"]["share"]
    if phase == "untouched":
        cases = {
            "testparm-untouched": ("srv1", SambaConfig()),
            "pdbedit-untouched": ("srv1", SambaAccounts()),
            "smbclient-anonymous-guest-share": ("pc1", SmbClient(server, legacy, "ls")),
            "smbclient-unknown-user-guest": ("pc1", SmbClient(server, legacy, "ls", "visiteur42", "x")),
            "smbclient-no-account-mapped-guest": ("pc1", SmbClient(server, d1, "ls", u1["name"], u1["password"])),
            "smbclient-list-anonymous-untouched": ("pc1", SmbShares(server)),
        }
    elif phase == "solved":
        cases = {
            "testparm-solved": ("srv1", SambaConfig()),
            "pdbedit-solved": ("srv1", SambaAccounts()),
            "smbclient-ls-ok": ("pc1", SmbClient(server, d1, "ls", u1["name"], u1["password"])),
            "smbclient-put-del-ok": ("pc1", SmbClient(server, d1, "put /etc/hostname .rec-probe.tmp; del .rec-probe.tmp",
                                                      u1["name"], u1["password"])),
            "smbclient-put-denied": ("pc1", SmbClient(server, docs, "put /etc/hostname .rec-probe.tmp; del .rec-probe.tmp",
                                                      u1["name"], u1["password"])),
            "smbclient-tree-denied": ("pc1", SmbClient(server, d2, "ls", u1["name"], u1["password"])),
            "smbclient-bad-network-name": ("pc1", SmbClient(server, "nosuchshare", "ls", u1["name"], u1["password"])),
            "smbclient-logon-failure": ("pc1", SmbClient(server, d2, "ls", u3["name"], "wrong-password")),
            "smbclient-account-disabled": ("pc1", SmbShares(server, departed["name"], departed["password"])),
            "smbclient-anonymous-denied": ("pc1", SmbClient(server, docs, "ls")),
            "smbclient-list": ("pc1", SmbShares(server, u1["name"], u1["password"])),
            "smbclient-list-anonymous-restricted": ("pc1", SmbShares(server)),
            "smbclient-host-unreachable": ("pc1", SmbClient(plan["lan"].rsplit(".", 1)[0] + ".99", docs, "ls",
                                                            u1["name"], u1["password"], timeout=2)),
        }
    elif phase == "stopped":
        cases = {"smbclient-connection-refused": ("pc1", SmbClient(server, docs, "ls", u1["name"], u1["password"]))}
    elif phase == "broken":
        cases = {"testparm-broken": ("srv1", SambaConfig("/nonexistent/smb.conf"))}
    else:
        raise SystemExit(f"unknown phase {phase}")
    runs_path = HERE / "runs.json"
    runs = json.loads(runs_path.read_text()) if runs_path.exists() else {}
    for name, (host, probe) in cases.items():
        result = hosts[host].run(probe.command(), timeout=20)
        (HERE / f"{name}.out").write_text(result.stdout)
        runs[name] = {"command": result.command, "rc": result.rc, "stderr": result.stderr,
                      "context": f"{host} of shares lab seed {context.params.seed}, {phase}"}
        print(name, result.rc)
    runs_path.write_text(json.dumps(runs, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    context.hosts.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
