"""Starting state of the local-accounts lab (pyinfra deploy).

pc1 is a Debian PC with sshd (password logins allowed) and PAM's pam_pwquality in its password
stack, with the default settings. Two accounts already exist, with a password and a home made
from the stock skeleton: the user going on leave (to be disabled, files kept) and the departing
user (whose home holds the files to archive before the account is deleted). The trainee creates
everything else.
"""

from io import StringIO
from shlex import quote

from pyinfra import host
from pyinfra.operations import files, server

plan = host.data.lab_expected

if host.name == "pc1":
    on_leave, departing = plan["on_leave"], plan["departing"]
    accounts = [
        (on_leave, {on_leave["file"]: on_leave["content"]}),
        (departing, departing["files"]),
    ]
    for account, content in accounts:
        login = account["login"]
        server.shell(
            name=f"existing account {login}",
            commands=[
                f"id -u {quote(login)} >/dev/null 2>&1 || useradd -m -s /bin/bash -c {quote(account['full_name'])} {quote(login)}",
                f"echo {quote(login + ':' + account['password'])} | chpasswd",
            ],
        )
        for rel, text in content.items():
            path = f"{account['home']}/{rel}"
            folder = path.rsplit("/", 1)[0]
            if folder != account["home"]:
                files.directory(name=f"{login}: {folder}", path=folder, user=login, group=login, mode="755")
            files.put(name=f"{login}: {rel}", src=StringIO(text), dest=path, user=login, group=login, mode="644")
