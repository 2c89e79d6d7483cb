"""The portal's SSH endpoint (``serve --ssh-port``): ``ssh -p PORT ID@server`` with the access code
as password, a menu of the trainee's hosts, then a host's console as root of that host.

Everything goes through the :class:`~.service.Portal`, as the web pages do: the login (its rate
limits, its constant-time comparison, a time that is over), the terminals (one of its own per SSH
session, channel ``ssh-N``, so that it never fights the browser's terminal over size), the end of
a trainee's time (their terminals closed: the consoles attached to them end; a session waiting in
the menu sees it within a second). Only a password and a shell are accepted: no public key, no
keyboard-interactive, no command, no subsystem (sftp), no forwarding of ports, agent or X11.

The channel carries bytes (``encoding=None``): what a host's shell writes goes to the client as is.
The client's terminal is raw, so the menu does its own echo and line editing (:class:`LineInput`);
every string in it that comes from outside the code is passed through :func:`clean`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import stat
import unicodedata
from collections import deque
from pathlib import Path

import asyncssh

from ..errors import UserError
from .service import Portal
from .terminals import KILL_GRACE

log = logging.getLogger("tspcr_lab.portal")

HOST_KEY = "ssh_host_ed25519_key"
MAX_BUFFERED = 4 << 20  # output bytes the client has not taken yet; beyond, output is dropped
MAX_NAME = 60  # characters of a name shown in the menu
CHECK_PERIOD = 1.0  # seconds: how often a session in the menu looks whether the time is up
QUIT = "\0quit"

PROMPT = "Choix / Choice: "
MESSAGES = {
    "need_pty": "Un terminal est nécessaire (ssh -t). / A terminal is needed (ssh -t).",
    "down": "{host} ne fonctionne pas : redémarrez-la depuis le portail web. / "
            "{host} is not running: reboot it from the web portal.",
    "unavailable": "La console de {host} n'a pas pu s'ouvrir. / {host}'s console could not open.",
    "unknown": "Choix inconnu : un numéro de la liste, ou q. / Unknown choice: a number from the list, or q.",
    "over": "Le temps de l'épreuve est écoulé : l'accès est fermé. / The exam's time is up: access is closed.",
    "limited": "Trop d'essais : réessayez dans {s} s. / Too many attempts: try again in {s} s.",
    "slow": "[sortie perdue : le client ne suit pas / output lost: the client is too slow]",
    "bye": "Au revoir. / Goodbye.",
}

_session_numbers = itertools.count(1)


# -- what the trainee reads and types (pure) -------------------------------------------------------
def clean(text: object, limit: int = MAX_NAME) -> str:
    """A string from outside the code, safe on a terminal: no control or format character (an
    escape sequence starts with one; bidi overrides reorder what is shown), cut at ``limit``."""
    out = []
    for char in str(text)[:limit]:
        kind = unicodedata.category(char)
        out.append(" " if kind == "Zs" else "?" if kind[0] in "CZ" else char)
    return "".join(out)


def render_menu(*, title: str, trainee_id: str, name: str, hosts: list[dict], remaining: float | None) -> bytes:
    """The menu of a trainee's hosts (``hosts`` as :meth:`Portal.hosts` gives them), and the prompt."""
    lines = ["", f"{clean(title)} - {clean(name)} ({clean(trainee_id, 32)})"]
    if remaining is not None:
        lines.append(f"Temps restant / Time left: {max(0, int(remaining) // 60)} min")
    lines.append("Vos machines / Your hosts:")
    for number, host in enumerate(hosts, 1):
        state = "en marche / running" if host["running"] else "arrêtée / stopped"
        lines.append(f"  {number}) {clean(host['name'])} ({state})")
    lines.append("  q) quitter / quit")
    return ("\r\n".join(lines) + "\r\n" + PROMPT).encode()


