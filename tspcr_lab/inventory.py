"""Inventories of real labs, in pyinfra's own format.

An inventory is a Python file whose module-level lists (or tuples) are groups of hosts; a host is
either a name or ``(name, {data})``, with pyinfra's data keys (``ssh_hostname``, ``ssh_user``,
``ssh_port``, ``ssh_key``, ``ssh_password``). Host names are the lab's own (pc1, r1, ...). The
file is read here without pyinfra's CLI, and handed to pyinfra's API as is for provisioning.

A host with ``device_type`` is a **network device** (a Cisco IOS router or switch, an FRR router),
managed by its CLI over SSH with netmiko rather than by pyinfra over a Linux shell (provisioning
skips it; its starting state is a baseline configuration, :mod:`tspcr_lab.devices.baseline`)::

    routers = [("r1", {"device_type": "cisco_ios", "device_driver": "ios",
                       "device_hostname": "192.0.2.1", "device_user": "admin",
                       "device_password_env": "TSPCR_R1_PASSWORD",
                       "device_secret_file": "~/.config/tspcr-lab/r1.enable"})]

``device_type`` is netmiko's (:data:`DEVICE_DRIVERS`: which types each driver takes),
``device_driver`` the driver that reads it (``ios``, the default, or ``frr``: FRR's vtysh is
``cisco_ios`` to netmiko but is read by the FRR driver), ``device_hostname`` / ``device_port``
where its SSH answers (default: ``ssh_hostname``, else the host's name; port 22), ``device_user``
the login. Passwords are never written in the inventory: ``device_password_env`` names an
environment variable, ``device_password_file`` a file outside the project checkout, readable by
its owner only (the first line is the password); ``device_secret_env`` / ``device_secret_file``
likewise for the enable secret (optional). A file's path may start with ``~`` or be relative to
the inventory's folder. :class:`DeviceSpec` is what a host declares; its credentials are read
only when used (:meth:`Credential.read`), so that grading a lab's Linux hosts does not need them.
"""

from __future__ import annotations

import dataclasses
import re
import difflib
import os
import stat
from pathlib import Path
from typing import Any

from .errors import UserError

SSH_KEYS = {"ssh_hostname", "ssh_user", "ssh_port", "ssh_key", "ssh_password", "ssh_known_hosts_file"}
# driver (``device_driver``) -> the netmiko device types (``device_type``) it reads
DEVICE_DRIVERS = {"ios": ("cisco_ios", "cisco_xe"), "frr": ("cisco_ios",)}
DEVICE_KEYS = {"device_type", "device_driver", "device_hostname", "device_port", "device_user",
               "device_password_env", "device_password_file", "device_secret_env", "device_secret_file"}


@dataclasses.dataclass(frozen=True)
class Credential:
    """Where a device's password (or enable secret) is: an environment variable (``kind="env"``)
    or a file (``kind="file"``, an absolute path). ``what`` names it in messages."""

    kind: str
    where: str
    what: str

    def read(self) -> str:
        """The secret itself; a variable not set, a missing, empty or group/world-readable file
        is a one-line UserError saying what to do."""
        if self.kind == "env":
            value = os.environ.get(self.where, "")
            if not value:
                raise UserError(f"{self.what}: the environment variable {self.where} is not set (export it before running)")
            return value
        path = Path(self.where)
        try:
            info = path.stat()
        except OSError as exc:
            raise UserError(f"{self.what}: cannot read {path}: {exc.strerror}") from None
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"{self.what}: {path} is not a file")
        if info.st_mode & 0o077:
            raise UserError(f"{self.what}: {path} is readable by others than its owner "
                            f"(mode {stat.S_IMODE(info.st_mode):04o}): chmod 600 {path}")
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{self.what}: cannot read {path}: {exc}") from None
        if not lines or not lines[0]:
            raise UserError(f"{self.what}: {path} is empty (its first line is the password)")
        return lines[0]


@dataclasses.dataclass(frozen=True)
class DeviceSpec:
    """A network device an inventory declares (see the module's documentation)."""

    name: str  # the inventory's host name
    device_type: str
    driver: str  # a key of DEVICE_DRIVERS
    hostname: str
    port: int
    user: str
    password: Credential
    secret: Credential | None = None


