"""The Open vSwitch driver: a switch read from its database (``ovs-vsctl -f json list``) and
its datapath (``ovs-appctl fdb/show``) over ``host.run``.

OVS's JSON encodes a column's value as itself when it holds one atom (``10``, ``"p1"``), as
``["set", [...]]`` for zero or several atoms (an empty ``tag`` is ``["set", []]``), as
``["map", [[key, value], ...]]`` for a map and ``["uuid", "..."]`` for a reference.

A port's mode follows what ovs-vswitchd does with it (ovs-vswitchd.conf.db(5), ``vlan_mode``):

* ``vlan_mode`` empty: a port with a ``tag`` is an access port (its ``trunks`` are then ignored),
  a port without a tag a trunk: of its ``trunks``, or of every VLAN when ``trunks`` is empty
  (``allowed_vlans=None``);
* ``vlan_mode=access``: access port of ``tag``; ``trunk``: trunk of ``trunks`` (the tag ignored);
  ``native-tagged`` / ``native-untagged``: a trunk whose native VLAN is ``tag`` (carried too);
  ``dot1q-tunnel``: reported with that word, its outer VLAN as ``access_vlan``.

A port's description is its ``external_ids:description``; it is shut down when every interface
of the port is administratively down (``ip link set pN down``, ``ovs-ofctl mod-port BR pN down``).
A port removed from its bridge (``ovs-vsctl del-port``) is no switchport at all.
"""

from __future__ import annotations

from typing import Any

from ..errors import ProbeError
from .base import Driver, json_value
from .model import Facts, Interface, Interfaces, MacEntry, Switchport, Vlan, normalize_address, normalize_mac

__all__ = ["OvsDriver", "ovs_value", "ovs_set", "ovs_map"]


def ovs_value(value: Any) -> Any:
    """One column's value as Python: an atom as is, a set as a list, a map as a dict, a UUID as its
    string. Raises ValueError on anything else."""
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
        kind, content = value
        if kind == "set" and isinstance(content, list):
            return [ovs_value(v) for v in content]
        if kind == "map" and isinstance(content, list):
            if not all(isinstance(pair, list) and len(pair) == 2 for pair in content):
                raise ValueError(f"not an OVS map: {value!r}")
            return {ovs_value(k): ovs_value(v) for k, v in content}
        if kind in ("uuid", "named-uuid") and isinstance(content, str):
            return content
    raise ValueError(f"not an OVS JSON value: {value!r}")


def ovs_set(value: Any) -> list:
    """A column that is a set (``tag``, ``trunks``, ``interfaces``...): always a list."""
    value = ovs_value(value)
    return value if isinstance(value, list) else [value]


def ovs_map(value: Any) -> dict:
    value = ovs_value(value)
    if not isinstance(value, dict):
        raise ValueError(f"expected an OVS map, got {value!r}")
    return value


def _one(value: Any, column: str) -> Any:
    """An optional column (``tag``, ``vlan_mode``, ``ofport``...): its atom, or None when empty."""
    items = ovs_set(value)
    if len(items) > 1:
        raise ValueError(f"{column} holds several values: {items!r}")
    return items[0] if items else None


