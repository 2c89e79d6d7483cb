"""A correct trainee's work for vlans (pyinfra deploy): what ``tspcr-lab solve vlans`` applies.

Access ports tagged, the trunk p6 limited to the plan's three VLANs, every used port labelled, the
unused ports removed from the bridge, and the management address on an internal port in the
management VLAN, declared in /etc/network/interfaces.d/ (brought up again at every boot).
"""

import shlex
from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

plan = host.data.lab_expected

if host.name in plan["ports"]:
    bridge, trunk, mgmt = plan["bridge"], plan["trunk"], plan["mgmt"]
    iface, address = mgmt["iface"], mgmt["addresses"][host.name]
    commands = []
    for port, want in plan["ports"][host.name].items():
        commands.append(f"ovs-vsctl set port {port} tag={want['vlan']} "
                        f"external_ids:description={shlex.quote(want['label'])}")
    commands.append(f"ovs-vsctl set port {trunk['port']} trunks={','.join(str(v) for v in trunk['vlans'])} "
                    f"external_ids:description={shlex.quote(trunk['labels'][host.name])}")
    for port in plan["unused"][host.name]:
        commands.append(f"ovs-vsctl --if-exists del-port {bridge} {port}")
    commands.append(f"ovs-vsctl --may-exist add-port {bridge} {iface} tag={mgmt['vlan']} "
                    f"-- set interface {iface} type=internal")
    files.put(
        name="management address, brought up at boot",
        src=StringIO(f"auto {iface}\niface {iface} inet static\n    address {address}\n"),
        dest=f"/etc/network/interfaces.d/{iface}",
    )
    server.shell(name="VLANs, trunk, labels, unused ports, management port",
                 commands=commands + [f"ifdown --force {iface} 2>/dev/null || true", f"ifup {iface}"])
