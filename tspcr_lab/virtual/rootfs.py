"""The writable layer of a virtual host: what makes pc1 a system of its own.

A host's root is an overlay: the lab's image (:mod:`tspcr_lab.virtual.image`) as the read-only
lower layer, and the host's ``upper`` folder (on the lab's tmpfs) on top. This module prepares
that upper folder before the first boot: a fresh identity (hostname, machine-id, SSH host key) and a
neutral network configuration, every file owned by the hosts' id range (root
inside the host), since the host's root is nobody on the machine.
"""

from __future__ import annotations

import os
import stat
import secrets
import shutil
import subprocess
import time
from importlib import resources
from pathlib import Path

from .image import IdRange, shift_ids

SSHD_CONFIG = """\
# sshd configuration of a tspcr-lab virtual host
Include /etc/ssh/sshd_config.d/*.conf
Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
# The grader never logs in over SSH (it reads the host through its console): sshd is the users'.
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM yes
UseDNS no
PrintMotd no
PrintLastLog no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
"""

INTERFACES = """\
# interfaces(5) file used by ifup(8) and ifdown(8)
auto lo
iface lo inet loopback

source /etc/network/interfaces.d/*
"""


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)


def generate_key(path: Path, comment: str) -> str:
    """Create an ed25519 key pair at ``path`` (and ``path.pub``); return the public key line."""
    if path.exists():
        path.unlink()
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    return path.with_name(path.name + ".pub").read_text().strip()


def mount_disk(host_dir: Path, mib: int) -> None:
    """The host's disk: a file system of ``mib`` MiB (a tmpfs: memory is used only as files are
    written) holding its writable layer, so that a full disk is the host's own (df in the host
    shows it) and never the machine's."""
    host_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not os.path.ismount(host_dir):
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mib}m,mode=700,nosuid", "tspcr-lab-disk", str(host_dir)],
                       check=True)


def unmount_disks(folder: Path) -> None:
    """Unmount the hosts' disks under ``folder`` (their hosts stopped), deepest first."""
    root = os.path.realpath(folder)
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8") as table:
        for line in table:
            point = line.split()[4].replace("\\040", " ")
            if point == root or point.startswith(root + "/"):
                points.append(point)
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def prepare_upper(host_dir: Path, hostname: str, mgmt_cidr: str, ids: IdRange) -> str:
    """Lay out ``host_dir`` (upper, work, merged) for a first boot; return the host's public key."""
    upper = host_dir / "upper"
    for sub in ("upper", "work", "merged"):
        (host_dir / sub).mkdir(parents=True, exist_ok=True)
    _write(upper / "etc/hostname", hostname + "\n")
    _write(upper / "etc/hosts", f"127.0.0.1\tlocalhost\n127.0.1.1\t{hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n")
    _write(upper / "etc/resolv.conf", "# no DNS server configured\n")
    _write(upper / "etc/machine-id", secrets.token_hex(16) + "\n", 0o444)
    _write(upper / "etc/network/interfaces", INTERFACES)
    _write(upper / "etc/ssh/sshd_config", SSHD_CONFIG)
    for stale in (upper / "etc/ssh").glob("ssh_host_*"):
        stale.unlink()
    public = generate_key(upper / "etc/ssh/ssh_host_ed25519_key", f"root@{hostname}")
    _write(upper / "etc/tspcr-lab/mgmt.env", f"MGMT_ADDRESS={mgmt_cidr}\n")
    _write(upper / "etc/tspcr-lab/boot-services", "ssh\n")
    init = resources.files("tspcr_lab.virtual").joinpath("host-init.sh").read_text(encoding="utf-8")
    _write(upper / "usr/local/lib/tspcr-lab/host-init", init, 0o755)
    for folder in ("usr", "usr/local", "usr/local/lib", "etc/ssh", "etc/network"):
        os.chmod(upper / folder, 0o755)
    shift_ids(host_dir, ids)
    tun_node(host_dir / "tun")
    os.chmod(host_dir, 0o700)  # the host's root (its owner) mounts from it; nobody else enters
    return public


def tun_node(path: Path) -> None:
    """The host's /dev/net/tun (boot.sh binds it): a node of the machine's tun device that the
    host's root may open, for tap devices (Open vSwitch's internal ports on a userspace datapath)
    in its own network namespace. Made here because mknod is refused inside the host."""
    if not path.exists():
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(10, 200))
        os.chmod(path, 0o666)


def snapshot(host_dir: Path, target: Path) -> None:
    """Copy a stopped host's writable layer (with its xattrs and whiteouts) to ``target``."""
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-a", str(host_dir / "upper"), str(target)], check=True)


def _wait_for_room(disk: Path, source: Path, timeout: float = 10.0) -> None:
    """Wait until the host's disk has room for ``source``: a file its stopped processes still held
    open (a log that filled the disk) is freed only once the last of them has exited."""
    need = sum(os.lstat(os.path.join(folder, name)).st_blocks * 512
               for folder, dirs, names in os.walk(source) for name in [*names, *dirs])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fs = os.statvfs(disk)
        if fs.f_bavail * fs.f_frsize >= need:
            return
        time.sleep(0.1)


def restore(host_dir: Path, source: Path) -> None:
    """Replace a stopped host's writable layer with a snapshot."""
    for sub in ("upper", "work"):
        if (host_dir / sub).exists():
            shutil.rmtree(host_dir / sub)
    if os.path.ismount(host_dir):
        _wait_for_room(host_dir, source)
    subprocess.run(["cp", "-a", str(source), str(host_dir / "upper")], check=True)
    owner = host_dir.stat()
    (host_dir / "work").mkdir()
    os.chown(host_dir / "work", owner.st_uid, owner.st_gid)
