"""Probes of remote access (the remote-support lab): sudo rights, sshd's effective settings, the
hosts' auth logs, a PC's inventory, SSH logins from a host through a bastion, TCP reachability.

Every probe only reads. The parsers are pure functions (unit-tested on recorded outputs):

* :func:`parse_sudo_rights` reads ``sudo -ll -U USER`` (one entry per rule, aliases expanded);
* :func:`parse_sshd_settings` reads ``sshd -T -C ...``, and :func:`password_login_possible` /
  :func:`root_login_possible` say what those settings allow (``AuthenticationMethods`` included);
* :func:`parse_auth_log` reads an auth log (a syslog file: sshd's sessions with their source, sudo's
  commands), :func:`sessions_at` / :class:`AuthLog` tell which session a command ran in;
* :func:`inventory_problems` compares an inventory file (TOML, the lab's format) with the facts
  :class:`InventoryFacts` reads on the PC itself;
* :func:`ssh_command` builds the ``ssh`` line a check runs *as a user of a host* (their own keys
  and configuration, through a jump host, nothing written: no known_hosts, no control socket),
  and :func:`ssh_outcome` classifies what it gave.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import shlex
from typing import Any, Iterable

from ..errors import BrokenWork, ProbeError
from .base import Probe, quote_line
from .system import probe_parser

# -- sudo -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SudoEntry:
    """One rule of ``sudo -ll``: as whom, with which options, which commands (as sudoers has
    them, escapes kept: ``/usr/bin/x\\, y``)."""

    runas_users: tuple[str, ...]
    runas_groups: tuple[str, ...]
    options: tuple[str, ...]
    commands: tuple[str, ...]

    @property
    def nopasswd(self) -> bool:
        return "!authenticate" in self.options


@dataclasses.dataclass(frozen=True)
class SudoRights:
    user: str
    allowed: bool  # False: "User X is not allowed to run sudo on H."
    entries: tuple[SudoEntry, ...]

    def commands(self) -> list[str]:
        return [c for e in self.entries for c in e.commands]


def _split_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in re.split(r"(?<!\\),", text) if part.strip())


def parse_sudo_rights(user: str, output: str) -> SudoRights:
    """``sudo -ll -U USER``'s output -> :class:`SudoRights` (ValueError when it is not that)."""
    lines = output.splitlines()
    if any(re.match(rf"^User {re.escape(user)} is not allowed to run sudo on ", line) for line in lines):
        return SudoRights(user, False, ())
    if not any(re.match(rf"^User {re.escape(user)} may run the following commands on ", line) for line in lines):
        raise ValueError(f"neither 'User {user} may run' nor 'is not allowed' in sudo -ll's output")
    entries: list[SudoEntry] = []
    current: dict[str, Any] | None = None
    in_commands = False

    def close() -> None:
        if current is not None:
            entries.append(SudoEntry(tuple(current["users"]), tuple(current["groups"]), tuple(current["options"]),
                                     tuple(current["commands"])))

    for line in lines:
        stripped = line.strip()
        if re.match(r"^(Sudoers entry|LDAP Role|SSSD Role)\b", stripped):
            close()
            current, in_commands = {"users": [], "groups": [], "options": [], "commands": []}, False
        elif current is None or not stripped:
            continue
        elif stripped.startswith("RunAsUsers:"):
            current["users"] = list(_split_list(stripped.split(":", 1)[1]))
        elif stripped.startswith("RunAsGroups:"):
            current["groups"] = list(_split_list(stripped.split(":", 1)[1]))
        elif stripped.startswith("Options:"):
            current["options"] += list(_split_list(stripped.split(":", 1)[1]))
        elif stripped == "Commands:":
            in_commands = True
        elif in_commands and line[:1] in ("\t", " "):
            current["commands"].append(stripped)
        elif re.match(r"^[A-Za-z][A-Za-z ]*:", stripped):  # another field (Host:, Order:, NotBefore:...)
            in_commands = False
    close()
    return SudoRights(user, True, tuple(entries))


