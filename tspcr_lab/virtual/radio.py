"""Radio VMs: the virtual lab's wireless hosts, on a real 802.11 stack.

The machine's kernel has no wireless stack, so a lab's wireless hosts (``[[hosts]]`` with ``radio
= "VM"``, :class:`~tspcr_lab.labfile.RadioSpec`) live in one small virtual machine per radio VM and
per instance, which runs the kernel of the lab's own image (``linux-image-amd64`` is one of the
image's packages) under ``qemu-system-x86_64 -accel tcg``; in it ``mac80211_hwsim`` makes one
radio (a ``phy``) per wireless host and one more for the grader. Layout:

* on the machine, the VM is a process tree like a host's: ``unshare`` with a user namespace of
  its own (root inside is the hosts' unprivileged range, :mod:`tspcr_lab.virtual.image`), mount,
  network and PID namespaces; it mounts each wireless host's overlay (the image under the host's
  own ``upper``, as :mod:`tspcr_lab.virtual.rootfs` lays it out for every host) and runs qemu,
  which shares them with the VM over virtio-9p, with the image (read-only) and the VM's control
  folder. Its network namespace holds one tap per NIC of the VM, bridged to a veth whose other end
  is in the instance's core namespace, as any host's cable: the control NIC (the VM's own address
  on the management network, the grader's only), each wireless host's ``mgmt0`` and its lab links
  (an AP's ``eth0`` on the wired LAN). No user-mode networking: the VM reaches only the lab;
* in the VM (``vm-init.sh``), the image over a tmpfs overlay is the VM's own root: an sshd for
  the grader on the control address, the grader's radio and ``hwsim0`` (a monitor of the whole
  medium). Each wireless host (``vm-host.sh``) is a network, mount, PID, UTS and IPC namespace
  holding its NICs (renamed as the lab file names them) and its radio, rooted in its own files,
  with the host-init every virtual host boots with; its root has no capability beyond its own
  network and files (no mount, module, trace), so it reaches neither the VM's root nor the
  grader's radio. Two boundaries away, the machine.

Files written in a wireless host land in its ``upper`` on the machine, so snapshots, restores and
the grader's reads work as for any host; while a VM runs, its hosts' overlays are mounted, so a
snapshot or a restore restarts the VM. A wireless host's console goes through the VM's control
sshd (``vmconsole.py``: a key of the instance, the host key pinned, one multiplexed connection).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import gzip
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

from . import image, netns, rootfs
from .netns import VirtualLabError

BOOT_TIMEOUT = 240.0  # a TCG VM boots in 5-11 s; the hosts' services follow (hostapd, sshd)
INITRD_MODULES = ("virtio_pci", "virtio_net", "9pnet_virtio", "9p", "overlay", "virtio-rng")
QEMU = "qemu-system-x86_64"


@dataclasses.dataclass
class RadioState:
    """A running radio VM: its wrapper's PID 1 (qemu, as the machine sees it) and start time."""

    name: str
    mgmt: str
    memory: int = 256
    pid: int = 0
    started: float = 0.0
    hosts: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Nic:
    """One NIC of the VM: its MAC, what it is in the VM (the host and interface; "" for the
    control NIC), and the end of its cable in the core namespace."""

    mac: str
    host: str
    iface: str
    core_end: str
    switch: str = ""  # the lab segment it is plugged into ("" for the management network)


def vm_dir(instance_dir: Path, name: str) -> Path:
    """The VM's folder (the machine's root's: the grader's key, the pinned host key, the SSH
    multiplexing socket); what qemu may open is in its ``vm`` subfolder, the range's."""
    return instance_dir / "radios" / name


# -- the kernel and its initramfs -------------------------------------------------------------------

def kernel_of(rootfs_dir: Path) -> tuple[Path, str]:
    """(vmlinuz, version) of the image's kernel; VirtualLabError when the image has none."""
    modules = sorted((rootfs_dir / "lib/modules").glob("*"))
    for folder in reversed(modules):
        kernel = rootfs_dir / "boot" / f"vmlinuz-{folder.name}"
        if kernel.is_file():
            return kernel, folder.name
    raise VirtualLabError("the hosts' image has no kernel: a lab with radio VMs lists linux-image-amd64 in its "
                          "[lab] packages (then: tspcr-lab image build)")


