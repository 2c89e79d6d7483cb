"""Network probes: addresses, links, routes, neighbours, resolver, ifupdown, sockets, ping, DNS.

Every probe only reads (iproute2, ifupdown's ``ifquery``, ``ss``, ``ping``, ``getent``). Parsers
turn unexpected output into :class:`~tspcr_lab.errors.ProbeError`, never another exception type.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
from typing import Any

from ..errors import ProbeError
from ..transport.base import CommandResult
from .base import Probe, quote_line
from .system import ABSENT, FileContent, probe_parser


def _json_list(output: str) -> list:
    """``ip -j`` always prints a JSON list, ``[]`` when empty."""
    data = json.loads(output)
    if not isinstance(data, list):
        raise ValueError(f"expected a JSON list, got {type(data).__name__}")
    return data


def _missing_device(result: CommandResult) -> bool:
    """iproute2's answer for an unknown interface: rc 1 and 'does not exist' / 'Cannot find device'."""
    text = result.stderr + result.stdout
    return result.rc == 1 and ("does not exist" in text or "Cannot find device" in text)


# --- ip addr ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Address:
    """One address of an interface, as ``ip addr`` shows it."""

    iface: str
    family: str  # "inet" or "inet6"
    address: str
    prefixlen: int
    scope: str  # "global", "link", "host"...

    @property
    def cidr(self) -> str:
        """``"10.0.0.5/24"``."""
        return f"{self.address}/{self.prefixlen}"


def ipv4_addresses(addresses: list[Address], iface: str | None = None) -> list[Address]:
    """The IPv4 entries of ``addresses``, optionally only those of ``iface``."""
    return [a for a in addresses if a.family == "inet" and (iface is None or a.iface == iface)]


class Addresses(Probe):
    """``ip -j addr show [dev IFACE]`` -> list of :class:`Address` (``[]`` if IFACE does not exist)."""

    def __init__(self, iface: str | None = None):
        self.iface = iface

    def command(self) -> str:
        if self.iface is None:
            return "ip -j addr show"
        return quote_line("ip -j addr show dev %s", self.iface)

    @probe_parser
    def process(self, output: str) -> list[Address]:
        addresses = []
        for link in _json_list(output):
            iface = link["ifname"]
            for info in link.get("addr_info", []):
                addresses.append(
                    Address(
                        iface=iface,
                        family=info["family"],
                        address=info["local"],
                        prefixlen=int(info["prefixlen"]),
                        scope=info.get("scope", "global"),
                    )
                )
        return addresses

    def failed(self, result: CommandResult) -> Any:
        if self.iface is not None and _missing_device(result):
            return []
        return super().failed(result)


# --- ip link ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Link:
    """One network interface, as ``ip link`` shows it."""

    name: str
    mac: str | None
    state: str  # operstate: "UP", "DOWN", "UNKNOWN"...
    up: bool  # administratively up (the UP flag)
    mtu: int


class Links(Probe):
    """``ip -j link show`` -> dict interface name -> :class:`Link`."""

    def command(self) -> str:
        return "ip -j link show"

    @probe_parser
    def process(self, output: str) -> dict[str, Link]:
        links = {}
        for item in _json_list(output):
            link = Link(
                name=item["ifname"],
                mac=item.get("address"),
                state=item.get("operstate", "UNKNOWN"),
                up="UP" in item.get("flags", []),
                mtu=int(item["mtu"]),
            )
            links[link.name] = link
        return links


# --- ip route -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Route:
    """One route. ``ip`` omits ``proto boot`` and ``scope global``: they are filled in here."""

    dst: str  # "default" or a CIDR such as "10.0.0.0/24"
    gateway: str | None
    dev: str | None  # None for blackhole/unreachable routes
    protocol: str  # "kernel", "static", "dhcp", "boot"...
    scope: str  # "global", "link", "host"
    type: str = "unicast"  # "unicast", "blackhole", "unreachable", "prohibit"...


def default_gateways(routes: list[Route]) -> list[str]:
    """The gateway addresses of the default routes."""
    return [r.gateway for r in routes if r.dst == "default" and r.gateway]


