"""Account probes: shadow entries (without the hashes), group membership, the password quality
policy as PAM applies it, and tar archives.

Every probe only reads. Parsers turn unexpected output into
:class:`~tspcr_lab.errors.ProbeError`, never another exception type.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from .base import Probe, quote_line
from .system import ABSENT, probe_parser


def _days(field: str) -> int | None:
    """A shadow date or duration field: a whole number, or None when empty."""
    return int(field) if field != "" else None


@dataclasses.dataclass(frozen=True)
class ShadowEntry:
    """One line of the shadow database, without its password hash."""

    name: str
    locked: bool  # the password field starts with "!" (passwd -l, usermod -L)
    has_password: bool  # behind the "!" if any, a crypt hash ("$id$...") that a password can match
    last_change: int | None  # days since 1970-01-01; 0 = must change at next logon; None = ageing off
    min_days: int | None
    max_days: int | None
    warn_days: int | None
    inactive_days: int | None
    expire: int | None  # account expiry, days since 1970-01-01; None = never

    def expired_on(self, today: int) -> bool:
        """The account itself is expired (chage -E): no login at all, whatever the password."""
        return self.expire is not None and self.expire <= today


@dataclasses.dataclass(frozen=True)
class ShadowDatabase:
    today: int  # the host's date, in days since 1970-01-01 (what shadow dates compare with)
    entries: dict[str, ShadowEntry]

    def __contains__(self, name: str) -> bool:
        return name in self.entries

    def get(self, name: str) -> ShadowEntry | None:
        return self.entries.get(name)


class Shadow(Probe):
    """``getent shadow`` with the password field replaced by two flags (locked, has a hash), so
    that no hash ever reaches the evidence -> :class:`ShadowDatabase`."""

    # One line "today:N", then per entry: name:locked(0/1):hash(0/1):lastchg:min:max:warn:inactive:expire:reserved
    COMMAND = (
        "echo \"today:$(( $(date +%s) / 86400 ))\"; "
        "getent shadow | while IFS=: read -r name pw rest; do "
        "case \"$pw\" in '!'*) l=1 ;; *) l=0 ;; esac; "
        "case \"${pw#!}\" in '$'*) h=1 ;; *) h=0 ;; esac; "
        "printf '%s:%s:%s:%s\\n' \"$name\" \"$l\" \"$h\" \"$rest\"; done"
    )

    def command(self) -> str:
        return self.COMMAND

    @probe_parser
    def process(self, output: str) -> ShadowDatabase:
        lines = [line for line in output.splitlines() if line.strip()]
        if not lines or not lines[0].startswith("today:"):
            raise ValueError("the host's date is missing")
        today = int(lines[0].split(":", 1)[1])
        entries = {}
        for line in lines[1:]:
            fields = line.split(":")
            if len(fields) != 10:
                raise ValueError(f"shadow line without 10 fields: {line!r}")
            name, locked, hashed, last, mini, maxi, warn, inactive, expire, _ = fields
            entries[name] = ShadowEntry(
                name=name, locked=locked == "1", has_password=hashed == "1", last_change=_days(last),
                min_days=_days(mini), max_days=_days(maxi), warn_days=_days(warn),
                inactive_days=_days(inactive), expire=_days(expire),
            )
        return ShadowDatabase(today=today, entries=entries)


class UserGroups(Probe):
    """``id -Gn USER`` -> the names of the user's groups (primary first), or None for no such user."""

    ok_codes = (0, 1)

    def __init__(self, user: str):
        self.user = user

    def command(self) -> str:
        return quote_line("LC_ALL=C id -Gn -- %s", self.user)

    def evaluate(self, result) -> Any:
        if result.rc == 1 and "no such user" in result.stderr:
            return None
        if result.rc != 0:
            return self.failed(result)
        return self.process(result.stdout)

    @probe_parser
    def process(self, output: str) -> list[str]:
        groups = output.split()
        if not groups:
            raise ValueError("empty output")
        return groups


# What pam_pwquality does, with the host's own libpwquality: read the configuration
# (/etc/security/pwquality.conf and pwquality.conf.d), apply the options of the pam_pwquality
# line of /etc/pam.d/common-password, then judge each candidate password given as argument.
# Nothing is written anywhere. Prints one JSON object.
_PWQUALITY_SCRIPT = r"""
import ctypes, json, sys
SETTINGS = {"minlen": 3, "dcredit": 4, "ucredit": 5, "lcredit": 6, "ocredit": 7, "minclass": 8,
            "maxrepeat": 9, "maxclassrepeat": 11, "maxsequence": 14, "dictcheck": 15, "enforcing": 17}
out = {"pam": None, "config_error": None, "settings": {}, "candidates": []}
try:
    lines = open("/etc/pam.d/common-password", encoding="utf-8", errors="replace").read().splitlines()
except OSError:
    lines = []
for line in lines:
    words = line.split("#", 1)[0].split()
    if len(words) >= 3 and words[0] == "password" and words[2].endswith("pam_pwquality.so"):
        out["pam"] = words[3:]
lib = ctypes.CDLL("libpwquality.so.1")
lib.pwquality_default_settings.restype = ctypes.c_void_p
lib.pwquality_read_config.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
lib.pwquality_set_option.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
lib.pwquality_get_int_value.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
lib.pwquality_check.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                ctypes.POINTER(ctypes.c_void_p)]
lib.pwquality_strerror.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_void_p]
lib.pwquality_strerror.restype = ctypes.c_char_p
def error(rc, aux):
    buf = ctypes.create_string_buffer(256)
    return lib.pwquality_strerror(buf, 256, rc, aux).decode("utf-8", "replace")
pwq = lib.pwquality_default_settings()
aux = ctypes.c_void_p()
rc = lib.pwquality_read_config(pwq, None, ctypes.byref(aux))
if rc:
    out["config_error"] = error(rc, aux)
for option in out["pam"] or []:
    lib.pwquality_set_option(pwq, option.encode())
for name, code in SETTINGS.items():
    value = ctypes.c_int()
    if lib.pwquality_get_int_value(pwq, code, ctypes.byref(value)) == 0:
        out["settings"][name] = value.value
for password in sys.argv[1:]:
    aux = ctypes.c_void_p()
    score = lib.pwquality_check(pwq, password.encode(), None, None, ctypes.byref(aux))
    out["candidates"].append({"password": password, "score": score,
                              "error": error(score, aux) if score < 0 else ""})
print(json.dumps(out))
"""