def parse_choice(answer: str, hosts: list[str]) -> str | None:
    """The host an answer to the menu names (its number or its name), :data:`QUIT`, or None."""
    answer = answer.strip().lower()
    if answer in ("q", "quit", "quitter", "exit"):
        return QUIT
    if answer.isascii() and answer.isdigit() and 1 <= int(answer) <= len(hosts):
        return hosts[int(answer) - 1]
    return {host.lower(): host for host in hosts}.get(answer)


class LineInput:
    """The menu's line editing on a raw terminal: printable ASCII echoed, backspace, Ctrl-U (erase),
    Ctrl-C (an empty line), Ctrl-D on an empty line (None: leave); escape sequences (arrows) ignored."""

    def __init__(self, limit: int = 32):
        self.limit = limit
        self.text = ""
        self.escape = ""  # "": none; "esc": after ESC; "seq": inside ESC [ ... or ESC O ...
        self.after_cr = False

    def feed(self, data: bytes) -> tuple[bytes, list[str | None]]:
        """The echo to send back, and the lines ``data`` completed."""
        echo, lines = bytearray(), []
        for byte in data:
            after_cr, self.after_cr = self.after_cr, byte == 0x0D
            if self.escape == "esc":
                self.escape = "seq" if byte in b"[O" else ""
            elif self.escape == "seq":
                if 0x40 <= byte <= 0x7E:
                    self.escape = ""
            elif byte == 0x1B:
                self.escape = "esc"
            elif byte == 0x0A and after_cr:
                continue  # CR LF: one Enter
            elif byte in (0x0D, 0x0A):
                echo += b"\r\n"
                lines.append(self.text)
                self.text = ""
            elif byte in (0x7F, 0x08):
                if self.text:
                    self.text = self.text[:-1]
                    echo += b"\b \b"
            elif byte == 0x15:
                echo += b"\b \b" * len(self.text)
                self.text = ""
            elif byte == 0x03:
                echo += b"^C\r\n"
                lines.append("")
                self.text = ""
            elif byte == 0x04:
                if not self.text:
                    lines.append(None)
            elif 0x20 <= byte < 0x7F and len(self.text) < self.limit:
                self.text += chr(byte)
                echo.append(byte)
        return bytes(echo), lines