class Routes(Probe):
    """``ip -j -4 route show`` (or ``-6``) -> list of :class:`Route`."""

    def __init__(self, family: int = 4):
        if family not in (4, 6):
            raise ValueError(f"family must be 4 or 6, not {family!r}")
        self.family = family

    def command(self) -> str:
        return f"ip -j -{self.family} route show"

    @probe_parser
    def process(self, output: str) -> list[Route]:
        return [
            Route(
                dst=item["dst"],
                gateway=item.get("gateway"),
                dev=item.get("dev"),
                protocol=item.get("protocol", "boot"),
                scope=item.get("scope", "global"),
                type=item.get("type", "unicast"),
            )
            for item in _json_list(output)
        ]


# --- ip neigh -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Neighbor:
    """One entry of the ARP / NDP table."""

    address: str
    dev: str
    mac: str | None  # None while unresolved (INCOMPLETE, FAILED)
    state: list[str]  # e.g. ["REACHABLE"], ["STALE"], ["INCOMPLETE"]


class Neighbors(Probe):
    """``ip -j neigh show [to ADDRESS] [dev DEV]`` -> list of :class:`Neighbor` (``[]`` if no DEV)."""

    def __init__(self, address: str | None = None, dev: str | None = None):
        self.address = address
        self.dev = dev

    def command(self) -> str:
        line = "ip -j neigh show"
        if self.address is not None:
            line += quote_line(" to %s", self.address)
        if self.dev is not None:
            line += quote_line(" dev %s", self.dev)
        return line

    @probe_parser
    def process(self, output: str) -> list[Neighbor]:
        # With a ``dev`` filter, ip leaves the "dev" key out of each entry.
        return [
            Neighbor(
                address=item["dst"],
                dev=item.get("dev", self.dev),
                mac=item.get("lladdr"),
                state=list(item.get("state", [])),
            )
            for item in _json_list(output)
        ]

    def failed(self, result: CommandResult) -> Any:
        if self.dev is not None and _missing_device(result):
            return []
        return super().failed(result)


# --- /etc/resolv.conf ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ResolverConfig:
    """What glibc reads from resolv.conf. ``nameservers`` keeps every valid entry, in order (glibc
    only uses the first three)."""

    nameservers: list[str]
    search: list[str]
    domain: str | None


def parse_resolv_conf(text: str) -> ResolverConfig:
    """Parse resolv.conf like glibc: keywords at the very start of a line, comments start with ``#``
    or ``;``, the last ``search``/``domain`` line sets the search list, invalid addresses are skipped."""
    nameservers: list[str] = []
    search: list[str] = []
    domain = None
    for line in text.splitlines():
        words = line.split()
        if not words or line[0] in "#;" or line[0].isspace():
            continue
        keyword, args = words[0], words[1:]
        if keyword == "nameserver" and args:
            address = re.split(r"[#;]", args[0])[0]
            try:
                ipaddress.ip_address(address.split("%")[0])
            except ValueError:
                continue
            nameservers.append(address)
        elif keyword == "domain" and args:
            domain = args[0]
            search = [domain]
        elif keyword == "search" and args:
            search = list(args)
    return ResolverConfig(nameservers=nameservers, search=search, domain=domain)


class Resolver(FileContent):
    """Read a resolv.conf -> :class:`ResolverConfig` (empty when the file does not exist; a path
    that is not a readable file raises :class:`~tspcr_lab.errors.UnreadableFile`, a failure, as
    :class:`FileContent` does)."""

    def __init__(self, path: str = "/etc/resolv.conf"):
        super().__init__(path)

    def process(self, output: str) -> ResolverConfig:
        return parse_resolv_conf(output)

    def failed(self, result: CommandResult) -> Any:
        if result.rc == ABSENT:
            return ResolverConfig(nameservers=[], search=[], domain=None)
        return super().failed(result)


# --- ifupdown -----------------------------------------------------------------------------------


_DEFAULT_ROUTE_RE = re.compile(
    r"(?:\bip\s+(?:-4\s+)?r(?:o(?:u(?:te?)?)?)?\s+(?:add|a|replace)\s+(?:default|0\.0\.0\.0/0)\s+via\s+(?P<via>[0-9.]+)"
    r"|\broute\s+add\s+default\s+gw\s+(?P<gw>[0-9.]+))")


