"""The virtual lab: every host of a lab as an isolated, unprivileged system on this machine.

Layout of one running lab instance (``ip-plan`` for one trainee):

* a *core* network namespace ``tl-<instance>`` holding the lab's switches (Linux bridges) and the
  grader's end of the management network. It has no route anywhere and forwarding is off, so
  hosts reach only each other through the switches and the grader through mgmt0, never each
  other through the management network, and never the machine or what lies beyond it;
* per host, a process tree started by ``unshare`` in a user namespace of its own (root inside is
  an unprivileged id range outside, :mod:`tspcr_lab.virtual.image`), with network, mount, PID, UTS
  and IPC namespaces owned by that user namespace. Its cables (a veth per lab link, peer on a
  switch of the core namespace, and ``mgmt0``) are created from the core namespace and moved in;
  boot.sh then mounts the host's overlay root (the lab's image, read-only, under the host's own
  files), its own /proc and /sys, and starts tini and the host's init (hostname, sysctls,
  ``ifup -a``, services, sshd);
* per probe port of the lab file (``[[probe_ports]]``), a veth pair: one end (``pb_NAME``) a port
  of its segment's bridge in the core namespace, the other (``pr_NAME``) the grader's, alone in a
  network namespace of its own (``tl-<instance>.NAME``, no process in it), where checks send and
  hear raw frames (:meth:`VirtualLab.probe_socket`, :mod:`tspcr_lab.probes.frames`) and, for a
  port with an address, IP packets with that namespace's own stack (:meth:`VirtualLab.probe_namespace`,
  :mod:`tspcr_lab.probes.packets`). No end makes up an address (``addrgenmode none``, IPv6 off):
  the port says nothing on the segment unless a check sends; the address is the trainee's plan's,
  set when a check first asks. Forwarding is off there: the port is a host, never a way through;
* state (writable layers, snapshots, state.json) on a tmpfs at /run/tspcr-lab, which the hosts cannot
  see.

An instance owns exactly what its state names: its core namespace, its hosts' processes (by id
and start time) and its folder; ``up``/``down``/``reboot`` of one instance never look at another,
and are serialised per instance by a lock. Nothing is created in the machine's own network
namespace.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from importlib import resources
from pathlib import Path

import psutil

from ..errors import HostUnreachable, ProbeError, UserError
from ..labfile import Lab
from . import image, netns, radio as radios, rootfs
from .netns import VirtualLabError

STATE_ROOT = Path(os.environ.get("TSPCR_STATE_DIR", "/run/tspcr-lab"))
READY_TIMEOUT = 40.0  # a host whose services hang is given up after 20 s each, see host-init
INSTANCE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
ETH_P_ALL = 0x0003  # every frame, for an AF_PACKET socket
ENV_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def require_root() -> None:
    if os.geteuid() != 0:
        raise UserError(
            "the virtual lab needs root (it creates network namespaces, bridges and mounts): "
            "run this command as root, e.g. with sudo"
        )


def _ensure_state_fs() -> None:
    """The tmpfs holding every instance's state. Mode 711: hosts' root (an unprivileged id) passes
    through it to mount its own layer, and can list nothing; state files are root's."""
    STATE_ROOT.mkdir(mode=0o711, parents=True, exist_ok=True)
    if not os.path.ismount(STATE_ROOT):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=711", "tspcr-lab", str(STATE_ROOT)], check=True)
    os.chmod(STATE_ROOT, 0o711)


def _mac(*parts: str) -> str:
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return ":".join(["02"] + [f"{b:02x}" for b in digest[:5]])


