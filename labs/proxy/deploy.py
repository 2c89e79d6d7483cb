"""Starting state of the proxy lab (pyinfra deploy).

gw: the gateway, its LAN (eth0) and internet (eth1) addresses, IPv4 forwarding on, no firewall
(everything passes), the sites' names in /etc/hosts (what squid resolves them with), squid as
Debian installs it (listening on 3128, refusing every client but gw itself) and started at boot.
web: the lab's "internet" web server (not the trainee's): nginx with a virtual host per site of
the plan, in HTTP and HTTPS (a certificate of the lab's CA naming every site), a page carrying the
site's token, and the route back to the LAN through gw. pc1, pc2: their address and gateway (not
the trainee's work), their two users, the lab's CA in the trust store; no proxy setting at all.

The CA is made with openssl on the machine that runs the deploy, once per run (cached on pyinfra's
state, shared by every host of the run), and copied to the hosts.
"""

import shlex
from io import StringIO

from pyinfra import host, state
from pyinfra.operations import files, server

from tspcr_lab.provision.pki import lab_pki
from tspcr_lab.provision.services import service_at_boot

plan = host.data.lab_expected
CA_FILE = "/usr/local/share/ca-certificates/lab-internet-ca.crt"
TLS_DIR = "/etc/ssl/lab"


pki = lab_pki(state, "proxy_lab_pki", plan["ca_name"], list(plan["sites"]))


def put(text: str, dest: str, mode: str = "644", name: str = ""):
    files.put(name=name or f"{host.name}: {dest}", src=StringIO(text), dest=dest, mode=mode)


def hosts_file(extra: str = "") -> str:
    return (f"127.0.0.1\tlocalhost\n127.0.1.1\t{host.name}\n::1\tlocalhost ip6-localhost ip6-loopback\n" + extra)


if host.name == "gw":
    gw = plan["gw"]
    put(f"# written by the lab's deploy\nauto eth0\niface eth0 inet static\n    address {gw['lan_cidr']}\n\n"
        f"auto eth1\niface eth1 inet static\n    address {gw['wan_cidr']}\n", "/etc/network/interfaces.d/lab")
    put("net.ipv4.ip_forward = 1\n", "/etc/sysctl.d/30-router.conf", name="gw: IPv4 forwarding")
    put(hosts_file("# the internet's sites (the lab has no DNS: squid resolves them here)\n"
                   + "".join(f"{plan['web']['address']}\t{name}\n" for name in plan["sites"])), "/etc/hosts")
    service_at_boot("squid")
    server.shell(name="gw: apply (squid as Debian installs it)", commands=[
        "sysctl -q -w net.ipv4.ip_forward=1", "ifup -a",
        "service squid status >/dev/null && service squid restart || service squid start",
    ])

elif host.name == "web":
    put(f"# the internet's web server (written by the lab's deploy)\nauto eth0\niface eth0 inet static\n"
        f"    address {plan['web']['cidr']}\n    up ip route add {plan['lan']} via {plan['gw']['wan']} dev eth0\n",
        "/etc/network/interfaces.d/lab")
    put(hosts_file(), "/etc/hosts")
    put(pki["server.crt"], f"{TLS_DIR}/server.crt")
    put(pki["server.key"], f"{TLS_DIR}/server.key", mode="600")
    blocks = ["server {\n    listen 80 default_server;\n    listen 443 ssl default_server;\n"
              f"    ssl_certificate {TLS_DIR}/server.crt;\n    ssl_certificate_key {TLS_DIR}/server.key;\n"
              "    default_type text/plain;\n    return 404 \"no such site\\n\";\n}\n"]
    for name, site in plan["sites"].items():
        page = (f"<!doctype html><html><head><title>{name}</title></head>"
                f"<body><h1>{name}</h1><p>{site['token']}</p></body></html>")
        blocks.append(f"server {{\n    listen 80;\n    listen 443 ssl;\n    server_name {name};\n"
                      f"    ssl_certificate {TLS_DIR}/server.crt;\n    ssl_certificate_key {TLS_DIR}/server.key;\n"
                      f"    default_type text/html;\n    location / {{ return 200 '{page}\\n'; }}\n}}\n")
    put("# the internet's sites (written by the lab's deploy)\n" + "\n".join(blocks), "/etc/nginx/sites-available/lab")
    files.link(name="web: the sites enabled", path="/etc/nginx/sites-enabled/lab", target="/etc/nginx/sites-available/lab")
    files.link(name="web: no default site", path="/etc/nginx/sites-enabled/default", present=False)
    service_at_boot("nginx")
    server.shell(name="web: apply", commands=[
        "ifup -a", "nginx -t",
        "service nginx status >/dev/null && service nginx restart || service nginx start",
    ])

elif host.name in plan["pcs"]:
    pc = plan["pcs"][host.name]
    put(f"# written by the lab's deploy\nauto eth0\niface eth0 inet static\n    address {pc['address']}\n"
        f"    gateway {plan['gw']['lan']}\n", "/etc/network/interfaces.d/eth0")
    put(hosts_file(), "/etc/hosts")
    put(pki["ca.crt"], CA_FILE, name=f"{host.name}: the lab's CA in the trust store")
    commands = ["ifdown --force eth0 2>/dev/null || true", "ifup eth0", "update-ca-certificates >/dev/null"]
    for user in pc["users"]:
        commands += [f"id -u {user} >/dev/null 2>&1 || useradd -m -s /bin/bash {user}",
                     f"printf '%s\\n' {shlex.quote(user + ':' + pc['password'])} | chpasswd"]
    server.shell(name=f"{host.name}: apply, the users, the trust store", commands=commands)
