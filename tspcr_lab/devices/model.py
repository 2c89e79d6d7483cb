"""The typed view of a network device that checks read, whatever the driver behind it.

Small frozen dataclasses, in the spirit of NAPALM's getters and pyATS/Genie's learned state. Values
are normalised so that a check compares them as they are: MAC addresses in lowercase colon form
(``"00:1a:2b:3c:4d:5e"``), prefixes and addresses as :mod:`ipaddress` writes them
(``"10.0.0.0/24"``, ``"10.0.0.1/24"``). Interface names stay as the device gives them; the
mappings drivers return (:class:`Interfaces`) also find an interface by another spelling of its
IOS name (``"Gi0/1"`` for ``"GigabitEthernet0/1"``): see :func:`same_interface`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from typing import Generic, Iterable, TypeVar

__all__ = [
    "Facts", "Interface", "Interfaces", "MacEntry", "OspfNeighbor", "Route", "Switchport", "Vlan",
    "best_route", "canonical_interface", "normalize_address", "normalize_mac", "normalize_prefix",
    "same_interface", "vlan_set",
]


@dataclasses.dataclass(frozen=True)
class Facts:
    """Who the device is. ``model`` and ``version`` are None when the device does not say."""

    hostname: str
    model: str | None = None
    version: str | None = None


@dataclasses.dataclass(frozen=True)
class Interface:
    """One interface. ``enabled``: administratively up (not shut down); ``up``: operationally up
    (line protocol up, carrier). ``addresses``: its IPv4 addresses, ``"A.B.C.D/NN"``."""

    name: str
    enabled: bool
    up: bool
    addresses: tuple[str, ...] = ()
    mac: str | None = None
    description: str = ""
    mtu: int | None = None


@dataclasses.dataclass(frozen=True)
class Vlan:
    """One VLAN of a switch. ``active``: its status is active (not suspended nor shut down)."""

    id: int
    name: str
    active: bool


@dataclasses.dataclass(frozen=True)
class Switchport:
    """One port of a switch as configured.

    ``mode``: ``"access"``, ``"trunk"``, ``"routed"`` (a layer-3 port), ``"dynamic"`` (DTP has
    not settled it: a dynamic port that is down), or the device's own word for rarer modes.
    ``allowed_vlans``: the VLANs a trunk carries, None meaning all of them. VLAN numbers are
    None when the port has none (a routed port)."""

    name: str
    mode: str
    access_vlan: int | None = None
    allowed_vlans: frozenset[int] | None = None
    native_vlan: int | None = None
    description: str = ""
    shutdown: bool = False


@dataclasses.dataclass(frozen=True)
class MacEntry:
    """One entry of a switch's MAC address table. ``vlan`` is None for entries of every VLAN (the
    switch's own, ``All`` on IOS); ``port`` as the device names it (``"Gi1/0/1"``, ``"CPU"``)."""

    vlan: int | None
    mac: str
    port: str


@dataclasses.dataclass(frozen=True)
class Route:
    """One route of the routing table (IPv4). ``protocol``: ``"connected"``, ``"local"`` (an
    interface's own address), ``"static"``, ``"ospf"``, ``"rip"``, ``"eigrp"``, ``"bgp"``,
    ``"isis"``, ``"kernel"``, ``"dhcp"``... ``next_hops`` and ``interfaces`` hold every path of
    an equal-cost route, in the device's order. ``distance`` is None where there is none (Linux)."""

    prefix: str
    protocol: str
    next_hops: tuple[str, ...] = ()
    interfaces: tuple[str, ...] = ()
    distance: int | None = None
    metric: int | None = None


@dataclasses.dataclass(frozen=True)
class OspfNeighbor:
    """One OSPF neighbour. ``state``: the adjacency's state in lowercase (``"full"``, ``"2way"``,
    ``"init"``, ``"exstart"``...); ``role``: the neighbour's role on the segment (``"DR"``,
    ``"BDR"``, ``"DROTHER"``), None on point-to-point links. Where the device tells them (None
    otherwise; not compared): ``up_seconds``, how long the adjacency has been in its state, and
    ``pending``, the LSAs still to exchange with it (retransmission, request and database summary
    lists): 0 once it is in sync."""

    router_id: str
    address: str
    interface: str
    state: str
    role: str | None = None
    up_seconds: float | None = dataclasses.field(default=None, compare=False)
    pending: int | None = dataclasses.field(default=None, compare=False)


@dataclasses.dataclass(frozen=True)
class OspfInterface:
    """An interface on which OSPF runs. ``area``: dotted (``"0.0.0.0"``); ``passive``: OSPF
    announces its network but sends no hello on it; ``network_type``: ``"broadcast"``,
    ``"point-to-point"``..."""

    name: str
    area: str
    cost: int
    passive: bool
    network_type: str
    address: str | None = None


# --- normalisation ------------------------------------------------------------------------------


_MAC_RE = re.compile(r"[0-9a-f]{4}(\.[0-9a-f]{4}){2}|[0-9a-f]{2}([:-][0-9a-f]{2}){5}|[0-9a-f]{12}", re.IGNORECASE)


def normalize_mac(text: str) -> str:
    """``"001A.2B3C.4D5E"``, ``"00-1a-2b-3c-4d-5e"``, ``"001a2b3c4d5e"`` -> ``"00:1a:2b:3c:4d:5e"``.
    Raises ValueError for anything else."""
    text = text.strip()
    if not _MAC_RE.fullmatch(text):
        raise ValueError(f"not a MAC address: {text!r}")
    digits = re.sub(r"[.:-]", "", text).lower()
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


