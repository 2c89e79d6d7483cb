"""Session probes: what a user's login session shows, and what a new account receives.

* :class:`SessionReport` is the command typed into a user's real login session
  (``host.login(user, password, probe.command(), session=True)``): it reports the environment, the
  network-folder link in the home, whether the user can write through it, and what a tool run by
  its name prints. Parse the session's output with ``probe.evaluate(login.result)``.
* :class:`SkeletonTrial` creates a throw-away account with ``useradd -m`` in a private mount
  namespace (a copy of /etc on a tmpfs, the home on that tmpfs) and lists what the account's new
  home received: the real useradd with the real skeleton and defaults, and nothing left behind.

Both commands only read the trainee's work. The write test of :class:`SessionReport` removes its
probe file and gives the folder back its modification time.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import ProbeError
from .base import Probe, quote_line
from .system import probe_parser

MARK = "@@tspcr:"


def _section(name: str) -> str:
    # printf prints the marker from two arguments: the terminal's echo of the typed command
    # never holds a whole marker line.
    return quote_line("printf '%%s%%s\\n' %s %s", MARK, name)


def split_sections(output: str) -> dict[str, str]:
    """``@@tspcr:NAME`` lines cut the output into named sections (text before the first is dropped)."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.replace("\r", "").splitlines():
        if line.startswith(MARK):
            current = sections.setdefault(line[len(MARK):].strip(), [])
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
