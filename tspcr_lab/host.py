"""The ``host`` object checks work with (in the spirit of pytest-testinfra).

``host.run("cat %s", path)`` quotes every argument with :func:`shlex.quote` and returns a
:class:`~tspcr_lab.transport.base.CommandResult`; ``host.probe(Addresses, "eth0")`` runs a typed
probe. Every command has a time limit, bounded by the check's own deadline when one is set, and
is recorded as evidence (command, exit code, outputs, timestamp) when a recorder is attached.

Secrets (the passwords a command holds, ``secrets=``; the password of :meth:`Host.login`) are
masked wherever a trainee or an examiner may read them: in the evidence, and in every exception
raised while the command runs or its output is parsed (timeouts, lost connections, probe errors,
findings): such an exception is raised again with each secret, quoted or raw, masked.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from typing import Any, Callable

from .errors import MASK, CheckFailed, CommandTimeout, TspcrError, hide, masked
from .probes.base import Probe, quote_line
from .transport.base import CommandResult, LoginResult, Transport

DEFAULT_TIMEOUT = 10.0

__all__ = ["DEFAULT_TIMEOUT", "MASK", "Host", "mask", "masking"]


def mask(result: CommandResult, secrets: tuple[str, ...]) -> CommandResult:
    """The result as evidence may show it: every secret (quoted or not) replaced by a mask."""
    secrets = tuple(s for s in secrets if s)
    if not secrets:
        return result
    return dataclasses.replace(result, command=hide(result.command, secrets), stdout=hide(result.stdout, secrets),
                               stderr=hide(result.stderr, secrets))


@contextlib.contextmanager
def masking(secrets: tuple[str, ...]):
    """Within: a tspcr-lab exception or a finding (:class:`CheckFailed`) that holds one of
    ``secrets`` is raised again with them masked, without the original as its context."""
    __tracebackhide__ = True
    try:
        yield
    except (TspcrError, CheckFailed) as exc:
        hidden = masked(exc, secrets)
        if hidden is exc:
            raise
        raise hidden from None


class Host:
    def __init__(self, name: str, transport: Transport, *, default_timeout: float = DEFAULT_TIMEOUT):
        self.name = name
        self.transport = transport
        self.default_timeout = default_timeout
        self._lock = threading.Lock()
        # Set by the pytest plugin around each check: where evidence goes and when time is up.
        self.recorder: Callable[[CommandResult], None] | None = None
        self.deadline: float | None = None

    def __repr__(self) -> str:
        return f"<Host {self.name} via {self.transport.name}>"

    def _timeout(self, timeout: float | None) -> float:
        limit = self.default_timeout if timeout is None else timeout
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise CommandTimeout(f"{self.name}: the check ran out of time")
            limit = min(limit, remaining)
        return limit

    def run(self, command: str, *args: Any, timeout: float | None = None,
            secrets: tuple[str, ...] = ()) -> CommandResult:
        """Run ``command % quoted(args)`` on the host and return its result (never raises on rc).

        ``secrets`` (passwords the command holds) are masked in the evidence; pass them in the
        command's environment (``NAME=%s cmd``), not as arguments: a process's arguments are
        visible to every user of the host, its environment only to its owner and root."""
        __tracebackhide__ = True
        with masking(secrets):
            line = quote_line(command, *args)
            with self._lock:
                result = self.transport.run(line, self._timeout(timeout))
        if self.recorder is not None:
            self.recorder(mask(result, secrets))
        return result

    def probe(self, probe: type[Probe] | Probe, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """Run a probe (a class and its arguments, or an instance) and return its parsed value.
        Its ``secrets`` are masked in the evidence and in what its parser raises."""
        __tracebackhide__ = True
        instance = probe if isinstance(probe, Probe) else probe(*args, **kwargs)
        with masking(instance.secrets):
            return instance.evaluate(self.run(instance.command(), timeout=timeout, secrets=instance.secrets))

    def login(self, username: str, password: str, command: str = "id", *args: Any,
              session: bool = False, timeout: float | None = None, secrets: tuple[str, ...] = ()) -> LoginResult:
        """Log in as ``username`` with ``password`` over a new SSH connection and run ``command``.

        ``session=True`` opens a real interactive login session (terminal, login shell), so that
        profile and logon scripts run as they do for the user. A refused login is returned
        (``accepted`` false), never raised; an unreachable host raises as for :meth:`run`. The
        password and ``secrets`` are masked in the evidence and in what is raised.
        """
        __tracebackhide__ = True
        hidden = (password, *secrets)
        with masking(hidden):
            line = quote_line(command, *args)
            login = self.transport.login(username, password, line, self._timeout(timeout), session=session)
        if self.recorder is not None:
            if login.result is None:
                self.recorder(mask(CommandResult(command=f"ssh {username}@{self.name} (password)", rc=255, stdout="",
                                                 stderr=f"login refused: {login.reason}", host=self.name), hidden))
            elif login.greeting:
                shown = dataclasses.replace(login.result, stdout=f"{login.greeting}\n{login.result.stdout}")
                self.recorder(mask(shown, hidden))
            else:
                self.recorder(mask(login.result, hidden))
        return login

    def run_as(self, user: str, command: str, *args: Any, timeout: float | None = None,
               secrets: tuple[str, ...] = ()) -> CommandResult:
        """Run ``command % quoted(args)`` as ``user``, with that user's groups (``runuser``), from
        ``/`` and with a clean environment: what an access test needs."""
        __tracebackhide__ = True
        line = quote_line(command, *args)
        return self.run("cd / && env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin runuser -u %s -- sh -c %s",
                        user, line, timeout=timeout, secrets=secrets)

    def close(self) -> None:
        self.transport.close()