def _module_closure(rootfs_dir: Path, version: str, wanted: tuple[str, ...]) -> list[str]:
    """The modules to load, dependencies first (paths relative to lib/modules/VERSION)."""
    deps: dict[str, list[str]] = {}
    for line in (rootfs_dir / "lib/modules" / version / "modules.dep").read_text().splitlines():
        path, _, rest = line.partition(":")
        deps[path] = rest.split()
    by_name = {Path(path).name.removesuffix(".ko").replace("-", "_"): path for path in deps}
    order: list[str] = []

    def visit(path: str) -> None:
        if path in order:
            return
        for dep in reversed(deps.get(path, [])):
            visit(dep)
        order.append(path)

    for name in wanted:
        key = name.replace("-", "_")
        if key not in by_name:
            raise VirtualLabError(f"the image's kernel {version} has no module {name}")
        visit(by_name[key])
    return order


def _cpio(entries: list[tuple[str, int, bytes]]) -> bytes:
    """A cpio archive (newc) of (name, mode, data) entries, as the kernel unpacks an initramfs."""
    out = io.BytesIO()
    for ino, (name, mode, data) in enumerate([*entries, ("TRAILER!!!", 0, b"")], start=1):
        encoded = name.encode() + b"\0"
        header = "070701" + "".join(f"{v:08x}" for v in (
            ino if name != "TRAILER!!!" else 0, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0))
        out.write(header.encode() + encoded)
        out.write(b"\0" * (-(110 + len(encoded)) % 4))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))
    return out.getvalue()


