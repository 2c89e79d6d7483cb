"""Samba probes: the server's configuration and accounts (on the server), and what an SMB client
gets from the network (``smbclient``, on a PC).

* :class:`SambaConfig` -- ``testparm -s``: the effective configuration (global options and shares,
  as Samba itself reads smb.conf); a configuration Samba cannot load is a result (``loaded``
  false), not an error: it is the trainee's work.
* :class:`SambaAccounts` -- ``pdbedit -L -v``: the Samba accounts and their flags (disabled...),
  without password hashes; a ``passdb backend`` of smb.conf that Samba cannot open is the
  trainee's work (:class:`~tspcr_lab.errors.BrokenWork`, a failure), not an error.
* :class:`SmbClient` -- one ``smbclient`` session to a share as a user (password passed in the
  ``PASSWD`` environment variable, never on smbclient's command line), anonymous (``-N``), or a
  share listing (``-L``): what the server answered, stage by stage (connect, session, tree
  connect, command), with the NT status that says why.

Every probe only reads, except what the ``smbclient`` commands a check passes do (a check that
writes a probe file removes it in the same check).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from ..errors import BrokenWork
from ..transport.base import CommandResult
from .base import Probe, quote_line
from .system import probe_parser

# --- testparm -------------------------------------------------------------------------------------

# Defaults of the options checks read when testparm -s does not print them (it prints only
# non-default values). Keys are lower case, as in SambaConfig.
SHARE_DEFAULTS = {
    "read only": "yes",
    "guest ok": "no",
    "guest only": "no",
    "browseable": "yes",
    "available": "yes",
    "printable": "no",
}
GLOBAL_DEFAULTS = {
    "map to guest": "never",
    "workgroup": "WORKGROUP",
    "restrict anonymous": "0",
}
# Synonyms testparm -s never prints, listed for options read from other sources.
_SYNONYMS = {"writable": ("read only", True), "writeable": ("read only", True), "write ok": ("read only", True),
             "public": ("guest ok", False), "only guest": ("guest only", False)}

TRUE_WORDS = {"yes", "true", "1", "on"}
FALSE_WORDS = {"no", "false", "0", "off"}


def as_bool(value: str | None) -> bool | None:
    """Samba's boolean words -> True/False (None for anything else)."""
    if value is None:
        return None
    word = value.strip().lower()
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None


def split_list(value: str | None) -> list[str]:
    """A Samba list option (``valid users = @compta, alice bob``) -> its items."""
    if not value:
        return []
    return [item for item in re.split(r"[\s,]+", value.strip()) if item]


@dataclasses.dataclass(frozen=True)
class Share:
    name: str
    options: dict[str, str]  # lower-case option -> value as testparm printed it

    def get(self, option: str) -> str | None:
        option = option.lower()
        if option in self.options:
            return self.options[option]
        return SHARE_DEFAULTS.get(option)

    def flag(self, option: str) -> bool | None:
        return as_bool(self.get(option))

    @property
    def path(self) -> str | None:
        return self.options.get("path")

    @property
    def read_only(self) -> bool:
        return self.flag("read only") is not False

    @property
    def guest_ok(self) -> bool:
        return bool(self.flag("guest ok"))

    @property
    def printable(self) -> bool:
        return bool(self.flag("printable"))


@dataclasses.dataclass(frozen=True)
class SambaSettings:
    """What ``testparm -s`` says: ``loaded`` false when Samba cannot load smb.conf (``error`` says why)."""

    loaded: bool
    globals: dict[str, str] = dataclasses.field(default_factory=dict)
    shares: dict[str, Share] = dataclasses.field(default_factory=dict)  # by name as written (case kept)
    error: str = ""

    def option(self, name: str) -> str | None:
        name = name.lower()
        if name in self.globals:
            return self.globals[name]
        return GLOBAL_DEFAULTS.get(name)

    def share(self, name: str) -> Share | None:
        """Share names are case-insensitive for clients: find one whatever its case."""
        for share_name, share in self.shares.items():
            if share_name.lower() == name.lower():
                return share
        return None


_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]\s*$")
_OPTION = re.compile(r"^(?P<key>[^=]+?)\s*=\s?(?P<value>.*)$")


