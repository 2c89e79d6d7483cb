"""Starting state of the file-security lab (pyinfra deploy).

srv1 is the company's file server: the groups and the accounts of the parameters exist (each
user with a private primary group and the supplementary groups of their department and of the
staff), and the base folder of the shared tree exists, left wide open by a previous install
(root:root, mode 0777). Building the tree and its rights is the trainee's work.
"""

from pyinfra import host
from pyinfra.operations import files, server

plan = host.data.lab_expected

if host.name == "srv1":
    import shlex

    memberships: dict[str, list[str]] = {}
    for key, logins in plan["members"].items():
        for login in logins:
            memberships.setdefault(login, []).append(plan["groups"][key])
    # One script rather than an operation per account: pyinfra reads the users and groups again
    # for each server.user/server.group, which made this deploy take seconds.
    lines = [f"getent group {shlex.quote(g)} >/dev/null || groupadd {shlex.quote(g)}" for g in plan["groups"].values()]
    for login in plan["users"].values():
        groups = ",".join(memberships.get(login, []))
        lines.append(
            f"id -u {shlex.quote(login)} >/dev/null 2>&1 || useradd -m -s /bin/bash"
            + (f" -G {shlex.quote(groups)}" if groups else "") + f" {shlex.quote(login)}"
        )
    server.shell(name="groups and accounts", commands=["\n".join(lines)])
    files.directory(
        name="base folder, left wide open",
        path=plan["folders"]["base"],
        user="root",
        group="root",
        mode="777",
    )