@dataclasses.dataclass(frozen=True)
class Inventory:
    path: Path
    hosts: dict[str, dict[str, Any]]
    groups: dict[str, list[str]]
    devices: dict[str, DeviceSpec] = dataclasses.field(default_factory=dict)  # inventory host -> its device


def is_device(data: dict[str, Any]) -> bool:
    """Whether a host's data declare a network device (managed by its CLI, not by pyinfra)."""
    return "device_type" in data


def _unknown_key(path: Path, name: str, key: str, known: set[str]) -> UserError:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    hint = f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(sorted(known))})"
    return UserError(f"inventory {path}: host {name}: unknown key {key}{hint}")


def load_inventory(path: str | Path) -> Inventory:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"inventory {path}: no such file")
    namespace: dict[str, Any] = {"__file__": str(path)}
    try:
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    except SyntaxError as exc:
        raise UserError(f"inventory {path}: line {exc.lineno}: {exc.msg}") from None
    except Exception as exc:
        raise UserError(f"inventory {path}: {type(exc).__name__}: {exc}") from None
    hosts: dict[str, dict[str, Any]] = {}
    groups: dict[str, list[str]] = {}
    for group, value in namespace.items():
        if group.startswith("_") or not isinstance(value, (list, tuple)):
            continue
        members = []
        for entry in value:
            name, data = _entry(path, group, entry)
            unknown = sorted(k for k in data if k.startswith("ssh_") and k not in SSH_KEYS)
            if unknown:
                raise _unknown_key(path, name, unknown[0], SSH_KEYS)
            hosts.setdefault(name, {}).update(data)
            members.append(name)
        groups[group] = members
    if not hosts:
        raise UserError(f"inventory {path}: no hosts (expected lists such as pcs = [(\"pc1\", {{...}})])")
    devices = {}
    for name, data in hosts.items():  # once a host's data are merged across its groups
        spec = device_spec(path, name, data)
        if spec is not None:
            devices[name] = spec
        probe_ports_of(path, name, data)
    return Inventory(path, hosts, groups, devices)


PROBE_IFACE = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")


def probe_ports_of(path: str | Path, name: str, data: dict[str, Any]) -> dict[str, str]:
    """The probe ports host ``name`` offers (``probe_ports = {"trunk": "eth1"}``: a lab's probe
    port name -> the interface of this grader-owned host plugged into that port's segment);
    {} for any other host. A wrong value is a one-line UserError."""
    ports = data.get("probe_ports", {})
    where = f"inventory {path}: host {name}: probe_ports"
    if not isinstance(ports, dict):
        raise UserError(f"{where} must be a dict of probe port name -> interface, e.g. {{\"trunk\": \"eth1\"}}")
    for port, iface in ports.items():
        if not isinstance(port, str) or not isinstance(iface, str) or not PROBE_IFACE.match(iface):
            raise UserError(f"{where}: {port!r}: {iface!r} is not an interface name")
    return dict(ports)


