"""How a CLI driver talks to its device: a small :class:`Connection` interface, and its netmiko
implementation over SSH (:class:`NetmikoConnection`).

A connection only sends text and returns text; the driver parses. Infrastructure problems are
raised as tspcr-lab's errors, each in one line with the passwords masked: a refused login as
:class:`LoginFailed`, an unreachable device as :class:`~tspcr_lab.errors.HostUnreachable`, a
command that does not finish as :class:`~tspcr_lab.errors.CommandTimeout`.
"""

from __future__ import annotations

import abc
import re
import socket
from typing import Any, Callable, Sequence

from ..errors import CommandTimeout, HostUnreachable, hide
from ..transport.base import timeout_message
from .base import one_line

__all__ = ["Connection", "LoginFailed", "NetmikoConnection", "VtyshConnection"]


class LoginFailed(HostUnreachable):
    """The device refused the login (user name, password) or the enable secret."""


class Connection(abc.ABC):
    """A CLI session with one device. ``name``: the device's name in messages."""

    name: str = "device"

    @abc.abstractmethod
    def send_command(self, command: str) -> str:
        """Run one command (exec mode) and return its output, without the prompt nor the echo."""

    @abc.abstractmethod
    def send_config_set(self, lines: Sequence[str]) -> str:
        """Enter configuration mode, send ``lines``, leave it; return the session's output."""

    def close(self) -> None:  # noqa: B027 - optional
        """End the session."""


def _nodelay_socket(host: str, port: int, timeout: float,
                    sock_factory: Callable[[], socket.socket] | None = None) -> socket.socket:
    """A TCP connection with TCP_NODELAY. Paramiko does not set it: with Nagle's algorithm and the
    peer's delayed acknowledgements, every small write of an interactive session (each command
    netmiko types) waits ~40 ms for the previous one to be acknowledged. ``sock_factory`` makes
    the (unconnected) socket: the virtual lab's opens it in the lab's management namespace."""
    if sock_factory is None:
        sock = socket.create_connection((host, port), timeout=timeout)
    else:
        sock = sock_factory()
        try:
            sock.settimeout(timeout)
            sock.connect((host, port))
        except OSError:
            sock.close()
            raise
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _failures() -> tuple[type[BaseException], ...]:
    """What netmiko and paramiko raise when a session cannot be opened or goes away."""
    from netmiko.exceptions import NetmikoBaseException
    from paramiko.ssh_exception import SSHException

    return (OSError, EOFError, SSHException, NetmikoBaseException, ValueError)