class InterfaceOptions(dict):
    """``ifquery IFACE`` options as a dict (first value of each key), plus every pair in ``pairs``.

    ifquery rewrites ``address 10.0.0.5/24`` as ``address: 10.0.0.5`` and ``netmask: 255.255.255.0``
    and prints ``post-up`` as ``up``. An interface with both an inet and an inet6 stanza repeats
    keys (``address``, ``netmask``): the dict keeps the first (usually inet), ``getall`` gives all.
    """

    def __init__(self, pairs: list[tuple[str, str]]):
        super().__init__()
        self.pairs = list(pairs)
        for key, value in self.pairs:
            self.setdefault(key, value)

    def getall(self, key: str) -> list[str]:
        return [value for k, value in self.pairs if k == key]

    @property
    def default_gateway(self) -> str | None:
        """The default gateway the stanza sets at each ``ifup``: its ``gateway`` option, else the
        router of an ``up``/``post-up`` command adding the default route (``ip route add default
        via X``, ``ip r a 0.0.0.0/0 via X``, ``route add default gw X``): both are written by
        technicians and both survive a reboot."""
        if "gateway" in self:
            return self["gateway"]
        for command in self.getall("up"):
            match = _DEFAULT_ROUTE_RE.search(command)
            if match:
                return match.group("via") or match.group("gw")
        return None

    @property
    def cidr(self) -> str | None:
        """``"10.0.0.5/24"`` from the first address and netmask, or None without an address.
        A netmask that is not a valid mask is kept as written: ``"10.0.0.5/255.0.255.0"``."""
        if "address" not in self:
            return None
        if "netmask" not in self:
            return self["address"]
        written = f"{self['address']}/{self['netmask']}"
        try:
            return str(ipaddress.ip_interface(written))
        except ValueError:
            return written


class IfupdownConfig(Probe):
    """``ifquery IFACE`` -> :class:`InterfaceOptions`, or None if IFACE is not in the interfaces files.

    A manual/dhcp interface without options gives an empty dict, not None. An unreadable
    interfaces file (syntax error) raises ProbeError carrying ifquery's message.
    """

    def __init__(self, iface: str):
        self.iface = iface

    def command(self) -> str:
        return quote_line("ifquery -- %s", self.iface)

    @probe_parser
    def process(self, output: str) -> InterfaceOptions:
        pairs = []
        for line in output.splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise ValueError(f"no 'key: value' in line {line.strip()!r}")
            pairs.append((key.strip(), value.strip()))
        return InterfaceOptions(pairs)

    def failed(self, result: CommandResult) -> Any:
        if result.rc == 1 and "unknown interface" in result.stderr and "couldn't read" not in result.stderr:
            return None
        if result.rc == 1 and result.stderr.strip():
            message = "; ".join(line.strip() for line in result.stderr.strip().splitlines())
            raise ProbeError(f"{type(self).__name__}: `{result.command}` exited 1: {message}")
        return super().failed(result)


class IfupdownAuto(Probe):
    """Interfaces brought up at boot -> ``{"auto": [...], "hotplug": [...]}`` (``lo`` is always auto)."""

    SEPARATOR = "---"

    def command(self) -> str:
        return f"ifquery --list --allow=auto && echo {self.SEPARATOR} && ifquery --list --allow=hotplug"

    @probe_parser
    def process(self, output: str) -> dict[str, list[str]]:
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        if self.SEPARATOR not in lines:
            raise ValueError(f"no {self.SEPARATOR!r} separator line")
        cut = lines.index(self.SEPARATOR)
        return {"auto": lines[:cut], "hotplug": lines[cut + 1 :]}


# --- ss -----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Listening:
    """A listening TCP socket or a bound UDP socket. ``address`` has no brackets: ``"::"``,
    ``"0.0.0.0"``, ``"*"`` (IPv4 and IPv6 wildcard); ``iface`` is the ``%lo`` suffix if any."""

    proto: str  # "tcp" or "udp"
    address: str
    port: int
    process: str | None = None  # program name, only with ListeningSockets(processes=True)
    iface: str | None = None

    @property
    def wildcard(self) -> bool:
        """True when the socket listens on every address of its family."""
        return self.address in ("*", "0.0.0.0", "::")