def probe_radios_of(path: str | Path, name: str, data: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The probe radios host ``name`` offers (``probe_radios = {"air": {"station": "wlan1",
    "monitor": "mon0"}}``: a lab's radio VM name -> the station and monitor interfaces of this
    grader-owned host's Wi-Fi card on that medium); {} for any other host. A wrong value is a
    one-line UserError."""
    radios = data.get("probe_radios", {})
    where = f"inventory {path}: host {name}: probe_radios"
    example = '{"air": {"station": "wlan1", "monitor": "mon0"}}'
    if not isinstance(radios, dict):
        raise UserError(f"{where} must be a dict of radio name -> its interfaces, e.g. {example}")
    found = {}
    for radio, ifaces in radios.items():
        if not isinstance(ifaces, dict) or set(ifaces) != {"station", "monitor"} or not all(
                isinstance(v, str) and PROBE_IFACE.match(v) for v in ifaces.values()):
            raise UserError(f"{where}: {radio!r}: give the station and monitor interfaces, e.g. {example}")
        found[str(radio)] = (ifaces["station"], ifaces["monitor"])
    return found


def device_spec(path: str | Path, name: str, data: dict[str, Any]) -> DeviceSpec | None:
    """The network device host ``name`` of inventory ``path`` declares (None: not a device); a
    wrong declaration is a one-line UserError saying why and what to write instead."""
    path = Path(path)
    where = f"inventory {path}: host {name}"
    for key in sorted(data):
        if key in ("device_password", "device_secret"):
            raise UserError(f"{where}: {key} would keep a password in the inventory: give {key}_env "
                            f"(the name of an environment variable holding it) or {key}_file (a file outside "
                            f"the project, mode 600) instead")
        if key.startswith("device_") and key not in DEVICE_KEYS:
            raise _unknown_key(path, name, key, DEVICE_KEYS)
    if not is_device(data):
        given = sorted(k for k in data if k.startswith("device_"))
        if given:
            raise UserError(f"{where}: {given[0]} needs device_type (a network device's netmiko type, "
                            f"e.g. cisco_ios): without it the host is a Linux host managed by pyinfra")
        return None

    def text(key: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if value is None:
            raise UserError(f"{where}: a network device needs {key}")
        if not isinstance(value, str) or not value.strip():
            raise UserError(f"{where}: {key} must be a non-empty string, not {value!r}")
        return value.strip()

    driver = text("device_driver", "ios")
    if driver not in DEVICE_DRIVERS:
        raise UserError(f"{where}: device_driver {driver!r} is not one of {', '.join(DEVICE_DRIVERS)}")
    device_type = text("device_type")
    if device_type not in DEVICE_DRIVERS[driver]:
        supported = sorted({t for types in DEVICE_DRIVERS.values() for t in types})
        if device_type in supported:
            raise UserError(f"{where}: device_type {device_type!r} does not go with device_driver {driver!r} "
                            f"(which reads {', '.join(DEVICE_DRIVERS[driver])})")
        raise UserError(f"{where}: device_type {device_type!r} is not supported (supported: {', '.join(supported)})")
    port = data.get("device_port", 22)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise UserError(f"{where}: device_port must be a TCP port number (1-65535), not {port!r}")
    hostname = text("device_hostname", str(data.get("ssh_hostname", name)))
    password = _credential(path, where, data, "device_password", required=True)
    secret = _credential(path, where, data, "device_secret", required=False)
    return DeviceSpec(name, device_type, driver, hostname, port, text("device_user"), password, secret)


def _credential(path: Path, where: str, data: dict[str, Any], key: str, required: bool) -> Credential | None:
    from .labfile import project_root

    env, file = data.get(f"{key}_env"), data.get(f"{key}_file")
    if env is not None and file is not None:
        raise UserError(f"{where}: give {key}_env or {key}_file, not both")
    if env is None and file is None:
        if required:
            raise UserError(f"{where}: a network device needs {key}_env (an environment variable's name) "
                            f"or {key}_file (a file outside the project, mode 600)")
        return None
    value = env if env is not None else file
    used = f"{key}_env" if env is not None else f"{key}_file"
    if not isinstance(value, str) or not value.strip():
        raise UserError(f"{where}: {used} must be a non-empty string, not {value!r}")
    if env is not None:
        if not env.replace("_", "a").isalnum() or env[0].isdigit():
            raise UserError(f"{where}: {used} {env!r} is not an environment variable's name")
        return Credential("env", env, f"{where}: {used}")
    file_path = Path(os.path.expanduser(file))
    if not file_path.is_absolute():
        file_path = path.resolve().parent / file_path
    file_path = file_path.resolve()
    root = project_root().resolve()
    if file_path.is_relative_to(root):
        raise UserError(f"{where}: {used} {file} is inside the project checkout ({root}): keep credentials "
                        f"outside the repository (e.g. ~/.config/tspcr-lab/, mode 600)")
    return Credential("file", str(file_path), f"{where}: {used}")


def _entry(path: Path, group: str, entry: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(entry, str):
        return entry, {}
    if (
        isinstance(entry, tuple)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and isinstance(entry[1], dict)
    ):
        return entry[0], dict(entry[1])
    raise UserError(f"inventory {path}: group {group}: {entry!r} is neither a name nor (name, {{data}})")
