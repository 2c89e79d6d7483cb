"""A correct trainee's work for ip-plan (pyinfra deploy): what ``tspcr-lab solve ip-plan`` applies."""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

plan = host.data.lab_expected

if host.name in plan["pcs"]:
    pc = plan["pcs"][host.name]
    files.put(
        name="static address, persistent",
        src=StringIO(
            "auto eth0\niface eth0 inet static\n"
            f"    address {pc['address']}\n    gateway {plan['gateway_a']}\n"
        ),
        dest="/etc/network/interfaces.d/eth0",
    )
    files.put(name="DNS server", src=StringIO(f"nameserver {plan['dns']}\n"), dest="/etc/resolv.conf")
    files.put(name="host name", src=StringIO(pc["hostname"] + "\n"), dest="/etc/hostname")
    files.line(name="host name in /etc/hosts", path="/etc/hosts", line=r"^127\.0\.1\.1\s.*",
               replace=f"127.0.1.1\t{pc['hostname']}")
    server.shell(
        name="apply now",
        commands=[f"hostname {pc['hostname']}", "ifdown --force eth0 || true", "ifup eth0"],
    )
    if host.name == "pc1":
        server.shell(
            name="write pc1's MAC address",
            commands=[f"cat /sys/class/net/eth0/address > {plan['mac_file']}"],
        )