def normalize_command(command: str) -> str:
    """A sudoers command as a person writes it: blanks collapsed, escapes (``\\,`` ``\\:``) removed."""
    return " ".join(re.sub(r"\\(.)", r"\1", command).split())


class SudoRightsProbe(Probe):
    """``sudo -ll -U USER`` (as root: reads the sudoers policy, runs nothing) -> :class:`SudoRights`."""

    def __init__(self, user: str):
        self.user = user

    def command(self) -> str:
        return quote_line("LC_ALL=C sudo -ll -U %s", self.user)

    @probe_parser
    def process(self, output: str) -> SudoRights:
        return parse_sudo_rights(self.user, output)

    def failed(self, result) -> Any:
        text = (result.stderr + result.stdout).strip()
        if "syntax error" in text or "parse error" in text:
            raise BrokenWork({"fr": f"sudo refuse sa configuration : {text.splitlines()[-1]}",
                              "en": f"sudo refuses its configuration: {text.splitlines()[-1]}"})
        return super().failed(result)


# -- sshd ---------------------------------------------------------------------------------------


def parse_sshd_settings(output: str) -> dict[str, str]:
    """``sshd -T``'s output (``keyword value...`` per line) -> keyword (lower case) -> value; a
    keyword given several times (``listenaddress``) keeps its values joined by a space."""
    settings: dict[str, str] = {}
    for line in output.splitlines():
        parts = line.strip().split(None, 1)
        if not parts:
            continue
        key, value = parts[0].lower(), parts[1].strip() if len(parts) > 1 else ""
        settings[key] = f"{settings[key]} {value}" if key in settings else value
    if "passwordauthentication" not in settings or "permitrootlogin" not in settings:
        raise ValueError("no passwordauthentication or permitrootlogin in sshd -T's output")
    return settings


PASSWORD_METHODS = ("password", "keyboard-interactive")


def _method_lists(settings: dict[str, str]) -> list[list[str]]:
    enabled = [m for m, key in (("publickey", "pubkeyauthentication"), ("password", "passwordauthentication"),
                                ("keyboard-interactive", "kbdinteractiveauthentication"))
               if settings.get(key, "yes") == "yes"]
    value = settings.get("authenticationmethods", "any").strip()
    if value in ("", "any"):
        return [[m] for m in enabled]
    lists = []
    for item in value.split():
        methods = [m.split(":", 1)[0] for m in item.split(",")]
        if all(m in enabled for m in methods):
            lists.append(methods)
    return lists


def password_login_possible(settings: dict[str, str]) -> bool:
    """Whether sshd, with these effective settings, lets a user in with a password alone
    (``password`` or ``keyboard-interactive``, which asks the password through PAM), without a key."""
    return any(all(m in PASSWORD_METHODS for m in methods) for methods in _method_lists(settings))


def root_login_possible(settings: dict[str, str]) -> bool:
    """Whether root may log in at all (PermitRootLogin other than ``no``: ``prohibit-password``
    and ``forced-commands-only`` still let root in with a key)."""
    return settings.get("permitrootlogin", "yes") != "no" and bool(_method_lists(settings))


class SshdSettings(Probe):
    """``sshd -T -C user=...,host=...,addr=...``: the settings sshd applies to that connection
    (Match blocks and Include'd files applied) -> dict. A configuration sshd refuses is the
    trainee's work: :class:`BrokenWork`."""

    def __init__(self, user: str, address: str, local: str | None = None):
        self.user, self.address, self.local = user, address, local

    def command(self) -> str:
        spec = f"user={self.user},host={self.address},addr={self.address}"
        if self.local:
            spec += f",laddr={self.local},lport=22"
        return quote_line("sshd -T -C %s", spec)

    @probe_parser
    def process(self, output: str) -> dict[str, str]:
        return parse_sshd_settings(output)

    def failed(self, result) -> Any:
        text = (result.stderr or result.stdout).strip().splitlines()
        if result.rc == 255 and text:
            raise BrokenWork({"fr": f"sshd refuse sa configuration : {text[-1]}",
                              "en": f"sshd refuses its configuration: {text[-1]}"})
        return super().failed(result)