class SambaConfig(Probe):
    """``testparm -s`` -> :class:`SambaSettings` (``LANG=C``: untranslated words)."""

    ok_codes = (0, 1)

    def __init__(self, path: str | None = None):
        self.path = path

    def command(self) -> str:
        if self.path:
            return quote_line("LANG=C testparm -s %s", self.path)
        return "LANG=C testparm -s"

    def evaluate(self, result: CommandResult) -> Any:
        if result.rc == 1 and not result.stdout.strip():
            lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
            errors = [line for line in lines if "rror" in line or "annot" in line or "No such" in line]
            return SambaSettings(loaded=False, error=(errors or lines or ["testparm failed"])[-1])
        return super().evaluate(result)

    @probe_parser
    def process(self, output: str) -> SambaSettings:
        sections: dict[str, dict[str, str]] = {}
        current: dict[str, str] | None = None
        for raw in output.splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            section = _SECTION.match(line)
            if section:
                current = sections.setdefault(section.group("name"), {})
                continue
            option = _OPTION.match(line)
            if option is None or current is None:
                raise ValueError(f"unexpected testparm line {line!r}")
            current[option.group("key").strip().lower()] = option.group("value").strip()
        global_options = sections.pop("global", {})
        shares = {}
        for name, options in sections.items():
            for synonym, (option, inverted) in _SYNONYMS.items():
                if synonym in options and option not in options:
                    value = as_bool(options.pop(synonym))
                    if value is not None:
                        options[option] = "yes" if value != inverted else "no"
            shares[name] = Share(name=name, options=options)
        return SambaSettings(loaded=True, globals=global_options, shares=shares)


# --- pdbedit --------------------------------------------------------------------------------------

ACCOUNT_FLAGS = {
    "U": "user", "D": "disabled", "N": "no password required", "X": "password does not expire",
    "L": "locked out", "W": "workstation trust", "S": "server trust", "I": "domain trust",
    "H": "home directory required", "T": "temporary duplicate", "M": "MNS logon",
}


@dataclasses.dataclass(frozen=True)
class SambaAccount:
    name: str
    flags: frozenset[str]  # letters of "Account Flags", e.g. {"U", "D"}
    bad_password_count: int = 0

    @property
    def disabled(self) -> bool:
        return "D" in self.flags

    @property
    def locked(self) -> bool:
        return "L" in self.flags

    @property
    def password_required(self) -> bool:
        return "N" not in self.flags


class SambaAccounts(Probe):
    """``pdbedit -L -v`` -> dict user name -> :class:`SambaAccount` (no password hashes read).

    An empty or missing account database is an empty dict: pdbedit prints nothing and exits 0. A
    ``passdb backend`` (smb.conf) that Samba cannot initialise raises
    :class:`~tspcr_lab.errors.BrokenWork`: the configuration is the trainee's work.
    """

    def command(self) -> str:
        return "LANG=C pdbedit -L -v"

    def failed(self, result: CommandResult) -> Any:
        output = result.stderr + result.stdout
        if "Can't initialize passdb backend" in output:
            lines = [line.strip() for line in output.splitlines() if line.strip()]
            detail = " ".join(lines[-2:])
            raise BrokenWork({
                "fr": f"pdbedit ne peut pas ouvrir les comptes Samba : « {detail} » (option passdb backend de smb.conf ?)",
                "en": f"pdbedit cannot open the Samba accounts: '{detail}' (smb.conf's passdb backend option?)",
            })
        return super().failed(result)

    @probe_parser
    def process(self, output: str) -> dict[str, SambaAccount]:
        accounts = {}
        for block in re.split(r"^-{5,}\s*$", output, flags=re.M):
            fields = {}
            for line in block.splitlines():
                if ":" in line:
                    key, _, value = line.partition(":")
                    fields.setdefault(key.strip().lower(), value.strip())
            if not fields:
                continue
            name = fields["unix username"]
            flags = re.fullmatch(r"\[([A-Z ]*)\]", fields["account flags"])
            if not name or flags is None:
                raise ValueError(f"account block without a name or flags: {block.strip()[:80]!r}")
            count = fields.get("bad password count", "0")
            accounts[name] = SambaAccount(name=name, flags=frozenset(flags.group(1).replace(" ", "")),
                                          bad_password_count=int(count) if count.isdigit() else 0)
        return accounts


# --- smbclient ------------------------------------------------------------------------------------

# NT statuses that mean the server refused the user or the share (an answer, not a breakdown).
DENIED = {
    "NT_STATUS_ACCESS_DENIED", "NT_STATUS_LOGON_FAILURE", "NT_STATUS_ACCOUNT_DISABLED",
    "NT_STATUS_ACCOUNT_LOCKED_OUT", "NT_STATUS_BAD_NETWORK_NAME", "NT_STATUS_WRONG_PASSWORD",
    "NT_STATUS_NO_SUCH_USER", "NT_STATUS_MEDIA_WRITE_PROTECTED", "NT_STATUS_ACCOUNT_RESTRICTION",
    "NT_STATUS_PASSWORD_EXPIRED", "NT_STATUS_PASSWORD_MUST_CHANGE", "NT_STATUS_INVALID_ACCOUNT_NAME",
}

