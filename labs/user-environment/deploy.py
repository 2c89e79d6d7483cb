"""Starting state of the user-environment lab (pyinfra deploy).

pc1 is the shared PC: the users and their passwords, the group that gets the banner, each user's
network folder (``share_root/<user>``, owned by the user, private) and the company's tools folder
(not yet on anybody's PATH). The logon script, the variables, the banner and the skeleton are the
trainee's work.
"""

import shlex
from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

want = host.data.lab_expected

if host.name == "pc1":
    q = shlex.quote
    group = want["group"]
    commands = [f"getent group {q(group)} >/dev/null || groupadd {q(group)}"]
    for user in want["users"].values():
        name = user["name"]
        extra = f" -G {q(group)}" if user["member"] else ""
        commands += [
            f"id -u {q(name)} >/dev/null 2>&1 || useradd -m -s /bin/bash{extra} {q(name)}",
            f"printf '%s\\n' {q(name + ':' + user['password'])} | chpasswd",
            f"install -d -m 0755 -o root -g root {q(want['share_root'])}",
            f"install -d -m 0700 -o {q(name)} -g {q(name)} {q(user['folder'])}",
        ]
    server.shell(name="pc1: users, group and network folders", commands=commands)
    files.put(
        name="pc1: the company's support tool (not on the PATH yet)",
        src=StringIO(f"#!/bin/sh\necho {q(want['tool_output'])}\n"),
        dest=f"{want['tools_dir']}/{want['tool']}",
        mode="755",
        create_remote_dir=True,
    )
