"""Starting state of the routing lab (pyinfra deploy).

r1 r2 r3: FRR routers in their factory state (tspcr_lab.provision.router: FRR with zebra,
staticd and ospfd, the admin account whose login shell is vtysh with its factory password, ports
up without addresses), plus the short OSPF timers of the lab on their interfaces. pc1 pc2 pc3: their
address and gateway, persistently (not the trainee's work). isp: the provider's router, its
uplink address, the lab's "internet" address and its route back to the site through r1.
``host.data.lab_expected`` holds the plan drawn from the seed.
"""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

from tspcr_lab.provision.router import frr_router

plan = host.data.lab_expected
admin = plan["admin"]
timers = plan["ospf_timers"]

if host.name in plan["routers"]:
    # the lab's own starting configuration: short OSPF timers (converged in seconds, not minutes)
    # on every interface facing a LAN or another router, not on the uplink to the provider, and
    # the links between routers (/30) point-to-point (no DR election: adjacencies in 1-2 s)
    lines = []
    for iface, segment in plan["interfaces"][host.name].items():
        if segment != "wan":
            lines += [f"interface {iface}", f" ip ospf dead-interval {timers['dead']}",
                      f" ip ospf hello-interval {timers['hello']}"]
            if len(plan["segments"][segment]["routers"]) == 2:
                lines.append(" ip ospf network point-to-point")
            lines += ["exit", "!"]
    frr_router(list(plan["interfaces"][host.name]), admin["user"], admin["default_password"], lines)

elif host.name in plan["pcs"]:
    pc = plan["pcs"][host.name]
    files.put(
        name=f"{host.name}: its address and gateway",
        src=StringIO(f"# written by the lab's deploy\nauto eth0\niface eth0 inet static\n    address {pc['address']}\n"
                     f"    gateway {pc['gateway']}\n"),
        dest="/etc/network/interfaces.d/eth0",
    )
    server.shell(name=f"{host.name}: apply", commands=["ifdown --force eth0 2>/dev/null || true", "ifup eth0"])

elif host.name == "isp":
    isp = plan["isp"]
    files.put(
        name="isp: uplink address, the internet address, the route back to the site",
        src=StringIO(f"# the provider's side (written by the lab's deploy)\nauto eth0\niface eth0 inet static\n"
                     f"    address {isp['address']}\n"
                     f"    up ip route add {plan['site']} via {isp['r1'].split('/')[0]} dev eth0\n"
                     f"    up ip addr add {isp['internet']}/32 dev lo\n"
                     f"    down ip addr del {isp['internet']}/32 dev lo\n"),
        dest="/etc/network/interfaces.d/eth0",
    )
    server.shell(name="isp: apply", commands=["ifdown --force eth0 2>/dev/null || true", "ifup eth0"])
