"""The transport layer: how a command reaches a host.

A transport runs one shell command line on one host and returns a :class:`CommandResult`. It knows
nothing of checks or grading. Quoting is done one level up (:meth:`tspcr_lab.host.Host.run`).
"""

from __future__ import annotations

import abc
import dataclasses
import time


def timeout_message(host: str, limit: float | None, what: str = "a command") -> str:
    """``"pc1: a command did not finish within 10 s"``: a timeout, without the command line."""
    return f"{host}: {what} did not finish " + (f"within {round(limit, 1):g} s" if limit is not None else "in time")


@dataclasses.dataclass(frozen=True)
class CommandResult:
    """What a command gave back. Unpacks as ``rc, stdout, stderr``."""

    command: str
    rc: int
    stdout: str
    stderr: str
    host: str = ""
    started: float = dataclasses.field(default_factory=time.time)
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def __iter__(self):
        return iter((self.rc, self.stdout, self.stderr))


@dataclasses.dataclass(frozen=True)
class LoginResult:
    """What a login attempt as a user gave: accepted or refused, and the session's output."""

    username: str
    accepted: bool
    result: CommandResult | None  # the session's command and output, when accepted
    reason: str = ""  # why the login was refused
    greeting: str = ""  # what an interactive session printed before the command (banners, logon scripts)


class Transport(abc.ABC):
    """One connection to one host. Implementations must be safe to call from one thread at a time
    per host and must raise :class:`tspcr_lab.errors.HostUnreachable` or
    :class:`tspcr_lab.errors.CommandTimeout` for infrastructure problems, never return them as a
    non-zero exit code.

    An exception's message never holds the command line nor its output (they may hold a
    password): it says in words what went wrong and where, e.g. ``"pc1: a command did not finish
    within 10 s"`` (see :func:`timeout_message`). Secrets are masked one level up as well
    (:meth:`tspcr_lab.host.Host.run`)."""

    name: str = "transport"

    @abc.abstractmethod
    def run(self, command: str, timeout: float) -> CommandResult:
        """Run ``command`` (a complete, already quoted shell line) and wait at most ``timeout``."""

    def login(self, username: str, password: str, command: str, timeout: float, *, session: bool = False) -> LoginResult:
        """Log in as ``username`` with ``password`` (a new connection, the way the user would) and
        run ``command``; with ``session=True`` in a real interactive login session (a terminal and
        a login shell, so profile and logon scripts run). A refused login is a result, not an error."""
        from ..errors import InfraError

        raise InfraError(f"{self.name} transport cannot test a login as {username}: use an SSH host")

    def running(self) -> bool | None:
        """Whether the host runs, when the transport can tell without asking the host (a virtual
        host's processes); None when it cannot (a real host over the network)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional for transports without a connection
        """Release the connection, if any."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
