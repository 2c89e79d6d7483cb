"""System probes: hostname, files, accounts, services started at boot.

Every probe only reads (coreutils, ``getent``). Parsers turn unexpected output into
:class:`~tspcr_lab.errors.ProbeError`, never another exception type. What the trainee's work
itself makes unreadable (a directory where a file was expected, a file its reader may not read)
is not an infrastructure problem: :class:`FileContent` raises
:class:`~tspcr_lab.errors.UnreadableFile`, a failure.
"""

from __future__ import annotations

import dataclasses
import functools
import stat
from typing import Any, Callable

from ..errors import ProbeError, UnreadableFile
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
NOT_A_FILE = 4  # exit code of FileContent when the path exists but is not a regular file


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

    A path that exists but is not a regular file (a directory, a fifo: it is never opened, so a
    fifo cannot hang the check) or that cannot be read (permission denied) is the state of the
    trainee's work: :class:`~tspcr_lab.errors.UnreadableFile`, a failure that says so. Any other
    failure (``cat`` missing, an I/O error) is a ProbeError. Bytes that are not UTF-8 come back
    replaced (U+FFFD), never as an exception.

    ``secrets``: passwords the file may hold (a wifi passphrase in hostapd.conf), masked in the
    evidence; the text returned is the file's own.
    """

    def __init__(self, path: str, secrets: tuple[str, ...] = ()):
        self.path = path
        self.secrets = tuple(s for s in secrets if s)

    def command(self) -> str:
        # (exit N) sets the status without leaving the shell: cat itself only exits 0 or 1.
        return quote_line(
            f"if test -f %s; then cat -- %s; elif test -e %s; then LC_ALL=C stat -L -c %%F -- %s; (exit {NOT_A_FILE});"
            f" else (exit {ABSENT}); fi",
            self.path, self.path, self.path, self.path,
        )

    def process(self, output: str) -> str:
        return output

    def failed(self, result) -> Any:
        if result.rc == ABSENT:
            return None
        if result.rc == NOT_A_FILE:
            raise UnreadableFile(self.path, result.stdout.strip() or "not a regular file")
        if result.rc == 1 and "Permission denied" in result.stderr:
            raise UnreadableFile(self.path, "permission denied")
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


# -- services started at boot -----------------------------------------------------------------

#: How a virtual lab host starts its services: one service name a line (see README, "The virtual
#: lab"). On such a host this file IS the boot configuration; a real Debian host has none.
VIRTUAL_BOOT_SERVICES = "/etc/tspcr-lab/boot-services"
SYSTEMD_ENABLED = ("enabled", "enabled-runtime")  # `systemctl is-enabled`: the unit starts at boot
_BOOT_MARK = "@@tspcr:"


@dataclasses.dataclass(frozen=True)
class BootStart:
    """Whether a service starts at boot, as each kind of host decides it.

    * a virtual lab host (``virtual``): listed in /etc/tspcr-lab/boot-services, which its boot
      reads (``service NAME start``); systemd's and sysvinit's own files, inherited from the
      machine that runs the lab, are ignored there;
    * a real Debian host: enabled in systemd (``systemctl is-enabled``: enabled) or by sysvinit rc
      links (``/etc/rc2.d/S??NAME``, what ``update-rc.d NAME enable`` makes; Debian's default
      runlevel is 2); either is accepted, except that a masked unit never starts under systemd,
      whatever links sysvinit left.
    """

    service: str
    virtual: bool
    listed: bool = False  # virtual: the service is a line of boot-services
    systemd: str | None = None  # real: `systemctl is-enabled` ("enabled", "disabled", "masked"...), None without systemctl
    rc_links: tuple[str, ...] = ()  # real: /etc/rc2.d/S??NAME

    @property
    def enabled(self) -> bool:
        if self.virtual:
            return self.listed
        if self.systemd == "masked":
            return False
        return self.systemd in SYSTEMD_ENABLED or bool(self.rc_links)

    def evidence(self) -> str:
        """What decided, in a few words (for a finding)."""
        if self.virtual:
            return f"{VIRTUAL_BOOT_SERVICES}: {'listed' if self.listed else 'not listed'}"
        systemd = f"systemctl is-enabled: {self.systemd}" if self.systemd is not None else "no systemctl"
        return f"{systemd}; /etc/rc2.d: {', '.join(self.rc_links) or 'no S link'}"


class ServiceAtBoot(Probe):
    """Does ``service`` start at boot? -> :class:`BootStart`, on a virtual lab host
    (/etc/tspcr-lab/boot-services) as on a real Debian host (systemd, or sysvinit rc links).
    One command reads the three; only the one that applies to the host decides."""

    def __init__(self, service: str):
        self.service = service

    def command(self) -> str:
        def mark(name: str) -> str:
            return f"printf '%%s%%s\\n' {_BOOT_MARK} {name}"  # %% : quote_line's format

        return quote_line(
            f"{mark('virtual')}; if test -f %s; then cat -- %s; elif test -e %s; then echo {_BOOT_MARK}not-a-file;"
            f" else echo {_BOOT_MARK}absent; fi; "
            f"{mark('systemd')}; if command -v systemctl >/dev/null 2>&1; then LC_ALL=C systemctl is-enabled -- %s 2>&1;"
            f" else echo {_BOOT_MARK}absent; fi; "
            f"{mark('rc')}; for l in /etc/rc2.d/S??%s; do if test -e \"$l\"; then echo \"$l\"; fi; done; true",
            VIRTUAL_BOOT_SERVICES, VIRTUAL_BOOT_SERVICES, VIRTUAL_BOOT_SERVICES, f"{self.service}.service", self.service,
        )

    @probe_parser
    def process(self, output: str) -> BootStart:
        sections: dict[str, list[str]] = {}
        current: list[str] | None = None
        for line in output.splitlines():
            if line in (f"{_BOOT_MARK}virtual", f"{_BOOT_MARK}systemd", f"{_BOOT_MARK}rc"):
                current = sections.setdefault(line[len(_BOOT_MARK):], [])
            elif current is not None:
                current.append(line)
        if set(sections) != {"virtual", "systemd", "rc"}:
            raise ValueError(f"missing sections in {sorted(sections)}")
        virtual_lines = [line.strip() for line in sections["virtual"]]
        virtual = virtual_lines[:1] != [f"{_BOOT_MARK}absent"]
        # The boot reads each line with `read -r svc` (blanks around it dropped) and skips comments.
        listed = virtual and self.service in [line for line in virtual_lines if line and not line.startswith("#")]
        systemd_lines = [line.strip() for line in sections["systemd"] if line.strip()]
        if not systemd_lines or systemd_lines[0] == f"{_BOOT_MARK}absent":
            systemd = None
        else:
            # One word when systemctl knows the unit; an error line otherwise ("not-found" then).
            word = systemd_lines[-1]
            systemd = word if " " not in word else "not-found"
        links = tuple(line.strip() for line in sections["rc"] if line.strip())
        return BootStart(service=self.service, virtual=virtual, listed=listed, systemd=systemd, rc_links=links)