def initramfs(rootfs_dir: Path) -> Path:
    """The radio VMs' initramfs for this image (built once, next to it): busybox, the modules of
    INITRD_MODULES from the image's own kernel, and vm-initramfs.sh as /init."""
    target = rootfs_dir.parent / "radio-initrd.gz"
    if target.is_file():
        return target
    _, version = kernel_of(rootfs_dir)
    busybox = rootfs_dir / "bin/busybox"
    if not busybox.is_file():
        raise VirtualLabError("the hosts' image has no busybox: a lab with radio VMs lists busybox-static in its "
                              "[lab] packages")
    with open(rootfs_dir.parent / ".radio-initrd.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file():
            return target
        modules = _module_closure(rootfs_dir, version, INITRD_MODULES)
        init = resources.files("tspcr_lab.virtual").joinpath("vm-initramfs.sh").read_bytes()
        entries = [("bin", 0o40755, b""), ("modules", 0o40755, b""),
                   ("bin/busybox", 0o100755, busybox.read_bytes()), ("init", 0o100755, init)]
        for index, path in enumerate(modules):
            data = (rootfs_dir / "lib/modules" / version / path).read_bytes()
            entries.append((f"modules/{index:02d}-{Path(path).name}", 0o100644, data))
        order = "".join(f"{index:02d}-{Path(path).name}\n" for index, path in enumerate(modules))
        entries.append(("modules/order", 0o100644, order.encode()))
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(gzip.compress(_cpio(entries), compresslevel=6))
        os.chmod(tmp, 0o644)
        tmp.replace(target)
    return target


# -- one VM -----------------------------------------------------------------------------------------

def nics(state, radio: RadioState) -> list[Nic]:
    """The VM's NICs: the control NIC first, then each of its hosts' mgmt0 and lab links."""
    from .lab import _mac

    out = [Nic(_mac(state.instance, radio.name, "ctl"), "", "", f"m-{radio.name}")]
    for name in radio.hosts:
        host = state.hosts[name]
        out.append(Nic(_mac(state.instance, name, "mgmt0"), name, "mgmt0", f"m-{name}"))
        for iface, switch, core_end, mac in host.links:
            out.append(Nic(mac, name, iface, core_end, switch))
    return out


def prepare(vlab, state, radio: RadioState) -> None:
    """The VM's folder: its control folder (what vm-init reads, the sshd's keys, the hosts' boot
    status), the grader's key, the VM's pinned host key, its console log."""
    ids = image.IdRange(state.uid, state.gid)
    folder = vm_dir(vlab.dir, radio.name)
    ctl = folder / "vm" / "ctl"
    ctl.mkdir(parents=True, exist_ok=True)
    os.chmod(folder.parent, 0o711)
    os.chmod(folder, 0o711)
    grader_key = rootfs.generate_key(folder / "grader_key", f"grader@{state.instance}")
    host_key = rootfs.generate_key(ctl / "ssh_host_ed25519_key", f"root@{radio.name}")
    (folder / "known_hosts").write_text(f"{radio.mgmt} {' '.join(host_key.split()[:2])}\n")
    (ctl / "authorized_keys").write_text(grader_key + "\n")
    (ctl / "sshd_config").write_text(SSHD_CONFIG)
    prefix = vlab.lab.mgmt_network.prefixlen
    lines = [f"VM_NAME={radio.name}", f"VM_ADDRESS={radio.mgmt}/{prefix}",
             f"VM_MAC={_mac_of(state, radio)}", f"RADIOS={len(radio.hosts) + 1}",
             f"GRADER_PHY={len(radio.hosts)}", f"HOSTS=\"{' '.join(radio.hosts)}\""]
    for index, name in enumerate(radio.hosts):
        pairs = " ".join(f"{nic.mac}={nic.iface}" for nic in nics(state, radio) if nic.host == name)
        lines += [f"NICS_{name}=\"{pairs}\"", f"PHY_{name}={index}"]
    (ctl / "vm.env").write_text("\n".join(lines) + "\n")
    for script, name in (("vm-init.sh", "vm-init"), ("vm-host.sh", "vm-host")):
        (ctl / name).write_text(resources.files("tspcr_lab.virtual").joinpath(script).read_text(encoding="utf-8"))
    (folder / "vm" / "console.log").touch()
    # the VM's root is the range's root: its folder is its (and the machine's root's) only
    image.shift_ids(folder / "vm", ids)
    os.chmod(folder / "vm", 0o700)
    os.chmod(ctl / "ssh_host_ed25519_key", 0o600)
    rootfs.tun_node(folder / "vm" / "tun")


def _mac_of(state, radio: RadioState) -> str:
    from .lab import _mac

    return _mac(state.instance, radio.name, "ctl")


SSHD_CONFIG = """\
# sshd of a tspcr-lab radio VM's root: the grader's only (its key, on the control address)
HostKey /ctl/ssh_host_ed25519_key
AuthorizedKeysFile /ctl/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
MaxSessions 100
MaxStartups 100:30:200
"""

WRAPPER = """\
set -eu
read -r _ || true
exec </dev/null
mount --make-rprivate /
mount --bind "$1/tun" /dev/net/tun  # the machine's is root's only: this node (mode 666) is the VM's
image=$2
shift 2
while [ "$1" != "--" ]; do
    mount -t overlay overlay -o "lowerdir=$image,upperdir=$1/upper,workdir=$1/work,userxattr" "$1/merged"
    shift
done
shift
exec "$@"
"""


def qemu_argv(vlab, state, radio: RadioState) -> list[str]:
    rootfs_dir = Path(state.rootfs)
    kernel, _ = kernel_of(rootfs_dir)
    folder = vm_dir(vlab.dir, radio.name)
    argv = [QEMU, "-name", f"tspcr-{state.instance}-{radio.name}", "-accel", "tcg,tb-size=128", "-cpu", "qemu64",
            "-m", str(radio.memory), "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
            "-no-reboot", "-kernel", str(kernel), "-initrd", str(initramfs(rootfs_dir)),
            "-append", "console=ttyS0 panic=-1 quiet loglevel=3 mitigations=off",
            "-serial", f"file:{folder / 'vm' / 'console.log'}", "-device", "virtio-rng-pci",
            "-virtfs", f"local,path={rootfs_dir},mount_tag=image,security_model=passthrough,readonly=on,multidevs=remap",
            "-virtfs", f"local,path={folder / 'vm' / 'ctl'},mount_tag=ctl,security_model=passthrough,multidevs=remap"]
    for name in radio.hosts:
        argv += ["-virtfs", f"local,path={vlab.host_dir(name) / 'merged'},mount_tag=h-{name},"
                            f"security_model=passthrough,multidevs=remap"]
    for index, nic in enumerate(nics(state, radio)):
        argv += ["-netdev", f"tap,id=n{index},ifname=t{index},script=no,downscript=no",
                 "-device", f"virtio-net-pci,netdev=n{index},mac={nic.mac},romfile="]
    return argv


def start(vlab, state, radio: RadioState) -> None:
    """Start the VM (its status files cleared first); its hosts boot on their own in it."""
    if shutil.which(QEMU) is None:
        raise VirtualLabError(f"{QEMU} is not installed: run make setup (apt-get install qemu-system-x86)")
    ids = image.IdRange(state.uid, state.gid)
    folder = vm_dir(vlab.dir, radio.name)
    status = folder / "vm" / "ctl" / "status"
    if status.is_dir():
        shutil.rmtree(status)
    argv = ["unshare", "--user", *ids.unshare_args(), "--setuid", "0", "--setgid", "0",
            "--mount", "--net", "--pid", "--fork", "--kill-child", "--",
            "/bin/sh", "-c", WRAPPER, "wrapper", str(folder / "vm"), state.rootfs,
            *(str(vlab.host_dir(name)) for name in radio.hosts), "--", *qemu_argv(vlab, state, radio)]
    from .lab import ENV_PATH

    with open(folder / "wrapper.log", "ab") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=log, stderr=log, start_new_session=True,
                                env={"PATH": ENV_PATH, "LANG": "C.UTF-8"})
    try:
        radio.pid, radio.started = vlab._host_init(proc, radio.name, tail=lambda: console_tail(vlab, radio))
        _plug(vlab, state, radio)
        proc.stdin.write(b"go\n")
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        if radio.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(radio.pid, signal.SIGKILL)
        proc.wait(timeout=5)
        raise
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()