def _vlan(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4095:
        raise ValueError(f"not a VLAN number: {value!r}")
    return value


class OvsDriver(Driver):
    """An Open vSwitch switch through a :class:`~tspcr_lab.host.Host` (every command is evidence).

    ``bridge``: the bridge whose MAC table :meth:`mac_table` reads (default: every bridge)."""

    platform = "ovs"

    FACTS = "hostname && ovs-vsctl --version"
    PORTS = "ovs-vsctl -f json --columns=_uuid,name,tag,trunks,vlan_mode,external_ids,interfaces list Port"
    IFACES = "ovs-vsctl -f json --columns=_uuid,name,type,ofport,admin_state,link_state,mac_in_use,mtu list Interface"
    BRIDGES = "ovs-vsctl -f json --columns=name,ports list Bridge"
    ADDRESSES = "ip -j addr show"
    SHOW = "ovs-vsctl show"

    def __init__(self, host, bridge: str | None = None):
        super().__init__(host.name)
        self.host = host
        self.bridge = bridge

    def _run(self, command: str) -> str:
        result = self.host.run(command)
        if result.rc != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise ProbeError(f"{self.name}: `{command}` exited {result.rc}" + (f": {detail[-1]}" if detail else ""))
        return result.stdout

    def _table(self, command: str) -> list[dict[str, Any]]:
        """``ovs-vsctl -f json list TABLE``: its rows, each a dict heading -> raw JSON value."""
        output = self._run(command)
        with self.parsing(command):
            data = json_value(output, dict)
            headings, rows = data["headings"], data["data"]
            if not isinstance(headings, list) or not isinstance(rows, list):
                raise ValueError("headings and data must be lists")
            out = []
            for row in rows:
                if not isinstance(row, list) or len(row) != len(headings):
                    raise ValueError(f"a row of {len(row) if isinstance(row, list) else '?'} values "
                                     f"for {len(headings)} headings")
                out.append(dict(zip(headings, row)))
            return out

    # --- getters --------------------------------------------------------------------------------

    def facts(self) -> Facts:
        output = self._run(self.FACTS)
        with self.parsing(self.FACTS):
            lines = [line.strip() for line in output.splitlines()]
            if len(lines) < 2 or not lines[0] or "Open vSwitch" not in lines[1]:
                raise ValueError("no host name and ovs-vsctl version")
            return Facts(hostname=lines[0], model="Open vSwitch", version=lines[1].split()[-1])

    def _interfaces_rows(self) -> list[dict[str, Any]]:
        rows = self._table(self.IFACES)
        with self.parsing(self.IFACES):
            return [{"uuid": ovs_value(r["_uuid"]), "name": ovs_value(r["name"]), "type": ovs_value(r["type"]),
                     "ofport": _one(r["ofport"], "ofport"), "admin_state": _one(r["admin_state"], "admin_state"),
                     "link_state": _one(r["link_state"], "link_state"), "mac": _one(r["mac_in_use"], "mac_in_use"),
                     "mtu": _one(r["mtu"], "mtu")} for r in rows]

    def switchports(self) -> Interfaces[Switchport]:
        ports = self._table(self.PORTS)
        interfaces = {i["uuid"]: i for i in self._interfaces_rows()}
        out: Interfaces[Switchport] = Interfaces()
        with self.parsing(self.PORTS):
            for row in ports:
                name = ovs_value(row["name"])
                if not isinstance(name, str):
                    raise ValueError(f"port name {name!r}")
                tag = _one(row["tag"], "tag")
                tag = None if tag is None else _vlan(tag)
                trunks = frozenset(_vlan(v) for v in ovs_set(row["trunks"]))
                mode_word = _one(row["vlan_mode"], "vlan_mode")
                members = [interfaces[uuid] for uuid in ovs_set(row["interfaces"]) if uuid in interfaces]
                description = ovs_map(row["external_ids"]).get("description", "")
                mode, access, allowed, native = _port_mode(mode_word, tag, trunks)
                out[name] = Switchport(
                    name=name, mode=mode, access_vlan=access, allowed_vlans=allowed, native_vlan=native,
                    description=str(description),
                    shutdown=bool(members) and all(i["admin_state"] == "down" for i in members),
                )
        return out

    def vlans(self) -> dict[int, Vlan]:
        """The VLANs in use: every access port's VLAN, every trunk's listed and native VLANs (OVS has
        no VLAN table; a trunk of every VLAN adds none). Names are IOS's defaults (``VLAN0010``)."""
        used: set[int] = set()
        for port in self.switchports().values():
            for vlan in (port.access_vlan, port.native_vlan):
                if vlan:
                    used.add(vlan)
            used.update(v for v in port.allowed_vlans or () if v)
        return {v: Vlan(id=v, name=f"VLAN{v:04d}", active=True) for v in sorted(used)}

    def interfaces(self) -> Interfaces[Interface]:
        rows = self._interfaces_rows()
        descriptions = {}
        for row in self._table(self.PORTS):
            with self.parsing(self.PORTS):
                descriptions[ovs_value(row["name"])] = str(ovs_map(row["external_ids"]).get("description", ""))
        output = self._run(self.ADDRESSES)
        addresses: dict[str, tuple[str, ...]] = {}
        with self.parsing(self.ADDRESSES):
            for link in json_value(output):
                addresses[link["ifname"]] = tuple(normalize_address(a["local"], a["prefixlen"])
                                                  for a in link.get("addr_info", []) if a.get("family") == "inet")
        out: Interfaces[Interface] = Interfaces()
        with self.parsing(self.IFACES):
            for row in rows:
                name = row["name"]
                out[name] = Interface(
                    name=name, enabled=row["admin_state"] == "up", up=row["link_state"] == "up",
                    addresses=addresses.get(name, ()), mac=normalize_mac(row["mac"]) if row["mac"] else None,
                    description=descriptions.get(name, ""), mtu=int(row["mtu"]) if row["mtu"] is not None else None,
                )
        return out

    def mac_table(self) -> list[MacEntry]:
        ofports = {}
        for row in self._interfaces_rows():
            if row["ofport"] is not None:
                ofports[str(row["ofport"])] = row["name"]
        if self.bridge is not None:
            bridges = [self.bridge]
        else:
            with self.parsing(self.BRIDGES):
                bridges = sorted(ovs_value(r["name"]) for r in self._table(self.BRIDGES))
        entries = []
        for bridge in bridges:
            command = f"ovs-appctl fdb/show {bridge}"
            output = self._run(command)
            with self.parsing(command):
                lines = output.splitlines()
                if not lines or lines[0].split() != ["port", "VLAN", "MAC", "Age"]:
                    raise ValueError("no 'port VLAN MAC Age' heading")
                for line in lines[1:]:
                    if not line.strip():
                        continue
                    port, vlan, mac, _age = line.split()
                    name = bridge if port == "LOCAL" else ofports.get(port)
                    if name is None:
                        raise ValueError(f"unknown OpenFlow port {port}")
                    entries.append(MacEntry(vlan=_vlan(int(vlan)), mac=normalize_mac(mac), port=name))
        return entries

    def running_config(self) -> str:
        output = self._run(self.SHOW)
        with self.parsing(self.SHOW):
            if "Bridge" not in output and not output.strip():
                raise ValueError("empty output")
            return output


def _port_mode(word: str | None, tag: int | None, trunks: frozenset[int]) -> tuple[str, int | None, frozenset[int] | None, int | None]:
    """(mode, access VLAN, allowed VLANs or None for all, native VLAN) as ovs-vswitchd applies them."""
    if word is None:
        word = "access" if tag is not None else "trunk"
    if word == "access":
        return "access", tag if tag is not None else 0, None, None
    if word == "trunk":
        return "trunk", None, trunks or None, None
    if word in ("native-tagged", "native-untagged"):
        native = tag if tag is not None else 0
        return "trunk", None, (trunks | {native}) if trunks else None, native
    if word == "dot1q-tunnel":
        return "dot1q-tunnel", tag if tag is not None else 0, trunks or None, None
    raise ValueError(f"unknown vlan_mode {word!r}")
