"""Real stations for the e2e test of the real-lab path (``--inventory``), built without the
virtual engine (nothing of :mod:`tspcr_lab.virtual` is used here but the script that mounts a
host's root file system, its power-on).

For each host of a lab file, a *station*: a Debian system of its own, reached only over SSH, the
way a trainee's PC or server is:

* a process tree started by ``unshare`` in a user namespace of its own whose root is the image's
  unprivileged id range (the image's files are owned by that range), with network, mount, PID, UTS
  and IPC namespaces owned by it, so that the station's root configures its own network (``ifup``,
  ``sysctl net.*``, ``hostname``) as a real station's root does. Its network namespace is named
  ``rs-<token>-<host>`` (``ip netns attach``) so that the test can cable it;
* its root file system: an overlay, the hosts' image (``tspcr-lab image status --json``) as the
  read-only lower layer under a per-station upper folder in a temporary folder of the test. That
  upper layer holds what installing the station gave it: host name, /etc/hosts, machine-id, SSH
  host key, root's ``authorized_keys`` with the test's key;
* its power-on (the hosts' boot script, mounting its root) and its boot (:data:`INIT`): host name, loopback, ``ifup -a``, then the services that Debian's
  packages enabled at boot (``/etc/rc2.d/S??NAME``) among the lab's packages, sshd last (so a
  station that answers SSH has started its services);
* its cables: a veth per ``[[links]]`` entry to a Linux bridge (the lab's switch) in a *switch*
  namespace ``rs-<token>-switch``, and ``adm0`` to the *admin* namespace ``rs-<token>-admin``, where
  the grader runs: each station gets its lab file's ``[management]`` address there, and the admin
  namespace has a /32 route to each station and nothing else. Nothing is created in the machine's
  own network namespace, no namespace forwards at layer 3 except what a lab's router enables in
  its own, and no namespace has a route out.

For each probe port of the lab file (``[[probe_ports]]``), a *probe station* too (``probe1``...):
a station of the grader's, cabled by its ``probe0`` to the port's segment and named in the
inventory's ``probes`` group with ``probe_ports = {NAME: "probe0"}``, as an instructor plugs a
spare machine into the cable the checks probe.

Every process started is recorded by pid (and start time) and killed by pid at :meth:`down`; every
namespace created is deleted by name; the temporary folder is removed. Nothing is mounted in the
machine's own mount namespace except the ``ip netns`` handles of the namespaces above.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import stat
import signal
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import psutil

from tspcr_lab.labfile import Lab, project_root

ID_COUNT = 65536
ENV_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ADMIN_IFACE = "adm0"
PROBE_IFACE = "probe0"  # a probe station's interface on the segment it probes  # the station's management interface (named unlike the virtual lab's on purpose)
BASE_PACKAGES = ("openssh-server",)
SSH_TIMEOUT = 60.0  # seconds for every station's sshd to answer after its start

# The power-on of a station: run as root of its user namespace, PID 1 of its PID namespace, it waits
# for the cables (one line on stdin), mounts the station's root (overlay of the image under its
# upper folder), /proc, /sys, /run, /tmp, a /dev with the usual devices, pivots into it (the
# machine's tree is detached) and hands over to tini and the station's own init (INIT below). It
# is the same power-on as a virtual host's: what differs, and what this test is about, is
# everything after it (the station's init, files, cables and the grader's way in: SSH only).
BOOT = resources.files("tspcr_lab.virtual").joinpath("boot.sh").read_text(encoding="utf-8")

# The station's init, as a Debian system without systemd boots (sysv-rc, runlevel 2): host name,
# loopback, the interfaces of /etc/network/interfaces (the networking service), then the services
# enabled at boot (/etc/rc2.d/S??NAME, what update-rc.d makes) that belong to the lab's packages
# (its arguments), sshd last. A service that hangs is given up after 20 s.
INIT = r"""
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
umask 022
hostname -F /etc/hostname
ip link set lo up
mkdir -p /run/network /run/lock /run/sshd
ifup -a
for link in /etc/rc2.d/S*; do
    test -e "$link" || continue
    svc=${link#/etc/rc2.d/S??}
    case " $* " in *" $svc "*) ;; *) continue ;; esac
    test "$svc" = ssh && continue
    timeout 20 "$link" start
