"""Where a lab runs: the virtual lab on this machine, or real hosts from an inventory.

A :class:`Target` knows the lab's hosts, how to reach each one for checks (a transport) and how
to provision them with pyinfra (inventory names and data). Commands and the pytest plugin build
one from the same options (``--instance``, ``--inventory``), so checks never care which it is.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Callable

from .devices.sessions import Endpoint
from .errors import UserError
from .host import Host
from .inventory import load_inventory, probe_ports_of, probe_radios_of
from .labfile import Lab
from .transport.base import Transport
from .transport.local import LocalTransport
from .transport.ssh import SSHTransport


@dataclasses.dataclass
class Target:
    lab: Lab
    kind: str  # "virtual" or "inventory"
    name: str  # the virtual instance, or the inventory file
    seed: int | None
    trainee: str
    transports: dict[str, Callable[[], Transport]]
    provision_hosts: dict[str, tuple[str, dict[str, Any]]]  # lab host -> (pyinfra inventory name, data)
    # lab host -> where its management (SSH, a device's CLI) answers for the grader
    endpoints: dict[str, Endpoint] = dataclasses.field(default_factory=dict)
    # a lab's probe port name -> opens it: (name, record) -> tspcr_lab.probes.frames.FramePort
    probe_ports: dict[str, Callable[..., Any]] = dataclasses.field(default_factory=dict)
    # a lab's probe port name -> its IP link: (name, interface, gateway) -> tspcr_lab.probes.packets.ProbeLink
    probe_links: dict[str, Callable[..., Any]] = dataclasses.field(default_factory=dict)
    # a lab's radio VM name -> the grader's radio there: (name, record) -> tspcr_lab.probes.radio.RadioProbe
    probe_radios: dict[str, Callable[..., Any]] = dataclasses.field(default_factory=dict)
    # the grader's own folder for this target (a troubleshooting lab's fault ledger): never on its hosts
    state_dir: Path | None = None

    def hosts(self, default_timeout: float = 10.0) -> dict[str, Host]:
        return {name: Host(name, make(), default_timeout=default_timeout) for name, make in self.transports.items()}


def virtual_target(lab: Lab, instance: str | None = None) -> Target:
    """Checks read a virtual host as its root through its console (nothing the trainee does in the
    host can cut the grader off); users log in over SSH on the management network."""
    from .virtual.lab import VirtualLab

    vlab = VirtualLab(lab, instance)
    state = vlab.load_state()
    if state.lab != lab.id:
        raise UserError(f"instance {vlab.instance} runs lab {state.lab}, not {lab.id}")
    transports = {name: _console_factory(vlab, name, hs.mgmt) for name, hs in state.hosts.items()}
    provision = {name: (f"@tspcr/{vlab.instance}/{name}", {}) for name in state.hosts}
    # a device's CLI over SSH on the management network, opened from the core namespace
    endpoints = {name: Endpoint(name, hs.mgmt, 22, vlab.mgmt_socket) for name, hs in state.hosts.items()}

    def local_port(name: str, record=None):
        from .probes.frames import LocalFramePort

        return LocalFramePort(vlab.probe_socket(name), name, record)

    def local_link(name: str, interface, gateway):
        from .probes.packets import LocalLink

        return LocalLink(name, interface, gateway, *vlab.probe_namespace(name, interface, gateway))

    def local_radio(name: str, record=None):
        from .probes.radio import RadioProbe
        from .transport.console import ConsoleTransport
        from .virtual import radio

        vm = vlab.load_state().radios[name]
        console = ConsoleTransport(
            f"radio {name}", lambda: radio.console_prefix(vlab.dir, vlab.core, name, vm.mgmt, None),
            running=lambda: radio.alive(vm), env=console_env())
        # the VM's last radio is the grader's (vm-init leaves it and hwsim0, the medium's monitor, in its root)
        return RadioProbe(name, Host(f"radio {name}", console), f"wlan{len(vm.hosts)}", "hwsim0", record)

    from .virtual.lab import console_env

    probes = {probe.name: local_port for probe in lab.probe_ports}
    links = {probe.name: local_link for probe in lab.probe_ports if probe.address}
    radios = {vm.name: local_radio for vm in lab.radios if vm.name in state.radios}
    return Target(lab, "virtual", vlab.instance, state.seed, state.trainee, transports, provision, endpoints,
                  probes, links, radios, vlab.dir)


def station_hosts(lab: Lab, inventory, station: str | None) -> dict[str, str]:
    """Lab host name -> inventory host name. Without a station, inventory hosts carry the lab's
    names; with one (a trainee's station in a class), the hosts of that inventory group, each
    named for the lab by its ``lab_host`` data (or by its own name)."""
    if station is None:
        mapping = {name: name for name in lab.hosts if name in inventory.hosts}
    else:
        if station not in inventory.groups:
            raise UserError(f"inventory {inventory.path}: no group '{station}' (groups: {', '.join(inventory.groups)})")
        mapping = {}
        for member in inventory.groups[station]:
            lab_name = str(inventory.hosts[member].get("lab_host", member))
            if lab_name in mapping:
                raise UserError(f"inventory {inventory.path}: group {station} has two hosts for {lab_name}")
            mapping[lab_name] = member
    missing = [name for name in lab.hosts if name not in mapping]
    if missing:
        where = f"group {station}" if station else "inventory"
        raise UserError(f"inventory {inventory.path}: {where}: lab {lab.id} needs host(s) {', '.join(missing)}")
    return {name: mapping[name] for name in lab.hosts}


def inventory_target(lab: Lab, path: str | Path, seed: int | None, trainee: str, station: str | None = None) -> Target:
    inventory = load_inventory(path)
    names = station_hosts(lab, inventory, station)
    transports = {}
    for name in lab.hosts:
        data = inventory.hosts[names[name]]
        if data.get("tspcr_local"):  # the grader runs on this very host (a trainee's self-check)
            transports[name] = lambda n=name: LocalTransport(n)
            continue
        transports[name] = _ssh_from_data(name, data)
    provision = {name: (names[name], dict(inventory.hosts[names[name]])) for name in lab.hosts}
    endpoints = {}
    for name in lab.hosts:
        data, device = inventory.hosts[names[name]], inventory.devices.get(names[name])
        endpoints[name] = (Endpoint(name, device.hostname, device.port) if device is not None else
                           Endpoint(name, str(data.get("ssh_hostname", name)), int(data.get("ssh_port", 22))))
    return Target(lab, "inventory", str(path), seed, trainee, transports, provision, endpoints,
                  *_probe_hosts(inventory, station), _probe_radios(inventory, station),
                  inventory_state_dir(path, lab, station))


def inventory_state_dir(path: str | Path, lab: Lab, station: str | None) -> Path:
    """The grader's folder for a lab on an inventory's station: under $XDG_STATE_HOME (or
    ~/.local/state)/tspcr-lab, named after the inventory file (its name and a digest of its path)."""
    import hashlib

    inventory = Path(path).resolve()
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "tspcr-lab"
    digest = hashlib.sha256(str(inventory).encode()).hexdigest()[:10]
    return base / f"{inventory.stem}-{digest}" / lab.id / (station or "-")


def _probe_hosts(inventory, station: str | None) -> tuple[dict[str, Callable[..., Any]], dict[str, Callable[..., Any]]]:
    """The probe ports the inventory's grader-owned probe hosts offer (their ``probe_ports``
    data), among the station's group when a station is given: each opened over SSH, for raw
    frames and for IP probes."""
    members = inventory.groups[station] if station else list(inventory.hosts)
    ports: dict[str, Callable[..., Any]] = {}
    links: dict[str, Callable[..., Any]] = {}
    for member in members:
        data = inventory.hosts[member]
        for port, iface in probe_ports_of(inventory.path, member, data).items():
            if port in ports:
                raise UserError(f"inventory {inventory.path}: probe port '{port}' is offered by two hosts")
            make = _ssh_from_data(member, data)

            def open_port(name: str, record=None, member=member, make=make, iface=iface):
                from .probes.frames import RemoteFramePort

                return RemoteFramePort(Host(member, make()), iface, name, record)

            def open_link(name: str, interface, gateway, member=member, make=make, iface=iface):
                from .probes.packets import RemoteLink

                return RemoteLink(name, interface, gateway, Host(member, make()), iface)

            ports[port], links[port] = open_port, open_link
    return ports, links


def _probe_radios(inventory, station: str | None) -> dict[str, Callable[..., Any]]:
    """The probe radios the inventory's grader-owned hosts offer (their ``probe_radios`` data),
    among the station's group when a station is given, each used over SSH."""
    members = inventory.groups[station] if station else list(inventory.hosts)
    radios: dict[str, Callable[..., Any]] = {}
    for member in members:
        data = inventory.hosts[member]
        for radio, (station_iface, monitor) in probe_radios_of(inventory.path, member, data).items():
            if radio in radios:
                raise UserError(f"inventory {inventory.path}: probe radio '{radio}' is offered by two hosts")
            make = _ssh_from_data(member, data)

            def open_radio(name: str, record=None, member=member, make=make, iface=station_iface, mon=monitor):
                from .probes.radio import RadioProbe

                return RadioProbe(name, Host(member, make()), iface, mon, record)

            radios[radio] = open_radio
    return radios


