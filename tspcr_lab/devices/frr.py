"""The FRR driver: a router running FRRouting (8.4), managed like an IOS router.

The session is the IOS driver's: netmiko over SSH (``device_type="cisco_ios"``) to vtysh, the
same evidence, the same refusals (``% Unknown command: ...``) and :meth:`configure`. What
differs is the reading: FRR's JSON outputs, parsed as JSON, never TextFSM.

==================  =========================================================================
getter              commands
==================  =========================================================================
facts               show version (text: ``FRRouting 8.4.4 (r1) on Linux(...).``)
interfaces          show interface json (``addresses``: every IPv4 address)
routes              show ip route json (the selected route of each prefix)
ospf_neighbors      show ip ospf neighbor json
ospf_router_id      show ip ospf json (``routerId``)
ospf_interfaces     show ip ospf interface json (passive: ``timerPassiveIface``)
running_config      show running-config (text)
vlans               NotSupported (a router), as switchports and mac_table
==================  =========================================================================

Besides the IOS-like refusals, vtysh answers a command it cannot serve with a line that starts
with ``%`` (``% Can't find interface jsno``, ``% OSPF is not enabled in vrf default``) or, when
the daemon behind the command is down, ``ospfd is not running`` (on stderr, which an SSH
terminal shows as well): all ParseErrors naming the command.

Routes: FRR lists every route it knows for a prefix (an OSPF route of a connected network too);
the table is the selected one (``>`` in ``show ip route``). Its paths are its active next hops;
a recursive next hop (``ip route 10.99.0.0/16 10.255.0.3``) is kept as configured, without the
next hop FRR resolved it to, as IOS shows it. A blackhole has no next hop and no interface.
``distance`` and ``metric`` are FRR's (0 for a connected route). OSPF neighbours: the state in
lowercase without dash (``"full"``, ``"2way"``, ``"exstart"``), the role ``"DR"``, ``"BDR"``
(FRR's ``Backup``), ``"DROTHER"``, or None on a point-to-point link (``Full/-``).

A limitation of vtysh itself: ``show running-config`` while a daemon is down lacks that daemon's
part (``router ospf``, the ``ip ospf`` lines) and says nothing of it.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from .base import json_value
from .ios import IosDriver
from .model import (Facts, Interface, Interfaces, MacEntry, OspfInterface, OspfNeighbor, Route, Switchport, Vlan,
                    normalize_mac, normalize_prefix)

__all__ = ["FrrDriver"]

_VERSION = re.compile(r"FRRouting (?P<version>\S+) \((?P<hostname>[^()\s]+)\)(?: on .*)?")
_DAEMON_DOWN = re.compile(r"\w+ is not running")
# FRR's roles of an OSPF neighbour (the part after "/" of its state) -> the model's
_ROLES = {"DR": "DR", "Backup": "BDR", "DROther": "DROTHER", "-": None}
# the lists of LSAs still to exchange with a neighbour (all empty once the databases are in sync)
_PENDING = ("retransmitCounter", "requestCounter", "dbSummaryCounter")
_NETWORK_TYPES = {"BROADCAST": "broadcast", "POINTOPOINT": "point-to-point", "NBMA": "nbma",
                  "POINTOMULTIPOINT": "point-to-multipoint", "VIRTUALLINK": "virtual-link", "LOOPBACK": "loopback"}


def _status(value: Any) -> bool:
    if value not in ("up", "down"):
        raise ValueError(f"status {value!r}, not up or down")
    return value == "up"


class FrrDriver(IosDriver):
    """A router running FRR, through a :class:`~.connection.Connection` to vtysh (see
    :meth:`IosDriver.connect` for SSH: ``FrrDriver.connect(host, user, password)``)."""

    platform = "frr"

    VERSION = "show version"
    INTERFACES = "show interface json"
    ROUTES = "show ip route json"
    OSPF_NEIGHBORS = "show ip ospf neighbor json"
    OSPF = "show ip ospf json"
    OSPF_INTERFACES = "show ip ospf interface json"

    def refused(self, command: str, output: str) -> None:
        super().refused(command, output)
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        if lines and (lines[0].startswith("%") or _DAEMON_DOWN.fullmatch(lines[0])):
            raise self.parse_error(command, f"the device refused it: {lines[0]}")

    def refusal(self, line: str) -> str | None:
        """Besides the IOS-like refusals, any ``%`` line: what vtysh took but a daemon rejected
        (``% Configuration failed.``, an address a kernel interface cannot take...)."""
        line = " ".join(line.split())
        return line if line.startswith("%") else None

    def json(self, command: str, kind: type = dict, *, empty: Any = None) -> Any:
        """``show(command)`` parsed as JSON, a ``kind``; anything else is a ParseError. ``empty``,
        when given, is what a blank answer stands for (vtysh answers nothing at all, on a terminal,
        to some commands whose daemon has no configuration)."""
        output = self.show(command)
        if empty is not None and not output.strip():
            return empty
        with self.parsing(command):
            try:
                return json_value(output, kind)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not JSON ({exc})") from None

    # --- getters --------------------------------------------------------------------------------

    def facts(self) -> Facts:
        output = self.show(self.VERSION)
        with self.parsing(self.VERSION):
            lines = [line.strip() for line in output.splitlines() if line.strip()]
            match = _VERSION.fullmatch(lines[0].rstrip(".")) if lines else None
            if match is None:
                raise ValueError("no 'FRRouting VERSION (HOSTNAME)' line")
            return Facts(hostname=match["hostname"], model="FRRouting", version=match["version"])

    def interfaces(self) -> Interfaces[Interface]:
        data = self.json(self.INTERFACES)
        interfaces: Interfaces[Interface] = Interfaces()
        with self.parsing(self.INTERFACES):
            for name, item in data.items():
                if not isinstance(item, dict):
                    raise ValueError(f"{name}: expected an object")
                addresses = [ipaddress.ip_interface(a["address"]) for a in item.get("ipAddresses", [])]
                mac = item.get("hardwareAddress")
                interfaces[name] = Interface(
                    name=name,
                    enabled=_status(item["administrativeStatus"]),
                    # an interface shut down has no operationalStatus
                    up=_status(item.get("operationalStatus", "down")),
                    addresses=tuple(str(a) for a in addresses if a.version == 4),
                    mac=normalize_mac(mac) if mac else None,
                    description=str(item.get("description", "")),
                    mtu=int(item["mtu"]),
                )
        return interfaces

    def routes(self) -> list[Route]:
        data = self.json(self.ROUTES)
        routes = []
        with self.parsing(self.ROUTES):
            for prefix, entries in data.items():
                if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                    raise ValueError(f"{prefix}: expected a list of routes")
                selected = [e for e in entries if e.get("selected") is True]
                if not selected:  # known, not used (a route that lost to another, not installed)
                    continue
                route = selected[0]
                paths = [hop for hop in route["nexthops"] if hop.get("active") and not hop.get("resolver")]
                routes.append(Route(
                    prefix=normalize_prefix(prefix),
                    protocol=str(route["protocol"]),
                    next_hops=tuple(str(ipaddress.ip_address(hop["ip"])) for hop in paths if hop.get("ip")),
                    interfaces=tuple(hop["interfaceName"] for hop in paths if hop.get("interfaceName")),
                    distance=int(route["distance"]),
                    metric=int(route["metric"]),
                ))
        return routes

    def ospf_neighbors(self) -> list[OspfNeighbor]:
        data = self.json(self.OSPF_NEIGHBORS)
        neighbors = []
        with self.parsing(self.OSPF_NEIGHBORS):
            by_router = data.get("neighbors", {})  # "{}" when OSPF is not configured
            if not isinstance(by_router, dict):
                raise ValueError("neighbors: expected an object")
            for router_id, entries in by_router.items():
                if not isinstance(entries, list):
                    raise ValueError(f"{router_id}: expected a list of adjacencies")
                for entry in entries:
                    state, slash, role = entry["state"].partition("/")
                    if not state or not slash or role not in _ROLES:
                        raise ValueError(f"{router_id}: unknown state {entry['state']!r}")
                    neighbors.append(OspfNeighbor(
                        router_id=str(ipaddress.IPv4Address(router_id)),
                        address=str(ipaddress.IPv4Address(entry.get("ifaceAddress") or entry["address"])),
                        interface=entry["ifaceName"].rsplit(":", 1)[0],  # "eth0:10.0.12.1": ours on that link
                        state=state.lower().replace("-", ""),
                        role=_ROLES[role],
                        up_seconds=int(entry["upTimeInMsec"]) / 1000 if "upTimeInMsec" in entry else None,
                        pending=sum(int(entry.get(key, 0)) for key in _PENDING) if any(k in entry for k in _PENDING) else None,
                    ))
        return neighbors

    def ospf_router_id(self) -> str | None:
        # without "router ospf", vtysh answers "{}" on a pipe and nothing at all on a terminal
        data = self.json(self.OSPF, empty={})
        with self.parsing(self.OSPF):
            if "routerId" not in data:
                return None  # {}: ospfd runs, no "router ospf"
            return str(ipaddress.IPv4Address(data["routerId"]))

    def ospf_interfaces(self) -> dict[str, OspfInterface]:
        data = self.json(self.OSPF_INTERFACES)
        interfaces = {}
        with self.parsing(self.OSPF_INTERFACES):
            items = data.get("interfaces", {})
            if not isinstance(items, dict):
                raise ValueError("interfaces: expected an object")
            for name, item in items.items():
                if not isinstance(item, dict):
                    raise ValueError(f"{name}: expected an object")
                if not item.get("ospfEnabled", False):
                    continue  # listed, OSPF not running on it
                interfaces[name] = OspfInterface(
                    name=name,
                    area=str(ipaddress.IPv4Address(item["area"].split()[0])),
                    cost=int(item["cost"]),
                    passive=bool(item.get("timerPassiveIface", False)),
                    network_type=_NETWORK_TYPES.get(item["networkType"], str(item["networkType"]).lower()),
                    address=str(ipaddress.IPv4Address(item["ipAddress"])) if item.get("ipAddress") else None,
                )
        return interfaces

    # --- what a router has not ------------------------------------------------------------------

    def vlans(self) -> dict[int, Vlan]:
        raise self.unsupported("vlans")

    def switchports(self) -> Interfaces[Switchport]:
        raise self.unsupported("switchports")

    def mac_table(self) -> list[MacEntry]:
        raise self.unsupported("mac_table")
