"""Session probes: what a user's login session shows, and what a new account receives.

* :class:`SessionReport` is the command typed into a user's real login session
  (``host.login(user, password, probe.command(), session=True)``): it reports the environment, the
  network-folder link in the home, whether the user can write through it, and what a tool run by
  its name prints. Parse the session's output with ``probe.evaluate(login.result)``.
* :class:`LoginTrial` logs the user in with ``su - USER -c REPORT`` (a login shell without a
  terminal) in a private mount namespace where the user's home and network folder are throw-away
  copies, once for each state the network-folder link is put in beforehand (missing, pointing
  elsewhere, already right): what the logon script does in the other kind of login, and when the
  state is already right or wrong, with nothing left behind.
* :class:`MembershipTrial` changes a group's members in a private copy of /etc (one member leaves,
  one user joins) and logs each of them in on a terminal (``su -`` under ``script``): what a
  membership test shows, as opposed to a list of names.
* :class:`SkeletonTrial` creates a throw-away account with ``useradd -m`` in a private mount
  namespace (a copy of /etc on a tmpfs, the home on that tmpfs) and lists what the account's new
  home received: the real useradd with the real skeleton and defaults, and nothing left behind.

These commands only read the trainee's work. The write test of :class:`SessionReport` removes its
probe file and gives the folder back its modification time.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from ..errors import ProbeError
from .base import TIMED_OUT, Probe, quote_line
from .system import probe_parser

MARK = "@@tspcr:"


def _section(name: str) -> str:
    # printf prints the marker from two arguments: the terminal's echo of the typed command
    # never holds a whole marker line.
    return quote_line("printf '%%s%%s\\n' %s %s", MARK, name)


def split_sections(output: str, mark: str = MARK) -> dict[str, str]:
    """``@@tspcr:NAME`` lines (or ``mark``NAME) cut the output into named sections (text before
    the first is dropped)."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.replace("\r", "").splitlines():
        if line.startswith(mark):
            current = sections.setdefault(line[len(mark):].strip(), [])
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines) for name, lines in sections.items()}


def parse_env(text: str) -> dict[str, str]:
    """``env`` output -> dict; a line without ``=`` continues the previous value (a newline in it)."""
    env: dict[str, str] = {}
    last = None
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name and " " not in name:
            env[name] = value
            last = name
        elif last is not None:
            env[last] += "\n" + line
    return env


@dataclasses.dataclass(frozen=True)
class Session:
    """What a login session reported (see :class:`SessionReport`)."""

    complete: bool  # the session ran the whole report (False: cut short, e.g. by an `exit` in a profile)
    env: dict[str, str]
    link: str | None  # the link's own target (readlink), None when the path is not a symlink
    resolved: str | None  # where the path leads (readlink -f), None when it does not exist
    write: str  # "ok", "denied" or "skipped" (the link does not lead to the expected folder)
    tool_path: str | None  # `command -v TOOL` in the session, None when the tool is not found
    tool_output: str

    @property
    def path(self) -> list[str]:
        return self.env.get("PATH", "").split(":") if "PATH" in self.env else []


class SessionReport(Probe):
    """A report typed into a user's login session (a line of shell, arguments quoted).

    ``link`` is a path relative to the home (``~/link``); ``folder`` is the folder it must lead to
    (the write test runs only there); ``tool`` is a command name to look up on the session's PATH.
    """

    SECTIONS = ("env", "link", "resolved", "write", "tool-path", "tool-output", "end")

    def __init__(self, link: str, folder: str, tool: str):
        self.link, self.folder, self.tool = link, folder, tool

    def command(self) -> str:
        s = {name: _section(name) for name in self.SECTIONS}
        write = quote_line(
            'if [ "$(readlink -e -- "$HOME"/%s)" = %s ] && [ -d %s ]; then'
            ' t=$(stat -c %%.9Y -- %s); p="$HOME"/%s/.tspcr-write-probe-$$;'
            ' if (echo probe > "$p") 2>/dev/null && rm -f -- "$p"; then echo ok; else echo denied; fi;'
            ' touch -m -d "@$t" -- %s 2>/dev/null;'
            ' else echo skipped; fi',
            self.link, self.folder, self.folder, self.folder, self.link, self.folder,
        )
        return (
            # The session's history is not saved: grading leaves the home as it was.
            f"unset HISTFILE; {s['env']}; env; "
            f"{s['link']}; " + quote_line('readlink -- "$HOME"/%s', self.link) + "; "
            f"{s['resolved']}; " + quote_line('readlink -e -- "$HOME"/%s', self.link) + "; "
            f"{s['write']}; {write}; "
            f"{s['tool-path']}; " + quote_line("command -v -- %s", self.tool) + "; "
            f"{s['tool-output']}; " + quote_line("command -v -- %s >/dev/null && %s 2>&1 | head -n 5", self.tool, self.tool)
            + f"; {s['end']}"
        )

    @probe_parser
    def process(self, output: str) -> Session:
        sections = split_sections(output)

        def single(name: str) -> str | None:
            lines = [line for line in sections.get(name, "").splitlines() if line.strip()]
            return lines[0].strip() if lines else None

        resolved = single("resolved")
        # readlink -e: where the path leads, nothing when it leads nowhere (dangling link).
        return Session(
            complete="end" in sections,
            env=parse_env(sections.get("env", "")),
            link=single("link"),
            resolved=resolved,
            write=single("write") or "skipped",
            tool_path=single("tool-path"),
            tool_output=sections.get("tool-output", "").strip(),
        )

    def failed(self, result) -> Any:
        # The session's exit status is the last command's: what the report shows is the answer.
        return self.process(result.stdout)