@dataclasses.dataclass
class HostState:
    name: str
    role: str
    mgmt: str
    pid: int = 0  # PID 1 of the host (tini), as the machine sees it
    started: float = 0.0  # its start time, so that a recycled PID is never taken for it
    public_key: str = ""
    links: list[tuple[str, str, str, str]] = dataclasses.field(default_factory=list)  # iface, switch, core end, mac
    radio: str = ""  # the radio VM it lives in (a wireless host: pid stays 0, the VM runs it)


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
    owner: str = ""  # the class file whose trainee this instance is for, if any
    rootfs: str = ""  # the image its hosts run on
    uid: int = 0  # host root's id on the machine
    gid: int = 0
    radios: dict[str, radios.RadioState] = dataclasses.field(default_factory=dict)

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
        vms = {name: radios.RadioState(**r) for name, r in data.pop("radios", {}).items()}
        return cls(hosts=hosts, radios=vms, **data)


def _process_alive(pid: int, started: float) -> bool:
    try:
        proc = psutil.Process(pid)
        return abs(proc.create_time() - started) < 0.05 and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class VirtualLab:
    """One instance of a lab on this machine. ``instance`` defaults to the lab's id."""

    def __init__(self, lab: Lab | None, instance: str | None = None):
        """``lab`` None: an instance already up whose lab file is gone or broken, which can still be
        listed and taken down from its saved state (``instance`` is then required)."""
        if lab is None and instance is None:
            raise ValueError("an instance without its lab needs its name")
        self.lab = lab
        self.lab_id = lab.id if lab is not None else None
        self.instance = instance or lab.id
        if not INSTANCE_RE.match(self.instance):
            raise UserError(f"instance name '{self.instance}' must be 1-40 lower-case letters, digits or '-'")
        self.dir = STATE_ROOT / self.instance
        self.core = f"tl-{self.instance}"

    # -- state -----------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.dir / "state.json"

    def console_log(self, host: str) -> Path:
        """The host's console output (beside its folder: not on its disk)."""
        return self.dir / "hosts" / f"{host}.console.log"

    def host_dir(self, host: str) -> Path:
        return self.dir / "hosts" / host

    def load_state(self) -> InstanceState:
        return load_instance_state(self.instance, self.lab_id)

    def is_up(self) -> bool:
        return self.state_file.is_file()

    def _save(self, state: InstanceState) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state.to_json(), indent=1))
        os.chmod(tmp, 0o600)
        tmp.replace(self.state_file)

    def host_state(self, host: str) -> HostState:
        return self.load_state().host(host)

    @contextlib.contextmanager
    def locked(self):
        """Serialise changes to this instance: two commands on it at once never lose a host."""
        require_root()
        _ensure_state_fs()
        locks = STATE_ROOT / ".locks"
        locks.mkdir(mode=0o700, exist_ok=True)
        with open(locks / f"{self.instance}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def is_stale(self, state: InstanceState) -> bool:
        """Left behind (a killed run, a machine restarted with its state kept): no host runs and
        its core namespace is gone."""
        return (not netns.exists(state.core) and not any(_process_alive(h.pid, h.started) for h in state.hosts.values())
                and not any(radios.alive(vm) for vm in state.radios.values()))

    # -- up / down ---------------------------------------------------------------------------
    def up(self, seed: int, trainee: str, owner: str = "") -> InstanceState:
        if self.lab is None:
            raise UserError(f"lab {self.instance}: its lab file is needed to start it")
        require_root()
        rootfs_dir = image.current_rootfs()
        ids = image.id_range()
        with self.locked():
            if self.is_up():
                state = self.load_state()
                if not self.is_stale(state):
                    whose = f" for class {state.owner}" if state.owner else ""
                    raise UserError(f"lab {self.instance} is already up{whose} (tspcr-lab down {state.lab}"
                                    f"{' --class ' + state.owner if state.owner else ''} first)")
                self._teardown(state)
            elif self.dir.exists() or netns.exists(self.core):
                raise UserError(f"lab {self.instance} left files or a namespace but no state: "
                                f"tspcr-lab down {self.lab.id} --instance {self.instance} removes them")
            self.dir.mkdir(mode=0o711, parents=True)
            prefix = self.lab.mgmt_network.prefixlen
            state = InstanceState(
                instance=self.instance, lab=self.lab.id, core=self.core, mgmt_network=str(self.lab.mgmt_network),
                grader=self.lab.mgmt_grader, seed=seed, trainee=trainee, created=time.time(), hosts={},
                owner=owner, rootfs=str(rootfs_dir), uid=ids.uid, gid=ids.gid,
            )
            for vm in self.lab.radios:
                state.radios[vm.name] = radios.RadioState(vm.name, vm.mgmt, vm.memory,
                                                          hosts=[h.name for h in self.lab.radio_hosts(vm.name)])
            for index, spec in enumerate(self.lab.hosts.values()):
                host = HostState(spec.name, spec.role, spec.mgmt, radio=spec.radio or "")
                for link in self.lab.links_of(spec.name):
                    core_end = f"{spec.name}-{link.iface}"
                    if len(core_end) > 15:
                        core_end = f"v{index}-{link.iface}"[:15]
                    host.links.append((link.iface, link.switch, core_end, _mac(self.instance, spec.name, link.iface)))
                state.hosts[spec.name] = host
            self._save(state)  # from here on, down removes exactly what the state names
            try:
                (self.dir / "hosts").mkdir(mode=0o711)
                for spec in self.lab.hosts.values():
                    rootfs.mount_disk(self.host_dir(spec.name), spec.disk)
                    state.hosts[spec.name].public_key = rootfs.prepare_upper(
                        self.host_dir(spec.name), spec.name, f"{spec.mgmt}/{prefix}", ids)
                self._make_core()
                for vm in state.radios.values():  # first: a VM takes longest to boot
                    radios.prepare(self, state, vm)
                    radios.start(self, state, vm)
                    self._save(state)
                for host in state.hosts.values():
                    if not host.radio:
                        self._start(state, host)
                        self._save(state)
                self._wait_ready(state, list(state.hosts))
            except BaseException:
                with contextlib.suppress(Exception):
                    self._teardown(state)
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
        for probe in self.lab.probe_ports:
            grader_end, bridge_end = probe_port_ifaces(probe.name)
            space = self.probe_netns(probe.name)
            netns.add(space)
            for key in ("net.ipv4.ip_forward=0", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"):
                subprocess.run(["ip", "netns", "exec", space, "sysctl", "-q", "-w", key], check=True)
            netns.ip("-n", space, "link", "set", "lo", "up")
            netns.ip("-n", self.core, "link", "add", grader_end, "type", "veth", "peer", "name", bridge_end)
            for end in (grader_end, bridge_end):
                netns.ip("-n", self.core, "link", "set", end, "addrgenmode", "none")
            netns.ip("-n", self.core, "link", "set", grader_end, "netns", space)
            netns.ip("-n", self.core, "link", "set", bridge_end, "master", probe.switch, "up")
            netns.ip("-n", space, "link", "set", grader_end, "up")

    def probe_netns(self, name: str) -> str:
        """The network namespace of probe port ``name``'s grader end."""
        return f"{self.core}.{name}"

    def _plug(self, host: HostState) -> None:
        """The host's cables (lab links and mgmt0), created in the core namespace with their host
        end moved into the host's network namespace (which its own user namespace owns)."""
        target = str(host.pid)
        for iface, switch, core_end, mac in host.links:
            netns.ip("-n", self.core, "link", "add", core_end, "type", "veth",
                     "peer", "name", iface, "address", mac, "netns", target)
            netns.ip("-n", self.core, "link", "set", core_end, "master", switch, "up")
        mgmt_end = f"m-{host.name}"
        netns.ip("-n", self.core, "link", "add", mgmt_end, "type", "veth",
                 "peer", "name", "mgmt0", "address", _mac(self.instance, host.name, "mgmt0"), "netns", target)
        netns.ip("-n", self.core, "link", "set", mgmt_end, "up")
        netns.ip("-n", self.core, "addr", "add", f"{self.lab.mgmt_grader}/32", "dev", mgmt_end)
        netns.ip("-n", self.core, "route", "add", f"{host.mgmt}/32", "dev", mgmt_end)

    def _unplug(self, host: HostState) -> None:
        """Remove the host's cables from the core side: a veth deleted with its namespace keeps
        its name taken for a while, an explicitly deleted one frees it at once."""
        if netns.exists(self.core):
            for _, _, core_end, _ in host.links:
                netns.ip("-n", self.core, "link", "del", core_end, check=False)
            netns.ip("-n", self.core, "link", "del", f"m-{host.name}", check=False)

    def _start(self, state: InstanceState, host: HostState) -> None:
        ids = image.IdRange(state.uid, state.gid)
        boot = resources.files("tspcr_lab.virtual").joinpath("boot.sh").read_text(encoding="utf-8")
        with open(self.console_log(host.name), "ab") as log:
            proc = subprocess.Popen(
                ["unshare", "--user", *ids.unshare_args(), "--setuid", "0", "--setgid", "0",
                 "--mount", "--net", "--pid", "--uts", "--ipc", "--fork", "--kill-child",
                 "--", "/bin/sh", "-c", boot, "boot", str(self.host_dir(host.name)), state.rootfs],
                stdin=subprocess.PIPE, stdout=log, stderr=log, start_new_session=True,
                env={"PATH": ENV_PATH, "LANG": "C.UTF-8"},
            )
        try:
            host.pid, host.started = self._host_init(proc, host.name)
            self._plug(host)
            proc.stdin.write(b"go\n")  # cables in: boot.sh goes on
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            if host.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(host.pid, signal.SIGKILL)
            proc.wait(timeout=5)
            raise
        finally:
            with contextlib.suppress(OSError):
                proc.stdin.close()

    def _host_init(self, proc: subprocess.Popen, name: str, tail=None) -> tuple[int, float]:
        """The host's PID 1 (as the machine sees it): unshare's child in a new PID namespace (the
        first child may be the helper that writes the id maps, in ours). ``tail``: what says why
        it did not start (the host's console by default)."""
        own = os.stat("/proc/self/ns/pid").st_ino
        deadline = time.monotonic() + 5
        while True:
            try:
                for child in psutil.Process(proc.pid).children():
                    try:
                        if os.stat(f"/proc/{child.pid}/ns/pid").st_ino != own:
                            return child.pid, child.create_time()
                    except OSError:
                        continue
            except psutil.NoSuchProcess:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise VirtualLabError(f"{name} did not start: {tail() if tail else self._console_tail(name)}")
            time.sleep(0.005)

    def _console_tail(self, host: str) -> str:
        try:
            lines = self.console_log(host).read_text(errors="replace").strip().splitlines()
        except OSError:
            lines = []
        return lines[-1] if lines else "no output"

    def _stop(self, host: HostState) -> None:
        """Kill the host's PID 1 (by its recorded id and start time): the kernel then ends every
        process of its PID namespace, and its network namespace goes with them."""
        if host.radio:  # its VM runs it: stopped with the VM, or in it (radio.restart_host)
            return
        self._unplug(host)
        if host.pid and _process_alive(host.pid, host.started):
            try:
                parent = psutil.Process(host.pid).ppid()
            except psutil.Error:
                parent = 0
            os.kill(host.pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while _process_alive(host.pid, host.started) and time.monotonic() < deadline:
                time.sleep(0.01)
            if _process_alive(host.pid, host.started):
                raise VirtualLabError(f"{host.name}: process {host.pid} did not end")
            self._reap(parent)
        host.pid, host.started = 0, 0.0

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

    def mgmt_socket(self) -> socket.socket:
        """A new TCP socket on the lab's management network (it lives in the core namespace)."""
        return netns.socket_in(self.core)

    def probe_socket(self, name: str) -> socket.socket:
        """A raw AF_PACKET socket bound to the grader's end of probe port ``name`` (every frame of
        its segment; it lives in the core namespace). ProbeError when the port is not there."""
        grader_end = self._probe_end(name)
        sock = netns.socket_in(self.probe_netns(name), socket.AF_PACKET, socket.SOCK_RAW)
        try:
            sock.bind((grader_end, ETH_P_ALL))
        except OSError:
            sock.close()
            raise
        return sock

    def _probe_end(self, name: str) -> str:
        """The grader's end of probe port ``name``, there; ProbeError when it is not."""
        grader_end, _ = probe_port_ifaces(name)
        space = self.probe_netns(name)
        if not netns.exists(space) or netns.ip("-n", space, "link", "show", "dev", grader_end, check=False).returncode != 0:
            raise ProbeError(f"lab {self.instance} has no probe port {name} (brought up before its lab file "
                             f"declared it, or not up: tspcr-lab down then up again)")
        return grader_end

    def probe_namespace(self, name: str, interface, gateway) -> tuple[str, str]:
        """(namespace, interface) of probe port ``name``, holding ``interface`` (an
        ipaddress.IPv4Interface, the plan's) as its only address and a default route through
        ``gateway`` (None: none). ProbeError when the port is not there."""
        grader_end, space = self._probe_end(name), self.probe_netns(name)
        current = json.loads(netns.ip("-n", space, "-j", "-4", "addr", "show", "dev", grader_end).stdout or "[]")
        for link in current:
            for info in link.get("addr_info", []):
                if f"{info['local']}/{info['prefixlen']}" != str(interface):
                    netns.ip("-n", space, "addr", "del", f"{info['local']}/{info['prefixlen']}", "dev", grader_end)
        netns.ip("-n", space, "addr", "replace", str(interface), "dev", grader_end)
        if gateway is not None:
            netns.ip("-n", space, "route", "replace", "default", "via", str(gateway), "dev", grader_end)
        else:
            netns.ip("-n", space, "route", "del", "default", check=False)
        return space, grader_end

    def _wait_ready(self, state: InstanceState, names: list[str], timeout: float = READY_TIMEOUT) -> None:
        """Wait until every named host's init has finished (it writes /run/tspcr-lab/booted in the
        host after starting its services, sshd last). A host whose boot script died is reported at
        once, with the last line of its console. A radio VM's hosts are waited for longer (the VM
        boots first) and as the VM reports them."""
        wireless = {name for name in names if state.hosts[name].radio}
        pending = set(names) - wireless
        deadline = time.monotonic() + timeout
        vm_deadline = time.monotonic() + radios.BOOT_TIMEOUT
        while pending or wireless:
            for vm in {state.hosts[name].radio for name in wireless}:
                held = [name for name in wireless if state.hosts[name].radio == vm]
                wireless -= set(held) - set(radios.wait_vm(self, state, state.radios[vm], held, vm_deadline))
            for name in sorted(pending):
                hs = state.hosts[name]
                if not _process_alive(hs.pid, hs.started):
                    raise VirtualLabError(f"host {name} stopped while booting: {self._console_tail(name)}")
                if os.path.exists(f"/proc/{hs.pid}/root/run/tspcr-lab/booted"):
                    pending.discard(name)
            if not pending and not wireless:
                return
            if pending and time.monotonic() > deadline:
                detail = "; ".join(f"{n}: {self._console_tail(n)}" for n in sorted(pending))
                raise VirtualLabError(f"host(s) {', '.join(sorted(pending))} did not come up: {detail}")
            time.sleep(0.02)

    def down(self, quiet: bool = False) -> list[str]:
        """Remove everything this instance owns; return the hosts removed (for the CLI). Goes on
        past a step that fails and then says, on one line, what it could not remove."""
        require_root()
        with self.locked():
            if self.is_up():
                try:
                    state = self.load_state()
                except (ValueError, TypeError, KeyError) as exc:
                    raise VirtualLabError(f"lab {self.instance}: its state file is unreadable ({exc}): "
                                          f"remove {self.dir} and namespace {self.core} by hand") from None
                return self._teardown(state)
            if self.dir.exists() or netns.exists(self.core):  # interrupted before its state was saved
                self._teardown(None)
                return []
        if not quiet:
            raise UserError(f"lab {self.instance} is not up")
        return []

    def _teardown(self, state: InstanceState | None) -> list[str]:
        """Stop every host, remove the core namespace and the folder. A host that could not be
        stopped stays in the state (with its files), so that ``down`` again tries it again."""
        removed, problems, left = [], [], {}
        for host in (state.hosts.values() if state else ()):
            try:
                self._stop(host)
                removed.append(host.name)
            except Exception as exc:  # noqa: BLE001 - go on, say it at the end
                problems.append(f"{host.name}: {exc}")
                left[host.name] = host
        for vm in (state.radios.values() if state else ()):
            try:
                radios.stop(self, state, vm)
            except Exception as exc:  # noqa: BLE001 - go on, say it at the end
                problems.append(f"radio VM {vm.name}: {exc}")
                for name in vm.hosts:
                    left[name] = state.hosts[name]
        for space in [self.core, *(n for n in netns.listing() if n.startswith(self.core + "."))]:
            netns.delete(space)
            if netns.exists(space):
                problems.append(f"network namespace {space} is still there")

        def note(_function, path, exc_info) -> None:
            problems.append(f"{path}: {exc_info[1]}")

        if left and state is not None:
            state.hosts = left
            self._save(state)
            for name in removed:
                rootfs.unmount_disks(self.host_dir(name))
                shutil.rmtree(self.host_dir(name), onerror=note)
                self.console_log(name).unlink(missing_ok=True)
        elif self.dir.exists():
            rootfs.unmount_disks(self.dir)
            shutil.rmtree(self.dir, onerror=note)
        if problems:
            again = f" (tspcr-lab down {state.lab} --instance {self.instance} tries again)" if left and state else ""
            raise VirtualLabError(f"lab {self.instance} is partly down; could not remove: {'; '.join(problems)}{again}")
        return removed

    # -- operations on one host ----------------------------------------------------------------
    def reboot(self, host: str) -> None:
        """Restart a host from its persistent configuration: processes and every run-time network
        setting are gone (new namespaces, same cables and MAC addresses); files stay."""
        with self.locked():
            state = self.load_state()
            vm = state.host(host).radio
            if vm:
                radios.restart_host(self, state, state.radios[vm], host)
            else:
                self._stop(state.host(host))
                self._start(state, state.hosts[host])
                self._save(state)
            self._wait_ready(state, [host])

    def snapshot(self, host: str, name: str) -> None:
        """Save a host's files under ``name`` (the host is restarted, as for a reboot). A wireless
        host's are copied while it runs, once its VM has written everything out (``sync``):
        restarting a VM costs a boot of an emulated machine."""
        with self.locked():
            state = self.load_state()
            target = self.dir / "snapshots" / name / host
            vm = state.radios.get(state.host(host).radio)
            if vm is not None:
                proc = radios.run(self, state, vm, ["sync"], timeout=60)
                if proc.returncode != 0:
                    raise VirtualLabError(f"radio VM {vm.name}: sync before the snapshot of {host} failed")
                rootfs.snapshot(self.host_dir(host), target)
                return
            self._offline(state, [host], lambda: rootfs.snapshot(self.host_dir(host), target))

    def restore(self, host: str | list[str], name: str) -> None:
        """Bring hosts (one, or a list) back to a snapshot's files and reboot them. The wireless
        hosts of one VM are restored together, with one restart of their VM."""
        names = [host] if isinstance(host, str) else list(host)
        for one in names:
            if not (self.dir / "snapshots" / name / one).is_dir():
                raise UserError(f"no snapshot '{name}' of {one}")
        with self.locked():
            state = self.load_state()
            # As a site powers up: routers, servers and devices before the PCs (a PC's DHCP client
            # finds its server as it is restored); a radio VM's hosts together, in one restart.
            order = sorted(names, key=lambda one: state.host(one).role == "pc")
            groups: dict[str, list[str]] = {}
            for one in order:
                groups.setdefault(state.host(one).radio or f"host:{one}", []).append(one)
            for members in groups.values():
                def work(members=members) -> None:
                    for one in members:
                        rootfs.restore(self.host_dir(one), self.dir / "snapshots" / name / one)
                self._offline(state, members, work)

    def _offline(self, state: InstanceState, hosts: list[str], work) -> None:
        """Do ``work`` on stopped hosts' files (one host, or the wireless hosts of one VM), then
        start them again and wait for them. A wireless host's files are mounted while
        its VM runs: the whole VM is stopped and started again."""
        vm = state.radios.get(state.host(hosts[0]).radio)
        if vm is not None:
            radios.stop(self, state, vm)
            try:
                work()
            finally:
                radios.start(self, state, vm)
                self._save(state)
            self._wait_ready(state, list(vm.hosts))
            return
        host = hosts[0]
        self._stop(state.hosts[host])
        try:
            work()
        finally:
            self._start(state, state.hosts[host])
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
                "running": host_running(hs, state),
                "mgmt": hs.mgmt,
                "pid": hs.pid,
            }
        return {"instance": state.instance, "lab": state.lab, "trainee": state.trainee, "owner": state.owner,
                "seed": state.seed, "created": state.created, "stale": self.is_stale(state), "hosts": hosts}


def probe_port_ifaces(name: str) -> tuple[str, str]:
    """(grader's end, bridge's end) of a probe port in the core namespace: an underscore, which no
    host's cable name holds, and at most 13 characters (a probe name has at most 10)."""
    return f"pr_{name}", f"pb_{name}"


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
    (nsenter into its namespaces, the user namespace included, so as the host's root and nobody
    more; a clean environment): it works even when the trainee broke the host's network or its
    sshd, which is what ``shell``, ``exec`` and provisioning use."""
    require_root()
    env = [f"{key}={value}" for key, value in console_env(tty).items()]
    return host_console(load_instance_state(instance).host(host), instance) + ["env", "-i", *env, *argv]


def host_console(hs: HostState, instance: str) -> list[str]:
    """The nsenter prefix that enters a running host (run it with :func:`console_env`); for a
    wireless host, the VM's console (:func:`tspcr_lab.virtual.radio.console_prefix`)."""
    if hs.radio:
        state = load_instance_state(instance)
        vm = state.radios[hs.radio]
        if not host_running(hs, state):
            raise HostNotRunning(f"host {hs.name} of lab {instance} is not running (radio VM {vm.name}: "
                                 f"tspcr-lab reboot {hs.name})")
        return radios.console_prefix(STATE_ROOT / instance, state.core, vm.name, vm.mgmt, hs.name)
    if not _process_alive(hs.pid, hs.started):
        raise HostNotRunning(f"host {hs.name} of lab {instance} is not running (tspcr-lab reboot {hs.name})")
    return ["nsenter", "--target", str(hs.pid), "--user", "--mount", "--uts", "--ipc", "--net", "--pid",
            "--root", "--wd", "--"]


def console_env(tty: bool = False) -> dict[str, str]:
    """The whole environment of a command run through a host's console (nothing of the caller's)."""
    env = {"PATH": ENV_PATH, "HOME": "/root", "LANG": "C.UTF-8", "USER": "root", "LOGNAME": "root"}
    if tty:
        env["TERM"] = os.environ.get("TERM", "xterm")
    return env


def host_running(hs: HostState, instance: "str | InstanceState | None" = None) -> bool:
    """Whether the host runs: its PID 1 is alive, or, for a wireless host, its VM is and said
    the host booted (``instance``: its instance's name or state, needed then)."""
    if not hs.radio:
        return _process_alive(hs.pid, hs.started)
    if instance is None:
        return False
    state = instance if isinstance(instance, InstanceState) else load_instance_state(instance)
    vm = state.radios.get(hs.radio)
    return vm is not None and radios.alive(vm) and radios.host_status(STATE_ROOT / state.instance, vm, hs.name) == "booted"


class HostNotRunning(UserError, HostUnreachable):
    """The host's processes are gone: said on one line to a person, an *error* in a check."""
