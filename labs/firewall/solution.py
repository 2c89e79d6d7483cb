"""A correct trainee's work for firewall (pyinfra deploy): what ``tspcr-lab solve firewall`` applies.

fw: /etc/nftables.conf with the plan's filtering (input: loopback, the management network, the
answers, SSH from adm only; forward: the answers, staff to the DMZ except SSH, guests to web's
80/443 and srv1's DNS, SSH from adm to srv1 and web; policy drop), loaded with nft -f; the
forgotten nginx stopped and no longer started at boot. fw, srv1, web: the admin account's password
becomes the plan's.
"""

import shlex
from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

from tspcr_lab.provision.facts import ManagementInterface
from tspcr_lab.provision.services import service_at_boot

plan = host.data.lab_expected
zones, hosts = plan["zones"], plan["hosts"]
iface = {zone: i for i, zone in plan["fw_interfaces"].items()}


def ruleset(management: str) -> str:
    adm, web, srv1 = hosts["adm"]["address"], hosts["web"]["address"], hosts["srv1"]["address"]
    return f"""#!/usr/sbin/nft -f
flush ruleset

table inet filter {{
	chain input {{
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		iifname "{management}" accept
		ct state established,related accept
		ip saddr {adm} tcp dport 22 accept
		icmp type echo-request accept
	}}
	chain forward {{
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ip saddr {adm} ip daddr {{ {web}, {srv1} }} tcp dport 22 accept
		iifname "{iface['staff']}" oifname "{iface['dmz']}" tcp dport != 22 accept
		iifname "{iface['staff']}" oifname "{iface['dmz']}" udp dport 53 accept
		iifname "{iface['staff']}" oifname "{iface['dmz']}" icmp type echo-request accept
		iifname "{iface['guest']}" ip daddr {web} tcp dport {{ 80, 443 }} accept
		iifname "{iface['guest']}" ip daddr {srv1} udp dport 53 accept
		iifname "{iface['guest']}" ip daddr {srv1} tcp dport 53 accept
	}}
	chain output {{
		type filter hook output priority filter; policy accept;
	}}
}}
"""


def new_password() -> None:
    admin = plan["admin"]
    server.shell(name=f"{host.name}: the {admin['user']} account's password is the plan's",
                 commands=[f"echo {shlex.quote(admin['user'] + ':' + admin['password'])} | chpasswd"])


if host.name == "fw":
    files.put(name="fw: the plan's filtering, saved", src=StringIO(ruleset(host.get_fact(ManagementInterface) or "mgmt0")), dest="/etc/nftables.conf", mode="755")
    server.shell(name="fw: loaded; the forgotten web server stopped", commands=[
        "nft -f /etc/nftables.conf",
        "service nginx stop",
    ])
    service_at_boot("nginx", enabled=False)
    new_password()
elif host.name in ("srv1", "web"):
    new_password()
