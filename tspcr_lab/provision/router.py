"""Deploy helpers for routers, written once for every lab that has some.

``frr_router(ports, user, password, config)`` makes a host an FRR router in its factory state,
managed as a Cisco IOS router is: SSH to an account whose login shell is vtysh (FRR's IOS-like
CLI), or vtysh in the router's own terminal. What it lays down:

* FRR with zebra, staticd and ospfd (``/etc/frr/daemons``), started at boot (the virtual lab's
  boot services; on a real Debian its rc script);
* ``/etc/frr/frr.conf``: the integrated configuration with the host's own name as hostname, and
  ``config`` (lines of the lab's starting configuration, e.g. OSPF timers), writable by the vty
  group so that ``write memory`` from an admin session works;
* the ports up at boot without an address (``/etc/network/interfaces.d/ports``): addresses are
  the router's configuration (FRR's), as on a real router;
* forwarding on (a router routes out of its box);
* the account ``user`` (login shell vtysh; groups frrvty, to reach the daemons, and frr, to read
  their run folder and vtysh.conf) with its factory ``password``. A failed
  login is answered at once (pam_unix ``nodelay``), as an IOS router without ``login block-for``.

Use it in a lab's deploy.py: ``frr_router(["eth0", "eth1"], "admin", "admin", [])``.
"""

from __future__ import annotations

import shlex
from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.facts.server import Hostname
from pyinfra.operations import files, server

from .services import BOOT_SERVICES

DAEMONS = ("ospfd",)  # zebra and staticd always run; the routing daemons a lab may use


@deploy("FRR router (factory state)")
def frr_router(ports: list[str], user: str, password: str, config: list[str]) -> None:
    name = host.get_fact(Hostname)
    for daemon in DAEMONS:
        files.line(name=f"{host.name}: FRR's {daemon}", path="/etc/frr/daemons", line=f"^{daemon}=.*",
                   replace=f"{daemon}=yes")
    text = "\n".join(["frr version 8.4.4", "frr defaults traditional", f"hostname {name}",
                      "service integrated-vtysh-config", "!", *config, "end", ""])
    files.put(name=f"{host.name}: FRR's factory configuration", src=StringIO(text), dest="/etc/frr/frr.conf",
              user="frr", group="frrvty", mode="660")
    files.directory(name=f"{host.name}: /etc/frr writable by the vty group (write memory)", path="/etc/frr",
                    user="frr", group="frrvty", mode="775")
    stanzas = "".join(f"auto {port}\niface {port} inet manual\n\n" for port in ports)
    files.put(name=f"{host.name}: router ports up at boot",
              src=StringIO("# the router's ports: up, addresses from FRR (written by the lab's deploy)\n" + stanzas),
              dest="/etc/network/interfaces.d/ports")
    files.put(name=f"{host.name}: forwarding", src=StringIO("net.ipv4.ip_forward = 1\n"),
              dest="/etc/sysctl.d/40-router.conf")
    if host.get_fact(File, path=BOOT_SERVICES):
        files.line(name=f"{host.name}: start FRR at boot (virtual lab host)", path=BOOT_SERVICES, line="frr")
    files.replace(name=f"{host.name}: a failed login answered at once", path="/etc/pam.d/common-auth",
                  text=r"pam_unix\.so nullok$", replace="pam_unix.so nullok nodelay")
    server.shell(name=f"{host.name}: the {user} account, vtysh as its shell", commands=[
        f"id {shlex.quote(user)} >/dev/null 2>&1 || useradd -m -s /usr/bin/vtysh -G frr,frrvty {shlex.quote(user)}",
        f"echo {shlex.quote(user + ':' + password)} | chpasswd",
        # vtysh writes its history to ~/.history_frr at the end of every session: not on a router
        # (a grader's session would change the router's files)
        f"ln -sfn /dev/null ~{user}/.history_frr",
    ])
    server.shell(name=f"{host.name}: ports up, forwarding, FRR started", commands=[
        "ifup -a",
        "sysctl -q -p /etc/sysctl.d/40-router.conf",
        "service frr restart >/dev/null",
        # saved as FRR itself writes it: a trainee's "write memory" then changes only what they did
        "vtysh -c 'write memory' >/dev/null",
    ])
