"""A sample trainee's work for vlans, partly right (used by the tests):

* sw1 is right, except that its unused ports p4 and p5 are left open and the trunk p6 carries
  every VLAN (no trunks list);
* sw2's pc4 port p2 is in VLAN A instead of B (pc4 then reaches pc3's department, not its own),
  p1's label is mistyped, and its management address was set by hand only (lost at reboot).
"""

import shlex

from pyinfra import host
from pyinfra.operations import files, server

plan = host.data.lab_expected
bridge, trunk, mgmt = plan["bridge"], plan["trunk"], plan["mgmt"]
a, b = plan["vlan_ids"]["a"], plan["vlan_ids"]["b"]

if host.name in plan["ports"]:
    iface, address = mgmt["iface"], mgmt["addresses"][host.name]
    commands = []
    for port, want in plan["ports"][host.name].items():
        vlan, label = want["vlan"], want["label"]
        if host.name == "sw2" and port == "p2":
            vlan = a
        if host.name == "sw2" and port == "p1":
            label = label.replace("-", "")
        commands.append(f"ovs-vsctl set port {port} tag={vlan} external_ids:description={shlex.quote(label)}")
    label = shlex.quote(trunk["labels"][host.name])
    if host.name == "sw1":
        commands.append(f"ovs-vsctl set port {trunk['port']} external_ids:description={label}")
    else:
        commands.append(f"ovs-vsctl set port {trunk['port']} trunks={','.join(map(str, trunk['vlans']))} "
                        f"external_ids:description={label}")
        for port in plan["unused"][host.name]:
            commands.append(f"ovs-vsctl --if-exists del-port {bridge} {port}")
    commands.append(f"ovs-vsctl --may-exist add-port {bridge} {iface} tag={mgmt['vlan']} "
                    f"-- set interface {iface} type=internal")
    if host.name == "sw1":
        files.put(name="management address, saved", src=__import__("io").StringIO(
            f"auto {iface}\niface {iface} inet static\n    address {address}\n"), dest=f"/etc/network/interfaces.d/{iface}")
        commands.append(f"ifup {iface}")
    else:
        commands += [f"ip link set {iface} up", f"ip addr add {address} dev {iface}"]
    server.shell(name="the trainee's switch configuration", commands=commands)