def _split_endpoint(endpoint: str) -> tuple[str, int, str | None]:
    """``"[::1]:25"`` -> ``("::1", 25, None)``; ``"127.0.0.53%lo:53"`` -> ``("127.0.0.53", 53, "lo")``."""
    host, sep, port = endpoint.rpartition(":")
    if not sep:
        raise ValueError(f"no port in {endpoint!r}")
    host, _, iface = host.partition("%")  # "[fe80::1]%eth0" or "127.0.0.53%lo"
    host = host.removeprefix("[").removesuffix("]")
    return host, 0 if port == "*" else int(port), iface or None


class ListeningSockets(Probe):
    """``ss -Hlntu`` -> list of :class:`Listening` (``-p`` added with ``processes=True``)."""

    def __init__(self, processes: bool = False):
        self.processes = processes

    def command(self) -> str:
        return "ss -Hlntup" if self.processes else "ss -Hlntu"

    @probe_parser
    def process(self, output: str) -> list[Listening]:
        sockets = []
        for line in output.splitlines():
            fields = line.split()
            if not fields:
                continue
            if len(fields) < 6:
                raise ValueError(f"short ss line {line.strip()!r}")
            address, port, iface = _split_endpoint(fields[4])
            program = re.search(r'users:\(\("([^"]*)"', line)
            sockets.append(
                Listening(
                    proto=fields[0],
                    address=address,
                    port=port,
                    process=program.group(1) if program else None,
                    iface=iface,
                )
            )
        return sockets


# --- ping and name resolution -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PingResult:
    reachable: bool
    transmitted: int
    received: int
    resolved_address: str | None  # the address ping used, from "PING name (1.2.3.4)"
    error: str | None = None  # e.g. "ping: x.lab: Name or service not known"


# rc 2 messages that describe the host's configuration (the trainee's work), not a probe failure.
PING_ERRORS = (
    "Name or service not known",
    "Temporary failure in name resolution",
    "No address associated with hostname",
    "Network is unreachable",
)


# A DNS server that does not answer is the host's configuration (the trainee's work): the resolver
# must give up quickly, well within a check's time limit, instead of glibc's 5 s x 2 attempts.
RESOLVER_LIMITS = "RES_OPTIONS='timeout:1 attempts:2'"


class Ping(Probe):
    """``ping -c COUNT -W WAIT -n TARGET`` -> :class:`PingResult`. Name-resolution and no-route
    errors give ``reachable=False`` with ``error`` set; other failures raise ProbeError."""

    ok_codes = (0, 1)  # rc 2 is handled in failed()

    def __init__(self, target: str, count: int = 1, wait: int = 1):
        self.target = target
        self.count = int(count)
        self.wait = int(wait)

    def command(self) -> str:
        # LC_ALL=C: the resolver's error messages are matched below and must not be translated.
        return quote_line(f"LC_ALL=C {RESOLVER_LIMITS} ping -c %s -W %s -n -- %s", self.count, self.wait, self.target)

    @probe_parser
    def process(self, output: str) -> PingResult:
        stats = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", output)
        if stats is None:
            raise ValueError("no 'packets transmitted' statistics line")
        resolved = re.search(r"^PING \S+? ?\(([^\s()]+)", output, re.MULTILINE)
        received = int(stats.group(2))
        return PingResult(
            reachable=received > 0 or "bytes from" in output,
            transmitted=int(stats.group(1)),
            received=received,
            resolved_address=resolved.group(1) if resolved else None,
        )

    def failed(self, result: CommandResult) -> Any:
        if result.rc == 2 and any(text in result.stderr for text in PING_ERRORS):
            error = result.stderr.strip().splitlines()[-1].strip()
            return PingResult(reachable=False, transmitted=0, received=0, resolved_address=None, error=error)
        return super().failed(result)


class Resolve(Probe):
    """``getent ahostsv4 NAME`` -> unique IPv4 addresses in resolver order (``[]`` if unknown)."""

    ok_codes = (0, 2)  # 2: the name does not resolve

    def __init__(self, name: str):
        self.name = name

    def command(self) -> str:
        return quote_line(f"{RESOLVER_LIMITS} getent ahostsv4 -- %s", self.name)

    @probe_parser
    def process(self, output: str) -> list[str]:
        addresses: list[str] = []
        for line in output.splitlines():
            if not line.strip():
                continue
            address = str(ipaddress.IPv4Address(line.split()[0]))
            if address not in addresses:
                addresses.append(address)
        return addresses
