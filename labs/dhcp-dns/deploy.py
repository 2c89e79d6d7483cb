"""Starting state of the dhcp-dns lab (pyinfra deploy).

gw holds the LAN's gateway address (a router of the plan, not the trainee's). srv1 has its fixed
address and dnsmasq installed (the image's package) but unconfigured and stopped, and not started
at boot. pc1 and pc2 have no network configuration (eth0 declared nowhere, no lease): that is the
trainee's work. ``host.data.lab_expected`` holds the plan drawn from the seed.
"""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

from tspcr_lab.provision.services import service_at_boot

plan = host.data.lab_expected


def interfaces(stanzas: str) -> StringIO:
    return StringIO("# written by the lab's deploy\n" + stanzas)


if host.name == "gw":
    files.put(
        name="gw: the LAN's gateway address",
        src=interfaces(f"auto eth0\niface eth0 inet static\n    address {plan['gateway_cidr']}\n"),
        dest="/etc/network/interfaces.d/lab",
    )
    server.shell(name="gw: apply", commands=["ifdown --force eth0 2>/dev/null || true", "ifup eth0"])

elif host.name == "srv1":
    files.put(
        name="srv1: its fixed address",
        src=interfaces(f"auto eth0\niface eth0 inet static\n    address {plan['srv1_cidr']}\n"
                       f"    gateway {plan['gateway']}\n"),
        dest="/etc/network/interfaces.d/lab",
    )
    files.put(name="srv1: its own resolver", src=StringIO("nameserver 127.0.0.1\n"), dest="/etc/resolv.conf")
    # dnsmasq as the package leaves it, stopped and not started at boot
    service_at_boot("dnsmasq", enabled=False)
    server.shell(
        name="srv1: dnsmasq stopped; address applied",
        commands=["service dnsmasq stop >/dev/null 2>&1 || true",
                  "rm -f /var/lib/misc/dnsmasq.leases",
                  "ifdown --force eth0 2>/dev/null || true", "ifup eth0"],
    )

elif host.name in plan["pcs"]:
    files.file(name=f"{host.name}: no eth0 configuration", path="/etc/network/interfaces.d/eth0", present=False)
    server.shell(name=f"{host.name}: no lease, eth0 without an address",
                 commands=["rm -f /var/lib/dhcp/dhclient*.leases", "ip -4 addr flush dev eth0"])
