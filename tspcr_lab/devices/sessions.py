"""CLI sessions with a lab's network devices, as checks open them: ``devices.login(...)``.

A check logs in to a router or a switch the way its administrator does (SSH, a user name and a
password of the lab's plan) and reads it through a driver::

    r1 = devices.login("r1", "admin", expected["password"], driver=FrrDriver)
    assert r1.facts().hostname == expected["hostnames"]["r1"]

:class:`Endpoint` says where a host's SSH answers for the grader: on the virtual lab, its
management address, reached through a socket opened in the lab's own management namespace; on a
real lab, the inventory's address. :class:`DeviceSessions` keeps one session per device and
credentials for the whole grading run (a login costs a key exchange; a refused one costs the
device's failure delay, so a refusal is remembered too and not tried again), records every login
attempt as evidence (never the password), and closes everything at the end.
"""

from __future__ import annotations

import dataclasses
import socket
import time
from typing import Callable, Mapping

from ..errors import UserError
from ..transport.base import CommandResult
from .base import Driver
from .connection import Connection, LoginFailed, NetmikoConnection
from .ios import IosDriver

__all__ = ["DeviceSessions", "Endpoint"]


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Where host ``name``'s management answers: ``address``:``port``, the socket made by
    ``sock_factory`` when given (the virtual lab's management namespace), else an ordinary one."""

    name: str
    address: str
    port: int = 22
    sock_factory: Callable[[], socket.socket] | None = None


class DeviceSessions:
    """The sessions of one grading run. ``recorder`` (set around each check by the plugin) gets a
    :class:`~tspcr_lab.transport.base.CommandResult` per login attempt and per command."""

    def __init__(self, endpoints: Mapping[str, Endpoint], *, connection=NetmikoConnection):
        self._endpoints = dict(endpoints)
        self._connection = connection
        self._sessions: dict[tuple, Driver] = {}
        self._refused: dict[tuple, LoginFailed] = {}
        self._recorder: Callable[[CommandResult], None] | None = None
        self._pending: list[CommandResult] = []

    @property
    def recorder(self) -> Callable[[CommandResult], None] | None:
        return self._recorder

    @recorder.setter
    def recorder(self, recorder: Callable[[CommandResult], None] | None) -> None:
        """What happened while no check was running (a module fixture logging in ahead of time)
        goes to the next check's evidence."""
        self._recorder = recorder
        if recorder is not None:
            pending, self._pending = self._pending, []
            for result in pending:
                recorder(result)

    def endpoint(self, name: str) -> Endpoint:
        try:
            return self._endpoints[name]
        except KeyError:
            raise UserError(f"no device '{name}' on this target (hosts: {', '.join(self._endpoints)})") from None

    def _record(self, result: CommandResult) -> None:
        if self._recorder is not None:
            self._recorder(result)
        else:
            self._pending.append(result)

    def login(self, name: str, username: str, password: str, *, driver: type[IosDriver] = IosDriver,
              secret: str = "", device_type: str = "cisco_ios") -> IosDriver:
        """A ``driver`` over an SSH session with ``name`` as ``username``: the session already
        open with these credentials, else a new one. A refused login raises
        :class:`~.connection.LoginFailed`, at once when the same credentials were refused before."""
        key = (name, username, password, secret, driver, device_type)
        session = self._sessions.get(key)
        if session is not None and not getattr(session.connection, "broken", False):
            return session
        if session is not None:
            self._sessions.pop(key).close()
        if key in self._refused:
            raise self._refused[key]
        endpoint = self.endpoint(name)
        started, clock = time.time(), time.monotonic()
        what = f"ssh {username}@{name} ({endpoint.address}:{endpoint.port}, password)"
        try:
            connection = self._connection(endpoint.address, username, password, secret=secret, port=endpoint.port,
                                          device_type=device_type, name=name, sock_factory=endpoint.sock_factory)
        except Exception as exc:
            if isinstance(exc, LoginFailed):
                self._refused[key] = exc
            self._record(CommandResult(command=what, rc=255, stdout="", stderr=str(exc), host=name,
                                       started=started, duration=time.monotonic() - clock))
            raise
        self._record(CommandResult(command=what, rc=0, stdout="logged in", stderr="", host=name,
                                   started=started, duration=time.monotonic() - clock))
        session = driver(connection, name=name, recorder=self._record)
        self._sessions[key] = session
        return session

    def login_any(self, name: str, credentials: list[tuple[str, str]], *, driver: type[IosDriver] = IosDriver,
                  fallback: Callable[[], "Connection"] | None = None) -> IosDriver:
        """The first of ``credentials`` (user, password) that ``name`` accepts, in order; when it
        refuses them all, a driver over ``fallback()`` (e.g. :class:`~.connection.VtyshConnection`
        through the router's console) if given, else the last :class:`LoginFailed`. For a check
        that reads a device whose password is itself part of the trainee's work."""
        refused: LoginFailed | None = None
        for username, password in credentials:
            try:
                return self.login(name, username, password, driver=driver)
            except LoginFailed as exc:
                refused = exc
        if fallback is None:
            raise refused or UserError(f"{name}: no credentials to log in with")
        key = (name, "fallback", driver)
        if key not in self._sessions:
            self._sessions[key] = driver(fallback(), name=name, recorder=self._record)
        return self._sessions[key]

    def close(self) -> None:
        for session in self._sessions.values():
            try:
                session.close()
            except Exception:  # noqa: BLE001 - a session that went away is closed anyway
                pass
        self._sessions.clear()
        self._refused.clear()
