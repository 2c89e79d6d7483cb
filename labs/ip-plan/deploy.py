"""Starting state of the ip-plan lab (pyinfra deploy).

r1 routes between LAN A (eth0) and LAN B (eth1); srv1 sits on LAN B and runs a DNS resolver
(dnsmasq) answering for the lab's domain. pc1 and pc2 are left unconfigured: that is the trainee's
work. ``host.data.lab_expected`` holds the plan drawn from the seed.
"""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

from tspcr_lab.provision.services import service_at_boot

plan = host.data.lab_expected
role = host.data.lab_role


def interfaces(stanzas: str) -> StringIO:
    return StringIO("# written by the lab's deploy\n" + stanzas)


if host.name == "r1":
    files.put(
        name="r1: LAN A and LAN B interfaces",
        src=interfaces(
            f"auto eth0\niface eth0 inet static\n    address {plan['router']['eth0']}\n\n"
            f"auto eth1\niface eth1 inet static\n    address {plan['router']['eth1']}\n"
        ),
        dest="/etc/network/interfaces.d/lab",
    )
    files.put(
        name="r1: IPv4 forwarding",
        src=StringIO("net.ipv4.ip_forward = 1\n"),
        dest="/etc/sysctl.d/30-router.conf",
    )
    server.shell(name="r1: apply", commands=["sysctl -q -w net.ipv4.ip_forward=1", "ifup -a"])

elif host.name == "srv1":
    files.put(
        name="srv1: LAN B interface",
        src=interfaces(
            f"auto eth0\niface eth0 inet static\n    address {plan['srv1']}\n    gateway {plan['gateway_b']}\n"
        ),
        dest="/etc/network/interfaces.d/lab",
    )
    files.put(
        name="srv1: its own resolver",
        src=StringIO(f"search {plan['domain']}\nnameserver 127.0.0.1\n"),
        dest="/etc/resolv.conf",
    )
    domain = plan["domain"]
    records = [f"host-record=srv1.{domain},{plan['dns']}", f"host-record=r1.{domain},{plan['gateway_b']}"]
    for name, pc in plan["pcs"].items():
        records.append(f"host-record={pc['hostname']}.{domain},{pc['address'].split('/')[0]}")
    files.put(
        name="srv1: DNS zone of the lab (dnsmasq)",
        src=StringIO(
            "# DNS resolver of the lab: answers for its domain only, asks no one else\n"
            "no-resolv\nno-hosts\nno-poll\n"
            # answer the whole lab (both LANs), not only srv1's own subnet (--local-service)
            "interface=eth0\n"
            f"local=/{domain}/\ndomain={domain}\n" + "\n".join(records) + "\n"
        ),
        dest="/etc/dnsmasq.d/lab.conf",
    )
    service_at_boot("dnsmasq")
    # A fresh host has no dnsmasq running yet: start it (a restart would wait for a stop).
    server.shell(name="srv1: apply", commands=["ifup -a", "service dnsmasq status >/dev/null && service dnsmasq restart || service dnsmasq start"])

elif role == "pc":
    files.put(name="PC: unconfigured name", src=StringIO("debian\n"), dest="/etc/hostname")
    server.shell(name="PC: apply the name", commands=["hostname debian"])
