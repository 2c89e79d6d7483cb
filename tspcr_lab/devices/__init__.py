"""Network devices read through drivers: typed getters (NAPALM-style) over Linux, Cisco IOS, FRR...

``driver.interfaces()``, ``driver.switchports()``, ``driver.routes()``... return the types of
:mod:`tspcr_lab.devices.model` whatever the device; see :mod:`tspcr_lab.devices.base`.
"""

from .base import Driver, HostDriver, NotSupported, ParseError, cli_error, json_value, textfsm_rows
from .connection import Connection, LoginFailed, NetmikoConnection, VtyshConnection
from .frr import FrrDriver
from .ios import IosDriver
from .linux import LinuxDriver
from .sessions import DeviceSessions, Endpoint
from .model import (
    Facts,
    Interface,
    Interfaces,
    MacEntry,
    OspfInterface,
    OspfNeighbor,
    Route,
    Switchport,
    Vlan,
    best_route,
    canonical_interface,
    normalize_address,
    normalize_mac,
    normalize_prefix,
    same_interface,
    vlan_set,
)

__all__ = [
    "Connection", "DeviceSessions", "Driver", "Endpoint", "Facts", "FrrDriver", "HostDriver", "Interface", "Interfaces", "IosDriver", "LinuxDriver",
    "LoginFailed", "MacEntry", "NetmikoConnection", "NotSupported", "OspfInterface", "OspfNeighbor", "ParseError", "Route", "Switchport", "Vlan", "best_route",
    "canonical_interface", "cli_error", "json_value", "normalize_address", "normalize_mac", "normalize_prefix",
    "same_interface", "textfsm_rows", "vlan_set", "VtyshConnection",
]
