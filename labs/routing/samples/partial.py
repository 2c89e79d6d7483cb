"""A sample trainee's work for routing, partly right (used by the tests):

* r1 is right, but its configuration was never saved (no write memory: lost at the next reboot);
* r2 is right and saved, but its name was set by hand only (not in /etc/hostname) and its LAN
  interface is not passive (OSPF hellos reach pc2);
* r3 is saved, but the backup link's cost was forgotten at its end (traffic from lan3 to lan1
  takes the backup link) and its admin password is still the factory one.
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
        if plan["interfaces"][me][iface] == plan["backup"]["segment"] and me != "r3":
            lines.append(f"ip ospf cost {plan['backup']['cost']}")
        lines.append("exit")
    if me == "r1":
        lines.append(f"ip route 0.0.0.0/0 {plan['isp']['address'].split('/')[0]}")
    lines += ["router ospf", f"ospf router-id {plan['router_ids'][me]}"]
    for iface, segment in sorted(plan["interfaces"][me].items()):
        if segment != "wan":
            lines.append(f"network {plan['segments'][segment]['network']} area 0")
    if me != "r2":
        lines.append("passive-interface eth0")
    if me == "r1":
        lines.append("default-information originate")
    lines.append("end")
    if me != "r1":
        lines.append("write memory")
    name = plan["hostnames"][me]
    commands = [f"hostname {name}", "vtysh " + " ".join(f"-c {shlex.quote(line)}" for line in lines)]
    if me != "r2":
        commands.append(f"echo {name} > /etc/hostname")
    if me != "r3":
        commands.append(f"echo {shlex.quote(plan['admin']['user'] + ':' + plan['admin']['password'])} | chpasswd")
    server.shell(name="part of the plan's configuration", commands=commands)
