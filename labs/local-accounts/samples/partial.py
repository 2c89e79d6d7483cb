"""A sample trainee's work for local-accounts, partly right (used by the demo and the tests):

* the accounts were created before the profile skeleton was prepared: their homes lack its file;
* user2 was not added to their second security group;
* user3's password ageing was forgotten;
* the complexity policy sets the minimum length but not the minimum number of classes;
* the user on leave got the nologin shell instead of a locked account: sshd still accepts their
  password;
* the departing user's home was archived with ``*`` (hidden files missed) and the account deleted
  with ``userdel`` without ``-r`` (the home is left behind).
"""

from io import StringIO
from shlex import quote

from pyinfra import host
from pyinfra.operations import files, server

plan = host.data.lab_expected

if host.name == "pc1":
    commands = [f"getent group {quote(g)} >/dev/null || groupadd {quote(g)}" for g in plan["groups"]]
    for i, user in enumerate(plan["users"]):
        login = quote(user["login"])
        groups = user["groups"][:1]
        commands += [
            f"id -u {login} >/dev/null 2>&1 || useradd -m -s {quote(user['shell'])} -c {quote(user['full_name'])}"
            f" -G {quote(','.join(groups))} {login}",
            f"echo {quote(user['login'] + ':' + user['password'])} | chpasswd",
            f"chmod 700 {quote(user['home'])}",
        ]
        if i < 2:
            commands.append(f"chage -M {plan['max_days']} -W {plan['warn_days']} {login}")
    commands.append(f"chage -d 0 {quote(plan['must_change'])}")
    server.shell(name="groups and accounts", commands=commands)
    files.line(name="profile skeleton, too late", path=plan["skel_file"], line=plan["skel_line"])
    files.put(name="password length only", src=StringIO(f"minlen = {plan['minlen']}\n"),
              dest="/etc/security/pwquality.conf")
    server.shell(name="account on leave: nologin shell",
                 commands=[f"usermod -s /usr/sbin/nologin {quote(plan['on_leave']['login'])}"])
    departing = plan["departing"]
    server.shell(
        name="archive without the hidden files, delete without the home",
        commands=[
            f"mkdir -p {quote(plan['archive'].rsplit('/', 1)[0])}",
            f"if id -u {quote(departing['login'])} >/dev/null 2>&1; then"
            f" tar czf {quote(plan['archive'])} {quote(departing['home'])}/* && userdel {quote(departing['login'])}; fi",
        ],
    )