TRIAL_MARK = "@@tspcr-trial:"


def _trial_chunks(output: str) -> dict[str, str]:
    """``@@tspcr-trial:NAME`` lines cut a trial's output into one text per login (each with its own
    ``@@tspcr:`` sections); text before the first is dropped."""
    return split_sections(output, TRIAL_MARK)


@dataclasses.dataclass(frozen=True)
class TrialLogin:
    """One login of a :class:`LoginTrial`: the state the link was put in before, what the session
    reported, and what the login changed."""

    state: str  # "missing", "elsewhere" or "right": the link before the login
    session: Session
    rc: int  # su's exit status (124 or 137: the login did not finish in time)
    kept: bool | None  # "right": the link is still the same file after the login (not recreated)
    added: tuple[str, ...]  # entries that appeared in the network folder during the login(s)
    greeting: str  # what the session printed before the report (the logon script's output)

    @property
    def timed_out(self) -> bool:
        return self.rc in TIMED_OUT


# Run as root under `unshare --mount`: the home and the network folder are copied onto a tmpfs
# and bound over the originals, so the logins and the states set up before them change nothing
# outside. Arguments: user home link folder elsewhere report seconds state...
_LOGIN_TRIAL = "; ".join([
    "set -e",
    "export LC_ALL=C",
    "user=$1 home=$2 link=$3 folder=$4 elsewhere=$5 report=$6 limit=$7",
    "shift 7",
    """if ! [ -d "$home" ]; then printf '%s\\n' @@tspcr-trial:no-home; exit 0; fi""",
    "mount -t tmpfs tspcr-login /tmp",
    "mkdir /tmp/.tspcr-h /tmp/.tspcr-f",
    """cp -a -- "$home" /tmp/.tspcr-h/home""",
    """mount --bind /tmp/.tspcr-h/home "$home\"""",
    """if [ -d "$folder" ]; then cp -a -- "$folder" /tmp/.tspcr-f/folder;"""
    """ mount --bind /tmp/.tspcr-f/folder "$folder"; fi""",
    """for state; do rm -rf -- "${home:?}/$link";"""
    """ case $state in elsewhere) ln -s -- "$elsewhere" "$home/$link";; right) ln -s -- "$folder" "$home/$link";; esac;"""
    """ if [ -L "$home/$link" ]; then chown -h --reference="$home" -- "$home/$link"; fi;"""
    """ ls -A -- "$folder" >/tmp/.tspcr-f/before 2>/dev/null || true;"""
    # Already right: a first login may rewrite the link its own way (a relative target...); the
    # second one, the login judged, must leave it as it is.
    """ if [ "$state" = right ]; then timeout -k 1 "$limit" su - "$user" -c true </dev/null >/dev/null 2>&1 || true; fi;"""
    """ before=$(stat -c '%i %.9Z' -- "$home/$link" 2>/dev/null || true);"""
    """ printf '%s%s\\n' @@tspcr-trial: "$state";"""
    """ rc=0; timeout -k 1 "$limit" su - "$user" -c "$report" </dev/null 2>&1 || rc=$?;"""
    """ printf '\\n%s\\n%s\\n%s\\n' @@tspcr:rc "$rc" @@tspcr:kept;"""
    """ if [ -n "$before" ] && [ "$(stat -c '%i %.9Z' -- "$home/$link" 2>/dev/null || true)" = "$before" ];"""
    """ then echo yes; else echo no; fi;"""
    """ printf '%s\\n' @@tspcr:added;"""
    """ ls -A -- "$folder" 2>/dev/null | comm -13 /tmp/.tspcr-f/before - || true;"""
    """ done""",
])


