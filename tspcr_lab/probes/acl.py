"""POSIX ACL probes: ``stat`` and ``getfacl --absolute-names`` of a path, parsed.

:class:`Acl` reads one path in one command and returns a :class:`PathAcl`: type, mode (special
bits included), owner, group, the access ACL and the default ACL, each as a dict keyed in
``getfacl`` notation without the permissions::

    {"user::": "rwx", "user:alice": "r-x", "group::": "rwx", "group:compta": "r-x",
     "mask::": "rwx", "other::": "---"}

A path without an extended ACL still has its three base entries (``user::``, ``group::``,
``other::``, from the mode), as ``getfacl`` shows them. Parsers turn unexpected output into
:class:`~tspcr_lab.errors.ProbeError`.
"""

from __future__ import annotations

import dataclasses
import re
import stat as stat_module
from typing import Any

from .base import Probe, quote_line
from .system import ABSENT, _FILE_TYPES, probe_parser

_ENTRY_RE = re.compile(r"^(default:)?(user|group|mask|other):([^:]*):([r-][w-][x-])(?:\s+#effective:([r-][w-][x-]))?$")
_ESCAPE_RE = re.compile(r"\\([0-7]{3})")


def _unescape(name: str) -> str:
    """getfacl writes a space, a backslash or a control character in a name as \\ooo (octal)."""
    return _ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 8)), name)


def entry_key(tag: str, qualifier: str = "") -> str:
    """``("user", "")`` -> ``"user::"``, ``("user", "alice")`` -> ``"user:alice"``."""
    return f"{tag}::" if not qualifier else f"{tag}:{qualifier}"


def entry_text(key: str, perms: str) -> str:
    """``("user:alice", "r-x")`` -> ``"user:alice:r-x"`` (getfacl and setfacl notation)."""
    return f"{key}{perms}" if key.endswith("::") else f"{key}:{perms}"


def mask_perms(perms: str, mask: str | None) -> str:
    """What an entry really grants once the mask applies (``"rwx"`` & ``"r-x"`` -> ``"r-x"``)."""
    if mask is None:
        return perms
    return "".join(p if m != "-" else "-" for p, m in zip(perms, mask))


def effective(entries: dict[str, str], key: str) -> str | None:
    """The effective permissions of one entry: the mask limits named users, the owning group and
    named groups (not the owner nor other). None when the entry is absent."""
    if key not in entries:
        return None
    if key in ("user::", "other::", "mask::"):
        return entries[key]
    return mask_perms(entries[key], entries.get("mask::"))


@dataclasses.dataclass(frozen=True)
class GetfaclOutput:
    """One path of ``getfacl --absolute-names``'s output."""

    path: str
    owner: str
    group: str
    flags: str  # "s--" setuid, "-s-" setgid, "--t" sticky; "---" when none (getfacl omits the line)
    access: dict[str, str]
    default: dict[str, str]


def parse_getfacl(output: str) -> list[GetfaclOutput]:
    """Parse ``getfacl --absolute-names`` (``-p``) output: one item per path, in order."""
    items: list[GetfaclOutput] = []
    current: dict[str, Any] | None = None

    def close() -> None:
        if current is not None:
            for field in ("path", "owner", "group"):
                if field not in current:
                    raise ValueError(f"getfacl output without '# {'file' if field == 'path' else field}:'")
            items.append(GetfaclOutput(**current))

    for raw in output.splitlines():
        line = raw.rstrip("\n")
        if not line.strip():
            continue
        if line.startswith("# file: "):
            close()
            current = {"path": _unescape(line[len("# file: "):]), "flags": "---", "access": {}, "default": {}}
            continue
        if current is None:
            raise ValueError(f"getfacl output does not start with '# file:': {line!r}")
        if line.startswith("# owner: "):
            current["owner"] = _unescape(line[len("# owner: "):])
        elif line.startswith("# group: "):
            current["group"] = _unescape(line[len("# group: "):])
        elif line.startswith("# flags: "):
            flags = line[len("# flags: "):].strip()
            if not re.fullmatch(r"[s-][s-][t-]", flags):
                raise ValueError(f"unexpected flags {flags!r}")
            current["flags"] = flags
        elif line.startswith("#"):
            continue
        else:
            match = _ENTRY_RE.match(line.strip())
            if not match:
                raise ValueError(f"not an ACL entry: {line!r}")
            is_default, tag, qualifier, perms, _ = match.groups()
            key = entry_key(tag, _unescape(qualifier))
            current["default" if is_default else "access"][key] = perms
    close()
    return items


@dataclasses.dataclass(frozen=True)
class PathAcl:
    """What ``stat`` and ``getfacl`` say about a path (the path itself: a symlink is not followed,
    and has no ACL of its own)."""

    path: str
    exists: bool
    type: str | None = None  # "file", "directory", "symlink", ...
    mode: int | None = None  # permission bits with the special ones, e.g. 0o2770
    owner: str | None = None
    group: str | None = None
    access: dict[str, str] = dataclasses.field(default_factory=dict)
    default: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def mode_text(self) -> str | None:
        """``0o2770`` -> ``"2770"``, ``0o750`` -> ``"0750"``."""
        return None if self.mode is None else f"{self.mode:04o}"

    @property
    def extended(self) -> bool:
        """True when the access ACL holds more than the three entries of the mode."""
        return any(key not in ("user::", "group::", "other::") for key in self.access)

    def effective(self, key: str, *, default: bool = False) -> str | None:
        return effective(self.default if default else self.access, key)


class Acl(Probe):
    """``stat -c '%f %u %g %U %G'`` then ``getfacl --absolute-names`` of one path -> :class:`PathAcl`
    (``exists=False`` when absent; a symlink is reported as such, without reading its target)."""

    FORMAT = "%f %u %g %U %G"  # raw mode in hex, uid, gid, owner, group: no translated text

    def __init__(self, path: str):
        self.path = path

    def command(self) -> str:
        return quote_line(
            f"if test -L %s; then stat -c %s -- %s; elif test -e %s; then stat -c %s -- %s && getfacl --absolute-names -- %s;"
            f" else (exit {ABSENT}); fi",
            self.path, self.FORMAT, self.path, self.path, self.FORMAT, self.path, self.path,
        )

    @probe_parser
    def process(self, output: str) -> PathAcl:
        first, _, rest = output.partition("\n")
        raw_mode, uid, gid, owner, group = first.split()
        # stat says UNKNOWN for an id without a name: show the number, as getfacl and ls do
        owner = uid if owner == "UNKNOWN" else owner
        group = gid if group == "UNKNOWN" else group
        mode = int(raw_mode, 16)
        kind = _FILE_TYPES.get(stat_module.S_IFMT(mode), "unknown")
        access: dict[str, str] = {}
        default: dict[str, str] = {}
        if kind != "symlink":
            parsed = parse_getfacl(rest)
            if len(parsed) != 1:
                raise ValueError(f"expected the ACL of one path, found {len(parsed)}")
            access, default = parsed[0].access, parsed[0].default
        return PathAcl(
            path=self.path,
            exists=True,
            type=kind,
            mode=stat_module.S_IMODE(mode),
            owner=owner,
            group=group,
            access=access,
            default=default,
        )

    def failed(self, result) -> Any:
        if result.rc == ABSENT:
            return PathAcl(path=self.path, exists=False)
        return super().failed(result)