_STAGES = (
    ("connect", re.compile(r"^do_connect: Connection to .* failed \(Error (NT_STATUS_\w+)\)", re.M)),
    ("session", re.compile(r"^session setup failed: (NT_STATUS_\w+)", re.M)),
    ("tree", re.compile(r"^tree connect failed: (NT_STATUS_\w+)", re.M)),
)
_COMMAND_STATUS = re.compile(r"\b(NT_STATUS_\w+)\b")


@dataclasses.dataclass(frozen=True)
class SmbResult:
    """One smbclient session. ``stage`` is where it stopped: ``connect`` (no SMB server
    answered), ``session`` (the user was refused), ``tree`` (the share was refused), ``command``
    (connected, but the command failed) or ``done`` (everything worked); ``status`` the NT status."""

    stage: str
    status: str | None
    output: str

    @property
    def ok(self) -> bool:
        return self.stage == "done"

    @property
    def connected(self) -> bool:
        """The session reached the share (whatever the command then did)."""
        return self.stage in ("command", "done")

    @property
    def answered(self) -> bool:
        """An SMB server answered (even to refuse)."""
        return self.stage != "connect"


def parse_smbclient(rc: int, output: str) -> SmbResult:
    for stage, pattern in _STAGES:
        match = pattern.search(output)
        if match:
            return SmbResult(stage=stage, status=match.group(1), output=output)
    statuses = _COMMAND_STATUS.findall(output)
    if statuses:
        return SmbResult(stage="command", status=statuses[0], output=output)
    if rc != 0:
        return SmbResult(stage="command", status=None, output=output)
    return SmbResult(stage="done", status=None, output=output)


class SmbClient(Probe):
    """``smbclient //SERVER/SHARE -c COMMANDS`` as ``user`` (``password`` in ``PASSWD``), or
    anonymously (``user=None``) -> :class:`SmbResult`.

    smbclient runs each ``;``-separated command even after one fails, and its exit code only
    reflects the last one: pass one command per session to know which one failed.
    ``smbclient``'s own errors go to standard error: both outputs are read.
    """

    ok_codes = (0, 1)

    def __init__(self, server: str, share: str, commands: str = "ls", user: str | None = None,
                 password: str = "", timeout: int = 5):
        self.server, self.share, self.commands = server, share, commands
        self.user, self.password, self.timeout = user, password, timeout
        self.secrets = (password,) if password else ()

    def command(self) -> str:
        target = f"//{self.server}/{self.share}"
        if self.user is None:
            return quote_line("LANG=C smbclient %s -N -t %s -c %s 2>&1", target, self.timeout, self.commands)
        return quote_line("LANG=C PASSWD=%s smbclient %s -U %s -t %s -c %s 2>&1", self.password, target,
                          self.user, self.timeout, self.commands)

    def evaluate(self, result: CommandResult) -> Any:
        if result.rc not in self.ok_codes:
            return self.failed(result)
        return parse_smbclient(result.rc, result.stdout + result.stderr)

    def process(self, output: str) -> SmbResult:  # pragma: no cover - evaluate reads rc and stderr too
        return parse_smbclient(0, output)


@dataclasses.dataclass(frozen=True)
class ShareListing:
    """``smbclient -g -L``: the session's result and, when it worked, the shares by type."""

    result: SmbResult
    shares: dict[str, str]  # name -> type ("Disk", "IPC", "Printer")

    @property
    def disk_shares(self) -> list[str]:
        return sorted(name for name, kind in self.shares.items() if kind == "Disk")


class SmbShares(SmbClient):
    """``smbclient -g -L //SERVER`` as a user (or anonymously) -> :class:`ShareListing`."""

    def __init__(self, server: str, user: str | None = None, password: str = "", timeout: int = 5):
        super().__init__(server, "", "", user, password, timeout)

    def command(self) -> str:
        target = f"//{self.server}"
        if self.user is None:
            return quote_line("LANG=C smbclient -g -L %s -N -t %s 2>&1", target, self.timeout)
        return quote_line("LANG=C PASSWD=%s smbclient -g -L %s -U %s -t %s 2>&1", self.password, target,
                          self.user, self.timeout)

    def evaluate(self, result: CommandResult) -> Any:
        if result.rc not in self.ok_codes:
            return self.failed(result)
        output = result.stdout + result.stderr
        shares = {}
        for line in output.splitlines():
            fields = line.split("|")
            if len(fields) >= 3 and fields[0] in ("Disk", "IPC", "Printer"):
                shares[fields[1]] = fields[0]
        result_ = parse_smbclient(result.rc, "\n".join(
            line for line in output.splitlines() if "SMB1 disabled" not in line))
        return ShareListing(result=result_, shares=shares)
