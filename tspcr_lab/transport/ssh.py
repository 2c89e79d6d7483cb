"""SSH transport: one pooled paramiko connection per host, many commands over it.

The socket gets ``TCP_NODELAY`` (paramiko does not set it, and every command would otherwise pay
~40 ms of delayed ACKs). A ``sock_factory`` lets the caller supply the socket, which is how the
virtual lab reaches hosts on its management network from inside the lab's core namespace.
Infrastructure problems raise :class:`HostUnreachable` or :class:`CommandTimeout`, whose messages
never hold the command line (it may hold a password): they name the host and say what happened.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Callable

import paramiko

from ..errors import CommandTimeout, HostUnreachable
from .base import CommandResult, LoginResult, Transport, timeout_message

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

    def _connect(self, username: str | None = None, password: str | None = None) -> paramiko.SSHClient:
        as_user = username is not None
        username = self.username if username is None else username
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
        elif self.known_hosts is None:
            client.load_system_host_keys()
        if self.strict_host_keys:
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
        elif self.known_hosts == "":  # no host key to check: the network reaches only this host
            client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        else:
            client.set_missing_host_key_policy(paramiko.WarningPolicy())
        try:
            client.connect(
                self.address,
                port=self.port,
                username=username,
                key_filename=None if as_user else self.key_filename,
                password=password if as_user else self.password,
                sock=sock,
                timeout=self.connect_timeout,
                banner_timeout=self.connect_timeout,
                auth_timeout=self.connect_timeout,
                look_for_keys=False,
                allow_agent=False,
            )
        except paramiko.AuthenticationException:
            client.close()
            sock.close()
            if as_user:
                raise
            raise HostUnreachable(f"{self.host}: SSH authentication as {username} refused") from None
        except paramiko.BadHostKeyException:
            client.close()
            sock.close()
            raise HostUnreachable(f"{self.host}: the host key changed (is it the right host?)") from None
        except (paramiko.SSHException, OSError, EOFError) as exc:
            client.close()
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
            stdout, stderr, rc = _exec(chan, command, deadline, self.host, limit=timeout)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise HostUnreachable(f"{self.host}: connection lost while a command was running ({_reason(exc)})") from None
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

    def login(self, username: str, password: str, command: str, timeout: float, *, session: bool = False) -> LoginResult:
        started, t0 = time.time(), time.monotonic()
        shown = f"ssh {username}@{self.host} (password) {'login session: ' if session else ''}{command}"
        try:
            client = self._connect(username, password)
        except paramiko.AuthenticationException as exc:
            return LoginResult(username, False, None, str(exc) or "authentication refused")
        try:
            transport = client.get_transport()
            if transport is None:
                raise paramiko.SSHException("no transport after connecting")
            chan = transport.open_session(timeout=self.connect_timeout)
            deadline = t0 + timeout
            greeting = ""
            if session:
                greeting, out, rc = _interactive(chan, command, deadline, self.host, limit=timeout)
                stdout, stderr = out.encode(), b""
            else:
                stdout, stderr, rc = _exec(chan, command, deadline, self.host, limit=timeout,
                                           what=f"a command in a session as {username}")
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise HostUnreachable(f"{self.host}: login session as {username} lost ({_reason(exc)})") from None
        finally:
            client.close()
        result = CommandResult(
            command=shown, rc=rc, stdout=stdout.decode("utf-8", "replace"), stderr=stderr.decode("utf-8", "replace"),
            host=self.host, started=started, duration=time.monotonic() - t0,
        )
        return LoginResult(username, True, result, greeting=greeting)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def _exec(chan: paramiko.Channel, command: str, deadline: float, host: str, *, limit: float | None = None,
          what: str = "a command") -> tuple[bytes, bytes, int]:
    """Run ``command`` on an open channel; (stdout, stderr, exit code) before ``deadline``.
    ``limit`` (seconds) and ``what`` only say in a timeout's message what did not finish."""
    chan.exec_command(command)
    stdout = _drain(chan.recv, chan, deadline, host, limit=limit, what=what)
    stderr = _drain(chan.recv_stderr, chan, deadline, host, limit=limit, what=what)
    while not chan.exit_status_ready():
        if time.monotonic() > deadline:
            raise CommandTimeout(timeout_message(host, limit, what))
        chan.status_event.wait(0.05)
    return stdout, stderr, chan.recv_exit_status()


