"""A sample trainee's work for ip-plan, partly right (used by `make demo` and the tests):

* pc1 is right, except that its address was set with `ip addr add` only: lost at the next reboot;
* pc2 has the right address but a /24 prefix instead of the planned one, and no DNS server;
* the MAC file holds a mistyped address.
"""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

plan = host.data.lab_expected

if host.name == "pc1":
    pc = plan["pcs"]["pc1"]
    files.put(name="host name", src=StringIO(pc["hostname"] + "\n"), dest="/etc/hostname")
    files.put(name="DNS server", src=StringIO(f"nameserver {plan['dns']}\n"), dest="/etc/resolv.conf")
    server.shell(
        name="address set by hand only",
        commands=[
            f"hostname {pc['hostname']}",
            "ip link set eth0 up",
            f"ip addr add {pc['address']} dev eth0",
            f"ip route add default via {plan['gateway_a']}",
            f"echo 02:00:de:ad:be:ef > {plan['mac_file']}",
        ],
    )

elif host.name == "pc2":
    pc = plan["pcs"]["pc2"]
    address = pc["address"].split("/")[0]
    files.put(
        name="static address with a wrong prefix",
        src=StringIO(f"auto eth0\niface eth0 inet static\n    address {address}/24\n    gateway {plan['gateway_a']}\n"),
        dest="/etc/network/interfaces.d/eth0",
    )
    files.put(name="host name", src=StringIO(pc["hostname"] + "\n"), dest="/etc/hostname")
    server.shell(name="apply now", commands=[f"hostname {pc['hostname']}", "ifup eth0"])
