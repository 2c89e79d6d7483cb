"""SSH transport: one pooled paramiko connection per host, many commands over it.

The socket gets ``TCP_NODELAY`` (paramiko does not set it, and every command would otherwise pay
~40 ms of delayed ACKs). A ``sock_factory`` lets the caller supply the socket, which is how the
virtual lab reaches hosts on its management network from inside the lab's core namespace.
Infrastructure problems raise :class:`HostUnreachable` or :class:`CommandTimeout`.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Callable

import paramiko

from ..errors import CommandTimeout, HostUnreachable
from .base import CommandResult, Transport

MAX_OUTPUT = 4 * 1024 * 1024  # a hostile or runaway output is cut, never allowed to fill memory


class SSHTransport(Transport):
    name = "ssh"

    def __init__(
        self,
        host: str,
        address: str,
        *,
        port: int = 22,
        username: str = "root",
        key_filename: str | None = None,
        password: str | None = None,
        known_hosts: str | None = None,
        strict_host_keys: bool = False,
        sock_factory: Callable[[], socket.socket] | None = None,
        connect_timeout: float = 5.0,
    ):
        self.host, self.address, self.port = host, address, port
        self.username, self.key_filename, self.password = username, key_filename, password
        self.known_hosts, self.strict_host_keys = known_hosts, strict_host_keys
        self.sock_factory = sock_factory
        self.connect_timeout = connect_timeout
        self._client: paramiko.SSHClient | None = None
        self._lock = threading.Lock()

    def _connect(self) -> paramiko.SSHClient:
        sock = self.sock_factory() if self.sock_factory else socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(self.connect_timeout)
            sock.connect((self.address, self.port))
        except OSError as exc:
            sock.close()
            raise HostUnreachable(f"{self.host}: cannot connect to {self.address}:{self.port} ({_reason(exc)})") from None
        client = paramiko.SSHClient()
        if self.known_hosts:
            client.load_host_keys(self.known_hosts)
        else:
            client.load_system_host_keys()
        client.set_missing_host_key_policy(
            paramiko.RejectPolicy() if self.strict_host_keys else paramiko.WarningPolicy()
        )
        try:
            client.connect(
                self.address,
                port=self.port,
                username=self.username,
                key_filename=self.key_filename,
                password=self.password,
                sock=sock,
                timeout=self.connect_timeout,
                banner_timeout=self.connect_timeout,
                auth_timeout=self.connect_timeout,
                look_for_keys=False,
                allow_agent=False,
            )
        except paramiko.AuthenticationException:
            sock.close()
            raise HostUnreachable(f"{self.host}: SSH authentication as {self.username} refused") from None
        except paramiko.BadHostKeyException:
            sock.close()
            raise HostUnreachable(f"{self.host}: the host key changed (is it the right host?)") from None
        except (paramiko.SSHException, OSError, EOFError) as exc:
            sock.close()
            raise HostUnreachable(f"{self.host}: SSH connection failed ({_reason(exc)})") from None
        return client

    def _session(self) -> paramiko.Channel:
        with self._lock:
            for attempt in (1, 2):
                if self._client is None:
                    self._client = self._connect()
                transport = self._client.get_transport()
                try:
                    if transport is None or not transport.is_active():
                        raise paramiko.SSHException("connection lost")
                    return transport.open_session(timeout=self.connect_timeout)
                except (paramiko.SSHException, OSError, EOFError) as exc:
                    self._client.close()
                    self._client = None
                    if attempt == 2:
                        raise HostUnreachable(f"{self.host}: SSH session failed ({_reason(exc)})") from None
        raise AssertionError("unreachable")

    def run(self, command: str, timeout: float) -> CommandResult:
        started, t0 = time.time(), time.monotonic()
        deadline = t0 + timeout
        chan = self._session()
        try:
            chan.exec_command(command)
            stdout = _drain(chan.recv, chan, deadline, self.host, command)
            stderr = _drain(chan.recv_stderr, chan, deadline, self.host, command)
            while not chan.exit_status_ready():
                if time.monotonic() > deadline:
                    raise CommandTimeout(f"{self.host}: `{command}` did not finish within {timeout:.0f} s")
                chan.status_event.wait(0.05)
            rc = chan.recv_exit_status()
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise HostUnreachable(f"{self.host}: connection lost during `{command}` ({_reason(exc)})") from None
        finally:
            chan.close()
        return CommandResult(
            command=command,
            rc=rc,
            stdout=stdout.decode("utf-8", "replace"),
            stderr=stderr.decode("utf-8", "replace"),
            host=self.host,
            started=started,
            duration=time.monotonic() - t0,
        )

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def _drain(recv, chan: paramiko.Channel, deadline: float, host: str, command: str) -> bytes:
    chunks, size = [], 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CommandTimeout(f"{host}: `{command}` did not finish in time")
        chan.settimeout(remaining)
        try:
            data = recv(65536)
        except socket.timeout:
            raise CommandTimeout(f"{host}: `{command}` did not finish in time") from None
        if not data:
            return b"".join(chunks)
        if size < MAX_OUTPUT:
            chunks.append(data[: MAX_OUTPUT - size])
        size += len(data)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
