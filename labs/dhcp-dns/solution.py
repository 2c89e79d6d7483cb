"""A correct trainee's work for dhcp-dns (pyinfra deploy): what ``tspcr-lab solve dhcp-dns`` applies.

srv1: one dnsmasq file for DHCP (range, options, the printer's reservation) and DNS (the zone's
records), dnsmasq started now and at boot. pc1, pc2: eth0 on DHCP in the interfaces files,
brought up at boot, applied now (dhclient).
"""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

from tspcr_lab.provision.services import service_at_boot

plan = host.data.lab_expected

if host.name == "srv1":
    domain, printer, records = plan["domain"], plan["printer"], plan["records"]
    lines = [
        "# DHCP and DNS of the LAN",
        "interface=eth0",
        "no-resolv",
        f"domain={domain}",
        f"local=/{domain}/",
        f"dhcp-range={plan['range']['start']},{plan['range']['end']},{plan['netmask']},{plan['lease_hours']}h",
        f"dhcp-option=option:router,{plan['gateway']}",
        f"dhcp-option=option:dns-server,{plan['srv1']}",
        f"dhcp-host={printer['mac']},{printer['address']},{printer['short']}",
        f"host-record={records['a-srv1']['name']},{records['a-srv1']['value']}",
        f"host-record={records['a-gw']['name']},{records['a-gw']['value']}",
        f"host-record={records['a-printer']['name']},{records['a-printer']['value']}",
        # mail shares srv1's address: an A record only (srv1's address points back to srv1)
        f"address=/{records['a-mail']['name']}/{records['a-mail']['value']}",
        f"cname={records['cname-alias']['name']},{records['cname-alias']['value']}",
        f"mx-host={domain},{records['mx']['value'].split()[1]},{records['mx']['value'].split()[0]}",
    ]
    files.put(name="srv1: dnsmasq, DHCP and DNS", src=StringIO("\n".join(lines) + "\n"), dest="/etc/dnsmasq.d/lan.conf")
    server.shell(
        name="srv1: dnsmasq (re)started",
        commands=["service dnsmasq status >/dev/null 2>&1 && service dnsmasq restart || service dnsmasq start"],
    )

# pyinfra orders each host's operations, not one host's against another's: one operation shared by
# srv1 and the PCs (the same call) comes after srv1's start of dnsmasq and before the PCs ask for
# their address, so that dhclient is not left waiting for a server not started yet.
if host.name == "srv1" or host.name in plan["pcs"]:
    server.shell(name="the DHCP server is up before the PCs ask", commands=["true"])

if host.name in plan["pcs"]:
    files.put(name="eth0 on DHCP, persistent", src=StringIO("auto eth0\niface eth0 inet dhcp\n"),
              dest="/etc/network/interfaces.d/eth0")
    server.shell(name="apply now", commands=["ifdown --force eth0 2>/dev/null || true", "ifup eth0"])

# last: a deploy of its own (pyinfra orders a deploy's operations apart from the calls around it)
if host.name == "srv1":
    service_at_boot("dnsmasq")