def _console_factory(vlab, name: str, mgmt: str) -> Callable[[], Transport]:
    from .transport.console import ConsoleTransport
    from .virtual.lab import console_env, host_console, host_running

    def current():  # the host's state as it is now: a reboot gives it a new PID 1
        return vlab.load_state().host(name)

    def make() -> Transport:
        cached = {"state": current()}

        def state():
            if not host_running(cached["state"], vlab.instance):
                cached["state"] = current()
            return cached["state"]

        return ConsoleTransport(
            name, lambda: host_console(state(), vlab.instance), running=lambda: host_running(state(), vlab.instance),
            env=console_env(),
            # users' logins check no host key (a trainee may make new ones): the management
            # network, opened from the core namespace, reaches only this host
            login_transport=lambda: SSHTransport(name, mgmt, sock_factory=vlab.mgmt_socket, known_hosts="",
                                                 strict_host_keys=False),
        )

    return make


def _ssh_from_data(name: str, data: dict[str, Any]) -> Callable[[], Transport]:
    """SSH to an inventory host from its pyinfra data (``ssh_hostname``, ``ssh_user``...)."""
    return _ssh_factory(
        name, str(data.get("ssh_hostname", name)), port=int(data.get("ssh_port", 22)),
        username=str(data.get("ssh_user", "root")),
        key_filename=os.path.expanduser(data["ssh_key"]) if data.get("ssh_key") else None,
        password=data.get("ssh_password"), known_hosts=data.get("ssh_known_hosts_file"),
    )


def _ssh_factory(name: str, address: str, **kwargs: Any) -> Callable[[], Transport]:
    return lambda: SSHTransport(name, address, **kwargs)


def resolve_target(lab: Lab, *, instance: str | None = None, inventory: str | None = None,
                   station: str | None = None, seed: int | None = None, trainee: str | None = None) -> Target:
    if inventory:
        if seed is None:
            raise UserError("a real lab (--inventory) needs the trainee's --seed")
        return inventory_target(lab, inventory, seed, trainee or "", station)
    if station:
        raise UserError("--station names a group of a real lab's inventory: give --inventory too")
    target = virtual_target(lab, instance)
    if seed is not None:
        target.seed = seed
    if trainee:
        target.trainee = trainee
    return target
