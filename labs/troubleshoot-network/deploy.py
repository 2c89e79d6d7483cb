"""Starting state of the troubleshoot-network lab (pyinfra deploy): the network as it worked
(see params.py), then the trainee's faults injected (the lab's catalogue.toml).

r1 routes between LAN A and LAN B and serves DHCP on LAN A (dnsmasq, DNS off); srv1 serves the
site (nginx) and the domain's DNS (dnsmasq), behind its firewall (nftables: SSH, DNS, HTTP and ping
in, the rest dropped); r2 routes between LAN B and the branch's LAN C, where srv2 is; pc1 has its
fixed address, pc2 its lease.
"""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

from tspcr_lab.provision.faults import inject_faults
from tspcr_lab.provision.firewall import nftables_at_boot
from tspcr_lab.provision.services import service_at_boot
from tspcr_lab.provision.web import dns_zone, intranet_site

plan = host.data.lab_expected


def put(name: str, text: str, dest: str, mode: str = "644") -> None:
    files.put(name=name, src=StringIO(text), dest=dest, mode=mode)


if host.name == "r1":
    put("r1: LAN A and LAN B interfaces, the route to LAN C",
        f"# written by the lab's deploy\nauto eth0\niface eth0 inet static\n    address {plan['r1_a_cidr']}\n\n"
        f"auto eth1\niface eth1 inet static\n    address {plan['r1_b_cidr']}\n"
        f"    up ip route add {plan['lan_c']} via {plan['r2_b']}\n", "/etc/network/interfaces.d/lab")
    put("r1: IPv4 forwarding", "net.ipv4.ip_forward = 1\n", "/etc/sysctl.d/30-router.conf")
    put("r1: DHCP server of LAN A (dnsmasq, no DNS)",
        "# DHCP of LAN A\nport=0\ninterface=eth0\nbind-interfaces\n"
        f"dhcp-range={plan['dhcp_start']},{plan['dhcp_end']},{plan['netmask_a']},12h\n"
        f"dhcp-option=option:router,{plan['r1_a']}\ndhcp-option=option:dns-server,{plan['srv1']}\n"
        f"dhcp-option=option:domain-name,{plan['domain']}\n", "/etc/dnsmasq.d/lan-a.conf")
    server.shell(name="r1: apply", commands=[
        "sysctl -q -w net.ipv4.ip_forward=1", "ifup -a", "rm -f /var/lib/misc/dnsmasq.leases",
        "service dnsmasq status >/dev/null 2>&1 && service dnsmasq restart || service dnsmasq start"])
    service_at_boot("dnsmasq")

elif host.name == "srv1":
    put("srv1: LAN B interface",
        f"# written by the lab's deploy\nauto eth0\niface eth0 inet static\n    address {plan['srv1_cidr']}\n"
        f"    gateway {plan['r1_b']}\n", "/etc/network/interfaces.d/lab")
    put("srv1: its own resolver", f"search {plan['domain']}\nnameserver 127.0.0.1\n", "/etc/resolv.conf")
    domain = plan["domain"]
    dns_zone(domain, {f"srv1.{domain}": plan["srv1"], plan["site"]: plan["srv1"],
                     f"r1.{domain}": plan["r1_a"], f"pc1.{domain}": plan["pc1"], f"srv2.{domain}": plan["srv2"]})
    intranet_site(plan["site"], plan["marker"])
    put("srv1: its firewall (nftables)",
        "#!/usr/sbin/nft -f\n# srv1's firewall: SSH, DNS, HTTP and ping in, the rest dropped\nflush ruleset\n\n"
        "table inet filter {\n    chain input {\n        type filter hook input priority 0; policy drop;\n"
        "        iif lo accept\n        ct state established,related accept\n"
        "        ip protocol icmp accept\n        tcp dport { 22, 53, 80 } accept\n        udp dport 53 accept\n"
        "    }\n}\n", "/etc/nftables.conf", mode="755")
    server.shell(name="srv1: apply", commands=[
        "ifup -a", "nft -f /etc/nftables.conf", "nginx -t",
        "service nginx status >/dev/null 2>&1 && service nginx restart || service nginx start",
        "service dnsmasq status >/dev/null 2>&1 && service dnsmasq restart || service dnsmasq start"])
    service_at_boot("nginx", "dnsmasq")
    nftables_at_boot()

elif host.name == "pc1":
    put("pc1: its fixed address",
        f"auto eth0\niface eth0 inet static\n    address {plan['pc1_cidr']}\n    gateway {plan['r1_a']}\n",
        "/etc/network/interfaces.d/eth0")
    put("pc1: its resolver", f"search {plan['domain']}\nnameserver {plan['srv1']}\n", "/etc/resolv.conf")
    server.shell(name="pc1: apply", commands=["ifdown --force eth0 2>/dev/null || true", "ifup eth0"])

elif host.name == "r2":
    put("r2: LAN B and LAN C interfaces",
        f"# written by the lab's deploy\nauto eth0\niface eth0 inet static\n    address {plan['r2_b_cidr']}\n"
        f"    gateway {plan['r1_b']}\n\nauto eth1\niface eth1 inet static\n    address {plan['r2_c_cidr']}\n",
        "/etc/network/interfaces.d/lab")
    put("r2: IPv4 forwarding", "net.ipv4.ip_forward = 1\n", "/etc/sysctl.d/30-router.conf")
    server.shell(name="r2: apply", commands=["sysctl -q -w net.ipv4.ip_forward=1", "ifup -a"])

elif host.name == "srv2":
    put("srv2: LAN C interface",
        f"# written by the lab's deploy\nauto eth0\niface eth0 inet static\n    address {plan['srv2_cidr']}\n"
        f"    gateway {plan['r2_c']}\n", "/etc/network/interfaces.d/eth0")
    server.shell(name="srv2: apply", commands=["ifdown --force eth0 2>/dev/null || true", "ifup eth0"])

if host.name in ("r1", "pc2"):
    server.shell(name="the DHCP server is up before pc2 asks", commands=["true"])

if host.name == "pc2":
    put("pc2: eth0 by DHCP", "auto eth0\niface eth0 inet dhcp\n", "/etc/network/interfaces.d/eth0")
    # a PC whose DHCP server does not answer waits 10 s (not 60) and its boot goes on; it asks
    # again every 10 s (not 5 min)
    files.line(name="pc2: DHCP client's timeout", path="/etc/dhcp/dhclient.conf", line=r"^timeout ", replace="timeout 10;")
    files.line(name="pc2: DHCP client's retry", path="/etc/dhcp/dhclient.conf", line=r"^retry ", replace="retry 10;")
    server.shell(name="pc2: apply", commands=["ifdown --force eth0 2>/dev/null || true", "ifup eth0"])

inject_faults()