@dataclasses.dataclass(frozen=True)
class QualityVerdict:
    password: str
    score: int  # 0-100 when accepted, a negative libpwquality error code when refused
    error: str  # why it is refused ("" when accepted)

    @property
    def accepted(self) -> bool:
        return self.score >= 0


@dataclasses.dataclass(frozen=True)
class PasswordQuality:
    pam_options: list[str] | None  # options of the pam_pwquality line of common-password; None = no such line
    config_error: str | None  # libpwquality could not read its configuration (e.g. an unknown setting)
    settings: dict[str, int]  # effective values: minlen, minclass, dcredit, ...
    verdicts: dict[str, QualityVerdict]  # candidate password -> verdict

    @property
    def in_pam(self) -> bool:
        return self.pam_options is not None


class PasswordQualityPolicy(Probe):
    """The password quality policy pam_pwquality applies on the host (its effective settings and
    its verdict on candidate passwords), computed by the host's own libpwquality; read-only.
    -> :class:`PasswordQuality`."""

    def __init__(self, *candidates: str):
        self.candidates = candidates

    def command(self) -> str:
        return quote_line("python3 -c %s" + " %s" * len(self.candidates), _PWQUALITY_SCRIPT, *self.candidates)

    @probe_parser
    def process(self, output: str) -> PasswordQuality:
        data = json.loads(output)
        verdicts = {c["password"]: QualityVerdict(c["password"], int(c["score"]), str(c["error"]))
                    for c in data["candidates"]}
        pam = data["pam"]
        return PasswordQuality(
            pam_options=None if pam is None else [str(o) for o in pam],
            config_error=data["config_error"],
            settings={str(k): int(v) for k, v in data["settings"].items()},
            verdicts=verdicts,
        )


@dataclasses.dataclass(frozen=True)
class ArchiveListing:
    path: str
    exists: bool
    members: list[str] = dataclasses.field(default_factory=list)  # as tar lists them, directories end with "/"
    error: str = ""  # tar could not read it (not an archive, truncated...)

    def find(self, relative: str) -> str | None:
        """The member holding ``relative`` (a path inside the archived folder), whatever the
        prefix it was archived with (``home/u/``, ``./``, ``u/``, nothing)."""
        for member in self.members:
            if member == relative or member.endswith("/" + relative):
                return member
        return None


class ArchiveMembers(Probe):
    """``tar -tf ARCHIVE`` (any compression tar recognizes) -> :class:`ArchiveListing`."""

    ok_codes = (0,)

    def __init__(self, path: str):
        self.path = path

    def command(self) -> str:
        return quote_line(f"if test -f %s; then LC_ALL=C tar -tf %s; else (exit {ABSENT}); fi", self.path, self.path)

    def process(self, output: str) -> ArchiveListing:
        return ArchiveListing(self.path, True, [line for line in output.splitlines() if line])

    def failed(self, result) -> ArchiveListing:
        if result.rc == ABSENT:
            return ArchiveListing(self.path, False)
        detail = (result.stderr or result.stdout).strip().splitlines()
        return ArchiveListing(self.path, True, error=detail[0] if detail else f"tar exited {result.rc}")


class ArchiveFile(Probe):
    """The content of one member of a tar archive, read to standard output (nothing is extracted
    on disk) -> text, or None when tar cannot give it."""

    ok_codes = (0,)

    def __init__(self, path: str, member: str):
        self.path, self.member = path, member

    def command(self) -> str:
        return quote_line("LC_ALL=C tar -xOf %s -- %s", self.path, self.member)

    def process(self, output: str) -> str:
        return output

    def failed(self, result) -> None:
        return None


# What an archive's first bytes say it is, and what its name says it should be.
MAGIC = (("gzip", "1f8b"), ("bzip2", "425a68"), ("xz", "fd377a585a00"), ("zstd", "28b52ffd"))
SUFFIXES = ((".tar.gz", "gzip"), (".tgz", "gzip"), (".tar.bz2", "bzip2"), (".tbz2", "bzip2"),
            (".tar.xz", "xz"), (".txz", "xz"), (".tar.zst", "zstd"), (".tar", "none"))


def compression_named(path: str) -> str | None:
    """The compression an archive's name promises (``none`` for .tar), None when it names none."""
    for suffix, kind in SUFFIXES:
        if path.endswith(suffix):
            return kind
    return None


class Compression(Probe):
    """The compression of a file from its first bytes (``gzip``, ``bzip2``, ``xz``, ``zstd`` or
    ``none``), or None when there is no such regular file: what a user who opens the archive by
    its name meets, whatever tar itself would have guessed."""

    ok_codes = (0,)

    def __init__(self, path: str):
        self.path = path

    def command(self) -> str:
        return quote_line(f"if test -f %s; then head -c 6 %s | od -An -tx1; else (exit {ABSENT}); fi",
                          self.path, self.path)

    def process(self, output: str) -> str:
        magic = "".join(output.split())
        return next((kind for kind, prefix in MAGIC if magic.startswith(prefix)), "none")

    def failed(self, result) -> None:
        return None