# -- a session: the menu, then a console --------------------------------------------------------
class PortalSession(asyncssh.SSHServerSession):
    """One SSH session of a logged-in trainee: the menu, and the console of the host chosen."""

    def __init__(self, portal: Portal, trainee: str):
        self.portal, self.trainee = portal, trainee
        self.channel = f"ssh-{next(_session_numbers)}"
        self.chan: asyncssh.SSHServerChannel | None = None
        self.size = (80, 24)
        self.keys: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.input = LineInput()
        self.lines: deque[str | None] = deque()
        self.terminal = None  # the console attached, while there is one
        self.viewer = None
        self.dropping = False
        self.task: asyncio.Task | None = None

    # -- what the client asks ------------------------------------------------------------------
    def connection_made(self, chan) -> None:
        self.chan = chan

    def pty_requested(self, term_type, term_size, term_modes) -> bool:
        self._set_size(*term_size[:2])
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        log.info("SSH: %s asked to run a command: refused", self.trainee)
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        log.info("SSH: %s asked for the subsystem %r: refused", self.trainee, subsystem[:40])
        return False

    def session_started(self) -> None:
        self.task = asyncio.ensure_future(self._run())

    def data_received(self, data: bytes, datatype) -> None:
        if self.terminal is not None:
            self.terminal.write(data)
            self.portal.seen(self.trainee, typed=True)
        else:
            self.keys.put_nowait(data)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self._set_size(width, height)
        if self.terminal is not None:
            self.terminal.resize(*self.size)

    def eof_received(self) -> bool:
        self.keys.put_nowait(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """The client is gone: its console ends with it (the terminal is this session's alone)."""
        terminal = self.terminal
        self._detach()
        if terminal is not None:
            terminal.close()
        self.keys.put_nowait(None)
        if self.task is not None:
            self.task.cancel()
        self.chan = None

    # -- helpers -------------------------------------------------------------------------------
    def _set_size(self, cols: int, rows: int) -> None:
        self.size = (max(2, min(int(cols or 80), 1000)), max(1, min(int(rows or 24), 500)))

    def _send(self, data: bytes) -> None:
        if self.chan is None or not data:
            return
        if self.chan.get_write_buffer_size() > MAX_BUFFERED:
            self.dropping = True
            return
        with contextlib.suppress(OSError):  # the channel is closing
            if self.dropping:
                self.dropping = False
                self.chan.write(f"\r\n{MESSAGES['slow']}\r\n".encode())
            self.chan.write(data)

    def _say(self, key: str, **values: str) -> None:
        self._send(("\r\n" + MESSAGES[key].format(**values) + "\r\n").encode())

    def _detach(self) -> None:
        if self.terminal is not None:
            self.terminal.detach(self.viewer)
        self.terminal = self.viewer = None

    async def _read_line(self) -> str | None:
        """The next line typed in the menu; None: the trainee left, or their time is up."""
        while not self.lines:
            try:
                data = await asyncio.wait_for(self.keys.get(), CHECK_PERIOD)
            except asyncio.TimeoutError:
                if not self.portal.may_work(self.trainee):
                    return None
                continue
            if data is None:
                return None
            echo, lines = self.input.feed(data)
            self._send(echo)
            self.lines.extend(lines)
        return self.lines.popleft()

    # -- the session ---------------------------------------------------------------------------
    async def _run(self) -> None:
        status = 0
        try:
            if self.chan.get_terminal_type() is None:
                self._say("need_pty")
                status = 1
                return
            while True:
                if not self.portal.may_work(self.trainee):
                    self._say("over")
                    status = 1
                    return
                hosts = self.portal.hosts(self.trainee)
                self.portal.seen(self.trainee)
                seat = self.portal.seats[self.trainee]
                self._send(render_menu(title=self.portal.lab.title_in("fr"), trainee_id=self.trainee,
                                       name=seat.trainee.name, hosts=hosts,
                                       remaining=self.portal.clock.remaining(self.trainee)))
                line = await self._read_line()
                if line is None:
                    if not self.portal.may_work(self.trainee):
                        continue  # says so, above
                    return
                if not line.strip():
                    continue
                choice = parse_choice(line, [host["name"] for host in hosts])
                if choice == QUIT:
                    self._say("bye")
                    return
                if choice is None:
                    self._say("unknown")
                    continue
                await self._console(choice)
        except Exception:  # noqa: BLE001 - said in the log; the session ends, the server goes on
            log.exception("SSH session of %s", self.trainee)
            status = 1
        finally:
            if self.chan is not None:
                with contextlib.suppress(OSError):
                    self.chan.exit(status)

    async def _console(self, host: str) -> None:
        """The host's console until its shell ends (back to the menu) or the client goes."""
        from ..virtual.lab import HostNotRunning

        try:
            terminal = self.portal.terminal(self.trainee, host, self.channel, *self.size)
        except HostNotRunning:
            self._say("down", host=clean(host))
            return
        except (UserError, OSError) as exc:
            log.warning("SSH console of %s/%s: %s", self.trainee, host, exc)
            self._say("unavailable", host=clean(host))
            return
        ended = asyncio.Event()

        def viewer(data: bytes | None) -> None:
            if data is None:
                ended.set()
            else:
                self._send(data)

        self._send(b"\r\n")
        backlog = terminal.attach(viewer)
        self.terminal, self.viewer = terminal, viewer
        terminal.resize(*self.size)
        self._send(backlog)
        try:
            await ended.wait()
        finally:
            self._detach()
        self._send(b"\r\n")


# -- the connection: who may come in, and what they may open ------------------------------------
class PortalServer(asyncssh.SSHServer):
    """One SSH connection: a trainee's id and access code, checked by the portal; then sessions."""

    def __init__(self, portal: Portal, endpoint: "SSHEndpoint"):
        self.portal, self.endpoint = portal, endpoint
        self.conn: asyncssh.SSHServerConnection | None = None
        self.address = "?"
        self.trainee: str | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername")
        self.address = str(peer[0]) if peer else "?"
        self.endpoint.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self.endpoint.connections.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        return True  # everyone authenticates

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        outcome, value = self.portal.login(username, password, self.address)
        if outcome == "ok":
            self.portal.sessions.close(value.token)  # the web's session: SSH keeps none
            self.trainee = value.trainee
            log.info("SSH: %s logged in from %s", self.trainee, self.address)
            return True
        if outcome in ("limited", "over"):
            with contextlib.suppress(OSError):
                self.conn.send_auth_banner(MESSAGES[outcome].format(s=int(value or 0) + 1) + "\n")
        return False

    def session_requested(self):
        if self.trainee is None or not self.portal.may_work(self.trainee):
            return False
        return PortalSession(self.portal, self.trainee)

    # asyncssh's defaults refuse these too; written out so that it stays so
    def connection_requested(self, dest_host, dest_port, orig_host, orig_port) -> bool:
        return False

    def server_requested(self, listen_host, listen_port) -> bool:
        return False

    def unix_connection_requested(self, dest_path) -> bool:
        return False

    def unix_server_requested(self, listen_path) -> bool:
        return False


class SSHEndpoint:
    """The listener and its connections: closing it ends both, and the consoles with them."""

    def __init__(self) -> None:
        self.acceptor: asyncssh.SSHAcceptor | None = None
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self.closing: list[asyncssh.SSHServerConnection] = []
        self.fingerprint = ""

    def close(self) -> None:
        if self.acceptor is not None:
            self.acceptor.close()
        self.closing = list(self.connections)
        for conn in self.closing:
            conn.close()

    async def wait_closed(self) -> None:
        if self.acceptor is not None:
            await self.acceptor.wait_closed()
        for conn in self.closing:
            await conn.wait_closed()
        if self.closing:  # a closed terminal kills what is left of its session after a grace: let it
            await asyncio.sleep(KILL_GRACE + 0.2)


def load_host_key(state_dir: Path) -> asyncssh.SSHKey:
    """The endpoint's host key, generated once into ``state_dir`` (mode 0600): clients see the
    same key every time serve starts."""
    path = state_dir / HOST_KEY
    try:
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if stat.S_IMODE(path.stat().st_mode) & 0o077:
                os.chmod(path, 0o600)
            return asyncssh.read_private_key(path)
        key = asyncssh.generate_private_key("ssh-ed25519", comment="tspcr-lab portal")
        with os.fdopen(fd, "wb") as f:
            f.write(key.export_private_key())
        return key
    except (OSError, asyncssh.KeyImportError) as exc:
        raise UserError(f"SSH host key {path}: {getattr(exc, 'strerror', None) or exc}") from None


async def start_ssh(portal: Portal, host: str, port: int, state_dir: Path) -> SSHEndpoint:
    """Listen for SSH on ``host``:``port`` only; the returned endpoint has ``close()`` and
    ``await wait_closed()``."""
    key = load_host_key(state_dir)
    endpoint = SSHEndpoint()
    try:
        endpoint.acceptor = await asyncssh.listen(
            host, port, server_factory=lambda: PortalServer(portal, endpoint), server_host_keys=[key],
            encoding=None, line_editor=False, public_key_auth=False, kbdint_auth=False, host_based_auth=False,
            gss_host=None, agent_forwarding=False, x11_forwarding=False, allow_scp=False,
            login_timeout=60, keepalive_interval=30, keepalive_count_max=3)
    except OSError as exc:
        raise UserError(f"cannot listen for SSH on {host}:{port}: {exc.strerror or exc}") from None
    endpoint.fingerprint = key.get_fingerprint()
    log.info("SSH endpoint on %s:%d, host key %s", host, port, endpoint.fingerprint)
    return endpoint