class NetmikoConnection(Connection):
    """An SSH session through netmiko's ``ConnectHandler`` (``device_type="cisco_ios"`` by
    default: IOS, IOS XE, and FRR's vtysh, which speaks the same CLI).

    ``secret`` is the enable secret: when given, the session enters privileged mode (``enable``)
    right after login. ``read_timeout`` bounds each command; ``extra`` goes to ConnectHandler as
    is. The TCP connection is opened here with TCP_NODELAY and handed to paramiko (``sock``);
    ``sock_factory`` makes its socket (see :func:`_nodelay_socket`)."""

    def __init__(self, host: str, username: str, password: str, *, secret: str = "", port: int = 22,
                 device_type: str = "cisco_ios", name: str | None = None, conn_timeout: float = 10.0,
                 read_timeout: float = 30.0, sock_factory: Callable[[], socket.socket] | None = None,
                 **extra: Any):
        from netmiko import ConnectHandler  # imported here: netmiko takes ~0.5 s to load
        from netmiko.exceptions import NetmikoAuthenticationException

        self.name = name or host
        self.read_timeout = read_timeout
        self._conn = None
        self._broken = False
        self._secrets = tuple(s for s in (password, secret) if s)
        where = f"{host}:{port}"
        try:
            sock = _nodelay_socket(host, port, conn_timeout, sock_factory)
        except OSError as exc:
            raise HostUnreachable(self._clean(f"{self.name}: cannot connect to {where}: {exc.strerror or exc}")) from None
        try:
            self._conn = ConnectHandler(device_type=device_type, host=host, port=port, username=username,
                                        password=password, secret=secret, fast_cli=True, conn_timeout=conn_timeout,
                                        sock=sock, **extra)
        except NetmikoAuthenticationException:
            sock.close()
            raise LoginFailed(self._clean(f"{self.name}: {where} refused the login of {username!r}")) from None
        except _failures() as exc:  # timeouts, closed sessions, a prompt that never came (ValueError)
            sock.close()
            raise HostUnreachable(self._clean(f"{self.name}: no SSH session with {where}: {self._first(exc)}")) from None
        if secret:
            try:
                self._conn.enable()
            except _failures():  # ValueError when refused, ReadTimeout
                self.close()
                raise LoginFailed(self._clean(f"{self.name}: {where} refused the enable secret")) from None
        self._prompt: str | None = None  # None: netmiko finds the prompt itself
        self._learn_prompt()

    def _learn_prompt(self) -> None:
        """The device's prompt as a pattern: a line that is exactly it (``r1#``). netmiko otherwise
        asks the device for its prompt again before every command (a newline and a wait: 84 ms a
        command against FRR instead of 36 ms)."""
        prompt = self._call("find_prompt")
        self._prompt = rf"(?m)^{re.escape(prompt.strip())}\s*$"

    def _clean(self, text: str) -> str:
        return hide(one_line(text), self._secrets)

    @staticmethod
    def _first(exc: BaseException) -> str:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        return lines[0] if lines else type(exc).__name__

    def _call(self, method: str, *args: Any, **kwargs: Any) -> str:
        from netmiko.exceptions import ReadTimeout

        if self._conn is None:
            raise HostUnreachable(f"{self.name}: the SSH session is closed")
        try:
            return getattr(self._conn, method)(*args, **kwargs)
        except ReadTimeout:
            self._broken = True
            raise CommandTimeout(timeout_message(self.name, self.read_timeout)) from None
        except _failures() as exc:
            self._broken = True
            raise HostUnreachable(self._clean(f"{self.name}: the SSH session failed: {self._first(exc)}")) from None

    def send_command(self, command: str) -> str:
        # Plain text: never use_textfsm, which returns the raw text when it cannot parse.
        return self._call("send_command", command, read_timeout=self.read_timeout, expect_string=self._prompt)

    def send_config_set(self, lines: Sequence[str]) -> str:
        output = self._call("send_config_set", list(lines), read_timeout=self.read_timeout)
        self._learn_prompt()  # a line may have changed it (IOS's hostname)
        return output

    @property
    def broken(self) -> bool:
        """Whether the session failed (a timeout, a closed channel): it is not used again."""
        return self._broken or self._conn is None

    @property
    def nodelay(self) -> bool:
        """Whether the session's TCP socket has TCP_NODELAY (it has, unless ``extra`` replaced it)."""
        transport = self._conn.remote_conn_pre.get_transport() if self._conn and self._conn.remote_conn_pre else None
        sock = getattr(transport, "sock", None)
        return isinstance(sock, socket.socket) and bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    def close(self) -> None:
        if getattr(self, "_conn", None) is not None:
            if self._broken:  # a session in an unknown state: no polite "exit" (it would wait for the prompt)
                self._conn.paramiko_cleanup()
            self._conn.disconnect()
            self._conn = None


class VtyshConnection(Connection):
    """FRR's CLI through the router's own shell (a tspcr-lab :class:`~tspcr_lab.host.Host`, as its
    root): ``vtysh -c COMMAND``. What a grader uses when it must read a router it cannot log in
    to over SSH (the trainee changed the admin password to something else than the plan's): the
    same commands, the same answers (vtysh's stderr, where it says ``ospfd is not running``, is
    part of the output as on a terminal)."""

    def __init__(self, host):
        self.host = host
        self.name = host.name

    def _vtysh(self, *commands: str) -> str:
        result = self.host.run("vtysh " + " ".join(["-c %s"] * len(commands)), *commands)
        if result.rc not in (0, 1) or (result.rc == 1 and not (result.stdout or result.stderr)):
            raise HostUnreachable(f"{self.name}: vtysh failed (exit {result.rc}): {one_line(result.stderr or result.stdout)}")
        return result.stdout + result.stderr

    def send_command(self, command: str) -> str:
        return self._vtysh(command)

    def send_config_set(self, lines: Sequence[str]) -> str:
        return self._vtysh("configure terminal", *lines, "end")
