"""The virtual lab: every host of a lab as an isolated system on this machine.

Layout of one running lab instance (``ip-plan`` for one trainee):

* a *core* network namespace ``tl-<instance>`` holding the lab's switches (Linux bridges) and the
  grader's end of the management network. It has no route anywhere and forwarding is off, so
  hosts reach only each other through the switches and the grader through mgmt0, never each
  other through the management network, and never the machine or what lies beyond it;
* per host, a network namespace ``tl-<instance>-<host>`` with a veth per lab link (peer on a
  switch of the core namespace) and ``mgmt0`` (peer ``m-<host>`` in the core namespace); inside it,
  ``unshare --mount --uts --pid --fork`` runs boot.sh, which mounts the host's overlay root and
  starts tini and the host's init (hostname, sysctls, ``ifup -a``, sshd, boot services);
* state (writable layers, keys, state.json) on a tmpfs at /run/tspcr-lab, which the hosts cannot
  see: their lower layer is the machine's root file system without its mounts.

Nothing is created in the machine's own network namespace.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from importlib import resources
from pathlib import Path

import psutil

from ..errors import UserError
from ..labfile import Lab
from . import netns, rootfs
from .netns import VirtualLabError

STATE_ROOT = Path(os.environ.get("TSPCR_STATE_DIR", "/run/tspcr-lab"))
READY_TIMEOUT = 20.0
ENV_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def require_root() -> None:
    if os.geteuid() != 0:
        raise UserError(
            "the virtual lab needs root (it creates network namespaces, bridges and mounts): "
            "run this command as root, e.g. with sudo"
        )


def _ensure_state_fs() -> None:
    STATE_ROOT.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not os.path.ismount(STATE_ROOT):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=700", "tspcr-lab", str(STATE_ROOT)], check=True)


def _release_state_fs() -> None:
    if os.path.ismount(STATE_ROOT) and not any(STATE_ROOT.iterdir()):
        subprocess.run(["umount", str(STATE_ROOT)], check=False)


def _mac(*parts: str) -> str:
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return ":".join(["02"] + [f"{b:02x}" for b in digest[:5]])


@dataclasses.dataclass
class HostState:
    name: str
    role: str
    netns: str
    mgmt: str
    pid: int = 0  # PID 1 of the host (tini), as the machine sees it
    started: float = 0.0  # its start time, so that a recycled PID is never taken for it
    public_key: str = ""
    links: list[tuple[str, str, str, str]] = dataclasses.field(default_factory=list)  # iface, switch, core end, mac


@dataclasses.dataclass
class InstanceState:
    instance: str
    lab: str
    core: str
    mgmt_network: str
    grader: str
    seed: int
    trainee: str
    created: float
    hosts: dict[str, HostState]

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    def host(self, name: str) -> HostState:
        if name not in self.hosts:
            raise UserError(f"lab {self.instance} has no host '{name}' (hosts: {', '.join(self.hosts)})")
        return self.hosts[name]

    @classmethod
    def from_json(cls, data: dict) -> "InstanceState":
        hosts = {}
        for name, h in data.pop("hosts").items():
            h["links"] = [tuple(link) for link in h.get("links", [])]
            hosts[name] = HostState(**h)
        return cls(hosts=hosts, **data)


def _process_alive(pid: int, started: float) -> bool:
    try:
        proc = psutil.Process(pid)
        return abs(proc.create_time() - started) < 0.05 and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class VirtualLab:
    """One instance of a lab on this machine. ``instance`` defaults to the lab's id."""

    def __init__(self, lab: Lab, instance: str | None = None):
        self.lab = lab
        self.instance = instance or lab.id
        self.dir = STATE_ROOT / self.instance
        self.core = f"tl-{self.instance}"

    # -- state -----------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.dir / "state.json"

    @property
    def key_file(self) -> Path:
        return self.dir / "keys" / "id_ed25519"

    def host_dir(self, host: str) -> Path:
        return self.dir / "hosts" / host

    def load_state(self) -> InstanceState:
        return load_instance_state(self.instance, self.lab.id)

    def is_up(self) -> bool:
        return self.state_file.is_file()

    def _save(self, state: InstanceState) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state.to_json(), indent=1))
        tmp.replace(self.state_file)

    def host_state(self, host: str) -> HostState:
        return self.load_state().host(host)

    # -- up / down ---------------------------------------------------------------------------
    def up(self, seed: int, trainee: str) -> InstanceState:
        require_root()
        if self.is_up():
            raise UserError(f"lab {self.instance} is already up (tspcr-lab down {self.lab.id} first)")
        self._cleanup_orphans()
        _ensure_state_fs()
        self.dir.mkdir(mode=0o700)
        try:
            (self.dir / "keys").mkdir()
            grader_key = rootfs.generate_key(self.key_file, f"tspcr-lab grader {self.instance}")
            prefix = self.lab.mgmt_network.prefixlen
            state = InstanceState(
                instance=self.instance,
                lab=self.lab.id,
                core=self.core,
                mgmt_network=str(self.lab.mgmt_network),
                grader=self.lab.mgmt_grader,
                seed=seed,
                trainee=trainee,
                created=time.time(),
                hosts={},
            )
            self._make_core()
            for index, spec in enumerate(self.lab.hosts.values()):
                host = HostState(spec.name, spec.role, f"tl-{self.instance}-{spec.name}", spec.mgmt)
                for link in self.lab.links_of(spec.name):
                    core_end = f"{spec.name}-{link.iface}"
                    if len(core_end) > 15:
                        core_end = f"v{index}-{link.iface}"[:15]
                    host.links.append((link.iface, link.switch, core_end, _mac(self.instance, spec.name, link.iface)))
                host.public_key = rootfs.prepare_upper(
                    self.host_dir(spec.name), spec.name, f"{spec.mgmt}/{prefix}", grader_key
                )
                state.hosts[spec.name] = host
            self._save(state)
            for host in state.hosts.values():
                self._start(host)
            self._save(state)
            self._write_known_hosts(state)
            self._wait_ready(state, list(state.hosts))
        except BaseException:
            self.down(quiet=True)
            raise
        return state

    def _make_core(self) -> None:
        netns.add(self.core)
        netns.ip("-n", self.core, "link", "set", "lo", "up")
        # A core namespace forwards nothing at layer 3: bridges work at layer 2 only.
        subprocess.run(["ip", "netns", "exec", self.core, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0"], check=True)
        for switch in self.lab.switches:
            netns.ip("-n", self.core, "link", "add", switch, "type", "bridge")
            netns.ip("-n", self.core, "link", "set", switch, "up")

    def _plug(self, host: HostState) -> None:
        """Create the host's network namespace and its cables (lab links and mgmt0)."""
        netns.add(host.netns)
        for iface, switch, core_end, mac in host.links:
            netns.ip("-n", self.core, "link", "add", core_end, "type", "veth",
                     "peer", "name", iface, "address", mac, "netns", host.netns)
            netns.ip("-n", self.core, "link", "set", core_end, "master", switch, "up")
        mgmt_end = f"m-{host.name}"
        netns.ip("-n", self.core, "link", "add", mgmt_end, "type", "veth",
                 "peer", "name", "mgmt0", "address", _mac(self.instance, host.name, "mgmt0"), "netns", host.netns)
        netns.ip("-n", self.core, "link", "set", mgmt_end, "up")
        netns.ip("-n", self.core, "addr", "add", f"{self.lab.mgmt_grader}/32", "dev", mgmt_end)
        netns.ip("-n", self.core, "route", "add", f"{host.mgmt}/32", "dev", mgmt_end)

    def _unplug(self, host: HostState) -> None:
        """Remove the host's cables from the core side first: a veth deleted with its namespace
        keeps its name taken for a while, an explicitly deleted one frees it at once."""
        if netns.exists(self.core):
            for _, _, core_end, _ in host.links:
                netns.ip("-n", self.core, "link", "del", core_end, check=False)
            netns.ip("-n", self.core, "link", "del", f"m-{host.name}", check=False)
        netns.delete(host.netns)

    def _start(self, host: HostState) -> None:
        self._plug(host)
        host_dir = self.host_dir(host.name)
        boot = resources.files("tspcr_lab.virtual").joinpath("boot.sh")
        with resources.as_file(boot) as boot_path, open(host_dir / "console.log", "ab") as log:
            proc = subprocess.Popen(
                ["ip", "netns", "exec", host.netns, "unshare", "--mount", "--uts", "--pid", "--fork",
                 "--", "/bin/sh", str(boot_path), str(host_dir)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                env={"PATH": ENV_PATH, "LANG": "C.UTF-8"},
            )
        deadline = time.monotonic() + 5
        while True:
            try:
                children = psutil.Process(proc.pid).children()
            except psutil.NoSuchProcess:
                children = []
            if children:
                host.pid, host.started = children[0].pid, children[0].create_time()
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise VirtualLabError(f"{host.name} did not start: {self._console_tail(host.name)}")
            time.sleep(0.01)

    def _console_tail(self, host: str) -> str:
        try:
            lines = (self.host_dir(host) / "console.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            lines = []
        return lines[-1] if lines else "no output"

    def _stop(self, host: HostState) -> None:
        """Kill the host's PID 1: the kernel then ends every process of its PID namespace."""
        if host.pid and _process_alive(host.pid, host.started):
            try:
                parent = psutil.Process(host.pid).ppid()
            except psutil.Error:
                parent = 0
            os.kill(host.pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while _process_alive(host.pid, host.started) and time.monotonic() < deadline:
                time.sleep(0.01)
            self._reap(parent)
        host.pid, host.started = 0, 0.0
        self._unplug(host)

    @staticmethod
    def _reap(pid: int) -> None:
        """Collect the exit status of the ``unshare`` parent if this process started it."""
        if pid <= 1:
            return
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return  # started by another tspcr-lab process: init reaps it
            if done:
                return
            time.sleep(0.01)

    def _write_known_hosts(self, state: InstanceState) -> None:
        lines = [f"{h.mgmt} {h.public_key}" for h in state.hosts.values()]
        (self.dir / "known_hosts").write_text("\n".join(lines) + "\n")

    def mgmt_socket(self) -> socket.socket:
        """A new TCP socket on the lab's management network (it lives in the core namespace)."""
        return netns.socket_in(self.core)

    def _wait_ready(self, state: InstanceState, names: list[str], timeout: float = READY_TIMEOUT) -> None:
        """Wait until every named host's sshd answers with its banner on the management network."""
        pending = set(names)
        deadline = time.monotonic() + timeout
        while pending:
            for name in sorted(pending):
                if self._sshd_answers(state.hosts[name].mgmt):
                    pending.discard(name)
            if not pending:
                return
            if time.monotonic() > deadline:
                detail = "; ".join(f"{n}: {self._console_tail(n)}" for n in sorted(pending))
                raise VirtualLabError(f"host(s) {', '.join(sorted(pending))} did not come up: {detail}")
            time.sleep(0.02)

    def _sshd_answers(self, address: str) -> bool:
        sock = self.mgmt_socket()
        sock.settimeout(0.5)
        try:
            sock.connect((address, 22))
            return sock.recv(8).startswith(b"SSH-")
        except OSError:
            return False
        finally:
            sock.close()

    def down(self, quiet: bool = False) -> list[str]:
        """Remove everything this instance created; return what was removed (for the CLI)."""
        require_root()
        removed = []
        if self.state_file.is_file():
            state = self.load_state()
            for host in state.hosts.values():
                self._stop(host)
                removed.append(host.name)
        orphans = self._cleanup_orphans()
        if self.dir.exists():
            shutil.rmtree(self.dir)
        _release_state_fs()
        if not removed and not orphans and not quiet:
            raise UserError(f"lab {self.instance} is not up")
        return removed

    def _cleanup_orphans(self) -> list[str]:
        """Namespaces of this instance left by an interrupted run: end their processes and remove them."""
        removed = []
        names = [n for n in netns.listing() if n == self.core or n.startswith(self.core + "-")]
        for name in sorted(names, key=lambda n: n == self.core):  # hosts first, core last
            pids = netns.ip("netns", "pids", name, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            netns.delete(name)
            removed.append(name)
        return removed

    # -- operations on one host ----------------------------------------------------------------
    def reboot(self, host: str) -> None:
        """Restart a host from its persistent configuration: processes and every run-time network
        setting are gone (new namespaces, same cables and MAC addresses); files stay."""
        require_root()
        state = self.load_state()
        self._stop(state.host(host))
        self._start(state.hosts[host])
        self._save(state)
        self._wait_ready(state, [host])

    def snapshot(self, host: str, name: str) -> None:
        """Save a host's files under ``name`` (the host is restarted, as for a reboot)."""
        state = self.load_state()
        self._stop(state.host(host))
        try:
            rootfs.snapshot(self.host_dir(host), self.dir / "snapshots" / name / host)
        finally:
            self._start(state.hosts[host])
            self._save(state)
        self._wait_ready(state, [host])

    def restore(self, host: str, name: str) -> None:
        """Bring a host back to a snapshot's files and reboot it."""
        source = self.dir / "snapshots" / name / host
        if not source.is_dir():
            raise UserError(f"no snapshot '{name}' of {host}")
        state = self.load_state()
        self._stop(state.host(host))
        try:
            rootfs.restore(self.host_dir(host), source)
        finally:
            self._start(state.hosts[host])
            self._save(state)
        self._wait_ready(state, [host])

    def console_argv(self, host: str, argv: list[str], tty: bool = False) -> list[str]:
        """The command line that runs ``argv`` as root inside ``host`` through its console."""
        return console_command(self.instance, host, argv, tty=tty)

    def status(self) -> dict:
        state = self.load_state()
        hosts = {}
        for name, hs in state.hosts.items():
            hosts[name] = {
                "role": hs.role,
                "running": _process_alive(hs.pid, hs.started),
                "mgmt": hs.mgmt,
                "netns": hs.netns,
                "pid": hs.pid,
            }
        return {"instance": state.instance, "lab": state.lab, "trainee": state.trainee,
                "seed": state.seed, "created": state.created, "hosts": hosts}


def load_instance_state(instance: str, lab_id: str | None = None) -> InstanceState:
    """The saved state of a running lab instance (UserError, on one line, when it is not up)."""
    require_root()
    try:
        data = json.loads((STATE_ROOT / instance / "state.json").read_text())
    except FileNotFoundError:
        raise UserError(f"lab {instance} is not up (start it with: tspcr-lab up {lab_id or 'LAB'})") from None
    return InstanceState.from_json(data)


def running_instances() -> list[str]:
    if not STATE_ROOT.is_dir():
        return []
    return sorted(p.parent.name for p in STATE_ROOT.glob("*/state.json"))


def console_command(instance: str, host: str, argv: list[str], tty: bool = False) -> list[str]:
    """The command line that runs ``argv`` as root inside a virtual host through its console
    (nsenter into its namespaces, a clean environment): it works even when the trainee broke the
    host's network, which is what ``shell``, ``exec`` and provisioning use."""
    require_root()
    hs = load_instance_state(instance).host(host)
    if not _process_alive(hs.pid, hs.started):
        raise UserError(f"host {host} of lab {instance} is not running (tspcr-lab reboot {host})")
    env = ["env", "-i", f"PATH={ENV_PATH}", "HOME=/root", "LANG=C.UTF-8", "USER=root", "LOGNAME=root"]
    if tty:
        env.append(f"TERM={os.environ.get('TERM', 'xterm')}")
    return ["nsenter", "--target", str(hs.pid), "--mount", "--uts", "--net", "--pid",
            "--root", "--wd", "--", *env, *argv]
