"""Deploy helpers for a lab's network gear, written once for every lab that has some.

``ovs_switch(bridge, ports)`` makes a host an Open vSwitch switch on the userspace datapath (the
virtual lab's kernel has no Open vSwitch module, and none is needed): the service
``ovs-userspace`` (tspcr_lab/data/ovs-userspace.init), started at boot, and a bridge holding
every port, untagged: a switch as it comes out of its box, every port in one broadcast domain.
What a trainee then configures (VLANs, trunks, descriptions...) lives in the switch's own
database and survives a reboot. Use it in a lab's deploy.py: ``ovs_switch("br0", ["p1", "p2"])``.
"""

from __future__ import annotations

from importlib import resources
from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.operations import files, server

from .services import BOOT_SERVICES

INIT = "/etc/init.d/ovs-userspace"


@deploy("Open vSwitch switch (userspace datapath)")
def ovs_switch(bridge: str, ports: list[str]) -> None:
    script = resources.files("tspcr_lab.data").joinpath("ovs-userspace.init").read_text(encoding="utf-8")
    files.put(name=f"{host.name}: the ovs-userspace service", src=StringIO(script), dest=INIT, mode="755")
    stanzas = "".join(f"auto {port}\niface {port} inet manual\n\n" for port in ports)
    files.put(name=f"{host.name}: switch ports up at boot",
              src=StringIO("# the switch's ports: up, no address (written by the lab's deploy)\n" + stanzas),
              dest="/etc/network/interfaces.d/ports")
    if host.get_fact(File, path=BOOT_SERVICES):
        files.line(name=f"{host.name}: start Open vSwitch at boot (virtual lab host)", path=BOOT_SERVICES,
                   line="ovs-userspace")
    # A real Debian boot runs its rc scripts: ours, not Debian's (which wants the kernel module and
    # would hold the database first).
    server.shell(name=f"{host.name}: ovs-userspace at boot, not openvswitch-switch", commands=[
        "[ ! -e /etc/init.d/openvswitch-switch ] || update-rc.d openvswitch-switch disable",
        "update-rc.d ovs-userspace defaults",
    ])
    server.shell(name=f"{host.name}: factory state: {bridge} with every port, untagged", commands=[
        "ifup -a",
        f"{INIT} status || {INIT} start",
        f"ovs-vsctl --may-exist add-br {bridge} -- set bridge {bridge} datapath_type=netdev",
        *(f"ovs-vsctl --may-exist add-port {bridge} {port}" for port in ports),
    ])
