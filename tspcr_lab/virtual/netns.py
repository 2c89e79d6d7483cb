"""Small helpers over iproute2 and network namespaces (the only place that shells out to `ip`)."""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import threading

from ..errors import TspcrError

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"
_libc = ctypes.CDLL(None, use_errno=True)


class VirtualLabError(TspcrError):
    """A step of building or removing the virtual lab failed (shown on one line)."""


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``ip ARGS`` (a list: no shell) and raise VirtualLabError on failure when check is set."""
    proc = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise VirtualLabError(f"ip {' '.join(args)}: {detail[-1] if detail else 'failed'}")
    return proc


def exists(name: str) -> bool:
    return os.path.exists(os.path.join(NETNS_DIR, name))


def add(name: str) -> None:
    if not exists(name):
        ip("netns", "add", name)


def delete(name: str) -> None:
    if exists(name):
        ip("netns", "delete", name, check=False)


def listing() -> list[str]:
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def socket_in(name: str, family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM, proto: int = 0) -> socket.socket:
    """A socket that lives in network namespace ``name``.

    A socket keeps the namespace it was created in, so a short-lived thread enters the namespace
    (setns applies to the calling thread only), creates the socket and leaves; the calling thread
    and the rest of the process stay in the machine's own namespace.
    """
    box: dict[str, object] = {}

    def create() -> None:
        try:
            fd = os.open(os.path.join(NETNS_DIR, name), os.O_RDONLY | os.O_CLOEXEC)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns({name}): {os.strerror(err)}")
            finally:
                os.close(fd)
            box["socket"] = socket.socket(family, kind, proto)
        except OSError as exc:
            box["error"] = exc

    thread = threading.Thread(target=create, name=f"netns-{name}")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["socket"]  # type: ignore[return-value]