# -- auth logs ----------------------------------------------------------------------------------

_ISO = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)\s+(\S+)\s+(.*)$")
_BSD = re.compile(r"^([A-Z][a-z]{2}\s+\d{1,2}\s+\d\d:\d\d:\d\d)\s+(\S+)\s+(.*)$")
_TAG = re.compile(r"^([^\s\[:]+)(?:\[(\d+)\])?:\s?(.*)$")
_ACCEPTED = re.compile(r"^Accepted (\S+) for (\S+) from (\S+) port (\d+)")
_CLOSED = re.compile(r"^pam_unix\(sshd:session\): session closed for user (\S+)")
_DISCONNECTED = re.compile(r"^Disconnected from user (\S+) (\S+) port (\d+)")


@dataclasses.dataclass
class Session:
    """An SSH session sshd accepted: who, from where, how, when it opened and closed (None: open)."""

    user: str
    source: str
    port: int
    method: str
    opened: float
    closed: float | None = None
    pid: int | None = None

    def covers(self, when: float) -> bool:
        return self.opened <= when and (self.closed is None or when <= self.closed)


@dataclasses.dataclass(frozen=True)
class SudoRun:
    """A command sudo ran (``allowed``) or refused (``reason``), for whom, when."""

    user: str
    when: float
    command: str
    allowed: bool
    reason: str = ""
    runas: str = "root"
    tty: str = ""


@dataclasses.dataclass(frozen=True)
class AuthLog:
    sessions: tuple[Session, ...]
    sudo: tuple[SudoRun, ...]
    lines: int

    def sessions_of(self, user: str) -> list[Session]:
        return [s for s in self.sessions if s.user == user]

    def sessions_at(self, when: float, user: str | None = None) -> list[Session]:
        return [s for s in self.sessions if (user is None or s.user == user) and s.covers(when)]


