"""A correct trainee's work for local-accounts (pyinfra deploy): what ``tspcr-lab solve local-accounts``
applies, with the commands a technician types, in the order of the instructions."""

from io import StringIO
from shlex import quote

from pyinfra import host
from pyinfra.operations import files, server

plan = host.data.lab_expected

if host.name == "pc1":
    # 1. The profile skeleton, before any account is created.
    files.line(name="profile skeleton", path=plan["skel_file"], line=plan["skel_line"])

    # 2. Groups, then accounts from the skeleton, with their password.
    commands = [f"getent group {quote(g)} >/dev/null || groupadd {quote(g)}" for g in plan["groups"]]
    for user in plan["users"]:
        login = quote(user["login"])
        commands += [
            f"id -u {login} >/dev/null 2>&1 || useradd -m -d {quote(user['home'])} -s {quote(user['shell'])}"
            f" -c {quote(user['full_name'])} -G {quote(','.join(user['groups']))} {login}",
            f"echo {quote(user['login'] + ':' + user['password'])} | chpasswd",
            # 3. Homes reachable by their owner only.
            f"chmod 700 {quote(user['home'])}",
            # 4. Ageing.
            f"chage -M {plan['max_days']} -W {plan['warn_days']} {login}",
        ]
    commands.append(f"chage -d 0 {quote(plan['must_change'])}")
    server.shell(name="groups and accounts", commands=commands)

    # 4. Complexity, through pam_pwquality (already in /etc/pam.d/common-password).
    files.put(
        name="password complexity",
        src=StringIO(
            "# Password quality policy (pam_pwquality)\n"
            f"minlen = {plan['minlen']}\nminclass = {plan['minclass']}\n"
        ),
        dest="/etc/security/pwquality.conf",
    )

    # 5. The user on leave: password locked, account and files kept.
    server.shell(name="disable the account on leave", commands=[f"usermod -L {quote(plan['on_leave']['login'])}"])

    # 6. The departing user: archive the whole home, then delete the account and the home.
    departing = plan["departing"]
    archive = plan["archive"]
    server.shell(
        name="archive then delete the departing user",
        commands=[
            f"mkdir -p {quote(archive.rsplit('/', 1)[0])}",
            f"if id -u {quote(departing['login'])} >/dev/null 2>&1; then"
            f" tar czf {quote(archive)} -C /home {quote(departing['login'])}"
            f" && userdel -r {quote(departing['login'])}; fi",
            f"chmod 600 {quote(archive)}",
        ],
    )