class LoginTrial(Probe):
    """Log ``user`` in with ``su - USER -c REPORT`` (the user's login shell, without a terminal:
    what ``su - user -c cmd`` and a non-interactive ``bash -l`` give), once for each of ``states``,
    the link ``~/link`` being put beforehand in that state: "missing", "elsewhere" (a link to
    ``elsewhere``) or "right" (a link to ``folder``; there a first login runs before the one
    reported, and ``kept`` says whether the second left the link as the first did). The report
    typed is :class:`SessionReport`'s.

    Runs as root in a private mount namespace where the home and the network folder are copies
    (nothing the logins or the trial do stays); each login is given ``seconds`` to finish.
    Returns {state: :class:`TrialLogin`}, empty when the user has no home folder.
    """

    STATES = ("missing", "elsewhere", "right")

    def __init__(self, user: str, home: str, link: str, folder: str, tool: str, elsewhere: str,
                 states: tuple[str, ...] = STATES, seconds: int = 5):
        unknown = set(states) - set(self.STATES)
        if unknown:
            raise ValueError(f"LoginTrial: unknown states {sorted(unknown)}")
        self.user, self.home, self.link, self.folder, self.elsewhere = user, home, link, folder, elsewhere
        self.report = SessionReport(link, folder, tool)
        self.states, self.seconds = tuple(states), seconds

    def command(self) -> str:
        return quote_line("unshare --mount --propagation private sh -c %s sh" + " %s" * (7 + len(self.states)),
                          _LOGIN_TRIAL, self.user, self.home, self.link, self.folder, self.elsewhere,
                          self.report.command(), self.seconds, *self.states)

    @probe_parser
    def process(self, output: str) -> dict[str, TrialLogin]:
        chunks = _trial_chunks(output)
        if "no-home" in chunks:
            return {}
        logins = {}
        for state in self.states:
            if state not in chunks:
                raise ValueError(f"no login for state {state}")
            text = chunks[state]
            sections = split_sections(text)
            if "rc" not in sections or "kept" not in sections:
                raise ValueError(f"incomplete trial of state {state}")
            before_report = text.split(MARK, 1)[0]
            logins[state] = TrialLogin(
                state=state,
                session=self.report.process(text),
                rc=int(sections["rc"].split()[0]),
                kept=(sections["kept"].strip() == "yes") if state == "right" else None,
                added=tuple(line for line in sections.get("added", "").splitlines() if line.strip()),
                greeting=before_report.strip(),
            )
        return logins


# Run as root under `unshare --mount`: /etc and the two users' homes are copies on a tmpfs, bound
# over the real ones. Arguments: group seconds leaver joiner.
_MEMBERSHIP_TRIAL = "; ".join([
    "set -e",
    "export LC_ALL=C",
    "group=$1 limit=$2 leave=$3 join=$4",
    "mount -t tmpfs tspcr-group /tmp",
    "cp -a /etc /tmp/etc",
    "mount --bind /tmp/etc /etc",
    """gpasswd -d "$leave" "$group" >/dev/null 2>&1 || true""",
    """gpasswd -a "$join" "$group" >/dev/null 2>&1 || true""",
    """for user in "$leave" "$join"; do home=$(getent passwd "$user" | cut -d: -f6);"""
    """ if [ -n "$home" ] && [ -d "$home" ]; then mkdir -p "/tmp/.tspcr-$user";"""
    """ cp -a -- "$home" "/tmp/.tspcr-$user/home"; mount --bind "/tmp/.tspcr-$user/home" "$home"; fi;"""
    """ printf '%s%s\\n' @@tspcr-trial: "$user";"""
    """ rc=0; printf 'unset HISTFILE; exit\\n' | timeout -k 1 "$limit" script -qec "su - $user" /dev/null 2>&1 || rc=$?;"""
    """ printf '\\n%s\\n%s\\n' @@tspcr:rc "$rc"; done""",
])


@dataclasses.dataclass(frozen=True)
class TrialSession:
    """What an interactive login of a :class:`MembershipTrial` printed (banner, prompt, logout...)."""

    user: str
    text: str
    rc: int  # 124 or 137: the login did not finish in time

    @property
    def timed_out(self) -> bool:
        return self.rc in TIMED_OUT


