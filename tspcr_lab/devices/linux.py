"""The Linux driver: a host (a router, a PC) read with iproute2's JSON output over ``host.run``.

Linux routes, it does not switch: :meth:`switchports`, :meth:`vlans`, :meth:`mac_table`,
:meth:`ospf_neighbors` and :meth:`running_config` raise NotSupported (a bridge, Open vSwitch or
FRR on a Linux host have drivers of their own).
"""

from __future__ import annotations

from .base import HostDriver, json_value
from .model import Facts, Interface, Interfaces, Route, normalize_address, normalize_mac, normalize_prefix

__all__ = ["LinuxDriver"]

# iproute2's protocol of a route -> the model's word. Without "protocol" the route is "boot":
# added by hand or by ifupdown (`ip route add`), what a technician calls a static route.
_PROTOCOLS = {"kernel": "connected", "boot": "static", "static": "static"}


class LinuxDriver(HostDriver):
    """A Linux host through a :class:`~tspcr_lab.host.Host` (every command is evidence)."""

    platform = "linux"

    FACTS = "hostname && cat /etc/os-release"
    INTERFACES = "ip -j -d addr show"  # -d: the alias (``ip link set dev X alias TEXT``) is a description
    ROUTES = "ip -j -4 route show"

    def facts(self) -> Facts:
        output = self.run(self.FACTS)
        with self.parsing(self.FACTS):
            lines = output.splitlines()
            if not lines or not lines[0].strip():
                raise ValueError("no host name")
            release = dict(line.split("=", 1) for line in lines[1:] if "=" in line)
            version = release.get("PRETTY_NAME", "").strip().strip('"') or None
            return Facts(hostname=lines[0].strip(), model=None, version=version)

    def interfaces(self) -> Interfaces[Interface]:
        output = self.run(self.INTERFACES)
        interfaces: Interfaces[Interface] = Interfaces()
        with self.parsing(self.INTERFACES):
            for link in json_value(output):
                flags = link.get("flags", [])
                state = link.get("operstate", "UNKNOWN")
                mac = link.get("address")
                interfaces[link["ifname"]] = Interface(
                    name=link["ifname"],
                    enabled="UP" in flags,
                    # Loopbacks and some virtual links say UNKNOWN: their carrier tells.
                    up=state == "UP" or (state == "UNKNOWN" and "LOWER_UP" in flags),
                    addresses=tuple(normalize_address(a["local"], a["prefixlen"])
                                    for a in link.get("addr_info", []) if a.get("family") == "inet"),
                    mac=normalize_mac(mac) if mac and link.get("link_type") == "ether" else None,
                    description=link.get("ifalias", ""),
                    mtu=int(link["mtu"]),
                )
        return interfaces

    def routes(self) -> list[Route]:
        output = self.run(self.ROUTES)
        routes = []
        with self.parsing(self.ROUTES):
            for item in json_value(output):
                paths = item.get("nexthops") or [item]
                protocol = item.get("protocol", "boot")
                routes.append(Route(
                    prefix=normalize_prefix(item["dst"]),
                    protocol=_PROTOCOLS.get(protocol, protocol),
                    next_hops=tuple(p["gateway"] for p in paths if p.get("gateway")),
                    interfaces=tuple(p["dev"] for p in paths if p.get("dev")),
                    distance=None,
                    metric=int(item.get("metric", 0)),
                ))
        return routes
