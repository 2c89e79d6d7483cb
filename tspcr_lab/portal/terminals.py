"""Terminals: a host's console on a pseudo-terminal, kept by the server, watched by its viewers.

A :class:`Terminal` runs a command (a virtual host's console: ``nsenter`` into the host, a login
shell as root *of that host*) on a pty of its own, in a session of its own. It lives on the server,
not in a browser tab: a viewer (a websocket, an SSH channel) attaches, gets the recent output
(the scrollback) and then the live output; a page reload is a detach and an attach to the same
shell. The :class:`TerminalManager` keeps one terminal per (trainee, host, channel) and ends
them: when the trainee's time is up, on logout of every viewer it does not keep them (it does),
on the server's stop. Each terminal may have a recorder (:mod:`.recording`: its output and
resizes, never its input), whose failures never reach the terminal.

Ending a terminal ends only what it started: the pty is hung up (the shell and its foreground job
get SIGHUP), then every process still in the terminal's session is killed by its id. Processes a
trainee detached on purpose (``setsid``, a daemon) are their work inside their host and stay.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import fcntl
import logging
import os
import signal
import struct
import subprocess
import termios
import time
from collections import deque
from typing import Any, Callable

SCROLLBACK = 256 * 1024  # bytes of recent output replayed to a viewer that attaches
READ_CHUNK = 65536
MAX_PENDING_INPUT = 1 << 20  # input not yet taken by the pty; beyond it, input is dropped
KILL_GRACE = 0.5  # seconds between the hang-up and SIGKILL of what is left in the session

Viewer = Callable[[bytes | None], None]  # called with output, then None when the terminal ended

log = logging.getLogger("tspcr_lab.portal")


def _session_members(sid: int) -> list[int]:
    """Ids of the processes whose session is ``sid`` (read from /proc: our own children's ids)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 3 and int(fields[3]) == sid:  # state, ppid, pgrp, session
            members.append(int(entry))
    return members


def _running(pid: int) -> bool:
    """Whether a process still runs (a zombie has ended: only its exit status is left)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:stat.rfind(b")") + 3] not in (b"Z", b"X")


class Terminal:
    """One command on a pty, its scrollback, and whoever watches it."""

    def __init__(self, argv: list[str], env: dict[str, str], *, cols: int = 80, rows: int = 24,
                 on_exit: Callable[["Terminal"], None] | None = None, recorder: Any = None):
        self.argv, self.env = argv, env
        self.recorder = recorder  # .output(bytes), .resize(cols, rows), .close(); None: not recorded
        self.cols, self.rows = cols, rows
        self.on_exit = on_exit
        self.viewers: list[Viewer] = []
        self.scrollback: deque[bytes] = deque()
        self.scrollback_size = 0
        self.pending = bytearray()
        self.process: subprocess.Popen | None = None
        self.fd = -1
        self.ended = False
        self.started_at = time.time()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writing = False

    # -- life ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        master, slave = os.openpty()
        try:
            self._set_size(slave)
            self.process = subprocess.Popen(
                self.argv, stdin=slave, stdout=slave, stderr=slave, env=self.env, close_fds=True,
                start_new_session=True, preexec_fn=_controlling_tty)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        self.fd = master
        self._loop.add_reader(master, self._on_readable)

    def close(self) -> None:
        """End the terminal: hang up its pty, then kill what is left of its session (by id)."""
        if self.ended:
            return
        self._finish()
        process = self.process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGHUP)
        if self._loop is not None:
            self._loop.call_later(KILL_GRACE, self._kill_session, process)
        else:
            self._kill_session(process)

    def _kill_session(self, process: subprocess.Popen) -> None:
        for pid in _session_members(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            process.poll()
        if process.returncode is None and self._loop is not None:
            self._loop.call_later(1.0, self._reap, process)

    @staticmethod
    def _reap(process: subprocess.Popen) -> None:
        with contextlib.suppress(ChildProcessError):
            process.poll()

    def _finish(self) -> None:
        if self.ended:
            return
        self.ended = True
        if self.fd >= 0:
            if self._loop is not None:
                self._loop.remove_reader(self.fd)
                self._loop.remove_writer(self.fd)
            os.close(self.fd)
            self.fd = -1
        for viewer in list(self.viewers):
            viewer(None)
        self.viewers.clear()
        if self.recorder is not None:
            self._record("close")
        if self.process is not None:
            with contextlib.suppress(ChildProcessError):
                self.process.poll()
        if self.on_exit:
            self.on_exit(self)

    # -- output -------------------------------------------------------------------------------
    def _on_readable(self) -> None:
        try:
            data = os.read(self.fd, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError as exc:  # EIO: every process holding the pty's other side is gone
            if exc.errno not in (errno.EIO, errno.EBADF):
                raise
            data = b""
        if not data:
            self._finish()
            if self.process is not None:
                self._kill_session(self.process)
            return
        self.scrollback.append(data)
        self.scrollback_size += len(data)
        while self.scrollback_size > SCROLLBACK and len(self.scrollback) > 1:
            self.scrollback_size -= len(self.scrollback.popleft())
        if self.recorder is not None:
            self._record("output", data)
        for viewer in list(self.viewers):
            viewer(data)

    def attach(self, viewer: Viewer) -> bytes:
        """Add a viewer; return the scrollback it should show first."""
        self.viewers.append(viewer)
        return b"".join(self.scrollback)

    def detach(self, viewer: Viewer) -> None:
        with contextlib.suppress(ValueError):
            self.viewers.remove(viewer)

    # -- input --------------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if self.ended or not data:
            return
        if len(self.pending) + len(data) > MAX_PENDING_INPUT:
            return  # the shell does not read (a paste of megabytes into a busy host): drop, never block
        self.pending += data
        self._flush()

    def _flush(self) -> None:
        while self.pending and not self.ended:
            try:
                n = os.write(self.fd, self.pending)
            except BlockingIOError:
                break
            except OSError:
                return
            del self.pending[:n]
        if self._loop is None or self.ended:
            return
        if self.pending and not self._writing:
            self._loop.add_writer(self.fd, self._flush)
            self._writing = True
        elif not self.pending and self._writing:
            self._loop.remove_writer(self.fd)
            self._writing = False

    def resize(self, cols: int, rows: int) -> None:
        cols, rows = max(2, min(int(cols), 1000)), max(1, min(int(rows), 500))
        if (cols, rows) == (self.cols, self.rows) or self.ended:
            return
        self.cols, self.rows = cols, rows
        self._set_size(self.fd)
        if self.recorder is not None:
            self._record("resize", cols, rows)

    def _record(self, what: str, *args: Any) -> None:
        """Tell the recorder; if it fails, the terminal goes on unrecorded (said in the log)."""
        recorder = self.recorder
        try:
            getattr(recorder, what)(*args)
        except Exception:  # noqa: BLE001 - a recording never breaks a terminal
            log.exception("terminal recording failed: the terminal goes on unrecorded")
            self.recorder = None
            if what != "close":
                with contextlib.suppress(Exception):
                    recorder.close()

    def _set_size(self, fd: int) -> None:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))


def _controlling_tty() -> None:
    """In the child, after setsid: its stdin (the pty) becomes its controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@dataclasses.dataclass(frozen=True)
class TerminalKey:
    trainee: str
    host: str
    channel: str = "web"  # "web": the page's terminal; "ssh-N": one SSH connection's


class TerminalManager:
    """The server's terminals, one per :class:`TerminalKey`, opened on demand by ``opener``
    (which returns the argv and environment of a host's console, or raises); ``recorder``, if
    given, makes each new terminal's recorder (``recorder(key, cols, rows)``, None: not recorded)."""

    def __init__(self, opener: Callable[[str, str], tuple[list[str], dict[str, str]]],
                 recorder: Callable[[TerminalKey, int, int], Any] | None = None):
        self.opener = opener
        self.recorder = recorder
        self.terminals: dict[TerminalKey, Terminal] = {}

    def get(self, key: TerminalKey, cols: int = 80, rows: int = 24) -> Terminal:
        """The terminal of ``key``, started now if it has none or its shell ended."""
        terminal = self.terminals.get(key)
        if terminal is not None and not terminal.ended:
            return terminal
        argv, env = self.opener(key.trainee, key.host)
        terminal = Terminal(argv, env, cols=cols, rows=rows, on_exit=lambda term, key=key: self._gone(key, term))
        terminal.start()
        if self.recorder is not None:  # before the loop reads its first output
            try:
                terminal.recorder = self.recorder(key, terminal.cols, terminal.rows)
            except Exception:  # noqa: BLE001 - the terminal works unrecorded
                log.exception("terminal of %s/%s not recorded", key.trainee, key.host)
        self.terminals[key] = terminal
        return terminal

    def _gone(self, key: TerminalKey, terminal: Terminal) -> None:
        if self.terminals.get(key) is terminal:
            del self.terminals[key]

    def of(self, trainee: str) -> list[Terminal]:
        return [term for key, term in self.terminals.items() if key.trainee == trainee]

    def viewers(self, trainee: str) -> int:
        return sum(len(term.viewers) for term in self.of(trainee))

    def close_trainee(self, trainee: str) -> None:
        for terminal in self.of(trainee):
            terminal.close()

    def close_host(self, trainee: str, host: str) -> None:
        for key, terminal in list(self.terminals.items()):
            if key.trainee == trainee and key.host == host:
                terminal.close()

    async def close_all(self, timeout: float = 3.0) -> None:
        """End every terminal and wait until the processes they started are gone (server stop)."""
        processes = [t.process for t in self.terminals.values() if t.process is not None]
        for terminal in list(self.terminals.values()):
            terminal.close()
        await asyncio.sleep(KILL_GRACE)  # the hang-up reaches the shells and their jobs
        killed = []
        for process in processes:  # what is left of each terminal's session, now: the loop ends after this
            for pid in _session_members(process.pid) + ([process.pid] if process.poll() is None else []):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
        deadline = time.monotonic() + timeout  # a killed process takes a moment to die under load
        while time.monotonic() < deadline and (any(p.poll() is None for p in processes)
                                               or any(_running(pid) for pid in killed)):
            await asyncio.sleep(0.05)

