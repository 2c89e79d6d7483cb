"""Network devices an inventory declares (``device_type``...: see :mod:`tspcr_lab.inventory`),
and a logged-in driver for each.

:func:`declared_devices` gives a target's network devices by lab host name; :func:`open_device`
logs in to one over SSH (netmiko, at its ``device_hostname``:``device_port``, the address
``Target.endpoints`` gives it too) with the credentials the inventory points to, and returns its driver (:data:`DRIVERS`:
``ios`` -> :class:`~.ios.IosDriver`, ``frr`` -> :class:`~.frr.FrrDriver`). Each call is a new
session: the caller closes it.
"""

from __future__ import annotations

from typing import Any, Callable

from ..errors import UserError
from ..inventory import DEVICE_DRIVERS, DeviceSpec, device_spec
from ..transport.base import CommandResult
from .connection import NetmikoConnection
from .frr import FrrDriver
from .ios import IosDriver

__all__ = ["DRIVERS", "declared_devices", "open_device"]

DRIVERS: dict[str, type[IosDriver]] = {"ios": IosDriver, "frr": FrrDriver}
assert set(DRIVERS) == set(DEVICE_DRIVERS)


def declared_devices(target) -> dict[str, DeviceSpec]:
    """Lab host -> the network device it is, for a real lab's target (a virtual lab has none)."""
    if target.kind != "inventory":
        return {}
    devices = {}
    for host, (inventory_name, data) in target.provision_hosts.items():
        spec = device_spec(target.name, inventory_name, data)
        if spec is not None:
            devices[host] = spec
    return devices


def open_device(target, host: str, *, recorder: Callable[[CommandResult], None] | None = None,
                **options: Any) -> IosDriver:
    """A logged-in driver for lab host ``host``, a network device of ``target``'s inventory.
    A device that does not answer or refuses the login raises
    :class:`~tspcr_lab.errors.HostUnreachable` (:class:`~.connection.LoginFailed`); a host that is
    not a declared device, or credentials that cannot be read, a UserError. ``options`` go to
    :class:`~.connection.NetmikoConnection` (``read_timeout``...)."""
    spec = declared_devices(target).get(host)
    if spec is None:
        raise UserError(f"{host} is not a network device of {target.name} (no device_type)")
    password = spec.password.read()
    secret = spec.secret.read() if spec.secret is not None else ""
    connection = NetmikoConnection(spec.hostname, spec.user, password, secret=secret, port=spec.port,
                                   device_type=spec.device_type, name=host, **options)
    return DRIVERS[spec.driver](connection, name=host, recorder=recorder)
