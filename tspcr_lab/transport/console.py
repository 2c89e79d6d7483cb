"""Console transport: a virtual host's commands run through its console (nsenter into its
namespaces, as the host's root and nobody more), never over the network.

This is the grading boundary of the virtual lab: whatever a trainee does inside a host (sshd's
configuration, PAM, mgmt0, a firewall, root's shell start-up files) cannot stop the grader from
reading the host, so it cannot turn a failed check into an *error*. What is an error is only what
the grader truly could not observe: a host that is not running, a command that ran out of time.

Logins as a user (:meth:`login`) are what the trainee's users do, so they go over SSH on the
management network, as a user's would: a refusal, or no SSH service answering on a running host,
is the trainee's result, not an error.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from typing import Callable

from ..errors import CommandTimeout, HostUnreachable
from .base import CommandResult, LoginResult, Transport

MAX_OUTPUT = 4 * 1024 * 1024  # a hostile or runaway output is cut, never allowed to fill memory


class ConsoleTransport(Transport):
    name = "console"

    def __init__(self, host: str, console: Callable[[], list[str]], *, running: Callable[[], bool],
                 env: dict[str, str] | None = None, login_transport: Callable[[], Transport] | None = None):
        """``console()`` gives the nsenter prefix (raising HostUnreachable when the host is not
        running) and ``env`` the whole environment of the command; ``running()`` tells whether it
        runs; ``login_transport()`` a new SSH transport to the host's sshd for user logins."""
        self.host = host
        self._console = console
        self._env = dict(env or {})
        self._running = running
        self._login_transport = login_transport

    def run(self, command: str, timeout: float) -> CommandResult:
        started, t0 = time.time(), time.monotonic()
        argv = [*self._console(), "/bin/sh", "-c", command]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True, env=self._env)
        try:
            stdout, stderr = _collect(proc, t0 + timeout)
        except CommandTimeout:
            _kill(proc)
            raise CommandTimeout(f"{self.host}: a command did not finish within {timeout:.0f} s") from None
        finally:
            proc.stdout.close()
            proc.stderr.close()
        rc = proc.wait()
        if rc < 0 and not self._running():  # the whole host stopped under the command
            raise HostUnreachable(f"{self.host}: the host stopped while a command ran")
        return CommandResult(
            command=command, rc=rc if rc >= 0 else 128 - rc,  # killed by a signal: as a shell says it
            stdout=stdout.decode("utf-8", "replace"), stderr=stderr.decode("utf-8", "replace"),
            host=self.host, started=started, duration=time.monotonic() - t0,
        )

    def running(self) -> bool:
        return self._running()

    def login(self, username: str, password: str, command: str, timeout: float, *, session: bool = False) -> LoginResult:
        if self._login_transport is None:
            return super().login(username, password, command, timeout, session=session)
        if not self._running():
            raise HostUnreachable(f"{self.host}: the host is not running")
        transport = self._login_transport()
        try:
            return transport.login(username, password, command, timeout, session=session)
        except HostUnreachable as exc:
            if not self._running():
                raise
            # The host runs and the grader reaches it on its console: no SSH service answering on
            # it is the state the trainee left it in, what any user logging in would meet.
            return LoginResult(username, False, None, f"no SSH login possible on {self.host}: {_detail(exc)}")
        finally:
            transport.close()


def _detail(exc: BaseException) -> str:
    text = str(exc).split(": ", 1)
    return text[-1] if text else type(exc).__name__


def _collect(proc: subprocess.Popen, deadline: float) -> tuple[bytes, bytes]:
    """Read stdout and stderr until both close or ``deadline`` passes (CommandTimeout)."""
    chunks: dict[int, list[bytes]] = {proc.stdout.fileno(): [], proc.stderr.fileno(): []}
    sizes = dict.fromkeys(chunks, 0)
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        selector.register(proc.stderr, selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CommandTimeout("timeout")
            for key, _ in selector.select(min(remaining, 1.0)):
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                if sizes[key.fd] < MAX_OUTPUT:
                    chunks[key.fd].append(data[: MAX_OUTPUT - sizes[key.fd]])
                sizes[key.fd] += len(data)
    try:
        proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise CommandTimeout("timeout") from None
    return b"".join(chunks[proc.stdout.fileno()]), b"".join(chunks[proc.stderr.fileno()])


def _kill(proc: subprocess.Popen) -> None:
    """End the command: nsenter and what it started, by the process group this call made."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
