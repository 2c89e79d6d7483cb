"""Inventories of real labs, in pyinfra's own format.

An inventory is a Python file whose module-level lists (or tuples) are groups of hosts; a host is
either a name or ``(name, {data})``, with pyinfra's data keys (``ssh_hostname``, ``ssh_user``,
``ssh_port``, ``ssh_key``, ``ssh_password``). Host names are the lab's own (pc1, r1, ...). The
file is read here without pyinfra's CLI, and handed to pyinfra's API as is for provisioning.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from .errors import UserError

SSH_KEYS = {"ssh_hostname", "ssh_user", "ssh_port", "ssh_key", "ssh_password", "ssh_known_hosts_file"}


@dataclasses.dataclass(frozen=True)
class Inventory:
    path: Path
    hosts: dict[str, dict[str, Any]]
    groups: dict[str, list[str]]


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
                raise UserError(f"inventory {path}: host {name}: unknown key {unknown[0]}")
            hosts.setdefault(name, {}).update(data)
            members.append(name)
        groups[group] = members
    if not hosts:
        raise UserError(f"inventory {path}: no hosts (expected lists such as pcs = [(\"pc1\", {{...}})])")
    return Inventory(path, hosts, groups)


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
