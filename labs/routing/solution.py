"""A correct trainee's work for routing (pyinfra deploy): what ``tspcr-lab solve routing`` applies.

On each router: the plan's name (the system's: FRR takes it from there), then in vtysh the plan's addresses, OSPF area 0 with the plan's router
id over every network of the router, the LAN interface passive, the backup link's cost at both
ends, r1's static default route to isp announced in OSPF; then ``write memory``. The admin
account's password becomes the plan's.
"""

import shlex

from pyinfra import host
from pyinfra.operations import server

plan = host.data.lab_expected

if host.name in plan["routers"]:
    me = host.name
    lines = ["configure terminal"]
    for iface, address in sorted(plan["addresses"][me].items()):
        lines += [f"interface {iface}", f"ip address {address}"]
        if plan["interfaces"][me][iface] == plan["backup"]["segment"]:
            lines.append(f"ip ospf cost {plan['backup']['cost']}")
        lines.append("exit")
    if me == "r1":
        lines.append(f"ip route 0.0.0.0/0 {plan['isp']['address'].split('/')[0]}")
    lines += ["router ospf", f"ospf router-id {plan['router_ids'][me]}"]
    for iface, segment in sorted(plan["interfaces"][me].items()):
        if segment != "wan":
            lines.append(f"network {plan['segments'][segment]['network']} area 0")
    lines.append("passive-interface eth0")
    if me == "r1":
        lines.append("default-information originate")
    lines += ["end", "write memory"]
    user = plan["admin"]["user"]
    name = plan["hostnames"][me]
    server.shell(name="the plan's name (FRR takes the system's), configuration saved, admin password changed", commands=[
        f"hostname {name}",
        f"echo {name} > /etc/hostname",
        "vtysh " + " ".join(f"-c {shlex.quote(line)}" for line in lines),
        f"echo {shlex.quote(user + ':' + plan['admin']['password'])} | chpasswd",
    ])
