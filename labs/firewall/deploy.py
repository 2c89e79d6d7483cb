"""Starting state of the firewall lab (pyinfra deploy).

fw: a Linux router (forwarding on, its three interfaces addressed), nftables loaded at boot from
/etc/nftables.conf, which lets everything through (Debian's default ruleset, plus the management
network's rule); a forgotten web server (nginx) listening on a needless port, started at boot.
adm, gst: their address and gateway (not the trainee's work). web: nginx serving the site on 80 and
443 (a self-signed certificate) and the staff's intranet on another port. srv1: dnsmasq answering
the lab's zone. fw, srv1 and web have the admin account with its default password (SSH).
``host.data.lab_expected`` holds the plan drawn from the seed.
"""

import shlex
from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

from tspcr_lab.provision.facts import VIRTUAL_MGMT, ManagementInterface
from tspcr_lab.provision.firewall import nftables_at_boot
from tspcr_lab.provision.services import service_at_boot

STARTING_RULESET = """#!/usr/sbin/nft -f
# fw's firewall, loaded at boot (nft -f /etc/nftables.conf). Factory state: everything passes.
flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
		# the lab's management network ({management}): keep it open
		iifname "{management}" accept
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
	}
	chain output {
		type filter hook output priority filter; policy accept;
	}
}
"""

plan = host.data.lab_expected
admin = plan["admin"]
me = host.name


def address(iface: str, cidr: str, gateway: str | None) -> None:
    stanza = f"# written by the lab's deploy\nauto {iface}\niface {iface} inet static\n    address {cidr}\n"
    if gateway:
        stanza += f"    gateway {gateway}\n"
    files.put(name=f"{me}: address of {iface}", src=StringIO(stanza), dest=f"/etc/network/interfaces.d/{iface}")


def admin_account() -> None:
    server.shell(name=f"{me}: the {admin['user']} account, its default password", commands=[
        f"id {admin['user']} >/dev/null 2>&1 || useradd -m -s /bin/bash {admin['user']}",
        f"echo {shlex.quote(admin['user'] + ':' + admin['default_password'])} | chpasswd",
    ])


if me == "fw":
    for iface, zone in plan["fw_interfaces"].items():
        address(iface, f"{plan['zones'][zone]['gateway']}/24", None)
    files.put(name="fw: forwarding", src=StringIO("net.ipv4.ip_forward = 1\n"), dest="/etc/sysctl.d/40-router.conf")
    management = host.get_fact(ManagementInterface) or VIRTUAL_MGMT
    files.put(name="fw: the factory ruleset (everything passes)", dest="/etc/nftables.conf", mode="755",
              src=StringIO(STARTING_RULESET.replace("{management}", management)))
    nftables_at_boot()
    port = plan["needless"]["port"]
    files.put(name="fw: a forgotten web server", dest="/etc/nginx/sites-enabled/default", src=StringIO(
        f"server {{\n    listen {port} default_server;\n    root /var/www/html;\n}}\n"))
    files.put(name="fw: its page", dest="/var/www/html/index.html",
              src=StringIO("<html><body>fw: page de test / test page</body></html>\n"))
    service_at_boot("nginx")
    admin_account()
    server.shell(name="fw: apply", commands=[
        "ifup -a", "sysctl -q -p /etc/sysctl.d/40-router.conf", "nft -f /etc/nftables.conf",
        "service nginx status >/dev/null && service nginx restart || service nginx start",
    ])

elif me in ("adm", "gst"):
    h = plan["hosts"][me]
    address("eth0", f"{h['address']}/24", plan["zones"][h["zone"]]["gateway"])
    server.shell(name=f"{me}: apply", commands=["ifdown --force eth0 2>/dev/null || true", "ifup eth0"])

elif me == "web":
    h = plan["hosts"]["web"]
    address("eth0", f"{h['address']}/24", plan["zones"]["dmz"]["gateway"])
    name = plan["web_name"]
    server.shell(name="web: a self-signed certificate for the site", commands=[
        "test -s /etc/ssl/private/site.key || openssl req -x509 -newkey rsa:2048 -nodes -days 3650 "
        f"-subj /CN={name} -keyout /etc/ssl/private/site.key -out /etc/ssl/certs/site.pem 2>/dev/null",
    ])
    files.put(name="web: the site (80, 443) and the intranet", dest="/etc/nginx/sites-enabled/default", src=StringIO(
        "server {\n    listen 80 default_server;\n    listen 443 ssl default_server;\n"
        "    ssl_certificate /etc/ssl/certs/site.pem;\n    ssl_certificate_key /etc/ssl/private/site.key;\n"
        f"    server_name {name};\n    root /var/www/html;\n}}\n"
        f"server {{\n    listen {plan['intranet_port']};\n    root /var/www/intranet;\n}}\n"))
    files.put(name="web: the site's page", dest="/var/www/html/index.html",
              src=StringIO(f"<html><body><h1>{name}</h1></body></html>\n"))
    files.put(name="web: the intranet's page", dest="/var/www/intranet/index.html",
              src=StringIO("<html><body><h1>Intranet</h1></body></html>\n"))
    service_at_boot("nginx")
    admin_account()
    server.shell(name="web: apply", commands=[
        "ifdown --force eth0 2>/dev/null || true", "ifup eth0",
        "service nginx status >/dev/null && service nginx restart || service nginx start",
    ])

elif me == "srv1":
    h = plan["hosts"]["srv1"]
    address("eth0", f"{h['address']}/24", plan["zones"]["dmz"]["gateway"])
    domain = plan["domain"]
    records = [f"host-record={plan['web_name']},{plan['hosts']['web']['address']}",
               f"host-record=srv1.{domain},{h['address']}"]
    files.put(name="srv1: DNS zone of the lab (dnsmasq)", dest="/etc/dnsmasq.d/lab.conf", src=StringIO(
        "# DNS server of the lab: answers for its domain only, asks no one else\n"
        "no-resolv\nno-hosts\nno-poll\n"
        # answer every network of the lab, not only srv1's own subnet (--local-service)
        "interface=eth0\n"
        f"local=/{domain}/\ndomain={domain}\n" + "\n".join(records) + "\n"))
    service_at_boot("dnsmasq")
    admin_account()
    server.shell(name="srv1: apply", commands=[
        "ifdown --force eth0 2>/dev/null || true", "ifup eth0",
        "service dnsmasq status >/dev/null && service dnsmasq restart || service dnsmasq start",
    ])
