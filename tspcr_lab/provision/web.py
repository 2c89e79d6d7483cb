"""Web and name services a lab's deploy sets up on a server (pyinfra operations)."""

from __future__ import annotations

from io import StringIO

from pyinfra import host
from pyinfra.operations import files


def intranet_site(site: str, title: str, name: str = "intranet") -> None:
    """nginx serving ``site`` from /var/www/html (a page whose title and heading are ``title``:
    what a check finds when the site answers), enabled as ``name``, without Debian's default site.
    nginx itself is (re)started by the caller, with its other services."""
    files.put(name=f"{host.name}: the site {site}", src=StringIO(f"<!doctype html>\n<title>{title}</title>\n<h1>{title}</h1>\n"),
              dest="/var/www/html/index.html", mode="644")
    files.put(name=f"{host.name}: the site's server (nginx)",
              src=StringIO(f"server {{\n    listen 80 default_server;\n    server_name {site};\n    root /var/www/html;\n"
                           "    index index.html;\n}\n"), dest=f"/etc/nginx/sites-available/{name}", mode="644")
    files.link(name=f"{host.name}: the site enabled", path=f"/etc/nginx/sites-enabled/{name}",
               target=f"/etc/nginx/sites-available/{name}")
    files.link(name=f"{host.name}: no default site", path="/etc/nginx/sites-enabled/default", present=False)


def dns_zone(domain: str, records: dict[str, str], path: str = "/etc/dnsmasq.d/zone.conf") -> None:
    """dnsmasq answering for ``domain`` only (its A records: name -> address), on eth0."""
    lines = "".join(f"host-record={name},{address}\n" for name, address in records.items())
    files.put(name=f"{host.name}: DNS of the domain (dnsmasq)",
              src=StringIO("# DNS of the domain: answers for it only, to every LAN it is reached from\n"
                           f"interface=eth0\nno-resolv\nno-hosts\nno-poll\nlocal=/{domain}/\ndomain={domain}\n{lines}"),
              dest=path, mode="644")
