"""A correct trainee's work for shares (pyinfra deploy): what ``tspcr-lab solve shares`` applies."""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

plan = host.data.lab_expected


def samba_password(user: dict) -> str:
    password = user["password"].replace("'", "'\\''")
    return f"printf '%s\\n%s\\n' '{password}' '{password}' | smbpasswd -s -a {user['name']}"


if host.name == "srv1":
    departments = plan["departments"].values()
    docs = plan["docs"]
    server.shell(
        name="groups and their members",
        commands=[c for d in departments for c in (
            f"getent group {d['group']} >/dev/null || groupadd {d['group']}",
            *(f"usermod -aG {d['group']} {member}" for member in d["members"]),
        )],
    )
    server.shell(
        name="Samba accounts; the former employee's disabled",
        commands=[samba_password(u) for u in plan["users"].values()]
        + [f"smbpasswd -d {plan['departed']['name']}"],
    )
    server.shell(
        name="share folders and their Unix permissions",
        commands=[c for d in departments for c in (
            f"mkdir -p {d['path']}", f"chown root:{d['group']} {d['path']}", f"chmod 2770 {d['path']}",
        )] + [f"mkdir -p {docs['path']}", f"chown root:{docs['group']} {docs['path']}", f"chmod 2775 {docs['path']}",
              f"echo 'Règles de partage : chaque service a son dossier.' > {docs['path']}/LISEZMOI.txt",
              f"chgrp {docs['group']} {docs['path']}/LISEZMOI.txt"],
    )
    shares = "".join(
        f"\n[{d['share']}]\n   path = {d['path']}\n   valid users = @{d['group']}\n   read only = no\n"
        "   create mask = 0660\n   directory mask = 2770\n"
        for d in departments
    )
    files.put(
        name="smb.conf",
        src=StringIO(
            "# Samba configuration of the file server\n"
            "[global]\n"
            f"   workgroup = {plan['workgroup']}\n"
            "   server string = Serveur de fichiers\n"
            "   server role = standalone server\n"
            "   log file = /var/log/samba/log.%m\n"
            "   max log size = 1000\n"
            "   disable netbios = yes\n"
            "   load printers = no\n"
            "   printing = bsd\n"
            "   printcap name = /dev/null\n"
            "   disable spoolss = yes\n"
            "   map to guest = never\n"
            "   restrict anonymous = 2\n"
            + shares
            + f"\n[{docs['share']}]\n   path = {docs['path']}\n   read only = yes\n   guest ok = no\n"
        ),
        dest="/etc/samba/smb.conf",
    )
    server.shell(name="apply", commands=["testparm -s >/dev/null", "service smbd reload"])
