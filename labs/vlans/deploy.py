"""Starting state of the vlans lab (pyinfra deploy).

sw1 and sw2 are Open vSwitch switches in their factory state (tspcr_lab.provision.switch:
one bridge holding every port, untagged). The PCs and adm get their addresses, persistently:
they are not the trainee's work here. ``host.data.lab_expected`` holds the plan drawn from the seed.
"""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

from tspcr_lab.provision.switch import ovs_switch

plan = host.data.lab_expected

if host.name in ("sw1", "sw2"):
    ovs_switch(plan["bridge"], ["p1", "p2", "p3", "p4", "p5", "p6"])
    # As a real switch does when its management interface comes up, announce its address (a
    # gratuitous ARP): an internal port gets a new MAC address at each boot, and adm would
    # otherwise keep sending to the old one until its ARP entry expires.
    files.put(
        name=f"{host.name}: gratuitous ARP when an interface comes up",
        src=StringIO("net.ipv4.conf.all.arp_notify = 1\nnet.ipv4.conf.default.arp_notify = 1\n"),
        dest="/etc/sysctl.d/40-switch.conf",
    )
    server.shell(name=f"{host.name}: apply", commands=["sysctl -q -p /etc/sysctl.d/40-switch.conf"])

elif host.name in plan["pcs"]:
    pc = plan["pcs"][host.name]
    files.put(
        name=f"{host.name}: its address in its VLAN's subnet",
        src=StringIO(f"# written by the lab's deploy\nauto eth0\niface eth0 inet static\n    address {pc['address']}\n"),
        dest="/etc/network/interfaces.d/eth0",
    )
    server.shell(name=f"{host.name}: apply", commands=["ifdown --force eth0 2>/dev/null || true", "ifup eth0"])
