"""System probes: hostname, files, accounts.

Every probe only reads (coreutils, ``getent``). Parsers turn unexpected output into
:class:`~tspcr_lab.errors.ProbeError`, never another exception type.
"""

from __future__ import annotations

import dataclasses
import functools
import stat
from typing import Any, Callable

from ..errors import ProbeError
from .base import Probe, quote_line


def probe_parser(process: Callable) -> Callable:
    """Decorate ``process``: a parse error (bad JSON, missing field...) becomes a one-line ProbeError."""

    @functools.wraps(process)
    def wrapper(self: Probe, output: str) -> Any:
        try:
            return process(self, output)
        except ProbeError:
            raise
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise ProbeError(f"{type(self).__name__}: cannot parse the output: {detail}") from exc

    return wrapper


ABSENT = 3  # exit code of the file probes when the path does not exist


class Hostname(Probe):
    """``hostname`` -> the host name, stripped."""

    def command(self) -> str:
        return "hostname"

    @probe_parser
    def process(self, output: str) -> str:
        name = output.strip()
        if not name:
            raise ValueError("empty output")
        return name


class FileContent(Probe):
    """The text of a file, or None if it does not exist (a dangling symlink counts as absent).

    An existing but unreadable file (permissions, a directory) raises ProbeError.
    """

    def __init__(self, path: str):
        self.path = path

    def command(self) -> str:
        # (exit 3) sets the status without leaving the shell: cat itself only exits 0 or 1.
        return quote_line(f"if test -e %s; then cat -- %s; else (exit {ABSENT}); fi", self.path, self.path)

    def process(self, output: str) -> str:
        return output

    def failed(self, result) -> Any:
        if result.rc == ABSENT:
            return None
        return super().failed(result)


@dataclasses.dataclass(frozen=True)
class FileStat:
    """What ``stat`` says about a path (the path itself: a symlink is not followed)."""

    path: str
    exists: bool
    type: str | None = None  # "file", "directory", "symlink", "fifo", "socket", "block", "char"
    mode: int | None = None  # permission bits, e.g. 0o644 (0o4755 with setuid)
    owner: str | None = None  # user name ("UNKNOWN" when the uid has no name)
    group: str | None = None
    size: int | None = None


_FILE_TYPES = {
    stat.S_IFREG: "file",
    stat.S_IFDIR: "directory",
    stat.S_IFLNK: "symlink",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
    stat.S_IFBLK: "block",
    stat.S_IFCHR: "char",
}


class FileInfo(Probe):
    """``stat -c '%f %U %G %s' PATH`` -> :class:`FileStat` (``exists=False`` when absent)."""

    FORMAT = "%f %U %G %s"  # raw mode in hex, owner, group, size: no translated text

    def __init__(self, path: str):
        self.path = path

    def command(self) -> str:
        return quote_line(
            f"if test -e %s || test -L %s; then stat -c %s -- %s; else (exit {ABSENT}); fi",
            self.path, self.path, self.FORMAT, self.path,
        )

    @probe_parser
    def process(self, output: str) -> FileStat:
        raw_mode, owner, group, size = output.split()
        mode = int(raw_mode, 16)
        return FileStat(
            path=self.path,
            exists=True,
            type=_FILE_TYPES.get(stat.S_IFMT(mode), "unknown"),
            mode=stat.S_IMODE(mode),
            owner=owner,
            group=group,
            size=int(size),
        )

    def failed(self, result) -> Any:
        if result.rc == ABSENT:
            return FileStat(path=self.path, exists=False)
        return super().failed(result)


@dataclasses.dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    gecos: str
    home: str
    shell: str


class Users(Probe):
    """``getent passwd`` -> dict user name -> :class:`User`."""

    def command(self) -> str:
        return "getent passwd"

    @probe_parser
    def process(self, output: str) -> dict[str, User]:
        users = {}
        for line in output.splitlines():
            if not line.strip():
                continue
            fields = line.split(":")
            if len(fields) != 7:
                raise ValueError(f"passwd line without 7 fields: {line!r}")
            name, _, uid, gid, gecos, home, shell = fields
            users[name] = User(name=name, uid=int(uid), gid=int(gid), gecos=gecos, home=home, shell=shell)
        return users


@dataclasses.dataclass(frozen=True)
class Group:
    name: str
    gid: int
    members: list[str]  # supplementary members only (users whose primary group it is are not listed)


class Groups(Probe):
    """``getent group`` -> dict group name -> :class:`Group`."""

    def command(self) -> str:
        return "getent group"

    @probe_parser
    def process(self, output: str) -> dict[str, Group]:
        groups = {}
        for line in output.splitlines():
            if not line.strip():
                continue
            fields = line.split(":")
            if len(fields) != 4:
                raise ValueError(f"group line without 4 fields: {line!r}")
            name, _, gid, members = fields
            groups[name] = Group(name=name, gid=int(gid), members=[m for m in members.split(",") if m])
        return groups
