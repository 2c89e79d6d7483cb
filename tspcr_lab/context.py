"""A lab in use: the lab file, where it runs, the trainee's parameters and the host handles."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Iterator

from .devices.sessions import DeviceSessions
from .errors import UserError
from .host import Host
from .labfile import Lab, load_lab
from .params import LabParams, generate
from .targets import Target, resolve_target


class HostSet(Mapping):
    """The lab's hosts by name: ``hosts["pc1"]`` or ``hosts.pc1``."""

    def __init__(self, hosts: dict[str, Host]):
        self._hosts = hosts

    def __getitem__(self, name: str) -> Host:
        try:
            return self._hosts[name]
        except KeyError:
            raise UserError(f"the lab has no host '{name}' (hosts: {', '.join(self._hosts)})") from None

    def __getattr__(self, name: str) -> Host:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._hosts)

    def __len__(self) -> int:
        return len(self._hosts)

    def close(self) -> None:
        for host in self._hosts.values():
            host.close()


@dataclasses.dataclass
class LabContext:
    lab: Lab
    target: Target
    params: LabParams
    hosts: HostSet
    devices: DeviceSessions = dataclasses.field(default_factory=lambda: DeviceSessions({}))

    @property
    def trainee(self) -> str:
        return self.target.trainee


def open_context(lab_name: str, *, instance: str | None = None, inventory: str | None = None,
                 station: str | None = None, seed: int | None = None, trainee: str | None = None) -> LabContext:
    lab = load_lab(lab_name)
    target = resolve_target(lab, instance=instance, inventory=inventory, station=station, seed=seed,
                            trainee=trainee)
    params = generate(lab, target.seed if target.seed is not None else 0)
    return LabContext(lab, target, params, HostSet(target.hosts()), DeviceSessions(target.endpoints))