def normalize_prefix(text: str) -> str:
    """``"10.0.0.0/24"`` as :mod:`ipaddress` writes it; ``"default"`` is ``0.0.0.0/0``; an address
    without a length is a host route (``/32``). Host bits set raise ValueError."""
    if text == "default":
        return "0.0.0.0/0"
    return str(ipaddress.ip_network(text))


def normalize_address(address: str, prefixlen: int | str | None = None) -> str:
    """An interface address with its prefix length: ``"10.0.0.1/24"``."""
    text = address if prefixlen in (None, "") else f"{address}/{prefixlen}"
    return str(ipaddress.ip_interface(text))


def vlan_set(items: Iterable[str]) -> frozenset[int] | None:
    """IOS's VLAN lists (``["1", "12", "31-36"]``, ``["ALL"]``, ``["NONE"]``) as numbers; None for
    ALL. Raises ValueError on anything else."""
    vlans: set[int] = set()
    for item in items:
        for part in item.split(","):
            part = part.strip()
            if not part:
                continue
            if part.upper() == "ALL":
                return None
            if part.upper() == "NONE":
                continue
            low, _, high = part.partition("-")
            first, last = int(low), int(high or low)
            if not 1 <= first <= last <= 4094:
                raise ValueError(f"not a VLAN range: {part!r}")
            vlans.update(range(first, last + 1))
    return frozenset(vlans)


# --- interface names ----------------------------------------------------------------------------

# IOS interface types, and the short forms IOS itself prints (``show interfaces status``, the MAC
# table...) where a plain prefix would be ambiguous.
IOS_TYPES = (
    "Ethernet", "FastEthernet", "GigabitEthernet", "TwoGigabitEthernet", "FiveGigabitEthernet",
    "TenGigabitEthernet", "TwentyFiveGigE", "FortyGigabitEthernet", "HundredGigE", "AppGigabitEthernet",
    "Port-channel", "Vlan", "Loopback", "Tunnel", "Serial", "Dialer", "Virtual-Access", "Virtual-Template",
    "BDI", "Null", "Wlan-GigabitEthernet", "Bluetooth", "Async", "Multilink", "Cellular", "Embedded-Service-Engine",
)
IOS_SHORT = {"tw": "TwoGigabitEthernet", "twe": "TwentyFiveGigE", "fi": "FiveGigabitEthernet",
             "fo": "FortyGigabitEthernet", "hu": "HundredGigE", "te": "TenGigabitEthernet", "wl": "Wlan-GigabitEthernet",
             "et": "Ethernet", "vi": "Virtual-Access", "vt": "Virtual-Template"}

_NAME_RE = re.compile(r"([A-Za-z][A-Za-z-]*?)\s*(\d[\d/.:]*)")


def canonical_interface(name: str) -> str:
    """The full IOS name of ``name``: ``"Gi0/1"``, ``"gi 0/1"``, ``"gig0/1"`` ->
    ``"GigabitEthernet0/1"``; ``"Po1"`` -> ``"Port-channel1"``; ``"Vl10"`` -> ``"Vlan10"``. A name
    that is no IOS interface type (Linux's ``lo``, ``ens3``, ``veth0``...) is returned unchanged."""
    match = _NAME_RE.fullmatch(name.strip())
    if match is None:
        return name
    kind, number = match.group(1).lower(), match.group(2)
    exact = [t for t in IOS_TYPES if t.lower() == kind]
    if exact:
        return exact[0] + number
    if kind in IOS_SHORT:
        return IOS_SHORT[kind] + number
    candidates = [t for t in IOS_TYPES if t.lower().startswith(kind)]
    return candidates[0] + number if len(candidates) == 1 else name


def same_interface(a: str, b: str) -> bool:
    """Whether two spellings name the same IOS interface (``"Gi0/1"`` and ``"GigabitEthernet0/1"``)."""
    return a == b or canonical_interface(a).lower() == canonical_interface(b).lower()


V = TypeVar("V")


class Interfaces(dict, Generic[V]):
    """A mapping of interface name -> value, keyed by the names the device gives, in which a
    lookup also finds another spelling of the same IOS name: ``ports["GigabitEthernet0/1"]``
    finds the entry the switch printed as ``"Gi0/1"``."""

    def _key(self, name: object) -> str | None:
        if not isinstance(name, str):
            return None
        if dict.__contains__(self, name):
            return name
        return next((key for key in self if same_interface(key, name)), None)

    def __missing__(self, name: str) -> V:
        key = self._key(name)
        if key is None:
            raise KeyError(name)
        return dict.__getitem__(self, key)

    def __contains__(self, name: object) -> bool:
        return self._key(name) is not None

    def get(self, name: str, default=None):  # type: ignore[override]
        key = self._key(name)
        return default if key is None else dict.__getitem__(self, key)


def best_route(routes: Iterable[Route], address: str) -> Route | None:
    """The route the table uses for ``address``: the longest prefix that holds it (None if none)."""
    target = ipaddress.ip_address(address)
    matching = [(ipaddress.ip_network(r.prefix), r) for r in routes]
    matching = [(net, r) for net, r in matching if net.version == target.version and target in net]
    if not matching:
        return None
    return max(matching, key=lambda item: item[0].prefixlen)[1]
