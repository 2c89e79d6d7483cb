"""A sample trainee's work for dhcp-dns, partly right (used by the tests):

* srv1: dnsmasq serves the plan's range and options and the zone's A, PTR and CNAME records, but
  the printer's reservation and the MX record are forgotten, and dnsmasq is started by hand, not
  added to the boot services;
* pc1: eth0 on DHCP in its interfaces file, brought up at boot (right);
* pc2: dhclient run by hand, nothing saved: its lease is right until the next boot.
"""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

plan = host.data.lab_expected

if host.name == "srv1":
    records = plan["records"]
    lines = [
        "interface=eth0",
        "no-resolv",
        f"domain={plan['domain']}",
        f"local=/{plan['domain']}/",
        f"dhcp-range={plan['range']['start']},{plan['range']['end']},{plan['netmask']},{plan['lease_hours']}h",
        f"dhcp-option=option:router,{plan['gateway']}",
        f"dhcp-option=option:dns-server,{plan['srv1']}",
        *(f"host-record={records[key]['name']},{records[key]['value']}" for key in ("a-srv1", "a-gw", "a-printer")),
        f"address=/{records['a-mail']['name']}/{records['a-mail']['value']}",
        f"cname={records['cname-alias']['name']},{records['cname-alias']['value']}",
    ]
    files.put(name="srv1: dnsmasq, no reservation, no MX", src=StringIO("\n".join(lines) + "\n"),
              dest="/etc/dnsmasq.d/lan.conf")
    server.shell(name="srv1: dnsmasq started by hand", commands=["service dnsmasq restart"])

# after srv1's start, before the PCs ask (see solution.py)
if host.name == "srv1" or host.name in plan["pcs"]:
    server.shell(name="the DHCP server is up before the PCs ask", commands=["true"])

if host.name == "pc1":
    files.put(name="pc1: eth0 on DHCP, persistent", src=StringIO("auto eth0\niface eth0 inet dhcp\n"),
              dest="/etc/network/interfaces.d/eth0")
    server.shell(name="pc1: apply now", commands=["ifup eth0"])
elif host.name == "pc2":
    server.shell(name="pc2: dhclient by hand", commands=["dhclient eth0"])