def _plug(vlab, state, radio: RadioState) -> None:
    """Per NIC: a veth from the core namespace (the cable, as any host's) into the VM's network
    namespace, bridged there to the tap qemu opens."""
    target = str(radio.pid)
    batch = []
    for index, nic in enumerate(nics(state, radio)):
        netns.ip("-n", vlab.core, "link", "add", nic.core_end, "type", "veth", "peer", "name", f"v{index}",
                 "netns", target)
        netns.ip("-n", vlab.core, "link", "set", nic.core_end, "addrgenmode", "none")
        if nic.switch:
            netns.ip("-n", vlab.core, "link", "set", nic.core_end, "master", nic.switch, "up")
        else:
            netns.ip("-n", vlab.core, "link", "set", nic.core_end, "up")
            netns.ip("-n", vlab.core, "addr", "add", f"{vlab.lab.mgmt_grader}/32", "dev", nic.core_end)
            address = radio.mgmt if not nic.host else state.hosts[nic.host].mgmt
            netns.ip("-n", vlab.core, "route", "add", f"{address}/32", "dev", nic.core_end)
        batch += [f"tuntap add dev t{index} mode tap", f"link add b{index} type bridge",
                  f"link set b{index} addrgenmode none", f"link set t{index} master b{index}",
                  f"link set v{index} master b{index}", f"link set v{index} addrgenmode none",
                  f"link set t{index} up", f"link set v{index} up", f"link set b{index} up"]
    proc = subprocess.run(["nsenter", "--target", target, "--net", "ip", "-batch", "-"],
                          input="\n".join(batch) + "\n", capture_output=True, text=True)
    if proc.returncode != 0:
        raise VirtualLabError(f"radio VM {radio.name}: its NICs: {proc.stderr.strip().splitlines()[-1:]}")


def unplug(vlab, radio: RadioState, nic_ends: list[str]) -> None:
    if netns.exists(vlab.core):
        for end in nic_ends:
            netns.ip("-n", vlab.core, "link", "del", end, check=False)


def alive(radio: RadioState) -> bool:
    from .lab import _process_alive

    return bool(radio.pid) and _process_alive(radio.pid, radio.started)