def _drain(recv, chan: paramiko.Channel, deadline: float, host: str, *, limit: float | None = None,
           what: str = "a command") -> bytes:
    chunks, size = [], 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CommandTimeout(timeout_message(host, limit, what))
        chan.settimeout(remaining)
        try:
            data = recv(65536)
        except socket.timeout:
            raise CommandTimeout(timeout_message(host, limit, what)) from None
        if not data:
            return b"".join(chunks)
        if size < MAX_OUTPUT:
            chunks.append(data[: MAX_OUTPUT - size])
        size += len(data)


READY, BEGIN, END = "__TSPCR_SESSION_READY__", "__TSPCR_SESSION_BEGIN__", "__TSPCR_SESSION_END__"
NO_ECHO = "stty -echo; PS1=''; PS2=''; unset PROMPT_COMMAND"  # nothing but the command's output


def _clean_greeting(text: str) -> str:
    """What the session printed before the command, without the echo of the first typed line."""
    lines = [line for line in text.replace("\r", "").splitlines() if READY[:8] not in line]
    return "\n".join(lines).strip()


def _interactive(chan: paramiko.Channel, command: str, deadline: float, host: str, *,
                 limit: float | None = None) -> tuple[str, str, int]:
    """Type ``command`` into a login shell on a terminal; return (greeting, output, exit code).

    The greeting is what the session printed before the command ran (banners, message of the day,
    logon scripts' output). First a short line turns the terminal's echo and the prompts off and
    prints a marker; once the marker is back, the command is typed and shows nowhere. Markers are printed by
    ``printf`` from two halves, so the echo of the first line never looks like them.
    """
    chan.get_pty(term="dumb", width=250, height=50)
    chan.invoke_shell()

    def marker(name: str, extra: str = "") -> str:
        return f"printf '\\n%s%s{' %s' if extra else ''}\\n' '{name[:8]}' '{name[8:]}'{extra}"

    chan.sendall(f"{NO_ECHO}; {marker(READY)}\n".encode())
    first = _read_until(chan, READY.encode(), deadline, host, limit=limit)
    if READY.encode() not in first:  # the shell never read a line (no shell, account closed...)
        return _clean_greeting(first.decode("utf-8", "replace")), "", 255
    status = marker(END, ' "$?"')
    chan.sendall(f"{marker(BEGIN)}; {command}\n{status}; exit\n".encode())
    greeting = _clean_greeting(first.decode("utf-8", "replace").split(READY)[0])
    text = _drain(chan.recv, chan, deadline, host, limit=limit,
                  what="a command in a login session").decode("utf-8", "replace").replace("\r", "")
    start, end = text.find(BEGIN), text.rfind(END)
    if start < 0:
        return greeting, "", 255
    if end < start:
        return greeting, text[start + len(BEGIN):].strip("\n"), 255
    body = text[start + len(BEGIN):end].strip("\n")
    tail = text[end + len(END):].split()
    rc = int(tail[0]) if tail and tail[0].isdigit() else 255
    return greeting, body + ("\n" if body else ""), rc


def _read_until(chan: paramiko.Channel, marker: bytes, deadline: float, host: str, *,
                limit: float | None = None) -> bytes:
    """Read from the session until ``marker`` arrives, the session ends or time is up."""
    data = b""
    what = "the login session did not start"
    while marker not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CommandTimeout(f"{host}: {what} " + (f"within {round(limit, 1):g} s" if limit is not None else "in time"))
        chan.settimeout(remaining)
        try:
            chunk = chan.recv(65536)
        except socket.timeout:
            raise CommandTimeout(f"{host}: {what} " + (f"within {round(limit, 1):g} s" if limit is not None else "in time")) from None
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_OUTPUT:
            break
    return data


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
