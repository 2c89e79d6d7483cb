"""Starting state of the dhcp-dns lab (pyinfra deploy).

gw holds the LAN's gateway address (a router of the plan, not the trainee's). srv1 has its fixed
address and dnsmasq installed (the image's package) but unconfigured and stopped, and not started
at boot. pc1 and pc2 have no network configuration (eth0 declared nowhere, no lease): that is the
trainee's work. ``host.data.lab_expected`` holds the plan drawn from the seed.
"""

from io import StringIO

from pyinfra import host
from pyinfra.facts.files import File
from pyinfra.operations import files, server

plan = host.data.lab_expected
BOOT_SERVICES = "/etc/tspcr-lab/boot-services"  # how a virtual lab host starts its services; a real one has none


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
    # dnsmasq as the package leaves it, stopped and not started at boot: on a virtual lab host it
    # is not in its list of boot services; on a real Debian host, disabled the Debian way
    if host.get_fact(File, path=BOOT_SERVICES):
        files.line(name="srv1: dnsmasq not started at boot (virtual lab host)", path=BOOT_SERVICES,
                   line="dnsmasq", present=False)
    server.shell(
        name="srv1: dnsmasq stopped, not enabled; address applied",
        commands=["service dnsmasq stop >/dev/null 2>&1 || true",
                  "if command -v systemctl >/dev/null 2>&1; then systemctl disable dnsmasq 2>/dev/null || true; "
                  "else update-rc.d dnsmasq disable 2>/dev/null || true; fi",
                  "rm -f /var/lib/misc/dnsmasq.leases",
                  "ifdown --force eth0 2>/dev/null || true", "ifup eth0"],
    )

elif host.name in plan["pcs"]:
    files.file(name=f"{host.name}: no eth0 configuration", path="/etc/network/interfaces.d/eth0", present=False)
    server.shell(name=f"{host.name}: no lease, eth0 without an address",
                 commands=["rm -f /var/lib/dhcp/dhclient*.leases", "ip -4 addr flush dev eth0"])