class MembershipTrial(Probe):
    """In a private copy of /etc, ``leave`` stops being a member of ``group`` and ``join`` becomes
    one; each then logs in with ``su -`` on a terminal (under ``script``: an interactive login
    shell) and types ``exit``. Returns {user: :class:`TrialSession`}; nothing stays (a private mount
    namespace, the homes are copies). User names are account names (letters, digits, '_', '-', '.')."""

    NAME_RE = re.compile(r"^[a-z_][a-z0-9_.-]*$")

    def __init__(self, group: str, leave: str, join: str, seconds: int = 5):
        for name in (leave, join):
            if not self.NAME_RE.match(name):
                raise ValueError(f"MembershipTrial: not an account name: {name!r}")
        self.group, self.leave, self.join, self.seconds = group, leave, join, seconds

    def command(self) -> str:
        return quote_line("unshare --mount --propagation private sh -c %s sh %s %s %s %s",
                          _MEMBERSHIP_TRIAL, self.group, self.seconds, self.leave, self.join)

    @probe_parser
    def process(self, output: str) -> dict[str, TrialSession]:
        chunks = _trial_chunks(output)
        sessions = {}
        for user in (self.leave, self.join):
            if user not in chunks:
                raise ValueError(f"no login of {user}")
            text = chunks[user]
            sections = split_sections(text)
            if "rc" not in sections:
                raise ValueError(f"incomplete login of {user}")
            sessions[user] = TrialSession(user, text.split(MARK, 1)[0], int(sections["rc"].split()[0]))
        return sessions


@dataclasses.dataclass(frozen=True)
class SkelEntry:
    path: str  # relative to the new home
    type: str  # "file", "directory", "symlink", "other"
    mode: int


@dataclasses.dataclass(frozen=True)
class NewAccount:
    """What ``useradd -m`` gave a new account: the entries of its home and one file's content;
    ``error`` is why useradd refused to create it (the host's account defaults, the trainee's
    work: login.defs, /etc/default/useradd...), with no entries then."""

    entries: dict[str, SkelEntry]
    file: str | None  # the content of the file asked for, None when the new home has no such file
    error: str = ""


_FIND_TYPES = {"f": "file", "d": "directory", "l": "symlink"}
USERADD_FAILED = 4  # the trial's exit code when useradd itself fails

# Run under `unshare --mount`: nothing it mounts or writes is seen outside, nothing stays. One line
# of shell, so that the evidence shows it whole.
_TRIAL = "; ".join([
    "set -e",
    "mount -t tmpfs tspcr-skel /tmp",
    "cp -a /etc /tmp/etc",
    "mount --bind /tmp/etc /etc",
    'for d in /var/mail /var/spool/mail /var/log; do if [ -d "$d" ] && ! [ -L "$d" ];'
    ' then mount -t tmpfs tspcr-skel "$d"; fi; done',
    'useradd -m -l -d /tmp/home -s /bin/sh -- "$1" >/tmp/useradd.log 2>&1 || { cat /tmp/useradd.log >&2; exit %d; }'
    % USERADD_FAILED,
    "cd /tmp/home",
    "printf '%s\\n' @@tspcr:entries",
    "find . -mindepth 1 -printf '%y\\t%m\\t%P\\n'",
    'if [ -f "./$2" ] && ! [ -L "./$2" ]; then printf \'%s\\n\' @@tspcr:file; head -c 8192 -- "./$2";'
    " else printf '%s\\n' @@tspcr:no-file; fi",
])


class SkeletonTrial(Probe):
    """Create account ``user`` with ``useradd -m`` where nothing stays; report its new home.

    ``file`` names a file (relative to the home) whose content to return.
    """

    def __init__(self, file: str, user: str = "tspcr-skel-probe"):
        self.file, self.user = file, user

    def command(self) -> str:
        return quote_line("unshare --mount --propagation private sh -c %s sh %s %s", _TRIAL, self.user, self.file)

    @probe_parser
    def process(self, output: str) -> NewAccount:
        sections = split_sections(output)
        if "entries" not in sections or ("file" not in sections and "no-file" not in sections):
            raise ValueError("no @@tspcr:entries and @@tspcr:file sections")
        entries = {}
        for line in sections["entries"].splitlines():
            if not line:
                continue
            kind, mode, path = line.split("\t", 2)
            entries[path] = SkelEntry(path=path, type=_FIND_TYPES.get(kind, "other"), mode=int(mode, 8))
        return NewAccount(entries=entries, file=sections.get("file"))

    def failed(self, result) -> Any:
        detail = [line.strip() for line in (result.stderr or result.stdout).strip().splitlines() if line.strip()]
        if result.rc == USERADD_FAILED:  # useradd itself refused: what the host's defaults make of a new account
            return NewAccount(entries={}, file=None, error="; ".join(detail[:2]) or "useradd exited with an error")
        # The trial around it (mounts, copy of /etc) did not work: nothing said about the trainee's work.
        raise ProbeError(f"SkeletonTrial: the trial of useradd -m as {self.user} failed (exit {result.rc})"
                         + (f": {detail[-1]}" if detail else ""))
