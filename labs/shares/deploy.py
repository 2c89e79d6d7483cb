"""Starting state of the shares lab (pyinfra deploy).

srv1 and pc1 sit on the office LAN with static addresses. srv1 is the file server as the
trainee's predecessor left it: the staff's Unix accounts (no groups, no Samba accounts yet), the
former employee's Samba account still active, Samba running with an insecure configuration (guests
mapped, a temporary share open to everybody) and started at boot. ``host.data.lab_expected`` holds
the values drawn from the seed.
"""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

from tspcr_lab.provision.services import service_at_boot

plan = host.data.lab_expected
address = plan["addresses"][host.name]

files.put(
    name="LAN interface",
    src=StringIO(f"# written by the lab's deploy\nauto eth0\niface eth0 inet static\n    address {address}\n"),
    dest="/etc/network/interfaces.d/lab",
)
server.shell(name="bring the LAN up", commands=["ifup eth0"])

if host.name == "srv1":
    people = [u["name"] for u in plan["users"].values()] + [plan["departed"]["name"]]
    server.shell(
        name="srv1: the staff's Unix accounts (file server only: no shell, no home)",
        commands=[f"id -u {name} >/dev/null 2>&1 || useradd -M -d /nonexistent -s /usr/sbin/nologin {name}"
                  for name in people],
    )
    legacy = plan["legacy"]
    files.put(
        name="srv1: the predecessor's smb.conf",
        src=StringIO(
            "# Samba configuration of the file server\n"
            "[global]\n"
            "   workgroup = WORKGROUP\n"
            "   server string = Serveur de fichiers\n"
            "   server role = standalone server\n"
            "   log file = /var/log/samba/log.%m\n"
            "   max log size = 1000\n"
            "   disable netbios = yes\n"
            "   load printers = no\n"
            "   printing = bsd\n"
            "   printcap name = /dev/null\n"
            "   disable spoolss = yes\n"
            "   map to guest = bad user\n"
            "\n"
            "# temporary: everybody gets in, read and write\n"
            f"[{legacy['share']}]\n"
            f"   path = {legacy['path']}\n"
            "   guest ok = yes\n"
            "   read only = no\n"
            "   force user = nobody\n"
        ),
        dest="/etc/samba/smb.conf",
    )
    files.directory(name="srv1: the temporary share's folder", path=legacy["path"], mode="777")
    departed = plan["departed"]
    server.shell(
        name="srv1: the former employee's Samba account, still active",
        commands=[
            "mkdir -p /var/lib/samba/private /var/log/samba",
            f"pdbedit -L -u {departed['name']} >/dev/null 2>&1 || "
            f"printf '%s\\n%s\\n' '{departed['password']}' '{departed['password']}' | smbpasswd -s -a {departed['name']}",
        ],
    )
    service_at_boot("smbd")
    server.shell(
        name="srv1: start smbd, list its shares once (the RPC helpers smbd starts on demand create their databases)",
        commands=["service smbd restart",
                  "for i in $(seq 50); do smbclient -N -L //127.0.0.1 >/dev/null 2>&1 && break; sleep 0.1; done"],
    )