done
/etc/init.d/ssh start
echo "station booted"
exec sleep infinity
"""

INTERFACES = """\
# This file describes the network interfaces available on your system
# and how to activate them. For more information, see interfaces(5).

source /etc/network/interfaces.d/*

# The loopback network interface
auto lo
iface lo inet loopback
"""

# Run in the admin namespace: wait until every station's sshd sends its banner.
WAIT_SSH = r"""
import socket, sys, time
deadline = time.monotonic() + float(sys.argv[1])
waiting = set(sys.argv[2:])
while waiting and time.monotonic() < deadline:
    for address in sorted(waiting):
        try:
            with socket.create_connection((address, 22), timeout=0.5) as sock:
                sock.settimeout(0.5)
                if sock.recv(8).startswith(b"SSH-"):
                    waiting.discard(address)
        except OSError:
            pass
    if waiting:
        time.sleep(0.1)
print(" ".join(sorted(waiting)))
sys.exit(1 if waiting else 0)
"""


class StationError(RuntimeError):
    pass


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=kwargs.pop("timeout", 30), **kwargs)
    if proc.returncode != 0:
        raise StationError(f"{' '.join(argv)} -> {proc.returncode}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def image_info() -> dict:
    """The hosts' image as the CLI reports it (path, built, uid, gid)."""
    proc = subprocess.run([sys.executable, "-m", "tspcr_lab", "image", "status", "--json"],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        return {"built": False, "why": proc.stderr.strip() or proc.stdout.strip()}
    return json.loads(proc.stdout)


def boot_services(image: Path, packages) -> list[str]:
    """Names of the init scripts (/etc/init.d/NAME) that ``packages`` installed in the image."""
    names = set()
    info = image / "var/lib/dpkg/info"
    for package in packages:
        for listing in (info / f"{package}.list", *info.glob(f"{package}:*.list")):
            if listing.is_file():
                for line in listing.read_text(errors="replace").splitlines():
                    if line.startswith("/etc/init.d/") and line.count("/") == 3:
                        names.add(line.rsplit("/", 1)[1])
    return sorted(names)


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    """Give a tree written by the machine's root to the station's root (uid 0 inside -> ``uid``)."""
    for dirpath, dirnames, filenames in os.walk(root):
        links = [n for n in dirnames if os.path.islink(os.path.join(dirpath, n))]  # not walked into
        for path in [dirpath, *(os.path.join(dirpath, n) for n in filenames + links)]:
            st = os.lstat(path)
            if st.st_uid < uid:
                os.lchown(path, st.st_uid + uid, st.st_gid + gid)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)


def _keygen(path: Path, comment: str) -> str:
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], stdin=subprocess.DEVNULL)
    return path.with_name(path.name + ".pub").read_text().strip()


@dataclasses.dataclass
class Station:
    name: str
    role: str
    address: str  # on the management network, as the lab file gives it
    netns: str
    dir: Path
    links: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)  # iface, switch, switch-side end
    host_key: str = ""
    pids: list[tuple[int, float]] = dataclasses.field(default_factory=list)  # (pid, start time): unshare, PID 1
    process: subprocess.Popen | None = None  # unshare, reaped at down


class Stations:
    """The stations of one lab, their switch and admin namespaces, and the grader's files (key,
    known_hosts, inventory). :meth:`up` builds everything, :meth:`down` removes exactly that."""

    def __init__(self, lab: Lab, image: Path, uid: int, gid: int):
        self.lab, self.image, self.uid, self.gid = lab, Path(image), uid, gid
        self.token = secrets.token_hex(3)
        self.switch_ns = f"rs-{self.token}-switch"
        self.admin_ns = f"rs-{self.token}-admin"
        self.namespaces: list[str] = []  # every namespace created, deleted at down
        self.root = Path(tempfile.mkdtemp(prefix=f"rs-{self.token}-", dir="/tmp"))
        os.chmod(self.root, 0o711)  # each station's root (an unprivileged id) passes through to mount its layer
        self.key = self.root / "keys" / "id_ed25519"
        self.known_hosts = self.root / "keys" / "known_hosts"
        self.inventory = self.root / "inventory.py"
        # The grader's home: its signing key and whatever SSH clients read stay in the test's folder.
        self.home = self.root / "home"
        self.services = boot_services(self.image, (*BASE_PACKAGES, *lab.packages))
        self.stations: dict[str, Station] = {}
        for index, spec in enumerate(lab.hosts.values()):
            station = Station(spec.name, spec.role, spec.mgmt, f"rs-{self.token}-{spec.name}", self.root / "hosts" / spec.name)
            for link in lab.links_of(spec.name):
                end = f"{spec.name}-{link.iface}"
                station.links.append((link.iface, link.switch, end if len(end) <= 15 else f"v{index}-{link.iface}"[:15]))
            self.stations[spec.name] = station
        # A grader-owned probe host per probe port of the lab file (``[[probe_ports]]``): a station
        # of its own cabled to the port's segment, named in the inventory by its probe_ports data,
        # as an instructor plugs a spare machine into the cable the lab's checks probe.
        used = {spec.mgmt for spec in lab.hosts.values()} | {lab.mgmt_grader}
        free = (str(a) for a in reversed(list(lab.mgmt_network.hosts())) if str(a) not in used)
        self.probes: dict[str, str] = {}  # probe station -> the lab's probe port it offers
        for index, probe in enumerate(lab.probe_ports):
            name = f"probe{index + 1}"
            station = Station(name, "probe", next(free), f"rs-{self.token}-{name}", self.root / "hosts" / name)
            station.links.append((PROBE_IFACE, probe.switch, f"{name}-{PROBE_IFACE}"))
            self.stations[name] = station
            self.probes[name] = probe.name

    # -- up / down -------------------------------------------------------------------------------
    def up(self) -> "Stations":
        try:
            t0 = time.monotonic()
            (self.root / "keys").mkdir(mode=0o700)
            self.home.mkdir(mode=0o700)
            grader = _keygen(self.key, f"tspcr-lab grader {self.token}")
            self._namespaces()
            for station in self.stations.values():
                self._prepare(station, grader)
            for station in self.stations.values():
                self._start(station)
            self.known_hosts.write_text("".join(f"{s.address} {' '.join(s.host_key.split()[:2])}\n"
                                                for s in self.stations.values()))
            self._write_inventory()
            self.wait_ssh()
            self.boot_seconds = time.monotonic() - t0
        except BaseException:
            self.down()
            raise
        return self

    def _netns_add(self, name: str) -> None:
        run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        run(["ip", "-n", name, "link", "set", "lo", "up"])
        # A new namespace may inherit the machine's settings (net.core.devconf_inherit_init_net):
        # neither forwards anything at layer 3.
        run(["ip", "netns", "exec", name, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0"])

    def _namespaces(self) -> None:
        self._netns_add(self.switch_ns)
        for switch in self.lab.switches:
            run(["ip", "-n", self.switch_ns, "link", "add", switch, "type", "bridge"])
            run(["ip", "-n", self.switch_ns, "link", "set", switch, "up"])
        self._netns_add(self.admin_ns)

    def _prepare(self, station: Station, grader_key: str) -> None:
        """The station's own files: what its installation gave it."""
        upper = station.dir / "upper"
        for sub in ("upper", "work", "merged"):
            (station.dir / sub).mkdir(parents=True)
        name = station.name
        for folder, mode in (("etc", 0o755), ("etc/ssh", 0o755), ("etc/network", 0o755), ("root", 0o700),
                             ("root/.ssh", 0o700)):
            (upper / folder).mkdir(exist_ok=True)
            os.chmod(upper / folder, mode)
        _write(upper / "etc/hostname", f"{name}\n")
        _write(upper / "etc/hosts", f"127.0.0.1\tlocalhost\n127.0.1.1\t{name}\n\n"
                                    "::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")
        _write(upper / "etc/machine-id", secrets.token_hex(16) + "\n", 0o444)
        _write(upper / "etc/network/interfaces", INTERFACES)
        station.host_key = _keygen(upper / "etc/ssh/ssh_host_ed25519_key", f"root@{name}")
        _write(upper / "root/.ssh/authorized_keys", grader_key + "\n", 0o600)
        _chown_tree(station.dir, self.uid, self.gid)
        # /dev/net/tun, as a real Debian machine has it (boot.sh binds it): tap devices, OVS internal ports
        os.mknod(station.dir / "tun", 0o666 | stat.S_IFCHR, os.makedev(10, 200))
        os.chmod(station.dir / "tun", 0o666)
        os.chmod(station.dir, 0o700)

    def _start(self, station: Station) -> None:
        with open(station.dir.parent / f"{station.name}.console.log", "ab") as log:
            proc = subprocess.Popen(
                ["unshare", "--user", f"--map-users={self.uid},0,{ID_COUNT}", f"--map-groups={self.gid},0,{ID_COUNT}",
                 "--setuid", "0", "--setgid", "0", "--mount", "--net", "--pid", "--uts", "--ipc", "--fork",
                 "--kill-child", "--", "/bin/sh", "-c", BOOT, "boot", str(station.dir), str(self.image),
                 "/bin/sh", "-c", INIT, "init", *self.services],
                stdin=subprocess.PIPE, stdout=log, stderr=log, start_new_session=True,
                env={"PATH": ENV_PATH, "LANG": "C.UTF-8"},
            )
        station.process = proc
        station.pids.append((proc.pid, psutil.Process(proc.pid).create_time()))
        try:
            pid1 = self._pid1(proc, station)
            station.pids.append((pid1, psutil.Process(pid1).create_time()))
            run(["ip", "netns", "attach", station.netns, str(pid1)])
            self.namespaces.append(station.netns)
            self._cable(station)
            proc.stdin.write(b"go\n")
        finally:
            with contextlib.suppress(OSError):
                proc.stdin.close()

    def _pid1(self, proc: subprocess.Popen, station: Station) -> int:
        """unshare's child in the new PID namespace (its first child may be the helper that writes
        the id maps)."""
        own = os.stat("/proc/self/ns/pid").st_ino
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                for child in psutil.Process(proc.pid).children():
                    with contextlib.suppress(OSError):
                        if os.stat(f"/proc/{child.pid}/ns/pid").st_ino != own:
                            return child.pid
            except psutil.NoSuchProcess:
                break
            time.sleep(0.005)
        raise StationError(f"{station.name} did not start: {self.console(station.name)}")

    def _cable(self, station: Station) -> None:
        """The station's cables, made from outside (the machine's root may configure any namespace):
        its lab links to the switches, and its management link to the admin namespace."""
        for iface, switch, end in station.links:
            run(["ip", "-n", self.switch_ns, "link", "add", end, "type", "veth", "peer", "name", iface,
                 "netns", station.netns])
            run(["ip", "-n", self.switch_ns, "link", "set", end, "master", switch, "up"])
        admin_end = f"a-{station.name}"
        run(["ip", "-n", self.admin_ns, "link", "add", admin_end, "type", "veth", "peer", "name", ADMIN_IFACE,
             "netns", station.netns])
        run(["ip", "-n", self.admin_ns, "link", "set", admin_end, "up"])
        run(["ip", "-n", self.admin_ns, "addr", "add", f"{self.lab.mgmt_grader}/32", "dev", admin_end])
        run(["ip", "-n", self.admin_ns, "route", "add", f"{station.address}/32", "dev", admin_end])
        prefix = self.lab.mgmt_network.prefixlen
        run(["ip", "-n", station.netns, "addr", "add", f"{station.address}/{prefix}", "dev", ADMIN_IFACE])
        run(["ip", "-n", station.netns, "link", "set", ADMIN_IFACE, "up"])

    def wait_ssh(self, timeout: float = SSH_TIMEOUT) -> None:
        """Wait until every station's sshd answers (from the admin namespace); a station whose
        processes are gone (its boot failed) is said at once, with the end of its console."""
        addresses = [s.address for s in self.stations.values()]
        poller = subprocess.Popen(["ip", "netns", "exec", self.admin_ns, sys.executable, "-c", WAIT_SSH, str(timeout),
                                   *addresses], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            while poller.poll() is None:
                dead = [name for name, alive in self.alive().items() if not alive]
                if dead:
                    raise StationError("station(s) stopped while booting: "
                                       + "; ".join(f"{n}: {self.console(n)}" for n in dead))
                time.sleep(0.05)
        finally:
            if poller.poll() is None:
                poller.kill()
            stdout, stderr = poller.communicate()
        if poller.returncode != 0:
            silent = set(stdout.split())
            names = [s.name for s in self.stations.values() if s.address in silent]
            raise StationError(f"sshd did not answer on {', '.join(names) or '?'} within {timeout:.0f} s: "
                               + "; ".join(f"{n}: {self.console(n)}" for n in names) + stderr)

    def console(self, name: str, lines: int = 3) -> str:
        try:
            text = (self.root / "hosts" / f"{name}.console.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no output"
        return " | ".join(text[-lines:]) or "no output"

    def alive(self) -> dict[str, bool]:
        return {s.name: bool(s.pids) and _alive(*s.pids[-1]) for s in self.stations.values()}

    def down(self) -> None:
        """Kill every process started (by pid, SIGKILL: ``unshare --fork`` ignores SIGTERM; PID 1
        of a station takes its whole PID namespace with it), delete every namespace created,
        remove the temporary folder."""
        problems = []
        for station in self.stations.values():
            for pid, started in reversed(station.pids):
                if _alive(pid, started):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            if station.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    station.process.wait(timeout=5)
            for pid, started in station.pids:
                deadline = time.monotonic() + 5
                while _alive(pid, started) and time.monotonic() < deadline:
                    time.sleep(0.01)
                if _alive(pid, started):
                    problems.append(f"{station.name}: process {pid} still runs")
        for name in reversed(self.namespaces):
            proc = subprocess.run(["ip", "netns", "delete", name], capture_output=True, text=True)
            if proc.returncode != 0 and Path(f"/run/netns/{name}").exists():
                problems.append(f"namespace {name}: {proc.stderr.strip()}")
        self.namespaces.clear()
        shutil.rmtree(self.root, ignore_errors=True)
        if self.root.exists():
            problems.append(f"{self.root} is still there")
        if problems:
            raise StationError("; ".join(problems))

    # -- the grader's side -----------------------------------------------------------------------
    def _write_inventory(self) -> None:
        """A pyinfra inventory of the stations, as an instructor writes one for real PCs."""
        names = {"pc": "pcs", "server": "servers", "router": "routers", "switch": "switches", "probe": "probes"}
        groups: dict[str, list] = {role: [] for role in names}
        for station in self.stations.values():
            data = {"ssh_hostname": station.address, "ssh_user": "root", "ssh_key": str(self.key),
                    "ssh_known_hosts_file": str(self.known_hosts)}
            if station.name in self.probes:
                data["probe_ports"] = {self.probes[station.name]: PROBE_IFACE}
            groups[station.role].append((station.name, data))
        text = [f'"""Real stations of lab {self.lab.id} (tests/e2e/test_real_stations.py), reached over SSH."""', ""]
        for role, group in names.items():
            if groups[role]:
                text.append(f"{group} = {groups[role]!r}")
        self.inventory.write_text("\n".join(text) + "\n", encoding="utf-8")

    def in_admin(self, argv: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
        """Run ``argv`` in the admin namespace (its own process group, killed whole on timeout)."""
        proc = subprocess.Popen(["ip", "netns", "exec", self.admin_ns, *argv], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True, cwd=project_root(),
                                env={**os.environ, "PATH": ENV_PATH, "HOME": str(self.home)})
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            raise StationError(f"{' '.join(argv[:4])}... did not end within {timeout:.0f} s\n{stdout}\n{stderr}")
        return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)

    def cli(self, command: str, *args: str, check: bool = False, timeout: float = 300) -> subprocess.CompletedProcess:
        """``tspcr-lab COMMAND LAB --inventory FILE ARGS...``, run in the admin namespace."""
        proc = self.in_admin([sys.executable, "-m", "tspcr_lab", command, self.lab.id, "--inventory",
                              str(self.inventory), *args], timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"tspcr-lab {command} {self.lab.id} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    def ssh(self, host: str, script: str, timeout: float = 60) -> str:
        """Run a shell script as root on a station over SSH, from the admin namespace."""
        proc = self.in_admin(["ssh", "-F", "/dev/null", "-i", str(self.key), "-o", "BatchMode=yes",
                              "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                              "-o", "ConnectTimeout=5", f"root@{self.stations[host].address}", script], timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError(f"{host}: {script}\n-> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout


def _alive(pid: int, started: float) -> bool:
    try:
        proc = psutil.Process(pid)
        return abs(proc.create_time() - started) < 0.05 and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