def stop(vlab, state, radio: RadioState) -> None:
    """Stop the VM: its hosts' files are synced first when it answers, then qemu is killed by its
    recorded id (its PID namespace goes with it)."""
    from .lab import _process_alive

    if alive(radio):
        with contextlib.suppress(Exception):
            run(vlab, state, radio, ["sync"], timeout=10)
        close_console(vlab, state, radio)
        os.kill(radio.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while _process_alive(radio.pid, radio.started) and time.monotonic() < deadline:
            time.sleep(0.01)
        if _process_alive(radio.pid, radio.started):
            raise VirtualLabError(f"radio VM {radio.name}: process {radio.pid} did not end")
    unplug(vlab, radio, [nic.core_end for nic in nics(state, radio)])
    radio.pid, radio.started = 0, 0.0


def host_status(instance_dir: Path, radio: RadioState, host: str) -> str:
    """"booted", "failed" or "booting" as the VM said it for ``host`` (in its control folder)."""
    status = vm_dir(instance_dir, radio.name) / "vm" / "ctl" / "status"
    for word in ("booted", "failed"):
        if (status / f"{host}.{word}").exists():
            return word
    return "booting"


def console_tail(vlab, radio: RadioState, host: str | None = None) -> str:
    folder = vm_dir(vlab.dir, radio.name)
    path = folder / "vm" / "ctl" / "status" / f"{host}.log" if host else folder / "vm" / "console.log"
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        lines = []
    if not lines and host is None:
        with contextlib.suppress(OSError):
            lines = [line for line in (folder / "wrapper.log").read_text(errors="replace").splitlines()
                     if line.strip() and "dmesg(1) may have more" not in line]
    return lines[-1].strip() if lines else "no output"


def console_prefix(instance_dir: Path, core: str, radio_name: str, address: str, host: str | None) -> list[str]:
    """The argv prefix that runs a command in the VM's root (``host`` None) or as ``host``'s root
    through the VM's control sshd (vmconsole.py quotes the command for the remote shell)."""
    script = resources.files("tspcr_lab.virtual").joinpath("vmconsole.py")
    return [sys.executable, "-I", "-S", str(script), str(vm_dir(instance_dir, radio_name)), core, address,
            host or "", "--"]


def run(vlab, state, radio: RadioState, argv: list[str], timeout: float = 30,
        input: bytes | None = None) -> subprocess.CompletedProcess:
    """Run ``argv`` in the VM's root (the grader's side of the VM), as root there."""
    prefix = console_prefix(vlab.dir, vlab.core, radio.name, radio.mgmt, None)
    return subprocess.run([*prefix, *argv], capture_output=True, timeout=timeout, input=input,
                          stdin=None if input is not None else subprocess.DEVNULL)


def close_console(vlab, state, radio: RadioState) -> None:
    """End the multiplexed SSH connection to the VM (its master is ours: asked through its socket)."""
    folder = vm_dir(vlab.dir, radio.name)
    if (folder / "mux").exists():
        subprocess.run(["ip", "netns", "exec", vlab.core, "ssh", "-o", f"ControlPath={folder / 'mux'}",
                        "-O", "exit", f"root@{radio.mgmt}"], capture_output=True, timeout=10)


def wait_vm(vlab, state, radio: RadioState, hosts: list[str], deadline: float) -> list[str]:
    """Hosts of ``hosts`` not booted yet (empty when all are); raise when the VM or a host failed."""
    if not alive(radio):
        raise VirtualLabError(f"radio VM {radio.name} stopped while booting: {console_tail(vlab, radio)}")
    pending = []
    for host in hosts:
        word = host_status(vlab.dir, radio, host)
        if word == "failed":
            raise VirtualLabError(f"host {host} (radio VM {radio.name}) did not come up: "
                                  f"{console_tail(vlab, radio, host)}")
        if word != "booted":
            pending.append(host)
    if pending and time.monotonic() > deadline:
        ready = (vm_dir(vlab.dir, radio.name) / "vm" / "ctl" / "status" / "vm.ready").exists()
        where = f"its hosts {', '.join(pending)} did not boot" if ready else "the VM did not boot"
        raise VirtualLabError(f"radio VM {radio.name}: {where}: "
                              f"{console_tail(vlab, radio, pending[0] if ready else None)}")
    return pending


def restart_host(vlab, state, radio: RadioState, host: str) -> None:
    """Reboot one wireless host in its VM (its namespaces and processes anew, its files kept)."""
    for step in ("stop", "start"):
        proc = run(vlab, state, radio, ["/bin/busybox", "sh", "/ctl/vm-host", step, host], timeout=60)
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).decode(errors="replace").strip().splitlines()
            raise VirtualLabError(f"host {host} (radio VM {radio.name}): {step}: "
                                  f"{detail[-1] if detail else 'failed'}")
