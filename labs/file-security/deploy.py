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
    for group in plan["groups"].values():
        server.group(name=f"group {group}", group=group)
    memberships: dict[str, list[str]] = {}
    for key, logins in plan["members"].items():
        for login in logins:
            memberships.setdefault(login, []).append(plan["groups"][key])
    for login in plan["users"].values():
        server.user(
            name=f"user {login}",
            user=login,
            groups=memberships.get(login, []),
            shell="/bin/bash",
            create_home=True,
        )
    files.directory(
        name="base folder, left wide open",
        path=plan["folders"]["base"],
        user="root",
        group="root",
        mode="777",
    )
