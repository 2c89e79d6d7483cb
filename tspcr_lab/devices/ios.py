"""The Cisco IOS / IOS XE driver: show commands over a CLI :class:`~.connection.Connection`
(netmiko over SSH), parsed with ntc-templates' TextFSM templates.

Each getter runs its commands, refuses a CLI error (``% Invalid input detected...``), parses with
:func:`~tspcr_lab.devices.base.textfsm_rows`, and raises :class:`~.base.ParseError` on anything it
cannot read. Every command and its output goes to ``recorder`` (the check's evidence) when set.

==================  =========================================================================
getter              commands
==================  =========================================================================
facts               show version
interfaces          show interfaces (``addresses``: the primary address, as that command shows)
vlans               show vlan brief
switchports         show interfaces switchport, show interfaces description (its description
                    is not cut at 18 characters as in ``show interfaces status``)
mac_table           show mac address-table
routes              show ip route
ospf_neighbors      show ip ospf neighbor
running_config      show running-config
==================  =========================================================================
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

from ..errors import ProbeError, hide
from ..transport.base import CommandResult
from .base import Driver, cli_error, textfsm_rows
from .connection import Connection, NetmikoConnection
from .model import (
    Facts, Interface, Interfaces, MacEntry, OspfNeighbor, Route, Switchport, Vlan, normalize_address, normalize_mac,
    normalize_prefix, vlan_set,
)

__all__ = ["IosDriver"]

PLATFORM = "cisco_ios"

# The codes of "show ip route" -> the model's protocols (others are kept as IOS prints them).
ROUTE_CODES = {"C": "connected", "L": "local", "S": "static", "O": "ospf", "R": "rip", "D": "eigrp", "B": "bgp",
               "i": "isis", "o": "odr", "M": "mobile", "H": "nhrp", "l": "lisp", "U": "static"}

# Lines that hold data, for the tables whose empty form still has headers (see textfsm_rows).
_IPV4 = r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b"
ROUTE_ROWS = rf"^(?!Gateway of last resort).*{_IPV4}"
MAC_ROWS = r"\b[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\b"


def _number(text: str) -> int | None:
    return int(text) if text not in ("", None) else None


class IosDriver(Driver):
    """A Cisco IOS switch or router. ``connection``: a :class:`~.connection.Connection` (see
    :meth:`connect` for SSH); ``name``: the device's name in messages (the connection's by
    default); ``recorder``: called with a :class:`~tspcr_lab.transport.base.CommandResult` for
    every command, as :class:`~tspcr_lab.host.Host` records evidence."""

    platform = PLATFORM

    def __init__(self, connection: Connection, name: str | None = None, *,
                 recorder: Callable[[CommandResult], None] | None = None):
        super().__init__(name or connection.name)
        self.connection = connection
        self.recorder = recorder

    @classmethod
    def connect(cls, host: str, username: str, password: str, *, secret: str = "", port: int = 22,
                name: str | None = None, **options: Any) -> "IosDriver":
        """Log in over SSH (netmiko, ``device_type="cisco_ios"``); ``options`` go to
        :class:`~.connection.NetmikoConnection`."""
        return cls(NetmikoConnection(host, username, password, secret=secret, port=port, name=name, **options))

    def close(self) -> None:
        self.connection.close()

    # --- commands -------------------------------------------------------------------------------

    def show(self, command: str) -> str:
        """Run an exec command and return its text; a CLI refusal is a ParseError naming it."""
        started, clock = time.time(), time.monotonic()
        output = self.connection.send_command(command)
        if self.recorder is not None:
            self.recorder(CommandResult(command=command, rc=0, stdout=output, stderr="", host=self.name,
                                        started=started, duration=time.monotonic() - clock))
        self.refused(command, output)
        return output

    def table(self, command: str, *, rows: str = r"\S", required: bool = False) -> list[dict[str, Any]]:
        """``show(command)`` parsed by its ntc-templates template (``rows``: see textfsm_rows);
        ``required``: an empty output is a ParseError too (every switch has a VLAN 1)."""
        output = self.show(command)
        with self.parsing(command):
            table = textfsm_rows(PLATFORM, command, output, rows=rows)
            if required and not table:
                raise ValueError("the output is empty")
            return table

    def refusal(self, line: str) -> str | None:
        """The device's refusal, when ``line`` of a configuration session's output is one
        (``% Invalid input detected at '^' marker.``), else None."""
        return cli_error(line)

    def configure(self, lines: Sequence[str], *, secrets: tuple[str, ...] = ()) -> str:
        """Send configuration lines and return the session's output; a line the device refuses
        raises ProbeError naming it. ``secrets`` (passwords the lines hold) are masked in the
        evidence and the error."""
        output = self.connection.send_config_set(lines)
        if self.recorder is not None:
            self.recorder(CommandResult(command=hide("configure terminal; " + "; ".join(lines), secrets), rc=0,
                                        stdout=hide(output, secrets), stderr="", host=self.name))
        typed = ""
        for line in output.splitlines():
            if ")#" in line:  # the prompt and the line typed: "sw1(config)#vlan 5000"
                typed = line.split(")#", 1)[1].strip()
                continue
            error = self.refusal(line)
            if error:
                raise ProbeError(hide(f"{self.name}: the device refused {typed or 'a configuration line'!r}: {error}",
                                      secrets))
        return output

    # --- getters --------------------------------------------------------------------------------

    def facts(self) -> Facts:
        command = "show version"
        rows = self.table(command, required=True)
        with self.parsing(command):
            row = rows[0]
            if not row["hostname"]:
                raise ValueError("no host name in the output")
            return Facts(hostname=row["hostname"], model=(row["hardware"] or [None])[0], version=row["version"] or None)

    def interfaces(self) -> Interfaces[Interface]:
        command = "show interfaces"
        interfaces: Interfaces[Interface] = Interfaces()
        for row in self.table(command, required=True):
            with self.parsing(command):
                if row["link_status"] == "deleted":  # a subinterface removed from the configuration
                    continue
                name = row["interface"]
                if name in interfaces:
                    raise ValueError(f"{name} is listed twice")
                interfaces[name] = Interface(
                    name=name,
                    enabled=row["link_status"] != "administratively down",
                    up=row["protocol_status"].split()[0] == "up",
                    addresses=(normalize_address(row["ip_address"], row["prefix_length"]),) if row["ip_address"] else (),
                    mac=normalize_mac(row["mac_address"]) if row["mac_address"] else None,
                    description=row["description"],
                    mtu=_number(row["mtu"]),
                )
        return interfaces

    def vlans(self) -> dict[int, Vlan]:
        command = "show vlan brief"
        vlans = {}
        for row in self.table(command, required=True):
            with self.parsing(command):
                vlan = Vlan(id=int(row["vlan_id"]), name=row["vlan_name"], active=row["status"] == "active")
                vlans[vlan.id] = vlan
        return vlans

    def switchports(self) -> Interfaces[Switchport]:
        command = "show interfaces switchport"
        ports = self.table(command)
        described = Interfaces()
        with self.parsing("show interfaces description"):
            for row in self.table("show interfaces description"):
                described[row["port"]] = row
        switchports: Interfaces[Switchport] = Interfaces()
        for row in ports:
            with self.parsing(command):
                name = row["interface"]
                other = described.get(name)
                if other is None:
                    raise ValueError(f"{name} is not in `show interfaces description`")
                routed = row["switchport"].lower() == "disabled"
                switchports[name] = Switchport(
                    name=name,
                    mode="routed" if routed else _mode(row["admin_mode"], row["mode"]),
                    access_vlan=None if routed or row["access_vlan"] == "unassigned" else _number(row["access_vlan"]),
                    allowed_vlans=None if routed else vlan_set(row["trunking_vlans"] or ["ALL"]),
                    native_vlan=None if routed else _number(row["native_vlan"]),
                    description=other["description"],
                    shutdown=" ".join(other["status"].split()) == "admin down",
                )
        return switchports

    def mac_table(self) -> list[MacEntry]:
        command = "show mac address-table"
        entries = []
        for row in self.table(command, rows=MAC_ROWS):
            with self.parsing(command):
                vlan = None if row["vlan_id"].lower() == "all" else int(row["vlan_id"])
                mac = normalize_mac(row["destination_address"])
                entries.extend(MacEntry(vlan=vlan, mac=mac, port=port) for port in row["destination_port"])
        return entries

    def routes(self) -> list[Route]:
        command = "show ip route"
        routes: dict[str, Route] = {}  # an equal-cost route is one row per path: gathered by prefix
        for row in self.table(command, rows=ROUTE_ROWS):
            with self.parsing(command):
                prefix = normalize_prefix(f"{row['network']}/{row['prefix_length']}")
                path = Route(
                    prefix=prefix,
                    protocol=ROUTE_CODES.get(row["protocol"], row["protocol"]),
                    next_hops=(row["nexthop_ip"],) if row["nexthop_ip"] else (),
                    interfaces=(row["nexthop_if"],) if row["nexthop_if"] else (),
                    distance=_number(row["distance"]),
                    metric=_number(row["metric"]),
                )
                known = routes.get(prefix)
                if known is not None:
                    path = Route(prefix=prefix, protocol=known.protocol, next_hops=known.next_hops + path.next_hops,
                                 interfaces=known.interfaces + path.interfaces, distance=known.distance,
                                 metric=known.metric)
                routes[prefix] = path
        return list(routes.values())

    def ospf_neighbors(self) -> list[OspfNeighbor]:
        command = "show ip ospf neighbor"
        neighbors = []
        for row in self.table(command, rows=_IPV4):
            with self.parsing(command):
                state, _, role = row["state"].partition("/")
                role = role.strip()
                neighbors.append(OspfNeighbor(router_id=row["neighbor_id"], address=row["ip_address"],
                                              interface=row["interface"], state=state.strip().lower(),
                                              role=None if role in ("", "-") else role))
        return neighbors

    def running_config(self) -> str:
        command = "show running-config"
        output = self.show(command)
        if not output.strip():
            raise self.parse_error(command, "the output is empty")
        return output


def _mode(admin: str, operational: str) -> str:
    """A port's mode from IOS's administrative and operational modes: as configured (access,
    trunk...); for a dynamic (DTP) port, what it negotiated, or "dynamic" while it is down."""
    if admin.startswith("dynamic"):
        return {"static access": "access", "trunk": "trunk"}.get(operational, "dynamic")
    return {"static access": "access", "access": "access"}.get(admin, admin)
