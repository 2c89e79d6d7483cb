"""The writable layer of a virtual host: what makes pc1 a system of its own.

A host's root is an overlay: the machine's own root as the read-only lower layer, and the host's
``upper`` folder (on the lab's tmpfs) on top. This module prepares that upper folder before the
first boot: private trees made opaque (the machine's /root or /home never show through), a fresh
identity (hostname, machine-id, SSH host key) and a neutral network configuration.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from importlib import resources
from pathlib import Path

# Trees of the machine that a host must not see: they start empty in every host.
OPAQUE_DIRS = (
    "root",
    "home",
    "srv",
    "work",
    "opt",
    "var/mail",
    "var/tmp",
    "var/spool/cron",
    "etc/ssh/sshd_config.d",
    "etc/network/interfaces.d",
    "etc/dnsmasq.d",
    "etc/sysctl.d",
    "etc/tspcr-lab",
)

SSHD_CONFIG = """\
# sshd configuration of a tspcr-lab virtual host
Include /etc/ssh/sshd_config.d/*.conf
Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
# The grader's key lives outside /root so that a trainee's change to /root/.ssh cannot lock it out.
AuthorizedKeysFile .ssh/authorized_keys /etc/tspcr-lab/authorized_keys
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


def prepare_upper(host_dir: Path, hostname: str, mgmt_cidr: str, authorized_key: str) -> str:
    """Lay out ``host_dir`` (upper, work, merged) for a first boot; return the host's public key."""
    upper = host_dir / "upper"
    for sub in ("upper", "work", "merged"):
        (host_dir / sub).mkdir(parents=True, exist_ok=True)
    for rel in OPAQUE_DIRS:
        folder = upper / rel
        folder.mkdir(parents=True, exist_ok=True)
        os.setxattr(folder, "trusted.overlay.opaque", b"y")
    os.chmod(upper / "root", 0o700)
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
    _write(upper / "etc/tspcr-lab/authorized_keys", authorized_key + "\n", 0o600)
    _write(upper / "etc/tspcr-lab/boot-services", "ssh\n")
    if (Path("/etc/postfix").is_dir() and not Path("/etc/postfix/main.cf").exists()
            and not (upper / "etc/postfix/main.cf").exists()):
        # Debian's postfix installed "without configuration" leaves no main.cf; its ifupdown hooks
        # then make postconf fail, and postfix sleeps a second on every fatal error: every ifup
        # and ifdown of the host would pay it. An empty main.cf means postfix's defaults.
        _write(upper / "etc/postfix/main.cf", "# postfix is not configured on this host (its defaults apply)\n")
    init = resources.files("tspcr_lab.virtual").joinpath("host-init.sh").read_text(encoding="utf-8")
    _write(upper / "usr/local/lib/tspcr-lab/host-init", init, 0o755)
    return public


def snapshot(host_dir: Path, target: Path) -> None:
    """Copy a stopped host's writable layer (with its xattrs and whiteouts) to ``target``."""
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-a", str(host_dir / "upper"), str(target)], check=True)


def restore(host_dir: Path, source: Path) -> None:
    """Replace a stopped host's writable layer with a snapshot."""
    for sub in ("upper", "work"):
        if (host_dir / sub).exists():
            shutil.rmtree(host_dir / sub)
    subprocess.run(["cp", "-a", str(source), str(host_dir / "upper")], check=True)
    (host_dir / "work").mkdir()
