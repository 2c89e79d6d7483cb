"""A sample trainee's work for firewall, partly right (used by the tests):

* the filtering is right, except that guests were given the whole DMZ web server (every port of
  web, the intranet too) and SSH is allowed from the whole staff network to fw, not from adm only;
* the ruleset was written in /etc/nftables.conf and loaded, then one rule was added at the prompt
  only (nft add rule ...: lost at the next reboot);
* web's password is still the default one; nginx on fw was stopped but is still started at boot.
"""

import shlex
from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

from tspcr_lab.provision.facts import ManagementInterface

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
		ip saddr {zones['staff']['network']} tcp dport 22 accept
	}}
	chain forward {{
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ip saddr {adm} ip daddr {{ {web}, {srv1} }} tcp dport 22 accept
		iifname "{iface['staff']}" oifname "{iface['dmz']}" tcp dport != 22 accept
		iifname "{iface['staff']}" oifname "{iface['dmz']}" udp dport 53 accept
		iifname "{iface['guest']}" ip daddr {web} tcp dport != 22 accept
		iifname "{iface['guest']}" ip daddr {srv1} udp dport 53 accept
		iifname "{iface['guest']}" ip daddr {srv1} tcp dport 53 accept
	}}
}}
"""


admin = plan["admin"]
if host.name == "fw":
    files.put(name="fw: the filtering, saved", src=StringIO(ruleset(host.get_fact(ManagementInterface) or "mgmt0")), dest="/etc/nftables.conf", mode="755")
    server.shell(name="fw: loaded, one rule added at the prompt only; nginx stopped", commands=[
        "nft -f /etc/nftables.conf",
        "nft add rule inet filter input icmp type echo-request accept",
        "service nginx stop",
    ])
if host.name in ("fw", "srv1"):
    server.shell(name=f"{host.name}: the plan's password",
                 commands=[f"echo {shlex.quote(admin['user'] + ':' + admin['password'])} | chpasswd"])