def _stamp(text: str, year: int) -> float | None:
    try:
        if text[:1].isdigit():
            value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if value.tzinfo is None:
                value = value.replace(tzinfo=datetime.timezone.utc)
            return value.timestamp()
        value = datetime.datetime.strptime(f"{year} {' '.join(text.split())}", "%Y %b %d %H:%M:%S")
        return value.replace(tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        return None


def parse_auth_log(text: str, *, boots: Iterable[float] = (), year: int | None = None) -> AuthLog:
    """An auth log (RFC 3339 stamps, as Debian 12's rsyslog and the lab's tl-syslogd write them,
    or the traditional ``Mmm dd hh:mm:ss``) -> its SSH sessions and sudo commands. A session whose
    close is not in the log ends at the next boot after it opened (``boots``: the host's boot
    times), else is open still. Lines it does not know are skipped."""
    year = year or datetime.datetime.now(datetime.timezone.utc).year
    sessions: list[Session] = []
    by_pid: dict[int, Session] = {}
    runs: list[SudoRun] = []
    count = 0
    for line in text.splitlines():
        match = _ISO.match(line) or _BSD.match(line)
        if not match:
            continue
        when = _stamp(match.group(1), year)
        tag = _TAG.match(match.group(3))
        if when is None or not tag:
            continue
        count += 1
        program, pid, message = tag.group(1), int(tag.group(2)) if tag.group(2) else None, tag.group(3)
        if program == "sshd":
            accepted = _ACCEPTED.match(message)
            if accepted:
                if pid is not None and pid in by_pid and by_pid[pid].closed is None:
                    by_pid[pid].closed = when  # the pid was used again: that session had ended
                session = Session(accepted.group(2), accepted.group(3), int(accepted.group(4)), accepted.group(1),
                                  when, pid=pid)
                sessions.append(session)
                if pid is not None:
                    by_pid[pid] = session
                continue
            closed = _CLOSED.match(message)
            if closed and pid is not None and pid in by_pid and by_pid[pid].user == closed.group(1):
                if by_pid[pid].closed is None:
                    by_pid[pid].closed = when
                continue
            gone = _DISCONNECTED.match(message)
            if gone:
                for session in reversed(sessions):
                    if (session.user, session.source, session.port) == (gone.group(1), gone.group(2), int(gone.group(3))):
                        if session.closed is None:
                            session.closed = when
                        break
        elif program == "sudo":
            run = _sudo_line(message, when)
            if run is not None:
                runs.append(run)
    for boot in sorted(boots):
        for session in sessions:
            if session.closed is None and session.opened < boot:
                session.closed = boot
    return AuthLog(tuple(sessions), tuple(runs), count)


def _sudo_line(message: str, when: float) -> SudoRun | None:
    """``helpdesk : TTY=pts/0 ; PWD=/home/x ; USER=root ; COMMAND=/usr/sbin/service cron start``
    (allowed) or ``helpdesk : command not allowed ; PWD=... ; COMMAND=...`` (refused)."""
    if " : " not in message:
        return None
    user, rest = message.split(" : ", 1)
    user = user.strip()
    fields = rest.split(" ; ")
    values: dict[str, str] = {}
    reasons = []
    for i, field in enumerate(fields):
        key, sep, value = field.partition("=")
        if sep and re.fullmatch(r"[A-Z_]+", key.strip()):
            if key.strip() == "COMMAND":  # the command may hold " ; ": the rest of the line
                values["COMMAND"] = " ; ".join([value, *fields[i + 1:]])
                break
            values[key.strip()] = value
        else:
            reasons.append(field.strip())
    if "COMMAND" not in values or not user or " " in user:
        return None
    return SudoRun(user, when, values["COMMAND"].strip(), not reasons, "; ".join(reasons),
                   values.get("USER", "root"), values.get("TTY", ""))


class AuthLogProbe(Probe):
    """The host's auth log and when the host booted -> :class:`AuthLog`; None when there is no
    log at that path (the host keeps none: the check cannot judge)."""

    ok_codes = (0, 3)

    def __init__(self, path: str = "/var/log/auth.log"):
        self.path = path

    def command(self) -> str:
        # the boot: when PID 1 started (the host's own init), from the machine's clock
        return quote_line("date +%%s; ps -o etimes= -p 1; if test -f %s; then echo LOG; cat -- %s; else exit 3; fi",
                          self.path, self.path)

    @probe_parser
    def process(self, output: str) -> AuthLog | None:
        head = output.split("\n", 3)
        if len(head) < 3 or head[2] != "LOG":
            return None
        now, elapsed = int(head[0]), int(head[1])
        return parse_auth_log(head[3] if len(head) > 3 else "", boots=[now - elapsed - 1])

    def evaluate(self, result):
        if result.rc == 3:
            return None
        return super().evaluate(result)


# -- inventory ----------------------------------------------------------------------------------

INVENTORY_FIELDS = {
    "system": {"hostname": str, "os": str, "kernel": str},
    "hardware": {"cpu_model": str, "cpu_count": int, "memory_mib": int, "disk_mib": int},
    "software": {"packages": int},
}

_FACTS = r'''
import json, os, subprocess, sys
def out(argv):
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout
facts = {"hostname": out(["hostname"]).strip()}
with open("/etc/os-release") as f:
    for line in f:
        key, _, value = line.strip().partition("=")
        if key == "PRETTY_NAME":
            facts["os"] = value.strip().strip('"')
facts["kernel"] = os.uname().release
with open("/proc/cpuinfo") as f:
    models = [l.split(":", 1)[1].strip() for l in f if l.startswith("model name")]
facts["cpu_model"] = models[0] if models else ""
facts["cpu_count"] = len(os.sched_getaffinity(0))
with open("/proc/meminfo") as f:
    facts["memory_kib"] = next(int(l.split()[1]) for l in f if l.startswith("MemTotal:"))
st = os.statvfs("/")
facts["disk_bytes"] = st.f_blocks * st.f_frsize
facts["interfaces"] = {}
for link in json.loads(out(["ip", "-j", "addr", "show"])):
    if link["ifname"] == "lo":
        continue
    facts["interfaces"][link["ifname"]] = {
        "mac": link.get("address", ""),
        "ipv4": [f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", []) if a.get("family") == "inet"]}
status = out(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}\n"])
facts["packages"] = sum(1 for l in status.splitlines() if l.startswith("ii"))
facts["versions"] = {}
for name in sys.argv[1:]:
    try:
        facts["versions"][name] = out(["dpkg-query", "-W", "-f", "${Version}", name]).strip()
    except subprocess.CalledProcessError:
        facts["versions"][name] = None
json.dump(facts, sys.stdout)
'''


class InventoryFacts(Probe):
    """What a PC's inventory must say, read on the PC itself (python3 -I, read-only): host name,
    OS, kernel, CPU model and count, memory, root file system size, interfaces (MAC, IPv4),
    installed packages count and the versions of ``packages``."""

    def __init__(self, packages: Iterable[str] = ()):
        self.packages = tuple(packages)

    def command(self) -> str:
        return " ".join(shlex.quote(a) for a in ("python3", "-I", "-c", _FACTS, *self.packages))

    @probe_parser
    def process(self, output: str) -> dict[str, Any]:
        facts = json.loads(output)
        for key in ("hostname", "os", "kernel", "cpu_model", "cpu_count", "memory_kib", "disk_bytes", "interfaces",
                    "packages", "versions"):
            facts[key]  # noqa: B018 - a KeyError is a parse error
        return facts


def parse_inventory(text: str) -> dict[str, Any]:
    """The inventory file's TOML -> its document (ValueError with tomllib's reason)."""
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(str(exc)) from None


@dataclasses.dataclass(frozen=True)
class Mismatch:
    where: str  # "hardware.memory_mib", "network[eth0].mac"
    expected: Any
    found: Any

    def __str__(self) -> str:
        return f"{self.where}: {self.found!r} (pc: {self.expected!r})"


def inventory_format_problems(doc: dict[str, Any], versions: Iterable[str]) -> list[str]:
    """What the inventory lacks of the sheet's format: tables, keys, their types (an integer is
    never a string), [[network]] tables with interface/mac/ipv4, the versions asked."""
    problems = []
    for table, keys in INVENTORY_FIELDS.items():
        section = doc.get(table)
        if not isinstance(section, dict):
            problems.append(f"[{table}] missing")
            continue
        for key, kind in keys.items():
            value = section.get(key)
            if value is None:
                problems.append(f"{table}.{key} missing")
            elif not isinstance(value, kind) or isinstance(value, bool):
                problems.append(f"{table}.{key} is not {'an integer' if kind is int else 'a string'}")
    network = doc.get("network")
    if not isinstance(network, list) or not network or not all(isinstance(n, dict) for n in network):
        problems.append("[[network]] missing (one table per interface)")
    else:
        for i, item in enumerate(network):
            for key in ("interface", "mac", "ipv4"):
                if key not in item:
                    problems.append(f"network[{i}].{key} missing")
            ipv4 = item.get("ipv4")
            if ipv4 is not None and not (isinstance(ipv4, str) or (isinstance(ipv4, list)
                                                                    and all(isinstance(a, str) for a in ipv4))):
                problems.append(f"network[{i}].ipv4 is neither an address nor a list of addresses")
    software = doc.get("software") if isinstance(doc.get("software"), dict) else {}
    found = software.get("versions")
    if not isinstance(found, dict):
        problems.append("[software.versions] missing")
    else:
        for name in versions:
            if not isinstance(found.get(name), str):
                problems.append(f"software.versions.{name} missing")
    return problems


def _get(doc: dict[str, Any], table: str, key: str) -> Any:
    section = doc.get(table)
    return section.get(key) if isinstance(section, dict) else None


def _addresses(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value.strip()}
    if isinstance(value, list):
        return {str(v).strip() for v in value}
    return set()


def inventory_problems(doc: dict[str, Any], facts: dict[str, Any], part: str,
                       required_interfaces: Iterable[str] = ("eth0",)) -> list[Mismatch]:
    """The inventory's values that differ from the PC's facts, for ``part`` ("hardware": CPU,
    memory, disk, interfaces' MAC; "software": host name, OS, kernel, IPv4 addresses, packages).
    Memory and disk may be off by one MiB (rounding) or 1 % (another tool's unit)."""
    wrong: list[Mismatch] = []

    def exact(table: str, key: str, want: Any, norm=lambda v: v) -> None:
        have = _get(doc, table, key)
        if have is None or norm(have) != norm(want):
            wrong.append(Mismatch(f"{table}.{key}", want, have))

    def near(table: str, key: str, want: float) -> None:
        have = _get(doc, table, key)
        if not isinstance(have, (int, float)) or isinstance(have, bool) or abs(have - want) > max(1.0, want / 100):
            wrong.append(Mismatch(f"{table}.{key}", round(want), have))

    entries = {}
    network = doc.get("network")
    for item in network if isinstance(network, list) else []:
        if isinstance(item, dict) and isinstance(item.get("interface"), str):
            entries[item["interface"]] = item
    interfaces = facts["interfaces"]
    if part == "hardware":
        exact("hardware", "cpu_model", facts["cpu_model"], lambda v: " ".join(str(v).split()))
        exact("hardware", "cpu_count", facts["cpu_count"])
        near("hardware", "memory_mib", facts["memory_kib"] / 1024)
        near("hardware", "disk_mib", facts["disk_bytes"] / 2**20)
        for name in required_interfaces:
            if name not in entries:
                wrong.append(Mismatch(f"network[{name}]", interfaces.get(name, {}).get("mac"), None))
        for name, item in entries.items():
            if name not in interfaces:
                wrong.append(Mismatch(f"network[{name}]", None, name))
            elif str(item.get("mac", "")).lower() != interfaces[name]["mac"].lower():
                wrong.append(Mismatch(f"network[{name}].mac", interfaces[name]["mac"], item.get("mac")))
    elif part == "software":
        exact("system", "hostname", facts["hostname"], lambda v: str(v).strip())
        exact("system", "os", facts["os"], lambda v: str(v).strip())
        exact("system", "kernel", facts["kernel"], lambda v: str(v).strip())
        for name in required_interfaces:
            if name not in entries:
                wrong.append(Mismatch(f"network[{name}].ipv4", interfaces.get(name, {}).get("ipv4"), None))
        for name, item in entries.items():
            if name in interfaces and _addresses(item.get("ipv4")) != set(interfaces[name]["ipv4"]):
                wrong.append(Mismatch(f"network[{name}].ipv4", interfaces[name]["ipv4"], item.get("ipv4")))
        exact("software", "packages", facts["packages"])
        software = doc.get("software") if isinstance(doc.get("software"), dict) else {}
        versions = software.get("versions") if isinstance(software.get("versions"), dict) else {}
        for name, version in facts["versions"].items():
            if versions.get(name) != version:
                wrong.append(Mismatch(f"software.versions.{name}", version, versions.get(name)))
    else:
        raise ValueError(f"unknown part {part!r}")
    return wrong


# -- a message's subject ------------------------------------------------------------------------

SUBJECT = re.compile(r"^\s*(objet|subject)\s*:\s*(.*)$", re.I)


def subject_names_ticket(line: str, number: int) -> bool:
    """``Objet : ticket #1 - ...`` / ``Subject: Ticket n°1 ...``: a subject line naming ticket ``number``."""
    match = SUBJECT.match(line)
    return bool(match and re.search(rf"\bticket\s*(?:n°|no\.?|nr\.?|#)?\s*{number}(?!\d)", match.group(2), re.I))


# -- SSH logins made from a host, as one of its users -----------------------------------------

# What the grader's ssh must never do in the user's account: write known_hosts, keep a control
# socket or a master connection, run a local command, forward anything, ask anything.
# (the user's own configuration is read for the rest: their Host blocks, IdentityFile, User...)
SSH_SAFE = ("-o", "BatchMode=yes", "-o", "PreferredAuthentications=publickey", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null", "-o", "UpdateHostKeys=no",
            "-o", "KnownHostsCommand=none", "-o", "ControlMaster=no", "-o", "ControlPath=none",
            "-o", "PermitLocalCommand=no", "-o", "RemoteCommand=none", "-o", "ClearAllForwardings=yes",
            "-o", "ForwardAgent=no", "-o", "ForwardX11=no", "-o", "Tunnel=no", "-o", "RequestTTY=no",
            "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR")


def ssh_command(login: str, target: str, remote: str, *, jump: tuple[str, str] | None = None) -> list[str]:
    """``ssh`` (argv) logging in as ``login`` to ``target`` and running ``remote``, through
    ``jump`` = (login, host) when given, with :data:`SSH_SAFE` on both legs: the keys and
    configuration of the user who runs it (their ~/.ssh/config's ``Host`` blocks apply, its
    ProxyJump is replaced by the jump asked for), and nothing written in their account."""
    argv = ["ssh", *SSH_SAFE]
    if jump is not None:
        inner = " ".join(shlex.quote(a) for a in ("ssh", *SSH_SAFE, "-o", "ProxyJump=none", "-o", "ProxyCommand=none",
                                                  "-W", "%h:%p", "-l", jump[0], jump[1]))
        argv += ["-o", f"ProxyCommand={inner}"]
    else:
        argv += ["-o", "ProxyJump=none", "-o", "ProxyCommand=none"]
    return [*argv, "-n", "-l", login, target, remote]


@dataclasses.dataclass(frozen=True)
class SshOutcome:
    accepted: bool  # the session ran the remote command
    rc: int
    reason: str  # why not, in ssh's own words (the last line it printed)
    output: str


def ssh_outcome(rc: int, stdout: str, stderr: str) -> SshOutcome:
    """What a grader's ssh run gave: 255 is ssh's own failure (refused, unreachable, host key...),
    any other code is the remote command's (the session was open)."""
    lines = [l.strip() for l in stderr.splitlines() if l.strip() and not l.startswith("Warning: Permanently added")]
    if rc == 255:
        return SshOutcome(False, rc, lines[-1] if lines else "ssh failed", stdout)
    return SshOutcome(True, rc, "", stdout)


def refused_by_authentication(outcome: SshOutcome) -> bool:
    return not outcome.accepted and "Permission denied" in outcome.reason


class TcpConnect(Probe):
    """From the host (python3 -I), a TCP connection to ``address``:``port`` (closed at once) ->
    None when it connected, else the reason (``timed out``, ``[Errno 113] No route to host``...)."""

    def __init__(self, address: str, port: int, timeout: float = 2.0):
        self.address, self.port, self.timeout = address, port, timeout

    def command(self) -> str:
        script = ("import socket, sys\ns = socket.socket()\ns.settimeout(float(sys.argv[3]))\n"
                  "try:\n    s.connect((sys.argv[1], int(sys.argv[2])))\n    print('connected')\n"
                  "except OSError as exc:\n    print(str(exc) or type(exc).__name__)\nfinally:\n    s.close()\n")
        return " ".join(shlex.quote(a) for a in ("python3", "-I", "-c", script, self.address, str(self.port),
                                                  str(self.timeout)))

    def process(self, output: str) -> str | None:
        text = output.strip()
        if not text:
            raise ProbeError("TcpConnect: python3 printed nothing")
        return None if text == "connected" else text
